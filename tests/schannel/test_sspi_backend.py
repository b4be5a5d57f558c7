"""What the SChannel backend reports about itself, what it refuses, and its SSPI error messages."""

from __future__ import annotations

import pytest
from tlsapi_schannel._binding import lib
from tlsapi_schannel._errors import failure, status_name, status_text
from tlsapi_schannel._platform import wine_version
from tlsapi_schannel._sspi_credentials import credential_kind, server_available, tls13_available
from tlsapi_schannel._suites import ServerHelloScanner

import tlsapi
from tlsapi import Capability, ConfigurationError, TLSError, TLSVersion
from tlsapi.testing import PKI, KeyType, handshake, pump

WINE = wine_version()


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(KeyType.RSA_2048)  # the record layer does not care; Wine verifies RSA reliably


def test_details_say_which_credentials_and_windows(schannel: tlsapi.Backend) -> None:
    details = schannel.details
    assert details["credentials"] == credential_kind()
    assert details["credentials"] in ("SCH_CREDENTIALS", "SCHANNEL_CRED")
    assert details["windows"].startswith("Windows ")
    if WINE is not None:
        # Wine reads any credential as a SCHANNEL_CRED: never give it the other.
        assert details["credentials"] == "SCHANNEL_CRED"
        assert details["wine"] == WINE
        assert f"(Wine {WINE})" in details["windows"]
    else:
        assert "wine" not in details


def test_capabilities_follow_what_the_system_does(schannel: tlsapi.Backend) -> None:
    caps = schannel.capabilities
    assert Capability.CLIENT in caps and Capability.TLSv1_2 in caps
    assert (Capability.TLSv1_3 in caps) == tls13_available()
    assert (Capability.SERVER in caps) == (server_available() and Capability.SERVER in caps)
    assert Capability.CIPHER_SELECTION not in caps
    if WINE is not None:
        assert Capability.TLSv1_3 not in caps
        assert Capability.SERVER not in caps


def test_tls13_only_is_refused_where_there_is_no_tls13(schannel: tlsapi.Backend, pki: PKI) -> None:
    if tls13_available():
        pytest.skip("this SChannel has TLS 1.3")
    config = pki.client_config(lowest_supported_version=TLSVersion.TLSv1_3)
    with pytest.raises(ConfigurationError, match=r"TLS 1\.3 needs SChannel on Windows 11"):
        schannel.client_context(config)


def test_a_cipher_list_is_refused_with_what_to_do(schannel: tlsapi.Backend, pki: PKI) -> None:
    config = pki.client_config(
        ciphers=(tlsapi.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,)
    )
    with pytest.raises(ConfigurationError, match="DEFAULT_CIPHER_LIST"):
        schannel.client_context(config)


def test_wine_refuses_alpn_that_gnutls_would_drop(schannel: tlsapi.Backend, pki: PKI) -> None:
    if WINE is None:
        pytest.skip("Windows' SChannel takes 255-byte ALPN names")
    with pytest.raises(ConfigurationError, match="at most 31 bytes"):
        schannel.client_context(pki.client_config(inner_protocols=(b"p" * 32,)))
    schannel.client_context(pki.client_config(inner_protocols=(b"p" * 31,)))


def test_server_side_is_refused_where_sspi_has_none(schannel: tlsapi.Backend, pki: PKI) -> None:
    if server_available():
        pytest.skip("this SChannel has AcceptSecurityContext")
    with pytest.raises(ConfigurationError, match="cannot be a TLS server"):
        schannel.server_context(pki.server_config())


def test_status_names_and_texts() -> None:
    assert status_name(int(lib.SEC_E_ILLEGAL_MESSAGE)) == "SEC_E_ILLEGAL_MESSAGE (0x80090326)"
    assert status_name(-1) == "0xFFFFFFFF"
    for name in ("SEC_E_INTERNAL_ERROR", "SEC_E_DECRYPT_FAILURE", "SEC_E_UNTRUSTED_ROOT"):
        assert status_text(int(getattr(lib, name)))
    error = failure(int(lib.SEC_E_UNTRUSTED_ROOT), "handshake")
    assert isinstance(error, tlsapi.CertificateError)
    assert error.reason is tlsapi.CertificateErrorReason.UNTRUSTED_ISSUER
    assert "SEC_E_UNTRUSTED_ROOT (0x80090325)" in str(error)


