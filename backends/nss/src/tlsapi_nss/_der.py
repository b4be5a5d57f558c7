"""Just enough DER (the core's reader, tlsapi.backend_api) to hand NSS a PKCS#8 PrivateKeyInfo for any key form we accept.

NSS imports private keys as PKCS#8 only.  PKCS#1 (RSA) and SEC1 (EC) keys
are wrapped here: the wrapper is a fixed AlgorithmIdentifier around the key
bytes, no cryptography involved.
"""

from __future__ import annotations

from tlsapi import ConfigurationError
from tlsapi.backend_api import DERElement, DERError, der_sequence, encode_tlv

__all__ = ["key_kind", "pkcs8_algorithm", "rsa_pss_as_rsa", "wrap_pkcs1", "wrap_sec1"]

_SEQUENCE, _INTEGER, _OCTET_STRING, _NULL, _OID = 0x30, 0x02, 0x04, 0x05, 0x06
_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
RSASSA_PSS = bytes.fromhex("2a864886f70d01010a")  # 1.2.840.113549.1.1.10
ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112
ED448 = bytes.fromhex("2b6571")  # 1.3.101.113


def _fields(der: bytes) -> list[DERElement]:
    """The fields of the SEQUENCE ``der`` is (a key), or none when it is not one."""
    try:
        return der_sequence(der)
    except DERError:
        return []


def key_kind(der: bytes) -> str:
    """ "pkcs8", "pkcs1" or "sec1" for an unencrypted private key in DER."""
    items = _fields(der)
    if len(items) >= 3 and items[0].tag == _INTEGER:
        second = items[1].tag
        if second == _SEQUENCE:
            return "pkcs8"
        if second == _INTEGER:
            return "pkcs1"
        if second == _OCTET_STRING:
            return "sec1"
    raise ConfigurationError("private key: the DER is neither PKCS#8, PKCS#1 (RSA) nor SEC1 (EC)")


def pkcs8_algorithm(der: bytes) -> bytes | None:
    """The algorithm OID (content bytes) of a PKCS#8 PrivateKeyInfo, or None."""
    items = _fields(der)
    try:
        algorithm = items[1].children() if len(items) > 1 else []
    except DERError:
        return None
    return algorithm[0].content if algorithm and algorithm[0].tag == _OID else None


def wrap_pkcs1(der: bytes) -> bytes:
    """A PKCS#1 RSAPrivateKey as PKCS#8."""
    algorithm = encode_tlv(_SEQUENCE, encode_tlv(_OID, _RSA_ENCRYPTION) + encode_tlv(_NULL, b""))
    return _pkcs8(algorithm, der)


def _pkcs8(algorithm: bytes, key: bytes) -> bytes:
    """PrivateKeyInfo: version 0, the AlgorithmIdentifier, the key in an OCTET STRING."""
    return encode_tlv(
        _SEQUENCE, encode_tlv(_INTEGER, b"\x00") + algorithm + encode_tlv(_OCTET_STRING, key)
    )


def rsa_pss_as_rsa(der: bytes) -> bytes:
    """An id-RSASSA-PSS PKCS#8 key as rsaEncryption: the same RSAPrivateKey inside.

    NSS imports no id-RSASSA-PSS PrivateKeyInfo (SEC_ERROR_EXTENSION_NOT_FOUND);
    the key itself is an ordinary RSA key, and NSS signs with RSA-PSS when the
    certificate's key is id-RSASSA-PSS.  The PSS parameters dropped here are
    restrictions on use, which the certificate's key carries as well.
    """
    items = _fields(der)
    if len(items) < 3 or items[2].tag != _OCTET_STRING:
        raise ConfigurationError("private key: the RSASSA-PSS PKCS#8 key is malformed")
    return wrap_pkcs1(items[2].content)


def wrap_sec1(der: bytes) -> bytes:
    """A SEC1 ECPrivateKey as PKCS#8 (the curve comes from its [0] parameters)."""
    try:
        items = der_sequence(der)
    except DERError as exc:
        raise ConfigurationError(f"private key: the SEC1 EC key is malformed ({exc})") from None
    curve = next((item for item in items[2:] if item.tag == 0xA0), None)
    if curve is None:
        raise ConfigurationError(
            "private key: the SEC1 EC key does not name its curve; "
            "convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)"
        )
    algorithm = encode_tlv(_SEQUENCE, encode_tlv(_OID, _EC_PUBLIC_KEY) + curve.content)
    return _pkcs8(algorithm, der)
