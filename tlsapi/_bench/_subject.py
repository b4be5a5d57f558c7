"""What the benchmark measures: a Subject runs each workload in its own API's idiom.

Each workload is written once per API (tlsapi buffers and sockets in
``_tlsapi``, SSLObject/MemoryBIO and SSLSocket in ``_raw``) rather than behind
a shared adapter, so that the figures are what a user of that API gets and
no adapter layer is measured.  Timed loops run for at least ``duration``
seconds and return a rate; set-up (contexts, connections for bulk) is
outside the timed part, a connection's creation is inside a handshake.
In-memory rates are per second of this thread's CPU time (see timed_loop);
the loopback rate, which involves two threads and the kernel, is wall-clock,
and so is the asyncio figure (``_asyncio``: one workload for every subject,
since there the ``ssl.SSLContext`` handed to asyncio is what differs).
"""

from __future__ import annotations

import abc
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "ECHO_SIZE",
    "PAYLOAD_SIZE",
    "PINNED_GROUP",
    "Subject",
    "Unavailable",
    "echo_client",
    "echo_server",
    "run_socket_pair",
    "server_hello_group",
    "timed_loop",
]

PAYLOAD_SIZE = 1 << 20  # 1 MiB writes for bulk
ECHO_SIZE = 64
# The group every subject is held to for the pinned handshake figure.
PINNED_GROUP = "X25519"


def _pick_clock() -> tuple[Callable[[], float], str]:
    # Per-thread CPU time, where it is fine-grained (Windows counts it in
    # 15.6 ms ticks: too coarse for short samples, so the wall clock there).
    try:
        resolution = time.get_clock_info("thread_time").resolution
    except (AttributeError, ValueError):
        return time.perf_counter, "wall clock"
    if resolution > 1e-6:
        return time.perf_counter, "wall clock"
    return time.thread_time, "thread CPU time"


_cpu_clock, CLOCK_NAME = _pick_clock()


class Unavailable(Exception):  # not an error: a figure this install cannot take
    """A figure this subject cannot give here (shown as "n/a" with the reason, not a failure)."""


class Subject(abc.ABC):
    """One thing under test: a tlsapi backend, or the ssl module used directly."""

    key: str  # the name in JSON
    label: str  # the name in the table
    kind: str
    library_version: str

    @abc.abstractmethod
    def handshake_rate(self, duration: float) -> float:
        """Complete TLS 1.3 handshakes per second, both ends in memory."""

    @abc.abstractmethod
    def pinned_handshake_rate(self, duration: float) -> float:
        """As handshake_rate, with both ends held to X25519 (the same work for every subject)."""

    @abc.abstractmethod
    def buffer_bulk_rate(self, duration: float) -> float:
        """Bytes per second of application data through an in-memory pair (1 MiB writes)."""

    @abc.abstractmethod
    def echo_rate(self, duration: float) -> float:
        """64-byte request/response round trips per second, in memory."""

    @abc.abstractmethod
    def socket_bulk_rate(self, total: int) -> float:
        """Bytes per second over a 127.0.0.1 socket to a thread running the same subject."""

    @abc.abstractmethod
    def socket_echo_rate(self, duration: float) -> float:
        """64-byte round trips per second over a 127.0.0.1 socket to a thread echoing them."""

    @abc.abstractmethod
    def asyncio_rate(self, duration: float) -> float:
        """HTTP/1.1-sized round trips per second through asyncio streams over 127.0.0.1."""

    @abc.abstractmethod
    def connected_pairs(self, count: int) -> list[Any]:
        """``count`` handshaken (client, server) pairs, kept alive by the caller."""

    @abc.abstractmethod
    def negotiated(self) -> dict[str, str]:
        """The version, cipher and group one handshake negotiates, and the pinned group."""


