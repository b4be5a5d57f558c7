"""The one error path: a SECURITY_STATUS from SSPI turned into the TLSError tree.

Every message names the status (``SEC_E_ILLEGAL_MESSAGE (0x80090326)``) and
says what it means: Windows' own text from FormatMessageW when the system
has one, else ours (Wine's message tables hold none of the SEC_E_ codes).
"""

from __future__ import annotations

from tlsapi import CertificateError, CertificateErrorReason, TLSError

from ._binding import ffi, lib

__all__ = ["failure", "status_name", "status_text"]

# The statuses we name, with what they mean (our words, for systems without the text).
_TEXTS: dict[str, str] = {
    "SEC_E_OK": "success",
    "SEC_I_CONTINUE_NEEDED": "the handshake needs another round trip",
    "SEC_I_CONTEXT_EXPIRED": "the peer closed the connection (close_notify)",
    "SEC_I_INCOMPLETE_CREDENTIALS": "the server asked for a client certificate",
    "SEC_I_RENEGOTIATE": "the peer sent a handshake message after the handshake",
    "SEC_E_INSUFFICIENT_MEMORY": "not enough memory",
    "SEC_E_INVALID_HANDLE": "the credential or context handle is not valid",
    "SEC_E_UNSUPPORTED_FUNCTION": "this SChannel does not support the requested operation",
    "SEC_E_TARGET_UNKNOWN": "the target is unknown",
    "SEC_E_INTERNAL_ERROR": "SChannel failed internally (or received a fatal alert)",
    "SEC_E_SECPKG_NOT_FOUND": "the security package is not installed",
    "SEC_E_INVALID_TOKEN": "the data received is not a valid TLS message",
    "SEC_E_LOGON_DENIED": "the logon was denied",
    "SEC_E_UNKNOWN_CREDENTIALS": "the credentials supplied cannot be used",
    "SEC_E_NO_CREDENTIALS": "no credentials are available (a server needs a certificate and key)",
    "SEC_E_MESSAGE_ALTERED": "a record failed its integrity check (altered or forged data)",
    "SEC_E_OUT_OF_SEQUENCE": "a message arrived out of sequence",
    "SEC_E_NO_AUTHENTICATING_AUTHORITY": "no protocol version or algorithm could be agreed on",
    "SEC_E_CONTEXT_EXPIRED": "the connection was already closed",
    "SEC_E_INCOMPLETE_MESSAGE": "the message is incomplete",
    "SEC_E_INCOMPLETE_CREDENTIALS": "the credentials are incomplete",
    "SEC_E_BUFFER_TOO_SMALL": "a buffer is too small",
    "SEC_E_WRONG_PRINCIPAL": "the certificate does not match the server name",
    "SEC_E_TIME_SKEW": "the clocks differ too much",
    "SEC_E_UNTRUSTED_ROOT": "the certificate chain ends in an untrusted root",
    "SEC_E_ILLEGAL_MESSAGE": "the peer sent a message that is not allowed, or a fatal alert",
    "SEC_E_CERT_UNKNOWN": "a certificate could not be processed",
    "SEC_E_CERT_EXPIRED": "a certificate has expired",
    "SEC_E_ENCRYPT_FAILURE": "encryption failed",
    "SEC_E_DECRYPT_FAILURE": "decryption failed (a corrupt record)",
    "SEC_E_ALGORITHM_MISMATCH": "the client and server have no cipher suite or version in common",
    "SEC_E_UNFINISHED_CONTEXT_DELETED": "the handshake was not finished",
    "SEC_E_CRYPTO_SYSTEM_INVALID": "the cryptographic system or checksum is not valid",
    "SEC_E_STRONG_CRYPTO_NOT_SUPPORTED": "strong cryptography is not supported",
    "SEC_E_SHUTDOWN_IN_PROGRESS": "the connection is shutting down",
    "SEC_E_CERT_WRONG_USAGE": "a certificate is not valid for the requested usage",
    "SEC_E_DOWNGRADE_DETECTED": "a protocol downgrade was detected",
    "SEC_E_ISSUING_CA_UNTRUSTED": "the issuing certificate authority is not trusted",
    "SEC_E_INVALID_PARAMETER": "a parameter is not valid",
    "SEC_E_NO_CONTEXT": "no security context exists",
    "SEC_E_MUTUAL_AUTH_FAILED": "mutual authentication failed",
    "SEC_E_APPLICATION_PROTOCOL_MISMATCH": "no application protocol (ALPN) in common",
    "SEC_E_INSUFFICIENT_BUFFERS": "not enough buffers were supplied",
}
_NAMES: dict[int, str] = {int(getattr(lib, name)): name for name in _TEXTS}

_CERTIFICATE_REASONS = {
    "SEC_E_UNTRUSTED_ROOT": CertificateErrorReason.UNTRUSTED_ISSUER,
    "SEC_E_ISSUING_CA_UNTRUSTED": CertificateErrorReason.UNTRUSTED_ISSUER,
    "SEC_E_CERT_EXPIRED": CertificateErrorReason.EXPIRED,
    "SEC_E_WRONG_PRINCIPAL": CertificateErrorReason.HOSTNAME_MISMATCH,
    "SEC_E_CERT_WRONG_USAGE": CertificateErrorReason.BAD_USAGE,
    "SEC_E_CERT_UNKNOWN": CertificateErrorReason.OTHER,
}


def status_name(status: int) -> str:
    """``SEC_E_ILLEGAL_MESSAGE (0x80090326)``, or the number alone for one we do not know."""
    code = f"0x{status & 0xFFFFFFFF:08X}"
    name = _NAMES.get(status)
    return f"{name} ({code})" if name else code


def _system_text(status: int) -> str:
    buffer = ffi.new("WCHAR[512]")
    flags = lib.FORMAT_MESSAGE_FROM_SYSTEM | lib.FORMAT_MESSAGE_IGNORE_INSERTS
    count = lib.FormatMessageW(flags, ffi.NULL, status & 0xFFFFFFFF, 0, buffer, 512, ffi.NULL)
    return str(ffi.string(buffer, count)).strip().rstrip(".") if count else ""


def status_text(status: int) -> str:
    """What ``status`` means: Windows' text when it has one, else ours."""
    name = _NAMES.get(status)
    return _system_text(status) or (_TEXTS[name] if name else "unknown status")


def failure(status: int, during: str) -> TLSError:
    """The TLSError for ``status`` returned by SSPI during ``during`` (e.g. "handshake")."""
    message = f"SChannel {during} failed: {status_name(status)}: {status_text(status)}"
    reason = _CERTIFICATE_REASONS.get(_NAMES.get(status, ""))
    if reason is not None:
        return CertificateError(
            f"certificate verify failed ({reason}): {message}", reason, status_text(status)
        )
    return TLSError(message)
