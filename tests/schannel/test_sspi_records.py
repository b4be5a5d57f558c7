"""The record layer over DecryptMessage/EncryptMessage: EXTRA bytes, partial records, bounded buffers.

The peer is Python's ssl (stdlib backend) in the same process; under Wine
the connection is TLS 1.2 (Wine's SChannel has no TLS 1.3).
"""

from __future__ import annotations

import contextlib
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tlsapi_schannel._buffer import _IDLE_KEEP, _RECORD, SChannelBuffer

import tlsapi
from tlsapi import RaggedEOF, TLSVersion, TLSWrappedBuffer, WantReadError
from tlsapi.testing import PKI, KeyType, handshake, pump, transfer

warnings.simplefilter("ignore", tlsapi.InsecureConfigurationWarning)
V12 = TLSVersion.TLSv1_2


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(KeyType.RSA_2048)  # the record layer does not care; Wine verifies RSA reliably


def _pair(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, **settings: object
) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    client = schannel.client_context(pki.client_config(**settings)).wrap_buffers("localhost")
    server = stdlib.server_context(pki.server_config()).wrap_buffers()
    return client, server


def _until_server_finished(client: TLSWrappedBuffer, server: TLSWrappedBuffer) -> None:
    """TLS 1.2: run the handshake until the server has sent its Finished, not yet delivered."""
    with pytest.raises(WantReadError):
        client.do_handshake()
    pump(client, server)
    with pytest.raises(WantReadError):
        server.do_handshake()
    pump(server, client)
    with pytest.raises(WantReadError):
        client.do_handshake()
    pump(client, server)
    server.do_handshake()


def _read_all(buffer: TLSWrappedBuffer) -> bytes:
    got = bytearray()
    while True:
        try:
            data = buffer.read(65536)
        except WantReadError:
            return bytes(got)
        if not data:
            return bytes(got)
        got += data


def _records(stream: bytes) -> list[bytes]:
    records, at = [], 0
    while at < len(stream):
        size = 5 + (stream[at + 3] << 8 | stream[at + 4])
        records.append(stream[at : at + size])
        at += size
    assert at == len(stream)
    return records


