"""nox sessions for tlsapi.

    nox -s tests-stdlib           the core and the stdlib backend
    nox -s tests-gnutls           with backends/gnutls installed; tests run for gnutls
    nox -s tests-nss              with backends/nss installed; tests run for nss
    nox -s lint typecheck         ruff (check + format --check), mypy --strict
    nox -s demo                   tlsapi demo with every backend that builds here
    nox -s bench -- --quick       tlsapi bench; arguments after -- go to the command

Arguments after ``--`` go to pytest in the test sessions (``nox -s
tests-gnutls -- -k alpn``).  Each session uses the Python that runs nox;
the native backends need a C compiler and their library's headers (on
Debian: the packages in .ci/build-packages.txt; the peer programs the tests
start are in .ci/packages.txt).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

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


@nox.session(name="tests-schannel")
def tests_schannel(session: nox.Session) -> None:
    """The test suite for the SChannel backend (Windows)."""
    _tests(session, "schannel")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting, with the settings in pyproject.toml."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


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
