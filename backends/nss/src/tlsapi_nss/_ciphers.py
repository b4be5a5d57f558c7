"""Cipher suites and protocol versions: a TLSConfiguration's wishes as NSS settings.

NSS numbers its suites by their IANA numbers, so a configuration's list maps
one to one; suites NSS does not implement, or its policy forbids, drop out,
as do weak ones even when asked for (tlsapi's own rule: no encryption or
authentication, export grade, broken or 64-bit-block ciphers, MD5), and an
empty result is a ConfigurationError.  The list's order becomes the
socket's preference order (SSL_CipherSuiteOrderSet, which also disables every
suite not listed).  The version range is clamped to what the library
supports, and to the versions the chosen suites can serve.
"""

from __future__ import annotations

import functools

from tlsapi import CipherSuite, ConfigurationError, TLSConfiguration, TLSVersion
from tlsapi.backend_api import cipher_weakness

from ._lib import ffi, lib, library_version

__all__ = ["Selection", "select"]

TLS13_SUITES = frozenset(range(0x1301, 0x1306))
_NAMES = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}
_LOWEST_ALLOWED = 0x0301  # tlsapi never negotiates SSL 3.0


class Selection:
    """The suites (in preference order) and the version range for one configuration."""

    def __init__(self, suites: tuple[int, ...], low: int, high: int) -> None:
        self.suites = suites
        self.low = low
        self.high = high


@functools.cache
def implemented_suites() -> frozenset[int]:
    table = lib.SSL_GetImplementedCiphers()
    return frozenset(int(table[i]) for i in range(lib.SSL_GetNumImplementedCiphers()))


def supported_suites() -> tuple[int, ...]:
    """Every suite a configuration may name here, in NSS's order of preference."""
    table = lib.SSL_GetImplementedCiphers()
    order = (int(table[i]) for i in range(lib.SSL_GetNumImplementedCiphers()))
    return tuple(suite for suite in order if _allowed(suite) and not is_weak(suite))


def _allowed(suite: int) -> bool:
    # Not cached: NSS_Init may load a system crypto policy (Fedora's crypto-policies).
    policy = ffi.new("PRInt32 *")
    if lib.SSL_CipherPolicyGet(suite, policy) != lib.SECSuccess:
        return False
    return bool(policy[0] == lib.SSL_ALLOWED)


@functools.cache
def supported_range() -> tuple[int, int]:
    vrange = ffi.new("SSLVersionRange *")
    if lib.SSL_VersionRangeGetSupported(lib.ssl_variant_stream, vrange) != lib.SECSuccess:
        return 0x0301, 0x0303
    return max(int(vrange.min), _LOWEST_ALLOWED), int(vrange.max)


def is_weak(suite: int) -> bool:
    """No encryption or authentication, export grade, broken or 64-bit-block ciphers, MD5."""
    return cipher_weakness(suite) is not None


def uses_dhe(suite: int) -> bool:
    member = CipherSuite.from_number(suite)
    return isinstance(member, CipherSuite) and member.name.startswith("TLS_DHE_")


def _name(version: int) -> str:
    return _NAMES.get(version, hex(version))


def select(config: TLSConfiguration) -> Selection:
    """What NSS will be told; ConfigurationError when nothing usable is left."""
    implemented = implemented_suites()
    requested = tuple(dict.fromkeys(int(suite) for suite in config.ciphers))
    suites = tuple(s for s in requested if s in implemented and _allowed(s) and not is_weak(s))
    if not suites:
        weak = [s for s in requested if is_weak(s)]
        because = (
            " (weak suites are refused: no encryption or authentication, export grade, "
            "broken or 64-bit-block ciphers, MD5)"
            if weak
            else ""
        )
        raise ConfigurationError(
            f"none of the requested cipher suites is implemented (or allowed by policy) "
            f"in NSS {library_version()}{because}"
        )
    supported_low, supported_high = supported_range()
    low_version, high_version = config.lowest_supported_version, config.highest_supported_version
    low = supported_low if low_version is TLSVersion.MINIMUM_SUPPORTED else low_version.wire_version
    high = (
        supported_high
        if high_version is TLSVersion.MAXIMUM_SUPPORTED
        else high_version.wire_version
    )
    assert low is not None and high is not None
    if max(low, supported_low) > min(high, supported_high):
        raise ConfigurationError(
            f"NSS {library_version()} supports {_name(supported_low)} to {_name(supported_high)}; "
            f"the configuration asks for {_name(low)} to {_name(high)}"
        )
    low, high = max(low, supported_low), min(high, supported_high)
    has_tls13 = any(suite in TLS13_SUITES for suite in suites)
    has_tls12 = any(suite not in TLS13_SUITES for suite in suites)
    if not has_tls13:
        if low >= 0x0304:
            raise ConfigurationError(
                "the cipher list holds no TLS 1.3 suite but TLS 1.3 is the only version allowed"
            )
        high = min(high, 0x0303)
    if not has_tls12:
        if high < 0x0304:
            raise ConfigurationError(
                "the cipher list holds only TLS 1.3 suites but TLS 1.3 is not in the version range"
            )
        low = max(low, 0x0304)
    return Selection(suites, low, high)
