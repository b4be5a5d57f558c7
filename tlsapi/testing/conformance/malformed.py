"""Malformed extensions in a ClientHello: a fatal decode_error alert and a TLSError.

RFC 8446 section 6: a message that cannot be parsed by its syntax (a length
past the end, a length out of its range) MUST be answered with a
``decode_error`` alert.  The ranges broken here: RFC 7301 section 3.1,
``ProtocolName protocol_name_list<2..2^16-1>`` and ``ProtocolName<1..2^8-1>``
(no empty list, no empty name); RFC 6066 section 3, ``ServerName
server_name_list<1..2^16-1>``.

The hellos are a real client's first flight (the stdlib backend's client)
with one extension rewritten and the lengths around it fixed.  The server
has ALPN configured, so every backend must parse that extension (one without
ALPN may ignore it, as it ignores any extension it does not implement).
"""

from __future__ import annotations

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._errors import TLSError, WantReadError, WantWriteError
from ..._protocols import NextProtocol
from ..._registry import backend as backend_named
from ..pki import PKI
from ._support import lacks

__all__ = [
    "TestMalformedHello",
    "alerts_in",
    "client_first_flight",
    "handshake_message",
    "with_extension",
]

_HANDSHAKE, _ALERT = 22, 21
_SERVER_NAME, _ALPN = 0, 16
_DECODE_ERROR = 50
_MAX_FRAGMENT = 16384


def client_first_flight(pki: PKI, inner_protocols: tuple[NextProtocol | bytes, ...]) -> bytes:
    """What a stdlib client asking for ``localhost`` sends first (its ClientHello records)."""
    config = pki.client_config(inner_protocols=inner_protocols)
    client = backend_named("stdlib").client_context(config).wrap_buffers("localhost")
    with pytest.raises(WantReadError):
        client.do_handshake()
    return client.peek_outgoing(client.outgoing_bytes_buffered())


