"""The cffi builder of the Secure Transport backend: ``tlsapi_securetransport._securetransport``.

Out-of-line API mode, linked with ``-framework Security -framework
CoreFoundation``.  setuptools runs this file through ``cffi_modules`` (exec'd,
not imported) on macOS only: backends/securetransport/setup.py refuses to
build anywhere else.  On Linux the cdef modules are still parsed and
cross-checked against Debian's independent declarations of the same API
(tests/test_securetransport_cdefs.py); only a macOS compiler checks them
against Apple's headers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = Path(os.path.abspath(__file__)).parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from build_ffi.compose import PkgConfigFlags, build_ffi  # noqa: E402

MODULE_NAME = "tlsapi_securetransport._securetransport"
# corefoundation and secbase first: every other module uses their types; our C
# transport (transport.c/.h/.py) last.
CDEF_MODULES = (
    "corefoundation",
    "secbase",
    "seccertificate",
    "secidentity",
    "secpolicy",
    "sectrust",
    "seckeychain",
    "secimportexport",
    "securetransport",
    "transport",
)
LINK_ARGS = ("-framework", "Security", "-framework", "CoreFoundation")


def make_builder(*, relative_paths: bool = True):  # type: ignore[no-untyped-def]
    flags = PkgConfigFlags()
    ffi = build_ffi(
        MODULE_NAME,
        "build_ffi.securetransport",
        CDEF_MODULES,
        flags,
        relative_paths=relative_paths,
    )
    # build_ffi's flags have no link arguments: the frameworks are added here.
    ffi._assigned_source[3].setdefault("extra_link_args", []).extend(LINK_ARGS)
    return ffi


ffibuilder = make_builder(relative_paths=__name__ != "__main__")

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
