"""Refusing a server_name that CPython's ``_ssl`` cannot decode, before OpenSSL reads it.

OpenSSL hands the server's servername callback the client's host_name bytes
as they came (it refuses only a NUL or more than 255 bytes).  CPython's
``_ssl`` turns them into ``str`` with the ASCII codec before it calls the
Python ``sni_callback``; when that fails it prints "Exception ignored" and a
traceback on stderr (``PyErr_WriteUnraisable``) and aborts with
internal_error, once per handshake: any client can flood the server's log.
The callback is always installed on a stdlib server (it records the name),
and nothing in ``ssl`` can be told to skip or decode differently, so the
stdlib server reads the server_name itself first and refuses a non-ASCII
one, as GnuTLS does: a fatal illegal_parameter alert and a TLSError.

``ServerNameScreen.feed`` looks at each received byte once: it keeps only a
record header in progress and the ClientHello being gathered (bounded), skips
other handshake messages by their length, and parses each ClientHello once,
when whole.  It judges only a well-formed server_name extension; anything
else is left to OpenSSL, which refuses what does not parse.  The server's
SSLObject feeds it until OpenSSL has answered the last ClientHello sent in
the clear (the first, or the second after a HelloRetryRequest: OpenSSL calls
the servername callback for both), then drops it.
"""

from __future__ import annotations

__all__ = ["ServerNameScreen", "illegal_parameter_alert", "is_hello_retry_request"]

_CHANGE_CIPHER_SPEC = 20
_ALERT = 21
_HANDSHAKE = 22
_CLIENT_HELLO = 1
_SERVER_NAME = 0
_HOST_NAME = 0
# OpenSSL's own limit for a ClientHello body (CLIENT_HELLO_MAX_LENGTH): it
# refuses a longer one itself, so there is no point gathering it.
_MAX_HELLO = 131396
# RFC 8446 section 4.1.3: a ServerHello with this random is a HelloRetryRequest.
_HELLO_RETRY_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)


def illegal_parameter_alert() -> bytes:
    """A plaintext fatal illegal_parameter alert record, as sent before ServerHello."""
    return bytes((_ALERT, 3, 3, 0, 2, 2, 47))


def is_hello_retry_request(answer: bytes) -> bool:
    """Whether a server's first flight starts with a HelloRetryRequest (plaintext)."""
    return (
        answer[:1] == bytes((_HANDSHAKE,))
        and answer[5:6] == b"\x02"
        and answer[11:43] == _HELLO_RETRY_RANDOM
    )


def _not_ascii_host_name(hello: bytes) -> bytes | None:
    """The host_name in a ClientHello body when it is well-formed but not ASCII."""
    try:
        offset = 2 + 32  # legacy_version, random
        offset += 1 + hello[offset]  # legacy_session_id
        offset += 2 + int.from_bytes(hello[offset : offset + 2], "big")  # cipher_suites
        offset += 1 + hello[offset]  # legacy_compression_methods
    except IndexError:
        return None
    end = offset + 2 + int.from_bytes(hello[offset : offset + 2], "big")
    offset += 2
    if len(hello) < offset or end > len(hello):
        return None
    while offset + 4 <= end:
        kind = int.from_bytes(hello[offset : offset + 2], "big")
        size = int.from_bytes(hello[offset + 2 : offset + 4], "big")
        body = hello[offset + 4 : offset + 4 + size]
        offset += 4 + size
        if kind != _SERVER_NAME or len(body) != size:
            continue
        # ServerNameList: one HostName is all OpenSSL takes; look at every
        # entry anyway, so that no reading of the list reaches _ssl unjudged.
        position = 2
        while position + 3 <= len(body):
            name_type = body[position]
            length = int.from_bytes(body[position + 1 : position + 3], "big")
            name = body[position + 3 : position + 3 + length]
            position += 3 + length
            if name_type == _HOST_NAME and not name.isascii():
                return name
    return None


class ServerNameScreen:
    """Follows a server's incoming records while they may hold a plaintext ClientHello."""

    __slots__ = (
        "_handshake",
        "_header",
        "_message",
        "_record_left",
        "_skip",
        "done",
        "hellos",
        "hostile_name",
    )

    def __init__(self) -> None:
        self._header = bytearray()  # the record header in progress (< 5 bytes)
        self._record_left = 0  # body bytes of the current record still to come
        self._handshake = False  # the current record holds handshake messages
        self._message = bytearray()  # the ClientHello being gathered, from its 4-byte header
        self._skip = 0  # bytes of a handshake message that is not a ClientHello, to pass over
        self.done = False  # nothing more to judge: stop feeding
        self.hostile_name: bytes | None = None  # set (with done) to refuse the handshake
        self.hellos = 0  # ClientHellos judged (and found harmless)

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view and not self.done:
            if self._record_left == 0:
                take = 5 - len(self._header)
                self._header += view[:take]
                view = view[take:]
                if len(self._header) < 5:
                    return
                kind = self._header[0]
                self._record_left = int.from_bytes(self._header[3:5], "big")
                self._header.clear()
                if kind not in (_HANDSHAKE, _CHANGE_CIPHER_SPEC, _ALERT):
                    # Encrypted (TLS 1.3) or not TLS: no plaintext ClientHello follows.
                    self.done = True
                self._handshake = kind == _HANDSHAKE
                continue
            body = view[: self._record_left]
            view = view[len(body) :]
            self._record_left -= len(body)
            if self._handshake:
                self._handshake_bytes(body)

    def _handshake_bytes(self, body: memoryview) -> None:
        while body and not self.done:
            if self._skip:
                passed = min(self._skip, len(body))
                self._skip -= passed
                body = body[passed:]
                continue
            message = self._message
            if len(message) < 4:
                take = 4 - len(message)
                message += body[:take]
                body = body[take:]
                if len(message) < 4:
                    return
                length = int.from_bytes(message[1:4], "big")
                if message[0] != _CLIENT_HELLO:
                    self._skip = length
                    message.clear()
                    continue
                if length > _MAX_HELLO:
                    self.done = True  # OpenSSL refuses it as too long
                    return
            need = 4 + int.from_bytes(message[1:4], "big") - len(message)
            message += body[:need]
            body = body[need:]
            if len(message) == 4 + int.from_bytes(message[1:4], "big"):
                name = _not_ascii_host_name(bytes(message[4:]))
                message.clear()
                self.hellos += 1
                if name is not None:
                    self.hostile_name = name
                    self.done = True
