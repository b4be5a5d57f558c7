"""Compose one cffi out-of-line API-mode builder from cdef modules, one per C header.

Each cdef module defines four strings, in the manner of cryptography's old
``_cffi_src``:

    INCLUDES        the #include lines (and feature macros) for the C source
    TYPES           cdef type and constant declarations
    FUNCTIONS       cdef function declarations
    CUSTOMIZATIONS  C code appended to the source (shims, feature flags)

Declarations go into the cdef in that order across all modules (every
module's TYPES before any FUNCTIONS), so a header's functions may use another
header's types.  Because this is API mode, the C compiler checks every
declaration against the real headers when the extension is built.
"""

from __future__ import annotations

import importlib
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
) -> FFI:
    """An FFI builder for ``module_name`` from ``cdef_package.<each of cdef_modules>``."""
    modules = [importlib.import_module(f"{cdef_package}.{name}") for name in cdef_modules]
    includes = "\n".join(m.INCLUDES for m in modules)
    types = "\n".join(m.TYPES for m in modules)
    functions = "\n".join(m.FUNCTIONS for m in modules)
    customizations = "\n".join(m.CUSTOMIZATIONS for m in modules)
    ffi = FFI()
    ffi.cdef(types + "\n" + functions + "\n" + extra_cdef)
    ffi.set_source(
        module_name,
        includes + "\n" + customizations + "\n" + extra_source,
        include_dirs=flags.include_dirs,
        library_dirs=flags.library_dirs,
        libraries=flags.libraries,
        extra_compile_args=flags.extra_compile_args,
    )
    return ffi
