"""tests/wine: a Windows process under Wine against Linux peers, over loopback.

Run by ``nox -s wine`` only (tests/conftest.py leaves this directory out
unless ``TLSAPI_WINE_TESTS=1``).  The Windows side is one long-lived
python.exe running tests/wine/driver.py with a stage made by
tools/winenv.py (``TLSAPI_WINE_STAGE``, or a fresh build); the Linux side is
the in-process backends (gnutls, nss, stdlib) and the peer programs
(``openssl s_server``/``s_client``, ``gnutls-serv``/``gnutls-cli``).

``TLSAPI_WINE_BACKENDS`` (default ``schannel,stdlib``) names the Windows-side
backends; one that is not available there fails its tests.  A run in which no
test passed fails (so the session cannot pass by running nothing).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi.testing.conformance.fixtures import pki_key_type
from tlsapi.testing.pki import PKI

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import winenv  # type: ignore[import-not-found,unused-ignore]  # noqa: E402

MARK = "@@tlsapi-wine-driver "
DRIVER = Path(__file__).with_name("driver.py")
START_TIMEOUT = 120.0  # a cold prefix takes a while on its first start
CALL_TIMEOUT = 90.0
WINDOWS_BACKENDS = [
    n.strip() for n in os.environ.get("TLSAPI_WINE_BACKENDS", "schannel,stdlib").split(",") if n
]


class DriverError(Exception):
    pass


class WindowsDriver:
    """python.exe running driver.py: ``call(op, **request)`` -> its JSON answer."""

    def __init__(self, stage: Path) -> None:
        self.process = winenv.windows_python_popen(
            ["-u", winenv.windows_path(DRIVER)], stage=stage, cwd=ROOT
        )
        self.noise: list[str] = []  # what else python.exe and Wine printed
        self._lock = threading.Lock()

    def call(self, op: str, timeout: float = CALL_TIMEOUT, **request: Any) -> dict[str, Any]:
        with self._lock:
            stdin, stdout = self.process.stdin, self.process.stdout
            assert stdin is not None and stdout is not None
            try:
                stdin.write((json.dumps({"op": op, **request}) + "\n").encode())
                stdin.flush()
            except BrokenPipeError:
                raise DriverError(f"the Windows driver has exited: {self.transcript()}") from None
            answer = self._read_answer(stdout, timeout)
        return answer

    def _read_answer(self, stdout: Any, timeout: float) -> dict[str, Any]:
        # The answer comes on one line; a reader thread gives the wait a deadline.
        result: list[bytes] = []

        def read() -> None:
            while True:
                line = stdout.readline()
                if not line or line.decode(errors="replace").startswith(MARK):
                    result.append(line)
                    return
                self.noise.append(line.decode(errors="replace").rstrip())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.process.kill()
            raise DriverError(f"no answer from the Windows driver in {timeout:.0f} s")
        if not result or not result[0]:
            raise DriverError(f"the Windows driver has exited: {self.transcript()}")
        answer: dict[str, Any] = json.loads(result[0].decode()[len(MARK) :])
        return answer

    def transcript(self) -> str:
        status = self.process.poll()
        return f"(status {status}) " + "\n".join(self.noise[-40:])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def wine_stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stage the nox session built (TLSAPI_WINE_STAGE), or one built now."""
    given = os.environ.get("TLSAPI_WINE_STAGE")
    if given:
        stage = Path(given)
        if not (stage / "tlsapi_schannel").is_dir():
            pytest.fail(f"TLSAPI_WINE_STAGE={given} holds no staged tlsapi_schannel")
        return stage
    stage = tmp_path_factory.mktemp("wine") / "stage"
    try:
        winenv.build(stage)
    except winenv.SetupError as exc:
        pytest.fail(f"the Windows stage cannot be built: {exc}", pytrace=False)
    return stage


