"""nox sessions for tlsapi.

    nox -s tests-stdlib           the core and the stdlib backend
    nox -s tests-gnutls           with backends/gnutls installed; tests run for gnutls
    nox -s tests-nss              with backends/nss installed; tests run for nss
    nox -s lint typecheck         ruff (check + format --check), mypy --strict
    nox -s demo                   tlsapi demo with every backend that builds here
    nox -s bench -- --quick       tlsapi bench; arguments after -- go to the command
    nox -s bench-ceiling          the C ceiling programs built and run beside gnutls and nss
    nox -s sanitizers             gnutls and nss rebuilt with ASan + UBSan; their tests under them
    nox -s wine                   schannel cross-built and tested in a Windows Python under Wine

Arguments after ``--`` go to pytest in the test sessions (``nox -s
tests-gnutls -- -k alpn``).  Each session uses the Python that runs nox;
the native backends need a C compiler and their library's headers (on
Debian: the packages in .ci/build-packages.txt; the peer programs the tests
start are in .ci/packages.txt).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox
import nox.command

nox.options.sessions = ["lint", "typecheck", "tests-stdlib"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent

# The native backends each platform can build, in the registry's priority order.
PLATFORM_BACKENDS = {
    "darwin": ("securetransport",),
    "win32": ("schannel",),
}
DEFAULT_BACKENDS = ("gnutls", "nss")


def _install_core(session: nox.Session) -> None:
    session.install("-e", ".[test]")


def _install_backend(session: nox.Session, name: str) -> None:
    if not (ROOT / "backends" / name / "pyproject.toml").is_file():
        session.error(
            f"backends/{name}/pyproject.toml does not exist: there is no {name} backend here"
        )
    session.install(f"./backends/{name}")


def _native_backends() -> list[str]:
    wanted = PLATFORM_BACKENDS.get(sys.platform, DEFAULT_BACKENDS)
    return [n for n in wanted if (ROOT / "backends" / n / "pyproject.toml").is_file()]


def _tests(session: nox.Session, backend: str) -> None:
    _install_core(session)
    if backend != "stdlib":
        _install_backend(session, backend)
    session.run(
        "pytest",
        "-n",
        "auto",
        *session.posargs,
        # A native backend runs with the reference beside it, so the
        # pairwise tests cover its interop with stdlib in both directions.
        env={"TLSAPI_TEST_BACKENDS": backend if backend == "stdlib" else f"{backend},stdlib"},
    )


@nox.session(name="tests-stdlib")
def tests_stdlib(session: nox.Session) -> None:
    """The test suite for the core and the stdlib backend."""
    _tests(session, "stdlib")


@nox.session(name="tests-gnutls")
def tests_gnutls(session: nox.Session) -> None:
    """The test suite for the GnuTLS backend (Linux)."""
    _tests(session, "gnutls")


@nox.session(name="tests-nss")
def tests_nss(session: nox.Session) -> None:
    """The test suite for the NSS backend (Linux)."""
    _tests(session, "nss")


@nox.session(name="tests-securetransport")
def tests_securetransport(session: nox.Session) -> None:
    """The test suite for the Secure Transport backend (macOS)."""
    _tests(session, "securetransport")


# Run by tests-schannel when TLSAPI_REQUIRE_TLS13=1 (the GitHub Windows job):
# a Windows whose SChannel has TLS 1.3 must have the backend report it, or
# every TLS 1.3 test would skip unseen.
_REQUIRE_TLS13 = """
import tlsapi
backend = tlsapi.backend("schannel")
if tlsapi.Capability.TLSv1_3 not in backend.capabilities:
    raise SystemExit(f"TLSAPI_REQUIRE_TLS13=1 but schannel has no TLS 1.3 here: {dict(backend.details)}")
