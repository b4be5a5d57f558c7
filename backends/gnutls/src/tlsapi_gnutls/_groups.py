"""Key-exchange groups: TLSConfiguration.key_exchange_groups as GnuTLS priority keywords.

The list becomes ``-GROUP-ALL:+GROUP-...`` in the priority string (in
order: GnuTLS keeps the order as its preference).  After the priority cache
is built, the groups it really enables are read back
(gnutls_priority_group_list): a group the system policy removed, or any
difference in order, is a ConfigurationError rather than a silent change.
The negotiated group comes from gnutls_group_get.
"""

from __future__ import annotations

from typing import Any

from tlsapi import CipherSuite, ConfigurationError, NamedGroup, TLSConfiguration

from ._binding import ffi, lib

__all__ = [
    "check_enabled_groups",
    "group_keywords",
    "negotiated_group",
    "supported_groups",
]

# IANA number -> (priority keyword, gnutls_group_t)
_GROUPS: dict[int, tuple[str, int]] = {
    NamedGroup.secp256r1: ("GROUP-SECP256R1", lib.GNUTLS_GROUP_SECP256R1),
    NamedGroup.secp384r1: ("GROUP-SECP384R1", lib.GNUTLS_GROUP_SECP384R1),
    NamedGroup.secp521r1: ("GROUP-SECP521R1", lib.GNUTLS_GROUP_SECP521R1),
    NamedGroup.X25519: ("GROUP-X25519", lib.GNUTLS_GROUP_X25519),
    NamedGroup.X448: ("GROUP-X448", lib.GNUTLS_GROUP_X448),
    NamedGroup.ffdhe2048: ("GROUP-FFDHE2048", lib.GNUTLS_GROUP_FFDHE2048),
    NamedGroup.ffdhe3072: ("GROUP-FFDHE3072", lib.GNUTLS_GROUP_FFDHE3072),
    NamedGroup.ffdhe4096: ("GROUP-FFDHE4096", lib.GNUTLS_GROUP_FFDHE4096),
    NamedGroup.ffdhe6144: ("GROUP-FFDHE6144", lib.GNUTLS_GROUP_FFDHE6144),
    NamedGroup.ffdhe8192: ("GROUP-FFDHE8192", lib.GNUTLS_GROUP_FFDHE8192),
}
_IANA_BY_GNUTLS = {gnutls: number for number, (_, gnutls) in _GROUPS.items()}


def supported_groups() -> tuple[int, ...]:
    """The groups a configuration may name here (those the system policy enables)."""
    pointer = ffi.new("gnutls_priority_t *")
    text = b"-GROUP-ALL:" + b":".join(b"+" + kw.encode() for kw, _ in _GROUPS.values())
    code = lib.gnutls_priority_init2(
        pointer, ffi.new("char[]", text), ffi.NULL, lib.GNUTLS_PRIORITY_INIT_DEF_APPEND
    )
    if code < 0:
        return ()
    try:
        enabled = _enabled(pointer[0])
    finally:
        lib.gnutls_priority_deinit(pointer[0])
    return tuple(sorted(enabled))


def _names(groups: Any) -> str:
    return ", ".join(NamedGroup.from_number(int(g)).name for g in groups)


def group_keywords(config: TLSConfiguration, tls12: bool) -> list[str]:
    """The priority string's part for ``config.key_exchange_groups`` (empty: the defaults)."""
    groups = config.key_exchange_groups
    if groups is None:
        return []
    unknown = [g for g in groups if int(g) not in _GROUPS]
    if unknown:
        raise ConfigurationError(
            f"GnuTLS cannot use the key-exchange group(s) {_names(unknown)}; "
            f"it knows {_names(_GROUPS)}"
        )
    if tls12 and any(
        CipherSuite.from_number(int(s)).name.startswith(("TLS_DHE_", "TLS_DH_"))
        for s in config.ciphers
    ):
        # A TLS 1.2 server that ignores RFC 7919 sends any DH group it likes,
        # and GnuTLS takes it: the list could not hold.
        raise ConfigurationError(
            "the gnutls backend cannot hold TLS 1.2 DHE suites to key_exchange_groups "
            "(a server may send any DH group): drop the TLS_DHE_* suites from `ciphers`, "
            "or set lowest_supported_version to TLSv1_3"
        )
    return ["-GROUP-ALL", *(f"+{_GROUPS[int(g)][0]}" for g in groups)]


def _enabled(cdata: Any) -> list[int]:
    listing = ffi.new("const unsigned int **")
    count = lib.gnutls_priority_group_list(cdata, listing)
    result = []
    for index in range(max(count, 0)):
        gnutls = int(listing[0][index])
        result.append(_IANA_BY_GNUTLS.get(gnutls, -gnutls))
    return result


def check_enabled_groups(config: TLSConfiguration, cdata: Any) -> None:
    """The priority cache must enable exactly ``config.key_exchange_groups``, in that order."""
    groups = config.key_exchange_groups
    if groups is None:
        return
    wanted = [int(g) for g in groups]
    enabled = _enabled(cdata)
    if enabled == wanted:
        return
    missing = [g for g in wanted if g not in enabled]
    if missing:
        raise ConfigurationError(
            f"the system's GnuTLS policy disables the key-exchange group(s) {_names(missing)}"
        )
    raise ConfigurationError(
        f"GnuTLS would enable the key-exchange groups {_names(g for g in enabled if g > 0)} "
        f"(and {sum(g <= 0 for g in enabled)} unnamed) instead of exactly "
        f"{_names(wanted)} in that order"
    )


def negotiated_group(session: Any) -> int | None:
    """The IANA number of the group the session's handshake used, or None."""
    return _IANA_BY_GNUTLS.get(int(lib.gnutls_group_get(session)))
