"""StdlibBuffer: TLSWrappedBuffer over ssl.SSLObject and two MemoryBIOs.

Incoming bytes go into the input MemoryBIO, and OpenSSL's output is taken
from the output MemoryBIO as one bytes object into the base class's
``_outgoing`` queue when the caller asks for it.

A MemoryBIO never gives back memory: its buffer stays as large as the most
it ever held.  So that an idle connection keeps no large buffer, neither BIO
is given more than about ``_BIO_LIMIT`` bytes at once: received bytes beyond
that wait in the base class's ``_incoming`` queue (no copy for ``bytes``)
and go in when OpenSSL wants more (``_top_up``), and a large write is
encrypted a piece at a time, each piece's records taken out of the output
BIO before the next.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._buffer import TLSWrappedBuffer
from .._errors import ConfigurationError, TLSError
from .._hostname import ServerName
from .._policy import check_peer_chain
from ._ciphers import suite_number
from ._errors import translate

if TYPE_CHECKING:
    from .._context import ClientContext, ServerContext

__all__ = ["StdlibBuffer"]

_WIRE_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


# SSLObject's read(len, buffer) returns a count (typeshed says bytes); made once
# here because subscripting Callable on every call costs half a microsecond.
_ReadInto = Callable[[int, Any], int]
# A plaintext TLS record: alert, TLS 1.2 record version, fatal, bad_certificate (42).
_BAD_CERTIFICATE_ALERT = bytes((21, 3, 3, 0, 2, 2, 42))
# The most the input MemoryBIO is given at once (see the module docstring), and
# the plaintext encrypted per piece of a large write (the output BIO then holds
# about that much).  Measured: larger pieces gain little bulk speed and an idle
# pair of connections then keeps over 256 KiB (tests: TestMemory).
_BIO_LIMIT = 1 << 15
_RECORD_SIZE = 16384 + 256 + 5  # the largest TLS record, header included
_WRITE_PIECE = 1 << 16


class StdlibBuffer(TLSWrappedBuffer):
    def __init__(
        self,
        context: ClientContext | ServerContext,
        ssl_context: ssl.SSLContext,
        server_name: ServerName | None,
        server_side: bool,
    ) -> None:
        super().__init__(context, server_name.name if server_name else None)
        self._in_bio = ssl.MemoryBIO()
        self._out_bio = ssl.MemoryBIO()
        # The transport's EOF, waiting behind received bytes not yet in _in_bio.
        self._eof_after_backlog = False
        self._callback_error: BaseException | None = None
        # Plaintext OpenSSL had decrypted but we had not read when shutdown()
        # ran; served before anything else (see _shutdown).
        self._held_plaintext = b""
        self._ssl = ssl_context.wrap_bio(
            self._in_bio,
            self._out_bio,
            server_side=server_side,
            server_hostname=server_name.name if server_name else None,
        )
        # The context's TaggedSSLObject: its SNI callback finds this buffer here.
        self._ssl.tlsapi_buffer = self  # type: ignore[attr-defined]

    def _failed(self, exc: ssl.SSLError) -> TLSError:
        """The one error path: an ssl exception (or a callback's) as a TLSError."""
        callback_error, self._callback_error = self._callback_error, None
        if callback_error is not None and not isinstance(callback_error, Exception):
            raise callback_error  # KeyboardInterrupt and friends stay themselves
        if callback_error is not None:
            error = TLSError(f"the handshake was aborted: sni_callback raised {callback_error!r}")
            error.__cause__ = callback_error
            return error
        error = translate(exc)
        error.__cause__ = exc
        return error

    # -- network side --------------------------------------------------------

    def _receive(self, data: bytes | memoryview) -> None:
        if not self._incoming.size:
            room = _BIO_LIMIT - self._in_bio.pending
            if len(data) <= room:
                self._in_bio.write(data)
                return
            if room > 0:  # what fits goes in now, the rest waits (copied: see append)
                with memoryview(data) as view:
                    self._in_bio.write(view[:room])
                    data = bytes(view[room:])
        self._incoming.append(data)  # copies a memoryview: its owner may reuse the memory
        if self._in_bio.pending < _BIO_LIMIT:
            self._top_up()

    def _receive_eof(self) -> None:
        if self._incoming.size:
            self._eof_after_backlog = True
        else:
            self._in_bio.write_eof()

    def _top_up(self) -> bool:
        """Move queued bytes into _in_bio up to _BIO_LIMIT; True if anything moved."""
        incoming, in_bio = self._incoming, self._in_bio
        room = _BIO_LIMIT - in_bio.pending
        moved = False
        while incoming.size and room > 0:
            piece = incoming.peek_view(room)  # a view of a queued chunk: no copy here
            in_bio.write(piece)
            incoming.consume(len(piece))
            room -= len(piece)
            moved = True
        if not incoming.size and self._eof_after_backlog:
            self._eof_after_backlog = False
            self._in_bio.write_eof()
        return moved

    def _library_output(self) -> bytes:
        return self._out_bio.read()  # b"" when empty: one C call either way

    def _flush_library_output(self) -> None:
        if self._out_bio.pending:
            self._outgoing.append(self._out_bio.read())

    def _incoming_size(self) -> int:
        return self._in_bio.pending + self._incoming.size

    # -- TLS -------------------------------------------------------------------

    def _handshake(self) -> None:
        already_out = self._out_bio.pending  # earlier flights, not yet taken
        while True:
            try:
                self._ssl.do_handshake()
                break
            except ssl.SSLWantReadError as exc:
                if not self._top_up():
                    raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
            except ssl.SSLError as exc:
                raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
        if self._ssl.context.verify_mode == ssl.CERT_NONE:
            return
        # tlsapi's verification policy (tlsapi._policy) after OpenSSL's own:
        # security level 2 passes P-224 keys and a signing leaf whose keyUsage
        # lacks digitalSignature.  Before Python 3.13 only the leaf can be seen.
        verified = getattr(self._ssl, "get_verified_chain", None)
        if verified is not None:
            der = getattr(ssl, "ENCODING_DER", 1)
            chain = [cert.public_bytes(der) for cert in verified()]
        else:
            leaf = self._ssl.getpeercert(binary_form=True)
            chain = [leaf] if leaf else []
        whose = "client's" if self._ssl.server_side else "server's"
        error = check_peer_chain(chain, whose, verified=verified is not None)
        if error is None:
            return
        # OpenSSL has finished, and the ssl module cannot send an alert now.
        # Our last flight is withheld; where the peer still waits for it (the
        # Finished of a TLS 1.3 client or a TLS 1.2 server) a plaintext fatal
        # bad_certificate alert goes instead, which the peer may still read.
        # Otherwise the peer sees the transport end without close_notify.
        last_flight = self._out_bio.read()
        self._out_bio.write(last_flight[:already_out])
        if (self._ssl.version() == "TLSv1.3") != self._ssl.server_side:
            self._out_bio.write(_BAD_CERTIFICATE_ALERT)
        raise error

    def _read(self, amt: int) -> bytes:
        if self._held_plaintext:
            data, self._held_plaintext = (
                self._held_plaintext[:amt],
                self._held_plaintext[amt:],
            )
            return data
        while True:
            try:
                return self._ssl.read(amt)
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLWantReadError as exc:
                if not self._top_up():
                    raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
            except ssl.SSLError as exc:
                raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)

    def _readinto(self, target: bytearray | memoryview) -> int:
        if self._held_plaintext:
            data = self._read(len(target))
            target[: len(data)] = data
            return len(data)
        # The C object under ssl.SSLObject, whose read() is a Python method that only
        # forwards to it: one Python call fewer per record (typing.cast was one more).
        read: _ReadInto = self._ssl._sslobj.read  # type: ignore[attr-defined]
        size = len(target)
        while True:
            try:
                count = read(size, target)
                break
            except ssl.SSLZeroReturnError:
                return 0
            except ssl.SSLWantReadError as exc:
                if not self._top_up():
                    raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
            except ssl.SSLError as exc:
                raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
        if count == size or not (self._in_bio.pending or self._incoming.size):
            return count
        # SSL_read returns one record per call: take the whole records that are
        # already here, so that a large readinto crosses the layers above once.
        # What ends the loop after data is held by the core for the next call.
        incoming, in_bio = self._incoming, self._in_bio
        with memoryview(target) as view:
            while count < size:
                if incoming.size and in_bio.pending < _RECORD_SIZE:
                    self._top_up()  # before OpenSSL runs dry: no exception per top-up
                try:
                    got = read(size - count, view[count:])
                except ssl.SSLWantReadError:
                    if self._top_up():
                        continue
                    break
                except ssl.SSLZeroReturnError:
                    self._stop_after_data(None)
                    break
                except ssl.SSLError as exc:
                    self._stop_after_data(self._failed(exc))
                    break
                if not got:  # OpenSSL answers close_notify with 0, not always an exception
                    self._stop_after_data(None)
                    break
                count += got
        return count

    def _write(self, data: bytes | bytearray | memoryview) -> int:
        if len(data) <= _WRITE_PIECE:
            try:
                written: int = self._ssl._sslobj.write(data)  # type: ignore[attr-defined]  # as in _readinto
                return written
            except ssl.SSLError as exc:
                raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
        # A piece at a time, each piece's records taken out of the BIO at once.
        written = 0
        try:
            with memoryview(data) as view:
                for start in range(0, len(view), _WRITE_PIECE):
                    written += self._ssl.write(view[start : start + _WRITE_PIECE])
                    self._flush_library_output()
        except ssl.SSLError as exc:
            if not written:
                raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
            # What was taken is reported; OpenSSL raises the error again next time.
        return written

    def _shutdown(self) -> None:
        # SSLObject.unwrap() calls SSL_shutdown twice: the first sends our
        # close_notify, the second reads on, looking for the peer's, and
        # treats application data it meets as a fatal protocol error.  A
        # half-close must leave that data readable, so before unwrapping take
        # out both the plaintext OpenSSL holds and the unread network bytes,
        # and give them back afterwards.
        held_network = b"" if self._in_bio_closed() else self._in_bio.read()
        held_plaintext = []
        try:
            while self._ssl.pending():
                held_plaintext.append(self._ssl.read(self._ssl.pending()))
            self._ssl.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            pass  # our close_notify is out; the peer's may come later
        except ssl.SSLError as exc:
            raise self._failed(exc)  # noqa: B904 (_failed sets __cause__)
        finally:
            self._held_plaintext += b"".join(held_plaintext)
            if held_network:
                self._in_bio.write(held_network)

    def _in_bio_closed(self) -> bool:
        """True once write_eof() went into _in_bio (nothing can be written back)."""
        return self._transport_eof and not self._eof_after_backlog

    # -- session resumption ------------------------------------------------------

    def _offer_session(self, state: object) -> None:
        # The core hands back only what _session_state gave on this context,
        # so OpenSSL's own check (same SSL_CTX) cannot fail; kept as a guard.
        if not isinstance(state, ssl.SSLSession):
            raise ConfigurationError(
                f"the stdlib backend resumes an ssl.SSLSession, not {type(state).__name__}"
            )
        try:
            self._ssl.session = state
        except ValueError as exc:
            raise ConfigurationError(f"OpenSSL cannot offer this session: {exc}") from None

    def _session_state(self) -> ssl.SSLSession | None:
        # OpenSSL replaces the client's session with a new one for each TLS 1.3
        # ticket read after the handshake; before any arrives the session is
        # not resumable.  TLS 1.2 resumes by ticket or by session ID.
        session = self._ssl.session
        if session is None:
            return None
        if session.has_ticket or (self._ssl.version() != "TLSv1.3" and session.id):
            return session
        return None

    def _session_reused(self) -> bool:
        return self._ssl.session_reused

    # -- negotiated values ------------------------------------------------------

    def _cipher_number(self) -> int | None:
        cipher = self._ssl.cipher()
        return None if cipher is None else suite_number(cipher[0])

    def _negotiated_protocol(self) -> bytes | None:
        selected = self._ssl.selected_alpn_protocol()
        return selected.encode("ascii") if selected else None

    def _tls_version_number(self) -> int | None:
        version = self._ssl.version()
        return None if version is None else _WIRE_VERSIONS.get(version)

    def _peer_chain(self) -> list[bytes] | None:
        chain_getter = getattr(self._ssl, "get_unverified_chain", None)
        if chain_getter is not None:  # Python 3.13+
            chain = chain_getter()
            if chain:
                der = getattr(ssl, "ENCODING_DER", 1)  # _ssl.ENCODING_DER
                return [cert.public_bytes(der) for cert in chain]
            return None
        leaf = self._ssl.getpeercert(binary_form=True)
        return [leaf] if leaf else None
