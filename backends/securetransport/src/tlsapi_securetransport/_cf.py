"""CoreFoundation objects from and to Python values, each released when Python drops it.

Every object a ``Create``/``Copy`` call returns is ours to release: it is
tied to a Python object with ``ffi.gc(..., CFRelease)`` the moment it
arrives (``owned``), so no error path leaks it.  ``Get`` calls return
borrowed references, never released here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._binding import ffi, lib

__all__ = ["array", "array_items", "data", "data_bytes", "owned", "string", "string_text"]


def owned(reference: Any, what: str) -> Any:
    """A reference we must release, released with its Python object; MemoryError if NULL."""
    if reference == ffi.NULL:
        raise MemoryError(f"{what} returned NULL")
    return ffi.gc(reference, lib.CFRelease)


def data(value: bytes) -> Any:
    """A CFDataRef holding a copy of ``value``."""
    return owned(lib.CFDataCreate(lib.kCFAllocatorDefault, value, len(value)), "CFDataCreate")


def data_bytes(reference: Any) -> bytes:
    """The bytes of a CFDataRef (borrowed or owned)."""
    return bytes(
        ffi.unpack(
            ffi.cast("char *", lib.CFDataGetBytePtr(reference)), lib.CFDataGetLength(reference)
        )
    )


def string(text: str) -> Any:
    """A CFStringRef for ``text`` (UTF-8 on the way in)."""
    raw = text.encode("utf-8")
    reference = lib.CFStringCreateWithBytes(
        lib.kCFAllocatorDefault, raw, len(raw), lib.kCFStringEncodingUTF8, False
    )
    return owned(reference, "CFStringCreateWithBytes")


def string_text(reference: Any) -> str:
    """The text of a CFStringRef (borrowed or owned)."""
    # A UTF-16 unit (what CFStringGetLength counts) takes at most 3 bytes of UTF-8.
    size = lib.CFStringGetLength(reference) * 4 + 1
    buffer = ffi.new("char[]", size)
    if not lib.CFStringGetCString(reference, buffer, size, lib.kCFStringEncodingUTF8):
        return "<text that CoreFoundation cannot give as UTF-8>"
    return str(ffi.string(buffer).decode("utf-8", "replace"))


def array(items: Sequence[Any]) -> Any:
    """A CFArrayRef of CF objects (the array retains each; ``items`` may go afterwards)."""
    values = ffi.new("void *[]", [ffi.cast("void *", item) for item in items] or 1)
    reference = lib.CFArrayCreate(
        lib.kCFAllocatorDefault,
        ffi.cast("const void **", values),
        len(items),
        ffi.addressof(lib, "kCFTypeArrayCallBacks"),
    )
    return owned(reference, "CFArrayCreate")


def array_items(reference: Any) -> list[Any]:
    """The (borrowed) elements of a CFArrayRef."""
    return [
        lib.CFArrayGetValueAtIndex(reference, index)
        for index in range(lib.CFArrayGetCount(reference))
    ]
