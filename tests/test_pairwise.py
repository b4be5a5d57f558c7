"""Every client backend against every server backend: the interoperability matrix.

Each test runs once per (client, server) pair of the backends under test
(``client_backend`` x ``server_backend``, see conftest.py).  Cipher suites
are those both backends list in ``Backend.supported_ciphers`` where a
backend publishes it, otherwise DEFAULT_CIPHER_LIST.
"""

from __future__ import annotations

import hashlib

import pytest

import tlsapi
from tlsapi import (
    DEFAULT_CIPHER_LIST,
    Capability,
    CertificateError,
    CertificateErrorReason,
    CipherSuite,
    ConfigurationError,
    NextProtocol,
    TLSConfiguration,
    TLSVersion,
)
from tlsapi._ciphers import TLS13_SUITES
from tlsapi.testing import PKI, KeyType, close, transfer
from tlsapi.testing.conformance._support import (
    Peers,
    assert_handshake_failure,
    client_identity,
    connect_unless_unverifiable,
    make_pki,
    pki_for_suite,
    refuses_key_type,
    skip_if_lacks,
)

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
MiB = 1 << 20


@pytest.fixture
def pair(client_backend: tlsapi.Backend, server_backend: tlsapi.Backend, pki: PKI) -> Peers:
    # A backend may lack a side (schannel under Wine has no server): it must then
    # refuse that side with ConfigurationError, and the pair is skipped.
    skip_if_lacks(
        client_backend,
        Capability.CLIENT,
        lambda: client_backend.client_context(pki.client_config()),
    )
    skip_if_lacks(
        server_backend,
        Capability.SERVER,
        lambda: server_backend.server_context(pki.server_config()),
    )
    return Peers(client_backend, server_backend, pki)


def _both(pair: Peers, capability: Capability) -> bool:
    return capability in pair.client_backend.capabilities & pair.server_backend.capabilities


def _versions(pair: Peers) -> list[TLSVersion]:
    return [V12, V13] if _both(pair, Capability.TLSv1_3) else [V12]


def _supported_suites(backend: tlsapi.Backend) -> set[int]:
    # Backend.supported_ciphers: the suites the backend can negotiate here (empty: unknown).
    return {int(s) for s in (backend.supported_ciphers or DEFAULT_CIPHER_LIST)}


def _declares_suites(pair: Peers) -> bool:
    return all(b.supported_ciphers for b in (pair.client_backend, pair.server_backend))


def _candidate_suites(pair: Peers) -> list[CipherSuite]:
    """Both backends' declared suites, or every known suite (to be probed) if undeclared."""
    if not _declares_suites(pair):
        return list(CipherSuite)
    common = _supported_suites(pair.client_backend) & _supported_suites(pair.server_backend)
    return [CipherSuite(n) for n in sorted(common) if n in CipherSuite._value2member_map_]


def _certificate_kind(suite: CipherSuite) -> KeyType | None:
    """The key type a TLS 1.2 suite's authentication needs (None: PSK, anon, DSS...)."""
    name = suite.name
    if name.startswith("TLS_ECDHE_ECDSA_"):
        return KeyType.ECDSA_P256
    if name.startswith(("TLS_ECDHE_RSA_", "TLS_DHE_RSA_", "TLS_RSA_WITH_")):
        return KeyType.RSA_2048
    return None


def _pinned(version: TLSVersion) -> dict[str, TLSVersion]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


