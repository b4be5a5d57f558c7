"""Handshakes: versions, key types, negotiated values on both sides, context reuse."""

from __future__ import annotations

import contextlib

import pytest

from ..._backend import Backend, Capability
from ..._ciphers import DEFAULT_CIPHER_LIST, TLS13_SUITES
from ..._config import TLSConfiguration
from ..._errors import (
    CertificateError,
    ConfigurationError,
    InsecureConfigurationWarning,
    TLSError,
)
from ..._versions import TLSVersion
from ..pki import PKI, KeyType
from ..pump import handshake, transfer
from ._support import (
    Peers,
    assert_handshake_failure,
    connect_unless_unverifiable,
    lacks,
    make_pki,
    skip_if_lacks,
    skip_if_refuses_key_type,
)

__all__ = ["TestHandshake", "TestVersions"]

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3


def _pinned(version: TLSVersion) -> dict[str, TLSVersion]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


def _best_version(backend: Backend) -> TLSVersion:
    return V13 if Capability.TLSv1_3 in backend.capabilities else V12


class TestHandshake:
    def test_default_configuration(self, peers: Peers) -> None:
        client, server = peers.connect()
        version = client.negotiated_tls_version
        assert version == server.negotiated_tls_version
        assert version is _best_version(peers.client_backend)
        assert client.cipher() == server.cipher()
        assert client.cipher() in DEFAULT_CIPHER_LIST
        assert client.negotiated_protocol() is None
        assert server.negotiated_protocol() is None

    def test_client_sees_server_certificate(self, peers: Peers, pki: PKI) -> None:
        client, server = peers.connect()
        chain = client.getpeercert()
        assert isinstance(chain, list)
        assert all(isinstance(der, bytes) for der in chain)
        assert chain[0] == pki.server_identity.cert_der
        if Capability.FULL_PEER_CHAIN in peers.client_backend.capabilities:
            assert chain == pki.server_identity.chain_der
        else:
            assert chain == [pki.server_identity.cert_der]
        # No client authentication was asked for: the server saw no certificate.
        assert server.getpeercert() is None

    def test_nothing_negotiated_before_handshake(self, peers: Peers) -> None:
        client, server = peers.pair()
        for side in (client, server):
            assert side.cipher() is None
            assert side.negotiated_protocol() is None
            assert side.negotiated_tls_version is None
            assert side.getpeercert() is None

    def test_do_handshake_again_is_a_no_op(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.do_handshake()
        server.do_handshake()
        assert transfer(client, server, b"still fine") == b"still fine"

    @pytest.mark.parametrize("key_type", list(KeyType), ids=lambda k: k.name)
    def test_server_key_types(self, backend: Backend, key_type: KeyType) -> None:
        pki = make_pki(key_type, name=f"tlsapi {key_type.name}")
        skip_if_refuses_key_type(backend, key_type, pki)
        peers = Peers.for_backend(backend, pki)
        client, server = connect_unless_unverifiable(peers, key_type)
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
        assert transfer(server, client, b"hello") == b"hello"

    def test_one_byte_at_a_time(self, peers: Peers) -> None:
        client, server = peers.connect(chunk_size=1)
        assert client.negotiated_tls_version == server.negotiated_tls_version
        message = bytes(range(256)) * 3
        assert transfer(client, server, message, chunk_size=1) == message
        assert transfer(server, client, message, chunk_size=1) == message

    def test_odd_chunk_sizes(self, peers: Peers) -> None:
        for size in (2, 3, 7, 100, 1000):
            client, server = peers.connect(chunk_size=size)
            message = b"x" * 5000
            assert transfer(client, server, message, chunk_size=size) == message

    def test_context_makes_many_connections(self, peers: Peers) -> None:
        client_context = peers.client_context()
        server_context = peers.server_context()
        pairs = [peers.connect(client_context, server_context) for _ in range(5)]
        for index, (client, server) in enumerate(pairs):
            message = f"connection {index}".encode()
            assert transfer(client, server, message) == message
            assert transfer(server, client, message[::-1]) == message[::-1]
            assert client.context is client_context
            assert server.context is server_context

    def test_configuration_property(self, peers: Peers) -> None:
        client_config = peers.client_config()
        server_config = peers.server_config()
        assert peers.client_context(client_config).configuration is client_config
        assert peers.server_context(server_config).configuration is server_config

    def test_server_hostname_on_both_sides(self, peers: Peers) -> None:
        client, server = peers.pair()
        assert client.server_hostname == "localhost"
        handshake(client, server)
        assert server.server_hostname == "localhost"

    def test_server_hostname_for_an_ip_address(self, peers: Peers) -> None:
        client, server = peers.connect(hostname="127.0.0.1")
        assert client.server_hostname == "127.0.0.1"
        # RFC 6066: IP literals are not sent as SNI.
        assert server.server_hostname is None

    def test_server_needs_a_certificate(self, backend: Backend) -> None:
        with pytest.raises(ConfigurationError):
            backend.server_context(TLSConfiguration())

    def test_missing_roles_are_configuration_errors(self, backend: Backend, pki: PKI) -> None:
        lacks(backend, Capability.SERVER, lambda: backend.server_context(pki.server_config()))
        lacks(backend, Capability.CLIENT, lambda: backend.client_context(pki.client_config()))

    def test_context_rejects_non_configuration(self, backend: Backend) -> None:
        with pytest.raises(ConfigurationError):
            backend.client_context({"validate_certificates": True})  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            backend.server_context(None)  # type: ignore[arg-type]


class TestVersions:
    @pytest.mark.parametrize("version", [V12, V13], ids=["TLSv1.2", "TLSv1.3"])
    def test_pinned_version(self, peers: Peers, version: TLSVersion) -> None:
        client_config = peers.client_config(**_pinned(version))
        server_config = peers.server_config(**_pinned(version))
        if version is V13:
            skip_if_lacks(
                peers.client_backend,
                Capability.TLSv1_3,
                lambda: peers.client_backend.client_context(client_config),
            )
            skip_if_lacks(
                peers.server_backend,
                Capability.TLSv1_3,
                lambda: peers.server_backend.server_context(server_config),
            )
        client, server = peers.connect(client_config, server_config)
        assert client.negotiated_tls_version is version
        assert server.negotiated_tls_version is version
        cipher = client.cipher()
        assert cipher == server.cipher()
        assert (int(cipher) in TLS13_SUITES) == (version is V13)  # type: ignore[arg-type]

    def test_client_range_server_tls12(self, peers: Peers) -> None:
        client, server = peers.connect(server=peers.server_config(**_pinned(V12)))
        assert client.negotiated_tls_version is V12
        assert server.negotiated_tls_version is V12

    def test_client_tls12_server_range(self, peers: Peers) -> None:
        client, server = peers.connect(client=peers.client_config(**_pinned(V12)))
        assert client.negotiated_tls_version is V12
        assert server.negotiated_tls_version is V12

    def test_widest_range(self, peers: Peers) -> None:
        # MINIMUM_SUPPORTED may allow legacy versions (and warns); the best one still wins.
        wide = {
            "lowest_supported_version": TLSVersion.MINIMUM_SUPPORTED,
            "highest_supported_version": TLSVersion.MAXIMUM_SUPPORTED,
        }
        with pytest.warns(InsecureConfigurationWarning):
            client_context = peers.client_context(peers.client_config(**wide))
        with pytest.warns(InsecureConfigurationWarning):
            server_context = peers.server_context(peers.server_config(**wide))
        client, server = peers.connect(client_context, server_context)
        assert client.negotiated_tls_version is _best_version(peers.client_backend)
        assert server.negotiated_tls_version is client.negotiated_tls_version

    @pytest.mark.parametrize("version", [TLSVersion.TLSv1, TLSVersion.TLSv1_1], ids=str)
    def test_legacy_lowest_version_warns(self, peers: Peers, version: TLSVersion) -> None:
        config = peers.client_config(lowest_supported_version=version)
        # A backend whose library has no TLS 1.0/1.1 may refuse instead, after warning.
        with pytest.warns(InsecureConfigurationWarning), contextlib.suppress(ConfigurationError):
            peers.client_backend.client_context(config)

    @pytest.mark.parametrize(
        ("client_version", "server_version"), [(V13, V12), (V12, V13)], ids=["c13-s12", "c12-s13"]
    )
    def test_no_common_version(
        self, peers: Peers, client_version: TLSVersion, server_version: TLSVersion
    ) -> None:
        client_config = peers.client_config(**_pinned(client_version))
        server_config = peers.server_config(**_pinned(server_version))
        skip_if_lacks(
            peers.client_backend,
            Capability.TLSv1_3,
            lambda: peers.client_backend.client_context(peers.client_config(**_pinned(V13))),
        )
        outcome = peers.outcome(client_config, server_config)
        client_error, server_error = assert_handshake_failure(outcome)
        # A version mismatch is a protocol failure, not a certificate problem.
        assert not isinstance(client_error, CertificateError)
        assert not isinstance(server_error, CertificateError)

    def test_tls13_without_capability(self, backend: Backend, pki: PKI) -> None:
        config = pki.client_config(**_pinned(V13))
        if not lacks(backend, Capability.TLSv1_3, lambda: backend.client_context(config)):
            backend.client_context(config)  # must be accepted when claimed

    def test_failed_handshake_is_a_tls_error(self, peers: Peers) -> None:
        client, server = peers.pair(
            peers.client_config(**_pinned(V12)),
            peers.server_config(**_pinned(_best_version(peers.server_backend))),
        )
        if _best_version(peers.server_backend) is V12:
            pytest.skip(f"backend {peers.server_backend.name!r} lacks 'tls1.3': no mismatch")
        with pytest.raises(TLSError):
            handshake(client, server)
