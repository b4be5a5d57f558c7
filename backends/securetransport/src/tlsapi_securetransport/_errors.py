"""One error path: Secure Transport's and the Security framework's OSStatus to the TLSError tree.

The codes come from the compiled module (the cdefs, checked against the
headers by the compiler and against Debian's declarations by the tests), not
from numbers written here.
"""

from __future__ import annotations

import functools

from tlsapi import CertificateError, CertificateErrorReason, RaggedEOF, TLSError

from ._binding import ffi, lib

__all__ = [
    "certificate_reason",
    "describe",
    "failure",
]


def describe(status: int) -> str:
    """``errSSLProtocol (-9800): <the framework's message>``."""
    name = _names().get(status, "OSStatus")
    message = ""
    text = lib.SecCopyErrorMessageString(status, ffi.NULL)
    if text != ffi.NULL:
        from ._cf import owned, string_text

        message = string_text(owned(text, "SecCopyErrorMessageString"))
    return f"{name} ({status}){': ' + message if message else ''}"


@functools.lru_cache(maxsize=1)
def _names() -> dict[int, str]:
    names: dict[int, str] = {}
    for name in dir(lib):
        if name.startswith(("errSSL", "errSec")):
            value = getattr(lib, name)
            if isinstance(value, int):
                names.setdefault(value, name)
    return names


def failure(status: int, operation: str) -> TLSError:
    """The TLSError for a status Secure Transport returned from ``operation``."""
    if status in (lib.errSSLClosedAbort, lib.errSSLClosedNoNotify):
        return RaggedEOF(
            f"the peer closed the connection without a TLS close_notify during the {operation} "
            f"({describe(status)})"
        )
    if status in _certificate_statuses():
        return CertificateError(
            f"Secure Transport refused the peer's certificate during the {operation}",
            certificate_reason(status),
            describe(status),
        )
    return TLSError(f"Secure Transport {operation} failed: {describe(status)}")


@functools.lru_cache(maxsize=1)
def _certificate_statuses() -> frozenset[int]:
    return frozenset(
        {
            lib.errSSLXCertChainInvalid,
            lib.errSSLBadCert,
            lib.errSSLUnknownRootCert,
            lib.errSSLNoRootCert,
            lib.errSSLCertExpired,
            lib.errSSLCertNotYetValid,
            lib.errSSLHostNameMismatch,
        }
    )


def certificate_reason(code: int) -> CertificateErrorReason:
    """The backend-neutral reason for a trust evaluation's CFError code (an OSStatus)."""
    reasons = {
        lib.errSecCertificateExpired: CertificateErrorReason.EXPIRED,
        lib.errSSLCertExpired: CertificateErrorReason.EXPIRED,
        lib.errSecCertificateNotValidYet: CertificateErrorReason.NOT_YET_VALID,
        lib.errSSLCertNotYetValid: CertificateErrorReason.NOT_YET_VALID,
        lib.errSecHostNameMismatch: CertificateErrorReason.HOSTNAME_MISMATCH,
        lib.errSSLHostNameMismatch: CertificateErrorReason.HOSTNAME_MISMATCH,
        lib.errSecCertificateRevoked: CertificateErrorReason.REVOKED,
        lib.errSecInvalidExtendedKeyUsage: CertificateErrorReason.BAD_USAGE,
        lib.errSecInvalidKeyUsageForPolicy: CertificateErrorReason.BAD_USAGE,
        lib.errSecNotTrusted: CertificateErrorReason.UNTRUSTED_ISSUER,
        lib.errSecCreateChainFailed: CertificateErrorReason.UNTRUSTED_ISSUER,
        lib.errSSLUnknownRootCert: CertificateErrorReason.UNTRUSTED_ISSUER,
        lib.errSSLNoRootCert: CertificateErrorReason.UNTRUSTED_ISSUER,
        lib.errSecTrustSettingDeny: CertificateErrorReason.UNTRUSTED_ISSUER,
    }
    return reasons.get(code, CertificateErrorReason.OTHER)
