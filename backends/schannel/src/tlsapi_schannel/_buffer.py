"""SChannelBuffer: TLSWrappedBuffer over an SSPI security context, in memory.

SSPI is already sans-I/O: every call takes the bytes it should read and
returns the bytes to send.  The buffer keeps:

- the received ciphertext in one C-side buffer (``_in``), between
  ``_start`` and ``_end``.  Bytes are copied in once (``receive_from_network``);
  records are decrypted in place (DecryptMessage over one whole record, whose
  length we read from its header first: SChannel is never called with a
  partial record, and Wine's DecryptMessage reads a header it never checked
  it had).  When room runs out the live bytes move to the front, or to a
  buffer twice the size when they fill more than half: linear in what the
  peer sends, never a copy of the whole backlog per record.
- the decrypted bytes not read yet (``_pt``..``_pt_end``) where DecryptMessage
  left them, inside ``_in``: they are kept when the buffer is compacted.
- SECBUFFER_EXTRA: what a call did not consume stays where it is, and
  ``_start`` moves past exactly what was consumed.

After the handshake, DecryptMessage may answer SEC_I_RENEGOTIATE: under
TLS 1.3 post-handshake messages (tickets, key updates), fed to
InitializeSecurityContextW / AcceptSecurityContext as the SECBUFFER_EXTRA
bytes, as often as they come, around application data without losing or
repeating a byte of it; under TLS 1.2 the peer asks for a renegotiation,
which we do not do (the HelloRequest is ignored, as RFC 5246 §7.4.1.1
allows).

The close_notify: SEC_I_CONTEXT_EXPIRED from DecryptMessage (Windows); Wine
returns SEC_E_OK with no data for the alert record, which its header (type
21, in the clear before TLS 1.3) identifies.  Our own close_notify is
ApplyControlToken(SCHANNEL_SHUTDOWN) and one more ISC/ASC call.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tlsapi import (
    CertificateError,
    ConfigurationError,
    RaggedEOF,
    TLSError,
    TLSWrappedBuffer,
    WantReadError,
)
from tlsapi.backend_api import (
    HelloDecodeError,
    HelloReader,
    MalformedHello,
    ServerName,
    certificate_alert,
)

from ._binding import ffi, lib
from ._errors import failure, status_name
from ._platform import describe
from ._sspi_credentials import Credentials, Settings, protocol_version, resumption_available
from ._suites import ServerHelloScanner, cipher_info_suite

if TYPE_CHECKING:
    from tlsapi import ClientContext, ServerContext, TLSConfiguration

__all__ = ["SChannelBuffer"]

_HEADER = 5
_ALERT_RECORD = 21
# An encrypted alert: 2 bytes of plaintext and at least a 16-byte AEAD tag (or a larger MAC).
_MIN_ENCRYPTED_ALERT = 2 + 16
# A record is at most 5 + 2^14 + 2048 bytes (RFC 5246 §6.2.3); the buffer starts at that.
_RECORD = _HEADER + (1 << 14) + 2048
# An idle connection keeps no buffer larger than this.
_IDLE_KEEP = 2 * _RECORD
# Records encrypted per cffi round trip into the thread's scratch before one copy out.
_RECORDS_PER_BATCH = 4
_MAX_ROUNDS = 64  # ISC/ASC calls in one handshake step: a peer cannot loop us for ever

_SCRATCH = threading.local()

_OK = int(lib.SEC_E_OK)
_CONTINUE = int(lib.SEC_I_CONTINUE_NEEDED)
_INCOMPLETE = int(lib.SEC_E_INCOMPLETE_MESSAGE)
_INCOMPLETE_CREDENTIALS = int(lib.SEC_I_INCOMPLETE_CREDENTIALS)
_EXPIRED = int(lib.SEC_I_CONTEXT_EXPIRED)
_RENEGOTIATE = int(lib.SEC_I_RENEGOTIATE)
_UNSUPPORTED = int(lib.SEC_E_UNSUPPORTED_FUNCTION)
_EMPTY = int(lib.SECBUFFER_EMPTY)
_DATA = int(lib.SECBUFFER_DATA)
_TOKEN = int(lib.SECBUFFER_TOKEN)
_EXTRA = int(lib.SECBUFFER_EXTRA)
_ALERT = int(lib.SECBUFFER_ALERT)
_STREAM_HEADER = int(lib.SECBUFFER_STREAM_HEADER)
_STREAM_TRAILER = int(lib.SECBUFFER_STREAM_TRAILER)

_ISC_FLAGS = int(
    lib.ISC_REQ_SEQUENCE_DETECT
    | lib.ISC_REQ_REPLAY_DETECT
    | lib.ISC_REQ_CONFIDENTIALITY
    | lib.ISC_REQ_ALLOCATE_MEMORY
    | lib.ISC_REQ_EXTENDED_ERROR
    | lib.ISC_REQ_STREAM
    | lib.ISC_REQ_MANUAL_CRED_VALIDATION
    | lib.ISC_REQ_USE_SUPPLIED_CREDS
)
_ASC_FLAGS = int(
    lib.ASC_REQ_SEQUENCE_DETECT
    | lib.ASC_REQ_REPLAY_DETECT
    | lib.ASC_REQ_CONFIDENTIALITY
    | lib.ASC_REQ_ALLOCATE_MEMORY
    | lib.ASC_REQ_EXTENDED_ERROR
    | lib.ASC_REQ_STREAM
)

# Alerts we send ourselves (RFC 5246 §7.2.2); a refused certificate's comes from
# tlsapi.backend_api.certificate_alert.
_HANDSHAKE_FAILURE = 40

# The SecBuffer types of a record, copied over the connection's buffers in one call.
_DECRYPT_LAYOUT = ffi.new("SecBuffer[4]", [(0, _DATA, ffi.NULL)] + [(0, _EMPTY, ffi.NULL)] * 3)
_ENCRYPT_LAYOUT = ffi.new(
    "SecBuffer[4]",
    [(0, t, ffi.NULL) for t in (_STREAM_HEADER, _DATA, _STREAM_TRAILER, _EMPTY)],
)
_LAYOUT_SIZE = ffi.sizeof("SecBuffer[4]")

_decrypt = lib.DecryptMessage
_encrypt = lib.EncryptMessage
_memmove = ffi.memmove
_unpack = ffi.unpack
_from_buffer = ffi.from_buffer


class _SecurityContext:
    """A CtxtHandle that exists once the first ISC/ASC call made it; deleted with us."""

    __slots__ = ("credentials", "handle", "live")

    def __init__(self, credentials: Credentials | None) -> None:
        self.handle = ffi.new("CtxtHandle *")
        self.live = False
        # Freed after the context, never before; None: taken at the first call.
        self.credentials = credentials

    # Bound now: at interpreter exit the module's ``lib`` may already be None.
    _delete = staticmethod(lib.DeleteSecurityContext)

    def __del__(self) -> None:
        if getattr(self, "live", False):
            self.live = False
            self._delete(self.handle)


def _certificate_helpers() -> tuple[Any, Any]:
    """(verify_peer, peer_chain) from the certificates helper's modules, each None while missing."""
    found: list[Any] = []
    for module, name in (("_verify", "verify_peer"), ("_certificates", "peer_chain")):
        try:
            found.append(getattr(importlib.import_module(f"{__package__}.{module}"), name))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{module}":
                raise
            found.append(None)
    return found[0], found[1]


