"""The negotiated cipher suite's IANA number.

Windows says it through ``SECPKG_ATTR_CIPHER_INFO`` (``dwCipherSuite``).
Where that attribute is missing (Wine 8.0 answers SEC_E_UNSUPPORTED_FUNCTION,
and its SECPKG_ATTR_CONNECTION_INFO gives ALG_IDs that cannot tell the
suites apart) the number is read from the ServerHello itself, which crosses
the buffer in the clear: ``ServerHelloScanner`` looks at the server's first
handshake records as they pass (bounded: it stops at the ServerHello).
"""

from __future__ import annotations

from ._binding import ffi, lib

__all__ = ["ServerHelloScanner", "cipher_info_suite"]

_HANDSHAKE = 22
_SERVER_HELLO = 2
# type(1) length(3) legacy_version(2) random(32) session_id length(1)
_SESSION_ID_AT = 4 + 2 + 32
# A ServerHello's fields up to the suite fit well within this; more means something else.
_MAX_LOOK = 512


class ServerHelloScanner:
    """Finds the cipher suite in a stream of TLS records that starts with a ServerHello."""

    __slots__ = ("_handshake", "_pending", "done", "suite")

    def __init__(self) -> None:
        self._pending = bytearray()  # an incomplete record's bytes
        self._handshake = bytearray()  # handshake payload collected so far
        self.suite: int | None = None
        self.done = False

    def feed(self, data: bytes | memoryview) -> None:
        if self.done:
            return
        pending = self._pending
        pending += data
        while len(pending) >= 5 and not self.done:
            length = pending[3] << 8 | pending[4]
            if pending[0] != _HANDSHAKE:
                self.done = True  # not a handshake record: nothing to learn here
                break
            if len(pending) < 5 + length:
                break
            self._handshake += pending[5 : 5 + length]
            del pending[: 5 + length]
            self._parse()
        if len(pending) > _MAX_LOOK + 5 + (1 << 14):
            self.done = True
        if self.done:
            self._pending = bytearray()
            self._handshake = bytearray()

    def _parse(self) -> None:
        hello = self._handshake
        if not hello:
            return  # an empty record: nothing yet
        if hello[0] != _SERVER_HELLO:
            self.done = True
            return
        if len(hello) <= _SESSION_ID_AT:
            return
        suite_at = _SESSION_ID_AT + 1 + hello[_SESSION_ID_AT]
        if len(hello) >= suite_at + 2:
            self.suite = hello[suite_at] << 8 | hello[suite_at + 1]
            self.done = True
        elif len(hello) > _MAX_LOOK:
            self.done = True


def cipher_info_suite(context: object) -> int | None:
    """The suite from SECPKG_ATTR_CIPHER_INFO, or None where SChannel has no such attribute."""
    info = ffi.new("SecPkgContext_CipherInfo *")
    if lib.QueryContextAttributesW(context, lib.SECPKG_ATTR_CIPHER_INFO, info) != lib.SEC_E_OK:
        return None
    return int(info.dwCipherSuite) or None
