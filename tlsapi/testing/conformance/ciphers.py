"""Cipher suite selection: pinned suites, overlap, and lists a backend cannot honour."""

from __future__ import annotations

from typing import Any

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._ciphers import DEFAULT_CIPHER_LIST, TLS13_SUITES, CipherSuite
from ..._config import TLSConfiguration
from ..._errors import CertificateError, ConfigurationError, TLSError
from ..._versions import TLSVersion
from ..pki import PKI, KeyType
from ._support import Peers, assert_handshake_failure, pki_for_suite, skip_if_lacks

__all__ = ["TestCiphers"]

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
_V13_ONLY = {"lowest_supported_version": V13, "highest_supported_version": V13}
TLS12_DEFAULTS = [c for c in DEFAULT_CIPHER_LIST if c not in TLS13_SUITES]
TLS13_DEFAULTS = [c for c in DEFAULT_CIPHER_LIST if c in TLS13_SUITES]

# Lists no backend of ours may accept: nothing in them is a usable suite.
UNSUPPORTABLE = {
    "null": (0x0000,),  # TLS_NULL_WITH_NULL_NULL
    "unassigned": (0xFFFF,),
    "grease": (0x0A0A, 0x1A1A),
}

# "No weak suites, always": suites without encryption, without authentication,
# export-grade, single DES or RC4 (RFC 7465) are refused even when asked for.
WEAK = {
    0x0001: "TLS_RSA_WITH_NULL_MD5",
    0x0002: "TLS_RSA_WITH_NULL_SHA",
    0x003B: "TLS_RSA_WITH_NULL_SHA256",
    0xC006: "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
    0xC010: "TLS_ECDHE_RSA_WITH_NULL_SHA",
    0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
    0x0008: "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    0x0009: "TLS_RSA_WITH_DES_CBC_SHA",
    0x0018: "TLS_DH_anon_WITH_RC4_128_MD5",
    0x0034: "TLS_DH_anon_WITH_AES_128_CBC_SHA",
    0xC018: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
}


def _pki_for(suite: int, pki: PKI, rsa_pki: PKI) -> PKI:
    return pki_for_suite(CipherSuite(suite), pki, rsa_pki)


def _ecdhe_suites(pki: PKI) -> tuple[CipherSuite, CipherSuite]:
    """(AES-256-GCM, AES-128-GCM) ECDHE suites that authenticate with ``pki``'s key type."""
    if pki.key_type is KeyType.RSA_2048:
        return (
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        )
    return (
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    )


def _config_pair(
    peers: Peers, pki: PKI, **settings: Any
) -> tuple[TLSConfiguration, TLSConfiguration]:
    return pki.client_config(**settings), pki.server_config(**settings)


def _connect_pinned(
    peers: Peers, suite_pki: PKI, suite: CipherSuite, **settings: Any
) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    """Connect with ``settings`` and check both ends chose ``suite``.

    Skips when the client backend lacks cipher selection (after checking it
    says so with ConfigurationError).
    """
    client_config, server_config = _config_pair(peers, suite_pki, **settings)
    skip_if_lacks(
        peers.client_backend,
        Capability.CIPHER_SELECTION,
        lambda: peers.client_backend.client_context(client_config),
    )
    pair = Peers(peers.client_backend, peers.server_backend, suite_pki)
    client, server = pair.connect(client_config, server_config)
    assert client.cipher() is suite
    assert server.cipher() is suite
    return client, server


def _skip_unless_both_select(
    peers: Peers, client_config: TLSConfiguration, server_config: TLSConfiguration
) -> None:
    """Skip unless both ends can restrict their suites (each refusal checked first)."""
    skip_if_lacks(
        peers.client_backend,
        Capability.CIPHER_SELECTION,
        lambda: peers.client_backend.client_context(client_config),
    )
    skip_if_lacks(
        peers.server_backend,
        Capability.CIPHER_SELECTION,
        lambda: peers.server_backend.server_context(server_config),
    )


