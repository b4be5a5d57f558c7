"""The native socket path: NSS reads and writes a TLSWrappedSocket's socket itself.

tlsapi's socket engine calls ``_attach_socket(fd)`` when it wraps a real
socket (see ``tlsapi.backend_api``).  From then on the memio layer under the
connection's NSS socket reads and writes that descriptor (its "fd mode",
``build_ffi/nss/memio.c``): a recv or send on the TLSWrappedSocket is one
cffi call, the GIL released, records looped in C, no Python per record.  It
never waits; the engine waits (poll) outside the connection's lock, with its
own rules for timeouts, non-blocking mode and threads, exactly as on the
buffer path.

What the socket does not take at once stays in the layer's output buffer, in
order before anything newer; ``_socket_flush`` sends it (the engine's flush
loop).  A write larger than a record is sent with one send() at the end.  A
failed recv is kept by the C side and raised here as the OSError it is
(``socket_error``), never as a TLS failure.  The takeover is exact: chunks the
buffer already held are read before the socket, and NSS reads from the socket
exactly what each record needs (its header, then its body), so ``unwrap()``
leaves what follows the peer's close_notify in the kernel.

What the buffer path sees of the ciphertext as it passes through Python
still gets seen: a server reads the ClientHello record by record from the
socket itself, before NSS's socket exists (``_read_hello_from_socket``: the
core's not-TLS check, the hello reader, the client random), and the taps
copy what NSS read (a client: the server's first bytes and ServerHello) and
sent (our ClientHello's random for a key log, a server's TLS 1.2 tickets)
until the buffer says it has seen enough (``_update_taps``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tlsapi import RaggedEOF, TLSWrappedBuffer, WantReadError
from tlsapi.backend_api import HelloReader, MalformedHello

from ._lib import ffi, lib

if TYPE_CHECKING:
    from ._records import PlainHandshakes

__all__ = ["SocketPathBuffer", "socket_error"]

_unpack = ffi.unpack
_QUOTE = 64  # bytes of a peer's start to look at (more than the core quotes)
_HEADER = 5  # a TLS record's header: type, version, 2-byte length
_IN, _OUT = 0, 1  # the two taps


def socket_error(state: Any) -> OSError:
    """The error a recv on the socket met (kept by the C side), cleared: the next recv tries again."""
    number = int(state.sys_errno)
    state.sys_errno = 0
    # OSError picks the subclass (ConnectionResetError, ...) from the errno.
    return OSError(number, os.strerror(number))


class SocketPathBuffer(TLSWrappedBuffer):
    """The socket engine's hooks for the native path, over the memio state (``_memio``)."""

    _memio: Any
    _fd: Any
    _chunks: Any
    _hello_reader: HelloReader | None
    _incoming_plain: PlainHandshakes | None
    _outgoing_plain: PlainHandshakes | None
    # Python-side flag (cheaper than the C field on the hot path): the socket is NSS's.
    _on_socket = False
    # A server reading the ClientHello from the socket: the header of the record it is
    # on (up to 5 bytes), or how much of its body is still to come.
    _record_head = b""
    _record_left = 0

    def _attach_socket(self, fd: int | None) -> bool:
        """Let NSS drive ``fd`` itself (None: let go of it); False where it cannot."""
        with self._exclusive():
            state = self._memio
            if fd is None:
                lib.tlsapi_nss_memio_attach_fd(state, -1, 0, 0)
                return True
            if self._outgoing.size or state.out_len or self._on_socket:
                return False  # ciphertext already handed to Python: not an exact takeover
            if lib.tlsapi_nss_memio_attach_fd(state, fd, 0, 0) != 0:
                return False
            if self._fd is None:
                # A server that has not opened NSS's socket: where the bytes it already
                # holds leave off in their record, for its own exact reads of the hello.
                for chunk in self._chunks:
                    self._track_records(chunk if type(chunk) is bytes else ffi.buffer(chunk)[:])
            self._on_socket = True
            self._update_taps()
            return True

    def _socket_pending(self) -> int:
        """Ciphertext queued for the socket (read without the lock: a hint for the engine)."""
        return int(self._memio.out_len)

    def _socket_waiter(self) -> Callable[[int, int], int]:
        """The engine's wait for the peer, called without the lock: ``wait(timeout_ms,
        output_first)`` (-1: no timeout) returns 1 when a read may return something
        (held bytes, the socket readable or failed), 0 when the time ran out, 2 when
        a signal interrupted it (call again), 3 at once when ``output_first`` and
        ciphertext is queued (send it first).  A cffi function bound to the memio
        state: no Python frame per wait.  (See ``tlsapi_nss_memio_wait_fd``.)"""
        wait: Callable[[int, int], int] = functools.partial(
            lib.tlsapi_nss_memio_wait_fd, self._memio
        )
        return wait

    def _socket_flush(self, discard: bool = False) -> int:
        """Send queued ciphertext now without waiting (or drop it); how much is still queued."""
        with self._exclusive():
            left = int(lib.tlsapi_nss_memio_flush_fd(self._memio, 1 if discard else 0))
        if left < 0:
            raise OSError(-left, os.strerror(-left))
        return left

    # -- what the buffer path would have seen (called with the lock held) ---------------

    def _update_taps(self) -> None:
        """Copy what passes the socket only while something still needs to see it."""
        state = self._memio
        wants_in = self._fd is not None and (
            self._peer_start is not None
            or self._incoming_plain is not None
            or self._hello_reader is not None
        )
        if state.tap_in.on and not wants_in:
            lib.tlsapi_nss_memio_tap_taken(state, _IN, 1)
        elif wants_in and not state.tap_in.on:
            state.tap_in.on = 1
        wants_out = self._outgoing_plain is not None
        if state.tap_out.on and not wants_out:
            lib.tlsapi_nss_memio_tap_taken(state, _OUT, 1)
        elif wants_out and not state.tap_out.on:
            state.tap_out.on = 1

    def _take_tap(self, which: int) -> bytes | None:
        """What the tap copied since the last call, or None."""
        tap = self._memio.tap_out if which else self._memio.tap_in
        size = int(tap.len)
        if not size:
            return None
        data: bytes = _unpack(tap.data, size)
        lib.tlsapi_nss_memio_tap_taken(self._memio, which, 0)
        return data

    def _read_taps(self) -> None:
        """After a handshake step: the peer's bytes NSS read and ours it sent."""
        received = self._take_tap(_IN)
        if received is not None:
            if self._peer_start is not None and self._refuses_start(received + self._peek_socket()):
                self._stop_taps()
                assert self._first_failure is not None
                raise self._first_failure  # NotTLSError, whatever NSS made of them
            self._observe_received(received)
        self._read_sent_tap()

    def _read_sent_tap(self) -> None:
        sent = self._take_tap(_OUT)
        if sent is not None and self._outgoing_plain is not None:
            self._read_own_handshake(self._outgoing_plain, sent)
        self._update_taps()

    def _stop_taps(self) -> None:
        state = self._memio
        lib.tlsapi_nss_memio_tap_taken(state, _IN, 1)
        lib.tlsapi_nss_memio_tap_taken(state, _OUT, 1)

    def _peek_socket(self) -> bytes:
        """What else already arrived, left in place: a refusal quotes as much as the
        buffer path, where NSS or we read only a record header of the peer's first bytes."""
        more = ffi.new("char[]", _QUOTE)
        count = int(lib.tlsapi_nss_memio_peek_fd(self._memio, more, _QUOTE))
        return _unpack(more, count) if count > 0 else b""

    def _read_hello_from_socket(self) -> None:
        """A server before NSS's socket exists: the ClientHello's records from the socket,
        each read exactly (header, then body) and received as on the buffer path, so that
        NSS reads them first once its socket is open, then the socket."""
        reader = self._hello_reader
        state = self._memio
        while reader is not None:
            try:
                if reader.result() is not None:
                    return
            except MalformedHello:
                return  # the hello's verdict is _open_for_client_hello's
            wanted = self._record_left or _HEADER - len(self._record_head)
            scratch = ffi.new("char[]", wanted)
            count = int(lib.tlsapi_nss_memio_recv_fd(state, scratch, wanted))
            if count < 0:
                if state.sys_errno:
                    raise socket_error(state)
                raise WantReadError("more data from the peer is needed")
            if count == 0:
                raise RaggedEOF("the peer closed the connection during the handshake")
            received: bytes = _unpack(scratch, count)
            self._track_records(received)
            if self._peer_start is not None and self._refuses_start(received + self._peek_socket()):
                assert self._first_failure is not None
                raise self._first_failure
            self._receive(received)
            reader = self._hello_reader

    def _track_records(self, data: bytes) -> None:
        """Follow the record boundaries through ``data``, the next bytes of the peer's."""
        position, size = 0, len(data)
        while position < size:
            if self._record_left:
                step = min(self._record_left, size - position)
                self._record_left -= step
                position += step
                continue
            taken = data[position : position + _HEADER - len(self._record_head)]
            position += len(taken)
            head = self._record_head + taken
            if len(head) == _HEADER:
                self._record_left = int.from_bytes(head[3:5], "big")
                head = b""
            self._record_head = head

    # Defined by the buffer.
    def _observe_received(self, received: bytes) -> None:
        raise NotImplementedError

    def _read_own_handshake(self, plain: PlainHandshakes, data: bytes) -> None:
        raise NotImplementedError
