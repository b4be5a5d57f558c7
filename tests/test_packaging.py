"""Each native backend builds from its own sdist, as a distribution on PyPI would.

The sdist is made from the checkout, unpacked alone in a temporary directory
(no repository around it: the cffi builder must travel inside), and a wheel
is built from it.  The wheel must hold the compiled extension and register
the backend in the ``tlsapi.backends`` entry-point group.  Builds run
without isolation, with the setuptools and cffi of the test environment,
so the test needs no network.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = sorted(p.parent.name for p in (ROOT / "backends").glob("*/pyproject.toml"))

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the native Linux backends build only on Linux"
)


def _build(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, (
        f"python -m build {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKENDS)
def test_wheel_from_own_sdist(name: str, tmp_path: Path) -> None:
    _build("--sdist", "--outdir", str(tmp_path / "sdist"), str(ROOT / "backends" / name))
    (sdist,) = (tmp_path / "sdist").glob("*.tar.gz")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    (source,) = unpacked.iterdir()
    assert (source / "build_ffi" / name / "build.py").is_file(), "the sdist lacks its cffi builder"

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
