"""What a context prepares once for all its connections: priorities, credentials, ALPN.

A session then only points at these objects (gnutls_priority_set,
gnutls_credentials_set), which keeps wrap_buffers() cheap.  The objects stay
alive as long as a context or a connection refers to them.
"""

from __future__ import annotations

from typing import Any

from tlsapi import ConfigurationError, TLSConfiguration, TrustStore
from tlsapi.backend_api import protocol_bytes

from ._binding import ffi, lib
from ._credentials import Credentials
from ._priority import Priority

__all__ = ["Alpn", "ConnectionSettings"]

# GnuTLS keeps ALPN names in fixed arrays (lib/ext/alpn.h).
MAX_ALPN_PROTOCOLS = 8
MAX_ALPN_NAME = 31


class Alpn:
    """The ALPN list as gnutls_datum_t[] (GnuTLS copies it into each session)."""

    __slots__ = ("_keep", "array", "count")

    def __init__(self, config: TLSConfiguration) -> None:
        names = [protocol_bytes(p) for p in config.inner_protocols]
        if len(names) > MAX_ALPN_PROTOCOLS:
            raise ConfigurationError(
                f"inner_protocols: GnuTLS offers at most {MAX_ALPN_PROTOCOLS} ALPN protocols, "
                f"{len(names)} were given"
            )
        for name in names:
            if len(name) > MAX_ALPN_NAME:
                raise ConfigurationError(
                    f"inner_protocols: {name!r} is {len(name)} bytes long; GnuTLS takes ALPN "
                    f"names of at most {MAX_ALPN_NAME} bytes"
                )
        self._keep = [ffi.new("unsigned char[]", name) for name in names]
        self.array: Any = ffi.new(
            "gnutls_datum_t[]",
            [(keep, len(name)) for keep, name in zip(self._keep, names, strict=True)],
        )
        self.count = len(names)


class ConnectionSettings:
    """Credentials, ALPN and peer-verification choice for one configuration and side.

    ``priority`` is only built for a context's own configuration: the one an
    sni_callback returns changes the certificate, the trust store (client
    certificates) and ALPN, but the ClientHello has already been matched
    against the context's versions and cipher suites.
    """

    __slots__ = ("alpn", "config", "credentials", "priority", "verify_peer")

    def __init__(
        self, config: TLSConfiguration, *, server: bool, with_priority: bool = True
    ) -> None:
        self.config = config
        self.priority = Priority(config, server=server) if with_priority else None
        if server:
            trust = config.trust_store
            self.verify_peer = trust is not None
        else:
            trust = (
                (config.trust_store or TrustStore.system())
                if config.validate_certificates
                else None
            )
            self.verify_peer = config.validate_certificates
        self.credentials = Credentials(trust, config.certificate_chains)
        self.alpn = Alpn(config) if config.inner_protocols else None

    def apply_alpn(self, session: Any, *, server: bool) -> None:
        alpn = self.alpn
        if alpn is None:
            return
        # Server: the server's order wins, as with OpenSSL (SSL_select_next_proto).
        flags = lib.GNUTLS_ALPN_SERVER_PRECEDENCE if server else 0
        code = lib.gnutls_alpn_set_protocols(session, alpn.array, alpn.count, flags)
        if code < 0:
            from ._errors import raise_for_code

            raise_for_code(code)
