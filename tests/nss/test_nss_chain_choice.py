"""Which of several chains an NSS server offers a client, by the client's signature algorithms.

NSS picks a TLS 1.2 cipher suite by the certificates it holds (ECDHE_ECDSA
for an EC key) and only then looks for a signature scheme the client
allows: a client that offers ECDHE_ECDSA suites but verifies only RSA
signatures (``gnutls-cli --priority ...:-SIGN-ALL:+SIGN-RSA-SHA256``) failed
the handshake with SSL_ERROR_UNSUPPORTED_SIGNATURE_ALGORITHM.  The backend
reads the client's signature_algorithms first and configures, for that
connection, only the chains whose key the client can verify.

Real clients (``gnutls-cli --priority``, ``openssl s_client -sigalgs``, TLS
1.2 and 1.3) must get the leaf their algorithms allow, in both directions
(a server preferring ECDSA suites and one preferring RSA suites).  Hellos
rewritten in memory cover what those programs cannot send: no
signature_algorithms at all (RFC 5246's SHA-1 defaults), algorithms no chain
fits (NSS fails as it always did), a malformed list (decode_error).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _nss_peers import Server, openssl_client, program, run_client, write_files

import tlsapi
from tlsapi import CipherSuite, TLSError, TLSVersion
from tlsapi.testing import PKI
from tlsapi.testing.conformance.malformed import alerts_in, handshake_message, with_extension
from tlsapi.testing.pki import Identity, KeyType

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
_GNUTLS_VERSION = {V12: "-VERS-ALL:+VERS-TLS1.2", V13: "-VERS-ALL:+VERS-TLS1.3"}
_OPENSSL_VERSION = {V12: "-tls1_2", V13: "-tls1_3"}
_ECDSA_SUITES = (
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
)
_RSA_SUITES = (
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
)
_SIGNATURE_ALGORITHMS = 13
_HANDSHAKE_FAILURE, _DECODE_ERROR = 40, 50


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss chain choice")


@pytest.fixture(scope="module")
def leaves(pki: PKI) -> dict[str, Identity]:
    return {
        "rsa": pki.issue(key_type=KeyType.RSA_2048),
        "ecdsa": pki.issue(key_type=KeyType.ECDSA_P256),
    }


def _config(
    pki: PKI, leaves: dict[str, Identity], *, prefer: str = "nss", **overrides: object
) -> tlsapi.TLSConfiguration:
    """Both chains; ``prefer="rsa"``: a TLS 1.2 server whose suite order puts ECDHE_RSA first
    (NSS's own order puts ECDHE_ECDSA first)."""
    if prefer == "rsa":
        overrides = {
            "ciphers": _RSA_SUITES + _ECDSA_SUITES,
            "lowest_supported_version": V12,
            "highest_supported_version": V12,
            **overrides,
        }
    return pki.server_config(
        certificate_chain=[leaf.certificate_chain() for leaf in leaves.values()],
        **overrides,  # type: ignore[arg-type]
    )


def _first_pem(text: str) -> str:
    found = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    assert found, text
    return found.group(0).strip()


def _kind(leaves: dict[str, Identity], pem: str) -> str:
    for kind, leaf in leaves.items():
        if leaf.cert_pem.decode().strip() == pem:
            return kind
    raise AssertionError(f"a leaf that is neither chain's:\n{pem}")


# -- real clients ------------------------------------------------------------------------

GNUTLS_CASES = [
    # The bug: ECDHE_ECDSA suites offered, only RSA PKCS#1 signatures allowed.
    pytest.param(V12, "+SIGN-RSA-SHA256", "nss", "rsa", id="rsa-pkcs1-tls1.2"),
    pytest.param(V12, "+SIGN-RSA-SHA384:+SIGN-RSA-SHA512", "nss", "rsa", id="rsa-sha384-tls1.2"),
    pytest.param(V12, "+SIGN-RSA-PSS-RSAE-SHA256", "nss", "rsa", id="rsa-pss-tls1.2"),
    pytest.param(V12, "+SIGN-ECDSA-SHA256", "nss", "ecdsa", id="ecdsa-tls1.2"),
    # The other direction: a server that prefers ECDHE_RSA, a client that verifies ECDSA only.
    pytest.param(V12, "+SIGN-ECDSA-SHA256", "rsa", "ecdsa", id="ecdsa-rsa-first-tls1.2"),
    pytest.param(V12, "+SIGN-RSA-SHA256", "rsa", "rsa", id="rsa-rsa-first-tls1.2"),
    # A client that verifies both: the server's own preference, as before.
    pytest.param(V12, "+SIGN-ALL", "nss", "ecdsa", id="all-tls1.2"),
    pytest.param(V12, "+SIGN-ALL", "rsa", "rsa", id="all-rsa-first-tls1.2"),
    pytest.param(V13, "+SIGN-RSA-PSS-RSAE-SHA256", "nss", "rsa", id="rsa-pss-tls1.3"),
    pytest.param(V13, "+SIGN-ECDSA-SECP256R1-SHA256", "nss", "ecdsa", id="ecdsa-tls1.3"),
]


@pytest.mark.parametrize(("version", "signatures", "prefer", "expected"), GNUTLS_CASES)
def test_gnutls_client_gets_the_leaf_it_can_verify(  # noqa: PLR0917 (fixtures and parameters)
    nss: tlsapi.Backend,
    pki: PKI,
    leaves: dict[str, Identity],
    tmp_path: Path,
    version: TLSVersion,
    signatures: str,
    prefer: str,
    expected: str,
) -> None:
    ca = write_files(pki, tmp_path)
    saved = tmp_path / "served.pem"
    context = nss.server_context(_config(pki, leaves, prefer=prefer))
    with Server(context) as server:
        output = run_client(
            [
                program("gnutls-cli", "gnutls-bin"),
                "--port",
                str(server.port),
                "--x509cafile",
                str(ca),
                "--priority",
                f"NORMAL:{_GNUTLS_VERSION[version]}:-SIGN-ALL:{signatures}",
                "--sni-hostname",
                "localhost",
                "--verify-hostname",
                "localhost",
                "--save-cert",
                str(saved),
                "127.0.0.1",
            ]
        )
    assert [seen.error for seen in server.seen] == [None], output
    assert server.seen[0].version == version.name, output
    assert "HELLO" in output, output
    assert _kind(leaves, _first_pem(saved.read_text())) == expected, output


OPENSSL_CASES = [
    pytest.param(V12, "RSA+SHA256", "nss", "rsa", id="rsa-pkcs1-tls1.2"),
    pytest.param(V12, "rsa_pss_rsae_sha256", "nss", "rsa", id="rsa-pss-tls1.2"),
    pytest.param(V12, "ECDSA+SHA256", "nss", "ecdsa", id="ecdsa-tls1.2"),
    pytest.param(V12, "ECDSA+SHA256", "rsa", "ecdsa", id="ecdsa-rsa-first-tls1.2"),
    pytest.param(V12, "RSA+SHA256:ECDSA+SHA256", "rsa", "rsa", id="both-rsa-first-tls1.2"),
    pytest.param(V13, "rsa_pss_rsae_sha256", "nss", "rsa", id="rsa-pss-tls1.3"),
    pytest.param(V13, "ecdsa_secp256r1_sha256", "nss", "ecdsa", id="ecdsa-tls1.3"),
]


@pytest.mark.parametrize(("version", "sigalgs", "prefer", "expected"), OPENSSL_CASES)
def test_openssl_client_gets_the_leaf_it_can_verify(  # noqa: PLR0917 (fixtures and parameters)
    nss: tlsapi.Backend,
    pki: PKI,
    leaves: dict[str, Identity],
    tmp_path: Path,
    version: TLSVersion,
    sigalgs: str,
    prefer: str,
    expected: str,
) -> None:
    ca = write_files(pki, tmp_path)
    context = nss.server_context(_config(pki, leaves, prefer=prefer))
    with Server(context) as server:
        output = openssl_client(server.port, ca, "-sigalgs", sigalgs, _OPENSSL_VERSION[version])
    assert [seen.error for seen in server.seen] == [None], output
    assert "HELLO" in output and "Verify return code: 0 (ok)" in output, output
    served = output.split("Server certificate", 1)[-1]
    assert _kind(leaves, _first_pem(served)) == expected, output


# -- hellos rewritten in memory ----------------------------------------------------------


def _tls12_hello(stdlib: tlsapi.Backend, pki: PKI) -> bytes:
    """A TLS 1.2 ClientHello from the ssl module (ECDHE_ECDSA and ECDHE_RSA suites offered)."""
    config = pki.client_config(
        ciphers=_ECDSA_SUITES + _RSA_SUITES,
        lowest_supported_version=V12,
        highest_supported_version=V12,
    )
    client = stdlib.client_context(config).wrap_buffers("localhost")
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    return client.peek_outgoing(1 << 16)


def _renamed(hello: bytes, kind: int, new_kind: int) -> bytes:
    """``hello`` (one record) with extension ``kind`` given the type ``new_kind``."""
    message = bytearray(handshake_message(hello))
    offset = 4 + 2 + 32
    offset += 1 + message[offset]  # session id
    offset += 2 + int.from_bytes(message[offset : offset + 2], "big")  # suites
    offset += 1 + message[offset]  # compression methods
    end = offset + 2 + int.from_bytes(message[offset : offset + 2], "big")
    offset += 2
    while offset < end:
        if int.from_bytes(message[offset : offset + 2], "big") == kind:
            message[offset : offset + 2] = new_kind.to_bytes(2, "big")
            return hello[:5] + bytes(message)
        offset += 4 + int.from_bytes(message[offset + 2 : offset + 4], "big")
    raise AssertionError(f"the hello has no extension {kind}")


def _server_flight(output: bytes) -> dict[int, bytes]:
    """The server's TLS 1.2 handshake messages in the clear, by type (its first flight)."""
    data = b""
    offset = 0
    while offset + 5 <= len(output):
        length = int.from_bytes(output[offset + 3 : offset + 5], "big")
        if output[offset] == 22:
            data += output[offset + 5 : offset + 5 + length]
        offset += 5 + length
    messages = {}
    offset = 0
    while offset + 4 <= len(data):
        length = int.from_bytes(data[offset + 1 : offset + 4], "big")
        messages[data[offset]] = data[offset + 4 : offset + 4 + length]
        offset += 4 + length
    return messages


def _served(flight: dict[int, bytes]) -> tuple[bytes, int]:
    """(the leaf's DER, the ServerKeyExchange's signature scheme) of an ECDHE flight."""
    certificates = flight[11]
    leaf = certificates[6 : 6 + int.from_bytes(certificates[3:6], "big")]
    exchange = flight[12]  # curve_type, named_curve, the public key, then the scheme
    scheme = exchange[4 + exchange[3] : 6 + exchange[3]]
    return leaf, int.from_bytes(scheme, "big")


def _answer(
    nss: tlsapi.Backend, config: tlsapi.TLSConfiguration, hello: bytes
) -> tuple[tlsapi.TLSWrappedBuffer, bytes]:
    server = nss.server_context(config).wrap_buffers()
    server.receive_from_network(hello)
    with pytest.raises(tlsapi.WantReadError):
        server.do_handshake()
    return server, server.peek_outgoing(1 << 16)


@pytest.mark.parametrize(
    ("schemes", "expected", "scheme"),
    [
        pytest.param((0x0401,), "rsa", 0x0401, id="rsa_pkcs1_sha256"),
        pytest.param((0x0807, 0x0804), "rsa", 0x0804, id="ed25519-and-rsa_pss_rsae"),
        pytest.param((0x0403,), "ecdsa", 0x0403, id="ecdsa_secp256r1_sha256"),
        pytest.param((0x0201,), "rsa", 0x0201, id="rsa_pkcs1_sha1"),
        pytest.param((0x0401, 0x0403), "ecdsa", 0x0403, id="both: NSS's order"),
    ],
)
def test_the_leaf_follows_the_signature_algorithms(  # noqa: PLR0917 (fixtures and parameters)
    nss: tlsapi.Backend,
    stdlib: tlsapi.Backend,
    pki: PKI,
    leaves: dict[str, Identity],
    schemes: tuple[int, ...],
    expected: str,
    scheme: int,
) -> None:
    body = b"".join(s.to_bytes(2, "big") for s in schemes)
    hello = with_extension(
        _tls12_hello(stdlib, pki),
        _SIGNATURE_ALGORITHMS,
        len(body).to_bytes(2, "big") + body,
    )
    _server, output = _answer(nss, _config(pki, leaves), hello)
    leaf, signed_with = _served(_server_flight(output))
    assert leaf == leaves[expected].cert_der
    assert signed_with == scheme


def test_no_signature_algorithms_keeps_every_chain(
    nss: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity]
) -> None:
    # RFC 5246: no extension means SHA-1 with the key's algorithm, which both keys can
    # make: NSS chooses among all chains as before (ECDHE_ECDSA first, ecdsa_sha1).
    hello = _renamed(_tls12_hello(stdlib, pki), _SIGNATURE_ALGORITHMS, 0xFAFA)
    for prefer, expected, scheme in (("nss", "ecdsa", 0x0203), ("rsa", "rsa", 0x0201)):
        _server, output = _answer(nss, _config(pki, leaves, prefer=prefer), hello)
        assert _served(_server_flight(output)) == (leaves[expected].cert_der, scheme), prefer


