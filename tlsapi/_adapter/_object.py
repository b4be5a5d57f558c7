"""SSLObject: ``ssl.SSLObject``'s interface over a tlsapi ``TLSWrappedBuffer``.

asyncio's SSL protocol and trio's SSLStream drive an SSLObject with two
``ssl.MemoryBIO``s: they put what arrived in ``incoming`` and send what
appears in ``outgoing``.  Each call here first moves ``incoming`` into the
buffer, runs the buffer's operation, then moves what the buffer produced
into ``outgoing`` (also when the call raises: an alert must still go out).
Errors are tlsapi's, which are the ``ssl`` module's classes too
(WantReadError is an ``ssl.SSLWantReadError``, CertificateError an
``ssl.SSLCertVerificationError``, RaggedEOF an ``ssl.SSLEOFError``).

``_Connection`` holds what SSLObject and the socket's connection object share:
the questions about the negotiated session, answered as ``ssl`` answers them.
"""

from __future__ import annotations

import functools
import re
import ssl
import weakref
from typing import TYPE_CHECKING, Any

from .._buffer import MAX_READ_SIZE, _State
from .._ciphers import CipherSuite
from .._errors import (
    CertificateError,
    CertificateErrorReason,
    TLSError,
    WantReadError,
    WantWriteError,
)
from .._protocols import NextProtocol
from .._versions import TLSVersion
from ._session import AdapterSession, check_session, offer_session

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from .._buffer import TLSWrappedBuffer
    from ._context import SSLContext

__all__ = ["SSLObject", "connection_of", "read_target"]

_OPEN = _State.OPEN
_DISCARD = 65536

# buffer -> its adapter connection, for the sni_callback (tlsapi calls it with the
# buffer).  The value is a weak reference: the connection holds the buffer, and a
# strong value would keep both alive for ever.
_CONNECTIONS: weakref.WeakKeyDictionary[TLSWrappedBuffer, weakref.ref[_Connection]] = (
    weakref.WeakKeyDictionary()
)

_BITS = re.compile(r"_(?:AES|CAMELLIA|ARIA|SM4)_(\d+)_")


# OpenSSL's X509_V_ERR_* numbers, which ssl.SSLCertVerificationError.verify_code carries.
_VERIFY_CODES = {
    CertificateErrorReason.BAD_SIGNATURE: 7,
    CertificateErrorReason.NOT_YET_VALID: 9,
    CertificateErrorReason.EXPIRED: 10,
    CertificateErrorReason.SELF_SIGNED: 18,
    CertificateErrorReason.UNTRUSTED_ISSUER: 20,
    CertificateErrorReason.REVOKED: 23,
    CertificateErrorReason.BAD_USAGE: 26,
    CertificateErrorReason.HOSTNAME_MISMATCH: 62,
    CertificateErrorReason.WEAK_KEY: 66,
}


def with_verify_code(error: CertificateError) -> None:
    """Give a certificate error the verify_code ssl would (code that branches on it works)."""
    if not error.verify_code:
        error.verify_code = _VERIFY_CODES.get(error.reason, 0)


def connection_of(buffer: TLSWrappedBuffer) -> _Connection | None:
    reference = _CONNECTIONS.get(buffer)
    return None if reference is None else reference()


