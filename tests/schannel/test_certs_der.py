"""tlsapi_schannel._der on hostile bytes: a peer's certificate reaches it before crypt32 does."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlsapi.testing import PKI
from tlsapi.testing.pki import KeyType

if sys.platform != "win32":
    pytest.skip("SChannel runs on Windows (and under Wine)", allow_module_level=True)

import contextlib

from tlsapi_schannel._der import DERError, certificate_fields

_LEAF = PKI(KeyType.RSA_2048, name="tlsapi schannel der").issue(
    names=("a.test", "b.test"), ips=("127.0.0.1", "::1")
)


def test_reads_names_and_key() -> None:
    fields = certificate_fields(_LEAF.cert_der)
    assert fields.dns_names == ("a.test", "b.test")
    assert fields.ip_addresses == (bytes([127, 0, 0, 1]), bytes(15) + b"\x01")
    assert fields.public_key_algorithm == "1.2.840.113549.1.1.1"
    assert fields.key_usage is not None and fields.key_usage[0] & 0x80  # digitalSignature
    assert not fields.self_issued


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_garbage_is_a_der_error(data: bytes) -> None:
    with contextlib.suppress(DERError):
        certificate_fields(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=len(_LEAF.cert_der) - 1), st.integers(0, 255))
def test_one_byte_changed_is_a_der_error_or_read(position: int, value: int) -> None:
    data = bytearray(_LEAF.cert_der)
    data[position] = value
    with contextlib.suppress(DERError):
        certificate_fields(bytes(data))


@pytest.mark.parametrize("cut", [1, 2, 10, 100, 300])
def test_truncated(cut: int) -> None:
    with pytest.raises(DERError):
        certificate_fields(_LEAF.cert_der[:-cut])
