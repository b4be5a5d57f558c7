"""Our C as real sources (build_ffi/<backend>/*.c, *.h): naming, headers, warnings.

* Every C name we define carries its backend's prefix (``tlsapi_gnutls_`` /
  ``TLSAPI_GNUTLS_``, ``tlsapi_nss_`` / ``TLSAPI_NSS_``), and so does every
  ``tlsapi_`` name the cdef modules declare (the ``extern "Python"`` callbacks
  included).
* The cdef module of one of our headers declares exactly the functions the
  header declares, with the same signatures (cffi's generated module would
  only warn about a mismatch), and no cdef module carries C code.
* Each ``.c`` file turns -Wall, -Wextra, -Wconversion and -Wshadow warnings
  into errors before anything is included: checked by compiling the file with
  a deliberate warning appended, which must fail.
"""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_FFI = ROOT / "build_ffi"
BACKENDS = sorted(p.name for p in BUILD_FFI.iterdir() if (p / "build.py").is_file())
C_FILES = sorted(p for b in BACKENDS for p in (BUILD_FFI / b).glob("*.[ch]"))
PKG_CONFIG = {"gnutls": ["gnutls"], "nss": ["nss", "nspr"]}
REQUIRED_ERRORS = ("-Wall", "-Wextra", "-Wconversion", "-Wshadow")
CDEF_NAMES = {"INCLUDES", "TYPES", "FUNCTIONS", "SOURCES", "CUSTOMIZATIONS"}


