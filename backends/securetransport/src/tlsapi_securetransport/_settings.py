"""What Secure Transport can be asked for, decided from a TLSConfiguration in pure Python.

Nothing here needs the Security framework, so the refusals are tested on
any system (tests/test_securetransport_settings.py).  The numbers are
Secure Transport's SSLProtocol values (SecProtocolTypes.h; cross-checked
against Debian's security-framework-sys by tests/test_securetransport_cdefs.py
through the cdefs, which give them to the compiled module too).
"""

from __future__ import annotations

from tlsapi import Capability, ConfigurationError, TLSConfiguration, TLSVersion
from tlsapi.backend_api import protocol_bytes

__all__ = [
    "ALPN_ON_SERVER",
    "CAPABILITIES",
    "LIMITATIONS",
    "NO_KEY_LOG",
    "NO_RESUMPTION",
    "ONE_CHAIN",
    "PROTOCOL_WIRE",
    "TLS13_SUITES",
    "alpn_names",
    "check_configuration",
    "protocol_range",
    "wanted_suites",
]

# SSLProtocol (kTLSProtocol1, kTLSProtocol11, kTLSProtocol12) for each version we may ask for.
_PROTOCOLS = {TLSVersion.TLSv1: 4, TLSVersion.TLSv1_1: 7, TLSVersion.TLSv1_2: 8}
# What SSLGetNegotiatedProtocolVersion answers, as the version's number on the wire.
PROTOCOL_WIRE = {4: 0x0301, 7: 0x0302, 8: 0x0303}
# TLS 1.3's suites (RFC 8446): Secure Transport never negotiates them.
TLS13_SUITES = frozenset({0x1301, 0x1302, 0x1303, 0x1304, 0x1305})
# Claimed from what the code does; TLS 1.3, server ALPN, cipher/group choices beyond
# Secure Transport are refused with ConfigurationError (see LIMITATIONS).
CAPABILITIES = frozenset(
    {
        Capability.TLSv1_2,
        Capability.CLIENT,
        Capability.SERVER,
        Capability.ALPN,
        Capability.SNI_CALLBACK,
        Capability.CLIENT_CERTIFICATES,
        Capability.SYSTEM_TRUST,
        Capability.CUSTOM_TRUST,
        Capability.ENCRYPTED_KEYS,
        Capability.CIPHER_SELECTION,
        Capability.FULL_PEER_CHAIN,
        Capability.IP_ADDRESS_VALIDATION,
    }
)
LIMITATIONS = (
    "no TLS 1.3 (Secure Transport never enabled it: a lowest version of TLS 1.3 is a "
    "ConfigurationError); no ALPN on the server side (a server configuration with "
    "inner_protocols is refused); no choice of key-exchange groups; after our shutdown() "
    "reads end at once (SSLClose closes both directions); deprecated by Apple since "
    "macOS 10.15, still shipped; no key log; one certificate chain per server; no session "
    "resumption (each connection has a peer ID of its own, so none happens by itself)"
)

NO_KEY_LOG = (
    "Secure Transport cannot write a key log: it hands its session secrets to no application "
    "(no callback, no public API); leave keylog_filename at None, or use another backend to "
    "decrypt a capture"
)
ONE_CHAIN = (
    "Secure Transport serves one certificate chain (SSLSetCertificate takes one identity); "
    "give the server one chain, or use a backend with Capability.SEVERAL_CERTIFICATE_CHAINS"
)
# Why session= is refused (Apple's open-source Security: sslContext.c and coreTLS).
NO_RESUMPTION = (
    "Secure Transport cannot resume sessions through tlsapi: whether a handshake resumed is "
    "told only by SSLGetResumableSessionInfo, private SPI (SecureTransportPriv.h) that a "
    "module built against the public SDK cannot call, and a server keeps its sessions in "
    "Secure Transport's one process-wide cache (keyed by session ID and the connection's "
    "settings, not by context), so a server context cannot have a cache of its own; use "
    "another backend to resume sessions"
)

