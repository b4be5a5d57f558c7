"""Several chains per server, the peer's signature scheme, whether a certificate was asked.

A server with an RSA, an ECDSA and an Ed25519 chain: real clients that
offer one kind of signature only (``openssl s_client -sigalgs``,
``gnutls-cli --priority ...:-SIGN-ALL:+SIGN-...``) and our own TLS 1.2
client held to one kind of suite each get the matching leaf.  The signature
scheme our client reports is the one a server program was told to use
(``s_server -sigalgs``); our server reports the client's CertificateVerify
the same way.  ``certificate_requested()`` follows the server program's
client-authentication setting.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from gnutls_loopback import LoopbackServer, run, talk
from tlsapi_gnutls._signatures import _CODE_POINTS, signature_name

import tlsapi
from tlsapi import CipherSuite, SignatureScheme, TLSConfiguration, TLSVersion
from tlsapi.testing import PKI, handshake
from tlsapi.testing.peers import (
    GNUTLS_CLIENT,
    GNUTLS_SERVER,
    OPENSSL_CLIENT,
    OPENSSL_SERVER,
    ClientAuth,
    PeerFiles,
    run_server,
)
from tlsapi.testing.pki import Identity, KeyType

TLS12 = {
    "lowest_supported_version": TLSVersion.TLSv1_2,
    "highest_supported_version": TLSVersion.TLSv1_2,
}
TLS13 = {"lowest_supported_version": TLSVersion.TLSv1_3}


@pytest.fixture(scope="module")
def leaves(pki: PKI) -> dict[str, Identity]:
    return {
        "rsa": pki.issue(key_type=KeyType.RSA_2048, common_name="rsa.localhost"),
        "ecdsa": pki.issue(key_type=KeyType.ECDSA_P256, common_name="ecdsa.localhost"),
        "ed25519": pki.issue(key_type=KeyType.ED25519, common_name="ed25519.localhost"),
    }


def _several(pki: PKI, leaves: dict[str, Identity], **overrides: object) -> TLSConfiguration:
    chains = tuple(leaf.certificate_chain() for leaf in leaves.values())
    return pki.server_config(certificate_chain=chains, **overrides)


def _server_leaf(output: str) -> bytes:
    """The DER of the certificate s_client prints under "Server certificate"."""
    found = re.search(
        r"Server certificate\s*-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----",
        output,
        re.DOTALL,
    )
    assert found, output
    return base64.b64decode("".join(found.group(1).split()))


@pytest.mark.peer
@pytest.mark.parametrize(
    ("version", "sigalgs", "expected"),
    [
        ("-tls1_3", "rsa_pss_rsae_sha256", "rsa"),
        ("-tls1_3", "ecdsa_secp256r1_sha256", "ecdsa"),
        ("-tls1_3", "ed25519", "ed25519"),
        ("-tls1_2", "RSA+SHA256", "rsa"),
        ("-tls1_2", "ECDSA+SHA256", "ecdsa"),
    ],
)
def test_openssl_client_gets_the_chain_its_signatures_allow(  # noqa: PLR0917 (fixtures and parameters)
    pki: PKI,
    gnutls: tlsapi.Backend,
    leaves: dict[str, Identity],
    tmp_path: Path,
    version: str,
    sigalgs: str,
    expected: str,
) -> None:
    OPENSSL_CLIENT.check_installed()
    files = PeerFiles.from_pki(tmp_path, pki)
    argv = [
        "openssl", "s_client", "-servername", "localhost", "-CAfile", str(files.ca_file),
        "-verify_return_error", "-ign_eof", version, "-sigalgs", sigalgs,
    ]  # fmt: skip
    with LoopbackServer(gnutls.server_context(_several(pki, leaves))) as server:
        output = run([*argv, "-connect", f"127.0.0.1:{server.port}"], stdin=b"ping\n")
    assert server.served and server.served[0].received == b"ping\n", output
    assert _server_leaf(output) == leaves[expected].cert_der


@pytest.mark.peer
@pytest.mark.parametrize(
    ("sign", "expected"),
    [
        ("SIGN-RSA-PSS-RSAE-SHA256", "rsa"),
        ("SIGN-ECDSA-SECP256R1-SHA256", "ecdsa"),
        ("SIGN-EDDSA-ED25519", "ed25519"),
    ],
)
def test_gnutls_cli_gets_the_chain_its_signatures_allow(  # noqa: PLR0917 (fixtures and parameters)
    pki: PKI,
    gnutls: tlsapi.Backend,
    leaves: dict[str, Identity],
    tmp_path: Path,
    sign: str,
    expected: str,
) -> None:
    GNUTLS_CLIENT.check_installed()
    files = PeerFiles.from_pki(tmp_path, pki)
    priority = f"NORMAL:-VERS-ALL:+VERS-TLS1.3:-SIGN-ALL:+{sign}"
    argv = [
        "gnutls-cli", "127.0.0.1", "--x509cafile", str(files.ca_file), "--verify-hostname",
        "localhost", "--sni-hostname", "localhost", "--priority", priority,
    ]  # fmt: skip
    with LoopbackServer(gnutls.server_context(_several(pki, leaves))) as server:
        output = run([*argv, "-p", str(server.port)], stdin=b"ping\n")
    assert server.served, output
    subject = re.search(r"subject `CN=([^',]+)", output)
    assert subject and subject.group(1) == f"{expected}.localhost", output


@pytest.mark.parametrize(
    ("suite", "expected"),
    [
        (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "rsa"),
        (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ecdsa"),
    ],
)
def test_our_tls12_client_gets_the_chain_its_suite_needs(
    pki: PKI,
    gnutls: tlsapi.Backend,
    leaves: dict[str, Identity],
    suite: CipherSuite,
    expected: str,
) -> None:
    client = gnutls.client_context(pki.client_config(ciphers=(suite,), **TLS12)).wrap_buffers(
        "localhost"
    )
    server = gnutls.server_context(_several(pki, leaves)).wrap_buffers()
    handshake(client, server)
    assert client.cipher() is suite
    assert client.getpeercert() == leaves[expected].chain_der


def test_a_broken_chain_among_several_is_named(
    pki: PKI, gnutls: tlsapi.Backend, leaves: dict[str, Identity]
) -> None:
    rsa, ecdsa = leaves["rsa"], leaves["ecdsa"]
    wrong_key = (rsa.certificates(), ecdsa.private_key())
    config = pki.server_config(certificate_chain=(ecdsa.certificate_chain(), wrong_key))
    with pytest.raises(tlsapi.ConfigurationError, match=r"certificate_chain #2: the private key"):
        gnutls.server_context(config)


# -- the peer's signature scheme -----------------------------------------------------------------


@pytest.mark.peer
@pytest.mark.parametrize(
    ("version", "sigalgs", "expected"),
    [
        (TLSVersion.TLSv1_3, "rsa_pss_rsae_sha384", SignatureScheme.rsa_pss_rsae_sha384),
        (TLSVersion.TLSv1_3, "rsa_pss_rsae_sha512", SignatureScheme.rsa_pss_rsae_sha512),
        (TLSVersion.TLSv1_2, "RSA+SHA512", SignatureScheme.rsa_pkcs1_sha512),
        (TLSVersion.TLSv1_2, "RSA+SHA384", SignatureScheme.rsa_pkcs1_sha384),
        (TLSVersion.TLSv1_2, "RSA-PSS+SHA256", SignatureScheme.rsa_pss_rsae_sha256),
    ],
)
def test_our_client_reports_what_s_server_signed_with(  # noqa: PLR0917 (fixtures and parameters)
    rsa_pki: PKI,
    gnutls: tlsapi.Backend,
    tmp_path: Path,
    version: TLSVersion,
    sigalgs: str,
    expected: SignatureScheme,
) -> None:
    files = PeerFiles.from_pki(tmp_path, rsa_pki, rsa_pki.server_identity)
    only = {"lowest_supported_version": version, "highest_supported_version": version}
    context = gnutls.client_context(rsa_pki.client_config(**only))
    with run_server(
        OPENSSL_SERVER, files, lowest_version=version, highest_version=version,
        extra_args=["-sigalgs", sigalgs],
    ) as peer:  # fmt: skip
        tls = talk(context, peer.port)
        assert tls.signature_scheme() is expected
        assert tls.certificate_requested() is False
        tls.close()


@pytest.mark.peer
@pytest.mark.parametrize("sigalgs", ["rsa_pss_rsae_sha256", "rsa_pss_rsae_sha512"])
def test_our_server_reports_what_the_client_signed_with(
    rsa_pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path, sigalgs: str
) -> None:
    OPENSSL_CLIENT.check_installed()
    files = PeerFiles.from_pki(tmp_path, rsa_pki, rsa_pki.client_identity)
    cert, chain, key = files.identity_files()
    context = gnutls.server_context(rsa_pki.server_config(trust_store=rsa_pki.trust_store()))
    argv = [
        "openssl", "s_client", "-servername", "localhost", "-CAfile", str(files.ca_file),
        "-verify_return_error", "-ign_eof", "-tls1_3", "-cert", str(cert),
        "-cert_chain", str(chain), "-key", str(key), "-client_sigalgs", sigalgs,
        "-sigalgs", sigalgs,
    ]  # fmt: skip
    with LoopbackServer(context) as server:
        output = run([*argv, "-connect", f"127.0.0.1:{server.port}"], stdin=b"ping\n")
    assert server.served, output
    assert server.served[0].signature_scheme is SignatureScheme[sigalgs]


@pytest.mark.peer
@pytest.mark.parametrize("program", [OPENSSL_SERVER, GNUTLS_SERVER], ids=lambda p: p.name)
@pytest.mark.parametrize(
    "client_auth", [ClientAuth.NONE, ClientAuth.REQUEST], ids=lambda a: str(a.value)
)
def test_certificate_requested_follows_the_server(
    pki: PKI,
    gnutls: tlsapi.Backend,
    tmp_path: Path,
    program: object,
    client_auth: ClientAuth,
) -> None:
    files = PeerFiles.from_pki(tmp_path, pki, pki.server_identity)
    context = gnutls.client_context(pki.client_config())
    with run_server(program, files, client_auth=client_auth) as peer:  # type: ignore[arg-type]
        tls = talk(context, peer.port)
        assert tls.certificate_requested() is (client_auth is ClientAuth.REQUEST)
        assert tls.signature_scheme() is SignatureScheme.ecdsa_secp256r1_sha256
        tls.close()


def test_a_server_cannot_say_whether_a_certificate_was_requested(
    pki: PKI, gnutls: tlsapi.Backend
) -> None:
    client = gnutls.client_context(pki.client_config()).wrap_buffers("localhost")
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    assert server.certificate_requested() is None
    assert server.signature_scheme() is None  # the client signed nothing
    assert client.certificate_requested() is False


def test_the_code_point_table_agrees_with_gnutls_names() -> None:
    """Each GnuTLS algorithm maps to the IANA scheme its GnuTLS name describes."""
    for algorithm, number in _CODE_POINTS.items():
        name = signature_name(algorithm).upper()
        scheme = SignatureScheme.from_number(number).name.upper()
        if name.startswith("GOSTR341012"):
            assert scheme.startswith("UNKNOWN_0X08"), (name, scheme)
            continue
        words = set(re.split(r"[-_]", name)) - {"EDDSA"}
        # GnuTLS: RSA-SHA256, RSA-PSS-RSAE-SHA256, RSA-PSS-SHA256, ECDSA-SHA256,
        # ECDSA-SECP256R1-SHA256, EdDSA-Ed25519; IANA: rsa_pkcs1_sha256, rsa_pss_rsae_sha256,
        # rsa_pss_pss_sha256, ecdsa_secp256r1_sha256, ed25519.
        assert words <= set(scheme.split("_")), (name, scheme)
        if "PSS" in words:
            assert ("RSAE" in words) == ("RSAE" in scheme), (name, scheme)
        else:
            assert "PSS" not in scheme, (name, scheme)
