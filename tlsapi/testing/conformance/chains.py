"""Several certificate chains per server: the client's algorithms choose one.

Contract (issue 11).  A server configuration may hold several chains whose
keys differ in type (say RSA and ECDSA); a backend with
``Capability.SEVERAL_CERTIFICATE_CHAINS`` serves the one the client can
verify, and one without it refuses such a configuration with
ConfigurationError.  Two chains with the same key type, and several chains
on a client, are ConfigurationErrors whatever the backend.

How a client is limited here: a TLS 1.2 client offering only ECDHE_ECDSA
(or only ECDHE_RSA) suites accepts only an ECDSA (or RSA) certificate, so
the server must choose by key type.  TLS 1.3 suites do not name the key
type; there the tests check that the chain served matches the signature
scheme reported, and the cross-backend tests limit the client's signature
algorithms with ``openssl s_client -sigalgs`` and ``gnutls-cli --priority``.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._ciphers import CipherSuite
from ..._config import TLSConfiguration
from ..._errors import ConfigurationError
from ..._versions import TLSVersion
from ..pki import PKI, Identity, KeyType
from ..pump import transfer
from ._support import Peers, only_version, require_version, skip_if_lacks

__all__ = ["ECDSA_ONLY_TLS12", "RSA_ONLY_TLS12", "TestSeveralChains", "dual_identities"]

ECDSA_ONLY_TLS12 = (
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
)
RSA_ONLY_TLS12 = (
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
)


def dual_identities(pki: PKI) -> tuple[Identity, Identity]:
    """(ECDSA P-256 leaf, RSA 2048 leaf) for localhost, both issued by ``pki``'s intermediate."""
    return (
        pki.issue(key_type=KeyType.ECDSA_P256),
        pki.issue(key_type=KeyType.RSA_2048),
    )


def _dual_config(pki: PKI, first: Identity, second: Identity, **overrides: Any) -> TLSConfiguration:
    return pki.server_config(
        certificate_chain=(first.certificate_chain(), second.certificate_chain()), **overrides
    )


def _served(peers: Peers, chain: TLSWrappedBuffer | list[bytes]) -> list[bytes]:
    """The chain a client sees (its leaf alone where it lacks FULL_PEER_CHAIN)."""
    if isinstance(chain, TLSWrappedBuffer):
        certificates = chain.getpeercert()
        assert certificates, "the client has no peer certificate"
        chain = certificates
    if Capability.FULL_PEER_CHAIN in peers.client_backend.capabilities:
        return list(chain)
    return list(chain[:1])


def require_chains(backend: Backend, config: TLSConfiguration) -> None:
    """Skip unless ``backend`` (a server) takes several chains; without it, it refuses them."""
    if Capability.SERVER not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} has no server side")
    skip_if_lacks(
        backend, Capability.SEVERAL_CERTIFICATE_CHAINS, lambda: backend.server_context(config)
    )


