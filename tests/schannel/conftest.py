"""The SChannel backend's own tests: they run on Windows, and on Linux under Wine (tools/winenv.py).

On any other platform the directory is not collected at all (SChannel, and
the compiled tlsapi_schannel, exist only on Windows); the report header says
so.  On Windows a tlsapi-schannel that does not load fails these tests.
"""

from __future__ import annotations

import sys

import pytest

import tlsapi

WINDOWS = sys.platform == "win32"
SKIP_REASON = (
    "tests/schannel: SChannel exists only on Windows (run them under Wine: tools/winenv.py)"
)

if not WINDOWS:
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header() -> list[str]:
    return [] if WINDOWS else [f"not collected: {SKIP_REASON}"]


@pytest.fixture(scope="session")
def schannel() -> tlsapi.Backend:
    return tlsapi.backend("schannel")


@pytest.fixture(scope="session")
def stdlib() -> tlsapi.Backend:
    return tlsapi.backend("stdlib")
