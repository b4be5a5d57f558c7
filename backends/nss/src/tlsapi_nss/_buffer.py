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

When a TLSWrappedSocket wraps a real socket, the same memio layer reads and
writes the socket itself instead (the native socket path: ``_socket_path``).
"""

from __future__ import annotations

import itertools
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from tlsapi import ConfigurationError, RaggedEOF, TLSError, WantReadError
from tlsapi.backend_api import (
    FAST_ABI,
    ClientHello,
    HelloDecodeError,
    HelloReader,
    MalformedHello,
    ServerName,
)

from ._errors import error_name, error_text, translate
from ._groups import negotiated_group
from ._hooks import ders
from ._lib import ffi, lib
from ._records import (
    CLIENT_HELLO,
    NEW_SESSION_TICKET,
    SERVER_HELLO,
    PlainHandshakes,
    client_random,
    hello_extensions,
    offers_tls13,
    session_id_only,
)
from ._runtime import RUNTIME
from ._socket_path import SocketPathBuffer, socket_error
from ._tickets import TLS13_SUITES, TokenProbe, same_hash, token_suite

if TYPE_CHECKING:
    from tlsapi import ClientContext, ServerContext, TLSConfiguration

    from ._profile import Profile

__all__ = ["NSSBuffer", "NSSSession"]

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
_WOULD_BLOCK = lib.PR_WOULD_BLOCK_ERROR
_FAST_STOPPED = int(lib.TLSAPI_NSS_FAST_STOPPED)


def _address(name: str) -> int:
    return int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))


# The core's C fast path (see _fast_functions): our fast.c functions of its types.
_FAST_FUNCTIONS = (
    _address("tlsapi_nss_fast_send"),
    _address("tlsapi_nss_fast_recv"),
    _address("tlsapi_nss_fast_give"),
    _address("tlsapi_nss_fast_output"),
    _address("tlsapi_nss_fast_taken"),
    _address("tlsapi_nss_fast_bound"),
    _address("tlsapi_nss_fast_send_into"),
)
_CHANNEL_INFO_SIZE = ffi.sizeof("SSLChannelInfo")


def _hooks(server: bool, keylog: bool) -> Any:
    """The hooks a connection's socket gets (see tlsapi_nss_set_hooks)."""
    return ffi.new(
        "tlsapi_nss_hooks *",
        {
            "auth_certificate": lib.tlsapi_nss_auth_certificate_cb,
            # Shows a server the token of a TLS 1.3 ticket being resumed (see _tickets).
            "hello_retry": lib.tlsapi_nss_hello_retry_cb,
            "sni_config": lib.tlsapi_nss_sni_config_cb,
            # Installed with or without a certificate: it tells certificate_requested().
            "client_auth_data": lib.tlsapi_nss_client_auth_data_cb,
            "resumption_token": lib.tlsapi_nss_resumption_token_cb,
            "secret": lib.tlsapi_nss_secret_cb if keylog else ffi.NULL,
        },
    )


# By (server side, key log): made once, for every connection.
_HOOKS = {
    (server, keylog): _hooks(server, keylog) for server in (False, True) for keylog in (False, True)
}
_HANDSHAKE_FAILURE_ALERT = bytes((21, 3, 1, 0, 2, 2, 40))
_DECODE_ERROR_ALERT = bytes((21, 3, 1, 0, 2, 2, 50))
# Finite-field Diffie-Hellman below this is refused (as OpenSSL's default level 2 does);
# NSS's own floor is a process-wide policy of 1023 bits.
_MIN_DH_BITS = 2048
# Each client connection's own peer ID (see NSSSession).
_CONNECTIONS = itertools.count()


class NSSSession:
    """A client's resumable state, and what resuming skips.

    Either NSS's resumption ``token`` (what NSS exports: sessions with a
    ticket and without a client certificate), or the ``peer_id`` under which
    NSS's process-wide client cache holds the session (a TLS 1.2 session ID,
    a session with a client certificate).  Every client connection has a peer
    ID of its own, so that cache never offers a session by itself: only a
    connection given this state's peer ID finds it.

    A resumed handshake carries no certificates, and NSS keeps only the
    server's leaf: the chain the first handshake received and verified comes
    along, so that a resumed connection's getpeercert() and verified_chain()
    are the first one's.
    """

    __slots__ = ("peer_chain", "peer_id", "token", "verified_chain")

    def __init__(
        self,
        token: bytes | None,
        peer_id: bytes | None,
        peer_chain: list[bytes],
        verified_chain: list[bytes],
    ) -> None:
        self.token = token
        self.peer_id = peer_id
        self.peer_chain = peer_chain
        self.verified_chain = verified_chain


