"""SSLSocket: a real ``ssl.SSLSocket`` whose TLS is done by a tlsapi backend.

``ssl.SSLSocket`` keeps all its Python logic (connect, accept, makefile,
sendall, suppress_ragged_eofs, the checks) and delegates TLS to a C object
in ``_sslobj`` that the context's ``_wrap_socket`` makes.  Ours makes a
``_SocketConnection`` instead: the same methods, carried out by
``tlsapi.TLSWrappedSocket`` (its I/O loops, deadlines and non-blocking rules)
over a duplicate of the socket's descriptor.  Both descriptors share one open
file, so timeouts set on either apply to both; the duplicate is closed with
the SSLSocket (``close``, ``shutdown``, ``unwrap``).
"""

from __future__ import annotations

import socket as _socket
import ssl
from typing import TYPE_CHECKING, Any

from .._errors import CertificateError, RaggedEOF
from .._socket import TLSWrappedSocket
from ._object import _Connection, read_target, with_verify_code

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from .._buffer import TLSWrappedBuffer
    from ._context import SSLContext

__all__ = ["SSLSocket"]


class _SocketConnection(_Connection):
    """The object ``ssl.SSLSocket`` keeps in ``_sslobj``, over a TLSWrappedSocket."""

    def __init__(
        self,
        context: SSLContext,
        buffer: TLSWrappedBuffer,
        owner: SSLSocket,
        server_side: bool,
        server_hostname: str | None,
    ) -> None:
        self._setup(context, buffer, server_side, server_hostname)
        self._owner = owner
        raw = _socket.socket(owner.family, owner.type, owner.proto, fileno=_dup(owner))
        raw.settimeout(owner.gettimeout())
        self._tls = TLSWrappedSocket(raw, buffer)

    def ssl_owner(self) -> Any:
        return self._owner

    @property
    def context(self) -> SSLContext:
        return self._context

    @context.setter
    def context(self, ctx: SSLContext) -> None:
        _Connection.context.__set__(self, ctx)  # type: ignore[attr-defined]
        # An sni_callback sets it on the SSLSocket, which keeps its own copy.
        self._owner._context = ctx  # type: ignore[attr-defined]

    def settimeout(self, value: float | None) -> None:
        self._tls.settimeout(value)

    def do_handshake(self) -> None:
        self._begun = True
        try:
            self._tls.do_handshake()
        except CertificateError as error:
            with_verify_code(error)
            raise

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        self._begun = True
        try:
            if buffer is not None:
                view, len = read_target(buffer, len)
                if self._held:
                    return self._held_into(view, len)
                return self._tls.recv_into(view, len)
            if self._held:
                return self._take_held(len)
            return self._tls.recv(len)
        except RaggedEOF:
            if self._owner.suppress_ragged_eofs:  # type: ignore[attr-defined]
                return b"" if buffer is None else 0
            raise

    def write(self, data: Buffer) -> int:
        self._begun = True
        return self._tls.send(data)

    def pending(self) -> int:
        return self._fill_held()

    def shutdown(self) -> SSLSocket:
        """ssl's unwrap(): close_notify both ways; the SSLSocket goes on as a plain socket."""
        self._tls.unwrap().close()
        owner = self._owner
        owner.settimeout(owner.gettimeout())  # the descriptor's mode, for plain use again
        return owner

    def close(self) -> None:
        self._tls.close()


def _dup(sock: _socket.socket) -> int:
    # socket.dup (the C function), not os.dup: on Windows a socket is a handle,
    # not a C runtime file descriptor (WSADuplicateSocket there, dup() elsewhere).
    return _socket.dup(sock.fileno())


class SSLSocket(ssl.SSLSocket):
    """``ssl.SSLSocket`` over a tlsapi backend; made by ``tlsapi.SSLContext.wrap_socket``."""

    _sslobj: _SocketConnection | None

    def settimeout(self, value: float | None) -> None:
        super().settimeout(value)
        connection = getattr(self, "_sslobj", None)
        if connection is not None:
            connection.settimeout(value)

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)

    def shutdown(self, how: int) -> None:
        self._drop_connection()
        super().shutdown(how)

    def _real_close(self) -> None:
        self._drop_connection()
        super()._real_close()  # type: ignore[misc]

    def _drop_connection(self) -> None:
        connection = getattr(self, "_sslobj", None)
        if connection is not None:
            connection.close()

    def get_verified_chain(self) -> list[bytes]:
        return [] if self._sslobj is None else self._sslobj.get_verified_chain()

    def get_unverified_chain(self) -> list[bytes]:
        return [] if self._sslobj is None else self._sslobj.get_unverified_chain()

    def __repr__(self) -> str:
        return "<tlsapi.SSLSocket " + super().__repr__()[1:]
