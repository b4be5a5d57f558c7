"""ByteQueue: a FIFO of bytes for the network side of a TLS buffer.

It holds the chunks it was given (TLS records, network reads) as immutable
``bytes`` in a deque, with an offset into the first.  Appending ``bytes``
costs no copy, and peeking at everything when there is one chunk returns that
very object, so the common path (one record out, one read in) moves bytes
without copying them in Python.  Other buffer types are copied once on the
way in, because their owner may reuse the memory.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["ByteQueue"]


class ByteQueue:
    __slots__ = ("chunks", "offset", "size")

    def __init__(self) -> None:
        # Read-only outside this class: TLSWrappedBuffer's hot paths read them
        # directly (a method call costs as much as the work on a small record).
        self.chunks: deque[bytes] = deque()
        self.offset = 0  # bytes of chunks[0] already consumed
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, data: Buffer) -> None:
        chunk = data if type(data) is bytes else bytes(data)
        if chunk:
            self.chunks.append(chunk)
            self.size += len(chunk)

    def peek(self, amount: int) -> bytes:
        """Up to ``amount`` bytes from the front, left in the queue."""
        if amount <= 0 or not self.size:
            return b""
        first = self.chunks[0]
        offset = self.offset
        available = len(first) - offset
        if available >= amount or len(self.chunks) == 1:
            if offset == 0 and amount >= len(first):
                return first
            return first[offset : offset + amount]
        parts = [memoryview(first)[offset:]]
        wanted = amount - available
        for chunk in itertools.islice(self.chunks, 1, None):
            if wanted <= 0:
                break
            parts.append(memoryview(chunk)[:wanted])
            wanted -= len(chunk)
        return b"".join(parts)

    def peek_view(self, amount: int) -> memoryview:
        """Up to ``amount`` bytes from the front chunk alone, without a copy (left in the queue)."""
        if amount <= 0 or not self.size:
            return memoryview(b"")
        offset = self.offset
        return memoryview(self.chunks[0])[offset : offset + amount]

    def consume(self, amount: int) -> None:
        """Drop ``amount`` bytes from the front (at most what is queued)."""
        amount = min(amount, self.size)
        self.size -= amount
        chunks = self.chunks
        while amount:
            remaining = len(chunks[0]) - self.offset
            if amount < remaining:
                self.offset += amount
                return
            chunks.popleft()
            self.offset = 0
            amount -= remaining

    def readinto(self, destination: Buffer) -> int:
        """Move as many bytes as fit into ``destination``; return how many."""
        with memoryview(destination) as raw:
            target = raw.cast("B") if raw.format != "B" or raw.ndim != 1 else raw
            wanted = min(len(target), self.size)
            copied = 0
            offset = self.offset
            for chunk in self.chunks:
                if copied == wanted:
                    break
                count = min(len(chunk) - offset, wanted - copied)
                target[copied : copied + count] = memoryview(chunk)[offset : offset + count]
                copied += count
                offset = 0
        self.consume(copied)
        return copied

    def take_all(self) -> bytes:
        """Everything queued, removed (the one chunk itself when there is one)."""
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 and not self.offset else self.peek(self.size)
        self.clear()
        return data

    def clear(self) -> None:
        self.chunks.clear()
        self.offset = 0
        self.size = 0
