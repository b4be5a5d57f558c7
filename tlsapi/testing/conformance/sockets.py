"""TLSWrappedSocket over the backend: the basics, and the helpers of the socket tests.

Real loopback TCP sockets; the peer runs in a thread.  Every socket has a
timeout and every join is bounded, so a hang shows as a failure, never as a
hung run.  The short timeouts only make a "timed out" path happen; nothing
is measured.  The other socket modules (``sockets_blocking``,
``sockets_nonblocking``, ``sockets_closing``, ``sockets_unwrap``) use the
helpers and fixtures defined here: ``loopback_tcp`` (connected TCP pairs) and
``tls_pair`` (wrapped pairs of the backend under test, as ``peers`` plays it),
and ``socket_path``, which runs each socket test twice where the backend has
a native socket path (its library reading and writing the socket itself):
once on it, once on the buffer path (``TLSAPI_SOCKET_PATH=buffer``).
"""

from __future__ import annotations

import hashlib
import selectors
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ..._backend import Capability
from ..._context import ClientContext, ServerContext
from ..._errors import ConfigurationError, RaggedEOF, TLSError, WantReadError
from ..._protocols import NextProtocol
from ..._socket import TLSWrappedSocket
from ..._socket._engine import PATH_VARIABLE
from ._support import Peers, skip_if_lacks

__all__ = [
    "IO_TIMEOUT",
    "JOIN_TIMEOUT",
    "SHORT_TIMEOUT",
    "Background",
    "SocketPairs",
    "TCPPairs",
    "TestSocket",
    "finish_nonblocking_handshake",
    "handshake_both",
    "loopback_tcp",
    "recv_all",
    "recv_exactly",
    "socket_path",
    "tls_pair",
]

IO_TIMEOUT = 10.0  # every socket: an upper bound for a stuck test, never a measurement
JOIN_TIMEOUT = 30.0
SHORT_TIMEOUT = 0.3  # for the tests whose point is that a timeout fires

TCPPairs = Callable[[], tuple[socket.socket, socket.socket]]
"""What ``loopback_tcp`` gives: a maker of connected (client, server) TCP sockets."""

SocketPairs = Callable[..., tuple[TLSWrappedSocket, TLSWrappedSocket]]
"""What ``tls_pair`` gives: ``make(**client_overrides) -> (client, server)``."""


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
def loopback_tcp() -> Iterator[TCPPairs]:
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


def _has_native_path(peers: Peers) -> bool:
    """Whether either side's buffers offer the native socket path's hook."""
    buffers = []
    if Capability.CLIENT in peers.client_backend.capabilities:
        buffers.append(peers.client_context().wrap_buffers("localhost"))
    if Capability.SERVER in peers.server_backend.capabilities:
        buffers.append(peers.server_context().wrap_buffers())
    return any(hasattr(buffer, "_attach_socket") for buffer in buffers)


@pytest.fixture(params=("native", "buffer"))
def socket_path(
    request: pytest.FixtureRequest, peers: Peers, monkeypatch: pytest.MonkeyPatch
) -> str:
    """The socket path under test: "native" (where the backend has one) or "buffer"."""
    path: str = request.param
    if path == "native" and not _has_native_path(peers):
        pytest.skip("the backend has no native socket path: the buffer path is its only one")
    monkeypatch.setenv(PATH_VARIABLE, path)
    return path


@pytest.fixture
def tls_pair(peers: Peers, loopback_tcp: TCPPairs) -> Iterator[SocketPairs]:
    """Wrapped (client, server) pairs over loopback TCP; handshake not yet run; closed after."""
    made: list[TLSWrappedSocket] = []

    def make(**client_overrides: Any) -> tuple[TLSWrappedSocket, TLSWrappedSocket]:
        raw_client, raw_server = loopback_tcp()
        client = peers.client_context(**client_overrides).wrap_socket(raw_client, "localhost")
        server = peers.server_context().wrap_socket(raw_server)
        made.extend((client, server))
        return client, server

    yield make
    for tls in made:
        tls.close()


def handshake_both(client: TLSWrappedSocket, server: TLSWrappedSocket) -> None:
    """The server's handshake in a thread, the client's here; both finished on return."""
    done = Background(server.do_handshake)
    client.do_handshake()
    done.result()


def recv_exactly(tls: Any, size: int) -> bytes:
    """``size`` bytes from any stream socket; EOF before them is an AssertionError."""
    data = bytearray()
    while len(data) < size:
        chunk = tls.recv(min(65536, size - len(data)))
        if not chunk:
            raise AssertionError(f"EOF after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def recv_all(tls: Any) -> bytes:
    """Everything up to EOF (close_notify for a TLS socket)."""
    data = bytearray()
    while chunk := tls.recv(65536):
        data += chunk
    return bytes(data)


def _wrapped(peers: Peers, tcp: TCPPairs) -> tuple[TLSWrappedSocket, TLSWrappedSocket]:
    raw_client, raw_server = tcp()
    client = peers.client_context().wrap_socket(raw_client, "localhost")
    server = peers.server_context().wrap_socket(raw_server)
    return client, server


def finish_nonblocking_handshake(client: TLSWrappedSocket) -> None:
    """Drive a non-blocking socket's handshake to its end, waiting in a selector."""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ)
        for _ in range(100):
            try:
                client.do_handshake()
                return
            except WantReadError:
                assert selector.select(IO_TIMEOUT), "the handshake stalled"
    pytest.fail("the non-blocking handshake never finished")


