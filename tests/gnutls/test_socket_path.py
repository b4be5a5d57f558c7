"""The native socket path (build_ffi/gnutls/sockpath.c): when GnuTLS drives the socket.

The conformance kit runs every socket test on both paths; these check what it
cannot see from outside: that the path is taken only where it should be, that
a takeover reads what the buffer already held before the socket, that the
descriptor is let go, and that an idle connection keeps no large buffer.
"""

from __future__ import annotations

import socket
import threading

import pytest
from tlsapi_gnutls.testing import buffered_capacity

import tlsapi
from tlsapi import ConfigurationError, TLSWrappedSocket, WantReadError
from tlsapi.testing import PKI
from tlsapi.testing.conformance.sockets import TCPPairs

TIMEOUT = 10.0  # a bound for a stuck test, never a measurement


@pytest.fixture
def tcp(loopback_tcp: TCPPairs) -> tuple[socket.socket, socket.socket]:
    return loopback_tcp()


def _fd(tls: TLSWrappedSocket) -> int:
    return int(tls._buffer._transport.fd)  # type: ignore[attr-defined]


def _handshake(client: TLSWrappedSocket, server: TLSWrappedSocket) -> None:
    thread = threading.Thread(target=server.do_handshake, daemon=True)
    thread.start()
    client.do_handshake()
    thread.join(TIMEOUT)


def test_a_plain_socket_is_driven_by_gnutls(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    raw_client, raw_server = tcp
    client = gnutls.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    server = gnutls.server_context(pki.server_config()).wrap_socket(raw_server)
    assert _fd(client) == raw_client.fileno()
    assert _fd(server) == raw_server.fileno()
    _handshake(client, server)
    client.sendall(b"x" * 100_000)
    got = bytearray()
    while len(got) < 100_000:
        got += server.recv(65536)
    assert got == b"x" * 100_000
    # Nothing queued and no large buffer kept once the burst is over.
    assert client.outgoing_bytes_buffered() == 0
    assert buffered_capacity(client._buffer) <= 4096
    assert buffered_capacity(server._buffer) <= 4096
    client.close()
    assert _fd(client) == -1  # let go: the number may belong to another socket now


def test_the_buffer_path_on_request(
    gnutls: tlsapi.Backend,
    pki: PKI,
    tcp: tuple[socket.socket, socket.socket],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TLSAPI_SOCKET_PATH", "buffer")
    client = gnutls.client_context(pki.client_config()).wrap_socket(tcp[0], "localhost")
    assert _fd(client) == -1
    monkeypatch.setenv("TLSAPI_SOCKET_PATH", "fast")
    with pytest.raises(ConfigurationError, match="TLSAPI_SOCKET_PATH"):
        gnutls.server_context(pki.server_config()).wrap_socket(tcp[1])


def test_a_socket_subclass_keeps_its_own_recv_and_send(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    class Counting(socket.socket):
        pass

    raw = Counting(fileno=tcp[0].detach())
    try:
        client = gnutls.client_context(pki.client_config()).wrap_socket(raw, "localhost")
        assert _fd(client) == -1
    finally:
        raw.close()


def test_takeover_reads_what_the_buffer_held_first(
    gnutls: tlsapi.Backend, pki: PKI, tcp: tuple[socket.socket, socket.socket]
) -> None:
    """Half of the ClientHello was fed to the buffer before the socket was wrapped."""
    raw_client, raw_server = tcp
    client = gnutls.client_context(pki.client_config()).wrap_socket(raw_client, "localhost")
    with pytest.raises(WantReadError):
        client.setblocking(False)
        client.do_handshake()
    client.setblocking(True)
    client.settimeout(TIMEOUT)
    hello = raw_server.recv(65536)
    buffer = gnutls.server_context(pki.server_config()).wrap_buffers()
    half = len(hello) // 2
    buffer.receive_from_network(hello[:half])
    # The rest of the hello arrives on the socket after the takeover.
    server = TLSWrappedSocket(raw_server, buffer)
    assert _fd(server) == raw_server.fileno()
    pusher = socket.socket(fileno=raw_client.fileno())  # the same descriptor, plain writes
    try:
        pusher.sendall(hello[half:])
    finally:
        pusher.detach()
    thread = threading.Thread(target=server.do_handshake, daemon=True)
    thread.start()
    # The client's own handshake goes on from where it was (its hello is out).
    client.do_handshake()
    thread.join(TIMEOUT)
    client.sendall(b"after takeover")
    assert server.recv(100) == b"after takeover"
