"""The engine under TLSWrappedSocket: every I/O loop, and the hard parts once.

TLSWrappedSocket (``_facade``) is written once for every backend.  The
backend's buffer is a sans-I/O state machine: it takes ciphertext from ``receive_from_network``,
gives ciphertext back through ``peek_outgoing``/``consume_outgoing``, and
raises WantReadError when it cannot go on without more bytes from the peer.
Everything that touches the operating system lives here.  The hard parts:

The retry loop
--------------
Every operation (``do_handshake``, ``recv``, ``send``, ``shutdown``,
``unwrap``) is a call on the buffer repeated until it succeeds.  When the
buffer raises WantReadError we first send whatever it queued (a handshake
flight must reach the peer before the peer will answer it), then read one
chunk from the socket, feed it in and call again.  WantWriteError from the
buffer (a backend whose output space is bounded) means: send, then call
again.  Any other TLSError is final: we make one non-blocking attempt to
send the alert the library queued, so the peer learns why, and re-raise.
The handshake needs no code of its own: ``read``/``write`` run it
implicitly, so it happens on the first I/O or an explicit ``do_handshake()``.

Blocking, timeouts and non-blocking mode
----------------------------------------
``gettimeout()`` is ours, taken from the socket when it is wrapped and
changed by ``settimeout``/``setblocking``.  With no timeout the OS socket is
left blocking and recv/send simply block.  With a timeout (or 0.0, i.e.
non-blocking) the OS socket is put in non-blocking mode and we wait for it
ourselves with poll() (select() where there is no poll): one deadline for
the whole call, however many round trips it takes, like the ``ssl``
module, so a handshake with a silent peer ends in ``socket.timeout``
("The handshake operation timed out"), not a hang.  ``unwrap()`` gives the
socket back with the timeout the wrapper had.

In non-blocking mode (timeout 0.0) a wait becomes WantReadError or
WantWriteError instead (they are also ``ssl.SSLWantReadError`` and
``ssl.SSLWantWriteError``, so code written for ``ssl`` keeps working):
wait until the socket is readable or writable and call again.  Reads and
the handshake may simply be repeated with the same arguments.

Writes in non-blocking mode: the pending-ciphertext rule
--------------------------------------------------------
TLS turns plaintext into records before the socket sees it, so a write
can be half done: the plaintext is encrypted but the socket took only part
of the ciphertext.  We never make the caller repeat data that was already
encrypted (it would be sent twice).  Instead:

* ``send`` accepts plaintext into the buffer, sends as much ciphertext as
  the socket takes, keeps the rest *pending* inside the wrapper, and
  returns how many plaintext bytes it accepted.
* Every later call on the socket (send, recv, do_handshake, shutdown,
  unwrap) first flushes pending ciphertext.  ``send`` then raises
  WantWriteError only if pending ciphertext remains and *nothing could
  move* (the socket took no byte); if some moved it goes on and accepts
  new data.  To bound memory, it also accepts nothing while more than
  ``PENDING_HIGH_WATER`` bytes are still pending (WantWriteError again).
* ``recv`` raises WantWriteError rather than WantReadError when it found
  nothing to read *and* pending ciphertext could not be sent: the peer is
  probably waiting for it.  ``do_handshake``, ``shutdown`` and ``unwrap``
  finish only once their own bytes are all out.
* ``outgoing_bytes_buffered()`` says how much is pending, and ``send(b"")``
  flushes without adding data.  A selector loop that has finished sending
  must wait for writability while it is non-zero, exactly as it would for
  the unsent tail of a plain socket write.

With a timeout the same holds with waiting instead of WantWriteError: a
``send`` that times out before any of its data was accepted raises
``socket.timeout``; once data was accepted it returns the count (the
unsent ciphertext stays pending and goes first on the next call), which is
ordinary partial-send semantics.  ``sendall`` has one deadline overall
and, like ``socket.sendall``, cannot say how much went out when it fails.

End of file, errors and record boundaries
-----------------------------------------
``recv_into`` returning 0 means the peer closed the TCP connection; we tell
the buffer with ``receive_from_network(b"")``.  Had a close_notify come
first, reads then return ``b""``; otherwise the buffer raises RaggedEOF
(possible truncation attack), and so does a handshake cut short.  We never
read from the socket again after its end of file.

An OSError from the socket (connection reset, broken pipe) stays an
OSError: it is the transport's failure, not TLS's.  It never leaves a
half-state behind: ciphertext counts as sent only once the socket took it,
received bytes reach the buffer only whole, and the turns are given back.

Network reads go in 256 KiB chunks (many records per syscall and per
call into the library) into one scratch buffer per thread (``recv_into``
on a memoryview: no buffer per connection, no ``bytes +=``).  The buffer
copies what it is given.  Because chunks ignore record boundaries, we
track where TLS records end (5-byte header, 2-byte length; cheap, a few
steps per chunk).  ``unwrap()`` uses that to read exactly up to the end of
the peer's close_notify record, so the plain-text bytes that follow it stay
in the kernel for the caller of the unwrapped socket.  Application data
still unread when ``unwrap()`` is called, or arriving before the peer's
close_notify, is discarded, as OpenSSL's ``SSL_shutdown`` does (and it is
dropped *before* our close_notify goes out: SSL_shutdown fails the whole
connection if it meets unread data).

close() and close_notify
------------------------
``close()`` closes the socket without sending close_notify, like
``ssl.SSLSocket``: after a fork() both processes hold the TLS state, and a
parent closing its copy must not end the child's session.  Call
``shutdown(socket.SHUT_WR)`` (close_notify, then TCP half-close) or
``unwrap()`` for an orderly end.  As with ``socket.socket``, files from
``makefile()`` keep the connection open until they are closed too.

The native path
---------------
Where the backend's library can drive a file descriptor itself, the engine
hands it the socket when it is wrapped (``_attach_socket``, see
``tlsapi.backend_api``) and the library reads and writes it directly: a
recv or send is one call into C with the GIL released, records looped
there, no Python per record.  Only a plain ``socket.socket`` is handed over
(a subclass such as ``ssl.SSLSocket`` has recv/send of its own), and
``TLSAPI_SOCKET_PATH=buffer`` keeps every socket on the buffer path (the
conformance kit's socket tests run on both).  Everything above still holds,
because the library never waits: it reads and writes with MSG_DONTWAIT, a
would-block read is WantReadError from the buffer, and what the socket does
not take at once stays queued in the library, in order, which is the
pending ciphertext (``_socket_pending``, sent by ``_socket_flush`` from the
same flush loop and send turn).  The waiting (poll, one deadline, Want*
errors in non-blocking mode) is the engine's, outside the connection's lock,
so one thread can send while another waits to receive.  The wait for the
peer is the library's (``_socket_waiter()``: a callable ``wait(timeout_ms,
output_first)`` answering 1 ready (bytes the library holds count), 0 timed
out, 2 interrupted by a signal, 3 ciphertext queued; one C call that touches
no session and is called without the lock), so a request's recv_into and
sendall take their fast paths in the facade
(``_fast_waiter``, ``_fast_sender``: the same rules in fewer steps, everything
unusual handed to the general code here).  Since any call that
reads may take bytes off the socket, such calls hold ``_recv_lock`` (as
_fill does), and a thread that waits for readability does so holding it:
no thread waits for bytes another already took.  A write after the
handshake reads nothing and takes no lock.  The library reads exactly what
each record needs (header, then body), so ``unwrap()`` stops at the end of
the close_notify record with no tracking here; bytes the buffer already
held when the socket was handed over are read before the socket.  After a
TLS failure one chunk of what already arrived is read and dropped, as the
buffer path would have read it: closing a socket with unread bytes sends a
reset, which may destroy our alert before the peer reads it.

States
------
The wrapper's lifecycle is one ``_State`` (below), changed only by
``_enter``, whose table says which moves exist: OK; BROKEN once a TLS
error ended the session (the buffer raises it again on every call; no
close_notify is attempted); CLOSING after ``close()`` while ``makefile()``
files still use the connection; CLOSED once the socket is closed;
UNWRAPPED once ``unwrap()`` handed it back.  What the transport did
(end of file seen, the peer stopped reading, ciphertext the socket has not
taken yet) is kept apart: those are facts about one direction of the byte
stream, not about the wrapper, and a half-closed connection goes on.

Threads
-------
One thread may receive while another sends (a common pattern with
blocking sockets).  The buffer serialises every call into it with its own
lock, so the wrapper adds none around those calls.  What the wrapper must
order itself is the I/O: one thread at a time sends pending ciphertext
(peek, send, consume must not interleave) and one at a time reads from the
socket.  Each is a *turn*, not a lock held while others poll for it.
Two lost wakeups need care, because either thread may be the one the
handshake needs:

* Sending (trio's rule: send first, one blocking send at a time, then
  re-check).  A flusher that may block on the socket announces itself as
  FLUSH; when it gives the turn back it looks again for ciphertext and
  sends that too.  A reader never waits behind it (if the peer did the
  same, both would wait forever): it leaves its bytes to that flusher.
  A writer waits on a condition until the turn is free, then re-checks
  (its bytes may already be out).  The quick, never-blocking attempt after
  a read (NUDGE) does not re-check, so everyone waits for it: it is over
  at once and says so on the condition.
* Receiving: a call that needs bytes while another thread is reading
  waits until that thread *fed the buffer* (a counter and a condition),
  then calls again: the bytes it needs may be in, and the peer may send
  nothing more until it acts on them.  Waiting for the read lock instead
  starves it: the reader takes the lock straight back to wait for more.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import math
import os
import select
import socket as _socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._buffer import _State as _BufferState
from .._errors import ConfigurationError, RaggedEOF, TLSError, WantReadError, WantWriteError

if TYPE_CHECKING:
    from .._buffer import TLSWrappedBuffer

_T = TypeVar("_T")

# Sizes measured on loopback against ssl.SSLSocket: with 64 KiB chunks the
# wrapper cost 13% more CPU than ssl, with these about the same.  The receive
# buffer is one per thread, so its size costs no memory per connection.
RECV_CHUNK = 256 * 1024  # network bytes per recv_into (about 16 records)
SEND_CHUNK = 256 * 1024  # plaintext handed to the buffer per write()
FLUSH_CHUNK = 512 * 1024  # ciphertext offered to the socket per send()
PENDING_HIGH_WATER = 512 * 1024  # non-blocking send() accepts nothing above this
DISCARD_SIZE = 16 * 1024  # read size while unwrap() waits for close_notify
_HEADER = 5  # TLS record header: type, version (2), length (2)

_HAVE_POLL = hasattr(select, "poll")
# What a library's waiter (``_socket_waiter``) answers; 2 is a signal: wait again.
_WAIT_TIMEOUT = 0
_WAIT_READY = 1
_WAIT_OUTPUT = 3  # asked with output_first: ciphertext is queued, nothing waited
_MAX_POLL_MS = 2**31 - 1  # poll()'s timeout is an int
_MSG_DONTWAIT: int = getattr(_socket, "MSG_DONTWAIT", 0)

_scratch = threading.local()

# TLSAPI_SOCKET_PATH=buffer keeps every socket on the buffer path (the native
# path's reference, and how the test suite runs the socket tests on both).
PATH_VARIABLE = "TLSAPI_SOCKET_PATH"
_PATHS = ("native", "buffer")


class _NativeBuffer(Protocol):
    """The hooks of a buffer whose library can drive a socket itself (see ``tlsapi.backend_api``)."""

    def _attach_socket(self, fd: int | None) -> bool: ...
    def _socket_pending(self) -> int: ...
    def _socket_flush(self, discard: bool = False) -> int: ...
    def _socket_waiter(self) -> Callable[[int, int], int]: ...


def _attach_native(socket: _socket.socket, buffer: TLSWrappedBuffer) -> _NativeBuffer | None:
    """Hand ``socket`` to the buffer's library if it can drive it; the buffer then, else None."""
    path = os.environ.get(PATH_VARIABLE) or "native"
    if path not in _PATHS:
        raise ConfigurationError(
            f"{PATH_VARIABLE} must be one of {', '.join(_PATHS)}, not {path!r}"
        )
    # Only a plain OS socket: a subclass (ssl.SSLSocket, a test double) has its own recv/send.
    if path == "buffer" or type(socket) is not _socket.socket:
        return None
    attach = getattr(buffer, "_attach_socket", None)
    if attach is None or not attach(socket.fileno()):
        return None
    native: _NativeBuffer = buffer  # type: ignore[assignment]
    return native


