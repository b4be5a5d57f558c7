"""TLSWrappedSocket: the stream-socket API over any TLSWrappedBuffer.

This class is written once for every backend.  The backend's buffer is a
sans-I/O state machine: it takes ciphertext from ``receive_from_network``,
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
received bytes reach the buffer only whole, and the locks are released.

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

Threads
-------
One thread may receive while another sends (a common pattern with
blocking sockets).  A short lock guards every call into the buffer; one
thread at a time sends pending ciphertext (peek, send, consume must not
interleave) and one at a time reads from the socket.  Two lost wakeups
need care, because either thread may be the one the handshake needs:

* Sending: a reader never waits behind a writer blocked on a full socket
  (if the peer did the same, both would wait forever); it leaves its
  bytes to that writer, which therefore checks for new bytes each time it
  lets go of the send lock.
* Receiving: a call that needs bytes while another thread is reading
  waits until that thread *fed the buffer* (a counter and a condition),
  then calls again: the bytes it needs may be in, and the peer may send
  nothing more until it acts on them.  Waiting for the read lock instead
  starves it: the reader takes the lock straight back to wait for more.
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import select
import socket as _socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TypeVar, overload

from ._errors import ConfigurationError, RaggedEOF, TLSError, WantReadError, WantWriteError

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._buffer import TLSWrappedBuffer
    from ._ciphers import CipherSuite
    from ._context import ClientContext, ServerContext
    from ._protocols import NextProtocol
    from ._versions import TLSVersion

__all__ = ["TLSWrappedSocket"]

_T = TypeVar("_T")

# Sizes measured on loopback against ssl.SSLSocket: with 64 KiB chunks the
# wrapper cost 13% more CPU than ssl, with these about the same.  The receive
# buffer is one per thread, so its size costs no memory per connection.
RECV_CHUNK = 256 * 1024  # network bytes per recv_into (about 16 records)
SEND_CHUNK = 256 * 1024  # plaintext handed to the buffer per write()
FLUSH_CHUNK = 512 * 1024  # ciphertext offered to the socket per send()
PENDING_HIGH_WATER = 512 * 1024  # non-blocking send() accepts nothing above this
_DISCARD_SIZE = 16 * 1024  # read size while unwrap() waits for close_notify
_HEADER = 5  # TLS record header: type, version (2), length (2)

_HAVE_POLL = hasattr(select, "poll")
_MSG_DONTWAIT: int = getattr(_socket, "MSG_DONTWAIT", 0)

_scratch = threading.local()


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


class TLSWrappedSocket:
    """A TLS connection over a connected stream socket (see the module docstring)."""

    def __init__(self, socket: _socket.socket, buffer: TLSWrappedBuffer) -> None:
        if socket.type != _socket.SOCK_STREAM:
            raise ConfigurationError(f"TLS needs a stream socket, not {socket.type!r}")
        self._socket = socket
        self._buffer = buffer
        self._timeout: float | None = socket.gettimeout()
        self._apply_timeout()
        self._lock = threading.Lock()  # every call into the buffer
        self._send_lock = threading.Lock()  # one thread sends pending ciphertext at a time
        self._recv_lock = threading.Lock()  # one thread reads the socket at a time
        self._unsent: memoryview | None = None  # peeked ciphertext the socket has not taken
        self._sender_blocks = False  # a _flush() holds _send_lock (and re-checks after)
        self._records = _RecordTracker()
        self._exact_records = False  # unwrap(): never read past a record's end
        self._eof = False  # the socket reported end of file
        self._fed = 0  # how many times the buffer was fed (see _fill)
        self._fed_changed = threading.Condition(threading.Lock())  # _fed moved or a reader left
        self._failed = False  # a TLS error ended the connection
        # The peer stopped reading (EPIPE/ECONNRESET on send): what we queue can
        # never arrive, but its last words (an alert saying why) may still be read.
        self._send_error: OSError | None = None
        self._closed = False  # close() was called (files from makefile may still use us)
        self._released = False  # the socket was closed or handed back by unwrap()
        self._io_refs = 0  # open makefile() files

    # -- socket identity and options ----------------------------------------

    @property
    def family(self) -> int:
        return self._socket.family

    @property
    def type(self) -> int:
        return self._socket.type

    @property
    def proto(self) -> int:
        return self._socket.proto

    def fileno(self) -> int:
        return self._socket.fileno()

    def getpeername(self) -> Any:
        return self._socket.getpeername()

    def getsockname(self) -> Any:
        return self._socket.getsockname()

    def setsockopt(self, level: int, optname: int, value: int | Buffer) -> None:
        self._socket.setsockopt(level, optname, value)

    @overload
    def getsockopt(self, level: int, optname: int) -> int: ...
    @overload
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...
    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        if buflen is None:
            return self._socket.getsockopt(level, optname)
        return self._socket.getsockopt(level, optname, buflen)

    def gettimeout(self) -> float | None:
        return self._timeout

    def settimeout(self, value: float | None) -> None:
        if value is not None:
            value = float(value)
            if value < 0 or math.isnan(value):
                raise ValueError("Timeout value out of range")
        self._timeout = value
        if not self._released:
            self._apply_timeout()

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    def _apply_timeout(self) -> None:
        # Blocking: let the OS block.  Timeout or non-blocking: we poll ourselves.
        self._socket.settimeout(None if self._timeout is None else 0.0)

    # -- what the TLS buffer knows --------------------------------------------

    @property
    def context(self) -> ClientContext | ServerContext:
        return self._buffer.context

    @property
    def server_hostname(self) -> str | None:
        return self._buffer.server_hostname

    def cipher(self) -> CipherSuite | int | None:
        return self._buffer.cipher()

    def negotiated_protocol(self) -> NextProtocol | bytes | None:
        return self._buffer.negotiated_protocol()

    @property
    def negotiated_tls_version(self) -> TLSVersion | int | None:
        return self._buffer.negotiated_tls_version

    def getpeercert(self) -> list[bytes] | None:
        """The peer's chain as DER, leaf first (None before the handshake or without one)."""
        return self._buffer.getpeercert()

    def outgoing_bytes_buffered(self) -> int:
        """Ciphertext accepted but not yet taken by the socket (non-zero only after a short write)."""
        with self._lock:
            return self._buffer.outgoing_bytes_buffered()

    # -- TLS operations -----------------------------------------------------------

    def do_handshake(self) -> None:
        """Run the handshake now (otherwise the first recv or send runs it)."""
        self._check_usable()
        deadline = self._deadline()
        self._call("handshake", deadline, self._buffer.do_handshake)
        self._flush("handshake", deadline)

    def recv(self, bufsize: int = 1024, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes of application data; ``b""`` after the peer's close_notify."""
        self._check_flags(flags, "recv")
        self._check_usable()
        data = self._call("read", self._deadline(), self._buffer.read, bufsize)
        self._flush_quietly()
        return data

    def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        """Read into ``buffer`` (at most ``nbytes``, 0 = its size); 0 after close_notify."""
        self._check_flags(flags, "recv_into")
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        self._check_usable()
        count = self._call("read", self._deadline(), self._buffer.readinto, buffer, nbytes or None)
        self._flush_quietly()
        return count

    def send(self, data: Buffer, flags: int = 0) -> int:
        """Send application data; returns how many bytes were accepted (see the module docstring)."""
        self._check_flags(flags, "send")
        self._check_usable()
        with memoryview(data) as view:
            return self._send(view.cast("B"), self._deadline())

    def sendall(self, data: Buffer, flags: int = 0) -> None:
        """Send all of ``data``; one deadline for the whole call."""
        self._check_flags(flags, "sendall")
        self._check_usable()
        deadline = self._deadline()
        with memoryview(data) as view, view.cast("B") as octets:
            count = self._send(octets, deadline)
            while count < len(octets):
                count += self._send(octets[count:], deadline)

    def sendfile(self, file: BinaryIO, offset: int = 0, count: int | None = None) -> int:
        """Send a file's contents (read in chunks: TLS cannot use os.sendfile)."""
        if self._timeout == 0.0:
            raise ValueError("non-blocking sockets are not supported")
        if count is not None and count <= 0:
            raise ValueError(f"count must be a positive integer (got {count!r})")
        if offset:
            file.seek(offset)
        total = 0
        try:
            while count is None or total < count:
                size = SEND_CHUNK if count is None else min(SEND_CHUNK, count - total)
                data = file.read(size)
                if not data:
                    break
                self.sendall(data)
                total += len(data)
        finally:
            if total and hasattr(file, "seek"):
                file.seek(offset + total)
        return total

    def shutdown(self, how: int) -> None:
        """Shut down the connection; SHUT_WR and SHUT_RDWR send close_notify first."""
        self._check_usable()
        if how in (_socket.SHUT_WR, _socket.SHUT_RDWR) and self._established() and not self._failed:
            deadline = self._deadline()
            self._call("write", deadline, self._buffer.shutdown)
            self._flush("write", deadline)
        self._socket.shutdown(how)

    def unwrap(self) -> _socket.socket:
        """End TLS (close_notify both ways) and return the plain socket, which stays open."""
        self._check_usable()
        if not self._established():
            raise TLSError("unwrap() needs a finished handshake: there is no TLS session to end")
        deadline = self._deadline()
        self._discard_buffered()
        self._call("shutdown", deadline, self._buffer.shutdown)
        self._flush("shutdown", deadline)
        self._exact_records = True
        try:
            while self._call("shutdown", deadline, self._buffer.read, _DISCARD_SIZE):
                pass  # application data after our close_notify: dropped, as SSL_shutdown does
        finally:
            self._exact_records = False
        sock = self._socket
        self._released = self._closed = True
        sock.settimeout(self._timeout)
        return sock

    def _discard_buffered(self) -> None:
        """Drop application data the buffer already holds (unwrap() discards it anyway).

        Done before close_notify because OpenSSL's SSL_shutdown, which
        ssl.SSLObject.unwrap() calls twice, fails the connection with
        APPLICATION_DATA_AFTER_CLOSE_NOTIFY when it meets unread data.
        """
        try:
            while True:
                with self._lock:
                    if not self._buffer.read(_DISCARD_SIZE):
                        return
        except WantReadError:
            return  # everything that had arrived is gone; no I/O here
        except TLSError:
            self._failed = True
            raise

    # -- closing ------------------------------------------------------------------

    def close(self) -> None:
        """Close the socket (no close_notify: see the module docstring); makefile() files keep it open."""
        if self._closed:
            return
        self._closed = True
        if self._io_refs <= 0:
            self._real_close()

    def _real_close(self) -> None:
        if not self._released:
            self._released = True
            self._unsent = None
            self._socket.close()

    def __enter__(self) -> TLSWrappedSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._released:
            state = "closed"
        else:
            try:
                state = f"fd={self._socket.fileno()}, peer={self._socket.getpeername()!r}"
            except OSError:
                state = f"fd={self._socket.fileno()}"
        backend = type(self._buffer).__module__
        return f"<tlsapi.TLSWrappedSocket {state}, {backend}>"

    # -- makefile -------------------------------------------------------------------

    @overload
    def makefile(
        self,
        mode: Literal["r", "w", "rw", "wr"] = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.TextIOWrapper: ...
    @overload
    def makefile(
        self,
        mode: Literal["b", "rb", "br", "wb", "bw", "rwb", "rbw", "wrb", "wbr", "brw", "bwr"],
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.BufferedIOBase | io.RawIOBase: ...
    @overload
    def makefile(
        self,
        mode: str,
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.BufferedIOBase | io.RawIOBase | io.TextIOWrapper: ...
    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.BufferedIOBase | io.RawIOBase | io.TextIOWrapper:
        """A file object over the connection, as ``socket.makefile`` (timeouts apply)."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        binary = "b" in mode
        raw_mode = ("r" if reading else "") + ("w" if writing else "")
        # SocketIO only calls recv_into, send, fileno and _decref_socketios.
        raw = _socket.SocketIO(self, raw_mode)  # type: ignore[arg-type]
        self._io_refs += 1
        if buffering is None or buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffered: io.BufferedIOBase
        if reading and writing:
            buffered = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffered = io.BufferedReader(raw, buffering)
        else:
            buffered = io.BufferedWriter(raw, buffering)
        if binary:
            return buffered
        # typeshed wants a .name on the buffer; socket.makefile passes the same objects.
        text: io.TextIOWrapper = io.TextIOWrapper(buffered, encoding, errors, newline)  # type: ignore[arg-type]
        text.mode = mode  # type: ignore[misc]
        return text

    def _decref_socketios(self) -> None:
        """A makefile() file was closed (called by socket.SocketIO)."""
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._real_close()

    # -- the engine ---------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._released:
            raise OSError(errno.EBADF, "the TLS socket is closed (or was unwrapped)")

    @staticmethod
    def _check_flags(flags: int, method: str) -> None:
        if flags:
            raise ValueError(
                f"non-zero flags not allowed in calls to {method}() on TLSWrappedSocket"
            )

    def _established(self) -> bool:
        return self._buffer.negotiated_tls_version is not None

    def _deadline(self) -> float | None:
        timeout = self._timeout
        return None if timeout is None else time.monotonic() + timeout

    def _call(self, op: str, deadline: float | None, fn: Callable[..., _T], *args: Any) -> _T:
        """Call ``fn`` on the buffer until it succeeds, doing the I/O it asks for."""
        while True:
            try:
                with self._lock:
                    fed = self._fed
                    result = fn(*args)
            except WantReadError:
                # A handshake flight (or alert, key update) must reach the peer before it answers.
                # Non-blocking and stuck: read what is there; _fill raises WantWriteError if nothing.
                with contextlib.suppress(WantWriteError):
                    self._flush(op, deadline, wait_for_other_sender=False)
                self._fill(op, deadline, fed)
                continue
            except WantWriteError:
                if not self.outgoing_bytes_buffered():
                    raise TLSError(
                        f"{type(self._buffer).__name__} asked for output space "
                        "but holds no output: a backend bug"
                    ) from None
                self._flush(op, deadline)
                continue
            except TLSError:
                self._failed = True
                self._flush_quietly()  # the alert that tells the peer why
                raise
            return result

    def _send(self, data: memoryview, deadline: float | None) -> int:
        """Accept and send what the rules allow; return the plaintext count (see the docstring)."""
        if self._timeout == 0.0:
            before = self.outgoing_bytes_buffered()
            try:
                self._flush("write", deadline)
            except WantWriteError:
                after = self.outgoing_bytes_buffered()
                if after == before or after >= PENDING_HIGH_WATER:
                    raise
        else:
            self._flush("write", deadline)  # a timeout here: nothing accepted, the error stands
        if not data:
            self._call("write", deadline, self._buffer.do_handshake)
            return 0
        count = 0
        try:
            while count < len(data):
                count += self._call(
                    "write", deadline, self._buffer.write, data[count : count + SEND_CHUNK]
                )
                self._flush("write", deadline)
        except (WantReadError, WantWriteError, TimeoutError):
            if count:
                return count  # accepted data is ours to send now: never ask for it again
            raise
        return count

    def _flush(
        self, op: str, deadline: float | None, *, wait_for_other_sender: bool = True
    ) -> None:
        """Send all pending ciphertext, waiting for the socket as the timeout allows."""
        while True:
            if not self._acquire_sender(wait_for_other_sender):
                return  # the thread sending now takes our bytes too (it re-checks below)
            self._sender_blocks = True
            try:
                self._send_pending(op, deadline)
            finally:
                self._sender_blocks = False
                self._send_lock.release()
            # A thread that skipped while we held the lock may have queued bytes after
            # our last peek: without this check they would wait for a later call.
            if not self.outgoing_bytes_buffered():
                return

    def _acquire_sender(self, wait: bool) -> bool:
        """Take ``_send_lock``; unless ``wait``, give up only to a flusher that re-checks."""
        if self._send_lock.acquire(blocking=False):
            return True
        if wait:
            self._send_lock.acquire()
            return True
        # A reader must not wait behind a writer blocked on a full socket (if the
        # peer does the same, both wait forever), but it may skip only while such
        # a _flush() holds the lock: that one sends our bytes after its own.
        # _flush_quietly() never waits, so it is worth waiting for.
        while not self._send_lock.acquire(timeout=0.005):
            if self._sender_blocks:
                return False
        return True

    def _send_pending(self, op: str, deadline: float | None) -> None:
        """The body of _flush (``_send_lock`` held): peek, send, consume until empty."""
        if self._send_error is not None:
            self._drop_pending()
            if op in ("write", "shutdown"):
                raise self._send_error
            return  # reads go on: the peer's alert may be waiting
        while True:
            unsent = self._unsent
            if unsent is None:
                with self._lock:
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
            with self._lock:
                self._buffer.consume_outgoing(sent)
            self._unsent = unsent[sent:] if sent < len(unsent) else None

    def _drop_pending(self) -> None:
        """Forget ciphertext that can no longer be sent (``_send_lock`` held)."""
        with self._lock:
            self._buffer.consume_outgoing(self._buffer.outgoing_bytes_buffered())
        self._unsent = None

    def _flush_quietly(self) -> None:
        """Send pending ciphertext if the socket takes it right now; never wait, never raise."""
        if self._released or not self.outgoing_bytes_buffered():
            return
        if not self._send_lock.acquire(blocking=False):
            return
        try:
            with self._lock:
                chunk = self._unsent or self._buffer.peek_outgoing(FLUSH_CHUNK)
            if self._timeout is None:
                if not _MSG_DONTWAIT and not _wait_for(self._socket, True, 0):
                    return
                sent = self._socket.send(chunk, _MSG_DONTWAIT)
            else:
                sent = self._socket.send(chunk)
            with self._lock:
                self._buffer.consume_outgoing(sent)
            self._unsent = memoryview(chunk)[sent:] if sent < len(chunk) else None
        except OSError:
            pass  # the next real call meets the same error, with nothing lost
        finally:
            self._send_lock.release()

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

    def _await_other_reader(self, op: str, deadline: float | None, fed: int) -> None:
        """Another thread is reading the socket: wait until it fed the buffer or stopped.

        Not a wait for the lock itself: a reader that loops re-takes it at once
        (locks are not fair), and a writer waiting for the lock would never run.
        """
        with self._fed_changed:
            while self._fed == fed and self._recv_lock.locked():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"The {op} operation timed out")
                self._fed_changed.wait(remaining)

    def _read_socket(self, op: str, deadline: float | None) -> None:
        """The body of _fill (``_recv_lock`` held): one recv_into, then feed the buffer."""
        view = _scratch_view()
        if self._exact_records:
            view = view[: self._records.to_boundary()]
        while True:
            try:
                count = self._socket.recv_into(view)
            except BlockingIOError:
                if self._timeout == 0.0 and self.outgoing_bytes_buffered():
                    # Our unsent bytes, not the peer's silence, are what holds things up.
                    self._wait(op, deadline, write=True)
                self._wait(op, deadline, write=False)
                continue
            break
        if count == 0:
            self._eof = True
            with self._lock:
                self._buffer.receive_from_network(b"")
                self._fed += 1
            return
        received = view[:count]
        self._records.feed(received)
        with self._lock:
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
