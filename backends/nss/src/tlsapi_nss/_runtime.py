"""NSS's process-wide state: initialised once under a lock, shut down at exit.

NSS is one library per process, possibly shared with other code (another
binding, a PKCS#11 consumer).  We take our own reference with
``NSS_InitContext`` (NSS counts its init contexts, so another user's
``NSS_Shutdown`` cannot pull the library from under us, nor ours from under
them), never change a global default (every TLS option is set per socket),
and give the reference back at exit when none of our NSS objects is alive.

Where trust comes from:

- no database by default (``NSS_INIT_NOCERTDB``): nothing is read from or
  written to disk;
- ``[nss] database = "sql:/etc/pki/nssdb"`` in the tlsapi configuration file,
  or ``TLSAPI_NSS_DATABASE``, opens that NSS database read-only (its modules
  and trust settings then apply);
- the system's trust, needed only when a context uses ``TrustStore.system()``,
  comes from a PKCS#11 trust module loaded once: p11-kit's ``p11-kit-trust.so``
  where installed (the store the administrator manages with
  ``update-ca-certificates`` or ``trust``), else NSS's built-in roots
  (``libnssckbi.so``); ``[nss] trust_module`` or ``TLSAPI_NSS_TRUST_MODULE``
  names another.

Every NSS object we create goes through :meth:`Runtime.owned`, which ties
it to a Python object with ``ffi.gc`` and counts it, so the exit handler
knows whether shutting NSS down is safe.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sysconfig
import threading
from collections.abc import Callable
from typing import Any

from tlsapi import ConfigurationError, TLSError

from ._errors import error_text
from ._lib import ffi, lib

__all__ = ["ENV_DATABASE", "ENV_TRUST_MODULE", "RUNTIME", "Runtime", "TrustSource"]

log = logging.getLogger("tlsapi.nss")

ENV_DATABASE = "TLSAPI_NSS_DATABASE"
ENV_TRUST_MODULE = "TLSAPI_NSS_TRUST_MODULE"


def _library_dirs() -> list[str]:
    multiarch = sysconfig.get_config_var("MULTIARCH") or f"{os.uname().machine}-linux-gnu"
    return [
        f"/usr/lib/{multiarch}",
        "/usr/lib64",
        "/usr/lib",
        "/usr/local/lib64",
        "/usr/local/lib",
    ]


def _first_file(paths: list[str]) -> str | None:
    return next((path for path in paths if os.path.isfile(path)), None)


def _user_settings() -> dict[str, Any]:
    """The ``[nss]`` table of the tlsapi configuration files (empty when absent)."""
    from tlsapi.backend_api import load_user_configuration

    try:
        config, _ = load_user_configuration()
    except ConfigurationError as exc:
        log.warning("ignoring the tlsapi configuration: %s", exc)
        return {}
    table = config.get("nss", {})
    return table if isinstance(table, dict) else {}


class TrustSource:
    """Which PKCS#11 module provides the system's trust anchors."""

    def __init__(self, kind: str, path: str | None) -> None:
        self.kind = kind  # "configured", "p11-kit", "nss-builtin" or "none"
        self.path = path

    @classmethod
    def find(cls, configured: str | None) -> TrustSource:
        if configured:
            return cls("configured", configured)
        dirs = _library_dirs()
        p11kit = _first_file([f"{d}/pkcs11/p11-kit-trust.so" for d in dirs])
        if p11kit:
            return cls("p11-kit", p11kit)
        builtin = _first_file(
            [f"{d}/libnssckbi.so" for d in dirs] + [f"{d}/nss/libnssckbi.so" for d in dirs]
        )
        if builtin:
            return cls("nss-builtin", builtin)
        return cls("none", None)

    def describe(self) -> str:
        if self.kind == "p11-kit":
            return f"p11-kit trust module {self.path} (the system store, as update-ca-certificates/trust manage it)"
        if self.kind == "nss-builtin":
            return f"NSS built-in roots {self.path} (Mozilla's list; p11-kit-trust.so not found)"
        if self.kind == "configured":
            return f"PKCS#11 trust module {self.path} (configured)"
        return "none found (install p11-kit-modules, or NSS's libnssckbi.so)"


