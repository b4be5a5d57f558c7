"""A user's common mistakes give the same error on every backend, saying what to do.

* a port that does not speak TLS (an HTTP or SSH server): ``NotTLSError``,
  quoting the first bytes the peer sent;
* a server that closes the connection in the middle of the handshake (an
  orderly TCP close): ``RaggedEOF``;
* a private key that does not match its certificate, or a wrong password:
  a ``ConfigurationError`` that says so, when the context is made.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

import pytest

from ..._backend import Backend, Capability
from ..._config import TLSConfiguration
from ..._credentials import PrivateKey
from ..._errors import ConfigurationError, NotTLSError, RaggedEOF, WantReadError
from ..pki import PKI, KeyType
from ._support import Peers

__all__ = ["TestMistakes"]

# What a server that is not a TLS server says first (or answers a ClientHello with).
NOT_TLS_SERVERS = {
    "http": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "ssh": b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
    "smtp": b"220 mail.example.com ESMTP ready\r\n",
}
_TIMEOUT = 10.0


def _serve_once(act: Callable[[socket.socket], None]) -> tuple[socket.socket, threading.Thread]:
    """A plain TCP server on 127.0.0.1 that does ``act`` with its one connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(_TIMEOUT)

    def run() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(_TIMEOUT)
                act(connection)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


def _drain_and_close(connection: socket.socket) -> None:
    """An orderly close: our FIN, then read what the peer still sends (so no reset)."""
    connection.shutdown(socket.SHUT_WR)
    try:
        while connection.recv(65536):
            pass
    except OSError:
        pass


class TestMistakes:
    @pytest.mark.parametrize("words", NOT_TLS_SERVERS.values(), ids=list(NOT_TLS_SERVERS))
    def test_client_to_a_port_without_tls(self, peers: Peers, words: bytes) -> None:
        """Over a real socket, as a user meets it: one error class, the bytes quoted."""

        def speak(connection: socket.socket) -> None:
            if words.startswith(b"HTTP/"):
                connection.recv(65536)  # an HTTP server answers the ClientHello
            connection.sendall(words)
            _drain_and_close(connection)

        listener, thread = _serve_once(speak)
        raw = socket.create_connection(listener.getsockname(), timeout=_TIMEOUT)
        with (
            peers.client_context().wrap_socket(raw, "localhost") as tls,
            pytest.raises(NotTLSError) as info,
        ):
            tls.do_handshake()
        thread.join(_TIMEOUT)
        message = str(info.value)
        assert "did not answer with TLS" in message, message
        assert repr(words[:12])[2:-1] in message, message  # the first bytes, quoted

    @pytest.mark.parametrize("words", NOT_TLS_SERVERS.values(), ids=list(NOT_TLS_SERVERS))
    def test_buffers_agree(self, peers: Peers, words: bytes) -> None:
        """In memory too, on both sides, and the failure stays (every later call raises it)."""
        client, server = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        client.receive_from_network(words)
        with pytest.raises(NotTLSError, match="did not answer with TLS"):
            client.do_handshake()
        with pytest.raises(NotTLSError):
            client.do_handshake()
        server.receive_from_network(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        with pytest.raises(NotTLSError, match=r"GET / HTTP/1\.1"):
            server.do_handshake()

    def test_bytes_one_at_a_time(self, peers: Peers) -> None:
        """Decided by the second byte: no waiting for a record length that is not one."""
        client, _ = peers.pair()
        with pytest.raises(WantReadError):
            client.do_handshake()
        client.receive_from_network(b"\x16")  # may begin a handshake record
        with pytest.raises(WantReadError):
            client.do_handshake()
        client.receive_from_network(b"H")  # but version major 3 must follow
        with pytest.raises(NotTLSError, match=r"\\x16H"):
            client.do_handshake()

    @pytest.mark.parametrize("sent", [0.0, 0.5], ids=["nothing", "half-a-flight"])
    def test_server_closes_during_handshake(self, peers: Peers, sent: float) -> None:
        """An orderly close in the middle of the handshake is RaggedEOF, not an OSError."""
        server_buffer = peers.server_context().wrap_buffers()

        def half_handshake(connection: socket.socket) -> None:
            server_buffer.receive_from_network(connection.recv(65536))
            with contextlib.suppress(WantReadError):
                server_buffer.do_handshake()
            flight = server_buffer.peek_outgoing(server_buffer.outgoing_bytes_buffered())
            connection.sendall(flight[: int(len(flight) * sent)])
            _drain_and_close(connection)

        listener, thread = _serve_once(half_handshake)
        raw = socket.create_connection(listener.getsockname(), timeout=_TIMEOUT)
        with (
            peers.client_context().wrap_socket(raw, "localhost") as tls,
            pytest.raises(RaggedEOF),
        ):
            tls.do_handshake()
        thread.join(_TIMEOUT)

    def _server_refuses(self, backend: Backend, config: TLSConfiguration) -> ConfigurationError:
        if Capability.SERVER not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} has no server side")
        with pytest.raises(ConfigurationError) as info:
            backend.server_context(config)
        return info.value

    @pytest.mark.parametrize("key_type", [KeyType.ECDSA_P256, KeyType.RSA_2048])
    def test_key_of_another_certificate(
        self, backend: Backend, pki: PKI, key_type: KeyType
    ) -> None:
        # Same key type (another key) and another key type: OpenSSL words them differently.
        stranger = PKI(key_type, name="tlsapi stranger")
        chain = pki.server_identity.certificates()
        config = TLSConfiguration(certificate_chain=(chain, stranger.server_identity.private_key()))
        message = str(self._server_refuses(backend, config))
        assert "private key" in message and "does not" in message, message
        assert "match" in message or "belong" in message, message

    def test_wrong_key_password(self, backend: Backend, pki: PKI) -> None:
        identity = pki.server_identity
        key = PrivateKey.from_buffer(identity.key_bytes(b"the right one"), password=b"wrong")
        config = TLSConfiguration(certificate_chain=(identity.certificates(), key))
        message = str(self._server_refuses(backend, config))
        assert "password" in message, message
        assert "PEM lib" not in message.split("(", maxsplit=1)[0], message
