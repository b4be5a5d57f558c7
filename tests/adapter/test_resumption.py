"""Session resumption through the adapter, as ssl code does it, against real OpenSSL peers.

``sock.session`` / ``sslobj.session`` give a ``tlsapi.TLSSession``; ssl code
passes it back with ``wrap_socket(..., session=s)``, ``wrap_bio(...,
session=s)`` or ``sock.session = s`` before connecting.  The peer is the ssl
module's own server or client (OpenSSL), whose ``session_reused`` confirms
each resumption from the other end.  A backend without session-resumption
gives no session (asserted), so nothing can be offered there.
"""

from __future__ import annotations

import http.client
import http.server
import pickle
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

import tlsapi
from tlsapi.testing.pki import PKI

from .conftest import Files, make_client, make_server, skip_unless_serves, skip_unless_tls13
from .test_bio import End, _handshake

VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]
VERSION_IDS = ["TLSv1.2", "TLSv1.3"]

RESUMPTION = tlsapi.Capability.SESSION_RESUMPTION


@dataclass
class Served:
    """What the server saw: each connection's session_reused and client certificate, and errors."""

    port: int
    reused: list[bool] = field(default_factory=list)
    peers: list[bytes | None] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)


@contextmanager
def _server(context: ssl.SSLContext, connections: int) -> Iterator[Served]:
    """Serve up to ``connections`` connections in a thread: send b"hello", read one byte, close.

    A test that ends sooner (a skip) stops it: accept waits in short steps
    and gives up quietly once the test is over.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    served = Served(listener.getsockname()[1])
    stopped = threading.Event()

    def accept() -> socket.socket | None:
        deadline = time.monotonic() + 10
        while not stopped.is_set():
            try:
                return listener.accept()[0]
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise
        return None

    def run() -> None:
        for _ in range(connections):
            try:
                conn = accept()
            except OSError as exc:
                served.errors.append(exc)
                return
            if conn is None:
                return
            try:
                conn.settimeout(10)
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello")
                    tls.recv(1)
                    served.reused.append(bool(tls.session_reused))
                    served.peers.append(tls.getpeercert(binary_form=True))
            except BaseException as exc:
                served.errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield served
    finally:
        stopped.set()
        thread.join(20)
        listener.close()
        assert not thread.is_alive()


def _pinned(context: ssl.SSLContext, version: ssl.TLSVersion) -> ssl.SSLContext:
    context.minimum_version = context.maximum_version = version
    return context


def _talk(tls: ssl.SSLSocket) -> tuple[bool, object]:
    """Read the server's hello (TLS 1.3 tickets come before it), answer; (reused, session)."""
    assert tls.recv(5) == b"hello"
    reused, session = bool(tls.session_reused), tls.session
    tls.sendall(b"x")
    return reused, session


def _connect(
    context: ssl.SSLContext, port: int, session: object = None, name: str = "localhost"
) -> tuple[bool, object, ssl.SSLSocket]:
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=name, session=session)  # type: ignore[arg-type]
    with tls:
        reused, new_session = _talk(tls)
    return reused, new_session, tls


