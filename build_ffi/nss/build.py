"""The cffi builder of the NSS backend (out-of-line API mode).

Used by ``backends/nss/setup.py`` (``cffi_modules``) and runnable alone:
``python build_ffi/nss/build.py`` compiles ``tlsapi_nss._nss`` in place.
The headers are found with pkg-config (``nss`` and ``nspr``); without them
the build stops with a message naming the package to install.  Our own C
is in the ``.c``/``.h`` files beside this file (see ``compose.py``).
"""

from __future__ import annotations

import os
import sys

# cffi runs this file by path: make the top-level ``build_ffi`` package importable
# from a checkout and from the backend's sdist (where build_ffi/ sits next to setup.py).
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from build_ffi.compose import PkgConfigError, build_ffi, pkg_config  # noqa: E402

MODULE_NAME = "tlsapi_nss._nss"

# NSPR first, then NSS's common types, certificates, keys, PKCS#11, TLS; then our own
# headers (verify.h, keys.h, shims.h, memio.h) and the Python callbacks.
CDEF_MODULES = (
    "prtypes",
    "prerror",
    "prio",
    "seccomon",
    "nss",
    "secmod",
    "certt",
    "keyhi",
    "cert",
    "pk11pub",
    "secerr",
    "sslerr",
    "sslproto",
    "sslt",
    "ssl",
    "sslexp",
    "verify",
    "keys",
    "shims",
    "memio",
    "fast",
    "hooks",
)

MISSING_HINT = (
    "tlsapi-nss needs the NSS and NSPR development files (headers and pkg-config data): "
    "on Debian/Ubuntu 'apt install libnss3-dev pkg-config', "
    "on Fedora/RHEL 'dnf install nss-devel pkgconf-pkg-config'"
)


def make_ffi() -> object:
    try:
        flags = pkg_config(["nss", "nspr"], MISSING_HINT)
    except PkgConfigError as exc:
        sys.stderr.write(f"\nerror: {exc}\n\n")
        raise
    return build_ffi(
        MODULE_NAME,
        "build_ffi.nss",
        CDEF_MODULES,
        flags,
        # run as a script, FFI.compile builds in another directory
        relative_paths=__name__ != "__main__",
    )


ffi = make_ffi()

if __name__ == "__main__":
    ffi.compile(tmpdir=os.path.join(_ROOT, "backends", "nss", "src"), verbose=True)  # type: ignore[attr-defined]
