"""From a TLSConfiguration to an SSPI credential handle (``AcquireCredentialsHandleW``), once per context.

Two credential structures exist.  ``SCH_CREDENTIALS`` (Windows 10 1809 and
later) is the only one that enables TLS 1.3 (Windows 11 / Server 2022 and
later); it says which versions are *disabled* (TLS_PARAMETERS).  The older
``SCHANNEL_CRED`` says which are *enabled*.  Which one this process uses is
decided once (``credential_kind``) and reported in ``Backend.details``.
Wine accepts an SCH_CREDENTIALS but reads it as a SCHANNEL_CRED, so under
Wine it is always SCHANNEL_CRED.

Validation is always manual (SCH_CRED_MANUAL_CRED_VALIDATION): SChannel
never decides trust; tlsapi does, through ``_verify.verify_peer`` once the
handshake has produced the peer's certificate.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Sequence
from typing import Any

from tlsapi import (
    DEFAULT_CIPHER_LIST,
    ConfigurationError,
    TLSConfiguration,
    TLSVersion,
)
from tlsapi.backend_api import protocol_bytes

from ._binding import ffi, lib, once
from ._errors import failure
from ._platform import describe, is_wine, windows_version

__all__ = [
    "Credentials",
    "Settings",
    "credential_kind",
    "resumption_available",
    "supported_versions",
    "tls13_available",
]

# Windows 10 1809 brought SCH_CREDENTIALS; Windows Server 2022 (20348) and Windows 11
# (22000) brought TLS 1.3 to SChannel.
_SCH_CREDENTIALS_BUILD = 17763
_TLS13_BUILD = 20348

# TLSVersion -> (client bit, server bit) names in schannel.h
_PROTOCOL_BITS: tuple[tuple[TLSVersion, str, str], ...] = (
    (TLSVersion.TLSv1, "SP_PROT_TLS1_0_CLIENT", "SP_PROT_TLS1_0_SERVER"),
    (TLSVersion.TLSv1_1, "SP_PROT_TLS1_1_CLIENT", "SP_PROT_TLS1_1_SERVER"),
    (TLSVersion.TLSv1_2, "SP_PROT_TLS1_2_CLIENT", "SP_PROT_TLS1_2_SERVER"),
    (TLSVersion.TLSv1_3, "SP_PROT_TLS1_3_CLIENT", "SP_PROT_TLS1_3_SERVER"),
)
_ALL_PROTOCOL_BITS = 0
_VERSION_OF_BIT: dict[int, int] = {}
for _version, _client, _server in _PROTOCOL_BITS:
    _ALL_PROTOCOL_BITS |= int(getattr(lib, _client)) | int(getattr(lib, _server))
    assert _version.wire_version is not None
    _VERSION_OF_BIT[int(getattr(lib, _client))] = _version.wire_version
    _VERSION_OF_BIT[int(getattr(lib, _server))] = _version.wire_version


def tls13_available() -> bool:
    """Whether this SChannel negotiates TLS 1.3 (never under Wine 8.0)."""
    return not is_wine() and windows_version().build >= _TLS13_BUILD


def resumption_available() -> bool:
    """Whether SChannel resumes sessions here: not under Wine 8.0.

    Wine's SChannel makes a new GnuTLS session for every context and keeps no
    session data (measured: a client reusing one credentials handle and
    target name against an OpenSSL server that issues tickets and caches
    sessions gets a full handshake every time).
    """
    return not is_wine()


def credential_kind() -> str:
    """``"SCH_CREDENTIALS"`` or ``"SCHANNEL_CRED"``: what this process gives AcquireCredentialsHandleW."""
    if is_wine() or windows_version().build < _SCH_CREDENTIALS_BUILD:
        return "SCHANNEL_CRED"
    return "SCH_CREDENTIALS"


def supported_versions() -> tuple[TLSVersion, ...]:
    versions = (TLSVersion.TLSv1, TLSVersion.TLSv1_1, TLSVersion.TLSv1_2)
    return (*versions, TLSVersion.TLSv1_3) if tls13_available() else versions


def protocol_version(bits: int) -> int | None:
    """The wire version (0x0303) of an SP_PROT_* value SChannel reports, or None."""
    return _VERSION_OF_BIT.get(bits)


def _versions_in_range(config: TLSConfiguration) -> tuple[TLSVersion, ...]:
    low, high = config.lowest_supported_version, config.highest_supported_version
    supported = supported_versions()
    chosen = tuple(
        version
        for version in supported
        if (low is TLSVersion.MINIMUM_SUPPORTED or version >= low)
        and (high is TLSVersion.MAXIMUM_SUPPORTED or version <= high)
    )
    if not chosen:
        wants_13 = low is TLSVersion.TLSv1_3 or high is TLSVersion.TLSv1_3
        hint = (
            "TLS 1.3 needs SChannel on Windows 11 or Windows Server 2022 or later"
            + (" (Wine 8.0's SChannel has none)" if is_wine() else "")
            if wants_13
            else "widen the range"
        )
        raise ConfigurationError(
            f"no TLS version in the configured range ({low.name}..{high.name}) is available "
            f"in SChannel on {describe()}: {hint}"
        )
    return chosen


def _check_ciphers(config: TLSConfiguration) -> None:
    # SChannel takes no per-connection list of IANA suites (SCHANNEL_CRED's ALG_IDs and
    # SCH_CREDENTIALS' disabled algorithms cannot say "exactly these suites, in this
    # order", and Wine ignores both): only the default list is honoured.
    if tuple(config.ciphers) != tuple(DEFAULT_CIPHER_LIST):
        raise ConfigurationError(
            "tlsapi-schannel cannot restrict the cipher suites per connection: SChannel "
            "takes the system's suite order (set by group policy, or Enable-TlsCipherSuite / "
            "Disable-TlsCipherSuite in PowerShell); leave `ciphers` at DEFAULT_CIPHER_LIST "
            "or use another backend"
        )


# Wine's SChannel hands ALPN to GnuTLS, which silently drops names over 31 bytes and
# lists over 8 names; Windows takes RFC 7301's 255 bytes.
_WINE_ALPN_NAME = 31
_WINE_ALPN_COUNT = 8


def _check_alpn(protocols: Sequence[bytes]) -> None:
    if not is_wine():
        return
    if len(protocols) > _WINE_ALPN_COUNT or any(len(p) > _WINE_ALPN_NAME for p in protocols):
        raise ConfigurationError(
            f"SChannel on {describe()} passes ALPN to GnuTLS, which takes at most "
            f"{_WINE_ALPN_COUNT} protocols of at most {_WINE_ALPN_NAME} bytes (it would drop "
            "the others silently); shorten the list, or run on Windows"
        )


def _check_keylog(config: TLSConfiguration) -> None:
    # SChannel keeps its secrets inside LSASS and has no callback or attribute
    # that hands them out (Wine's GnuTLS underneath is not reachable either).
    if getattr(config, "keylog_filename", None) is not None:
        raise ConfigurationError(
            "tlsapi-schannel cannot write a key log: SChannel gives its session secrets to no "
            "application; leave `keylog_filename` at None, or use the stdlib, gnutls or nss "
            "backend to decrypt a capture"
        )


def _check_groups(config: TLSConfiguration) -> None:
    # SChannel takes no per-connection list of key-exchange groups (the curve order is a
    # system setting, and Wine ignores it): only the library's defaults are honoured.
    if getattr(config, "key_exchange_groups", None) is not None:
        raise ConfigurationError(
            "tlsapi-schannel cannot choose the key-exchange groups per connection: SChannel "
            "takes the system's curve order (group policy, or Enable-TlsEccCurve / "
            "Disable-TlsEccCurve in PowerShell); leave `key_exchange_groups` at None or use "
            "another backend"
        )


def alpn_buffer(protocols: Sequence[bytes]) -> Any:
    """A SEC_APPLICATION_PROTOCOLS blob with one ALPN list (for SECBUFFER_APPLICATION_PROTOCOLS)."""
    wire = b"".join(bytes((len(p),)) + p for p in protocols)
    lists_offset = ffi.offsetof("SEC_APPLICATION_PROTOCOLS", "ProtocolLists")
    list_offset = ffi.offsetof("SEC_APPLICATION_PROTOCOL_LIST", "ProtocolList")
    size = lists_offset + list_offset + len(wire)
    blob = ffi.new("unsigned char[]", size)
    header = ffi.cast("SEC_APPLICATION_PROTOCOLS *", blob)
    header.ProtocolListsSize = list_offset + len(wire)
    entry = ffi.cast("SEC_APPLICATION_PROTOCOL_LIST *", blob + lists_offset)
    entry.ProtoNegoExt = lib.SecApplicationProtocolNegotiationExt_ALPN
    entry.ProtocolListSize = len(wire)
    ffi.memmove(blob + lists_offset + list_offset, wire, len(wire))
    return blob


class Credentials:
    """One SSPI credential handle, freed with the last connection that uses it."""

    __slots__ = ("__weakref__", "_keep", "handle")

    def __init__(self, handle: Any, keep: tuple[object, ...]) -> None:
        self.handle = handle
        # What SChannel may still point into (the certificate contexts, their store).
        self._keep = keep

    # Bound now: at interpreter exit this module's globals (``lib``) may already be
    # None when the last Credentials is collected.
    _free = staticmethod(lib.FreeCredentialsHandle)

    def __del__(self) -> None:
        handle = getattr(self, "handle", None)
        if handle is not None:
            self.handle = None
            self._free(handle)


def _identities(config: TLSConfiguration) -> tuple[Any, ...]:
    """The certificates helper's ServerIdentity for each of ``config.certificate_chains``."""
    chains = config.certificate_chains
    if not chains:
        return ()
    try:
        load_identity = importlib.import_module(f"{__package__}._certificates").load_identity
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}._certificates":
            raise
        raise ConfigurationError(
            "this build of tlsapi-schannel cannot load certificates and keys yet "
            "(its _certificates module is missing)"
        ) from None
    return tuple(load_identity(list(chain), key) for chain, key in chains)


