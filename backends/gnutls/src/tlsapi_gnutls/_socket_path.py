"""The native socket path: GnuTLS reads and writes a TLSWrappedSocket's socket itself.

tlsapi's socket engine calls ``_attach_socket(fd)`` when it wraps a real
socket (see ``tlsapi.backend_api``).  From then on the session's push and
pull are C functions over that descriptor (``build_ffi/gnutls/sockpath.c``):
a recv or send on the TLSWrappedSocket is one cffi call, the GIL released,
records looped in C, no Python per record.  They never wait; the engine
waits (poll) outside the connection's lock, with its own rules for
timeouts, non-blocking mode and threads, exactly as on the buffer path; the
wait itself is a C call too (``_socket_waiter``: poll, no session touched).

What the socket does not take at once stays in the transport's output
buffer, in order before anything newer; ``_socket_flush`` sends it (the
engine's flush loop).  The records of a large write are queued and sent with
one send() at the end (one system call per write, not per record).  A failed recv is kept by the C side and raised here as
the OSError it is (``socket_error``), never as a TLS failure.  The takeover
is exact: ciphertext the buffer already held is read before the socket, and
GnuTLS takes off the socket exactly what each record needs, so ``unwrap()``
leaves what follows the peer's close_notify in the kernel.  (Reading
application data, the C side peeks several records at once and then takes
off the socket only the bytes GnuTLS used: fewer system calls, same boundary.)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from tlsapi import TLSWrappedBuffer

from ._binding import ffi, lib

__all__ = ["SocketPathBuffer", "socket_error"]

_unpack = ffi.unpack
_QUOTE = 64  # bytes of a peer's start to look at (more than the core quotes)


def socket_error(transport: Any) -> OSError:
    """The error a recv on the socket met (kept by the C side), cleared: the next recv tries again."""
    number = int(transport.sys_errno)
    transport.sys_errno = 0
    # OSError picks the subclass (ConnectionResetError, ...) from the errno.
    return OSError(number, os.strerror(number))


class SocketPathBuffer(TLSWrappedBuffer):
    """The socket engine's hooks for the native path, over the C transport (``_transport``)."""

    _transport: Any

    def _attach_socket(self, fd: int | None) -> bool:
        """Let GnuTLS drive ``fd`` itself (None: let go of it); False where it cannot."""
        with self._exclusive():
            transport = self._transport
            if fd is None:
                lib.tlsapi_gnutls_attach_fd(transport, -1, 0)
                return True
            if self._outgoing.size:
                return False  # ciphertext already handed to Python: not an exact takeover
            # The peer's first bytes go to the core's not-TLS check.
            tap = 1 if self._peer_start is not None else 0
            if lib.tlsapi_gnutls_attach_fd(transport, fd, tap) != 0:
                return False
            # cffi gives the size_t field as an int: no frame, no int() (see _socket_pending)
            vars(self)["_socket_pending"] = functools.partial(getattr, transport, "out_len")
            return True

    def _socket_pending(self) -> int:
        """Ciphertext queued for the socket (read without the lock: a hint for the engine).

        Once attached, an attribute of the instance stands in for this method: the same
        field read without a Python frame (the engine asks up to three times a request)."""
        return int(self._transport.out_len)

    def _socket_flush(self, discard: bool = False) -> int:
        """Send queued ciphertext now without waiting (or drop it); how much is still queued."""
        with self._exclusive():
            left = int(lib.tlsapi_gnutls_flush_fd(self._transport, 1 if discard else 0))
        if left < 0:
            raise OSError(-left, os.strerror(-left))
        return left

    def _socket_waiter(self) -> Callable[[int, int], int]:
        """The engine's wait for the peer, called without the lock: ``wait(timeout_ms,
        output_first)`` (-1: no timeout) returns 1 when a read may return something
        (held bytes, the socket readable or failed), 0 when the time ran out, 2 when
        a signal interrupted it (call again), 3 at once when ``output_first`` and
        ciphertext is queued (send it first).  A cffi function bound to the
        transport: no Python frame per wait.  (See ``tlsapi_gnutls_wait_fd``.)"""
        wait: Callable[[int, int], int] = functools.partial(
            lib.tlsapi_gnutls_wait_fd, self._transport
        )
        return wait

    def _take_tap(self) -> bytes | None:
        """What pull read from the socket since the last call, for the not-TLS check."""
        transport = self._transport
        size = int(transport.tap_len)
        if not size:
            return None
        data = _unpack(transport.tap_buf, size)
        lib.tlsapi_gnutls_tap_taken(transport, 0)
        return data

    def _peek_socket(self) -> bytes:
        """What else already arrived, left in place: GnuTLS read only a record header
        of the peer's first bytes, and a refusal quotes as much as the buffer path."""
        more = ffi.new("char[]", _QUOTE)
        count = int(lib.tlsapi_gnutls_peek_fd(self._transport, more, _QUOTE))
        return _unpack(more, count) if count > 0 else b""

    def _tap_done(self) -> None:
        lib.tlsapi_gnutls_tap_taken(self._transport, 1)
