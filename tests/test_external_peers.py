"""Every available backend against real external TLS programs.

Our client against ``openssl s_server``, ``gnutls-serv`` and NSS ``selfserv``;
our server against ``openssl s_client``, ``gnutls-cli`` and NSS ``tstclnt``:
TLS 1.2, TLS 1.3, ALPN and client certificates, with data going both ways
and what each side says it negotiated compared.  The programs are started by
:mod:`tlsapi.testing.peers` on 127.0.0.1 and stopped by it.

A missing program fails on Linux (``.ci/packages.txt`` names its Debian
package) and skips elsewhere.  Not asked of the programs, because they cannot
do it: ALPN from ``tstclnt`` (no option for it) and any ALPN protocol but
http/1.1 from ``selfserv``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

import pytest

from tlsapi import (
    Backend,
    Capability,
    CipherSuite,
    ClientContext,
    NextProtocol,
    ServerContext,
    TLSError,
    TLSVersion,
    TLSWrappedSocket,
)
from tlsapi.testing import peers
from tlsapi.testing.conformance._support import skip_if_lacks
from tlsapi.testing.peers import (
    ALL_CLIENTS,
    ALL_SERVERS,
    GNUTLS_SERVER,
    NSS_CLIENT,
    NSS_SERVER,
    OPENSSL_SERVER,
    ClientAuth,
    PeerClient,
    PeerError,
    PeerFiles,
    PeerProcess,
    PeerProgram,
    PeerReport,
    PeerServer,
    ToolMissing,
    bulk_cipher,
    require_program,
    run_client,
    run_server,
)
from tlsapi.testing.pki import PKI, Identity

pytestmark = pytest.mark.peer

TIMEOUT = 30.0  # every wait below ends by then
CLIENT_NAME = "tlsapi peer-test client"
_tokens = itertools.count()


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    lowest: TLSVersion = TLSVersion.TLSv1_2
    highest: TLSVersion = TLSVersion.TLSv1_3
    alpn: bool = False
    client_cert: bool = False  # the client presents a certificate
    # What a server program asks of clients (our server can only require:
    # a trust_store on a tlsapi server means client certificates are required).
    client_auth: ClientAuth | None = None

    @property
    def server_auth(self) -> ClientAuth:
        if self.client_auth is not None:
            return self.client_auth
        return ClientAuth.REQUIRE if self.client_cert else ClientAuth.NONE

    def capabilities(self) -> list[Capability]:
        """What a backend must support for this case (a range needs one of its versions)."""
        needed = []
        if self.highest is TLSVersion.TLSv1_2:
            needed.append(Capability.TLSv1_2)
        if self.lowest is TLSVersion.TLSv1_3:
            needed.append(Capability.TLSv1_3)
        if self.alpn:
            needed.append(Capability.ALPN)
        if self.client_cert:
            needed.append(Capability.CLIENT_CERTIFICATES)
        return needed


CASES = (
    Case("tls1.2", TLSVersion.TLSv1_2, TLSVersion.TLSv1_2),
    Case("tls1.3", TLSVersion.TLSv1_3, TLSVersion.TLSv1_3),
    Case("alpn", alpn=True),
    Case("client-cert", client_cert=True),
)
# Against server programs also: a certificate asked for but optional.
SERVER_PROGRAM_CASES = (
    *CASES,
    Case("cert-requested", client_cert=True, client_auth=ClientAuth.REQUEST),
    Case("cert-requested-none-sent", client_auth=ClientAuth.REQUEST),
)


def _slug(program: PeerProgram) -> str:
    return program.name.replace(" ", "-")


def _server_params() -> list[object]:
    return [
        pytest.param(program, case, id=f"{_slug(program)}-{case.id}")
        for program in ALL_SERVERS
        for case in SERVER_PROGRAM_CASES
    ]


def _client_params() -> list[object]:
    # tstclnt has no ALPN option: that combination cannot be driven.
    return [
        pytest.param(program, case, id=f"{_slug(program)}-{case.id}")
        for program in ALL_CLIENTS
        for case in CASES
        if not (case.alpn and program is NSS_CLIENT)
    ]


def _token() -> bytes:
    return f"tlsapi-{next(_tokens)}-{time.monotonic_ns()}".encode()


# -- fixtures ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PeerEnvironment:
    """The module's PKI and the files the programs use."""

    pki: PKI
    client_identity: Identity  # ours for mutual TLS, and the client programs'
    server_files: PeerFiles  # the server programs' identity (the PKI's localhost leaf)
    client_files: PeerFiles  # the client programs' identity, for mutual TLS
    trust_files: PeerFiles  # only the root: client programs without a certificate


