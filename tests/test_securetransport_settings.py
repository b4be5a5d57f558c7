"""What tlsapi-securetransport refuses, and what it imports, checked on any system.

The backend cannot run here (no Security framework), but the part that
decides what Secure Transport can be asked for is pure Python
(``tlsapi_securetransport._settings``) and is tested here for real: TLS 1.3
as the lowest version, ALPN on a server, key-exchange groups and TLS 1.3-only
suite lists are ConfigurationErrors; the capabilities claim no TLS 1.3.  The
modules that need the compiled module must fail to import with ImportError
(which the registry records as the reason), and nothing else.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

import tlsapi
from tlsapi import (
    Capability,
    CipherSuite,
    ConfigurationError,
    NextProtocol,
    TLSConfiguration,
    TLSVersion,
)

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "backends" / "securetransport" / "src"
Chain = tuple[tuple[tlsapi.Certificate, ...], tlsapi.PrivateKey]


@pytest.fixture(scope="module")
def settings() -> ModuleType:
    try:
        return importlib.import_module("tlsapi_securetransport._settings")
    except ImportError:
        sys.path.insert(0, str(SOURCE))
        return importlib.import_module("tlsapi_securetransport._settings")


@pytest.fixture(scope="module")
def chain() -> Chain:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    leaf = authority.issue_cert("example.test")
    certificate = tlsapi.Certificate.from_buffer(leaf.cert_chain_pems[0].bytes())
    key = tlsapi.PrivateKey.from_buffer(leaf.private_key_pem.bytes())
    return (certificate,), key


def test_tls13_as_the_lowest_version_is_refused(settings: ModuleType) -> None:
    config = TLSConfiguration(lowest_supported_version=TLSVersion.TLSv1_3)
    with pytest.raises(ConfigurationError, match=r"TLS 1\.0 to 1\.2 only"):
        settings.check_configuration(config, server=False)


@pytest.mark.parametrize(
    ("lowest", "highest", "expected"),
    [
        (TLSVersion.TLSv1_2, TLSVersion.MAXIMUM_SUPPORTED, (8, 8)),
        (TLSVersion.TLSv1_2, TLSVersion.TLSv1_3, (8, 8)),  # served up to TLS 1.2
        (TLSVersion.TLSv1_2, TLSVersion.TLSv1_2, (8, 8)),
        (TLSVersion.TLSv1, TLSVersion.TLSv1_1, (4, 7)),  # kTLSProtocol1, kTLSProtocol11
        (TLSVersion.MINIMUM_SUPPORTED, TLSVersion.MAXIMUM_SUPPORTED, (4, 8)),
        (TLSVersion.TLSv1_1, TLSVersion.TLSv1_3, (7, 8)),
    ],
)
def test_version_ranges(
    settings: ModuleType, lowest: TLSVersion, highest: TLSVersion, expected: tuple[int, int]
) -> None:
    config = TLSConfiguration(lowest_supported_version=lowest, highest_supported_version=highest)
    assert settings.protocol_range(config) == expected


def test_server_alpn_is_refused_client_alpn_is_not(settings: ModuleType, chain: Chain) -> None:
    client = TLSConfiguration(inner_protocols=(NextProtocol.H2, b"http/1.1"))
    settings.check_configuration(client, server=False)
    assert settings.alpn_names(client) == ("h2", "http/1.1")
    server = TLSConfiguration(certificate_chain=chain, inner_protocols=(NextProtocol.H2,))
    with pytest.raises(ConfigurationError, match="no server-side ALPN"):
        settings.check_configuration(server, server=True)
    settings.check_configuration(TLSConfiguration(certificate_chain=chain), server=True)


def test_alpn_names_must_be_text(settings: ModuleType) -> None:
    config = TLSConfiguration(inner_protocols=(b"\xff\x00proto",))
    with pytest.raises(ConfigurationError, match="not printable ASCII"):
        settings.check_configuration(config, server=False)


def test_tls13_only_suites_are_refused(settings: ModuleType) -> None:
    config = TLSConfiguration(ciphers=(CipherSuite.TLS_AES_128_GCM_SHA256,))
    with pytest.raises(ConfigurationError, match=r"only TLS 1\.3 suites"):
        settings.wanted_suites(config)
    mixed = TLSConfiguration(
        ciphers=(
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        )
    )
    assert settings.wanted_suites(mixed) == (
        CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.value,
    )


def test_key_exchange_groups_are_refused(settings: ModuleType) -> None:
    if "key_exchange_groups" not in TLSConfiguration.__dataclass_fields__:
        pytest.skip("this tlsapi has no key_exchange_groups")
    config = TLSConfiguration(key_exchange_groups=("P-256",))
    with pytest.raises(ConfigurationError, match="key-exchange groups"):
        settings.check_configuration(config, server=False)


def test_a_server_needs_a_chain_or_an_sni_callback(settings: ModuleType) -> None:
    with pytest.raises(ConfigurationError, match="needs a certificate_chain"):
        settings.check_configuration(TLSConfiguration(), server=True)
    settings.check_configuration(TLSConfiguration(sni_callback=lambda *a: None), server=True)


def test_capabilities_claim_no_tls13_and_say_why(settings: ModuleType) -> None:
    assert Capability.TLSv1_3 not in settings.CAPABILITIES
    assert Capability.TLSv1_2 in settings.CAPABILITIES
    assert "no TLS 1.3" in settings.LIMITATIONS
    assert "no ALPN on the server side" in settings.LIMITATIONS


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS the backend loads")
def test_off_macos_the_backend_fails_to_load_with_import_error(settings: ModuleType) -> None:
    package = importlib.import_module("tlsapi_securetransport")
    with pytest.raises(ImportError, match="runs on macOS only"):
        package.load_backend()
    # Every module that needs the framework fails the same way, and only that way.
    for name in ("_binding", "_cf", "_errors", "_trust", "_identity", "_prepared",
                 "_buffer", "_context", "_backend"):  # fmt: skip
        with pytest.raises(ImportError):
            importlib.import_module(f"tlsapi_securetransport.{name}")


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS the verifier runs")
def test_off_macos_the_limbo_verifier_says_why_it_cannot_run(settings: ModuleType) -> None:
    testing = importlib.import_module("tlsapi_securetransport.testing")
    reason = testing.limbo_verifier().unavailable_reason()
    assert reason is not None and "cannot be loaded" in reason
