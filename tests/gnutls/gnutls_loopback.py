"""Our GnuTLS server on 127.0.0.1 for client programs, and our client for server programs.

``LoopbackServer`` accepts in a thread: each connection handshakes, records
what it negotiated, echoes what it reads up to a newline (or the peer's
end), and closes.
``talk`` is one client connection from us: handshake, a line out, the echo
back (which also reads any TLS 1.3 ticket that came first), close.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import tlsapi
from tlsapi import ClientContext, ServerContext, SignatureScheme, TLSSession, TLSVersion

TIMEOUT = 20.0


@dataclasses.dataclass
class Served:
    """What our server saw on one connection."""

    reused: bool
    version: TLSVersion | int | None
    signature_scheme: SignatureScheme | None
    peer_chain: list[bytes] | None
    received: bytes = b""
    error: BaseException | None = None


class LoopbackServer:
    """``context`` serving on 127.0.0.1 (port ``port``) until the block ends."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.served: list[Served] = []
        self.failures: list[BaseException] = []  # handshakes that failed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loopback server", daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(TIMEOUT)
        self.listener.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(TIMEOUT)
            tls = self.context.wrap_socket(sock)
            try:
                try:
                    tls.do_handshake()
                except (tlsapi.TLSError, OSError) as exc:
                    self.failures.append(exc)
                    continue
                served = Served(
                    tls.session_reused,
                    tls.negotiated_tls_version,
                    tls.signature_scheme(),
                    tls.getpeercert(),
                )
                self.served.append(served)
                try:
                    while data := tls.recv(4096):
                        served.received += data
                        tls.sendall(data)
                        if served.received.endswith(b"\n"):
                            break  # one line: the server ends (some clients wait for that)
                except (tlsapi.TLSError, OSError) as exc:
                    served.error = exc  # a client that leaves without close_notify
            finally:
                tls.close()


def talk(
    context: ClientContext,
    port: int,
    *,
    session: TLSSession | None = None,
    line: bytes = b"ping\n",
) -> tlsapi.TLSWrappedSocket:
    """One connection from us to 127.0.0.1:``port``: the line goes out, its echo comes back."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    tls = context.wrap_socket(sock, "localhost", session=session)
    try:
        tls.do_handshake()
        tls.sendall(line)
        echoed = b""
        while len(echoed) < len(line):
            data = tls.recv(4096)
            if not data:
                break
            echoed += data
        assert echoed.strip() in (line.strip(), line.strip()[::-1]), echoed
    except BaseException:
        tls.close()
        raise
    return tls


def run(argv: Sequence[str], *, stdin: bytes = b"", env: dict[str, str] | None = None) -> str:
    """A client program to its end: its stdout and stderr together (C locale)."""
    import os

    environment = dict(os.environ if env is None else env)
    environment["LC_ALL"] = "C"
    # nox -s sanitizers preloads ASan into every process it starts: the peer
    # programs are not what it checks, and gnutls-cli under it never exits.
    environment.pop("LD_PRELOAD", None)
    done = subprocess.run(
        list(argv),
        input=stdin,
        capture_output=True,
        timeout=TIMEOUT,
        env=environment,
        check=False,
    )
    return (done.stdout + done.stderr).decode("utf-8", "replace")


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path
