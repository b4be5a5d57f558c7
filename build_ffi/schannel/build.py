"""The cffi builder of the SChannel backend: ``tlsapi_schannel._schannel`` in out-of-line API mode.

On Windows, setuptools runs this file through ``cffi_modules`` (it is exec'd,
not imported) and MSVC compiles the module against the Windows SDK.  On
Linux, ``tools/winenv.py`` (``nox -s wine``) imports ``make_builder`` and
cross-compiles the same C with mingw-w64 for the Windows Python that runs
under Wine.  The cdefs must therefore parse with cffi on either host: they
declare the Windows types they use themselves (``windows.py``) instead of
relying on the types cffi predefines only on Windows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = Path(os.path.abspath(__file__)).parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from build_ffi.compose import PkgConfigFlags, build_ffi  # noqa: E402

MODULE_NAME = "tlsapi_schannel._schannel"
# windows first: its INCLUDES set the macros the SDK headers read (SECURITY_WIN32,
# SCHANNEL_USE_BLACKLISTS) and declares the base types every other module uses;
# wincrypt before schannel, whose credential structures hold certificate contexts.
CDEF_MODULES = ("windows", "wincrypt", "ncrypt", "bcrypt", "sspi", "schannel")
# The import libraries (MSVC and mingw-w64 both have them).
LIBRARIES = ("secur32", "crypt32", "ncrypt", "bcrypt", "advapi32", "kernel32")


def make_builder(*, relative_paths: bool = True):  # type: ignore[no-untyped-def]
    flags = PkgConfigFlags(libraries=list(LIBRARIES))
    return build_ffi(
        MODULE_NAME,
        "build_ffi.schannel",
        CDEF_MODULES,
        flags,
        relative_paths=relative_paths,
    )


ffibuilder = make_builder(relative_paths=__name__ != "__main__")

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
