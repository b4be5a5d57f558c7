"""The DER reader and writer every part of tlsapi shares (certificates, keys, the CLI).

Small on purpose: it reads one element at a time within bounds it checked (a
length never points past its parent, at most 4 length octets, no indefinite
lengths, no multi-byte tags), in time linear in the input, and raises
:class:`DERError` for anything else, never IndexError.  Two forms: offsets
into one buffer (``read_element``/``children``, no copies, for the policy
checks that run on every peer chain) and :class:`DERElement` objects holding
their bytes (``parse_der``, for code that picks keys and certificates apart).
Backends reach it through ``tlsapi.backend_api``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "BIT_STRING",
    "BOOLEAN",
    "INTEGER",
    "OCTET_STRING",
    "OID",
    "SEQUENCE",
    "DERElement",
    "DERError",
    "Element",
    "children",
    "decode_oid",
    "der_sequence",
    "encode_integer",
    "encode_oid",
    "encode_tlv",
    "oid_text",
    "parse_der",
    "parse_der_one",
    "read_element",
]

SEQUENCE, INTEGER, BIT_STRING, OCTET_STRING, OID, BOOLEAN = 0x30, 0x02, 0x03, 0x04, 0x06, 0x01
_MAX_OID_LENGTH = 64  # the longest OID in a certificate is far shorter


class DERError(ValueError):
    """The bytes are not the DER this module expects."""


Element = tuple[int, int, int]  # (tag, start of content, end of content)


def read_element(data: bytes, offset: int, end: int | None = None) -> Element:
    """The DER element at ``offset``, which must end by ``end`` (default: len(data))."""
    limit = len(data) if end is None else end
    if offset < 0 or offset + 2 > limit:
        raise DERError("truncated element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DERError("multi-byte tags are not used in certificates")
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0:
            raise DERError("indefinite length (BER, not DER)")
        if count > 4 or start + count > limit:
            raise DERError("bad length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    stop = start + length
    if stop > limit:
        raise DERError("element longer than its container")
    return tag, start, stop


def children(data: bytes, element: Element) -> list[Element]:
    """The elements inside a constructed ``element``, in order."""
    _, offset, end = element
    items = []
    while offset < end:
        item = read_element(data, offset, end)
        items.append(item)
        offset = item[2]
    return items


def oid_text(content: bytes) -> str:
    """An OBJECT IDENTIFIER's content octets in dotted form."""
    if not content or len(content) > _MAX_OID_LENGTH or content[-1] & 0x80:
        raise DERError("malformed OBJECT IDENTIFIER")
    first = content[0]
    top = min(first // 40, 2) if first < 0x80 else 2
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    arcs[0:1] = [top, arcs[0] - 40 * top]
    return ".".join(map(str, arcs))


class DERElement(NamedTuple):
    """One element with its bytes: ``content`` inside, ``encoded`` the whole TLV."""

    tag: int
    content: bytes
    encoded: bytes

    def children(self) -> list[DERElement]:
        """The elements inside (of a constructed element)."""
        return parse_der(self.content)

    def integer(self) -> int:
        if self.tag != INTEGER or not self.content:
            raise DERError("expected an INTEGER")
        return int.from_bytes(self.content, "big", signed=True)


def _element_at(data: bytes, offset: int) -> tuple[DERElement, int]:
    tag, start, end = read_element(data, offset)
    return DERElement(tag, data[start:end], data[offset:end]), end


def parse_der(data: bytes) -> list[DERElement]:
    """The elements laid end to end in ``data``."""
    elements = []
    offset = 0
    while offset < len(data):
        element, offset = _element_at(data, offset)
        elements.append(element)
    return elements


def parse_der_one(data: bytes) -> DERElement:
    """``data`` as exactly one element."""
    element, end = _element_at(data, 0)
    if end != len(data):
        raise DERError("trailing bytes after the DER element")
    return element


def der_sequence(data: bytes) -> list[DERElement]:
    """The children of the SEQUENCE that ``data`` is."""
    element = parse_der_one(data)
    if element.tag != SEQUENCE:
        raise DERError("expected a SEQUENCE")
    return element.children()


def decode_oid(element: DERElement) -> str:
    """An OBJECT IDENTIFIER element in dotted form."""
    if element.tag != OID:
        raise DERError("expected an OBJECT IDENTIFIER")
    return oid_text(element.content)


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
    return encode_tlv(OID, bytes(body))


def encode_integer(value: int) -> bytes:
    size = value.bit_length() // 8 + 1
    return encode_tlv(INTEGER, value.to_bytes(size, "big", signed=True))