def _records(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(content type, version bytes, body) of each whole TLS record in ``data``."""
    records = []
    offset = 0
    while offset + 5 <= len(data):
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        body = data[offset + 5 : offset + 5 + length]
        if len(body) < length:
            break
        records.append((data[offset], data[offset + 1 : offset + 3], body))
        offset += 5 + length
    return records


def handshake_message(flight: bytes) -> bytes:
    """The first handshake message (with its 4-byte header) carried by ``flight``'s records."""
    payload = b"".join(body for kind, _, body in _records(flight) if kind == _HANDSHAKE)
    return payload[: 4 + int.from_bytes(payload[1:4], "big")]


def _extensions_offset(message: bytes) -> int:
    """Where a ClientHello message's extensions block (its 2-byte length) starts."""
    offset = 4 + 2 + 32  # header, legacy_version, random
    offset += 1 + message[offset]  # legacy_session_id
    offset += 2 + int.from_bytes(message[offset : offset + 2], "big")  # cipher_suites
    offset += 1 + message[offset]  # legacy_compression_methods
    return offset


def with_extension(flight: bytes, kind: int, data: bytes) -> bytes:
    """``flight`` with extension ``kind``'s body replaced by ``data``, every length fixed up.

    The hello goes back into records as large as TLS allows, with the first
    record's version bytes.
    """
    message = handshake_message(flight)
    start = _extensions_offset(message)
    block = message[start + 2 : start + 2 + int.from_bytes(message[start : start + 2], "big")]
    rewritten = bytearray()
    found = False
    offset = 0
    while offset < len(block):
        extension = int.from_bytes(block[offset : offset + 2], "big")
        size = int.from_bytes(block[offset + 2 : offset + 4], "big")
        body = block[offset + 4 : offset + 4 + size]
        if extension == kind:
            body, found = data, True
        rewritten += extension.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body
        offset += 4 + size
    assert found, f"the client sent no extension {kind}"
    body = message[4:start] + len(rewritten).to_bytes(2, "big") + bytes(rewritten)
    hello = message[:1] + len(body).to_bytes(3, "big") + body
    version = _records(flight)[0][1]
    return b"".join(
        bytes((_HANDSHAKE,)) + version + len(piece).to_bytes(2, "big") + piece
        for piece in (hello[i : i + _MAX_FRAGMENT] for i in range(0, len(hello), _MAX_FRAGMENT))
    )


def alerts_in(data: bytes) -> list[tuple[int, int]]:
    """(level, description) of each plaintext alert record in ``data``."""
    return [
        (body[0], body[1]) for kind, _, body in _records(data) if kind == _ALERT and len(body) == 2
    ]


def _keep_configuration(
    buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration
) -> TLSConfiguration | None:
    return None


# Extension, new body.  Each is a real case of RFC 8446 section 6's decode_error.
MALFORMED = {
    "alpn-empty-name": (_ALPN, b"\x00\x01\x00"),
    "alpn-empty-name-after-h2": (_ALPN, b"\x00\x04\x02h2\x00"),
    "alpn-empty-list": (_ALPN, b"\x00\x00"),
    "alpn-list-runs-past-the-end": (_ALPN, b"\x00\x05\x02h2"),
    "server-name-empty-list": (_SERVER_NAME, b"\x00\x00"),
}


class TestMalformedHello:
    def _server(self, backend: Backend, pki: PKI, sni_callback: bool) -> TLSWrappedBuffer:
        config = pki.server_config(inner_protocols=(NextProtocol.H2, NextProtocol.HTTP1))
        if lacks(backend, Capability.SERVER, lambda: backend.server_context(config)):
            pytest.skip(f"the {backend.name} backend has no server side")
        if lacks(backend, Capability.SERVER_ALPN, lambda: backend.server_context(config)):
            pytest.skip(f"the {backend.name} backend's server has no ALPN to parse")
        if sni_callback:
            config = config.update(sni_callback=_keep_configuration)
            if lacks(backend, Capability.SNI_CALLBACK, lambda: backend.server_context(config)):
                pytest.skip(f"the {backend.name} backend has no sni_callback")
        return backend.server_context(config).wrap_buffers()

    @pytest.mark.parametrize("sni_callback", [False, True], ids=["alpn", "alpn+sni_callback"])
    def test_the_rewritten_hello_is_valid(
        self, backend: Backend, pki: PKI, sni_callback: bool
    ) -> None:
        # The control: the same rewriting with a well-formed body is answered with a ServerHello,
        # so the failures below come from the malformed extension alone.
        server = self._server(backend, pki, sni_callback)
        flight = client_first_flight(pki, (NextProtocol.H2,))
        server.receive_from_network(with_extension(flight, _ALPN, b"\x00\x03\x02h2"))
        with pytest.raises(WantReadError):
            server.do_handshake()
        answer = server.peek_outgoing(server.outgoing_bytes_buffered())
        assert answer[:1] == bytes((_HANDSHAKE,)), answer[:16]
        assert not alerts_in(answer)

    @pytest.mark.parametrize("sni_callback", [False, True], ids=["alpn", "alpn+sni_callback"])
    @pytest.mark.parametrize("case", sorted(MALFORMED))
    def test_decode_error(self, backend: Backend, pki: PKI, case: str, sni_callback: bool) -> None:
        server = self._server(backend, pki, sni_callback)
        kind, body = MALFORMED[case]
        flight = client_first_flight(pki, (NextProtocol.H2,))
        server.receive_from_network(with_extension(flight, kind, body))
        with pytest.raises(TLSError) as info:
            server.do_handshake()
        assert not isinstance(info.value, (WantReadError, WantWriteError)), info.value
        assert str(info.value)
        answer = server.peek_outgoing(server.outgoing_bytes_buffered())
        assert alerts_in(answer) == [(2, _DECODE_ERROR)], (
            f"the {backend.name} server answered {answer[:32].hex()}, "
            "not one fatal decode_error alert"
        )
        with pytest.raises(TLSError):  # and the failure is final
            server.do_handshake()
