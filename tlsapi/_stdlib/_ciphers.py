"""IANA cipher suite numbers to and from OpenSSL's names, read off the linked OpenSSL."""

from __future__ import annotations

import functools
import ssl

from .._ciphers import TLS13_SUITES, weakness
from .._errors import ConfigurationError

__all__ = [
    "TLS13_DEFAULTS",
    "openssl_cipher_string",
    "plain_ssl_context",
    "suite_number",
    "supported_suites",
]

# What OpenSSL offers for TLS 1.3 when nobody calls SSL_CTX_set_ciphersuites,
# which the ssl module cannot call.
TLS13_DEFAULTS = frozenset({0x1301, 0x1302, 0x1303})


def plain_ssl_context(protocol: int) -> ssl.SSLContext:
    """The ssl module's own context, also while tlsapi.inject_into_ssl() has replaced the class."""
    cls = ssl.SSLContext
    original: type[ssl.SSLContext] = getattr(cls, "_ssl_original", cls)
    return original(protocol)


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str], dict[str, int]]:
    context = plain_ssl_context(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    by_number: dict[int, str] = {}
    for entry in context.get_ciphers():
        # OpenSSL's 32-bit id is 0x0300XXXX with the IANA number in the low bits.
        by_number[entry["id"] & 0xFFFF] = entry["name"]
    return by_number, {name: number for number, name in by_number.items()}


def suite_number(openssl_name: str) -> int | None:
    return _tables()[1].get(openssl_name)


def supported_suites() -> tuple[int, ...]:
    """The suites OpenSSL offers at its configured security level, weak ones left out."""
    context = plain_ssl_context(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL")
    numbers = (entry["id"] & 0xFFFF for entry in context.get_ciphers())
    return tuple(n for n in numbers if weakness(n) is None)


def openssl_cipher_string(suites: tuple[int, ...]) -> tuple[str | None, bool]:
    """The OpenSSL cipher string for the TLS <= 1.2 suites in ``suites``, and whether TLS 1.3 is allowed.

    The cipher string is None when no TLS <= 1.2 suite is requested.
    TLS 1.3 is allowed when ``suites`` holds every suite OpenSSL offers by
    default; a strict subset cannot be honoured through the ssl module.
    """
    by_number = _tables()[0]
    tls13 = TLS13_SUITES.intersection(suites)
    if tls13 and not tls13 >= TLS13_DEFAULTS:
        missing = ", ".join(f"0x{n:04X}" for n in sorted(TLS13_DEFAULTS - tls13))
        raise ConfigurationError(
            "the stdlib backend cannot restrict TLS 1.3 cipher suites (the ssl module has no API "
            f"for it): list all of OpenSSL's defaults (missing: {missing}) or cap "
            "highest_supported_version at TLSv1_2"
        )
    names = [by_number[n] for n in suites if n not in TLS13_SUITES and n in by_number]
    if not names and not tls13:
        raise ConfigurationError(
            "none of the requested cipher suites is implemented by "
            f"{ssl.OPENSSL_VERSION} (requested: {', '.join(f'0x{n:04X}' for n in suites)})"
        )
    return (":".join(names) if names else None), bool(tls13)
