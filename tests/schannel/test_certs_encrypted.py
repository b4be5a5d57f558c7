"""Encrypted private keys in the forms OpenSSL writes that ``cryptography`` does not choose.

PBES2 with other ciphers and PRFs than cryptography's (AES-256-CBC with
HMAC-SHA256), and the legacy "Proc-Type: 4,ENCRYPTED" PEM with DES-EDE3-CBC
and AES-128-CBC, are built here from their definitions (RFC 8018; OpenSSL's
EVP_BytesToKey with MD5), so the backend's decoder is checked against an
independent encoder.  Each key must then be usable by SChannel.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import warnings

import pytest
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tlsapi import ConfigurationError, PrivateKey
from tlsapi.testing import PKI
from tlsapi.testing.pki import Identity, KeyType

if sys.platform != "win32":
    pytest.skip("SChannel runs on Windows (and under Wine)", allow_module_level=True)

from tlsapi_schannel._certificates import load_identity

PASSWORD = b"correct horse"


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _integer(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _cipher(name: str, key: bytes, iv: bytes) -> Cipher:  # type: ignore[type-arg]
    if name == "3des":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TripleDES is deprecated in cryptography
            return Cipher(algorithms.TripleDES(key), modes.CBC(iv))
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _encrypt(name: str, key: bytes, iv: bytes, data: bytes) -> bytes:
    padder = padding.PKCS7(64 if name == "3des" else 128).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = _cipher(name, key, iv).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


_PBES2_CIPHERS = {
    "aes128": ("2.16.840.1.101.3.4.1.2", 16, 16),
    "aes192": ("2.16.840.1.101.3.4.1.22", 24, 16),
    "3des": ("1.2.840.113549.3.7", 24, 8),
}
_PRFS = {"sha1": None, "sha256": "1.2.840.113549.2.9", "sha512": "1.2.840.113549.2.11"}


def _pbes2(pkcs8: bytes, cipher: str, prf: str, iterations: int = 2048) -> bytes:
    oid, size, block = _PBES2_CIPHERS[cipher]
    salt, iv = os.urandom(16), os.urandom(block)
    key = hashlib.pbkdf2_hmac(prf, PASSWORD, salt, iterations, size)
    params = _tlv(0x04, salt) + _integer(iterations)
    prf_oid = _PRFS[prf]
    if prf_oid is not None:  # HMAC-SHA1 is the default, left out as DER requires
        params += _tlv(0x30, _oid(prf_oid) + b"\x05\x00")
    kdf = _tlv(0x30, _oid("1.2.840.113549.1.5.12") + _tlv(0x30, params))
    scheme = _tlv(0x30, _oid(oid) + _tlv(0x04, iv))
    algorithm = _tlv(0x30, _oid("1.2.840.113549.1.5.13") + _tlv(0x30, kdf + scheme))
    return _tlv(0x30, algorithm + _tlv(0x04, _encrypt(cipher, key, iv, pkcs8)))


def _legacy_pem(traditional_der: bytes, label: str, cipher: str) -> bytes:
    name, size, block = {
        "3des": ("DES-EDE3-CBC", 24, 8),
        "aes128": ("AES-128-CBC", 16, 16),
    }[cipher]
    iv = os.urandom(block)
    key, previous = b"", b""
    while len(key) < size:
        previous = hashlib.md5(previous + PASSWORD + iv[:8]).digest()
        key += previous
    body = base64.encodebytes(_encrypt(cipher, key[:size], iv, traditional_der))
    return (
        (
            f"-----BEGIN {label}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: {name},{iv.hex().upper()}\n\n"
        ).encode()
        + body
        + f"-----END {label}-----\n".encode()
    )


@pytest.fixture(scope="module")
def leaf() -> Identity:
    return PKI(KeyType.RSA_2048, name="tlsapi schannel encrypted keys").issue()


def _der(identity: Identity, private_format: serialization.PrivateFormat) -> bytes:
    return identity.key.private_bytes(
        serialization.Encoding.DER, private_format, serialization.NoEncryption()
    )


@pytest.mark.parametrize("prf", list(_PRFS))
@pytest.mark.parametrize("cipher", list(_PBES2_CIPHERS))
def test_pbes2_variants(leaf: Identity, cipher: str, prf: str) -> None:
    pkcs8 = _der(leaf, serialization.PrivateFormat.PKCS8)
    encrypted = _pbes2(pkcs8, cipher, prf)
    key = PrivateKey.from_buffer(encrypted, password=PASSWORD)
    assert key.key_format == "pkcs8-encrypted"
    with load_identity(leaf.certificates(), key) as identity:
        assert not identity.closed
    wrong = PrivateKey.from_buffer(encrypted, password=b"wrong horse")
    with pytest.raises(ConfigurationError, match="wrong password"):
        load_identity(leaf.certificates(), wrong)


@pytest.mark.parametrize("cipher", ["3des", "aes128"])
def test_legacy_pem_variants(leaf: Identity, cipher: str) -> None:
    pkcs1 = _der(leaf, serialization.PrivateFormat.TraditionalOpenSSL)
    pem = _legacy_pem(pkcs1, "RSA PRIVATE KEY", cipher)
    key = PrivateKey.from_buffer(pem, password=PASSWORD)
    assert key.key_format == "pkcs1-encrypted"
    with load_identity(leaf.certificates(), key) as identity:
        assert not identity.closed
    with pytest.raises(ConfigurationError, match="wrong password"):
        load_identity(leaf.certificates(), PrivateKey.from_buffer(pem, password=b"x"))


def test_unsupported_scheme_is_named(leaf: Identity) -> None:
    # PBES1 (pbeWithSHAAnd3-KeyTripleDES-CBC): refused with what to do instead.
    algorithm = _tlv(0x30, _oid("1.2.840.113549.1.12.1.3") + _tlv(0x30, _tlv(0x04, b"s" * 8)))
    encrypted = _tlv(0x30, algorithm + _tlv(0x04, b"\0" * 32))
    key = PrivateKey.from_buffer(encrypted, password=PASSWORD)
    with pytest.raises(ConfigurationError, match="PBES2"):
        load_identity(leaf.certificates(), key)


def test_absurd_iteration_count_is_refused(leaf: Identity) -> None:
    key = PrivateKey.from_buffer(_pbes2_with_count(2**31 - 1), password=PASSWORD)
    with pytest.raises(ConfigurationError, match="iteration count"):
        load_identity(leaf.certificates(), key)


def _pbes2_with_count(count: int) -> bytes:
    """A PBES2 structure claiming ``count`` iterations (refused before any decryption)."""
    params = _tlv(0x04, b"salt" * 4) + _integer(count)
    kdf = _tlv(0x30, _oid("1.2.840.113549.1.5.12") + _tlv(0x30, params))
    scheme = _tlv(0x30, _oid("2.16.840.1.101.3.4.1.2") + _tlv(0x04, b"\0" * 16))
    algorithm = _tlv(0x30, _oid("1.2.840.113549.1.5.13") + _tlv(0x30, kdf + scheme))
    return _tlv(0x30, algorithm + _tlv(0x04, b"\0" * 48))
