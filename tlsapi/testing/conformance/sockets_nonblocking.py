"""TLSWrappedSocket in non-blocking mode: want-errors, selectors, pending ciphertext.

Both ends are the backend under test (see ``peers``).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import ssl

import pytest

from ..._errors import WantReadError, WantWriteError
from ..._socket import TLSWrappedSocket
from .sockets import (
    IO_TIMEOUT,
    Background,
    SocketPairs,
    finish_nonblocking_handshake,
    handshake_both,
    recv_exactly,
)

__all__ = ["TestSocketNonBlocking"]


class _NonBlockingEnd:
    """One side of a selector-driven transfer: sends ``outgoing``, expects ``expected`` bytes."""

    def __init__(self, tls: TLSWrappedSocket, outgoing: bytes, expected: int) -> None:
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
        except WantReadError:
            self.want_read += 1
            return selectors.EVENT_READ
        except WantWriteError:
            self.want_write += 1
            return selectors.EVENT_WRITE
        try:
            while self.outgoing:
                count = self.tls.send(self.outgoing[:100_000])
                self.outgoing = self.outgoing[count:]
            while self.tls.outgoing_bytes_buffered():
                self.tls.send(b"")
        except WantWriteError:
            self.want_write += 1
            events |= selectors.EVENT_WRITE
        try:
            while len(self.received) < self.expected:
                data = self.tls.recv(65536)
                assert data, "unexpected EOF"
                self.received += data
        except WantReadError:
            self.want_read += 1
            events |= selectors.EVENT_READ
        except WantWriteError:
            self.want_write += 1
            events |= selectors.EVENT_WRITE | selectors.EVENT_READ
        return events


@pytest.mark.usefixtures("socket_path")
class TestSocketNonBlocking:
    def test_nonblocking_handshake_raises_want_read(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        client.setblocking(False)
        with pytest.raises(WantReadError) as info:
            client.do_handshake()  # the ClientHello is out; no answer yet
        assert isinstance(info.value, ssl.SSLWantReadError)
        with pytest.raises(ssl.SSLWantReadError):
            client.recv(10)
        server_job = Background(server.do_handshake)  # blocking, in its own thread
        finish_nonblocking_handshake(client)
        server_job.result()
        assert client.negotiated_tls_version is not None

    def test_nonblocking_transfer_with_selectors(self, tls_pair: SocketPairs) -> None:
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

    def test_nonblocking_send_keeps_accepted_data_pending(self, tls_pair: SocketPairs) -> None:
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
            except WantWriteError as exc:
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
                with contextlib.suppress(WantWriteError):
                    assert client.send(b"") == 0
        assert reader.result() == (chunk * (accepted // len(chunk) + 1))[:accepted]

    def test_nonblocking_close_notify_reads_empty(self, tls_pair: SocketPairs) -> None:
        client, server = tls_pair()
        handshake_both(client, server)
        client.setblocking(False)
        with pytest.raises(WantReadError):
            client.recv(10)
        server.sendall(b"bye")
        server.shutdown(socket.SHUT_WR)
        got = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            for _ in range(100):
                try:
                    data = client.recv(10)
                except WantReadError:
                    assert selector.select(IO_TIMEOUT)
                    continue
                if not data:
                    break
                got += data
        assert got == b"bye"
        assert client.recv(10) == b""