class TestSeveralChains:
    @pytest.mark.parametrize("order", ["ecdsa-first", "rsa-first"])
    def test_tls12_client_gets_the_chain_it_can_use(
        self, peers: Peers, pki: PKI, order: str
    ) -> None:
        require_version(peers, TLSVersion.TLSv1_2)
        ecdsa, rsa = dual_identities(pki)
        first, second = (ecdsa, rsa) if order == "ecdsa-first" else (rsa, ecdsa)
        server_config = _dual_config(pki, first, second, **only_version(TLSVersion.TLSv1_2))
        require_chains(peers.server_backend, server_config)
        server_context = peers.server_context(server_config)
        for suites, identity in ((ECDSA_ONLY_TLS12, ecdsa), (RSA_ONLY_TLS12, rsa)):
            client_config = peers.client_config(ciphers=suites, **only_version(TLSVersion.TLSv1_2))
            # The client is limited through its suites (SChannel cannot be).
            skip_if_lacks(
                peers.client_backend,
                Capability.CIPHER_SELECTION,
                functools.partial(peers.client_backend.client_context, client_config),
            )
            client, server = peers.connect(client_config, server_context)
            assert _served(peers, client) == _served(peers, identity.chain_der), (
                f"a client offering only {suites[0].name} got the other chain"
            )
            assert client.cipher() in suites
            assert transfer(client, server, b"chosen") == b"chosen"

    @pytest.mark.parametrize("version", [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3], ids=str)
    def test_an_unlimited_client_gets_a_whole_chain(
        self, peers: Peers, pki: PKI, version: TLSVersion
    ) -> None:
        require_version(peers, version)
        ecdsa, rsa = dual_identities(pki)
        server_config = _dual_config(pki, rsa, ecdsa, **only_version(version))
        require_chains(peers.server_backend, server_config)
        client, server = peers.connect(peers.client_config(**only_version(version)), server_config)
        chain = _served(peers, client)
        candidates = (_served(peers, ecdsa.chain_der), _served(peers, rsa.chain_der))
        assert chain in candidates, "the server mixed its chains"
        scheme = client.signature_scheme()
        if scheme is not None:
            # The key that signed the handshake is the served leaf's.
            expected = "ecdsa" if chain == candidates[0] else "rsa"
            assert scheme.name.startswith(expected), (scheme, "but the leaf is", expected)
        assert transfer(server, client, b"either") == b"either"

    def test_an_sni_callback_returns_several_chains(self, peers: Peers, pki: PKI) -> None:
        """certificate_chain takes effect from an sni_callback's configuration, chains too."""
        require_version(peers, TLSVersion.TLSv1_2)
        ecdsa = pki.issue(names=("dual.test",), ips=(), key_type=KeyType.ECDSA_P256)
        rsa = pki.issue(names=("dual.test",), ips=(), key_type=KeyType.RSA_2048)
        dual = _dual_config(pki, rsa, ecdsa)
        require_chains(peers.server_backend, dual)

        def choose(
            _buffer: TLSWrappedBuffer, name: str | None, _config: TLSConfiguration
        ) -> TLSConfiguration | None:
            return dual if name == "dual.test" else None

        server_config = peers.server_config(sni_callback=choose, **only_version(TLSVersion.TLSv1_2))
        skip_if_lacks(
            peers.server_backend,
            Capability.SNI_CALLBACK,
            functools.partial(peers.server_backend.server_context, server_config),
        )
        server_context = peers.server_context(server_config)
        for suites, identity in ((ECDSA_ONLY_TLS12, ecdsa), (RSA_ONLY_TLS12, rsa)):
            client_config = peers.client_config(ciphers=suites, **only_version(TLSVersion.TLSv1_2))
            skip_if_lacks(
                peers.client_backend,
                Capability.CIPHER_SELECTION,
                functools.partial(peers.client_backend.client_context, client_config),
            )
            client, server = peers.connect(client_config, server_context, hostname="dual.test")
            assert _served(peers, client) == _served(peers, identity.chain_der), (
                f"through sni_callback, a client offering only {suites[0].name} got the other chain"
            )
            assert transfer(client, server, b"sni") == b"sni"

    def test_same_key_type_twice_is_refused(self, pki: PKI) -> None:
        one, two = pki.issue(key_type=KeyType.ECDSA_P256), pki.issue(key_type=KeyType.ECDSA_P256)
        with pytest.raises(ConfigurationError, match="different types"):
            _dual_config(pki, one, two)
        rsa_one, rsa_two = (
            pki.issue(key_type=KeyType.RSA_2048),
            pki.issue(key_type=KeyType.RSA_2048),
        )
        with pytest.raises(ConfigurationError, match="both have a RSA key"):
            _dual_config(pki, rsa_one, rsa_two)

    def test_a_client_presents_one_chain(self, backend: Backend, pki: PKI) -> None:
        if Capability.CLIENT not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} has no client side")
        ecdsa, rsa = dual_identities(pki)
        config = pki.client_config(
            certificate_chain=(ecdsa.certificate_chain(), rsa.certificate_chain())
        )
        with pytest.raises(ConfigurationError, match="a client presents one certificate_chain"):
            backend.client_context(config)

    def test_one_chain_in_a_list_is_one_chain(self, peers: Peers, pki: PKI) -> None:
        """Every backend takes a sequence of one chain: no capability is needed for it."""
        config = pki.server_config(certificate_chain=[pki.server_identity.certificate_chain()])
        assert len(config.certificate_chains) == 1
        client, _server = peers.connect(None, config)
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]

    def test_without_the_capability_it_is_refused(self, backend: Backend, pki: PKI) -> None:
        if Capability.SERVER not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} has no server side")
        if Capability.SEVERAL_CERTIFICATE_CHAINS in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} serves several chains (tested above)")
        ecdsa, rsa = dual_identities(pki)
        with pytest.raises(ConfigurationError):
            backend.server_context(_dual_config(pki, ecdsa, rsa))
