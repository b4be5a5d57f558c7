"""Just enough DER to hand NSS a PKCS#8 PrivateKeyInfo for any key form we accept.

NSS imports private keys as PKCS#8 only.  PKCS#1 (RSA) and SEC1 (EC) keys
are wrapped here: the wrapper is a fixed AlgorithmIdentifier around the key
bytes, no cryptography involved.
"""

from __future__ import annotations

from tlsapi import ConfigurationError

__all__ = ["key_kind", "pkcs8_algorithm", "rsa_pss_as_rsa", "wrap_pkcs1", "wrap_sec1"]

_SEQUENCE, _INTEGER, _OCTET_STRING, _NULL, _OID = 0x30, 0x02, 0x04, 0x05, 0x06
_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
RSASSA_PSS = bytes.fromhex("2a864886f70d01010a")  # 1.2.840.113549.1.1.10
ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112
ED448 = bytes.fromhex("2b6571")  # 1.3.101.113


def _tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the element at ``offset``."""
    if offset + 2 > len(data):
        raise ValueError("truncated")
    tag, first = data[offset], data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if not 1 <= count <= 4 or start + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated")
    return tag, start, end


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    while start < end:
        item = _tlv(data, start)
        items.append(item)
        start = item[2]
    return items


def _encode(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = (length.bit_length() + 7) // 8
    return bytes((tag, 0x80 | size)) + length.to_bytes(size, "big") + content


def key_kind(der: bytes) -> str:
    """ "pkcs8", "pkcs1" or "sec1" for an unencrypted private key in DER."""
    try:
        tag, start, end = _tlv(der, 0)
        items = _children(der, start, end) if tag == _SEQUENCE else []
    except ValueError:
        items = []
    if len(items) >= 3 and items[0][0] == _INTEGER:
        second = items[1][0]
        if second == _SEQUENCE:
            return "pkcs8"
        if second == _INTEGER:
            return "pkcs1"
        if second == _OCTET_STRING:
            return "sec1"
    raise ConfigurationError("private key: the DER is neither PKCS#8, PKCS#1 (RSA) nor SEC1 (EC)")


def pkcs8_algorithm(der: bytes) -> bytes | None:
    """The algorithm OID (content bytes) of a PKCS#8 PrivateKeyInfo, or None."""
    try:
        _, start, end = _tlv(der, 0)
        items = _children(der, start, end)
        _, alg_start, alg_end = items[1]
        oid_tag, oid_start, oid_end = _children(der, alg_start, alg_end)[0]
    except (ValueError, IndexError):
        return None
    return der[oid_start:oid_end] if oid_tag == _OID else None


def wrap_pkcs1(der: bytes) -> bytes:
    """A PKCS#1 RSAPrivateKey as PKCS#8."""
    algorithm = _encode(_SEQUENCE, _encode(_OID, _RSA_ENCRYPTION) + _encode(_NULL, b""))
    return _encode(_SEQUENCE, _encode(_INTEGER, b"\x00") + algorithm + _encode(_OCTET_STRING, der))


def rsa_pss_as_rsa(der: bytes) -> bytes:
    """An id-RSASSA-PSS PKCS#8 key as rsaEncryption: the same RSAPrivateKey inside.

    NSS imports no id-RSASSA-PSS PrivateKeyInfo (SEC_ERROR_EXTENSION_NOT_FOUND);
    the key itself is an ordinary RSA key, and NSS signs with RSA-PSS when the
    certificate's key is id-RSASSA-PSS.  The PSS parameters dropped here are
    restrictions on use, which the certificate's key carries as well.
    """
    try:
        _, start, end = _tlv(der, 0)
        items = _children(der, start, end)
        tag, key_start, key_end = items[2]
    except (ValueError, IndexError):
        tag = -1
    if tag != _OCTET_STRING:
        raise ConfigurationError("private key: the RSASSA-PSS PKCS#8 key is malformed")
    return wrap_pkcs1(der[key_start:key_end])


def wrap_sec1(der: bytes) -> bytes:
    """A SEC1 ECPrivateKey as PKCS#8 (the curve comes from its [0] parameters)."""
    try:
        _, start, end = _tlv(der, 0)
        items = _children(der, start, end)
    except ValueError as exc:
        raise ConfigurationError(f"private key: the SEC1 EC key is malformed ({exc})") from None
    curve = next((item for item in items[2:] if item[0] == 0xA0), None)
    if curve is None:
        raise ConfigurationError(
            "private key: the SEC1 EC key does not name its curve; "
            "convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)"
        )
    parameters = der[curve[1] : curve[2]]
    algorithm = _encode(_SEQUENCE, _encode(_OID, _EC_PUBLIC_KEY) + parameters)
    return _encode(_SEQUENCE, _encode(_INTEGER, b"\x00") + algorithm + _encode(_OCTET_STRING, der))
