"""GnuTLSBuffer: one gnutls_session_t driven over in-memory buffers.

How the hard parts work:

* The session is created with GNUTLS_NONBLOCK and push/pull functions
  written in C (see _transport.py for why and how): nothing here touches a
  socket, and no Python runs per record.  Ciphertext received goes
  straight to the C side's window (``_receive``; ``incoming_bytes_buffered``
  reads its length); what push wrote goes to the base class's ``_outgoing``
  queue as one bytes object when the caller looks (``_library_output``).
  Per write: one cffi call (the record loop is C) and one copy per record
  into the C output buffer; per flush one ``ffi.unpack`` (one copy) of
  everything pending; per receive_from_network one cffi call and no copy
  for ``bytes`` (the window borrows the object; other buffers are copied
  once); per read one cffi call for all the records that fit, each record
  copied once by pull into GnuTLS and decrypted into the caller's buffer.
  The rules around reading (a close_notify or error met after data) are the
  core's: ``_recv_stopped`` reports them with ``_stop_after_data``.
* Our push never blocks, so GNUTLS_E_AGAIN always means "pull found no
  bytes": WantReadError.  One exception: in TLS 1.3 gnutls_record_recv()
  also answers GNUTLS_E_AGAIN after it consumed a post-handshake message
  (NewSessionTicket, KeyUpdate).  The C side's ``starved`` flag tells the
  two apart, and it calls again.
* Handshake timeouts are GnuTLS's only use of a clock here; they are off
  (gnutls_handshake_set_timeout(0)): a sans-I/O connection may wait as long
  as its owner wants.
* A verification failure is GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR from the
  handshake; the status bits (gnutls_session_get_verify_cert_status) give the
  CertificateError's reason.  On every fatal error, in the handshake or
  after it (reading, writing, closing), we queue the matching alert
  (gnutls_alert_send_appropriate) so the peer learns why: GnuTLS leaves that
  to the application.
* The server's sni_callback runs from a hook on the incoming ClientHello,
  before GnuTLS parses it: the configuration it returns then decides the
  certificate, client-certificate request and ALPN selection.  (The
  post-client-hello function would be too late for ALPN, which GnuTLS
  selects while parsing the hello.)  An exception in the callback fails the
  handshake, chained to the TLSError raised from do_handshake().
* Renegotiation is refused (a no_renegotiation warning), as the design
  demands; TLS 1.3 key updates are handled inside gnutls_record_recv().
* Callbacks from C find their buffer through the session pointer
  (gnutls_session_set_ptr, also the gnutls_db_* pointer): a handle to a weak
  reference, so that the session does not keep its buffer alive.  What a
  callback raises is kept (``_callback_failed``) and raised once GnuTLS
  returns, never into C.
* Key log: with keylog_filename, GnuTLS hands every secret it derives to
  tlsapi_gnutls_keylog (TLS 1.2 CLIENT_RANDOM; TLS 1.3 the handshake and
  first traffic secrets and EXPORTER_SECRET; later key updates are not
  logged, Wireshark derives them), written with the context's KeyLogWriter.
  A resumed TLS 1.2 handshake derives no master secret and GnuTLS logs
  nothing: we write its CLIENT_RANDOM line (the new client random) ourselves.
  Without it the session's keylog function is NULL: GnuTLS's default one
  would append to $SSLKEYLOGFILE, which tlsapi honours only when passed
  explicitly (as ``ssl.SSLContext`` does).  See _resumption.py for
  resumption.
"""

from __future__ import annotations

import struct
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from tlsapi import TLSConfiguration, TLSError, WantReadError
from tlsapi.backend_api import FAST_ABI

from ._binding import def_extern, ffi, lib
from ._errors import certificate_error, raise_for_code
from ._groups import negotiated_group
from ._resumption import client_session_data
from ._signatures import peer_signature_scheme
from ._socket_path import SocketPathBuffer, socket_error
from ._suites import negotiated_suite
from ._transport import RECV_STOPPED, new_transport
from ._verify import enforce_policy

if TYPE_CHECKING:
    from tlsapi import ClientContext, ServerContext
    from tlsapi.backend_api import KeyLogWriter, ServerName

    from ._resumption import ServerSessions
    from ._settings import ConnectionSettings

__all__ = ["GnuTLSBuffer"]

