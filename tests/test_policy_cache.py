"""The verification policy's verdict cache (tlsapi/_policy.py, check_peer_chain).

A client meets the same chain again and again, so the verdict on a chain is
kept; what must not change: every call gets a fresh error naming its own
peer, an unreadable chain is refused every time, and a peer's huge chain is
never kept.
"""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tlsapi import CertificateErrorReason
from tlsapi._policy import _cached_finding
from tlsapi.backend_api import check_peer_chain


def _self_signed(curve: ec.EllipticCurve, name: str) -> bytes:
    key = ec.generate_private_key(curve)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def weak_leaf() -> bytes:
    return _self_signed(ec.SECP224R1(), "weak.test")


@pytest.fixture(scope="module")
def good_leaf() -> bytes:
    return _self_signed(ec.SECP256R1(), "good.test")


def test_each_call_gets_its_own_error(weak_leaf: bytes) -> None:
    first = check_peer_chain([weak_leaf], "server's")
    second = check_peer_chain([weak_leaf], "client's")
    assert first is not None and second is not None and first is not second
    assert first.reason is CertificateErrorReason.WEAK_KEY
    assert "the server's end-entity certificate" in str(first)
    assert "the client's end-entity certificate" in str(second)


def test_a_chain_checked_again_is_not_read_again(good_leaf: bytes) -> None:
    assert check_peer_chain([good_leaf], "server's") is None
    hits = _cached_finding.cache_info().hits
    assert check_peer_chain([bytearray(good_leaf)], "server's") is None  # same bytes, other type
    assert _cached_finding.cache_info().hits == hits + 1


def test_an_unreadable_chain_is_refused_every_time() -> None:
    for whose in ("server's", "server's", "client's"):
        error = check_peer_chain([b"\x30\x03\x02\x01"], whose)
        assert error is not None and error.reason is CertificateErrorReason.OTHER
        assert f"the {whose} end-entity certificate" in str(error)
        assert error.__traceback__ is None  # made fresh, never raised before


def test_a_huge_chain_is_not_kept(good_leaf: bytes, weak_leaf: bytes) -> None:
    """Certificates beyond the path (not issuers of the leaf) pad the chain past the bound."""
    padding = [weak_leaf] * (40_000 // len(weak_leaf) + 1)
    before = _cached_finding.cache_info()
    assert check_peer_chain([good_leaf, *padding], "server's") is None
    after = _cached_finding.cache_info()
    assert (after.hits, after.misses) == (before.hits, before.misses)