class TestPairwise:
    @pytest.mark.parametrize("version", [V12, V13], ids=str)
    def test_version(self, pair: Peers, version: TLSVersion) -> None:
        if version not in _versions(pair):
            pytest.skip(f"{version.name} is not a capability of both backends")
        client, server = pair.connect(
            pair.client_config(**_pinned(version)), pair.server_config(**_pinned(version))
        )
        assert client.negotiated_tls_version is version
        assert server.negotiated_tls_version is version
        assert client.cipher() == server.cipher()
        assert transfer(client, server, b"ping") == b"ping"
        assert transfer(server, client, b"pong") == b"pong"

    def test_default_negotiation(self, pair: Peers, pki: PKI) -> None:
        client, server = pair.connect()
        assert client.negotiated_tls_version is _versions(pair)[-1]
        assert server.negotiated_tls_version is client.negotiated_tls_version
        assert client.cipher() == server.cipher()
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]

    def test_tls12_cipher_suites(self, pair: Peers, pki: PKI, rsa_pki: PKI) -> None:
        # Every suite both backends accept (declared in supported_ciphers, or else
        # probed: a single-suite configuration each side accepts) must interoperate.
        if not _both(pair, Capability.CIPHER_SELECTION):
            pytest.skip("cipher selection is not a capability of both backends")
        # pki is RSA under TLSAPI_TEST_PKI_KEY=rsa2048: ECDSA suites get a PKI of their own.
        pkis = {
            KeyType.ECDSA_P256: pki_for_suite(
                CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, pki, rsa_pki
            ),
            KeyType.RSA_2048: rsa_pki,
        }
        tried, failures = [], []
        for suite in _candidate_suites(pair):
            kind = _certificate_kind(suite)
            if suite in TLS13_SUITES or kind is None:
                continue
            settings = {"ciphers": (suite,), **_pinned(V12)}
            peers = Peers(pair.client_backend, pair.server_backend, pkis[kind])
            try:
                client_context = peers.client_context(pkis[kind].client_config(**settings))
                server_context = peers.server_context(pkis[kind].server_config(**settings))
            except ConfigurationError as exc:
                if _declares_suites(pair):
                    failures.append(f"{suite.name}: declared supported, but {exc}")
                continue
            tried.append(suite.name)
            try:
                client, server = peers.connect(client_context, server_context)
                got = (client.cipher(), server.cipher())
                if got != (suite, suite):
                    failures.append(f"{suite.name}: negotiated {got}")
                elif transfer(client, server, b"data") != b"data":
                    failures.append(f"{suite.name}: data did not arrive")
            except tlsapi.TLSError as exc:
                failures.append(f"{suite.name} (0x{suite:04X}): {type(exc).__name__}: {exc}")
        assert tried, "no TLS 1.2 suite in common"
        assert set(tried) >= {s.name for s in DEFAULT_CIPHER_LIST if s not in TLS13_SUITES}
        assert not failures, "\n".join(failures)

    def test_tls13_cipher_suites(self, pair: Peers) -> None:
        if V13 not in _versions(pair):
            pytest.skip("TLS 1.3 is not a capability of both backends")
        failures = []
        for suite in _candidate_suites(pair):
            if suite not in TLS13_SUITES:
                continue
            settings = {"ciphers": (suite,), **_pinned(V13)}
            try:
                client_context = pair.client_context(pair.client_config(**settings))
                server_context = pair.server_context(pair.server_config(**settings))
            except ConfigurationError:
                continue  # a backend that cannot restrict TLS 1.3 suites says so
            try:
                client, server = pair.connect(client_context, server_context)
            except tlsapi.TLSError as exc:
                failures.append(f"{suite.name}: {type(exc).__name__}: {exc}")
                continue
            if (client.cipher(), server.cipher()) != (suite, suite):
                failures.append(f"{suite.name}: negotiated {(client.cipher(), server.cipher())}")
        assert not failures, "\n".join(failures)

    @pytest.mark.parametrize("key_type", list(KeyType), ids=lambda k: k.name)
    def test_server_key_types(self, pair: Peers, key_type: KeyType) -> None:
        pki = make_pki(key_type, name=f"pairwise {key_type.name}")
        for backend in (pair.client_backend, pair.server_backend):
            # A library that cannot sign with the key type cannot verify it either.
            if refuses_key_type(backend, key_type, pki):
                pytest.skip(f"the {backend.name} backend refuses {key_type.name} keys")
        peers = Peers(pair.client_backend, pair.server_backend, pki)
        for version in _versions(pair):
            client, server = connect_unless_unverifiable(
                peers, key_type, pki.client_config(**_pinned(version)),
                pki.server_config(**_pinned(version)),
            )  # fmt: skip
            assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
            assert transfer(server, client, b"signed") == b"signed"

    def test_alpn(self, pair: Peers) -> None:
        if Capability.ALPN not in pair.client_backend.capabilities:
            pytest.skip(f"{pair.client_backend.name} has no ALPN")
        if Capability.SERVER_ALPN not in pair.server_backend.capabilities:
            pytest.skip(f"{pair.server_backend.name} has no server-side ALPN")
        custom = b"x-pairwise/1"
        cases = [
            ((NextProtocol.H2, NextProtocol.HTTP1), (NextProtocol.HTTP1,), NextProtocol.HTTP1),
            ((custom, NextProtocol.H2), (custom,), custom),
            ((NextProtocol.H2,), (NextProtocol.HTTP1,), None),
            ((NextProtocol.H2,), (), None),
            ((), (NextProtocol.H2,), None),
        ]
        for offered, accepted, expected in cases:
            client, server = pair.connect(
                pair.client_config(inner_protocols=offered),
                pair.server_config(inner_protocols=accepted),
            )
            assert client.negotiated_protocol() == expected, (offered, accepted)
            assert server.negotiated_protocol() == expected, (offered, accepted)
            assert type(client.negotiated_protocol()) is type(expected)

    def test_sni(self, pair: Peers, pki: PKI) -> None:
        callback_config = pair.server_config(sni_callback=lambda *_: None)
        skip_if_lacks(
            pair.server_backend,
            Capability.SNI_CALLBACK,
            lambda: pair.server_backend.server_context(callback_config),
        )
        other = pki.issue(names=("other.test",), ips=())
        seen: list[str | None] = []

        def choose(
            buffer: tlsapi.TLSWrappedBuffer, name: str | None, config: TLSConfiguration
        ) -> TLSConfiguration | None:
            seen.append(name)
            return pki.server_config(other) if name == "other.test" else None

        server_context = pair.server_context(pair.server_config(sni_callback=choose))
        client, server = pair.connect(server=server_context, hostname="other.test")
        assert client.getpeercert()[0] == other.cert_der  # type: ignore[index]
        assert server.server_hostname == "other.test"
        client, _ = pair.connect(server=server_context, hostname="localhost")
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
        client, _ = pair.connect(server=server_context, hostname="127.0.0.1")
        assert seen == ["other.test", "localhost", None]

    @pytest.mark.parametrize("version", [V12, V13], ids=str)
    def test_client_authentication(
        self, pair: Peers, pki: PKI, other_pki: PKI, version: TLSVersion
    ) -> None:
        if not _both(pair, Capability.CLIENT_CERTIFICATES):
            pytest.skip("client certificates are not a capability of both backends")
        if version not in _versions(pair):
            pytest.skip(f"{version.name} is not a capability of both backends")
        pinned = _pinned(version)
        strict = pair.server_config(trust_store=pki.trust_store(), **pinned)
        good = pair.client_config(
            certificate_chain=client_identity(pki).certificate_chain(), **pinned
        )
        client, server = pair.connect(good, strict)
        assert server.getpeercert()[0] == client_identity(pki).cert_der  # type: ignore[index]
        assert transfer(client, server, b"me") == b"me"
        assert_handshake_failure(pair.outcome(pair.client_config(**pinned), strict))
        stranger = other_pki.issue(names=("client.test",), ips=(), eku=("client",))
        outcome = pair.outcome(
            pair.client_config(certificate_chain=stranger.certificate_chain(), **pinned), strict
        )
        _, server_error = assert_handshake_failure(outcome)
        assert isinstance(server_error, CertificateError)
        assert server_error.reason is CertificateErrorReason.UNTRUSTED_ISSUER

    def test_validation_failure(self, pair: Peers, other_pki: PKI) -> None:
        config = pair.server_config(certificate_chain=other_pki.issue().certificate_chain())
        client_error, _ = assert_handshake_failure(pair.outcome(server=config))
        assert isinstance(client_error, CertificateError)
        assert client_error.reason is CertificateErrorReason.UNTRUSTED_ISSUER

    @pytest.mark.parametrize("first", ["client", "server"])
    def test_shutdown(self, pair: Peers, first: str) -> None:
        for version in _versions(pair):
            client, server = pair.connect(
                pair.client_config(**_pinned(version)), pair.server_config(**_pinned(version))
            )
            assert transfer(client, server, b"bye") == b"bye"
            if first == "client":
                close(client, server)
            else:
                close(server, client)

    @pytest.mark.parametrize("version", [V12, V13], ids=str)
    def test_16_mib_both_ways(self, pair: Peers, version: TLSVersion) -> None:
        if version not in _versions(pair):
            pytest.skip(f"{version.name} is not a capability of both backends")
        client, server = pair.connect(
            pair.client_config(**_pinned(version)), pair.server_config(**_pinned(version))
        )
        data = hashlib.sha256(b"seed").digest() * (16 * MiB // 32) + b"tail"
        for sender, receiver in ((client, server), (server, client)):
            received = transfer(sender, receiver, data)
            assert len(received) == len(data)
            assert received == data

    @pytest.mark.parametrize("version", [V12, V13], ids=str)
    def test_one_byte_delivery(self, pair: Peers, pki: PKI, version: TLSVersion) -> None:
        if version not in _versions(pair):
            pytest.skip(f"{version.name} is not a capability of both backends")
        pinned = _pinned(version)
        client_config = pair.client_config(**pinned)
        server_config = pair.server_config(**pinned)
        if _both(pair, Capability.CLIENT_CERTIFICATES):
            client_config = client_config.update(
                certificate_chain=client_identity(pki).certificate_chain()
            )
            server_config = server_config.update(trust_store=pki.trust_store())
        client, server = pair.connect(client_config, server_config, chunk_size=1)
        message = bytes(range(256)) * 8
        assert transfer(client, server, message, chunk_size=1) == message
        assert transfer(server, client, message, chunk_size=1) == message
        close(client, server)
