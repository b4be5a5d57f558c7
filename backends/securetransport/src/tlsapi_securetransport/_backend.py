"""The Backend this distribution publishes (macOS only: it needs the compiled module)."""

from __future__ import annotations

import functools
import platform

from tlsapi import Backend

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
        supported_ciphers=supported_suites(),
    )
