"""Session resumption across backends and with real external peers (issue 11).

Pairwise: every client backend resumes with every server backend, TLS 1.2
and TLS 1.3 (the libraries must agree on tickets that arrive after the
handshake); a session offered to a server that did not make it (another
backend's, or another context of the same backend) falls back to a full
handshake on both ends.

External peers: our client resumes with ``openssl s_server`` (tickets, and
with ``-no_ticket`` session IDs in TLS 1.2 / stateful tickets in TLS 1.3),
``gnutls-serv`` (tickets, and with ``--noticket`` session IDs in TLS 1.2) and
NSS ``selfserv`` (session IDs, and tickets with ``-u``); our server is resumed by ``openssl s_client -sess_out`` /
``-sess_in`` and ``gnutls-cli --resume``, each of which prints whether the
session was reused, and our server must say the same.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from pathlib import Path

import pytest

import tlsapi
from tlsapi import Capability, TLSError, TLSSession, TLSVersion
from tlsapi.testing import PKI
from tlsapi.testing.conformance._support import (
    Peers,
    exchange,
    only_version,
    session_of,
    skip_if_lacks,
)
from tlsapi.testing.conformance.resumption import _forged_offer, require_resumption
from tlsapi.testing.peers import (
    GNUTLS_CLIENT,
    GNUTLS_SERVER,
    NSS_SERVER,
    OPENSSL_CLIENT,
    OPENSSL_SERVER,
    PeerFiles,
    PeerProcess,
    PeerProgram,
    PeerServer,
    require_program,
    run_server,
)
from tlsapi.testing.pump import handshake

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
TIMEOUT = 30.0


@pytest.fixture
def pair(client_backend: tlsapi.Backend, server_backend: tlsapi.Backend, pki: PKI) -> Peers:
    return Peers(client_backend, server_backend, pki)


def _versions(*backends: tlsapi.Backend) -> list[TLSVersion]:
    return [V12, V13] if all(Capability.TLSv1_3 in b.capabilities for b in backends) else [V12]


def _resume(
    client: tlsapi.ClientContext, server: tlsapi.ServerContext, session: TLSSession | None
) -> tuple[tlsapi.TLSWrappedBuffer, tlsapi.TLSWrappedBuffer]:
    client_buffer = client.wrap_buffers("localhost", session=session)
    server_buffer = server.wrap_buffers()
    handshake(client_buffer, server_buffer)
    return client_buffer, server_buffer


# -- pairwise ------------------------------------------------------------------------


def test_resumed_pairwise(pair: Peers, pki: PKI) -> None:
    require_resumption(pair)
    for version in _versions(pair.client_backend, pair.server_backend):
        client_context = pair.client_context(pair.client_config(**only_version(version)))
        server_context = pair.server_context(pair.server_config(**only_version(version)))
        first, first_server = _resume(client_context, server_context, None)
        session = session_of(first, first_server)
        client, server = _resume(client_context, server_context, session)
        assert (client.session_reused, server.session_reused) == (True, True), version.name
        assert client.negotiated_tls_version is version
        assert client.getpeercert() == first.getpeercert()
        exchange(client, server, b"resumed across backends")


def test_resumed_mutual_tls_pairwise(pair: Peers, pki: PKI) -> None:
    """After a resumption each end still knows the other's certificate."""
    require_resumption(pair)
    for backend in (pair.client_backend, pair.server_backend):
        skip_if_lacks(backend, Capability.CLIENT_CERTIFICATES)
    identity = pki.client_identity
    for version in _versions(pair.client_backend, pair.server_backend):
        client_context = pair.client_context(
            pair.client_config(
                certificate_chain=identity.certificate_chain(), **only_version(version)
            )
        )
        server_context = pair.server_context(
            pair.server_config(trust_store=pki.trust_store(), **only_version(version))
        )
        session = session_of(*_resume(client_context, server_context, None))
        client, server = _resume(client_context, server_context, session)
        assert (client.session_reused, server.session_reused) == (True, True), version.name
        assert server.getpeercert()[0] == identity.cert_der  # type: ignore[index]
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]


