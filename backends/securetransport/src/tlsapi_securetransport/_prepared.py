"""What a context prepares once for all its connections: versions, suites, ALPN, trust, identity."""

from __future__ import annotations

import functools
import os
from typing import Any

from tlsapi import ConfigurationError, TLSConfiguration, TrustStore

from . import _cf
from ._binding import ffi, lib
from ._errors import describe
from ._identity import Identity
from ._settings import alpn_names, check_configuration, protocol_range, wanted_suites
from ._trust import Anchors

__all__ = ["Prepared", "supported_suites"]


@functools.lru_cache(maxsize=1)
def supported_suites() -> tuple[int, ...]:
    """The suites Secure Transport supports on this system (SSLGetSupportedCiphers), in its order."""
    status = ffi.new("OSStatus *")
    io = lib.tlsapi_securetransport_io_new(lib.kSSLClientSide, status)
    if io == ffi.NULL:
        raise MemoryError(f"SSLCreateContext failed: {describe(status[0])}")
    try:
        count = ffi.new("size_t *")
        if lib.SSLGetNumberSupportedCiphers(io.context, count) != lib.errSecSuccess:
            return ()
        suites = ffi.new("SSLCipherSuite[]", count[0] or 1)
        if lib.SSLGetSupportedCiphers(io.context, suites, count) != lib.errSecSuccess:
            return ()
        return tuple(int(suites[i]) for i in range(count[0]))
    finally:
        lib.tlsapi_securetransport_io_free(io)


class Prepared:
    """One configuration on one side, turned into what each connection hands Secure Transport."""

    __slots__ = (
        "alpn",
        "anchors",
        "config",
        "identity",
        "peer_id_prefix",
        "protocols",
        "suites",
        "validate",
    )

    def __init__(self, config: TLSConfiguration, *, server: bool) -> None:
        check_configuration(config, server=server)
        self.config = config
        self.protocols = protocol_range(config)
        supported = set(supported_suites())  # weak ones never get here: the config refuses them
        self.suites = tuple(s for s in wanted_suites(config) if s in supported)
        if not self.suites:
            raise ConfigurationError(
                "ciphers: none of the configured suites is supported by Secure Transport here"
            )
        names = alpn_names(config)
        self.alpn: Any = _cf.array([_cf.string(name) for name in names]) if names else None
        if server:
            self.validate = config.trust_store is not None
            store = config.trust_store
        else:
            self.validate = config.validate_certificates
            store = (config.trust_store or TrustStore.system()) if self.validate else None
        self.anchors = Anchors(store) if store is not None and not store.is_system else None
        chains = config.certificate_chains  # at most one: check_configuration refused more
        self.identity = Identity(*chains[0]) if chains else None
        # Each connection's peer ID starts with this (see the buffer's SSLSetPeerID).
        self.peer_id_prefix = os.urandom(16)
