"""Private keys as NSS imports them: the forms NSS has no importer for, and clear refusals."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import tlsapi
from tlsapi import ConfigurationError, PrivateKey
from tlsapi.testing import PKI, KeyType, handshake

OPENSSL = shutil.which("openssl")


@pytest.fixture(scope="module")
def rsa_pki() -> PKI:
    return PKI(KeyType.RSA_2048, name="tlsapi nss keys rsa")


@pytest.fixture(scope="module")
def ec_pki() -> PKI:
    return PKI(KeyType.ECDSA_P256, name="tlsapi nss keys ec")


def _serves(nss: tlsapi.Backend, pki: PKI, key: PrivateKey) -> None:
    leaf = pki.server_identity
    chain, _ = leaf.certificate_chain()
    server = nss.server_context(pki.server_config(certificate_chain=(chain, key)))
    client = nss.client_context(pki.client_config())
    handshake(client.wrap_buffers("localhost"), server.wrap_buffers())


@pytest.mark.parametrize("cipher", ["-des3", "-aes128", "-aes192", "-aes256"])
def test_openssl_legacy_encrypted_pem(
    nss: tlsapi.Backend, rsa_pki: PKI, tmp_path: Path, cipher: str
) -> None:
    """ "Proc-Type: 4,ENCRYPTED" keys from the openssl tool: NSS cannot read them, we decrypt."""
    assert OPENSSL is not None, "the openssl program is needed"
    plain = tmp_path / "key.pem"
    plain.write_bytes(rsa_pki.server_identity.private_key(key_format="pkcs1").data)
    encrypted = tmp_path / "encrypted.pem"
    subprocess.run(
        [
            OPENSSL,
            "rsa",
            "-traditional",
            cipher,
            "-passout",
            "pass:sesame",
            "-in",
            str(plain),
            "-out",
            str(encrypted),
        ],
        check=True,
        capture_output=True,
    )
    data = encrypted.read_bytes()
    assert b"Proc-Type: 4,ENCRYPTED" in data
    _serves(nss, rsa_pki, PrivateKey.from_file(encrypted, password=b"sesame"))
    with pytest.raises(ConfigurationError, match="password does not decrypt"):
        _serves(nss, rsa_pki, PrivateKey.from_file(encrypted, password=b"wrong"))


def test_unknown_legacy_cipher_names_the_fix(nss: tlsapi.Backend, ec_pki: PKI) -> None:
    pem = ec_pki.server_identity.private_key(password=b"x", key_format="sec1").data
    forged = pem.replace(b"AES-256-CBC", b"CAMELLIA-256-CBC")
    assert forged != pem
    with pytest.raises(ConfigurationError, match="openssl pkcs8 -topk8"):
        _serves(nss, ec_pki, PrivateKey.from_buffer(forged, password=b"x"))


def test_sec1_without_curve_names_the_fix(nss: tlsapi.Backend, ec_pki: PKI) -> None:
    from cryptography.hazmat.primitives import serialization

    der = ec_pki.server_identity.private_key(key_format="sec1").data
    key = serialization.load_pem_private_key(der, None)
    sec1 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    # Drop the [0] parameters element: SEQUENCE { version, privateKey, [0] ..., [1] ... }.
    start = 2 + 3 + 2 + sec1[6]
    assert sec1[start] == 0xA0
    end = start + 2 + sec1[start + 1]
    body = sec1[2:start] + sec1[end:]
    stripped = bytes((0x30, len(body))) + body
    with pytest.raises(ConfigurationError, match="does not name its curve"):
        _serves(nss, ec_pki, PrivateKey.from_buffer(stripped))


@pytest.mark.parametrize("key_format", ["pkcs8", "pkcs1"])
def test_der_keys(nss: tlsapi.Backend, rsa_pki: PKI, key_format: str) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = rsa_pki.server_identity.private_key(key_format=key_format).data
    key = serialization.load_pem_private_key(pem, None)
    form = (
        serialization.PrivateFormat.PKCS8
        if key_format == "pkcs8"
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    der = key.private_bytes(serialization.Encoding.DER, form, serialization.NoEncryption())
    _serves(nss, rsa_pki, PrivateKey.from_buffer(der))


def test_ed25519_is_refused_with_the_reason(nss: tlsapi.Backend) -> None:
    pki = PKI(KeyType.ED25519, name="tlsapi nss ed25519")
    with pytest.raises(ConfigurationError, match="Ed25519"):
        nss.server_context(pki.server_config())


def test_a_key_of_another_certificate(nss: tlsapi.Backend, ec_pki: PKI) -> None:
    other = ec_pki.issue()
    chain, _ = ec_pki.server_identity.certificate_chain()
    with pytest.raises(ConfigurationError, match="does not match"):
        nss.server_context(ec_pki.server_config(certificate_chain=(chain, other.private_key())))


def test_encrypted_pkcs8_key_of_another_certificate(nss: tlsapi.Backend, ec_pki: PKI) -> None:
    other = ec_pki.issue().private_key(password=b"pw")
    chain, _ = ec_pki.server_identity.certificate_chain()
    with pytest.raises(ConfigurationError):
        nss.server_context(ec_pki.server_config(certificate_chain=(chain, other)))
