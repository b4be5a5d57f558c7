"""Only what pyproject.toml cannot say: the cffi extension (built by build_ffi/nss/build.py).

``build_ffi/`` here holds symbolic links to the repository's top-level
``build_ffi/__init__.py``, ``compose.py`` and ``nss/``; the sdist carries
copies of them (see MANIFEST.in), so it builds on its own.
"""

from setuptools import setup

setup(cffi_modules=["build_ffi/nss/build.py:ffi"])
