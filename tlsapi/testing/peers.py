"""External TLS programs as test peers: OpenSSL, GnuTLS and NSS command-line tools.

Servers (``openssl s_server``, ``gnutls-serv``, NSS ``selfserv``) run on
127.0.0.1 and answer what a client sends; clients (``openssl s_client``,
``gnutls-cli``, NSS ``tstclnt``) connect to a port, send a request and print
what comes back.  Every program runs as a :class:`PeerProcess`: its output is
captured for failure messages, every wait has a deadline, and it is stopped
(terminate, then kill) and reaped when its ``with`` block ends::

    files = PeerFiles.from_pki(tmp_path / "server", pki, pki.server_identity)
    with run_server(OPENSSL_SERVER, files, alpn=(b"h2",)) as server:
        sock = socket.create_connection(server.address)
        ...                                   # send server.echo.request(token)
        server.stop()
        report = server.report()             # what the program says it negotiated

The hard parts, and how they are handled:

- Ports.  ``s_server`` binds port 0 and prints the port it got.  ``gnutls-serv``
  and ``selfserv`` cannot say which port they got, so a free port is picked
  and the start is retried when the program reports that it could not bind.
  ``gnutls-serv`` has no option for the listening address (it binds 0.0.0.0
  and ::) and ``selfserv`` binds the wildcard of its preferred loopback
  family; clients still connect to 127.0.0.1 only.
- Readiness.  Each server prints a line once it listens (``ACCEPT``, ``...done``,
  ``About to call accept``); we wait for that line, never sleep.
- Output.  Programs run under ``stdbuf -oL`` where it exists so their stdout
  is line-buffered and nothing is lost when they are terminated.
- Echo.  No two servers echo alike: ``gnutls-serv --echo`` echoes,
  ``s_server -rev`` sends each line back reversed, ``selfserv`` answers an
  HTTP request with a page that contains the request and then closes.
  :class:`EchoStyle` tells a client what to send and what to expect back.
- NSS needs a certificate database: :meth:`PeerFiles.nss_database` builds
  one in the files' directory with ``certutil`` and ``pk12util`` (the root
  trusted for servers and clients, the identity imported from PKCS#12).
- ``tstclnt`` spins forever when its stdin is a pipe that reached end of
  file (it polls for readable, gets HUP), so it reads its request from a
  file (``-A``) instead.

What the programs cannot do (so the tests do not ask them to): ``selfserv``
offers exactly one ALPN protocol, http/1.1 (``-Q``); ``tstclnt`` has no ALPN
option at all.  Each :class:`PeerProgram` says what it supports.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .._versions import TLSVersion

__all__ = [
    "ALL_CLIENTS",
    "ALL_SERVERS",
    "GNUTLS_CLIENT",
    "GNUTLS_SERVER",
    "NSS_CLIENT",
    "NSS_SERVER",
    "OPENSSL_CLIENT",
    "OPENSSL_SERVER",
    "ClientAuth",
    "EchoStyle",
    "NSSDatabase",
    "PeerClient",
    "PeerError",
    "PeerFiles",
    "PeerProcess",
    "PeerProgram",
    "PeerReport",
    "PeerServer",
    "ToolMissing",
    "bulk_cipher",
    "require_program",
    "run_client",
    "run_server",
]

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


class ToolMissing(PeerError):
    """A program is not installed; ``package`` is the Debian package that has it."""

    def __init__(self, program: PeerProgram, missing: Sequence[str]) -> None:
        self.program = program
        self.missing = tuple(missing)
        self.package = program.package
        super().__init__(
            f"{program.name} needs {', '.join(self.missing)}, not found on PATH: "
            f"install the Debian package {program.package} "
            f"(apt-get install {program.package}; CI installs .ci/packages.txt)"
        )


class ClientAuth(enum.Enum):
    """Whether a server program asks its clients for a certificate."""

    NONE = "none"
    REQUEST = "request"  # asked for, verified when sent, optional
    REQUIRE = "require"  # the handshake fails without a valid one


# -- processes -------------------------------------------------------------------


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


# -- the programs ----------------------------------------------------------------


class EchoStyle(enum.Enum):
    """How a server program answers, so that a client knows what to send and expect."""

    ECHO = "echo"  # gnutls-serv --echo: the bytes come back as sent
    REVERSED_LINES = "reversed-lines"  # s_server -rev: each line comes back reversed
    HTTP = "http"  # selfserv: a page holding the request, then close_notify

    def request(self, token: bytes) -> bytes:
        """What to send; ``token`` must be printable ASCII without spaces."""
        if not re.fullmatch(rb"[!-~]+", token):
            raise ValueError(f"token {token!r} must be printable ASCII without spaces")
        if self is EchoStyle.HTTP:
            return b"GET /" + token + b" HTTP/1.0\r\n\r\n"
        return token + b"\n"

    def expected(self, token: bytes) -> bytes:
        """Bytes the reply must contain: proof that the server read the request."""
        if self is EchoStyle.REVERSED_LINES:
            return token[::-1] + b"\n"
        if self is EchoStyle.HTTP:
            return b"GET /" + token + b" HTTP/1.0"
        return token + b"\n"

    @property
    def server_closes(self) -> bool:
        """True when the server closes the connection after its reply."""
        return self is EchoStyle.HTTP


@dataclasses.dataclass(frozen=True)
class PeerProgram:
    """One external program and what it can do."""

    name: str
    role: str  # "server" or "client"
    executables: tuple[str, ...]
    package: str  # the Debian package that installs it
    alpn: bool  # can it be given any list of ALPN protocols?
    fixed_alpn: tuple[bytes, ...] = ()  # the only list it can offer, when alpn is False
    echo: EchoStyle | None = None  # servers only
    reports_alpn: bool = False  # does its output say which ALPN protocol was chosen?

    def missing(self) -> list[str]:
        """The executables it needs that are not on PATH."""
        return [exe for exe in self.executables if shutil.which(exe) is None]

    def check_installed(self) -> None:
        """Raise ToolMissing (naming the Debian package) when not installed."""
        missing = self.missing()
        if missing:
            raise ToolMissing(self, missing)

    def __str__(self) -> str:
        return self.name


OPENSSL_SERVER = PeerProgram(
    "openssl s_server", "server", ("openssl",), "openssl",
    alpn=True, echo=EchoStyle.REVERSED_LINES, reports_alpn=True,
)  # fmt: skip
GNUTLS_SERVER = PeerProgram(
    "gnutls-serv", "server", ("gnutls-serv",), "gnutls-bin",
    alpn=True, echo=EchoStyle.ECHO, reports_alpn=True,
)  # fmt: skip
NSS_SERVER = PeerProgram(
    "selfserv", "server", ("selfserv", "certutil", "pk12util"), "libnss3-tools",
    alpn=False, fixed_alpn=(b"http/1.1",), echo=EchoStyle.HTTP,
)  # fmt: skip
OPENSSL_CLIENT = PeerProgram(
    "openssl s_client", "client", ("openssl",), "openssl", alpn=True, reports_alpn=True
)
GNUTLS_CLIENT = PeerProgram(
    "gnutls-cli", "client", ("gnutls-cli",), "gnutls-bin", alpn=True, reports_alpn=True
)
NSS_CLIENT = PeerProgram(
    "tstclnt", "client", ("tstclnt", "certutil", "pk12util"), "libnss3-tools", alpn=False
)
ALL_SERVERS = (OPENSSL_SERVER, GNUTLS_SERVER, NSS_SERVER)
ALL_CLIENTS = (OPENSSL_CLIENT, GNUTLS_CLIENT, NSS_CLIENT)


def require_program(program: PeerProgram) -> None:
    """For pytest: fail when ``program`` is missing on Linux, skip on other systems.

    On Linux every program is one ``apt-get install`` away (the Debian
    package is named), so a missing one is a broken set-up and must not pass
    as a skip.  Elsewhere the programs are not part of the system, and what
    may be found instead (LibreSSL's ``openssl`` on macOS) lacks options used
    here, so the tests skip; ``run_server``/``run_client`` still work wherever
    the same programs are installed.
    """
    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip(
            f"{program.name}: the external peer programs are tested on Linux, where CI "
            f"installs them (Debian package {program.package}); not on {sys.platform}"
        )
    try:
        program.check_installed()
    except ToolMissing as exc:
        pytest.fail(str(exc), pytrace=False)


# -- certificates on disk ---------------------------------------------------------

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.DOTALL)


@dataclasses.dataclass(frozen=True)
class NSSDatabase:
    """An NSS certificate database for selfserv/tstclnt (empty password)."""

    directory: Path
    nickname: str | None  # the identity's certificate and key, when there is one

    @property
    def spec(self) -> str:
        return f"sql:{self.directory}"


class PeerFiles:
    """What an external program trusts and who it is, as files in ``directory``.

    ``ca_file`` holds the certificates to trust (PEM).  With an identity,
    ``cert_file`` is its leaf, ``chain_file`` the leaf and intermediates and
    ``key_file`` its unencrypted PKCS#8 key.  :meth:`nss_database` makes the
    NSS form of the same on first use.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        ca_pem: bytes,
        chain_pem: bytes | None = None,
        key_pem: bytes | None = None,
        nickname: str = "tlsapi-peer",
    ) -> None:
        if (chain_pem is None) != (key_pem is None):
            raise ValueError("an identity needs both chain_pem and key_pem")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.nickname = nickname
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(ca_pem)
        self.cert_file: Path | None = None
        self.chain_file: Path | None = None
        self.key_file: Path | None = None
        if chain_pem is not None and key_pem is not None:
            certificates = _PEM_CERT.findall(chain_pem)
            if not certificates:
                raise ValueError("chain_pem holds no PEM certificate")
            self.cert_file = self.directory / "cert.pem"
            self.cert_file.write_bytes(certificates[0])
            self.chain_file = self.directory / "chain.pem"
            self.chain_file.write_bytes(chain_pem)
            self.key_file = self.directory / "key.pem"
            self.key_file.write_bytes(key_pem)
            self.key_file.chmod(0o600)
        self._nss: NSSDatabase | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_pki(
        cls, directory: str | os.PathLike[str], pki: Any, identity: Any = None
    ) -> PeerFiles:
        """Files trusting ``pki``'s root, for ``identity`` (a tlsapi.testing.pki.Identity)."""
        if identity is None:
            return cls(directory, ca_pem=pki.root_pem)
        return cls(
            directory, ca_pem=pki.root_pem, chain_pem=identity.chain_pem, key_pem=identity.key_pem
        )

    @property
    def has_identity(self) -> bool:
        return self.key_file is not None

    def identity_files(self) -> tuple[Path, Path, Path]:
        """(cert, chain, key); PeerError when these files hold no identity."""
        if self.cert_file is None or self.chain_file is None or self.key_file is None:
            raise PeerError(f"{self.directory} holds no certificate and key")
        return self.cert_file, self.chain_file, self.key_file

    def nss_database(self) -> NSSDatabase:
        """The NSS database for these files, made on first use."""
        with self._lock:
            if self._nss is None:
                self._nss = _make_nss_database(self)
            return self._nss


