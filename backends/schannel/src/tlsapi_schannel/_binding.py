"""The compiled cffi module (``tlsapi_schannel._schannel``), shared by every part of the backend.

Importing this module loads secur32/crypt32/ncrypt through the extension's
import table (ImportError when the extension cannot be loaded, e.g. not on
Windows).  SSPI needs no global initialisation; ``security_interface()``
caches the one lookup worth doing once per process under a lock.
"""

from __future__ import annotations

import threading
from typing import Any

from ._schannel import ffi as _ffi  # type: ignore[import-not-found]
from ._schannel import lib as _lib

__all__ = ["ffi", "lib", "once"]

# cffi's objects have no static types; everything crossing them is checked at run time.
ffi: Any = _ffi
lib: Any = _lib

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def once(key: str, compute: Any) -> Any:
    """``compute()`` the first time ``key`` is asked for in this process, the cached value after."""
    try:
        return _cache[key]
    except KeyError:
        pass
    with _lock:
        if key not in _cache:
            _cache[key] = compute()
        return _cache[key]
