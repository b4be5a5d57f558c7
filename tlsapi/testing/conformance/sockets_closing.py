"""TLSWrappedSocket's ends: close_notify, half-close, ragged EOF, resets, failures, unwrap, close.

Both ends are the backend under test (see ``peers``), or one end is a raw
TCP socket that misbehaves.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import struct

import pytest

from ..._errors import CertificateError, RaggedEOF, TLSError
from ._support import Peers, skip_under_wine
from .sockets import (
    IO_TIMEOUT,
    Background,
    SocketPairs,
    TCPPairs,
    handshake_both,
    recv_all,
    recv_exactly,
)

__all__ = ["TestSocketClosing"]


@pytest.mark.usefixtures("socket_path")
class TestSocketClosing:
    def test_close_notify_then_recv_returns_empty(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        server.sendall(b"last words")
        server.shutdown(socket.SHUT_WR)
        assert recv_all(client) == b"last words"
        assert client.recv(1) == b""
        assert client.recv_into(bytearray(5)) == 0
        # Half-close: the other direction still works.
        client.sendall(b"reply")
        client.shutdown(socket.SHUT_WR)
        assert recv_all(server) == b"reply"

    def test_half_close_with_unread_data(self, tls_pair: SocketPairs) -> None:
        """shutdown(SHUT_WR) while the peer's data is still unread: the rest stays readable."""
        client, server = tls_pair()
        handshake_both(client, server)
        data = os.urandom(50_000)

        def server_side() -> bytes:
            server.sendall(data)
            received = recv_all(server)  # until the client's close_notify
            server.shutdown(socket.SHUT_WR)
            return received

        server_job = Background(server_side)
        first = client.recv(1000)  # the rest of the record waits inside the TLS library
        client.shutdown(socket.SHUT_WR)
        assert first + recv_all(client) == data
        assert server_job.result() == b""

    def test_tcp_close_without_close_notify_is_ragged(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        server.sendall(b"partial")
        server.close()  # close() sends no close_notify, like ssl.SSLSocket
        assert recv_exactly(client, 7) == b"partial"
        with pytest.raises(RaggedEOF) as info:
            client.recv(10)
        assert isinstance(info.value, ssl.SSLEOFError)

    def test_peer_closes_mid_handshake(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        raw_client, raw_server = loopback_tcp()
        client = peers.client_context().wrap_socket(raw_client, "localhost")

        def hang_up() -> bytes:
            hello = raw_server.recv(65536)  # the ClientHello, then goodbye
            raw_server.close()
            return hello

        hangup = Background(hang_up)
        with pytest.raises(TLSError) as info:
            client.do_handshake()
        assert isinstance(info.value, RaggedEOF)
        assert hangup.result()[:1] == b"\x16"  # it was a handshake record
        client.close()

    def test_client_hangs_up_before_hello(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        raw_client, raw_server = loopback_tcp()
        server = peers.server_context().wrap_socket(raw_server)
        raw_client.close()
        with pytest.raises(RaggedEOF):
            server.do_handshake()
        with pytest.raises(TLSError):
            server.recv(10)  # still failed: never a hang
        server.close()

    def test_connection_reset_stays_an_oserror(self, tls_pair: SocketPairs) -> None:
        skip_under_wine(
            "closesocket() after SO_LINGER (1, 0) sends FIN, not RST, so the peer never sees "
            "a reset (a plain socket's recv() returns b''); Windows sends RST"
        )
        client, server = tls_pair()
        handshake_both(client, server)
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        server.close()
        with pytest.raises(OSError) as info:
            client.recv(10)
        assert not isinstance(info.value, ssl.SSLError)
        assert info.value.errno == errno.ECONNRESET

    def test_certificate_failure_reaches_both_sides(
        self, peers: Peers, loopback_tcp: TCPPairs
    ) -> None:
        raw_client, raw_server = loopback_tcp()
        client = peers.client_context().wrap_socket(raw_client, "not-the-server.example")
        server = peers.server_context().wrap_socket(raw_server)
        server_job = Background(server.do_handshake)
        with pytest.raises(CertificateError):
            client.do_handshake()
        client.close()
        # The server hears the alert (or the hang-up): a TLSError, never a hang.
        with pytest.raises(TLSError):
            server_job.result()
        server.close()

    def test_unwrap_round_trip_then_plain_text(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        client.sendall(b"over tls")
        assert recv_exactly(server, 8) == b"over tls"

        def server_unwraps() -> bytes:
            plain = server.unwrap()
            plain.sendall(b"plain from server")
            return recv_exactly(plain, 17)

        server_job = Background(server_unwraps)
        plain_client = client.unwrap()
        assert isinstance(plain_client, socket.socket)
        assert plain_client.gettimeout() == IO_TIMEOUT
        assert recv_exactly(plain_client, 17) == b"plain from server"
        plain_client.sendall(b"plain from client")
        assert server_job.result() == b"plain from client"
        with pytest.raises(OSError):
            client.recv(1)  # the wrapper let go of the socket
        client.close()  # and closing it no longer closes the plain socket
        assert plain_client.fileno() >= 0

    def test_unwrap_before_handshake_is_an_error(self, tls_pair: SocketPairs) -> None:
        client, _ = tls_pair()
        with pytest.raises(TLSError, match="handshake"):
            client.unwrap()

    def test_context_manager_closes_the_fd(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        raw_client, raw_server = loopback_tcp()
        with peers.client_context().wrap_socket(raw_client, "localhost") as client:
            assert client.fileno() >= 0
            fd = client.fileno()
        assert client.fileno() == -1
        assert raw_client.fileno() == -1
        with pytest.raises(OSError) as info:
            os.fstat(fd)  # the descriptor itself is gone, not just hidden
        assert info.value.errno == errno.EBADF
        with pytest.raises(OSError) as info:
            client.recv(1)
        assert info.value.errno == errno.EBADF
        client.close()  # twice is fine
        # The peer sees the TCP connection end.
        assert raw_server.recv(1) == b""
