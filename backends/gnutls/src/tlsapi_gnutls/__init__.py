"""tlsapi-gnutls: the GnuTLS backend of tlsapi (cffi, out-of-line API mode).

Registered in the ``tlsapi.backends`` entry-point group as ``gnutls``; use it
through ``tlsapi.backend("gnutls")`` or as the Linux default.
"""

from __future__ import annotations

from tlsapi import Backend

from ._version import __version__

__all__ = ["__version__", "load_backend"]


def load_backend() -> Backend:
    """The GnuTLS Backend (unavailable, with the reason, when libgnutls is too old).

    Raises ImportError with an actionable message when the compiled module or
    libgnutls itself cannot be loaded; the registry records that as the reason.
    """
    try:
        from ._backend import make_backend
    except ImportError as exc:
        raise ImportError(
            f"the GnuTLS binding cannot be loaded ({exc}); install the GnuTLS runtime "
            "(Debian/Ubuntu: libgnutls30, Fedora: gnutls) and reinstall tlsapi-gnutls"
        ) from exc
    return make_backend()
