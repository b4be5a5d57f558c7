"""Only what pyproject.toml cannot say: the cffi extension (built by build_ffi/securetransport/build.py).

``build_ffi`` here is a symbolic link to the repository's top-level
``build_ffi/`` (the sdist carries a copy; see MANIFEST.in).  The extension
links against macOS's Security and CoreFoundation frameworks and builds only
on macOS; anywhere else the build stops here with a message saying so (on
Linux the cdefs are checked statically by tests/test_securetransport_*.py,
and the GitHub macOS job builds and runs the backend).
"""

import sys

from setuptools import setup

if sys.platform == "darwin":
    setup(cffi_modules=["build_ffi/securetransport/build.py:ffibuilder"])
else:
    raise SystemExit(
        "error: tlsapi-securetransport is the macOS backend (Secure Transport, in the "
        "Security framework) and builds only on macOS; on other systems use "
        "tlsapi-gnutls, tlsapi-nss or tlsapi-schannel"
    )
