"""Key-exchange groups through the ssl module: one group, exactly, or a refusal.

The ``ssl`` module (Python 3.11) offers one call about groups,
``SSLContext.set_ecdh_curve(name)``.  With OpenSSL 3 it is
``SSL_CTX_set1_groups`` with that one group: the whole list, for clients
and servers, TLS 1.2 and 1.3 (checked: the ClientHello's supported_groups
then holds that group alone).  With OpenSSL 1.1.1 it is the same for the
elliptic curves, and finite-field groups are unknown to it.  So one group
can be pinned exactly; a list of several cannot be expressed and is refused.
There is no call that reads the negotiated group back.
"""

from __future__ import annotations

import functools
import ssl

from .._ciphers import CipherSuite
from .._config import TLSConfiguration
from .._errors import ConfigurationError
from .._groups import NamedGroup
from ._ciphers import plain_ssl_context

__all__ = ["apply_groups", "supported_groups"]

# OpenSSL's short names (OBJ_sn2nid), which set_ecdh_curve takes.
_OPENSSL_NAMES = {
    NamedGroup.secp256r1: "prime256v1",
    NamedGroup.secp384r1: "secp384r1",
    NamedGroup.secp521r1: "secp521r1",
    NamedGroup.X25519: "X25519",
    NamedGroup.X448: "X448",
    NamedGroup.ffdhe2048: "ffdhe2048",
    NamedGroup.ffdhe3072: "ffdhe3072",
    NamedGroup.ffdhe4096: "ffdhe4096",
    NamedGroup.ffdhe6144: "ffdhe6144",
    NamedGroup.ffdhe8192: "ffdhe8192",
}


@functools.lru_cache(maxsize=1)
def supported_groups() -> tuple[int, ...]:
    """The groups the linked OpenSSL takes through set_ecdh_curve (one at a time)."""
    found = []
    for group, name in _OPENSSL_NAMES.items():
        context = plain_ssl_context(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.set_ecdh_curve(name)
        except (ValueError, ssl.SSLError):
            continue
        found.append(int(group))
    return tuple(found)


def _uses_finite_field_dhe(config: TLSConfiguration) -> bool:
    return any(
        CipherSuite.from_number(int(suite)).name.startswith(("TLS_DHE_", "TLS_DH_"))
        for suite in config.ciphers
    )


def apply_groups(context: ssl.SSLContext, config: TLSConfiguration, tls12: bool) -> None:
    """Pin ``config.key_exchange_groups`` on ``context``, or raise ConfigurationError."""
    groups = config.key_exchange_groups
    if groups is None:
        return
    if len(groups) > 1:
        raise ConfigurationError(
            "the stdlib backend can set one key-exchange group only: the ssl module "
            "has set_ecdh_curve() (one group) and no call for a list; got "
            + ", ".join(NamedGroup.from_number(int(g)).name for g in groups)
            + ". Give a single group, or use the gnutls or nss backend for a list"
        )
    group = NamedGroup.from_number(int(groups[0]))
    name = _OPENSSL_NAMES.get(group)
    if name is None or int(group) not in supported_groups():
        raise ConfigurationError(
            f"the stdlib backend cannot use the key-exchange group {group.name}: "
            f"{ssl.OPENSSL_VERSION} through the ssl module takes only "
            + ", ".join(NamedGroup.from_number(n).name for n in supported_groups())
        )
    if tls12 and _uses_finite_field_dhe(config):
        # OpenSSL 3.0's TLS 1.2 DHE ignores the group list: a server uses its
        # DH parameters, a client takes whatever group the server sends.
        raise ConfigurationError(
            "the stdlib backend cannot hold TLS 1.2 DHE suites to key_exchange_groups "
            "(OpenSSL uses fixed DH parameters there): drop the TLS_DHE_* suites from "
            "`ciphers`, or set lowest_supported_version to TLSv1_3"
        )
    try:
        context.set_ecdh_curve(name)
    except (ValueError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"OpenSSL refused the key-exchange group {group.name} ({name}): {exc}"
        ) from exc
