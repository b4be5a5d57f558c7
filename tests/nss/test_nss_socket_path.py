"""The native socket path (build_ffi/nss/memio.c, fd mode): when NSS drives the socket.

The conformance kit runs every socket test on both paths; these check what it
cannot see from outside: that the path is taken only where it should be, that
a takeover reads what the buffer already held before the socket (a server's
half-read hello, a client's half-read server flight), that a failed recv is
the OSError it is, that ``unwrap()`` leaves what follows the close_notify in
the kernel, that what the buffer path reads of the handshake as it passes
(the client random of a key log, a server's TLS 1.2 tickets, a peer that is
not TLS) is still read, and that an idle connection keeps no large buffer.
Real NSS, real sockets; nothing is timed.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tlsapi_nss.testing import buffered_capacity

import tlsapi
from tlsapi import (
    ConfigurationError,
    NotTLSError,
    TLSError,
    TLSVersion,
    TLSWrappedBuffer,
    TLSWrappedSocket,
    WantReadError,
)
from tlsapi.testing import PKI
from tlsapi.testing.conformance.sockets import TCPPairs

TIMEOUT = 10.0  # a bound for a stuck test, never a measurement
ONLY12: dict[str, Any] = {
    "lowest_supported_version": TLSVersion.TLSv1_2,
    "highest_supported_version": TLSVersion.TLSv1_2,
}
ONLY13: dict[str, Any] = {
    "lowest_supported_version": TLSVersion.TLSv1_3,
    "highest_supported_version": TLSVersion.TLSv1_3,
}


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss socket path")


@pytest.fixture
def tcp(loopback_tcp: TCPPairs) -> tuple[socket.socket, socket.socket]:
    return loopback_tcp()


def _attached(tls: TLSWrappedSocket) -> int:
    """The descriptor NSS's memio layer reads and writes, or -1."""
    return int(tls._buffer._memio.fd)  # type: ignore[attr-defined]


def _in_thread(fn: Callable[[], object]) -> Callable[[], object]:
    """Run ``fn`` in a thread; the returned call joins it and gives its result (or raises)."""
    outcome: list[object] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> object:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the other end is stuck"
        if failure:
            raise failure[0]
        return outcome[0]

    return join


def _handshake(client: TLSWrappedSocket, server: TLSWrappedSocket) -> None:
    join = _in_thread(server.do_handshake)
    client.do_handshake()
    join()


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP reset (SO_LINGER 0): the peer's recv fails ECONNRESET."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _wait_readable(sock: socket.socket) -> None:
    readable, _, _ = select.select([sock], [], [], TIMEOUT)
    assert readable, "nothing arrived"


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        data = sock.recv(size - len(got))
        assert data, "the peer closed early"
        got += data
    return bytes(got)


def _pump_handshake(buffer: TLSWrappedBuffer, sock: socket.socket) -> None:
    """A buffer-path peer over a plain socket, by hand."""
    while True:
        try:
            buffer.do_handshake()
        except WantReadError:
            sock.sendall(buffer.peek_outgoing(buffer.outgoing_bytes_buffered()))
            buffer.consume_outgoing(buffer.outgoing_bytes_buffered())
            data = sock.recv(65536)
            buffer.receive_from_network(data)
            continue
        sock.sendall(buffer.peek_outgoing(buffer.outgoing_bytes_buffered()))
        buffer.consume_outgoing(buffer.outgoing_bytes_buffered())
        return