def _skip_unless_resumes(backend: tlsapi.Backend, session: object, reused: bool) -> None:
    """Without session-resumption a finished, read connection gives no session: asserted, then skip."""
    if backend.supports(RESUMPTION):
        assert isinstance(session, tlsapi.TLSSession), session
        return
    assert session is None and reused is False
    pytest.skip(f"backend {backend.name!r} lacks {RESUMPTION.value!r}: sock.session stays None")


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_client_resumes_with_an_ssl_server(
    backend: tlsapi.Backend, files: Files, version: ssl.TLSVersion
) -> None:
    if version is ssl.TLSVersion.TLSv1_3:
        skip_unless_tls13(backend)
    client = make_client(files, backend)
    with _server(_pinned(make_server(files, None), version), 4) as served:
        reused, session, _ = _connect(client, served.port)
        assert reused is False
        _skip_unless_resumes(backend, session, reused)
        assert session.server_hostname == "localhost"  # type: ignore[attr-defined]

        # wrap_socket(session=...): resumed, and the peer's certificate is still there.
        raw = socket.create_connection(("127.0.0.1", served.port), timeout=10)
        with client.wrap_socket(raw, server_hostname="localhost", session=session) as tls:  # type: ignore[arg-type]
            assert tls.recv(5) == b"hello"
            assert tls.session_reused is True
            assert tls.version() == version.name.replace("_", ".")
            assert ("DNS", "localhost") in tls.getpeercert()["subjectAltName"]  # type: ignore[index]
            assert tls.getpeercert(binary_form=True) == files_leaf(files)
            with pytest.raises(ValueError, match="after handshake"):
                tls.session = session  # type: ignore[assignment]
            session = tls.session or session
            tls.sendall(b"x")

        # ssl's other way: the session set on an unconnected SSLSocket, then connect().
        with client.wrap_socket(socket.socket(), server_hostname="localhost") as tls:
            tls.settimeout(10)
            tls.session = session  # type: ignore[assignment]
            tls.connect(("127.0.0.1", served.port))
            reused, session = _talk(tls)
            assert reused is True

        # The session a resumed connection gives resumes again (TLS 1.3: a new ticket).
        assert _connect(client, served.port, session)[0] is True
    assert not served.errors, served.errors
    assert served.reused == [False, True, True, True]  # OpenSSL's own view of each


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_server_resumes_for_an_ssl_client(
    backend: tlsapi.Backend, files: Files, version: ssl.TLSVersion
) -> None:
    skip_unless_serves(backend)
    if version is ssl.TLSVersion.TLSv1_3:
        skip_unless_tls13(backend)
    client = _pinned(make_client(files, None), version)
    with _server(make_server(files, backend), 2) as served:
        first, session, _ = _connect(client, served.port)
        assert first is False and isinstance(session, ssl.SSLSession)
        second, _, _ = _connect(client, served.port, session)
    assert not served.errors, served.errors
    assert served.reused[0] is False and served.reused[1] is second  # both ends agree
    if not backend.supports(RESUMPTION):
        pytest.skip(
            f"backend {backend.name!r} lacks {RESUMPTION.value!r} (its server resumed: {second})"
        )
    # Servers issue tickets (or cache sessions) by default, with keys of their own.
    assert second is True  # what the OpenSSL client saw


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_both_ends_over_bios(
    backend: tlsapi.Backend, files: Files, version: ssl.TLSVersion
) -> None:
    """The adapter on both ends (asyncio's and trio's SSLObject path), session given both ways."""
    skip_unless_serves(backend)
    if version is ssl.TLSVersion.TLSv1_3:
        skip_unless_tls13(backend)
    client_context = make_client(files, backend)
    server_context = _pinned(make_server(files, backend), version)

    def connect(session: object = None, setter: bool = False) -> tuple[End, End]:
        if session is None or setter:
            client = End(client_context, False)
            if setter:
                client.obj.session = session  # type: ignore[assignment]
        else:
            client = _End(client_context, session)
        server = End(server_context, True)
        _handshake(client, server)
        server.obj.write(b"hello")  # TLS 1.3 tickets go out before it
        server.send_to(client)
        assert client.obj.read(5) == b"hello"
        return client, server

    client, server = connect()
    assert client.obj.session_reused is False and server.obj.session_reused is False
    assert server.obj.session is None  # a server gives no session to resume
    session = client.obj.session
    _skip_unless_resumes(backend, session, client.obj.session_reused)
    with pytest.raises(ValueError, match="after handshake"):
        client.obj.session = session
    for setter in (False, True):
        client, server = connect(session, setter)
        assert client.obj.session_reused is True and server.obj.session_reused is True
        assert client.obj.getpeercert(binary_form=True) == files_leaf(files)
        assert client.obj.version() == server.obj.version()

    # Once the handshake began (a ClientHello went out), a session comes too late.
    late = End(client_context, False)
    with pytest.raises(ssl.SSLWantReadError):
        late.obj.do_handshake()
    with pytest.raises(ValueError, match="began"):
        late.obj.session = session


class _End(End):
    """An End whose SSLObject is made with wrap_bio(..., session=...)."""

    def __init__(self, context: ssl.SSLContext, session: object) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(
            self.incoming,
            self.outgoing,
            server_hostname="localhost",
            session=session,  # type: ignore[arg-type]
        )


def test_what_is_not_a_session_of_this_context(backend: tlsapi.Backend, files: Files) -> None:
    """ssl's checks, ssl's exception types: TypeError, then ValueError."""
    client = make_client(files, backend)
    obj = client.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
    for value in (None, object(), b"session"):
        with pytest.raises(TypeError, match="not a SSLSession"):
            obj.session = value  # type: ignore[assignment]
        if value is not None:
            with pytest.raises(TypeError, match="not a SSLSession"):
                client.wrap_bio(
                    ssl.MemoryBIO(),
                    ssl.MemoryBIO(),
                    server_hostname="x",
                    session=value,  # type: ignore[arg-type]
                )

    # An ssl.SSLSession (OpenSSL's, from the ssl module's own client) is another context's.
    plain = make_client(files, None)
    with _server(make_server(files, None), 1) as served:
        _, ssl_session, _ = _connect(plain, served.port)
    assert not served.errors, served.errors
    assert isinstance(ssl_session, ssl.SSLSession)
    with pytest.raises(ValueError, match="different SSLContext"):
        obj.session = ssl_session
    with pytest.raises(ValueError, match="different SSLContext"):
        client.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="x", session=ssl_session)


