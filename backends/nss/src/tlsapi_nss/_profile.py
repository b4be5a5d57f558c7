"""Profile: one TLSConfiguration turned into NSS objects, built once per context.

The heart of it is a *model socket*: an NSS socket that never does I/O but
carries every per-socket setting (options, version range, suite order, ALPN,
the server's certificate and key).  Each connection is made with
``SSL_ImportFD(model, ...)``, which copies the model's settings, so the work
of a configuration is done once and nothing is ever set as a process-wide
default.  The profile also keeps the context's trust anchors and the client
certificate NSS asks for through the client-auth hook.

Session caching is off on every socket (``SSL_NO_CACHE``): NSS keeps one
cache per process, so a session validated under one context's trust could
otherwise be resumed by another context, skipping its validation.
"""

from __future__ import annotations

import threading
from typing import Any

from tlsapi import ConfigurationError, TLSConfiguration, TLSError
from tlsapi.backend_api import protocol_bytes

from . import _credentials
from ._ciphers import select, uses_dhe
from ._errors import error_text
from ._groups import apply_groups
from ._lib import ffi, lib
from ._runtime import RUNTIME

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
        self.certificates: list[Any] = []
        self.key: Any = None
        if config.certificate_chain is not None:
            chain, key = config.certificate_chain
            self.certificates = _credentials.chain_certificates(chain)
            self.key = _credentials.import_private_key(key, self.certificates[0])
        self.model = self._model(alpn=True)
        self._model_without_alpn: Any = None
        self._lock = threading.Lock()
        self.alpn = frozenset(protocol_bytes(p) for p in config.inner_protocols)
        # A server reads the ClientHello itself first (see _clienthello) when it must.
        self.reads_hello = server_side and bool(config.sni_callback or config.inner_protocols)

    def model_without_alpn(self) -> Any:
        """The model for a client that shares no ALPN protocol with us (built once)."""
        if not self.config.inner_protocols:
            return self.model
        with self._lock:
            if self._model_without_alpn is None:
                self._model_without_alpn = self._model(alpn=False)
            return self._model_without_alpn

    @property
    def leaf(self) -> Any:
        return self.certificates[0] if self.certificates else None

    def _model(self, alpn: bool) -> Any:
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
            (lib.SSL_NO_CACHE, 1, "turn the session cache off"),
            (lib.SSL_ENABLE_SESSION_TICKETS, 0, "turn session tickets off"),
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

        selection = select(self.config)
        if server and any(uses_dhe(suite) for suite in selection.suites):
            _check(lib.SSL_OptionSet(model, lib.SSL_ENABLE_SERVER_DHE, 1), "turn DHE on")
        vrange = ffi.new("SSLVersionRange *", {"min": selection.low, "max": selection.high})
        _check(lib.SSL_VersionRangeSet(model, vrange), "set the version range")
        order = ffi.new("PRUint16[]", selection.suites)
        _check(
            lib.tlsapi_nss_cipher_suite_order_set(model, order, len(selection.suites)),
            "set the cipher suites",
        )
        dhe = selection.low < 0x0304 and any(uses_dhe(suite) for suite in selection.suites)
        apply_groups(model, self.config, dhe=dhe)
        _enable_rsa_pss_pss(model)
        wire = alpn_wire(self.config) if alpn else b""
        if wire:
            _check(lib.SSL_SetNextProtoNego(model, wire, len(wire)), "set the ALPN protocols")
        if server and self.key is not None:
            chain = _credentials.certificate_list(self.certificates)
            extra = ffi.new("SSLExtraServerCertData *")
            extra.authType = lib.ssl_auth_null
            extra.certChain = chain
            _check(
                lib.SSL_ConfigServerCert(
                    model, self.leaf, self.key, extra, ffi.sizeof("SSLExtraServerCertData")
                ),
                "use the certificate and key",
            )
        return model
