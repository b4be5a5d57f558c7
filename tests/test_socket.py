"""TLSWrappedSocket over every available backend, on real loopback TCP sockets.

Peers are the backend itself (both ends wrapped by tlsapi, one of them in a
thread) and the standard library's ``ssl`` module.  Every socket has a
timeout and every thread join is bounded, so a bug shows up as a failure,
never as a hung run.  Nothing here measures time.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import selectors
import socket
import ssl
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi.testing.conformance.sockets import Background
from tlsapi.testing.pki import PKI

IO_TIMEOUT = 10.0  # every socket: an upper bound for a stuck test, never a measurement
JOIN_TIMEOUT = 30.0
SHORT_TIMEOUT = 0.3  # for the tests whose point is that a timeout fires


# -- helpers ------------------------------------------------------------------------


class Peers:
    """Contexts of the backend under test; a role it cannot play is played by stdlib."""

    def __init__(self, backend: tlsapi.Backend, pki: PKI) -> None:
        self.pki = pki
        stdlib = tlsapi.backend("stdlib")
        has = backend.capabilities
        self.client_backend = backend if tlsapi.Capability.CLIENT in has else stdlib
        self.server_backend = backend if tlsapi.Capability.SERVER in has else stdlib

    def client_context(self, **overrides: Any) -> tlsapi.ClientContext:
        return self.client_backend.client_context(self.pki.client_config(**overrides))

    def server_context(self, **overrides: Any) -> tlsapi.ServerContext:
        return self.server_backend.server_context(self.pki.server_config(**overrides))


@pytest.fixture
def peers(backend: tlsapi.Backend, pki: PKI) -> Peers:
    return Peers(backend, pki)


@pytest.fixture
def tls_pair(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> Iterator[Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]]]:
    """Wrapped (client, server) pairs over loopback TCP; handshake not yet run."""
    made: list[tlsapi.TLSWrappedSocket] = []

    def make(**client_overrides: Any) -> tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]:
        raw_client, raw_server = loopback_tcp()
        client = peers.client_context(**client_overrides).wrap_socket(raw_client, "localhost")
        server = peers.server_context().wrap_socket(raw_server)
        made.extend((client, server))
        return client, server

    yield make
    for tls in made:
        tls.close()


def handshake_both(client: tlsapi.TLSWrappedSocket, server: tlsapi.TLSWrappedSocket) -> None:
    done = Background(server.do_handshake)
    client.do_handshake()
    done.result()


def recv_exactly(tls: Any, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = tls.recv(min(65536, size - len(data)))
        if not chunk:
            raise AssertionError(f"EOF after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def recv_all(tls: Any) -> bytes:
    data = bytearray()
    while chunk := tls.recv(65536):
        data += chunk
    return bytes(data)


def stdlib_server_context(pki: PKI, tmp_path: Path) -> ssl.SSLContext:
    files = pki.server_identity.write(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.chain, files.key)
    return context


def stdlib_client_context(pki: PKI) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=pki.root_pem.decode("ascii"))
    return context


# -- identity and plumbing ------------------------------------------------------------


def test_wrap_socket_returns_the_one_socket_class(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, server = tls_pair()
    assert type(client) is tlsapi.TLSWrappedSocket
    assert type(server) is tlsapi.TLSWrappedSocket
    assert client.family == socket.AF_INET
    assert client.type == socket.SOCK_STREAM
    assert client.proto in (0, socket.IPPROTO_TCP)
    assert client.getpeername() == server.getsockname()
    assert client.getsockname() == server.getpeername()
    assert client.fileno() >= 0
    assert client.server_hostname == "localhost"
    assert isinstance(client.context, tlsapi.ClientContext)
    assert isinstance(server.context, tlsapi.ServerContext)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert not hasattr(client, "__getattr__")
    assert repr(client).startswith("<tlsapi.TLSWrappedSocket fd=")


def test_extras_before_and_after_the_handshake(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
    peers: Peers,
) -> None:
    client, server = tls_pair(inner_protocols=(tlsapi.NextProtocol.HTTP1,))
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


def test_only_stream_sockets(peers: Peers) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        pytest.raises(tlsapi.ConfigurationError, match="stream socket"),
    ):
        peers.server_context().wrap_socket(udp)


def test_flags_are_refused(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, _ = tls_pair()
    with pytest.raises(ValueError, match="flags"):
        client.recv(10, socket.MSG_PEEK)
    with pytest.raises(ValueError, match="flags"):
        client.send(b"x", socket.MSG_OOB)


# -- blocking mode ------------------------------------------------------------------


def test_blocking_echo(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_sendall_16_mib(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_send_returns_what_it_accepted(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_recv_into_with_nbytes_and_a_memoryview(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_recv_zero_bytes(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, server = tls_pair()
    handshake_both(client, server)
    assert client.recv(0) == b""
    assert client.recv_into(bytearray()) == 0


def test_full_duplex_from_two_threads(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
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


# -- makefile ---------------------------------------------------------------------------


def test_makefile_lines_both_ways(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_makefile_read_to_eof_and_unbuffered_write(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_makefile_keeps_the_connection_open_after_close(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_sendfile(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
    tmp_path: Path,
) -> None:
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


# -- timeouts -------------------------------------------------------------------------


def test_silent_server_times_out_the_handshake(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
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


def test_silent_client_times_out_the_server(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> None:
    _silent, raw_server = loopback_tcp()
    server = peers.server_context().wrap_socket(raw_server)
    server.settimeout(SHORT_TIMEOUT)
    with pytest.raises(TimeoutError):
        server.do_handshake()
    server.close()


def test_recv_times_out_then_works(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_makefile_read_timeout(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, server = tls_pair()
    handshake_both(client, server)
    client.settimeout(SHORT_TIMEOUT)
    with client.makefile("rb") as stream, pytest.raises(TimeoutError):
        stream.readline()


def test_send_times_out_when_the_peer_stops_reading(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_timeout_validation(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


# -- non-blocking mode ---------------------------------------------------------------------


def test_nonblocking_handshake_raises_want_read(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, server = tls_pair()
    client.setblocking(False)
    with pytest.raises(tlsapi.WantReadError) as info:
        client.do_handshake()  # the ClientHello is out; no answer yet
    assert isinstance(info.value, ssl.SSLWantReadError)
    with pytest.raises(ssl.SSLWantReadError):
        client.recv(10)
    server_job = Background(server.do_handshake)  # blocking, in its own thread
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ)
        for _ in range(100):
            try:
                client.do_handshake()
                break
            except tlsapi.WantReadError:
                assert selector.select(IO_TIMEOUT), "handshake stalled"
        else:
            pytest.fail("non-blocking handshake never finished")
    server_job.result()
    assert client.negotiated_tls_version is not None


class _NonBlockingEnd:
    """One side of a selector-driven transfer: sends ``outgoing``, expects ``expected`` bytes."""

    def __init__(self, tls: tlsapi.TLSWrappedSocket, outgoing: bytes, expected: int) -> None:
        self.tls = tls
        self.outgoing = memoryview(outgoing)
        self.expected = expected
        self.received = bytearray()
        self.shaken = False
        self.want_write = 0
        self.want_read = 0

    @property
    def done(self) -> bool:
        return (
            not self.outgoing
            and not self.tls.outgoing_bytes_buffered()
            and len(self.received) >= self.expected
        )

    def step(self) -> int:
        """Make all the progress possible now; return the selector events still needed."""
        events = 0
        try:
            if not self.shaken:
                self.tls.do_handshake()
                self.shaken = True
        except tlsapi.WantReadError:
            self.want_read += 1
            return selectors.EVENT_READ
        except tlsapi.WantWriteError:
            self.want_write += 1
            return selectors.EVENT_WRITE
        try:
            while self.outgoing:
                count = self.tls.send(self.outgoing[:100_000])
                self.outgoing = self.outgoing[count:]
            while self.tls.outgoing_bytes_buffered():
                self.tls.send(b"")
        except tlsapi.WantWriteError:
            self.want_write += 1
            events |= selectors.EVENT_WRITE
        try:
            while len(self.received) < self.expected:
                data = self.tls.recv(65536)
                assert data, "unexpected EOF"
                self.received += data
        except tlsapi.WantReadError:
            self.want_read += 1
            events |= selectors.EVENT_READ
        except tlsapi.WantWriteError:
            self.want_write += 1
            events |= selectors.EVENT_WRITE | selectors.EVENT_READ
        return events


def test_nonblocking_transfer_with_selectors(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    """Both ends non-blocking in one thread, 4 MiB each way through small socket buffers."""
    client, server = tls_pair()
    for tls in (client, server):
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        tls.setblocking(False)
    up, down = os.urandom(4 << 20), os.urandom(4 << 20)
    ends = [_NonBlockingEnd(client, up, len(down)), _NonBlockingEnd(server, down, len(up))]
    with selectors.DefaultSelector() as selector:
        for end in ends:
            selector.register(end.tls, selectors.EVENT_READ, end)
        for _ in range(200_000):
            for end in ends:
                if end.done:
                    continue
                events = end.step()
                if end.done:
                    selector.unregister(end.tls)
                else:
                    selector.modify(end.tls, events or selectors.EVENT_READ, end)
            if all(end.done for end in ends):
                break
            assert selector.select(IO_TIMEOUT), "non-blocking transfer stalled"
        else:
            pytest.fail("non-blocking transfer did not finish")
    assert bytes(ends[0].received) == down
    assert bytes(ends[1].received) == up
    # 4 MiB cannot fit in 32 KiB socket buffers: both paths really ran.
    assert all(end.want_write > 0 and end.want_read > 0 for end in ends)


def test_nonblocking_send_keeps_accepted_data_pending(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    """The documented rule: accepted plaintext is never asked for again."""
    client, server = tls_pair()
    handshake_both(client, server)
    client.setblocking(False)
    chunk = os.urandom(1 << 16)
    accepted = 0
    saw_pending = False
    refusals = 0
    for _ in range(10_000):  # the server reads nothing: the socket fills up
        before = client.outgoing_bytes_buffered()
        try:
            accepted += client.send(chunk)
        except tlsapi.WantWriteError as exc:
            assert isinstance(exc, ssl.SSLWantWriteError)
            # A refusal accepts nothing: pending ciphertext did not grow.
            assert client.outgoing_bytes_buffered() <= before
            refusals += 1
            if refusals == 3:
                break
        else:
            saw_pending = saw_pending or client.outgoing_bytes_buffered() > 0
    else:
        pytest.fail("the socket never filled up")
    assert accepted > 0
    # The last accepting send left ciphertext pending, and it is still there.
    assert saw_pending
    assert client.outgoing_bytes_buffered() > 0

    reader = Background(recv_exactly, server, accepted)
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_WRITE)
        while client.outgoing_bytes_buffered():
            assert selector.select(IO_TIMEOUT), "pending ciphertext never drained"
            with contextlib.suppress(tlsapi.WantWriteError):
                assert client.send(b"") == 0
    assert reader.result() == (chunk * (accepted // len(chunk) + 1))[:accepted]


def test_nonblocking_close_notify_reads_empty(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, server = tls_pair()
    handshake_both(client, server)
    client.setblocking(False)
    with pytest.raises(tlsapi.WantReadError):
        client.recv(10)
    server.sendall(b"bye")
    server.shutdown(socket.SHUT_WR)
    got = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ)
        for _ in range(100):
            try:
                data = client.recv(10)
            except tlsapi.WantReadError:
                assert selector.select(IO_TIMEOUT)
                continue
            if not data:
                break
            got += data
    assert got == b"bye"
    assert client.recv(10) == b""


# -- closing, shutdown, unwrap ------------------------------------------------------------------


def test_close_notify_then_recv_returns_empty(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_half_close_with_unread_data(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_tcp_close_without_close_notify_is_ragged(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, server = tls_pair()
    handshake_both(client, server)
    server.sendall(b"partial")
    server.close()  # close() sends no close_notify, like ssl.SSLSocket
    assert recv_exactly(client, 7) == b"partial"
    with pytest.raises(tlsapi.RaggedEOF) as info:
        client.recv(10)
    assert isinstance(info.value, ssl.SSLEOFError)


def test_peer_closes_mid_handshake(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> None:
    raw_client, raw_server = loopback_tcp()
    client = peers.client_context().wrap_socket(raw_client, "localhost")

    def hang_up() -> bytes:
        hello = raw_server.recv(65536)  # the ClientHello, then goodbye
        raw_server.close()
        return hello

    hangup = Background(hang_up)
    with pytest.raises(tlsapi.TLSError) as info:
        client.do_handshake()
    assert isinstance(info.value, tlsapi.RaggedEOF)
    assert hangup.result()[:1] == b"\x16"  # it was a handshake record
    client.close()


def test_client_hangs_up_before_hello(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> None:
    raw_client, raw_server = loopback_tcp()
    server = peers.server_context().wrap_socket(raw_server)
    raw_client.close()
    with pytest.raises(tlsapi.RaggedEOF):
        server.do_handshake()
    with pytest.raises(tlsapi.TLSError):
        server.recv(10)  # still failed: never a hang
    server.close()


def test_connection_reset_stays_an_oserror(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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
    peers: Peers,
    loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]],
) -> None:
    raw_client, raw_server = loopback_tcp()
    client = peers.client_context().wrap_socket(raw_client, "not-the-server.example")
    server = peers.server_context().wrap_socket(raw_server)
    server_job = Background(server.do_handshake)
    with pytest.raises(tlsapi.CertificateError):
        client.do_handshake()
    client.close()
    # The server hears the alert (or the hang-up): a TLSError, never a hang.
    with pytest.raises(tlsapi.TLSError):
        server_job.result()
    server.close()


def test_unwrap_round_trip_then_plain_text(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
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


def test_unwrap_before_handshake_is_an_error(
    tls_pair: Callable[..., tuple[tlsapi.TLSWrappedSocket, tlsapi.TLSWrappedSocket]],
) -> None:
    client, _ = tls_pair()
    with pytest.raises(tlsapi.TLSError, match="handshake"):
        client.unwrap()


def test_context_manager_closes_the_fd(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> None:
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


# -- interoperation with the ssl module --------------------------------------------------------


def test_tlsapi_client_against_ssl_server(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]], tmp_path: Path
) -> None:
    raw_client, raw_server = loopback_tcp()
    ssl_context = stdlib_server_context(peers.pki, tmp_path)

    def ssl_side() -> bytes:
        with ssl_context.wrap_socket(raw_server, server_side=True) as ssl_server:
            return ssl_conversation(ssl_server)

    def ssl_conversation(ssl_server: ssl.SSLSocket) -> bytes:
        data = recv_exactly(ssl_server, 1 << 20)
        ssl_server.sendall(hashlib.sha256(data).digest())
        with ssl_server.makefile("rb") as stream:
            line = stream.readline()
        ssl_server.sendall(line[::-1])
        plain = ssl_server.unwrap()  # waits for our close_notify, answers with its own
        plain.sendall(b"in the clear")
        return line

    server_job = Background(ssl_side)
    client = peers.client_context().wrap_socket(raw_client, "localhost")
    payload = os.urandom(1 << 20)
    client.sendall(payload)
    assert recv_exactly(client, 32) == hashlib.sha256(payload).digest()
    client.sendall(b"a line\n")
    assert recv_exactly(client, 7) == b"\nenil a"
    plain = client.unwrap()
    assert recv_exactly(plain, 12) == b"in the clear"
    assert server_job.result() == b"a line\n"


def test_ssl_client_against_tlsapi_server(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> None:
    raw_client, raw_server = loopback_tcp()
    server = peers.server_context().wrap_socket(raw_server)

    def tlsapi_side() -> bytes:
        data = recv_exactly(server, 1 << 20)
        server.sendall(hashlib.sha256(data).digest())
        server.sendall(b"closing now")
        server.shutdown(socket.SHUT_WR)
        return recv_all(server)

    server_job = Background(tlsapi_side)
    with stdlib_client_context(peers.pki).wrap_socket(
        raw_client, server_hostname="localhost"
    ) as ssl_client:
        payload = os.urandom(1 << 20)
        ssl_client.sendall(payload)
        assert recv_exactly(ssl_client, 32) == hashlib.sha256(payload).digest()
        assert recv_exactly(ssl_client, 11) == b"closing now"
        assert ssl_client.recv(10) == b""  # our close_notify, seen by ssl as a clean end
        ssl_client.sendall(b"ssl's last word")
        ssl_client.unwrap()  # sends ssl's close_notify
        assert server_job.result() == b"ssl's last word"


def test_ssl_client_unwraps_against_tlsapi_server(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]]
) -> None:
    raw_client, raw_server = loopback_tcp()
    server = peers.server_context().wrap_socket(raw_server)

    def tlsapi_side() -> bytes:
        assert recv_exactly(server, 5) == b"hello"
        plain = server.unwrap()
        plain.sendall(b"plain reply")
        return recv_exactly(plain, 10)

    server_job = Background(tlsapi_side)
    with stdlib_client_context(peers.pki).wrap_socket(
        raw_client, server_hostname="localhost"
    ) as ssl_client:
        ssl_client.sendall(b"hello")
        plain = ssl_client.unwrap()
        plain.sendall(b"plain text")
        assert recv_exactly(plain, 11) == b"plain reply"
        assert server_job.result() == b"plain text"


def test_unwrap_never_reads_past_close_notify(
    peers: Peers, loopback_tcp: Callable[[], tuple[socket.socket, socket.socket]], tmp_path: Path
) -> None:
    """The peer's close_notify and its first plain bytes arrive in one TCP segment.

    The peer is OpenSSL through ssl.SSLObject over a raw socket, so the test
    decides exactly which bytes go out together.  Our client first reads part
    of a large transfer (so its chunked reads stop mid-record), then unwraps.
    """
    raw_client, raw_server = loopback_tcp()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    files = peers.pki.server_identity.write(tmp_path)
    context.load_cert_chain(files.chain, files.key)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    peer = context.wrap_bio(incoming, outgoing, server_side=True)
    bulk = os.urandom(300_000)

    def pump_until(step: Callable[[], Any]) -> Any:
        while True:
            try:
                result = step()
            except ssl.SSLWantReadError:
                if outgoing.pending:
                    raw_server.sendall(outgoing.read())
                data = raw_server.recv(65536)
                if not data:
                    raise AssertionError("client hung up") from None
                incoming.write(data)
                continue
            if outgoing.pending:
                raw_server.sendall(outgoing.read())
            return result

    def openssl_side() -> None:
        pump_until(peer.do_handshake)
        peer.write(bulk)
        peer.write(b"three")
        peer.write(b"small")
        peer.write(b"records")
        raw_server.sendall(outgoing.read())
        assert pump_until(lambda: peer.read(1)) == b""  # the client's close_notify
        peer.unwrap()
        # close_notify and the first plain bytes in one segment:
        raw_server.sendall(outgoing.read() + b"PLAIN-TEXT")

    server_job = Background(openssl_side)
    client = peers.client_context().wrap_socket(raw_client, "localhost")
    assert recv_exactly(client, 1000) == bulk[:1000]  # the rest stays unread
    plain = client.unwrap()  # discards the unread application data, as SSL_shutdown does
    server_job.result()
    assert recv_exactly(plain, 10) == b"PLAIN-TEXT"
