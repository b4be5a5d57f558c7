"""A short, dependency-free summary of an X.509 certificate for the CLI.

The core has no certificate parser (``cryptography`` is only a test
dependency), and ``tlsapi connect`` must still say who the server claims to
be.  This walks just enough DER to show subject, issuer, validity, the
subject alternative names and the key type.  It is a display aid, not a
validator: anything it cannot read is shown as unreadable, never trusted.
For the full certificate, use ``openssl x509 -text`` on the PEM it can print.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress

from .._der import DERError as _DERError
from .._der import children, oid_text, read_element

__all__ = ["CertificateSummary", "summarize"]

# Attribute names as RFC 4514 prints them.
_NAME_ATTRIBUTES = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_KEY_TYPES = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.10": "RSA-PSS",
    "1.2.840.10045.2.1": "EC",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}
_CURVES = {
    "1.2.840.10045.3.1.7": "P-256",
    "1.3.132.0.34": "P-384",
    "1.3.132.0.35": "P-521",
}
_SUBJECT_ALT_NAME = "2.5.29.17"


@dataclasses.dataclass(frozen=True)
class _TLV:
    tag: int
    content: bytes


# The bounded DER reader lives in the core (tlsapi._policy, which checks peers'
# chains with it); these adapters give it the shape this display code reads.
def _read_tlv(data: bytes, offset: int) -> tuple[_TLV, int]:
    """One DER element at ``offset``; return it and the offset after it."""
    tag, start, end = read_element(data, offset)
    return _TLV(tag, data[start:end]), end


def _children(content: bytes) -> list[_TLV]:
    return [
        _TLV(tag, content[start:end])
        for tag, start, end in children(content, (0x30, 0, len(content)))
    ]


def _oid(content: bytes) -> str:
    return oid_text(content)


def _string(item: _TLV) -> str:
    if item.tag == 0x1E:  # BMPString
        return item.content.decode("utf-16-be", "replace")
    if item.tag == 0x1C:  # UniversalString
        return item.content.decode("utf-32-be", "replace")
    return item.content.decode("utf-8", "replace")


def _name(item: _TLV) -> str:
    """An X.501 Name in RFC 4514 order (most specific first)."""
    parts = []
    for rdn in _children(item.content):
        for attribute in _children(rdn.content):
            oid_item, value = _children(attribute.content)[:2]
            oid = _oid(oid_item.content)
            parts.append(f"{_NAME_ATTRIBUTES.get(oid, oid)}={_string(value)}")
    return ", ".join(reversed(parts)) or "(empty)"


def _time(item: _TLV) -> datetime.datetime:
    text = item.content.decode("ascii")
    if item.tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ, years 1950..2049 (RFC 5280)
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    return datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc)


def _subject_alt_names(extension_value: bytes) -> list[str]:
    (general_names,) = _children(extension_value)
    names = []
    for name in _children(general_names.content):
        if name.tag == 0x82:
            names.append(f"DNS:{name.content.decode('ascii', 'replace')}")
        elif name.tag == 0x87:
            names.append(f"IP:{ipaddress.ip_address(name.content)}")
        elif name.tag == 0x81:
            names.append(f"email:{name.content.decode('ascii', 'replace')}")
        elif name.tag == 0x86:
            names.append(f"URI:{name.content.decode('ascii', 'replace')}")
    return names


def _key_type(spki: _TLV) -> str:
    algorithm = _children(_children(spki.content)[0].content)
    oid = _oid(algorithm[0].content)
    kind = _KEY_TYPES.get(oid, oid)
    if kind == "EC" and len(algorithm) > 1 and algorithm[1].tag == 0x06:
        curve = _oid(algorithm[1].content)
        return f"EC {_CURVES.get(curve, curve)}"
    if kind.startswith("RSA"):
        # subjectPublicKey BIT STRING: an unused-bits byte, then RSAPublicKey.
        bit_string = _children(spki.content)[1].content
        modulus = _children(_read_tlv(bit_string, 1)[0].content)[0].content
        return f"{kind} {int.from_bytes(modulus, 'big').bit_length()}"
    return kind


@dataclasses.dataclass(frozen=True)
class CertificateSummary:
    subject: str
    issuer: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    alt_names: tuple[str, ...]
    key_type: str

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer

    def validity_note(self, now: datetime.datetime | None = None) -> str:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        if now < self.not_before:
            return "NOT YET VALID"
        if now > self.not_after:
            return "EXPIRED"
        return f"{(self.not_after - now).days} days left"


def summarize(der: bytes) -> CertificateSummary | None:
    """The summary of one DER certificate, or None when it cannot be read."""
    try:
        certificate, _ = _read_tlv(der, 0)
        tbs = _children(_children(certificate.content)[0].content)
        if tbs[0].tag == 0xA0:  # explicit version: skip it
            tbs = tbs[1:]
        # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
        issuer, validity, subject, spki = tbs[2], tbs[3], tbs[4], tbs[5]
        not_before, not_after = (_time(t) for t in _children(validity.content))
        alt_names: list[str] = []
        for item in tbs[6:]:
            if item.tag != 0xA3:
                continue
            (extensions,) = _children(item.content)
            for extension in _children(extensions.content):
                fields = _children(extension.content)
                if _oid(fields[0].content) == _SUBJECT_ALT_NAME:
                    alt_names = _subject_alt_names(fields[-1].content)
        return CertificateSummary(
            subject=_name(subject),
            issuer=_name(issuer),
            not_before=not_before,
            not_after=not_after,
            alt_names=tuple(alt_names),
            key_type=_key_type(spki),
        )
    except (_DERError, ValueError, IndexError, UnicodeDecodeError):
        return None