print("schannel:", backend.library_version, sorted(map(str, backend.capabilities)))
"""


@nox.session(name="tests-schannel")
def tests_schannel(session: nox.Session) -> None:
    """The test suite for the SChannel backend (Windows; under Wine on Linux: nox -s wine)."""
    if os.environ.get("TLSAPI_REQUIRE_TLS13") == "1":
        _install_core(session)
        _install_backend(session, "schannel")
        session.run("python", "-c", _REQUIRE_TLS13)
    _tests(session, "schannel")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint rules and formatting); the CI workflow against its schema and zizmor's audits."""
    session.install("ruff>=0.5", "check-jsonschema>=0.29", "zizmor>=1.0")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    # --offline: no GitHub API (pinned SHAs are not looked up); exits non-zero on a finding.
    session.run("zizmor", "--offline", *workflows)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over tlsapi and each native backend (each with its own pyproject settings)."""
    session.install("-e", ".[dev]")
    session.run("mypy")
    for name in _native_backends():
        _install_backend(session, name)
        directory = ROOT / "backends" / name
        session.run(
            "mypy",
            "--config-file",
            str(directory / "pyproject.toml"),
            str(directory / "src" / f"tlsapi_{name}"),
        )


@nox.session
def demo(session: nox.Session) -> None:
    """tlsapi demo with the stdlib backend and every native backend that builds here."""
    _install_core(session)
    for name in _native_backends():
        _install_backend(session, name)
    session.run("tlsapi", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """tlsapi bench: every backend against the raw ssl module, in one run."""
    _install_core(session)
    for name in _native_backends():
        _install_backend(session, name)
    session.run("tlsapi", "bench", *session.posargs)


@nox.session(name="bench-ceiling")
def bench_ceiling(session: nox.Session) -> None:
    """The C ceiling programs (bench/ceiling) built into build/ceiling, then each backend against its own."""
    _install_core(session)
    for name in _native_backends():
        _install_backend(session, name)
    # The same build tlsapi bench --ceiling does on demand (tlsapi/_bench/ceiling.py);
    # a missing compiler or -dev package fails here with what to install.
    session.run("python", "-m", "tlsapi._bench.ceiling", "--build-only")
    session.run("python", "-m", "tlsapi._bench.ceiling", *session.posargs)


# -- sanitizers ----------------------------------------------------------------------------

# AddressSanitizer + UBSan, a UBSan finding fatal rather than printed and
# passed over.  -fno-wrapv undoes the -fwrapv Python's own CFLAGS add, which
# would otherwise make signed overflow defined and so invisible to UBSan.
SANITIZER_CFLAGS = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=undefined",
    "-fno-omit-frame-pointer",
    "-fno-wrapv",
    "-g",
    "-O1",
)
SANITIZER_TESTS = (
    "tests/gnutls",
    "tests/nss",
    "tests/test_conformance.py",  # the conformance kit, with its threading tests
    "tests/test_robustness.py",
    "tests/test_speedups.py",  # the core's C fast path, and the kit without it
    "tests/sanitizer",  # fails unless the sanitizers are live in this run
)
# Each exclusion with its reason; everything else in SANITIZER_TESTS runs.
SANITIZER_DESELECT = {
    # ASan holds freed memory back (its quarantine, 256 MiB) to catch
    # use-after-free, so RSS growth measures ASan, not the backends.
    "tests/test_robustness.py::test_memory_stays_bounded_over_many_handshakes",
    # The child caps its address space at 1 GiB; ASan reserves terabytes of
    # shadow address space, so the child cannot even start.
    "tests/nss/test_limits.py::test_name_constraint_blowup_is_refused_up_front",
    # It measures the heap with glibc's mallinfo2, which reports zeros under
    # ASan's allocator: nothing would be measured (and stdlib's strict xfail passes).
    "tests/test_conformance.py::TestMemory::test_idle_connections_in_a_child_process",
}


def _output(session: nox.Session, *command: str) -> str:
    try:
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        session.error(f"{command[0]} is not installed (Debian: gcc and binutils)")


def _gcc_runtime(session: nox.Session, name: str) -> str:
    path = _output(session, "gcc", f"-print-file-name={name}").strip()
    if not os.path.isabs(path):
        session.error(
            f"gcc has no {name}: install gcc's sanitizer runtimes (Debian: libasan8, libubsan1)"
        )
    return os.path.realpath(path)


def _check_instrumented(session: nox.Session, extension: Path) -> None:
    """Fail unless ``extension`` links the ASan and UBSan runtimes and calls into them."""
    dynamic = _output(session, "readelf", "--wide", "--dynamic", "--dyn-syms", str(extension))
    missing = [
        what
        for what, present in (
            ("NEEDED libasan", "Shared library: [libasan.so"),
            ("NEEDED libubsan", "Shared library: [libubsan.so"),
            ("__asan_init", " __asan_init"),
            ("__ubsan_handle_*", " __ubsan_handle_"),
        )
        if present not in dynamic
    ]
    if missing:
        session.error(f"{extension} was built without the sanitizers (lacks {', '.join(missing)})")
    session.log(f"instrumented: {extension}")


@nox.session
def sanitizers(session: nox.Session) -> None:
    """gnutls, nss and the core's C extension built with ASan + UBSan; their tests, the
    conformance kit and robustness under them."""
    if not sys.platform.startswith("linux"):
        session.skip("the sanitizer build is for Linux with gcc")
    names = list(DEFAULT_BACKENDS)
    for name in names:
        if not (ROOT / "backends" / name / "pyproject.toml").is_file():
            session.error(f"backends/{name}/pyproject.toml does not exist")
    libasan = _gcc_runtime(session, "libasan.so")
    libubsan = _gcc_runtime(session, "libubsan.so")
    tmp = Path(session.create_tmp()).resolve()

    _install_core(session)
    session.install("cffi>=1.16")
    # Each backend, and the core with its C extension (tlsapi._speedups), is built
    # from a fresh copy without its build/ tree: setuptools reuses an up-to-date
    # build/ without recompiling, so a stale one silently has no sanitizer; and our
    # instrumented objects must not land in backends/*/build or beside the sources
    # (an editable install builds the extension in place), where the next ordinary
    # build or run would pick them up.  The core is installed as a regular package
    # over the editable one, so the tests import the instrumented extension.
    sources = tmp / "src"
    shutil.rmtree(sources, ignore_errors=True)
    ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", "*.so")
    for name in names:
        shutil.copytree(ROOT / "backends" / name, sources / name, ignore=ignore)
    core = sources / "tlsapi-core"
    shutil.copytree(ROOT / "tlsapi", core / "tlsapi", ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, core / name)
    flags = " ".join(SANITIZER_CFLAGS)
    # setuptools adds CFLAGS and LDFLAGS from the environment to every compile and link;
    # CC=gcc so that the runtimes preloaded below are the ones the code was built against.
    build_env = {"CC": "gcc", "CFLAGS": flags, "LDFLAGS": "-fsanitize=address,undefined"}
    session.install(
        "--no-deps",
        "--force-reinstall",
        "--no-cache-dir",
        str(core),
        *(str(sources / name) for name in names),
        env=build_env,
    )
    purelib = session.run(
        "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", silent=True
    )
    site_packages = Path(str(purelib).strip())
    speedups = sorted(site_packages.glob("tlsapi/_speedups*.so"))
    if not speedups:
        session.error(f"the core's extension tlsapi/_speedups*.so did not build in {site_packages}")
    for extension in speedups:
        _check_instrumented(session, extension)
    for name in names:
        extensions = sorted(site_packages.glob(f"tlsapi_{name}/_{name}*.so"))
        if not extensions:
            session.error(f"no extension module tlsapi_{name}/_{name}*.so in {site_packages}")
        for extension in extensions:
            _check_instrumented(session, extension)

    probe = tmp / "libtlsapi_sanitizer_probe.so"
    session.run(
        "gcc",
        *SANITIZER_CFLAGS,
        "-Wall",
        "-Wextra",
        "-Werror",
        "-shared",
        "-fPIC",
        "-o",
        str(probe),
        str(ROOT / "tests" / "sanitizer" / "probe.c"),
        external=True,
    )
    _check_instrumented(session, probe)

    # ASan's reports go to files, from pytest's workers and every process they start
    # (a report dies with a worker's captured stderr otherwise); any file there
    # after the run fails the session and is printed.
    reports = tmp / "reports"
    shutil.rmtree(reports, ignore_errors=True)
    reports.mkdir()
    env = {
        "LD_PRELOAD": f"{libasan} {libubsan}",
        # Python's objects from ASan's allocator, so overruns into them are seen.
        "PYTHONMALLOC": "malloc",
        # CPython leaves memory allocated at exit on purpose: no leak report.
        "ASAN_OPTIONS": f"detect_leaks=0:log_path={reports / 'asan'}",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "TLSAPI_SANITIZER_PROBE": str(probe),
        "TLSAPI_TEST_BACKENDS": ",".join([*names, "stdlib"]),
    }
    deselect = [arg for nodeid in sorted(SANITIZER_DESELECT) for arg in ("--deselect", nodeid)]
    try:
        session.run(
            "pytest",
            "-n",
            "2",
            # UBSan ignores log_path when ASan is loaded too and writes to stderr:
            # leave file descriptor 2 uncaptured so that its report reaches this log.
            "--capture=sys",
            *deselect,
            *SANITIZER_TESTS,
            *session.posargs,
            env=env,
        )
    finally:
        found = sorted(reports.iterdir())
        for report in found:
            lines = report.read_text(errors="replace").splitlines()
            session.warn(f"{report.name}:\n" + "\n".join(lines[:60]))
    if found:
        session.error(f"the sanitizers reported {len(found)} error(s): see above ({reports})")


# -- wine ----------------------------------------------------------------------------------

# What the Windows Python runs under Wine (tools/winenv.py): the suites that
# need no Linux program; tests/schannel once it exists.  The others start
# Linux programs (openssl, gnutls-serv, nginx, update-ca-certificates) or are
# the Linux backends' own; a Windows process cannot start a Linux program, so
# tests/wine drives those peers from the Linux side instead.
WINE_WINDOWS_TESTS = (
    "tests/test_conformance.py",
    "tests/test_pairwise.py",
    "tests/test_security.py",
    "tests/test_robustness.py",
    "tests/test_renegotiation.py",
    "tests/test_rsa_pss.py",
    "tests/test_clienthello.py",
    "tests/test_limbo.py",
    "tests/schannel",
    "tests/adapter",
)
# Each exclusion with its reason (none today); the GitHub Windows job runs them all.
WINE_DESELECT: dict[str, str] = {}
# Wine's SChannel signs only with RSA keys (client keys come from the legacy
# CAPI RSA provider), so the kit's PKIs are RSA there.
WINE_ENV = {
    "TLSAPI_TEST_BACKENDS": "schannel,stdlib",
    "TLSAPI_TEST_PKI_KEY": "rsa2048",
}


@nox.session
def wine(session: nox.Session) -> None:
    """tlsapi-schannel cross-built with mingw-w64 and tested in a Windows CPython under Wine.

    Sets up Wine, mingw-w64 and a Windows Python (tools/winenv.py, cached in
    $TLSAPI_WINE_HOME), runs the backend-independent suites and tests/schannel
    there with schannel and stdlib, then tests/wine from Linux: the Windows
    backends against gnutls, nss, stdlib and the peer programs.  Fails, with
    the reason, when Wine cannot be set up.  Arguments after -- go to every
    pytest run.
    """
    if not sys.platform.startswith("linux"):
        session.skip("the Wine session is for Linux (on Windows: nox -s tests-schannel)")
    if not (ROOT / "backends" / "schannel" / "pyproject.toml").is_file():
        session.error("backends/schannel/pyproject.toml does not exist: nothing to test")
    _install_core(session)
    session.install("cffi>=1.16", "pip")
    for name in DEFAULT_BACKENDS:
        _install_backend(session, name)
    winenv = str(ROOT / "tools" / "winenv.py")
    stage = Path(session.create_tmp()).resolve() / "wine-stage"
    session.run("python", winenv, "setup")
    session.run("python", winenv, "build", "--stage", str(stage))

    deselect = [arg for nodeid in sorted(WINE_DESELECT) for arg in ("--deselect", nodeid)]
    session.log(f"deselected under Wine: {WINE_DESELECT}")
    failed = []
    selection = [t for t in WINE_WINDOWS_TESTS if (ROOT / t).exists()]
    # winenv's pytest fails the step when python.exe crashes before pytest has
    # finished, whatever exit status Wine reports for it.
    try:
        session.run(
            "python", winenv, "pytest", "--stage", str(stage), "--",
            *deselect, *selection, *session.posargs,
            env=WINE_ENV,
        )  # fmt: skip
    except nox.command.CommandFailed:
        # tests/wine still runs: its verdict counts too.
        failed.append(f"{' '.join(selection)} in the Windows Python")

    # The Linux side: pytest exits 5 when nothing was collected, and
    # tests/wine/conftest.py fails a run in which no test passed.
    try:
        session.run(
            "pytest", "-p", "no:cacheprovider", "tests/wine", *session.posargs,
            env={
                **WINE_ENV,
                "TLSAPI_WINE_TESTS": "1",
                "TLSAPI_WINE_STAGE": str(stage),
                "TLSAPI_WINE_BACKENDS": "schannel,stdlib",
            },
        )  # fmt: skip
    except nox.command.CommandFailed:
        failed.append("tests/wine (the Windows side against Linux peers)")
    if failed:
        session.error(f"failed: {'; '.join(failed)} (see above)")
