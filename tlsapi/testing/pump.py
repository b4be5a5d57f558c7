"""Drive two TLSWrappedBuffers against each other in memory.

The two ends of a connection live in one thread; these helpers play the
network between them.  ``chunk_size`` delivers bytes in pieces of that size
and lets the receiving end work on each piece before the next arrives, so
``chunk_size=1`` exercises every partial-record path of a backend (during
the handshake and for application data).

The helpers never hide a backend's silence: when neither end can make
progress and no error was raised, they raise :class:`PumpStalled` (an
AssertionError: a backend that neither finishes nor fails is a bug).  When
one end fails, the helpers do what a real transport does: deliver its last
bytes (the alert), then close the connection, so the other end must fail
too rather than wait forever.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from .._errors import TLSError, WantReadError, WantWriteError

if TYPE_CHECKING:
    from .._buffer import TLSWrappedBuffer

__all__ = [
    "PumpStalled",
    "close",
    "handshake",
    "handshake_outcome",
    "pump",
    "read_available",
    "transfer",
]

READ_SIZE = 65536
WRITE_SIZE = 1 << 18


class PumpStalled(AssertionError):
    """Neither end made progress and neither raised an error."""


def pump(
    source: TLSWrappedBuffer,
    destination: TLSWrappedBuffer,
    *,
    chunk_size: int | None = None,
    after_chunk: Callable[[], bool] | None = None,
) -> int:
    """Move ``source``'s outgoing bytes into ``destination``; return how many moved.

    With ``chunk_size``, bytes go over in pieces of at most that size and
    ``after_chunk()`` runs after each piece; it returns False to stop
    delivering (the rest stays in ``source``).
    """
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    moved = 0
    while True:
        pending = source.outgoing_bytes_buffered()
        if not pending:
            return moved
        size = pending if chunk_size is None else min(pending, chunk_size)
        data = source.peek_outgoing(size)
        if not data:
            raise PumpStalled(
                f"outgoing_bytes_buffered() says {pending} but peek_outgoing({size}) gave nothing"
            )
        destination.receive_from_network(data)
        source.consume_outgoing(len(data))
        moved += len(data)
        if after_chunk is not None and not after_chunk():
            return moved


class _State(enum.Enum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class _End:
    """One end's handshake progress."""

    def __init__(self, name: str, buffer: TLSWrappedBuffer) -> None:
        self.name = name
        self.buffer = buffer
        self.state = _State.PENDING
        self.error: TLSError | None = None

    def step(self) -> bool:
        """Try the handshake once; True while bytes should keep coming."""
        if self.state is _State.PENDING:
            try:
                self.buffer.do_handshake()
            except (WantReadError, WantWriteError):
                pass
            except TLSError as exc:
                self.state, self.error = _State.FAILED, exc
                return False
            else:
                self.state = _State.DONE
        return self.state is not _State.FAILED

    def fail_later_read(self) -> None:
        """Surface an alert that arrived after this end finished (TLS 1.3 client auth)."""
        try:
            self.buffer.read(1)
        except (WantReadError, WantWriteError):
            pass
        except TLSError as exc:
            self.state, self.error = _State.FAILED, exc


def _drive(
    client: TLSWrappedBuffer,
    server: TLSWrappedBuffer,
    chunk_size: int | None,
    max_rounds: int,
) -> tuple[_End, _End, list[TLSError]]:
    ends = (_End("client", client), _End("server", server))
    failures: list[TLSError] = []  # in the order they happened

    def note() -> None:
        for end in ends:
            if end.error is not None and end.error not in failures:
                failures.append(end.error)

    def send(source: _End, destination: _End) -> int:
        if destination.state is _State.FAILED:
            # The peer is gone: what the source still says goes nowhere.
            dropped = source.buffer.outgoing_bytes_buffered()
            source.buffer.consume_outgoing(dropped)
            return 0
        moved = pump(
            source.buffer, destination.buffer, chunk_size=chunk_size, after_chunk=destination.step
        )
        note()
        return moved

    eof_sent = False
    client_end, server_end = ends
    client_end.step()
    note()
    for _ in range(max_rounds):
        moved = send(client_end, server_end)
        server_end.step()
        note()
        moved += send(server_end, client_end)
        client_end.step()
        note()
        if moved:
            continue
        pending = [end for end in ends if end.state is _State.PENDING]
        if not pending:
            return client_end, server_end, failures
        if not failures:
            raise PumpStalled(
                "handshake stalled: no bytes to move and no error "
                f"(client {client_end.state.value}, server {server_end.state.value})"
            )
        if eof_sent:
            raise PumpStalled(
                f"the {pending[0].name} neither finished nor failed after its peer failed "
                f"({failures[0]!r}) and closed the transport"
            )
        # The failed end hangs up, as a real peer would.
        for end in pending:
            end.buffer.receive_from_network(b"")
            end.step()
        note()
        eof_sent = True
    raise PumpStalled(f"handshake did not finish in {max_rounds} rounds")


