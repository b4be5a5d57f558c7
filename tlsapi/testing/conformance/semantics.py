"""PEP 543's rules for TLSWrappedBuffer: want-errors, short reads, close_notify, EOF."""

from __future__ import annotations

import contextlib

import pytest

from ..._errors import RaggedEOF, TLSError, WantReadError, WantWriteError
from ..pump import close, handshake, pump, read_available, transfer
from ._support import Peers

__all__ = ["TestBufferSemantics", "TestShutdown"]


class TestBufferSemantics:
    def test_server_wants_to_read_first(self, peers: Peers) -> None:
        _, server = peers.pair()
        with pytest.raises(WantReadError):
            server.do_handshake()
        assert server.outgoing_bytes_buffered() == 0

    def test_client_speaks_first(self, peers: Peers) -> None:
        client, _ = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        assert client.outgoing_bytes_buffered() > 0
        assert client.peek_outgoing(1) == b"\x16"  # a handshake record: the ClientHello

    def test_read_before_handshake_wants_to_read(self, peers: Peers) -> None:
        client, server = peers.pair()
        with pytest.raises(WantReadError):
            client.read(10)
        with pytest.raises(WantReadError):
            server.read(10)

    def test_implicit_handshake_on_write(self, peers: Peers) -> None:
        # PEP 543: retry the same call with the same arguments after a want-error.
        client, server = peers.pair()
        message = b"written before the handshake"
        written = None
        for _ in range(20):
            try:
                written = client.write(message)
                break
            except WantReadError:
                pump(client, server)
                with contextlib.suppress(WantReadError):
                    server.do_handshake()
                pump(server, client)
        assert written == len(message)
        handshake(client, server)
        pump(client, server)
        assert read_available(server) == message

    def test_implicit_handshake_on_read(self, peers: Peers) -> None:
        client, server = peers.pair()
        result = None
        for _ in range(20):
            try:
                result = server.read(100)
                break
            except WantReadError:
                pass
            with contextlib.suppress(WantReadError):
                client.write(b"ping")
            pump(client, server)
            with contextlib.suppress(WantReadError):
                server.read(0)  # drives the server's handshake too
            pump(server, client)
        assert result == b"ping"

    def test_read_wants_more_when_nothing_arrived(self, peers: Peers) -> None:
        client, server = peers.connect()
        read_available(client)  # TLS 1.3 session tickets, if any
        with pytest.raises(WantReadError):
            client.read(10)
        with pytest.raises(WantReadError):
            server.read(10)

    def test_short_reads(self, peers: Peers) -> None:
        client, server = peers.connect()
        message = bytes(range(100))
        client.write(message)
        pump(client, server)
        pieces: list[bytes] = []
        while sum(len(p) for p in pieces) < len(message):
            piece = server.read(7)
            assert 1 <= len(piece) <= 7
            pieces.append(piece)
        assert b"".join(pieces) == message
        with pytest.raises(WantReadError):
            server.read(7)

    def test_read_never_exceeds_amt(self, peers: Peers) -> None:
        client, server = peers.connect()
        for size in (1, 2, 100, 16384, 16385, 100_000):
            client.write(b"z" * 50_000)
            pump(client, server)
            got = 0
            while got < 50_000:
                piece = server.read(size)
                assert 1 <= len(piece) <= size
                got += len(piece)

    def test_readinto(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"0123456789" * 10)
        pump(client, server)
        target = bytearray(30)
        count = server.readinto(target)
        assert 1 <= count <= 30
        received = bytes(target[:count])
        small = bytearray(100)
        count = server.readinto(small, 5)
        assert 1 <= count <= 5
        assert small[count:] == bytearray(100 - count)  # nothing past amt was touched
        received += bytes(small[:count])
        view = memoryview(bytearray(200))
        while len(received) < 100:
            count = server.readinto(view)
            received += bytes(view[:count])
        assert received == b"0123456789" * 10

    def test_readinto_zero_length(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"abc")
        pump(client, server)
        assert server.readinto(bytearray(0)) == 0
        assert server.readinto(bytearray(10), 0) == 0
        assert server.read(10) == b"abc"  # still there

    def test_readinto_refuses_read_only_buffers(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"data")
        pump(client, server)
        with pytest.raises(TypeError):
            server.readinto(bytes(10))
        with pytest.raises(TypeError):
            server.readinto(memoryview(b"0123456789"))
        assert server.read() == b"data"  # nothing was lost

    def test_read_zero(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"abc")
        pump(client, server)
        assert server.read(0) == b""
        assert server.read(10) == b"abc"  # read(0) neither consumed nor meant EOF

    def test_read_negative(self, peers: Peers) -> None:
        _client, server = peers.connect()
        with pytest.raises(ValueError):
            server.read(-1)

    def test_write_empty(self, peers: Peers) -> None:
        client, server = peers.connect()
        before = client.outgoing_bytes_buffered()
        assert client.write(b"") == 0
        assert client.write(bytearray()) == 0
        assert client.outgoing_bytes_buffered() == before
        client.write(b"after")
        pump(client, server)
        assert read_available(server) == b"after"

    def test_write_accepts_buffers(self, peers: Peers) -> None:
        client, server = peers.connect()
        sent = b"bytes" + b"bytearray" + b"memoryview"
        assert client.write(b"bytes") == 5
        assert client.write(bytearray(b"bytearray")) == 9
        assert client.write(memoryview(b"xxmemoryviewxx")[2:-2]) == 10
        pump(client, server)
        assert read_available(server) == sent

    def test_write_returns_count(self, peers: Peers) -> None:
        client, server = peers.connect()
        data = b"q" * 100_000
        total = 0
        while total < len(data):
            count = client.write(data[total:])
            assert 0 < count <= len(data) - total
            total += count
        pump(client, server)
        assert read_available(server) == data

    def test_peek_and_consume(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"hello")
        pending = client.outgoing_bytes_buffered()
        assert pending > 5  # record header and tag around the data
        first = client.peek_outgoing(pending)
        assert client.peek_outgoing(pending) == first  # peeking takes nothing
        assert client.peek_outgoing(3) == first[:3]
        assert client.peek_outgoing(pending + 100) == first
        client.consume_outgoing(3)
        assert client.outgoing_bytes_buffered() == pending - 3
        assert client.peek_outgoing(pending) == first[3:]
        client.consume_outgoing(0)
        server.receive_from_network(first[:3])
        pump(client, server)
        assert read_available(server) == b"hello"
        assert client.outgoing_bytes_buffered() == 0
        assert client.peek_outgoing(10) == b""

    def test_consume_out_of_range(self, peers: Peers) -> None:
        client, _ = peers.connect()
        client.write(b"data")
        pending = client.outgoing_bytes_buffered()
        with pytest.raises(ValueError):
            client.consume_outgoing(pending + 1)
        with pytest.raises(ValueError):
            client.consume_outgoing(-1)
        assert client.outgoing_bytes_buffered() == pending  # nothing was lost

    def test_consume_with_nothing_pending(self, peers: Peers) -> None:
        client, server = peers.connect()
        pump(client, server)
        with pytest.raises(ValueError):
            client.consume_outgoing(1)

    def test_incoming_bytes_buffered(self, peers: Peers) -> None:
        client, server = peers.connect()
        read_available(client)
        assert client.incoming_bytes_buffered() == 0
        server.write(b"x" * 1000)
        record = server.peek_outgoing(server.outgoing_bytes_buffered())
        server.consume_outgoing(len(record))
        client.receive_from_network(record)
        assert client.incoming_bytes_buffered() == len(record)
        assert read_available(client) == b"x" * 1000
        assert client.incoming_bytes_buffered() == 0

    def test_partial_record_wants_more(self, peers: Peers) -> None:
        client, server = peers.connect()
        read_available(client)
        server.write(b"split across deliveries")
        record = server.peek_outgoing(server.outgoing_bytes_buffered())
        server.consume_outgoing(len(record))
        client.receive_from_network(record[:10])
        with pytest.raises(WantReadError):
            client.read()
        client.receive_from_network(record[10:])
        assert read_available(client) == b"split across deliveries"

    def test_first_failure_is_raised_again(self, peers: Peers) -> None:
        # A broken connection stays broken, with the error that broke it.
        client, _server = peers.connect()
        client.receive_from_network(b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
        with pytest.raises(TLSError) as first:
            client.read()
        assert not isinstance(first.value, WantReadError)
        for call in (client.read, lambda: client.write(b"more"), client.shutdown):
            with pytest.raises(TLSError) as again:
                call()
            assert again.value is first.value

    def test_want_errors_are_ssl_errors(self) -> None:
        import ssl

        assert issubclass(WantReadError, ssl.SSLWantReadError)
        assert issubclass(WantWriteError, ssl.SSLWantWriteError)
        assert issubclass(RaggedEOF, ssl.SSLEOFError)
        assert issubclass(TLSError, ssl.SSLError)


class TestShutdown:
    def test_close_notify_both_ways(self, peers: Peers) -> None:
        client, server = peers.connect()
        close(client, server)

    def test_server_closes_first(self, peers: Peers) -> None:
        client, server = peers.connect()
        close(server, client)

    def test_eof_forever_after_close_notify(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.shutdown()
        pump(client, server)
        for _ in range(3):
            assert server.read() == b""
            assert server.read(1) == b""
            assert server.readinto(bytearray(10)) == 0

    def test_data_before_close_notify_is_delivered(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"last words")
        client.shutdown()
        pump(client, server)
        assert read_available(server) == b"last words"
        assert server.read() == b""

    def test_write_after_shutdown_raises(self, peers: Peers) -> None:
        client, _server = peers.connect()
        client.shutdown()
        with pytest.raises(TLSError) as info:
            client.write(b"too late")
        assert not isinstance(info.value, (WantReadError, WantWriteError))

    def test_shutdown_twice(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.shutdown()
        sent = client.outgoing_bytes_buffered()
        client.shutdown()
        assert client.outgoing_bytes_buffered() == sent  # one close_notify only
        pump(client, server)
        assert server.read() == b""

    def test_peer_can_still_write_after_our_shutdown(self, peers: Peers) -> None:
        # close_notify closes one direction; the other may still carry data.
        client, server = peers.connect()
        client.shutdown()
        pump(client, server)
        assert server.read() == b""
        server.write(b"goodbye")
        server.shutdown()
        pump(server, client)
        assert read_available(client) == b"goodbye"
        assert client.read() == b""

    def test_shutdown_with_unread_data_keeps_it_readable(self, peers: Peers) -> None:
        # A half-close while the peer's records are still unread (some
        # already decrypted, some not yet looked at) loses nothing.
        client, server = peers.connect()
        data = bytes(range(256)) * 200
        server.write(data)
        pump(server, client)
        first = client.read(1000)
        client.shutdown()
        pump(client, server)
        assert server.read() == b""
        server.shutdown()
        pump(server, client)
        assert first + read_available(client) == data
        assert client.read() == b""

    def test_records_then_close_notify_in_one_delivery(self, peers: Peers) -> None:
        # Whole records and the close_notify arrive together: a large readinto
        # may take several records at once, but the end comes only after them.
        client, server = peers.connect()
        data = bytes(range(256)) * 300
        for start in range(0, len(data), 10_000):
            client.write(data[start : start + 10_000])
        client.shutdown()
        pump(client, server)
        received = bytearray()
        target = bytearray(1 << 20)
        while count := server.readinto(target):
            received += target[:count]
        assert received == data
        assert server.readinto(target) == 0

    def test_records_then_garbage_in_one_delivery(self, peers: Peers) -> None:
        # The good records before a broken one are delivered; the error follows.
        client, server = peers.connect()
        client.write(b"first record")
        client.write(b"second record")
        pump(client, server)
        server.receive_from_network(b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
        target = bytearray(1 << 16)
        received = bytearray()
        with pytest.raises(TLSError) as info:
            while True:
                count = server.readinto(target)
                assert count, "close_notify was never sent"
                received += target[:count]
        assert not isinstance(info.value, WantReadError)
        assert received == b"first recordsecond record"

    def test_close_notify_one_byte_at_a_time(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.shutdown()
        while client.outgoing_bytes_buffered():
            server.receive_from_network(client.peek_outgoing(1))
            client.consume_outgoing(1)
            if client.outgoing_bytes_buffered():
                with pytest.raises(WantReadError):
                    server.read()
        assert server.read() == b""

    def test_ragged_eof(self, peers: Peers) -> None:
        _client, server = peers.connect()
        server.receive_from_network(b"")
        with pytest.raises(RaggedEOF):
            server.read()
        with pytest.raises(RaggedEOF):
            server.read()  # the truncation does not go away

    def test_ragged_eof_after_data(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"partial")
        pump(client, server)
        server.receive_from_network(b"")
        assert server.read() == b"partial"
        with pytest.raises(RaggedEOF):
            server.read()

    def test_ragged_eof_mid_record(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"cut short")
        record = client.peek_outgoing(client.outgoing_bytes_buffered())
        server.receive_from_network(record[:-3])
        server.receive_from_network(b"")
        with pytest.raises(TLSError) as info:
            server.read()
        assert not isinstance(info.value, WantReadError)

    def test_bytes_after_eof_are_refused(self, peers: Peers) -> None:
        client, server = peers.connect()
        server.receive_from_network(b"")
        client.write(b"late")
        with pytest.raises(TLSError):
            pump(client, server)

    def test_transfer_then_close(self, peers: Peers) -> None:
        client, server = peers.connect()
        assert transfer(client, server, b"a" * 70_000) == b"a" * 70_000
        assert transfer(server, client, b"b" * 70_000) == b"b" * 70_000
        close(client, server)
