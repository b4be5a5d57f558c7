"""The peer's handshake signature as a TLS SignatureScheme number.

GnuTLS reports it as a gnutls_sign_algorithm_t (gnutls_sign_algorithm_get:
what the server signed with; gnutls_sign_algorithm_get_client: the client's
CertificateVerify).  GnuTLS 3.7 keeps the TLS code point of each algorithm
in an internal table only (no public call returns it), so the table below
maps GnuTLS's enum to IANA's registry (RFC 8446 4.2.3, RFC 8422 for ECDSA in
TLS 1.2, RFC 9189 for GOST).  TLS 1.2's curve-less ECDSA-SHA256 and TLS
1.3's ECDSA-SECP256R1-SHA256 share the code point 0x0403, as on the wire.
"""

from __future__ import annotations

from typing import Any

from ._binding import ffi, lib

__all__ = ["peer_signature_scheme", "signature_name"]

_CODE_POINTS: dict[int, int] = {
    lib.GNUTLS_SIGN_RSA_SHA1: 0x0201,
    lib.GNUTLS_SIGN_ECDSA_SHA1: 0x0203,
    lib.GNUTLS_SIGN_RSA_SHA256: 0x0401,
    lib.GNUTLS_SIGN_RSA_SHA384: 0x0501,
    lib.GNUTLS_SIGN_RSA_SHA512: 0x0601,
    lib.GNUTLS_SIGN_ECDSA_SHA256: 0x0403,
    lib.GNUTLS_SIGN_ECDSA_SHA384: 0x0503,
    lib.GNUTLS_SIGN_ECDSA_SHA512: 0x0603,
    lib.GNUTLS_SIGN_ECDSA_SECP256R1_SHA256: 0x0403,
    lib.GNUTLS_SIGN_ECDSA_SECP384R1_SHA384: 0x0503,
    lib.GNUTLS_SIGN_ECDSA_SECP521R1_SHA512: 0x0603,
    lib.GNUTLS_SIGN_RSA_PSS_RSAE_SHA256: 0x0804,
    lib.GNUTLS_SIGN_RSA_PSS_RSAE_SHA384: 0x0805,
    lib.GNUTLS_SIGN_RSA_PSS_RSAE_SHA512: 0x0806,
    lib.GNUTLS_SIGN_EDDSA_ED25519: 0x0807,
    lib.GNUTLS_SIGN_EDDSA_ED448: 0x0808,
    lib.GNUTLS_SIGN_RSA_PSS_SHA256: 0x0809,
    lib.GNUTLS_SIGN_RSA_PSS_SHA384: 0x080A,
    lib.GNUTLS_SIGN_RSA_PSS_SHA512: 0x080B,
    lib.GNUTLS_SIGN_GOST_256: 0x0840,
    lib.GNUTLS_SIGN_GOST_512: 0x0841,
}


def peer_signature_scheme(session: Any, *, server: bool) -> int | None:
    """The IANA number of the peer's signature in this handshake, or None.

    None when the peer signed nothing (TLS 1.2 RSA key transport, a client
    without a certificate, a resumption: GnuTLS would report the signature
    of the handshake that made the session) or signed with an algorithm
    that has no TLS code point.
    """
    if lib.gnutls_session_is_resumed(session):
        return None
    if server:
        algorithm = int(lib.gnutls_sign_algorithm_get_client(session))
    else:
        algorithm = int(lib.gnutls_sign_algorithm_get(session))
    if algorithm <= 0:
        return None
    return _CODE_POINTS.get(algorithm)


def signature_name(algorithm: int) -> str:
    """GnuTLS's own name of a gnutls_sign_algorithm_t (for messages and tests)."""
    name = lib.gnutls_sign_get_name(algorithm)
    return "unknown" if name == ffi.NULL else str(ffi.string(name).decode("ascii"))
