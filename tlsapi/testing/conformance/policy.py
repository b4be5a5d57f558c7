"""tlsapi's verification policy (``tlsapi._policy``), the same on every backend.

Weak keys (RSA < 2048 bits, elliptic curves < 256 bits) in the peer's leaf or
intermediates are ``weak-key``; a peer's end-entity certificate whose
keyUsage lacks digitalSignature is ``bad-usage``: a client judging a server
and a server judging a client certificate alike, in TLS 1.2 and 1.3.

The backend under test does the judging.  The peer that presents the bad
chain is whichever available backend can be configured with it: libraries
refuse to load some weak keys for themselves (OpenSSL's security level), and
only OpenSSL serves a certificate without digitalSignature at all.
"""

from __future__ import annotations

import ssl

import pytest

from ..._backend import Backend, Capability
from ..._config import TLSConfiguration
from ..._errors import CertificateError, CertificateErrorReason, ConfigurationError, TLSError
from ..._registry import available_backends
from ..._registry import backend as backend_named
from ..._versions import TLSVersion
from ..pki import PKI, Identity, KeyType, WeakKeyType
from ..pump import handshake_outcome
from ._support import lacks, skip_client_chain_under_wine, skip_if_lacks, skip_under_wine

__all__ = ["TestVerificationPolicy"]

R = CertificateErrorReason
WEAK_INTERMEDIATES = [WeakKeyType.RSA_1024, WeakKeyType.ECDSA_P192, WeakKeyType.ECDSA_P224]
GOOD_KEYS = [KeyType.RSA_2048, KeyType.ECDSA_P256]


def _versions(backend: Backend) -> list[TLSVersion]:
    return [TLSVersion.TLSv1_2] + (
        [TLSVersion.TLSv1_3] if Capability.TLSv1_3 in backend.capabilities else []
    )


def _peer_backends(preferred: Backend, role: Capability) -> list[Backend]:
    """``preferred`` first, then every other available backend that plays ``role``."""
    others = [b for b in available_backends() if b.name != preferred.name]
    return [b for b in (preferred, *others) if role in b.capabilities]


def _handshake(
    client_backend: Backend,
    client_config: TLSConfiguration,
    server_backend: Backend,
    server_config: TLSConfiguration,
) -> tuple[TLSError | None, TLSError | None]:
    client = client_backend.client_context(client_config).wrap_buffers("localhost")
    server = server_backend.server_context(server_config).wrap_buffers()
    return handshake_outcome(client, server)


def _server_for(judge: Backend, config: TLSConfiguration) -> Backend:
    """A backend that will serve ``config`` (some libraries refuse weak keys of their own)."""
    for candidate in _peer_backends(judge, Capability.SERVER):
        try:
            candidate.server_context(config)
        except ConfigurationError:
            continue
        return candidate
    pytest.skip("no available backend can be configured to serve this chain")


def _client_for(judge: Backend, config: TLSConfiguration) -> Backend:
    for candidate in _peer_backends(judge, Capability.CLIENT):
        if Capability.CLIENT_CERTIFICATES not in candidate.capabilities:
            continue
        try:
            candidate.client_context(config)
        except ConfigurationError:
            continue
        return candidate
    pytest.skip("no available backend can be configured to present this client chain")


def _assert_reason(error: TLSError | None, reason: CertificateErrorReason, who: str) -> None:
    assert isinstance(error, CertificateError), f"the {who} did not refuse: {error!r}"
    assert isinstance(error, ssl.SSLCertVerificationError)
    assert error.reason is reason, f"{error.reason!r}: {error}"
    assert str(error)