def test_a_corrupt_record_fails_with_sspis_status_and_stays_failed(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client = schannel.client_context(pki.client_config()).wrap_buffers("localhost")
    server = stdlib.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    server.write(b"secret data")
    record = bytearray(server.peek_outgoing(1 << 16))
    server.consume_outgoing(len(record))
    record[-3] ^= 0x40  # inside the AEAD tag
    client.receive_from_network(bytes(record))
    with pytest.raises(TLSError, match=r"SChannel read \(DecryptMessage\) failed: SEC_E_") as info:
        client.read()
    with pytest.raises(TLSError) as again:
        client.read()
    assert again.value is info.value


def test_garbage_before_the_handshake_is_named(schannel: tlsapi.Backend, pki: PKI) -> None:
    client = schannel.client_context(pki.client_config()).wrap_buffers("localhost")
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    client.receive_from_network(b"\x16\x03\x03\x00\x10" + b"\x00" * 16)
    with pytest.raises(TLSError, match=r"SChannel handshake failed: SEC_E_"):
        client.do_handshake()


def test_negotiated_values_match_the_peer(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client = schannel.client_context(
        pki.client_config(inner_protocols=(b"h2", b"http/1.1"))
    ).wrap_buffers("localhost")
    server = stdlib.server_context(
        pki.server_config(inner_protocols=(b"http/1.1", b"h2"))
    ).wrap_buffers()
    handshake(client, server)
    assert client.cipher() is server.cipher() is not None
    assert client.negotiated_tls_version is server.negotiated_tls_version
    assert client.negotiated_protocol() == server.negotiated_protocol() == b"http/1.1"
    chain = client.getpeercert()
    assert chain is not None and chain[0] == pki.server_identity.cert_der


def _server_hello_stream(suite: int) -> bytes:
    body = b"\x03\x03" + b"r" * 32 + b"\x20" + b"s" * 32 + suite.to_bytes(2, "big") + b"\x00"
    message = b"\x02" + len(body).to_bytes(3, "big") + body
    # Split over two records, as a server may.
    first, second = message[:20], message[20:]
    return b"".join(
        b"\x16\x03\x03" + len(part).to_bytes(2, "big") + part for part in (first, second)
    )


def test_server_hello_scanner_finds_the_suite_at_every_cut() -> None:
    stream = _server_hello_stream(0xC02F) + b"\x17\x03\x03\x00\x01x"
    for cut in range(len(stream) + 1):
        scanner = ServerHelloScanner()
        scanner.feed(stream[:cut])
        scanner.feed(stream[cut:])
        assert scanner.done and scanner.suite == 0xC02F, cut
    empty_then_hello = b"\x16\x03\x03\x00\x00" + stream
    scanner = ServerHelloScanner()
    for byte in empty_then_hello:
        scanner.feed(bytes((byte,)))
    assert scanner.done and scanner.suite == 0xC02F
    for garbage in (b"\x17\x03\x03\x00\x01x", b"\x16\x03\x03\x00\x04\x01\x00\x00\x00"):
        scanner = ServerHelloScanner()
        scanner.feed(garbage)
        assert scanner.done and scanner.suite is None


def test_shutdown_before_the_handshake_sends_nothing(schannel: tlsapi.Backend, pki: PKI) -> None:
    client = schannel.client_context(pki.client_config()).wrap_buffers("localhost")
    client.shutdown()
    assert client.outgoing_bytes_buffered() == 0


def test_tls_unique_matches_the_peers(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    config = pki.client_config(highest_supported_version=TLSVersion.TLSv1_2)
    client = schannel.client_context(config).wrap_buffers("localhost")
    server = stdlib.server_context(pki.server_config()).wrap_buffers()
    assert client.get_channel_binding() is None  # type: ignore[attr-defined]
    handshake(client, server)
    expected = server._ssl.get_channel_binding("tls-unique")  # type: ignore[attr-defined]
    assert expected
    assert client.get_channel_binding("tls-unique") == expected  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not implemented"):
        client.get_channel_binding("tls-server-end-point")  # type: ignore[attr-defined]


def test_server_reads_the_hello_before_sspi(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sni_callback, ALPN by our preference and the offered suites come from the ClientHello.

    Under Wine, whose SChannel has no AcceptSecurityContext, the server context is
    made anyway (the refusal patched out) to run everything up to that call,
    which then fails with SChannel's status; on Windows the handshake finishes.
    """
    import tlsapi_schannel._context as contexts
    from tlsapi_schannel._context import SChannelServerContext

    if WINE is not None:
        monkeypatch.setattr(contexts, "server_available", lambda: True)
    pki = PKI(KeyType.RSA_2048)
    seen: list[str | None] = []

    def choose(
        buffer: tlsapi.TLSWrappedBuffer, name: str | None, config: tlsapi.TLSConfiguration
    ) -> tlsapi.TLSConfiguration:
        seen.append(name)
        return config.update(inner_protocols=(b"h2", b"http/1.1"))

    server_config = pki.server_config(sni_callback=choose, inner_protocols=(b"http/1.1",))
    server = SChannelServerContext(server_config).wrap_buffers()
    client_config = pki.client_config(inner_protocols=(b"http/1.1", b"h2"))
    client = stdlib.client_context(client_config).wrap_buffers("localhost")
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    hello = client.peek_outgoing(1 << 16)
    client.consume_outgoing(len(hello))
    head, last = hello[:-1], hello[-1:]
    for at in range(0, len(head), 9):  # in pieces: the reader waits for the whole hello
        server.receive_from_network(head[at : at + 9])
        with pytest.raises(tlsapi.WantReadError):
            server.do_handshake()
    assert not seen
    server.receive_from_network(last)
    if WINE is not None:
        with pytest.raises(TLSError, match=r"SEC_E_UNSUPPORTED_FUNCTION"):
            server.do_handshake()
    else:
        with pytest.raises(tlsapi.WantReadError):
            server.do_handshake()
    assert seen == ["localhost"]
    assert server.server_hostname == "localhost"
    offered = server.offered_cipher_suites()  # type: ignore[attr-defined]
    assert offered and all(isinstance(suite, int) for suite in offered)
    if WINE is None:
        pump(server, client)
        handshake(client, server)
        assert server.negotiated_protocol() == client.negotiated_protocol() == b"h2"


def test_server_refuses_a_hello_when_sni_callback_raises(
    stdlib: tlsapi.Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tlsapi_schannel._context as contexts
    from tlsapi_schannel._context import SChannelServerContext

    if WINE is not None:
        monkeypatch.setattr(contexts, "server_available", lambda: True)
    pki = PKI(KeyType.RSA_2048)
    failure_cause = ZeroDivisionError("no")

    def broken(*_: object) -> None:
        raise failure_cause

    server = SChannelServerContext(pki.server_config(sni_callback=broken)).wrap_buffers()
    client = stdlib.client_context(pki.client_config()).wrap_buffers("localhost")
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    pump(client, server)
    with pytest.raises(TLSError, match="sni_callback raised") as info:
        server.do_handshake()
    assert info.value.__cause__ is failure_cause
    # A fatal handshake_failure alert, in the clear, as SChannel would send one.
    assert server.peek_outgoing(100) == b"\x15\x03\x01\x00\x02\x02\x28"
    with pytest.raises(TLSError) as again:
        server.do_handshake()
    assert again.value is info.value


def _records_of(messages: bytes, size: int) -> bytes:
    return b"".join(
        b"\x16\x03\x03"
        + len(messages[at : at + size]).to_bytes(2, "big")
        + messages[at : at + size]
        for at in range(0, len(messages), size)
    )


def _message(kind: int, body: bytes) -> bytes:
    return bytes((kind,)) + len(body).to_bytes(3, "big") + body


def _hello_body(suite: int, extensions: bytes = b"") -> bytes:
    body = b"\x03\x03" + b"r" * 32 + b"\x00" + suite.to_bytes(2, "big") + b"\x00"
    return body + (len(extensions).to_bytes(2, "big") + extensions if extensions else b"")


def _extension(kind: int, data: bytes) -> bytes:
    return kind.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data


def test_scanner_reads_the_group_of_a_tls12_flight_at_every_cut() -> None:
    flight = (
        _message(2, _hello_body(0xC02F, _extension(0xFF01, b"\x00")))
        + _message(11, b"c" * 3000)  # skipped, never stored
        + _message(12, b"\x03\x00\x1d\x20" + b"k" * 32 + b"s" * 72)  # x25519
        + _message(14, b"")
    )
    stream = _records_of(flight, 1000)
    for cut in range(0, len(stream) + 1, 7):
        scanner = ServerHelloScanner()
        scanner.feed(stream[:cut])
        scanner.feed(stream[cut:])
        assert scanner.done and (scanner.suite, scanner.group) == (0xC02F, 0x001D), cut
    # Finite-field DHE names no group; RSA key transport sends no ServerKeyExchange.
    for middle in (_message(12, b"\x01\x00" + b"p" * 30), b""):
        scanner = ServerHelloScanner()
        scanner.feed(_records_of(_message(2, _hello_body(0x009E)) + middle + _message(14, b""), 50))
        assert scanner.done and scanner.suite == 0x009E and scanner.group is None


def test_scanner_reads_the_group_of_a_tls13_hello() -> None:
    extensions = _extension(0x002B, b"\x03\x04") + _extension(
        0x0033, b"\x00\x17\x00\x41" + b"q" * 65
    )
    stream = _records_of(_message(2, _hello_body(0x1301, extensions)), 40)
    stream += b"\x14\x03\x03\x00\x01\x01" + b"\x17\x03\x03\x00\x10" + b"e" * 16
    for cut in range(len(stream) + 1):
        scanner = ServerHelloScanner()
        for piece in (stream[:cut], stream[cut:]):
            scanner.feed(piece)
        assert scanner.done and (scanner.suite, scanner.group) == (0x1301, 0x0017), cut


def test_the_negotiated_group_is_read_from_the_flight(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    client = schannel.client_context(pki.client_config()).wrap_buffers("localhost")
    server = stdlib.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    # ECDHE with one of the curves both ends offer (secp256r1/384r1/521r1, x25519, x448).
    assert client._negotiated_group() in (23, 24, 25, 29, 30)  # type: ignore[attr-defined]
