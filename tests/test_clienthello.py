"""The core's reading of a ClientHello (NSS and SChannel servers: sni_callback, ALPN overlap)."""

from __future__ import annotations

import pathlib
import ssl

import pytest

import tlsapi
from tlsapi import NextProtocol, TLSConfiguration
from tlsapi.backend_api import (
    ClientHello,
    HelloDecodeError,
    HelloReader,
    MalformedHello,
    read_client_hello,
)
from tlsapi.testing import PKI
from tlsapi.testing.conformance.malformed import with_extension


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


def test_reads_the_name_and_alpn_of_real_hellos(pki: PKI) -> None:
    hello = _client_hello(
        tlsapi.backend("stdlib"), pki, "www.example.test", inner_protocols=(NextProtocol.H2, b"x")
    )
    parsed = read_client_hello(hello)
    assert parsed is not None
    assert parsed.server_name == "www.example.test"
    assert parsed.alpn == (b"h2", b"x")


def test_no_name_and_no_alpn(pki: PKI) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tlsapi.InsecureConfigurationWarning)
        hello = _client_hello(tlsapi.backend("stdlib"), pki, None)
    parsed = read_client_hello(hello)
    assert parsed is not None
    assert parsed.server_name is None and parsed.alpn is None


def test_partial_hello_asks_for_more(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("stdlib"), pki, "localhost")
    for cut in (0, 3, 5, 9, len(hello) - 1):
        assert read_client_hello(hello[:cut]) is None


def test_hello_split_over_records(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("stdlib"), pki, "split.example.test")
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
    hello = bytearray(_client_hello(tlsapi.backend("stdlib"), pki, "localhost"))
    # Claim a shorter handshake message than the extensions need: the parser must
    # stop at the message boundary and call it malformed, not read past it.
    length = int.from_bytes(hello[6:9], "big") - 40
    hello[6:9] = length.to_bytes(3, "big")
    hello[3:5] = (length + 4).to_bytes(2, "big")
    with pytest.raises(MalformedHello):
        read_client_hello(bytes(hello[: 5 + 4 + length]))


# -- reading as the bytes arrive ---------------------------------------------------


def _fed(pieces: list[bytes]) -> ClientHello | None:
    reader = HelloReader()
    for piece in pieces:
        reader.feed(piece)
    return reader.result()


def test_one_byte_at_a_time_reads_the_same(pki: PKI) -> None:
    hello = _client_hello(
        tlsapi.backend("stdlib"), pki, "bytes.example.test", inner_protocols=(NextProtocol.H2, b"x")
    )
    for cut in range(len(hello)):
        assert _fed([hello[i : i + 1] for i in range(cut)]) is None
    parsed = _fed([hello[i : i + 1] for i in range(len(hello))])
    assert parsed is not None
    assert (parsed.server_name, parsed.alpn) == ("bytes.example.test", (b"h2", b"x"))


def test_records_and_chunks_cut_anywhere(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("stdlib"), pki, "cut.example.test")
    body = hello[5:]
    records = b"".join(
        bytes((22, 3, 1)) + len(chunk).to_bytes(2, "big") + chunk
        for chunk in (body[i : i + 13] for i in range(0, len(body), 13))
    )
    for size in (2, 3, 5, 6, 7, 100):
        parsed = _fed([records[i : i + size] for i in range(0, len(records), size)])
        assert parsed is not None and parsed.server_name == "cut.example.test", size


def test_bytes_after_the_hello_are_not_read(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("stdlib"), pki, "localhost")
    parsed = _fed([hello, b"\x00garbage that is not a record"])
    assert parsed is not None and parsed.server_name == "localhost"


def test_a_failure_stays(pki: PKI) -> None:
    reader = HelloReader()
    reader.feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(MalformedHello):
        reader.result()
    reader.feed(_client_hello(tlsapi.backend("stdlib"), pki, "localhost"))
    with pytest.raises(MalformedHello):
        reader.result()


# -- what the pre-read refuses itself: decode_error ------------------------------------

