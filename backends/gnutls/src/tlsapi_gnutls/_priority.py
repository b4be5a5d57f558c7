"""From a TLSConfiguration's versions, cipher suites and groups to a gnutls_priority_t.

The string we build is appended to the system's default priorities with
gnutls_priority_init2(GNUTLS_PRIORITY_INIT_DEF_APPEND), so the distribution's
crypto policy (its disabled algorithms and versions) still applies.

GnuTLS enables suites as the product of the key exchanges, ciphers and MACs
listed; after building the priority cache we read back the suites it really
enables.  A list that GnuTLS cannot express exactly (it would enable suites
that were not asked for) is a ConfigurationError, never a silent widening.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tlsapi import ConfigurationError, TLSConfiguration, TLSVersion
from tlsapi.backend_api import cipher_weakness

from ._binding import ffi, lib
from ._errors import describe
from ._groups import check_enabled_groups, group_keywords
from ._suites import SuiteInfo, suite_table

__all__ = ["Priority", "supported_suites"]

# TLSVersion -> (priority keyword, gnutls_protocol_t attribute)
_VERSIONS: tuple[tuple[TLSVersion, str, str], ...] = (
    (TLSVersion.TLSv1, "VERS-TLS1.0", "GNUTLS_TLS1_0"),
    (TLSVersion.TLSv1_1, "VERS-TLS1.1", "GNUTLS_TLS1_1"),
    (TLSVersion.TLSv1_2, "VERS-TLS1.2", "GNUTLS_TLS1_2"),
    (TLSVersion.TLSv1_3, "VERS-TLS1.3", "GNUTLS_TLS1_3"),
)


def _versions_in_range(config: TLSConfiguration) -> list[tuple[TLSVersion, str, int]]:
    low = config.lowest_supported_version
    high = config.highest_supported_version
    low_rank = TLSVersion.TLSv1._rank() if low is TLSVersion.MINIMUM_SUPPORTED else low._rank()
    high_rank = TLSVersion.TLSv1_3._rank() if high is TLSVersion.MAXIMUM_SUPPORTED else high._rank()
    return [
        (version, keyword, int(getattr(lib, attribute)))
        for version, keyword, attribute in _VERSIONS
        if low_rank <= version._rank() <= high_rank
    ]


def _usable(info: SuiteInfo, protocol: int) -> bool:
    if protocol == lib.GNUTLS_TLS1_3:
        return info.tls13
    return not info.tls13 and info.min_version <= protocol


# Never negotiated, whatever the list says (as OpenSSL's default security level
# refuses them): no encryption, broken ciphers, MD5 MACs, no authentication.
_WEAK_CIPHERS = frozenset({"NULL", "ARCFOUR-128", "ARCFOUR-40", "DES-CBC", "3DES-CBC", "RC2-40"})
_WEAK_MACS = frozenset({"MD5"})
_WEAK_KX = frozenset({"ANON-DH", "ANON-ECDH", "RSA-EXPORT"})
# Key exchanges that need credentials the TLS API has no way to give.
_CREDENTIAL_KX = frozenset({"PSK", "RSA-PSK", "DHE-PSK", "ECDHE-PSK", "SRP", "SRP-RSA", "SRP-DSS"})


def _refusal(info: SuiteInfo) -> str | None:
    """Why this backend never uses ``info`` (None: it may)."""
    if info.cipher_name in _WEAK_CIPHERS:
        return f"the cipher {info.cipher_name} is insecure"
    if info.mac_name in _WEAK_MACS:
        return f"the MAC {info.mac_name} is insecure"
    if not info.tls13 and info.kx_name in _WEAK_KX:
        return f"the key exchange {info.kx_name} is insecure (no authentication or export strength)"
    if not info.tls13 and info.kx_name in _CREDENTIAL_KX:
        return (
            f"the key exchange {info.kx_name} needs PSK/SRP credentials, which tlsapi cannot give"
        )
    return None


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _suite_name(number: int) -> str:
    from tlsapi import CipherSuite

    member = CipherSuite.from_number(number)
    return member.name if isinstance(member, CipherSuite) else f"0x{number:04X}"


class Priority:
    """A gnutls_priority_t for one configuration, and the suites it enables."""

    __slots__ = ("cdata", "enabled_suites", "priority_string", "versions")

    def __init__(self, config: TLSConfiguration, *, server: bool) -> None:
        table = suite_table()
        requested = [int(number) for number in config.ciphers]
        refused = {n: _refusal(table[n]) if n in table else "unknown to GnuTLS" for n in requested}
        known = [table[n] for n in requested if refused[n] is None]
        if not known:
            raise ConfigurationError(
                "none of the requested cipher suites can be used: "
                + "; ".join(f"{_suite_name(n)}: {refused[n]}" for n in requested)
            )
        in_range = _versions_in_range(config)
        versions = [(v, kw, p) for v, kw, p in in_range if any(_usable(s, p) for s in known)]
        if not versions:
            raise ConfigurationError(
                "no TLS version in the configured range "
                f"({config.lowest_supported_version.name}..{config.highest_supported_version.name}) "
                "can use any of the requested cipher suites"
            )
        usable = [s for s in known if any(_usable(s, p) for _, _, p in versions)]
        wanted = {s.number for s in usable}
        legacy = [s for s in usable if not s.tls13]

        parts = ["-VERS-ALL", *(f"+{kw}" for _, kw, _ in reversed(versions))]
        parts += ["-CIPHER-ALL", *(f"+{name}" for name in _unique(s.cipher_name for s in usable))]
        parts += ["-MAC-ALL", *(f"+{name}" for name in _unique(s.mac_name for s in usable))]
        if legacy:
            parts += ["-KX-ALL", *(f"+{name}" for name in _unique(s.kx_name for s in legacy))]
        # tlsapi's verification policy (tlsapi.backend_api), as far as GnuTLS's own
        # profiles go: "medium" refuses RSA < 2048 and curves < 224 bits anywhere
        # in the peer's path, anchor included, and signatures weaker than 112
        # bits; it also makes 2048 bits the smallest DH group a client accepts.
        # (The system default's profile is "low"; a system-wide
        # min-verification-profile above medium still wins, GnuTLS sees to that.)
        parts += group_keywords(
            config, tls12=any(v is not TLSVersion.TLSv1_3 for v, _, _ in versions)
        )
        parts.append("%PROFILE_MEDIUM")
        if server:
            parts.append("%SERVER_PRECEDENCE")
        self.priority_string = ":".join(parts)
        self.versions = tuple(v for v, _, _ in versions)

        pointer = ffi.new("gnutls_priority_t *")
        error_position = ffi.new("const char **")
        text = ffi.new("char[]", self.priority_string.encode("ascii"))
        code = lib.gnutls_priority_init2(
            pointer, text, error_position, lib.GNUTLS_PRIORITY_INIT_DEF_APPEND
        )
        if code == lib.GNUTLS_E_NO_PRIORITIES_WERE_SET:
            raise ConfigurationError(
                "the system's GnuTLS policy disables every requested cipher suite or version "
                f"(our priority string {self.priority_string!r}, appended to the system default)"
            )
        if code < 0:
            where = ""
            if error_position[0] != ffi.NULL:
                where = f" at {ffi.string(error_position[0]).decode('ascii', 'replace')!r}"
            raise ConfigurationError(
                f"GnuTLS refused the priority string {self.priority_string!r}{where}: "
                f"{describe(code)} (the system crypto policy may forbid what was asked)"
            )
        self.cdata: Any = ffi.gc(pointer[0], lib.gnutls_priority_deinit)
        self.enabled_suites = self._read_enabled()
        check_enabled_groups(config, self.cdata)

        allowed = self.enabled_suites & wanted
        if not allowed:
            raise ConfigurationError(
                "the system's GnuTLS policy disables every requested cipher suite: "
                + ", ".join(_suite_name(n) for n in sorted(wanted))
            )
        extra = self.enabled_suites - wanted
        if extra:
            raise ConfigurationError(
                "GnuTLS cannot select exactly these cipher suites: it enables every "
                "combination of the key exchanges, ciphers and MACs listed, so it would also "
                "enable "
                + ", ".join(_suite_name(n) for n in sorted(extra))
                + ". Add those to `ciphers`, or split the list."
            )

    def _read_enabled(self) -> frozenset[int]:
        return frozenset(_enabled_in_order(self.cdata))


def _enabled_in_order(cdata: Any) -> list[int]:
    """The suites a priority cache enables, in its order of preference."""
    index_ptr = ffi.new("unsigned int *")
    numbers: list[int] = []
    index = 0
    while True:
        code = lib.gnutls_priority_get_cipher_suite_index(cdata, index, index_ptr)
        index += 1
        if code == lib.GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE:
            break
        if code < 0:
            continue  # an entry that is not a usable suite (GNUTLS_E_UNKNOWN_CIPHER_SUITE)
        number = _number_at(int(index_ptr[0]))
        if number is not None and number not in numbers:
            numbers.append(number)
    return numbers


def supported_suites() -> tuple[int, ...]:
    """Every suite a configuration may name here, in GnuTLS's order of preference.

    The usable suites (weak and credential-needing ones left out), as the
    system policy lets them through: one priority cache that lists all of
    them, read back.
    """
    usable = [
        info
        for info in suite_table().values()
        if _refusal(info) is None and cipher_weakness(info.number) is None
    ]
    legacy = [info for info in usable if not info.tls13]
    parts = ["-VERS-ALL", "+VERS-TLS1.3", "+VERS-TLS1.2", "+VERS-TLS1.1", "+VERS-TLS1.0"]
    parts += ["-CIPHER-ALL", *(f"+{n}" for n in _unique(i.cipher_name for i in usable))]
    parts += ["-MAC-ALL", *(f"+{n}" for n in _unique(i.mac_name for i in usable))]
    parts += ["-KX-ALL", *(f"+{n}" for n in _unique(i.kx_name for i in legacy))]
    pointer = ffi.new("gnutls_priority_t *")
    text = ffi.new("char[]", ":".join(parts).encode("ascii"))
    code = lib.gnutls_priority_init2(pointer, text, ffi.NULL, lib.GNUTLS_PRIORITY_INIT_DEF_APPEND)
    if code < 0:
        return ()
    try:
        allowed = {info.number for info in usable}
        enabled = [n for n in _enabled_in_order(pointer[0]) if n in allowed]
    finally:
        lib.gnutls_priority_deinit(pointer[0])
    # In the order of the system's default priorities, then the rest.
    default: list[int] = []
    if lib.gnutls_priority_init(pointer, ffi.NULL, ffi.NULL) >= 0:
        try:
            default = _enabled_in_order(pointer[0])
        finally:
            lib.gnutls_priority_deinit(pointer[0])
    rank = {number: position for position, number in enumerate(default)}
    return tuple(sorted(enabled, key=lambda n: rank.get(n, len(rank))))


def _number_at(suite_index: int) -> int | None:
    cs_id = ffi.new("unsigned char[2]")
    null = ffi.NULL
    if lib.gnutls_cipher_suite_info(suite_index, cs_id, null, null, null, null) == null:
        return None
    return int(cs_id[0] << 8 | cs_id[1])
