"""TLSWrappedSocket over the backend: blocking, timeouts, non-blocking, close paths.

Real loopback TCP sockets; the peer runs in a thread.  Every socket has a
timeout and every join is bounded, so a hang shows as a failure.  The short
timeouts only make a "timed out" path happen; nothing is measured.
"""

from __future__ import annotations

import hashlib
import selectors
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..._errors import RaggedEOF, TLSError, WantReadError
from ..._socket import TLSWrappedSocket
from ._support import Peers

__all__ = ["TestSocket", "loopback_tcp"]

IO_TIMEOUT = 10.0
JOIN_TIMEOUT = 30.0
SHORT_TIMEOUT = 0.2


class Background:
    """``fn(*args)`` in a daemon thread; ``result()`` joins (bounded) and re-raises."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:
            self._error = exc

    def result(self, timeout: float = JOIN_TIMEOUT) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            pytest.fail(f"background thread still running after {timeout}s")
        if self._error is not None:
            raise self._error
        return self._value


@pytest.fixture
def loopback_tcp() -> Iterator[Callable[[], tuple[socket.socket, socket.socket]]]:
    """Connected loopback TCP pairs (client, server) with timeouts; closed afterwards."""
    made: list[socket.socket] = []

    def make() -> tuple[socket.socket, socket.socket]:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            client = socket.create_connection(listener.getsockname(), timeout=IO_TIMEOUT)
            server, _ = listener.accept()
        server.settimeout(IO_TIMEOUT)
        made.extend((client, server))
        return client, server

    yield make
    for sock in made:
        sock.close()


def _recv_exactly(sock: TLSWrappedSocket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _wrapped(
    peers: Peers, tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> tuple[TLSWrappedSocket, TLSWrappedSocket]:
    raw_client, raw_server = tcp()
    client = peers.client_context().wrap_socket(raw_client, "localhost")
    server = peers.server_context().wrap_socket(raw_server)
    return client, server


def _handshake_both(client: TLSWrappedSocket, server: TLSWrappedSocket) -> None:
    job = Background(server.do_handshake)
    client.do_handshake()
    job.result()


class TestSocket:
    def test_blocking_echo(self, peers: Peers, loopback_tcp: Any) -> None:
        client, server = _wrapped(peers, loopback_tcp)

        def echo() -> None:
            while data := server.recv(4096):
                server.sendall(data)
            server.shutdown(socket.SHUT_WR)

        job = Background(echo)
        for message in (b"hello", b"x" * 10_000, bytes(range(256))):
            client.sendall(message)
            assert _recv_exactly(client, len(message)) == message
        assert client.negotiated_tls_version is not None
        assert client.cipher() is not None
        client.shutdown(socket.SHUT_WR)
        assert client.recv(10) == b""
        job.result()
        client.close()
        server.close()

    def test_sendall_large(self, peers: Peers, loopback_tcp: Any) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        data = hashlib.sha256(b"socket").digest() * (4 * (1 << 20) // 32)
        job = Background(lambda: _recv_exactly(server, len(data)))
        client.sendall(data)
        assert job.result() == data
        client.close()
        server.close()

    def test_recv_into(self, peers: Peers, loopback_tcp: Any) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        _handshake_both(client, server)
        server.sendall(b"0123456789")
        target = bytearray(20)
        got = 0
        while got < 10:
            got += client.recv_into(memoryview(target)[got:], 10 - got)
        assert target[:10] == b"0123456789"
        assert target[10:] == bytearray(10)
        client.close()
        server.close()

    def test_handshake_times_out_on_a_silent_server(self, peers: Peers, loopback_tcp: Any) -> None:
        raw_client, _silent = loopback_tcp()
        client = peers.client_context().wrap_socket(raw_client, "localhost")
        client.settimeout(SHORT_TIMEOUT)
        with pytest.raises(TimeoutError):
            client.do_handshake()
        client.close()

    def test_non_blocking_handshake(self, peers: Peers, loopback_tcp: Any) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        client.setblocking(False)
        with pytest.raises(WantReadError):
            client.do_handshake()
        job = Background(server.do_handshake)
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            for _ in range(100):
                try:
                    client.do_handshake()
                    break
                except WantReadError:
                    assert selector.select(IO_TIMEOUT), "the handshake stalled"
            else:
                pytest.fail("the non-blocking handshake never finished")
        job.result()
        with pytest.raises(WantReadError):
            client.recv(10)
        client.close()
        server.close()

    def test_tcp_close_without_close_notify(self, peers: Peers, loopback_tcp: Any) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        _handshake_both(client, server)
        server.sendall(b"partial")
        server.close()
        assert _recv_exactly(client, 7) == b"partial"
        with pytest.raises(RaggedEOF):
            client.recv(10)
        client.close()

    def test_peer_closes_mid_handshake(self, peers: Peers, loopback_tcp: Any) -> None:
        raw_client, raw_server = loopback_tcp()
        client = peers.client_context().wrap_socket(raw_client, "localhost")

        def hang_up() -> bytes:
            hello: bytes = raw_server.recv(65536)
            raw_server.close()
            return hello

        job = Background(hang_up)
        with pytest.raises(TLSError):
            client.do_handshake()
        assert job.result()[:1] == b"\x16"
        client.close()

    def test_context_manager_closes(self, peers: Peers, loopback_tcp: Any) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        with client:
            _handshake_both(client, server)
        assert client.fileno() == -1
        server.close()
