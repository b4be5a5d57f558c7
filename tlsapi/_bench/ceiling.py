"""The library ceiling: each backend beside a C program doing its work with the library alone.

``bench/ceiling/gnutls_ceiling.c`` and ``nss_ceiling.c`` (in a tlsapi
checkout) do the benchmark's in-memory work (TLS 1.3 handshakes with the
client verifying the server, 1 MiB bulk writes, 64-byte echoes) with
GnuTLS or NSS directly, on the benchmark's own certificate files and with
the backend's settings, sessions included: their servers issue TLS 1.3
session tickets after every full handshake as the backends' do (GnuTLS two
under a key of the server's own, sent once the handshake is done; NSS one of
its own with SSL_SendSessionTicket), and fail if none was sent.  Their figures are the most a binding of that
library can reach, so a backend's figure divided by its program's says
what the binding costs (DESIGN.md, "Performance").  ``openssl_ceiling.c``
does the same for the yardstick: OpenSSL with the settings CPython's
``ssl.SSLContext`` gives it, over memory BIOs as ``ssl.MemoryBIO``, so the
raw ``ssl`` module (and the stdlib backend) get their fraction too: how
far a binding driven from Python gets from its library even when it is C
(the ssl module's own: 0.94x of OpenSSL's handshakes here).

The programs are built on demand into ``build/ceiling/`` of the checkout
(or ``$TLSAPI_CEILING_BUILD``), with the compiler and optimisation flags
Python's extensions get (sysconfig's CC and CFLAGS, which setuptools gives
the backends' cffi modules), pkg-config's flags for the library, and
``-Wall -Wextra -Werror``; ``nox -s bench-ceiling`` builds them into the
same place.  A missing compiler, pkg-config or -dev package is a
:class:`CeilingUnavailable` naming what to install.

Run alone, ``python -m tlsapi._bench.ceiling`` measures the raw ``ssl``
module, each native backend and its C program in interleaved rounds (best
of the rounds, per second of thread CPU time, as ``tlsapi bench``) and
prints each backend's figures as fractions of its ceiling beside its
ratios to ``ssl``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError, TLSError
from ._credentials import BenchCredentials

__all__ = [
    "CEILING_METRICS",
    "OPENSSL_SUBJECTS",
    "PROGRAMS",
    "CeilingFigures",
    "CeilingProgram",
    "CeilingUnavailable",
    "build_program",
    "check_buildable",
    "default_build_dir",
    "measure_ceilings",
    "report_json",
    "report_rows",
    "run_program",
    "source_dir",
    "write_root",
]

# The figures a ceiling program gives: the bench's metric key -> the program's JSON key.
CEILING_METRICS: dict[str, str] = {
    "handshakes_per_s": "handshakes_per_s",
    "buffer_bulk_mb_per_s": "bulk_mb_per_s",
    "echo_round_trips_per_s": "echo_round_trips_per_s",
}
ENV_BUILD_DIR = "TLSAPI_CEILING_BUILD"
# What -Werror holds our C to, beyond what the backends' builds ask of theirs.
WARNINGS = ("-Wall", "-Wextra", "-Werror")


class CeilingUnavailable(ConfigurationError):
    """A ceiling program cannot be built or found here (the message says what to install)."""


@dataclasses.dataclass(frozen=True)
class CeilingProgram:
    backend: str
    source: str
    packages: tuple[str, ...]  # pkg-config names
    install_hint: str

    @property
    def name(self) -> str:
        return self.source.removesuffix(".c")


_OPENSSL = CeilingProgram(
    "raw-ssl",
    "openssl_ceiling.c",
    ("openssl",),
    "install libssl-dev (Debian/Ubuntu) or openssl-devel (Fedora/RHEL), and pkg-config",
)
# The subjects the OpenSSL program is the ceiling of: the raw ssl module, and the
# stdlib backend over it (the yardstick's own distance from its library).
OPENSSL_SUBJECTS = ("raw-ssl", "stdlib")

PROGRAMS: dict[str, CeilingProgram] = {
    "raw-ssl": _OPENSSL,
    "stdlib": dataclasses.replace(_OPENSSL, backend="stdlib"),
    "gnutls": CeilingProgram(
        "gnutls",
        "gnutls_ceiling.c",
        ("gnutls",),
        "install libgnutls28-dev (Debian/Ubuntu) or gnutls-devel (Fedora/RHEL), and pkg-config",
    ),
    "nss": CeilingProgram(
        "nss",
        "nss_ceiling.c",
        ("nss", "nspr"),
        "install libnss3-dev and libnspr4-dev (Debian/Ubuntu) or nss-devel and nspr-devel "
        "(Fedora/RHEL), and pkg-config",
    ),
}


@dataclasses.dataclass(frozen=True)
class CeilingFigures:
    """One run of a ceiling program (rates are the best of its rounds)."""

    program: str
    library: str
    cipher: str
    group: str
    verified: bool
    handshakes_per_s: float
    bulk_mb_per_s: float | None
    echo_round_trips_per_s: float
    # Handshakes with X25519 pinned at both ends (issue 12's like-for-like handshake figure).
    x25519_handshakes_per_s: float | None = None

    def figure(self, metric_key: str) -> float | None:
        """The figure comparable with the bench's metric ``metric_key`` (None: none is)."""
        if "x25519" in metric_key.lower():
            return self.x25519_handshakes_per_s
        field = CEILING_METRICS.get(metric_key)
        value = None if field is None else getattr(self, field)
        return None if value is None else float(value)


