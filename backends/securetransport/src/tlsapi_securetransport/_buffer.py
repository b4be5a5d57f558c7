"""SecureTransportBuffer: one TLS connection, an SSLContextRef over our C memory transport.

The hard parts, in one place:

* **Transport.**  Secure Transport reads and writes through transport.c's
  functions: incoming ciphertext is copied into a C buffer (``_receive``),
  and the read function answers errSSLWouldBlock once it is empty, or
  errSSLClosedNoNotify once the transport reached end of file too.  The
  write function takes everything, so SSLWrite never stops midway with a
  record held back; ``_flush_library_output`` moves what it wrote to the
  core's ``_outgoing`` queue.
* **Trust is ours.**  The client always breaks on server authentication
  (and a server that asks for client certificates on client
  authentication): SSLHandshake returns errSSLPeerAuthCompleted, and
  ``_trust.evaluate`` decides, with the policy and anchors tlsapi's contract
  says, before the handshake goes on.  Secure Transport sends no alert when
  we refuse: we queue the one the peer should see (in the clear: neither
  side has sent ChangeCipherSpec at that point) and fail.
* **No resumption.**  Secure Transport resumes whatever its process-wide
  cache holds under the peer ID (SSLSetPeerID): each connection gets one of
  its own (the context's random prefix, 16 random bytes, the server name),
  so nothing is resumed behind the API's back; ``session=`` is refused
  (``_settings.NO_RESUMPTION`` says why).
* **Server side.**  The ClientHello is read by tlsapi's HelloReader as its
  bytes arrive (before Secure Transport sees them): ``sni_callback`` runs from
  there and may switch the identity and the client-certificate trust.  No
  ALPN on the server (refused by the configuration check).
* **Ends.**  SSLRead's errSSLClosedGraceful is the peer's close_notify
  (``b""``); errSSLClosedNoNotify (our read function at end of file) and
  errSSLClosedAbort are RaggedEOF.  SSLClose sends our close_notify.  Secure
  Transport answers the peer's close_notify with its own at once (SSLRead
  calls SSLClose), so a later shutdown() sends nothing more; and SSLClose
  closes both directions: after our shutdown() a read ends (``b""``) without
  reading what the peer may still send (a limitation, in LIMITATIONS).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tlsapi import (
    CertificateError,
    ClientContext,
    ConfigurationError,
    RaggedEOF,
    ServerContext,
    TLSConfiguration,
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
    check_peer_chain,
)

from . import _cf
from ._binding import ffi, lib
from ._errors import describe, failure
from ._prepared import Prepared
from ._settings import NO_RESUMPTION, PROTOCOL_WIRE
from ._trust import evaluate, peer_chain, peer_trust

__all__ = ["SecureTransportBuffer"]

_HANDSHAKE_FAILURE = 40
# A bound on handshake steps in one call (each break on authentication is one).
_MAX_STEPS = 16


class SecureTransportBuffer(TLSWrappedBuffer):
    def __init__(
        self,
        context: ClientContext | ServerContext,
        prepared: Prepared,
        server_name: ServerName | None,
        *,
        prepared_for: Callable[[TLSConfiguration], Prepared] | None = None,
    ) -> None:
        super().__init__(context, server_name.name if server_name is not None else None)
        self._server = isinstance(context, ServerContext)
        self._server_name = server_name
        self._prepared = prepared
        self._prepared_for = prepared_for
        status = ffi.new("OSStatus *")
        side = lib.kSSLServerSide if self._server else lib.kSSLClientSide
        io = lib.tlsapi_securetransport_io_new(side, status)
        if io == ffi.NULL:
            raise TLSError(f"SSLCreateContext failed: {describe(status[0])}")
        self._io: Any = ffi.gc(io, lib.tlsapi_securetransport_io_free)
        self._ssl: Any = io.context
        self._hello_reader = HelloReader() if self._server else None
        self._failed_hello: TLSError | None = None
        self._chain: list[bytes] | None = None
        self._alpn: bytes | None = None
        # Secure Transport is in its closed state: our close_notify went (SSLClose,
        # called by us or by SSLRead on the peer's close_notify).
        self._closed = False
        self._configure_common()
        if not self._server:
            self._configure_client()

    # -- set-up ------------------------------------------------------------

    def _call(self, status: int, what: str) -> None:
        if status != lib.errSecSuccess:
            raise TLSError(f"Secure Transport: {what} failed: {describe(status)}")

    def _configure_common(self) -> None:
        prepared, ssl = self._prepared, self._ssl
        low, high = prepared.protocols
        self._call(lib.SSLSetProtocolVersionMin(ssl, low), "SSLSetProtocolVersionMin")
        self._call(lib.SSLSetProtocolVersionMax(ssl, high), "SSLSetProtocolVersionMax")
        suites = ffi.new("SSLCipherSuite[]", prepared.suites)
        self._call(
            lib.SSLSetEnabledCiphers(ssl, suites, len(prepared.suites)), "SSLSetEnabledCiphers"
        )
        self._configure_credentials(prepared)

    def _configure_credentials(self, prepared: Prepared) -> None:
        ssl = self._ssl
        if prepared.identity is not None:
            self._call(
                lib.SSLSetCertificate(ssl, prepared.identity.certificates), "SSLSetCertificate"
            )
        if self._server and prepared.validate:
            self._call(
                lib.SSLSetClientSideAuthenticate(ssl, lib.kAlwaysAuthenticate),
                "SSLSetClientSideAuthenticate",
            )
            self._call(
                lib.SSLSetSessionOption(ssl, lib.kSSLSessionOptionBreakOnClientAuth, True),
                "SSLSetSessionOption(BreakOnClientAuth)",
            )

    def _configure_client(self) -> None:
        prepared, ssl, name = self._prepared, self._ssl, self._server_name
        # Always: with validation off we still break, and then accept.
        self._call(
            lib.SSLSetSessionOption(ssl, lib.kSSLSessionOptionBreakOnServerAuth, True),
            "SSLSetSessionOption(BreakOnServerAuth)",
        )
        if name is not None and name.sni is not None:
            raw = name.sni.encode("ascii")
            self._call(lib.SSLSetPeerDomainName(ssl, raw, len(raw)), "SSLSetPeerDomainName")
        peer_id = (
            prepared.peer_id_prefix + os.urandom(16) + (name.name.encode("ascii") if name else b"")
        )
        self._call(lib.SSLSetPeerID(ssl, peer_id, len(peer_id)), "SSLSetPeerID")
        if prepared.alpn is not None:
            self._call(lib.SSLSetALPNProtocols(ssl, prepared.alpn), "SSLSetALPNProtocols")

    # -- the network side ------------------------------------------------------

    def _receive(self, data: bytes | memoryview) -> None:
        if self._hello_reader is not None:
            self._hello_reader.feed(data)  # each byte looked at once, as it arrives
        source = data if isinstance(data, bytes) else ffi.from_buffer(data)
        if lib.tlsapi_securetransport_receive(self._io, source, len(data)) < 0:
            raise MemoryError("no memory for the received bytes")

    def _incoming_size(self) -> int:
        return int(self._io.in_len)

    def _receive_eof(self) -> None:
        self._io.eof = 1

    def _flush_library_output(self) -> None:
        io = self._io
        count = io.out_len
        if count:
            self._outgoing.append(ffi.unpack(ffi.cast("char *", io.out_data), count))
            lib.tlsapi_securetransport_consume(io, count)

    def _need_more(self, operation: str) -> TLSError:
        if self._transport_eof:
            return RaggedEOF(f"the transport closed during the {operation}")
        return WantReadError(f"more bytes from the peer are needed to go on with the {operation}")

    def _alert(self, description: int) -> None:
        """A fatal alert in the clear: Secure Transport sends none when we refuse.

        Neither side has sent ChangeCipherSpec at a break on authentication (nor
        before the ClientHello was read), so the record is plaintext, with the
        negotiated version when there is one (a TLS 1.0 peer checks it).
        """
        self._flush_library_output()
        version = self._tls_version_number() or 0x0303
        self._outgoing.append(bytes((21, version >> 8, version & 0xFF, 0, 2, 2, description)))

    # -- the handshake -----------------------------------------------------------

    def _handshake(self) -> None:
        if self._server:
            self._read_client_hello()
        for _ in range(_MAX_STEPS):
            status = lib.SSLHandshake(self._ssl)
            self._flush_library_output()
            if status == lib.errSecSuccess:
                self._finish_handshake()
                return
            if status == lib.errSSLPeerAuthCompleted:
                self._check_peer()
                continue
            if status == lib.errSSLWouldBlock:
                raise self._need_more("handshake")
            raise failure(status, "handshake")
        raise TLSError("Secure Transport's handshake made no progress")

    def _check_peer(self) -> None:
        prepared = self._prepared
        trust = peer_trust(self._ssl)
        if trust is None:
            if self._server and prepared.validate:
                self._alert(_HANDSHAKE_FAILURE)
                raise TLSError("the client sent no certificate, and this server requires one")
            return
        self._chain = peer_chain(trust)
        if not prepared.validate:
            return
        name = self._server_name.name if (self._server_name and not self._server) else None
        whose = "client's" if self._server else "server's"
        try:
            evaluate(
                trust, server_certificate=not self._server, name=name, anchors=prepared.anchors
            )
            error = check_peer_chain(self._chain, whose)
        except CertificateError as exc:
            error = exc
        if error is not None:
            self._alert(certificate_alert(error.reason))
            raise error

    def _read_client_hello(self) -> None:
        """A server reads the ClientHello before Secure Transport does: sni_callback."""
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
            self._failed_hello = error
            self._alert(exc.alert)
            raise error from exc
        except MalformedHello:
            self._hello_reader = None  # Secure Transport says what is wrong with it
            return
        if hello is None:
            raise self._need_more("handshake")
        self._hello_reader = None
        self._server_hostname = hello.server_name
        callback = self._prepared.config.sni_callback
        if callback is None:
            return
        try:
            chosen = self._run_callback(callback, self, hello.server_name, self._prepared.config)
        except Exception as exc:
            error = TLSError(f"the handshake was aborted: sni_callback raised {exc!r}")
            self._failed_hello = error
            self._alert(_HANDSHAKE_FAILURE)
            raise error from exc
        if chosen is not None:
            assert self._prepared_for is not None
            prepared = self._prepared_for(chosen)
            if prepared is not self._prepared:
                self._prepared = prepared
                self._configure_credentials(prepared)

    def _finish_handshake(self) -> None:
        if self._chain is None:
            trust = peer_trust(self._ssl)
            if trust is not None:
                self._chain = peer_chain(trust)
        if not self._server and self._prepared.alpn is not None:
            protocols = ffi.new("CFArrayRef *")
            status = lib.SSLCopyALPNProtocols(self._ssl, protocols)
            if status == lib.errSecSuccess and protocols[0] != ffi.NULL:
                chosen = _cf.array_items(_cf.owned(protocols[0], "SSLCopyALPNProtocols"))
                if chosen:
                    self._alpn = _cf.string_text(chosen[0]).encode("ascii", "replace")

    # -- application data ----------------------------------------------------------

    def _read(self, amt: int) -> bytes:
        buffer = ffi.new("char[]", amt)
        count = self._read_into(buffer, amt)
        return ffi.unpack(buffer, count) if count else b""

    def _readinto(self, target: bytearray | memoryview) -> int:
        return self._read_into(ffi.from_buffer(target), len(target))

    def _read_into(self, buffer: Any, size: int) -> int:
        processed = ffi.new("size_t *")
        status = lib.SSLRead(self._ssl, buffer, size, processed)
        self._flush_library_output()
        count = int(processed[0])
        if status == lib.errSecSuccess:
            return count
        if status == lib.errSSLWouldBlock:
            if count:
                return count
            raise self._need_more("read")
        if status == lib.errSSLClosedGraceful:
            # The peer's close_notify (answered by Secure Transport with ours), or, after
            # our own SSLClose, the end of reading Secure Transport imposes.
            self._closed = True
            stop: TLSError | None = None
        else:
            stop = failure(status, "read")
        if count:
            self._stop_after_data(stop)
            return count
        if stop is None:
            return 0
        raise stop

    def _write(self, data: bytes | bytearray | memoryview) -> int:
        source = data if isinstance(data, bytes) else ffi.from_buffer(data)
        processed = ffi.new("size_t *")
        status = lib.SSLWrite(self._ssl, source, len(data), processed)
        self._flush_library_output()
        if status == lib.errSecSuccess:
            return int(processed[0])
        if status == lib.errSSLWouldBlock and processed[0]:
            return int(processed[0])  # not expected: our write function never blocks
        raise failure(status, "write")

    def _shutdown(self) -> None:
        if self._closed:
            return  # our close_notify already went with the answer to the peer's
        self._closed = True
        status = lib.SSLClose(self._ssl)
        self._flush_library_output()
        if status not in (lib.errSecSuccess, lib.errSSLClosedGraceful):
            raise failure(status, "shutdown")

    # -- what the handshake negotiated -------------------------------------------------

    def _offer_session(self, state: object) -> None:
        raise ConfigurationError(NO_RESUMPTION)

    def _cipher_number(self) -> int | None:
        suite = ffi.new("SSLCipherSuite *")
        if lib.SSLGetNegotiatedCipher(self._ssl, suite) != lib.errSecSuccess:
            return None
        return int(suite[0])

    def _negotiated_protocol(self) -> bytes | None:
        return self._alpn

    def _tls_version_number(self) -> int | None:
        protocol = ffi.new("SSLProtocol *")
        if lib.SSLGetNegotiatedProtocolVersion(self._ssl, protocol) != lib.errSecSuccess:
            return None
        return PROTOCOL_WIRE.get(int(protocol[0]))

    def _peer_chain(self) -> list[bytes] | None:
        return None if self._chain is None else list(self._chain)