def _scratch_view() -> memoryview:
    """This thread's receive buffer: the buffer copies what it is fed, so one per thread will do."""
    view: memoryview | None = getattr(_scratch, "view", None)
    if view is None:
        view = _scratch.view = memoryview(bytearray(RECV_CHUNK))
    return view


def _wait_for(sock: _socket.socket, write: bool, timeout: float | None) -> bool:
    """Wait until ``sock`` is writable/readable (or in error); False when the time ran out."""
    if _HAVE_POLL:
        poller = select.poll()
        poller.register(sock, select.POLLOUT if write else select.POLLIN)
        # poll() takes milliseconds; round up so a short timeout does not spin at 0.
        return bool(poller.poll(None if timeout is None else math.ceil(timeout * 1000)))
    watched = [sock]
    readable, writable, failed = select.select(
        [] if write else watched, watched if write else [], watched, timeout
    )
    return bool(readable or writable or failed)


class _RecordTracker:
    """Where the TLS records in the byte stream from the peer end.

    ``skip`` is how many bytes remain of the current record; when it is 0
    we are at (or inside) a record header, of which ``header`` holds the
    bytes seen so far.
    """

    __slots__ = ("header", "skip")

    def __init__(self) -> None:
        self.skip = 0
        self.header = b""

    def feed(self, data: memoryview) -> None:
        n = len(data)
        pos = self.skip
        if self.header:  # a header split across two reads
            take = min(_HEADER - len(self.header), n)
            self.header += data[:take].tobytes()
            if len(self.header) < _HEADER:
                return
            pos = take + ((self.header[3] << 8) | self.header[4])
            self.header = b""
        while pos + _HEADER <= n:
            pos += _HEADER + ((data[pos + 3] << 8) | data[pos + 4])
        if pos >= n:
            self.skip = pos - n
        else:
            self.skip = 0
            self.header = data[pos:].tobytes()

    def to_boundary(self) -> int:
        """How many bytes may be read without passing the end of a record (or a header)."""
        return self.skip if self.skip else _HEADER - len(self.header)


