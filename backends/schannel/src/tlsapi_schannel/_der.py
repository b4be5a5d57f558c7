"""A small DER reader and writer: the few structures of keys and certificates we look inside.

crypt32 decodes certificates, but not every structure we need on every
system (Wine cannot decode PKCS#8 or SEC1 keys), and a certificate's
subjectAltName and public key are simpler to read here than through
``CryptDecodeObjectEx``'s nested allocations.  Only definite lengths (DER).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DERError",
    "Element",
    "certificate_fields",
    "decode_oid",
    "encode_integer",
    "encode_oid",
    "encode_tlv",
    "parse",
    "parse_one",
    "sequence",
]


class DERError(ValueError):
    """The bytes are not the DER structure expected."""


class Element(NamedTuple):
    tag: int
    content: bytes
    encoded: bytes  # the whole TLV

    def children(self) -> list[Element]:
        return parse(self.content)

    def integer(self) -> int:
        if self.tag != 0x02 or not self.content:
            raise DERError("expected an INTEGER")
        return int.from_bytes(self.content, "big", signed=True)


def _element_at(data: bytes, offset: int) -> tuple[Element, int]:
    if offset + 2 > len(data):
        raise DERError("truncated DER element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DERError("multi-byte DER tags are not used here")
    first = data[offset + 1]
    position = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or position + count > len(data):
            raise DERError("bad DER length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    end = position + length
    if end > len(data):
        raise DERError("DER element longer than its data")
    return Element(tag, data[position:end], data[offset:end]), end


def parse(data: bytes) -> list[Element]:
    """The elements laid end to end in ``data``."""
    elements = []
    offset = 0
    while offset < len(data):
        element, offset = _element_at(data, offset)
        elements.append(element)
    return elements


def parse_one(data: bytes) -> Element:
    """``data`` as exactly one element."""
    element, end = _element_at(data, 0)
    if end != len(data):
        raise DERError("trailing bytes after the DER element")
    return element


def sequence(data: bytes) -> list[Element]:
    """The children of the SEQUENCE that ``data`` is."""
    element = parse_one(data)
    if element.tag != 0x30:
        raise DERError("expected a SEQUENCE")
    return element.children()


def decode_oid(element: Element) -> str:
    if element.tag != 0x06 or not element.content:
        raise DERError("expected an OBJECT IDENTIFIER")
    content = element.content
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, arcs[0] - 40 * first, *arcs[1:]])


def encode_tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        header = bytes([tag, length])
    else:
        size = (length.bit_length() + 7) // 8
        header = bytes([tag, 0x80 | size]) + length.to_bytes(size, "big")
    return header + content


def encode_oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return encode_tlv(0x06, bytes(body))


def encode_integer(value: int) -> bytes:
    size = value.bit_length() // 8 + 1
    return encode_tlv(0x02, value.to_bytes(size, "big", signed=True))


class CertificateFields(NamedTuple):
    public_key_algorithm: str  # OID
    public_key_parameters: Element | None
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
    tbs = sequence(der)[0]
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
        for extension in parse_one(field.content).children():
            parts = extension.children()
            oid = decode_oid(parts[0])
            if oid == _KEY_USAGE:
                usage = parse_one(parts[-1].content)
                key_usage = usage.content[1:] if usage.tag == 0x03 else b""
            if oid != _SAN:
                continue
            for name in sequence(parts[-1].content):
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
