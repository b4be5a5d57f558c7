"""HTTP/1.1-sized round trips through asyncio streams: the same code for every subject.

Only the ``ssl.SSLContext`` objects differ: a plain one for the raw ``ssl``
module, ``tlsapi.SSLContext(..., backend=name)`` (the ssl-compatible adapter)
for a tlsapi backend.  So this figure is what an asyncio program gets by
handing asyncio a different context, with asyncio's own TLS transport
(sslproto over ``wrap_bio``) doing the driving.

Client and server run in ONE event loop on the benchmark thread, over a
127.0.0.1 socket, one keep-alive connection: a round trip is the client
writing a ~300-byte request, the server reading it up to the blank line and
writing a 2 KiB response, the client reading the head and then the body by
its Content-Length.  One loop, not a server in a second thread's loop: an
asyncio program runs its loop on one thread, and a second loop would add
hand-offs between threads contending for the GIL, which measure the
scheduler more than TLS.  Each round trip thus pays for both TLS ends.

The rate is wall-clock, like the loopback bulk figure: the loop waits in the
kernel between the two ends.  Loop creation, listening, connecting and the
handshake are outside the timed part.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable

__all__ = ["REQUEST", "RESPONSE", "http_round_trip_rate"]

REQUEST_SIZE = 300
RESPONSE_SIZE = 2048


def _request() -> bytes:
    head = (
        b"GET /bench/resource?id=0123456789 HTTP/1.1\r\n"
        b"Host: localhost\r\n"
        b"User-Agent: tlsapi-bench/1\r\n"
        b"Accept: text/html,application/json;q=0.9,*/*;q=0.8\r\n"
        b"Accept-Encoding: identity\r\n"
        b"Connection: keep-alive\r\n"
    )
    field, end = b"X-Padding: ", b"\r\n\r\n"
    return head + field + b"p" * (REQUEST_SIZE - len(head) - len(field) - len(end)) + end


def _response() -> bytes:
    def head(length: int) -> bytes:
        return (
            b"HTTP/1.1 200 OK\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n"
            b"Connection: keep-alive\r\n\r\n" % length
        )

    length = RESPONSE_SIZE - len(head(RESPONSE_SIZE))  # 4 digits either way
    return head(length) + b"b" * length


REQUEST = _request()
RESPONSE = _response()
_END_OF_HEAD = b"\r\n\r\n"
_LENGTH_FIELD = b"\r\ncontent-length:"


def _content_length(head: bytes) -> int:
    start = head.lower().index(_LENGTH_FIELD) + len(_LENGTH_FIELD)
    return int(head[start : head.index(b"\r\n", start)])


async def _measure(
    client_context: ssl.SSLContext,
    server_context: ssl.SSLContext,
    hostname: str,
    duration: float,
    check: Callable[[object], None],
) -> float:
    server_failures: list[BaseException] = []
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.append(task)
        try:
            while True:
                try:
                    await reader.readuntil(_END_OF_HEAD)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial:
                        raise
                    break  # the client closed between requests: keep-alive ends
                writer.write(RESPONSE)
                await writer.drain()
            writer.close()
            await writer.wait_closed()
        except BaseException as exc:  # reported by the client side below
            server_failures.append(exc)
            writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname=hostname
        )
        try:
            check(writer.get_extra_info("ssl_object"))

            async def round_trip() -> None:
                writer.write(REQUEST)
                await writer.drain()
                head = await reader.readuntil(_END_OF_HEAD)
                await reader.readexactly(_content_length(head))

            await round_trip()  # the first exchange (session tickets) is not timed
            done = 0
            start = time.perf_counter()
            deadline = start + duration
            while True:
                await round_trip()
                done += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
        finally:
            writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    # Let the handler see the close and finish before the loop goes away.
    await asyncio.wait(handlers, timeout=10)
    if server_failures:
        raise server_failures[0]
    return done / (now - start)


def http_round_trip_rate(
    client_context: ssl.SSLContext,
    server_context: ssl.SSLContext,
    hostname: str,
    duration: float,
    *,
    check: Callable[[object], None] = lambda ssl_object: None,
    timeout: float = 60.0,
) -> float:
    """Request/response round trips per second (wall clock) in a fresh event loop.

    ``check`` is given the client's ``ssl_object`` after the handshake (to make
    sure the intended TLS library is the one in use).
    """
    return asyncio.run(
        asyncio.wait_for(
            _measure(client_context, server_context, hostname, duration, check),
            timeout + duration,
        )
    )
