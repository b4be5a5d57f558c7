"""TLSWrappedBuffer: the sans-I/O core that every backend implements.

The public methods here hold the semantic rules of PEP 543 once for every
backend: implicit handshake before the first read or write, ``b""`` forever
after the peer's close_notify, no writes after ``shutdown()``, a fatal error
raised again by every later call, raw values turned into enums with unknown
ones passed through.  A backend implements the ``_``-prefixed hooks, which
drive its library; the rules live here, in one state machine.

The state machine (``_State``, transitions in ``_TRANSITIONS``; h11's rule:
every change of state goes through ``_enter``)::

    HANDSHAKING --> OPEN --> (STOP_HELD -->) PEER_CLOSED
    any of them --> FAILED

* HANDSHAKING until the backend's ``_handshake`` returns.
* OPEN: reads and writes go to the backend.
* STOP_HELD: a read took data and then met what ends reading (the peer's
  close_notify, or a fatal error) in the same call.  The backend reports it
  with ``_stop_after_data`` and returns the data; the next read delivers the
  stop.  So the caller sees every byte before the end, and the end once.
* PEER_CLOSED: close_notify read: reads return ``b""`` forever; writes go on
  (TLS allows a half-closed connection).
* FAILED: ``_first_failure`` is raised by every call (a held error fails
  writes at once: the library's session is no longer usable).
Our own close_notify (``shutdown()``) is the one other fact, ``_shutdown_sent``:
it stops writes and nothing else.

The network side.  ``receive_from_network(b"")`` tells the buffer that the
transport reached end of file (as in h11): a read that then finds no
close_notify raises RaggedEOF, and so does a handshake that cannot finish.
Incoming bytes go to ``_receive`` (default: the ``_incoming`` queue, for a
library that pulls from Python; a backend whose library keeps them in its
own storage overrides ``_receive`` and ``_incoming_size``).  Outgoing bytes
take one path for every backend: ``_library_output`` returns what the
library wrote since the last call as one ``bytes`` and the core queues it in
``_outgoing`` (a ByteQueue: no copy for ``bytes``, and a peek at one whole
chunk is that very object); peek_outgoing / consume_outgoing work on that
queue.  (A backend may instead append to ``_outgoing`` itself in
``_flush_library_output``, which the default ``_library_output`` calls; the
returned ``bytes`` saves a Python call per small record.)

Want-errors follow PEP 543: WantReadError means "feed me more bytes and call
the same method again with the same arguments".

Threads and re-entry.  cffi and the ``ssl`` module release the GIL inside
every C call, so nothing else stops two threads from running the library on
one connection at once (heap corruption in every library we bind).  Every
public method therefore holds the connection's lock for the whole call:
calls from several threads are serialised, never interleaved.  A call made
from inside another call on the same thread (an ``sni_callback`` that reads
or writes the connection it was given) cannot wait for itself: it raises
RuntimeError.  Backends run user code through ``_run_callback`` so that this
is detected; the hooks always run with the lock held, and a method a backend
adds takes it with ``_exclusive()``.  The lock is a token in a list: taking
it is ``list.pop()`` and giving it back ``list.append()``, each one step under
the GIL, so an uncontended call pays two cheap C calls where
``threading.Lock.acquire(False)`` parsed its arguments on every call (a tenth
of a small record's cost).  A thread that finds the token gone waits on a lock
of its own, queued in ``_waiters`` before it looks again, and whoever puts the
token back wakes every waiter: no wake-up can fall between the two.

The C fast path.  Where the core's C extension ``tlsapi._speedups`` is
built (and ``TLSAPI_NO_SPEEDUPS`` is not set to ``1``), TLSWrappedBuffer's C
base class ``FastBase`` runs the common case of do_handshake, write, read,
readinto, receive_from_network, peek_outgoing, consume_outgoing and the ssl
adapter's _bio_read and _bio_write without a Python frame: the token there,
a small size, a backend that handed its C functions over
(``_fast_functions``, asked when a client's buffer is made, once the peer's
first bytes passed the not-TLS check, or on entering OPEN; the contract is
``tlsapi/include/tlsapi_fast.h``), and the state the method needs
(HANDSHAKING for do_handshake, OPEN for reads and writes; moving ciphertext
needs none, but a receive waits for the not-TLS check).  A large write,
where the backend can, encrypts straight into the bytes object that
peek_outgoing then hands out (one copy of a bulk transfer fewer); a
handshake step that needs the peer's next bytes raises WantReadError from
C.  Everything else goes to the Python methods below, renamed
``_write_slow`` and so on, which keep every rule; a result of the
backend's functions that is not plain success comes back to
``_fast_handshake_done`` / ``_fast_write_done`` / ``_fast_recv_done`` with
the lock held.  ``_state``, ``_lock_token``, ``_waiters``, ``_outgoing``,
``_shutdown_sent``, ``_transport_eof`` and ``_peer_checked`` are then C
members of FastBase, read and written from Python as before.  Without the
extension all of this is plain Python.

A BaseException that is not an Exception (KeyboardInterrupt, SystemExit)
escaping a call leaves the library in an unknown state: it propagates as it
is, and the connection is failed from then on.

The base class's attributes (``_lock_token``, ``_state``, ``_context``,
``_server_hostname``, ``_incoming``, ``_outgoing``, ``_transport_eof``,
``_handshake_done``, ``_shutdown_sent``, ``_held_stop``, ``_first_failure``)
are shared state that backends may read; only this module changes them.
"""

