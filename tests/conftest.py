"""Fixtures for the whole suite: the backends under test and throwaway PKIs.

``backend`` runs a test once per backend (ids are backend names);
``client_backend`` and ``server_backend`` together run it for every pair.
The backends under test are every one registered in the ``tlsapi.backends``
entry-point group: one that is installed but does not load or is not
available fails the tests that use it, with its reason (never a silent
drop).  ``TLSAPI_TEST_BACKENDS=stdlib,gnutls`` names the backends to test
instead, the only way to leave an installed one out; naming one that is not
available fails likewise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # Windows: update_system_trust is a Linux-only fixture
    fcntl = None  # type: ignore[assignment]

import tlsapi
from tlsapi._registry import discover_backends
from tlsapi.testing.conformance.fixtures import other_pki, peers, pki, rsa_pki
from tlsapi.testing.conformance.sockets import loopback_tcp

__all__ = ["loopback_tcp", "other_pki", "peers", "pki", "rsa_pki"]

ENV_BACKENDS = "TLSAPI_TEST_BACKENDS"

# tests/wine drives a Windows process under Wine from Linux: only `nox -s wine`
# runs it (it sets TLSAPI_WINE_TESTS=1 and checks that its tests ran), never
# the plain Linux run nor the Windows process itself.
collect_ignore = [] if os.environ.get("TLSAPI_WINE_TESTS") == "1" and os.name != "nt" else ["wine"]


def _backend_names() -> list[str]:
    requested = os.environ.get(ENV_BACKENDS, "").strip()
    if requested:
        return [name.strip() for name in requested.split(",") if name.strip()]
    # Every registered backend, usable or not: an installed one whose library
    # fails to load must fail the run, not vanish from it.
    available = [b.name for b in tlsapi.available_backends()]
    return available + sorted(set(discover_backends()) - set(available))


BACKEND_NAMES = _backend_names()


def pytest_report_header() -> list[str]:
    lines = [f"tlsapi backends under test: {', '.join(BACKEND_NAMES) or 'none'}"]
    records = discover_backends()
    lines += [
        f"  {name}: NOT AVAILABLE ({record.why_not}); its tests fail"
        for name in BACKEND_NAMES
        if (record := records.get(name)) is not None and not record.available
    ]
    return lines


# No backend at all must fail loudly, not collect zero tests.
_PARAMS = BACKEND_NAMES or ["<none available>"]


def _resolve(name: str) -> tlsapi.Backend:
    try:
        return tlsapi.backend(name)
    except tlsapi.ConfigurationError as exc:
        pytest.fail(f"backend {name!r} under test is not usable: {exc}", pytrace=False)


@pytest.fixture(params=_PARAMS, ids=_PARAMS)
def backend(request: pytest.FixtureRequest) -> tlsapi.Backend:
    """Each backend under test in turn."""
    return _resolve(request.param)


@pytest.fixture(params=_PARAMS, ids=[f"client={n}" for n in _PARAMS])
def client_backend(request: pytest.FixtureRequest) -> tlsapi.Backend:
    """Each backend under test as the client (combine with ``server_backend``)."""
    return _resolve(request.param)


@pytest.fixture(params=_PARAMS, ids=[f"server={n}" for n in _PARAMS])
def server_backend(request: pytest.FixtureRequest) -> tlsapi.Backend:
    """Each backend under test as the server (combine with ``client_backend``)."""
    return _resolve(request.param)


@pytest.fixture(scope="session")
def update_system_trust() -> Callable[[], None]:
    """Run update-ca-certificates, one process at a time across pytest-xdist workers.

    Two runs at once append to the same ``ca-certificates.crt.new`` and leave a
    truncated bundle behind (seen: 6 certificates instead of ~140), which breaks
    every test that reads the system store meanwhile.
    """
    program = shutil.which("update-ca-certificates")

    def run() -> None:
        assert fcntl is not None, "update-ca-certificates is a Linux (Debian) program"
        assert program is not None, "update-ca-certificates is not installed"
        lock_path = Path(tempfile.gettempdir()) / "tlsapi-update-ca-certificates.lock"
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                subprocess.run([program], check=True, capture_output=True, timeout=300)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    return run
