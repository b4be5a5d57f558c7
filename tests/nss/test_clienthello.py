"""The server's own reading of the ClientHello (for sni_callback and ALPN overlap)."""

from __future__ import annotations

import pytest
from tlsapi_nss._clienthello import MalformedHello, read_client_hello

import tlsapi
from tlsapi import NextProtocol, TLSConfiguration
from tlsapi.testing import PKI


def _client_hello(backend: tlsapi.Backend, pki: PKI, name: str | None, **settings: object) -> bytes:
    config = (
        pki.client_config(**settings)
        if name
        else TLSConfiguration(
            validate_certificates=False,
            **settings,  # type: ignore[arg-type]
        )
    )
    client = backend.client_context(config).wrap_buffers(name)
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    return client.peek_outgoing(1 << 16)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI()


@pytest.mark.parametrize("client", ["nss", "stdlib"])
def test_reads_the_name_and_alpn_of_real_hellos(client: str, pki: PKI) -> None:
    hello = _client_hello(
        tlsapi.backend(client), pki, "www.example.test", inner_protocols=(NextProtocol.H2, b"x")
    )
    parsed = read_client_hello(hello)
    assert parsed is not None
    assert parsed.server_name == "www.example.test"
    assert parsed.alpn == (b"h2", b"x")


def test_no_name_and_no_alpn(pki: PKI) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tlsapi.InsecureConfigurationWarning)
        hello = _client_hello(tlsapi.backend("nss"), pki, None)
    parsed = read_client_hello(hello)
    assert parsed is not None
    assert parsed.server_name is None and parsed.alpn is None


def test_partial_hello_asks_for_more(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("nss"), pki, "localhost")
    for cut in (0, 3, 5, 9, len(hello) - 1):
        assert read_client_hello(hello[:cut]) is None


def test_hello_split_over_records(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("nss"), pki, "split.example.test")
    body = hello[5:]
    records = b"".join(
        bytes((22, 3, 1)) + len(chunk).to_bytes(2, "big") + chunk
        for chunk in (body[i : i + 7] for i in range(0, len(body), 7))
    )
    parsed = read_client_hello(records)
    assert parsed is not None and parsed.server_name == "split.example.test"


@pytest.mark.parametrize(
    "garbage",
    [b"GET / HTTP/1.1\r\n\r\n", bytes((23, 3, 3, 0, 5)) + b"hello", bytes((22, 3, 3, 0, 0))],
)
def test_not_a_hello(garbage: bytes) -> None:
    with pytest.raises(MalformedHello):
        read_client_hello(garbage)


def test_truncated_inside_a_complete_message_is_malformed(pki: PKI) -> None:
    hello = bytearray(_client_hello(tlsapi.backend("nss"), pki, "localhost"))
    # Claim a shorter handshake message than the extensions need: the parser must
    # stop at the message boundary and call it malformed, not read past it.
    length = int.from_bytes(hello[6:9], "big") - 40
    hello[6:9] = length.to_bytes(3, "big")
    hello[3:5] = (length + 4).to_bytes(2, "big")
    with pytest.raises(MalformedHello):
        read_client_hello(bytes(hello[: 5 + 4 + length]))
