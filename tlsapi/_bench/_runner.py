"""Running the benchmark: every subject, every metric, interleaved rounds, best of N.

The machine is shared and noisy, so no figure is taken alone: each round
runs every metric for every subject in turn (the order rotated from round to
round, so no subject always goes first or last), and a subject's figure is
its best round.  Ratios compare figures from the same run.  A figure a
subject cannot give in this install (the asyncio figure without tlsapi's
ssl-compatible adapter, memory without /proc) is "unavailable" with a
reason; that is not a failure, unlike an error.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._backend import Backend
from ._credentials import BenchCredentials, make_credentials
from ._memory import measure_in_subprocess
from ._raw import RawSSLSubject
from ._subject import Subject, Unavailable
from ._tlsapi import BackendSubject

__all__ = ["METRICS", "Metric", "Result", "Settings", "make_subject", "run_benchmark"]

MiB = 1 << 20


@dataclasses.dataclass(frozen=True)
class Settings:
    rounds: int = 7
    duration: float = 0.3  # seconds per timed sample
    socket_bytes: int = 64 * MiB  # per loopback sample
    memory_connections: int = 200
    quick: bool = False

    @classmethod
    def quick_run(cls) -> Settings:
        return cls(rounds=2, duration=0.05, socket_bytes=4 * MiB, memory_connections=20, quick=True)


@dataclasses.dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    measure: Callable[[Subject, Settings], float]


METRICS: tuple[Metric, ...] = (
    Metric(
        "handshakes_per_s", "handshakes/s", "1/s", True, lambda s, c: s.handshake_rate(c.duration)
    ),
    Metric(
        "handshakes_x25519_per_s",
        "handshakes/s, X25519 for all",
        "1/s",
        True,
        lambda s, c: s.pinned_handshake_rate(c.duration),
    ),
    Metric(
        "buffer_bulk_mb_per_s",
        "bulk in memory, MB/s",
        "MB/s",
        True,
        lambda s, c: s.buffer_bulk_rate(c.duration) / 1e6,
    ),
    Metric(
        "echo_round_trips_per_s",
        "64-byte echo, round trips/s",
        "1/s",
        True,
        lambda s, c: s.echo_rate(c.duration),
    ),
    Metric(
        "socket_bulk_mb_per_s",
        "bulk over loopback, MB/s",
        "MB/s",
        True,
        lambda s, c: s.socket_bulk_rate(c.socket_bytes) / 1e6,
    ),
    Metric(
        "socket_echo_round_trips_per_s",
        "64-byte echo over loopback, round trips/s",
        "1/s",
        True,
        lambda s, c: s.socket_echo_rate(c.duration),
    ),
    Metric(
        "asyncio_http_round_trips_per_s",
        "asyncio HTTP/1.1, round trips/s",
        "1/s",
        True,
        lambda s, c: s.asyncio_rate(c.duration),
    ),
)
MEMORY = Metric(
    "memory_kib_per_connection",
    "memory per connection, KiB",
    "KiB",
    False,
    lambda s, c: 0.0,  # measured in a child process, see _memory
)
ALL_METRICS = (*METRICS, MEMORY)


@dataclasses.dataclass
class Result:
    """One subject's samples for one metric."""

    samples: list[float] = dataclasses.field(default_factory=list)
    error: str | None = None
    unavailable: str | None = None  # why this install cannot take the figure (not a failure)
    higher_is_better: bool = True

    @property
    def skipped(self) -> bool:
        return self.error is not None or self.unavailable is not None

    @property
    def best(self) -> float | None:
        if self.skipped or not self.samples:
            return None
        return max(self.samples) if self.higher_is_better else min(self.samples)

    @property
    def median(self) -> float | None:
        if self.skipped or not self.samples:
            return None
        return statistics.median(self.samples)


@dataclasses.dataclass
class BenchRun:
    settings: Settings
    subjects: list[Subject]
    negotiated: dict[str, dict[str, str]]
    results: dict[str, dict[str, Result]]  # subject key -> metric key -> result
    reference: str = RawSSLSubject.key

    def ratio(self, subject_key: str, metric_key: str) -> float | None:
        mine = self.results[subject_key][metric_key].best
        base = self.results[self.reference][metric_key].best
        if mine is None or not base:
            return None
        return mine / base

    @property
    def failed(self) -> bool:
        return any(r.error for by_metric in self.results.values() for r in by_metric.values())


def make_subject(key: str, credentials: BenchCredentials) -> Subject:
    """The subject called ``key``: "raw-ssl" or a backend's name."""
    if key == RawSSLSubject.key:
        return RawSSLSubject(credentials)
    from .._registry import backend

    return BackendSubject(backend(key), credentials)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _sample(
    metric: Metric, subject: Subject, settings: Settings, result: Result, keep: bool = True
) -> None:
    """Take one sample into ``result`` (or record why it cannot be taken); a warm-up's is not kept."""
    try:
        value = metric.measure(subject, settings)
    except Unavailable as exc:
        result.unavailable = str(exc)
    except Exception as exc:
        result.error = _describe(exc)
    else:
        if keep:
            result.samples.append(value)


def run_benchmark(
    backends: Sequence[Backend],
    settings: Settings,
    progress: Callable[[str], Any] = lambda message: None,
) -> BenchRun:
    """Measure the raw ssl module and every backend in ``backends``."""
    with tempfile.TemporaryDirectory(prefix="tlsapi-bench-") as scratch:
        credentials = make_credentials(Path(scratch))
        subjects: list[Subject] = [RawSSLSubject(credentials)]
        subjects += [BackendSubject(b, credentials) for b in backends]
        results = {
            s.key: {m.key: Result(higher_is_better=m.higher_is_better) for m in ALL_METRICS}
            for s in subjects
        }
        negotiated: dict[str, dict[str, str]] = {}
        for subject in subjects:
            try:
                negotiated[subject.key] = subject.negotiated()
            except Exception as exc:
                negotiated[subject.key] = {"version": "-", "cipher": "-"}
                for result in results[subject.key].values():
                    result.error = _describe(exc)
        live = [s for s in subjects if not results[s.key][METRICS[0].key].error]

        # A short warm-up so lazy imports and first allocations are not timed.
        warmup = dataclasses.replace(
            settings, duration=min(settings.duration, 0.02), socket_bytes=MiB
        )
        for metric in METRICS:
            for subject in live:
                _sample(metric, subject, warmup, results[subject.key][metric.key], keep=False)

        for round_index in range(settings.rounds):
            progress(f"round {round_index + 1} of {settings.rounds}")
            shift = round_index % len(live) if live else 0
            order = live[shift:] + live[:shift]
            for metric in METRICS:
                for subject in order:
                    result = results[subject.key][metric.key]
                    if not result.skipped:
                        _sample(metric, subject, settings, result)

        progress("memory per connection (a child process per subject)")
        for subject in live:
            result = results[subject.key][MEMORY.key]
            try:
                value = measure_in_subprocess(subject.key, settings.memory_connections)
            except Exception as exc:
                result.error = _describe(exc)
                continue
            if value is None:
                result.unavailable = "resident set size needs /proc (Linux)"
            else:
                result.samples.append(value / 1024)
    return BenchRun(settings, subjects, negotiated, results)
