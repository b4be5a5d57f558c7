"""What we read from a certificate, with the core's DER reader (``tlsapi.backend_api``).

crypt32 decodes certificates, but a certificate's subjectAltName and public
key are simpler to read here than through ``CryptDecodeObjectEx``'s nested
allocations.
"""

from __future__ import annotations

from typing import NamedTuple

from tlsapi.backend_api import DERElement, DERError, decode_oid, der_sequence, parse_der_one

__all__ = ["CertificateFields", "certificate_fields"]


class CertificateFields(NamedTuple):
    public_key_algorithm: str  # OID
    public_key_parameters: DERElement | None
    public_key: bytes  # the BIT STRING's bytes, unused-bits octet removed
    dns_names: tuple[str, ...]
    ip_addresses: tuple[bytes, ...]
    self_issued: bool
    key_usage: bytes | None  # the keyUsage BIT STRING's bits (unused-bits octet removed)


_SAN = "2.5.29.17"
_KEY_USAGE = "2.5.29.15"


def certificate_fields(der: bytes) -> CertificateFields:
    """What we read from a certificate: its public key and its subjectAltName entries.

    Any malformation is a DERError (a peer's certificate reaches this).
    """
    try:
        return _certificate_fields(der)
    except (IndexError, ValueError, UnicodeError) as exc:
        if isinstance(exc, DERError):
            raise
        raise DERError(f"malformed certificate ({exc})") from None


def _certificate_fields(der: bytes) -> CertificateFields:
    tbs = der_sequence(der)[0]
    if tbs.tag != 0x30:
        raise DERError("expected the TBSCertificate SEQUENCE")
    fields = tbs.children()
    index = 1 if fields and fields[0].tag == 0xA0 else 0  # [0] version is optional
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
    issuer = fields[index + 2]
    subject = fields[index + 4]
    spki = fields[index + 5].children()
    algorithm = spki[0].children()
    bits = spki[1]
    if bits.tag != 0x03 or not bits.content:
        raise DERError("expected the public key BIT STRING")
    dns: list[str] = []
    ips: list[bytes] = []
    key_usage: bytes | None = None
    for field in fields[index + 6 :]:
        if field.tag != 0xA3:  # [3] extensions
            continue
        for extension in parse_der_one(field.content).children():
            parts = extension.children()
            oid = decode_oid(parts[0])
            if oid == _KEY_USAGE:
                usage = parse_der_one(parts[-1].content)
                key_usage = usage.content[1:] if usage.tag == 0x03 else b""
            if oid != _SAN:
                continue
            for name in der_sequence(parts[-1].content):
                if name.tag == 0x82:  # [2] dNSName
                    dns.append(name.content.decode("ascii", "replace"))
                elif name.tag == 0x87:  # [7] iPAddress
                    ips.append(name.content)
    return CertificateFields(
        public_key_algorithm=decode_oid(algorithm[0]),
        public_key_parameters=algorithm[1] if len(algorithm) > 1 else None,
        public_key=bits.content[1:],
        dns_names=tuple(dns),
        ip_addresses=tuple(ips),
        self_issued=issuer.encoded == subject.encoded,
        key_usage=key_usage,
    )