class TestCiphers:
    @pytest.mark.parametrize("suite", TLS12_DEFAULTS, ids=lambda c: c.name)
    def test_single_tls12_suite(
        self, peers: Peers, pki: PKI, rsa_pki: PKI, suite: CipherSuite
    ) -> None:
        suite_pki = _pki_for(suite, pki, rsa_pki)
        settings = {
            "ciphers": (suite,),
            "lowest_supported_version": V12,
            "highest_supported_version": V12,
        }
        client, server = _connect_pinned(peers, suite_pki, suite, **settings)
        assert client.negotiated_tls_version is V12
        assert server.negotiated_tls_version is V12

    @pytest.mark.parametrize("suite", TLS12_DEFAULTS, ids=lambda c: c.name)
    def test_tls12_suite_with_open_version_range(
        self, peers: Peers, pki: PKI, rsa_pki: PKI, suite: CipherSuite
    ) -> None:
        # No TLS 1.3 suite listed: TLS 1.3 is impossible, so TLS 1.2 must be used.
        client, _server = _connect_pinned(
            peers, _pki_for(suite, pki, rsa_pki), suite, ciphers=(suite,)
        )
        assert client.negotiated_tls_version is V12

    @pytest.mark.parametrize("suite", TLS13_DEFAULTS, ids=lambda c: c.name)
    def test_single_tls13_suite(self, peers: Peers, pki: PKI, suite: CipherSuite) -> None:
        # Honoured exactly, or refused with ConfigurationError when the backend cannot
        # restrict TLS 1.3 suites; silently negotiating another suite is the failure.
        client_config, server_config = _config_pair(
            peers, pki, ciphers=(suite,), lowest_supported_version=V13
        )
        skip_if_lacks(
            peers.client_backend,
            Capability.TLSv1_3,
            lambda: peers.client_backend.client_context(peers.client_config(**_V13_ONLY)),
        )
        try:
            client_context = peers.client_backend.client_context(client_config)
            server_context = peers.server_backend.server_context(server_config)
        except ConfigurationError as exc:
            assert str(exc)
            pytest.skip(f"{peers!r}: one TLS 1.3 suite alone is refused: {exc}")
        client, server = peers.connect(client_context, server_context)
        assert client.cipher() is suite
        assert server.cipher() is suite
        assert client.negotiated_tls_version is V13

    def test_overlap_is_chosen(self, peers: Peers) -> None:
        client_suites = _ecdhe_suites(peers.pki)
        server_suites = client_suites[1:]
        client_config = peers.client_config(ciphers=client_suites, highest_supported_version=V12)
        server_config = peers.server_config(ciphers=server_suites, highest_supported_version=V12)
        _skip_unless_both_select(peers, client_config, server_config)
        client, server = peers.connect(client_config, server_config)
        assert client.cipher() is server_suites[0]
        assert server.cipher() is server_suites[0]

    def test_no_common_suite(self, peers: Peers) -> None:
        aes256, aes128 = _ecdhe_suites(peers.pki)
        client_config = peers.client_config(ciphers=(aes256,), highest_supported_version=V12)
        server_config = peers.server_config(ciphers=(aes128,), highest_supported_version=V12)
        _skip_unless_both_select(peers, client_config, server_config)
        client_error, server_error = assert_handshake_failure(
            peers.outcome(client_config, server_config)
        )
        assert not isinstance(client_error, CertificateError)
        assert not isinstance(server_error, CertificateError)

    def test_unknown_members_are_ignored(self, peers: Peers) -> None:
        # Suites a backend does not know are skipped as long as one usable suite remains.
        usable = _ecdhe_suites(peers.pki)[1]
        suites = (0xFFFF, 0x0A0A, usable)
        client_config = peers.client_config(ciphers=suites, highest_supported_version=V12)
        skip_if_lacks(
            peers.client_backend,
            Capability.CIPHER_SELECTION,
            lambda: peers.client_backend.client_context(client_config),
        )
        client, server = peers.connect(client_config)
        assert client.cipher() is usable
        assert server.cipher() is client.cipher()

    @pytest.mark.parametrize("suites", list(UNSUPPORTABLE.values()), ids=list(UNSUPPORTABLE))
    def test_unsupportable_list_is_refused(
        self, backend: Backend, pki: PKI, suites: tuple[int, ...]
    ) -> None:
        with pytest.raises(ConfigurationError):
            backend.client_context(pki.client_config(ciphers=suites))
        if Capability.SERVER in backend.capabilities:
            with pytest.raises(ConfigurationError):
                backend.server_context(pki.server_config(ciphers=suites))

    @pytest.mark.parametrize("suite", list(WEAK), ids=list(WEAK.values()))
    def test_weak_suite_is_refused(self, backend: Backend, pki: PKI, suite: int) -> None:
        settings: dict[str, Any] = {"ciphers": (suite,), "highest_supported_version": V12}
        with pytest.raises(ConfigurationError):
            backend.client_context(pki.client_config(**settings))
        if Capability.SERVER in backend.capabilities:
            with pytest.raises(ConfigurationError):
                backend.server_context(pki.server_config(**settings))

    def test_tls13_suites_only_with_tls12_range(self, backend: Backend, pki: PKI) -> None:
        config = pki.client_config(ciphers=tuple(TLS13_DEFAULTS), highest_supported_version=V12)
        with pytest.raises(ConfigurationError):
            backend.client_context(config)

    def test_tls12_suites_only_with_tls13_range(self, backend: Backend, pki: PKI) -> None:
        config = pki.client_config(ciphers=tuple(TLS12_DEFAULTS), lowest_supported_version=V13)
        with pytest.raises(ConfigurationError):
            backend.client_context(config)

    def test_negotiated_cipher_is_a_member(self, peers: Peers) -> None:
        client, server = peers.connect()
        assert isinstance(client.cipher(), CipherSuite)
        assert isinstance(server.cipher(), CipherSuite)

    def test_every_accepted_tls12_suite_negotiates(
        self, peers: Peers, pki: PKI, rsa_pki: PKI
    ) -> None:
        # A backend that accepts a single-suite configuration must be able to use it:
        # accepting what can never be negotiated hides the problem until handshake time.
        skip_if_lacks(
            peers.client_backend,
            Capability.CIPHER_SELECTION,
            lambda: peers.client_backend.client_context(
                pki.client_config(ciphers=(_ecdhe_suites(pki)[1],))
            ),
        )
        failures, negotiated = [], []
        for suite in CipherSuite:
            kind = _authentication(suite)
            if suite in TLS13_SUITES or kind is None:
                continue
            suite_pki = _pki_for(suite, pki, rsa_pki)
            settings: dict[str, Any] = {
                "ciphers": (suite,),
                "lowest_supported_version": V12,
                "highest_supported_version": V12,
            }
            try:
                client_context = peers.client_backend.client_context(
                    suite_pki.client_config(**settings)
                )
                server_context = peers.server_backend.server_context(
                    suite_pki.server_config(**settings)
                )
            except ConfigurationError:
                continue
            pair = Peers(peers.client_backend, peers.server_backend, suite_pki)
            try:
                client, server = pair.connect(client_context, server_context)
            except TLSError as exc:
                failures.append(f"{suite.name} (0x{suite:04X}) accepted, then: {exc}")
                continue
            if client.cipher() is not suite or server.cipher() is not suite:
                failures.append(f"{suite.name}: negotiated {client.cipher()!r}/{server.cipher()!r}")
            negotiated.append(suite.name)
        assert negotiated, "not a single TLS 1.2 suite could be pinned"
        assert not failures, "\n".join(failures)


def _authentication(suite: CipherSuite) -> str | None:
    """Which certificate a TLS 1.2 suite needs: "ecdsa", "rsa", or None (PSK, anon, DSS...)."""
    if suite.name.startswith("TLS_ECDHE_ECDSA_"):
        return "ecdsa"
    if suite.name.startswith(("TLS_ECDHE_RSA_", "TLS_DHE_RSA_", "TLS_RSA_WITH_")):
        return "rsa"
    return None
