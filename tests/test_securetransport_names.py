"""Every name the Secure Transport backend takes from its compiled module is one the cdefs declare.

The backend cannot run here, and mypy sees ``lib`` and ``ffi`` as ``Any``: a
misspelt ``lib.errSSLWouldBlok`` or ``ffi.new("SSLCipherSuit[]")`` would only
fail on macOS.  This test reads the backend's sources with ``ast`` and checks
each ``lib.<name>`` against what the cdef modules (with our C transport's)
declare, and each type string given to ``ffi.new``/``ffi.cast``/``ffi.typeof``
against cffi's parse of the same cdefs.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backends" / "securetransport" / "src" / "tlsapi_securetransport"
sys.path.insert(0, str(ROOT))

from build_ffi.securetransport.build import CDEF_MODULES  # noqa: E402


def _cdef_modules() -> list[Any]:
    return [importlib.import_module(f"build_ffi.securetransport.{name}") for name in CDEF_MODULES]


@pytest.fixture(scope="module")
def composed() -> FFI:
    modules = _cdef_modules()
    ffi = FFI()
    ffi.cdef(
        "\n".join(str(m.TYPES) for m in modules)
        + "\n"
        + "\n".join(str(m.FUNCTIONS) for m in modules)
    )
    return ffi


def _uses() -> tuple[list[tuple[str, int, str]], list[tuple[str, int, str]]]:
    """(file, line, name) for each lib.<name>, and for each ffi type string."""
    names, types = [], []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "lib"
            ):
                names.append((path.name, node.lineno, node.attr))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "ffi"
                and node.func.attr in ("new", "cast", "typeof", "sizeof")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                types.append((path.name, node.lineno, node.args[0].value))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "addressof"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                names.append((path.name, node.lineno, str(node.args[1].value)))
    return names, types


def test_the_backend_uses_the_compiled_module() -> None:
    names, types = _uses()
    # Guards against a reader that finds nothing.
    assert len(names) > 60 and len(types) > 10, (len(names), len(types))


def test_every_lib_name_is_declared(composed: FFI) -> None:
    declared = {key.split(" ", 1)[1] for key in composed._parser._declarations}
    names, _ = _uses()
    missing = sorted(
        {f"{file}:{line}: lib.{name}" for file, line, name in names if name not in declared}
    )
    assert not missing, "not declared by the cdefs:\n" + "\n".join(missing)


def test_every_type_string_parses(composed: FFI) -> None:
    _, types = _uses()
    problems = []
    for file, line, text in types:
        try:
            composed.typeof(text)
        except Exception as exc:  # cffi raises several kinds
            problems.append(f"{file}:{line}: {text!r}: {exc}")
    assert not problems, "\n".join(problems)


def _calls() -> list[tuple[str, int, str, int]]:
    """(file, line, function, argument count) for each ``lib.<function>(...)`` call."""
    calls = []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "lib"
            ):
                assert not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)
                calls.append((path.name, node.lineno, node.func.attr, len(node.args)))
    return calls


def test_every_call_passes_as_many_arguments_as_declared(composed: FFI) -> None:
    declarations = composed._parser._declarations
    calls = _calls()
    assert len(calls) > 40, len(calls)
    problems = []
    for file, line, name, count in calls:
        declared = declarations.get(f"function {name}")
        if declared is None:
            problems.append(f"{file}:{line}: lib.{name} is not a function")
        elif len(declared[0].args) != count:
            problems.append(
                f"{file}:{line}: lib.{name} takes {len(declared[0].args)} arguments, {count} given"
            )
    assert not problems, "\n".join(problems)
