"""``mypy --strict`` accepts a user's program written against the public API.

The program is copied outside the repository, so mypy finds tlsapi as a user's
project would: installed (editable, as ``./run`` installs it), through its
``py.typed`` marker, not as a source tree next to the file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

PROGRAM = Path(__file__).with_name("user_program.py")


def test_mypy_strict_accepts_a_user_program(tmp_path: Path) -> None:
    program = tmp_path / "user_program.py"
    shutil.copy(PROGRAM, program)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(program)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
