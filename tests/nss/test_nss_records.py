"""The backend's reading of plaintext handshake records (client random, tickets, hellos).

It runs on bytes a peer chose, before NSS judges them: it must never raise,
never hold more than its limit, and read real hellos exactly, however they
are cut into records and deliveries.
"""

from __future__ import annotations

import contextlib
import os

from hypothesis import given, settings
from hypothesis import strategies as st
from tlsapi_nss._records import (
    CLIENT_HELLO,
    PlainHandshakes,
    client_random,
    hello_extensions,
    offers_tls13,
    session_id_only,
)

import tlsapi
from tlsapi.testing import PKI


def _records(message: bytes, size: int) -> bytes:
    """``message`` as handshake records of at most ``size`` bytes each."""
    out = b""
    for start in range(0, len(message), size):
        piece = message[start : start + size]
        out += bytes((22, 3, 1)) + len(piece).to_bytes(2, "big") + piece
    return out


def _client_hello(nss: tlsapi.Backend, pki: PKI) -> bytes:
    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    with contextlib.suppress(tlsapi.WantReadError):
        client.do_handshake()
    return client.peek_outgoing(client.outgoing_bytes_buffered())


def test_a_real_hello_read_whatever_the_cuts(nss: tlsapi.Backend) -> None:
    wire = _client_hello(nss, PKI(name="tlsapi nss records"))
    body_length = int.from_bytes(wire[6:9], "big")
    message = wire[5 : 5 + 4 + body_length]
    for record_size in (1, 7, 100, 16384):
        for delivery in (1, 3, 1000):
            stream = _records(message, record_size) + b"\x14\x03\x03\x00\x01\x01"
            reader = PlainHandshakes()
            found = []
            for start in range(0, len(stream), delivery):
                found += reader.feed(stream[start : start + delivery])
            assert reader.done  # the ChangeCipherSpec ended it
            ((kind, body),) = found
            assert kind == CLIENT_HELLO
            assert client_random(body) == wire[11:43]
            extensions = hello_extensions(body)
            assert extensions is not None
            assert offers_tls13(extensions)
            assert 0 in extensions  # server_name


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=20))
def test_any_bytes_are_read_without_error(chunks: list[bytes]) -> None:
    reader = PlainHandshakes()
    for chunk in chunks:
        for _kind, body in reader.feed(chunk):
            client_random(body)
            extensions = hello_extensions(body)
            if extensions is not None:
                offers_tls13(extensions)
            session_id_only(body)


def test_memory_is_bounded() -> None:
    reader = PlainHandshakes()
    header = bytes((22, 3, 3, 0x40, 0x00))
    # A message that says it is 16 MiB long, arriving forever: dropped at the limit.
    assert reader.feed(header + b"\x01\xff\xff\xff" + bytes(0x4000 - 4)) == []
    for _ in range(100):
        assert reader.feed(header + bytes(0x4000)) == []
        if reader.done:
            break
    assert reader.done


@given(st.binary(max_size=200))
def test_hello_fields_never_raise(body: bytes) -> None:
    hello_extensions(body)
    session_id_only(body)
    client_random(body)


def test_session_id_only() -> None:
    random = os.urandom(32)

    def hello(session_id: bytes, extensions: bytes) -> bytes:
        body = b"\x03\x03" + random + bytes((len(session_id),)) + session_id + b"\x13\x01\x00"
        return body + len(extensions).to_bytes(2, "big") + extensions

    assert session_id_only(hello(b"\x01" * 32, b""))
    assert not session_id_only(hello(b"", b""))
    assert not session_id_only(hello(b"\x01" * 32, b"\x00\x23\x00\x00"))  # ticket to come
    assert not session_id_only(hello(b"\x01" * 32, b"\x00\x2b\x00\x02\x03\x04"))  # TLS 1.3


def _first_message(data: bytes) -> list[tuple[int, bytes]]:
    """The first message ``feed`` finds in ``data`` (at most one)."""
    return PlainHandshakes().feed(data)[:1]


def test_first_reads_a_whole_first_message_as_feed_does(nss: tlsapi.Backend) -> None:
    wire = _client_hello(nss, PKI(name="tlsapi nss records first"))
    message = wire[5 : 5 + 4 + int.from_bytes(wire[6:9], "big")]
    for stream in (
        wire,  # one record, whole
        _records(message + b"\x04\x00\x00\x02ab", 16384),  # another message after it
        _records(message, 16384) + b"\x14\x03\x03\x00\x01\x01",
    ):
        reader = PlainHandshakes()
        assert reader.first(stream) == _first_message(stream) != []
        assert reader.done


@given(st.binary(max_size=40), st.integers(0, 39))
def test_first_finds_what_feed_finds_or_leaves_it_to_feed(data: bytes, cut: int) -> None:
    stream = bytes((22, 3, 3)) + data
    reader = PlainHandshakes()
    found = reader.first(stream)
    if found:
        assert found == _first_message(stream) and reader.done
    else:
        # Nothing read: feed (the general path) gives what it always did.
        assert not reader.done
        assert reader.feed(stream) == PlainHandshakes().feed(stream)
    # After a first delivery: the same as feed, or nothing read.
    reader, control = PlainHandshakes(), PlainHandshakes()
    reader.feed(stream[:cut])
    control.feed(stream[:cut])
    found = reader.first(stream[cut:])
    assert not found or (found == control.feed(stream[cut:])[:1] and reader.done)


def test_first_leaves_a_message_over_two_records_to_feed(nss: tlsapi.Backend) -> None:
    wire = _client_hello(nss, PKI(name="tlsapi nss records split"))
    message = wire[5 : 5 + 4 + int.from_bytes(wire[6:9], "big")]
    stream = _records(message, 100)
    reader = PlainHandshakes()
    assert reader.first(stream) == []
    assert reader.feed(stream) == _first_message(stream) != []
