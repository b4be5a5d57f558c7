"""The C memory transport (build_ffi/gnutls/transport.py): windows, copies, partial consumption.

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
