"""Backend: what a backend publishes to the registry."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import ClassVar

from ._context import ClientContext, ServerContext
from ._credentials import Certificate, PrivateKey, TrustStore

__all__ = ["Backend", "Capability"]


class Capability(str, enum.Enum):
    """Something a backend really supports (absent means: raises ConfigurationError)."""

    TLSv1_2 = "tls1.2"
    TLSv1_3 = "tls1.3"
    CLIENT = "client"
    SERVER = "server"
    # ALPN on a client (it offers inner_protocols and reads the server's choice);
    # SERVER_ALPN: a server chooses among the client's (Secure Transport cannot).
    ALPN = "alpn"
    SERVER_ALPN = "server-alpn"
    SNI_CALLBACK = "sni-callback"
    CLIENT_CERTIFICATES = "client-certificates"
    SYSTEM_TRUST = "system-trust"
    CUSTOM_TRUST = "custom-trust"
    ENCRYPTED_KEYS = "encrypted-keys"
    CIPHER_SELECTION = "cipher-selection"
    FULL_PEER_CHAIN = "full-peer-chain"
    IP_ADDRESS_VALIDATION = "ip-address-validation"
    KEY_UPDATE = "key-update"
    KEY_LOG = "key-log"
    # key_exchange_groups honoured as a list in preference order (one group
    # alone may still work without it: see the backend's details).
    GROUP_SELECTION = "group-selection"
    # negotiated_group() tells which group the handshake used.
    NEGOTIATED_GROUP = "negotiated-group"
    # Clients resume sessions (session=..., session_reused) and servers issue tickets.
    SESSION_RESUMPTION = "session-resumption"
    # A server's certificate_chain may hold several chains (RSA and ECDSA, ...).
    SEVERAL_CERTIFICATE_CHAINS = "several-certificate-chains"
    # signature_scheme() tells how the peer signed the handshake.
    SIGNATURE_SCHEME = "signature-scheme"
    # certificate_requested() tells whether the server asked for a client certificate.
    CERTIFICATE_REQUESTED = "certificate-requested"

    def __str__(self) -> str:
        return self.value


@dataclasses.dataclass(frozen=True)
class Backend:
    """One TLS implementation under the tlsapi API.

    The first five names are PEP 543's: ``backend.client_context(config)``
    works.  ``details`` holds facts worth showing (trust source, library
    path); ``unavailable_reason`` is None when the backend can be used.
    ``supported_ciphers`` are the IANA numbers of the suites this backend
    can negotiate under the system's policy (weak suites excluded), in its
    order of preference; empty means unknown.  ``supported_groups`` are the
    IANA numbers of the key-exchange groups ``key_exchange_groups`` may name
    here; empty means unknown (or none can be chosen).
    """

    name: str
    client_context: type[ClientContext]
    server_context: type[ServerContext]
    library_version: str
    capabilities: frozenset[Capability]
    details: Mapping[str, str] = dataclasses.field(default_factory=dict)
    unavailable_reason: str | None = None
    supported_ciphers: tuple[int, ...] = ()
    supported_groups: tuple[int, ...] = ()

    certificate: ClassVar[type[Certificate]] = Certificate
    private_key: ClassVar[type[PrivateKey]] = PrivateKey
    trust_store: ClassVar[type[TrustStore]] = TrustStore

    def is_available(self) -> bool:
        return self.unavailable_reason is None

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def __repr__(self) -> str:
        state = "available" if self.is_available() else f"unavailable: {self.unavailable_reason}"
        return f"<Backend {self.name} ({self.library_version}), {state}>"
