"""Certificates, keys and trust anchors as NSS objects.

Certificates become *temporary* certificates (``CERT_NewTempCertificate``,
never ``isperm``): nothing is written to a database and no trust is attached
to them, so a context's trust anchors are trusted by that context only
(validation passes them to CERT_PKIXVerifyCert explicitly).

Private keys become session objects in NSS's internal slot.  NSS imports
PKCS#8 only: PKCS#1 and SEC1 keys are wrapped into PKCS#8 first (``_der``),
encrypted PKCS#8 is decrypted by NSS with the password, and OpenSSL's legacy
encrypted PEM is decrypted with NSS's ciphers before the same import.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import Any

from tlsapi import Certificate, ConfigurationError, PrivateKey
from tlsapi.backend_api import parse_pem

from . import _der
from ._errors import error_text
from ._lib import ffi, lib
from ._runtime import RUNTIME

__all__ = ["anchor_list", "certificate_list", "import_certificate", "import_private_key"]

_KEY_LABELS = {
    "PRIVATE KEY": "pkcs8",
    "ENCRYPTED PRIVATE KEY": "pkcs8-encrypted",
    "RSA PRIVATE KEY": "pkcs1",
    "EC PRIVATE KEY": "sec1",
}

# OpenSSL's legacy PEM ciphers: (mechanism, key length).
_LEGACY_CIPHERS = {
    "AES-128-CBC": ("CKM_AES_CBC_PAD", 16),
    "AES-192-CBC": ("CKM_AES_CBC_PAD", 24),
    "AES-256-CBC": ("CKM_AES_CBC_PAD", 32),
    "DES-EDE3-CBC": ("CKM_DES3_CBC_PAD", 24),
    "DES-CBC": ("CKM_DES_CBC_PAD", 8),
}


def _item(data: bytes) -> tuple[Any, Any]:
    """A SECItem over ``data`` (and the buffer that must outlive it)."""
    buffer = ffi.from_buffer(data)
    item = ffi.new("SECItem *", {"type": lib.siBuffer, "data": buffer, "len": len(data)})
    return item, buffer


def import_certificate(der: bytes, what: str = "certificate") -> Any:
    """A temporary CERTCertificate for ``der`` (owned)."""
    RUNTIME.ensure()
    item, keep = _item(der)
    cert = lib.CERT_NewTempCertificate(
        lib.CERT_GetDefaultCertDB(), item, ffi.NULL, lib.PR_FALSE, lib.PR_TRUE
    )
    del keep
    if cert == ffi.NULL:
        raise ConfigurationError(f"NSS cannot use the {what}: {error_text(lib.PR_GetError())}")
    return RUNTIME.owned(cert, lib.CERT_DestroyCertificate)


def anchor_list(ders: Sequence[bytes]) -> Any:
    """A CERTCertList of trust anchors (owned), for CERT_PKIXVerifyCert."""
    RUNTIME.ensure()
    raw = lib.CERT_NewCertList()
    if raw == ffi.NULL:
        raise ConfigurationError(f"NSS cannot make a list: {error_text(lib.PR_GetError())}")
    anchors = RUNTIME.owned(raw, lib.CERT_DestroyCertList)
    for index, der in enumerate(ders):
        item, keep = _item(der)
        cert = lib.CERT_NewTempCertificate(
            lib.CERT_GetDefaultCertDB(), item, ffi.NULL, lib.PR_FALSE, lib.PR_TRUE
        )
        del keep
        if cert == ffi.NULL:
            raise ConfigurationError(
                f"NSS cannot use certificate {index + 1} of the trust store: "
                f"{error_text(lib.PR_GetError())}"
            )
        if lib.CERT_AddCertToListTail(anchors, cert) != lib.SECSuccess:  # the list owns it now
            lib.CERT_DestroyCertificate(cert)
            raise ConfigurationError(
                f"NSS cannot build the trust anchor list: {error_text(lib.PR_GetError())}"
            )
    return anchors


def certificate_list(certificates: Sequence[Any]) -> Any:
    """The CERTCertificateList a server sends: exactly these certificates, leaf first (owned)."""
    array = ffi.new("CERTCertificate *[]", list(certificates))
    raw = lib.tlsapi_nss_certificate_list(array, len(certificates))
    if raw == ffi.NULL:
        raise ConfigurationError(f"NSS cannot hold the chain: {error_text(lib.PR_GetError())}")
    return RUNTIME.owned(raw, lib.CERT_DestroyCertificateList)


def chain_certificates(chain: Sequence[Certificate]) -> list[Any]:
    what = ("leaf certificate", *(f"intermediate certificate {i}" for i in range(1, len(chain))))
    return [import_certificate(cert.der, name) for cert, name in zip(chain, what, strict=True)]


# -- private keys ------------------------------------------------------------------


def _unencrypted_pkcs8(key: PrivateKey) -> tuple[bytes | None, bytes | None]:
    """(PKCS#8 DER, None) for a plain key, or (None, EncryptedPrivateKeyInfo DER)."""
    if not key.is_pem:
        if key.is_encrypted:
            return None, key.data
        return _to_pkcs8(key.data, _der.key_kind(key.data)), None
    blocks = [b for b in parse_pem(key.data, "private key") if b.label in _KEY_LABELS]
    if not blocks:
        raise ConfigurationError("private key: NSS can use PKCS#8, PKCS#1 (RSA) or SEC1 (EC) keys")
    block = blocks[0]
    kind = _KEY_LABELS[block.label]
    if kind == "pkcs8-encrypted":
        return None, block.der
    if "ENCRYPTED" in block.headers.get("Proc-Type", ""):
        return _to_pkcs8(
            _legacy_decrypt(key, block.headers.get("DEK-Info", ""), block.der), kind
        ), None
    return _to_pkcs8(block.der, kind), None


def _to_pkcs8(der: bytes, kind: str) -> bytes:
    if kind == "pkcs1":
        return _der.wrap_pkcs1(der)
    if kind == "sec1":
        return _der.wrap_sec1(der)
    return der


def _legacy_decrypt(key: PrivateKey, dek_info: str, data: bytes) -> bytes:
    """OpenSSL's traditional PEM encryption undone with NSS's ciphers."""
    cipher, _, iv_hex = dek_info.partition(",")
    known = _LEGACY_CIPHERS.get(cipher.strip().upper())
    if known is None:
        raise ConfigurationError(
            f"private key: the PEM is encrypted with {cipher.strip() or 'an unnamed cipher'}, "
            f"which tlsapi-nss cannot decrypt (it reads {', '.join(_LEGACY_CIPHERS)}); "
            "convert the key to encrypted PKCS#8 (openssl pkcs8 -topk8 -v2 aes-256-cbc)"
        )
    try:
        iv = binascii.unhexlify(iv_hex.strip())
    except (binascii.Error, ValueError):
        raise ConfigurationError("private key: the PEM's DEK-Info has no valid IV") from None
    password = key.password_bytes() or b""
    mechanism, key_length = known
    out = ffi.new("unsigned char[]", len(data) + 16)
    RUNTIME.ensure()
    length = lib.tlsapi_nss_legacy_pem_decrypt(
        getattr(lib, mechanism),
        key_length,
        password,
        len(password),
        iv,
        len(iv),
        data,
        len(data),
        out,
    )
    if length <= 0:
        raise ConfigurationError("private key: the password does not decrypt the private key")
    plain = bytes(ffi.buffer(out, length))
    try:
        _der.key_kind(plain)
    except ConfigurationError:
        raise ConfigurationError(
            "private key: the password does not decrypt the private key"
        ) from None
    return plain


def import_private_key(key: PrivateKey, leaf: Any) -> Any:
    """The SECKEYPrivateKey for ``key`` (owned), checked against the leaf certificate."""
    RUNTIME.ensure()
    plain, encrypted = _unencrypted_pkcs8(key)
    if plain is not None:
        algorithm = _der.pkcs8_algorithm(plain)
        if algorithm in (_der.ED25519, _der.ED448):
            raise ConfigurationError(
                "private key: NSS cannot sign TLS handshakes with Ed25519/Ed448 keys; "
                "use an ECDSA or RSA key with the NSS backend"
            )
        if algorithm == _der.RSASSA_PSS:
            plain = _der.rsa_pss_as_rsa(plain)
    slot = lib.PK11_GetInternalSlot()
    if slot == ffi.NULL:
        raise ConfigurationError(f"NSS has no internal slot: {error_text(lib.PR_GetError())}")
    try:
        if encrypted is not None:
            password = key.password_bytes() or b""
            password_item, keep_password = _item(password)
            der_item, keep_der = _item(encrypted)
            raw = lib.tlsapi_nss_import_encrypted_pkcs8(slot, der_item, password_item, leaf)
            del keep_password, keep_der
            if raw == ffi.NULL:
                code = lib.PR_GetError()
                raise ConfigurationError(
                    "private key: NSS cannot decrypt the encrypted PKCS#8 key (a wrong password, "
                    f"or a key that does not belong to the certificate): {error_text(code)}"
                )
        else:
            assert plain is not None
            out = ffi.new("SECKEYPrivateKey **")
            der_item, keep_der = _item(plain)
            status = lib.PK11_ImportDERPrivateKeyInfoAndReturnKey(
                slot,
                der_item,
                ffi.NULL,
                ffi.NULL,
                lib.PR_FALSE,
                lib.PR_TRUE,
                lib.KU_ALL,
                out,
                ffi.NULL,
            )
            del keep_der
            if status != lib.SECSuccess or out[0] == ffi.NULL:
                raise ConfigurationError(
                    f"private key: NSS cannot import it: {error_text(lib.PR_GetError())}"
                )
            raw = out[0]
    finally:
        lib.PK11_FreeSlot(slot)
    private_key = RUNTIME.owned(raw, lib.SECKEY_DestroyPrivateKey)
    if not lib.tlsapi_nss_key_matches_cert(private_key, leaf):
        raise ConfigurationError("the private key does not match the certificate")
    return private_key
