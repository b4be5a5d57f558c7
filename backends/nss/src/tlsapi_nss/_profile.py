"""Profile: one TLSConfiguration turned into NSS objects, built once per context.

The heart of it is a *model socket*: an NSS socket that never does I/O but
carries every per-socket setting (options, version range, suite order, ALPN,
the server's certificate and key).  Each connection is made with
``SSL_ImportFD(model, ...)``, which copies the model's settings, so the work
of a configuration is done once and nothing is ever set as a process-wide
default.  The profile also keeps the context's trust anchors and the client
certificate NSS asks for through the client-auth hook.

Sessions (see ``_tickets`` and ``_buffer``): a client takes NSS's resumption
tokens through ``SSL_SetResumptionTokenCallback`` where NSS exports them, and
otherwise leaves the session in NSS's process-wide client cache under a peer
ID of the connection's own (this profile's ``peer_id`` and a number), so
that cache never offers a session by itself.  A server keeps ``SSL_NO_CACHE``
(NSS's session-ID cache is per process and would resume sessions across
contexts): it resumes only its own tickets, which its TicketBook tells apart.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from tlsapi import ConfigurationError, TLSConfiguration, TLSError
from tlsapi.backend_api import KeyLogWriter, protocol_bytes

from . import _credentials
from ._ciphers import select, uses_dhe
from ._errors import error_text
from ._groups import apply_groups
from ._lib import ffi, lib
from ._runtime import RUNTIME
from ._tickets import TicketBook

__all__ = ["Profile", "alpn_wire"]


def alpn_wire(config: TLSConfiguration) -> bytes:
    """The ALPN list as SSL_SetNextProtoNego wants it.

    NSS moves the first protocol to the end (NPN's fallback rule), so the
    last one is given first to make the wire order the configuration's.
    """
    names = [protocol_bytes(p) for p in config.inner_protocols]
    if not names:
        return b""
    ordered = names[-1:] + names[:-1]
    return b"".join(bytes((len(name),)) + name for name in ordered)


# RSA-PSS signatures by keys whose certificate says id-RSASSA-PSS (RFC 8446
# §4.2.3), which NSS implements but leaves out of its default list: without
# them an NSS server cannot use such a key, and an NSS client refuses a server
# that has one, where GnuTLS and OpenSSL accept both.
_RSA_PSS_PSS = (
    lib.ssl_sig_rsa_pss_pss_sha256,
    lib.ssl_sig_rsa_pss_pss_sha384,
    lib.ssl_sig_rsa_pss_pss_sha512,
)


def _enable_rsa_pss_pss(model: Any) -> None:
    schemes = ffi.new("SSLSignatureScheme[64]")
    count = ffi.new("unsigned int *")
    _check(
        lib.SSL_SignatureSchemePrefGet(model, schemes, count, 64 - len(_RSA_PSS_PSS)),
        "read the signature schemes",
    )
    current = [schemes[i] for i in range(count[0])]
    wanted = current + [scheme for scheme in _RSA_PSS_PSS if scheme not in current]
    if len(wanted) != len(current):
        _check(
            lib.SSL_SignatureSchemePrefSet(
                model, ffi.new("SSLSignatureScheme[]", wanted), len(wanted)
            ),
            "set the signature schemes",
        )


def _check(status: int, what: str) -> None:
    if status != lib.SECSuccess:
        raise ConfigurationError(f"NSS refused to {what}: {error_text(lib.PR_GetError())}")


class Profile:
    """A configuration as NSS objects, for one side (client or server)."""

    def __init__(self, config: TLSConfiguration, server_side: bool) -> None:
        RUNTIME.ensure()
        self.config = config
        self.server_side = server_side
        store = config.trust_store
        # A server validates (and requires) client certificates when it has a trust store.
        self.validate = store is not None if server_side else config.validate_certificates
        self.anchors: Any = None
        if self.validate:
            if store is None or store.is_system:
                RUNTIME.ensure_system_trust()
            else:
                self.anchors = _credentials.anchor_list(store.certificates)
        # Every chain as NSS objects (a server may have several, one per key type;
        # a client has at most one, the core sees to it).
        self.chains: list[tuple[list[Any], Any]] = []
        for number, (chain, key) in enumerate(config.certificate_chains, 1):
            certificates = _credentials.chain_certificates(chain)
            try:
                imported = _credentials.import_private_key(key, certificates[0])
            except ConfigurationError as exc:
                if len(config.certificate_chains) == 1:
                    raise
                raise ConfigurationError(f"certificate chain {number}: {exc}") from None
            self.chains.append((certificates, imported))
        self.certificates: list[Any] = self.chains[0][0] if self.chains else []
        self.key: Any = self.chains[0][1] if self.chains else None
        self.selection = select(config)
        self.keylog: KeyLogWriter | None = None
        if config.keylog_filename is not None:
            if self.selection.low < 0x0304:
                raise ConfigurationError(
                    "the nss backend logs keys of TLS 1.3 connections only (NSS hands out "
                    "TLS 1.3 secrets, never a TLS 1.2 master secret): set "
                    "lowest_supported_version=TLSVersion.TLSv1_3 with keylog_filename, or "
                    "use another backend to log TLS 1.2"
                )
            self.keylog = KeyLogWriter(config.keylog_filename)
        # A server's own tickets; a client's own corner of NSS's client cache.
        self.tickets = TicketBook() if server_side else None
        if server_side:
            RUNTIME.issued_tickets = True  # see Runtime.shutdown
        self.peer_id = b"tlsapi-nss:" + os.urandom(16).hex().encode("ascii")
        self._lock = threading.Lock()
        self._models: dict[tuple[bool, bool, frozenset[int]], Any] = {}
        self.model = self.variant(alpn=True, tickets=True)
        self.alpn = frozenset(protocol_bytes(p) for p in config.inner_protocols)
        # A server reads the ClientHello itself before NSS does (see _clienthello):
        # for the sni_callback and ALPN, and for the tickets it may resume.
        self.reads_hello = server_side

    def variant(self, alpn: bool, tickets: bool, avoid: frozenset[int] = frozenset()) -> Any:
        """The model with or without ALPN (for a client that shares no protocol with
        us) and, on a server, with or without TLS 1.2 tickets (off for a ClientHello
        with a ticket we did not issue, and for TLS 1.3, where we send our own), and
        without the suites ``avoid`` (a TLS 1.3 ticket another server configuration
        issued, which NSS then cannot resume: see _tickets)."""
        alpn = alpn and bool(self.config.inner_protocols)
        tickets = tickets or not self.server_side
        key = (alpn, tickets, avoid)
        with self._lock:
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = self._model(alpn, tickets, avoid)
            return model

    def model_without_alpn(self) -> Any:
        """The model for a client that shares no ALPN protocol with us (built once)."""
        return self.variant(alpn=False, tickets=True)

    @property
    def leaf(self) -> Any:
        return self.certificates[0] if self.certificates else None

    def _model(self, alpn: bool, tickets: bool, avoid: frozenset[int] = frozenset()) -> Any:
        stub = lib.tlsapi_nss_memio_new(ffi.NULL)
        if stub == ffi.NULL:
            raise TLSError(f"NSPR cannot make an I/O layer: {error_text(lib.PR_GetError())}")
        raw = lib.SSL_ImportFD(ffi.NULL, stub)
        if raw == ffi.NULL:
            code = lib.PR_GetError()
            lib.PR_Close(stub)
            raise TLSError(f"NSS cannot make a TLS socket: {error_text(code)}")
        model = RUNTIME.owned(raw, lib.tlsapi_nss_memio_close)
        server = self.server_side
        options = [
            (lib.SSL_SECURITY, 1, "turn TLS on"),
            (
                lib.SSL_HANDSHAKE_AS_SERVER if server else lib.SSL_HANDSHAKE_AS_CLIENT,
                1,
                "pick a side",
            ),
            # A client's session cache is on for what NSS exports no token for, found
            # only under the connection's own peer ID (see the top).
            (lib.SSL_NO_CACHE, 1 if server else 0, "set the session cache"),
            (lib.SSL_ENABLE_SESSION_TICKETS, 1 if tickets else 0, "set session tickets"),
            (lib.SSL_ENABLE_RENEGOTIATION, lib.SSL_RENEGOTIATE_NEVER, "refuse renegotiation"),
            (lib.SSL_ENABLE_FALSE_START, 0, "turn False Start off"),
            (lib.SSL_ENABLE_0RTT_DATA, 0, "turn 0-RTT off"),
            (lib.SSL_ENABLE_NPN, 0, "turn NPN off"),
            (lib.SSL_ENABLE_ALPN, 1 if alpn and self.config.inner_protocols else 0, "set ALPN"),
            (lib.SSL_ENABLE_EXTENDED_MASTER_SECRET, 1, "turn the extended master secret on"),
            (lib.SSL_ENABLE_HELLO_DOWNGRADE_CHECK, 1, "turn the downgrade check on"),
            (lib.SSL_ENABLE_V2_COMPATIBLE_HELLO, 0, "refuse SSLv2 hellos"),
            (lib.SSL_ENABLE_OCSP_STAPLING, 0, "turn OCSP stapling off"),
            (lib.SSL_ENABLE_POST_HANDSHAKE_AUTH, 0, "turn post-handshake auth off"),
        ]
        if server and self.validate:
            options += [
                (lib.SSL_REQUEST_CERTIFICATE, 1, "request client certificates"),
                (
                    lib.SSL_REQUIRE_CERTIFICATE,
                    lib.SSL_REQUIRE_ALWAYS,
                    "require client certificates",
                ),
            ]
        for option, value, what in options:
            _check(lib.SSL_OptionSet(model, option, value), what)

        selection = self.selection
        if server and any(uses_dhe(suite) for suite in selection.suites):
            _check(lib.SSL_OptionSet(model, lib.SSL_ENABLE_SERVER_DHE, 1), "turn DHE on")
        vrange = ffi.new("SSLVersionRange *", {"min": selection.low, "max": selection.high})
        _check(lib.SSL_VersionRangeSet(model, vrange), "set the version range")
        suites = [suite for suite in selection.suites if suite not in avoid]
        order = ffi.new("PRUint16[]", suites)
        _check(
            lib.tlsapi_nss_cipher_suite_order_set(model, order, len(suites)),
            "set the cipher suites",
        )
        dhe = selection.low < 0x0304 and any(uses_dhe(suite) for suite in selection.suites)
        apply_groups(model, self.config, dhe=dhe)
        _enable_rsa_pss_pss(model)
        wire = alpn_wire(self.config) if alpn else b""
        if wire:
            _check(lib.SSL_SetNextProtoNego(model, wire, len(wire)), "set the ALPN protocols")
        if server:
            # One SSL_ConfigServerCert per chain: NSS keeps one per authentication type
            # (RSA, RSA-PSS, ECDSA per curve) and picks by the client's algorithms.
            for number, (certificates, key) in enumerate(self.chains, 1):
                chain = _credentials.certificate_list(certificates)
                extra = ffi.new("SSLExtraServerCertData *")
                extra.authType = lib.ssl_auth_null
                extra.certChain = chain
                what = "use the certificate and key"
                if len(self.chains) > 1:
                    what = f"use certificate chain {number} beside the others"
                _check(
                    lib.SSL_ConfigServerCert(
                        model, certificates[0], key, extra, ffi.sizeof("SSLExtraServerCertData")
                    ),
                    what,
                )
        else:
            _check(lib.SSL_SetSockPeerID(model, self.peer_id), "set the peer ID")
        return model