_SCRATCH_SIZE = 1 << 16
# read() decrypts into this and copies out at once: one per thread, not per connection.
_SCRATCH = threading.local()
# CPython hands a bytes object to a char * argument as a pointer to its data, which stays
# put for the object's lifetime; where objects may move (PyPy), ffi.from_buffer pins it
# for as long as that cdata lives (kept in ``_borrowed`` while C points into it).
_BYTES_STAY_PUT = sys.implementation.name == "cpython"
# A bound on consecutive retries of non-fatal codes, so a confused peer cannot spin us.
_MAX_RETRIES = 10_000
_allocate = ffi.new_allocator(should_clear_after_alloc=False)
# Bound once: these run for every read, write and network chunk.
# Reads (tlsapi_gnutls_recv) go through this: on the native socket path it reads ahead
# (see _socket_path), on the memory transport it is tlsapi_gnutls_recv itself.
_recv_fd = lib.tlsapi_gnutls_recv_fd
_send = lib.tlsapi_gnutls_send
_give = lib.tlsapi_gnutls_receive
_output_consume = lib.tlsapi_gnutls_output_consume
_from_buffer = ffi.from_buffer
_unpack = ffi.unpack
_E_AGAIN = int(lib.GNUTLS_E_AGAIN)
_NO_PROGRESS = int(lib.TLSAPI_GNUTLS_NO_PROGRESS)
_WINDOW_DONE = int(lib.TLSAPI_GNUTLS_WINDOW_DONE)
_KEEP_OUTPUT = int(lib.TLSAPI_GNUTLS_KEEP_OUTPUT)


# The core's C fast path (see _fast_functions): our transport.c functions of its types.
def _address(name: str) -> int:
    return int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))


_FAST_FUNCTIONS = (
    _address("tlsapi_gnutls_fast_send"),
    _address("tlsapi_gnutls_fast_recv"),
    _address("tlsapi_gnutls_fast_give"),
    _address("tlsapi_gnutls_fast_output"),
    _address("tlsapi_gnutls_fast_taken"),
    _address("tlsapi_gnutls_fast_bound"),
    _address("tlsapi_gnutls_fast_send_into"),
    _address("tlsapi_gnutls_fast_handshake"),
)
_NO_HANDSHAKE_PROGRESS = "the handshake made no progress (too many non-fatal GnuTLS returns)"

_WIRE_VERSIONS = {
    int(lib.GNUTLS_TLS1_0): 0x0301,
    int(lib.GNUTLS_TLS1_1): 0x0302,
    int(lib.GNUTLS_TLS1_2): 0x0303,
    int(lib.GNUTLS_TLS1_3): 0x0304,
}
_KP_SERVER = ffi.new("char[]", ffi.string(lib.GNUTLS_KP_TLS_WWW_SERVER))
_KP_CLIENT = ffi.new("char[]", ffi.string(lib.GNUTLS_KP_TLS_WWW_CLIENT))


# Fatal codes that get no alert from us: the peer's own alert, or no transport left.
_NO_ALERT_CODES = frozenset(
    int(code)
    for code in (
        lib.GNUTLS_E_FATAL_ALERT_RECEIVED,
        lib.GNUTLS_E_PREMATURE_TERMINATION,
        lib.GNUTLS_E_PULL_ERROR,
        lib.GNUTLS_E_PUSH_ERROR,
    )
)

# A TLS 1.3 server sends its tickets once the handshake is done (see _resumption.py).
_NO_AUTO_TICKET = int(lib.tlsapi_gnutls_no_auto_send_ticket())
_SERVER_FLAGS = int(lib.GNUTLS_SERVER | lib.GNUTLS_NONBLOCK) | _NO_AUTO_TICKET
_CLIENT_FLAGS = int(lib.GNUTLS_CLIENT | lib.GNUTLS_NONBLOCK | lib.GNUTLS_FORCE_CLIENT_CERT)


def _purpose(oid: Any) -> tuple[int, Any, int]:
    return (lib.GNUTLS_DT_KEY_PURPOSE_OID, ffi.cast("unsigned char *", oid), 0)


# The server's verification data never changes: client-authentication purpose only.
_SERVER_VDATA = ffi.new("gnutls_typed_vdata_st[1]", [_purpose(_KP_CLIENT)])


