"""GnuTLS verification status bits to CertificateError.reason, with GnuTLS's own words."""

from __future__ import annotations

import datetime

import pytest
from tlsapi_gnutls._binding import lib
from tlsapi_gnutls._errors import reason_for_status, status_text
from tlsapi_gnutls._verify import verify_server_chain

import tlsapi
from tlsapi import CertificateError
from tlsapi import CertificateErrorReason as R
from tlsapi.testing import PKI, handshake_outcome

DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.mark.parametrize(
    ("bits", "reason"),
    [
        ("GNUTLS_CERT_EXPIRED", R.EXPIRED),
        ("GNUTLS_CERT_NOT_ACTIVATED", R.NOT_YET_VALID),
        ("GNUTLS_CERT_UNEXPECTED_OWNER", R.HOSTNAME_MISMATCH),
        ("GNUTLS_CERT_SIGNER_NOT_FOUND", R.UNTRUSTED_ISSUER),
        ("GNUTLS_CERT_SIGNER_NOT_CA", R.UNTRUSTED_ISSUER),
        ("GNUTLS_CERT_REVOKED", R.REVOKED),
        ("GNUTLS_CERT_PURPOSE_MISMATCH", R.BAD_USAGE),
        ("GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE", R.BAD_USAGE),
        ("GNUTLS_CERT_SIGNATURE_FAILURE", R.BAD_SIGNATURE),
        ("GNUTLS_CERT_INSECURE_ALGORITHM", R.BAD_SIGNATURE),
        ("GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS", R.OTHER),
    ],
)
def test_each_status_bit(bits: str, reason: R) -> None:
    status = getattr(lib, bits) | lib.GNUTLS_CERT_INVALID
    assert reason_for_status(status, None) is reason


@pytest.mark.parametrize(
    ("bits", "reason"),
    [
        # OpenSSL's order: chain building, purpose, name, revocation, signature, time.
        (("GNUTLS_CERT_SIGNER_NOT_FOUND", "GNUTLS_CERT_EXPIRED"), R.UNTRUSTED_ISSUER),
        (("GNUTLS_CERT_PURPOSE_MISMATCH", "GNUTLS_CERT_UNEXPECTED_OWNER"), R.BAD_USAGE),
        (("GNUTLS_CERT_UNEXPECTED_OWNER", "GNUTLS_CERT_EXPIRED"), R.HOSTNAME_MISMATCH),
        (("GNUTLS_CERT_SIGNATURE_FAILURE", "GNUTLS_CERT_NOT_ACTIVATED"), R.BAD_SIGNATURE),
    ],
)
def test_several_bits_give_the_first_problem_openssl_would_meet(
    bits: tuple[str, ...], reason: R
) -> None:
    status = lib.GNUTLS_CERT_INVALID
    for bit in bits:
        status |= getattr(lib, bit)
    assert reason_for_status(status, None) is reason


def test_status_text_is_gnutls_own() -> None:
    text = status_text(lib.GNUTLS_CERT_INVALID | lib.GNUTLS_CERT_EXPIRED)
    assert "The certificate chain uses expired certificate" in text


def _verify(pki: PKI, leaf_pem: bytes, name: str = "localhost", anchors: bytes | None = None):  # type: ignore[no-untyped-def]
    return verify_server_chain(anchors or pki.root_pem, leaf_pem, name)


def test_real_verifications_give_the_right_reason(pki: PKI, other_pki: PKI) -> None:
    good = pki.issue()
    assert _verify(pki, good.chain_pem).accepted
    cases = {
        R.EXPIRED: _verify(
            pki, pki.issue(not_before=_now() - 9 * DAY, not_after=_now() - DAY).chain_pem
        ),
        R.NOT_YET_VALID: _verify(
            pki, pki.issue(not_before=_now() + DAY, not_after=_now() + 9 * DAY).chain_pem
        ),
        R.HOSTNAME_MISMATCH: _verify(pki, good.chain_pem, "example.org"),
        R.BAD_USAGE: _verify(pki, pki.issue(eku=("client",)).chain_pem),
        R.UNTRUSTED_ISSUER: _verify(pki, other_pki.issue().chain_pem),
    }
    for reason, verdict in cases.items():
        assert not verdict.accepted, reason
        assert reason_for_status(verdict.status, None) is reason, verdict.text


def test_self_signed_leaf_is_told_apart_from_an_unknown_issuer(
    pki: PKI, gnutls: tlsapi.Backend
) -> None:
    alone = pki.issue(issuer="self")
    server = tlsapi.backend("stdlib").server_context(pki.server_config(leaf=alone))
    client = gnutls.client_context(pki.client_config())
    outcome = handshake_outcome(client.wrap_buffers("localhost"), server.wrap_buffers())
    error = outcome[0]
    assert isinstance(error, CertificateError), error
    assert error.reason is R.SELF_SIGNED
    assert "The certificate issuer is unknown" in error.library_message
    assert error.library_message in str(error)


def test_an_ip_address_in_a_dns_name_does_not_match(pki: PKI) -> None:
    # GnuTLS (since 3.6) matches an address only against iPAddress names.
    dns_only = pki.issue(names=("127.0.0.1",), ips=())
    verdict = _verify(pki, dns_only.chain_pem, "127.0.0.1")
    assert reason_for_status(verdict.status, None) is R.HOSTNAME_MISMATCH
    ip_only = pki.issue(names=(), ips=("127.0.0.1", "::1"))
    assert _verify(pki, ip_only.chain_pem, "127.0.0.1").accepted
    assert _verify(pki, ip_only.chain_pem, "::1").accepted
    assert not _verify(pki, ip_only.chain_pem, "127.0.0.2").accepted


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_ip_address_through_a_handshake(pki: PKI, gnutls: tlsapi.Backend, address: str) -> None:
    """The client passes the address as GNUTLS_DT_IP_ADDRESS (raw bytes), not as a name."""
    stdlib = tlsapi.backend("stdlib")
    ip_only = pki.issue(names=(), ips=(address,))
    other = pki.issue(names=(), ips=("10.0.0.1",))
    for leaf, ok in ((ip_only, True), (other, False)):
        client = gnutls.client_context(pki.client_config()).wrap_buffers(address)
        server = stdlib.server_context(pki.server_config(leaf=leaf)).wrap_buffers()
        client_error, _ = handshake_outcome(client, server)
        if ok:
            assert client_error is None
        else:
            assert isinstance(client_error, CertificateError)
            assert client_error.reason is R.HOSTNAME_MISMATCH
