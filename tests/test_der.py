"""The core's DER reader and writer (tlsapi._der), which the policy, the CLI and backends share."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tlsapi.backend_api import (
    DERError,
    decode_oid,
    der_sequence,
    encode_integer,
    encode_oid,
    encode_tlv,
    parse_der,
    parse_der_one,
)


@pytest.mark.parametrize(
    "oid", ["1.2.840.113549.1.1.1", "1.2.840.10045.3.1.7", "2.5.29.17", "1.3.101.112", "2.999.3"]
)
def test_oids_round_trip(oid: str) -> None:
    assert decode_oid(parse_der_one(encode_oid(oid))) == oid


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 256, -1, -129, 2**2048 - 1])
def test_integers_round_trip(value: int) -> None:
    assert parse_der_one(encode_integer(value)).integer() == value


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 65536])
def test_long_forms_of_length(size: int) -> None:
    content = bytes(size)
    element = parse_der_one(encode_tlv(0x04, content))
    assert (element.tag, element.content) == (0x04, content)


def test_a_sequence_and_its_children() -> None:
    inner = encode_integer(5) + encode_oid("2.5.29.15")
    outer = encode_tlv(0x30, inner)
    first, second = der_sequence(outer)
    assert first.integer() == 5
    assert decode_oid(second) == "2.5.29.15"
    assert first.encoded + second.encoded == inner
    assert [e.tag for e in parse_der(inner)] == [0x02, 0x06]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x30", "truncated"),
        (b"\x30\x80\x00\x00", "indefinite"),
        (b"\x30\x85\x00\x00\x00\x00\x01\x00", "bad length"),
        (b"\x30\x05\x02\x01", "longer than its container"),
        (b"\x1f\x01\x00", "multi-byte tags"),
        (b"\x02\x01\x00\x00", "trailing bytes"),
    ],
)
def test_malformed_input_is_a_der_error(data: bytes, message: str) -> None:
    with pytest.raises(DERError, match=message):
        parse_der_one(data)


def test_wrong_types_are_der_errors() -> None:
    with pytest.raises(DERError, match="expected a SEQUENCE"):
        der_sequence(encode_integer(1))
    with pytest.raises(DERError, match="OBJECT IDENTIFIER"):
        decode_oid(parse_der_one(encode_integer(1)))
    with pytest.raises(DERError, match="malformed OBJECT IDENTIFIER"):
        decode_oid(parse_der_one(b"\x06\x01\x81"))  # the last octet says "more follows"
    with pytest.raises(DERError, match="INTEGER"):
        parse_der_one(encode_tlv(0x02, b"")).integer()


@given(st.binary(max_size=64))
def test_arbitrary_bytes_parse_or_raise_der_error(data: bytes) -> None:
    try:
        for element in parse_der(data):
            if element.tag & 0x20:  # constructed: its children too
                element.children()
    except DERError:
        pass
