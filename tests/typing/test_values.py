"""Values a user compares and names without isinstance: TLSVersion order, CipherSuite names."""

from __future__ import annotations

import ssl

import pytest

import tlsapi
from tlsapi import CipherSuite, TLSVersion

CONCRETE = [TLSVersion.TLSv1, TLSVersion.TLSv1_1, TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]


def test_tls_versions_order_like_ssl() -> None:
    ours = [v.name for v in sorted(reversed(CONCRETE))]
    theirs = [v.name for v in sorted([getattr(ssl.TLSVersion, n) for n in reversed(ours)])]
    assert ours == theirs == ["TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3"]
    assert TLSVersion.TLSv1_2 < TLSVersion.TLSv1_3 and TLSVersion.TLSv1_3 >= TLSVersion.TLSv1_2
    assert TLSVersion.TLSv1_2 <= TLSVersion.TLSv1_2 and not TLSVersion.TLSv1_3 < TLSVersion.TLSv1_3
    # The bounds sit outside every concrete version.
    assert all(TLSVersion.MINIMUM_SUPPORTED < v < TLSVersion.MAXIMUM_SUPPORTED for v in CONCRETE)
    with pytest.raises(TypeError):
        _ = TLSVersion.TLSv1_2 < ssl.TLSVersion.TLSv1_3  # type: ignore[operator]


def test_unknown_suite_has_a_name_and_equals_its_number() -> None:
    unknown = CipherSuite.from_number(0x7A7A)
    assert isinstance(unknown, CipherSuite)
    assert unknown.name == "UNKNOWN_0x7A7A"
    assert unknown == 0x7A7A and int(unknown) == 0x7A7A
    assert CipherSuite.from_number(0x7A7A) is unknown
    assert unknown not in list(CipherSuite)  # not listed as a real member
    assert CipherSuite.from_number(0x1301) is CipherSuite.TLS_AES_128_GCM_SHA256
    # An unknown number in a configuration is still accepted, and not judged weak.
    config = tlsapi.TLSConfiguration(ciphers=(0x7A7A, CipherSuite.TLS_AES_128_GCM_SHA256))
    assert config.ciphers[0] == 0x7A7A