_MALFORMED = {
    "alpn: an empty protocol list": (16, b"\x00\x00"),
    "alpn: an empty protocol name": (16, b"\x00\x01\x00"),
    "alpn: an empty name after h2": (16, b"\x00\x04\x02h2\x00"),
    "alpn: no list at all": (16, b""),
    "alpn: a list longer than the extension": (16, b"\x00\x05\x02h2"),
    "alpn: a name longer than the list": (16, b"\x00\x03\x05h2"),
    "alpn: bytes after the list": (16, b"\x00\x03\x02h2\x00"),
    "server_name: an empty list": (0, b"\x00\x00"),
    "server_name: an empty host name": (0, b"\x00\x03\x00\x00\x00"),
    "server_name: a name longer than the list": (0, b"\x00\x04\x00\x00\x09ab"),
    "server_name: bytes after the list": (0, b"\x00\x04\x00\x00\x01a\x00"),
    "signature_algorithms: an empty list": (13, b"\x00\x00"),
    "signature_algorithms: no list at all": (13, b""),
    "signature_algorithms: one byte of length": (13, b"\x00"),
    "signature_algorithms: an odd length": (13, b"\x00\x03\x04\x03\x08"),
    "signature_algorithms: a list longer than the extension": (13, b"\x00\x04\x04\x03"),
    "signature_algorithms: bytes after the list": (13, b"\x00\x02\x04\x03\x00"),
}


@pytest.mark.parametrize("case", sorted(_MALFORMED))
def test_malformed_extensions_are_decode_errors(case: str, pki: PKI) -> None:
    kind, body = _MALFORMED[case]
    hello = _client_hello(
        tlsapi.backend("stdlib"), pki, "localhost", inner_protocols=(NextProtocol.H2,)
    )
    with pytest.raises(HelloDecodeError):
        read_client_hello(with_extension(hello, kind, body))


def test_well_formed_rewrites_parse(pki: PKI) -> None:
    # The control for the cases above: the same rewriting, valid lengths.
    hello = _client_hello(
        tlsapi.backend("stdlib"), pki, "localhost", inner_protocols=(NextProtocol.H2,)
    )
    hello = with_extension(hello, 16, b"\x00\x07\x02h2\x03abc")
    hello = with_extension(hello, 0, b"\x00\x06\x00\x00\x03abc")
    hello = with_extension(hello, 13, b"\x00\x04\x04\x01\xfa\xfa")
    parsed = read_client_hello(hello)
    assert parsed is not None
    assert (parsed.server_name, parsed.alpn) == ("abc", (b"h2", b"abc"))
    assert parsed.signature_algorithms == (0x0401, 0xFAFA)  # unknown values are kept


def test_a_non_ascii_name_is_left_to_the_library(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("stdlib"), pki, "localhost")
    with pytest.raises(MalformedHello) as info:
        read_client_hello(with_extension(hello, 0, b"\x00\x05\x00\x00\x02\xc3\xa9"))
    assert not isinstance(info.value, HelloDecodeError)


def test_an_oversized_hello_is_refused_at_its_header() -> None:
    header = bytes((22, 3, 1, 0, 4, 1)) + (1 << 17).to_bytes(3, "big")
    with pytest.raises(HelloDecodeError, match="at most"):
        read_client_hello(header[:9])  # the declared length is enough: no waiting for it


def test_a_hello_in_tiny_records_has_a_limit() -> None:
    # Under the size limit, but in one-byte records: six received bytes per hello byte.
    body = bytes((1,)) + (60000).to_bytes(3, "big") + bytes(60000)
    records = b"".join(bytes((22, 3, 1, 0, 1)) + body[i : i + 1] for i in range(len(body)))
    with pytest.raises(HelloDecodeError, match="spread over"):
        read_client_hello(records)


# -- signature_algorithms ----------------------------------------------------------------