def _strings(path: Path) -> dict[str, object]:
    """The module-level constants of a cdef module, read without importing it.

    A constant composed at import time (schannel.py adds to TYPES what
    wincrypt.py does not declare) is taken from the imported module instead.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in CDEF_NAMES:
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    values[target.id] = getattr(_import_cdef_module(path), target.id)
    return values


def _import_cdef_module(path: Path) -> object:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


def _without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _normalise(declaration: str) -> str:
    text = re.sub(r"\s+", " ", declaration).strip()
    return re.sub(r"\s*([(),*;])\s*", r"\1", text)


def _prototypes(text: str) -> set[str]:
    """The function declarations at file scope (``name(...);``) in C or cdef text."""
    text = _without_comments(text)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    found = set()
    for piece in text.split(";"):
        statement = piece.strip()
        if (
            "(" in statement
            and not any(brace in statement for brace in "{}")
            and not statement.startswith(("typedef", "extern"))
        ):
            found.add(_normalise(statement + ";"))
    return found


def _defined_names(text: str) -> set[str]:
    """Names a C file defines at file scope: functions, variables, types, macros."""
    code = _without_comments(text)
    names = set(re.findall(r"^\s*#\s*define\s+(\w+)", code, flags=re.M))
    names |= set(re.findall(r"}\s*(\w+)\s*;", code))  # typedef struct {...} name;
    # A declaration or definition starting in column 0 (static or not).
    pattern = r"^(?!#|\s|typedef|}|{)[^;{}()=:\n]*?\b(\w+)\s*(?:\(|=|;|\[)"
    for match in re.finditer(pattern, code, re.M):
        names.add(match.group(1))
    return names


@pytest.mark.parametrize("path", C_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_c_names_carry_the_backend_prefix(path: Path) -> None:
    backend = path.parent.name
    prefixes = (f"tlsapi_{backend}_", f"TLSAPI_{backend.upper()}_")
    names = _defined_names(path.read_text(encoding="utf-8"))
    # Feature-test macros (_GNU_SOURCE) are the C library's names, not ours.
    offending = sorted(n for n in names if not n.startswith(prefixes) and not n.startswith("_"))
    assert names, f"{path}: no definitions found (has the parser stopped seeing them?)"
    assert not offending, f"{path}: names without the {prefixes[0]} prefix: {offending}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_cdef_tlsapi_names_carry_the_backend_prefix(backend: str) -> None:
    offending = []
    for module in sorted((BUILD_FFI / backend).glob("*.py")):
        values = _strings(module)
        for key in ("TYPES", "FUNCTIONS"):
            text = str(values.get(key, ""))
            for name in re.findall(r"\b_?tlsapi_\w+", text):
                if not name.startswith(f"tlsapi_{backend}_"):
                    offending.append(f"{module.name}: {name}")
    assert not offending, offending


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_c_code_in_cdef_modules(backend: str) -> None:
    for module in sorted((BUILD_FFI / backend).glob("*.py")):
        values = _strings(module)
        assert "CUSTOMIZATIONS" not in values, f"{module.name}: C goes into a .c file"
        for key in ("INCLUDES", "FUNCTIONS"):
            assert "{" not in str(values.get(key, "")), f"{module.name}.{key} holds C code"


def _own_cdef_modules() -> list[tuple[Path, Path]]:
    """(cdef module, our header it includes) for every module that names SOURCES."""
    pairs = []
    for backend in BACKENDS:
        for module in sorted((BUILD_FFI / backend).glob("*.py")):
            values = _strings(module)
            if values.get("SOURCES"):
                (header,) = re.findall(r'#include "(\w+\.h)"', str(values["INCLUDES"]))
                pairs.append((module, module.parent / header))
    return pairs


OWN_CDEFS = _own_cdef_modules()


def test_every_c_file_is_named_by_a_cdef_module() -> None:
    named = set()
    for module, _header in OWN_CDEFS:
        sources = _strings(module)["SOURCES"]
        assert isinstance(sources, tuple)
        named |= {module.parent / str(name) for name in sources}
    assert named == {p for p in C_FILES if p.suffix == ".c"}


@pytest.mark.parametrize(
    ("module", "header"), OWN_CDEFS, ids=[f"{m.parent.name}/{m.name}" for m, _ in OWN_CDEFS]
)
def test_cdef_declares_what_the_header_declares(module: Path, header: Path) -> None:
    declared = _prototypes(str(_strings(module)["FUNCTIONS"]))
    in_header = _prototypes(header.read_text(encoding="utf-8"))
    assert declared, f"{module.name} declares no function"
    assert declared == in_header, (
        f"only in {module.name}: {sorted(declared - in_header)}; "
        f"only in {header.name}: {sorted(in_header - declared)}"
    )


def _flags(backend: str) -> list[str]:
    if backend not in PKG_CONFIG:
        # securetransport's C includes Apple's headers, which exist only on macOS
        # (tests/test_securetransport_csources.py compiles it against stubs here).
        if sys.platform != "darwin":
            pytest.skip(f"{backend}'s C compiles against Apple's headers, on macOS only")
        return []
    try:
        result = subprocess.run(
            ["pkg-config", "--cflags", *PKG_CONFIG[backend]],
            capture_output=True,
            text=True,
            check=True,
        )
    except (FileNotFoundError, subprocess.CalledProcessError):
        pytest.skip(f"pkg-config cannot find the {backend} development files")
    return result.stdout.split()


# A conversion that may change the value, a shadowed parameter, an unused variable.
DELIBERATE = {
    "-Wconversion": "int tlsapi_probe_a(long x);\nint tlsapi_probe_a(long x) { int y = x; return y; }",
    "-Wshadow": "int tlsapi_probe_b(int x);\nint tlsapi_probe_b(int x) { { int x = 1; return x; } }",
    "-Wall": "int tlsapi_probe_c(void);\nint tlsapi_probe_c(void) { int unused; return 0; }",
    "-Wextra": "int tlsapi_probe_d(int x, int y);\nint tlsapi_probe_d(int x, int y) { return x; }",
}


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.parametrize(
    "path", [p for p in C_FILES if p.suffix == ".c"], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_warnings_are_errors_in_our_c(path: Path, tmp_path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first_include = text.index("#include")
    pragmas = re.findall(r'#pragma GCC diagnostic error "(-W[\w-]+)"', text[:first_include])
    assert set(REQUIRED_ERRORS) <= set(pragmas), f"{path.name} lacks {REQUIRED_ERRORS}"
    flags = [*_flags(path.parent.name), f"-I{path.parent}", "-fsyntax-only"]
    # As it is, the file compiles: no warning (each would be an error).
    clean = subprocess.run(["gcc", *flags, str(path)], capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stderr
    for option, snippet in DELIBERATE.items():
        probe = tmp_path / path.name
        probe.write_text(text + "\n" + snippet + "\n", encoding="utf-8")
        # With the warnings off on the command line: the pragmas hold our code to them.
        result = subprocess.run(
            ["gcc", *flags, "-Wno-all", "-Wno-extra", str(probe)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0, f"{path.name}: a {option} warning did not fail the build"
        assert "-Werror=" in result.stderr, result.stderr
