"""``tlsapi bench``: every available backend against the ssl module used directly, in one run.

Figures: TLS 1.3 handshakes per second (ECDSA P-256, both ends in memory),
with each library's default key-exchange groups and with X25519 pinned for
every subject (so that the ratios compare the same work);
bulk MB/s through a buffer pair (1 MiB writes); 64-byte echo round trips per
second (in memory); bulk MB/s over a loopback socket to a thread;
HTTP/1.1-sized round trips per second through asyncio streams (client and
server in one event loop; tlsapi backends through tlsapi.SSLContext, the
ssl-compatible adapter); memory per connection (RSS, in a child process,
Linux only).  Rounds are
interleaved across subjects and each figure is the best round; the table
shows each figure's ratio to the raw ssl module in the same run.  The exit
status is 1 if any measurement failed.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any

from .._bench import ALL_METRICS, MEMORY, BenchRun, Settings, as_json, ceiling, run_benchmark
from .._bench._asyncio import REQUEST, RESPONSE
from .._bench._subject import CLOCK_NAME, PAYLOAD_SIZE
from .._errors import TLSError
from .._registry import available_backends, backend
from ._common import CommandError, load_pki, render_table

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="measure every backend against the ssl module in one run",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument(
        "--quick", action="store_true", help="a short run with rough figures (for tests and CI)"
    )
    parser.add_argument(
        "--backend",
        action="append",
        metavar="NAME",
        help="measure only this backend (repeatable; the raw ssl module is always measured)",
    )
    parser.add_argument("--rounds", type=int, metavar="N", help="rounds per figure (default: 7)")
    parser.add_argument(
        "--duration", type=float, metavar="SECONDS", help="seconds per timed sample (default: 0.3)"
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also build and run each backend's C ceiling program (bench/ceiling: the same "
        "work with the library alone; OpenSSL's for the raw ssl module and the stdlib "
        "backend) and show their figures as fractions of it",
    )
    parser.set_defaults(run=run)


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def as_table(run: BenchRun) -> str:

    settings = run.settings
    headers = ["", *(s.label for s in run.subjects)]
    rows: list[list[str]] = [
        ["library", *(s.library_version for s in run.subjects)],
        ["cipher", *(run.negotiated.get(s.key, {}).get("cipher", "-") for s in run.subjects)],
        # Read off each subject's ServerHello: the default groups differ by library.
        ["group", *(run.negotiated.get(s.key, {}).get("group", "-") for s in run.subjects)],
    ]
    notes: list[str] = []
    unavailable: list[str] = []
    for metric in ALL_METRICS:
        row = [metric.label]
        for subject in run.subjects:
            result = run.results[subject.key][metric.key]
            if result.error:
                row.append("error")
                notes.append(f"{subject.label}, {metric.label}: {result.error}")
                continue
            if result.unavailable:
                row.append("n/a")
                unavailable.append(f"{subject.label}, {metric.label}: {result.unavailable}")
                continue
            best = result.best
            if best is None:
                row.append("n/a")
                continue
            ratio = run.ratio(subject.key, metric.key)
            if subject.key == run.reference or ratio is None:
                row.append(_number(best))
            else:
                row.append(f"{_number(best)} ({ratio:.2f}x)")
        rows.append(row)
    lines = [
        "tlsapi bench: TLS 1.3, ECDSA P-256; both ends in this process; "
        f"best of {settings.rounds} interleaved rounds of {settings.duration:g} s"
        + (" (--quick: figures are rough)" if settings.quick else ""),
        f"python {platform.python_version()} on {platform.platform()}",
        "",
        render_table(headers, rows),
        "",
        "(N.NNx) = ratio to the raw ssl module in this run; higher is better, except for "
        f"{MEMORY.label.split(',')[0]} (lower is better).",
        (
            "In-memory figures count this thread's CPU time (other load on the machine does "
            "not lower them); loopback and asyncio are wall-clock."
            if CLOCK_NAME == "thread CPU time"
            else "All figures are wall-clock (no fine-grained thread CPU clock here)."
        ),
        f"MB = 10^6 bytes; bulk uses {PAYLOAD_SIZE // (1 << 20)} MiB writes; loopback sends "
        f"{settings.socket_bytes // (1 << 20)} MiB to a thread; memory counts both ends "
        f"({settings.memory_connections} connections, RSS, in a child process).",
        f"asyncio: {len(REQUEST)}-byte requests, {len(RESPONSE)}-byte responses, one keep-alive "
        "connection, client and server in one event loop; tlsapi backends through "
        "tlsapi.SSLContext (the ssl-compatible adapter).",
    ]
    if unavailable:
        lines += ["", "n/a:", *(f"  {note}" for note in sorted(set(unavailable)))]
    if notes:
        lines += ["", "errors:", *(f"  {note}" for note in notes)]
    return "\n".join(lines)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.quick_run() if args.quick else Settings()
    changes: dict[str, Any] = {}
    if args.rounds is not None:
        if args.rounds < 1:
            raise CommandError("--rounds must be at least 1", status=2)
        changes["rounds"] = args.rounds
    if args.duration is not None:
        if not args.duration > 0:
            raise CommandError("--duration must be positive", status=2)
        changes["duration"] = args.duration
    return Settings(**{**settings.__dict__, **changes})


def _progress(message: str) -> None:
    print(f"tlsapi bench: {message}", file=sys.stderr, flush=True)


def _ceiling_programs(names: list[str]) -> dict[str, Path]:
    """--ceiling: the C programs of the measured backends (and of the raw ssl module, where
    OpenSSL's headers are here), built now (before a long run)."""
    try:
        programs = ceiling.check_buildable(names, skipped=_progress)
    except ceiling.CeilingUnavailable as exc:
        raise CommandError(f"--ceiling: {exc}") from None
    if not programs:
        raise CommandError(
            f"--ceiling: none of the measured backends ({', '.join(names)}) has a C ceiling "
            f"program that builds here (there are for {', '.join(sorted(ceiling.PROGRAMS))})"
        )
    return programs


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    load_pki()  # a clear message now if cryptography is missing
    if args.backend:
        backends = [backend(name) for name in dict.fromkeys(args.backend)]
    else:
        backends = available_backends()
    programs = _ceiling_programs([b.name for b in backends]) if args.ceiling else {}
    result = run_benchmark(backends, settings, progress=_progress)
    ceilings = None
    if programs:
        _progress("the C ceiling programs (bench/ceiling)")
        try:
            ceilings = ceiling.measure_ceilings(
                programs, rounds=settings.rounds, duration=settings.duration
            )
        except TLSError as exc:
            raise CommandError(f"--ceiling: {exc}") from None
    if args.json:
        data = as_json(result)
        if ceilings is not None:
            data["ceiling"] = ceiling.report_json(result, ceilings)
        json.dump(data, sys.stdout, indent=2)
        print()
    else:
        print(as_table(result))
        if ceilings is not None:
            headers, rows = ceiling.report_rows(result, ceilings)
            print()
            print(render_table(headers, rows))
            print(
                "\nN.NNx (mine of C) = the figure as a fraction of its library's C program "
                "doing the same work (same certificates and verification, TLS 1.3; OpenSSL's "
                "with the settings CPython's ssl gives it); the C programs run after the "
                "rounds above, best of as many rounds."
            )
    return 1 if result.failed else 0
