"""The Backend this distribution publishes (macOS only: it needs the compiled module)."""

from __future__ import annotations

import functools
import platform

from tlsapi import Backend
from tlsapi.backend_api import cipher_weakness

from ._context import SecureTransportClientContext, SecureTransportServerContext
from ._prepared import supported_suites
from ._settings import CAPABILITIES, LIMITATIONS

__all__ = ["make_backend"]


@functools.lru_cache(maxsize=1)
def make_backend() -> Backend:
    release = platform.mac_ver()[0] or "unknown"
    return Backend(
        name="securetransport",
        client_context=SecureTransportClientContext,
        server_context=SecureTransportServerContext,
        library_version=f"Secure Transport (macOS {release})",
        capabilities=CAPABILITIES,
        details={
            "macos": release,
            "validation": "ours: break on authentication, SecTrustEvaluateWithError",
            "limitations": LIMITATIONS,
        },
        # Secure Transport still lists RC4, 3DES and NULL suites: never offered by us.
        supported_ciphers=tuple(s for s in supported_suites() if cipher_weakness(s) is None),
    )