class _State(enum.Enum):
    """The wrapper's lifecycle (see "States" in the module docstring)."""

    OK = "ok"
    BROKEN = "broken"  # a TLS error ended the session
    CLOSING = "closing"  # close() was called; makefile() files still use the connection
    CLOSED = "closed"  # the socket is closed
    UNWRAPPED = "unwrapped"  # unwrap() handed the socket back


# Every move there is.  A TLS error after close() leaves CLOSING as it is:
# close() already gave up close_notify, the buffer remembers the error, and
# the socket must still close when the last file does.
_MOVES: dict[_State, frozenset[_State]] = {
    _State.OK: frozenset({_State.BROKEN, _State.CLOSING, _State.CLOSED, _State.UNWRAPPED}),
    _State.BROKEN: frozenset({_State.CLOSING, _State.CLOSED}),
    _State.CLOSING: frozenset({_State.CLOSED, _State.UNWRAPPED}),
    _State.CLOSED: frozenset(),
    _State.UNWRAPPED: frozenset(),
}
_RELEASED = frozenset({_State.CLOSED, _State.UNWRAPPED})  # the socket is no longer ours


class _Sender(enum.Enum):
    """Who holds the send turn (see "Threads" in the module docstring)."""

    FLUSH = "flush"  # may block on the socket; re-checks for ciphertext when done
    NUDGE = "nudge"  # one attempt that never waits and does not re-check


