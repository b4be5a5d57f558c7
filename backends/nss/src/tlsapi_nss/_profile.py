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


# The key type (NSS's KeyType) that can make each signature scheme NSS signs with, by
# TLS 1.2's rules (RFC 5246 section 7.4.1.4.1, RFC 8446 section 4.2.3): RSA keys sign
# PKCS#1 v1.5 and RSA-PSS "rsae", RSA-PSS keys only "pss", EC keys ECDSA on any curve
# (DSA keys DSA).
# TLS 1.3 allows a subset of these for each key, so a chain no scheme here fits is of no
# use to the client in either version.
_SCHEME_KEY = {
    **dict.fromkeys((0x0201, 0x0401, 0x0501, 0x0601, 0x0804, 0x0805, 0x0806), lib.rsaKey),
    **dict.fromkeys((0x0809, 0x080A, 0x080B), lib.rsaPssKey),
    **dict.fromkeys((0x0203, 0x0403, 0x0503, 0x0603), lib.ecKey),
    **dict.fromkeys((0x0202, 0x0402, 0x0502, 0x0602), lib.dsaKey),
}
# RFC 5246 section 7.4.1.4.1: a TLS 1.2 client without signature_algorithms takes
# SHA-1 with the key's algorithm.
_TLS12_DEFAULT_SCHEMES = (0x0201, 0x0203, 0x0202)


def _key_type(certificate: Any) -> int:
    """NSS's KeyType of a certificate's public key (nullKey if NSS cannot read it)."""
    key = lib.CERT_ExtractPublicKey(certificate)
    if key == ffi.NULL:
        return int(lib.nullKey)
    try:
        return int(lib.SECKEY_GetPublicKeyType(key))
    finally:
        lib.SECKEY_DestroyPublicKey(key)


def _signature_schemes(model: Any) -> frozenset[int]:
    """The signature schemes a model socket signs with (its preference list)."""
    schemes = ffi.new("SSLSignatureScheme[64]")
    count = ffi.new("unsigned int *")
    _check(lib.SSL_SignatureSchemePrefGet(model, schemes, count, 64), "read the signature schemes")
    return frozenset(int(schemes[i]) for i in range(count[0]))


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
        # The last peer chain (as presented) tlsapi's policy passed, with the path NSS
        # verified: their DER concatenated, the chain's length, the path.  A peer shows
        # the same chain again and again, and the policy's verdict is a function of the
        # chain's bytes alone (see _hooks._authenticate).
        self.passed: tuple[bytes, int, list[bytes]] | None = None
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
        # Each chain's key type, for choosing the chains a TLS 1.2 client can verify.
        self.key_types = tuple(_key_type(certificates[0]) for certificates, _ in self.chains)
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
        self._models: dict[tuple[bool, bool, frozenset[int], tuple[int, ...] | None], Any] = {}
        self.model = self.variant(alpn=True, tickets=True)
        self.signature_schemes = _signature_schemes(self.model)
        self.alpn = frozenset(protocol_bytes(p) for p in config.inner_protocols)
        # A server reads the ClientHello itself before NSS does (see _clienthello):
        # for the sni_callback and ALPN, and for the tickets it may resume.
        self.reads_hello = server_side

    def variant(
        self,
        alpn: bool,
        tickets: bool,
        avoid: frozenset[int] = frozenset(),
        chains: tuple[int, ...] | None = None,
    ) -> Any:
        """The model with or without ALPN (for a client that shares no protocol with
        us) and, on a server, with or without TLS 1.2 tickets (off for a ClientHello
        with a ticket we did not issue, and for TLS 1.3, where we send our own),
        without the suites ``avoid`` (a TLS 1.3 ticket another server configuration
        issued, which NSS then cannot resume: see _tickets), and with only the
        certificate chains numbered in ``chains`` (None: all; see usable_chains)."""
        alpn = alpn and bool(self.config.inner_protocols)
        tickets = tickets or not self.server_side
        key = (alpn, tickets, avoid, chains)
        # Read without the lock (a dict lookup is atomic): a model once made stays.
        model = self._models.get(key)
        if model is not None:
            return model
        with self._lock:
            model = self._models.get(key)
            if model is None:
                model = self._models[key] = self._model(alpn, tickets, avoid, chains)
            return model

    def usable_chains(self, signature_algorithms: tuple[int, ...] | None) -> tuple[int, ...] | None:
        """The chains (by index) whose key can sign a scheme the TLS 1.2 client and we
        both allow, when that leaves some out but not all; else None (all chains).

        NSS picks a TLS 1.2 suite by the certificates it has (ECDHE_ECDSA for an EC
        key) and only then looks for a signature scheme the client allows, failing
        the handshake when there is none: given only these chains, it picks a suite
        whose certificate the client can verify.  When none fits, NSS keeps them all
        and fails (or not) as it would have.
        """
        if len(self.chains) < 2:
            return None
        offered = signature_algorithms or _TLS12_DEFAULT_SCHEMES
        usable = {_SCHEME_KEY.get(s) for s in offered if s in self.signature_schemes}
        fits = tuple(i for i, kind in enumerate(self.key_types) if kind in usable)
        return fits if fits and len(fits) < len(self.chains) else None

    def model_without_alpn(self) -> Any:
        """The model for a client that shares no ALPN protocol with us (built once)."""
        return self.variant(alpn=False, tickets=True)

    @property
    def leaf(self) -> Any:
        return self.certificates[0] if self.certificates else None

    def _model(
        self,
        alpn: bool,
        tickets: bool,
        avoid: frozenset[int] = frozenset(),
        chains: tuple[int, ...] | None = None,
    ) -> Any:
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
            # (RSA, RSA-PSS, ECDSA per curve) and picks by the client's algorithms in
            # TLS 1.3, by the suite in TLS 1.2 (hence ``chains``: see usable_chains).
            for number, (certificates, key) in enumerate(self.chains, 1):
                if chains is not None and number - 1 not in chains:
                    continue
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
