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

Layout: ``_process`` runs programs (start, output, deadlines, stop, free
ports, readiness); ``_programs`` says what each program can do;
``_openssl``, ``_gnutls`` and ``_nss`` build each tool's command lines;
``_files`` writes certificates, keys and the NSS database; ``_parse`` reads
what the programs print.  This module ties them together.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterator, Sequence

from ..._versions import TLSVersion
from ._files import NSSDatabase, PeerFiles
from ._gnutls import (
    GNUTLS_CLIENT,
    GNUTLS_SERVER,
    _gnutls_client_argv,
    _gnutls_priority,
    _gnutls_server_launch,
)
from ._nss import NSS_CLIENT, NSS_SERVER, _nss_client_argv, _nss_server_launch, _nss_versions
from ._openssl import (
    OPENSSL_CLIENT,
    OPENSSL_SERVER,
    _openssl_client_argv,
    _openssl_server_launch,
    _openssl_versions,
)
from ._parse import (
    PeerReport,
    _parse_gnutls,
    _parse_nss,
    _parse_openssl_client,
    _parse_openssl_server,
    bulk_cipher,
)
from ._process import (
    _PORT_ATTEMPTS,
    HOST,
    RUN_TIMEOUT,
    START_TIMEOUT,
    PeerError,
    PeerProcess,
    _free_port,
    _wait_until_listening,
)
from ._programs import (
    ClientAuth,
    EchoStyle,
    PeerProgram,
    ToolMissing,
    _check_alpn,
    require_program,
)

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

ALL_SERVERS = (OPENSSL_SERVER, GNUTLS_SERVER, NSS_SERVER)
ALL_CLIENTS = (OPENSSL_CLIENT, GNUTLS_CLIENT, NSS_CLIENT)


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
                files,
                _free_port(),
                _gnutls_priority(lowest_version, highest_version),
                alpn,
                client_auth,
            )
        elif program is NSS_SERVER:
            launch = _nss_server_launch(
                files,
                _free_port(),
                _nss_versions(lowest_version, highest_version),
                alpn,
                client_auth,
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
