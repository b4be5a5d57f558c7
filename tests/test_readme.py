"""Every ```python block of README.md runs as written, imports included.

Each block is compiled from the README itself and executed in a fresh
namespace.  Blocks that talk to the network run against local tlsapi
servers on 127.0.0.1; what each test substitutes for the outside world is
said where it does it, and nothing else is changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi import _registry
from tlsapi.testing.conformance.sockets import IO_TIMEOUT, Background, recv_all
from tlsapi.testing.pki import PKI, Identity
from tlsapi.testing.pump import handshake

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Block:
    line: int
    code: str

    def run(self) -> dict[str, Any]:
        """Execute the block in a fresh namespace, as a script would."""
        namespace: dict[str, Any] = {"__name__": "__readme__"}
        exec(compile(self.code, f"{README}:{self.line}", "exec"), namespace)
        return namespace


def _blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, match.start(1)) + 1, match.group(1))
        for match in _BLOCK.finditer(text)
    ]


# Each test claims its block by a line only that block has; a new block
# without a test fails test_every_block_is_run.
CLIENT = 'socket.create_connection(("example.org", 443))'
SERVER = 'socket.create_server(("127.0.0.1", 8443))'
BUFFERS = "def move(source, destination):"
SESSIONS = "def connect(session=None):"
CHOOSING = 'tlsapi.backend("nss")'
ERRORS = "except tlsapi.CertificateError as exc:"
CLAIMED = (CLIENT, SERVER, BUFFERS, SESSIONS, CHOOSING, ERRORS)


def _block(marker: str) -> Block:
    found = [block for block in _blocks() if marker in block.code]
    assert len(found) == 1, f"README.md has {len(found)} python blocks containing {marker!r}"
    return found[0]


def test_every_block_is_run() -> None:
    blocks = _blocks()
    assert blocks, "no ```python blocks found in README.md"
    unclaimed = [b.line for b in blocks if not any(marker in b.code for marker in CLAIMED)]
    assert not unclaimed, f"README.md python blocks at lines {unclaimed} have no test here"


# -- substitutions for the outside world --------------------------------------


@pytest.fixture
def fake_system_trust(monkeypatch: pytest.MonkeyPatch, backend: tlsapi.Backend) -> Iterator[PKI]:
    """``backend`` is the default, and a throwaway CA stands in for the system trust.

    Substituted: ``tlsapi.ClientContext(config)`` builds ``backend``'s context
    (``default_backend`` patched) and a configuration that asks for the
    system store (``trust_store=None``) gets this CA instead.  Why: the
    README's client talks to public hosts that the system store vouches for;
    here a local server plays those hosts with certificates from this CA.
    tlsapi has no documented switch for the system store, and each library
    finds its own (OpenSSL's SSL_CERT_FILE would cover only stdlib).
    """
    pki = PKI()
    real = backend.client_context

    def client_context(config: tlsapi.TLSConfiguration) -> tlsapi.ClientContext:
        if config.trust_store is None or config.trust_store.is_system:
            config = config.update(trust_store=pki.trust_store())
        return real(config)

    substituted = dataclasses.replace(backend, client_context=client_context)
    monkeypatch.setattr(_registry, "default_backend", lambda: substituted)
    yield pki


def _redirect_connections(
    monkeypatch: pytest.MonkeyPatch, hosts: dict[tuple[str, int], tuple[str, int]]
) -> None:
    """Substituted: ``socket.create_connection`` to the README's public hosts reaches
    local servers instead (and any other address fails the test, so nothing
    leaves 127.0.0.1); a timeout is set so that a stuck exchange fails the
    test instead of hanging it."""
    real = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        if tuple(address) not in hosts:
            pytest.fail(f"a README block connected to {address}, which this test does not serve")
        sock = real(hosts[(address[0], address[1])], *args, **kwargs)
        if sock.gettimeout() is None:
            sock.settimeout(IO_TIMEOUT)
        return sock

    monkeypatch.setattr(socket, "create_connection", create_connection)


class _OneConnectionServer:
    """A tlsapi server on 127.0.0.1 that runs ``handle`` on one connection."""

    def __init__(
        self,
        backend: tlsapi.Backend,
        config: tlsapi.TLSConfiguration,
        handle: Callable[[tlsapi.TLSWrappedSocket], Any],
    ) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(IO_TIMEOUT)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._context = backend.server_context(config)
        self._handle = handle
        self._job = Background(self._serve)

    def _serve(self) -> Any:
        with self._listener:
            conn, _ = self._listener.accept()
        conn.settimeout(IO_TIMEOUT)
        with self._context.wrap_socket(conn) as tls:
            return self._handle(tls)

    def result(self) -> Any:
        return self._job.result()


def _leaf(pki: PKI, name: str, **kwargs: Any) -> Identity:
    return pki.issue(names=(name,), ips=(), **kwargs)


# -- the blocks ---------------------------------------------------------------


def test_client_block(
    backend: tlsapi.Backend,
    fake_system_trust: PKI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The block "A client": example.org is a local server of ``backend`` with a certificate
    for example.org from the CA standing in for the system trust."""
    pki = fake_system_trust

    def answer(tls: tlsapi.TLSWrappedSocket) -> bytes:
        request = b""
        while not request.endswith(b"\r\n\r\n"):
            chunk = tls.recv(4096)
            assert chunk, f"the client closed before a whole request: {request!r}"
            request += chunk
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        # The README's client closes once it has read the reply, without a
        # close_notify: our close_notify may meet its reset (ENOTCONN, EPIPE).
        with contextlib.suppress(OSError, tlsapi.TLSError):
            tls.shutdown(socket.SHUT_WR)
        return request

    server = _OneConnectionServer(
        backend,
        pki.server_config(_leaf(pki, "example.org"), inner_protocols=(tlsapi.NextProtocol.HTTP1,)),
        answer,
    )
    _redirect_connections(monkeypatch, {("example.org", 443): server.address})
    _block(CLIENT).run()
    request = server.result()
    assert request.startswith(b"GET / HTTP/1.1\r\nHost: example.org\r\n")
    out = capsys.readouterr().out
    assert "NextProtocol.HTTP1" in out
    assert "HTTP/1.1 200 OK" in out and "hello" in out


def test_server_block(
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The block "A server", run in a thread with its default backend set to ``backend``; this
    test writes the chain.pem and key.pem (encrypted with the block's own
    password, b"...") it reads, and is its client."""
    leaf = pki.server_identity
    (tmp_path / "chain.pem").write_bytes(leaf.chain_pem)
    (tmp_path / "key.pem").write_bytes(leaf.key_bytes(password=b"..."))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(_registry, "default_backend", lambda: backend)

    # Substituted: the block's fixed port 8443 becomes a free port (another
    # program, or another run of this suite, may hold 8443), and the
    # listener gets a timeout so that a missing client fails, not hangs.
    real = socket.create_server
    listening = threading.Event()
    bound: list[tuple[str, int]] = []

    def create_server(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        assert tuple(address) == ("127.0.0.1", 8443), address
        listener = real(("127.0.0.1", 0), *args, **kwargs)
        listener.settimeout(IO_TIMEOUT)
        bound.append(listener.getsockname()[:2])
        listening.set()
        return listener

    monkeypatch.setattr(socket, "create_server", create_server)
    block = Background(_block(SERVER).run)
    assert listening.wait(IO_TIMEOUT), "the server block did not listen"

    config = pki.client_config(inner_protocols=(tlsapi.NextProtocol.H2,))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(IO_TIMEOUT)
    sock.connect(bound[0])
    with backend.client_context(config).wrap_socket(sock, "localhost") as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        response = recv_all(tls)  # b"" only after the block's close_notify
        assert tls.negotiated_protocol() == b"h2"
    block.result()
    assert response == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"


def test_buffers_block() -> None:
    """The block "Buffers": in memory only, nothing substituted."""
    namespace = _block(BUFFERS).run()
    assert namespace["client"].negotiated_tls_version is not None


@pytest.mark.parametrize("backend", ["gnutls", "nss", "stdlib"])
def test_sessions_block(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The block "Sessions": nothing substituted; run with each backend as the default."""
    if backend not in {b.name for b in tlsapi.available_backends()}:
        pytest.skip(f"the {backend} backend is not available here")
    monkeypatch.setenv("TLSAPI_BACKEND", backend)
    namespace = _block(SESSIONS).run()
    assert namespace["resumed"] is True
    assert tlsapi.default_backend().name == backend


def test_choosing_block() -> None:
    """The block "Choosing a backend": nothing substituted; it asks for nss by name."""
    if "nss" not in {b.name for b in tlsapi.available_backends()}:
        pytest.skip("the block asks for the nss backend, which is not available here")
    namespace = _block(CHOOSING).run()
    assert namespace["backend"].name == "nss"
    assert namespace["context"].configuration == namespace["config"]


def test_errors_block(
    backend: tlsapi.Backend,
    fake_system_trust: PKI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The block "Errors": expired.badssl.com is a local server of ``backend`` whose
    certificate, from the CA standing in for the system trust, has expired."""
    pki = fake_system_trust
    now = datetime.datetime.now(datetime.timezone.utc)
    expired = _leaf(
        pki,
        "expired.badssl.com",
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )

    def refused(tls: tlsapi.TLSWrappedSocket) -> None:
        with pytest.raises(tlsapi.TLSError):
            tls.do_handshake()

    server = _OneConnectionServer(backend, pki.server_config(expired), refused)
    _redirect_connections(monkeypatch, {("expired.badssl.com", 443): server.address})
    _block(ERRORS).run()
    server.result()
    assert capsys.readouterr().out.startswith("refused: expired: ")


def test_negotiated_protocol_compares_as_the_readme_says(backend: tlsapi.Backend, pki: PKI) -> None:
    """What the README says of negotiated_protocol(): a member equals (and hashes
    like) its bytes, never a str; an unlisted protocol is raw bytes; both decode."""
    for offered, name in ((tlsapi.NextProtocol.H2, "h2"), (b"x-readme/1", "x-readme/1")):
        client = backend.client_context(pki.client_config(inner_protocols=(offered,)))
        server = backend.server_context(pki.server_config(inner_protocols=(offered,)))
        ends = client.wrap_buffers("localhost"), server.wrap_buffers()
        handshake(*ends)
        for end in ends:
            protocol = end.negotiated_protocol()
            assert protocol is not None
            assert protocol == name.encode() and {name.encode(): 1}[protocol] == 1
            assert protocol != name  # the point: never equal to a str
            assert protocol.decode() == name