class Runtime:
    """NSS initialisation, the trust module, and the count of live NSS objects."""

    def __init__(self) -> None:
        # Re-entrant: a garbage collection inside a locked section may free an
        # object whose release() takes the lock again on the same thread.
        self._lock = threading.RLock()
        self._context: Any = None
        self._live = 0
        self._releasers: dict[Callable[[Any], object], Callable[[Any], None]] = {}
        self._trust_module: Any = None
        self._trust_error: str | None = None
        self._database: str | None = None
        self._atexit_registered = False
        # Set once a server context exists (its connections issue tickets).
        self.issued_tickets = False
        settings = _user_settings()
        database = os.environ.get(ENV_DATABASE) or settings.get("database")
        self.database = str(database) if database else None
        module = os.environ.get(ENV_TRUST_MODULE) or settings.get("trust_module")
        self.trust_source = TrustSource.find(str(module) if module else None)

    # -- initialisation ----------------------------------------------------------

    def ensure(self) -> None:
        """Initialise NSS for us (once); TLSError when the library refuses."""
        if self._context is not None:
            return
        with self._lock:
            if self._context is not None:
                return
            if self.database:
                flags = lib.NSS_INIT_READONLY | lib.NSS_INIT_NOROOTINIT | lib.NSS_INIT_OPTIMIZESPACE
                configdir = self.database.encode()
            else:
                flags = (
                    lib.NSS_INIT_READONLY
                    | lib.NSS_INIT_NOCERTDB
                    | lib.NSS_INIT_NOMODDB
                    | lib.NSS_INIT_FORCEOPEN
                    | lib.NSS_INIT_NOROOTINIT
                    | lib.NSS_INIT_OPTIMIZESPACE
                )
                configdir = b""
            context = lib.NSS_InitContext(configdir, b"", b"", b"", ffi.NULL, flags)
            if context == ffi.NULL:
                where = f"the NSS database {self.database!r}" if self.database else "NSS"
                raise TLSError(
                    f"cannot initialise {where}: {error_text(lib.PR_GetError())}"
                    + (f" (set by {ENV_DATABASE} or [nss] database)" if self.database else "")
                )
            self._context = context
            if not self._atexit_registered:
                atexit.register(self.shutdown)
                self._atexit_registered = True

    def ensure_system_trust(self) -> None:
        """Make the system's trust anchors available (loads the trust module once)."""
        self.ensure()
        with self._lock:
            if self._trust_module is not None or lib.SECMOD_HasRootCerts():
                return
            if self._trust_error is not None:
                raise ConfigurationError(self._trust_error)
            source = self.trust_source
            if source.path is None:
                self._trust_error = (
                    "TrustStore.system() needs a PKCS#11 trust module and none was found: "
                    "install p11-kit-modules (Debian) or p11-kit-trust (Fedora), or name one "
                    f"with {ENV_TRUST_MODULE}"
                )
                raise ConfigurationError(self._trust_error)
            quoted = source.path.replace("\\", "\\\\").replace('"', '\\"')
            spec = f'library="{quoted}" name="tlsapi system trust"'.encode()
            module = lib.SECMOD_LoadUserModule(ffi.new("char[]", spec), ffi.NULL, lib.PR_FALSE)
            if module == ffi.NULL or not module.loaded:
                code = lib.PR_GetError()
                if module != ffi.NULL:
                    lib.SECMOD_DestroyModule(module)
                self._trust_error = (
                    f"NSS cannot load the trust module {source.path}: {error_text(code)}"
                )
                raise ConfigurationError(self._trust_error)
            self._trust_module = module

    @property
    def trust_loaded(self) -> bool:
        return self._trust_module is not None

    # -- ownership -------------------------------------------------------------------

    def owned(self, pointer: Any, destroy: Callable[[Any], object]) -> Any:
        """``pointer`` freed with ``destroy`` when collected, and counted while alive.

        ``destroy`` should be the C function itself (``lib.X``): it may run
        while the interpreter tears modules down, when module globals are gone.
        """
        release = self._releasers.get(destroy)
        if release is None:
            # One release function per destroy function (a handful), not a closure
            # per object: every connection's socket goes through here.
            def release(p: Any, destroy: Callable[[Any], object] = destroy) -> None:
                try:
                    destroy(p)
                finally:
                    with self._lock:
                        self._live -= 1

            release = self._releasers.setdefault(destroy, release)
        with self._lock:
            self._live += 1
        return ffi.gc(pointer, release)

    @property
    def live_objects(self) -> int:
        return self._live

    # -- exit ----------------------------------------------------------------------

    def shutdown(self) -> bool:
        """Give our NSS reference back if none of our objects is alive (True if done)."""
        if self._context is None:
            return True
        gc.collect()
        with self._lock:
            if self._context is None:
                return True
            if self._live:
                # Freeing them now would pull certificates from under live sockets:
                # NSS stays up and the process's exit cleans up.
                log.debug("NSS left initialised at exit: %d objects still alive", self._live)
                return False
            if self.issued_tickets:
                # A server's tickets wrap their secrets with keys NSS keeps in a static
                # table that only this call frees (with the server session-ID cache,
                # which we never configure); left there, they keep NSS from shutting down.
                lib.SSL_ShutdownServerSessionIDCache()
                self.issued_tickets = False
            if self._trust_module is not None:
                lib.SECMOD_UnloadUserModule(self._trust_module)
                lib.SECMOD_DestroyModule(self._trust_module)
                self._trust_module = None
            status = lib.NSS_ShutdownContext(self._context)
            self._context = None
            if status != lib.SECSuccess:
                log.debug("NSS_ShutdownContext: %s", error_text(lib.PR_GetError()))
                return False
            return True


RUNTIME = Runtime()