def _handmade_hello(extensions: bytes | None, record_size: int = 16384) -> bytes:
    """A TLS 1.2 ClientHello with these extensions (None: no extensions block), in records."""
    body = bytes((3, 3)) + bytes(32) + b"\x00" + b"\x00\x02\xc0\x2b" + b"\x01\x00"
    if extensions is not None:
        body += len(extensions).to_bytes(2, "big") + extensions
    message = bytes((1,)) + len(body).to_bytes(3, "big") + body
    return b"".join(
        bytes((22, 3, 1)) + len(piece).to_bytes(2, "big") + piece
        for piece in (message[i : i + record_size] for i in range(0, len(message), record_size))
    )


def test_reads_the_signature_algorithms_of_real_hellos(pki: PKI) -> None:
    names = {b.name for b in tlsapi.available_backends()} & {"stdlib", "gnutls", "nss"}
    assert "stdlib" in names
    for backend in sorted(names):
        parsed = read_client_hello(_client_hello(tlsapi.backend(backend), pki, "localhost"))
        assert parsed is not None and parsed.signature_algorithms is not None, backend
        # Every one of these clients offers ECDSA P-256 and RSA-PSS (RSAE) with SHA-256.
        assert {0x0403, 0x0804} <= set(parsed.signature_algorithms), backend
        assert len(set(parsed.signature_algorithms)) == len(parsed.signature_algorithms)


def test_signature_algorithms_in_order_and_one_byte_at_a_time() -> None:
    schemes = b"\x04\x01\x08\x04\x04\x03\x02\x01"
    hello = _handmade_hello(b"\x00\x0d" + b"\x00\x0a\x00\x08" + schemes)
    parsed = _fed([hello[i : i + 1] for i in range(len(hello))])
    assert parsed is not None
    assert parsed.signature_algorithms == (0x0401, 0x0804, 0x0403, 0x0201)


@pytest.mark.parametrize(
    "extensions", [None, b"", b"\x00\x17\x00\x00"], ids=["none", "empty", "ems"]
)
def test_no_signature_algorithms_is_none(extensions: bytes | None) -> None:
    # TLS 1.2 without the extension: the server applies RFC 5246's defaults (SHA-1).
    parsed = read_client_hello(_handmade_hello(extensions))
    assert parsed is not None
    assert parsed.signature_algorithms is None
    assert parsed.cipher_suites == (0xC02B,)


def test_the_longest_signature_algorithms_list() -> None:
    # As long as fits in a hello's extensions (2^16 - 1 bytes with the headers), in records
    # of 100 bytes fed in 4 KiB pieces.
    schemes = bytes(range(256)) * 255 + bytes(248)
    extension = b"\x00\x0d" + (len(schemes) + 2).to_bytes(2, "big")
    extension += len(schemes).to_bytes(2, "big") + schemes
    records = _handmade_hello(extension, record_size=100)
    parsed = _fed([records[i : i + 4096] for i in range(0, len(records), 4096)])
    assert parsed is not None and parsed.signature_algorithms is not None
    assert len(parsed.signature_algorithms) == 32764
    assert parsed.signature_algorithms[:2] == (0x0001, 0x0203)


def test_signature_algorithms_not_read_without_extensions(pki: PKI) -> None:
    reader = HelloReader(extensions=False)
    reader.feed(_client_hello(tlsapi.backend("stdlib"), pki, "localhost"))
    parsed = reader.result()
    assert parsed is not None and parsed.signature_algorithms is None


# -- the client random and the extensions by type ----------------------------------------


def _ssl_hello_and_random(tmp_path: pathlib.Path, pki: PKI) -> tuple[bytes, bytes]:
    """A real ClientHello of the ssl module's, and the client random its key log names."""
    keylog = tmp_path / "keys.log"
    files = pki.server_identity.write(tmp_path)
    client_context = ssl.create_default_context(cafile=str(pki.write_root(tmp_path)))
    client_context.keylog_filename = str(keylog)
    client_context.set_alpn_protocols(["h2", "http/1.1"])
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(files.chain), str(files.key))
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_context.wrap_bio(client_in, client_out, server_hostname="localhost")
    server = server_context.wrap_bio(server_in, server_out, server_side=True)
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    hello = client_out.read()
    server_in.write(hello)
    with pytest.raises(ssl.SSLWantReadError):
        server.do_handshake()
    client_in.write(server_out.read())
    client.do_handshake()  # the client has its secrets now: the key log has its lines
    randoms = {line.split()[1] for line in keylog.read_text().splitlines() if line[:1] != "#"}
    assert len(randoms) == 1, randoms
    return hello, bytes.fromhex(randoms.pop())


