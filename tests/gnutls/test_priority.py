"""Cipher suites and versions to GnuTLS priority strings, and the system policy still applying."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tlsapi_gnutls._binding import lib
from tlsapi_gnutls._priority import Priority
from tlsapi_gnutls._suites import negotiated_suite, suite_table

from tlsapi import (
    DEFAULT_CIPHER_LIST,
    CipherSuite,
    ConfigurationError,
    TLSConfiguration,
    TLSVersion,
)
from tlsapi._ciphers import TLS13_SUITES

CS = CipherSuite
V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3


def test_default_list_is_expressed_exactly() -> None:
    priority = Priority(TLSConfiguration(), server=False)
    assert priority.priority_string == (
        "-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
        ":-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM"
        ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%PROFILE_MEDIUM"
    )
    assert priority.enabled_suites == {int(s) for s in DEFAULT_CIPHER_LIST}
    assert priority.versions == (V12, V13)


def test_server_prefers_its_own_order() -> None:
    priority = Priority(TLSConfiguration(), server=True)
    assert priority.priority_string.endswith(":%SERVER_PRECEDENCE")


def test_version_range_drops_tls13_and_its_suites() -> None:
    priority = Priority(TLSConfiguration(highest_supported_version=V12), server=False)
    assert "+VERS-TLS1.3" not in priority.priority_string
    assert priority.versions == (V12,)
    assert not priority.enabled_suites & TLS13_SUITES


def test_only_tls13_suites_enable_only_tls13() -> None:
    config = TLSConfiguration(ciphers=(CS.TLS_CHACHA20_POLY1305_SHA256,))
    priority = Priority(config, server=False)
    assert priority.priority_string == (
        "-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:%PROFILE_MEDIUM"
    )
    assert priority.enabled_suites == {CS.TLS_CHACHA20_POLY1305_SHA256}


def test_cbc_suite_with_old_versions_lists_each_version() -> None:
    config = TLSConfiguration(
        ciphers=(0xC013,),  # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, usable from TLS 1.0
        lowest_supported_version=TLSVersion.TLSv1,
    )
    priority = Priority(config, server=False)
    assert priority.priority_string.startswith(
        "-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:+SHA1"
    )
    assert priority.enabled_suites == {0xC013}


def test_a_list_gnutls_cannot_express_is_refused_naming_the_extras() -> None:
    # ECDHE-ECDSA x AES-128-GCM and ECDHE-RSA x AES-256-GCM: GnuTLS would also
    # enable the two crossed combinations.
    config = TLSConfiguration(
        ciphers=(
            CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ),
        highest_supported_version=V12,
    )
    with pytest.raises(ConfigurationError) as info:
        Priority(config, server=False)
    message = str(info.value)
    assert "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" in message
    assert "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in message


@pytest.mark.parametrize(
    ("suite", "words"),
    [
        (0x008C, "needs PSK/SRP credentials"),  # TLS_PSK_WITH_AES_128_CBC_SHA
        (0xC01D, "needs PSK/SRP credentials"),  # TLS_SRP_SHA_WITH_AES_128_CBC_SHA
        (0x1306, "unknown to GnuTLS"),  # TLS_AEGIS_256_SHA512, newer than GnuTLS 3.7
    ],
)
def test_refused_suites_say_why(suite: int, words: str) -> None:
    # (Weak suites never get this far: TLSConfiguration itself refuses them.)
    config = TLSConfiguration(ciphers=(suite,), highest_supported_version=V12)
    with pytest.raises(ConfigurationError, match=words):
        Priority(config, server=False)


def test_unusable_suites_are_dropped_from_a_mixed_list() -> None:
    config = TLSConfiguration(ciphers=(0x008C, CS.TLS_AES_128_GCM_SHA256))
    assert Priority(config, server=False).enabled_suites == {CS.TLS_AES_128_GCM_SHA256}


def test_every_suite_in_gnutls_table_maps_back_to_its_number() -> None:
    # cipher() turns the negotiated (kx, cipher, mac) into the IANA number.
    for number, info in suite_table().items():
        protocol = lib.GNUTLS_TLS1_3 if info.tls13 else lib.GNUTLS_TLS1_2
        if not info.tls13 and info.min_version > lib.GNUTLS_TLS1_2:
            continue
        assert negotiated_suite(protocol, info.kx, info.cipher, info.mac) == number, info


_POLICY_CHILD = textwrap.dedent(
    """
    import tlsapi
    from tlsapi import CipherSuite, ConfigurationError, TLSConfiguration
    from tlsapi.testing import PKI, handshake
    gnutls, stdlib = tlsapi.backend("gnutls"), tlsapi.backend("stdlib")
    try:
        gnutls.client_context(TLSConfiguration(ciphers=(CipherSuite.TLS_AES_256_GCM_SHA384,)))
    except ConfigurationError as exc:
        print("refused:", exc)
    pki = PKI()
    client = gnutls.client_context(pki.client_config()).wrap_buffers("localhost")
    server = stdlib.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    print("negotiated:", CipherSuite(client.cipher()).name)
    """
)


def test_system_policy_still_applies(tmp_path: Path) -> None:
    """A cipher the system configuration disables stays disabled, whatever we ask for."""
    policy = tmp_path / "gnutls-config"
    policy.write_text("[overrides]\ntls-disabled-cipher = AES-256-GCM\n")
    environment = dict(os.environ, GNUTLS_SYSTEM_PRIORITY_FILE=str(policy))
    environment.pop("TLSAPI_BACKEND", None)
    child = subprocess.run(
        [sys.executable, "-c", _POLICY_CHILD],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert "refused: the system's GnuTLS policy disables" in child.stdout
    assert "negotiated: TLS_CHACHA20_POLY1305_SHA256" in child.stdout

    # And without the policy file the same child gets what it asked for.
    environment.pop("GNUTLS_SYSTEM_PRIORITY_FILE")
    child = subprocess.run(
        [sys.executable, "-c", _POLICY_CHILD],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert "refused" not in child.stdout
    assert "negotiated: TLS_AES_256_GCM_SHA384" in child.stdout
