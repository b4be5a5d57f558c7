"""TLS protocol versions."""

from __future__ import annotations

import enum

__all__ = ["TLSVersion"]


class TLSVersion(enum.Enum):
    """A TLS protocol version.

    ``MINIMUM_SUPPORTED`` and ``MAXIMUM_SUPPORTED`` stand for the lowest and
    highest versions the backend in use supports.  SSL 2.0 and 3.0 are not
    listed: no backend of ours may negotiate them.
    """

    MINIMUM_SUPPORTED = "MINIMUM_SUPPORTED"
    TLSv1 = "TLSv1"
    TLSv1_1 = "TLSv1.1"
    TLSv1_2 = "TLSv1.2"
    TLSv1_3 = "TLSv1.3"
    MAXIMUM_SUPPORTED = "MAXIMUM_SUPPORTED"

    @property
    def wire_version(self) -> int | None:
        """The version's number on the wire (0x0303 for TLS 1.2), None for the bounds."""
        return _WIRE.get(self)

    @classmethod
    def from_wire(cls, number: int) -> TLSVersion | int:
        """The member for a wire number, or the number itself when unknown."""
        for member, value in _WIRE.items():
            if value == number:
                return member
        return number

    def _rank(self) -> int:
        return _RANK[self]

    # Ordered like ssl.TLSVersion's concrete versions (TLSv1 < ... < TLSv1_3), with
    # MINIMUM_SUPPORTED below and MAXIMUM_SUPPORTED above them all.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _RANK[self] < _RANK[other]

    def __le__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _RANK[self] <= _RANK[other]

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _RANK[self] > _RANK[other]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, TLSVersion):
            return NotImplemented
        return _RANK[self] >= _RANK[other]


_WIRE = {
    TLSVersion.TLSv1: 0x0301,
    TLSVersion.TLSv1_1: 0x0302,
    TLSVersion.TLSv1_2: 0x0303,
    TLSVersion.TLSv1_3: 0x0304,
}
_RANK = {member: rank for rank, member in enumerate(TLSVersion)}

# The concrete versions, lowest first.
CONCRETE_VERSIONS: tuple[TLSVersion, ...] = tuple(_WIRE)


def version_range(
    lowest: TLSVersion, highest: TLSVersion, supported: tuple[TLSVersion, ...]
) -> tuple[TLSVersion, ...]:
    """The concrete versions from ``lowest`` to ``highest`` that ``supported`` holds."""
    low, high = lowest._rank(), highest._rank()
    return tuple(v for v in supported if low <= v._rank() <= high)
