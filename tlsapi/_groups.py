"""Key-exchange groups (TLS "supported groups") by IANA number.

The members are the groups at least one backend here can negotiate
(OpenSSL 3.0 through ``ssl``, GnuTLS 3.7, NSS 3.87), named as OpenSSL
and the IANA registry spell them.  None of those libraries offers a hybrid
post-quantum group (X25519Kyber768, X25519MLKEM768), so none is listed: a
later library's group still works as a number.  A number no member has
comes back as a ``NamedGroup`` named ``UNKNOWN_0x....`` (equal to its
number), as for :class:`tlsapi.CipherSuite`.
"""

from __future__ import annotations

import enum

from ._errors import ConfigurationError
from ._numbered import member_for

__all__ = ["NamedGroup"]


class NamedGroup(enum.IntEnum):
    """A TLS named group (elliptic curve or finite field), numbered as in the IANA registry."""

    secp256r1 = 23
    secp384r1 = 24
    secp521r1 = 25
    X25519 = 29
    X448 = 30
    ffdhe2048 = 256
    ffdhe3072 = 257
    ffdhe4096 = 258
    ffdhe6144 = 259
    ffdhe8192 = 260

    @classmethod
    def from_number(cls, number: int) -> NamedGroup:
        """The member for an IANA number; for an unknown one, a member named ``UNKNOWN_0x....``."""
        return member_for(cls, number, _UNKNOWN)

    @classmethod
    def from_name(cls, name: str) -> NamedGroup:
        """The member for a name, case-insensitive: ``x25519``, ``secp256r1``, ``P-256``, ``prime256v1``...

        ConfigurationError, listing the known names, for any other.
        """
        member = _BY_NAME.get(name.strip().lower().replace("_", "-"))
        if member is None:
            known = ", ".join(m.name for m in cls)
            raise ConfigurationError(
                f"unknown key-exchange group {name!r}; known groups: {known} "
                "(also P-256, P-384, P-521, prime256v1)"
            )
        return member

    @property
    def display_name(self) -> str:
        """How ``openssl s_client`` shows it: X25519, P-256, ffdhe2048 (or UNKNOWN_0x....)."""
        return _DISPLAY.get(self, self.name)

    @property
    def is_finite_field(self) -> bool:
        """A finite-field Diffie-Hellman group (RFC 7919): 256..511."""
        return 256 <= self <= 511


# The pseudo-members for numbers no member has, by number (see from_number).
_UNKNOWN: dict[int, NamedGroup] = {}

_DISPLAY = {
    NamedGroup.secp256r1: "P-256",
    NamedGroup.secp384r1: "P-384",
    NamedGroup.secp521r1: "P-521",
}
_BY_NAME: dict[str, NamedGroup] = {member.name.lower(): member for member in NamedGroup}
_BY_NAME.update(
    {
        "p-256": NamedGroup.secp256r1,
        "p-384": NamedGroup.secp384r1,
        "p-521": NamedGroup.secp521r1,
        "prime256v1": NamedGroup.secp256r1,
        "curve25519": NamedGroup.X25519,
        "curve448": NamedGroup.X448,
    }
)
