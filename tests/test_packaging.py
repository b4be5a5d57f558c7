"""Each native backend builds from its own sdist, as a distribution on PyPI would.

The sdist is made from the checkout, unpacked alone in a temporary directory
(no repository around it: the cffi builder must travel inside), and a wheel
is built from it.  The wheel must hold the compiled extension and register
the backend in the ``tlsapi.backends`` entry-point group.  Builds run
without isolation, with the setuptools and cffi of the test environment,
so the test needs no network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The backends that build natively here; schannel (Windows only) is checked
# on Linux by the cross-build tests at the end.
CROSS_BUILT = {"schannel"}
BACKENDS = sorted(
    p.parent.name
    for p in (ROOT / "backends").glob("*/pyproject.toml")
    if p.parent.name not in CROSS_BUILT and p.parent.name != "securetransport"
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the native Linux backends build only on Linux"
)


def _build(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=None if env is None else {**os.environ, **env},
    )
    assert result.returncode == 0, (
        f"python -m build {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def _sdist(name: str, tmp_path: Path, env: dict[str, str] | None = None) -> Path:
    """The backend's sdist, unpacked alone; the source directory."""
    _build("--sdist", "--outdir", str(tmp_path / "sdist"), str(ROOT / "backends" / name), env=env)
    (sdist,) = (tmp_path / "sdist").glob("*.tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    (source,) = unpacked.iterdir()
    assert (source / "build_ffi" / name / "build.py").is_file(), "the sdist lacks its cffi builder"
    return source


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKENDS)
def test_wheel_from_own_sdist(name: str, tmp_path: Path) -> None:
    source = _sdist(name, tmp_path)
    _build("--wheel", "--outdir", str(tmp_path / "wheel"), str(source))
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        registered = archive.read(entry_points).decode()
    package = f"tlsapi_{name}"
    assert any(n.startswith(f"{package}/") and n.endswith(".so") for n in names), names
    assert "[tlsapi.backends]" in registered
    assert f"{name} = {package}:load_backend" in registered


CROSS = {"TLSAPI_SCHANNEL_CROSS_BUILD": "1"}


@pytest.mark.slow
@pytest.mark.skipif(
    not (ROOT / "backends" / "schannel" / "pyproject.toml").is_file(), reason="no schannel backend"
)
def test_schannel_refuses_a_linux_build_and_cross_builds_its_python_part(tmp_path: Path) -> None:
    """On Linux tlsapi-schannel builds only as the Wine session's cross-build.

    Without TLSAPI_SCHANNEL_CROSS_BUILD=1 a build stops with a message naming
    ``nox -s wine``; with it, its sdist carries the cffi builder and a wheel
    holds the package and its entry point but no extension (mingw-w64 compiles
    that, tools/winenv.py).
    """
    refused = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--outdir",
         str(tmp_path / "refused"), str(ROOT / "backends" / "schannel")],
        capture_output=True, text=True, timeout=600, check=False,
        env={k: v for k, v in os.environ.items() if k not in CROSS},
    )  # fmt: skip
    assert refused.returncode != 0
    assert "nox -s wine" in refused.stdout + refused.stderr

    source = _sdist("schannel", tmp_path, env=CROSS)
    _build("--wheel", "--outdir", str(tmp_path / "wheel"), str(source), env=CROSS)
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        registered = archive.read(entry_points).decode()
    assert "tlsapi_schannel/__init__.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))], names
    assert "schannel = tlsapi_schannel:load_backend" in registered
