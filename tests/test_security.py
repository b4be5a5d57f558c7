"""The bad-server catalogue (tlsapi.testing.badservers): every backend's client must refuse each.

Certificate cases must fail with a CertificateError of the catalogue's exact
reason; protocol and cipher cases with a TLSError that is not about the
certificate.  Each server is first proven to serve its defect (a probe with
openssl s_client / gnutls-cli), and for certificate cases the same client
with validation off must connect, so that nothing but the defect can make
these tests pass.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing import badservers
from tlsapi.testing.badservers import CATALOGUE, BadServer, RunningServer
from tlsapi.testing.pki import PKI

pytestmark = pytest.mark.peer

ALL = {entry.name: entry for entry in CATALOGUE}
CERTIFICATE_CASES = [e.name for e in CATALOGUE if e.is_certificate_case]
INVITING_CASES = [e.name for e in CATALOGUE if e.inviting_ciphers]


class Farm:
    """Starts each bad server on first use; stops them all at the end of the module."""

    def __init__(self, pki: PKI, workdir: Path) -> None:
        self._pki = pki
        self._workdir = workdir
        self._stack = contextlib.ExitStack()
        self._running: dict[str, RunningServer] = {}

    def get(self, entry: BadServer) -> RunningServer:
        if entry.plan is None:
            pytest.skip(f"{entry.name} is not available here: {entry.unavailable}")
        if sys.platform != "linux" and shutil.which(entry.program) is None:
            pytest.skip(f"{entry.program} is not available on {sys.platform}")
        if entry.name not in self._running:
            server = self._stack.enter_context(badservers.serve(entry, self._pki, self._workdir))
            self._running[entry.name] = server
        return self._running[entry.name]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="module")
def farm(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Farm]:
    servers = Farm(pki, tmp_path_factory.mktemp("badservers"))
    try:
        yield servers
    finally:
        servers.close()


def _connect(
    backend: tlsapi.Backend, config: tlsapi.TLSConfiguration, server: RunningServer
) -> None:
    buffer = backend.client_context(config).wrap_buffers(server.server_hostname)
    badservers.handshake_over_tcp(buffer, server.address)


@pytest.mark.parametrize("name", list(ALL))
def test_server_serves_its_defect(farm: Farm, name: str) -> None:
    farm.get(ALL[name]).probe()


@pytest.mark.parametrize("name", list(ALL))
def test_client_refuses(backend: tlsapi.Backend, farm: Farm, pki: PKI, name: str) -> None:
    entry = ALL[name]
    server = farm.get(entry)
    with pytest.raises(tlsapi.TLSError) as caught:
        _connect(backend, pki.client_config(), server)
    error = caught.value
    if entry.reason is not None:
        assert isinstance(error, tlsapi.CertificateError), (
            f"{name}: expected CertificateError({entry.reason}), got {error!r}"
        )
        assert error.reason is entry.reason, (
            f"{name}: expected reason {entry.reason}, got {error.reason}: {error}"
        )
    else:
        assert not isinstance(error, tlsapi.CertificateError), (
            f"{name}: the certificate is valid; the refusal must be about the protocol: {error!r}"
        )
    assert str(error), "the error must say what went wrong"


@pytest.mark.parametrize("name", CERTIFICATE_CASES)
def test_only_the_certificate_is_wrong(
    backend: tlsapi.Backend, farm: Farm, pki: PKI, name: str
) -> None:
    """With validation off the same client connects: the refusal above was validation's."""
    server = farm.get(ALL[name])
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        config = tlsapi.TLSConfiguration(validate_certificates=False)
        _connect(backend, config, server)


@pytest.mark.parametrize("name", INVITING_CASES)
def test_client_refuses_even_when_offering_the_suites(
    backend: tlsapi.Backend, farm: Farm, pki: PKI, name: str
) -> None:
    """A client configured to offer DHE suites must still refuse a weak DH group."""
    entry = ALL[name]
    server = farm.get(entry)
    ciphers = tlsapi.DEFAULT_CIPHER_LIST + entry.inviting_ciphers
    with pytest.raises(tlsapi.TLSError) as caught:
        _connect(backend, pki.client_config(ciphers=ciphers), server)
    assert not isinstance(caught.value, tlsapi.CertificateError), repr(caught.value)
