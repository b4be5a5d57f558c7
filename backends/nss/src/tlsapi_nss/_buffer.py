"""NSSBuffer: TLSWrappedBuffer over an NSS socket whose bottom layer is our memory I/O.

The socket stack is NSS's TLS layer over the memio layer (``build_ffi/nss/
memio.c``), whose state (``self._memio``) holds the ciphertext both ways in
C, so NSS's recv/send calls (two recvs per record: header, then body) never
come back into Python.  Per buffer operation, one cffi call and one copy:

- ``receive_from_network``: ``tlsapi_nss_memio_feed`` queues the chunk by
  pointer (no copy for ``bytes``; ``_chunks`` keeps it alive while NSS may
  still read it), and NSS's recv copies from it into its record buffer;
- ``peek_outgoing``/``outgoing_bytes_buffered``: ``_library_output``
  takes everything NSS sent as one ``bytes`` (``ffi.unpack`` of the C
  buffer) and ``tlsapi_nss_memio_taken`` empties it;
- read/readinto/write: ``tlsapi_nss_read``/``tlsapi_nss_write`` return the count
  or the NSPR error code; a read takes every queued record that fits.

Would-block: the memio recv answers PR_WOULD_BLOCK_ERROR when nothing is
queued, NSS returns it, and it becomes WantReadError.  End of file:
``_receive_eof`` sets the state's ``eof``; recv then answers 0 once the
queue is empty and notes ``eof_delivered``.  NSS returns 0 after a
close_notify without asking recv again, so ``eof_delivered`` tells a ragged
EOF from a clean close.  A read that meets 0 or an error after it has data
returns the data and notes the stop (``stopped``, ``stop_code``); ``_report_stop``
reports it to the core (``_stop_after_data``), which makes it the next read's
result, as for every backend.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from tlsapi import RaggedEOF, TLSError, TLSWrappedBuffer, WantReadError
from tlsapi.backend_api import (
    ClientHello,
    HelloDecodeError,
    HelloReader,
    MalformedHello,
    ServerName,
)

from ._errors import error_name, error_text, translate
from ._groups import negotiated_group
from ._lib import ffi, lib
from ._runtime import RUNTIME

if TYPE_CHECKING:
    from tlsapi import ClientContext, ServerContext, TLSConfiguration

    from ._profile import Profile

__all__ = ["NSSBuffer"]

# CPython hands a bytes object to a char * argument as a pointer to its data, which stays
# where it is for the object's lifetime (``_chunks`` keeps it alive); where objects may
# move (PyPy), ffi.from_buffer pins the chunk for as long as its cdata lives.
_BYTES_STAY_PUT = sys.implementation.name == "cpython"
# What one read() decrypts at most: four full records.
_MAX_READ = 65536
_MAX_WRITE = 1 << 30
# read() decrypts into this and copies out at once: one per thread, not per connection.
_SCRATCH = threading.local()
# The hot path's C functions, looked up once (an attribute of lib or ffi costs a lookup
# per call; a module global is cached by the interpreter).
_feed = lib.tlsapi_nss_memio_feed
_taken = lib.tlsapi_nss_memio_taken
_tls_read = lib.tlsapi_nss_read
_tls_write = lib.tlsapi_nss_write
_from_buffer = ffi.from_buffer
_unpack = ffi.unpack
_HANDSHAKE_FAILURE_ALERT = bytes((21, 3, 1, 0, 2, 2, 40))
_DECODE_ERROR_ALERT = bytes((21, 3, 1, 0, 2, 2, 50))
# Finite-field Diffie-Hellman below this is refused (as OpenSSL's default level 2 does);
# NSS's own floor is a process-wide policy of 1023 bits.
_MIN_DH_BITS = 2048


class NSSBuffer(TLSWrappedBuffer):
    def __init__(
        self,
        context: ClientContext | ServerContext,
        profile: Profile,
        server_name: ServerName | None,
        profile_for: Callable[[TLSConfiguration], Profile] | None = None,
    ) -> None:
        super().__init__(context, server_name.name if server_name else None)
        self._profile = profile
        # The server context's profile for a configuration an sni_callback returns:
        # passed in, so that this module need not import the context's.
        self._profile_for = profile_for
        self._server_name = server_name
        self._server_side = profile.server_side
        # The handle holds a weak reference: no cycle buffer -> handle -> buffer.
        self._handle = ffi.new_handle(weakref.ref(self))
        self._fd: Any = None
        # The ciphertext both ways, in C; freed when the buffer and the socket are both gone.
        state = lib.tlsapi_nss_memio_state_new()
        if state == ffi.NULL:
            raise MemoryError("no memory for a TLS connection's buffers")
        self._memio = ffi.gc(state, lib.tlsapi_nss_memio_state_release)
        # The received chunks C points into (oldest first), kept alive until used up.
        self._chunks: deque[Any] = deque()
        self._callback_error: BaseException | None = None
        self._verify_error: TLSError | None = None
        self._verified_chain: list[bytes] = []
        self._cipher: int | None = None
        self._version: int | None = None
        self._sni_failure: TLSError | None = None
        # A server reads the ClientHello as it arrives: before NSS does when it must see
        # it first (profile.reads_hello), and always for the suites the client offered,
        # which NSS does not report.
        self._hello_reader = (
            HelloReader(extensions=profile.reads_hello) if profile.server_side else None
        )
        self._client_hello: ClientHello | None = None
        if not profile.reads_hello:
            self._open(profile, profile.model)

    # -- the NSS socket ------------------------------------------------------------

    def _open(self, profile: Profile, model: Any) -> None:
        stub = lib.tlsapi_nss_memio_new(self._memio)
        if stub == ffi.NULL:
            raise TLSError(f"NSPR cannot make an I/O layer: {error_text(lib.PR_GetError())}")
        raw = lib.SSL_ImportFD(model, stub)
        if raw == ffi.NULL:
            code = lib.PR_GetError()
            lib.PR_Close(stub)
            raise TLSError(f"NSS cannot make a TLS socket: {error_text(code)}")
        fd = RUNTIME.owned(raw, lib.tlsapi_nss_memio_close)
        handle = self._handle
        ok = lib.SSL_AuthCertificateHook(fd, lib.tlsapi_nss_auth_certificate_cb, handle) == 0
        if self._server_side:
            ok &= lib.SSL_SNISocketConfigHook(fd, lib.tlsapi_nss_sni_config_cb, handle) == 0
        else:
            if self._server_name is not None:
                ok &= lib.SSL_SetURL(fd, self._server_name.name.encode("ascii")) == 0
            if profile.key is not None:
                ok &= (
                    lib.SSL_GetClientAuthDataHook(fd, lib.tlsapi_nss_client_auth_data_cb, handle)
                    == 0
                )
        ok &= lib.SSL_ResetHandshake(fd, self._server_side) == 0
        if not ok:
            raise TLSError(f"NSS cannot set up the connection: {error_text(lib.PR_GetError())}")
        self._profile = profile
        self._fd = fd

    def _open_for_client_hello(self) -> None:
        """A server that reads the ClientHello first: the sni_callback, and ALPN overlap."""
        if self._sni_failure is not None:
            raise self._sni_failure
        reader = self._hello_reader
        assert reader is not None, "only a server that reads the hello opens its socket late"
        try:
            hello = reader.result()
        except HelloDecodeError as exc:
            # What NSS answers a hello it cannot decode: a fatal decode_error, in the clear.
            self._refuse_hello(TLSError(f"the client's hello is malformed: {exc}"), exc)
        except MalformedHello:
            self._open(self._profile, self._profile.model)  # NSS says what is wrong with it
            self._hello_reader = None
            return
        if hello is None:
            if self._transport_eof:
                raise RaggedEOF("the peer closed the connection during the handshake")
            raise WantReadError("more data from the peer is needed")
        self._server_hostname = hello.server_name
        self._client_hello = hello
        profile = self._profile
        callback = profile.config.sni_callback
        if callback is not None:
            try:
                chosen = self._run_callback(callback, self, hello.server_name, profile.config)
                if chosen is not None:
                    assert self._profile_for is not None
                    profile = self._profile_for(chosen)
            except Exception as exc:
                error = TLSError(f"the handshake was aborted: sni_callback raised {exc!r}")
                # What NSS would send: a fatal handshake_failure alert, in the clear.
                self._refuse_hello(error, exc, _HANDSHAKE_FAILURE_ALERT)
        model = profile.model
        if hello.alpn is not None and profile.alpn and profile.alpn.isdisjoint(hello.alpn):
            model = profile.model_without_alpn()
        self._open(profile, model)
        self._hello_reader = None

    def _refuse_hello(
        self, error: TLSError, cause: BaseException, alert: bytes = _DECODE_ERROR_ALERT
    ) -> NoReturn:
        """Fail the connection before NSS has seen it, answering the client with ``alert``."""
        error.__cause__ = cause
        self._sni_failure = error
        self._hello_reader = None
        self._outgoing.append(alert)
        raise error

    def _failure(self, code: int, during: str) -> TLSError:
        """The one error path: what went wrong, with a callback's exception chained."""
        if self._callback_error is not None:
            if not isinstance(self._callback_error, Exception):
                raise self._callback_error  # KeyboardInterrupt and friends stay themselves
            error = TLSError(
                f"the {during} was aborted: a callback raised {self._callback_error!r}"
            )
            error.__cause__ = self._callback_error
        elif self._verify_error is not None:
            error = self._verify_error
        else:
            error = translate(code, during)
        return error

    # -- the network side -------------------------------------------------------------

    def _receive(self, data: bytes | memoryview) -> None:
        # A memoryview is copied: the caller may reuse its memory once we return.
        received = data if type(data) is bytes else bytes(data)
        chunk: Any = received
        if not _BYTES_STAY_PUT:
            chunk = _from_buffer(chunk)
        live = _feed(self._memio, chunk, len(chunk))
        chunks = self._chunks
        if len(chunks) > live:
            # NSS has read all but the newest ``live`` chunks: let go of the others.
            if live == 0:
                chunks.clear()
            elif live > 0:
                for _ in range(len(chunks) - live):
                    chunks.popleft()
            else:
                raise MemoryError("no memory to queue the bytes received")
        chunks.append(chunk)
        reader = self._hello_reader
        if reader is not None:
            reader.feed(received)  # each byte looked at once, as it arrives
            if self._fd is not None:  # NSS reads the hello itself: we only keep the offer
                self._keep_offer(reader)

    def _keep_offer(self, reader: HelloReader) -> None:
        try:
            hello = reader.result()
        except MalformedHello:
            hello = None  # NSS judges the hello; the offer stays unknown
        else:
            if hello is None:
                return  # not whole yet
        self._client_hello = hello
        self._hello_reader = None

    def verified_chain(self) -> list[bytes]:
        """The path NSS's verifier built for the peer, DER, leaf to trust anchor ([] if none)."""
        return list(self._verified_chain)

    def offered_cipher_suites(self) -> tuple[int, ...] | None:
        """The cipher suites in the client's hello (a server, once it was read), else None."""
        hello = self._client_hello
        return None if hello is None else hello.cipher_suites

    def _receive_eof(self) -> None:
        self._memio.eof = 1

    def _incoming_size(self) -> int:
        return int(self._memio.in_size)

    def _library_output(self) -> bytes:
        state = self._memio
        size = state.out_len
        if not size:
            return b""
        data: bytes = _unpack(state.out, size)
        _taken(state)
        return data

    # -- TLS -------------------------------------------------------------------------

    def _handshake(self) -> None:
        if self._fd is None:
            self._open_for_client_hello()
        code = lib.tlsapi_nss_handshake(self._fd)
        if code:
            raise self._failure(code, "handshake")
        info = ffi.new("SSLChannelInfo *")
        if lib.SSL_GetChannelInfo(self._fd, info, ffi.sizeof("SSLChannelInfo")) != 0:
            raise TLSError(f"NSS cannot describe the connection: {error_text(lib.PR_GetError())}")
        if info.keaType == lib.ssl_kea_dh and info.keaKeyBits < _MIN_DH_BITS:
            raise TLSError(
                f"the peer's Diffie-Hellman group has {info.keaKeyBits} bits; "
                f"at least {_MIN_DH_BITS} are required"
            )
        self._cipher = int(info.cipherSuite)
        self._version = int(info.protocolVersion)
        if not self._memio.in_size:
            self._chunks.clear()  # all read: an idle connection keeps no handshake bytes

    def _refused_renegotiation(self, code: int) -> bool:
        """True when ``code`` says NSS refused the peer's renegotiation: not a failure.

        The peer asked for a TLS 1.2 renegotiation (a client's new ClientHello,
        a server's HelloRequest); NSS answered with a no_renegotiation warning
        and returned this error from the read that met it, but the connection
        goes on (RFC 5746 §4.2, RFC 5246 §7.2.2).  In TLS 1.3 the same error
        means a fatal unexpected_message, and stays an error.
        """
        return (
            self._version is not None
            and self._version < 0x0304
            and error_name(code) == "SSL_ERROR_RENEGOTIATION_NOT_ALLOWED"
        )

    def _closed(self) -> None:
        if self._memio.eof_delivered:
            raise RaggedEOF("the peer closed the connection without a TLS close_notify alert")

    def _read(self, amt: int) -> bytes:
        try:
            scratch = _SCRATCH.buffer
        except AttributeError:
            scratch = _SCRATCH.buffer = ffi.new("char[]", _MAX_READ)
        state = self._memio
        size = amt if amt < _MAX_READ else _MAX_READ
        count = _tls_read(self._fd, state, scratch, size)
        while count < 0 and self._refused_renegotiation(count):
            count = _tls_read(self._fd, state, scratch, size)
        if count > 0:
            # A read that returned data: drop used chunks, report what ended it, if anything.
            if not state.in_size:
                self._chunks.clear()  # all read: an idle connection keeps no ciphertext
            if state.stopped:
                self._report_stop(state)
            return _unpack(scratch, count)
        if count == 0:
            self._closed()
            return b""
        raise self._failure(count, "read")

    def _report_stop(self, state: Any) -> None:
        """The read that returned data met a close or an error after it (``stopped``)."""
        state.stopped = 0
        code = int(state.stop_code)
        if code == 0:
            ragged = state.eof_delivered
            self._stop_after_data(
                RaggedEOF("the peer closed the connection without a TLS close_notify alert")
                if ragged
                else None
            )
        elif not self._refused_renegotiation(code):
            self._stop_after_data(self._failure(code, "read"))

    def _readinto(self, target: bytearray | memoryview) -> int:
        # The core passes a writable buffer (it refuses a read-only one).
        size = len(target)
        if size > _MAX_WRITE:
            target = memoryview(target)[:_MAX_WRITE]
            size = _MAX_WRITE
        state = self._memio
        count = _tls_read(self._fd, state, _from_buffer(target), size)
        while count < 0 and self._refused_renegotiation(count):
            count = _tls_read(self._fd, state, _from_buffer(target), size)
        if count > 0:
            # A read that returned data: drop used chunks, report what ended it, if anything.
            if not state.in_size:
                self._chunks.clear()  # all read: an idle connection keeps no ciphertext
            if state.stopped:
                self._report_stop(state)
            return count
        if count == 0:
            self._closed()
            return 0
        raise self._failure(count, "read")

    def _write(self, data: bytes | bytearray | memoryview) -> int:
        size = len(data)
        if size > _MAX_WRITE:
            data = memoryview(data)[:_MAX_WRITE]
            size = _MAX_WRITE
        # bytes go to C as they are (valid for the call, which is all NSS needs: it
        # encrypts before returning); other buffers through ffi.from_buffer.
        buffer = data if type(data) is bytes else _from_buffer(data)
        count = _tls_write(self._fd, self._memio, buffer, size)
        if count >= 0:
            return count
        raise self._failure(count, "write")

    def _shutdown(self) -> None:
        if self._fd is None:
            return  # a server that never saw a ClientHello has nothing to close
        code = lib.tlsapi_nss_shutdown(self._fd)
        if code:
            raise self._failure(code, "shutdown")

    def key_update(self, request_peer_update: bool = True) -> None:
        """Send a TLS 1.3 KeyUpdate (asking the peer to update its keys too, by default)."""
        with self._exclusive():
            self._key_update(request_peer_update)

    def _key_update(self, request_peer_update: bool) -> None:
        if not self._handshake_done:
            raise TLSError("key_update() needs a finished handshake")
        # A failed connection, or a read that met a fatal error (NSS has answered it
        # with an alert): no KeyUpdate goes after that.
        self._ready_to_write()
        if lib.tlsapi_nss_key_update(self._fd, request_peer_update) != 0:
            raise TLSError(f"NSS cannot update the keys: {error_text(lib.PR_GetError())}")

    # -- what was negotiated ------------------------------------------------------------

    def _cipher_number(self) -> int | None:
        return self._cipher

    def _tls_version_number(self) -> int | None:
        return self._version

    def _negotiated_protocol(self) -> bytes | None:
        state = ffi.new("SSLNextProtoState *")
        buf = ffi.new("unsigned char[256]")
        length = ffi.new("unsigned int *")
        if lib.SSL_GetNextProto(self._fd, state, buf, length, 256) != 0:
            return None
        if state[0] in (lib.SSL_NEXT_PROTO_NEGOTIATED, lib.SSL_NEXT_PROTO_SELECTED) and length[0]:
            return ffi.unpack(ffi.cast("char *", buf), length[0])
        return None

    def _negotiated_group(self) -> int | None:
        return negotiated_group(self._fd)

    def _peer_chain(self) -> list[bytes] | None:
        chain = lib.SSL_PeerCertificateChain(self._fd)
        if chain == ffi.NULL:
            return None
        try:
            ders = []
            end = ffi.cast("CERTCertListNode *", ffi.addressof(chain, "list"))
            node = ffi.cast("CERTCertListNode *", chain.list.next)
            while node != end:
                item = node.cert.derCert
                ders.append(ffi.unpack(ffi.cast("char *", item.data), item.len))
                node = ffi.cast("CERTCertListNode *", node.links.next)
            return ders or None
        finally:
            lib.CERT_DestroyCertList(chain)
