"""TLSWrappedSocket in blocking mode and with timeouts: transfers, threads, makefile, sendfile.

Both ends are the backend under test (see ``peers``), one of them in a thread.
"""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest

from ._support import Peers
from .sockets import (
    IO_TIMEOUT,
    SHORT_TIMEOUT,
    Background,
    SocketPairs,
    TCPPairs,
    handshake_both,
    recv_all,
    recv_exactly,
)

__all__ = ["TestSocketBlocking", "TestSocketTimeouts"]


@pytest.mark.usefixtures("socket_path")
class TestSocketBlocking:
    def test_blocking_echo(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()

        def echo() -> int:
            count = 0
            while data := server.recv(4096):  # runs the server's handshake implicitly
                server.sendall(data)
                count += 1
            server.shutdown(socket.SHUT_WR)
            return count

        echoer = Background(echo)
        for size in (1, 100, 4096, 20000):
            message = os.urandom(size)
            client.sendall(message)  # runs the client's handshake implicitly
            assert recv_exactly(client, size) == message
        client.shutdown(socket.SHUT_WR)
        assert echoer.result() >= 4
        assert client.recv(100) == b""
        assert client.recv(100) == b""  # b"" forever after close_notify

    def test_sendall_16_mib(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        payload = os.urandom(1 << 20) * 16

        def digest_all() -> tuple[int, str]:
            digest = hashlib.sha256()
            buffer = bytearray(1 << 16)
            total = 0
            while count := server.recv_into(buffer):
                digest.update(memoryview(buffer)[:count])
                total += count
            return total, digest.hexdigest()

        reader = Background(digest_all)
        client.sendall(payload)
        client.shutdown(socket.SHUT_WR)
        assert reader.result() == (len(payload), hashlib.sha256(payload).hexdigest())

    def test_send_returns_what_it_accepted(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        reader = Background(recv_all, server)
        payload = os.urandom(300_000)
        sent = 0
        while sent < len(payload):
            count = client.send(memoryview(payload)[sent:])
            assert 0 < count <= len(payload) - sent
            sent += count
        client.shutdown(socket.SHUT_WR)
        assert reader.result() == payload

    def test_recv_into_with_nbytes_and_a_memoryview(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        writer = Background(server.sendall, b"0123456789" * 10)
        target = bytearray(b"." * 50)
        got = bytearray()
        count = client.recv_into(memoryview(target)[10:], 5)
        assert 0 < count <= 5
        assert target[:10] == b"." * 10
        got += target[10 : 10 + count]
        while len(got) < 100:
            count = client.recv_into(target)
            assert count > 0
            got += target[:count]
        assert got == b"0123456789" * 10
        writer.result()
        with pytest.raises(ValueError):
            client.recv_into(target, -1)

    def test_the_rest_of_a_record_comes_without_new_bytes(self, tls_pair: SocketPairs) -> None:
        """A recv smaller than a record leaves the rest with the library: the next
        recv returns it with nothing more on the wire, also after a recv that waited."""
        client, server = tls_pair()
        handshake_both(client, server)
        for round_ in range(3):
            message = bytes([65 + round_]) * 100
            first = Background(client.recv, 60)  # usually waits for the peer first
            server.sendall(message)
            head = first.result()
            assert head == message[: len(head)] and head
            assert recv_exactly(client, len(message) - len(head)) == message[len(head) :]

    def test_two_readers_share_one_stream(self, tls_pair: SocketPairs) -> None:
        """Two threads reading small pieces of the same records: every byte reaches one
        of them, and neither waits for bytes the other took (both see the close_notify)."""
        client, server = tls_pair()
        handshake_both(client, server)

        def reader() -> int:
            count = 0
            while chunk := client.recv(10):
                count += len(chunk)
            return count

        readers = [Background(reader), Background(reader)]
        for index in range(200):
            server.sendall(bytes([index % 256]) * 100)
        server.shutdown(socket.SHUT_WR)
        assert sum(job.result() for job in readers) == 200 * 100

    def test_recv_zero_bytes(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        assert client.recv(0) == b""
        assert client.recv_into(bytearray()) == 0

    def test_full_duplex_from_two_threads(self, tls_pair: SocketPairs) -> None:
        """A reader thread and a writer thread share one socket, as blocking programs do."""
        client, server = tls_pair()
        up = os.urandom(3 << 20)
        down = os.urandom(3 << 20)

        def server_side() -> bytes:
            sender = Background(server.sendall, down)
            received = recv_exactly(server, len(up))
            sender.result()
            return received

        server_job = Background(server_side)
        client_reader = Background(recv_exactly, client, len(down))
        client.sendall(up)
        assert client_reader.result() == down
        assert server_job.result() == up

    def test_both_threads_start_in_the_handshake(
        self, peers: Peers, loopback_tcp: TCPPairs
    ) -> None:
        """Reader and writer threads on both ends, all starting at once, many times over.

        Whichever thread runs the handshake, the other must notice it finished
        (a regression test for a lost wakeup: all four threads waited for data).
        """
        client_context, server_context = peers.client_context(), peers.server_context()
        for _ in range(40):
            raw_client, raw_server = loopback_tcp()
            client = client_context.wrap_socket(raw_client, "localhost")
            server = server_context.wrap_socket(raw_server)
            up, down = os.urandom(256 * 1024), os.urandom(256 * 1024)
            jobs = [
                Background(recv_exactly, client, len(down)),
                Background(client.sendall, up),
                Background(recv_exactly, server, len(up)),
                Background(server.sendall, down),
            ]
            results = [job.result() for job in jobs]
            assert results[0] == down
            assert results[2] == up
            client.close()
            server.close()

    # -- makefile -----------------------------------------------------------------------

    def test_makefile_lines_both_ways(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()

        def line_echo() -> list[str]:
            seen = []
            with server.makefile("rw", encoding="utf-8", newline="\n") as stream:
                for line in stream:
                    seen.append(line)
                    stream.write(line.upper())
                    stream.flush()
            server.shutdown(socket.SHUT_WR)
            return seen

        echoer = Background(line_echo)
        with client.makefile("rwb") as stream:
            for text in (b"hello\n", b"second line\n", "d\u00e9j\u00e0 vu\n".encode()):
                stream.write(text)
                stream.flush()
                assert stream.readline() == text.decode().upper().encode()
        client.shutdown(socket.SHUT_WR)
        assert echoer.result() == ["hello\n", "second line\n", "d\u00e9j\u00e0 vu\n"]

    def test_makefile_read_to_eof_and_unbuffered_write(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        body = os.urandom(200_000)

        def send_body() -> None:
            raw = server.makefile("wb", buffering=0)
            view = memoryview(body)
            while view:
                view = view[raw.write(view) :]
            raw.close()
            server.shutdown(socket.SHUT_WR)

        sender = Background(send_body)
        with client.makefile("rb") as stream:
            assert stream.read(10) == body[:10]
            assert stream.read() == body[10:]
        sender.result()
        with pytest.raises(ValueError, match="binary"):
            client.makefile("r", buffering=0)
        with pytest.raises(ValueError, match="invalid mode"):
            client.makefile("rx")

    def test_makefile_keeps_the_connection_open_after_close(self, tls_pair: SocketPairs) -> None:
        """As with socket.socket (http.client relies on it): the fd closes with the last file."""
        client, server = tls_pair()
        writer = Background(server.sendall, b"line one\nline two\n")
        stream = client.makefile("rb")
        client.close()
        assert client.fileno() >= 0
        assert stream.readline() == b"line one\n"
        assert stream.readline() == b"line two\n"
        writer.result()
        stream.close()
        assert client.fileno() == -1

    def test_sendfile(self, tls_pair: SocketPairs, tmp_path: Path) -> None:
        client, server = tls_pair()
        content = os.urandom(700_000)
        path = tmp_path / "payload.bin"
        path.write_bytes(content)
        reader = Background(recv_all, server)
        with path.open("rb") as file:
            assert client.sendfile(file, offset=100, count=500_000) == 500_000
            assert file.tell() == 500_100
        client.shutdown(socket.SHUT_WR)
        assert reader.result() == content[100:500_100]
        client.setblocking(False)
        with path.open("rb") as file, pytest.raises(ValueError, match="non-blocking"):
            client.sendfile(file)


@pytest.mark.usefixtures("socket_path")
class TestSocketTimeouts:
    def test_silent_server_times_out_the_handshake(
        self, peers: Peers, loopback_tcp: TCPPairs
    ) -> None:
        raw_client, _silent = loopback_tcp()
        raw_client.settimeout(SHORT_TIMEOUT)  # set before wrapping: must be honoured
        client = peers.client_context().wrap_socket(raw_client, "localhost")
        assert client.gettimeout() == SHORT_TIMEOUT
        with pytest.raises(socket.timeout, match="handshake operation timed out"):
            client.do_handshake()
        with pytest.raises(TimeoutError):
            client.recv(10)  # implicit handshake, same wait
        client.close()

    def test_silent_client_times_out_the_server(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        _silent, raw_server = loopback_tcp()
        server = peers.server_context().wrap_socket(raw_server)
        server.settimeout(SHORT_TIMEOUT)
        with pytest.raises(TimeoutError):
            server.do_handshake()
        server.close()

    def test_recv_times_out_then_works(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        client.settimeout(SHORT_TIMEOUT)
        with pytest.raises(socket.timeout, match="read operation timed out"):
            client.recv(10)
        with pytest.raises(TimeoutError):
            client.recv_into(bytearray(10))
        server.sendall(b"late")
        client.settimeout(IO_TIMEOUT)
        assert recv_exactly(client, 4) == b"late"

    def test_makefile_read_timeout(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        client.settimeout(SHORT_TIMEOUT)
        with client.makefile("rb") as stream, pytest.raises(TimeoutError):
            stream.readline()

    def test_send_times_out_when_the_peer_stops_reading(self, tls_pair: SocketPairs) -> None:
        """With a timeout, a send either accepts data (and says how much) or raises: never both."""
        client, server = tls_pair()
        handshake_both(client, server)
        client.settimeout(SHORT_TIMEOUT)
        accepted = 0
        chunk = os.urandom(1 << 16)
        with pytest.raises(TimeoutError, match="write operation timed out"):
            for _ in range(10_000):  # far more than any socket buffer holds
                accepted += client.send(chunk)
        assert accepted > 0
        # Everything accepted reaches the peer exactly once, pending ciphertext included.
        reader = Background(recv_exactly, server, accepted)
        client.settimeout(IO_TIMEOUT)
        client.send(b"")  # flushes what is still pending
        assert client.outgoing_bytes_buffered() == 0
        received = reader.result()
        assert received == (chunk * (accepted // len(chunk) + 1))[:accepted]

    def test_timeout_validation(self, tls_pair: SocketPairs) -> None:
        client, _ = tls_pair()
        assert client.gettimeout() == IO_TIMEOUT
        with pytest.raises(ValueError):
            client.settimeout(-1)
        client.setblocking(False)
        assert client.gettimeout() == 0.0
        assert not client.getblocking()
        client.setblocking(True)
        assert client.gettimeout() is None
        assert client.getblocking()

    @pytest.mark.parametrize("call", ["sendall", "send", "recv"])
    def test_implicit_handshake_timeout_says_handshake(
        self, peers: Peers, loopback_tcp: TCPPairs, call: str
    ) -> None:
        """A timeout while sendall (or send, recv) runs the handshake names the handshake."""
        raw_client, _silent = loopback_tcp()
        raw_client.settimeout(SHORT_TIMEOUT)
        client = peers.client_context().wrap_socket(raw_client, "localhost")
        method = getattr(client, call)
        with pytest.raises(TimeoutError, match="The handshake operation timed out"):
            method(10) if call == "recv" else method(b"hello")
        client.close()
