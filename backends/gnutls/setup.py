"""Only what pyproject.toml cannot say: the cffi extension (built by build_ffi/gnutls/build.py).

``build_ffi`` here is a symbolic link to the repository's top-level
``build_ffi/`` (the sdist carries a copy; see MANIFEST.in).
"""

from setuptools import setup

setup(cffi_modules=["build_ffi/gnutls/build.py:ffibuilder"])
