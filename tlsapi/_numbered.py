"""Members for IANA numbers an IntEnum does not list (CipherSuite, NamedGroup, SignatureScheme)."""

from __future__ import annotations

import enum
from typing import TypeVar

__all__ = ["member_for"]

_E = TypeVar("_E", bound=enum.IntEnum)


def member_for(cls: type[_E], number: int, unknown: dict[int, _E]) -> _E:
    """The member of ``cls`` for ``number``; for an unknown one a pseudo-member named
    ``UNKNOWN_0x....`` (equal to its number, made once per number and kept in
    ``unknown``, not listed by iteration), so ``.name`` works on whatever a peer sent."""
    try:
        return cls(number)
    except ValueError:
        pass
    member = unknown.get(number)
    if member is None:
        member = int.__new__(cls, number)
        member._name_ = f"UNKNOWN_0x{number:04X}"
        member._value_ = number
        member = unknown.setdefault(number, member)
    return member
