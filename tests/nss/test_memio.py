"""The memory I/O layer in C: records batched into one read, the stop after data reported to the core, no bytes kept idle."""

from __future__ import annotations

import contextlib
import gc

import pytest

import tlsapi
from tlsapi import RaggedEOF, TLSWrappedBuffer
from tlsapi.testing import PKI, close, handshake


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss memio")


def _pair(nss: tlsapi.Backend, pki: PKI) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    server = nss.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    # The server's TLS 1.3 session ticket follows the handshake: the client takes it
    # in now, so that what the tests send next is all there is on the wire.
    pending = server.peek_outgoing(server.outgoing_bytes_buffered())
    if pending:
        client.receive_from_network(pending)
        server.consume_outgoing(len(pending))
    with pytest.raises(tlsapi.WantReadError):
        client.read(100)
    return client, server


def _records(sender: TLSWrappedBuffer, *messages: bytes) -> bytes:
    """The ciphertext of one record per message."""
    for message in messages:
        sender.write(message)
    data = sender.peek_outgoing(sender.outgoing_bytes_buffered())
    sender.consume_outgoing(len(data))
    return data


def test_one_readinto_takes_every_whole_record_that_fits(nss: tlsapi.Backend, pki: PKI) -> None:
    client, server = _pair(nss, pki)
    client.receive_from_network(_records(server, b"one ", b"two ", b"three"))
    target = bytearray(100)
    assert client.readinto(target) == 13
    assert bytes(target[:13]) == b"one two three"
    with pytest.raises(tlsapi.WantReadError):
        client.readinto(target)


def test_a_partial_record_after_whole_ones_waits_for_the_rest(
    nss: tlsapi.Backend, pki: PKI
) -> None:
    client, server = _pair(nss, pki)
    data = _records(server, b"whole", b"split")
    cut = len(data) - 3
    client.receive_from_network(data[:cut])
    assert client.incoming_bytes_buffered() == cut
    assert client.read(100) == b"whole"
    assert client.incoming_bytes_buffered() == 0  # NSS holds the partial record now
    with pytest.raises(tlsapi.WantReadError):
        client.read(100)
    client.receive_from_network(data[cut:])
    assert client.read(100) == b"split"


def test_a_bad_record_after_good_ones_fails_the_next_read(nss: tlsapi.Backend, pki: PKI) -> None:
    client, server = _pair(nss, pki)
    data = bytearray(_records(server, b"good", b"tampered"))
    data[-1] ^= 1  # the second record's authentication tag
    client.receive_from_network(data)
    target = bytearray(100)
    assert client.readinto(target) == 4  # the good record's data comes first
    assert bytes(target[:4]) == b"good"
    with pytest.raises(tlsapi.TLSError) as failure:
        client.readinto(target)
    assert not isinstance(failure.value, tlsapi.WantReadError)
    with pytest.raises(tlsapi.TLSError):
        client.write(b"after the failure")


def test_a_write_reports_a_failure_a_read_met_after_data(nss: tlsapi.Backend, pki: PKI) -> None:
    client, server = _pair(nss, pki)
    data = bytearray(_records(server, b"good", b"tampered"))
    data[-1] ^= 1
    client.receive_from_network(data)
    assert client.read(100) == b"good"
    # NSS has already answered the bad record with an alert: nothing more goes out.
    with pytest.raises(tlsapi.TLSError) as failure:
        client.write(b"x")
    assert not isinstance(failure.value, tlsapi.WantReadError)
    with pytest.raises(tlsapi.TLSError):
        client.read(100)


@pytest.mark.parametrize("clean", [True, False])
def test_the_end_after_data_comes_on_the_next_read(
    nss: tlsapi.Backend, pki: PKI, clean: bool
) -> None:
    client, server = _pair(nss, pki)
    server.write(b"last words")
    if clean:
        server.shutdown()
    client.receive_from_network(server.peek_outgoing(server.outgoing_bytes_buffered()))
    client.receive_from_network(b"")
    target = bytearray(100)
    assert client.readinto(target) == 10
    if clean:
        assert client.readinto(target) == 0
        assert client.readinto(target) == 0
    else:
        with pytest.raises(RaggedEOF):
            client.readinto(target)


