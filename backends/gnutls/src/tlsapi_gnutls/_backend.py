"""The Backend this distribution publishes: capabilities, version and where trust comes from."""

from __future__ import annotations

import functools

from tlsapi import Backend, Capability

from ._binding import header_version, library_path, runtime_version, version_problem
from ._context import GnuTLSClientContext, GnuTLSServerContext
from ._groups import supported_groups
from ._priority import supported_suites
from ._resumption import CACHE_SIZE, LIFETIME

__all__ = ["make_backend"]

CAPABILITIES = frozenset(
    {
        Capability.TLSv1_2,
        Capability.TLSv1_3,
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
        Capability.FULL_PEER_CHAIN,
        Capability.IP_ADDRESS_VALIDATION,
        Capability.KEY_UPDATE,
        Capability.GROUP_SELECTION,
        Capability.NEGOTIATED_GROUP,
        Capability.KEY_LOG,
        Capability.SESSION_RESUMPTION,
        Capability.SEVERAL_CERTIFICATE_CHAINS,
        Capability.SIGNATURE_SCHEME,
        Capability.CERTIFICATE_REQUESTED,
    }
)


def _system_trust_source(path: str | None) -> str:
    """The trust store GnuTLS was configured with (a file, or p11-kit's PKCS#11 trust module).

    GnuTLS has no call that names it, so look for the configured default in
    the library itself, as `gnutls-cli` would use it.
    """
    found: list[str] = []
    if path:
        try:
            with open(path, "rb") as library:
                image = library.read()
        except OSError:
            image = b""
        for candidate in (
            b"pkcs11:model=p11-kit-trust",
            b"/etc/ssl/certs/ca-certificates.crt",
            b"/etc/pki/tls/certs/ca-bundle.crt",
            b"/etc/ssl/cert.pem",
            b"/etc/ssl/ca-bundle.pem",
            b"/etc/pki/ca-trust/",
        ):
            if candidate in image:
                found.append(candidate.decode())
    where = ", ".join(found) if found else "the default compiled into GnuTLS"
    return f"gnutls_certificate_set_x509_system_trust ({where})"


@functools.lru_cache(maxsize=1)
def make_backend() -> Backend:
    problem = version_problem()
    path = library_path()
    details = {
        "library": path or "libgnutls (path unknown)",
        "headers": f"GnuTLS {header_version()}",
        "system trust": _system_trust_source(path),
        "crypto policy": "system default priorities + ours (GNUTLS_PRIORITY_INIT_DEF_APPEND)",
        "limitations": (
            "ALPN: at most 8 protocols of at most 31 bytes; a cipher list must be a product "
            "of key exchanges x ciphers x MACs (else ConfigurationError); "
            "key_exchange_groups with TLS 1.2 DHE suites: ConfigurationError (a TLS 1.2 server "
            "may send any DH group)"
        ),
        "session resumption": (
            "client: gnutls_session_get_data2 (TLS 1.3: once a read took a ticket); server: "
            "tickets on, a key per context (gnutls_session_ticket_key_generate, in memory only; "
            "GnuTLS rotates the key it encrypts with every 18 h), TLS 1.2 session IDs in a "
            f"per-context cache of {CACHE_SIZE} sessions; sessions live {LIFETIME // 3600} h"
        ),
        "key log": (
            "keylog_filename through gnutls_session_set_keylog_function; $SSLKEYLOGFILE is "
            "ignored (GnuTLS's own use of it is switched off), pass it explicitly"
        ),
    }
    return Backend(
        name="gnutls",
        client_context=GnuTLSClientContext,
        server_context=GnuTLSServerContext,
        library_version=f"GnuTLS {runtime_version()}",
        capabilities=CAPABILITIES if problem is None else frozenset(),
        details=details,
        unavailable_reason=problem,
        supported_ciphers=supported_suites() if problem is None else (),
        supported_groups=supported_groups() if problem is None else (),
    )
