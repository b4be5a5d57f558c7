"""tlsapi-securetransport: the Secure Transport backend of tlsapi (cffi, out-of-line API mode).

Registered in the ``tlsapi.backends`` entry-point group as ``securetransport``;
the default backend on macOS.  Importing this package does no work that needs
the Security framework: the compiled module is loaded by ``load_backend``.
"""

from __future__ import annotations

from tlsapi import Backend

from ._version import __version__

__all__ = ["__version__", "load_backend"]


def load_backend() -> Backend:
    """The Secure Transport Backend.

    Raises ImportError with an actionable message when the compiled module
    cannot be loaded (not macOS, or a build for another Python); the registry
    records that as the reason.
    """
    try:
        from ._backend import make_backend
    except ImportError as exc:
        raise ImportError(
            f"the Secure Transport binding cannot be loaded ({exc}); tlsapi-securetransport "
            "runs on macOS only: reinstall it there for this Python"
        ) from exc
    return make_backend()
