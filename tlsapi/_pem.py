"""Just enough PEM and DER to tell formats apart and fail early with a clear message.

The backends parse the certificates and keys for real; this module only
splits PEM armour, decodes base64 and checks that DER starts with a
well-formed SEQUENCE, so that garbage is refused when the object is made.
"""

from __future__ import annotations

import base64
import binascii
import re

from ._errors import ConfigurationError

__all__ = ["PemBlock", "check_der_sequence", "looks_like_pem", "parse_pem"]

_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----",
    re.DOTALL,
)


class PemBlock:
    """One PEM block: its label, headers (RFC 1421 style) and DER body."""

    __slots__ = ("der", "headers", "label")

    def __init__(self, label: str, headers: dict[str, str], der: bytes) -> None:
        self.label = label
        self.headers = headers
        self.der = der


def looks_like_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data


def parse_pem(data: bytes, what: str) -> list[PemBlock]:
    """Every PEM block in ``data``; ConfigurationError when there is none or one is broken."""
    blocks: list[PemBlock] = []
    for match in _BLOCK.finditer(data):
        label = match.group(1).decode("ascii")
        body = match.group(2)
        headers: dict[str, str] = {}
        if b":" in body.split(b"\n\n", 1)[0] and b"\n\n" in body.replace(b"\r\n", b"\n"):
            head, body = body.replace(b"\r\n", b"\n").split(b"\n\n", 1)
            for line in head.splitlines():
                key, _, value = line.decode("ascii", "replace").partition(":")
                headers[key.strip()] = value.strip()
        try:
            der = base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigurationError(
                f"{what}: the PEM block '{label}' has invalid base64 ({exc})"
            ) from None
        if not der:
            raise ConfigurationError(f"{what}: the PEM block '{label}' is empty")
        blocks.append(PemBlock(label, headers, der))
    if not blocks:
        if b"-----BEGIN " in data:
            raise ConfigurationError(
                f"{what}: a PEM block starts but never ends properly (no matching END line)"
            )
        raise ConfigurationError(f"{what}: no PEM block found")
    return blocks


def _der_length(data: bytes, offset: int) -> tuple[int, int]:
    """Decode a DER length at ``offset``; return (length, offset of the content)."""
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0 or count > 4 or offset + 1 + count > len(data):
        raise ValueError("bad length")
    return int.from_bytes(data[offset + 1 : offset + 1 + count], "big"), offset + 1 + count


def check_der_sequence(data: bytes, what: str) -> None:
    """Raise ConfigurationError unless ``data`` is exactly one DER SEQUENCE."""
    try:
        if len(data) < 2 or data[0] != 0x30:
            raise ValueError("not a SEQUENCE")
        length, start = _der_length(data, 1)
        if start + length != len(data):
            raise ValueError("length mismatch")
    except (ValueError, IndexError):
        raise ConfigurationError(
            f"{what}: not PEM, and not valid DER either (expected one ASN.1 SEQUENCE)"
        ) from None


def der_sequence_tags(data: bytes) -> list[int]:
    """The tags of the elements inside one DER SEQUENCE (ValueError if malformed)."""
    try:
        length, offset = _der_length(data, 1)
        end = offset + length
        tags = []
        while offset < end:
            tags.append(data[offset])
            item_length, content = _der_length(data, offset + 1)
            offset = content + item_length
    except IndexError:
        raise ValueError("truncated DER") from None
    if offset != end:
        raise ValueError("DER element overruns its SEQUENCE")
    return tags


def split_der_sequences(data: bytes, what: str) -> list[bytes]:
    """Split concatenated DER SEQUENCEs (a DER trust bundle)."""
    items: list[bytes] = []
    offset = 0
    while offset < len(data):
        try:
            if data[offset] != 0x30:
                raise ValueError
            length, start = _der_length(data, offset + 1)
        except (ValueError, IndexError):
            raise ConfigurationError(
                f"{what}: not PEM, and not valid DER either (expected ASN.1 SEQUENCEs)"
            ) from None
        end = start + length
        if end > len(data):
            raise ConfigurationError(f"{what}: DER data is truncated")
        items.append(bytes(data[offset:end]))
        offset = end
    if not items:
        raise ConfigurationError(f"{what}: empty")
    return items


def der_to_pem(der: bytes, label: str) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        f"-----BEGIN {label}-----\n".encode()
        + b"\n".join(lines)
        + f"\n-----END {label}-----\n".encode()
    )
