"""tlsapi-nss: the NSS backend of tlsapi (NSS's TLS through cffi, over memory buffers).

``load_backend()`` is the entry point in the ``tlsapi.backends`` group.  It
never raises: a missing extension or a too-old NSS gives a Backend whose
``unavailable_reason`` says what to do.
"""

from __future__ import annotations

from tlsapi import Backend, Capability

__all__ = ["load_backend"]


def _unavailable(reason: str, version: str = "NSS (not loaded)") -> Backend:
    from tlsapi import ClientContext, ServerContext

    return Backend(
        name="nss",
        client_context=ClientContext,
        server_context=ServerContext,
        library_version=version,
        capabilities=frozenset(),
        unavailable_reason=reason,
    )


def load_backend() -> Backend:
    try:
        from . import _lib
    except ImportError as exc:
        return _unavailable(
            f"the compiled NSS binding cannot be loaded ({exc}); reinstall tlsapi-nss "
            "with the NSS development files present (libnss3-dev / nss-devel)"
        )
    version = f"NSS {_lib.library_version()}"
    problem = _lib.version_problem()
    if problem is not None:
        return _unavailable(problem, version)

    from . import _hooks  # noqa: F401  (defines the extern "Python" callbacks)
    from ._ciphers import supported_range, supported_suites
    from ._context import NSSClientContext, NSSServerContext
    from ._groups import SUPPORTED_GROUPS
    from ._runtime import RUNTIME

    capabilities = {
        Capability.TLSv1_2,
        Capability.CLIENT,
        Capability.SERVER,
        Capability.ALPN,
        Capability.SERVER_ALPN,
        Capability.SNI_CALLBACK,
        Capability.CLIENT_CERTIFICATES,
        Capability.CUSTOM_TRUST,
        Capability.ENCRYPTED_KEYS,
        Capability.CIPHER_SELECTION,
        Capability.FULL_PEER_CHAIN,
        Capability.IP_ADDRESS_VALIDATION,
        Capability.KEY_UPDATE,
        Capability.GROUP_SELECTION,
        Capability.NEGOTIATED_GROUP,
        Capability.SESSION_RESUMPTION,
        Capability.SEVERAL_CERTIFICATE_CHAINS,
        Capability.SIGNATURE_SCHEME,
        Capability.CERTIFICATE_REQUESTED,
    }
    if supported_range()[1] >= 0x0304:
        capabilities.add(Capability.TLSv1_3)
        # TLS 1.3 only (NSS gives no TLS 1.2 master secret): see details["key_log"].
        capabilities.add(Capability.KEY_LOG)
    trust = RUNTIME.trust_source
    if trust.path is not None or RUNTIME.database:
        capabilities.add(Capability.SYSTEM_TRUST)
    trust_text = trust.describe()
    if RUNTIME.database:
        trust_text = f"NSS database {RUNTIME.database} (its modules and trust), else {trust_text}"
    nspr = _lib.ffi.string(_lib.lib.PR_GetVersion()).decode("ascii", "replace")
    return Backend(
        name="nss",
        client_context=NSSClientContext,
        server_context=NSSServerContext,
        library_version=version,
        capabilities=frozenset(capabilities),
        supported_ciphers=supported_suites(),
        supported_groups=SUPPORTED_GROUPS,
        details={
            "library": f"NSS {_lib.library_version()} with NSPR {nspr} "
            f"(compiled against NSS {_lib.compiled_version()})",
            "trust_source": trust_text,
            "database": RUNTIME.database or "none (NSS_INIT_NOCERTDB)",
            "key_log": (
                "TLS 1.3 only, through NSS's secret callback (client and server handshake "
                "and traffic secrets; no EXPORTER_SECRET, which NSS does not hand out); a "
                "configuration allowing TLS 1.2 with keylog_filename is refused, since NSS "
                "gives no TLS 1.2 master secret (this libssl3 has no SSLKEYLOGFILE support, "
                "which would be process-wide anyway)"
            ),
            "session_resumption": (
                "clients: TLS 1.2 and 1.3, through NSS resumption tokens, or (a TLS 1.2 "
                "session ID, a client certificate: NSS exports no token) NSS's client cache "
                "under a peer ID only the session knows; servers: tickets only (NSS's "
                "session-ID cache is per process: no session-ID resumption), each server "
                "configuration resuming only the tickets it issued; NSS's ticket key is per "
                "process, made at first use, never rotated, tickets live 2 days; a TLS 1.2 "
                "ticket of another server context gets a full handshake, a TLS 1.3 one too "
                "(under a suite of the other hash, so NSS cannot resume it) unless the client "
                "offers no such suite: then a handshake_failure (NSS cannot decline a ticket "
                "it has decrypted)"
            ),
            "limitations": (
                "no session-ID resumption on a server; "
                "Ed25519/Ed448 keys cannot be used; "
                "server certificates are not checked for revocation; "
                "no X448 key exchange"
            ),
        },
    )
