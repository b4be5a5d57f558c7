"""Reading the server_name and ALPN list out of a ClientHello before NSS sees it.

A server's ``sni_callback`` may hand back a configuration with another
certificate, trust store or ALPN list.  NSS calls its SNI hook only after it
has chosen the ALPN protocol, and not at all when the client sent no name,
so the callback runs before NSS reads the ClientHello: this module finds the
name in the buffered records, and the connection's NSS socket is then made
from the chosen configuration.  The ALPN list is read for a second reason:
NSS answers a client whose protocols it shares none of with a fatal
no_application_protocol alert, where tlsapi (like OpenSSL) goes on without
ALPN, so such a connection is made from a model socket without ALPN.
A malformed hello is left to NSS to reject.
"""

from __future__ import annotations

__all__ = ["ClientHello", "MalformedHello", "read_client_hello"]

_HANDSHAKE = 22
_CLIENT_HELLO = 1
_SERVER_NAME = 0
_ALPN = 16
_HOST_NAME = 0
# A ClientHello larger than this is not one we will wait for.
_MAX_HELLO = 1 << 17


class ClientHello:
    """What the server needs to know before NSS reads the hello."""

    def __init__(self, server_name: str | None, alpn: tuple[bytes, ...] | None) -> None:
        self.server_name = server_name
        self.alpn = alpn  # None: the client sent no ALPN extension


class MalformedHello(ValueError):
    """The bytes are not the start of a TLS ClientHello."""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, count: int) -> bytes:
        end = self.offset + count
        if end > len(self.data):
            raise MalformedHello("truncated")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, size: int) -> bytes:
        return self.take(self.number(size))


def _handshake_bytes(data: bytes) -> bytes | None:
    """The handshake message bytes of the leading records, None until one message is whole."""
    collected = bytearray()
    offset = 0
    while offset + 5 <= len(data):
        kind, length = data[offset], int.from_bytes(data[offset + 3 : offset + 5], "big")
        if kind != _HANDSHAKE or data[offset + 1] != 3 or length == 0 or length > 16384 + 2048:
            raise MalformedHello("not a TLS handshake record")
        end = offset + 5 + length
        if end > len(data):
            break
        collected += data[offset + 5 : end]
        offset = end
        if len(collected) >= 4:
            if collected[0] != _CLIENT_HELLO:
                raise MalformedHello("the first handshake message is not a ClientHello")
            total = 4 + int.from_bytes(collected[1:4], "big")
            if total > _MAX_HELLO:
                raise MalformedHello("the ClientHello is too large")
            if len(collected) >= total:
                return bytes(collected[4:total])
    if len(data) > _MAX_HELLO + 5 * 16:
        raise MalformedHello("no complete ClientHello in the first records")
    return None


def _server_name(payload: bytes) -> str | None:
    names = _Reader(_Reader(payload).vector(2))
    while names.offset < len(names.data):
        name_type = names.number(1)
        name = names.vector(2)
        if name_type == _HOST_NAME:
            try:
                return name.decode("ascii").lower()
            except UnicodeDecodeError:
                raise MalformedHello("the server_name is not ASCII") from None
    return None


def _alpn(payload: bytes) -> tuple[bytes, ...]:
    protocols = _Reader(_Reader(payload).vector(2))
    result = []
    while protocols.offset < len(protocols.data):
        result.append(protocols.vector(1))
    return tuple(result)


def read_client_hello(data: bytes) -> ClientHello | None:
    """The hello at the start of a connection's incoming bytes, None while incomplete.

    MalformedHello when the bytes are not a ClientHello.
    """
    body = _handshake_bytes(data)
    if body is None:
        return None
    reader = _Reader(body)
    reader.take(2 + 32)  # legacy_version, random
    reader.vector(1)  # legacy_session_id
    reader.vector(2)  # cipher_suites
    reader.vector(1)  # legacy_compression_methods
    name: str | None = None
    alpn: tuple[bytes, ...] | None = None
    if reader.offset == len(body):
        return ClientHello(None, None)  # no extensions at all
    extensions = _Reader(reader.vector(2))
    while extensions.offset < len(extensions.data):
        kind = extensions.number(2)
        payload = extensions.vector(2)
        if kind == _SERVER_NAME:
            name = _server_name(payload)
        elif kind == _ALPN:
            alpn = _alpn(payload)
    return ClientHello(name, alpn)