def test_a_plain_socket_is_driven_by_nss(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    assert _attached(client) == raw_client.fileno()
    assert _attached(server) == raw_server.fileno()
    _handshake(client, server)
    payload = bytes(range(256)) * 4000  # about 1 MB: a corked write of many records
    join = _in_thread(lambda: client.sendall(payload))
    got = bytearray()
    while len(got) < len(payload):
        got += server.recv(65536)
    join()
    assert got == payload
    # Small messages both ways after the burst, then nothing queued and no large buffer.
    for size in (1, 64, 16384, 16385):
        server.sendall(b"s" * size)
        assert _recv_exactly_tls(client, size) == b"s" * size
    assert client.outgoing_bytes_buffered() == 0
    assert server.outgoing_bytes_buffered() == 0
    assert buffered_capacity(client._buffer) <= 16 * 1024
    assert buffered_capacity(server._buffer) <= 16 * 1024
    client.close()
    assert _attached(client) == -1  # let go: the number may belong to another socket now


def _recv_exactly_tls(tls: TLSWrappedSocket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        data = tls.recv(size - len(got))
        assert data, "the peer closed early"
        got += data
    return bytes(got)


def test_a_small_read_leaves_the_rest_of_the_record_to_the_next(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """The plaintext NSS keeps after a short read is readable without the socket."""
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    _handshake(client, server)
    server.sendall(b"0123456789")
    assert client.recv(3) == b"012"
    # The engine's waiter answers "ready" at once (1): NSS holds the rest.
    assert client._waiter is not None and client._waiter(0, 0) == 1
    client.setblocking(False)  # the rest is held by NSS: no wait, no WantReadError
    assert client.recv(100) == b"3456789"
    assert client._waiter(0, 0) == 0  # nothing held, nothing on the socket: timed out
    with pytest.raises(WantReadError):
        client.recv(100)


def test_the_buffer_path_on_request(
    nss: tlsapi.Backend,
    pki: PKI,
    tcp: tuple[socket.socket, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TLSAPI_SOCKET_PATH", "buffer")
    client = nss.client_context(pki.client_config()).wrap_socket(tcp[0], "localhost")
    assert _attached(client) == -1
    monkeypatch.setenv("TLSAPI_SOCKET_PATH", "fast")
    with pytest.raises(ConfigurationError, match="TLSAPI_SOCKET_PATH"):
        nss.server_context(pki.server_config()).wrap_socket(tcp[1])


def test_a_socket_subclass_keeps_its_own_recv_and_send(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    class Counting(socket.socket):
        pass

    raw = Counting(fileno=tcp[0].detach())
    try:
        client = nss.client_context(pki.client_config()).wrap_socket(raw, "localhost")
        assert _attached(client) == -1
    finally:
        raw.close()


def test_takeover_reads_the_hello_the_server_buffer_held_first(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """Half of the ClientHello was fed to the buffer before the socket was wrapped."""
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    client.setblocking(False)
    with pytest.raises(WantReadError):
        client.do_handshake()
    client.settimeout(TIMEOUT)
    _wait_readable(raw_server)
    hello = raw_server.recv(65536)
    buffer = nss.server_context(pki.server_config()).wrap_buffers()
    half = len(hello) // 2
    buffer.receive_from_network(hello[:half])
    server = TLSWrappedSocket(raw_server, buffer)
    assert _attached(server) == raw_server.fileno()
    # The server's own exact reads of the hello go on where the bytes it held left off.
    assert int.from_bytes(hello[3:5], "big") == len(hello) - 5  # one record
    assert buffer._record_left == len(hello) - half  # type: ignore[attr-defined]
    # The rest of the hello arrives on the socket after the takeover.
    pusher = socket.socket(fileno=raw_client.fileno())  # the same descriptor, plain writes
    try:
        pusher.sendall(hello[half:])
    finally:
        pusher.detach()
    join = _in_thread(server.do_handshake)
    client.do_handshake()
    join()
    assert buffer._record_left == 0  # type: ignore[attr-defined]
    client.sendall(b"after takeover")
    assert server.recv(100) == b"after takeover"


def test_takeover_reads_the_flight_the_client_buffer_held_first(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """A client buffer fed the first bytes of the server's flight, then given the socket."""
    raw_client, raw_server = tcp
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    join = _in_thread(server.do_handshake)
    buffer = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    with pytest.raises(WantReadError):
        buffer.do_handshake()
    raw_client.sendall(buffer.peek_outgoing(buffer.outgoing_bytes_buffered()))
    buffer.consume_outgoing(buffer.outgoing_bytes_buffered())
    _wait_readable(raw_client)
    buffer.receive_from_network(raw_client.recv(7))  # a header and a little more
    client = TLSWrappedSocket(raw_client, buffer)
    assert _attached(client) == raw_client.fileno()
    client.do_handshake()
    join()
    assert client.negotiated_tls_version is not None
    server.sendall(b"hello after takeover")
    assert _recv_exactly_tls(client, 20) == b"hello after takeover"


def test_a_failed_recv_in_the_servers_hello_read_is_an_oserror(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    assert _attached(server) == raw_server.fileno()
    raw_client.sendall(b"\x16\x03\x01")  # the start of a hello, then a reset
    _reset(raw_client)
    with pytest.raises(ConnectionResetError) as caught:
        server.do_handshake()
    assert not isinstance(caught.value, TLSError)


def test_a_failed_recv_in_the_clients_handshake_is_an_oserror(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    client.setblocking(False)
    with pytest.raises(WantReadError):
        client.do_handshake()  # the hello goes out
    client.settimeout(TIMEOUT)
    _wait_readable(raw_server)  # unread in the server's kernel: its close resets
    _reset(raw_server)
    with pytest.raises(ConnectionResetError) as caught:
        client.do_handshake()
    assert not isinstance(caught.value, TLSError)


def test_a_failed_recv_after_the_handshake_is_an_oserror(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config(**ONLY12)).wrap_socket(raw_client, "localhost")
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    _handshake(client, server)
    client.sendall(b"left unread")
    _wait_readable(raw_server)
    _reset(raw_server)
    with pytest.raises(ConnectionResetError) as caught:
        client.recv(100)
    assert not isinstance(caught.value, TLSError)


@pytest.mark.parametrize("version", [ONLY12, ONLY13], ids=["TLSv1.2", "TLSv1.3"])
def test_unwrap_leaves_what_follows_the_close_notify_in_the_kernel(
    nss: tlsapi.Backend,
    pki: PKI,
    tcp: tuple[socket.socket, socket.socket],
    version: dict[str, Any],
) -> None:
    """The peer's close_notify and plain bytes come in one write; NSS reads only the record."""
    raw_client, raw_server = tcp
    server = nss.server_context(pki.server_config(**version)).wrap_socket(raw_server)
    join = _in_thread(server.do_handshake)
    peer = nss.client_context(pki.client_config(**version)).wrap_buffers("localhost")
    _pump_handshake(peer, raw_client)
    join()
    peer.write(b"last words")
    peer.shutdown()
    raw_client.sendall(peer.peek_outgoing(peer.outgoing_bytes_buffered()) + b"PLAIN TEXT AFTER TLS")
    _wait_readable(raw_server)
    assert server.recv(100) == b"last words"
    plain = server.unwrap()
    assert _recv_exactly(plain, 20) == b"PLAIN TEXT AFTER TLS"


def test_a_server_refuses_a_peer_that_is_not_tls(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    raw_client.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
    with pytest.raises(NotTLSError, match="GET"):
        server.do_handshake()


def test_a_client_refuses_a_peer_that_is_not_tls(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    client.setblocking(False)
    with pytest.raises(WantReadError):
        client.do_handshake()
    client.settimeout(TIMEOUT)
    _wait_readable(raw_server)
    raw_server.recv(65536)
    raw_server.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    with pytest.raises(NotTLSError, match="HTTP"):
        client.do_handshake()


def test_a_clients_key_log_on_the_native_path(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket], tmp_path: Path
) -> None:
    """The client random comes from our ClientHello, which went out through the tap."""
    keylog = tmp_path / "keys.log"
    raw_client, raw_server = tcp
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        context = nss.client_context(pki.client_config(keylog_filename=str(keylog), **ONLY13))
    client = context.wrap_socket(raw_client, "localhost")
    assert _attached(client) == raw_client.fileno()
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    _handshake(client, server)
    lines = keylog.read_text().split()
    labels = lines[0::3]
    randoms = set(lines[1::3])
    assert sorted(labels) == sorted(
        [
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0",
        ]
    )
    assert len(randoms) == 1
    assert len(bytes.fromhex(randoms.pop())) == 32


def test_tls12_tickets_a_native_server_issued_are_resumed(nss: tlsapi.Backend, pki: PKI) -> None:
    """A server learns the TLS 1.2 tickets it issues from what it sent (the output tap)."""
    server_context = nss.server_context(pki.server_config(**ONLY12))
    client_context = nss.client_context(pki.client_config(**ONLY12))
    session = None
    reused = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        for _ in range(2):
            raw_client = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
            raw_server, _ = listener.accept()
            raw_server.settimeout(TIMEOUT)
            with raw_client, raw_server:
                client = client_context.wrap_socket(raw_client, "localhost", session=session)
                server = server_context.wrap_socket(raw_server)
                assert _attached(server) == raw_server.fileno()
                _handshake(client, server)
                client.sendall(b"ping")
                assert server.recv(10) == b"ping"
                reused.append(server.session_reused)
                session = client.session
                assert session is not None
    assert reused == [False, True]


def test_a_native_client_keeps_a_tls12_session_id_for_resumption(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    """A server with a session ID and no ticket: the client must read the ServerHello
    before NSS ends the handshake (to let NSS's cache keep the session), so NSS reads
    no further than the flight it answered until the tap was read."""
    import ssl

    chain = tmp_path / "chain.pem"
    key = tmp_path / "key.pem"
    chain.write_bytes(pki.server_identity.chain_pem)
    key.write_bytes(pki.server_identity.key_pem)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.maximum_version = ssl.TLSVersion.TLSv1_2
    server_context.options |= ssl.OP_NO_TICKET
    server_context.load_cert_chain(str(chain), str(key))
    client_context = nss.client_context(pki.client_config(**ONLY12))
    session = None
    reused = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        for _ in range(2):
            raw_client = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
            raw_server, _ = listener.accept()
            raw_server.settimeout(TIMEOUT)
            with raw_client, raw_server:
                client = client_context.wrap_socket(raw_client, "localhost", session=session)
                assert _attached(client) in (raw_client.fileno(), -1)
                server = server_context.wrap_socket(
                    raw_server, server_side=True, do_handshake_on_connect=False
                )
                join = _in_thread(server.do_handshake)
                client.do_handshake()
                join()
                client.sendall(b"ping")
                assert server.recv(10) == b"ping"
                reused.append((client.session_reused, server.session_reused))
                session = client.session
                assert session is not None
                # An orderly close: OpenSSL forgets a session whose connection had none.
                join = _in_thread(server.unwrap)
                client.unwrap()
                join()
    assert reused == [(False, False), (True, True)]


def test_a_refused_hello_sends_its_alert_through_the_socket(
    nss: tlsapi.Backend,
    stdlib: tlsapi.Backend,
    pki: PKI,
    tcp: tuple[socket.socket, socket.socket],
) -> None:
    """An sni_callback that raises: the server's handshake_failure alert goes out on the
    socket (nothing is left for Python to send), and the client (OpenSSL, which names
    the alert) learns why."""

    def refuse(_buffer: object, _name: str | None, _config: object) -> None:
        raise LookupError("no such site")

    raw_client, raw_server = tcp
    server = nss.server_context(pki.server_config(sni_callback=refuse)).wrap_socket(raw_server)
    client = stdlib.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    join = _in_thread(server.do_handshake)
    with pytest.raises(TLSError, match=r"(?i)handshake.failure"):
        client.do_handshake()
    with pytest.raises(TLSError, match="sni_callback raised"):
        join()
    assert server.outgoing_bytes_buffered() == 0


def test_a_key_update_and_its_answer_go_through_the_socket(
    nss: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """What NSS writes outside a write call (the KeyUpdate a read answers) goes out too."""
    raw_client, raw_server = tcp
    client = nss.client_context(pki.client_config(**ONLY13)).wrap_socket(raw_client, "localhost")
    server = nss.server_context(pki.server_config()).wrap_socket(raw_server)
    _handshake(client, server)
    for round_trip in range(3):
        client._buffer.key_update(request_peer_update=True)  # type: ignore[attr-defined]
        assert client.outgoing_bytes_buffered() == 0
        client.sendall(b"ping %d" % round_trip)
        assert server.recv(100) == b"ping %d" % round_trip  # NSS answers the KeyUpdate here
        server.sendall(b"pong %d" % round_trip)
        assert client.recv(100) == b"pong %d" % round_trip
