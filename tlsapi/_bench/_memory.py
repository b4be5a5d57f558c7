"""Memory per connection: resident set size before and after holding many connections.

RSS counts what the C library allocates as well as Python objects (which
tracemalloc would miss).  Each subject is measured in a fresh child process,
because in one process the memory freed by one subject's connections would
be reused by the next one's and hide its cost.  RSS is read from /proc
(Linux); elsewhere the figure is reported as unavailable, not guessed.

Run as ``python -m tlsapi._bench._memory SUBJECT COUNT``: prints the bytes
per connection (client and server ends together), or ``null``.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["measure_in_subprocess", "rss_bytes"]

_STATM = Path("/proc/self/statm")


def rss_bytes() -> int | None:
    """This process's resident set size, or None where /proc is missing."""
    try:
        fields = _STATM.read_text().split()
    except OSError:
        return None
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE")


def _measure(subject_key: str, count: int) -> float | None:
    from ._credentials import make_credentials
    from ._runner import make_subject

    with tempfile.TemporaryDirectory(prefix="tlsapi-bench-") as scratch:
        subject = make_subject(subject_key, make_credentials(Path(scratch)))
        subject.connected_pairs(2)  # lazy imports, first-use allocations
        gc.collect()
        before = rss_bytes()
        pairs = subject.connected_pairs(count)
        gc.collect()
        after = rss_bytes()
        del pairs
    if before is None or after is None:
        return None
    return max(0.0, (after - before) / count)


def measure_in_subprocess(subject_key: str, count: int, timeout: float = 300.0) -> float | None:
    """Bytes of RSS per connection for one subject, measured in a child process."""
    if not _STATM.exists():
        return None
    result = subprocess.run(
        [sys.executable, "-m", "tlsapi._bench._memory", subject_key, str(count)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise RuntimeError(f"the memory probe failed: {lines[-1] if lines else result.returncode}")
    value = json.loads(result.stdout)
    return None if value is None else float(value)


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], int(sys.argv[2]))))