@pytest.fixture(scope="module")
def env(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> PeerEnvironment:
    identity = pki.issue(names=(), ips=(), eku=("client",), common_name=CLIENT_NAME)
    return PeerEnvironment(
        pki,
        identity,
        PeerFiles.from_pki(tmp_path_factory.mktemp("peer-server"), pki, pki.server_identity),
        PeerFiles.from_pki(tmp_path_factory.mktemp("peer-client"), pki, identity),
        PeerFiles.from_pki(tmp_path_factory.mktemp("peer-trust"), pki),
    )


# -- our side: a backend's TLSWrappedSocket ------------------------------------------------
#
# Every socket has TIMEOUT as its timeout, so each call ends by then; the
# loops below also stop at an overall deadline.


@dataclasses.dataclass(frozen=True)
class Negotiated:
    version: TLSVersion | int | None
    cipher: CipherSuite | int | None
    alpn: NextProtocol | bytes | None
    peer_chain: list[bytes] | None

    @classmethod
    def of(cls, tls: TLSWrappedSocket) -> Negotiated:
        return cls(
            tls.negotiated_tls_version, tls.cipher(), tls.negotiated_protocol(), tls.getpeercert()
        )


def _deadline() -> Callable[[], None]:
    end = time.monotonic() + TIMEOUT

    def check() -> None:
        if time.monotonic() > end:
            raise TimeoutError(f"no end of the exchange within {TIMEOUT:.0f} s")

    return check


def _read_until(tls: TLSWrappedSocket, expected: bytes) -> bytes:
    """Everything read until ``expected`` arrives or the peer closes."""
    received, check = b"", _deadline()
    while expected not in received:
        check()
        chunk = tls.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def _read_to_close(tls: TLSWrappedSocket) -> bytes:
    """Everything until the peer's close_notify."""
    received, check = b"", _deadline()
    while chunk := tls.recv(65536):
        check()
        received += chunk
    return received


def _connect(context: ClientContext, server: PeerServer, server_name: str) -> TLSWrappedSocket:
    sock = socket.create_connection(server.address, timeout=TIMEOUT)
    # Round trips of several records each: without this, Nagle's algorithm
    # meets delayed acknowledgements and every round waits for a timer.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return context.wrap_socket(sock, server_name)


# -- checks ---------------------------------------------------------------------------


def _require(backend: Backend, case: Case, role: Capability, attempt: Callable[[], object]) -> None:
    """Skip (after checking that the backend refuses properly) when it lacks what ``case`` needs."""
    for need in (role, *case.capabilities()):
        if need is Capability.ALPN and role is Capability.SERVER:
            need = Capability.SERVER_ALPN  # noqa: PLW2901  (our server chooses the protocol)
        skip_if_lacks(backend, need, attempt)


def _expected_version(backend: Backend, case: Case) -> TLSVersion:
    if case.highest is TLSVersion.TLSv1_2 or Capability.TLSv1_3 not in backend.capabilities:
        return TLSVersion.TLSv1_2
    return TLSVersion.TLSv1_3


def _check_agreement(ours: Negotiated, theirs: PeerReport, program: PeerProgram) -> None:
    """What the program printed must match what our side negotiated."""
    assert theirs.version == ours.version, (
        f"{program.name} says {theirs.version}, we negotiated {ours.version}"
    )
    assert isinstance(ours.cipher, CipherSuite), f"unknown cipher suite {ours.cipher!r}"
    assert theirs.bulk_cipher is not None, f"{program.name} printed no cipher we understand"
    assert theirs.bulk_cipher == bulk_cipher(ours.cipher.name), (
        f"{program.name} says {theirs.cipher}, we negotiated {ours.cipher.name}"
    )


def _fail(message: str, *peers: PeerServer | PeerClient) -> AssertionError:
    return AssertionError("\n".join([message, *(peer.transcript() for peer in peers)]))


# -- our client against the server programs ------------------------------------------------


@pytest.mark.parametrize(("program", "case"), _server_params())
def test_client_against_server_program(
    backend: Backend, program: PeerProgram, case: Case, env: PeerEnvironment
) -> None:
    require_program(program)
    pki, client_identity = env.pki, env.client_identity
    offered = (NextProtocol.H2, NextProtocol.HTTP1)
    server_alpn = (program.fixed_alpn or (b"h2",)) if case.alpn else ()
    config = pki.client_config(
        lowest_supported_version=case.lowest,
        highest_supported_version=case.highest,
        inner_protocols=offered if case.alpn else (),
        certificate_chain=client_identity.certificate_chain() if case.client_cert else None,
    )
    _require(backend, case, Capability.CLIENT, lambda: backend.client_context(config))
    context = backend.client_context(config)
    token = _token()
    with run_server(
        program,
        env.server_files,
        lowest_version=case.lowest,
        highest_version=case.highest,
        alpn=server_alpn,
        client_auth=case.server_auth,
    ) as server:
        try:
            with _connect(context, server, "localhost") as tls:
                tls.do_handshake()
                tls.sendall(server.echo.request(token))
                reply = _read_until(tls, server.echo.expected(token))
                ours = Negotiated.of(tls)
                if server.echo.server_closes:
                    reply += _read_to_close(tls)
                else:
                    tls.shutdown(socket.SHUT_WR)
        except (TLSError, OSError) as exc:
            server.stop()
            raise _fail(f"{backend.name} client against {program.name}: {exc!r}", server) from exc
        server.stop()
        theirs = server.report()
        try:
            assert server.echo.expected(token) in reply, f"the reply lacks the echo: {reply!r}"
            assert ours.version == _expected_version(backend, case)
            _check_agreement(ours, theirs, program)
            assert ours.peer_chain, "getpeercert() gave no chain"
            assert ours.peer_chain[0] == pki.server_identity.cert_der
            if case.alpn:
                assert ours.alpn == NextProtocol.from_bytes(server_alpn[0])
                if program.reports_alpn:
                    assert theirs.alpn == server_alpn[0]
            else:
                assert ours.alpn is None
            presented = bool(theirs.peer_subject and CLIENT_NAME in theirs.peer_subject)
            assert presented == case.client_cert, (
                f"{program.name} reports a client certificate: {presented}, "
                f"we presented one: {case.client_cert}"
            )
        except AssertionError as exc:
            raise _fail(f"{backend.name} client against {program.name}: {exc}", server) from exc


# 1 MiB each way as 128 round trips of one 8 KiB line: one record each, so
# that the servers' small writes never wait for our delayed acknowledgements.
BULK_ROUNDS = 128


@pytest.mark.parametrize("program", [OPENSSL_SERVER, GNUTLS_SERVER], ids=_slug)
def test_client_bulk_echo(backend: Backend, program: PeerProgram, env: PeerEnvironment) -> None:
    """1 MiB through a real server and back: many records each way, byte for byte."""
    require_program(program)
    config = env.pki.client_config()
    skip_if_lacks(backend, Capability.CLIENT, lambda: backend.client_context(config))
    context = backend.client_context(config)
    with run_server(program, env.server_files) as server:
        try:
            with _connect(context, server, "localhost") as tls:
                for round_ in range(BULK_ROUNDS):
                    line = b"".join(b"%04x%04x" % (round_, i) for i in range(1023))
                    tls.sendall(server.echo.request(line))
                    expected = server.echo.expected(line)
                    reply = b""
                    while len(reply) < len(expected):
                        chunk = tls.recv(65536)
                        if not chunk:
                            break
                        reply += chunk
                    assert reply == expected, f"round {round_}: the echo differs"
                tls.shutdown(socket.SHUT_WR)
        except (TLSError, OSError, AssertionError) as exc:
            server.stop()
            raise _fail(
                f"{backend.name} bulk echo through {program.name}: {exc!r}", server
            ) from exc


@pytest.mark.parametrize("program", ALL_SERVERS, ids=_slug)
def test_client_without_required_certificate_is_refused(
    backend: Backend, program: PeerProgram, env: PeerEnvironment
) -> None:
    """A program that requires a client certificate refuses us without one: a TLSError, no hang."""
    require_program(program)
    config = env.pki.client_config()
    skip_if_lacks(backend, Capability.CLIENT, lambda: backend.client_context(config))
    context = backend.client_context(config)
    with run_server(program, env.server_files, client_auth=ClientAuth.REQUIRE) as server:
        with _connect(context, server, "localhost") as tls, pytest.raises(TLSError) as caught:
            # TLS 1.3 finishes the client's handshake before the server's
            # verdict arrives: the refusal surfaces on the first read.  We
            # send nothing: a write racing the server's close would end in
            # EPIPE before the alert that says why could be read.
            tls.do_handshake()
            reply = _read_to_close(tls)
            raise _fail(f"{program.name} let us in without a client certificate: {reply!r}", server)
        assert str(caught.value), "the TLSError has no message"


# -- our server against the client programs ------------------------------------------------


class EchoServer:
    """Accepts one connection on 127.0.0.1 in a thread and echoes one line, then closes."""

    def __init__(self, context: ServerContext) -> None:
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.received = b""
        self.negotiated: Negotiated | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="echo server", daemon=True)

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.listener.close()  # unblocks accept() if no client ever came
        self._thread.join(TIMEOUT)

    def join(self) -> None:
        self._thread.join(TIMEOUT)
        if self._thread.is_alive():
            raise AssertionError(f"our server did not finish within {TIMEOUT:.0f} s")

    def _serve(self) -> None:
        try:
            sock, _ = self.listener.accept()
            sock.settimeout(TIMEOUT)
            with self.context.wrap_socket(sock) as tls:
                tls.do_handshake()
                self.negotiated = Negotiated.of(tls)
                self.received = _read_until(tls, b"\n")
                tls.sendall(self.received)
                tls.shutdown(socket.SHUT_WR)
                # The client's own close_notify is a courtesy (gnutls-cli just
                # closes): any end of the connection will do here.
                with contextlib.suppress(TLSError, OSError):
                    _read_to_close(tls)
        except BaseException as exc:
            self.error = exc


