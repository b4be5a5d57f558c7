"""Real peers for the NSS backend's own tests: our server on a loopback socket, openssl s_server.

``Server`` serves a ServerContext on 127.0.0.1 in a thread, one connection
after another: it answers each line with the same line upper-cased, then
closes, and records what it saw (resumed or not, the peer's leaf, the
version).  ``openssl_server`` runs ``openssl s_server`` for our client.
Every wait has a deadline and every process is stopped and reaped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tlsapi import ServerContext, TLSError, TLSVersion, TLSWrappedSocket
from tlsapi.testing import PKI

DEADLINE = 30.0


def program(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: apt install {package}")
    return path


class Seen:
    """What our server saw of one connection."""

    def __init__(self) -> None:
        self.reused: bool | None = None
        self.peer_leaf: bytes | None = None
        self.version: str | None = None
        self.error: BaseException | None = None


class Server:
    """``context`` serving ``count`` connections on 127.0.0.1, one at a time, in a thread."""

    def __init__(self, context: ServerContext, count: int = 1) -> None:
        self._context = context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(DEADLINE)
        self.port = self._listener.getsockname()[1]
        self.seen: list[Seen] = []
        self._count = count
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        self._thread.join(DEADLINE)

    def _serve(self) -> None:
        for _ in range(self._count):
            try:
                raw, _address = self._listener.accept()
            except OSError:
                return
            seen = Seen()
            self.seen.append(seen)
            raw.settimeout(DEADLINE)
            try:
                tls = self._context.wrap_socket(raw)
                self._answer(tls, seen)
            except (TLSError, OSError) as exc:
                seen.error = exc
            finally:
                raw.close()

    @staticmethod
    def _answer(tls: TLSWrappedSocket, seen: Seen) -> None:
        tls.do_handshake()
        seen.reused = tls.session_reused
        chain = tls.getpeercert()
        seen.peer_leaf = chain[0] if chain else None
        version = tls.negotiated_tls_version
        seen.version = version.name if isinstance(version, TLSVersion) else None
        line = b""
        while not line.endswith(b"\n"):
            data = tls.recv(1024)
            if not data:
                break
            line += data
        tls.sendall(line.upper())
        with contextlib.suppress(TLSError, OSError):
            tls.unwrap()


def write_files(pki: PKI, directory: Path) -> Path:
    """The PKI's root as a CA file for the programs."""
    directory.mkdir(parents=True, exist_ok=True)
    return pki.write_root(directory)


def _program_env() -> dict[str, str]:
    """Our environment without the sanitizer runtime ``nox -s sanitizers`` preloads: the
    programs are peers, not under test (gnutls-cli never exits with ASan preloaded)."""
    return {name: value for name, value in os.environ.items() if name != "LD_PRELOAD"}


def run_client(argv: Sequence[str], stdin: bytes = b"hello\n") -> str:
    """A client program's whole output (stdout and stderr) once it exits."""
    done = subprocess.run(
        list(argv),
        input=stdin,
        capture_output=True,
        timeout=DEADLINE,
        check=False,
        env=_program_env(),
    )
    return (done.stdout + done.stderr).decode("utf-8", "replace")


OPENSSL_VERSION = {TLSVersion.TLSv1_2: "-tls1_2", TLSVersion.TLSv1_3: "-tls1_3"}


def openssl_client(port: int, ca: Path, *extra: str) -> str:
    """``openssl s_client`` against our server for "localhost", verified with ``ca``: its output."""
    return run_client(
        [
            program("openssl", "openssl"),
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-servername",
            "localhost",
            "-CAfile",
            str(ca),
            "-verify_return_error",
            "-ign_eof",
            *extra,
        ]
    )


@contextlib.contextmanager
def openssl_server(arguments: Sequence[str]) -> Iterator[int]:
    """``openssl s_server`` on 127.0.0.1 (its port), stopped and reaped at the end."""
    argv = [program("openssl", "openssl"), "s_server", "-accept", "127.0.0.1:0", *arguments]
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_program_env(),
    )
    assert process.stdout is not None
    try:
        end = time.monotonic() + DEADLINE
        lines = []
        while time.monotonic() < end:
            raw = process.stdout.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            found = re.match(r"^ACCEPT\s+\S+:(\d+)\s*$", line)
            if found:
                yield int(found.group(1))
                return
        pytest.fail(f"openssl s_server did not start: {''.join(lines)}")
    finally:
        process.kill()
        process.wait(DEADLINE)
        process.stdout.close()
        if process.stdin is not None:
            process.stdin.close()