def test_many_small_deliveries_are_read_in_order(nss: tlsapi.Backend, pki: PKI) -> None:
    client, server = _pair(nss, pki)
    message = bytes(range(256)) * 300
    data = b""
    for start in range(0, len(message), 16384):
        data += _records(server, message[start : start + 16384])
    received = bytearray()
    for start in range(0, len(data), 7):  # more chunks than the C queue starts with
        client.receive_from_network(memoryview(data)[start : start + 7])
        if start % 700 == 0:
            with contextlib.suppress(tlsapi.WantReadError):
                received += client.read(65536)
    while len(received) < len(message):
        received += client.read(65536)
    assert received == message
    assert client.incoming_bytes_buffered() == 0


def test_readinto_refuses_a_read_only_buffer(nss: tlsapi.Backend, pki: PKI) -> None:
    client, server = _pair(nss, pki)
    client.receive_from_network(_records(server, b"data"))
    frozen = bytes(10)
    with pytest.raises(TypeError):
        client.readinto(frozen)
    assert frozen == bytes(10)
    assert client.read(10) == b"data"


@pytest.mark.parametrize("piece", [None, 7000])
def test_an_idle_connection_keeps_no_large_buffer(
    nss: tlsapi.Backend, pki: PKI, piece: int | None
) -> None:
    from tlsapi_nss.testing import buffered_capacity

    client, server = _pair(nss, pki)
    for buffer in (client, server):
        assert not buffer._chunks  # type: ignore[attr-defined]  # handshake bytes let go of
        assert buffered_capacity(buffer) <= 16 * 1024
    # A bulk burst, then nothing else: no later small message to shrink the buffers.
    big = bytes(1 << 20)
    server.write(big)
    assert buffered_capacity(server) >= len(big)  # the measurement sees the output
    data = server.peek_outgoing(server.outgoing_bytes_buffered())
    server.consume_outgoing(len(data))
    if piece is None:
        client.receive_from_network(data)
    else:  # many chunks: the C chunk array grows, then shrinks once all are read
        for start in range(0, len(data), piece):
            client.receive_from_network(data[start : start + piece])
    del data
    assert buffered_capacity(client) >= len(big)  # the chunks NSS has not read yet
    received = 0
    while received < len(big):
        received += len(client.read(1 << 16))
    assert client.incoming_bytes_buffered() == 0
    assert buffered_capacity(server) <= 16 * 1024
    assert buffered_capacity(client) <= 16 * 1024
    close(client, server)


def test_the_layer_refuses_a_non_positive_amount(nss: tlsapi.Backend, pki: PKI) -> None:
    # recv answering 0 would be end of file to NSS: a bad amount is an error instead.
    from tlsapi_nss._lib import ffi, lib

    client, server = _pair(nss, pki)
    client.receive_from_network(_records(server, b"queued"))
    layer = lib.tlsapi_nss_memio_layer(client._fd)  # type: ignore[attr-defined]
    buf = ffi.new("char[16]")
    for amount in (0, -1):
        assert lib.PR_Read(layer, buf, amount) == -1
        assert lib.PR_GetError() == lib.PR_INVALID_ARGUMENT_ERROR
    assert lib.PR_Write(layer, buf, -1) == -1
    assert lib.PR_GetError() == lib.PR_INVALID_ARGUMENT_ERROR
    assert lib.PR_Write(layer, buf, 0) == 0  # nothing to send is not an error
    assert client.read(100) == b"queued"  # the queue is untouched
    assert not client._memio.eof_delivered  # type: ignore[attr-defined]


def test_the_state_lives_until_both_its_owners_are_gone(nss: tlsapi.Backend, pki: PKI) -> None:
    # The buffer and the NSS socket's bottom layer share the C state (reference-counted),
    # so it does not matter which of the two is collected first.
    from tlsapi_nss._lib import lib

    client, _ = _pair(nss, pki)
    fd = client._fd  # type: ignore[attr-defined]
    del client
    gc.collect()
    # Only the socket holds the state now: NSS writes its close_notify into it.
    assert lib.tlsapi_nss_shutdown(fd) == 0
    del fd
    gc.collect()

    client, _ = _pair(nss, pki)
    state = client._memio  # type: ignore[attr-defined]
    del client
    gc.collect()
    # The socket is closed and gave its reference back; ours keeps the memory valid.
    assert state.out_len == 0
    assert state.in_size == 0
