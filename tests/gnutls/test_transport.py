"""The C memory transport (build_ffi/gnutls/transport.c): windows, copies, partial consumption.

What the shared kit checks only from the outside: ``bytes`` input is read in
place (borrowed) while other buffers are copied at once, bytes arriving
while older ones are unread join them in the right order, a consumed prefix
of the output leaves the rest intact while GnuTLS keeps appending, and large
buffers given back to malloc are allocated again when needed.
"""

from __future__ import annotations

import random

import pytest

import tlsapi
from tlsapi import RaggedEOF, WantReadError
from tlsapi.testing import PKI, handshake


def _pair(pki: PKI, gnutls: tlsapi.Backend) -> tuple[tlsapi.TLSWrappedBuffer, ...]:
    client = gnutls.client_context(pki.client_config()).wrap_buffers("localhost")
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    return client, server


def _take(buffer: tlsapi.TLSWrappedBuffer) -> bytes:
    data = buffer.peek_outgoing(buffer.outgoing_bytes_buffered())
    buffer.consume_outgoing(len(data))
    return data


def _drain(buffer: tlsapi.TLSWrappedBuffer) -> bytes:
    out = bytearray()
    try:
        while True:
            out += buffer.read(70_000)
    except WantReadError:
        return bytes(out)


def test_bytes_input_is_counted_until_gnutls_reads_it(pki: PKI, gnutls: tlsapi.Backend) -> None:
    client, server = _pair(pki, gnutls)
    client.write(b"a" * 100)
    client.write(b"b" * 100)
    wire = _take(client)
    server.receive_from_network(wire)
    assert server.incoming_bytes_buffered() == len(wire)
    assert server.read(100) == b"a" * 100  # one record read: the second still waits
    assert 0 < server.incoming_bytes_buffered() < len(wire)
    assert server.read(1000) == b"b" * 100
    assert server.incoming_bytes_buffered() == 0
    with pytest.raises(WantReadError):
        server.read(1)


def test_a_mutable_buffer_is_copied_when_received(pki: PKI, gnutls: tlsapi.Backend) -> None:
    client, server = _pair(pki, gnutls)
    client.write(b"payload" * 100)
    chunk = bytearray(_take(client))
    server.receive_from_network(chunk)
    chunk[:] = bytes(len(chunk))  # the owner reuses its memory at once
    assert server.read(10_000) == b"payload" * 100


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_records_split_anywhere_arrive_whole(pki: PKI, gnutls: tlsapi.Backend, seed: int) -> None:
    """Pieces of every size, as bytes, bytearray or memoryview, read in between."""
    rng = random.Random(seed)
    client, server = _pair(pki, gnutls)
    sent = bytearray()
    received = bytearray()
    for _ in range(40):
        data = rng.randbytes(rng.choice([1, 90, 5_000, 16_384, 70_000, 300_000]))
        client.write(data)
        sent += data
        wire = _take(client)
        position = 0
        while position < len(wire):
            piece = wire[position : position + rng.choice([1, 5, 6, 700, 16_406, 50_000])]
            position += len(piece)
            kind = rng.randrange(3)
            server.receive_from_network(
                piece if kind == 0 else bytearray(piece) if kind == 1 else memoryview(piece)
            )
            if rng.random() < 0.3:
                received += _drain(server)
        received += _drain(server)
        assert server.incoming_bytes_buffered() == 0
    assert received == sent


def test_partial_consumption_while_gnutls_keeps_writing(pki: PKI, gnutls: tlsapi.Backend) -> None:
    rng = random.Random(4)
    client, server = _pair(pki, gnutls)
    sent = bytearray()
    wire = bytearray()
    for _ in range(400):
        if rng.random() < 0.4:
            data = rng.randbytes(rng.choice([1, 100, 3_000, 40_000, 400_000]))
            client.write(data)
            sent += data
        pending = client.outgoing_bytes_buffered()
        offered = client.peek_outgoing(rng.randint(0, pending + 10))
        assert offered == client.peek_outgoing(len(offered))  # peeking takes nothing
        count = rng.randint(0, len(offered))
        client.consume_outgoing(count)
        assert client.outgoing_bytes_buffered() == pending - count
        wire += offered[:count]
    wire += _take(client)
    assert client.outgoing_bytes_buffered() == 0
    server.receive_from_network(bytes(wire))
    assert _drain(server) == sent


