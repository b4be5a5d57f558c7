"""SNI and the server's sni_callback.

``sni_callback(buffer, server_name, configuration)`` runs on the server when
the ClientHello arrives; it returns a configuration to use instead (its
certificate_chain, trust_store and inner_protocols take effect) or None.  An
exception from it aborts the handshake with a TLSError that chains to it.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._errors import CertificateError, CertificateErrorReason, ConfigurationError
from ..._protocols import NextProtocol
from ..pki import PKI
from ..pump import handshake
from ._support import Peers, assert_caused_by, assert_handshake_failure, lacks, skip_if_lacks

__all__ = ["TestSNI"]


def _caused_by_configuration_error(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, ConfigurationError):
            return True
        error = error.__cause__ or error.__context__
    return False


class Recorder:
    """An sni_callback that records its calls and returns a chosen result."""

    def __init__(self, result: Any = None) -> None:
        self.calls: list[tuple[TLSWrappedBuffer, str | None, TLSConfiguration]] = []
        self.result = result

    def __call__(self, buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration) -> Any:
        self.calls.append((buffer, name, config))
        return self.result(name) if callable(self.result) else self.result


class Boom(Exception):
    """What a failing sni_callback raises."""


def _require_sni_callback(peers: Peers) -> None:
    config = peers.server_config(sni_callback=Recorder())
    skip_if_lacks(
        peers.server_backend,
        Capability.SNI_CALLBACK,
        lambda: peers.server_backend.server_context(config),
    )


class TestSNI:
    def test_callback_sees_the_name(self, peers: Peers) -> None:
        _require_sni_callback(peers)
        recorder = Recorder()
        server_config = peers.server_config(sni_callback=recorder)
        client, server = peers.pair(server=server_config, hostname="localhost")
        handshake(client, server)
        assert len(recorder.calls) == 1
        buffer, name, config = recorder.calls[0]
        assert buffer is server
        assert name == "localhost"
        assert config == server_config
        assert server.server_hostname == "localhost"

    def test_callback_gets_none_for_an_ip_address(self, peers: Peers) -> None:
        _require_sni_callback(peers)
        recorder = Recorder()
        peers.connect(server=peers.server_config(sni_callback=recorder), hostname="127.0.0.1")
        assert [name for _, name, _ in recorder.calls] == [None]

    def test_returning_none_keeps_the_configuration(self, peers: Peers, pki: PKI) -> None:
        _require_sni_callback(peers)
        client, _ = peers.connect(server=peers.server_config(sni_callback=Recorder(None)))
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]

    def test_returned_configuration_serves_its_certificate(self, peers: Peers, pki: PKI) -> None:
        _require_sni_callback(peers)
        other = pki.issue(names=("other.test",), ips=())
        other_config = pki.server_config(other)

        def choose(name: str | None) -> TLSConfiguration | None:
            return other_config if name == "other.test" else None

        server_context = peers.server_context(peers.server_config(sni_callback=Recorder(choose)))
        client, _ = peers.connect(server=server_context, hostname="other.test")
        assert client.getpeercert()[0] == other.cert_der  # type: ignore[index]
        # The same context still serves its own certificate to other names.
        client, _ = peers.connect(server=server_context, hostname="localhost")
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]

    def test_callback_alone_supplies_the_certificate(self, peers: Peers, pki: PKI) -> None:
        _require_sni_callback(peers)
        full = pki.server_config()
        server_config = TLSConfiguration(sni_callback=Recorder(full))
        client, server = peers.connect(server=server_config)
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
        assert server.server_hostname == "localhost"

    def test_returned_configuration_sets_alpn(self, peers: Peers) -> None:
        _require_sni_callback(peers)
        switched = peers.server_config(inner_protocols=(NextProtocol.H2,))
        server_config = peers.server_config(
            inner_protocols=(NextProtocol.HTTP1,), sni_callback=Recorder(switched)
        )
        client_config = peers.client_config(inner_protocols=(NextProtocol.H2, NextProtocol.HTTP1))
        skip_if_lacks(
            peers.server_backend,
            Capability.SERVER_ALPN,
            lambda: peers.server_backend.server_context(server_config),
        )
        skip_if_lacks(
            peers.client_backend,
            Capability.ALPN,
            lambda: peers.client_backend.client_context(client_config),
        )
        client, server = peers.connect(client_config, server_config)
        assert client.negotiated_protocol() is NextProtocol.H2
        assert server.negotiated_protocol() is NextProtocol.H2

    def test_returned_configuration_sets_client_authentication(
        self, peers: Peers, pki: PKI
    ) -> None:
        _require_sni_callback(peers)
        strict = peers.server_config(trust_store=pki.trust_store())
        chain = pki.client_identity.certificate_chain()
        skip_if_lacks(
            peers.server_backend,
            Capability.CLIENT_CERTIFICATES,
            lambda: peers.server_backend.server_context(strict),
        )
        skip_if_lacks(
            peers.client_backend,
            Capability.CLIENT_CERTIFICATES,
            lambda: peers.client_backend.client_context(
                peers.client_config(certificate_chain=chain)
            ),
        )
        server_config = peers.server_config(sni_callback=Recorder(strict))
        # Without a client certificate the switched-to configuration refuses...
        _, server_error = assert_handshake_failure(peers.outcome(server=server_config))
        if _caused_by_configuration_error(server_error):
            # A library limit (the stdlib backend cannot turn client
            # certificates on mid-handshake): refused loudly, never ignored.
            pytest.skip(
                f"backend {peers.server_backend.name!r} cannot switch client authentication"
                f" on from an sni_callback (refused: {server_error})"
            )
        # ...and with one it accepts and sees it.
        client_config = peers.client_config(
            certificate_chain=pki.client_identity.certificate_chain()
        )
        _, server = peers.connect(client_config, server_config)
        assert server.getpeercert()[0] == pki.client_identity.cert_der  # type: ignore[index]

    def test_raising_aborts_the_handshake(self, peers: Peers) -> None:
        _require_sni_callback(peers)
        boom = Boom("no such virtual host")

        def fail(name: str | None) -> None:
            raise boom

        outcome = peers.outcome(server=peers.server_config(sni_callback=Recorder(fail)))
        client_error, server_error = assert_handshake_failure(outcome)
        assert not isinstance(server_error, CertificateError)
        assert_caused_by(server_error, boom)
        assert not isinstance(client_error, CertificateError)

    def test_returning_garbage_aborts_the_handshake(self, peers: Peers) -> None:
        _require_sni_callback(peers)
        outcome = peers.outcome(server=peers.server_config(sni_callback=Recorder(42)))
        _, server_error = assert_handshake_failure(outcome)
        # A callback bug, not a certificate verdict.
        assert not isinstance(server_error, CertificateError)

    def test_switched_certificate_is_validated(self, peers: Peers, pki: PKI) -> None:
        # The certificate the callback picks is checked against the name like any other.
        _require_sni_callback(peers)
        wrong = pki.server_config(pki.issue(names=("elsewhere.test",), ips=()))
        outcome = peers.outcome(server=peers.server_config(sni_callback=Recorder(wrong)))
        client_error, _ = assert_handshake_failure(outcome)
        assert isinstance(client_error, CertificateError)
        assert client_error.reason is CertificateErrorReason.HOSTNAME_MISMATCH

    def test_without_capability(self, backend: Backend, pki: PKI) -> None:
        config = pki.server_config(sni_callback=Recorder())
        skip_if_lacks(backend, Capability.SERVER, lambda: backend.server_context(config))
        if not lacks(backend, Capability.SNI_CALLBACK, lambda: backend.server_context(config)):
            backend.server_context(config)

    @pytest.mark.parametrize("name", ["localhost", "other.test", "xn--bcher-kva.test"])
    def test_name_reaches_the_server(self, peers: Peers, pki: PKI, name: str) -> None:
        leaf = pki.issue(names=(name,), ips=())
        client, server = peers.connect(
            server=peers.server_config(certificate_chain=leaf.certificate_chain()), hostname=name
        )
        assert server.server_hostname == name
        assert client.server_hostname == name

    def test_unicode_name_is_sent_as_a_label(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue(names=("xn--bcher-kva.test",), ips=())
        config = peers.server_config(certificate_chain=leaf.certificate_chain())
        _client, server = peers.connect(server=config, hostname="bücher.test")
        assert server.server_hostname == "xn--bcher-kva.test"
