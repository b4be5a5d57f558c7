"""The native socket path's read-ahead and waiter (build_ffi/gnutls/sockpath.c).

A read peeks several records at a time and takes off the socket only what
GnuTLS used, so the socket is left exactly where the records end: these put
a run of records, the peer's close_notify and plain text after it in the
kernel at once, before the reader looks.  And a reader waiting in the
library's waiter must never stop another thread from writing.
"""

from __future__ import annotations

import socket
import threading

import pytest

import tlsapi
from tlsapi import TLSWrappedBuffer, TLSWrappedSocket, WantReadError
from tlsapi.testing import PKI
from tlsapi.testing.conformance.sockets import TCPPairs

TIMEOUT = 10.0  # a bound for a stuck test, never a measurement
PLAIN = b"in the clear after close_notify"


@pytest.fixture
def tcp(loopback_tcp: TCPPairs) -> tuple[socket.socket, socket.socket]:
    return loopback_tcp()


def _pump_handshake(buffer: TLSWrappedBuffer, raw: socket.socket) -> None:
    """A server over memory buffers, its bytes moved by hand (so we choose what goes out when)."""
    while True:
        try:
            buffer.do_handshake()
        except WantReadError:
            raw.sendall(buffer.peek_outgoing(1 << 20))
            buffer.consume_outgoing(buffer.outgoing_bytes_buffered())
            data = raw.recv(65536)
            assert data, "the client left during the handshake"
            buffer.receive_from_network(data)
        else:
            break
    raw.sendall(buffer.peek_outgoing(1 << 20))
    buffer.consume_outgoing(buffer.outgoing_bytes_buffered())


def _connected(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> tuple[TLSWrappedSocket, TLSWrappedBuffer]:
    raw_client, raw_server = tcp
    client = gnutls.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    assert int(client._buffer._transport.fd) == raw_client.fileno()  # type: ignore[attr-defined]
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    thread = threading.Thread(target=_pump_handshake, args=(server, raw_server), daemon=True)
    thread.start()
    client.do_handshake()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
    return client, server


@pytest.mark.parametrize("read_size", [1, 700, 16384, 65536, 262144])
def test_records_close_notify_and_plain_text_at_once(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket], read_size: int
) -> None:
    client, server = _connected(gnutls, pki, tcp)
    payload = bytes(range(256)) * 800  # 204,800 bytes: 13 records, the last one short
    server.write(payload)
    server.shutdown()  # close_notify
    wire = server.peek_outgoing(1 << 30)
    server.consume_outgoing(len(wire))
    tcp[1].sendall(wire + PLAIN)  # all of it in the client's kernel before it reads
    got = bytearray()
    sink = bytearray(read_size)
    while count := client.recv_into(sink):
        got += sink[:count]
    assert got == payload
    plain = client.unwrap()  # our close_notify; the peer's was read already
    assert plain.recv(len(PLAIN), socket.MSG_WAITALL) == PLAIN
    plain.close()


def test_unwrap_mid_stream_leaves_the_plain_text(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """unwrap() with application data still unread: dropped, up to the close_notify only."""
    client, server = _connected(gnutls, pki, tcp)
    server.write(b"y" * 50_000)
    server.shutdown()
    wire = server.peek_outgoing(1 << 30)
    server.consume_outgoing(len(wire))
    tcp[1].sendall(wire + PLAIN)
    assert client.recv(10) == b"y" * 10
    plain = client.unwrap()
    assert plain.recv(len(PLAIN), socket.MSG_WAITALL) == PLAIN
    plain.close()


def test_a_waiting_reader_does_not_stop_a_writer(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """Full duplex: one thread waits in recv (the library's waiter, no lock held) while
    another sends; the peer answers only once it has what the writer sent."""
    raw_client, raw_server = tcp
    client = gnutls.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    server = gnutls.server_context(pki.server_config()).wrap_socket(raw_server)

    def serve() -> None:
        server.do_handshake()
        for _ in range(50):
            assert server.recv(5) == b"ping!"
            server.sendall(b"pong!")

    peer = threading.Thread(target=serve, daemon=True)
    peer.start()
    client.do_handshake()
    replies: list[bytes] = []

    def read() -> None:
        for _ in range(50):
            replies.append(client.recv(5))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    for _ in range(50):
        client.sendall(b"ping!")  # while the reader waits for the answer to the last one
        while len(replies) < _ + 1 and reader.is_alive():
            reader.join(0.001)
    reader.join(TIMEOUT)
    peer.join(TIMEOUT)
    assert replies == [b"pong!"] * 50
    assert client._waiter is not None  # the path under test