def acquire(settings: Settings) -> Credentials:
    """AcquireCredentialsHandleW for ``settings``; TLSError with SChannel's status on failure."""
    server = settings.server
    flags = int(lib.SCH_CRED_MANUAL_CRED_VALIDATION | lib.SCH_USE_STRONG_CRYPTO)
    if not server:
        flags |= int(lib.SCH_CRED_NO_DEFAULT_CREDS)
    keep: list[object] = []
    certs = ffi.NULL
    count = len(settings.identities)
    if count:
        # Several leaves (a server's RSA and ECDSA chains): SChannel takes one
        # certificate per key type and picks by what the client supports.
        certs = ffi.new("PCCERT_CONTEXT[]", [identity.leaf for identity in settings.identities])
        keep += [*settings.identities, certs]
    enabled = settings.protocol_bits
    if settings.kind == "SCH_CREDENTIALS":
        params = ffi.new("TLS_PARAMETERS *")
        params.grbitDisabledProtocols = _ALL_PROTOCOL_BITS & ~enabled
        cred: Any = ffi.new("SCH_CREDENTIALS *")
        cred.dwVersion = lib.SCH_CREDENTIALS_VERSION
        cred.cTlsParameters = 1
        cred.pTlsParameters = params
        keep.append(params)
    else:
        cred = ffi.new("SCHANNEL_CRED *")
        cred.dwVersion = lib.SCHANNEL_CRED_VERSION
        cred.grbitEnabledProtocols = enabled
    cred.dwFlags = flags
    cred.cCreds = count
    cred.paCred = certs
    handle = ffi.new("CredHandle *")
    use = lib.SECPKG_CRED_INBOUND if server else lib.SECPKG_CRED_OUTBOUND
    status = lib.AcquireCredentialsHandleW(
        ffi.NULL, lib.UNISP_NAME_W, use, ffi.NULL, cred, ffi.NULL, ffi.NULL, handle, ffi.NULL
    )
    if status != lib.SEC_E_OK:
        error = failure(status, f"AcquireCredentialsHandleW ({settings.kind})")
        raise ConfigurationError(str(error)) from None
    return Credentials(handle, tuple(keep))


