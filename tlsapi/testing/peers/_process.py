"""Process management for peer programs: start, capture output, wait, stop.

Every program runs as a :class:`PeerProcess`: stdout and stderr are drained
by reader threads into memory (for failure messages and the parsers), every
wait has a deadline, and :meth:`PeerProcess.stop` terminates, then kills,
and reaps.  A server is ready when it prints its ready line
(:func:`_wait_until_listening`), never after a sleep.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
# Generous: two shared cores, and NSS opens its database at start.
START_TIMEOUT = 30.0
RUN_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
# How much of a program's output a failure message shows (the end matters most).
TRANSCRIPT_LIMIT = 6000
_PORT_ATTEMPTS = 8


class PeerError(RuntimeError):
    """An external peer program misbehaved; the message carries its output."""


class PeerProcess:
    """One running program with its stdout and stderr captured by reader threads.

    Use it as a context manager (or call :meth:`stop`): the program is
    terminated, killed if it does not exit in time, and reaped.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        stdin_data: bytes | None = None,
    ) -> None:
        self.argv = list(argv)
        self.name = name or Path(self.argv[0]).name
        self._chunks: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self._changed = threading.Condition()
        self.input_refused = False
        environment = dict(os.environ if env is None else env)
        environment.setdefault("LC_ALL", "C")  # messages we parse are the untranslated ones
        # The sanitizer session preloads ASan/UBSan for our C; a peer program is not
        # ours, and gnutls-cli under that preload never exits.
        environment.pop("LD_PRELOAD", None)
        try:
            self._process = subprocess.Popen(
                _line_buffered(self.argv),
                cwd=cwd,
                env=environment,
                stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as exc:
            raise PeerError(f"cannot start {self.name} ({' '.join(self.argv)}): {exc}") from exc
        self._readers = [
            threading.Thread(
                target=self._drain, args=(stream, pipe), name=f"{self.name} {stream}", daemon=True
            )
            for stream, pipe in (("stdout", self._process.stdout), ("stderr", self._process.stderr))
        ]
        for reader in self._readers:
            reader.start()
        if stdin_data is not None:
            # Written once and left open: some clients quit at end of input
            # before the reply arrives.  stop() closes it.
            self._write_stdin(stdin_data)

    def _drain(self, stream: str, pipe: IO[bytes] | None) -> None:
        assert pipe is not None
        while True:
            try:
                data = pipe.read(65536)
            except (OSError, ValueError):
                data = b""
            with self._changed:
                if data:
                    self._chunks[stream] += data
                self._changed.notify_all()
            if not data:
                return

    def _write_stdin(self, data: bytes) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(data)
            stdin.flush()
        except OSError:
            # It exited (or closed its input) first, e.g. after a failed
            # handshake: its exit status and output tell the story.
            self.input_refused = True

    # -- what it printed ---------------------------------------------------------

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.poll()

    def stdout(self) -> str:
        with self._changed:
            return self._chunks["stdout"].decode("utf-8", "replace")

    def stderr(self) -> str:
        with self._changed:
            return self._chunks["stderr"].decode("utf-8", "replace")

    def stdout_bytes(self) -> bytes:
        with self._changed:
            return bytes(self._chunks["stdout"])

    def output(self) -> str:
        """stdout, then stderr (some programs log to one, some to the other)."""
        return self.stdout() + "\n" + self.stderr()

    def transcript(self) -> str:
        """The command, its exit status and the end of its output, for failure messages."""
        code = self._process.poll()
        state = "still running" if code is None else f"exit status {code}"
        parts = [f"--- {self.name} (pid {self.pid}, {state}): {' '.join(self.argv)}"]
        for stream in ("stdout", "stderr"):
            text = self.stdout() if stream == "stdout" else self.stderr()
            if len(text) > TRANSCRIPT_LIMIT:
                text = (
                    f"[... {len(text) - TRANSCRIPT_LIMIT} characters left out ...]\n"
                    + (text[-TRANSCRIPT_LIMIT:])
                )
            parts.append(f"--- {self.name} {stream}:\n{text.rstrip() or '(empty)'}")
        return "\n".join(parts)

    def _finished(self) -> bool:
        return self._process.poll() is not None and not any(r.is_alive() for r in self._readers)

    def wait_for(
        self, pattern: str | re.Pattern[str], timeout: float, *, stream: str | None = None
    ) -> re.Match[str] | None:
        """The first match of ``pattern`` (multiline) in the output.

        Returns None when the program exits without printing it; raises
        PeerError when ``timeout`` seconds pass first.  ``stream`` limits
        the search to "stdout" or "stderr".
        """
        regex = re.compile(pattern, re.MULTILINE) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for name in (stream,) if stream else ("stdout", "stderr"):
                    match = regex.search(self._chunks[name].decode("utf-8", "replace"))
                    if match:
                        return match
                if self._finished():
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                # Wake up now and then: process exit is not a notification.
                self._changed.wait(min(remaining, 0.1))
        raise PeerError(
            f"{self.name} did not print {regex.pattern!r} within {timeout:.0f} s\n"
            + self.transcript()
        )

    def wait(self, timeout: float) -> int:
        """Wait for the program to exit by itself; PeerError after ``timeout`` seconds."""
        try:
            code = self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError(
                f"{self.name} did not exit within {timeout:.0f} s\n{self.transcript()}"
            ) from None
        self._join_readers()
        return code

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """Terminate (then kill) the program if it still runs, and reap it."""
        process = self._process
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout)
        finally:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            self._join_readers()
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        return process.returncode

    def _join_readers(self) -> None:
        for reader in self._readers:
            reader.join(STOP_TIMEOUT)

    def __enter__(self) -> PeerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _line_buffered(argv: list[str]) -> list[str]:
    # stdio buffers a pipe fully; a terminated program would lose its last
    # lines.  stdbuf (GNU coreutils) makes stdout line-buffered.
    stdbuf = shutil.which("stdbuf")
    return [stdbuf, "-oL", "-eL", *argv] if stdbuf else argv


def _run_tool(argv: list[str], stdin: bytes | None = None) -> None:
    try:
        result = subprocess.run(
            argv, input=stdin, capture_output=True, timeout=RUN_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerError(f"{' '.join(argv)}: {exc}") from exc
    if result.returncode != 0:
        raise PeerError(
            f"{' '.join(argv)} failed with exit status {result.returncode}:\n"
            + (result.stdout + result.stderr).decode("utf-8", "replace")
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclasses.dataclass(frozen=True)
class _Launch:
    argv: list[str]
    port: int | None  # None: the program picks one and prints it
    ready: str  # a regex; group "port" when port is None
    collision: str | None  # a regex for "the port was taken"


def _wait_until_listening(process: PeerProcess, launch: _Launch, timeout: float) -> int | None:
    """The port once ``process`` listens; None when its port was taken."""
    pattern = launch.ready if launch.collision is None else f"{launch.ready}|{launch.collision}"
    match = process.wait_for(pattern, timeout)
    if match is None or (launch.collision and re.search(launch.collision, match[0])):
        if launch.collision and re.search(launch.collision, process.output()):
            return None
        raise PeerError(f"{process.name} exited before it listened\n{process.transcript()}")
    if launch.port is not None:
        return launch.port
    return int(match["port"])