class GnuTLSBuffer(SocketPathBuffer):
    """A TLS connection on GnuTLS, over in-memory buffers."""

    def __init__(
        self,
        context: ClientContext | ServerContext,
        settings: ConnectionSettings,
        *,
        server: bool,
        server_name: ServerName | None = None,
        settings_for: Callable[[TLSConfiguration], ConnectionSettings] | None = None,
        keylog: KeyLogWriter | None = None,
        sessions: ServerSessions | None = None,
    ) -> None:
        super().__init__(context, None if server_name is None else server_name.name)
        self._is_server = server
        # The server context's settings for a configuration an sni_callback returns:
        # passed in, so that this module need not import the context's.
        self._settings_for = settings_for
        # What the C side's incoming window points into (a bytes object, or its pinned
        # cdata), kept alive until the window is empty.
        self._borrowed: object = None
        self._callback_error: BaseException | None = None
        self._callback_what = ""
        self._keylog = keylog
        self._sessions = sessions  # the server context's tickets and session cache
        self._hello_seen = False
        self._cipher_cache: int | None = None

        # Send our certificate even when its issuer is not among the CA names the
        # server lists: the server's verdict is clearer than silently sending none.
        flags = _SERVER_FLAGS if server else _CLIENT_FLAGS
        # gnutls_init, our C push/pull, no handshake timeout; the struct owns the session.
        self._transport = new_transport(flags)
        session = self._session = self._transport.session
        # Stored after the session, so that on deallocation the session
        # (gnutls_deinit) goes before the credentials and priorities it points to.
        self._settings = settings
        assert settings.priority is not None
        self._check(lib.gnutls_priority_set(session, settings.priority.cdata))
        if server or keylog is not None:
            # How callbacks find us (see the module docstring).
            self._handle = ffi.new_handle(weakref.ref(self))
            lib.gnutls_session_set_ptr(session, self._handle)
        # NULL: no secrets to $SSLKEYLOGFILE behind the configuration's back.
        lib.gnutls_session_set_keylog_function(
            session, ffi.NULL if keylog is None else lib.tlsapi_gnutls_keylog
        )
        if server:
            self._setup_server(settings)
        else:
            self._setup_client(settings, server_name)

    # -- set-up -----------------------------------------------------------------

    def _check(self, code: int) -> int:
        if code < 0:
            raise_for_code(code, session=self._session)
        return code

    def _setup_client(self, settings: ConnectionSettings, server_name: ServerName | None) -> None:
        session = self._session
        self._check(
            lib.gnutls_credentials_set(
                session, lib.GNUTLS_CRD_CERTIFICATE, settings.credentials.cdata
            )
        )
        settings.apply_alpn(session, server=False)
        if server_name is not None and server_name.sni is not None:
            name = server_name.sni.encode("ascii")
            self._check(lib.gnutls_server_name_set(session, lib.GNUTLS_NAME_DNS, name, len(name)))
        if settings.verify_peer and server_name is not None:
            # GnuTLS keeps pointers to this data for the session's lifetime.
            if server_name.ip is not None:
                self._vdata_name = ffi.new("unsigned char[]", server_name.ip.packed)
                element = (lib.GNUTLS_DT_IP_ADDRESS, self._vdata_name, len(server_name.ip.packed))
            else:
                self._vdata_name = ffi.new("unsigned char[]", server_name.name.encode("ascii"))
                element = (lib.GNUTLS_DT_DNS_HOSTNAME, self._vdata_name, 0)
            self._vdata = ffi.new("gnutls_typed_vdata_st[2]", [element, _purpose(_KP_SERVER)])
            lib.gnutls_session_set_verify_cert2(session, self._vdata, 2, 0)

    def _setup_server(self, settings: ConnectionSettings) -> None:
        if self._sessions is not None:
            self._check(self._sessions.apply(self._session, self._handle))
        if settings.config.sni_callback is not None:
            # Credentials, client-certificate request and ALPN wait for the callback;
            # the transport's own hook (every handshake message) hands the hello on.
            self._transport.hello_hook = lib.tlsapi_gnutls_client_hello_hook
        self._apply_server_settings(settings)

    def _apply_server_settings(self, settings: ConnectionSettings) -> None:
        session = self._session
        self._active_settings = settings  # keeps its credentials alive with the session
        self._check(
            lib.gnutls_credentials_set(
                session, lib.GNUTLS_CRD_CERTIFICATE, settings.credentials.cdata
            )
        )
        if settings.verify_peer:
            lib.gnutls_certificate_server_set_request(session, lib.GNUTLS_CERT_REQUIRE)
            lib.gnutls_session_set_verify_cert2(session, _SERVER_VDATA, 1, 0)
        else:
            lib.gnutls_certificate_server_set_request(session, lib.GNUTLS_CERT_IGNORE)
        # ALPN may be set once per session (GnuTLS appends on a second call): with an
        # sni_callback it is set from the hook, after the callback chose the settings.
        if settings.config.sni_callback is None or self._hello_seen:
            settings.apply_alpn(session, server=True)

    # -- the ClientHello hook (server with sni_callback) -------------------------------

    def _on_client_hello(self, message: Any) -> int:
        if self._hello_seen:
            return 0  # the second ClientHello after a HelloRetryRequest
        self._hello_seen = True
        try:
            name = _server_name_from_hello(message)
            self._server_hostname = name
            config = self._settings.config
            callback = config.sni_callback
            assert callback is not None
            result = self._run_callback(callback, self, name, config)
            if result is None:
                settings = self._settings
            elif isinstance(result, TLSConfiguration):
                assert self._settings_for is not None
                settings = self._settings_for(result)
            else:
                raise TypeError(
                    f"sni_callback must return a TLSConfiguration or None, not {type(result).__name__}"
                )
            self._apply_server_settings(settings)
        except BaseException as exc:  # re-raised from do_handshake(), chained
            self._callback_failed(exc, "the sni_callback")
            return int(lib.GNUTLS_E_APPLICATION_ERROR_MAX)
        return 0

    def _callback_failed(self, error: BaseException, what: str) -> None:
        """Keep what a callback raised (the first), for when GnuTLS returns."""
        if self._callback_error is None:
            self._callback_error = error
            self._callback_what = what
            # The fast handshake step then hands its result to Python, never a plain want-read.
            self._transport.callback_failed = 1

    def _raise_callback_error(self) -> None:
        error = self._callback_error
        if error is None:
            return
        self._callback_error = None
        self._transport.callback_failed = 0
        lib.gnutls_alert_send(self._session, lib.GNUTLS_AL_FATAL, lib.GNUTLS_A_INTERNAL_ERROR)
        if not isinstance(error, Exception):
            raise error  # KeyboardInterrupt, SystemExit: not a TLS failure
        raise TLSError(f"{self._callback_what} failed: {error!r}") from error

    def _log_resumed_master_secret(self) -> None:
        """TLS 1.2 resumption: GnuTLS logs nothing (the master secret is not derived
        again), but the line is keyed by the new client random; ssl writes it too."""
        if self._tls_version_number() != 0x0303:
            return
        session, writer = self._session, self._keylog
        assert writer is not None
        client_random, master = ffi.new("gnutls_datum_t *"), ffi.new("gnutls_datum_t *")
        lib.gnutls_session_get_random(session, client_random, ffi.NULL)
        lib.gnutls_session_get_master_secret(session, master)
        try:
            writer.write(
                "CLIENT_RANDOM",
                ffi.unpack(ffi.cast("char *", client_random.data), client_random.size),
                ffi.unpack(ffi.cast("char *", master.data), master.size),
            )
        except Exception as exc:
            lib.gnutls_alert_send(session, lib.GNUTLS_AL_FATAL, lib.GNUTLS_A_INTERNAL_ERROR)
            raise TLSError(f"writing the key log to {writer.path!r} failed: {exc!r}") from exc

    def _on_keylog(self, session: Any, label: Any, secret: Any) -> int:
        writer = self._keylog
        if writer is None:
            return 0
        try:
            client_random = ffi.new("gnutls_datum_t *")
            lib.gnutls_session_get_random(session, client_random, ffi.NULL)
            writer.write(
                ffi.string(label).decode("ascii"),
                ffi.unpack(ffi.cast("char *", client_random.data), client_random.size),
                ffi.unpack(ffi.cast("char *", secret.data), secret.size),
            )
        except BaseException as exc:  # the handshake fails with it, as ssl's does
            self._callback_failed(exc, f"writing the key log to {writer.path!r}")
            return int(lib.GNUTLS_E_APPLICATION_ERROR_MAX)
        return 0

    # -- the handshake ---------------------------------------------------------------

    def _handshake(self) -> None:
        state = self._transport
        # The native socket path: each flight (and the tickets) in one send(), not one per
        # record (see tlsapi_gnutls_cork_fd); what the socket does not take stays queued.
        lib.tlsapi_gnutls_cork_fd(state, 1)
        try:
            for _ in range(_MAX_RETRIES):
                # gnutls_handshake until done or starved (TLS 1.3 may say EAGAIN after a message).
                code = lib.tlsapi_gnutls_handshake(state)
                if state.tap_len:  # the native socket path: what pull read, for the not-TLS check
                    self._read_tapped()
                if self._after_handshake_step(code):
                    return
            raise TLSError(_NO_HANDSHAKE_PROGRESS)
        finally:
            lib.tlsapi_gnutls_cork_fd(state, 0)  # an error stays queued for the engine's flush

    def _after_handshake_step(self, code: int) -> bool:
        """After tlsapi_gnutls_handshake answered ``code``: True when the handshake is
        done, False to call again (a non-fatal code); raises WantReadError or the failure."""
        state = self._transport
        if not state.in_len:
            self._borrowed = None  # all pulled: keep no chunk of the peer's flight
        self._raise_callback_error()
        if code == 0:
            if self._is_server and self._server_hostname is None:
                self._server_hostname = self._received_server_name()
            enforce_policy(self)  # tlsapi's verification policy, beyond GnuTLS's
            if self._keylog is not None and lib.gnutls_session_is_resumed(self._session):
                self._log_resumed_master_secret()
            if self._sessions is not None and _NO_AUTO_TICKET:
                self._sessions.send_tickets(self._session)
            return True
        if code == _E_AGAIN:
            if not state.starved:  # EAGAIN after EAGAIN without waiting for bytes
                raise TLSError(_NO_HANDSHAKE_PROGRESS)
            if state.sys_errno:
                raise socket_error(state)  # the native socket path: recv failed
            raise WantReadError("the handshake needs more data from the peer")
        if not lib.gnutls_error_is_fatal(code):
            return False  # GNUTLS_E_INTERRUPTED, a warning alert, ...
        self._fail_handshake(code)

    def _fast_handshake_result(self, result: int) -> None:
        # transport.c's tlsapi_gnutls_fast_handshake: RECV_STOPPED + the step's code.
        if not self._after_handshake_step(result - RECV_STOPPED):
            self._handshake()  # a non-fatal code: on, as the Python path goes

    def _fail_handshake(self, code: int) -> NoReturn:
        session = self._session
        if code == lib.GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
            status = lib.gnutls_session_get_verify_cert_status(session)
            lib.gnutls_alert_send_appropriate(session, code)
            whose = "client's" if self._is_server else "server's"
            raise certificate_error(status, self._peer_chain(), whose)
        self._send_alert_for(code)
        raise_for_code(code, session=session, transport_eof=bool(self._transport.eof))

    def _send_alert_for(self, code: int) -> None:
        """Tell the peer why we give up: the alert the RFCs name for this fatal ``code``.

        GnuTLS leaves this to the application (gnutls-serv does it too); not when
        the peer ended the connection itself or the transport failed.
        """
        if code in _NO_ALERT_CODES or (
            # A record cut short by the peer's close: RaggedEOF, as on every backend;
            # an alert would only meet a closed socket (and a reset instead of the error).
            self._transport.eof and code == lib.GNUTLS_E_UNEXPECTED_PACKET_LENGTH
        ):
            return
        lib.gnutls_alert_send_appropriate(self._session, code)
        if self._sessions is not None and self._handshake_done:
            self._sessions.forget(self._session)  # never resume a session that failed

    def _received_server_name(self) -> str | None:
        data = ffi.new("char[256]")
        size = ffi.new("size_t *", 256)
        kind = ffi.new("unsigned int *")
        code = lib.gnutls_server_name_get(self._session, data, size, kind, 0)
        if code < 0 or kind[0] != lib.GNUTLS_NAME_DNS:
            return None
        return str(ffi.string(data, size[0]).decode("ascii", "replace"))

    # -- the network side -------------------------------------------------------------

    def _receive(self, data: bytes | memoryview) -> None:
        if type(data) is bytes:
            lent: object = data if _BYTES_STAY_PUT else _from_buffer(data)
            kept = _give(self._transport, lent, len(data), 1)
            if kept == 1:
                self._borrowed = lent  # the window points into it: keep it alive
                return
        else:  # the owner may reuse this memory: the C side copies it
            kept = _give(self._transport, _from_buffer(data), len(data), 0)
        if kept == 0:
            self._borrowed = None  # copied (with what was left of a borrowed window)
        elif kept < 0:
            raise MemoryError("no memory for the ciphertext received")

    def _read_tapped(self) -> None:
        """The native socket path: the peer's bytes GnuTLS read, for the core's check of
        its first bytes (is it TLS at all?)."""
        data = self._take_tap()
        if (
            data is not None
            and self._peer_start is not None
            and self._refuses_start(data + self._peek_socket())
        ):
            self._tap_done()
            assert self._first_failure is not None
            raise self._first_failure  # NotTLSError, whatever GnuTLS made of them
        if self._peer_start is None:
            self._tap_done()

    def offered_cipher_suites(self) -> tuple[int, ...] | None:
        """The cipher suites in the client's first hello (a server, once GnuTLS read it),
        else None.  transport.c keeps the vector from GnuTLS's hook (tlsapi_gnutls_keep_offer),
        set once and never changed: read without the lock, so an sni_callback may ask."""
        transport = self._transport
        offered = transport.offered
        if offered == ffi.NULL:
            return None
        count = int(transport.offered_len) // 2  # an odd last byte is GnuTLS's to judge
        return struct.unpack(f">{count}H", ffi.buffer(offered, 2 * count))

    def _receive_eof(self) -> None:
        self._transport.eof = 1  # pull returns 0 once the window is empty

    def _incoming_size(self) -> int:
        return int(self._transport.in_len)

    # The outgoing side: what push wrote since the last call goes to the base
    # class's queue as one bytes object (one copy), and the C side lets go of
    # it (it frees a large buffer, keeps a small one for the next message).

    def _library_output(self) -> bytes:
        transport = self._transport
        size: int = transport.out_len
        if not size:
            return b""
        data: bytes = _unpack(transport.out_data, size)
        if transport.out_cap > _KEEP_OUTPUT:
            _output_consume(transport, size)  # frees the large buffer a bulk run grew
        else:
            transport.out_len = 0  # all taken: a field store costs less than a C call
        return data

    # -- application data -------------------------------------------------------------

    # Reading: tlsapi_gnutls_recv takes records while whole ones are here and the
    # target has room (one cffi call).  It returns the bytes read, or with
    # RECV_STOPPED added, the bytes read before something to act on:
    # close_notify, nothing read yet (WantReadError), an error.  A stop met
    # after data is held by the core (_stop_after_data) for the next read.

    def _recv_stopped(self, count: int) -> int:
        """Reading stopped after ``count`` bytes, for the reason in the C side's ``code``."""
        code = int(self._transport.code)
        if code == 0:  # close_notify
            if count:
                self._stop_after_data(None)
            return count
        if code == _E_AGAIN:  # starved with nothing read
            if self._transport.sys_errno:
                raise socket_error(self._transport)  # the native socket path: recv failed
            raise WantReadError("more TLS records from the peer are needed")
        if code == _NO_PROGRESS:
            if count:
                return count
            raise TLSError("reading made no progress (too many non-fatal GnuTLS returns)")
        self._send_alert_for(code)
        try:
            raise_for_code(code, session=self._session, transport_eof=bool(self._transport.eof))
        except TLSError as exc:
            # GnuTLS invalidated the session: the core keeps this the answer from now on.
            if count:
                self._stop_after_data(exc)
                return count
            raise

    def _read(self, amt: int) -> bytes:
        try:
            scratch = _SCRATCH.buffer
        except AttributeError:
            scratch = _SCRATCH.buffer = _allocate("char[]", _SCRATCH_SIZE)
        state = self._transport
        count: int = _recv_fd(state, scratch, min(amt, _SCRATCH_SIZE))
        if not state.in_len:
            self._borrowed = None  # the window is empty: an idle connection keeps no chunk
        if count >= RECV_STOPPED:
            count = self._recv_stopped(count - RECV_STOPPED)
        return _unpack(scratch, count) if count else b""

    def _readinto(self, target: bytearray | memoryview) -> int:
        # The core passes a writable buffer (it refuses a read-only one): from_buffer's
        # cheapest form, no require_writable.
        state = self._transport
        count: int = _recv_fd(state, _from_buffer(target), len(target))
        if not state.in_len:
            self._borrowed = None  # the window is empty: an idle connection keeps no chunk
        if count < RECV_STOPPED:
            return count
        return self._recv_stopped(count - RECV_STOPPED)

    def _write(self, data: bytes | bytearray | memoryview) -> int:
        # One record per gnutls_record_send, looped in C; our push never blocks.
        size = len(data)
        code: int = _send(
            self._transport, data if type(data) is bytes else _from_buffer(data), size
        )
        if code > 0:
            return code
        return self._fast_send_result(code)

    # The core's C fast path calls transport.c's tlsapi_gnutls_fast_* (the same
    # calls as _write, _readinto, _receive and _library_output above, declining
    # the native socket path and a borrowed window); what is not plain success
    # comes back here.

    def _fast_functions(self) -> tuple[int, ...] | None:
        return (FAST_ABI, int(ffi.cast("uintptr_t", self._transport)), *_FAST_FUNCTIONS)

    def _fast_recv_result(self, result: int) -> int:
        if result >= _WINDOW_DONE:  # the borrowed window is read: let its bytes go
            self._borrowed = None
            result -= _WINDOW_DONE
            if result < RECV_STOPPED:
                return result
        if result < RECV_STOPPED:
            raise TLSError(f"tlsapi-gnutls bug: fast recv answered {result}")
        return self._recv_stopped(result - RECV_STOPPED)

    def _fast_send_result(self, result: int) -> int:
        code = result
        if code == 0:
            raise TLSError("writing made no progress (too many non-fatal GnuTLS returns)")
        self._send_alert_for(code)
        raise_for_code(code, session=self._session)

    def _shutdown(self) -> None:
        if not self._handshake_done:
            return  # nothing negotiated: there is no session to close
        code = lib.gnutls_bye(self._session, lib.GNUTLS_SHUT_WR)
        if code < 0 and lib.gnutls_error_is_fatal(code):
            self._send_alert_for(code)
            raise_for_code(code, session=self._session)

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        """RFC 5929's tls-unique as the ssl module gives it, None before the handshake.

        That is the verify_data of the first Finished: the client's in a full
        handshake, the server's in a resumption.  Under TLS 1.3, where tls-unique
        is not defined and GnuTLS refuses it, ssl still gives the client's
        Finished (the server's after a resumption): so do we, both kept by the
        transport's handshake hook.
        """
        if cb_type != "tls-unique":
            raise ValueError(f"{cb_type} channel binding type not implemented")
        with self._exclusive():
            if not self._handshake_done:
                return None
            transport = self._transport
            if self._tls_version_number() == 0x0304:
                if lib.gnutls_session_is_resumed(self._session):
                    kept, size = transport.server_finished, int(transport.server_finished_len)
                else:
                    kept, size = transport.client_finished, int(transport.client_finished_len)
                return _unpack(ffi.cast("char *", kept), size) or None
            datum = ffi.new("gnutls_datum_t *")
            code = lib.gnutls_session_channel_binding(
                self._session, lib.GNUTLS_CB_TLS_UNIQUE, datum
            )
            if code < 0:
                return None
            try:
                return _unpack(ffi.cast("char *", datum.data), datum.size) or None
            finally:
                lib.tlsapi_gnutls_free(datum.data)

    def key_update(self, request_peer_update: bool = True) -> None:
        """Send a TLS 1.3 KeyUpdate (asking the peer to update its keys too, by default)."""
        with self._exclusive():
            if not self._handshake_done:
                raise TLSError("key_update() needs a finished handshake")
            self._ready_to_write()  # a failed connection, or a fatal error held behind data
            if self._tls_version_number() != 0x0304:
                raise TLSError("key_update() needs TLS 1.3")
            flags = lib.GNUTLS_KU_PEER if request_peer_update else 0
            code = lib.gnutls_session_key_update(self._session, flags)
            if code < 0:
                raise_for_code(code, session=self._session)

    # -- what was negotiated -----------------------------------------------------------

    def _cipher_number(self) -> int | None:
        if self._cipher_cache is None:
            session = self._session
            self._cipher_cache = negotiated_suite(
                int(lib.gnutls_protocol_get_version(session)),
                int(lib.gnutls_kx_get(session)),
                int(lib.gnutls_cipher_get(session)),
                int(lib.gnutls_mac_get(session)),
            )
        return self._cipher_cache

    def _negotiated_protocol(self) -> bytes | None:
        datum = ffi.new("gnutls_datum_t *")
        if lib.gnutls_alpn_get_selected_protocol(self._session, datum) < 0:
            return None
        return bytes(ffi.buffer(datum.data, datum.size))

    def _tls_version_number(self) -> int | None:
        return _WIRE_VERSIONS.get(int(lib.gnutls_protocol_get_version(self._session)))

    def _negotiated_group(self) -> int | None:
        return negotiated_group(self._session)

    def _signature_scheme(self) -> int | None:
        return peer_signature_scheme(self._session, server=self._is_server)

    def _certificate_requested(self) -> bool | None:
        if self._is_server:
            return None
        return bool(lib.gnutls_certificate_client_get_request_status(self._session))

    # -- session resumption (see _resumption.py) -----------------------------------

    def _offer_session(self, state: object) -> None:
        if not isinstance(state, bytes):
            raise TypeError("not a session this backend made")
        # A session GnuTLS cannot take back (it expired) is not offered: a full
        # handshake follows, as when the server refuses one.
        lib.gnutls_session_set_data(self._session, state, len(state))

    def _session_state(self) -> bytes | None:
        if self._is_server:
            return None
        return client_session_data(self._session)

    def _session_reused(self) -> bool:
        return bool(lib.gnutls_session_is_resumed(self._session))

    def _peer_chain(self) -> list[bytes] | None:
        count = ffi.new("unsigned int *")
        certificates = lib.gnutls_certificate_get_peers(self._session, count)
        if certificates == ffi.NULL or count[0] == 0:
            return None
        return [
            bytes(ffi.buffer(certificates[i].data, certificates[i].size)) for i in range(count[0])
        ]


