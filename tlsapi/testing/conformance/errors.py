"""Bad input from the network: garbage, tampering, truncation, a peer that hangs up.

Each must end in a TLSError (never a want-error that waits forever, never a
bare OSError, ValueError or a crash).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..._backend import Backend
from ..._buffer import TLSWrappedBuffer
from ..._errors import TLSError, WantReadError, WantWriteError
from ..pki import PKI
from ..pump import pump, read_available
from ._support import Peers

__all__ = ["TestBadInput"]

NOT_TLS = [
    b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"SSH-2.0-OpenSSH_9.2\r\n",
    b"\x00" * 64,
    b"\xff" * 64,
    b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",  # a handshake record with a nonsense body
    b"\x16\x03\x01\xff\xff" + b"\x00" * 300,  # an overlong record header
    b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + b"\x00" * 37,  # SSLv2 ClientHello
    b"\x17\x03\x03\x00\x10" + b"\x00" * 16,  # application data before any handshake
    b"\x15\x03\x03\x00\x02\x02\x28",  # a fatal handshake_failure alert
]


# Other protocols' first words: every backend, client or server, must refuse
# them as soon as they arrive, without waiting for more bytes or end of file.
OTHER_PROTOCOLS = {
    "http-request": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "ssh-banner": b"SSH-2.0-OpenSSH_9.0\r\n",
    "http-response": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "smtp-banner": b"220 mail.example.com ESMTP ready\r\n",
}


def _fails_before_eof(buffer: TLSWrappedBuffer, data: bytes) -> TLSError:
    """``data`` arrives (no end of file): the next handshake step must be a TLSError."""
    with pytest.raises(TLSError) as info:
        buffer.receive_from_network(data)
        buffer.do_handshake()
    assert not isinstance(info.value, (WantReadError, WantWriteError)), info.value
    assert str(info.value)
    return info.value


def _fails_with_tls_error(step: object) -> TLSError:
    """Call ``step`` (a do_handshake/read) until it raises something other than want-read."""
    with pytest.raises(TLSError) as info:
        step()  # type: ignore[operator]
    assert not isinstance(info.value, (WantReadError, WantWriteError)), info.value
    return info.value


class TestBadInput:
    @pytest.mark.parametrize("garbage", NOT_TLS, ids=range(len(NOT_TLS)))
    def test_server_receives_garbage(self, peers: Peers, garbage: bytes) -> None:
        _, server = peers.pair()
        _fails_before_eof(server, garbage)

    @pytest.mark.parametrize("garbage", NOT_TLS, ids=range(len(NOT_TLS)))
    def test_client_receives_garbage(self, peers: Peers, garbage: bytes) -> None:
        client, _ = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        _fails_before_eof(client, garbage)

    @pytest.mark.parametrize("words", OTHER_PROTOCOLS.values(), ids=list(OTHER_PROTOCOLS))
    def test_server_hears_another_protocol(self, peers: Peers, words: bytes) -> None:
        _, server = peers.pair()
        _fails_before_eof(server, words)
        # Sticky, and still without end of file.
        _fails_with_tls_error(server.do_handshake)

    @pytest.mark.parametrize("words", OTHER_PROTOCOLS.values(), ids=list(OTHER_PROTOCOLS))
    def test_client_hears_another_protocol(self, peers: Peers, words: bytes) -> None:
        client, _ = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        _fails_before_eof(client, words)
        _fails_with_tls_error(client.do_handshake)

    def test_random_bytes_into_server(self, peers: Peers) -> None:
        _, server = peers.pair()
        server.receive_from_network(os.urandom(4096))
        server.receive_from_network(b"")
        _fails_with_tls_error(server.do_handshake)

    def test_tampered_application_data(self, peers: Peers) -> None:
        client, server = peers.connect()
        read_available(client)
        client.write(b"integrity matters" * 10)
        record = bytearray(client.peek_outgoing(client.outgoing_bytes_buffered()))
        client.consume_outgoing(len(record))
        record[len(record) // 2] ^= 0x01
        server.receive_from_network(bytes(record))
        _fails_with_tls_error(server.read)

    def test_tampered_handshake(self, peers: Peers) -> None:
        client, server = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        pump(client, server)
        with pytest.raises(WantReadError):
            server.do_handshake()
        flight = bytearray(server.peek_outgoing(server.outgoing_bytes_buffered()))
        server.consume_outgoing(len(flight))
        flight[-5] ^= 0x40  # inside the last (encrypted or signed) message
        client.receive_from_network(bytes(flight))
        client.receive_from_network(b"")
        _fails_with_tls_error(client.do_handshake)

    def test_replayed_record(self, peers: Peers) -> None:
        client, server = peers.connect()
        client.write(b"once")
        record = client.peek_outgoing(client.outgoing_bytes_buffered())
        pump(client, server)
        assert read_available(server) == b"once"
        server.receive_from_network(record)
        _fails_with_tls_error(server.read)

    def test_peer_hangs_up_before_answering(self, peers: Peers) -> None:
        client, _ = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        client.receive_from_network(b"")
        _fails_with_tls_error(client.do_handshake)

    def test_peer_hangs_up_without_speaking(self, peers: Peers) -> None:
        _, server = peers.pair()
        server.receive_from_network(b"")
        _fails_with_tls_error(server.do_handshake)

    @pytest.mark.parametrize("keep", [1, 5, 50, 0.5])
    def test_peer_hangs_up_mid_flight(self, peers: Peers, keep: float) -> None:
        client, server = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        pump(client, server)
        with pytest.raises(WantReadError):
            server.do_handshake()
        flight = server.peek_outgoing(server.outgoing_bytes_buffered())
        cut = int(len(flight) * keep) if isinstance(keep, float) else keep
        client.receive_from_network(flight[:cut])
        client.receive_from_network(b"")
        _fails_with_tls_error(client.do_handshake)

    def test_client_hangs_up_after_hello(self, peers: Peers) -> None:
        client, server = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        pump(client, server)
        server.receive_from_network(b"")
        _fails_with_tls_error(server.do_handshake)

    def test_failure_is_final(self, peers: Peers) -> None:
        _, server = peers.pair()
        server.receive_from_network(b"\x00" * 64)
        _fails_with_tls_error(server.do_handshake)
        # Calling again must not hang in want-read or pretend to succeed.
        with pytest.raises(TLSError) as info:
            server.do_handshake()
            server.read()
        assert not isinstance(info.value, WantReadError)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(data=st.binary(min_size=1, max_size=2048))
    def test_fuzzed_input_to_server(self, backend: Backend, pki: PKI, data: bytes) -> None:
        _, server = Peers.for_backend(backend, pki).pair()
        server.receive_from_network(data)
        server.receive_from_network(b"")
        with pytest.raises(TLSError):
            server.do_handshake()

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(data=st.binary(min_size=1, max_size=2048), prefix=st.booleans())
    def test_fuzzed_input_after_handshake(
        self, backend: Backend, pki: PKI, data: bytes, prefix: bool
    ) -> None:
        _client, server = Peers.for_backend(backend, pki).connect()
        if prefix:
            data = b"\x17\x03\x03" + len(data).to_bytes(2, "big") + data  # an app-data header
        server.receive_from_network(data)
        server.receive_from_network(b"")
        with pytest.raises(TLSError):
            read_available(server)
            server.read()