def test_a_session_stays_with_its_context(backend: tlsapi.Backend, files: Files) -> None:
    """Another SSLContext refuses it (ValueError); where ssl would offer it anyway, tlsapi
    makes a full handshake: another name, settings changed since, another server."""
    client = make_client(files, backend)
    with _server(make_server(files, None), 1) as served:
        _, session, _ = _connect(client, served.port)
    assert not served.errors, served.errors
    _skip_unless_resumes(backend, session, False)

    twin = make_client(files, backend)  # the same settings, another context
    with pytest.raises(ValueError, match="different SSLContext"):
        twin.wrap_bio(
            ssl.MemoryBIO(),
            ssl.MemoryBIO(),
            server_hostname="localhost",
            session=session,  # type: ignore[arg-type]
        )
    with socket.socket() as raw, pytest.raises(ValueError, match="client mode"):
        client.wrap_socket(raw, server_side=True, session=session)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="stays in its process"):
        pickle.dumps(session)

    server_context = make_server(files, None)
    with _server(server_context, 3) as served:
        # The certificate names 127.0.0.1 too: valid there, but the session is for localhost.
        reused, fresh, _ = _connect(client, served.port, session, name="127.0.0.1")
        assert reused is False and isinstance(fresh, tlsapi.TLSSession)
        # A setting changed since: the adapter made a new tlsapi context, which did not
        # validate the first handshake.
        client.set_alpn_protocols(["http/1.1"])
        assert _connect(client, served.port, session)[0] is False
        # A session of that new context still resumes, with the same server.
        renewed = _connect(client, served.port)[1]
    assert not served.errors, served.errors
    assert served.reused == [False, False, False]

    # Another server (its own ticket keys and cache) refuses it: a full handshake.
    with _server(make_server(files, None), 1) as other:
        assert _connect(client, other.port, renewed)[0] is False
    assert not other.errors, other.errors
    with _server(server_context, 1) as served:
        assert _connect(client, served.port, renewed)[0] is True
    assert not served.errors, served.errors


def files_leaf(files: Files) -> bytes:
    pem = files.chain.read_text().split("-----END CERTIFICATE-----")[0]
    return ssl.PEM_cert_to_DER_cert(pem + "-----END CERTIFICATE-----\n")


class _Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's socket stays open

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _ResumingHTTPS(http.client.HTTPSConnection):
    """The usual way to resume with http.client (and ftplib's FTP_TLS): wrap with session=."""

    session: object = None

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            self.sock, server_hostname=self.host, session=self.session
        )


@pytest.mark.parametrize("version", VERSIONS, ids=VERSION_IDS)
def test_injected_http_client_passes_the_session_back(
    backend: tlsapi.Backend, files: Files, version: ssl.TLSVersion
) -> None:
    """Code written for ssl, unchanged: create_default_context() injected, sock.session kept
    from one http.client connection and given to the next."""
    if version is ssl.TLSVersion.TLSv1_3:
        skip_unless_tls13(backend)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    httpd.socket = _pinned(make_server(files, None), version).wrap_socket(
        httpd.socket, server_side=True
    )
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    tlsapi.inject_into_ssl(backend)
    try:
        context = ssl.create_default_context(cafile=str(files.root))
        assert isinstance(context, tlsapi.SSLContext) and context.backend is backend
        reused = []
        session = None
        for _ in range(2):
            connection = _ResumingHTTPS("localhost", httpd.server_address[1], context=context)
            connection.session = session
            connection.request("GET", "/")
            assert connection.getresponse().read() == b"hello"  # TLS 1.3 tickets read too
            sock = connection.sock
            assert isinstance(sock, ssl.SSLSocket)
            reused.append(sock.session_reused)
            session = sock.session
            connection.close()
        if not backend.supports(RESUMPTION):
            assert session is None and reused == [False, False]
            pytest.skip(f"backend {backend.name!r} lacks {RESUMPTION.value!r}")
        assert isinstance(session, tlsapi.TLSSession) and reused == [False, True]
    finally:
        tlsapi.extract_from_ssl()
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


def test_server_still_knows_the_client_certificate_after_resumption(
    backend: tlsapi.Backend, files: Files, pki: PKI
) -> None:
    """Our server, requiring client certificates, resumes the ssl module's client: getpeercert()
    on the resumed connection still gives the client's leaf (the session remembers it)."""
    skip_unless_serves(backend)
    client = make_client(files, None, identity=True)
    with _server(make_server(files, backend, client_ca=files.root), 2) as served:
        _, session, _ = _connect(client, served.port)
        second, _, _ = _connect(client, served.port, session)
    assert not served.errors, served.errors
    assert served.peers == [pki.client_identity.cert_der] * 2
    assert served.reused == [False, second]
    if not backend.supports(RESUMPTION):
        pytest.skip(f"backend {backend.name!r} lacks {RESUMPTION.value!r}")
    assert second is True
