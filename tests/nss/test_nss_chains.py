"""Several certificate chains on an NSS server, and what our client reports of the handshake.

The server holds an ECDSA P-256, an ECDSA P-384 and an RSA chain (one
``SSL_ConfigServerCert`` each); clients that allow only one kind of
signature (``openssl s_client -sigalgs``, ``gnutls-cli --priority``) must be
served the matching chain, also through an sni_callback's configuration.
Our client's ``signature_scheme()`` and ``certificate_requested()`` are
checked against openssl s_server.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from _nss_peers import Server, openssl_client, openssl_server, program, run_client, write_files

import tlsapi
from tlsapi import SignatureScheme, TLSVersion
from tlsapi.testing import PKI
from tlsapi.testing.pki import Identity, KeyType

VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]
_OPENSSL_VERSION = {TLSVersion.TLSv1_2: "-tls1_2", TLSVersion.TLSv1_3: "-tls1_3"}
_GNUTLS_VERSION = {TLSVersion.TLSv1_2: "+VERS-TLS1.2", TLSVersion.TLSv1_3: "+VERS-TLS1.3"}


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss chains")


@pytest.fixture(scope="module")
def leaves(pki: PKI) -> dict[str, Identity]:
    return {
        "p256": pki.server_identity,
        "p384": pki.issue(key_type=KeyType.ECDSA_P384),
        "rsa": pki.issue(key_type=KeyType.RSA_2048),
    }


def _config(pki: PKI, leaves: dict[str, Identity], version: TLSVersion) -> tlsapi.TLSConfiguration:
    return pki.server_config(
        certificate_chain=[leaf.certificate_chain() for leaf in leaves.values()],
        lowest_supported_version=version,
        highest_supported_version=version,
    )


def _served_leaf(output: str) -> str:
    found = re.search(
        r"Server certificate\n(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)",
        output,
        re.DOTALL,
    )
    assert found, output
    return found.group(1).strip()


# (what the client allows, which leaf must come)
OPENSSL_SIGALGS = [
    ("ecdsa_secp256r1_sha256", "p256"),
    ("ecdsa_secp384r1_sha384", "p384"),
    ("rsa_pss_rsae_sha256:rsa_pkcs1_sha256", "rsa"),
]


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@pytest.mark.parametrize(("sigalgs", "kind"), OPENSSL_SIGALGS)
def test_openssl_client_gets_the_chain_it_can_verify(  # noqa: PLR0917 (fixtures and parameters)
    nss: tlsapi.Backend,
    pki: PKI,
    leaves: dict[str, Identity],
    tmp_path: Path,
    version: TLSVersion,
    sigalgs: str,
    kind: str,
) -> None:
    ca = write_files(pki, tmp_path)
    context = nss.server_context(_config(pki, leaves, version))
    with Server(context) as server:
        output = openssl_client(server.port, ca, "-sigalgs", sigalgs, _OPENSSL_VERSION[version])
    assert "HELLO" in output, output
    served = _served_leaf(output)
    if version is TLSVersion.TLSv1_2 and kind == "p384":
        # TLS 1.2's ecdsa_secp384r1_sha384 is ECDSA with SHA-384 on any curve.
        assert served in {leaves[k].cert_pem.decode().strip() for k in ("p256", "p384")}
    else:
        assert served == leaves[kind].cert_pem.decode().strip()


# TLS 1.3 (gnutls-cli names the TLS 1.2 signature algorithms otherwise; openssl covers 1.2)
@pytest.mark.parametrize("version", [TLSVersion.TLSv1_3], ids=str)
@pytest.mark.parametrize(
    ("signatures", "kind"),
    [("+SIGN-ECDSA-SECP256R1-SHA256", "p256"), ("+SIGN-RSA-PSS-RSAE-SHA256", "rsa")],
)
def test_gnutls_client_gets_the_chain_it_can_verify(  # noqa: PLR0917 (fixtures and parameters)
    nss: tlsapi.Backend,
    pki: PKI,
    leaves: dict[str, Identity],
    tmp_path: Path,
    version: TLSVersion,
    signatures: str,
    kind: str,
) -> None:
    ca = write_files(pki, tmp_path)
    served = tmp_path / "served.pem"
    context = nss.server_context(_config(pki, leaves, version))
    with Server(context) as server:
        output = run_client(
            [
                program("gnutls-cli", "gnutls-bin"),
                "--port",
                str(server.port),
                "--x509cafile",
                str(ca),
                "--priority",
                f"NORMAL:-VERS-ALL:{_GNUTLS_VERSION[version]}:-SIGN-ALL:{signatures}",
                "--sni-hostname",
                "localhost",
                "--verify-hostname",
                "localhost",
                "--save-cert",
                str(served),
                "127.0.0.1",
            ]
        )
    assert "HELLO" in output, output
    first = served.read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----"
    assert first.strip() == leaves[kind].cert_pem.decode().strip(), output


def test_sni_callback_configuration_with_several_chains(
    nss: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity], tmp_path: Path
) -> None:
    """The server reads the hello first: the returned configuration's chains are served."""
    ca = write_files(pki, tmp_path)
    chosen = _config(pki, leaves, TLSVersion.TLSv1_3)
    plain = pki.server_config(
        sni_callback=lambda _buffer, name, _config: chosen if name == "localhost" else None
    )
    with Server(nss.server_context(plain)) as server:
        output = run_client(
            [
                program("openssl", "openssl"),
                "s_client",
                "-connect",
                f"127.0.0.1:{server.port}",
                "-servername",
                "localhost",
                "-CAfile",
                str(ca),
                "-ign_eof",
                "-sigalgs",
                "rsa_pss_rsae_sha256",
            ]
        )
    assert "HELLO" in output, output
    assert _served_leaf(output) == leaves["rsa"].cert_pem.decode().strip()