def test_a_foreign_session_falls_back_pairwise(pair: Peers, pki: PKI) -> None:
    """A session from every other server (each backend's) makes a full handshake here."""
    require_resumption(pair)
    target_backend = pair.server_backend
    for version in _versions(pair.client_backend, target_backend):
        client_context = pair.client_context(pair.client_config(**only_version(version)))
        target = target_backend.server_context(pki.server_config(**only_version(version)))
        checked = 0
        for maker in tlsapi.available_backends():
            if {Capability.SERVER, Capability.SESSION_RESUMPTION} - maker.capabilities:
                continue
            if version is V13 and Capability.TLSv1_3 not in maker.capabilities:
                continue
            origin = maker.server_context(pki.server_config(**only_version(version)))
            session = session_of(*_resume(client_context, origin, None))
            client, server = _resume(client_context, target, session)
            assert (client.session_reused, server.session_reused) == (False, False), (
                f"{version.name}: a {maker.name} server's session resumed on {target_backend.name}"
            )
            assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
            exchange(client, server)
            checked += 1
        assert checked


# -- our client against server programs ------------------------------------------------------

SERVER_VARIANTS = [
    pytest.param(OPENSSL_SERVER, (), V12, id="openssl-s_server-tickets-tls1.2"),
    pytest.param(OPENSSL_SERVER, (), V13, id="openssl-s_server-tickets-tls1.3"),
    pytest.param(OPENSSL_SERVER, ("-no_ticket",), V12, id="openssl-s_server-session-ids-tls1.2"),
    pytest.param(OPENSSL_SERVER, ("-no_ticket",), V13, id="openssl-s_server-stateful-tls1.3"),
    pytest.param(GNUTLS_SERVER, (), V12, id="gnutls-serv-tickets-tls1.2"),
    pytest.param(GNUTLS_SERVER, (), V13, id="gnutls-serv-tickets-tls1.3"),
    pytest.param(GNUTLS_SERVER, ("--noticket",), V12, id="gnutls-serv-session-ids-tls1.2"),
    pytest.param(NSS_SERVER, (), V12, id="selfserv-session-ids-tls1.2"),
    # selfserv issues tickets only with -u.
    pytest.param(NSS_SERVER, ("-u",), V12, id="selfserv-tickets-tls1.2"),
    pytest.param(NSS_SERVER, ("-u",), V13, id="selfserv-tickets-tls1.3"),
]


def _require_client(backend: tlsapi.Backend, version: TLSVersion, pki: PKI) -> None:
    if Capability.CLIENT not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} has no client side")
    if version is V13 and Capability.TLSv1_3 not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks TLS 1.3")
    skip_if_lacks(
        backend,
        Capability.SESSION_RESUMPTION,
        lambda: _forged_offer(backend.client_context(pki.client_config())),
    )


def _one_exchange(
    context: tlsapi.ClientContext, server: PeerServer, session: TLSSession | None, token: bytes
) -> tuple[bool, TLSSession | None, list[bytes] | None]:
    """Connect, send the program its request, read its answer; what the connection gave."""
    sock = socket.create_connection(server.address, timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with context.wrap_socket(sock, "localhost", session=session) as tls:
        tls.sendall(server.echo.request(token))
        expected, reply = server.echo.expected(token), b""
        while expected not in reply:
            chunk = tls.recv(65536)
            assert chunk, f"the server closed before its answer: {reply!r}"
            reply += chunk
        result = (tls.session_reused, tls.session, tls.getpeercert())
        with contextlib.suppress(TLSError, OSError):
            tls.shutdown(socket.SHUT_WR)
    return result


@pytest.mark.peer
@pytest.mark.parametrize(("program", "extra", "version"), SERVER_VARIANTS)
def test_client_resumes_with_server_program(
    backend: tlsapi.Backend,
    pki: PKI,
    *,
    tmp_path: Path,
    program: PeerProgram,
    extra: tuple[str, ...],
    version: TLSVersion,
) -> None:
    require_program(program)
    _require_client(backend, version, pki)
    files = PeerFiles.from_pki(tmp_path, pki, pki.server_identity)
    context = backend.client_context(pki.client_config(**only_version(version)))
    with run_server(
        program, files, lowest_version=version, highest_version=version, extra_args=extra
    ) as server:
        try:
            reused, session, chain = _one_exchange(context, server, None, b"first")
            assert reused is False
            assert isinstance(session, TLSSession), "no session from the first connection"
            for round_ in range(2):
                reused, session, again = _one_exchange(context, server, session, b"again")
                assert reused is True, f"round {round_}: {program.name} did not resume"
                assert again == chain
                assert isinstance(session, TLSSession)
        except (AssertionError, TLSError, OSError) as exc:
            server.stop()
            raise AssertionError(f"{exc}\n{server.transcript()}") from exc


# -- our server against client programs ------------------------------------------------------


class ResumingServer:
    """Our server in a thread: accepts connections, echoes a line, notes session_reused."""

    def __init__(self, context: tlsapi.ServerContext, connections: int) -> None:
        self.context = context
        self.connections = connections
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.reused: list[bool] = []
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for _ in range(self.connections):
            try:
                sock, _ = self.listener.accept()
            except OSError as exc:
                self.errors.append(exc)
                return
            sock.settimeout(TIMEOUT)
            try:
                with self.context.wrap_socket(sock) as tls:
                    tls.do_handshake()
                    self.reused.append(tls.session_reused)
                    line = b""
                    while not line.endswith(b"\n"):
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        line += chunk
                    if line:
                        tls.sendall(line)
                    with contextlib.suppress(TLSError, OSError):
                        tls.shutdown(socket.SHUT_WR)
            except (TLSError, OSError) as exc:
                # A client that leaves without close_notify after its handshake.
                self.errors.append(exc)

    def join(self) -> None:
        self._thread.join(TIMEOUT)
        self.listener.close()
        assert not self._thread.is_alive(), "our server did not finish"


def _require_server(backend: tlsapi.Backend, version: TLSVersion, pki: PKI) -> None:
    if Capability.SERVER not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} has no server side")
    if version is V13 and Capability.TLSv1_3 not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks TLS 1.3")
    if Capability.SESSION_RESUMPTION not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks session resumption")