@pytest.mark.parametrize(("program", "case"), _client_params())
def test_server_against_client_program(
    backend: Backend, program: PeerProgram, case: Case, env: PeerEnvironment
) -> None:
    require_program(program)
    pki, client_identity = env.pki, env.client_identity
    config = pki.server_config(
        lowest_supported_version=case.lowest,
        highest_supported_version=case.highest,
        inner_protocols=(NextProtocol.HTTP1,) if case.alpn else (),
        trust_store=pki.trust_store() if case.client_cert else None,
    )
    _require(backend, case, Capability.SERVER, lambda: backend.server_context(config))
    context = backend.server_context(config)
    request = _token() + b"\n"
    with (
        EchoServer(context) as server,
        run_client(
            program,
            server.port,
            env.client_files if case.client_cert else env.trust_files,
            request,
            lowest_version=case.lowest,
            highest_version=case.highest,
            alpn=(b"h2", b"http/1.1") if case.alpn else (),
        ) as client,
    ):
        try:
            status = client.wait(TIMEOUT)
            server.join()
        finally:
            client.stop()
        try:
            if server.error is not None:
                raise AssertionError(f"our server failed: {server.error!r}") from server.error
            assert status == 0, f"{program.name} exited with status {status}"
            assert server.received == request
            assert request.strip() in client.received(), f"{program.name} did not print the echo"
            ours = server.negotiated
            assert ours is not None
            theirs = client.report()
            assert ours.version == _expected_version(backend, case)
            _check_agreement(ours, theirs, program)
            if theirs.verified is not None:
                assert theirs.verified, f"{program.name} did not verify our certificate"
            assert theirs.peer_subject and "localhost" in theirs.peer_subject
            if case.alpn:
                assert ours.alpn == NextProtocol.HTTP1
                assert theirs.alpn == b"http/1.1"
            else:
                assert ours.alpn is None
            if case.client_cert:
                assert ours.peer_chain, "getpeercert() gave no client chain"
                assert ours.peer_chain[0] == client_identity.cert_der
            else:
                assert ours.peer_chain is None
        except AssertionError as exc:
            raise _fail(f"{backend.name} server against {program.name}: {exc}", client) from exc


