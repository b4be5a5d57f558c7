"""The compiled cffi module, the library version check and the one-time global init.

Importing this module loads libgnutls (ImportError when the extension or the
library cannot be loaded); ``version_problem()`` says whether the library is
new enough, so an old GnuTLS makes the backend unavailable instead of failing
at import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tlsapi import TLSError

from ._gnutls import ffi as _ffi  # type: ignore[import-not-found]
from ._gnutls import lib as _lib

__all__ = [
    "MINIMUM_VERSION",
    "datum",
    "def_extern",
    "ffi",
    "initialize",
    "lib",
    "runtime_version",
    "version_problem",
]

# cffi's objects have no static types; everything crossing them is checked at run time.
ffi: Any = _ffi
lib: Any = _lib

# TLS 1.3 as in RFC 8446, gnutls_priority_init2(GNUTLS_PRIORITY_INIT_DEF_APPEND) and
# gnutls_ext_raw_parse() all need 3.6.5 (build_ffi/gnutls/build.py checks it too).
MINIMUM_VERSION = "3.6.5"

_F = TypeVar("_F", bound=Callable[..., Any])


def def_extern(*, error: int | None = 0) -> Callable[[_F], _F]:
    """``ffi.def_extern`` with a type: attaches a Python function to its ``extern "Python"``.

    ``error=None`` for a function returning a struct (its error value is all zeros).
    """
    attach = ffi.def_extern() if error is None else ffi.def_extern(error=error)
    return cast("Callable[[_F], _F]", attach)


_init_lock = threading.Lock()
_initialized = False


def runtime_version() -> str:
    """The version of the libgnutls loaded in this process."""
    return str(ffi.string(lib.gnutls_check_version(ffi.NULL)).decode("ascii"))


def header_version() -> str:
    """The version of the headers the extension was compiled against."""
    return str(ffi.string(lib.GNUTLS_VERSION).decode("ascii"))


def version_problem() -> str | None:
    """Why the loaded library cannot be used, or None."""
    if lib.gnutls_check_version(MINIMUM_VERSION.encode("ascii")) == ffi.NULL:
        return (
            f"GnuTLS {runtime_version()} is too old: tlsapi-gnutls needs GnuTLS "
            f"{MINIMUM_VERSION} or later"
        )
    return None


def library_path() -> str | None:
    path = lib.tlsapi_gnutls_library_path()
    return None if path == ffi.NULL else str(ffi.string(path).decode("utf-8", "replace"))


def initialize() -> None:
    """gnutls_global_init() once per process (it is reference-counted, but we need it once)."""
    global _initialized
    if _initialized:
        return
    with _init_lock:
        if _initialized:
            return
        code = lib.gnutls_global_init()
        if code < 0:
            reason = ffi.string(lib.gnutls_strerror(code)).decode("utf-8", "replace")
            raise TLSError(f"gnutls_global_init failed: {reason}")
        _initialized = True


def datum(data: bytes) -> Any:
    """A gnutls_datum_t over ``data``, valid for as long as the returned object lives.

    The struct holds a bare pointer: the from_buffer cdata that pins ``data``
    (outside CPython objects may move) must outlive it, so the returned
    object's destructor keeps a reference to it.
    """
    owner = ffi.from_buffer("unsigned char[]", data)
    datum = ffi.new("gnutls_datum_t *", (owner, len(data)))
    return ffi.gc(datum, lambda _: owner)
