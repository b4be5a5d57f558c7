"""What a finished handshake tells: the peer's signature scheme, a certificate request.

Contract (issue 11).  ``signature_scheme()`` is the scheme the peer signed
the handshake with, on a backend with ``Capability.SIGNATURE_SCHEME``: for
an ECDSA P-256 server key in TLS 1.3 ``ecdsa_secp256r1_sha256``, for an
RSA key in TLS 1.3 an ``rsa_pss_rsae_*`` scheme (RFC 8446 forbids PKCS#1
v1.5 there).  On a server it is the client's (mutual TLS) or None.
``certificate_requested()`` (client side, ``Capability.CERTIFICATE_REQUESTED``)
says whether the server sent a CertificateRequest; it is None on a server.
Both are None before the handshake and on a backend without the capability.
"""

from __future__ import annotations

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._errors import ConfigurationError
from ..._sigschemes import SignatureScheme
from ..._versions import TLSVersion
from ..pki import PKI, Identity, KeyType
from ..pump import handshake
from ._support import (
    REQUIRED_KEY_TYPES,
    Peers,
    client_identity,
    connect_unless_unverifiable,
    only_version,
    require_version,
    session_of,
    skip_client_chain_under_wine,
    skip_if_lacks,
)

__all__ = ["TestHandshakeDetails"]

S = SignatureScheme
VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]
RSA_PSS_RSAE = {S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512}
RSA_TLS12 = RSA_PSS_RSAE | {S.rsa_pkcs1_sha256, S.rsa_pkcs1_sha384, S.rsa_pkcs1_sha512}
ECDSA_TLS12 = {S.ecdsa_secp256r1_sha256, S.ecdsa_secp384r1_sha384, S.ecdsa_secp521r1_sha512}

# What each key type may sign with, by version (TLS 1.2 pairs any ECDSA hash with any curve).
EXPECTED = {
    (KeyType.ECDSA_P256, TLSVersion.TLSv1_3): {S.ecdsa_secp256r1_sha256},
    (KeyType.ECDSA_P384, TLSVersion.TLSv1_3): {S.ecdsa_secp384r1_sha384},
    (KeyType.RSA_2048, TLSVersion.TLSv1_3): RSA_PSS_RSAE,
    (KeyType.ED25519, TLSVersion.TLSv1_3): {S.ed25519},
    (KeyType.ECDSA_P256, TLSVersion.TLSv1_2): ECDSA_TLS12,
    (KeyType.ECDSA_P384, TLSVersion.TLSv1_2): ECDSA_TLS12,
    (KeyType.RSA_2048, TLSVersion.TLSv1_2): RSA_TLS12,
    (KeyType.ED25519, TLSVersion.TLSv1_2): {S.ed25519},
}


def _scheme(backend: Backend, buffer: TLSWrappedBuffer) -> SignatureScheme | None:
    scheme = buffer.signature_scheme()
    if Capability.SIGNATURE_SCHEME not in backend.capabilities:
        assert scheme is None, f"{backend.name} reports {scheme!r} without SIGNATURE_SCHEME"
    return scheme


def _requested(backend: Backend, buffer: TLSWrappedBuffer) -> bool | None:
    requested = buffer.certificate_requested()
    if Capability.CERTIFICATE_REQUESTED not in backend.capabilities:
        assert requested is None, f"{backend.name} says {requested!r} without the capability"
    return requested


def _skip_cannot_tell(backend: Backend, capability: Capability, server_side: bool = False) -> None:
    """None from ``backend``: a failure where it claims ``capability`` for this side.

    SIGNATURE_SCHEME promises the server's scheme to a client; what a server
    learns of a client's CertificateVerify a library may not publish (NSS), so
    a None there skips, naming the backend.
    """
    if capability not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks {capability.value!r} (checked: it says None)")
    if server_side:
        pytest.skip(
            f"backend {backend.name!r} claims {capability.value!r} but cannot tell a server "
            "the client's signature scheme (None)"
        )
    pytest.fail(f"backend {backend.name!r} claims {capability.value!r} but reports None")


