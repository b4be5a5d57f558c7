"""The stdlib backend's one error path: ssl exceptions into the tlsapi tree."""

from __future__ import annotations

import ssl

from .._errors import (
    CertificateError,
    CertificateErrorReason,
    RaggedEOF,
    TLSError,
    WantReadError,
    WantWriteError,
)

__all__ = ["translate"]

R = CertificateErrorReason

# OpenSSL's X509_V_ERR_* codes (x509_vfy.h) to the backend-neutral reasons.
_VERIFY_REASONS = {
    2: R.UNTRUSTED_ISSUER,  # unable to get issuer certificate
    4: R.BAD_SIGNATURE,  # unable to decrypt certificate signature
    6: R.BAD_SIGNATURE,  # unable to decode issuer public key
    7: R.BAD_SIGNATURE,  # certificate signature failure
    9: R.NOT_YET_VALID,
    10: R.EXPIRED,
    18: R.SELF_SIGNED,  # depth zero self-signed
    19: R.UNTRUSTED_ISSUER,  # self-signed certificate in chain (root not trusted)
    20: R.UNTRUSTED_ISSUER,  # unable to get local issuer certificate
    21: R.UNTRUSTED_ISSUER,  # unable to verify the first certificate
    23: R.REVOKED,
    24: R.BAD_USAGE,  # invalid CA certificate (not a CA)
    26: R.BAD_USAGE,  # unsupported certificate purpose
    28: R.BAD_USAGE,  # certificate rejected
    32: R.BAD_USAGE,  # key usage does not include certificate signing
    62: R.HOSTNAME_MISMATCH,
    64: R.HOSTNAME_MISMATCH,  # IP address mismatch
    66: R.WEAK_KEY,  # EE certificate key too weak (security level)
    67: R.WEAK_KEY,  # CA certificate key too weak
}


def translate(exc: ssl.SSLError) -> TLSError:
    """The tlsapi exception for an ssl exception (to be raised ``from exc``)."""
    if isinstance(exc, TLSError):
        return exc
    if isinstance(exc, ssl.SSLWantReadError):
        return WantReadError("more data from the peer is needed")
    if isinstance(exc, ssl.SSLWantWriteError):
        return WantWriteError("outgoing data must be sent first")
    if isinstance(exc, ssl.SSLEOFError):
        return RaggedEOF("the peer closed the connection without a TLS close_notify alert")
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code or 0
        reason = _VERIFY_REASONS.get(code, R.OTHER)
        text = exc.verify_message or str(exc)
        error = CertificateError(
            f"certificate verification failed ({reason}): {text}", reason, text
        )
        error.verify_code = code
        return error
    # strerror already reads "[SSL: REASON] text (_ssl.c:NNN)".
    message = getattr(exc, "strerror", None) or str(exc)
    return TLSError(f"TLS error from OpenSSL: {message}")