# -- the hook trampolines ---------------------------------------------------------------


@def_extern(error=int(lib.GNUTLS_E_APPLICATION_ERROR_MAX))
def tlsapi_gnutls_client_hello_hook(
    session: Any, htype: int, when: int, incoming: int, message: Any
) -> int:
    reference: weakref.ref[GnuTLSBuffer] = ffi.from_handle(lib.gnutls_session_get_ptr(session))
    owner = reference()
    if owner is None or htype != lib.GNUTLS_HANDSHAKE_CLIENT_HELLO or not incoming:
        return 0
    return owner._on_client_hello(message)


@def_extern(error=int(lib.GNUTLS_E_APPLICATION_ERROR_MAX))
def tlsapi_gnutls_keylog(session: Any, label: Any, secret: Any) -> int:
    reference: weakref.ref[GnuTLSBuffer] = ffi.from_handle(lib.gnutls_session_get_ptr(session))
    owner = reference()
    if owner is None:
        return 0
    return owner._on_keylog(session, label, secret)


@def_extern(error=-1)
def tlsapi_gnutls_raw_extension(context: Any, tls_id: int, data: Any, size: int) -> int:
    if tls_id == 0:  # server_name
        found: list[bytes] = ffi.from_handle(context)
        found.append(bytes(ffi.buffer(data, size)) if size else b"")
    return 0


def _server_name_from_hello(message: Any) -> str | None:
    """The host_name in a ClientHello's server_name extension (RFC 6066), if any."""
    found: list[bytes] = []
    handle = ffi.new_handle(found)
    code = lib.gnutls_ext_raw_parse(
        handle, lib.tlsapi_gnutls_raw_extension, message, lib.GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO
    )
    if code < 0 or not found:
        return None
    extension = found[0]
    end = min(len(extension), 2 + int.from_bytes(extension[:2], "big"))
    position = 2
    while position + 3 <= end:
        kind = extension[position]
        length = int.from_bytes(extension[position + 1 : position + 3], "big")
        name = extension[position + 3 : position + 3 + length]
        position += 3 + length
        if kind == 0 and len(name) == length and length:
            return name.decode("ascii", "replace")
    return None