@dataclass
class Windows:
    """The running driver and what it said about itself."""

    driver: WindowsDriver
    wine: str | None
    backends: dict[str, Any] = field(default_factory=dict)

    def backend(self, name: str) -> dict[str, Any]:
        """The Windows-side backend ``name``'s facts; fails the test when it is unavailable."""
        info: dict[str, Any] | None = self.backends.get(name)
        if info is None or not info.get("available"):
            why = info.get("why_not") if info else "not reported"
            pytest.fail(f"Windows-side backend {name!r} is not available under Wine: {why}")
        return info

    def require(self, name: str, capability: tlsapi.Capability, what: str) -> None:
        """Skip, saying why, when the Windows-side backend lacks ``capability`` under Wine."""
        info = self.backend(name)
        if str(capability) not in info["capabilities"]:
            limitations = info.get("details", {}).get("limitations", "none listed")
            pytest.skip(
                f"{name} under Wine {self.wine} lacks {capability} ({what}); real Windows "
                f"has it. The backend's limitations there: {limitations}"
            )


@pytest.fixture(scope="session")
def windows(wine_stage: Path) -> Iterator[Windows]:
    """One python.exe for the whole session (a start costs 1-2 s under Wine)."""
    started = time.monotonic()
    try:
        driver = WindowsDriver(wine_stage)
    except winenv.SetupError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        hello = driver.call("hello", timeout=START_TIMEOUT)
    except DriverError as exc:
        driver.close()
        pytest.fail(f"the Windows driver did not start: {exc}", pytrace=False)
    assert hello["wine"], "the driver does not run under Wine (no wine_get_version in ntdll)"
    print(f"Windows driver up in {time.monotonic() - started:.1f} s under Wine {hello['wine']}")
    yield Windows(driver, hello["wine"], hello["backends"])
    driver.close()


@pytest.fixture(scope="session")
def wine_pki() -> PKI:
    """The PKI of every connection: RSA under the wine session (TLSAPI_TEST_PKI_KEY=rsa2048)."""
    return PKI(pki_key_type(), name="tlsapi wine")


@pytest.fixture(scope="session")
def wine_files(wine_pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> WineFiles:
    directory = tmp_path_factory.mktemp("wine-files")
    return WineFiles(directory, wine_pki)


class WineFiles:
    """The PKI's files on disk, with the Windows process' names for them."""

    def __init__(self, directory: Path, pki: PKI) -> None:
        self.directory = directory
        self.pki = pki
        self.ca = directory / "ca.pem"
        self.ca.write_bytes(pki.root_pem)
        self.server = pki.server_identity.write(directory, "server")
        # The client leaf is the root's: Wine's SChannel sends only the leaf of a client
        # chain (schannel_gnutls.c gives GnuTLS one certificate), so a leaf from the
        # intermediate would fail as untrusted-issuer at every server (the kit's
        # client_identity() does the same under Wine).
        self.client_identity = pki.issue(
            names=("client.test",), ips=(), eku=("client",), issuer="root"
        )
        self.client = self.client_identity.write(directory, "client")
        stranger = PKI(pki.key_type, name="tlsapi wine stranger")
        self.unknown_ca = directory / "unknown-ca.pem"
        self.unknown_ca.write_bytes(stranger.root_pem)

    @staticmethod
    def win(path: Path) -> str:
        return str(winenv.windows_path(path))

    def client_request(self, *, mutual: bool = False, cafile: Path | None = None) -> dict[str, Any]:
        """The Windows client's files: trust (our root unless ``cafile``), identity when mutual."""
        request: dict[str, Any] = {"cafile": self.win(cafile or self.ca)}
        if mutual:
            request |= {"chain": self.win(self.client.chain), "key": self.win(self.client.key)}
        return request

    def server_request(self, *, mutual: bool = False) -> dict[str, Any]:
        request: dict[str, Any] = {
            "chain": self.win(self.server.chain),
            "key": self.win(self.server.key),
        }
        if mutual:
            request["cafile"] = self.win(self.ca)
        return request


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def loopback_listener() -> socket.socket:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(CALL_TIMEOUT)
    return listener


# -- a run must have run something --------------------------------------------------------

_passed: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        _passed.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus == 0 and not _passed and not session.config.option.collectonly:
        print("\ntests/wine: no test passed; a Wine run that runs nothing is a failure")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