def test_data_sent_with_the_servers_last_flight_is_read(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    # The server's Finished and its first records arrive in one delivery: the
    # handshake's SECBUFFER_EXTRA holds them, and none is lost or read twice.
    client, server = _pair(schannel, stdlib, pki, highest_supported_version=V12)
    _until_server_finished(client, server)
    server.write(b"first")
    server.write(b"second" * 1000)
    pump(server, client)  # Finished + two data records together
    client.do_handshake()
    assert client.incoming_bytes_buffered() > 0
    assert _read_all(client) == b"first" + b"second" * 1000


@pytest.mark.parametrize("with_handshake_end", [False, True], ids=["records", "finished+records"])
def test_every_cut_of_the_stream_reads_the_same(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, with_handshake_end: bool
) -> None:
    """Two deliveries cut at every offset: the same plaintext, whatever the cut."""
    expected = b"a" + b"bb" * 20 + b"ccc" * 100
    stream = None
    for cut in range(1, 1 << 16):
        client, server = _pair(schannel, stdlib, pki, highest_supported_version=V12)
        if with_handshake_end:
            _until_server_finished(client, server)
        else:
            handshake(client, server)
        for piece in (b"a", b"bb" * 20, b"ccc" * 100):
            server.write(piece)
        stream = server.peek_outgoing(1 << 20)
        server.consume_outgoing(len(stream))
        if cut >= len(stream):
            break
        client.receive_from_network(stream[:cut])
        first = b""
        try:
            if with_handshake_end:
                client.do_handshake()
            first = _read_all(client)
        except WantReadError:
            pass
        client.receive_from_network(stream[cut:])
        if with_handshake_end and not first:
            client.do_handshake()
        assert first + _read_all(client) == expected, f"cut at {cut} of {len(stream)}"
    assert stream is not None and len(_records(stream)) >= 3


def test_large_writes_are_split_into_records(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client, server = _pair(schannel, stdlib, pki)
    handshake(client, server)
    data = bytes(range(256)) * 1024  # 256 KiB
    assert client.write(data) == len(data)
    stream = client.peek_outgoing(1 << 22)
    records = _records(stream)
    assert len(records) >= len(data) // (1 << 14)
    assert all(len(record) <= _RECORD for record in records)
    server.receive_from_network(stream)
    client.consume_outgoing(len(stream))
    assert _read_all(server) == data


def test_backlog_is_kept_in_a_bounded_buffer_and_released_when_idle(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client, server = _pair(schannel, stdlib, pki)
    handshake(client, server)
    assert isinstance(client, SChannelBuffer)
    chunk = b"x" * 10000
    total = 0
    for _ in range(100):  # ~1 MB arrives before the application reads any of it
        server.write(chunk)
        pump(server, client, chunk_size=997)
        total += len(chunk)
        backlog = client.incoming_bytes_buffered()
        assert client._capacity <= max(2 * (backlog + 997), _RECORD) * 2
    assert len(_read_all(client)) == total
    assert client.incoming_bytes_buffered() == 0
    assert client._capacity <= _IDLE_KEEP


def test_partial_reads_keep_the_rest_of_a_record(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client, server = _pair(schannel, stdlib, pki)
    handshake(client, server)
    server.write(b"0123456789" * 100)
    pump(server, client)
    got = b"".join(client.read(7) for _ in range(142)) + client.read(6)
    assert got == b"0123456789" * 100
    target = bytearray(10)
    server.write(b"abcdefghijklmnop")
    pump(server, client)
    assert client.readinto(target) == 10 and bytes(target) == b"abcdefghij"
    assert client.readinto(target, 3) == 3 and bytes(target[:3]) == b"klm"
    assert client.read() == b"nop"


def test_close_notify_both_ways_and_ragged_eof(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client, server = _pair(schannel, stdlib, pki)
    handshake(client, server)
    server.write(b"last words")
    server.shutdown()
    pump(server, client)
    assert client.read() == b"last words"
    assert client.read() == b""
    assert client.read() == b""
    client.shutdown()
    pump(client, server)
    assert server.read() == b""

    client, server = _pair(schannel, stdlib, pki)
    handshake(client, server)
    server.write(b"cut")
    pump(server, client)
    client.receive_from_network(b"")
    assert client.read() == b"cut"
    with pytest.raises(RaggedEOF):
        client.read()


def test_tls13_tickets_and_data_right_after_the_handshake(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    """TLS 1.3: the server's tickets (SEC_I_RENEGOTIATE) interleaved with its data, every cut."""
    if TLSVersion.TLSv1_3 not in stdlib_versions(schannel):
        pytest.skip(f"{schannel.details['windows']}: this SChannel has no TLS 1.3")
    expected = b"right after" + b"y" * 5000
    for cut in range(1, 1 << 16, 7):
        client, server = _pair(schannel, stdlib, pki, lowest_supported_version=TLSVersion.TLSv1_3)
        handshake(client, server)
        server.write(b"right after")  # the tickets go out with it
        server.write(b"y" * 5000)
        stream = server.peek_outgoing(1 << 20)
        if cut >= len(stream):
            break
        client.receive_from_network(stream[:cut])
        first = _read_all(client)
        client.receive_from_network(stream[cut:])
        assert first + _read_all(client) == expected, cut
        assert transfer(client, server, b"and back") == b"and back"


def stdlib_versions(schannel: tlsapi.Backend) -> set[TLSVersion]:
    return {TLSVersion.TLSv1_3} if tlsapi.Capability.TLSv1_3 in schannel.capabilities else set()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    damage=st.tuples(
        st.integers(min_value=0, max_value=1 << 16),  # where the stream is cut
        st.integers(min_value=0, max_value=(1 << 16) - 1),  # which byte is flipped
        st.binary(max_size=64),  # junk after it
        st.integers(min_value=1, max_value=4096),  # delivery size
    )
)
def test_damaged_streams_fail_with_tls_errors_only(
    schannel: tlsapi.Backend,
    stdlib: tlsapi.Backend,
    pki: PKI,
    damage: tuple[int, int, bytes, int],
) -> None:
    """Truncated, altered or extended records: TLSError or want-read, never another exception."""
    cut, flip, junk, chunk = damage
    client, server = _pair(schannel, stdlib, pki, highest_supported_version=V12)
    handshake(client, server)
    server.write(b"payload" * 500)
    stream = bytearray(server.peek_outgoing(1 << 20))
    stream = stream[: cut % (len(stream) + 1)]
    if stream:
        stream[flip % len(stream)] ^= 0x5A
    stream += junk
    for at in range(0, len(stream), chunk):
        client.receive_from_network(bytes(stream[at : at + chunk]))
        try:
            client.read(1 << 16)
        except WantReadError:
            pass
        except tlsapi.TLSError:
            break
    client.receive_from_network(b"")
    for _ in range(2):
        with contextlib.suppress(tlsapi.TLSError):
            client.read(1 << 16)


@pytest.mark.parametrize(
    "record",
    [b"\x15\x00\x00\x00\x00", b"\x15\x03\x03\x00\x00", b"\x15\x03\x03\x00\x02\x01\x00"],
    ids=["empty-no-version", "empty", "plaintext-close-notify"],
)
def test_a_forged_alert_record_is_not_a_close_notify(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, record: bytes
) -> None:
    """Wine answers SEC_E_OK with no data for such records: still an error, never a clean EOF."""
    client, server = _pair(schannel, stdlib, pki)
    handshake(client, server)
    client.receive_from_network(record)
    with pytest.raises(tlsapi.TLSError) as raised:
        client.read(1 << 16)
    assert not isinstance(raised.value, WantReadError)
    # The failure stays: no later read reports a clean close either.
    client.receive_from_network(b"")
    with pytest.raises(tlsapi.TLSError):
        client.read(1 << 16)
