"""Only what pyproject.toml cannot say: the cffi extension (built by build_ffi/schannel/build.py).

``build_ffi`` here is a symbolic link to the repository's top-level
``build_ffi/`` (the sdist carries a copy; see MANIFEST.in).  The extension
builds with MSVC on Windows.  On Linux the only build is the cross-build that
``nox -s wine`` (tools/winenv.py) makes with mingw-w64: it sets
TLSAPI_SCHANNEL_CROSS_BUILD=1 to get the pure-Python part here and adds the
extension it compiled itself.
"""

import os
import sys

from setuptools import setup

if sys.platform == "win32":
    setup(cffi_modules=["build_ffi/schannel/build.py:ffibuilder"])
elif os.environ.get("TLSAPI_SCHANNEL_CROSS_BUILD") == "1":
    setup()
else:
    raise SystemExit(
        "error: tlsapi-schannel is the Windows backend (SChannel) and builds only on "
        "Windows; on Linux, `nox -s wine` cross-builds it and tests it under Wine"
    )
