"""The tlsapi exception tree.

Every class also subclasses the matching exception of the standard library's
``ssl`` module, so code written for ``ssl`` (trio, anyio, asyncio, httpx,
urllib3) keeps catching what it expects.
"""

from __future__ import annotations

import enum
import ssl

__all__ = [
    "CertificateError",
    "CertificateErrorReason",
    "ConfigurationError",
    "InsecureConfigurationWarning",
    "NotTLSError",
    "RaggedEOF",
    "TLSError",
    "WantReadError",
    "WantWriteError",
]


class TLSError(ssl.SSLError):
    """Base class of every error raised by tlsapi and its backends."""

    def __init__(self, message: str = "", *args: object) -> None:
        super().__init__(message, *args)
        self.message = message

    def __str__(self) -> str:
        # ssl.SSLError's own __str__ prints the args tuple when no errno is set.
        return self.message


class WantReadError(TLSError, ssl.SSLWantReadError):
    """More bytes from the network are needed; retry the same call afterwards."""


class WantWriteError(TLSError, ssl.SSLWantWriteError):
    """Outgoing bytes must be sent first; retry the same call afterwards."""


class RaggedEOF(TLSError, ssl.SSLEOFError):
    """The transport closed without a TLS close_notify alert (possible truncation)."""


class NotTLSError(TLSError):
    """The peer answered with something that is not TLS (an HTTP server, an SSH banner).

    Raised by every backend for the same first bytes; the message quotes them.
    """


class CertificateErrorReason(str, enum.Enum):
    """Backend-neutral reason why a peer's certificate was rejected."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    HOSTNAME_MISMATCH = "hostname-mismatch"
    UNTRUSTED_ISSUER = "untrusted-issuer"
    SELF_SIGNED = "self-signed"
    REVOKED = "revoked"
    BAD_USAGE = "bad-usage"
    BAD_SIGNATURE = "bad-signature"
    WEAK_KEY = "weak-key"  # RSA < 2048 bits or an elliptic curve < 256 bits (tlsapi._policy)
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


class CertificateError(TLSError, ssl.SSLCertVerificationError):
    """The peer's certificate chain failed validation.

    ``reason`` is a :class:`CertificateErrorReason`; ``library_message`` is the
    backend library's own text (also available as ``verify_message``, as on
    ``ssl.SSLCertVerificationError``).
    """

    reason: CertificateErrorReason  # narrower than ssl.SSLError's str, for type checkers

    def __init__(
        self,
        message: str,
        reason: CertificateErrorReason = CertificateErrorReason.OTHER,
        library_message: str = "",
    ) -> None:
        super().__init__(message)
        self.reason = reason  # a str enum, like ssl.SSLError.reason
        self.library_message = library_message
        self.verify_message = library_message or message
        self.verify_code = 0


class ConfigurationError(TLSError, ValueError):
    """A configuration or credential cannot be used (raised before any handshake)."""


class InsecureConfigurationWarning(UserWarning):
    """A configuration turns off a security default (e.g. certificate validation)."""
