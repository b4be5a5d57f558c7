"""The cffi builder of the GnuTLS backend: ``tlsapi_gnutls._gnutls`` in out-of-line API mode.

setuptools runs this file through ``cffi_modules`` (it is exec'd, not
imported), from the repository or from the backend's own sdist, which
carries a copy of ``build_ffi/``.  Compile and link flags come from
pkg-config; when GnuTLS's development files are missing the build stops
with a message naming the package to install.  Our own C is in
``transport.c`` and ``shims.c`` beside this file (see ``compose.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Exec'd by cffi: make the directory that holds build_ffi/ importable.  abspath,
# not resolve(): build_ffi/ stays the one reached through the backend's symbolic
# link, so our C files' paths lie under the distribution's root.
_ROOT = Path(os.path.abspath(__file__)).parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from build_ffi.compose import PkgConfigError, build_ffi, pkg_config  # noqa: E402

MODULE_NAME = "tlsapi_gnutls._gnutls"
CDEF_MODULES = ("gnutls", "x509", "abstract", "transport", "sockpath", "shims")
# Keep in step with tlsapi_gnutls._binding.MINIMUM_VERSION (TLS 1.3 as in RFC 8446,
# gnutls_priority_init2 with GNUTLS_PRIORITY_INIT_DEF_APPEND, gnutls_ext_raw_parse).
MINIMUM_VERSION = (3, 6, 5)

MISSING_HINT = (
    "the GnuTLS development files (headers and gnutls.pc) are needed to build tlsapi-gnutls: "
    "install libgnutls28-dev (Debian/Ubuntu), gnutls-devel (Fedora/RHEL/openSUSE) "
    "or gnutls (Arch, Homebrew), plus pkg-config"
)

_MAJOR, _MINOR, _PATCH = MINIMUM_VERSION
_VERSION_GUARD = f"""
#if GNUTLS_VERSION_NUMBER < 0x{_MAJOR:02x}{_MINOR:02x}{_PATCH:02x}
#error "tlsapi-gnutls needs GnuTLS >= {_MAJOR}.{_MINOR}.{_PATCH} (found " GNUTLS_VERSION ")"
#endif
"""


def make_builder():  # type: ignore[no-untyped-def]
    try:
        flags = pkg_config(["gnutls"], MISSING_HINT)
    except PkgConfigError as exc:
        raise SystemExit(f"error: {exc}") from None
    if sys.platform.startswith("linux"):
        flags.libraries.append("dl")  # dladdr() for the library path (glibc < 2.34)
    return build_ffi(
        MODULE_NAME,
        "build_ffi.gnutls",
        CDEF_MODULES,
        flags,
        extra_source=_VERSION_GUARD,
        # run as a script, FFI.compile builds in another directory
        relative_paths=__name__ != "__main__",
    )


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