def test_algorithms_no_chain_fits_fail_as_nss_does(
    nss: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity]
) -> None:
    # Only Ed25519, which neither key signs: every chain stays, and NSS refuses.
    hello = with_extension(_tls12_hello(stdlib, pki), _SIGNATURE_ALGORITHMS, b"\x00\x02\x08\x07")
    server = nss.server_context(_config(pki, leaves)).wrap_buffers()
    server.receive_from_network(hello)
    with pytest.raises(TLSError, match="SSL_ERROR_UNSUPPORTED_SIGNATURE_ALGORITHM"):
        server.do_handshake()
    assert (2, _HANDSHAKE_FAILURE) in alerts_in(server.peek_outgoing(1 << 16))


@pytest.mark.parametrize(
    "body",
    [b"\x00\x00", b"\x00\x03\x04\x01\x08", b"\x00\x04\x04\x01", b"\x00\x02\x04\x01\x00", b""],
    ids=["empty", "odd", "past-the-end", "bytes-after", "no-list"],
)
def test_malformed_signature_algorithms_are_a_decode_error(
    nss: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity], body: bytes
) -> None:
    hello = with_extension(_tls12_hello(stdlib, pki), _SIGNATURE_ALGORITHMS, body)
    server = nss.server_context(_config(pki, leaves)).wrap_buffers()
    server.receive_from_network(hello)
    with pytest.raises(TLSError, match="malformed"):
        server.do_handshake()
    assert alerts_in(server.peek_outgoing(1 << 16)) == [(2, _DECODE_ERROR)]
    with pytest.raises(TLSError, match="malformed"):
        server.do_handshake()  # and it stays