@functools.lru_cache(maxsize=1)
def _openssl_suites() -> dict[int, tuple[str, str, int]]:
    """IANA number -> ssl's cipher tuple (OpenSSL's name, the suite's protocol, secret bits)."""
    from .._stdlib._ciphers import plain_ssl_context

    context = plain_ssl_context(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return {
        entry["id"] & 0xFFFF: (entry["name"], entry["protocol"], entry["strength_bits"])
        for entry in context.get_ciphers()
    }


def _cipher_tuple(number: int) -> tuple[str, str, int]:
    """A suite as ssl's cipher() and shared_ciphers() give it (OpenSSL's view where it knows it)."""
    known = _openssl_suites().get(number)
    if known is not None:
        return known
    iana = CipherSuite.from_number(number).name
    return (iana, "TLSv1.3" if number >> 8 == 0x13 else "TLSv1.2", _secret_bits(iana))


def _secret_bits(name: str) -> int:
    match = _BITS.search(name)
    if match:
        return int(match.group(1))
    return 256 if "CHACHA20" in name else 0


class _Connection:
    """What an SSLObject and an SSLSocket's connection answer about the session."""

    _buffer: TLSWrappedBuffer
    _context: SSLContext
    _server_side: bool
    _server_hostname: str | None
    _decoded_peer: dict[str, Any] | None

    def _setup(
        self,
        context: SSLContext,
        buffer: TLSWrappedBuffer,
        server_side: bool,
        server_hostname: str | None,
    ) -> None:
        self._context = context
        self._buffer = buffer
        self._server_side = server_side
        self._server_hostname = None if server_side else server_hostname
        self._decoded_peer = None
        self._held = bytearray()  # plaintext pending() decrypted ahead of read()
        # The handshake may have begun (a session can no longer be offered).
        self._begun = False
        # The sessions this connection gives out belong to the context that made it.
        self._session_token = context._session_token
        _CONNECTIONS[buffer] = weakref.ref(self)

    def ssl_owner(self) -> Any:
        """What ssl's sni_callback receives as its first argument."""
        return self

    # The context may be replaced, as in ssl, from an sni_callback.
    @property
    def context(self) -> SSLContext:
        return self._context

    @context.setter
    def context(self, ctx: SSLContext) -> None:
        from ._context import SSLContext

        if not isinstance(ctx, SSLContext):
            raise TypeError(
                "the context of a tlsapi connection must be a tlsapi.SSLContext, "
                f"not {type(ctx).__module__}.{type(ctx).__qualname__}"
            )
        self._context = ctx

    @property
    def server_side(self) -> bool:
        return self._server_side

    @property
    def server_hostname(self) -> str | None:
        return self._server_hostname

    @property
    def session(self) -> AdapterSession | None:
        """Client side: this connection's session, to resume on a later one (see _session).

        None on a server, before the handshake, where the backend resumes no
        sessions, and (TLS 1.3) until a read has processed the server's tickets.
        """
        if self._server_side:
            return None
        session = self._buffer.session
        return None if session is None else AdapterSession(session, self._session_token)

    @session.setter
    def session(self, session: AdapterSession) -> None:
        offered = check_session(session, self._session_token, self._server_side)
        if self._buffer._handshake_done:
            raise ValueError("Cannot set session after handshake.")
        if self._begun:
            raise ValueError(
                "Cannot set session after the handshake began: set it before do_handshake(), "
                "read() or write()"
            )
        offer_session(self._buffer, offered)

    @property
    def session_reused(self) -> bool:
        return self._buffer.session_reused

    def _established(self) -> bool:
        return self._buffer.negotiated_tls_version is not None

    def _verifies_peer(self) -> bool:
        return self._context.verify_mode != ssl.CERT_NONE

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The peer's certificate: DER, or ssl's dict (``{}`` when it was not verified)."""
        if not self._established():
            raise ValueError("handshake not done yet")
        chain = self._buffer.getpeercert()
        if not chain:
            return None
        if binary_form:
            return chain[0]
        if not self._verifies_peer():
            return {}
        if self._decoded_peer is None:
            from ._certdict import decode_certificate

            self._decoded_peer = decode_certificate(chain[0])
        return self._decoded_peer

    def get_unverified_chain(self) -> list[bytes]:
        """The chain the peer sent, DER, leaf first (Python 3.13's name)."""
        if not self._established():
            return []
        return list(self._buffer.getpeercert() or ())

    def get_verified_chain(self) -> list[bytes]:
        """The chain the verifier built, DER, leaf to trust anchor (Python 3.13's sense).

        [] when the peer was not verified.  See _chain for how each backend's is found.
        """
        if not self._verifies_peer() or not self._established():
            return []
        from ._chain import verified_chain

        trust = self._context._tls_context(self._server_side).configuration.trust_store
        return verified_chain(self._buffer, trust)

    def selected_alpn_protocol(self) -> str | None:
        protocol = self._buffer.negotiated_protocol()
        if protocol is None:
            return None
        raw = protocol.value if isinstance(protocol, NextProtocol) else protocol
        return raw.decode("ascii", "replace")

    def selected_npn_protocol(self) -> None:
        return None

    def version(self) -> str | None:
        version = self._buffer.negotiated_tls_version
        if version is None:
            return None
        return version.value if isinstance(version, TLSVersion) else f"0x{version:04X}"

    def cipher(self) -> tuple[str, str, int] | None:
        """(name, protocol, secret bits) as ssl gives them: the protocol is the suite's own."""
        suite = self._buffer.cipher()
        return None if suite is None else _cipher_tuple(int(suite))

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        """On a server, the suites the client offered that this server enables, in its order.

        As ssl gives them (OpenSSL's list, whatever version was negotiated).  None
        on a client, before the handshake, where the backend cannot tell what
        the client offered, and where it cannot tell which suites it enables
        (an empty ``supported_ciphers``: SChannel follows the system's suite
        list, which it does not publish; the configured list would name suites
        it may never negotiate).
        """
        if not self._server_side or not self._established():
            return None
        buffer = self._buffer
        from .._stdlib._buffer import StdlibBuffer

        if isinstance(buffer, StdlibBuffer):
            with buffer._exclusive():
                return buffer._ssl.shared_ciphers()
        offered_of = getattr(buffer, "offered_cipher_suites", None)
        offered = None if offered_of is None else offered_of()
        if offered is None:
            return None
        supported = set(self._context.backend.supported_ciphers)
        if not supported:
            return None
        configured = self._context._tls_context(True).configuration.ciphers
        offer = set(offered)
        return [
            _cipher_tuple(number)
            for number in (int(suite) for suite in configured)
            if number in offer and number in supported
        ]

    def compression(self) -> None:
        return None

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        """tls-unique as ssl gives it where the backend can tell it (see _channel_binding)."""
        if cb_type not in ssl.CHANNEL_BINDING_TYPES:
            raise ValueError(f"{cb_type} channel binding type not implemented")
        if not self._established():
            return None
        return _channel_binding(self._buffer, cb_type)

    def verify_client_post_handshake(self) -> None:
        raise TLSError(
            "verify_client_post_handshake: no tlsapi backend offers TLS 1.3 post-handshake "
            "authentication; require the client certificate in the handshake instead"
        )

    def _take_held(self, amt: int) -> bytes:
        data = bytes(self._held[:amt])
        del self._held[:amt]
        return data

    def _held_into(self, view: memoryview, amt: int) -> int:
        data = self._take_held(amt)
        view[: data.__len__()] = data
        return data.__len__()

    def _fill_held(self) -> int:
        """Decrypt what is already there (no I/O), for pending(); ssl's pending never raises."""
        if self._established():
            try:  # noqa: SIM105 (contextlib.suppress costs more than a small read)
                self._held += self._buffer.read(_DISCARD)
            except (TLSError, ValueError):
                pass  # the error comes again from the next read
        return len(self._held)


def _channel_binding(buffer: TLSWrappedBuffer, cb_type: str) -> bytes | None:
    """What ssl's get_channel_binding gives: the verify_data of the first Finished.

    That is the client's Finished in a full handshake, under TLS 1.3 too (where
    RFC 8446 leaves tls-unique undefined but OpenSSL, and so ssl, still give
    it).  The stdlib backend asks its ssl object; a native backend offers
    ``get_channel_binding`` where its library can tell (GnuTLS can; NSS has no
    public call for it); otherwise None, as ssl answers when it has none.
    """
    from .._stdlib._buffer import StdlibBuffer

    if isinstance(buffer, StdlibBuffer):
        with buffer._exclusive():
            return buffer._ssl.get_channel_binding(cb_type)
    getter = getattr(buffer, "get_channel_binding", None)
    if getter is None:
        return None
    value = getter(cb_type)
    return value if isinstance(value, bytes) else None


def read_target(buffer: Any, amt: int) -> tuple[memoryview, int]:
    """ssl's read(len, buffer): the buffer as bytes, and how much of it to fill."""
    view = memoryview(buffer).cast("B")
    return view, amt if 0 < amt <= view.nbytes else view.nbytes


class SSLObject(_Connection, ssl.SSLObject):  # type: ignore[misc]
    """``ssl.SSLObject`` over a tlsapi buffer; made by ``tlsapi.SSLContext.wrap_bio``."""

    # ssl.SSLObject has no public constructor; neither has this one.
    def __init__(  # noqa: PLR0917
        self,
        context: SSLContext,
        buffer: TLSWrappedBuffer,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool,
        server_hostname: str | None,
    ) -> None:
        self._setup(context, buffer, server_side, server_hostname)
        self._incoming = incoming
        self._outgoing = outgoing
        self._eof_given = False
        self._unwrapping = False
        # The last read took less than it asked for, with the state OPEN and no
        # ciphertext left in the buffer: until more arrives, the next read can only
        # be "want read" (asyncio and trio read until they get it, every time).
        self._drained = False
        # The per-record calls, bound once (each lookup costs as much as a small step).
        self._receive = buffer.receive_from_network
        self._send = outgoing.write

    # -- moving bytes --------------------------------------------------------------

    def _feed(self) -> None:
        incoming = self._incoming
        if incoming.pending:
            self._drained = False
            self._buffer.receive_from_network(incoming.read())
        if incoming.eof and not self._eof_given:
            self._eof_given = True
            self._buffer.receive_from_network(b"")

    def _flush(self) -> None:
        data = self._buffer._take_outgoing()  # peek + consume in one locked call
        if data:
            self._outgoing.write(data)

    # -- TLS operations ------------------------------------------------------------

    def do_handshake(self) -> None:
        self._begun = True
        self._feed()
        try:
            self._buffer.do_handshake()
        except CertificateError as error:
            with_verify_code(error)
            raise
        finally:
            self._flush()

    # read and write are asyncio's and trio's per-record calls: each moves what
    # arrived in, runs the operation and moves the output out in one call to the
    # buffer (_bio_read, _bio_write) where it can.

    def read(self, len: int = 1024, buffer: Any = None) -> Any:
        """Up to ``len`` bytes (into ``buffer`` when given: returns the count); b"" after close_notify."""
        self._begun = True
        if buffer is not None:
            view, len = read_target(buffer, len)
            if self._held:
                return self._held_into(view, len)
        elif len < 0:
            raise ValueError("size should not be negative")
        elif self._held:
            return self._take_held(len)
        incoming = self._incoming
        if incoming.pending:
            self._drained = False
            received = incoming.read()
        elif self._drained and not incoming.eof:
            raise WantReadError("more TLS records from the peer are needed")
        else:
            received = b""
        tls = self._buffer
        if buffer is None and len and not incoming.eof:
            try:
                data, output = tls._bio_read(received, len)
            except BaseException:
                self._flush()  # an alert
                raise
            if output:  # a TLS 1.3 KeyUpdate answer
                self._send(output)
            # read() hands out at most MAX_READ_SIZE: a full one may have left plaintext.
            self._drained = (
                0 < data.__len__() < (len if len < MAX_READ_SIZE else MAX_READ_SIZE)
                and tls._state is _OPEN
                and not tls._incoming_size()
            )
            return data
        # Into a buffer, a zero-length read, or the end of file to pass on.
        if received:
            self._receive(received)
        if incoming.eof and not self._eof_given:
            self._eof_given = True
            self._receive(b"")
        try:
            if buffer is not None:
                count = tls.readinto(view, len)
                self._drained = 0 < count < len and tls._state is _OPEN and not tls._incoming_size()
                return count
            return tls.read(len)
        finally:
            self._flush()

    # Drained (above): the read fell short, the connection is open (no stop held
    # behind the data) and no ciphertext is left.  Every backend then decrypted all
    # the whole records it had, so the library holds no plaintext either.  The
    # ciphertext count is read unlocked: an SSLObject is driven by one thread at a
    # time, as ssl's is, and reading one integer changes no C state.

    def write(self, data: Buffer) -> int:
        tls = self._buffer
        if tls._state is not _OPEN:
            self._begun = True
            self._feed()  # the implicit handshake may need what arrived
        chunk = data if type(data) is bytes else memoryview(data).cast("B")
        total = chunk.__len__()
        count = 0
        while True:
            try:
                # The common case: the backend takes it all in one call.
                taken, output = tls._bio_write(chunk[count:] if count else chunk)
            except WantWriteError:  # a bounded backend: its output goes to the BIO, then on
                taken, output = 0, tls._take_outgoing()
            except BaseException:
                self._flush()  # an alert
                raise
            if output:
                self._send(output)
            count += taken
            if count >= total:
                return total

    def pending(self) -> int:
        incoming = self._incoming
        if self._drained and not incoming.pending and not incoming.eof:
            return len(self._held)  # nothing more can be decrypted until bytes arrive
        self._feed()
        try:
            return self._fill_held()
        finally:
            self._flush()

    def unwrap(self) -> None:
        """Send close_notify, then wait (SSLWantReadError) for the peer's."""
        if not self._established():
            raise TLSError("unwrap() before the handshake finished: there is no TLS session")
        self._feed()
        try:
            if not self._unwrapping:
                self._buffer.shutdown()
                self._unwrapping = True
            self._held.clear()
            while self._buffer.read(_DISCARD):
                pass  # data after our close_notify is dropped, as SSL_shutdown does
        except WantReadError:
            raise
        finally:
            self._flush()

    def __repr__(self) -> str:
        side = "server" if self._server_side else "client"
        return f"<tlsapi.SSLObject {side}, backend {self._context.backend.name}>"
