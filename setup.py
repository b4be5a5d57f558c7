"""Only what pyproject.toml cannot say: the core's optional C extension.

``tlsapi._speedups`` (tlsapi/_speedups.c) runs the common case of
TLSWrappedBuffer's hot methods in C; the pure-Python core is complete
without it.  ``optional=True``: where it cannot be compiled (no compiler),
the install goes on without it, and so does a Python other than CPython.
"""

import platform

from setuptools import Extension, setup

ext_modules = []
if platform.python_implementation() == "CPython":
    ext_modules.append(
        Extension(
            "tlsapi._speedups",
            sources=["tlsapi/_speedups.c"],
            include_dirs=["tlsapi/include"],
            depends=["tlsapi/include/tlsapi_fast.h"],
            optional=True,
        )
    )

setup(ext_modules=ext_modules)