ALPN_ON_SERVER = (
    "Secure Transport cannot select an ALPN protocol as a server (it has no server-side "
    "ALPN): a server configuration with inner_protocols is refused; use another backend "
    "for an ALPN server"
)


def check_configuration(config: TLSConfiguration, *, server: bool) -> None:
    """ConfigurationError for what Secure Transport cannot do with ``config``."""
    protocol_range(config)
    if server and config.inner_protocols:
        raise ConfigurationError(ALPN_ON_SERVER)
    if getattr(config, "key_exchange_groups", None) is not None:
        raise ConfigurationError(
            "key_exchange_groups: Secure Transport has no per-connection choice of "
            "key-exchange groups (the system's curve order applies); leave it None"
        )
    alpn_names(config)
    if getattr(config, "keylog_filename", None) is not None:
        raise ConfigurationError(NO_KEY_LOG)
    if len(config.certificate_chains) > 1:
        raise ConfigurationError(ONE_CHAIN)
    if server and not config.certificate_chains and config.sni_callback is None:
        raise ConfigurationError(
            "a Secure Transport server needs a certificate_chain (or an sni_callback that "
            "supplies one)"
        )


def protocol_range(config: TLSConfiguration) -> tuple[int, int]:
    """(SSLProtocol minimum, maximum) for the configuration's version range.

    Secure Transport never enabled TLS 1.3: a range whose lowest version is
    TLS 1.3 is refused; a range that reaches up to TLS 1.3 from below is
    served up to TLS 1.2, the highest version Secure Transport has.
    """
    lowest, highest = config.lowest_supported_version, config.highest_supported_version
    if lowest is TLSVersion.TLSv1_3:
        raise ConfigurationError(
            "lowest_supported_version=TLSv1.3: Secure Transport supports TLS 1.0 to 1.2 only "
            "(Apple never enabled TLS 1.3 in it); use TLS 1.2 as the lowest version or "
            "another backend"
        )
    low = _PROTOCOLS[TLSVersion.TLSv1] if lowest is TLSVersion.MINIMUM_SUPPORTED else None
    high = _PROTOCOLS[TLSVersion.TLSv1_2]
    if low is None:
        low = _PROTOCOLS[lowest]
    if highest not in (TLSVersion.MAXIMUM_SUPPORTED, TLSVersion.TLSv1_3):
        high = _PROTOCOLS[highest]
    if low > high:
        raise ConfigurationError(
            f"the version range {lowest.value}..{highest.value} is empty under Secure Transport"
        )
    return low, high


def wanted_suites(config: TLSConfiguration) -> tuple[int, ...]:
    """The configuration's suites Secure Transport could negotiate (TLS 1.3's dropped), in order."""
    numbers = tuple(int(suite) for suite in _numbers(config) if int(suite) not in TLS13_SUITES)
    if not numbers:
        raise ConfigurationError(
            "ciphers: only TLS 1.3 suites were given, and Secure Transport has no TLS 1.3; "
            "add TLS 1.2 suites"
        )
    return numbers


def _numbers(config: TLSConfiguration) -> tuple[int, ...]:
    from tlsapi import CipherSuite

    return tuple(s.value if isinstance(s, CipherSuite) else int(s) for s in config.ciphers)


def alpn_names(config: TLSConfiguration) -> tuple[str, ...]:
    """The ALPN protocols as the text Secure Transport takes (a CFString each).

    SSLSetALPNProtocols takes CFStrings, so a protocol name must be text:
    printable ASCII only; any other byte is refused rather than re-encoded.
    """
    names = []
    for protocol in config.inner_protocols:
        raw = protocol_bytes(protocol)
        if not all(0x21 <= byte <= 0x7E for byte in raw):
            raise ConfigurationError(
                f"inner_protocols: {raw!r} is not printable ASCII; Secure Transport takes "
                "ALPN names as text (CFString) and cannot send other bytes"
            )
        names.append(raw.decode("ascii"))
    return tuple(names)
