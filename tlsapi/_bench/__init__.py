"""The benchmark engine behind ``tlsapi bench`` (the command line is in tlsapi._cli.bench).

Every available backend and Python's ``ssl`` module used directly do the
same work in the same run: handshakes, bulk through buffers, small echoes,
bulk over loopback sockets, memory per connection.  See _runner for how
noise is kept down and _subject for what each workload does.
"""

from ._report import as_json
from ._runner import ALL_METRICS, MEMORY, METRICS, BenchRun, Settings, run_benchmark

__all__ = [
    "ALL_METRICS",
    "MEMORY",
    "METRICS",
    "BenchRun",
    "Settings",
    "as_json",
    "run_benchmark",
]
