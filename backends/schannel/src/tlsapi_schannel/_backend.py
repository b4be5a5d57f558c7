"""The Backend this distribution publishes: capabilities as this Windows (or Wine) really has them."""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

from tlsapi import Backend, Capability

from ._context import SChannelClientContext, SChannelServerContext
from ._platform import describe, is_wine, windows_version, wine_version
from ._sspi_credentials import (
    credential_kind,
    resumption_available,
    server_available,
    tls13_available,
)

__all__ = ["make_backend"]


def _helper_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{name}":
            raise
        return None


def _certificate_capabilities() -> set[Capability]:
    """What the certificates-and-trust modules make possible (each claimed only once it exists)."""
    found: set[Capability] = set()
    if _helper_module("_verify") is not None:
        found |= {
            Capability.SYSTEM_TRUST,
            Capability.CUSTOM_TRUST,
            Capability.IP_ADDRESS_VALIDATION,
        }
    certificates = _helper_module("_certificates")
    if certificates is not None:
        claimed = getattr(certificates, "capabilities", None)
        found |= (
            set(claimed())
            if claimed is not None
            else {
                Capability.FULL_PEER_CHAIN,
                Capability.CLIENT_CERTIFICATES,
                Capability.ENCRYPTED_KEYS,
            }
        )
    return found


def _capabilities() -> frozenset[Capability]:
    capabilities = {Capability.TLSv1_2, Capability.CLIENT, Capability.ALPN}
    # The group is read from the server's flight (a tlsapi that knows the capability).
    negotiated_group = getattr(Capability, "NEGOTIATED_GROUP", None)
    if negotiated_group is not None:
        capabilities.add(negotiated_group)
    capabilities |= _certificate_capabilities()
    if tls13_available():
        capabilities.add(Capability.TLSv1_3)
    if server_available() and _helper_module("_certificates") is not None:
        # SCHANNEL_CRED / SCH_CREDENTIALS take one certificate per key type.
        capabilities |= {
            Capability.SERVER,
            Capability.SERVER_ALPN,
            Capability.SNI_CALLBACK,
            Capability.SEVERAL_CERTIFICATE_CHAINS,
        }
    if resumption_available():
        capabilities.add(Capability.SESSION_RESUMPTION)
    return frozenset(capabilities)


def _limitations() -> str:
    notes = [
        "no per-connection cipher-suite list (SChannel follows the system's suite order: "
        "a non-default `ciphers` is a ConfigurationError)",
        "no per-connection key-exchange groups (the system's curve order applies: "
        "`key_exchange_groups` other than None is a ConfigurationError)",
        "a TLS 1.2 renegotiation request from the peer is ignored",
        "no key log (SChannel hands its secrets to no application: `keylog_filename` is a "
        "ConfigurationError)",
        "signature_scheme() and certificate_requested() are None (no SChannel attribute "
        "names the peer's signature scheme or a CertificateRequest)",
    ]
    if not tls13_available():
        notes.append("no TLS 1.3 (it needs Windows 11 / Server 2022 or later)")
    if is_wine():
        notes.append("Wine's SChannel is client-only (no AcceptSecurityContext)")
        notes.append(
            "no session resumption under Wine (its SChannel makes a new GnuTLS session per "
            "context and keeps no session data: measured, every handshake is a full one)"
        )
    return "; ".join(notes)


def _resumption_note() -> str:
    if not resumption_available():
        return "none: Wine's SChannel never resumes (session= is a ConfigurationError)"
    return (
        "client: SChannel caches sessions in the credentials handle by target name, so each "
        "connection starts with a handle of its own and a TLSSession holds the handle it "
        "used: offered again, SChannel resumes from it (session IDs, tickets); "
        "session_reused from SECPKG_ATTR_SESSION_INFO (SSL_SESSION_RECONNECT). Server: "
        "SChannel's own session cache and tickets, whose keys SChannel (LSASS) keeps and "
        "rotates, not the process"
    )


@functools.lru_cache(maxsize=1)
def make_backend() -> Backend:
    version = windows_version()
    details = {
        "windows": describe(),
        "credentials": credential_kind(),
        "validation": "manual (SCH_CRED_MANUAL_CRED_VALIDATION); tlsapi decides trust",
        "session_resumption": _resumption_note(),
        "limitations": _limitations(),
    }
    wine = wine_version()
    if wine is not None:
        details["wine"] = wine
    return Backend(
        name="schannel",
        client_context=SChannelClientContext,
        server_context=SChannelServerContext,
        library_version=f"SChannel (Windows {version})",
        capabilities=_capabilities(),
        details=details,
    )