def test_output_after_a_large_write_was_consumed(pki: PKI, gnutls: tlsapi.Backend) -> None:
    """The large buffer is freed once consumed; the next records need a new one."""
    client, server = _pair(pki, gnutls)
    for size in (1 << 20, 10, 1 << 20, 3_000, 1):
        data = bytes([size % 251]) * size
        client.write(data)
        server.receive_from_network(_take(client))
        assert _drain(server) == data


def test_end_of_file_inside_a_record_is_ragged(pki: PKI, gnutls: tlsapi.Backend) -> None:
    client, server = _pair(pki, gnutls)
    client.write(b"z" * 1000)
    wire = _take(client)
    server.receive_from_network(wire[:-1])
    with pytest.raises(WantReadError):
        server.read(10)
    server.receive_from_network(b"")
    with pytest.raises(RaggedEOF):
        server.read(10)


def test_end_of_file_after_close_notify_reads_empty(pki: PKI, gnutls: tlsapi.Backend) -> None:
    client, server = _pair(pki, gnutls)
    client.write(b"last words")
    client.shutdown()
    server.receive_from_network(memoryview(_take(client)))
    server.receive_from_network(b"")
    assert server.read(100) == b"last words"
    assert server.read(100) == b""


@pytest.mark.parametrize("piece", [65_536, 1 << 21], ids=["in-pieces", "at-once"])
def test_an_idle_connection_keeps_no_large_buffer(
    pki: PKI, gnutls: tlsapi.Backend, piece: int
) -> None:
    """After a bulk write the output goes, however the last consume was sized
    (consumed in 64 KiB pieces the last one is small), and so does the borrowed input.
    (The ciphertext is in the transport's buffer, or with the core's fast path in its
    queue: buffered_capacity counts both.)"""
    from tlsapi_gnutls.testing import buffered_capacity

    client, server = _pair(pki, gnutls)
    data = bytes(range(256)) * 4096
    client.write(data)
    assert buffered_capacity(client) >= len(data)
    wire = bytearray()
    while client.outgoing_bytes_buffered():
        chunk = client.peek_outgoing(piece)
        client.consume_outgoing(len(chunk))
        wire += chunk
    # (the server's session tickets wait in the client's input until it reads)
    assert buffered_capacity(client) <= 2048 + client.incoming_bytes_buffered()
    server.receive_from_network(bytes(wire))  # borrowed: the window points into it
    assert buffered_capacity(server) >= len(wire)
    del wire
    assert _drain(server) == data
    assert buffered_capacity(server) <= 2048
    # A small message still works, and its buffer is small enough to be kept.
    client.write(b"ping")
    server.receive_from_network(bytearray(_take(client)))
    assert server.read(10) == b"ping"
    # (the client has not read the server's session tickets yet: they are still here)
    assert buffered_capacity(client) <= 2048 + client.incoming_bytes_buffered()


def test_receiving_nothing_changes_nothing(pki: PKI, gnutls: tlsapi.Backend) -> None:
    """Zero bytes at the C level (no memcpy from NULL: UBSan would report it) keep the window."""
    from tlsapi_gnutls._binding import ffi, lib

    client, server = _pair(pki, gnutls)
    client.write(b"kept")
    server.receive_from_network(_take(client))  # borrowed
    state = server._transport  # type: ignore[attr-defined]
    pending = state.in_len
    assert lib.tlsapi_gnutls_receive(state, ffi.NULL, 0, 0) == 2
    assert lib.tlsapi_gnutls_receive(state, ffi.NULL, 0, 1) == 2
    assert state.in_len == pending
    assert server.read(10) == b"kept"
    from tlsapi_gnutls._transport import new_transport

    fresh = new_transport(lib.GNUTLS_CLIENT | lib.GNUTLS_NONBLOCK)
    assert lib.tlsapi_gnutls_receive(fresh, ffi.NULL, 0, 0) == 2  # nothing allocated yet
    assert lib.tlsapi_gnutls_capacity(fresh) == 0
