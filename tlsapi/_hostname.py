"""Checking and normalising the server name a client connects to."""

from __future__ import annotations

import functools
import ipaddress
from typing import NamedTuple, Union

from ._errors import ConfigurationError

__all__ = ["ServerName", "parse_server_hostname"]


class ServerName(NamedTuple):
    """A validated server name.

    ``name`` is the ASCII form (IDNA A-labels, or the IP address in its
    canonical text form); ``sni`` is what goes into the server_name
    extension: the DNS name, or None for an IP address (RFC 6066 forbids
    IP literals there).
    """

    name: str
    ip: Union[ipaddress.IPv4Address, ipaddress.IPv6Address, None]

    @property
    def sni(self) -> str | None:
        return None if self.ip is not None else self.name


def parse_server_hostname(value: object) -> ServerName:
    """Check ``value`` and give its normalised form (ConfigurationError when invalid)."""
    if isinstance(value, (str, bytes)):
        return _parse_cached(value)
    return _parse(value)


@functools.lru_cache(maxsize=512)
def _parse_cached(value: str | bytes) -> ServerName:
    # A client connects to the same few names again and again.
    return _parse(value)


def _parse(value: object) -> ServerName:
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("ascii")
        except UnicodeDecodeError:
            raise ConfigurationError("server_hostname bytes must be ASCII") from None
    if not isinstance(value, str):
        raise ConfigurationError(f"server_hostname must be a str, not {type(value).__name__}")
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        address = None
    if address is not None:
        return ServerName(str(address), address)
    text = text.rstrip(".")
    if not text or len(text) > 253:
        raise ConfigurationError(f"server_hostname {value!r} is not a valid host name")
    try:
        ascii_name = text.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ConfigurationError(
            f"server_hostname {value!r} is not a valid host name: {exc}"
        ) from None
    for label in ascii_name.split("."):
        if not label or len(label) > 63 or label.startswith("-") or label.endswith("-"):
            raise ConfigurationError(f"server_hostname {value!r} is not a valid host name")
        if not all(ch.isalnum() or ch in "-_*" for ch in label):
            raise ConfigurationError(
                f"server_hostname {value!r} contains characters not allowed in a host name"
            )
    return ServerName(ascii_name, None)