def handshake(
    client: TLSWrappedBuffer,
    server: TLSWrappedBuffer,
    *,
    chunk_size: int | None = None,
    max_rounds: int = 10_000,
) -> None:
    """Drive both ends until each has finished its handshake.

    Raises the first TLSError (not a want-error) that either end raised.
    """
    _, _, failures = _drive(client, server, chunk_size, max_rounds)
    if failures:
        raise failures[0]


def handshake_outcome(
    client: TLSWrappedBuffer,
    server: TLSWrappedBuffer,
    *,
    chunk_size: int | None = None,
    max_rounds: int = 10_000,
) -> tuple[TLSError | None, TLSError | None]:
    """Drive both ends to the end; return ``(client_error, server_error)``.

    When one end failed after the other had already finished (in TLS 1.3 the
    client finishes before the server has judged its certificate), the
    finished end is asked to read once, so the alert it was sent shows up as
    its error.
    """
    client_end, server_end, failures = _drive(client, server, chunk_size, max_rounds)
    if failures:
        for end in (client_end, server_end):
            if end.state is _State.DONE:
                end.fail_later_read()
    return client_end.error, server_end.error


def read_available(buffer: TLSWrappedBuffer, amt: int = READ_SIZE) -> bytes:
    """Everything ``buffer`` can decrypt now (stops at want-read or close_notify)."""
    chunks = bytearray()
    while True:
        try:
            data = buffer.read(amt)
        except WantReadError:
            return bytes(chunks)
        if not data:
            return bytes(chunks)
        chunks += data


def transfer(
    sender: TLSWrappedBuffer,
    receiver: TLSWrappedBuffer,
    data: bytes,
    *,
    chunk_size: int | None = None,
) -> bytes:
    """Write ``data`` through ``sender``, deliver it, and return what ``receiver`` read.

    Both ends must have finished the handshake.  Writes go in slices of
    256 KiB (honouring short writes); with ``chunk_size`` the receiver
    reads after every chunk delivered.
    """
    received = bytearray()

    def read_some() -> bool:
        received.extend(read_available(receiver))
        return True

    view = memoryview(data)
    sent = 0
    idle = 0
    while sent < len(view):
        try:
            count = sender.write(view[sent : sent + WRITE_SIZE])
        except WantWriteError:
            count = 0
        except WantReadError:
            # e.g. a key update the sender must read first
            pump(receiver, sender)
            count = 0
        if count < 0 or count > len(view) - sent:
            raise AssertionError(f"write() returned {count} for {len(view) - sent} bytes")
        sent += count
        moved = pump(sender, receiver, chunk_size=chunk_size, after_chunk=read_some)
        read_some()
        idle = 0 if (count or moved) else idle + 1
        if idle > 3:
            raise PumpStalled(f"write() made no progress after {sent} of {len(view)} bytes")
    read_some()
    return bytes(received)


def close(a: TLSWrappedBuffer, b: TLSWrappedBuffer) -> None:
    """Close cleanly: ``a`` sends close_notify, ``b`` sees it and answers, both read ``b""``."""
    a.shutdown()
    pump(a, b)
    _expect_eof(b, "the end that received close_notify")
    b.shutdown()
    pump(b, a)
    _expect_eof(a, "the end that sent close_notify first")


def _expect_eof(buffer: TLSWrappedBuffer, who: str) -> None:
    try:
        data = buffer.read()
    except WantReadError:
        raise PumpStalled(f"{who} wants more bytes instead of reading close_notify") from None
    if data:
        raise AssertionError(f"{who} read {len(data)} bytes of data instead of b'' (close_notify)")
