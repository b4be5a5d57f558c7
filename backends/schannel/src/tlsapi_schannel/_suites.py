"""The negotiated cipher suite's IANA number, and the key-exchange group.

Windows says the suite through ``SECPKG_ATTR_CIPHER_INFO`` (``dwCipherSuite``).
Where that attribute is missing (Wine 8.0 answers SEC_E_UNSUPPORTED_FUNCTION,
and its SECPKG_ATTR_CONNECTION_INFO gives ALG_IDs that cannot tell the
suites apart) the number is read from the ServerHello itself, which crosses
the buffer in the clear.  SChannel names no group at all, so that comes from
the server's flight too: the key_share of a TLS 1.3 ServerHello, or the
named curve of a TLS 1.2 ServerKeyExchange.

Whether the handshake resumed a session shows there as well: a TLS 1.3
ServerHello carries pre_shared_key, and a resumed TLS 1.2 server flight
goes from ServerHello straight to ChangeCipherSpec (or a NewSessionTicket),
where a full one sends its Certificate.  That answers ``session_reused``
where SChannel has no SECPKG_ATTR_SESSION_INFO (Wine).

``ServerHelloScanner`` reads the server's handshake messages as their
records pass, message by message, keeping only the few bytes it needs (a
certificate message is skipped, not stored): linear in the bytes and
bounded in memory.  It stops at the first thing it cannot or need not read.
"""

from __future__ import annotations

from ._binding import ffi, lib

__all__ = ["ServerHelloScanner", "cipher_info_suite"]

_HANDSHAKE = 22
_SERVER_HELLO = 2
_NEW_SESSION_TICKET = 4
_SERVER_KEY_EXCHANGE = 12
_SERVER_HELLO_DONE = 14
_SUPPORTED_VERSIONS = 0x002B
_KEY_SHARE = 0x0033
_PRE_SHARED_KEY = 0x0029
_NAMED_CURVE = 3
_TLS13 = 0x0304
# A ServerHello longer than this is not one we read (real ones are ~100-200 bytes).
_MAX_HELLO = 4096
# What a ServerKeyExchange's named curve needs: curve_type(1) named_curve(2).
_KEY_EXCHANGE_HEAD = 3


class ServerHelloScanner:
    """The suite and group of a server's flight, read from its handshake records as they pass."""

    __slots__ = (
        "_after_hello",
        "_body",
        "_header",
        "_keep",
        "_pending",
        "_skip",
        "_want",
        "done",
        "group",
        "resumed",
        "suite",
    )

    def __init__(self) -> None:
        self._pending = bytearray()  # an incomplete record header
        self._skip = 0  # record payload bytes still to come (of a record being read)
        self._header = bytearray()  # the current handshake message's header (4 bytes)
        self._body = bytearray()  # the part of its body we keep
        self._want = 0  # body bytes still to come for the current message
        self._keep = 0  # how much of the current message's body is kept
        self.suite: int | None = None
        self.group: int | None = None
        # Whether the server resumed a session; None until its flight says.
        self.resumed: bool | None = None
        self._after_hello = False  # a TLS 1.2 ServerHello was read: what comes next tells
        self.done = False

    def feed(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view and not self.done:
            if self._skip:  # inside a record's payload: handshake bytes
                take = min(self._skip, len(view))
                self._handshake_bytes(view[:take])
                self._skip -= take
                view = view[take:]
                continue
            need = 5 - len(self._pending)
            self._pending += view[:need]
            view = view[need:]
            if len(self._pending) < 5:
                return
            record_type, length = self._pending[0], self._pending[3] << 8 | self._pending[4]
            self._pending.clear()
            if record_type != _HANDSHAKE:
                if self._after_hello:
                    self.resumed = True  # ChangeCipherSpec right after the ServerHello
                self._finish()  # encrypted (TLS 1.3) or anything else: nothing more to learn
                return
            self._skip = length

    def _handshake_bytes(self, data: memoryview) -> None:
        while data and not self.done:
            if len(self._header) < 4:
                need = 4 - len(self._header)
                self._header += data[:need]
                data = data[need:]
                if len(self._header) < 4:
                    return
                self._want = self._header[1] << 16 | self._header[2] << 8 | self._header[3]
                self._keep = {
                    _SERVER_HELLO: self._want,
                    _SERVER_KEY_EXCHANGE: _KEY_EXCHANGE_HEAD,
                }.get(self._header[0], 0)
                self._body.clear()
                kind = self._header[0]
                if self._after_hello:
                    # A full handshake goes on with the server's certificate; a
                    # resumed one with a renewed ticket (then ChangeCipherSpec).
                    self._after_hello = False
                    self.resumed = kind == _NEW_SESSION_TICKET
                if (
                    kind == _SERVER_HELLO_DONE
                    or (kind == _SERVER_HELLO and self._want > _MAX_HELLO)
                    or (kind != _SERVER_HELLO and self.suite is None)  # not a server's flight
                ):
                    self._finish()
                    return
            kind = self._header[0]
            take = min(self._want, len(data))
            if len(self._body) < self._keep:
                self._body += data[: min(take, self._keep - len(self._body))]
            self._want -= take
            data = data[take:]
            if kind == _SERVER_KEY_EXCHANGE and len(self._body) >= _KEY_EXCHANGE_HEAD:
                if self._body[0] == _NAMED_CURVE:
                    self.group = self._body[1] << 8 | self._body[2]
                self._finish()
                return
            if self._want:
                return
            if kind == _SERVER_HELLO:
                if self._server_hello(bytes(self._body)):
                    self._finish()
                    return
                self._after_hello = True
            elif kind == _SERVER_KEY_EXCHANGE:
                self._finish()  # too short to name a curve
                return
            self._header.clear()

    def _server_hello(self, body: bytes) -> bool:
        """Read the suite (and a TLS 1.3 key_share's group); True when nothing more is to come."""
        at = 2 + 32  # legacy_version, random
        if len(body) <= at:
            return True
        at += 1 + body[at]  # session id
        if len(body) < at + 3:
            return True
        self.suite = body[at] << 8 | body[at + 1]
        at += 3  # suite, compression method
        version = 0
        pre_shared_key = False
        if len(body) >= at + 2:
            end = min(len(body), at + 2 + (body[at] << 8 | body[at + 1]))
            at += 2
            while at + 4 <= end:
                kind, size = body[at] << 8 | body[at + 1], body[at + 2] << 8 | body[at + 3]
                data = body[at + 4 : at + 4 + size]
                if kind == _SUPPORTED_VERSIONS and len(data) == 2:
                    version = data[0] << 8 | data[1]
                elif kind == _KEY_SHARE and len(data) >= 2:
                    self.group = data[0] << 8 | data[1]
                elif kind == _PRE_SHARED_KEY:
                    pre_shared_key = True
                at += 4 + size
        if version == _TLS13:
            self.resumed = pre_shared_key
        # TLS 1.3: the rest is encrypted; TLS 1.2: the group comes in ServerKeyExchange.
        return version == _TLS13

    def _finish(self) -> None:
        self.done = True
        self._after_hello = False
        self._pending = bytearray()
        self._header = bytearray()
        self._body = bytearray()


def cipher_info_suite(context: object) -> int | None:
    """The suite from SECPKG_ATTR_CIPHER_INFO, or None where SChannel has no such attribute."""
    info = ffi.new("SecPkgContext_CipherInfo *")
    if lib.QueryContextAttributesW(context, lib.SECPKG_ATTR_CIPHER_INFO, info) != lib.SEC_E_OK:
        return None
    return int(info.dwCipherSuite) or None
