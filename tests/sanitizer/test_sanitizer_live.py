"""Proof that AddressSanitizer and UBSan are live in this very run (``nox -s sanitizers``).

A sanitizer that is not loaded reports nothing, and a clean report then
proves nothing.  These tests fail (never skip) unless the process runs with
the sanitizer runtimes preloaded, Python's objects come from ASan's
allocator, the backends' extension modules are instrumented, and a
deliberate out-of-bounds read and signed overflow in ``probe.c`` (built by
the session with the backends' flags) are caught and stop the process.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import subprocess
import sys
from pathlib import Path

PROBE = os.environ["TLSAPI_SANITIZER_PROBE"]
# The backends' cffi modules, and the core's C fast path (tlsapi/_speedups.c).
BACKEND_EXTENSIONS = ("tlsapi_gnutls._gnutls", "tlsapi_nss._nss", "tlsapi._speedups")
SURVIVED = "the probe returned"


def _run_probe(call: str) -> subprocess.CompletedProcess[str]:
    """Call ``call`` on the probe library in a child with this run's environment."""
    code = f"import ctypes, sys; lib = ctypes.CDLL(sys.argv[1]); lib.{call}; print({SURVIVED!r})"
    env = dict(os.environ)
    # The session sends ASan's reports to files; the child's must come back on its stderr.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":log_path=stderr"
    return subprocess.run(
        [sys.executable, "-c", code, PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_out_of_bounds_read_is_reported_and_fatal() -> None:
    child = _run_probe("tlsapi_probe_read_past_end(16)")
    assert "ERROR: AddressSanitizer: heap-buffer-overflow" in child.stderr, child.stderr[-4000:]
    assert "READ of size 1" in child.stderr, child.stderr[-4000:]
    assert "tlsapi_probe_read_past_end" in child.stderr, child.stderr[-4000:]
    assert child.returncode != 0
    assert SURVIVED not in child.stdout


def test_undefined_behaviour_is_reported_and_fatal() -> None:
    child = _run_probe("tlsapi_probe_add(2147483647, 1)")
    assert "runtime error: signed integer overflow" in child.stderr, child.stderr[-4000:]
    assert child.returncode != 0
    assert SURVIVED not in child.stdout


def test_this_process_runs_under_the_sanitizers() -> None:
    for name in BACKEND_EXTENSIONS:
        importlib.import_module(name)
    maps = Path("/proc/self/maps").read_text()
    assert "libasan.so" in maps, "libasan is not loaded: LD_PRELOAD is missing"
    assert "libubsan.so" in maps, "libubsan is not loaded: LD_PRELOAD is missing"
    for name in BACKEND_EXTENSIONS:
        path = sys.modules[name].__file__
        assert path is not None
        assert path in maps, f"{name} was imported but is not mapped from {path}"
    import tlsapi._buffer

    assert tlsapi._buffer.SPEEDUPS, "the core's C fast path is not in use"

    # Python's objects come from ASan's allocator (PYTHONMALLOC=malloc): the byte
    # after a bytes object's block is a poisoned redzone, the last byte is not.
    runtime = ctypes.CDLL(None)
    is_poisoned = runtime.__asan_address_is_poisoned
    is_poisoned.argtypes = [ctypes.c_void_p]
    is_poisoned.restype = ctypes.c_int
    data = bytes(range(37))
    end = id(data) + sys.getsizeof(data)
    assert is_poisoned(end - 1) == 0
    assert is_poisoned(end) == 1, "Python objects do not come from ASan's allocator"