class TestVerificationPolicy:
    # -- a client judging the server's chain ------------------------------------

    def _server_chain_outcome(
        self, backend: Backend, pki: PKI, leaf: Identity, version: TLSVersion
    ) -> tuple[TLSError | None, TLSError | None, Backend]:
        server_config = pki.server_config(leaf, highest_supported_version=version)
        server = _server_for(backend, server_config)
        if Capability.CLIENT not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} has no client side")
        client_config = pki.client_config(highest_supported_version=version)
        client_error, server_error = _handshake(backend, client_config, server, server_config)
        return client_error, server_error, server

    def test_weak_rsa_leaf(self, backend: Backend, pki: PKI) -> None:
        for version in _versions(backend):
            leaf = pki.issue(key_type=WeakKeyType.RSA_1024)
            client_error, server_error, _ = self._server_chain_outcome(backend, pki, leaf, version)
            _assert_reason(client_error, R.WEAK_KEY, "client")
            assert server_error is not None, "the server never learned of the refusal"

    @pytest.mark.parametrize("key_type", WEAK_INTERMEDIATES, ids=lambda k: k.value)
    def test_weak_intermediate(self, backend: Backend, pki: PKI, key_type: WeakKeyType) -> None:
        leaf = pki.issue(issuer=pki.make_intermediate(key_type))
        for version in _versions(backend):
            client_error, _, _ = self._server_chain_outcome(backend, pki, leaf, version)
            if client_error is None and Capability.FULL_PEER_CHAIN not in backend.capabilities:
                # Only the leaf reaches tlsapi's own check; the library passed this key.
                pytest.skip(
                    f"backend {backend.name!r} lacks FULL_PEER_CHAIN: tlsapi cannot see the "
                    f"{key_type.value} intermediate, and its library accepts it (see details)"
                )
            _assert_reason(client_error, R.WEAK_KEY, "client")

    @pytest.mark.parametrize("key_type", GOOD_KEYS, ids=lambda k: k.value)
    def test_strong_keys_pass(self, backend: Backend, pki: PKI, key_type: KeyType) -> None:
        leaf = pki.issue(key_type=key_type, issuer=pki.make_intermediate(key_type))
        for version in _versions(backend):
            client_error, server_error, _ = self._server_chain_outcome(backend, pki, leaf, version)
            assert client_error is None and server_error is None, (client_error, server_error)

    @pytest.mark.parametrize(
        ("key_type", "usage"),
        [
            (KeyType.RSA_2048, ("key_encipherment",)),
            (KeyType.ECDSA_P256, ("key_agreement",)),
            (KeyType.RSA_2048, ("content_commitment", "key_encipherment")),
        ],
        ids=["rsa-keyEncipherment", "p256-keyAgreement", "rsa-nonRepudiation"],
    )
    def test_leaf_without_digital_signature(
        self, backend: Backend, pki: PKI, key_type: KeyType, usage: tuple[str, ...]
    ) -> None:
        leaf = pki.issue(key_type=key_type, key_usage=usage)
        # OpenSSL is the one library that signs with such a certificate.
        stdlib = backend_named("stdlib")
        judged = 0
        for version in _versions(backend):
            server_config = pki.server_config(leaf, highest_supported_version=version)
            client_config = pki.client_config(highest_supported_version=version)
            client_error, _ = _handshake(backend, client_config, stdlib, server_config)
            if isinstance(client_error, CertificateError) or client_error is None:
                _assert_reason(client_error, R.BAD_USAGE, "client")
                judged += 1
            # else: no suite can use this key in this version (a static-ECDH key)
        if not judged:
            skip_under_wine(
                "its SChannel hands the handshake to GnuTLS, which refuses a server "
                "certificate whose keyUsage lacks digitalSignature before tlsapi sees the "
                "certificate, and reports only a handshake failure status (no peer "
                f"certificate to name bad-usage from): {client_error}"
            )
        assert judged, "no TLS version let the server present the certificate"

    @pytest.mark.parametrize(
        ("key_type", "usage"),
        [
            (KeyType.ECDSA_P256, ("digital_signature",)),
            (KeyType.RSA_2048, ("digital_signature", "key_encipherment")),
            (KeyType.RSA_2048, ("digital_signature", "key_encipherment", "key_agreement")),
        ],
        # Not an RSA leaf with digitalSignature alone: NSS's certificate usage for
        # servers wants keyEncipherment in RSA keys (a library refusal, bad-usage).
        ids=["p256-digitalSignature", "rsa-digitalSignature+keyEncipherment", "rsa-more"],
    )
    def test_leaf_with_digital_signature_passes(
        self, backend: Backend, pki: PKI, key_type: KeyType, usage: tuple[str, ...]
    ) -> None:
        leaf = pki.issue(key_type=key_type, key_usage=usage)
        for version in _versions(backend):
            client_error, server_error, _ = self._server_chain_outcome(backend, pki, leaf, version)
            assert client_error is None and server_error is None, (client_error, server_error)

    def test_refusal_is_sticky(self, backend: Backend, pki: PKI) -> None:
        leaf = pki.issue(issuer=pki.make_intermediate(WeakKeyType.RSA_1024))
        server_config = pki.server_config(leaf)
        server_backend = _server_for(backend, server_config)
        client = backend.client_context(pki.client_config()).wrap_buffers("localhost")
        server = server_backend.server_context(server_config).wrap_buffers()
        client_error, _ = handshake_outcome(client, server)
        _assert_reason(client_error, R.WEAK_KEY, "client")
        for call in (client.do_handshake, lambda: client.write(b"x"), client.read):
            with pytest.raises(CertificateError) as raised:
                call()
            assert raised.value.reason is R.WEAK_KEY

    # -- a server judging the client's certificate -------------------------------------

    def _client_chain_refused(
        self,
        backend: Backend,
        pki: PKI,
        identity: Identity,
        reason: CertificateErrorReason,
        *,
        needs_chain: bool = False,
    ) -> None:
        server_config = pki.server_config(trust_store=pki.trust_store())
        if lacks(
            backend, Capability.CLIENT_CERTIFICATES, lambda: backend.server_context(server_config)
        ):
            pytest.skip(f"backend {backend.name!r} cannot require client certificates")
        if Capability.SERVER not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} has no server side")
        if needs_chain:
            skip_client_chain_under_wine(identity)
        client_config = pki.client_config(certificate_chain=identity.certificate_chain())
        client_backend = (
            # OpenSSL is the one library that signs with such a certificate.
            backend_named("stdlib")
            if reason is R.BAD_USAGE
            else _client_for(backend, client_config)
        )
        for version in _versions(backend):
            server_cfg = server_config.update(highest_supported_version=version)
            _, server_error = _handshake(client_backend, client_config, backend, server_cfg)
            if (
                server_error is None
                and reason is R.WEAK_KEY
                and len(identity.chain_der) > 1
                and Capability.FULL_PEER_CHAIN not in backend.capabilities
            ):
                pytest.skip(
                    f"backend {backend.name!r} lacks FULL_PEER_CHAIN: tlsapi cannot see the "
                    "client's intermediate, and its library accepts it (see details)"
                )
            _assert_reason(server_error, reason, "server")

    def test_weak_client_leaf(self, backend: Backend, pki: PKI) -> None:
        identity = pki.issue(
            names=("client.test",), ips=(), eku=("client",), key_type=WeakKeyType.RSA_1024
        )
        self._client_chain_refused(backend, pki, identity, R.WEAK_KEY)

    @pytest.mark.parametrize("key_type", WEAK_INTERMEDIATES, ids=lambda k: k.value)
    def test_weak_client_intermediate(
        self, backend: Backend, pki: PKI, key_type: WeakKeyType
    ) -> None:
        identity = pki.issue(
            names=("client.test",), ips=(), eku=("client",), issuer=pki.make_intermediate(key_type)
        )
        # The weak key is the intermediate's: the server must receive it.
        self._client_chain_refused(backend, pki, identity, R.WEAK_KEY, needs_chain=True)

    def test_client_leaf_without_digital_signature(self, backend: Backend, pki: PKI) -> None:
        identity = pki.issue(
            names=("client.test",),
            ips=(),
            eku=("client",),
            key_type=KeyType.RSA_2048,
            key_usage=("key_encipherment",),
        )
        self._client_chain_refused(backend, pki, identity, R.BAD_USAGE)

    def test_strong_client_chain_passes(self, backend: Backend, pki: PKI) -> None:
        server_config = pki.server_config(trust_store=pki.trust_store())
        if lacks(
            backend, Capability.CLIENT_CERTIFICATES, lambda: backend.server_context(server_config)
        ):
            pytest.skip(f"backend {backend.name!r} cannot require client certificates")
        identity = pki.issue(
            names=("client.test",),
            ips=(),
            eku=("client",),
            key_type=KeyType.RSA_2048,
            issuer=pki.make_intermediate(KeyType.RSA_2048),
        )
        skip_if_lacks(backend, Capability.SERVER, lambda: backend.server_context(server_config))
        skip_client_chain_under_wine(identity)
        client_config = pki.client_config(certificate_chain=identity.certificate_chain())
        client_backend = _client_for(backend, client_config)
        for version in _versions(backend):
            server_cfg = server_config.update(highest_supported_version=version)
            client_error, server_error = _handshake(
                client_backend, client_config, backend, server_cfg
            )
            assert client_error is None and server_error is None, (client_error, server_error)