def test_one_model_per_configuration_and_chain_subset(
    nss: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity]
) -> None:
    context = nss.server_context(_config(pki, leaves))
    profile = context._profile  # type: ignore[attr-defined]
    base = _tls12_hello(stdlib, pki)
    rsa_only = with_extension(base, _SIGNATURE_ALGORITHMS, b"\x00\x02\x04\x01")
    ecdsa_only = with_extension(base, _SIGNATURE_ALGORITHMS, b"\x00\x02\x04\x03")
    both = with_extension(base, _SIGNATURE_ALGORITHMS, b"\x00\x04\x04\x01\x04\x03")

    def models_after(hello: bytes, times: int) -> set[object]:
        for _ in range(times):
            server = context.wrap_buffers()
            server.receive_from_network(hello)
            with pytest.raises(tlsapi.WantReadError):
                server.do_handshake()
        return set(profile._models)

    before = set(profile._models)
    assert models_after(both, 3) == before  # every chain fits: the model of today
    after_rsa = models_after(rsa_only, 3)
    assert len(after_rsa - before) == 1  # built once for three connections
    after_ecdsa = models_after(ecdsa_only, 3)
    assert len(after_ecdsa - after_rsa) == 1
    assert models_after(rsa_only, 2) == after_ecdsa


@pytest.mark.parametrize("version", [V12, V13], ids=str)
def test_gnutls_client_resumes_with_its_chain(
    nss: tlsapi.Backend,
    pki: PKI,
    leaves: dict[str, Identity],
    tmp_path: Path,
    version: TLSVersion,
) -> None:
    # The resumed connection gets the same subset (same algorithms), so the same model.
    ca = write_files(pki, tmp_path)
    signatures = "+SIGN-RSA-SHA256" if version is V12 else "+SIGN-RSA-PSS-RSAE-SHA256"
    context = nss.server_context(_config(pki, leaves))
    with Server(context, count=2) as server:
        output = run_client(
            [
                program("gnutls-cli", "gnutls-bin"),
                "--resume",
                "--port",
                str(server.port),
                "--x509cafile",
                str(ca),
                "--priority",
                f"NORMAL:{_GNUTLS_VERSION[version]}:-SIGN-ALL:{signatures}",
                "--sni-hostname",
                "localhost",
                "--verify-hostname",
                "localhost",
                "127.0.0.1",
            ],
            stdin=b"",
        )
    assert "This is a resumed session" in output, output
    assert [(seen.reused, seen.error) for seen in server.seen] == [(False, None), (True, None)]


def test_an_sni_callback_configuration_is_chosen_from_too(
    nss: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity]
) -> None:
    both = _config(pki, leaves)
    names: list[str | None] = []

    def choose(
        _buffer: object, name: str | None, _config: tlsapi.TLSConfiguration
    ) -> tlsapi.TLSConfiguration:
        names.append(name)
        return both

    # The context's own configuration has the ECDSA chain alone.
    config = pki.server_config(leaves["ecdsa"], sni_callback=choose)
    hello = with_extension(_tls12_hello(stdlib, pki), _SIGNATURE_ALGORITHMS, b"\x00\x02\x04\x01")
    _server, output = _answer(nss, config, hello)
    assert names == ["localhost"]
    assert _served(_server_flight(output)) == (leaves["rsa"].cert_der, 0x0401)
