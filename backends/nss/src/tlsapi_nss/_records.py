"""The plaintext start of a TLS byte stream: its handshake messages, until encryption begins.

NSS does not report the client random (which every key log line needs) nor
the session tickets a TLS 1.2 server issued (which ``_tickets`` remembers),
but both travel in plaintext handshake records: the ClientHello, and a TLS
1.2 NewSessionTicket (sent before the server's ChangeCipherSpec).  So the
backend reads them off the bytes it carries anyway, from the first record
until the first record that is not a handshake record (ChangeCipherSpec,
alert or application data), and then stops looking.  A server reads the
ClientHello's random and extensions from the core's HelloReader instead (it
parses that hello before NSS sees it anyway); only a hello that reader
refuses and NSS may still accept has its records read here.
"""

from __future__ import annotations

import struct

__all__ = [
    "CLIENT_HELLO",
    "NEW_SESSION_TICKET",
    "SERVER_HELLO",
    "PlainHandshakes",
    "client_random",
    "hello_extensions",
    "offers_tls13",
    "session_id_only",
]

CLIENT_HELLO = 1
SERVER_HELLO = 2
NEW_SESSION_TICKET = 4
_HANDSHAKE_RECORD = 22
# More plaintext handshake than this (long certificate chains included) is not a
# stream we read further: memory stays bounded whatever the peer sends.
_LIMIT = 1 << 18
# A record's type and length (after the 2 version bytes), then the 4-byte header of
# the first message in it (type, 3-byte length).
_record_and_message = struct.Struct(">BxxHI").unpack_from


class PlainHandshakes:
    """Handshake messages ``(type, body)`` from one direction's records, as they arrive."""

    __slots__ = ("_messages", "_records", "done")

    def __init__(self) -> None:
        self._records = bytearray()
        self._messages = bytearray()
        self.done = False

    def feed(self, data: bytes | memoryview) -> list[tuple[int, bytes]]:
        """The handshake messages completed by ``data`` (none once ``done``)."""
        if self.done:
            return []
        records = self._records
        records += data
        found: list[tuple[int, bytes]] = []
        while len(records) >= 5:
            if records[0] != _HANDSHAKE_RECORD:
                self.stop()  # encryption (or an alert) begins: nothing plain follows
                return found
            length = int.from_bytes(records[3:5], "big")
            if len(records) < 5 + length:
                break
            self._messages += records[5 : 5 + length]
            del records[: 5 + length]
            found.extend(self._take_messages())
        if len(records) + len(self._messages) > _LIMIT:
            self.stop()
        return found

    def first(self, data: bytes) -> list[tuple[int, bytes]]:
        """The first handshake message, when nothing is gathered and the first record
        of ``data`` holds a message whole (the common case; then the reader is ``done``):
        what ``feed`` would find first, without gathering.  Else [] and nothing read."""
        if self._records or self._messages or len(data) < 9:
            return []
        kind, length, header = _record_and_message(data)
        end = 9 + (header & 0xFFFFFF)
        if kind != _HANDSHAKE_RECORD or end > 5 + length or 5 + length > len(data):
            return []
        self.done = True
        return [(header >> 24, data[9:end])]

    def _take_messages(self) -> list[tuple[int, bytes]]:
        messages = self._messages
        found = []
        while len(messages) >= 4:
            length = int.from_bytes(messages[1:4], "big")
            if len(messages) < 4 + length:
                break
            found.append((messages[0], bytes(messages[4 : 4 + length])))
            del messages[: 4 + length]
        return found

    def stop(self) -> None:
        self.done = True
        self._records = bytearray()
        self._messages = bytearray()


def client_random(body: bytes) -> bytes | None:
    """The random of a ClientHello's body (None if it is too short to hold one)."""
    return body[2:34] if len(body) >= 34 else None


def hello_extensions(body: bytes) -> dict[int, bytes] | None:
    """A ClientHello body's extensions by type (the first of each), or None if malformed."""
    try:
        offset = 34
        offset += 1 + body[offset]  # legacy_session_id
        offset += 2 + int.from_bytes(body[offset : offset + 2], "big")  # cipher_suites
        offset += 1 + body[offset]  # legacy_compression_methods
        if offset == len(body):
            return {}
        end = offset + 2 + int.from_bytes(body[offset : offset + 2], "big")
        if end != len(body):
            return None
        offset += 2
        extensions: dict[int, bytes] = {}
        while offset < end:
            kind = int.from_bytes(body[offset : offset + 2], "big")
            length = int.from_bytes(body[offset + 2 : offset + 4], "big")
            if offset + 4 + length > end:
                return None
            extensions.setdefault(kind, body[offset + 4 : offset + 4 + length])
            offset += 4 + length
        return extensions
    except IndexError:
        return None


def offers_tls13(extensions: dict[int, bytes]) -> bool:
    """Whether a ClientHello's supported_versions extension lists TLS 1.3."""
    versions = extensions.get(43)
    if not versions:
        return False
    listed = versions[1 : 1 + versions[0]]
    return 0x0304 in struct.unpack_from(f">{len(listed) // 2}H", listed)


def session_id_only(body: bytes) -> bool:
    """Whether a ServerHello body gives a TLS 1.2 session ID and no ticket to come.

    Such a session can be resumed only from NSS's client cache (NSS exports
    resumption tokens for tickets only).  A TLS 1.3 ServerHello (it has
    supported_versions) or one that promises a ticket (session_ticket) is not.
    """
    try:
        id_length = body[34]
        if id_length == 0:
            return False
        offset = 35 + id_length + 3  # session id, cipher suite, compression method
        extensions: dict[int, bytes] = {}
        if offset < len(body):
            end = offset + 2 + int.from_bytes(body[offset : offset + 2], "big")
            offset += 2
            while offset + 4 <= end:
                kind = int.from_bytes(body[offset : offset + 2], "big")
                length = int.from_bytes(body[offset + 2 : offset + 4], "big")
                extensions[kind] = body[offset + 4 : offset + 4 + length]
                offset += 4 + length
        return 43 not in extensions and 35 not in extensions
    except IndexError:
        return False
