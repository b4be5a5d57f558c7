"""inject_into_ssl() / extract_from_ssl(): every ``ssl.SSLContext`` in the process made by tlsapi.

``ssl.create_default_context()`` and most libraries look ``ssl.SSLContext``
up when they make a context, so replacing the module's attribute reaches
them.  A few keep a reference of their own, taken at import time: urllib3
(``urllib3.util.ssl_.SSLContext``), requests (a context preloaded when it is
imported) and aiohttp (two contexts built at import).  Those already imported
are switched too; extract_from_ssl() puts back exactly what was there.
"""

from __future__ import annotations

import ssl
import sys
import threading
from typing import Any

from .._backend import Backend
from .._errors import ConfigurationError
from ._context import SSLContext, _backend_of

__all__ = ["extract_from_ssl", "inject_into_ssl"]

_lock = threading.Lock()
# (module, attribute) -> the value before inject_into_ssl(), in the order replaced.
_saved: dict[tuple[str, str], Any] = {}

# The oldest release of each library whose private references we know.
_MINIMUM = {"urllib3": (1, 26), "requests": (2, 26), "aiohttp": (3, 8)}


def _version_of(name: str) -> tuple[int, ...] | None:
    module = sys.modules.get(name)
    text = getattr(module, "__version__", None)
    if not isinstance(text, str):
        return None
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _check_versions() -> None:
    for name, minimum in _MINIMUM.items():
        found = _version_of(name)
        if found is not None and found < minimum:
            raise ConfigurationError(
                f"inject_into_ssl: {name} {sys.modules[name].__version__} is older than "
                f"{'.'.join(map(str, minimum))}, the oldest whose SSL handling tlsapi knows; "
                f"upgrade {name}"
            )


def _replace(module_name: str, attribute: str, value: Any) -> None:
    module = sys.modules[module_name]
    key = (module_name, attribute)
    if key not in _saved:
        _saved[key] = getattr(module, attribute)
    setattr(module, attribute, value)


def _replace_library_copies(cls: type[SSLContext]) -> None:
    if "urllib3.util.ssl_" in sys.modules:
        _replace("urllib3.util.ssl_", "SSLContext", cls)
    adapters = sys.modules.get("requests.adapters")
    if adapters is not None and getattr(adapters, "_preloaded_ssl_context", None) is not None:
        # Made the way requests makes it, now with the injected class.
        utils: Any = sys.modules["requests.utils"]
        urllib3_ssl: Any = sys.modules["urllib3.util.ssl_"]
        context = urllib3_ssl.create_urllib3_context()
        context.load_verify_locations(utils.extract_zipped_paths(utils.DEFAULT_CA_BUNDLE_PATH))
        _replace("requests.adapters", "_preloaded_ssl_context", context)
    connector = sys.modules.get("aiohttp.connector")
    make = getattr(connector, "_make_ssl_context", None)
    if connector is not None and make is not None:
        for attribute, verified in (
            ("_SSL_CONTEXT_VERIFIED", True),
            ("_SSL_CONTEXT_UNVERIFIED", False),
        ):
            if getattr(connector, attribute, None) is not None:
                _replace("aiohttp.connector", attribute, make(verified))


def inject_into_ssl(backend: str | Backend | None = None) -> None:
    """Make every ``ssl.SSLContext`` the process creates from now on a ``tlsapi.SSLContext``.

    ``backend`` (a name or a Backend) is the backend those contexts use; None
    means ``tlsapi.default_backend()``.  Calling it again switches the
    backend; ``extract_from_ssl()`` undoes it.
    """
    chosen = _backend_of(backend)
    _check_versions()
    with _lock:
        cls = type("SSLContext", (SSLContext,), {"_injected_backend": chosen})
        cls.__module__ = SSLContext.__module__
        cls.__qualname__ = SSLContext.__qualname__
        try:
            _replace("ssl", "SSLContext", cls)
            _replace_library_copies(cls)
        except BaseException:
            _restore()
            raise


def _restore() -> None:
    for (module_name, attribute), value in reversed(list(_saved.items())):
        module = sys.modules.get(module_name)
        if module is not None:
            setattr(module, attribute, value)
    _saved.clear()
    # A library imported while injected took the injected class: give it ssl's back.
    urllib3_ssl: Any = sys.modules.get("urllib3.util.ssl_")
    current = getattr(urllib3_ssl, "SSLContext", None)
    if isinstance(current, type) and issubclass(current, SSLContext):
        urllib3_ssl.SSLContext = ssl.SSLContext


def extract_from_ssl() -> None:
    """Undo ``inject_into_ssl()``: ``ssl.SSLContext`` is ssl's own again (no-op if not injected)."""
    with _lock:
        _restore()


def is_injected() -> bool:
    return isinstance(ssl.SSLContext, type) and issubclass(ssl.SSLContext, SSLContext)