def _make_nss_database(files: PeerFiles) -> NSSDatabase:
    directory = files.directory / "nssdb"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    spec = f"sql:{directory}"
    _run_tool(["certutil", "-N", "-d", spec, "--empty-password"])
    # certutil -A takes one certificate per call; "C" trusts for servers, "T" for clients.
    for index, pem in enumerate(_PEM_CERT.findall(files.ca_file.read_bytes())):
        _run_tool(
            ["certutil", "-A", "-d", spec, "-n", f"tlsapi-ca-{index}", "-t", "CT,C,C"],
            stdin=pem,
        )
    nickname = None
    if files.has_identity:
        nickname = files.nickname
        p12 = files.directory / "identity.p12"
        password = "tlsapi-test"
        p12.write_bytes(_pkcs12(files, nickname, password.encode()))
        _run_tool(["pk12util", "-i", str(p12), "-d", spec, "-W", password])
    return NSSDatabase(directory, nickname)


def _pkcs12(files: PeerFiles, nickname: str, password: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    _, chain_file, key_file = files.identity_files()
    certificates = x509.load_pem_x509_certificates(chain_file.read_bytes())
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    kinds = (
        rsa.RSAPrivateKey,
        dsa.DSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
    )
    if not isinstance(key, kinds):
        raise PeerError(f"{key_file}: a {type(key).__name__} cannot go into PKCS#12")
    return pkcs12.serialize_key_and_certificates(
        nickname.encode(),
        key,
        certificates[0],
        certificates[1:],
        serialization.BestAvailableEncryption(password),
    )


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


# -- what a program says it negotiated ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PeerReport:
    """What a program printed about its (last) connection; None: not printed."""

    version: TLSVersion | None = None
    cipher: str | None = None  # in the program's own naming
    alpn: bytes | None = None  # None also when the program does not report ALPN
    peer_subject: str | None = None  # the peer certificate's subject, as printed
    verified: bool | None = None  # the program says the peer's certificate checked out

    @property
    def bulk_cipher(self) -> str | None:
        """The cipher as "AES-256-GCM", "CHACHA20-POLY1305", ... (see bulk_cipher())."""
        return bulk_cipher(self.cipher) if self.cipher else None


_VERSIONS = {
    "TLSv1": TLSVersion.TLSv1,
    "TLSv1.1": TLSVersion.TLSv1_1,
    "TLSv1.2": TLSVersion.TLSv1_2,
    "TLSv1.3": TLSVersion.TLSv1_3,
    "TLS1.0": TLSVersion.TLSv1,
    "TLS1.1": TLSVersion.TLSv1_1,
    "TLS1.2": TLSVersion.TLSv1_2,
    "TLS1.3": TLSVersion.TLSv1_3,
    "3.1": TLSVersion.TLSv1,
    "3.2": TLSVersion.TLSv1_1,
    "3.3": TLSVersion.TLSv1_2,
    "3.4": TLSVersion.TLSv1_3,
}


def bulk_cipher(name: str) -> str | None:
    """The record cipher of a suite name in IANA, OpenSSL, GnuTLS or NSS style.

    "TLS_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", "AES-256-GCM"
    and NSS's "256-bit AES-GCM" all give "AES-256-GCM", so that what a program
    prints can be compared with a backend's ``cipher()``.
    """
    text = name.upper().replace("_", "-")
    if "CHACHA20" in text:
        return "CHACHA20-POLY1305"
    match = re.search(r"(\d+)-BIT (AES|CAMELLIA|ARIA)-(GCM|CCM|CBC)", text)  # NSS
    if match:
        return f"{match[2]}-{match[1]}-{match[3]}"
    match = re.search(r"(AES|CAMELLIA|ARIA)-?(\d+)-(GCM|CCM-8|CCM|CBC)", text)
    if match:
        return f"{match[1]}-{match[2]}-{match[3]}"
    match = re.search(r"(AES|CAMELLIA|ARIA)-?(\d+)(?:-SHA|$)", text)  # OpenSSL's CBC names
    if match:
        return f"{match[1]}-{match[2]}-CBC"
    return None


def _last(pattern: str, text: str) -> re.Match[str] | None:
    matches = list(re.finditer(pattern, text, re.MULTILINE))
    return matches[-1] if matches else None


def _group(pattern: str, text: str) -> str | None:
    match = _last(pattern, text)
    return match[1].strip() if match else None


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match[1].strip() if match else None


def _version(token: str | None) -> TLSVersion | None:
    return _VERSIONS.get(token) if token else None


def _alpn_value(token: str | None) -> bytes | None:
    return token.encode() if token else None


def _parse_openssl_server(text: str) -> PeerReport:
    return PeerReport(
        version=_version(_group(r"^Protocol version: (\S+)", text)),
        cipher=_group(r"^Ciphersuite: (\S+)", text),
        alpn=_alpn_value(_group(r"^ALPN protocols selected: (\S+)", text)),
        peer_subject=_group(r"^Peer certificate: (.+)$", text),
        verified=None,
    )


def _parse_openssl_client(text: str) -> PeerReport:
    new = _last(r"^New, (\S+), Cipher is (\S+)", text)
    verification = _group(r"^Verification: (.+)$", text)
    return PeerReport(
        version=_version(new[1]) if new else None,
        cipher=new[2] if new else None,
        alpn=_alpn_value(_group(r"^ALPN protocol: (\S+)", text)),
        peer_subject=_group(r"^subject=(.+)$", text),
        verified=None if verification is None else verification == "OK",
    )


def _parse_gnutls(text: str) -> PeerReport:
    # Only the last connection's block counts (a server prints one per client).
    start = _last(r"^\* Accepted connection", text)
    block = text[start.start() :] if start else text
    # "- Description: (TLS1.3-X.509)-(ECDHE-X25519)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)"
    description = _last(r"^- Description: \((TLS[\d.]+)-.*\(([^()]+)\)\s*$", block)
    status = _group(r"^- Status: (.+)$", block)
    return PeerReport(
        version=_version(description[1]) if description else None,
        cipher=description[2] if description else None,
        alpn=_alpn_value(_group(r"^- Application protocol: (\S+)", block)),
        # The first subject printed is the peer's leaf (the chain follows it).
        peer_subject=_first(r"subject `([^']*)'", block) or _first(r"^\s*Subject: (.+)$", block),
        verified=None if status is None else status.startswith("The certificate is trusted"),
    )


def _parse_nss(text: str, program: str) -> PeerReport:
    line = _last(rf"^{program}: SSL version (\d\.\d) using (\d+-bit \S+)", text)
    return PeerReport(
        version=_version(line[1]) if line else None,
        cipher=line[2] if line else None,
        alpn=None,
        peer_subject=_group(rf"^(?:{program}: )?subject DN: (.+)$", text),
        verified=None,
    )


# -- command lines ---------------------------------------------------------------

_OPENSSL_VERSIONS = {
    TLSVersion.TLSv1: "TLSv1",
    TLSVersion.TLSv1_1: "TLSv1.1",
    TLSVersion.TLSv1_2: "TLSv1.2",
    TLSVersion.TLSv1_3: "TLSv1.3",
}
_GNUTLS_VERSIONS = {
    TLSVersion.TLSv1: "VERS-TLS1.0",
    TLSVersion.TLSv1_1: "VERS-TLS1.1",
    TLSVersion.TLSv1_2: "VERS-TLS1.2",
    TLSVersion.TLSv1_3: "VERS-TLS1.3",
}
_NSS_VERSIONS = {
    TLSVersion.TLSv1: "tls1.0",
    TLSVersion.TLSv1_1: "tls1.1",
    TLSVersion.TLSv1_2: "tls1.2",
    TLSVersion.TLSv1_3: "tls1.3",
}


def _versions(lowest: TLSVersion, highest: TLSVersion) -> list[TLSVersion]:
    concrete = list(_OPENSSL_VERSIONS)
    for bound in (lowest, highest):
        if bound not in concrete:
            raise ValueError(f"external peers need concrete versions, not {bound.name}")
    chosen = concrete[concrete.index(lowest) : concrete.index(highest) + 1]
    if not chosen:
        raise ValueError(f"empty version range {lowest.name}..{highest.name}")
    return chosen


def _openssl_versions(lowest: TLSVersion, highest: TLSVersion) -> list[str]:
    chosen = _versions(lowest, highest)
    return [
        "-min_protocol", _OPENSSL_VERSIONS[chosen[0]],
        "-max_protocol", _OPENSSL_VERSIONS[chosen[-1]],
    ]  # fmt: skip


def _gnutls_priority(lowest: TLSVersion, highest: TLSVersion) -> str:
    chosen = _versions(lowest, highest)
    return "NORMAL:-VERS-ALL:" + ":".join("+" + _GNUTLS_VERSIONS[v] for v in reversed(chosen))


def _nss_versions(lowest: TLSVersion, highest: TLSVersion) -> str:
    chosen = _versions(lowest, highest)
    return f"{_NSS_VERSIONS[chosen[0]]}:{_NSS_VERSIONS[chosen[-1]]}"


def _alpn_tokens(alpn: Sequence[bytes]) -> list[str]:
    tokens = []
    for protocol in alpn:
        text = bytes(protocol).decode("ascii")
        if not text or "," in text or not text.isprintable():
            raise ValueError(f"ALPN protocol {protocol!r} cannot be passed on a command line")
        tokens.append(text)
    return tokens


def _check_alpn(program: PeerProgram, alpn: Sequence[bytes]) -> None:
    if alpn and not program.alpn and tuple(alpn) != program.fixed_alpn:
        offer = ", ".join(p.decode() for p in program.fixed_alpn) or "no ALPN at all"
        raise ValueError(f"{program.name} cannot offer ALPN {list(alpn)}: it offers {offer}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


# -- servers ---------------------------------------------------------------------


class PeerServer:
    """A running server program: where it listens, how it answers, what it printed."""

    def __init__(self, program: PeerProgram, process: PeerProcess, port: int) -> None:
        self.program = program
        self.process = process
        self.host = HOST
        self.port = port
        assert program.echo is not None
        self.echo: EchoStyle = program.echo

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def connect(self, timeout: float = RUN_TIMEOUT) -> socket.socket:
        """A TCP connection to the server (blocking, with ``timeout``)."""
        return socket.create_connection(self.address, timeout=timeout)

    def stop(self) -> int:
        """Stop the program (idempotent); its output is complete afterwards."""
        return self.process.stop()

    def output(self) -> str:
        return self.process.output()

    def transcript(self) -> str:
        return self.process.transcript()

    def report(self) -> PeerReport:
        """What the program says about its last connection (best after stop())."""
        text = self.process.output()
        if self.program is OPENSSL_SERVER:
            return _parse_openssl_server(text)
        if self.program is GNUTLS_SERVER:
            return _parse_gnutls(text)
        return _parse_nss(text, "selfserv")

    def __repr__(self) -> str:
        return f"<PeerServer {self.program.name} on {self.host}:{self.port}>"


@dataclasses.dataclass(frozen=True)
class _Launch:
    argv: list[str]
    port: int | None  # None: the program picks one and prints it
    ready: str  # a regex; group "port" when port is None
    collision: str | None  # a regex for "the port was taken"


def _openssl_server_launch(
    files: PeerFiles, versions: list[str], alpn: Sequence[bytes], client_auth: ClientAuth
) -> _Launch:
    cert, chain, key = files.identity_files()
    argv = [
        "openssl", "s_server", "-accept", f"{HOST}:0", "-rev",
        "-cert", str(cert), "-cert_chain", str(chain), "-key", str(key),
        "-CAfile", str(files.ca_file), *versions,
    ]  # fmt: skip
    if alpn:
        argv += ["-alpn", ",".join(_alpn_tokens(alpn))]
    if client_auth is not ClientAuth.NONE:
        flag = "-Verify" if client_auth is ClientAuth.REQUIRE else "-verify"
        argv += [flag, "4", "-verify_return_error"]
    return _Launch(argv, None, r"^ACCEPT\s+\S+:(?P<port>\d+)\s*$", None)


def _gnutls_server_launch(
    files: PeerFiles, priority: str, alpn: Sequence[bytes], client_auth: ClientAuth
) -> _Launch:
    _, chain, key = files.identity_files()
    port = _free_port()
    argv = [
        "gnutls-serv", "--echo", "--crlf", "-p", str(port), "--priority", priority,
        "--x509certfile", str(chain), "--x509keyfile", str(key),
        "--x509cafile", str(files.ca_file),
    ]  # fmt: skip
    for protocol in _alpn_tokens(alpn):
        argv += ["--alpn", protocol]
    if client_auth is ClientAuth.NONE:
        argv.append("--disable-client-cert")
    else:
        argv.append("--verify-client-cert")
        if client_auth is ClientAuth.REQUIRE:
            argv.append("--require-client-cert")
    # It goes on with IPv6 alone when the IPv4 bind fails: only IPv4 "done" is ready.
    return _Launch(
        argv, port, r"listening on IPv4 \S+ port \d+\.\.\.done", r"IPv4 .*bind\(\) failed"
    )


def _nss_server_launch(
    files: PeerFiles, versions: str, alpn: Sequence[bytes], client_auth: ClientAuth
) -> _Launch:
    database = files.nss_database()
    if database.nickname is None:
        raise PeerError(f"{files.directory} holds no certificate and key for selfserv")
    port = _free_port()
    argv = [
        "selfserv", "-d", database.spec, "-n", database.nickname, "-p", str(port),
        "-V", versions, "-v",
    ]  # fmt: skip
    if alpn:
        argv.append("-Q")  # http/1.1, the only protocol selfserv can offer
    if client_auth is ClientAuth.REQUEST:
        argv.append("-r")
    elif client_auth is ClientAuth.REQUIRE:
        argv += ["-r", "-r"]
    return _Launch(argv, port, r"About to call accept", r"PR_Bind|address is in use")


@contextlib.contextmanager
def run_server(
    program: PeerProgram,
    files: PeerFiles,
    *,
    lowest_version: TLSVersion = TLSVersion.TLSv1_2,
    highest_version: TLSVersion = TLSVersion.TLSv1_3,
    alpn: Sequence[bytes] = (),
    client_auth: ClientAuth = ClientAuth.NONE,
    extra_args: Sequence[str] = (),
    timeout: float = START_TIMEOUT,
) -> Iterator[PeerServer]:
    """Start ``program`` (a server) with ``files``' identity; yield it once it listens.

    ``files.ca_file`` is what client certificates are checked against.  The
    program is stopped and reaped when the block ends, whatever happens.
    ``extra_args`` go to the end of its command line.
    """
    if program.role != "server":
        raise ValueError(f"{program.name} is not a server program")
    program.check_installed()
    _check_alpn(program, alpn)
    for attempt in range(_PORT_ATTEMPTS):
        if program is OPENSSL_SERVER:
            launch = _openssl_server_launch(
                files, _openssl_versions(lowest_version, highest_version), alpn, client_auth
            )
        elif program is GNUTLS_SERVER:
            launch = _gnutls_server_launch(
                files, _gnutls_priority(lowest_version, highest_version), alpn, client_auth
            )
        elif program is NSS_SERVER:
            launch = _nss_server_launch(
                files, _nss_versions(lowest_version, highest_version), alpn, client_auth
            )
        else:
            raise ValueError(f"unknown server program {program.name}")
        process = PeerProcess([*launch.argv, *extra_args], name=program.name, cwd=files.directory)
        try:
            port = _wait_until_listening(process, launch, timeout)
        except BaseException:
            process.stop()
            raise
        if port is None:  # the port was taken between our pick and its bind
            process.stop()
            if attempt + 1 == _PORT_ATTEMPTS:
                raise PeerError(
                    f"{program.name}: no free port after {_PORT_ATTEMPTS} attempts\n"
                    + process.transcript()
                )
            continue
        try:
            yield PeerServer(program, process, port)
        finally:
            process.stop()
        return


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


# -- clients ---------------------------------------------------------------------


class PeerClient:
    """A client program connected to ``port``: it sends its request and prints the reply."""

    def __init__(self, program: PeerProgram, process: PeerProcess) -> None:
        self.program = program
        self.process = process

    def wait(self, timeout: float = RUN_TIMEOUT) -> int:
        """Its exit status, once it exits by itself (the server closed the connection)."""
        return self.process.wait(timeout)

    def wait_for_reply(self, expected: bytes, timeout: float = RUN_TIMEOUT) -> None:
        """Wait until ``expected`` appears on its stdout (PeerError when it does not)."""
        match = self.process.wait_for(re.escape(expected.decode("ascii")), timeout, stream="stdout")
        if match is None:
            raise PeerError(
                f"{self.program.name} exited without printing {expected!r}\n"
                + self.process.transcript()
            )

    def received(self) -> bytes:
        """Its stdout (where each program prints what the server sent, among other things)."""
        return self.process.stdout_bytes()

    def stop(self) -> int:
        return self.process.stop()

    def transcript(self) -> str:
        return self.process.transcript()

    def report(self) -> PeerReport:
        """What the program says about its connection."""
        text = self.process.output()
        if self.program is OPENSSL_CLIENT:
            return _parse_openssl_client(text)
        if self.program is GNUTLS_CLIENT:
            return _parse_gnutls(text)
        return _parse_nss(text, "tstclnt")


def _openssl_client_argv(
    port: int, server_name: str, files: PeerFiles, versions: list[str], alpn: Sequence[bytes]
) -> list[str]:
    argv = [
        "openssl", "s_client", "-connect", f"{HOST}:{port}", "-CAfile", str(files.ca_file),
        "-verify_return_error", *versions,
    ]  # fmt: skip
    argv += _openssl_name_check(server_name)
    if alpn:
        argv += ["-alpn", ",".join(_alpn_tokens(alpn))]
    if files.has_identity:
        cert, chain, key = files.identity_files()
        argv += ["-cert", str(cert), "-cert_chain", str(chain), "-key", str(key)]
    return argv


def _openssl_name_check(server_name: str) -> list[str]:
    if _is_ip(server_name):
        return ["-noservername", "-verify_ip", server_name]
    return ["-servername", server_name, "-verify_hostname", server_name]


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _gnutls_client_argv(
    port: int, server_name: str, files: PeerFiles, priority: str, alpn: Sequence[bytes]
) -> list[str]:
    argv = [
        "gnutls-cli", "-p", str(port), HOST, "--x509cafile", str(files.ca_file),
        "--priority", priority, "--verify-hostname", server_name,
    ]  # fmt: skip
    if not _is_ip(server_name):
        argv += ["--sni-hostname", server_name]
    for protocol in _alpn_tokens(alpn):
        argv += ["--alpn", protocol]
    if files.has_identity:
        _, chain, key = files.identity_files()
        argv += ["--x509certfile", str(chain), "--x509keyfile", str(key)]
    return argv


def _nss_client_argv(
    port: int, server_name: str, files: PeerFiles, versions: str, request_file: Path
) -> list[str]:
    database = files.nss_database()
    argv = [
        "tstclnt", "-h", HOST, "-p", str(port), "-d", database.spec, "-V", versions,
        "-A", str(request_file), "-v",
    ]  # fmt: skip
    if server_name != HOST:
        argv += ["-a", server_name]  # SNI, and the name the certificate must match
    if database.nickname is not None:
        argv += ["-n", database.nickname]
    return argv


@contextlib.contextmanager
def run_client(
    program: PeerProgram,
    port: int,
    files: PeerFiles,
    request: bytes,
    *,
    server_name: str = "localhost",
    lowest_version: TLSVersion = TLSVersion.TLSv1_2,
    highest_version: TLSVersion = TLSVersion.TLSv1_3,
    alpn: Sequence[bytes] = (),
    extra_args: Sequence[str] = (),
) -> Iterator[PeerClient]:
    """Start ``program`` (a client) against 127.0.0.1:``port``; it sends ``request``.

    The program checks the server's certificate against ``files.ca_file``
    and ``server_name`` (a DNS name or IP address), presents ``files``'
    identity when there is one, prints what the server sends to its stdout,
    and exits when the server closes the connection.  It is stopped and
    reaped when the block ends.
    """
    if program.role != "client":
        raise ValueError(f"{program.name} is not a client program")
    program.check_installed()
    _check_alpn(program, alpn)
    stdin_data: bytes | None = request
    if program is OPENSSL_CLIENT:
        argv = _openssl_client_argv(
            port, server_name, files, _openssl_versions(lowest_version, highest_version), alpn
        )
    elif program is GNUTLS_CLIENT:
        argv = _gnutls_client_argv(
            port, server_name, files, _gnutls_priority(lowest_version, highest_version), alpn
        )
    elif program is NSS_CLIENT:
        request_file = files.directory / f"request-{port}.bin"
        request_file.write_bytes(request)
        stdin_data = None
        argv = _nss_client_argv(
            port, server_name, files, _nss_versions(lowest_version, highest_version), request_file
        )
    else:
        raise ValueError(f"unknown client program {program.name}")
    process = PeerProcess(
        [*argv, *extra_args], name=program.name, cwd=files.directory, stdin_data=stdin_data
    )
    try:
        yield PeerClient(program, process)
    finally:
        process.stop()