from __future__ import annotations

import abc
import enum
import os
import threading
from _thread import LockType
from _thread import allocate_lock as _allocate_lock
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

from ._bytequeue import ByteQueue
from ._ciphers import CipherSuite
from ._errors import ConfigurationError, NotTLSError, TLSError, WantReadError, WantWriteError
from ._groups import NamedGroup
from ._nottls import QUOTED, not_tls
from ._protocols import NextProtocol
from ._session import TLSSession
from ._sigschemes import SignatureScheme
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

# The C fast path (see the module docstring): FastBase, or a plain base.
if TYPE_CHECKING:
    from ._speedups import FastBase as _Base

    SPEEDUPS: bool
else:

    class _Base:  # without the extension: nothing (object itself would clash with ABC's MRO)
        __slots__ = ()

    SPEEDUPS = False
    if os.environ.get("TLSAPI_NO_SPEEDUPS") != "1":
        try:
            from ._speedups import FastBase as _Base
        except ImportError:  # not built here (no compiler): the pure-Python core
            pass
        else:
            SPEEDUPS = True
# The public methods FastBase runs in C; the Python ones become _<name>_slow.
_FAST_METHODS = (
    "_bio_read",
    "_bio_write",
    "do_handshake",
    "write",
    "read",
    "readinto",
    "receive_from_network",
    "peek_outgoing",
    "consume_outgoing",
)


class _State(enum.Enum):
    HANDSHAKING = "handshaking"
    OPEN = "open"
    STOP_HELD = "stop held behind data already read"
    PEER_CLOSED = "closed by the peer"
    FAILED = "failed"

    # Members are singletons compared by identity: object's hash (C) rather than
    # Enum's (a Python call per _TRANSITIONS lookup).
    __hash__ = object.__hash__


_HANDSHAKING = _State.HANDSHAKING
_OPEN = _State.OPEN
_STOP_HELD = _State.STOP_HELD
_PEER_CLOSED = _State.PEER_CLOSED
_FAILED = _State.FAILED
_TRANSITIONS: dict[_State, frozenset[_State]] = {
    _HANDSHAKING: frozenset({_OPEN, _FAILED}),
    _OPEN: frozenset({_STOP_HELD, _PEER_CLOSED, _FAILED}),
    _STOP_HELD: frozenset({_PEER_CLOSED, _FAILED}),
    _PEER_CLOSED: frozenset({_FAILED}),
    _FAILED: frozenset(),
}


