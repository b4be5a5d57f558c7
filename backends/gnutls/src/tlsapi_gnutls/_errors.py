"""The one error path: GnuTLS status codes and verification bits to the TLSError tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from tlsapi import (
    CertificateError,
    CertificateErrorReason,
    ConfigurationError,
    RaggedEOF,
    TLSError,
    WantReadError,
)
from tlsapi.backend_api import find_weak_key, weak_signature_hash

from ._binding import ffi, lib

if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "check_configuration",
    "describe",
    "raise_for_code",
    "reason_for_status",
    "status_text",
]

Reason = CertificateErrorReason


def describe(code: int) -> str:
    """GnuTLS's text and symbolic name for ``code``."""
    text = ffi.string(lib.gnutls_strerror(code)).decode("utf-8", "replace")
    name_ptr = lib.gnutls_strerror_name(code)
    name = ffi.string(name_ptr).decode("ascii", "replace") if name_ptr != ffi.NULL else str(code)
    return f"{text} ({name})"


def check_configuration(code: int, what: str) -> int:
    """``code`` if it is not an error, else ConfigurationError about ``what``."""
    if code < 0:
        raise ConfigurationError(f"{what}: {describe(code)}")
    return code


def status_text(status: int) -> str:
    """gnutls_certificate_verification_status_print(): GnuTLS's own words for ``status``."""
    out = ffi.new("gnutls_datum_t *")
    if lib.gnutls_certificate_verification_status_print(status, lib.GNUTLS_CRT_X509, out, 0) < 0:
        return f"verification status 0x{status:x}"
    try:
        return bytes(ffi.buffer(out.data, out.size)).decode("utf-8", "replace").strip()
    finally:
        lib.tlsapi_gnutls_free(out.data)


def _is_self_issued(der: bytes) -> bool:
    crt_ptr = ffi.new("gnutls_x509_crt_t *")
    if lib.gnutls_x509_crt_init(crt_ptr) < 0:
        return False
    crt = crt_ptr[0]
    try:
        data = ffi.from_buffer(der)
        datum = ffi.new("gnutls_datum_t *", (ffi.cast("unsigned char *", data), len(der)))
        if lib.gnutls_x509_crt_import(crt, datum, lib.GNUTLS_X509_FMT_DER) < 0:
            return False
        return bool(lib.gnutls_x509_crt_check_issuer(crt, crt))
    finally:
        lib.gnutls_x509_crt_deinit(crt)


# Checked in the order OpenSSL's verifier meets the problems (chain building,
# purpose, name, revocation, signatures, validity), so that a certificate with
# several defects gets the same reason from every backend.
_ORDER: tuple[tuple[str, Reason], ...] = (
    ("GNUTLS_CERT_SIGNER_NOT_FOUND", Reason.UNTRUSTED_ISSUER),
    ("GNUTLS_CERT_SIGNER_NOT_CA", Reason.UNTRUSTED_ISSUER),
    ("GNUTLS_CERT_PURPOSE_MISMATCH", Reason.BAD_USAGE),
    ("GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE", Reason.BAD_USAGE),
    ("GNUTLS_CERT_UNEXPECTED_OWNER", Reason.HOSTNAME_MISMATCH),
    ("GNUTLS_CERT_REVOKED", Reason.REVOKED),
    ("GNUTLS_CERT_SIGNATURE_FAILURE", Reason.BAD_SIGNATURE),
    ("GNUTLS_CERT_INSECURE_ALGORITHM", Reason.BAD_SIGNATURE),
    ("GNUTLS_CERT_NOT_ACTIVATED", Reason.NOT_YET_VALID),
    ("GNUTLS_CERT_EXPIRED", Reason.EXPIRED),
)


