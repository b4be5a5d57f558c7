"""tlsapi-securetransport's packaging, checked off macOS (where it cannot build).

The distribution registers its entry point, carries its cffi builder in the
sdist (MANIFEST.in), links the two frameworks, and refuses to build anywhere
but macOS with a message that says so.  On macOS the GitHub job builds and
installs it for real (nox -s tests-securetransport).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
BACKEND = ROOT / "backends" / "securetransport"


def test_distribution_and_entry_point() -> None:
    project = tomllib.loads((BACKEND / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "tlsapi-securetransport"
    entry_points = project["project"]["entry-points"]["tlsapi.backends"]
    assert entry_points == {"securetransport": "tlsapi_securetransport:load_backend"}
    verifiers = project["project"]["entry-points"]["tlsapi.testing.limbo_verifiers"]
    assert verifiers == {"securetransport": "tlsapi_securetransport.testing:limbo_verifier"}
    assert project["tool"]["mypy"]["strict"] is True


def test_the_builder_is_reached_through_the_symlink_and_shipped() -> None:
    link = BACKEND / "build_ffi"
    assert link.is_symlink() and os.readlink(link) == "../../build_ffi"
    assert (link / "securetransport" / "build.py").is_file()
    manifest = (BACKEND / "MANIFEST.in").read_text(encoding="utf-8")
    assert "recursive-include build_ffi/securetransport *.py *.c *.h" in manifest
    assert "include build_ffi/__init__.py build_ffi/compose.py" in manifest
    setup = (BACKEND / "setup.py").read_text(encoding="utf-8")
    assert '"build_ffi/securetransport/build.py:ffibuilder"' in setup


def test_the_builder_links_both_frameworks() -> None:
    text = (ROOT / "build_ffi" / "securetransport" / "build.py").read_text(encoding="utf-8")
    flags = re.findall(r'"-framework",\s*"(\w+)"', text)
    assert sorted(flags) == ["CoreFoundation", "Security"], flags


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS the backend builds")
def test_a_build_off_macos_stops_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "setup.py", "--name"],
        cwd=BACKEND,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "builds only on macOS" in message, message
    assert "tlsapi-securetransport" in message