# TLS 1.3's HelloRetryRequest is a ServerHello with this random (RFC 8446 4.1.3).
_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def server_hello_group(flight: bytes) -> int | None:
    """The key_share group of the (last) TLS 1.3 ServerHello in a server's first bytes.

    Read from the wire, so that every subject's group is known the same way
    (the ssl module has no call for it).  None without a key_share (TLS 1.2).
    """
    handshake = bytearray()
    at = 0
    while at + 5 <= len(flight) and flight[at] == 22:  # plaintext handshake records
        size = int.from_bytes(flight[at + 3 : at + 5], "big")
        handshake += flight[at + 5 : at + 5 + size]
        at += 5 + size
    group = None
    at = 0
    while at + 4 <= len(handshake):
        kind, size = handshake[at], int.from_bytes(handshake[at + 1 : at + 4], "big")
        body = bytes(handshake[at + 4 : at + 4 + size])
        at += 4 + size
        if kind != 2 or len(body) < 38:
            continue
        if body[2:34] == _HRR_RANDOM:
            continue
        pos = 35 + body[34] + 3  # session id, cipher suite, compression method
        end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
        pos += 2
        while pos + 4 <= end:
            extension = int.from_bytes(body[pos : pos + 2], "big")
            length = int.from_bytes(body[pos + 2 : pos + 4], "big")
            if extension == 51 and length >= 2:  # key_share
                group = int.from_bytes(body[pos + 4 : pos + 6], "big")
            pos += 4 + length
    return group


def timed_loop(step: Callable[[], int], duration: float) -> float:
    """Call ``step`` (returning units of work done) for ``duration`` seconds; units per CPU second.

    In-memory work runs on this one thread and never waits, so the rate is
    taken over this thread's CPU time: time the machine gave to other
    processes (these machines are shared) does not count against it.  On an
    idle machine this equals the wall-clock rate.  The loop itself stops
    on the wall clock, so a busy machine cannot stretch a run.
    """
    done = 0
    cpu_start = _cpu_clock()
    deadline = time.perf_counter() + duration
    while True:
        done += step()
        if time.perf_counter() >= deadline:
            return done / max(_cpu_clock() - cpu_start, 1e-9)


class _Stream(Protocol):
    """What the socket echo uses of ssl.SSLSocket and TLSWrappedSocket alike."""

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int: ...
    def sendall(self, data: Any) -> None: ...


def echo_server(tls: _Stream) -> None:
    """Echo what arrives until the client's end of file (close_notify or TCP close)."""
    data = bytearray(ECHO_SIZE)
    view = memoryview(data)
    while count := tls.recv_into(data):
        tls.sendall(view[:count])


def echo_client(tls: _Stream, duration: float) -> float:
    """64-byte round trips for ``duration`` seconds; round trips per wall-clock second."""
    message = b"x" * ECHO_SIZE
    reply = bytearray(ECHO_SIZE)
    view = memoryview(reply)
    done = 0
    start = time.perf_counter()
    deadline = start + duration
    while True:
        tls.sendall(message)
        count = 0
        while count < ECHO_SIZE:
            got = tls.recv_into(view[count:])
            if not got:
                raise ConnectionError("the echo server closed early")
            count += got
        done += 1
        if done % 64 == 0 and time.perf_counter() >= deadline:
            return done / (time.perf_counter() - start)


def run_socket_pair(
    serve: Callable[[socket.socket], None],
    client: Callable[[socket.socket], float],
    timeout: float = 60.0,
) -> float:
    """Run ``serve`` on a thread for one accepted connection, ``client`` here; client's result."""
    failure: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(timeout)

        def server_side() -> None:
            try:
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(timeout)
                    serve(conn)
            except BaseException as exc:  # handed to the main thread below
                failure.append(exc)

        thread = threading.Thread(target=server_side, name="tlsapi-bench-server", daemon=True)
        thread.start()
        try:
            with socket.create_connection(listener.getsockname()[:2], timeout=timeout) as sock:
                result = client(sock)
        finally:
            thread.join(timeout)
    if failure:
        raise failure[0]
    return result