class SChannelSession:
    """A client's resumable session: the credentials handle SChannel cached it in.

    SChannel keys its client session cache by credentials handle and target
    name; the core offers a session only to the name and context that made
    it, so holding the handle is all a resumption needs (and it keeps the
    handle, with its cache, alive as long as the session is kept).
    """

    __slots__ = ("credentials",)

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials


class SChannelBuffer(TLSWrappedBuffer):
    def __init__(
        self,
        context: ClientContext | ServerContext,
        settings: Settings,
        server_name: ServerName | None,
        settings_for: Callable[[TLSConfiguration], Settings] | None = None,
    ) -> None:
        super().__init__(context, server_name.name if server_name else None)
        self._settings = settings
        self._server = settings.server
        self._server_name = server_name
        self._settings_for = settings_for
        # A client's handle is taken when the handshake starts: an offered
        # session brings its own (see _offer_session).
        self._context_handle = _SecurityContext(None if not self._server else settings.credentials)
        # Whether the handshake resumed a session (SChannel's word, else the wire's).
        self._reused = False
        self._resumed_on_wire: bool | None = None
        # Received ciphertext (and decrypted plaintext not read yet), in C.
        self._in: Any = None
        self._capacity = 0
        self._start = 0
        self._end = 0
        self._pt = 0
        self._pt_end = 0
        self._peer_closed = False
        self._sizes: tuple[int, int, int] | None = None
        self._version: int | None = None
        self._cipher: int | None = None
        self._group: int | None = None
        self._alpn: bytes | None = None
        self._peer_certificate: Any = None
        self._verified = False
        # The bytes of whole records SChannel had when it last answered SEC_E_INCOMPLETE_MESSAGE.
        self._waiting_with = -1
        # The ServerHello, read as it passes (for the suite where SChannel will not say).
        self._scanner: ServerHelloScanner | None = ServerHelloScanner()
        # A server reads the ClientHello first: sni_callback, and ALPN by our preference.
        self._hello_reader = HelloReader() if self._server else None
        self._server_alpn: Any = None
        self._offered_suites: tuple[int, ...] | None = None
        self._failed_hello: TLSError | None = None
        # The SecBuffers of a record, made once per connection.
        self._record_buffers = ffi.new("SecBuffer[4]")
        self._record_desc = ffi.new(
            "SecBufferDesc *", (lib.SECBUFFER_VERSION, 4, self._record_buffers)
        )
        self._attributes = ffi.new("ULONG *")

    # -- the incoming buffer ---------------------------------------------------------

    def _reserve(self, size: int) -> None:
        """Room for ``size`` more bytes at ``_end`` (moving or growing the live bytes)."""
        if self._end + size <= self._capacity:
            return
        keep = self._pt if self._pt < self._pt_end else self._start
        live = self._end - keep
        needed = live + size
        if needed <= self._capacity // 2:
            target = self._in  # compact in place: at least half the buffer comes free
        else:
            self._capacity = max(2 * self._capacity, needed, _RECORD)
            target = ffi.new("unsigned char[]", self._capacity)
        if live:
            _memmove(target, self._in + keep, live)
        self._in = target
        self._start -= keep
        self._end -= keep
        if self._pt < self._pt_end:
            self._pt -= keep
            self._pt_end -= keep
        else:
            self._pt = self._pt_end = 0

    def _settle(self) -> None:
        """Everything read: offsets back to 0, and an idle connection keeps no large buffer."""
        if self._start == self._end and self._pt >= self._pt_end:
            self._start = self._end = self._pt = self._pt_end = 0
            if self._capacity > _IDLE_KEEP:
                self._in = None
                self._capacity = 0

    def _receive(self, data: bytes | memoryview) -> None:
        size = len(data)
        if self._hello_reader is not None:
            self._hello_reader.feed(data)  # each byte looked at once, as it arrives
        if self._scanner is not None and not self._server:
            self._scanner.feed(data)
            if self._scanner.done:
                self._scanner_done()
        self._reserve(size)
        _memmove(self._in + self._end, data, size)
        self._end += size

    def _incoming_size(self) -> int:
        return self._end - self._start

    def _scanner_done(self) -> None:
        scanner = self._scanner
        if scanner is not None:
            if scanner.suite is not None:
                self._cipher = scanner.suite
            self._group = scanner.group
            self._resumed_on_wire = scanner.resumed
        self._scanner = None

    # -- ISC / ASC ---------------------------------------------------------------------

    def _security_call(self, input_desc: Any, output_desc: Any) -> int:
        """One InitializeSecurityContextW or AcceptSecurityContext call on this context."""
        context = self._context_handle
        current = context.handle if context.live else ffi.NULL
        if context.credentials is None:
            context.credentials = self._settings.connection_credentials()
        credentials = context.credentials.handle
        if self._server:
            flags = _ASC_FLAGS
            if self._settings.request_client_cert:
                flags |= int(lib.ASC_REQ_MUTUAL_AUTH)
            status = int(
                lib.AcceptSecurityContext(
                    credentials, current, input_desc, flags, 0, context.handle,
                    output_desc, self._attributes, ffi.NULL,
                )
            )  # fmt: skip
        else:
            target = self._server_name.sni if self._server_name is not None else None
            status = int(
                lib.InitializeSecurityContextW(
                    credentials, current, target if target else ffi.NULL, _ISC_FLAGS, 0, 0,
                    input_desc, 0, context.handle, output_desc, self._attributes, ffi.NULL,
                )
            )  # fmt: skip
        if not context.live and (status >= 0 or status == _INCOMPLETE):
            context.live = True
        return status

    def _exchange(
        self, data_at: int, size: int, extra_input: Any = None
    ) -> tuple[int, int, list[bytes]]:
        """ISC/ASC over ``size`` received bytes at ``_in + data_at``.

        Returns the status, how many bytes it consumed, and the tokens SChannel
        produced (handshake messages, alerts) for the caller to send.
        """
        inputs = ffi.new("SecBuffer[3]")
        count = 0
        if size or self._context_handle.live:
            inputs[0].BufferType = _TOKEN
            inputs[0].pvBuffer = self._in + data_at if size else ffi.NULL
            inputs[0].cbBuffer = size
            inputs[1].BufferType = _EMPTY
            count = 2
        if extra_input is not None:
            inputs[count].BufferType = lib.SECBUFFER_APPLICATION_PROTOCOLS
            inputs[count].pvBuffer = extra_input
            inputs[count].cbBuffer = len(ffi.buffer(extra_input))
            count += 1
        input_desc = ffi.new("SecBufferDesc *", (lib.SECBUFFER_VERSION, count, inputs))
        outputs = ffi.new("SecBuffer[3]")
        outputs[0].BufferType = _TOKEN
        outputs[1].BufferType = _ALERT
        outputs[2].BufferType = _EMPTY
        output_desc = ffi.new("SecBufferDesc *", (lib.SECBUFFER_VERSION, 3, outputs))
        status = self._security_call(input_desc if count else ffi.NULL, output_desc)
        tokens = self._take_tokens(outputs, 3)
        if status in (_INCOMPLETE, _INCOMPLETE_CREDENTIALS) or not count:
            return status, 0, tokens
        consumed = size
        for index in range(1, count):
            if inputs[index].BufferType == _EXTRA:
                consumed = size - int(inputs[index].cbBuffer)
        return status, consumed, tokens

    def _take_tokens(self, outputs: Any, count: int) -> list[bytes]:
        """The bytes of the output buffers SChannel filled, each freed."""
        tokens: list[bytes] = []
        for index in range(count):
            buffer = outputs[index]
            if buffer.pvBuffer == ffi.NULL:
                continue
            if buffer.cbBuffer and buffer.BufferType in (_TOKEN, _ALERT):
                token = _unpack(ffi.cast("char *", buffer.pvBuffer), buffer.cbBuffer)
                tokens.append(token)
                if self._server and self._scanner is not None:
                    self._scanner.feed(token)
                    if self._scanner.done:
                        self._scanner_done()
            lib.FreeContextBuffer(buffer.pvBuffer)
            buffer.pvBuffer = ffi.NULL
        return tokens

    def _send(self, tokens: list[bytes]) -> None:
        for token in tokens:
            self._outgoing.append(token)

    def _need_more(self, during: str) -> WantReadError:
        if self._transport_eof:
            raise RaggedEOF(f"the peer closed the connection during the {during}")
        return WantReadError("more data from the peer is needed")

    # -- the handshake -------------------------------------------------------------------

    def _handshake(self) -> None:
        if self._server and not self._context_handle.live:
            self._read_client_hello()
        alpn_blob = None if self._context_handle.live else self._first_alpn_input()
        for _ in range(_MAX_ROUNDS):
            size = self._end - self._start
            if (self._context_handle.live or self._server) and not size:
                raise self._need_more("handshake")
            if self._context_handle.live and self._whole_records() <= self._waiting_with:
                # No record completed since SChannel asked for more: do not ask it again
                # (per byte delivered, that would be quadratic in the flight's size).
                self._check_record_lengths()
                raise self._need_more("handshake")
            status, consumed, tokens = self._exchange(self._start, size, alpn_blob)
            alpn_blob = None
            self._start += consumed
            self._waiting_with = -1
            if status in (_OK, _CONTINUE) and self._settings.verify and not self._verified:
                self._verify_before_sending(tokens, finished=status == _OK)
            self._send(tokens)
            if status == _OK:
                break
            if status in (_CONTINUE, _INCOMPLETE_CREDENTIALS):
                continue
            if status == _INCOMPLETE:
                self._waiting_with = self._whole_records()
                self._check_record_lengths()
                raise self._need_more("handshake")
            raise self._handshake_failure(status)
        else:
            raise TLSError("SChannel handshake failed: it did not finish in 64 rounds")
        self._finish_handshake()

    def _verify_before_sending(self, tokens: list[bytes], *, finished: bool) -> None:
        """Validate the peer as soon as its certificate is known, before our next flight goes.

        A refused peer then gets an alert instead of our Finished, so it fails
        too rather than finishing a handshake we abandon.  Before our
        ChangeCipherSpec (TLS 1.2: the flight starts with a plaintext handshake
        record) the alert can go in the clear; otherwise the flight is dropped
        and the closing transport tells the peer.
        """
        if self._peer_certificate is None:
            self._load_peer_certificate()
        if self._peer_certificate is None and not finished:
            return  # not known yet: checked when it is, or when the handshake ends
        try:
            self._verify_peer()
        except TLSError as error:
            if tokens and tokens[0][:1] == b"\x16":
                reason = error.reason if isinstance(error, CertificateError) else None
                description = certificate_alert(reason)
                self._outgoing.append(bytes((21, 3, 3, 0, 2, 2, description)))
            raise
        self._verified = True

    def _whole_records(self) -> int:
        """How many bytes from ``_start`` on form whole records."""
        at, end = self._start, self._end
        while end - at >= _HEADER:
            size = _HEADER + (self._in[at + 3] << 8 | self._in[at + 4])
            if end - at < size:
                break
            at += size
        return at - self._start

    def _check_record_lengths(self) -> None:
        """Refuse a record longer than TLS allows instead of waiting for it (bounded input)."""
        at, end = self._start, self._end
        while end - at >= _HEADER:
            length = self._in[at + 3] << 8 | self._in[at + 4]
            if length > _RECORD - _HEADER:
                raise TLSError(
                    f"the peer sent a record of {length} bytes, more than TLS allows "
                    f"({_RECORD - _HEADER}): not a TLS peer, or a corrupt stream"
                )
            at += _HEADER + length

    def _handshake_failure(self, status: int) -> TLSError:
        """SChannel refused the handshake; tlsapi's policy names why when it can.

        The library may have refused the peer's certificate itself (Wine's GnuTLS
        checks the key usage and key sizes): when the peer's chain is known and
        tlsapi's policy rejects it too, that CertificateError is the clearer error.
        """
        error = failure(status, "handshake")
        if not self._server:
            try:
                self._load_peer_certificate()
                from tlsapi.backend_api import check_peer_chain

                named = check_peer_chain(self._peer_chain(), "server's")
            except TLSError:
                named = None
            if named is not None:
                named.__cause__ = error
                return named
        return error

    def _refuse_hello(self, error: TLSError, description: int) -> None:
        """Fail before SChannel saw the hello: a fatal alert in the clear, as SChannel would send."""
        self._failed_hello = error
        self._outgoing.append(bytes((21, 3, 1, 0, 2, 2, description)))

    def _first_alpn_input(self) -> Any:
        return self._server_alpn if self._server else self._settings.alpn_blob

    def _read_client_hello(self) -> None:
        """A server reads the ClientHello before SChannel does: sni_callback, and ALPN."""
        if self._failed_hello is not None:
            raise self._failed_hello
        reader = self._hello_reader
        if reader is None:
            return
        try:
            hello = reader.result()
        except HelloDecodeError as exc:
            self._hello_reader = None
            error = exc.tls_error()
            self._refuse_hello(error, exc.alert)
            raise error from exc
        except MalformedHello:
            self._hello_reader = None  # SChannel says what is wrong with it
            return
        if hello is None:
            raise self._need_more("handshake")
        self._hello_reader = None
        self._server_hostname = hello.server_name
        self._offered_suites = hello.cipher_suites
        settings = self._settings
        callback = settings.config.sni_callback
        if callback is not None:
            try:
                chosen = self._run_callback(callback, self, hello.server_name, settings.config)
            except Exception as exc:
                error = TLSError(f"the handshake was aborted: sni_callback raised {exc!r}")
                self._refuse_hello(error, _HANDSHAKE_FAILURE)
                raise error from exc
            if chosen is not None:
                assert self._settings_for is not None
                settings = self._settings_for(chosen)
                self._settings = settings
                self._context_handle = _SecurityContext(settings.credentials)
        if settings.alpn and hello.alpn:
            offered = set(hello.alpn)
            choice = next((p for p in settings.alpn if p in offered), None)
            if choice is not None:
                from ._sspi_credentials import alpn_buffer

                self._server_alpn = alpn_buffer((choice,))

    def _finish_handshake(self) -> None:
        handle = self._context_handle.handle
        info = ffi.new("SecPkgContext_ConnectionInfo *")
        if lib.QueryContextAttributesW(handle, lib.SECPKG_ATTR_CONNECTION_INFO, info) == _OK:
            self._version = protocol_version(int(info.dwProtocol))
        if self._scanner is not None:
            self._scanner_done()  # what the server's flight said (suite, group)
        suite = cipher_info_suite(handle)
        if suite is not None:
            self._cipher = suite
        protocol = ffi.new("SecPkgContext_ApplicationProtocol *")
        status = lib.QueryContextAttributesW(handle, lib.SECPKG_ATTR_APPLICATION_PROTOCOL, protocol)
        if (
            status == _OK
            and protocol.ProtoNegoStatus == lib.SecApplicationProtocolNegotiationStatus_Success
            and protocol.ProtocolIdSize
        ):
            self._alpn = _unpack(ffi.cast("char *", protocol.ProtocolId), protocol.ProtocolIdSize)
        self._reused = self._query_reused(handle)
        sizes = ffi.new("SecPkgContext_StreamSizes *")
        status = lib.QueryContextAttributesW(handle, lib.SECPKG_ATTR_STREAM_SIZES, sizes)
        if status != _OK:
            raise failure(status, "QueryContextAttributesW(SECPKG_ATTR_STREAM_SIZES)")
        self._sizes = (int(sizes.cbHeader), int(sizes.cbTrailer), int(sizes.cbMaximumMessage))
        if self._peer_certificate is None:
            self._load_peer_certificate()
        if self._settings.verify and not self._verified:
            self._verify_peer()
        self._settle()

    def _query_reused(self, handle: Any) -> bool:
        """SECPKG_ATTR_SESSION_INFO's SSL_SESSION_RECONNECT; the server's flight where
        SChannel lacks the attribute (Wine answers SEC_E_UNSUPPORTED_FUNCTION)."""
        info = ffi.new("SecPkgContext_SessionInfo *")
        if lib.QueryContextAttributesW(handle, lib.SECPKG_ATTR_SESSION_INFO, info) == _OK:
            return bool(info.dwFlags & lib.SSL_SESSION_RECONNECT)
        return bool(self._resumed_on_wire)

    # -- session resumption ----------------------------------------------------------

    def _offer_session(self, state: object) -> None:
        if not resumption_available():
            raise ConfigurationError(
                f"tlsapi-schannel cannot resume sessions on {describe()}: Wine's SChannel keeps "
                "no session to resume (every handshake is a full one); run on Windows, or use "
                "another backend"
            )
        if not isinstance(state, SChannelSession) or self._context_handle.live:
            raise ConfigurationError("tlsapi-schannel cannot offer this session")
        # SChannel resumes what this handle cached for this target name.
        self._context_handle = _SecurityContext(state.credentials)

    def _session_state(self) -> SChannelSession | None:
        if self._server or not resumption_available():
            return None
        # SChannel does not say whether it cached a session (nor when a TLS 1.3
        # ticket arrived): the handle is offered, and it resumes if it can.
        credentials = self._context_handle.credentials
        return None if credentials is None else SChannelSession(credentials)

    def _session_reused(self) -> bool:
        return self._reused

    def _load_peer_certificate(self) -> None:
        certificate = ffi.new("PCCERT_CONTEXT *")
        status = lib.QueryContextAttributesW(
            self._context_handle.handle, lib.SECPKG_ATTR_REMOTE_CERT_CONTEXT, certificate
        )
        if status == _OK and certificate[0] != ffi.NULL:
            self._peer_certificate = ffi.gc(certificate[0], lib.CertFreeCertificateContext)

    def _verify_peer(self) -> None:
        whose = "client's" if self._server else "server's"
        if self._peer_certificate is None:
            if self._server:
                raise CertificateError(
                    "certificate verify failed: the client sent no certificate, and this "
                    "server requires one (its configuration has a trust_store)"
                )
            raise CertificateError(f"certificate verify failed: no {whose} certificate")
        verify, _ = _certificate_helpers()
        if verify is None:
            # Fail closed: nothing passes without validation.
            raise TLSError(
                "certificate validation is not available in this build of tlsapi-schannel "
                "(its _verify module is missing); refusing the connection"
            )
        config = self._settings.config
        assert config.trust_store is not None or not self._server
        trust = config.trust_store
        if trust is None:
            from tlsapi import TrustStore

            trust = TrustStore.system()
        from tlsapi.backend_api import check_peer_chain, find_weak_key

        try:
            verify(
                self._peer_certificate,
                trust=trust,
                server_name=None if self._server else self._server_name,
                peer_is_server=not self._server,
            )
        except CertificateError as refusal:
            # Windows (and Wine) refuse a chain with a key too small to verify: say so.
            named = find_weak_key(self._peer_chain(), whose)
            if named is not None:
                raise named from refusal
            raise
        error = check_peer_chain(self._peer_chain(), whose)
        if error is not None:
            raise error

    # -- records -----------------------------------------------------------------------

    def _decrypt_record(self) -> bool:
        """Decrypt the next whole record in place; False when none is complete yet."""
        start = self._start
        available = self._end - start
        if available < _HEADER:
            return False
        record = self._in + start
        size = _HEADER + (record[3] << 8 | record[4])
        if available < size:
            if size > _RECORD:
                self._check_record_lengths()
            return False
        record_type = record[0]
        buffers = self._record_buffers
        _memmove(buffers, _DECRYPT_LAYOUT, _LAYOUT_SIZE)  # DATA, EMPTY x 3: one call
        first = buffers[0]
        first.pvBuffer = record
        first.cbBuffer = size
        status = int(_decrypt(self._context_handle.handle, self._record_desc, 0, ffi.NULL))
        if status not in (_OK, _EXPIRED, _RENEGOTIATE):
            if status == _INCOMPLETE:
                return False  # SChannel wants more than the record (not seen in practice)
            raise failure(status, "read (DecryptMessage)")
        data_at = data_size = extra = 0
        for index in (0, 1, 2, 3):
            kind = buffers[index].BufferType
            if kind == _DATA:
                data_at = int(ffi.cast("uintptr_t", buffers[index].pvBuffer)) - int(
                    ffi.cast("uintptr_t", self._in)
                )
                data_size = int(buffers[index].cbBuffer)
            elif kind == _EXTRA:
                extra = int(buffers[index].cbBuffer)
        self._start = start + size - extra
        if data_size:
            self._pt, self._pt_end = data_at, data_at + data_size
        if status == _OK and not data_size and record_type == _ALERT_RECORD:
            # Wine answers SEC_E_OK with no data for an alert record, and for any record
            # claiming to be one: an encrypted alert is 2 bytes plus at least a 16-byte AEAD
            # tag or MAC, and its header names TLS (3, x).  Anything shorter or otherwise
            # labelled (e.g. b"\x15\x00\x00\x00\x00") is garbage, not a close_notify.
            if size - _HEADER < _MIN_ENCRYPTED_ALERT or record[1] != 3:
                raise TLSError(
                    f"the peer sent a malformed alert record ({size - _HEADER} bytes, version "
                    f"{record[1]}.{record[2]}): not a TLS record this connection can decrypt"
                )
            self._peer_closed = True  # close_notify as Wine reports it
        elif status == _EXPIRED:
            self._peer_closed = True  # close_notify as Windows reports it
        elif status == _RENEGOTIATE:
            self._post_handshake(extra)
        return True

    def _post_handshake(self, extra: int) -> None:
        """DecryptMessage met a handshake message after the handshake (SEC_I_RENEGOTIATE)."""
        if self._version is not None and self._version < 0x0304:
            # A TLS 1.2 renegotiation request: we do not renegotiate; skip it.
            self._start += extra
            return
        # TLS 1.3: tickets and key updates go to SChannel as the EXTRA bytes.
        for _ in range(_MAX_ROUNDS):
            status, consumed, tokens = self._exchange(self._start, extra)
            self._send(tokens)
            self._start += consumed
            extra -= consumed
            # Done (what is left is records for DecryptMessage), or waiting for the rest.
            if status in (_OK, _INCOMPLETE) or (status == _CONTINUE and not extra):
                return
            if status == _CONTINUE:
                continue
            raise failure(status, "post-handshake message (SEC_I_RENEGOTIATE)")
        raise TLSError("SChannel did not finish a post-handshake message in 64 rounds")

    def _fill(self) -> int:
        """Plaintext ready to read (decrypting records as needed); 0 at close_notify, -1 for none yet."""
        while self._pt >= self._pt_end:
            if self._peer_closed:
                return 0
            if not self._decrypt_record():
                return -1
        return self._pt_end - self._pt

    def _nothing_to_read(self) -> TLSError:
        if self._transport_eof:
            return RaggedEOF("the peer closed the connection without a TLS close_notify alert")
        return WantReadError("more data from the peer is needed")

    def _ready_plaintext(self, got: int) -> int:
        """Plaintext bytes ready at ``_pt``; 0 ends a read that has ``got`` bytes so far.

        With nothing read yet, a failure or want-read is raised; after data it
        is reported with the bytes (``_stop_after_data``) or simply ends them.
        """
        try:
            ready = self._fill()
        except TLSError as exc:
            if got:
                self._stop_after_data(exc)
                return 0
            raise
        if ready < 0:
            if got:
                return 0
            raise self._nothing_to_read()
        if not ready and got:
            self._stop_after_data(None)
        return ready

    def _readinto(self, target: bytearray | memoryview) -> int:
        if type(target) is memoryview and target.readonly:
            raise TypeError("readinto() needs a writable buffer, not a read-only one")
        wanted = len(target)
        destination = _from_buffer(target)
        got = 0
        while got < wanted:
            ready = self._ready_plaintext(got)
            if not ready:
                break
            size = min(ready, wanted - got)
            _memmove(destination + got, self._in + self._pt, size)
            self._pt += size
            got += size
        self._settle()
        return got

    def _read(self, amt: int) -> bytes:
        pieces: list[bytes] = []
        got = 0
        while got < amt:
            ready = self._ready_plaintext(got)
            if not ready:
                break
            size = min(ready, amt - got)
            pieces.append(_unpack(ffi.cast("char *", self._in + self._pt), size))
            self._pt += size
            got += size
        self._settle()
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _write(self, data: bytes | bytearray | memoryview) -> int:
        assert self._sizes is not None
        header, trailer, maximum = self._sizes
        total = len(data)
        source = data if type(data) is not bytes or total <= maximum else memoryview(data)
        slot = header + maximum + trailer
        try:
            scratch = _SCRATCH.buffer
            if len(scratch) < slot * _RECORDS_PER_BATCH:
                raise AttributeError
        except AttributeError:
            scratch = _SCRATCH.buffer = ffi.new("unsigned char[]", slot * _RECORDS_PER_BATCH)
        buffers = self._record_buffers
        desc = self._record_desc
        handle = self._context_handle.handle
        offset = 0
        while offset < total:
            position = 0
            for _ in range(_RECORDS_PER_BATCH):
                if offset >= total:
                    break
                size = min(maximum, total - offset)
                record = scratch + position
                chunk = source if size == total else source[offset : offset + size]
                _memmove(record + header, chunk, size)
                _memmove(buffers, _ENCRYPT_LAYOUT, _LAYOUT_SIZE)  # HEADER, DATA, TRAILER, EMPTY
                buffers[0].pvBuffer = record
                buffers[0].cbBuffer = header
                buffers[1].pvBuffer = record + header
                buffers[1].cbBuffer = size
                buffers[2].pvBuffer = record + header + size
                buffers[2].cbBuffer = trailer
                status = int(_encrypt(handle, 0, desc, 0))
                if status != _OK:
                    raise failure(status, "write (EncryptMessage)")
                position += buffers[0].cbBuffer + buffers[1].cbBuffer + buffers[2].cbBuffer
                offset += size
            self._outgoing.append(_unpack(ffi.cast("char *", scratch), position))
        return total

    def _shutdown(self) -> None:
        if not self._context_handle.live or not self._handshake_done:
            return  # nothing to close before the handshake
        token = ffi.new("DWORD *", lib.SCHANNEL_SHUTDOWN)
        buffers = ffi.new("SecBuffer[1]")
        buffers[0].BufferType = _TOKEN
        buffers[0].pvBuffer = token
        buffers[0].cbBuffer = ffi.sizeof("DWORD")
        desc = ffi.new("SecBufferDesc *", (lib.SECBUFFER_VERSION, 1, buffers))
        status = int(lib.ApplyControlToken(self._context_handle.handle, desc))
        if status == _UNSUPPORTED:
            raise TLSError(
                f"SChannel cannot send close_notify here: ApplyControlToken answered "
                f"{status_name(status)} on {describe()}; close the transport instead"
            )
        if status != _OK:
            raise failure(status, "shutdown (ApplyControlToken)")
        outputs = ffi.new("SecBuffer[1]")
        outputs[0].BufferType = _TOKEN
        output_desc = ffi.new("SecBufferDesc *", (lib.SECBUFFER_VERSION, 1, outputs))
        status = self._security_call(ffi.NULL, output_desc)
        self._send(self._take_tokens(outputs, 1))
        if status not in (_OK, _CONTINUE, _EXPIRED):
            raise failure(status, "shutdown")

    def offered_cipher_suites(self) -> tuple[int, ...] | None:
        """The cipher suites in the client's hello (a server, once it was read), else None."""
        return self._offered_suites

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        """RFC 5929's tls-unique (SECPKG_ATTR_UNIQUE_BINDINGS), None before the handshake.

        None too where SChannel has none to give (the ssl adapter's
        get_channel_binding then answers None, as ssl does without one).
        """
        if cb_type != "tls-unique":
            raise ValueError(f"{cb_type} channel binding type not implemented")
        with self._exclusive():
            if not self._handshake_done:
                return None
            bindings = ffi.new("SecPkgContext_Bindings *")
            status = lib.QueryContextAttributesW(
                self._context_handle.handle, lib.SECPKG_ATTR_UNIQUE_BINDINGS, bindings
            )
            if status != _OK or bindings.Bindings == ffi.NULL:
                return None
            try:
                header = bindings.Bindings
                data = _unpack(
                    ffi.cast("char *", header) + header.dwApplicationDataOffset,
                    header.cbApplicationDataLength,
                )
            finally:
                lib.FreeContextBuffer(bindings.Bindings)
            # The application data is "tls-unique:" followed by the Finished's verify_data.
            prefix = b"tls-unique:"
            return (
                data[len(prefix) :] if data.startswith(prefix) and len(data) > len(prefix) else None
            )

    # -- what was negotiated ------------------------------------------------------------

    def _cipher_number(self) -> int | None:
        return self._cipher

    def _negotiated_group(self) -> int | None:
        """The group read from the server's flight (SChannel names none)."""
        return self._group

    def _tls_version_number(self) -> int | None:
        return self._version

    def _negotiated_protocol(self) -> bytes | None:
        return self._alpn

    def _peer_chain(self) -> list[bytes] | None:
        if self._peer_certificate is None:
            return None
        _, peer_chain = _certificate_helpers()
        if peer_chain is None:
            certificate = self._peer_certificate
            return [
                _unpack(ffi.cast("char *", certificate.pbCertEncoded), certificate.cbCertEncoded)
            ]
        chain: list[bytes] = peer_chain(self._peer_certificate)
        return chain or None
