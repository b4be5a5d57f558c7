"""One TLS connection over a 127.0.0.1 socket pair: a server thread and a client.

Used by ``tlsapi demo``: each side reports what it negotiated or the error
it met, so a matrix can show both and check that they agree.
"""

from __future__ import annotations

import dataclasses
import socket
import threading

from .._context import ClientContext, ServerContext
from .._errors import TLSError
from .._socket import TLSWrappedSocket
from ._common import format_alpn, format_cipher, format_version

__all__ = ["SideResult", "run_connection"]


@dataclasses.dataclass
class SideResult:
    """What one end saw."""

    version: str = "-"
    cipher: str = "-"
    alpn: str = "-"
    peer_chain_length: int = 0
    echoed: bool = False
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _describe(tls: TLSWrappedSocket, result: SideResult) -> None:
    result.version = format_version(tls.negotiated_tls_version)
    result.cipher = format_cipher(tls.cipher())
    result.alpn = format_alpn(tls.negotiated_protocol())
    chain = tls.getpeercert()
    result.peer_chain_length = len(chain) if chain else 0


def _recv_exactly(tls: TLSWrappedSocket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = tls.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _serve_one(
    listener: socket.socket, context: ServerContext, size: int, result: SideResult
) -> None:
    try:
        conn, _ = listener.accept()
    except OSError as exc:
        result.error = exc
        return
    try:
        with context.wrap_socket(conn) as tls:
            tls.do_handshake()
            _describe(tls, result)
            data = _recv_exactly(tls, size)
            tls.sendall(data)
            result.echoed = len(data) == size
            # An orderly end both ways: the client's close_notify, then ours.
            if tls.recv(1) != b"":
                raise TLSError("the client sent more than the one message")
            tls.shutdown(socket.SHUT_WR)
    except Exception as exc:  # reported in the matrix, never raised from a thread
        result.error = exc
    finally:
        conn.close()


def run_connection(
    server_context: ServerContext,
    client_context: ClientContext,
    server_hostname: str,
    *,
    payload: bytes = b"hello from tlsapi demo",
    timeout: float = 10.0,
) -> tuple[SideResult, SideResult]:
    """Handshake, echo ``payload`` once, close; (server result, client result)."""
    server = SideResult()
    client = SideResult()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(timeout)
        thread = threading.Thread(
            target=_serve_one,
            args=(listener, server_context, len(payload), server),
            name="tlsapi-demo-server",
            daemon=True,
        )
        thread.start()
        try:
            sock = socket.create_connection(listener.getsockname()[:2], timeout=timeout)
            with client_context.wrap_socket(sock, server_hostname) as tls:
                tls.do_handshake()
                _describe(tls, client)
                tls.sendall(payload)
                client.echoed = _recv_exactly(tls, len(payload)) == payload
                tls.shutdown(socket.SHUT_WR)  # close_notify
                if tls.recv(1) != b"":
                    raise TLSError("the server did not end with close_notify")
        except Exception as exc:
            client.error = exc
        thread.join(timeout + 1.0)
        if thread.is_alive():
            server.error = TimeoutError("the server side did not finish in time")
    return server, client