@pytest.mark.parametrize("program", ALL_CLIENTS, ids=_slug)
def test_client_program_refuses_wrong_name(
    backend: Backend, program: PeerProgram, env: PeerEnvironment
) -> None:
    """The programs really check our certificate: a name it lacks fails on both sides."""
    require_program(program)
    config = env.pki.server_config()
    skip_if_lacks(backend, Capability.SERVER, lambda: backend.server_context(config))
    with (
        EchoServer(backend.server_context(config)) as server,
        run_client(
            program, server.port, env.trust_files, _token() + b"\n", server_name="wrong.example"
        ) as client,
    ):
        status = client.wait(TIMEOUT)
        server.join()
        if status == 0 or server.error is None:
            raise _fail(
                f"{program.name} accepted a certificate for localhost as wrong.example "
                f"(exit status {status}, our server: {server.error!r})",
                client,
            )
        assert isinstance(server.error, TLSError), repr(server.error)


# -- the harness itself ------------------------------------------------------------------


def test_missing_program_names_its_package() -> None:
    ghost = PeerProgram(
        "ghost-serv", "server", ("tlsapi-no-such-program",), "ghost-tools", alpn=False
    )
    with pytest.raises(ToolMissing, match="apt-get install ghost-tools"):
        ghost.check_installed()
    # A missing program is a broken set-up on Linux, not a reason to skip.
    outcome = pytest.fail.Exception if sys.platform.startswith("linux") else pytest.skip.Exception
    with pytest.raises(outcome, match="ghost-tools"):
        require_program(ghost)
    if sys.platform.startswith("linux"):
        require_program(GNUTLS_SERVER)  # an installed one passes (CI installs them all)


