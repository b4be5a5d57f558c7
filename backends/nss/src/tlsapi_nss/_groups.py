"""Key-exchange groups: TLSConfiguration.key_exchange_groups as SSL_NamedGroupConfig.

NSS numbers its groups (SSLNamedGroup) as IANA does, and SSL_NamedGroupConfig
on the model socket enables exactly the listed groups in that order (each
connection's SSL_ImportFD copies them).  With TLS 1.2 DHE suites,
SSL_REQUIRE_DH_NAMED_GROUPS holds finite-field DHE to the list too: a client
refuses a server's DH group that is not in it, a server negotiates DHE only
with a client that names one.  The negotiated group is SSLChannelInfo's
keaGroup.
"""

from __future__ import annotations

from typing import Any

from tlsapi import ConfigurationError, NamedGroup, TLSConfiguration

from ._errors import error_text
from ._lib import ffi, lib

__all__ = ["SUPPORTED_GROUPS", "apply_groups", "negotiated_group"]

# What NSS 3.87 implements for TLS key exchange (sslt.h lists older curves it
# no longer negotiates; it has no X448, and no hybrid group before 3.90).
SUPPORTED_GROUPS: tuple[int, ...] = (
    lib.ssl_grp_ec_secp256r1,
    lib.ssl_grp_ec_secp384r1,
    lib.ssl_grp_ec_secp521r1,
    lib.ssl_grp_ec_curve25519,
    lib.ssl_grp_ffdhe_2048,
    lib.ssl_grp_ffdhe_3072,
    lib.ssl_grp_ffdhe_4096,
    lib.ssl_grp_ffdhe_6144,
    lib.ssl_grp_ffdhe_8192,
)


def _names(groups: Any) -> str:
    return ", ".join(NamedGroup.from_number(int(g)).name for g in groups)


def apply_groups(model: Any, config: TLSConfiguration, dhe: bool) -> None:
    """Set ``config.key_exchange_groups`` on ``model`` (``dhe``: DHE suites are enabled)."""
    groups = config.key_exchange_groups
    if groups is None:
        return
    unknown = [g for g in groups if int(g) not in SUPPORTED_GROUPS]
    if unknown:
        raise ConfigurationError(
            f"NSS cannot use the key-exchange group(s) {_names(unknown)}; "
            f"it knows {_names(SUPPORTED_GROUPS)}"
        )
    wanted = ffi.new("SSLNamedGroup[]", [int(g) for g in groups])
    if lib.SSL_NamedGroupConfig(model, wanted, len(groups)) != lib.SECSuccess:
        raise ConfigurationError(
            f"NSS refused the key-exchange groups {_names(groups)}: {error_text(lib.PR_GetError())}"
        )
    if dhe and lib.SSL_OptionSet(model, lib.SSL_REQUIRE_DH_NAMED_GROUPS, 1) != lib.SECSuccess:
        raise ConfigurationError(
            f"NSS cannot hold TLS 1.2 DHE to key_exchange_groups: {error_text(lib.PR_GetError())}"
        )


def negotiated_group(fd: Any) -> int | None:
    """The IANA number of the group ``fd``'s handshake used, or None."""
    if fd is None:
        return None
    info = ffi.new("SSLChannelInfo *")
    if lib.SSL_GetChannelInfo(fd, info, ffi.sizeof("SSLChannelInfo")) != lib.SECSuccess:
        return None
    group = int(info.keaGroup)
    # ssl_grp_none (no (EC)DHE: RSA key transport, a PSK-only resumption) and
    # ssl_grp_ffdhe_custom (a TLS 1.2 server's own DH group) have no IANA number.
    if group > 0xFFFF or info.keaType in (lib.ssl_kea_null, lib.ssl_kea_rsa):
        return None
    return group
