"""RSASSA-PSS keys (id-RSASSA-PSS, RFC 4055) are served and accepted by every backend.

Such a key may only sign with RSA-PSS, and its certificate says so in its
SubjectPublicKeyInfo; TLS signs with the rsa_pss_pss_* schemes (RFC 8446
§4.2.3), in TLS 1.3 and in TLS 1.2.  The key and certificate come from the
``openssl`` command: ``cryptography`` cannot write an id-RSASSA-PSS
SubjectPublicKeyInfo.  The certificate is issued by the test PKI's
intermediate CA.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest

import tlsapi
from tlsapi import Certificate, PrivateKey, TLSConfiguration, TLSVersion, TrustStore
from tlsapi.testing import PKI, handshake, transfer

OPENSSL = shutil.which("openssl")
EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
"""


def _openssl(directory: Path, *arguments: str) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *arguments], cwd=directory, check=True, capture_output=True)


class PSSIdentity(NamedTuple):
    chain: tuple[Certificate, ...]  # leaf + intermediate
    directory: Path  # holds key.pem and key-encrypted.pem (password "secret")
    trust_store: TrustStore


@pytest.fixture(scope="module")
def pss_identity(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PSSIdentity]:
    if OPENSSL is None:
        pytest.skip("the openssl command makes the RSASSA-PSS key; it is not installed")
    directory = tmp_path_factory.mktemp("rsa-pss")
    (directory / "ca.pem").write_bytes(pki.intermediate.cert_pem)
    (directory / "ca-key.pem").write_bytes(pki.intermediate.key_pem)
    (directory / "extensions.cnf").write_text(EXTENSIONS)
    _openssl(
        directory, "genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048",
        "-out", "key.pem",
    )  # fmt: skip
    _openssl(directory, "req", "-new", "-key", "key.pem", "-subj", "/CN=localhost", "-out", "csr")
    _openssl(
        directory, "x509", "-req", "-in", "csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
        "-set_serial", "1", "-days", "2", "-extfile", "extensions.cnf", "-out", "leaf.pem",
    )  # fmt: skip
    _openssl(
        directory, "pkcs8", "-topk8", "-in", "key.pem", "-v2", "aes-256-cbc",
        "-passout", "pass:secret", "-out", "key-encrypted.pem",
    )  # fmt: skip
    leaf = (directory / "leaf.pem").read_bytes()
    text = subprocess.run(
        [OPENSSL, "x509", "-noout", "-text"], input=leaf, capture_output=True, check=True
    ).stdout
    assert b"rsassaPss" in text, "the certificate's key is not id-RSASSA-PSS: nothing tested"
    chain = (Certificate.from_buffer(leaf), Certificate.from_buffer(pki.intermediate.cert_pem))
    yield PSSIdentity(chain, directory, TrustStore.from_buffer(pki.root_pem))


@pytest.mark.parametrize("version", [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3], ids=str)
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_rsa_pss_key(
    client_backend: tlsapi.Backend,
    server_backend: tlsapi.Backend,
    pss_identity: PSSIdentity,
    version: TLSVersion,
    encrypted: bool,
) -> None:
    chain, directory, trust_store = pss_identity
    if encrypted:
        key = PrivateKey.from_file(directory / "key-encrypted.pem", password=b"secret")
    else:
        key = PrivateKey.from_file(directory / "key.pem")
    pinned: dict[str, Any] = {
        "lowest_supported_version": version,
        "highest_supported_version": version,
    }
    server_config = TLSConfiguration(certificate_chain=(chain, key), **pinned)
    client_config = TLSConfiguration(trust_store=trust_store, **pinned)
    server = server_backend.server_context(server_config).wrap_buffers()
    client = client_backend.client_context(client_config).wrap_buffers("localhost")
    handshake(client, server)
    assert client.negotiated_tls_version is version
    assert client.getpeercert()[0] == chain[0].der  # type: ignore[index]
    assert transfer(server, client, b"signed with RSA-PSS") == b"signed with RSA-PSS"