@pytest.mark.usefixtures("socket_path")
class TestSocket:
    def test_blocking_echo(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        client, server = _wrapped(peers, loopback_tcp)

        def echo() -> None:
            while data := server.recv(4096):
                server.sendall(data)
            server.shutdown(socket.SHUT_WR)

        job = Background(echo)
        for message in (b"hello", b"x" * 10_000, bytes(range(256))):
            client.sendall(message)
            assert recv_exactly(client, len(message)) == message
        assert client.negotiated_tls_version is not None
        assert client.cipher() is not None
        client.shutdown(socket.SHUT_WR)
        assert client.recv(10) == b""
        job.result()
        client.close()
        server.close()

    def test_sendall_large(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        data = hashlib.sha256(b"socket").digest() * (4 * (1 << 20) // 32)
        job = Background(lambda: recv_exactly(server, len(data)))
        client.sendall(data)
        assert job.result() == data
        client.close()
        server.close()

    def test_recv_into(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        handshake_both(client, server)
        server.sendall(b"0123456789")
        target = bytearray(20)
        got = 0
        while got < 10:
            got += client.recv_into(memoryview(target)[got:], 10 - got)
        assert target[:10] == b"0123456789"
        assert target[10:] == bytearray(10)
        client.close()
        server.close()

    def test_handshake_times_out_on_a_silent_server(
        self, peers: Peers, loopback_tcp: TCPPairs
    ) -> None:
        raw_client, _silent = loopback_tcp()
        client = peers.client_context().wrap_socket(raw_client, "localhost")
        client.settimeout(SHORT_TIMEOUT)
        with pytest.raises(TimeoutError):
            client.do_handshake()
        client.close()

    def test_non_blocking_handshake(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        client.setblocking(False)
        with pytest.raises(WantReadError):
            client.do_handshake()
        job = Background(server.do_handshake)
        finish_nonblocking_handshake(client)
        job.result()
        with pytest.raises(WantReadError):
            client.recv(10)
        client.close()
        server.close()

    def test_tcp_close_without_close_notify(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        handshake_both(client, server)
        server.sendall(b"partial")
        server.close()
        assert recv_exactly(client, 7) == b"partial"
        with pytest.raises(RaggedEOF):
            client.recv(10)
        client.close()

    def test_peer_closes_mid_handshake(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
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

    def test_context_manager_closes(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        client, server = _wrapped(peers, loopback_tcp)
        with client:
            handshake_both(client, server)
        assert client.fileno() == -1
        server.close()

    # -- identity and plumbing --------------------------------------------------------

    def test_wrap_socket_returns_the_one_socket_class(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        assert type(client) is TLSWrappedSocket
        assert type(server) is TLSWrappedSocket
        assert client.family == socket.AF_INET
        assert client.type == socket.SOCK_STREAM
        assert client.proto in (0, socket.IPPROTO_TCP)
        assert client.getpeername() == server.getsockname()
        assert client.getsockname() == server.getpeername()
        assert client.fileno() >= 0
        assert client.server_hostname == "localhost"
        assert isinstance(client.context, ClientContext)
        assert isinstance(server.context, ServerContext)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert not hasattr(client, "__getattr__")
        assert repr(client).startswith("<tlsapi.TLSWrappedSocket fd=")

    def test_extras_before_and_after_the_handshake(
        self, tls_pair: SocketPairs, peers: Peers
    ) -> None:
        config = peers.client_config(inner_protocols=(NextProtocol.HTTP1,))
        skip_if_lacks(
            peers.client_backend,
            Capability.ALPN,
            lambda: peers.client_backend.client_context(config),
        )
        server_config = peers.server_config(inner_protocols=(NextProtocol.HTTP1,))
        skip_if_lacks(
            peers.server_backend,
            Capability.SERVER_ALPN,
            lambda: peers.server_backend.server_context(server_config),
        )
        client, server = tls_pair(inner_protocols=(NextProtocol.HTTP1,))
        assert client.cipher() is None
        assert client.negotiated_tls_version is None
        assert client.getpeercert() is None
        handshake_both(client, server)
        assert client.cipher() == server.cipher() is not None
        assert client.negotiated_tls_version == server.negotiated_tls_version is not None
        chain = client.getpeercert()
        assert chain is not None
        assert chain[0] == peers.pki.server_identity.cert_der
        assert server.getpeercert() is None  # no client certificate asked for
        # The server offered no ALPN, so nothing was negotiated.
        assert client.negotiated_protocol() is None

    def test_only_stream_sockets(self, peers: Peers) -> None:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            pytest.raises(ConfigurationError, match="stream socket"),
        ):
            peers.server_context().wrap_socket(udp)

    def test_flags_are_refused(self, tls_pair: SocketPairs) -> None:
        client, _ = tls_pair()
        with pytest.raises(ValueError, match="flags"):
            client.recv(10, socket.MSG_PEEK)
        with pytest.raises(ValueError, match="flags"):
            client.send(b"x", socket.MSG_OOB)
