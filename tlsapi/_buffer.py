"""TLSWrappedBuffer: the sans-I/O core that every backend implements.

The public methods here hold the semantic rules of PEP 543 once for every
backend: implicit handshake before the first read or write, ``b""`` forever
after the peer's close_notify, no writes after ``shutdown()``, raw values
turned into enums with unknown ones passed through.  A backend implements the
``_``-prefixed hooks; they drive the C library over two ByteQueues:

    receive_from_network(data) --> _incoming --> library reads (pull)
    library writes (push)      --> _outgoing --> peek_outgoing / consume_outgoing

``receive_from_network(b"")`` tells the buffer that the transport reached
end of file (as in h11): a read that then finds no close_notify raises
RaggedEOF, and a handshake that cannot finish raises RaggedEOF too.

Want-errors follow PEP 543: WantReadError means "feed me more bytes and call
the same method again with the same arguments".  Any other TLSError from a
hook is fatal: it is kept and raised again by every later call.

A backend whose library keeps the network bytes in its own storage may
override the network-side methods instead (``receive_from_network``'s
``_receive`` hook, ``incoming_bytes_buffered``, and ``peek_outgoing``,
``consume_outgoing`` and ``outgoing_bytes_buffered`` together), keeping their
rules: peek leaves bytes in place, consuming more than is buffered is a
ValueError.  The GnuTLS and NSS backends do, to move no byte through Python
per record.

The base class's attributes (``_context``, ``_server_hostname``,
``_incoming``, ``_outgoing``, ``_transport_eof``, ``_handshake_done``,
``_shutdown_sent``, ``_peer_closed``, ``_first_failure``) are shared state
that backends may read; a backend must not reuse these names for its own.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

from ._bytequeue import ByteQueue
from ._ciphers import CipherSuite
from ._errors import TLSError, WantReadError, WantWriteError
from ._protocols import NextProtocol
from ._versions import TLSVersion

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._context import ClientContext, ServerContext

__all__ = ["TLSWrappedBuffer"]

DEFAULT_READ_SIZE = 16384


class TLSWrappedBuffer(abc.ABC):
    """One TLS connection over in-memory buffers (no I/O of its own)."""

    def __init__(self, context: ClientContext | ServerContext, server_hostname: str | None) -> None:
        self._context = context
        self._server_hostname = server_hostname
        self._incoming = ByteQueue()
        self._outgoing = ByteQueue()
        self._transport_eof = False
        self._handshake_done = False
        self._shutdown_sent = False
        self._peer_closed = False
        # The first fatal error; every later call raises it again, so a
        # broken connection never half-works or reports a vaguer error.
        self._first_failure: TLSError | None = None

    # -- identity -------------------------------------------------------

    @property
    def context(self) -> ClientContext | ServerContext:
        return self._context

    @property
    def server_hostname(self) -> str | None:
        """The name given to wrap_buffers (client), or the SNI the client sent (server)."""
        return self._server_hostname

    # -- the TLS state machine --------------------------------------------

    def do_handshake(self) -> None:
        """Run the handshake; raises WantReadError until it has the peer's messages."""
        if self._handshake_done:
            return
        if self._first_failure is not None:
            raise self._first_failure
        try:
            self._handshake()
        except TLSError as exc:
            self._remember(exc)
            raise
        self._handshake_done = True

    # These three are the hot path: the common argument types skip the
    # memoryview wrapping, and the handshake check is one attribute test.

    def read(self, amt: int = DEFAULT_READ_SIZE) -> bytes:
        """Up to ``amt`` bytes of application data; ``b""`` after close_notify."""
        if self._peer_closed:
            return b""
        if amt <= 0:
            if amt < 0:
                raise ValueError("amt must not be negative")
            return b""
        if not self._handshake_done:
            self.do_handshake()
        elif self._first_failure is not None:
            raise self._first_failure
        try:
            data = self._read(amt)
        except TLSError as exc:
            self._remember(exc)
            raise
        if not data:
            self._peer_closed = True
        return data

    def readinto(self, buffer: Buffer, amt: int | None = None) -> int:
        """Read into ``buffer`` (up to ``amt`` bytes); 0 after close_notify."""
        if amt is None and type(buffer) is bytearray:
            target: bytearray | memoryview = buffer
        else:
            target = memoryview(buffer).cast("B")
            if target.readonly:
                raise TypeError("readinto() needs a writable buffer, such as a bytearray")
            if amt is not None:
                if amt < 0:
                    raise ValueError("amt must not be negative")
                target = target[:amt]
        if self._peer_closed or not len(target):
            return 0
        if not self._handshake_done:
            self.do_handshake()
        elif self._first_failure is not None:
            raise self._first_failure
        try:
            count = self._readinto(target)
        except TLSError as exc:
            self._remember(exc)
            raise
        if count == 0:
            self._peer_closed = True
        return count

    def write(self, buf: Buffer) -> int:
        """Encrypt application data; returns how many bytes were taken."""
        if self._shutdown_sent:
            raise TLSError("cannot write after shutdown(): the close_notify alert was already sent")
        if not self._handshake_done:
            self.do_handshake()
        elif self._first_failure is not None:
            raise self._first_failure
        data = buf if type(buf) is bytes or type(buf) is bytearray else memoryview(buf).cast("B")
        if not len(data):
            return 0
        try:
            return self._write(data)
        except TLSError as exc:
            self._remember(exc)
            raise

    def shutdown(self) -> None:
        """Send close_notify (once); the peer's close_notify then reads as ``b""``."""
        if self._shutdown_sent:
            return
        if self._first_failure is not None:
            raise self._first_failure
        try:
            self._shutdown()
        except TLSError as exc:
            self._remember(exc)
            raise
        self._shutdown_sent = True

    def _remember(self, error: TLSError) -> None:
        if not isinstance(error, (WantReadError, WantWriteError)) and self._first_failure is None:
            self._first_failure = error

    # -- the network side -------------------------------------------------

    def receive_from_network(self, data: Buffer) -> None:
        """Bytes that arrived from the peer; ``b""`` means the transport's end of file."""
        chunk = data if type(data) is bytes else memoryview(data).cast("B")
        if not len(chunk):
            if not self._transport_eof:
                self._transport_eof = True
                self._receive_eof()
            return
        if self._transport_eof:
            raise TLSError("bytes received after the transport's end of file")
        self._receive(chunk)

    def peek_outgoing(self, amt: int) -> bytes:
        """Up to ``amt`` bytes waiting to go to the peer, left in place."""
        self._flush_library_output()
        return self._outgoing.peek(amt)

    def consume_outgoing(self, amt: int) -> None:
        """Mark ``amt`` bytes from peek_outgoing as sent."""
        if amt < 0 or amt > len(self._outgoing):
            raise ValueError(f"cannot consume {amt} bytes: {len(self._outgoing)} are buffered")
        self._outgoing.consume(amt)

    def incoming_bytes_buffered(self) -> int:
        return len(self._incoming)

    def outgoing_bytes_buffered(self) -> int:
        self._flush_library_output()
        return len(self._outgoing)

    # -- what was negotiated ----------------------------------------------

    def cipher(self) -> CipherSuite | int | None:
        number = self._cipher_number() if self._handshake_done else None
        return None if number is None else CipherSuite.from_number(number)

    def negotiated_protocol(self) -> NextProtocol | bytes | None:
        raw = self._negotiated_protocol() if self._handshake_done else None
        return None if not raw else NextProtocol.from_bytes(raw)

    @property
    def negotiated_tls_version(self) -> TLSVersion | int | None:
        number = self._tls_version_number() if self._handshake_done else None
        return None if number is None else TLSVersion.from_wire(number)

    def getpeercert(self) -> list[bytes] | None:
        """The peer's chain as DER, leaf first; None before the handshake or without one."""
        if not self._handshake_done:
            return None
        return self._peer_chain()

    # -- hooks for backends -------------------------------------------------

    def _receive(self, data: bytes | memoryview) -> None:
        self._incoming.append(data)

    def _receive_eof(self) -> None:
        """The transport reached end of file (``_transport_eof`` is already set)."""

    def _flush_library_output(self) -> None:
        """Move bytes the library holds into ``_outgoing`` (only for libraries that keep their own)."""

    @abc.abstractmethod
    def _handshake(self) -> None: ...

    @abc.abstractmethod
    def _read(self, amt: int) -> bytes:
        """Up to ``amt`` bytes (>0); ``b""`` on close_notify; WantReadError / RaggedEOF."""

    @abc.abstractmethod
    def _readinto(self, target: bytearray | memoryview) -> int:
        """Read into ``target`` (non-empty, bytes-shaped); 0 on close_notify."""

    @abc.abstractmethod
    def _write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt ``data`` (non-empty, bytes-shaped); return how many bytes were taken."""

    @abc.abstractmethod
    def _shutdown(self) -> None: ...

    @abc.abstractmethod
    def _cipher_number(self) -> int | None: ...

    @abc.abstractmethod
    def _negotiated_protocol(self) -> bytes | None: ...

    @abc.abstractmethod
    def _tls_version_number(self) -> int | None: ...

    @abc.abstractmethod
    def _peer_chain(self) -> list[bytes] | None: ...
