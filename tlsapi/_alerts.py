"""Which TLS alert a peer whose certificate we refused should receive.

Backends that send the alert themselves (SChannel and Secure Transport, where
tlsapi validates after the library has accepted the certificate) choose it by
tlsapi's reason, so every backend answers the same refusal the same way.
"""

from __future__ import annotations

from ._errors import CertificateErrorReason

__all__ = ["certificate_alert"]

_BAD_CERTIFICATE = 42  # RFC 5246 section 7.2.2 / RFC 8446 section 6.2
_ALERT_FOR_REASON = {
    CertificateErrorReason.EXPIRED: 45,  # certificate_expired
    CertificateErrorReason.NOT_YET_VALID: 45,
    CertificateErrorReason.REVOKED: 44,  # certificate_revoked
    CertificateErrorReason.UNTRUSTED_ISSUER: 48,  # unknown_ca
    CertificateErrorReason.SELF_SIGNED: 48,
    CertificateErrorReason.BAD_USAGE: 43,  # unsupported_certificate
}


def certificate_alert(reason: CertificateErrorReason | None) -> int:
    """The alert description for a certificate refused with ``reason`` (bad_certificate by default)."""
    if reason is None:
        return _BAD_CERTIFICATE
    return _ALERT_FOR_REASON.get(reason, _BAD_CERTIFICATE)
