"""TrustStore.system() is the store the administrator manages (update-ca-certificates).

As root, a test CA is added to /usr/local/share/ca-certificates and
update-ca-certificates rebuilds /etc/ssl/certs/ca-certificates.crt, the file
Debian's GnuTLS reads; the CA is removed and the bundle rebuilt afterwards,
whatever happens.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi import CertificateError, CertificateErrorReason, TLSConfiguration, TrustStore
from tlsapi.testing import PKI, handshake_outcome

LOCAL_CAS = Path("/usr/local/share/ca-certificates")
UPDATE = shutil.which("update-ca-certificates")

pytestmark = [
    pytest.mark.skipif(
        UPDATE is None, reason="update-ca-certificates exists only on Debian-like systems"
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="changing the system trust store needs root"),
]


@pytest.fixture
def system_ca(update_system_trust: Callable[[], None]) -> Iterator[PKI]:
    pki = PKI(name=f"tlsapi system-trust test {uuid.uuid4().hex[:8]}")
    path = LOCAL_CAS / f"tlsapi-test-{uuid.uuid4().hex}.crt"
    LOCAL_CAS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pki.root_pem)
    try:
        update_system_trust()
        yield pki
    finally:
        path.unlink(missing_ok=True)
        update_system_trust()


def _connect(gnutls: tlsapi.Backend, pki: PKI) -> BaseException | None:
    config = TLSConfiguration(trust_store=TrustStore.system())
    client = gnutls.client_context(config).wrap_buffers("localhost")
    server = tlsapi.backend("stdlib").server_context(pki.server_config()).wrap_buffers()
    return handshake_outcome(client, server)[0]


def test_a_ca_added_by_the_administrator_is_trusted(gnutls: tlsapi.Backend, system_ca: PKI) -> None:
    assert _connect(gnutls, system_ca) is None


def test_a_ca_not_in_the_system_store_is_not(gnutls: tlsapi.Backend) -> None:
    error = _connect(gnutls, PKI(name="tlsapi not in the system store"))
    assert isinstance(error, CertificateError)
    assert error.reason is CertificateErrorReason.UNTRUSTED_ISSUER