def _run(argv: list[str], cwd: Path, stdin: bytes) -> str:
    process = PeerProcess(argv, cwd=cwd, stdin_data=stdin)
    try:
        process.wait(TIMEOUT)
    finally:
        process.stop()
    return process.output()


OPENSSL_VERSIONS = {V12: "-tls1_2", V13: "-tls1_3"}


@pytest.mark.peer
@pytest.mark.parametrize("version", [V12, V13], ids=str)
def test_openssl_s_client_resumes_with_our_server(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, version: TLSVersion
) -> None:
    require_program(OPENSSL_CLIENT)
    _require_server(backend, version, pki)
    root = pki.write_root(tmp_path)
    sessions = tmp_path / "session.pem"
    server = ResumingServer(backend.server_context(pki.server_config()), 2)
    base = [
        "openssl", "s_client", "-connect", f"127.0.0.1:{server.port}", "-servername", "localhost",
        "-CAfile", str(root), "-verify_return_error", OPENSSL_VERSIONS[version],
    ]  # fmt: skip
    first = _run([*base, "-sess_out", str(sessions)], tmp_path, b"one\n")
    second = _run([*base, "-sess_in", str(sessions)], tmp_path, b"two\n")
    server.join()
    assert re.search(r"^New, TLSv1\.[23]", first, re.M), first
    assert re.search(r"^Reused, TLSv1\.[23]", second, re.M), f"s_client did not resume:\n{second}"
    assert server.reused == [False, True], (server.reused, server.errors)
    # Servers issue tickets by default (TLS 1.2 too): s_client prints the ticket it kept.
    assert re.search(r"^\s*TLS session ticket:$", first, re.M), (
        f"no ticket from our server:\n{first}"
    )
    with sessions.open() as pem:
        assert "BEGIN SSL SESSION PARAMETERS" in pem.read()


GNUTLS_PRIORITIES = {V12: "NORMAL:-VERS-ALL:+VERS-TLS1.2", V13: "NORMAL:-VERS-ALL:+VERS-TLS1.3"}


@pytest.mark.peer
@pytest.mark.parametrize("version", [V12, V13], ids=str)
def test_gnutls_cli_resumes_with_our_server(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, version: TLSVersion
) -> None:
    require_program(GNUTLS_CLIENT)
    _require_server(backend, version, pki)
    root = pki.write_root(tmp_path)
    server = ResumingServer(backend.server_context(pki.server_config()), 2)
    output = _run(
        [
            "gnutls-cli",
            "-p",
            str(server.port),
            "127.0.0.1",
            "--sni-hostname",
            "localhost",
            "--verify-hostname",
            "localhost",
            "--x509cafile",
            str(root),
            "--priority",
            GNUTLS_PRIORITIES[version],
            "--resume",
            "--waitresumption",
        ],
        tmp_path,
        b"hello\n",
    )
    server.join()
    assert "This is a resumed session" in output, f"gnutls-cli did not resume:\n{output}"
    assert server.reused[:2] == [False, True], (server.reused, server.errors)
