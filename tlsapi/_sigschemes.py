"""TLS signature schemes (RFC 8446 section 4.2.3) by IANA number."""

from __future__ import annotations

import enum

from ._numbered import member_for

__all__ = ["SignatureScheme"]


class SignatureScheme(enum.IntEnum):
    """A TLS SignatureScheme; a number no member has comes back as ``UNKNOWN_0x....``."""

    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha256 = 0x0401
    rsa_pkcs1_sha384 = 0x0501
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B

    @classmethod
    def from_number(cls, number: int) -> SignatureScheme:
        """The member for an IANA number; for an unknown one, a member named ``UNKNOWN_0x....``."""
        return member_for(cls, number, _UNKNOWN)


_UNKNOWN: dict[int, SignatureScheme] = {}