def _insecure_algorithm_reason(peer_chain: list[bytes] | None) -> Reason:
    # The "medium" profile flags a key that is too small (in the peer's path or
    # the anchor) and a signature hash that is too weak alike: tell them apart.
    if peer_chain is None:
        return Reason.BAD_SIGNATURE
    if find_weak_key(peer_chain, "peer's") is not None:
        return Reason.WEAK_KEY
    if weak_signature_hash(peer_chain):
        return Reason.BAD_SIGNATURE
    return Reason.WEAK_KEY  # neither in what the peer sent: the anchor's key


def reason_for_status(status: int, peer_chain: list[bytes] | None) -> Reason:
    """The backend-neutral reason for a GnuTLS verification status."""
    for name, reason in _ORDER:
        if status & getattr(lib, name):
            if name == "GNUTLS_CERT_INSECURE_ALGORITHM":
                return _insecure_algorithm_reason(peer_chain)
            if (
                reason is Reason.UNTRUSTED_ISSUER
                and name == "GNUTLS_CERT_SIGNER_NOT_FOUND"
                and peer_chain
                and _is_self_issued(peer_chain[0])
            ):
                return Reason.SELF_SIGNED
            return reason
    return Reason.OTHER


def certificate_error(status: int, peer_chain: list[bytes] | None, whose: str) -> CertificateError:
    reason = reason_for_status(status, peer_chain)
    text = status_text(status)
    if reason is Reason.WEAK_KEY:
        weak = find_weak_key(peer_chain, whose)
        if weak is not None:  # tlsapi's words say which certificate; GnuTLS's are kept
            return CertificateError(str(weak), reason, text)
        return CertificateError(
            f"certificate verify failed (weak-key): the {whose} certificate chain was rejected: "
            f"{text} (the trust anchor's key is too small for GnuTLS's verification profile)",
            reason,
            text,
        )
    return CertificateError(
        f"certificate verify failed ({reason.value}): the {whose} certificate was rejected: {text}",
        reason,
        text,
    )


def raise_for_code(code: int, *, session: Any = None, transport_eof: bool = False) -> NoReturn:
    """Raise the TLSError subclass for a negative GnuTLS return code."""
    if code == lib.GNUTLS_E_AGAIN:
        raise WantReadError("more TLS data from the peer is needed")
    if code == lib.GNUTLS_E_PREMATURE_TERMINATION or (
        transport_eof and code == lib.GNUTLS_E_UNEXPECTED_PACKET_LENGTH
    ):
        raise RaggedEOF(
            "the peer closed the connection without sending a TLS close_notify alert "
            f"(the data may be truncated): {describe(code)}"
        )
    if code == lib.GNUTLS_E_FATAL_ALERT_RECEIVED and session is not None:
        alert = lib.gnutls_alert_get(session)
        name_ptr = lib.gnutls_alert_get_name(alert)
        name = ffi.string(name_ptr).decode("ascii", "replace") if name_ptr != ffi.NULL else alert
        raise TLSError(f"the peer sent a fatal TLS alert: {name} (alert {int(alert)})")
    if code in (lib.GNUTLS_E_CERTIFICATE_REQUIRED, lib.GNUTLS_E_NO_CERTIFICATE_FOUND):
        raise CertificateError(
            f"the peer sent no certificate, but one is required: {describe(code)}",
            Reason.OTHER,
            describe(code),
        )
    if code == lib.GNUTLS_E_KEY_USAGE_VIOLATION:
        # The peer's certificate does not allow what its key was used for
        # (e.g. a keyUsage without digitalSignature): a certificate problem.
        raise CertificateError(
            f"the peer's certificate may not be used this way: {describe(code)}",
            Reason.BAD_USAGE,
            describe(code),
        )
    if code == lib.GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS:
        # After the handshake: GnuTLS takes at most 8 TLS 1.3 KeyUpdates within one
        # second (lib/tls13/key_update.c), a flood guard it gives applications no way to lift.
        raise TLSError(
            "the peer sent too many handshake messages; after the handshake this means "
            "more than 8 TLS 1.3 KeyUpdate messages within one second, which GnuTLS "
            f"refuses as a denial-of-service guard: {describe(code)}"
        )
    raise TLSError(f"GnuTLS: {describe(code)}")