# -- building ----------------------------------------------------------------------------


def source_dir() -> Path:
    """bench/ceiling of the checkout this tlsapi was installed from (editable installs)."""
    from .._registry import checkout_root

    root = checkout_root()
    directory = (root or Path(__file__).resolve().parents[2]) / "bench" / "ceiling"
    if root is None or not (directory / "ceiling.h").is_file():
        raise CeilingUnavailable(
            f"the ceiling programs' C sources are not here ({directory}): they are in a tlsapi "
            "checkout's bench/ceiling/ (install tlsapi from it with pip install -e .)"
        )
    return directory


def default_build_dir() -> Path:
    configured = os.environ.get(ENV_BUILD_DIR)
    if configured:
        return Path(configured)
    return source_dir().parents[1] / "build" / "ceiling"


def _pkg_config(program: CeilingProgram, what: str) -> list[str]:
    try:
        result = subprocess.run(
            ["pkg-config", what, *program.packages], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise CeilingUnavailable(
            f"{program.name} cannot be built: pkg-config is not installed ({program.install_hint})"
        ) from None
    if result.returncode != 0:
        raise CeilingUnavailable(
            f"{program.name} cannot be built: pkg-config does not find "
            f"{' '.join(program.packages)} ({result.stderr.strip()}): {program.install_hint}"
        )
    return shlex.split(result.stdout)


def _compiler() -> list[str]:
    """Python's C compiler (as setuptools uses for the backends), else cc."""
    configured = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    if configured and shutil.which(configured[0]):
        return configured
    for fallback in ("cc", "gcc", "clang"):
        if shutil.which(fallback):
            return [fallback]
    raise CeilingUnavailable(
        f"no C compiler ({configured[0] if configured else 'cc'} is not installed): "
        "install gcc (Debian/Ubuntu: apt install gcc)"
    )


def compile_command(program: CeilingProgram, output: Path) -> list[str]:
    """The command that builds ``program`` into ``output``."""
    # sysconfig's CFLAGS is what setuptools compiles the backends' cffi modules with.
    cflags = shlex.split(sysconfig.get_config_var("CFLAGS") or "-O2")
    return [
        *_compiler(),
        *cflags,
        *WARNINGS,
        *_pkg_config(program, "--cflags"),
        "-o",
        str(output),
        str(source_dir() / program.source),
        *_pkg_config(program, "--libs"),
    ]


def build_program(backend: str, build_dir: Path | None = None, *, force: bool = False) -> Path:
    """The built ceiling program of ``backend``, compiled if missing or older than its sources."""
    program = PROGRAMS.get(backend)
    if program is None:
        raise CeilingUnavailable(f"there is no ceiling program for the {backend} backend")
    directory = build_dir if build_dir is not None else default_build_dir()
    output = directory / program.name
    sources = [source_dir() / program.source, source_dir() / "ceiling.h"]
    newest = max(path.stat().st_mtime for path in sources)
    if not force and output.is_file() and output.stat().st_mtime >= newest:
        return output
    directory.mkdir(parents=True, exist_ok=True)
    command = compile_command(program, output)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise CeilingUnavailable(
            f"{program.name} did not build ({shlex.join(command)}):\n{result.stderr.strip()}"
            f"\n(if headers are missing: {program.install_hint})"
        )
    return output


# -- running -----------------------------------------------------------------------------


def write_root(credentials: BenchCredentials, directory: Path) -> Path:
    """The benchmark's root certificate as a file (the chain and key already are)."""
    path = directory / "ceiling-root.pem"
    path.write_bytes(credentials.root_pem)
    return path


def run_program(
    executable: Path,
    credentials: BenchCredentials,
    root: Path,
    *,
    duration: float,
    rounds: int = 1,
    group: str = "default",
    skip_bulk: bool = False,
    timeout: float = 300.0,
) -> CeilingFigures:
    """Run a ceiling program on the benchmark's certificates; TLSError if it fails."""
    command = [
        str(executable),
        "--ca",
        str(root),
        "--chain",
        str(credentials.chain_file),
        "--key",
        str(credentials.key_file),
        "--host",
        credentials.hostname,
        "--group",
        group,
        "--duration",
        repr(duration),
        "--rounds",
        str(rounds),
        *(["--skip-bulk"] if skip_bulk else []),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise TLSError(
            f"{executable.name} failed (exit status {result.returncode}): "
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return CeilingFigures(
        program=str(data["program"]),
        library=str(data["library"]),
        cipher=str(data["cipher"]),
        group=str(data["group"]),
        verified=bool(data["verified"]),
        handshakes_per_s=float(data["handshakes_per_s"]),
        bulk_mb_per_s=None if data["bulk_mb_per_s"] is None else float(data["bulk_mb_per_s"]),
        echo_round_trips_per_s=float(data["echo_round_trips_per_s"]),
    )


def best_of(samples: Sequence[CeilingFigures]) -> CeilingFigures:
    """One CeilingFigures with each rate the best of ``samples`` (from the same program)."""
    first = samples[0]
    bulk = [s.bulk_mb_per_s for s in samples if s.bulk_mb_per_s is not None]
    return dataclasses.replace(
        first,
        verified=all(s.verified for s in samples),
        handshakes_per_s=max(s.handshakes_per_s for s in samples),
        bulk_mb_per_s=max(bulk) if bulk else None,
        echo_round_trips_per_s=max(s.echo_round_trips_per_s for s in samples),
    )


# -- for tlsapi bench --ceiling --------------------------------------------------------------


def check_buildable(
    backends: Sequence[str],
    build_dir: Path | None = None,
    *,
    skipped: Callable[[str], object] = lambda message: None,
) -> dict[str, Path]:
    """The raw ssl module's ceiling program and each of ``backends``' that has one, built.

    CeilingUnavailable if a backend's cannot be; the OpenSSL program (the raw
    ssl module's and the stdlib backend's), where it cannot be built, is left
    out with a message to ``skipped``: it is the yardstick's, not a backend's.
    """
    built: dict[str, Path] = {}
    for name in ("raw-ssl", *backends):
        if name not in PROGRAMS or name in built:
            continue
        try:
            built[name] = build_program(name, build_dir)
        except CeilingUnavailable as exc:
            if name not in OPENSSL_SUBJECTS:
                raise
            skipped(f"no OpenSSL ceiling for {name}: {exc}")
    return built


def measure_ceilings(
    programs: dict[str, Path], *, rounds: int, duration: float
) -> dict[str, CeilingFigures]:
    """Each program's best of ``rounds`` samples of ``duration`` s, on a fresh bench PKI.

    Each program runs twice: with the library's default group (as the
    backends' default configuration) and with X25519 pinned (handshakes only).

    The PKI comes from the benchmark's own make_credentials (ECDSA P-256 root,
    intermediate and leaf for the same host name), so the work is the same
    certificate by certificate; TLSError if a program fails.
    """
    from ._credentials import make_credentials

    with tempfile.TemporaryDirectory(prefix="tlsapi-ceiling-") as scratch:
        credentials = make_credentials(Path(scratch))
        root = write_root(credentials, Path(scratch))
        found: dict[str, CeilingFigures] = {}
        by_path: dict[Path, CeilingFigures] = {}
        for name, path in programs.items():
            if path in by_path:  # one program, the ceiling of two subjects (raw ssl, stdlib)
                found[name] = by_path[path]
                continue
            figures = run_program(path, credentials, root, duration=duration, rounds=rounds)
            pinned = run_program(
                path,
                credentials,
                root,
                duration=duration,
                rounds=rounds,
                group="X25519",
                skip_bulk=True,
            )
            found[name] = by_path[path] = dataclasses.replace(
                figures, x25519_handshakes_per_s=pinned.handshakes_per_s
            )
        return found


def _fraction_cells(mine: float | None, top: float | None, base: float | None) -> str:
    if mine is None or not top:
        return "n/a"
    ratio = f", {mine / base:.2f}x ssl" if base else ""
    return f"{mine / top:.2f}x ({mine:,.0f} of {top:,.0f}{ratio})"


def report_rows(run: Any, ceilings: dict[str, CeilingFigures]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows for tlsapi bench --ceiling's table (``run`` is a BenchRun)."""
    from ._runner import METRICS

    names = [s.key for s in run.subjects if s.key in ceilings]
    labels = {s.key: s.label for s in run.subjects}
    headers = ["of the library's C ceiling", *(labels[n] for n in names)]
    rows = [
        ["C program", *(f"{ceilings[n].program} ({ceilings[n].library})" for n in names)],
        ["C cipher, group", *(f"{ceilings[n].cipher}, {ceilings[n].group}" for n in names)],
        ["client verified the server", *("yes" if ceilings[n].verified else "NO" for n in names)],
    ]
    rows.append(
        [
            "C handshakes/s, X25519 pinned",
            *(f"{ceilings[n].x25519_handshakes_per_s or 0:,.0f}" for n in names),
        ]
    )
    for metric in METRICS:
        if all(ceilings[n].figure(metric.key) is None for n in names):
            continue
        base = run.results[run.reference][metric.key].best
        rows.append(
            [
                metric.label,
                *(
                    _fraction_cells(
                        run.results[n][metric.key].best, ceilings[n].figure(metric.key), base
                    )
                    for n in names
                ),
            ]
        )
    return headers, rows


def report_json(run: Any, ceilings: dict[str, CeilingFigures]) -> dict[str, Any]:
    """tlsapi bench --ceiling --json's "ceiling" part: each program's figures and the fractions."""
    result: dict[str, Any] = {}
    for name, figures in ceilings.items():
        fractions: dict[str, float | None] = {}
        for metric_key in run.results[name]:
            top = figures.figure(metric_key)
            if top is None:
                continue
            mine = run.results[name][metric_key].best
            fractions[metric_key] = None if mine is None or not top else mine / top
        result[name] = {"program": dataclasses.asdict(figures), "fraction": fractions}
    return result


# -- the standalone comparison -----------------------------------------------------------


@dataclasses.dataclass
class CeilingComparison:
    """Best figures per subject ("raw-ssl" and backends), and each backend's ceiling."""

    rounds: int
    duration: float
    figures: dict[str, dict[str, float]]  # subject key -> metric key -> best
    ceilings: dict[str, CeilingFigures]  # backend name -> its C program's best
    groups: dict[str, str | None]  # backend name -> the group it negotiated, if it says

    def ratio_to_ssl(self, backend: str, metric_key: str) -> float | None:
        base = self.figures["raw-ssl"].get(metric_key)
        mine = self.figures[backend].get(metric_key)
        return None if not base or mine is None else mine / base

    def fraction_of_ceiling(self, backend: str, metric_key: str) -> float | None:
        ceiling = self.ceilings.get(backend)
        mine = self.figures[backend].get(metric_key)
        top = None if ceiling is None else ceiling.figure(metric_key)
        return None if not top or mine is None else mine / top

    def as_json(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "duration_s": self.duration,
            "statistic": "best of the rounds",
            "figures": self.figures,
            "ceilings": {name: dataclasses.asdict(c) for name, c in self.ceilings.items()},
            "backend_groups": self.groups,
            "fraction_of_ceiling": {
                name: {m: self.fraction_of_ceiling(name, m) for m in CEILING_METRICS}
                for name in self.ceilings
            },
            "ratio_to_ssl": {
                name: {m: self.ratio_to_ssl(name, m) for m in CEILING_METRICS}
                for name in self.ceilings
            },
        }


def _backend_group(subject: Any) -> str | None:
    client, _ = subject._pair()
    group = client.negotiated_group() if hasattr(client, "negotiated_group") else None
    return None if group is None else str(getattr(group, "name", group))


def compare(
    backends: Sequence[str],
    *,
    rounds: int = 5,
    duration: float = 0.3,
    build_dir: Path | None = None,
    progress: Callable[[str], object] = lambda message: None,
) -> CeilingComparison:
    """raw ssl, each backend and its ceiling program, in interleaved rounds on one PKI."""
    from .._registry import backend as get_backend
    from ._credentials import make_credentials
    from ._raw import RawSSLSubject
    from ._subject import Subject
    from ._tlsapi import BackendSubject

    programs = {name: build_program(name, build_dir) for name in backends}
    measures: dict[str, Callable[[Subject], float]] = {
        "handshakes_per_s": lambda s: s.handshake_rate(duration),
        "buffer_bulk_mb_per_s": lambda s: s.buffer_bulk_rate(duration) / 1e6,
        "echo_round_trips_per_s": lambda s: s.echo_rate(duration),
    }
    with tempfile.TemporaryDirectory(prefix="tlsapi-ceiling-") as scratch:
        credentials = make_credentials(Path(scratch))
        root = write_root(credentials, Path(scratch))
        subjects: list[Subject] = [RawSSLSubject(credentials)]
        subjects += [BackendSubject(get_backend(name), credentials) for name in backends]
        groups = {s.key: _backend_group(s) for s in subjects[1:]}
        samples: dict[str, dict[str, list[float]]] = {
            s.key: {m: [] for m in measures} for s in subjects
        }
        ceiling_samples: dict[str, list[CeilingFigures]] = {name: [] for name in backends}
        for subject in subjects:  # a warm-up: lazy imports and first allocations untimed
            subject.handshake_rate(0.02)
            subject.echo_rate(0.02)
        for index in range(rounds):
            progress(f"round {index + 1} of {rounds}")
            shift = index % len(subjects)
            for subject in subjects[shift:] + subjects[:shift]:
                for key, measure in measures.items():
                    samples[subject.key][key].append(measure(subject))
                if subject.key in programs:
                    ceiling_samples[subject.key].append(
                        run_program(
                            programs[subject.key], credentials, root, duration=duration, rounds=1
                        )
                    )
    figures = {key: {m: max(v) for m, v in by.items()} for key, by in samples.items()}
    ceilings = {name: best_of(found) for name, found in ceiling_samples.items()}
    return CeilingComparison(rounds, duration, figures, ceilings, groups)


def render(comparison: CeilingComparison) -> str:
    labels = {
        "handshakes_per_s": "handshakes/s",
        "buffer_bulk_mb_per_s": "bulk in memory, MB/s",
        "echo_round_trips_per_s": "64-byte echo, round trips/s",
    }
    lines = [
        f"tlsapi ceiling: best of {comparison.rounds} interleaved rounds of "
        f"{comparison.duration:g} s, per second of thread CPU time; TLS 1.3, ECDSA P-256 "
        "certificates, the client verifying the server",
        "",
    ]
    for name, ceiling in comparison.ceilings.items():
        told = comparison.groups.get(name)
        lines.append(
            f"{name} vs {ceiling.program} ({ceiling.library}, {ceiling.cipher}, group "
            f"{ceiling.group}; the backend's group: {told or 'not reported'}; "
            f"verified: {'yes' if ceiling.verified else 'NO'})"
        )
        for key, label in labels.items():
            mine = comparison.figures[name][key]
            top = ceiling.figure(key)
            fraction = comparison.fraction_of_ceiling(name, key)
            ratio = comparison.ratio_to_ssl(name, key)
            lines.append(
                f"  {label:<30} {mine:>12,.1f}  of C {top or 0:>12,.1f} = "
                f"{fraction or 0:.2f}x   (ssl ratio {ratio or 0:.2f}x)"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlsapi._bench.ceiling",
        description="native backends as fractions of their library's own C figures",
    )
    backends = sorted(name for name in PROGRAMS if name != "raw-ssl")
    parser.add_argument("--backend", action="append", choices=backends)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=0.3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build the programs, print paths")
    args = parser.parse_args(argv)
    names = args.backend or backends
    try:
        if args.build_only:
            for path in dict.fromkeys(build_program(name, force=True) for name in names):
                print(path)
            return 0
        comparison = compare(
            names,
            rounds=args.rounds,
            duration=args.duration,
            progress=lambda m: print(f"ceiling: {m}", file=sys.stderr, flush=True),
        )
    except CeilingUnavailable as exc:
        print(f"ceiling: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(comparison.as_json(), indent=2))
    else:
        print(render(comparison))
    return 0


if __name__ == "__main__":
    sys.exit(main())
