"""ByteQueue: a FIFO of bytes for the network side of a TLS buffer.

Appends go to the end of one bytearray and reads advance an offset, so
neither side is O(n^2): the consumed front is dropped only when it is more
than half the storage.  Never hand out a memoryview of the storage that
outlives a call: a live export would block the bytearray from resizing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["ByteQueue"]

_COMPACT_AT = 1 << 16


class ByteQueue:
    __slots__ = ("_data", "_start")

    def __init__(self) -> None:
        self._data = bytearray()
        self._start = 0

    def __len__(self) -> int:
        return len(self._data) - self._start

    def append(self, data: Buffer) -> None:
        if self._start and self._start == len(self._data):
            self._data.clear()
            self._start = 0
        self._data += data

    def peek(self, amount: int) -> bytes:
        """Up to ``amount`` bytes from the front, left in the queue."""
        start = self._start
        return bytes(self._data[start : start + amount])

    def consume(self, amount: int) -> None:
        """Drop ``amount`` bytes from the front (at most what is queued)."""
        self._start = min(self._start + amount, len(self._data))
        if self._start == len(self._data):
            self._data.clear()
            self._start = 0
        elif self._start >= _COMPACT_AT and self._start * 2 >= len(self._data):
            del self._data[: self._start]
            self._start = 0

    def take(self, amount: int) -> bytes:
        """Up to ``amount`` bytes from the front, removed from the queue."""
        data = self.peek(amount)
        self.consume(len(data))
        return data

    def readinto(self, destination: Buffer) -> int:
        """Move as many bytes as fit into ``destination``; return how many."""
        with memoryview(destination) as target, memoryview(self._data) as source:
            count = min(target.nbytes, len(source) - self._start)
            target.cast("B")[:count] = source[self._start : self._start + count]
        self.consume(count)
        return count

    def clear(self) -> None:
        self._data.clear()
        self._start = 0