class NSSBuffer(SocketPathBuffer):
    # What a connection starts with where that is an immutable value: a class attribute,
    # shadowed by the instance's own once set (each set in __init__ cost a few bytecodes
    # per connection, and the instance dict a slot).
    _fd: Any = None
    _callback_error: BaseException | None = None
    _verify_error: TLSError | None = None
    _cipher: int | None = None
    _version: int | None = None
    _sni_failure: TLSError | None = None
    _client_hello: ClientHello | None = None
    # Read off the ClientHello for what NSS does not report (see _open_for_client_hello).
    _hello_extensions: dict[int, bytes] | None = None
    _client_random: bytes | None = None
    _keylog_error: TLSError | None = None
    # Sessions: the latest token NSS gave a client, the session it offered, and
    # on a server whether a resumed TLS 1.3 ticket was found to be ours.
    _resumption_token: bytes | None = None
    _offered: NSSSession | None = None
    _our_ticket = False
    _foreign_ticket = False
    _tls13 = False
    # A client: whether its session goes to NSS's cache (cache mode) instead of a
    # token, and if so the entry's removal should nobody take the session.
    _session_id_only = False
    _cache_mode = False
    _forget: weakref.finalize[Any, Any] | None = None
    _resumed = False
    _scheme: int | None = None
    _certificate_request_seen = False

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
        # The ciphertext both ways, in C; freed when the buffer and the socket are both gone.
        state = lib.tlsapi_nss_memio_state_new()
        if state == ffi.NULL:
            raise MemoryError("no memory for a TLS connection's buffers")
        self._memio = ffi.gc(state, lib.tlsapi_nss_memio_state_release)
        # The received chunks C points into (oldest first), kept alive until used up.
        # A list, not a deque: an empty deque costs 760 bytes per connection.
        self._chunks: list[Any] = []
        self._verified_chain: list[bytes] = []
        # A server reads the ClientHello as it arrives: before NSS does when it must see
        # it first (profile.reads_hello), and always for the suites the client offered,
        # which NSS does not report.
        self._hello_reader = (
            HelloReader(extensions=profile.reads_hello) if profile.server_side else None
        )
        # The plaintext handshake messages, read for what NSS does not report: the
        # client random of a key log, a server's own TLS 1.2 tickets.  A server that
        # reads the hello first takes the random and extensions from the hello reader's
        # parse instead (see _open_for_client_hello): not a second pass over its bytes.
        self._incoming_plain: PlainHandshakes | None = (
            None if profile.reads_hello else PlainHandshakes()
        )
        self._outgoing_plain = PlainHandshakes() if profile.keylog is not None else None
        # A client's own peer ID (see NSSSession).
        self._peer_id = profile.peer_id + b":%d" % next(_CONNECTIONS)
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
        server = self._server_side
        hooks = _HOOKS[server, profile.keylog is not None]
        name = self._server_name
        url = ffi.NULL if server or name is None else name.name.encode("ascii")
        code = lib.tlsapi_nss_set_hooks(fd, hooks, self._handle, server, url, self._peer_id)
        if code:
            raise TLSError(f"NSS cannot set up the connection: {error_text(code)}")
        self._profile = profile
        self._fd = fd

    def _open_for_client_hello(self) -> None:
        """A server that reads the ClientHello first: the sni_callback, ALPN overlap, tickets
        and, with several chains, those the client can verify."""
        if self._sni_failure is not None:
            raise self._sni_failure
        reader = self._hello_reader
        assert reader is not None, "only a server that reads the hello opens its socket late"
        try:
            hello = reader.result()
        except HelloDecodeError as exc:
            # What NSS answers a hello it cannot decode: a fatal decode_error, in the clear.
            self._refuse_hello(exc.tls_error(), exc)
        except MalformedHello:
            # NSS says what is wrong with it (with TLS 1.2 tickets off: we could not
            # see whether it offers one of ours).
            self._open(self._profile, self._profile.variant(alpn=True, tickets=False))
            self._hello_reader = None
            self._read_hello_records()
            return
        if hello is None:
            if self._transport_eof:
                raise RaggedEOF("the peer closed the connection during the handshake")
            raise WantReadError("more data from the peer is needed")
        self._server_hostname = hello.server_name
        self._client_hello = hello
        self._client_random = hello.random
        self._hello_extensions = hello.extensions
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
        alpn = not (hello.alpn is not None and profile.alpn and profile.alpn.isdisjoint(hello.alpn))
        tickets = self._tls12_tickets(profile)
        # TLS 1.2: only the chains the client's signature algorithms can verify, since
        # NSS picks the suite by the certificates it has (TLS 1.3 needs no help).
        chains = None if self._tls13 else profile.usable_chains(hello.signature_algorithms)
        avoid = self._foreign_ticket_suites(profile, hello, alpn, tickets)
        self._open(profile, profile.variant(alpn, tickets, avoid, chains))
        self._hello_reader = None
        if self._outgoing_plain is None and not self._tls13:
            self._outgoing_plain = PlainHandshakes()  # to see the TLS 1.2 tickets we issue

    def _tls12_tickets(self, profile: Profile) -> bool:
        """Whether NSS may take and issue TLS 1.2 tickets on this connection (a server).

        Off when the connection will be TLS 1.3 (we send our own tickets then, see
        _tickets) and when the client offers a ticket this configuration did not
        issue: NSS then ignores it and makes a full handshake.
        """
        extensions = self._hello_extensions
        if extensions is None:
            return False  # a hello we could not read: no ticket of unknown origin
        self._tls13 = profile.selection.high >= 0x0304 and offers_tls13(extensions)
        if self._tls13:
            return False
        ticket = extensions.get(35)
        if not ticket:
            return True
        assert profile.tickets is not None
        return profile.tickets.knows(ticket)

    def _foreign_ticket_suites(
        self, profile: Profile, hello: ClientHello, alpn: bool, tickets: bool
    ) -> frozenset[int]:
        """The TLS 1.3 suites to leave out so that NSS cannot resume the ticket offered.

        Empty unless the hello offers a TLS 1.3 ticket another server configuration
        issued (see _tickets): then the suites with that ticket's hash, provided
        the client and this configuration share a suite of the other hash.
        """
        if not self._tls13 or 41 not in (self._hello_extensions or {}):  # pre_shared_key
            return frozenset()
        assert profile.tickets is not None
        token = self._ticket_token(profile.variant(alpn, tickets))
        if token is None or profile.tickets.owns(token):
            return frozenset()
        suite = token_suite(token)
        if suite is None:
            return frozenset()  # not a ticket of ours at all: refused (see _hooks)
        avoid = same_hash(suite)
        others = (TLS13_SUITES - avoid) & set(profile.selection.suites)
        if others.isdisjoint(hello.cipher_suites):
            return frozenset()  # no suite to fall back to: refused (see _hooks)
        self._foreign_ticket = True
        return avoid

    def _ticket_token(self, model: Any) -> bytes | None:
        """The token of the TLS 1.3 ticket the received ClientHello offers, if NSS can
        decrypt it: a throwaway socket reads the hello up to the HelloRetryRequest
        callback, which notes the token and stops it there (nothing is sent)."""
        probe = TokenProbe()
        handle = ffi.new_handle(weakref.ref(probe))
        raw_state = lib.tlsapi_nss_memio_state_new()
        if raw_state == ffi.NULL:
            raise MemoryError("no memory for a TLS connection's buffers")
        state = ffi.gc(raw_state, lib.tlsapi_nss_memio_state_release)
        stub = lib.tlsapi_nss_memio_new(state)
        if stub == ffi.NULL:
            return None
        raw = lib.SSL_ImportFD(model, stub)
        if raw == ffi.NULL:
            lib.PR_Close(stub)
            return None
        fd = RUNTIME.owned(raw, lib.tlsapi_nss_memio_close)
        if (
            lib.tlsapi_nss_hello_retry_callback(fd, lib.tlsapi_nss_hello_retry_cb, handle) != 0
            or lib.SSL_ResetHandshake(fd, 1) != 0
        ):
            return None
        for chunk in self._chunks:  # the whole hello, kept alive by self._chunks
            if _feed(state, chunk, len(chunk)) < 0:
                return None
        lib.tlsapi_nss_handshake(fd)
        return probe.token

    def _refuse_hello(
        self, error: TLSError, cause: BaseException, alert: bytes = _DECODE_ERROR_ALERT
    ) -> NoReturn:
        """Fail the connection before NSS has seen it, answering the client with ``alert``."""
        error.__cause__ = cause
        self._sni_failure = error
        self._hello_reader = None
        if not self._on_socket:
            self._outgoing.append(alert)
        elif lib.tlsapi_nss_memio_send_fd(self._memio, alert, len(alert)) < 0:
            raise MemoryError("no memory to queue an alert")
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
                del chunks[: len(chunks) - live]  # one step, however many went
            else:
                raise MemoryError("no memory to queue the bytes received")
        chunks.append(chunk)
        if self._fast is not None:
            self._fast.python_fed = 1  # the fast path leaves these to the hooks
        self._observe_received(received)

    def _observe_received(self, received: bytes) -> None:
        """What the buffer reads of the peer's bytes itself (received, or tapped)."""
        plain = self._incoming_plain
        if plain is not None:
            if self._server_side:
                self._read_client_hello(plain, received)
            else:
                self._read_server_hello(plain, received)
        reader = self._hello_reader
        if reader is not None:
            reader.feed(received)  # each byte looked at once, as it arrives
            if self._fd is not None:  # NSS reads the hello itself: we only keep the offer
                self._keep_offer(reader)

    def _read_client_hello(self, plain: PlainHandshakes, received: bytes) -> None:
        """A server: the random and extensions of the ClientHello, then nothing more."""
        for kind, body in plain.feed(received):
            if kind == CLIENT_HELLO:
                self._client_random = client_random(body)
                self._hello_extensions = hello_extensions(body)
            plain.stop()
            break
        if plain.done:
            self._incoming_plain = None

    def _read_hello_records(self) -> None:
        """A server whose hello reader found no ClientHello it could parse: read the
        random and extensions (for a key log, should NSS accept it) off the records
        the old way.  Every byte received so far is still in ``_chunks``: NSS's socket
        has only just opened."""
        plain = PlainHandshakes()
        received = b"".join(
            chunk if type(chunk) is bytes else ffi.buffer(chunk)[:] for chunk in self._chunks
        )
        self._incoming_plain = plain
        self._read_client_hello(plain, received)

    def _read_server_hello(self, plain: PlainHandshakes, received: bytes) -> None:
        """A client: whether the server gives a TLS 1.2 session ID and no ticket."""
        for kind, body in plain.first(received) or plain.feed(received):
            if kind == SERVER_HELLO:
                self._session_id_only = session_id_only(body)
            plain.stop()
            break
        if plain.done:
            self._incoming_plain = None

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
        if self._resumed and self._offered is not None:
            return list(self._offered.verified_chain)
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
        if self._on_socket:
            return b""  # NSS sent it, or queued it for the socket (_socket_pending)
        state = self._memio
        size = state.out_len
        if not size:
            return b""
        data: bytes = _unpack(state.out, size)
        _taken(state)
        if self._outgoing_plain is not None:
            self._read_own_handshake(self._outgoing_plain, data)
        return data

    def _read_own_handshake(self, plain: PlainHandshakes, data: bytes) -> None:
        """What we sent in the clear: a client's random, a server's TLS 1.2 tickets."""
        for kind, body in plain.feed(data):
            if kind == CLIENT_HELLO and not self._server_side:
                self._client_random = client_random(body)
                plain.stop()
            elif kind == NEW_SESSION_TICKET and self._profile.tickets is not None:
                # ticket_lifetime_hint (4), then the ticket with a 2-byte length
                ticket = body[6 : 6 + int.from_bytes(body[4:6], "big")]
                if ticket:
                    self._profile.tickets.issued(ticket)
        if plain.done:
            self._outgoing_plain = None

    def _random_for_keylog(self) -> bytes | None:
        """The client random, read off the ClientHello (a client's may not be taken yet)."""
        if self._client_random is None and not self._server_side:
            if self._on_socket:
                self._read_sent_tap()  # our ClientHello went out through the tap
                return self._client_random
            state = self._memio
            if state.out_len:
                for kind, body in PlainHandshakes().feed(_unpack(state.out, state.out_len)):
                    if kind == CLIENT_HELLO:
                        return client_random(body)
        return self._client_random

    # -- TLS -------------------------------------------------------------------------

    def _handshake(self) -> None:
        on_socket = self._on_socket
        if self._fd is None:
            if on_socket:
                self._read_hello_from_socket()
            self._open_for_client_hello()
            if on_socket:
                self._update_taps()
        code = lib.tlsapi_nss_handshake(self._fd)
        if on_socket:
            self._read_taps()  # what the buffer path would have seen pass
        if not self._server_side and not self._cache_mode:
            self._choose_session_store()
        if code:
            if code == _WOULD_BLOCK and on_socket and self._memio.sys_errno:
                raise socket_error(self._memio)  # the native socket path: recv failed
            raise self._failure(code, "handshake")
        if on_socket:
            self._stop_taps()
        info = ffi.new("SSLChannelInfo *")
        if lib.SSL_GetChannelInfo(self._fd, info, _CHANNEL_INFO_SIZE) != 0:
            raise TLSError(f"NSS cannot describe the connection: {error_text(lib.PR_GetError())}")
        if info.keaType == lib.ssl_kea_dh and info.keaKeyBits < _MIN_DH_BITS:
            raise TLSError(
                f"the peer's Diffie-Hellman group has {info.keaKeyBits} bits; "
                f"at least {_MIN_DH_BITS} are required"
            )
        self._cipher = int(info.cipherSuite)
        self._version = int(info.protocolVersion)
        self._resumed = bool(info.resumed)
        # The scheme of the server's signature, which NSS reports on both ends: a
        # client's peer signature (a server cannot tell how its client signed).  A
        # resumption signs nothing (NSS repeats the first handshake's scheme).
        scheme = int(info.signatureScheme)
        self._scheme = scheme if scheme and not (self._server_side or self._resumed) else None
        if not self._memio.in_size:
            self._chunks.clear()  # all read: an idle connection keeps no handshake bytes
        if self._keylog_error is not None:
            raise self._keylog_error
        if self._server_side:
            self._hello_extensions = None  # read before the socket opened; not kept idle
            self._after_server_handshake()
        elif self._cache_mode and not self._resumed:
            # NSS's cache holds this connection's session under its own peer ID:
            # gone with the connection unless someone takes the session.
            forget = weakref.finalize(self, lib.SSL_InvalidateSession, self._fd)
            forget.atexit = False
            self._forget = forget

    def _choose_session_store(self) -> None:
        """A client, between handshake steps: leave tokens for NSS's cache if need be.

        NSS exports a token only for a session with a ticket and without client
        authentication; for a TLS 1.2 session ID or a client certificate it
        must cache the session itself, which it does only without our token
        callback.  Both are known before the session is cached (at the end of
        a TLS 1.2 handshake, at a TLS 1.3 ticket).
        """
        if self._session_id_only or self._certificate_request_seen:
            lib.tlsapi_nss_resumption_token_callback(self._fd, ffi.NULL, ffi.NULL)
            self._cache_mode = True

    def _after_server_handshake(self) -> None:
        if self._version is None or self._version < 0x0304:
            return
        tickets = self._profile.tickets
        assert tickets is not None
        if self._resumed and not self._our_ticket:
            # A ticket whose token the HelloRetryRequest callback did not see (one
            # NSS issued for another user of NSS in this process): not ours.  NSS
            # has finished the handshake; a close_notify tells the client at once.
            lib.tlsapi_nss_shutdown(self._fd)
            raise TLSError(
                "the client resumed a TLS 1.3 session this server configuration did not "
                "issue; the connection is refused"
            )
        token = tickets.token(self._cipher or 0)
        # Best effort: a connection without a ticket is still a good connection.
        lib.tlsapi_nss_send_session_ticket(self._fd, token, len(token))

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
        count = self._read_result(count)
        return _unpack(scratch, count) if count else b""

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
        return self._read_result(count)

    def _read_result(self, count: int) -> int:
        """What a read returns (or raises) after tlsapi_nss_read answered ``count``: the
        bytes read, 0 for close_notify, or the error (the Python path and the fast one)."""
        state = self._memio
        if not state.in_size and self._chunks:
            # All read (data, or a session ticket): an idle connection keeps no ciphertext.
            self._chunks_read()
        if count > 0:
            # Data: report what ended the read after it, if anything.
            if state.stopped:
                self._report_stop(state)
            return count
        if count == 0:
            self._closed()
            return 0
        if count == _WOULD_BLOCK and state.sys_errno:
            raise socket_error(state)  # the native socket path: recv failed
        raise self._failure(count, "read")

    def _chunks_read(self) -> None:
        """NSS read all the bytes Python queued: let go of them."""
        self._chunks.clear()
        if self._fast is not None:
            self._fast.python_fed = 0

    # The core's C fast path calls fast.c's tlsapi_nss_fast_* (the same calls as
    # _write, _readinto, _receive and _library_output, declining bytes _receive
    # queued; on the native socket path send and recv only); what is not plain
    # success comes back here.
    # TLS 1.3 only (no renegotiation to refuse), once no hello reader is left.

    _fast: Any = None  # the tlsapi_nss_fast, once asked for

    def _fast_functions(self) -> tuple[int, ...] | None:
        if (
            self._version != 0x0304
            or self._fd is None
            or self._hello_reader is not None
            or self._incoming_plain is not None
            or self._outgoing_plain is not None
        ):
            return None
        fast = self._fast
        if fast is None:
            raw = lib.tlsapi_nss_fast_new(self._fd, self._memio)
            if raw == ffi.NULL:
                return None
            fast = self._fast = ffi.gc(raw, lib.tlsapi_nss_fast_free)
            if self._chunks:
                fast.python_fed = 1  # (0 from calloc otherwise)
        # No fast handshake step: the connection is open when the core asks.
        return (FAST_ABI, int(ffi.cast("uintptr_t", fast)), *_FAST_FUNCTIONS, 0)

    def _fast_send_result(self, result: int) -> int:
        if result >= 0:
            return result  # a partial write
        raise self._failure(result, "write")

    def _fast_recv_result(self, result: int) -> int:
        return self._read_result(result - _FAST_STOPPED)

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

    def _signature_scheme(self) -> int | None:
        return self._scheme

    def _certificate_requested(self) -> bool | None:
        if self._server_side:
            return None
        return self._certificate_request_seen

    # -- sessions -----------------------------------------------------------------------

    def _offer_session(self, state: object) -> None:
        if not isinstance(state, NSSSession):
            raise ConfigurationError(
                "this session was not made by the nss backend: offer a session only to "
                "the context that made it"
            )
        token = state.token
        if token is not None:
            if lib.tlsapi_nss_set_resumption_token(self._fd, token, len(token)) == 0:
                self._offered = state
            # Else NSS finds the token unusable (expired, a version or suite this
            # configuration no longer allows): a full handshake, as with a refused
            # session.
        elif state.peer_id is not None:
            # NSS's cache finds the session under its peer ID (or, expired, does not).
            if lib.SSL_SetSockPeerID(self._fd, state.peer_id) != 0:
                raise TLSError(f"NSS cannot set the peer ID: {error_text(lib.PR_GetError())}")
            self._peer_id = state.peer_id
            self._offered = state

    def _session_state(self) -> object | None:
        if self._resumption_token is not None:
            return NSSSession(
                self._resumption_token, None, self._peer_chain() or [], self.verified_chain()
            )
        if self._cache_mode and not self._resumed:
            if self._forget is not None:
                self._forget.detach()  # taken: NSS's cache keeps it (until it expires)
            return NSSSession(None, self._peer_id, self._peer_chain() or [], self.verified_chain())
        if self._resumed and self._offered is not None:
            return self._offered  # no new ticket came: the one offered still holds
        return None

    def _session_reused(self) -> bool:
        return self._resumed

    def _peer_chain(self) -> list[bytes] | None:
        if self._resumed and self._offered is not None and self._offered.peer_chain:
            return list(self._offered.peer_chain)
        chain = lib.SSL_PeerCertificateChain(self._fd)
        if chain == ffi.NULL:
            return None
        try:
            return ders(chain) or None
        finally:
            lib.CERT_DestroyCertList(chain)