def _python(code: str) -> PeerProcess:
    return PeerProcess([sys.executable, "-c", code], name="python child")


@pytest.mark.skipif(sys.platform == "win32", reason="terminate() is already a kill on Windows")
def test_stop_kills_a_program_that_ignores_terminate() -> None:
    with _python(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(120)"
    ) as process:
        assert process.wait_for("^ready$", TIMEOUT)
        assert process.stop(timeout=0.5) == -signal.SIGKILL
        assert process.returncode == -signal.SIGKILL


def test_wait_for_gives_up_at_its_deadline_with_the_output() -> None:
    with _python("import time; print('some output', flush=True); time.sleep(120)") as process:
        assert process.wait_for("some output", TIMEOUT)
        with pytest.raises(PeerError, match=r"(?s)did not print 'never'.*some output"):
            process.wait_for("never", 0.2)


def test_wait_for_returns_none_when_the_program_exits() -> None:
    with _python("print('bye')") as process:
        assert process.wait_for("never", TIMEOUT) is None
        assert process.wait(TIMEOUT) == 0
        assert "bye" in process.stdout()


@pytest.mark.parametrize("program", [GNUTLS_SERVER, NSS_SERVER], ids=_slug)
def test_server_retries_when_its_port_is_taken(
    program: PeerProgram, env: PeerEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """These programs cannot bind port 0: a port taken under them means another try."""
    require_program(program)
    with socket.create_server(("127.0.0.1", 0)) as occupant:
        taken = occupant.getsockname()[1]
        picked: list[int] = []
        real_free_port = peers._free_port

        def taken_first() -> int:
            picked.append(real_free_port() if picked else taken)
            return picked[-1]

        monkeypatch.setattr(peers, "_free_port", taken_first)
        with run_server(program, env.server_files) as server:
            assert len(picked) == 2, f"ports tried: {picked}"
            assert server.port == picked[1]
            assert server.process.returncode is None
            with server.connect(TIMEOUT):
                pass  # it listens where it says


@pytest.mark.parametrize(
    ("name", "bulk"),
    [
        ("TLS_AES_256_GCM_SHA384", "AES-256-GCM"),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "AES-128-GCM"),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", "AES-256-GCM"),
        ("ECDHE-RSA-AES128-SHA256", "AES-128-CBC"),
        ("AES-256-GCM", "AES-256-GCM"),
        ("128-bit AES-GCM", "AES-128-GCM"),
        ("TLS_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305"),
        ("256-bit CHACHA20POLY1305", "CHACHA20-POLY1305"),
        ("TLS_AES_128_CCM_SHA256", "AES-128-CCM"),
    ],
)
def test_bulk_cipher_reads_every_naming(name: str, bulk: str) -> None:
    assert bulk_cipher(name) == bulk
