"""Cipher suites by IANA number.

PLACEHOLDER LIST: to be completed with every suite any of our backends can
negotiate (see the stdlib backend work).
"""

from __future__ import annotations

import enum

__all__ = ["DEFAULT_CIPHER_LIST", "CipherSuite"]


class CipherSuite(enum.IntEnum):
    """A TLS cipher suite, named and numbered as in the IANA registry."""

    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_AES_128_CCM_SHA256 = 0x1304
    TLS_AES_128_CCM_8_SHA256 = 0x1305
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9

    @classmethod
    def from_number(cls, number: int) -> CipherSuite | int:
        """The member for an IANA number, or the number itself when unknown."""
        try:
            return cls(number)
        except ValueError:
            return number


# Forward-secret AEAD suites only, strongest first, TLS 1.3 before TLS 1.2.
DEFAULT_CIPHER_LIST: tuple[CipherSuite, ...] = (
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
)

# The TLS 1.3 suites: they carry no key exchange and apply only to TLS 1.3.
TLS13_SUITES = frozenset(range(0x1301, 0x1306))
