"""tlsapi-schannel: the SChannel backend of tlsapi (cffi, out-of-line API mode).

Registered in the ``tlsapi.backends`` entry-point group as ``schannel``; the
default backend on Windows.
"""

from __future__ import annotations

from tlsapi import Backend

from ._version import __version__

__all__ = ["__version__", "load_backend"]


def load_backend() -> Backend:
    """The SChannel Backend, with the capabilities this Windows (or Wine) really has.

    Raises ImportError with an actionable message when the compiled module
    cannot be loaded (not Windows, or a build for another Python).
    """
    try:
        from ._backend import make_backend
    except ImportError as exc:
        raise ImportError(
            f"the SChannel binding cannot be loaded ({exc}); tlsapi-schannel runs on Windows "
            "only: reinstall it there for this Python"
        ) from exc
    return make_backend()
