"""The compiled cffi module (``tlsapi_securetransport._securetransport``), shared by the backend.

Importing this module loads the Security and CoreFoundation frameworks
through the extension (ImportError anywhere but macOS, where the extension is
never built).  Every other module of the backend that calls into the
framework imports ``ffi``/``lib`` from here, so that the package itself, its
version and ``load_backend`` import on any system.
"""

from __future__ import annotations

from typing import Any

from ._securetransport import ffi as _ffi  # type: ignore[import-not-found]
from ._securetransport import lib as _lib

__all__ = ["ffi", "lib"]

# cffi's objects have no static types; everything crossing them is checked at run time.
ffi: Any = _ffi
lib: Any = _lib
