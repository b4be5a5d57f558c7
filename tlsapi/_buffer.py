"""TLSWrappedBuffer: the sans-I/O core that every backend implements.

The public methods here hold the semantic rules of PEP 543 once for every
backend: implicit handshake before the first read or write, ``b""`` forever
after the peer's close_notify, no writes after ``shutdown()``, raw values
turned into enums with unknown ones passed through.  A backend implements the
``_``-prefixed hooks; they drive the C library over two ByteQueues:

    receive_from_network(data) --> _incoming --> library reads (pull)
    library writes (push)      --> _outgoing --> peek_outgoing / consume_outgoing

``receive_from_network(b"")`` tells the buffer that the transport reached
end of file (as in h11): a read that then finds no close_notify raises
RaggedEOF, and a handshake that cannot finish raises RaggedEOF too.

Want-errors follow PEP 543: WantReadError means "feed me more bytes and call
the same method again with the same arguments".  Any other TLSError from a
hook is fatal: it is kept and raised again by every later call.

A backend whose library keeps the network bytes in its own storage may
override the network-side hooks instead (``_receive``, ``_incoming_size``,
and ``_peek_outgoing``, ``_consume_outgoing`` and ``_outgoing_size``
together), keeping their rules: peek leaves bytes in place, consuming more than is buffered is a
ValueError.  The GnuTLS and NSS backends do, to move no byte through Python
per record.

Threads and re-entry.  cffi and the ``ssl`` module release the GIL inside
every C call, so nothing else stops two threads from running the library on
one connection at once (heap corruption in every library we bind).  Every
public method therefore holds the connection's lock for the whole call:
calls from several threads are serialised, never interleaved.  A call made
from inside another call on the same thread (an ``sni_callback`` that reads
or writes the connection it was given) cannot wait for itself: it raises
RuntimeError.  Backends run user code through ``_run_callback`` so that this
is detected; the hooks below always run with the lock held.  Uncontended,
the lock costs one non-blocking acquire and one release per call (measured
with ``tlsapi bench``: see the README).

A BaseException that is not an Exception (KeyboardInterrupt, SystemExit)
escaping a call leaves the library in an unknown state: it propagates as it
is, and the connection is failed from then on.

The base class's attributes (``_lock``, ``_context``, ``_server_hostname``,
``_incoming``, ``_outgoing``, ``_transport_eof``, ``_handshake_done``,
``_shutdown_sent``, ``_peer_closed``, ``_first_failure``) are shared state
that backends may read; a backend must not reuse these names for its own.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from ._bytequeue import ByteQueue
from ._ciphers import CipherSuite
from ._errors import TLSError, WantReadError, WantWriteError
from ._protocols import NextProtocol
from ._versions import TLSVersion

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._context import ClientContext, ServerContext

__all__ = ["TLSWrappedBuffer"]

DEFAULT_READ_SIZE = 16384
# read() hands out at most this much per call (four full records): a huge
# ``amt`` must not make a backend allocate it.
MAX_READ_SIZE = 65536

_get_ident = threading.get_ident
_T = TypeVar("_T")


class TLSWrappedBuffer(abc.ABC):
    """One TLS connection over in-memory buffers (no I/O of its own)."""

    def __init__(self, context: ClientContext | ServerContext, server_hostname: str | None) -> None:
        self._lock = threading.Lock()
        # The thread running user code from inside a call (see _run_callback).
        self._callback_thread: int | None = None
        self._context = context
        self._server_hostname = server_hostname
        self._incoming = ByteQueue()
        self._outgoing = ByteQueue()
        self._transport_eof = False
        self._handshake_done = False
        self._shutdown_sent = False
        self._peer_closed = False
        # The first fatal error; every later call raises it again, so a
        # broken connection never half-works or reports a vaguer error.
        self._first_failure: TLSError | None = None

    # -- identity -------------------------------------------------------

    @property
    def context(self) -> ClientContext | ServerContext:
        return self._context

    @property
    def server_hostname(self) -> str | None:
        """The name given to wrap_buffers (client), or the SNI the client sent (server)."""
        return self._server_hostname

    # -- one call at a time -------------------------------------------------

    # The hot methods below inline the lock's fast path (a non-blocking
    # acquire); this is the slow one: re-entry, or another thread inside.
    def _wait_for_turn(self) -> None:
        if self._callback_thread == _get_ident():
            raise RuntimeError(
                "this TLS connection was used from inside its own callback: a callback must "
                "not call read/write/do_handshake/... on the connection it was given"
            )
        self._lock.acquire()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the connection's lock (for methods a backend adds, such as key_update)."""
        if not self._lock.acquire(False):
            self._wait_for_turn()
        try:
            yield
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            self._lock.release()

    def _run_callback(self, callback: Callable[..., _T], *args: Any) -> _T:
        """Run user code from inside a call: a call back into this connection then raises."""
        self._callback_thread = _get_ident()
        try:
            return callback(*args)
        finally:
            self._callback_thread = None

    def _interrupted(self, exc: BaseException) -> None:
        """KeyboardInterrupt and friends mid-call: the library's state is unknown from now on."""
        if isinstance(exc, TLSError):
            self._remember(exc)
        elif not isinstance(exc, Exception) and self._first_failure is None:
            failure = TLSError(
                f"this TLS connection was interrupted by {type(exc).__name__} in the middle "
                "of an operation and cannot be used any more"
            )
            failure.__cause__ = exc
            self._first_failure = failure

    def _remember(self, error: TLSError) -> None:
        if not isinstance(error, (WantReadError, WantWriteError)) and self._first_failure is None:
            self._first_failure = error

    # -- the TLS state machine --------------------------------------------

    def do_handshake(self) -> None:
        """Run the handshake; raises WantReadError until it has the peer's messages."""
        if not self._lock.acquire(False):
            self._wait_for_turn()
        try:
            self._run_handshake()
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            self._lock.release()

    def _run_handshake(self) -> None:
        """The handshake, with the lock held."""
        if self._handshake_done:
            return
        if self._first_failure is not None:
            raise self._first_failure
        self._handshake()
        self._handshake_done = True

    # These are the hot path: the common argument types skip the memoryview
    # wrapping, and the handshake check is one attribute test.

    def read(self, amt: int = DEFAULT_READ_SIZE) -> bytes:
        """Up to ``amt`` bytes of application data; ``b""`` after close_notify."""
        if amt <= 0:
            if amt < 0:
                raise ValueError("amt must not be negative")
            return b""
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            if self._peer_closed:
                return b""
            if not self._handshake_done:
                self._run_handshake()
            elif self._first_failure is not None:
                raise self._first_failure
            data = self._read(amt if amt <= MAX_READ_SIZE else MAX_READ_SIZE)
            if not data:
                self._peer_closed = True
            return data
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            lock.release()

    def readinto(self, buffer: Buffer, amt: int | None = None) -> int:
        """Read into ``buffer`` (up to ``amt`` bytes); 0 after close_notify."""
        if amt is None and type(buffer) is bytearray:
            target: bytearray | memoryview = buffer
        else:
            target = memoryview(buffer).cast("B")
            if target.readonly:
                raise TypeError("readinto() needs a writable buffer, such as a bytearray")
            if amt is not None:
                if amt < 0:
                    raise ValueError("amt must not be negative")
                target = target[:amt]
        if not len(target):
            return 0
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            if self._peer_closed:
                return 0
            if not self._handshake_done:
                self._run_handshake()
            elif self._first_failure is not None:
                raise self._first_failure
            count = self._readinto(target)
            if count == 0:
                self._peer_closed = True
            return count
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            lock.release()

    def write(self, buf: Buffer) -> int:
        """Encrypt application data; returns how many bytes were taken."""
        data = buf if type(buf) is bytes or type(buf) is bytearray else memoryview(buf).cast("B")
        if self._shutdown_sent:  # a misuse, not a failure of the connection
            raise TLSError("cannot write after shutdown(): the close_notify alert was already sent")
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            if not self._handshake_done:
                self._run_handshake()
            elif self._first_failure is not None:
                raise self._first_failure
            if not len(data):
                return 0
            return self._write(data)
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            lock.release()

    def shutdown(self) -> None:
        """Send close_notify (once); the peer's close_notify then reads as ``b""``."""
        with self._exclusive():
            if self._shutdown_sent:
                return
            if self._first_failure is not None:
                raise self._first_failure
            self._shutdown()
            self._shutdown_sent = True

    # -- the network side -------------------------------------------------

    def receive_from_network(self, data: Buffer) -> None:
        """Bytes that arrived from the peer; ``b""`` means the transport's end of file."""
        chunk = data if type(data) is bytes else memoryview(data).cast("B")
        if self._transport_eof and len(chunk):  # a misuse, not a failure of the connection
            raise TLSError("bytes received after the transport's end of file")
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            if len(chunk):
                self._receive(chunk)
            elif not self._transport_eof:
                self._transport_eof = True
                self._receive_eof()
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            lock.release()

    def peek_outgoing(self, amt: int) -> bytes:
        """Up to ``amt`` bytes waiting to go to the peer, left in place."""
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            return self._peek_outgoing(amt)
        finally:
            lock.release()

    def consume_outgoing(self, amt: int) -> None:
        """Mark ``amt`` bytes from peek_outgoing as sent."""
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            self._consume_outgoing(amt)
        finally:
            lock.release()

    def incoming_bytes_buffered(self) -> int:
        with self._exclusive():
            return self._incoming_size()

    def outgoing_bytes_buffered(self) -> int:
        lock = self._lock
        if not lock.acquire(False):
            self._wait_for_turn()
        try:
            return self._outgoing_size()
        finally:
            lock.release()

    # -- what was negotiated ----------------------------------------------

    # Before the handshake these are None without taking the lock, so that an
    # sni_callback may look at them.

    def cipher(self) -> CipherSuite | int | None:
        if not self._handshake_done:
            return None
        with self._exclusive():
            number = self._cipher_number()
        return None if number is None else CipherSuite.from_number(number)

    def negotiated_protocol(self) -> NextProtocol | bytes | None:
        if not self._handshake_done:
            return None
        with self._exclusive():
            raw = self._negotiated_protocol()
        return None if not raw else NextProtocol.from_bytes(raw)

    @property
    def negotiated_tls_version(self) -> TLSVersion | int | None:
        if not self._handshake_done:
            return None
        with self._exclusive():
            number = self._tls_version_number()
        return None if number is None else TLSVersion.from_wire(number)

    def getpeercert(self) -> list[bytes] | None:
        """The peer's chain as DER, leaf first; None before the handshake or without one."""
        if not self._handshake_done:
            return None
        with self._exclusive():
            return self._peer_chain()

    # -- hooks for backends (called with the lock held) ------------------------

    def _receive(self, data: bytes | memoryview) -> None:
        self._incoming.append(data)

    def _receive_eof(self) -> None:
        """The transport reached end of file (``_transport_eof`` is already set)."""

    def _flush_library_output(self) -> None:
        """Move bytes the library holds into ``_outgoing`` (only for libraries that keep their own)."""

    # A backend whose library keeps the network bytes itself overrides these
    # four together (see the module docstring).

    def _peek_outgoing(self, amt: int) -> bytes:
        self._flush_library_output()
        return self._outgoing.peek(amt)

    def _consume_outgoing(self, amt: int) -> None:
        if amt < 0 or amt > len(self._outgoing):
            raise ValueError(f"cannot consume {amt} bytes: {len(self._outgoing)} are buffered")
        self._outgoing.consume(amt)

    def _outgoing_size(self) -> int:
        self._flush_library_output()
        return len(self._outgoing)

    def _incoming_size(self) -> int:
        return len(self._incoming)

    @abc.abstractmethod
    def _handshake(self) -> None: ...

    @abc.abstractmethod
    def _read(self, amt: int) -> bytes:
        """Up to ``amt`` bytes (>0); ``b""`` on close_notify; WantReadError / RaggedEOF."""

    @abc.abstractmethod
    def _readinto(self, target: bytearray | memoryview) -> int:
        """Read into ``target`` (non-empty, bytes-shaped); 0 on close_notify."""

    @abc.abstractmethod
    def _write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt ``data`` (non-empty, bytes-shaped); return how many bytes were taken."""

    @abc.abstractmethod
    def _shutdown(self) -> None: ...

    @abc.abstractmethod
    def _cipher_number(self) -> int | None: ...

    @abc.abstractmethod
    def _negotiated_protocol(self) -> bytes | None: ...

    @abc.abstractmethod
    def _tls_version_number(self) -> int | None: ...

    @abc.abstractmethod
    def _peer_chain(self) -> list[bytes] | None: ...