class TestHandshakeDetails:
    def test_none_before_the_handshake(self, peers: Peers) -> None:
        client, server = peers.pair()
        for buffer in (client, server):
            assert buffer.signature_scheme() is None
            assert buffer.certificate_requested() is None

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    @pytest.mark.parametrize(
        "key_type", [KeyType.ECDSA_P256, KeyType.RSA_2048, KeyType.ECDSA_P384, KeyType.ED25519],
        ids=lambda k: k.value,
    )  # fmt: skip
    def test_the_server_key_gives_the_scheme(
        self, peers: Peers, pki: PKI, version: TLSVersion, key_type: KeyType
    ) -> None:
        require_version(peers, version)
        identity = pki.issue(key_type=key_type)
        server_config = pki.server_config(identity, **only_version(version))
        try:
            server_context = peers.server_context(server_config)
        except ConfigurationError:
            if key_type in REQUIRED_KEY_TYPES:
                raise
            pytest.skip(
                f"backend {peers.server_backend.name!r} refuses {key_type.name} server keys"
            )
        client, server = connect_unless_unverifiable(
            peers, key_type, peers.client_config(**only_version(version)), server_context
        )
        # Without client certificates the server's peer signed nothing.
        assert _scheme(peers.server_backend, server) is None
        scheme = _scheme(peers.client_backend, client)
        if scheme is None:
            _skip_cannot_tell(peers.client_backend, Capability.SIGNATURE_SCHEME)
        assert scheme in EXPECTED[key_type, version], (
            f"{version.name}, {key_type.name} server key: {scheme!r}"
        )

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_the_server_sees_the_client_scheme(
        self, peers: Peers, pki: PKI, version: TLSVersion
    ) -> None:
        require_version(peers, version)
        skip_if_lacks(peers.client_backend, Capability.CLIENT_CERTIFICATES)
        skip_if_lacks(peers.server_backend, Capability.CLIENT_CERTIFICATES)
        identity: Identity = client_identity(pki)
        skip_client_chain_under_wine(identity)
        _client, server = peers.connect(
            peers.client_config(
                certificate_chain=identity.certificate_chain(), **only_version(version)
            ),
            peers.server_config(trust_store=pki.trust_store(), **only_version(version)),
        )
        scheme = _scheme(peers.server_backend, server)
        if scheme is None:
            _skip_cannot_tell(peers.server_backend, Capability.SIGNATURE_SCHEME, server_side=True)
        assert scheme in EXPECTED[pki.key_type, version], scheme

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_certificate_requested(self, peers: Peers, pki: PKI, version: TLSVersion) -> None:
        require_version(peers, version)
        client, server = peers.connect(peers.client_config(**only_version(version)))
        assert server.certificate_requested() is None, "a server is not asked for a certificate"
        not_asked = _requested(peers.client_backend, client)
        if not_asked is None:
            _skip_cannot_tell(peers.client_backend, Capability.CERTIFICATE_REQUESTED)
        assert not_asked is False
        skip_if_lacks(peers.client_backend, Capability.CLIENT_CERTIFICATES)
        skip_if_lacks(peers.server_backend, Capability.CLIENT_CERTIFICATES)
        identity = client_identity(pki)
        skip_client_chain_under_wine(identity)
        client, server = peers.connect(
            peers.client_config(
                certificate_chain=identity.certificate_chain(), **only_version(version)
            ),
            peers.server_config(trust_store=pki.trust_store(), **only_version(version)),
        )
        assert _requested(peers.client_backend, client) is True
        assert server.certificate_requested() is None

    def test_none_in_a_resumption(self, peers: Peers) -> None:
        """A resumed handshake has no CertificateVerify: nothing was signed."""
        from .resumption import require_resumption

        require_resumption(peers)
        client_context, server_context = peers.client_context(), peers.server_context()
        client, server = peers.connect(client_context, server_context)
        first = _scheme(peers.client_backend, client)
        session = session_of(client, server)
        client = client_context.wrap_buffers("localhost", session=session)
        server = server_context.wrap_buffers()
        handshake(client, server)
        assert client.session_reused
        if first is None:
            _skip_cannot_tell(peers.client_backend, Capability.SIGNATURE_SCHEME)
        assert client.signature_scheme() is None, "a resumed handshake signs nothing"

    def test_known_and_unknown_numbers(self) -> None:
        assert S.from_number(0x0403) is S.ecdsa_secp256r1_sha256
        unknown = S.from_number(0xFE01)
        assert unknown.name == "UNKNOWN_0xFE01" and int(unknown) == 0xFE01
        assert S.from_number(0xFE01) is unknown
