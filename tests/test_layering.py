"""The layering rules of DESIGN.md, read from the sources' imports with ``ast``.

* Backends (``backends/*/src``) use the public ``tlsapi`` API and
  ``tlsapi.backend_api``, never a private ``tlsapi._*`` module, so the core
  can reorganise its private modules without breaking a backend.
* The core (``tlsapi/``, the stdlib backend included) imports no backend.
* Backends do not import each other.
* The cffi builders (``build_ffi/``) do not import tlsapi or a backend.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BACKEND_SOURCES = sorted(p for p in (ROOT / "backends").glob("*/src") if p.is_dir())
# Every top-level package a backend distribution ships (tlsapi_gnutls, tlsapi_nss, ...).
BACKEND_PACKAGES = {
    package.name: source
    for source in BACKEND_SOURCES
    for package in source.iterdir()
    if (package / "__init__.py").is_file()
}


def _python_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) for every absolute import and ``tlsapi._x`` attribute in ``path``.

    ``from a import b`` yields ``a.b`` (b may be a module), so that
    ``from tlsapi import _policy`` is seen as well as ``from tlsapi._policy import x``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "tlsapi"
        ):
            yield node.lineno, f"tlsapi.{node.attr}"


def _is_private_core(name: str) -> bool:
    """Whether ``name`` reaches into tlsapi through a private (``_x``, not dunder) part."""
    parts = name.split(".")
    return parts[0] == "tlsapi" and any(
        part.startswith("_") and not part.startswith("__") for part in parts[1:]
    )


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_the_backends_are_found() -> None:
    # Guards the other tests against passing because they read nothing.
    assert {"tlsapi_gnutls", "tlsapi_nss"} <= set(BACKEND_PACKAGES)


@pytest.mark.parametrize("source", BACKEND_SOURCES, ids=lambda p: p.parent.name)
def test_backends_import_no_private_core_module(source: Path) -> None:
    offences = [
        f"{_where(path, line)}: {name}"
        for path in _python_files(source)
        for line, name in _imports(path)
        if _is_private_core(name)
    ]
    assert not offences, (
        "backends must use tlsapi and tlsapi.backend_api, not private core modules:\n"
        + "\n".join(offences)
    )


@pytest.mark.parametrize("source", BACKEND_SOURCES, ids=lambda p: p.parent.name)
def test_backends_do_not_import_each_other(source: Path) -> None:
    own = {name for name, where in BACKEND_PACKAGES.items() if where == source}
    others = set(BACKEND_PACKAGES) - own
    offences = [
        f"{_where(path, line)}: {name}"
        for path in _python_files(source)
        for line, name in _imports(path)
        if name.split(".")[0] in others
    ]
    assert not offences, "a backend imports another backend:\n" + "\n".join(offences)


def test_core_imports_no_backend() -> None:
    offences = [
        f"{_where(path, line)}: {name}"
        for path in _python_files(ROOT / "tlsapi")
        for line, name in _imports(path)
        if name.split(".")[0] in BACKEND_PACKAGES
    ]
    assert not offences, (
        "the core finds backends through entry points, it does not import them:\n"
        + "\n".join(offences)
    )


def test_builders_import_no_tlsapi() -> None:
    # The builders run at build time, before tlsapi (or a backend) is installed.
    forbidden = {"tlsapi", *BACKEND_PACKAGES}
    offences = [
        f"{_where(path, line)}: {name}"
        for path in _python_files(ROOT / "build_ffi")
        for line, name in _imports(path)
        if name.split(".")[0] in forbidden
    ]
    assert not offences, "build_ffi imports tlsapi:\n" + "\n".join(offences)


@pytest.mark.parametrize(
    ("name", "private"),
    [
        ("tlsapi._policy", True),
        ("tlsapi._policy.check_peer_chain", True),
        ("tlsapi.testing._support", True),
        ("tlsapi.backend_api.ServerName", False),
        ("tlsapi.__version__", False),
        ("tlsapi_gnutls._buffer", False),
    ],
)
def test_private_core_names_are_recognised(name: str, private: bool) -> None:
    assert _is_private_core(name) is private


def test_every_backend_api_name_is_documented() -> None:
    import tlsapi.backend_api

    doc = tlsapi.backend_api.__doc__ or ""
    missing = [name for name in tlsapi.backend_api.__all__ if f"`{name}`" not in doc]
    assert not missing, f"tlsapi.backend_api's docstring does not describe {missing}"


def _assigned_attributes(path: Path) -> dict[str, int]:
    """``self.<name>`` assignments in ``path``: name -> first line."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                found.setdefault(target.attr, target.lineno)
    return found


# The core state only tlsapi/_buffer.py may set; backends may read some of it.
_CORE_BUFFER_STATE = _assigned_attributes(ROOT / "tlsapi" / "_buffer.py")


@pytest.mark.parametrize(
    "path",
    [p for source in BACKEND_SOURCES for p in _python_files(source) if p.name == "_buffer.py"]
    + [ROOT / "tlsapi" / "_stdlib" / "_buffer.py"],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_backend_buffers_do_not_overwrite_the_core_state(path: Path) -> None:
    """A backend attribute named like the core's (the lock's ``_lock_token``, ``_state``...)
    would silently replace it: the connection's lock or state machine gone."""
    clashes = {
        name: line
        for name, line in _assigned_attributes(path).items()
        if name in _CORE_BUFFER_STATE
        and name not in {"_server_hostname"}  # a server learns it from the ClientHello
    }
    assert not clashes, f"{path.relative_to(ROOT)} sets the core's attributes: {clashes}"
