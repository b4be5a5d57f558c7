"""tlsapi-schannel: the SChannel backend of tlsapi (cffi, out-of-line API mode)."""

from __future__ import annotations

from tlsapi import Backend

from ._version import __version__

__all__ = ["__version__", "load_backend"]


def load_backend() -> Backend:
    from ._binding import ffi, lib  # noqa: F401  (placeholder until _backend exists)

    raise ImportError("tlsapi-schannel is being written")