def test_the_client_random_and_extensions_of_a_real_hello(tmp_path: pathlib.Path, pki: PKI) -> None:
    hello, random = _ssl_hello_and_random(tmp_path, pki)
    parsed = read_client_hello(hello)
    assert parsed is not None and parsed.extensions is not None
    assert parsed.random == random
    extensions = parsed.extensions
    # server_name: one host_name entry; ALPN as set; supported_versions lists TLS 1.3.
    assert extensions[0] == b"\x00\x0c\x00\x00\x09localhost"
    assert extensions[16] == b"\x00\x0c\x02h2\x08http/1.1"
    assert b"\x03\x04" in extensions[43]
    # What the parsed fields come from, the same bytes.
    assert parsed.signature_algorithms is not None
    assert len(extensions[13]) == 2 + 2 * len(parsed.signature_algorithms)
    # The extensions are the hello's own, in its order: their headers and bodies
    # make up its extensions block exactly (the block ends the message).
    block = b"".join(
        kind.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body
        for kind, body in extensions.items()
    )
    assert hello.endswith(len(block).to_bytes(2, "big") + block)


def test_random_and_extensions_one_byte_at_a_time(tmp_path: pathlib.Path, pki: PKI) -> None:
    hello, random = _ssl_hello_and_random(tmp_path, pki)
    whole = read_client_hello(hello)
    parsed = _fed([hello[i : i + 1] for i in range(len(hello))])
    assert whole is not None and parsed is not None
    assert (parsed.random, parsed.extensions) == (random, whole.extensions)
    # And through records of 7 bytes, in pieces of 3.
    body = hello[5:]
    records = b"".join(
        bytes((22, 3, 1)) + len(chunk).to_bytes(2, "big") + chunk
        for chunk in (body[i : i + 7] for i in range(0, len(body), 7))
    )
    parsed = _fed([records[i : i + 3] for i in range(0, len(records), 3)])
    assert parsed is not None
    assert (parsed.random, parsed.extensions) == (random, whole.extensions)


def test_the_first_of_a_repeated_extension_is_kept() -> None:
    # Two supported_versions and two ALPN extensions: the raw bodies keep the first of
    # each (the library refuses such a hello); the ALPN field, as ever, the last one.
    extensions = (
        b"\x00\x2b\x00\x03\x02\x03\x04"
        + b"\x00\x10\x00\x05\x00\x03\x02h2"
        + b"\x00\x2b\x00\x03\x02\x03\x03"
        + b"\x00\x10\x00\x04\x00\x02\x01x"
    )
    parsed = read_client_hello(_handmade_hello(extensions))
    assert parsed is not None and parsed.extensions is not None
    assert parsed.extensions == {43: b"\x02\x03\x04", 16: b"\x00\x03\x02h2"}
    assert parsed.alpn == (b"x",)


@pytest.mark.parametrize("extensions", [None, b""], ids=["none", "empty"])
def test_no_extensions_is_an_empty_dict(extensions: bytes | None) -> None:
    parsed = read_client_hello(_handmade_hello(extensions))
    assert parsed is not None
    assert parsed.extensions == {}
    assert parsed.random == bytes(32)


def test_without_extensions_the_random_but_no_extensions(pki: PKI) -> None:
    hello = _client_hello(tlsapi.backend("stdlib"), pki, "localhost")
    reader = HelloReader(extensions=False)
    reader.feed(hello)
    parsed = reader.result()
    assert parsed is not None and parsed.extensions is None
    assert parsed.random == hello[11:43]  # record (5), message (4), version (2) before it
