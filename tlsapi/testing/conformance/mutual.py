"""Mutual TLS: a trust_store on the server requires and validates client certificates."""

from __future__ import annotations

import datetime

import pytest

from ..._backend import Backend, Capability
from ..._config import TLSConfiguration
from ..._errors import CertificateError, CertificateErrorReason
from ..._versions import TLSVersion
from ..pki import PKI, Identity
from ..pump import transfer
from ._support import (
    Peers,
    assert_handshake_failure,
    client_identity,
    client_leaf_issuer,
    lacks,
    skip_client_chain_under_wine,
    skip_if_lacks,
    skip_unless_ec_pki,
)

__all__ = ["TestMutualTLS"]

R = CertificateErrorReason


def _require_client_auth(peers: Peers) -> None:
    pki = peers.pki
    client_config = pki.client_config(certificate_chain=client_identity(pki).certificate_chain())
    server_config = pki.server_config(trust_store=pki.trust_store())
    skip_if_lacks(
        peers.client_backend,
        Capability.CLIENT_CERTIFICATES,
        lambda: peers.client_backend.client_context(client_config),
    )
    skip_if_lacks(
        peers.server_backend,
        Capability.CLIENT_CERTIFICATES,
        lambda: peers.server_backend.server_context(server_config),
    )


def _client(peers: Peers, identity: Identity | None) -> TLSConfiguration:
    if identity is None:
        return peers.client_config()
    return peers.client_config(certificate_chain=identity.certificate_chain())


def _strict_server(peers: Peers, **overrides: object) -> TLSConfiguration:
    return peers.server_config(trust_store=peers.pki.trust_store(), **overrides)


VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]


def _server_refuses(peers: Peers, identity: Identity, reason: R) -> None:
    """The strict server refuses the client certificate of ``identity`` for ``reason``."""
    outcome = peers.outcome(_client(peers, identity), _strict_server(peers))
    _, server_error = assert_handshake_failure(outcome)
    assert isinstance(server_error, CertificateError), server_error
    assert server_error.reason is reason


class TestMutualTLS:
    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_good_client_certificate(self, peers: Peers, pki: PKI, version: TLSVersion) -> None:
        _require_client_auth(peers)
        _require_version(peers, version)
        pinned = {"highest_supported_version": version}
        client, server = peers.connect(
            _client(peers, client_identity(pki)).update(**pinned), _strict_server(peers, **pinned)
        )
        assert server.getpeercert()[0] == client_identity(pki).cert_der  # type: ignore[index]
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
        assert server.negotiated_tls_version is version
        assert transfer(client, server, b"authenticated") == b"authenticated"

    def test_full_client_chain_is_reported(self, peers: Peers, pki: PKI) -> None:
        _require_client_auth(peers)
        skip_client_chain_under_wine(pki.client_identity)
        _, server = peers.connect(_client(peers, pki.client_identity), _strict_server(peers))
        chain = server.getpeercert()
        if Capability.FULL_PEER_CHAIN in peers.server_backend.capabilities:
            assert chain == pki.client_identity.chain_der
        else:
            assert chain == [pki.client_identity.cert_der]

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_no_client_certificate(self, peers: Peers, version: TLSVersion) -> None:
        _require_client_auth(peers)
        _require_version(peers, version)
        pinned = {"highest_supported_version": version}
        outcome = peers.outcome(
            _client(peers, None).update(**pinned), _strict_server(peers, **pinned)
        )
        assert_handshake_failure(outcome)

    def test_client_certificate_from_another_ca(self, peers: Peers, other_pki: PKI) -> None:
        _require_client_auth(peers)
        stranger = other_pki.issue(names=("client.test",), ips=(), eku=("client",))
        _server_refuses(peers, stranger, R.UNTRUSTED_ISSUER)

    def test_expired_client_certificate(self, peers: Peers, pki: PKI) -> None:
        _require_client_auth(peers)
        now = datetime.datetime.now(datetime.timezone.utc)
        old = pki.issue(
            names=("client.test",),
            ips=(),
            eku=("client",),
            issuer=client_leaf_issuer(),
            not_before=now - datetime.timedelta(days=30),
            not_after=now - datetime.timedelta(days=1),
        )
        _server_refuses(peers, old, R.EXPIRED)

    def test_client_certificate_for_servers_only(self, peers: Peers, pki: PKI) -> None:
        _require_client_auth(peers)
        server_only = pki.issue(
            names=("client.test",), ips=(), eku=("server",), issuer=client_leaf_issuer()
        )
        _server_refuses(peers, server_only, R.BAD_USAGE)

    def test_client_certificate_without_eku(self, peers: Peers, pki: PKI) -> None:
        _require_client_auth(peers)
        plain = pki.issue(names=("client.test",), ips=(), eku=(), issuer=client_leaf_issuer())
        _, server = peers.connect(_client(peers, plain), _strict_server(peers))
        assert server.getpeercert()[0] == plain.cert_der  # type: ignore[index]

    def test_client_certificate_not_asked_for(self, peers: Peers, pki: PKI) -> None:
        _require_client_auth(peers)
        _, server = peers.connect(_client(peers, client_identity(pki)))
        assert server.getpeercert() is None

    def test_one_byte_at_a_time(self, peers: Peers, pki: PKI) -> None:
        _require_client_auth(peers)
        client, server = peers.connect(
            _client(peers, client_identity(pki)), _strict_server(peers), chunk_size=1
        )
        assert server.getpeercert()[0] == client_identity(pki).cert_der  # type: ignore[index]
        assert transfer(server, client, b"ok", chunk_size=1) == b"ok"

    @pytest.mark.parametrize("key_format", ["pkcs8", "sec1"])
    def test_encrypted_client_key(self, peers: Peers, pki: PKI, key_format: str) -> None:
        if key_format == "sec1":
            skip_unless_ec_pki(pki, "the SEC 1 key format")
        _require_client_auth(peers)
        identity = client_identity(pki)
        chain = identity.certificate_chain(password=b"client secret", key_format=key_format)
        client_config = peers.client_config(certificate_chain=chain)
        skip_if_lacks(
            peers.client_backend,
            Capability.ENCRYPTED_KEYS,
            lambda: peers.client_backend.client_context(client_config),
        )
        _, server = peers.connect(
            peers.client_config(certificate_chain=chain), _strict_server(peers)
        )
        assert server.getpeercert()[0] == identity.cert_der  # type: ignore[index]

    def test_without_capability(self, backend: Backend, pki: PKI) -> None:
        config = pki.client_config(certificate_chain=client_identity(pki).certificate_chain())
        if not lacks(
            backend, Capability.CLIENT_CERTIFICATES, lambda: backend.client_context(config)
        ):
            backend.client_context(config)


def _require_version(peers: Peers, version: TLSVersion) -> None:
    for side in (peers.client_backend, peers.server_backend):
        if version is TLSVersion.TLSv1_3 and Capability.TLSv1_3 not in side.capabilities:
            pytest.skip(f"backend {side.name!r} lacks {Capability.TLSv1_3.value!r}")
