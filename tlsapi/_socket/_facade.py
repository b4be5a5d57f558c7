"""TLSWrappedSocket: the stream-socket API over the engine (see ``_engine`` for the hard parts)."""

from __future__ import annotations

import contextlib
import io
import math
import socket as _socket
import time
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, overload

from .._buffer import _State as _BufferState
from .._errors import ConfigurationError, TLSError, WantReadError, WantWriteError
from ._engine import (
    _MAX_POLL_MS,
    _WAIT_READY,
    _WAIT_TIMEOUT,
    DISCARD_SIZE,
    SEND_CHUNK,
    SocketEngine,
    _State,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from .._buffer import TLSWrappedBuffer
    from .._ciphers import CipherSuite
    from .._context import ClientContext, ServerContext
    from .._groups import NamedGroup
    from .._protocols import NextProtocol
    from .._session import TLSSession
    from .._sigschemes import SignatureScheme
    from .._versions import TLSVersion

__all__ = ["TLSWrappedSocket"]

# Bound once for the fast paths.
_OK = _State.OK
_OPEN = _BufferState.OPEN
_monotonic = time.monotonic


class TLSWrappedSocket(SocketEngine):
    """A TLS connection over a connected stream socket (see ``tlsapi._socket._engine``)."""

    def __init__(self, socket: _socket.socket, buffer: TLSWrappedBuffer) -> None:
        if socket.type != _socket.SOCK_STREAM:
            raise ConfigurationError(f"TLS needs a stream socket, not {socket.type!r}")
        super().__init__(socket, buffer)
        self._io_refs = 0  # open makefile() files

    # -- socket identity and options ----------------------------------------

    @property
    def family(self) -> int:
        return self._socket.family

    @property
    def type(self) -> int:
        return self._socket.type

    @property
    def proto(self) -> int:
        return self._socket.proto

    def fileno(self) -> int:
        return self._socket.fileno()

    def getpeername(self) -> Any:
        return self._socket.getpeername()

    def getsockname(self) -> Any:
        return self._socket.getsockname()

    def setsockopt(self, level: int, optname: int, value: int | Buffer) -> None:
        self._socket.setsockopt(level, optname, value)

    @overload
    def getsockopt(self, level: int, optname: int) -> int: ...
    @overload
    def getsockopt(self, level: int, optname: int, buflen: int) -> bytes: ...
    def getsockopt(self, level: int, optname: int, buflen: int | None = None) -> int | bytes:
        if buflen is None:
            return self._socket.getsockopt(level, optname)
        return self._socket.getsockopt(level, optname, buflen)

    def gettimeout(self) -> float | None:
        return self._timeout

    def settimeout(self, value: float | None) -> None:
        if value is not None:
            value = float(value)
            if value < 0 or math.isnan(value):
                raise ValueError("Timeout value out of range")
        self._timeout = value
        if self._state not in (_State.CLOSED, _State.UNWRAPPED):
            self._apply_timeout()

    def setblocking(self, flag: bool) -> None:
        self.settimeout(None if flag else 0.0)

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    # -- what the TLS buffer knows --------------------------------------------

    @property
    def context(self) -> ClientContext | ServerContext:
        return self._buffer.context

    @property
    def server_hostname(self) -> str | None:
        return self._buffer.server_hostname

    def cipher(self) -> CipherSuite | None:
        return self._buffer.cipher()

    def negotiated_protocol(self) -> NextProtocol | bytes | None:
        return self._buffer.negotiated_protocol()

    @property
    def negotiated_tls_version(self) -> TLSVersion | int | None:
        return self._buffer.negotiated_tls_version

    def getpeercert(self) -> list[bytes] | None:
        """The peer's chain as DER, leaf first (None before the handshake or without one)."""
        return self._buffer.getpeercert()

    def negotiated_group(self) -> NamedGroup | None:
        """The key-exchange group the handshake used (see ``TLSWrappedBuffer.negotiated_group``)."""
        return self._buffer.negotiated_group()

    def signature_scheme(self) -> SignatureScheme | None:
        """See ``TLSWrappedBuffer.signature_scheme``."""
        return self._buffer.signature_scheme()

    def certificate_requested(self) -> bool | None:
        """See ``TLSWrappedBuffer.certificate_requested``."""
        return self._buffer.certificate_requested()

    @property
    def session(self) -> TLSSession | None:
        """See ``TLSWrappedBuffer.session`` (TLS 1.3: after a read)."""
        return self._buffer.session

    @property
    def session_reused(self) -> bool:
        return self._buffer.session_reused

    def outgoing_bytes_buffered(self) -> int:
        """Ciphertext accepted but not yet taken by the socket (non-zero only after a short write)."""
        return self._pending_output()

    # -- TLS operations -----------------------------------------------------------

    def do_handshake(self) -> None:
        """Run the handshake now (otherwise the first recv or send runs it)."""
        self._check_usable()
        deadline = self._deadline()
        self._call("handshake", deadline, self._buffer.do_handshake)
        self._flush("handshake", deadline)

    def recv(self, bufsize: int = 1024, flags: int = 0) -> bytes:
        """Up to ``bufsize`` bytes of application data; ``b""`` after the peer's close_notify."""
        if flags:
            _check_flags(flags, "recv")
        self._check_usable()
        native = self._native
        if native is None:
            data = self._call("read", self._deadline(), self._buffer.read, bufsize)
            self._flush_quietly()
            return data
        data = self._native_read(self._deadline(), bufsize > 0, self._buffer.read, bufsize)
        if native._socket_pending():
            self._flush_quietly()
        return data

    def recv_into(self, buffer: Buffer, nbytes: int = 0, flags: int = 0) -> int:
        """Read into ``buffer`` (at most ``nbytes``, 0 = its size); 0 after close_notify."""
        waiter = self._fast_waiter
        if (
            waiter is not None
            and not (flags or nbytes)
            and self._state is _OK
            and (
                len(buffer)
                if type(buffer) is bytearray
                else buffer.nbytes
                if type(buffer) is memoryview
                else _has_room(buffer)
            )
            and self._buffer._state is _OPEN
            and self._recv_lock.acquire(False)
        ):
            # Every request's path, in as few steps as it takes (_native_read's first
            # branch): the library's waiter (at once when bytes are held or ciphertext
            # is queued), then the read, as the one reader.  Anything else goes the
            # general way, with the same deadline.
            timeout = self._timeout
            deadline = None if timeout is None else _monotonic() + timeout
            tls = self._buffer
            count = -1
            try:
                status = waiter(self._wait_ms, 1)  # the call has only just begun
                if status == _WAIT_READY:
                    try:
                        count = tls.readinto(buffer)
                    except WantReadError:
                        count = -1  # only, say, a session ticket came
                elif status == _WAIT_TIMEOUT and self._wait_ms != _MAX_POLL_MS:
                    raise TimeoutError("The read operation timed out")
            except TLSError as exc:
                self._native_read_failed(exc)
                raise
            finally:
                self._fed += 1  # _release_reading, inline
                self._recv_lock.release()
                if self._readers_waiting:
                    with self._fed_changed:
                        self._fed_changed.notify_all()
            if count < 0:
                count = self._native_call("read", deadline, tls.readinto, buffer, None)
            native = self._native
            if native is not None and native._socket_pending():
                self._flush_quietly()
            return count
        if flags:
            _check_flags(flags, "recv_into")
        if nbytes < 0:
            raise ValueError("negative buffersize in recv_into")
        self._check_usable()
        native = self._native
        if native is None:
            count = self._call(
                "read", self._deadline(), self._buffer.readinto, buffer, nbytes or None
            )
            self._flush_quietly()
            return count
        wanted = nbytes > 0 or _has_room(buffer)
        count = self._native_read(
            self._deadline(), wanted, self._buffer.readinto, buffer, nbytes or None
        )
        if native._socket_pending():
            self._flush_quietly()
        return count

    def send(self, data: Buffer, flags: int = 0) -> int:
        """Send application data; returns how many bytes were accepted (see the engine's docstring)."""
        if flags:
            _check_flags(flags, "send")
        self._check_usable()
        if type(data) is bytes and len(data) <= SEND_CHUNK:
            return self._send(data, self._deadline())  # no view to make
        with memoryview(data) as view:
            return self._send(view.cast("B"), self._deadline())

    def sendall(self, data: Buffer, flags: int = 0) -> None:
        """Send all of ``data``; one deadline for the whole call."""
        native = self._fast_sender
        if (
            native is not None
            and not flags
            and self._state is _OK
            and (
                type(data) is bytes
                # A view of bytes (a slice of a bytearray, say) goes to the buffer as it is.
                or (
                    type(data) is memoryview
                    and data.itemsize == 1
                    and data.ndim == 1
                    and data.c_contiguous
                )
            )
            and 0 < len(data) <= SEND_CHUNK
            and self._buffer._handshake_done
            and not native._socket_pending()
        ):
            # Every request's path (_send's first branch): a write after the handshake
            # reads nothing and takes no lock, and the library sends what the socket
            # takes.  The deadline starts once something must wait (the write never does).
            tls = self._buffer
            try:
                count = tls.write(data)
            except TLSError:
                count = -1  # nothing accepted: the whole way (a failure is raised again)
            if count == len(data) and not native._socket_pending():
                return
            deadline = self._deadline()
            if count < 0:
                count = self._native_call("write", deadline, tls.write, data)
            if native._socket_pending():
                # accepted data is ours to send: _send's rule, a timeout stays quiet
                with contextlib.suppress(WantReadError, WantWriteError, TimeoutError):
                    self._flush("write", deadline)
            while count < len(data):
                count += self._send(data[count:], deadline)
            return
        if flags:
            _check_flags(flags, "sendall")
        self._check_usable()
        deadline = self._deadline()
        if type(data) is bytes and len(data) <= SEND_CHUNK:
            # No view to make (and the slice below, if any, copies little).
            count = self._send(data, deadline)
            while count < len(data):
                count += self._send(data[count:], deadline)
            return
        with memoryview(data) as view, view.cast("B") as octets:
            count = self._send(octets, deadline)
            while count < len(octets):
                count += self._send(octets[count:], deadline)

    def sendfile(self, file: BinaryIO, offset: int = 0, count: int | None = None) -> int:
        """Send a file's contents (read in chunks: TLS cannot use os.sendfile)."""
        if self._timeout == 0.0:
            raise ValueError("non-blocking sockets are not supported")
        if count is not None and count <= 0:
            raise ValueError(f"count must be a positive integer (got {count!r})")
        if offset:
            file.seek(offset)
        total = 0
        try:
            while count is None or total < count:
                size = SEND_CHUNK if count is None else min(SEND_CHUNK, count - total)
                data = file.read(size)
                if not data:
                    break
                self.sendall(data)
                total += len(data)
        finally:
            if total and hasattr(file, "seek"):
                file.seek(offset + total)
        return total

    def shutdown(self, how: int) -> None:
        """Shut down the connection; SHUT_WR and SHUT_RDWR send close_notify first."""
        self._check_usable()
        # No close_notify for a failed session (BROKEN): the buffer would only raise again.
        writes = how in (_socket.SHUT_WR, _socket.SHUT_RDWR)
        if writes and self._state in (_State.OK, _State.CLOSING) and self._established():
            deadline = self._deadline()
            self._call("write", deadline, self._buffer.shutdown)
            self._flush("write", deadline)
        self._socket.shutdown(how)

    def unwrap(self) -> _socket.socket:
        """End TLS (close_notify both ways) and return the plain socket, which stays open."""
        self._check_usable()
        if not self._established():
            raise TLSError("unwrap() needs a finished handshake: there is no TLS session to end")
        deadline = self._deadline()
        self._discard_buffered()
        self._call("shutdown", deadline, self._buffer.shutdown)
        self._flush("shutdown", deadline)
        self._exact_records = True
        try:
            while self._call("shutdown", deadline, self._buffer.read, DISCARD_SIZE):
                pass  # application data after our close_notify: dropped, as SSL_shutdown does
        finally:
            self._exact_records = False
        sock = self._socket
        self._release(_State.UNWRAPPED)
        sock.settimeout(self._timeout)
        return sock

    # -- closing ------------------------------------------------------------------

    def close(self) -> None:
        """Close the socket (no close_notify: see the engine's docstring); makefile() files keep it open."""
        if self._io_refs > 0:
            self._enter(_State.CLOSING)
        else:
            self._release(_State.CLOSED)

    def __enter__(self) -> TLSWrappedSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._state in (_State.CLOSED, _State.UNWRAPPED):
            state = "closed"
        else:
            try:
                state = f"fd={self._socket.fileno()}, peer={self._socket.getpeername()!r}"
            except OSError:
                state = f"fd={self._socket.fileno()}"
        backend = type(self._buffer).__module__
        return f"<tlsapi.TLSWrappedSocket {state}, {backend}>"

    # -- makefile -------------------------------------------------------------------

    @overload
    def makefile(
        self,
        mode: Literal["r", "w", "rw", "wr"] = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.TextIOWrapper: ...
    @overload
    def makefile(
        self,
        mode: Literal["b", "rb", "br", "wb", "bw", "rwb", "rbw", "wrb", "wbr", "brw", "bwr"],
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.BufferedIOBase | io.RawIOBase: ...
    @overload
    def makefile(
        self,
        mode: str,
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.BufferedIOBase | io.RawIOBase | io.TextIOWrapper: ...
    def makefile(
        self,
        mode: str = "r",
        buffering: int | None = None,
        *,
        encoding: str | None = None,
        errors: str | None = None,
        newline: str | None = None,
    ) -> io.BufferedIOBase | io.RawIOBase | io.TextIOWrapper:
        """A file object over the connection, as ``socket.makefile`` (timeouts apply)."""
        if not set(mode) <= {"r", "w", "b"}:
            raise ValueError(f"invalid mode {mode!r} (only r, w, b allowed)")
        writing = "w" in mode
        reading = "r" in mode or not writing
        binary = "b" in mode
        raw_mode = ("r" if reading else "") + ("w" if writing else "")
        # SocketIO only calls recv_into, send, fileno and _decref_socketios.
        raw = _socket.SocketIO(self, raw_mode)  # type: ignore[arg-type]
        self._io_refs += 1
        if buffering is None or buffering < 0:
            buffering = io.DEFAULT_BUFFER_SIZE
        if buffering == 0:
            if not binary:
                raise ValueError("unbuffered streams must be binary")
            return raw
        buffered: io.BufferedIOBase
        if reading and writing:
            buffered = io.BufferedRWPair(raw, raw, buffering)
        elif reading:
            buffered = io.BufferedReader(raw, buffering)
        else:
            buffered = io.BufferedWriter(raw, buffering)
        if binary:
            return buffered
        # typeshed wants a .name on the buffer; socket.makefile passes the same objects.
        text: io.TextIOWrapper = io.TextIOWrapper(buffered, encoding, errors, newline)  # type: ignore[arg-type]
        text.mode = mode  # type: ignore[misc]
        return text

    def _decref_socketios(self) -> None:
        """A makefile() file was closed (called by socket.SocketIO)."""
        if self._io_refs > 0:
            self._io_refs -= 1
        if self._io_refs <= 0 and self._state is _State.CLOSING:
            self._release(_State.CLOSED)


def _has_room(buffer: Buffer) -> bool:
    if type(buffer) is bytearray:
        return len(buffer) > 0
    if type(buffer) is memoryview:
        return buffer.nbytes > 0
    with memoryview(buffer) as view:
        return view.nbytes > 0


def _check_flags(flags: int, method: str) -> None:
    if flags:
        raise ValueError(f"non-zero flags not allowed in calls to {method}() on TLSWrappedSocket")
