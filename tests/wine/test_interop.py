"""The pairwise matrix across processes: a Windows backend in Wine against Linux peers.

Windows side (tests/wine/driver.py in python.exe under Wine): each backend in
``TLSAPI_WINE_BACKENDS`` (schannel and stdlib, the latter the OpenSSL inside
the Windows CPython).  Linux side: the gnutls, nss and stdlib backends in this
process, and the programs ``openssl s_server``/``s_client`` and
``gnutls-serv``/``gnutls-cli``.  Every connection goes over 127.0.0.1 between
the two processes, in both directions, with ALPN and SNI, at TLS 1.2 and 1.3,
with and without client certificates; a wrong host name and an unknown CA
must be refused on the Windows side with the right reason.

Where the Windows backend lacks something under Wine (schannel in Wine 8.0:
no server side, no TLS 1.3), the test skips with the backend's own account of
it: it reports its capabilities from inside Wine.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi import Capability, NextProtocol, TLSVersion
from tlsapi.testing.peers import (
    GNUTLS_CLIENT,
    GNUTLS_SERVER,
    OPENSSL_CLIENT,
    OPENSSL_SERVER,
    ClientAuth,
    PeerFiles,
    PeerProgram,
    require_program,
    run_client,
    run_server,
)

from .conftest import (
    CALL_TIMEOUT,
    WINDOWS_BACKENDS,
    Windows,
    WineFiles,
    b64,
    loopback_listener,
    unb64,
)

LINUX_BACKENDS = ["gnutls", "nss", "stdlib"]
VERSIONS = {"1.2": TLSVersion.TLSv1_2, "1.3": TLSVersion.TLSv1_3}
WINDOWS_ALPN = ["h2", "http/1.1"]
SERVER_ALPN = (NextProtocol.HTTP1, NextProtocol.H2)  # the server's preference wins: http/1.1


@dataclass(frozen=True)
class Case:
    """One cell of the matrix: the Windows backend, the Linux peer, client certificates, version."""

    win: str
    peer: str
    mutual: bool
    version: str

    def __str__(self) -> str:
        auth = "mutual" if self.mutual else "server-auth"
        return f"windows={self.win}-{self.peer}-{auth}-tls{self.version}"


def _cases(peers: list[str]) -> list[Case]:
    return [
        Case(win, peer, mutual, version)
        for win in WINDOWS_BACKENDS
        for peer in peers
        for mutual in (False, True)
        for version in VERSIONS
    ]


PROGRAMS = {p.name: p for p in (OPENSSL_SERVER, GNUTLS_SERVER, OPENSSL_CLIENT, GNUTLS_CLIENT)}


def _token() -> bytes:
    return b"wine-" + secrets.token_hex(8).encode()


def _sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def _linux_backend(name: str) -> tlsapi.Backend:
    try:
        return tlsapi.backend(name)
    except tlsapi.ConfigurationError as exc:
        pytest.fail(f"Linux-side backend {name!r} is not usable: {exc}", pytrace=False)


def _windows_version(windows: Windows, name: str, version: str) -> None:
    if version == "1.3":
        windows.require(name, Capability.TLSv1_3, "TLS 1.3")


def _expect_ok(answer: dict[str, Any], who: str) -> dict[str, Any]:
    if not answer.get("ok"):
        pytest.fail(
            f"{who} failed: {answer.get('error')}: {answer.get('message')}\n"
            f"{answer.get('traceback', '')}",
            pytrace=False,
        )
    return answer


# -- Linux in-process servers and clients -------------------------------------------------


class LinuxServer:
    """One connection served by a Linux backend in a thread: handshake, echo one line, close."""

    def __init__(self, context: tlsapi.ServerContext) -> None:
        self.listener = loopback_listener()
        self.port: int = self.listener.getsockname()[1]
        self.context = context
        self.sni: list[str | None] = []
        self.negotiated: dict[str, Any] = {}
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            with self.listener:
                raw, _ = self.listener.accept()
            raw.settimeout(CALL_TIMEOUT)
            with self.context.wrap_socket(raw) as tls:
                tls.do_handshake()
                self.negotiated = _negotiated(tls)
                line = _recv_until(tls, b"\n")
                tls.sendall(line)
                tls.shutdown(socket.SHUT_WR)
                # A client may hang up without close_notify once it has the reply.
                with contextlib.suppress(tlsapi.RaggedEOF):
                    _recv_until(tls, b"")
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self.thread.join(CALL_TIMEOUT)
        assert not self.thread.is_alive(), "the Linux server did not finish"


def _negotiated(tls: tlsapi.TLSWrappedSocket) -> dict[str, Any]:
    version = tls.negotiated_tls_version
    protocol = tls.negotiated_protocol()
    cipher = tls.cipher()
    return {
        "version": None if version is None else getattr(version, "name", version),
        "cipher": getattr(cipher, "name", cipher),
        "alpn": None if protocol is None else bytes(protocol).decode(),
        "peer_chain_sha256": [_sha256(der) for der in tls.getpeercert() or []],
    }


def _recv_until(tls: tlsapi.TLSWrappedSocket, expect: bytes) -> bytes:
    received = bytearray()
    while not (expect and expect in received):
        chunk = tls.recv(65536)
        if not chunk:
            break
        received += chunk
    return bytes(received)


def _server_context(
    name: str, files: WineFiles, version: str, *, mutual: bool, sni: list[str | None]
) -> tlsapi.ServerContext:
    backend = _linux_backend(name)
    pki = files.pki

    def record(_buffer: Any, server_name: str | None, _config: Any) -> None:
        sni.append(server_name)

    config = pki.server_config(
        inner_protocols=SERVER_ALPN,
        lowest_supported_version=VERSIONS[version],
        highest_supported_version=VERSIONS[version],
        trust_store=pki.trust_store() if mutual else None,
        sni_callback=record if Capability.SNI_CALLBACK in backend.capabilities else None,
    )
    return backend.server_context(config)


def _pinned(version: str) -> dict[str, Any]:
    return {"lowest": version, "highest": version}


# -- the Windows client against Linux backends ---------------------------------------------


@pytest.mark.parametrize("case", _cases(LINUX_BACKENDS), ids=str)
def test_windows_client_linux_server(windows: Windows, wine_files: WineFiles, case: Case) -> None:
    win, linux, mutual, version = case.win, case.peer, case.mutual, case.version
    _windows_version(windows, win, version)
    if mutual:
        windows.require(win, Capability.CLIENT_CERTIFICATES, "client certificates")
    sni: list[str | None] = []
    server = LinuxServer(_server_context(linux, wine_files, version, mutual=mutual, sni=sni))
    token = _token() + b"\n"
    answer = windows.driver.call(
        "connect",
        backend=win,
        port=server.port,
        server_hostname="localhost",
        alpn=WINDOWS_ALPN,
        send=b64(token),
        expect=b64(token),
        **_pinned(version),
        **wine_files.client_request(mutual=mutual),
    )
    server.join()
    _expect_ok(answer, f"the {win} client in Wine")
    if server.error is not None:
        raise AssertionError(f"the {linux} server failed: {server.error!r}") from server.error
    theirs = server.negotiated
    assert unb64(answer["received"]) == token
    assert answer["version"] == theirs["version"] == VERSIONS[version].name
    assert answer["cipher"] == theirs["cipher"]
    assert answer["alpn"] == theirs["alpn"] == "http/1.1"
    assert answer["peer_chain_sha256"][0] == _sha256(wine_files.pki.server_identity.cert_der)
    if Capability.SNI_CALLBACK in _linux_backend(linux).capabilities:
        assert sni == ["localhost"], f"the {linux} server saw SNI {sni}"
    if mutual:
        assert theirs["peer_chain_sha256"][:1] == [_sha256(wine_files.client_identity.cert_der)], (
            "the server did not get the client certificate"
        )
    else:
        assert theirs["peer_chain_sha256"] == []


REFUSALS = {"wrong-host": "hostname-mismatch", "unknown-ca": "untrusted-issuer"}


@pytest.mark.parametrize(
    ("win", "linux", "case"),
    [(w, n, c) for w in WINDOWS_BACKENDS for n in LINUX_BACKENDS for c in REFUSALS],
    ids=str,
)
def test_windows_client_refuses(
    windows: Windows, wine_files: WineFiles, win: str, linux: str, case: str
) -> None:
    reason = REFUSALS[case]
    windows.backend(win)
    server = LinuxServer(_server_context(linux, wine_files, "1.2", mutual=False, sni=[]))
    answer = windows.driver.call(
        "connect",
        backend=win,
        port=server.port,
        server_hostname="wrong.example" if case == "wrong-host" else "localhost",
        **_pinned("1.2"),
        **wine_files.client_request(cafile=wine_files.unknown_ca if case == "unknown-ca" else None),
    )
    server.join()
    assert not answer["ok"], f"the {win} client accepted a {case} server: {answer}"
    assert "CertificateError" in answer["classes"], answer
    assert answer["reason"] == reason, answer
    assert server.error is not None, f"the {linux} server saw the refused handshake succeed"


# -- the Windows client against server programs --------------------------------------------


@contextmanager
def _program_server(
    program: PeerProgram, files: WineFiles, directory: Path, version: str, mutual: bool
) -> Iterator[Any]:
    require_program(program)
    peer_files = PeerFiles.from_pki(directory, files.pki, files.pki.server_identity)
    with run_server(
        program,
        peer_files,
        lowest_version=VERSIONS[version],
        highest_version=VERSIONS[version],
        alpn=(b"http/1.1",),
        client_auth=ClientAuth.REQUIRE if mutual else ClientAuth.NONE,
    ) as server:
        yield server


@pytest.mark.parametrize("case", _cases([OPENSSL_SERVER.name, GNUTLS_SERVER.name]), ids=str)
def test_windows_client_server_program(
    windows: Windows, wine_files: WineFiles, tmp_path: Path, case: Case
) -> None:
    win, program, mutual, version = case.win, PROGRAMS[case.peer], case.mutual, case.version
    _windows_version(windows, win, version)
    if mutual:
        windows.require(win, Capability.CLIENT_CERTIFICATES, "client certificates")
    token = _token()
    with _program_server(program, wine_files, tmp_path, version, mutual) as server:
        answer = windows.driver.call(
            "connect",
            backend=win,
            port=server.port,
            server_hostname="localhost",
            alpn=WINDOWS_ALPN,
            send=b64(server.echo.request(token)),
            expect=b64(server.echo.expected(token)),
            **_pinned(version),
            **wine_files.client_request(mutual=mutual),
        )
        server.stop()
        if not answer.get("ok"):
            pytest.fail(
                f"the {win} client in Wine against {program.name}: {answer.get('error')}: "
                f"{answer.get('message')}\n{server.transcript()}",
                pytrace=False,
            )
        report = server.report()
    assert server.echo.expected(token) in unb64(answer["received"])
    assert answer["version"] == VERSIONS[version].name
    if report.version is not None:
        assert report.version is VERSIONS[version]
    assert answer["alpn"] == "http/1.1"
    assert answer["peer_chain_sha256"][0] == _sha256(wine_files.pki.server_identity.cert_der)
    if mutual:
        assert report.peer_subject and "client" in report.peer_subject.lower(), (
            f"{program.name} reports no client certificate: {report}"
        )


# -- Linux clients against the Windows server ----------------------------------------------


def _windows_server(
    windows: Windows, files: WineFiles, win: str, version: str, *, mutual: bool
) -> int:
    windows.require(win, Capability.SERVER, "the server side")
    _windows_version(windows, win, version)
    answer = windows.driver.call(
        "serve",
        backend=win,
        alpn=["http/1.1", "h2"],
        **_pinned(version),
        **files.server_request(mutual=mutual),
    )
    return int(_expect_ok(answer, f"the {win} server in Wine")["port"])


@pytest.mark.parametrize("case", _cases(LINUX_BACKENDS), ids=str)
def test_linux_client_windows_server(windows: Windows, wine_files: WineFiles, case: Case) -> None:
    win, linux, mutual, version = case.win, case.peer, case.mutual, case.version
    port = _windows_server(windows, wine_files, win, version, mutual=mutual)
    pki = wine_files.pki
    config = pki.client_config(
        inner_protocols=(NextProtocol.H2, NextProtocol.HTTP1),
        lowest_supported_version=VERSIONS[version],
        highest_supported_version=VERSIONS[version],
        certificate_chain=wine_files.client_identity.certificate_chain() if mutual else None,
    )
    token = _token() + b"\n"
    try:
        context = _linux_backend(linux).client_context(config)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=CALL_TIMEOUT) as raw,
            context.wrap_socket(raw, "localhost") as tls,
        ):
            tls.do_handshake()
            ours = _negotiated(tls)
            tls.sendall(token)
            reply = _recv_until(tls, b"")
            tls.shutdown(socket.SHUT_WR)
    finally:
        answer = windows.driver.call("result", port=port)
    theirs = _expect_ok(answer, f"the {win} server in Wine")
    assert reply == token
    assert unb64(theirs["received"]) == token
    assert ours["version"] == theirs["version"] == VERSIONS[version].name
    assert ours["cipher"] == theirs["cipher"]
    assert ours["alpn"] == theirs["alpn"] == "http/1.1"
    assert ours["peer_chain_sha256"][0] == _sha256(pki.server_identity.cert_der)
    if theirs["sni_seen"]:
        assert theirs["sni"] == "localhost"
    if mutual:
        assert theirs["peer_chain_sha256"][:1] == [_sha256(wine_files.client_identity.cert_der)]
    else:
        assert theirs["peer_chain_sha256"] == []


@pytest.mark.parametrize("case", _cases([OPENSSL_CLIENT.name, GNUTLS_CLIENT.name]), ids=str)
def test_client_program_windows_server(
    windows: Windows, wine_files: WineFiles, tmp_path: Path, case: Case
) -> None:
    win, program, mutual, version = case.win, PROGRAMS[case.peer], case.mutual, case.version
    require_program(program)
    port = _windows_server(windows, wine_files, win, version, mutual=mutual)
    pki = wine_files.pki
    peer_files = PeerFiles.from_pki(tmp_path, pki, wine_files.client_identity if mutual else None)
    request = _token() + b"\n"
    try:
        with run_client(
            program,
            port,
            peer_files,
            request,
            lowest_version=VERSIONS[version],
            highest_version=VERSIONS[version],
            alpn=(b"h2", b"http/1.1"),
        ) as client:
            status = client.wait(CALL_TIMEOUT)
            transcript = client.transcript()
            report = client.report()
            printed = client.received()
    finally:
        answer = windows.driver.call("result", port=port)
    theirs = _expect_ok(answer, f"the {win} server in Wine against {program.name}")
    assert status == 0, f"{program.name} exited with status {status}\n{transcript}"
    assert unb64(theirs["received"]) == request
    assert request.strip() in printed, f"{program.name} did not print the echo\n{transcript}"
    assert theirs["version"] == VERSIONS[version].name
    if report.version is not None:
        assert report.version is VERSIONS[version]
    assert theirs["alpn"] == "http/1.1"
    if report.alpn is not None:
        assert report.alpn == b"http/1.1"
    if report.verified is not None:
        assert report.verified, f"{program.name} did not verify the Windows server\n{transcript}"
    if mutual:
        assert theirs["peer_chain_sha256"][:1] == [_sha256(wine_files.client_identity.cert_der)]
