"""The stdlib backend: OpenSSL through the ``ssl`` module's SSLObject and MemoryBIO.

It is the reference every native backend is measured against, and the
fallback where no native backend is installed.
"""

from __future__ import annotations

import ssl

from .._backend import Backend, Capability
from ._ciphers import supported_suites
from ._context import SESSION_KEYS_LIFETIME, StdlibClientContext, StdlibServerContext
from ._groups import supported_groups

__all__ = ["load_backend"]

# Python 3.13 added the chain accessors; before that only the leaf is available.
HAS_FULL_CHAIN = hasattr(ssl.SSLObject, "get_unverified_chain")


def load_backend() -> Backend:
    capabilities = {
        Capability.TLSv1_2,
        Capability.CLIENT,
        Capability.SERVER,
        Capability.ALPN,
        Capability.SERVER_ALPN,
        Capability.SNI_CALLBACK,
        Capability.CLIENT_CERTIFICATES,
        Capability.SYSTEM_TRUST,
        Capability.CUSTOM_TRUST,
        Capability.ENCRYPTED_KEYS,
        Capability.CIPHER_SELECTION,
        Capability.IP_ADDRESS_VALIDATION,
        Capability.KEY_UPDATE,
        Capability.KEY_LOG,
        Capability.SESSION_RESUMPTION,
        Capability.SEVERAL_CERTIFICATE_CHAINS,
    }
    if ssl.HAS_TLSv1_3:
        capabilities.add(Capability.TLSv1_3)
    if HAS_FULL_CHAIN:
        capabilities.add(Capability.FULL_PEER_CHAIN)
    paths = ssl.get_default_verify_paths()
    trust = paths.cafile or paths.capath or paths.openssl_cafile or "OpenSSL's default paths"
    return Backend(
        name="stdlib",
        client_context=StdlibClientContext,
        server_context=StdlibServerContext,
        library_version=ssl.OPENSSL_VERSION,
        capabilities=frozenset(capabilities),
        supported_ciphers=supported_suites(),
        supported_groups=supported_groups(),
        details={
            "trust_source": f"OpenSSL default verify paths ({trust})",
            "library": "OpenSSL via the Python ssl module",
            "session_resumption": (
                "client: the ssl.SSLSession of a finished connection (TLS 1.3: the latest "
                "ticket read after the handshake), offered as SSLObject.session; server: "
                "OpenSSL's session ID cache and tickets (two per TLS 1.3 handshake), both per "
                "server context (sessions switched to by sni_callback stay with it). OpenSSL "
                "makes the ticket keys at random per SSL_CTX, in memory only, and never rotates "
                "them; rotating in place needs SSL_CTX_set_tlsext_ticket_key_evp_cb, which ssl "
                "does not expose. So a server context builds a new SSLContext (new keys, empty "
                f"cache) every {SESSION_KEYS_LIFETIME:.0f} s: sessions older than that get a "
                "full handshake. Tickets live 7200 s at most (OpenSSL's default timeout)"
            ),
            "key_log": "SSLContext.keylog_filename (OpenSSL's keylog callback)",
            "limitations": (
                "TLS 1.3 cipher suites cannot be restricted (no ssl API); "
                + (
                    ""
                    if HAS_FULL_CHAIN
                    else "getpeercert() returns only the leaf before Python 3.13, so tlsapi's "
                    "key-size policy checks the leaf itself and OpenSSL's security level 2 the "
                    "rest (a P-224 intermediate passes); "
                )
                + "key_exchange_groups: one group only (set_ecdh_curve), and "
                "negotiated_group() is always None (the ssl module cannot read it); "
                "signature_scheme() and certificate_requested() are always None (ssl "
                "exposes neither the peer's signature scheme nor the CertificateRequest); "
                + "a refusal by tlsapi's policy comes after OpenSSL finished the handshake: "
                "the peer gets a plaintext bad_certificate alert only while it still waits "
                "for our last flight (TLS 1.3 client, TLS 1.2 server), else the connection "
                "just ends; " + "ALPN protocol names must be ASCII"
            ),
        },
    )