class SocketEngine:
    """The I/O loops over one socket and one buffer; TLSWrappedSocket is the API on top."""

    def __init__(self, socket: _socket.socket, buffer: TLSWrappedBuffer) -> None:
        self._socket = socket
        self._buffer = buffer
        self._timeout: float | None = socket.gettimeout()
        self._native: _NativeBuffer | None = None  # the native path (below)
        self._waiter: Callable[[int, int], int] | None = None  # the native path's (below)
        self._read_waited = False  # the native path: the last read had to wait for the peer
        # The facade's fast paths, each in one test (see _refresh_fast_paths).
        self._fast_waiter: Callable[[int, int], int] | None = None
        self._fast_sender: _NativeBuffer | None = None
        self._apply_timeout()
        self._state = _State.OK
        self._state_lock = threading.Lock()  # moves are check-then-set
        self._sender: _Sender | None = None  # who holds the send turn
        self._send_turn = threading.Condition(threading.Lock())  # guards _sender; turn given back
        self._recv_lock = threading.Lock()  # one thread reads the socket at a time
        self._unsent: memoryview | None = None  # peeked ciphertext the socket has not taken
        self._records = _RecordTracker()
        self._exact_records = False  # unwrap(): never read past a record's end
        self._eof = False  # the socket reported end of file
        self._fed = 0  # how many times the buffer was fed (see _fill)
        self._fed_changed = threading.Condition(threading.Lock())  # _fed moved or a reader left
        # The peer stopped reading (EPIPE/ECONNRESET on send): what we queue can
        # never arrive, but its last words (an alert saying why) may still be read.
        self._send_error: OSError | None = None
        self._readers_waiting = 0  # threads in _await_other_reader (guarded by _fed_changed)
        # The native path: the buffer's library reads and writes the socket itself.
        self._native = _attach_native(socket, buffer)
        # The library's own wait for readability (``_socket_waiter``): one C call
        # without the lock.
        if self._native is not None:
            self._waiter = self._native._socket_waiter()
        self._refresh_fast_paths()

    # -- the lifecycle ------------------------------------------------------------

    def _enter(self, new: _State) -> bool:
        """Move to ``new`` if ``_MOVES`` allows it from here; False (and no change) if not."""
        with self._state_lock:
            if new not in _MOVES[self._state]:
                return False
            self._state = new
            return True

    def _release(self, new: _State) -> None:
        """Give up the socket: closed (CLOSED) or handed back (UNWRAPPED)."""
        if self._enter(new):
            self._unsent = None
            if self._native is not None:
                # Never touch an fd that may be reused.  (From inside the connection's own
                # callback the lock is ours already: the call under way meets EBADF.)
                with contextlib.suppress(RuntimeError):
                    self._native._attach_socket(None)
            if new is _State.CLOSED:
                self._socket.close()

    def _check_usable(self) -> None:
        # Identity tests: an Enum's hash is a Python call, and this runs on every call.
        state = self._state
        if state is _State.CLOSED or state is _State.UNWRAPPED:
            raise OSError(errno.EBADF, "the TLS socket is closed (or was unwrapped)")

    def _apply_timeout(self) -> None:
        # Blocking: let the OS block.  Timeout or non-blocking: we poll ourselves.
        timeout = self._timeout
        self._socket.settimeout(None if timeout is None else 0.0)
        # The native path's first wait in a call, in poll()'s milliseconds, rounded up
        # (the call's deadline is then microseconds away from it: not worth a clock read).
        self._wait_ms = -1 if timeout is None else min(math.ceil(timeout * 1000), _MAX_POLL_MS)
        self._refresh_fast_paths()

    def _read_waits(self, waited: bool) -> None:
        """Note whether the last native read had to wait for the peer (see _native_read)."""
        self._read_waited = waited
        self._fast_waiter = self._waiter if waited and self._timeout != 0.0 else None

    def _refresh_fast_paths(self) -> None:
        """The facade's recv_into and sendall take their fast paths on one test each:
        the native path with a timeout or none (not non-blocking), and for recv_into the
        library's waiter and a last read that had to wait.  Kept up to date here."""
        self._read_waits(self._read_waited)
        self._fast_sender = self._native if self._timeout != 0.0 else None

    def _established(self) -> bool:
        return self._buffer.negotiated_tls_version is not None

    def _phase(self, op: str) -> str:
        """``op`` for messages, or "handshake" while a read or write is running it implicitly."""
        return op if self._established() else "handshake"

    def _deadline(self) -> float | None:
        timeout = self._timeout
        return None if timeout is None else time.monotonic() + timeout

    # -- the retry loop -----------------------------------------------------------

    def _call(self, op: str, deadline: float | None, fn: Callable[..., _T], *args: Any) -> _T:
        """Call ``fn`` on the buffer until it succeeds, doing the I/O it asks for."""
        if self._native is not None:
            return self._native_call(op, deadline, fn, *args)
        while True:
            # Read before the call: a feed that lands after it then shows in _fill.
            fed = self._fed
            try:
                return fn(*args)
            except WantReadError:
                op = self._phase(op)  # so a timeout in sendall's handshake says "handshake"
                # A handshake flight (or alert, key update) must reach the peer before it answers.
                # Non-blocking and stuck: read what is there; _fill raises WantWriteError if nothing.
                with contextlib.suppress(WantWriteError):
                    self._flush(op, deadline, reader=True)
                self._fill(op, deadline, fed)
            except WantWriteError:
                if not self._pending_output():
                    raise TLSError(
                        f"{type(self._buffer).__name__} asked for output space "
                        "but holds no output: a backend bug"
                    ) from None
                self._flush(self._phase(op), deadline)
            except TLSError:
                self._enter(_State.BROKEN)
                self._flush_quietly()  # the alert that tells the peer why
                raise

    def _send(self, data: bytes | memoryview, deadline: float | None) -> int:
        """Accept and send what the rules allow; return the plaintext count (see the docstring)."""
        native = self._native
        if (
            native is not None
            and self._timeout != 0.0
            and 0 < len(data) <= SEND_CHUNK
            and not native._socket_pending()
        ):
            # The native path's common case: one write; the library sends what the
            # socket takes and queues the rest, which goes before we return.
            buffer = self._buffer
            if buffer._handshake_done:
                # _native_call's first step, inline: a write after the handshake reads
                # nothing and takes no lock.  Anything raised (nothing accepted) goes
                # the whole way; the buffer raises a failure again, and a Want* retries.
                try:
                    count: int = buffer.write(data)
                except TLSError:
                    count = self._native_call("write", deadline, buffer.write, data)
            else:
                count = self._native_call("write", deadline, buffer.write, data)
            if native._socket_pending():
                try:
                    self._flush("write", deadline)
                except (WantReadError, WantWriteError, TimeoutError):
                    return count  # accepted data is ours to send now: never ask for it again
            return count
        if native is not None and not native._socket_pending():
            pass  # the native path's fast case: nothing queued, nothing to flush first
        elif self._timeout == 0.0:
            before = self._pending_output()
            try:
                self._flush("write", deadline)
            except WantWriteError:
                after = self._pending_output()
                if after == before or after >= PENDING_HIGH_WATER:
                    raise
        else:
            # A timeout here: nothing accepted, the error stands.
            self._flush(self._phase("write"), deadline)
        if not data:
            self._call("write", deadline, self._buffer.do_handshake)
            return 0
        count = 0
        try:
            while count < len(data):
                count += self._call(
                    "write", deadline, self._buffer.write, data[count : count + SEND_CHUNK]
                )
                if native is None or native._socket_pending():
                    self._flush("write", deadline)
        except (WantReadError, WantWriteError, TimeoutError):
            if count:
                return count  # accepted data is ours to send now: never ask for it again
            raise
        return count

    def _discard_buffered(self) -> None:
        """Drop application data the buffer already holds (unwrap() discards it anyway).

        Done before close_notify because OpenSSL's SSL_shutdown, which
        ssl.SSLObject.unwrap() calls twice, fails the connection with
        APPLICATION_DATA_AFTER_CLOSE_NOTIFY when it meets unread data.
        """
        try:
            while self._buffer.read(DISCARD_SIZE):
                pass
        except WantReadError:
            return  # everything that had arrived is gone; no I/O here
        except TLSError:
            self._enter(_State.BROKEN)
            raise

    # -- sending ----------------------------------------------------------------------

    def _flush(self, op: str, deadline: float | None, *, reader: bool = False) -> None:
        """Send all pending ciphertext, waiting for the socket as the timeout allows.

        A ``reader`` leaves its bytes to a FLUSH sender already at work.
        """
        while True:
            if not self._take_send_turn(_Sender.FLUSH, op, deadline, reader=reader):
                return  # the thread sending now takes our bytes too (it re-checks below)
            try:
                self._send_pending(op, deadline)
            finally:
                self._give_send_turn()
            # A reader that skipped while we held the turn may have queued bytes after
            # our last peek: without this check they would wait for a later call.
            if not self._pending_output():
                return

    def _take_send_turn(
        self, kind: _Sender, op: str, deadline: float | None, *, reader: bool = False
    ) -> bool:
        """Become the sender; False when we need not (see "Threads" in the module docstring)."""
        with self._send_turn:
            while self._sender is not None:
                if kind is _Sender.NUDGE or (reader and self._sender is _Sender.FLUSH):
                    return False
                # Non-blocking: the sender never blocks, so its turn is short.
                if deadline is None or self._timeout == 0.0:
                    self._send_turn.wait()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"The {op} operation timed out")
                self._send_turn.wait(remaining)
            self._sender = kind
            return True

    def _give_send_turn(self) -> None:
        with self._send_turn:
            self._sender = None
            self._send_turn.notify_all()

    def _send_pending(self, op: str, deadline: float | None) -> None:
        """The body of _flush (send turn held): peek, send, consume until empty."""
        if self._native is not None:
            self._send_native(op, deadline)
            return
        if self._send_error is not None:
            self._drop_pending()
            if op in ("write", "shutdown"):
                raise self._send_error
            return  # reads go on: the peer's alert may be waiting
        while True:
            unsent = self._unsent
            if unsent is None:
                chunk = self._buffer.peek_outgoing(FLUSH_CHUNK)
                if not chunk:
                    return
                unsent = self._unsent = memoryview(chunk)
            try:
                sent = self._socket.send(unsent)
            except BlockingIOError:
                self._wait(op, deadline, write=True)
                continue
            except (BrokenPipeError, ConnectionResetError) as exc:
                self._send_error = exc
                self._drop_pending()
                raise
            # Counted as sent only now that the socket took it.
            self._buffer.consume_outgoing(sent)
            self._unsent = unsent[sent:] if sent < len(unsent) else None

    def _drop_pending(self) -> None:
        """Forget ciphertext that can no longer be sent (send turn held)."""
        if self._native is not None:
            self._native._socket_flush(discard=True)
            return
        self._buffer.consume_outgoing(self._buffer.outgoing_bytes_buffered())
        self._unsent = None

    def _flush_quietly(self) -> None:
        """Send pending ciphertext if the socket takes it right now; never wait, never raise."""
        if self._state in _RELEASED or not self._pending_output():
            return
        if not self._take_send_turn(_Sender.NUDGE, "write", None):
            return
        if self._native is not None:
            try:
                self._native._socket_flush()
            except OSError:
                pass  # as below
            finally:
                self._give_send_turn()
            return
        try:
            chunk = self._unsent or self._buffer.peek_outgoing(FLUSH_CHUNK)
            if self._timeout is None:
                if not _MSG_DONTWAIT and not _wait_for(self._socket, True, 0):
                    return
                sent = self._socket.send(chunk, _MSG_DONTWAIT)
            else:
                sent = self._socket.send(chunk)
            self._buffer.consume_outgoing(sent)
            self._unsent = memoryview(chunk)[sent:] if sent < len(chunk) else None
        except OSError:
            pass  # the next real call meets the same error, with nothing lost
        finally:
            self._give_send_turn()

    # -- receiving --------------------------------------------------------------------

    def _fill(self, op: str, deadline: float | None, fed: int) -> None:
        """Read one chunk from the socket into the buffer (end of file included).

        ``fed`` is the feed count when the caller's call raised WantReadError:
        if the buffer was fed since (by another thread), the caller retries at
        once, because the bytes it needs may be in and the peer may send
        nothing more until it acts on them.
        """
        while True:
            if self._fed != fed:
                return
            if self._eof:
                # The buffer still wants bytes after it was told about EOF: they never come.
                raise RaggedEOF(
                    "the peer closed the connection without a TLS close_notify "
                    f"(during the {op} operation)"
                )
            if self._recv_lock.acquire(blocking=False):
                break
            if self._timeout == 0.0:
                self._wait(op, deadline, write=False)  # raises WantReadError
            self._await_other_reader(op, deadline, fed)
        try:
            if self._fed != fed:
                return  # fed while we took the lock
            self._read_socket(op, deadline)
        finally:
            self._recv_lock.release()
            with self._fed_changed:
                self._fed_changed.notify_all()

    def _await_other_reader(
        self, op: str, deadline: float | None, fed: int, *, writer: bool = False
    ) -> None:
        """Another thread is reading the socket: wait until it fed the buffer or stopped.

        Not a wait for the lock itself: a reader that loops re-takes it at once
        (locks are not fair), and a writer waiting for the lock would never run.
        """
        with self._fed_changed:
            self._readers_waiting += 1
            try:
                while self._fed == fed and self._recv_lock.locked():
                    if writer and self._buffer._handshake_done:
                        return  # the native path: a write after the handshake reads nothing
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise TimeoutError(f"The {op} operation timed out")
                    self._fed_changed.wait(remaining)
            finally:
                self._readers_waiting -= 1

    def _read_socket(self, op: str, deadline: float | None) -> None:
        """The body of _fill (``_recv_lock`` held): one recv_into, then feed the buffer."""
        view = _scratch_view()
        if self._exact_records:
            view = view[: self._records.to_boundary()]
        while True:
            try:
                count = self._socket.recv_into(view)
            except BlockingIOError:
                if self._timeout == 0.0 and self._pending_output():
                    # Our unsent bytes, not the peer's silence, are what holds things up.
                    self._wait(op, deadline, write=True)
                self._wait(op, deadline, write=False)
                continue
            break
        # The count moves only after the buffer holds the bytes (see _call).
        if count == 0:
            self._eof = True
            self._buffer.receive_from_network(b"")
        else:
            received = view[:count]
            self._records.feed(received)
            self._buffer.receive_from_network(received)
        self._fed += 1

    def _wait(self, op: str, deadline: float | None, *, write: bool) -> None:
        """Wait until the socket is ready, or raise Want*Error / socket.timeout."""
        if self._timeout == 0.0:
            direction = "writable" if write else "readable"
            error = WantWriteError if write else WantReadError
            raise error(f"the {op} operation would block: wait until the socket is {direction}")
        remaining = None if deadline is None else deadline - time.monotonic()
        if (remaining is not None and remaining <= 0) or not _wait_for(
            self._socket, write, remaining
        ):
            raise TimeoutError(f"The {op} operation timed out")

    # -- the native path (see "The native path" in the module docstring) -----------------

    def _pending_output(self) -> int:
        """Ciphertext accepted but not yet taken by the socket."""
        if self._native is not None:
            return self._native._socket_pending()
        return self._buffer.outgoing_bytes_buffered()

    def _native_call(
        self, op: str, deadline: float | None, fn: Callable[..., _T], *args: Any
    ) -> _T:
        """_call when the library drives the socket: call ``fn``, wait when it would block.

        A call that may read the socket (everything but a write after the
        handshake) holds ``_recv_lock``, as _fill does on the buffer path, so a
        thread waiting for readability never misses bytes another took.
        """
        writer = op == "write"
        while True:
            # Another thread may finish the handshake while we wait: a write then reads nothing.
            locking = self._timeout != 0.0 and not (writer and self._buffer._handshake_done)
            if locking and not self._recv_lock.acquire(False):
                self._await_other_reader(op, deadline, self._fed, writer=writer)
                continue
            try:
                return fn(*args)
            except WantReadError:
                want_write = False
            except WantWriteError:
                want_write = True
            except TLSError:
                self._enter(_State.BROKEN)
                self._flush_quietly()  # the alert that tells the peer why, if still queued
                self._drain_after_failure()
                raise
            finally:
                if locking:
                    self._release_reading()
            if not self._buffer._handshake_done:
                op = "handshake"  # a read or write running it implicitly (_phase, without a C call)
            if want_write:
                self._flush(op, deadline)
                continue
            fed = self._fed
            self._read_waits(True)
            if self._pending_output():
                with contextlib.suppress(WantWriteError):
                    self._flush(op, deadline, reader=True)
            if locking:
                self._native_fill(op, deadline, fed)
            elif self._timeout == 0.0:
                self._native_wait_readable(op, deadline)  # raises WantReadError / WantWriteError
            else:
                self._wait(op, deadline, write=False)  # not the reader's poll object: no lock held

    def _drain_after_failure(self) -> None:
        """Read (and drop) one chunk of what already arrived, as the buffer path would have.

        The library reads record by record, so after a failure the rest of the
        peer's flight may still be in the kernel, and closing a socket with
        unread bytes sends a reset, which can destroy our alert before the
        peer reads it.  The session is over: these bytes are of no use.
        """
        if not _MSG_DONTWAIT:
            return
        with contextlib.suppress(OSError):
            self._socket.recv_into(_scratch_view(), RECV_CHUNK, _MSG_DONTWAIT)

    def _native_read(
        self, deadline: float | None, wanted: bool, fn: Callable[..., _T], *args: Any
    ) -> _T:
        """A recv on the native path.

        When the last read had to wait for the peer (request/response traffic),
        the next one usually must too: if the library holds nothing it could
        return, wait for the socket first instead of making a read that finds
        nothing (a failed recv, an exception, the same wait).  Only after the
        handshake, in the OPEN state (a held stop or failure is answered at
        once), for a read that wants bytes (``wanted``) and not in non-blocking mode.
        """
        if (
            wanted
            and self._read_waited
            and self._timeout != 0.0
            and self._buffer._state is _BufferState.OPEN
        ):
            waiter = self._waiter
            assert waiter is not None
            if self._recv_lock.acquire(False):
                # The common case with the library's waiter, in as few steps as it takes:
                # it answers at once when bytes are held (no wait) or ciphertext is queued
                # (the general path below sends it first), and only the holder of
                # _recv_lock waits, as in _native_fill.
                try:
                    milliseconds = self._wait_ms  # the call has only just begun
                    status = waiter(milliseconds, 1)
                    if status == _WAIT_READY:
                        try:
                            return fn(*args)
                        except WantReadError:
                            pass  # only, say, a session ticket came: the loop below
                    elif status == _WAIT_TIMEOUT and milliseconds != _MAX_POLL_MS:
                        raise TimeoutError("The read operation timed out")
                except TLSError as exc:
                    self._native_read_failed(exc)
                    raise
                finally:
                    # _release_reading, inline (this is every request's path)
                    self._fed += 1
                    self._recv_lock.release()
                    if self._readers_waiting:
                        with self._fed_changed:
                            self._fed_changed.notify_all()
                return self._native_call("read", deadline, fn, *args)
            # Another reader holds _recv_lock: the general way, which waits its turn.
        else:
            self._read_waits(False)  # set again if this read has to wait
        return self._native_call("read", deadline, fn, *args)

    def _native_read_failed(self, exc: TLSError) -> None:
        """A read on the fast path raised ``exc``: a failure ends the session, as in _native_call."""
        if not isinstance(exc, (WantReadError, WantWriteError)):
            self._enter(_State.BROKEN)
            self._flush_quietly()  # the alert that tells the peer why, if still queued
            self._drain_after_failure()

    def _release_reading(self) -> None:
        """Give back ``_recv_lock`` after a call that may have read: waiters call again."""
        self._fed += 1
        self._recv_lock.release()
        if self._readers_waiting:
            with self._fed_changed:
                self._fed_changed.notify_all()

    def _native_fill(self, op: str, deadline: float | None, fed: int) -> None:
        """_fill for the native path: wait until the socket is readable, as the one reader."""
        while True:
            if self._fed != fed:
                return  # another thread's call may have read what we need: call again
            if self._recv_lock.acquire(False):
                break
            self._await_other_reader(op, deadline, fed)
        try:
            if self._fed == fed:
                self._native_wait_readable(op, deadline)
        finally:
            self._release_reading()

    def _native_wait_readable(self, op: str, deadline: float | None) -> None:
        """Wait for bytes from the peer, or raise WantReadError / WantWriteError / timeout."""
        if self._timeout == 0.0:
            if self._pending_output():
                # Our unsent bytes, not the peer's silence, are what holds things up.
                self._wait(op, deadline, write=True)
            self._wait(op, deadline, write=False)
        waiter = self._waiter
        assert waiter is not None
        while True:
            if deadline is None:
                milliseconds = -1
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"The {op} operation timed out")
                # Round up, so a short timeout does not spin at 0; poll() takes an int.
                milliseconds = min(math.ceil(remaining * 1000), _MAX_POLL_MS)
            status = waiter(milliseconds, 0)
            if status == _WAIT_READY:
                return
            if status == _WAIT_TIMEOUT and milliseconds != _MAX_POLL_MS:
                raise TimeoutError(f"The {op} operation timed out")
            # A signal (its handlers ran as the call returned) or a capped timeout: again.

    def _send_native(self, op: str, deadline: float | None) -> None:
        """_send_pending when the library drives the socket: its queue, sent in order."""
        native = self._native
        assert native is not None
        if self._send_error is not None:
            native._socket_flush(discard=True)
            if op in ("write", "shutdown"):
                raise self._send_error
            return  # reads go on: the peer's alert may be waiting
        while True:
            try:
                left = native._socket_flush()
            except (BrokenPipeError, ConnectionResetError) as exc:
                self._send_error = exc
                native._socket_flush(discard=True)
                raise
            if not left:
                return
            self._wait(op, deadline, write=True)