class Settings:
    """A configuration checked and turned into what SSPI takes, for one side."""

    def __init__(self, config: TLSConfiguration, *, server: bool) -> None:
        self.config = config
        self.server = server
        _check_ciphers(config)
        _check_groups(config)
        _check_keylog(config)
        self.versions = _versions_in_range(config)
        bits = 0
        for version, client, srv in _PROTOCOL_BITS:
            if version in self.versions:
                bits |= int(getattr(lib, srv if server else client))
        self.protocol_bits = bits
        self.kind = credential_kind()
        self.alpn: tuple[bytes, ...] = tuple(protocol_bytes(p) for p in config.inner_protocols)
        _check_alpn(self.alpn)
        self.alpn_blob = alpn_buffer(self.alpn) if self.alpn and not server else None
        self.verify = config.validate_certificates and (
            not server or config.trust_store is not None
        )
        # A server with a trust store asks for (and requires) a client certificate.
        self.request_client_cert = server and config.trust_store is not None
        if server and not config.certificate_chains:
            raise ConfigurationError("a server configuration needs a certificate_chain")
        self.identities = _identities(config)
        self.credentials = acquire(self)
        self._handed_out = itertools.count()

    def connection_credentials(self) -> Credentials:
        """The credentials handle a new client connection starts with.

        SChannel keeps a client's sessions inside the credentials handle, by
        target name, and resumes one by itself.  Where it can, each connection
        gets a handle of its own, so that nothing is resumed unless a session
        (which holds its handle) is offered; under Wine nothing is ever
        resumed, so the context's one handle serves every connection.
        """
        # The first connection takes the handle acquired with the context (unused so far).
        if self.server or not resumption_available() or next(self._handed_out) == 0:
            return self.credentials
        return acquire(self)