class TLSWrappedBuffer(_Base, abc.ABC):
    """One TLS connection over in-memory buffers (no I/O of its own)."""

    def __init__(self, context: ClientContext | ServerContext, server_hostname: str | None) -> None:
        # The connection's lock: held by whoever popped the one token (see above).
        self._lock_token = [True]
        # A list, not a deque: an empty deque costs 600 bytes per connection.
        self._waiters: list[LockType] = []
        # The thread running user code from inside a call (see _run_callback).
        self._callback_thread: int | None = None
        self._context = context
        self._server_hostname = server_hostname
        self._incoming = ByteQueue()
        self._outgoing = ByteQueue()
        self._state = _HANDSHAKING
        self._handshake_done = False  # it finished once (FAILED does not say whether)
        self._shutdown_sent = False
        self._transport_eof = False
        # In STOP_HELD: the error that ended reading, or None for close_notify.
        self._held_stop: TLSError | None = None
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

    # -- the state machine: every change of state goes through here ----------

    def _enter(self, state: _State) -> None:
        if state not in _TRANSITIONS[self._state]:
            raise RuntimeError(f"tlsapi bug: no transition from {self._state} to {state}")
        self._state = state
        if state is _OPEN and SPEEDUPS and not self._fast_enabled:
            # The backend's C functions for the common case, if it has them now; the
            # peer's first bytes were checked (a handshake needs them).
            self._fast_enable(self._fast_functions() if self._peer_start is None else None)

    # -- the C fast path's way back (called with the lock held) -------------------

    def _fast_start(self) -> None:
        """A client's buffer, just made: its backend's C functions from the first
        handshake step (the ClientHello) on, if it has them now.  A receive still
        waits for the not-TLS check of the server's first bytes (``_peer_checked``)."""
        if SPEEDUPS:
            self._fast_enable(self._fast_functions())

    def _fast_handshake_done(self, result: int) -> None:
        """The backend's fast handshake step answered ``result``, neither want-read nor
        declined: its ``_fast_handshake_result`` finishes the handshake or raises."""
        try:
            self._fast_handshake_result(result)
            self._handshake_done = True
            self._enter(_OPEN)
        except BaseException as exc:
            self._interrupted(exc)
            raise

    def _fast_write_done(self, result: int) -> int:
        """The backend's fast send answered ``result``, not plain success: what write returns."""
        try:
            return self._fast_send_result(result)
        except BaseException as exc:
            self._interrupted(exc)
            raise

    def _fast_recv_done(self, result: int) -> int:
        """The backend's fast recv answered ``result``, not plain success: the bytes read."""
        try:
            count = self._fast_recv_result(result)
            if count == 0:
                self._enter(_PEER_CLOSED)
            return count
        except BaseException as exc:
            self._interrupted(exc)
            raise

    def _fast_output_lost(self, cause: BaseException | None) -> None:
        """A large write's ciphertext could not be queued (no memory): records are
        missing from the stream, so the connection fails here (lock held)."""
        failure = TLSError(
            "this TLS connection lost encrypted records it had made (no memory to queue "
            "them) and cannot be used any more"
        )
        failure.__cause__ = cause
        self._remember(failure)
        raise failure

    def _stop_after_data(self, error: TLSError | None) -> None:
        """For a backend's read hook that returns data and met the end of reading after it.

        ``error`` is what ended it, or None for the peer's close_notify; the
        next read reports it (see the module docstring).
        """
        self._held_stop = error
        self._enter(_STOP_HELD)

    def _remember(self, error: TLSError) -> None:
        if isinstance(error, (WantReadError, WantWriteError)) or self._state is _FAILED:
            return
        self._first_failure = error
        self._enter(_FAILED)

    def _interrupted(self, exc: BaseException) -> None:
        """An exception left a call: a TLSError fails the connection, and so does a KeyboardInterrupt."""
        if isinstance(exc, TLSError):
            self._remember(exc)
        elif not isinstance(exc, Exception):
            # KeyboardInterrupt and friends mid-call: the library's state is unknown.
            failure = TLSError(
                f"this TLS connection was interrupted by {type(exc).__name__} in the middle "
                "of an operation and cannot be used any more"
            )
            failure.__cause__ = exc
            self._remember(failure)

    def _end_of_reading(self) -> int:
        """A read outside OPEN (and past the handshake): 0 for ``b""``, or raises."""
        state = self._state
        if state is _STOP_HELD:
            error = self._held_stop
            if error is None:
                self._enter(_PEER_CLOSED)
                return 0
            self._held_stop = None
            self._remember(error)
        elif state is _PEER_CLOSED:
            return 0
        assert self._first_failure is not None
        raise self._first_failure

    def _ready_to_write(self) -> None:
        """Before a write outside OPEN: handshake, or raise what stops writing."""
        state = self._state
        if state is _HANDSHAKING:
            self._run_handshake()
        elif state is _STOP_HELD and self._held_stop is not None:
            # A held error: the session is unusable for writing already.
            error, self._held_stop = self._held_stop, None
            self._remember(error)
            raise error
        elif state is _FAILED:
            assert self._first_failure is not None
            raise self._first_failure

    # -- one call at a time -------------------------------------------------

    # The hot methods below inline the lock's fast path (pop the token, put it
    # back, wake waiters if any); this is the slow one: re-entry, or another
    # thread inside.
    def _wait_for_turn(self) -> None:
        if self._callback_thread == _get_ident():
            raise RuntimeError(
                "this TLS connection was used from inside its own callback: a callback must "
                "not call read/write/do_handshake/... on the connection it was given"
            )
        token, waiters = self._lock_token, self._waiters
        while True:
            waiter = _allocate_lock()
            waiter.acquire()
            # Queued before looking again: a holder who puts the token back after
            # this look sees the waiter and releases it.
            waiters.append(waiter)
            try:
                token.pop()
            except IndexError:
                waiter.acquire()  # until a holder's _wake; then look again
                continue
            with suppress(ValueError):  # a holder may have released it already
                waiters.remove(waiter)
            return

    def _wake(self) -> None:
        """The token is back: every waiter looks again (contention is rare; none is missed)."""
        waiters = self._waiters
        while waiters:
            try:
                waiters.pop(0).release()
            except IndexError:
                break  # another thread emptied it meanwhile

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold the connection's lock (for methods a backend adds, such as key_update)."""
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            yield
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def _run_callback(self, callback: Callable[..., _T], *args: Any) -> _T:
        """Run user code from inside a call: a call back into this connection then raises."""
        self._callback_thread = _get_ident()
        try:
            return callback(*args)
        finally:
            self._callback_thread = None

    # -- the TLS connection --------------------------------------------------

    def do_handshake(self) -> None:
        """Run the handshake; raises WantReadError until it has the peer's messages."""
        # _exclusive() inline: called once per flight, and the context manager's
        # generator cost a tenth of the Python work of a handshake.
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            self._run_handshake()
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def _run_handshake(self) -> None:
        """The handshake, with the lock held."""
        state = self._state
        if state is _HANDSHAKING:
            self._handshake()
            self._handshake_done = True
            self._enter(_OPEN)
        elif state is _FAILED and not self._handshake_done:
            assert self._first_failure is not None
            raise self._first_failure

    # These are the hot path: in OPEN a call costs one identity test beyond
    # the lock and the backend's hook; the common argument types skip the
    # memoryview wrapping.

    def read(self, amt: int = DEFAULT_READ_SIZE) -> bytes:
        """Up to ``amt`` bytes of application data; ``b""`` after close_notify."""
        if amt <= 0:
            if amt < 0:
                raise ValueError("amt must not be negative")
            return b""
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            if self._state is not _OPEN:
                if self._state is not _HANDSHAKING:
                    self._end_of_reading()
                    return b""
                self._run_handshake()
            data = self._read(amt if amt <= MAX_READ_SIZE else MAX_READ_SIZE)
            if not data:
                self._enter(_PEER_CLOSED)
            return data
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def readinto(self, buffer: Buffer, amt: int | None = None) -> int:
        """Read into ``buffer`` (up to ``amt`` bytes); 0 after close_notify."""
        if amt is None and (
            type(buffer) is bytearray
            or (
                # A writable contiguous view of bytes (a slice of a bytearray): as it is.
                type(buffer) is memoryview
                and not buffer.readonly
                and buffer.c_contiguous
                and buffer.ndim == 1
                and buffer.itemsize == 1
            )
        ):
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
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            if self._state is not _OPEN:
                if self._state is not _HANDSHAKING:
                    return self._end_of_reading()
                self._run_handshake()
            count = self._readinto(target)
            if count == 0:
                self._enter(_PEER_CLOSED)
            return count
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def write(self, buf: Buffer) -> int:
        """Encrypt application data; returns how many bytes were taken."""
        data = buf if type(buf) is bytes or type(buf) is bytearray else memoryview(buf).cast("B")
        if self._shutdown_sent:  # a misuse, not a failure of the connection
            raise TLSError("cannot write after shutdown(): the close_notify alert was already sent")
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            if self._state is not _OPEN:
                self._ready_to_write()
            if not len(data):
                return 0
            return self._write(data)
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def shutdown(self) -> None:
        """Send close_notify (once); the peer's close_notify then reads as ``b""``."""
        with self._exclusive():
            if self._shutdown_sent:
                return
            if self._state is not _HANDSHAKING:  # before the handshake there is nothing to close
                self._ready_to_write()
            self._shutdown()
            self._shutdown_sent = True

    # -- the network side -------------------------------------------------

    def receive_from_network(self, data: Buffer) -> None:
        """Bytes that arrived from the peer; ``b""`` means the transport's end of file."""
        chunk = data if type(data) is bytes else memoryview(data).cast("B")
        if self._transport_eof and len(chunk):  # a misuse, not a failure of the connection
            raise TLSError("bytes received after the transport's end of file")
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            if len(chunk):
                if self._peer_start is not None and self._refuses_start(chunk):
                    return
                self._receive(chunk)
            elif not self._transport_eof:
                self._transport_eof = True
                self._receive_eof()
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    # The peer's first bytes, kept until two have been checked (then None).
    _peer_start: bytes | None = b""

    def _refuses_start(self, received: bytes | memoryview) -> bool:
        """Refuse a peer whose first bytes cannot begin TLS, before the backend sees them.

        One rule for every backend (libraries disagree: some wait for more,
        some blame the version).  The connection fails with NotTLSError (the
        next call raises it) and these and later bytes are dropped; no alert
        is sent, as OpenSSL does: the peer would not understand one.
        """
        peer_start = self._peer_start
        assert peer_start is not None
        # The first two bytes decide (see not_tls); a refusal quotes more of them.
        start = peer_start + bytes(received[: 2 - len(peer_start)])
        reason = not_tls(start)
        if reason is not None:
            start = peer_start + bytes(received[: QUOTED - len(peer_start)])
            reason = not_tls(start)
        if reason is None:
            if len(start) < 2:
                self._peer_start = start
            else:
                self._peer_start = None
                if SPEEDUPS:
                    # The rest of the handshake's bytes may move in C (see _fast_functions).
                    self._peer_checked = True
                    if not self._fast_enabled:
                        self._fast_enable(self._fast_functions())
            return False
        self._peer_start = start  # still refused: whatever comes later is dropped too
        self._remember(NotTLSError(reason))
        return True

    def peek_outgoing(self, amt: int) -> bytes:
        """Up to ``amt`` bytes waiting to go to the peer, left in place."""
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            data = self._library_output()
            outgoing = self._outgoing
            if data:
                if not outgoing.size and len(data) <= amt:
                    # The common case: one message and nothing older; ByteQueue.append inlined.
                    outgoing.chunks.append(data)
                    outgoing.size = len(data)
                    return data
                outgoing.append(data)
            if not outgoing.size:
                return b""
            if outgoing.size <= amt and len(outgoing.chunks) == 1 and not outgoing.offset:
                return outgoing.chunks[0]  # the common case: all of one chunk, no copy
            return outgoing.peek(amt)
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def consume_outgoing(self, amt: int) -> None:
        """Mark ``amt`` bytes from peek_outgoing as sent."""
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            outgoing = self._outgoing
            if amt == outgoing.size:  # the common case: everything peeked was sent
                outgoing.chunks.clear()
                outgoing.offset = outgoing.size = 0
            elif 0 <= amt < outgoing.size:
                outgoing.consume(amt)
            else:
                raise ValueError(f"cannot consume {amt} bytes: {outgoing.size} are buffered")
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def _take_outgoing(self) -> bytes:
        """All the bytes waiting to go to the peer, consumed: peek + consume in one call.

        For tlsapi's own layers that hand everything on at once (the ssl
        adapter's MemoryBIO); the public pair keeps PEP 543's shape.
        """
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            return self._take_locked()
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    # The ssl adapter's SSLObject (asyncio's and trio's per-record calls) moves
    # bytes in, runs one operation and moves everything out each time: these do
    # the three in one locked call.  Each keeps the rules of the public methods it
    # combines; on an exception the output (an alert) is left for _take_outgoing.

    def _bio_read(self, received: bytes, amt: int) -> tuple[bytes, bytes]:
        """receive_from_network(received) unless empty, read(amt) (amt > 0), _take_outgoing()."""
        if self._transport_eof and received:
            raise TLSError("bytes received after the transport's end of file")
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            if received and (self._peer_start is None or not self._refuses_start(received)):
                self._receive(received)
            if self._state is not _OPEN:
                if self._state is not _HANDSHAKING:
                    self._end_of_reading()
                    return b"", self._take_locked()
                self._run_handshake()
            data = self._read(amt if amt <= MAX_READ_SIZE else MAX_READ_SIZE)
            if not data:
                self._enter(_PEER_CLOSED)
            return data, self._take_locked()
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def _bio_write(self, data: bytes | bytearray | memoryview) -> tuple[int, bytes]:
        """write(data) (bytes-shaped) and _take_outgoing()."""
        if self._shutdown_sent:
            raise TLSError("cannot write after shutdown(): the close_notify alert was already sent")
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            if self._state is not _OPEN:
                self._ready_to_write()
            return (self._write(data) if data else 0), self._take_locked()
        except BaseException as exc:
            self._interrupted(exc)
            raise
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def _take_locked(self) -> bytes:
        data = self._library_output()
        outgoing = self._outgoing
        if not outgoing.size:
            return data
        if data:
            outgoing.append(data)
        chunks = outgoing.chunks
        if len(chunks) == 1 and not outgoing.offset:  # the common case: one message, no copy
            outgoing.size = 0
            return chunks.pop()
        return outgoing.take_all()

    def incoming_bytes_buffered(self) -> int:
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            return self._incoming_size()
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    def outgoing_bytes_buffered(self) -> int:
        token = self._lock_token
        try:
            token.pop()
        except IndexError:
            self._wait_for_turn()
        try:
            data = self._library_output()
            if data:
                self._outgoing.append(data)
            return self._outgoing.size
        finally:
            token.append(True)
            if self._waiters:
                self._wake()

    # -- what was negotiated ----------------------------------------------

    # Before the handshake these are None without taking the lock, so that an
    # sni_callback may look at them.

    def cipher(self) -> CipherSuite | None:
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

    def negotiated_group(self) -> NamedGroup | None:
        """The key-exchange group the handshake used; None before it, without one (RSA key
        transport, a resumption without (EC)DHE) or where the backend cannot tell (see
        ``Capability.NEGOTIATED_GROUP``)."""
        if not self._handshake_done:
            return None
        with self._exclusive():
            number = self._negotiated_group()
        return None if number is None else NamedGroup.from_number(number)

    def signature_scheme(self) -> SignatureScheme | None:
        """The scheme the peer signed the handshake with (its CertificateVerify or key
        exchange); None before the handshake, in a resumption, or where the backend
        cannot tell (see ``Capability.SIGNATURE_SCHEME``)."""
        if not self._handshake_done:
            return None
        with self._exclusive():
            number = self._signature_scheme()
        return None if number is None else SignatureScheme.from_number(number)

    def certificate_requested(self) -> bool | None:
        """Client side: whether the server asked for a client certificate; None on a
        server, before the handshake, or where the backend cannot tell."""
        if not self._handshake_done:
            return None
        with self._exclusive():
            return self._certificate_requested()

    # -- session resumption ----------------------------------------------------

    @property
    def session(self) -> TLSSession | None:
        """Client side: a session to offer to the same server on a later connection
        (``wrap_buffers(name, session=...)`` on the same context); None before the
        handshake, on a server, or when the server gave nothing resumable.

        With TLS 1.3 tickets come after the handshake: take this after a read.
        """
        if not self._handshake_done:
            return None
        from ._context import ClientContext

        context = self._context
        if not isinstance(context, ClientContext):
            return None
        with self._exclusive():
            state = self._session_state()
        if state is None:
            return None
        return TLSSession(context._session_owner, self._server_hostname, state)

    @property
    def session_reused(self) -> bool:
        """Whether the handshake resumed a session (False before it ends)."""
        if not self._handshake_done:
            return False
        with self._exclusive():
            return self._session_reused()

    # -- hooks for backends (called with the lock held) ------------------------

    def _fast_functions(self) -> tuple[int, ...] | None:
        """The backend's C functions for the fast path, or None (the default: none).

        Asked when a client's buffer is made, once the peer's first bytes
        passed the core's not-TLS check (in the handshake), and on entering
        OPEN, each time only if the answer before was None:
        ``(abi, state, send, recv, give, output, taken, bound, send_into,
        handshake)``, the addresses of functions of the types in
        ``tlsapi/include/tlsapi_fast.h`` and of the C object they take (alive
        as long as this buffer); bound, send_into and handshake may be 0, and
        an ABI 1 tuple ends before them.  They run with nothing else in
        progress on the connection, with the GIL held, for small sizes
        (send_into, large writes, and handshake with the GIL released and the
        lock held): send, recv and send_into on an OPEN connection only,
        handshake while HANDSHAKING, give, output and taken in any state (the
        rest of a handshake's flights; return None until the backend has no
        per-call Python work left for them).  A function answers
        TLSAPI_FAST_DECLINED when the Python hooks must do the call.  A backend
        that returns them implements ``_fast_send_result`` and
        ``_fast_recv_result`` (and ``_fast_handshake_result`` with handshake).
        """
        return None

    def _fast_handshake_result(self, result: int) -> None:
        """Finish the handshake (return) or raise, when the fast handshake step answered
        ``result`` (as ``_handshake`` does after its own step)."""
        raise TLSError(f"tlsapi bug: unexpected fast handshake result {result}")

    def _fast_send_result(self, result: int) -> int:
        """What write returns (or raises) when the fast send answered ``result``:
        neither the whole size nor declined.  The call is done: never send again."""
        raise TLSError(f"tlsapi bug: unexpected fast send result {result}")

    def _fast_recv_result(self, result: int) -> int:
        """The bytes read (0: close_notify), or raise, when the fast recv answered
        ``result``: neither a plain count nor declined (as ``_readinto`` after its
        C call: ``_stop_after_data`` for a stop after data)."""
        raise TLSError(f"tlsapi bug: unexpected fast recv result {result}")

    def _receive(self, data: bytes | memoryview) -> None:
        """Bytes from the peer (non-empty): by default queued in ``_incoming``."""
        self._incoming.append(data)

    def _incoming_size(self) -> int:
        """Received bytes the library has not consumed yet."""
        return len(self._incoming)

    def _receive_eof(self) -> None:
        """The transport reached end of file (``_transport_eof`` is already set)."""

    def _library_output(self) -> bytes:
        """What the library wrote since the last call, taken from it (``b""`` if nothing).

        The core queues it in ``_outgoing``.  This default lets
        ``_flush_library_output`` append to ``_outgoing`` itself, and returns ``b""``.
        """
        self._flush_library_output()
        return b""

    def _flush_library_output(self) -> None:
        """Append what the library wrote since the last call to ``_outgoing`` (see
        ``_library_output``, the hook the core calls)."""

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

    def _negotiated_group(self) -> int | None:
        """The IANA number of the group the handshake used, or None (also: cannot tell)."""
        return None

    def _signature_scheme(self) -> int | None:
        """The IANA number of the peer's handshake signature scheme, or None (cannot tell)."""
        return None

    def _certificate_requested(self) -> bool | None:
        """Client: whether the server sent a CertificateRequest; None: cannot tell."""
        return None

    def _offer_session(self, state: object) -> None:
        """Client, before the handshake: offer a session this backend's
        ``_session_state`` returned (on a buffer of the same context and name).
        A backend with ``Capability.SESSION_RESUMPTION`` overrides this."""
        raise ConfigurationError(
            f"the {type(self).__module__.split('.')[0]} backend cannot resume sessions"
        )

    def _session_state(self) -> object | None:
        """Client, after the handshake: the backend's resumable state, or None."""
        return None

    def _session_reused(self) -> bool:
        """Whether the handshake was a resumption."""
        return False


if SPEEDUPS:
    # FastBase's C methods answer the public names; they call these for anything
    # but the common case.
    for _name in _FAST_METHODS:
        setattr(TLSWrappedBuffer, f"_{_name.lstrip('_')}_slow", TLSWrappedBuffer.__dict__[_name])
        delattr(TLSWrappedBuffer, _name)
    from ._speedups import configure as _configure

    _configure(_OPEN, _HANDSHAKING, ByteQueue, WantReadError)
    del _name, _configure
