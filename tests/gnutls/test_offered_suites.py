"""The cipher suites a client offered, as a GnuTLS server keeps them (build_ffi/gnutls/transport.c).

GnuTLS does not report the client's offer; the transport's handshake hook
keeps the cipher_suites vector of the first ClientHello as GnuTLS receives
it (no Python per handshake).  These compare it with what the core's own
ClientHello reader finds in the same bytes, sent by the ssl module's client.
"""

from __future__ import annotations

import ssl

import pytest

import tlsapi
from tlsapi import TLSConfiguration, TLSError, TLSWrappedBuffer, WantReadError
from tlsapi.backend_api import read_client_hello
from tlsapi.testing import PKI


def _client_hello(pki: PKI, ciphers: str | None = None, tls12: bool = False) -> bytes:
    context = ssl.create_default_context(cadata=pki.root_pem.decode("ascii"))
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers is not None:
        context.set_ciphers(ciphers)
    client = context.wrap_bio(
        ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(), server_hostname="localhost"
    )
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    return outgoing.read()


def _offered(server: TLSWrappedBuffer) -> tuple[int, ...] | None:
    return server.offered_cipher_suites()  # type: ignore[attr-defined, no-any-return]


def _serve(server: TLSWrappedBuffer, data: bytes) -> None:
    server.receive_from_network(data)
    with pytest.raises(WantReadError):
        server.do_handshake()


@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
def test_the_offer_is_the_clients(gnutls: tlsapi.Backend, pki: PKI, tls12: bool) -> None:
    hello = _client_hello(pki, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305", tls12)
    expected = read_client_hello(hello)
    assert expected is not None and 0xC02B in expected.cipher_suites
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    assert _offered(server) is None  # nothing received yet
    _serve(server, hello)
    assert _offered(server) == expected.cipher_suites


def test_the_offer_fed_one_byte_at_a_time(gnutls: tlsapi.Backend, pki: PKI) -> None:
    hello = _client_hello(pki)
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    for index in range(len(hello) - 1):
        server.receive_from_network(hello[index : index + 1])
        with pytest.raises(WantReadError):
            server.do_handshake()
        assert _offered(server) is None  # GnuTLS has not got the whole hello yet
    _serve(server, hello[-1:])
    expected = read_client_hello(hello)
    assert expected is not None and _offered(server) == expected.cipher_suites


def test_the_offer_is_readable_from_the_sni_callback(gnutls: tlsapi.Backend, pki: PKI) -> None:
    seen: list[tuple[int, ...] | None] = []

    def callback(
        buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration
    ) -> TLSConfiguration | None:
        seen.append(_offered(buffer))  # no lock taken: a callback may ask
        return None

    hello = _client_hello(pki)
    config = pki.server_config().update(sni_callback=callback)
    server = gnutls.server_context(config).wrap_buffers()
    _serve(server, hello)
    expected = read_client_hello(hello)
    assert expected is not None and seen == [expected.cipher_suites]


def test_a_hello_whose_suites_run_past_its_end_leaves_no_offer(
    gnutls: tlsapi.Backend, pki: PKI
) -> None:
    """The vector's length says more than the message holds: GnuTLS refuses the hello
    and the hook keeps nothing (it reads no byte past the message)."""
    body = bytes([3, 3]) + bytes(32) + bytes([0]) + (0x4000).to_bytes(2, "big") + b"\x13\x01"
    message = bytes([1]) + len(body).to_bytes(3, "big") + body
    record = bytes([22, 3, 1]) + len(message).to_bytes(2, "big") + message
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    server.receive_from_network(record)
    with pytest.raises(TLSError):
        server.do_handshake()
    assert _offered(server) is None