def _probe_server() -> bool:
    # AcceptSecurityContext on a (client) credential of this package: where the package
    # has no server side (Wine) the dispatcher answers SEC_E_UNSUPPORTED_FUNCTION; a
    # package with one refuses the credential with another status.
    credential = ffi.new("SCHANNEL_CRED *")
    credential.dwVersion = lib.SCHANNEL_CRED_VERSION
    credential.dwFlags = lib.SCH_CRED_MANUAL_CRED_VALIDATION | lib.SCH_CRED_NO_DEFAULT_CREDS
    handle = ffi.new("CredHandle *")
    status = lib.AcquireCredentialsHandleW(
        ffi.NULL, lib.UNISP_NAME_W, lib.SECPKG_CRED_OUTBOUND, ffi.NULL, credential,
        ffi.NULL, ffi.NULL, handle, ffi.NULL,
    )  # fmt: skip
    if status != lib.SEC_E_OK:
        return False
    try:
        context = ffi.new("CtxtHandle *")
        attributes = ffi.new("ULONG *")
        status = lib.AcceptSecurityContext(
            handle, ffi.NULL, ffi.NULL, 0, 0, context, ffi.NULL, attributes, ffi.NULL
        )
        if status >= 0:  # it made a context after all: do not leak it
            lib.DeleteSecurityContext(context)
        return bool(status != lib.SEC_E_UNSUPPORTED_FUNCTION)
    finally:
        lib.FreeCredentialsHandle(handle)


def server_available() -> bool:
    """Whether this SChannel has a server side (AcceptSecurityContext); not under Wine 8.0."""
    available: bool = once("server_available", _probe_server)
    return available
