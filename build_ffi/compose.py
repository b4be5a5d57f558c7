"""Compose one cffi out-of-line API-mode builder from cdef modules, one per C header.

Each cdef module defines three strings, in the manner of cryptography's
``_cffi_src``:

    INCLUDES        the #include lines for the generated C module
    TYPES           cdef type and constant declarations
    FUNCTIONS       cdef function declarations

Declarations go into the cdef in that order across all modules (every
module's TYPES before any FUNCTIONS), so a header's functions may use another
header's types.  Because this is API mode, the C compiler checks every
declaration against the real headers when the extension is built.

Our own C lives in real ``.c``/``.h`` files beside the cdef modules, never in
Python strings.  The cdef module of one of our headers includes it
(``INCLUDES = '#include "memio.h"'``) and names the C files that define what
it declares in ``SOURCES``; they are compiled as separate translation units
into the same extension, each including its own header, with the warnings
they turn into errors themselves (``#pragma GCC diagnostic`` at their top:
setuptools has no per-file flags, and the generated module's warnings are
cffi's, not ours).
"""

from __future__ import annotations

import importlib
import os
import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from cffi import FFI

__all__ = ["PkgConfigError", "PkgConfigFlags", "build_ffi", "pkg_config"]


class PkgConfigError(RuntimeError):
    """pkg-config could not find a library's development files."""


@dataclass
class PkgConfigFlags:
    include_dirs: list[str] = field(default_factory=list)
    library_dirs: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    extra_compile_args: list[str] = field(default_factory=list)


def pkg_config(packages: Sequence[str], missing_hint: str) -> PkgConfigFlags:
    """Compiler and linker flags for ``packages``; PkgConfigError with ``missing_hint`` when absent."""
    try:
        cflags = subprocess.run(
            ["pkg-config", "--cflags", *packages], check=True, capture_output=True, text=True
        ).stdout
        libs = subprocess.run(
            ["pkg-config", "--libs", *packages], check=True, capture_output=True, text=True
        ).stdout
    except FileNotFoundError:
        raise PkgConfigError(f"pkg-config is not installed; {missing_hint}") from None
    except subprocess.CalledProcessError as exc:
        raise PkgConfigError(
            f"pkg-config cannot find {' '.join(packages)} ({exc.stderr.strip()}); {missing_hint}"
        ) from None
    flags = PkgConfigFlags()
    for token in shlex.split(cflags):
        if token.startswith("-I"):
            flags.include_dirs.append(token[2:])
        else:
            flags.extra_compile_args.append(token)
    for token in shlex.split(libs):
        if token.startswith("-L"):
            flags.library_dirs.append(token[2:])
        elif token.startswith("-l"):
            flags.libraries.append(token[2:])
    return flags


def build_ffi(
    module_name: str,
    cdef_package: str,
    cdef_modules: Sequence[str],
    flags: PkgConfigFlags,
    *,
    extra_cdef: str = "",
    extra_source: str = "",
    relative_paths: bool = True,
) -> FFI:
    """An FFI builder for ``module_name`` from ``cdef_package.<each of cdef_modules>``.

    ``relative_paths``: name our C files relative to the current directory
    (setuptools runs the builder from the distribution's root, and an sdist
    must not list absolute paths); False for ``FFI.compile``, which compiles
    in another directory.
    """
    modules = [importlib.import_module(f"{cdef_package}.{name}") for name in cdef_modules]
    for module in modules:
        if hasattr(module, "CUSTOMIZATIONS"):
            raise ValueError(
                f"{module.__name__}: C goes into a .c file named in SOURCES (with its .h "
                "in INCLUDES), not into CUSTOMIZATIONS"
            )
    includes = "\n".join(m.INCLUDES for m in modules)
    types = "\n".join(m.TYPES for m in modules)
    functions = "\n".join(m.FUNCTIONS for m in modules)
    sources: list[str] = []
    ours: list[str] = []  # directories of our headers, searched before the libraries'
    depends: list[str] = []  # a changed .c or .h rebuilds the extension
    for module in modules:
        names: Sequence[str] = getattr(module, "SOURCES", ())
        if not names:
            continue
        # abspath, not realpath: the directory as reached through the backend's
        # symbolic links, so that it lies under the distribution's root.
        directory = os.path.dirname(os.path.abspath(str(module.__file__)))
        for name in names:
            sources.append(_path(os.path.join(directory, name), relative_paths))
        if _path(directory, relative_paths) not in ours:
            ours.append(_path(directory, relative_paths))
            depends.extend(
                _path(os.path.join(directory, entry), relative_paths)
                for entry in sorted(os.listdir(directory))
                if entry.endswith((".c", ".h"))
            )
    ffi = FFI()
    ffi.cdef(types + "\n" + functions + "\n" + extra_cdef)
    ffi.set_source(
        module_name,
        includes + "\n" + extra_source,
        sources=sources,
        depends=depends,
        include_dirs=ours + flags.include_dirs,
        library_dirs=flags.library_dirs,
        libraries=flags.libraries,
        extra_compile_args=flags.extra_compile_args,
    )
    return ffi


def _path(path: str, relative: bool) -> str:
    """``path`` relative to the current directory when asked and below it, else absolute."""
    if relative:
        candidate = os.path.relpath(path)
        if candidate != os.pardir and not candidate.startswith(os.pardir + os.sep):
            return candidate
    return os.path.abspath(path)
