"""The NSS backend's one error path: NSPR/NSS error codes into the TLSError tree."""

from __future__ import annotations

from tlsapi import CertificateError, CertificateErrorReason, RaggedEOF, TLSError, WantReadError

from ._lib import ffi, lib

__all__ = ["certificate_error", "error_text", "translate"]

R = CertificateErrorReason

# Validation failures by NSS error name (secerr.h, sslerr.h).
_REASONS = {
    "SEC_ERROR_EXPIRED_CERTIFICATE": R.EXPIRED,
    "SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE": R.EXPIRED,
    "SEC_ERROR_INVALID_TIME": R.EXPIRED,
    "SEC_ERROR_UNKNOWN_ISSUER": R.UNTRUSTED_ISSUER,
    "SEC_ERROR_UNTRUSTED_ISSUER": R.UNTRUSTED_ISSUER,
    "SEC_ERROR_UNTRUSTED_CERT": R.UNTRUSTED_ISSUER,
    "SEC_ERROR_CA_CERT_INVALID": R.UNTRUSTED_ISSUER,
    "SEC_ERROR_UNKNOWN_SIGNER": R.UNTRUSTED_ISSUER,
    "SEC_ERROR_PATH_LEN_CONSTRAINT_INVALID": R.UNTRUSTED_ISSUER,
    "SEC_ERROR_CERT_NOT_IN_NAME_SPACE": R.UNTRUSTED_ISSUER,
    "SSL_ERROR_BAD_CERT_DOMAIN": R.HOSTNAME_MISMATCH,
    "SEC_ERROR_REVOKED_CERTIFICATE": R.REVOKED,
    "SEC_ERROR_REVOKED_CERTIFICATE_CRL": R.REVOKED,
    "SEC_ERROR_REVOKED_CERTIFICATE_OCSP": R.REVOKED,
    "SEC_ERROR_REVOKED_KEY": R.REVOKED,
    "SEC_ERROR_INADEQUATE_KEY_USAGE": R.BAD_USAGE,
    "SEC_ERROR_INADEQUATE_CERT_TYPE": R.BAD_USAGE,
    "SEC_ERROR_CERT_USAGES_INVALID": R.BAD_USAGE,
    "SEC_ERROR_BAD_SIGNATURE": R.BAD_SIGNATURE,
    "SEC_ERROR_CERT_SIGNATURE_ALGORITHM_DISABLED": R.BAD_SIGNATURE,
}
_ISSUER_REASONS = (R.UNTRUSTED_ISSUER,)

# Alerts that mean "the peer did not accept our certificate": a TLSError, not a
# CertificateError (ours was judged, not theirs), with NSS's own words.
_EOF_CODES = {"PR_END_OF_FILE_ERROR", "PR_CONNECT_RESET_ERROR"}


def error_name(code: int) -> str:
    name = lib.PR_ErrorToName(code)
    return ffi.string(name).decode("ascii", "replace") if name != ffi.NULL else f"error {code}"


def error_text(code: int) -> str:
    """``NAME: text`` as NSS describes the error."""
    text = lib.PR_ErrorToString(code, lib.PR_LANGUAGE_I_DEFAULT)
    words = ffi.string(text).decode("utf-8", "replace") if text != ffi.NULL else ""
    name = error_name(code)
    return f"{name}: {words}" if words and words != name else name


def certificate_reason(code: int, *, leaf_self_signed: bool, leaf_not_yet_valid: bool) -> R:
    reason = _REASONS.get(error_name(code), R.OTHER)
    if reason is R.EXPIRED and leaf_not_yet_valid:
        return R.NOT_YET_VALID
    if reason in _ISSUER_REASONS and leaf_self_signed:
        return R.SELF_SIGNED
    return reason


def certificate_error(
    code: int, *, leaf_self_signed: bool = False, leaf_not_yet_valid: bool = False
) -> CertificateError:
    reason = certificate_reason(
        code, leaf_self_signed=leaf_self_signed, leaf_not_yet_valid=leaf_not_yet_valid
    )
    text = error_text(code)
    if reason is R.NOT_YET_VALID:
        text = f"the certificate is not valid yet ({text})"
    return CertificateError(f"certificate verification failed ({reason}): {text}", reason, text)


def translate(code: int, during: str) -> TLSError:
    """The tlsapi exception for an NSS error code seen ``during`` an operation."""
    if code == lib.PR_WOULD_BLOCK_ERROR:
        return WantReadError("more data from the peer is needed")
    name = error_name(code)
    if name in _EOF_CODES:
        return RaggedEOF(
            f"the peer closed the connection during the {during} without a TLS close_notify alert"
        )
    if name in _REASONS and not name.endswith("_ALERT"):
        # NSS judged the peer's certificate without our hook (should not happen).
        return certificate_error(code)
    return TLSError(f"TLS error from NSS during the {during}: {error_text(code)}")