def test_two_chains_of_one_key_type_are_refused(
    nss: tlsapi.Backend, pki: PKI, leaves: dict[str, Identity]
) -> None:
    other = pki.issue()  # P-256 again
    with pytest.raises(tlsapi.ConfigurationError, match="both have"):
        nss.server_context(
            pki.server_config(
                certificate_chain=[leaves["p256"].certificate_chain(), other.certificate_chain()]
            )
        )


# -- what our client says about the handshake -------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "version", "scheme"),
    [
        (KeyType.ECDSA_P256, TLSVersion.TLSv1_3, SignatureScheme.ecdsa_secp256r1_sha256),
        (KeyType.ECDSA_P384, TLSVersion.TLSv1_2, SignatureScheme.ecdsa_secp384r1_sha384),
        (KeyType.RSA_2048, TLSVersion.TLSv1_3, SignatureScheme.rsa_pss_rsae_sha256),
    ],
    ids=str,
)
@pytest.mark.parametrize("request_certificate", [False, True])
def test_signature_scheme_and_certificate_request_against_openssl(  # noqa: PLR0917 (fixtures and parameters)
    nss: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    key_type: KeyType,
    version: TLSVersion,
    scheme: SignatureScheme,
    request_certificate: bool,
) -> None:
    ca = write_files(pki, tmp_path)
    files = pki.issue(key_type=key_type).write(tmp_path)
    arguments = ["-cert", str(files.cert), "-key", str(files.key), "-cert_chain", str(files.chain)]
    arguments += ["-CAfile", str(ca), "-rev", _OPENSSL_VERSION[version]]
    if scheme.name.startswith("rsa") or version is TLSVersion.TLSv1_2:
        arguments += ["-sigalgs", scheme.name]
    if request_certificate:
        arguments += ["-verify", "1"]  # asks, does not require
    context = nss.client_context(pki.client_config())
    with openssl_server(arguments) as port:
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        with context.wrap_socket(raw, "localhost") as tls:
            tls.do_handshake()
            assert tls.signature_scheme() is scheme
            assert tls.certificate_requested() is request_certificate
            tls.sendall(b"abc\n")
            answer = b""
            while not answer.endswith(b"\n"):
                answer += tls.recv(100)
            assert answer == b"cba\n"


def test_a_server_cannot_tell(nss: tlsapi.Backend, pki: PKI) -> None:
    from tlsapi.testing import handshake

    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    server = nss.server_context(pki.server_config()).wrap_buffers()
    assert client.signature_scheme() is None  # before the handshake
    assert client.certificate_requested() is None
    handshake(client, server)
    assert server.signature_scheme() is None
    assert server.certificate_requested() is None
    assert client.signature_scheme() is SignatureScheme.ecdsa_secp256r1_sha256
    assert client.certificate_requested() is False
