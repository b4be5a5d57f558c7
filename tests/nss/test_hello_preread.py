"""The NSS server's reading of the ClientHello before NSS does (tlsapi.backend_api.HelloReader)."""

from __future__ import annotations

import pytest

import tlsapi
from tlsapi import NextProtocol
from tlsapi.backend_api import HelloDecodeError
from tlsapi.testing import PKI
from tlsapi.testing.conformance.malformed import alerts_in, client_first_flight, with_extension

_MALFORMED = {
    "alpn: an empty protocol list": (16, b"\x00\x00"),
    "server_name: an empty list": (0, b"\x00\x00"),
}


def _client_hello(pki: PKI, name: str, **settings: object) -> bytes:
    """What a stdlib client asking for ``name`` sends first."""
    config = pki.client_config(**settings)
    client = tlsapi.backend("stdlib").client_context(config).wrap_buffers(name)
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    return client.peek_outgoing(client.outgoing_bytes_buffered())


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


@pytest.mark.parametrize("case", ["alpn: an empty protocol list", "server_name: an empty list"])
def test_the_server_answers_decode_error(case: str, pki: PKI) -> None:
    calls: list[str | None] = []

    def callback(buffer: object, name: str | None, config: object) -> None:
        calls.append(name)

    kind, body = _MALFORMED[case]
    hello = _client_hello(pki, "localhost", inner_protocols=(NextProtocol.H2,))
    config = pki.server_config(inner_protocols=(NextProtocol.H2,), sni_callback=callback)
    server = tlsapi.backend("nss").server_context(config).wrap_buffers()
    server.receive_from_network(with_extension(hello, kind, body))
    with pytest.raises(tlsapi.TLSError, match="malformed") as info:
        server.do_handshake()
    assert isinstance(info.value.__cause__, HelloDecodeError)
    assert server.peek_outgoing(100) == bytes((21, 3, 1, 0, 2, 2, 50))
    assert calls == []  # the callback never sees a hello that does not parse
    with pytest.raises(tlsapi.TLSError, match="malformed"):
        server.do_handshake()


def test_the_server_refuses_an_oversized_hello(pki: PKI) -> None:
    config = pki.server_config(inner_protocols=(NextProtocol.H2,))
    server = tlsapi.backend("nss").server_context(config).wrap_buffers()
    server.receive_from_network(bytes((22, 3, 1, 0x40, 0, 1)) + (1 << 17).to_bytes(3, "big"))
    with pytest.raises(tlsapi.TLSError, match="at most"):
        server.do_handshake()
    assert server.peek_outgoing(100) == bytes((21, 3, 1, 0, 2, 2, 50))


def test_empty_host_name_without_the_pre_read(nss: tlsapi.Backend) -> None:
    """No ALPN, no sni_callback: NSS's own SNI hook meets the empty name, and refuses it."""
    pki = PKI(name="tlsapi nss empty sni")
    server = nss.server_context(pki.server_config()).wrap_buffers()
    flight = client_first_flight(pki, ())
    # server_name_list of one host_name entry whose name is empty (RFC 6066 forbids it).
    server.receive_from_network(with_extension(flight, 0, b"\x00\x03\x00\x00\x00"))
    with pytest.raises(tlsapi.TLSError) as info:
        server.do_handshake()
    assert not isinstance(info.value, tlsapi.WantReadError)
    assert "RuntimeError" not in str(info.value), info.value
    assert info.value.__cause__ is None or not isinstance(info.value.__cause__, RuntimeError)
    answer = server.peek_outgoing(server.outgoing_bytes_buffered())
    assert [level for level, _ in alerts_in(answer)] == [2], answer[:32].hex()
