"""Moving data: large transfers, tiny deliveries, many writes, both directions at once."""

from __future__ import annotations

import hashlib

import pytest

from ..pump import pump, read_available, transfer
from ._support import Peers

__all__ = ["TestTransfer"]

MiB = 1 << 20


def _pattern(size: int, seed: bytes = b"tlsapi") -> bytes:
    """Deterministic, incompressible-looking bytes (so a misordered chunk shows)."""
    block = b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(2048))
    return (block * (size // len(block) + 1))[:size]


class TestTransfer:
    @pytest.mark.parametrize("direction", ["client-to-server", "server-to-client"])
    def test_16_mib(self, peers: Peers, direction: str) -> None:
        client, server = peers.connect()
        sender, receiver = (client, server) if direction == "client-to-server" else (server, client)
        data = _pattern(16 * MiB) + b"end"  # the tail makes a misaligned last record
        received = transfer(sender, receiver, data)
        assert len(received) == len(data)
        assert hashlib.sha256(received).digest() == hashlib.sha256(data).digest()

    def test_one_large_write(self, peers: Peers) -> None:
        client, server = peers.connect()
        data = _pattern(4 * MiB)
        view = memoryview(data)
        sent = 0
        while sent < len(data):
            sent += client.write(view[sent:])
        received = bytearray()
        while len(received) < len(data):
            chunk = client.peek_outgoing(65536)
            server.receive_from_network(chunk)
            client.consume_outgoing(len(chunk))
            received += read_available(server)
        assert received == data

    def test_readinto_large(self, peers: Peers) -> None:
        client, server = peers.connect()
        data = _pattern(MiB)
        client.write(data)
        pump(client, server)
        target = bytearray(len(data))
        view = memoryview(target)
        got = 0
        while got < len(data):
            got += server.readinto(view[got:])
        assert target == data

    def test_one_byte_deliveries(self, peers: Peers) -> None:
        client, server = peers.connect()
        data = _pattern(3000)
        assert transfer(client, server, data, chunk_size=1) == data
        assert transfer(server, client, data, chunk_size=1) == data

    def test_one_byte_writes(self, peers: Peers) -> None:
        client, server = peers.connect()
        data = _pattern(500)
        for index in range(len(data)):
            assert client.write(data[index : index + 1]) == 1
        pump(client, server)
        assert read_available(server) == data

    def test_many_small_writes(self, peers: Peers) -> None:
        client, server = peers.connect()
        pieces = [f"message {i};".encode() for i in range(2000)]
        for piece in pieces:
            client.write(piece)
        pump(client, server)
        assert read_available(server) == b"".join(pieces)

    def test_many_small_round_trips(self, peers: Peers) -> None:
        client, server = peers.connect()
        for index in range(200):
            request = f"request {index}".encode()
            assert transfer(client, server, request) == request
            response = f"response {index}".encode() * (index % 7 + 1)
            assert transfer(server, client, response) == response

    def test_interleaved_both_directions(self, peers: Peers) -> None:
        client, server = peers.connect()
        to_server, to_client = bytearray(), bytearray()
        got_server, got_client = bytearray(), bytearray()
        for index in range(100):
            a = _pattern(100 + index * 37, b"c%d" % index)
            b = _pattern(50 + index * 53, b"s%d" % index)
            client.write(a)
            server.write(b)
            to_server += a
            to_client += b
            # Deliver in uneven pieces in both directions before anyone reads.
            pump(client, server, chunk_size=1000)
            pump(server, client, chunk_size=333)
            if index % 3:
                got_server += read_available(server)
                got_client += read_available(client)
        got_server += read_available(server)
        got_client += read_available(client)
        assert got_server == to_server
        assert got_client == to_client

    def test_writes_while_peer_has_unread_data(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"first")
        pump(client, server)
        server.write(b"answer before reading")
        pump(server, client)
        assert read_available(client) == b"answer before reading"
        assert read_available(server) == b"first"

    def test_binary_data(self, peers: Peers) -> None:
        client, server = peers.connect()
        data = bytes(range(256)) * 64 + b"\x00" * 1000 + b"\xff" * 1000
        assert transfer(client, server, data) == data
