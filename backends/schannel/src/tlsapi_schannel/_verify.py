"""Peer validation the Windows way: CertGetCertificateChain, then the SSL chain policy.

SChannel runs with manual credential validation on both sides; once the
handshake has the peer's certificate, the SSPI core calls ``verify_peer``
with it (its ``hCertStore`` holds what the peer sent), then runs tlsapi's own
policy (``tlsapi.backend_api.check_peer_chain``).

Trust:

* ``TrustStore.system()``: the default chain engine (the user's and
  machine's stores, so enterprise roots, group policy and the Disallowed
  store apply), revocation checked for the chain except the root, soft-fail
  when the status cannot be had (as browsers do);
  ``CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL)`` with the server
  name.
* a custom ``TrustStore`` is exclusive: an engine whose ``hExclusiveRoot``
  holds only its certificates (no system root counts; Windows 7 and later).
  Where the engine is refused (Wine 8.0 accepts only the pre-Windows-7
  ``CERT_CHAIN_ENGINE_CONFIG``), the chain is built by the default engine
  with the roots as an additional store and accepted only if it ends in one
  of the given certificates, byte for byte; a chain ending in a system root
  is refused.  Nothing is fetched (no AIA download of missing issuers) and no
  revocation is checked: the other backends do neither.

The SSL policy reports only its first error, so the chain's status bits
are read first (their reason, in the order OpenSSL's verifier meets the
problems, as the GnuTLS backend orders its own), the name is checked
separately (a policy call that ignores every chain error), and the full
policy runs last.  An IP address is matched only against iPAddress
subjectAltNames, here, never by the policy (which would compare it with DNS
names and the common name).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from typing import Any

from tlsapi import CertificateError, CertificateErrorReason, TrustStore
from tlsapi.backend_api import DERError, ServerName

from ._binding import ffi, lib, once
from ._certificates import add_certificate, certificate_der, open_memory_store
from ._der import certificate_fields
from ._keys import windows_error

__all__ = ["evaluate", "verify_peer"]

R = CertificateErrorReason

_SERVER_AUTH = b"1.3.6.1.5.5.7.3.1"
_CLIENT_AUTH = b"1.3.6.1.5.5.7.3.2"
_CERT_CHAIN_POLICY_SSL = 4  # wincrypt.h: ((LPCSTR) 4)
# wininet.h's SECURITY_FLAG_IGNORE_* for SSL_EXTRA_CERT_CHAIN_POLICY_PARA.fdwChecks.
_IGNORE_REVOCATION = 0x80
_IGNORE_UNKNOWN_CA = 0x100
_IGNORE_WRONG_USAGE = 0x200
_IGNORE_CERT_DATE_INVALID = 0x2000
_IGNORE_ALL_BUT_NAME = (
    _IGNORE_REVOCATION | _IGNORE_UNKNOWN_CA | _IGNORE_WRONG_USAGE | _IGNORE_CERT_DATE_INVALID
)

# Policy errors (winerror.h) and their reasons, keyed by the DWORD dwError holds.
_POLICY_REASONS: dict[int, tuple[str, CertificateErrorReason]] = {
    int(getattr(lib, name)) & 0xFFFFFFFF: (name, reason)
    for name, reason in (
        ("CERT_E_EXPIRED", R.EXPIRED),
        ("CERT_E_ROLE", R.UNTRUSTED_ISSUER),
        ("CERT_E_PATHLENCONST", R.UNTRUSTED_ISSUER),
        ("CERT_E_CRITICAL", R.OTHER),
        ("CERT_E_PURPOSE", R.BAD_USAGE),
        ("CERT_E_UNTRUSTEDROOT", R.UNTRUSTED_ISSUER),
        ("CERT_E_CHAINING", R.UNTRUSTED_ISSUER),
        ("CERT_E_REVOKED", R.REVOKED),
        ("CERT_E_UNTRUSTEDTESTROOT", R.UNTRUSTED_ISSUER),
        ("CERT_E_CN_NO_MATCH", R.HOSTNAME_MISMATCH),
        ("CERT_E_WRONG_USAGE", R.BAD_USAGE),
        ("TRUST_E_EXPLICIT_DISTRUST", R.REVOKED),
        ("CERT_E_UNTRUSTEDCA", R.UNTRUSTED_ISSUER),
        ("CERT_E_INVALID_NAME", R.BAD_USAGE),
        ("CRYPT_E_REVOKED", R.REVOKED),
        ("TRUST_E_CERT_SIGNATURE", R.BAD_SIGNATURE),
        ("TRUST_E_BASIC_CONSTRAINTS", R.UNTRUSTED_ISSUER),
        ("TRUST_E_FAIL", R.OTHER),
        ("CRYPT_E_NO_REVOCATION_CHECK", R.OTHER),
        ("CRYPT_E_REVOCATION_OFFLINE", R.OTHER),
    )
}
_CERT_E_CN_NO_MATCH = int(lib.CERT_E_CN_NO_MATCH) & 0xFFFFFFFF
_TRUST_E_FAIL = int(lib.TRUST_E_FAIL) & 0xFFFFFFFF

# CERT_TRUST_* error bits in the order their reason is given (first match wins);
# the name check comes after the usage bits.
_UNTRUSTED = ("IS_UNTRUSTED_ROOT", "IS_PARTIAL_CHAIN", "IS_CYCLIC", "INVALID_BASIC_CONSTRAINTS")
_USAGE = (
    "IS_NOT_VALID_FOR_USAGE",
    "INVALID_NAME_CONSTRAINTS",
    "HAS_NOT_SUPPORTED_NAME_CONSTRAINT",
    "HAS_NOT_DEFINED_NAME_CONSTRAINT",
    "HAS_NOT_PERMITTED_NAME_CONSTRAINT",
    "HAS_EXCLUDED_NAME_CONSTRAINT",
)
_AFTER_NAME = (
    (("IS_REVOKED", "IS_EXPLICIT_DISTRUST"), R.REVOKED),
    (("IS_NOT_SIGNATURE_VALID", "HAS_WEAK_SIGNATURE"), R.BAD_SIGNATURE),
)
# Soft-fail revocation, and bits about things we did not ask for.
_IGNORED = (
    "REVOCATION_STATUS_UNKNOWN",
    "IS_OFFLINE_REVOCATION",
    "NO_ISSUANCE_CHAIN_POLICY",
    "CTL_IS_NOT_TIME_VALID",
    "CTL_IS_NOT_SIGNATURE_VALID",
    "CTL_IS_NOT_VALID_FOR_USAGE",
)
_ALL_BITS = (
    "IS_NOT_TIME_VALID", "IS_REVOKED", "IS_NOT_SIGNATURE_VALID", "IS_NOT_VALID_FOR_USAGE",
    "IS_UNTRUSTED_ROOT", "REVOCATION_STATUS_UNKNOWN", "IS_CYCLIC", "INVALID_EXTENSION",
    "INVALID_POLICY_CONSTRAINTS", "INVALID_BASIC_CONSTRAINTS", "INVALID_NAME_CONSTRAINTS",
    "HAS_NOT_SUPPORTED_NAME_CONSTRAINT", "HAS_NOT_DEFINED_NAME_CONSTRAINT",
    "HAS_NOT_PERMITTED_NAME_CONSTRAINT", "HAS_EXCLUDED_NAME_CONSTRAINT",
    "IS_OFFLINE_REVOCATION", "NO_ISSUANCE_CHAIN_POLICY", "IS_EXPLICIT_DISTRUST",
    "HAS_NOT_SUPPORTED_CRITICAL_EXT", "HAS_WEAK_SIGNATURE", "IS_PARTIAL_CHAIN",
    "CTL_IS_NOT_TIME_VALID", "CTL_IS_NOT_SIGNATURE_VALID", "CTL_IS_NOT_VALID_FOR_USAGE",
)  # fmt: skip


def _bits(*names: str) -> int:
    value = 0
    for name in names:
        value |= int(getattr(lib, "CERT_TRUST_" + name))
    return value


def _describe_bits(status: int) -> str:
    names = [name for name in _ALL_BITS if status & _bits(name)]
    return "CERT_TRUST_" + ", CERT_TRUST_".join(names) if names else "no error"


def _filetime(when: datetime.datetime | None) -> Any:
    if when is None:
        return ffi.NULL
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    epoch = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)
    ticks = (when - epoch) // datetime.timedelta(microseconds=1) * 10
    value = ffi.new("FILETIME *")
    value.dwLowDateTime = ticks & 0xFFFFFFFF
    value.dwHighDateTime = ticks >> 32
    return value


def _unreadable_for_crypt32(ders: Sequence[bytes]) -> str | None:
    """Why a certificate must not reach CertGetCertificateChain, or None.

    A keyUsage extension with no bit at all (RFC 5280 4.2.1.3: at least one
    MUST be set) makes Wine 8.0's crypt32 read past the decoded bit string
    (a page fault in CRYPT_KeyUsageValid, verified with an x509-limbo case):
    a peer could crash the process.  Such a certificate is invalid anyway.
    """
    for index, der in enumerate(ders):
        try:
            usage = certificate_fields(der).key_usage
        except (DERError, IndexError):
            continue  # crypt32 rejects what it cannot parse
        if usage is not None and not usage.rstrip(b"\0"):
            return f"certificate {index + 1} has a keyUsage extension with no bit set (RFC 5280)"
    return None


_EDWARDS_OIDS = (b"\x06\x03\x2b\x65\x70", b"\x06\x03\x2b\x65\x71")  # id-Ed25519, id-Ed448


def _has_edwards_curve(ders: Sequence[bytes]) -> bool:
    return any(oid in der for der in ders for oid in _EDWARDS_OIDS)


def _exclusive_engine(roots: Any) -> Any:
    """An engine trusting only ``roots`` (hExclusiveRoot), or None where that is refused."""
    if once("exclusive_root_refused", lambda: [False])[0]:
        return None
    config = ffi.new("CERT_CHAIN_ENGINE_CONFIG *")
    config.cbSize = ffi.sizeof("CERT_CHAIN_ENGINE_CONFIG")
    config.hExclusiveRoot = roots
    engine = ffi.new("HCERTCHAINENGINE *")
    if lib.CertCreateCertificateChainEngine(config, engine):
        return engine[0]
    # E_INVALIDARG from a crypt32 that knows only the pre-Windows-7 structure (Wine 8.0).
    once("exclusive_root_refused", lambda: [False])[0] = True
    return None


class _Chain:
    """A built chain and everything it needs freed."""

    def __init__(self) -> None:
        self.context: Any = ffi.NULL
        self.engine: Any = ffi.NULL
        self.stores: list[Any] = []
        self.anchors: tuple[bytes, ...] | None = None  # set: the chain must end in one of these

    def close(self) -> None:
        if self.context != ffi.NULL:
            lib.CertFreeCertificateChain(self.context)
        if self.engine != ffi.NULL:
            lib.CertFreeCertificateChainEngine(self.engine)
        for store in self.stores:
            lib.CertCloseStore(store, 0)

    def elements(self) -> list[Any]:
        simple = self.context.rgpChain[0]
        return [simple.rgpElement[index] for index in range(simple.cElement)]


def _build(
    cert_context: Any, trust: TrustStore, usage: bytes, when: datetime.datetime | None
) -> _Chain:
    chain = _Chain()
    try:
        additional = cert_context.hCertStore
        flags = 0
        if trust.is_system:
            flags = lib.CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
        else:
            # Built from what the peer sent and the given roots alone: nothing fetched
            # (no AIA issuer download, no root auto-update), as the other backends do.
            flags = (
                lib.CERT_CHAIN_CACHE_ONLY_URL_RETRIEVAL
                | lib.CERT_CHAIN_DISABLE_AUTH_ROOT_AUTO_UPDATE
            )
            roots = open_memory_store()
            chain.stores.append(roots)
            for index, der in enumerate(trust.certificates):
                add_certificate(roots, der, f"trust store certificate {index + 1}")
            engine = _exclusive_engine(roots)
            if engine is not None:
                chain.engine = engine
            else:
                # Fallback: the roots join what the peer sent; the anchor is checked by us.
                merged = open_memory_store()
                chain.stores.append(merged)
                for der in (*_store_ders(additional), *trust.certificates):
                    add_certificate(merged, der, "a certificate")
                additional = merged
                chain.anchors = trust.certificates
        identifier = ffi.new("char[]", usage)
        identifiers = ffi.new("char *[1]", [identifier])
        para = ffi.new("CERT_CHAIN_PARA *")
        para.cbSize = ffi.sizeof("CERT_CHAIN_PARA")
        para.RequestedUsage.dwType = lib.USAGE_MATCH_TYPE_AND
        para.RequestedUsage.Usage.cUsageIdentifier = 1
        para.RequestedUsage.Usage.rgpszUsageIdentifier = identifiers
        out = ffi.new("PCCERT_CHAIN_CONTEXT *")
        if not lib.CertGetCertificateChain(
            chain.engine, cert_context, _filetime(when), additional, para, flags, ffi.NULL, out
        ):
            raise CertificateError(
                f"certificate verify failed: Windows could not build the certificate chain "
                f"({windows_error()})",
                R.OTHER,
                windows_error(),
            )
        chain.context = out[0]
        return chain
    except BaseException:
        chain.close()
        raise


def _store_ders(store: Any) -> list[bytes]:
    ders: list[bytes] = []
    if store == ffi.NULL:
        return ders
    current = ffi.NULL
    while True:
        current = lib.CertEnumCertificatesInStore(store, current)
        if current == ffi.NULL:
            return ders
        ders.append(certificate_der(current))


def _policy(chain: _Chain, auth_type: int, name: str | None, checks: int, flags: int) -> int:
    """CertVerifyCertificateChainPolicy(SSL): the DWORD error, 0 when the policy is met."""
    server_name = ffi.new("wchar_t[]", name) if name else ffi.NULL
    extra = ffi.new("SSL_EXTRA_CERT_CHAIN_POLICY_PARA *")
    extra.cbSize = ffi.sizeof("SSL_EXTRA_CERT_CHAIN_POLICY_PARA")
    extra.dwAuthType = auth_type
    extra.fdwChecks = checks
    extra.pwszServerName = server_name
    para = ffi.new("CERT_CHAIN_POLICY_PARA *")
    para.cbSize = ffi.sizeof("CERT_CHAIN_POLICY_PARA")
    para.dwFlags = flags
    para.pvExtraPolicyPara = extra
    status = ffi.new("CERT_CHAIN_POLICY_STATUS *")
    status.cbSize = ffi.sizeof("CERT_CHAIN_POLICY_STATUS")
    policy = ffi.cast("LPCSTR", _CERT_CHAIN_POLICY_SSL)
    if not lib.CertVerifyCertificateChainPolicy(policy, chain.context, para, status):
        return int(lib.GetLastError()) & 0xFFFFFFFF or _TRUST_E_FAIL
    return int(status.dwError) & 0xFFFFFFFF


def _ignore_all_chain_errors() -> int:
    return int(
        lib.CERT_CHAIN_POLICY_IGNORE_ALL_NOT_TIME_VALID_FLAGS
        | lib.CERT_CHAIN_POLICY_IGNORE_INVALID_BASIC_CONSTRAINTS_FLAG
        | lib.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG
        | lib.CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG
        | lib.CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG
        | lib.CERT_CHAIN_POLICY_IGNORE_INVALID_POLICY_FLAG
        | lib.CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS
        | lib.CERT_CHAIN_POLICY_IGNORE_NOT_SUPPORTED_CRITICAL_EXT_FLAG
    )


def _dns_matches(pattern: str, name: str) -> bool:
    """RFC 6125: case-insensitive; a wildcard only as the whole leftmost label."""
    pattern = pattern.lower().rstrip(".")
    name = name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*.") or "*" in pattern[1:]:
        return False
    suffix = pattern[1:]
    head, dot, rest = name.partition(".")
    return bool(dot) and bool(head) and "." in suffix[1:] and "." + rest == suffix


def _name_problem(chain: _Chain, leaf_der: bytes, server_name: ServerName) -> str | None:
    """Why the leaf does not carry ``server_name``, or None when it does."""
    if server_name.ip is not None:
        try:
            addresses = certificate_fields(leaf_der).ip_addresses
        except (DERError, IndexError) as exc:
            return f"the certificate's subjectAltName cannot be read ({exc})"
        if server_name.ip.packed in addresses:
            return None
        shown = ", ".join(str(ipaddress.ip_address(a)) for a in addresses if len(a) in (4, 16))
        return (
            f"the IP address {server_name.ip} is not among the certificate's IP addresses "
            f"({shown or 'none'}; an IP address matches only an iPAddress subjectAltName)"
        )
    name = server_name.name.rstrip(".")
    error = _policy(
        chain, lib.AUTHTYPE_SERVER, name, _IGNORE_ALL_BUT_NAME, _ignore_all_chain_errors()
    )
    if error == 0:
        return None
    if error == _CERT_E_CN_NO_MATCH:
        return f"the certificate is not valid for {name!r} (CERT_E_CN_NO_MATCH)"
    # The policy stopped at something it would not ignore: match the names ourselves.
    try:
        names = certificate_fields(leaf_der).dns_names
    except (DERError, IndexError) as exc:
        return f"the certificate's subjectAltName cannot be read ({exc})"
    if any(_dns_matches(pattern, name) for pattern in names):
        return None
    return (
        f"the certificate is not valid for {name!r} (its DNS names: {', '.join(names) or 'none'})"
    )


def _time_reason(chain: _Chain, when: datetime.datetime | None) -> CertificateErrorReason:
    for element in chain.elements():
        if element.TrustStatus.dwErrorStatus & lib.CERT_TRUST_IS_NOT_TIME_VALID:
            verdict = lib.CertVerifyTimeValidity(_filetime(when), element.pCertContext.pCertInfo)
            if verdict < 0:
                return R.NOT_YET_VALID
            if verdict > 0:
                return R.EXPIRED
    return R.EXPIRED


def _error(reason: CertificateErrorReason, whose: str, detail: str) -> CertificateError:
    return CertificateError(
        f"certificate verify failed ({reason.value}): the {whose} certificate was rejected: "
        f"{detail}",
        reason,
        detail,
    )


def evaluate(
    cert_context: Any,
    *,
    trust: TrustStore,
    server_name: ServerName | None,
    peer_is_server: bool,
    when: datetime.datetime | None = None,
) -> CertificateError | None:
    """The CertificateError for the peer's certificate, or None when it is valid.

    ``when`` is the time to validate at (now when None): the x509-limbo
    harness sets it; connections never do.
    """
    whose = "server's" if peer_is_server else "client's"
    usage = _SERVER_AUTH if peer_is_server else _CLIENT_AUTH
    sent = [certificate_der(cert_context), *_store_ders(cert_context.hCertStore)]
    problem = _unreadable_for_crypt32([*sent, *trust.certificates])
    if problem is not None:
        return _error(R.BAD_USAGE, whose, problem)
    chain = _build(cert_context, trust, usage, when)
    try:
        elements = chain.elements()
        status = int(chain.context.TrustStatus.dwErrorStatus) & ~_bits(*_IGNORED)
        last = elements[-1]
        anchored = True
        if chain.anchors is not None:
            anchored = certificate_der(last.pCertContext) in chain.anchors and not (
                status & _bits("IS_PARTIAL_CHAIN")
            )
            # Our root is not in the system's Root store: that bit is ours to decide.
            status &= ~_bits("IS_UNTRUSTED_ROOT")
            if not anchored:
                status |= _bits("IS_UNTRUSTED_ROOT")
        text = _describe_bits(status)
        if status & _bits(*_UNTRUSTED):
            leaf_only = len(elements) == 1
            self_signed = leaf_only and bool(
                last.TrustStatus.dwInfoStatus & lib.CERT_TRUST_IS_SELF_SIGNED
            )
            if self_signed:
                return _error(R.SELF_SIGNED, whose, f"a self-signed certificate ({text})")
            where = (
                "none of the trust store's certificates"
                if chain.anchors is not None or not trust.is_system
                else "no root the system trusts"
            )
            return _error(R.UNTRUSTED_ISSUER, whose, f"the chain leads to {where} ({text})")
        if status & _bits(*_USAGE):
            purpose = "serverAuth" if peer_is_server else "clientAuth"
            return _error(R.BAD_USAGE, whose, f"not valid for {purpose} ({text})")
        if server_name is not None:
            problem = _name_problem(chain, certificate_der(cert_context), server_name)
            if problem is not None:
                return _error(R.HOSTNAME_MISMATCH, whose, problem)
        for names, reason in _AFTER_NAME:
            if status & _bits(*names):
                if reason is R.BAD_SIGNATURE and _has_edwards_curve([*sent, *trust.certificates]):
                    text += (
                        "; the chain holds an Ed25519/Ed448 key, whose signatures crypt32 cannot "
                        "verify (Windows has no Ed25519 certificates)"
                    )
                return _error(reason, whose, text)
        if status & lib.CERT_TRUST_IS_NOT_TIME_VALID:
            reason = _time_reason(chain, when)
            return _error(reason, whose, f"outside its validity period ({text})")
        if status:
            return _error(R.OTHER, whose, text)
        # The chain and the name are fine: the SSL policy has the last word.
        auth = lib.AUTHTYPE_SERVER if peer_is_server else lib.AUTHTYPE_CLIENT
        # Revocation soft-fails (a revoked certificate was refused above from the chain's
        # status): unknown or offline status must not fail the policy.
        flags = int(lib.CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS)
        if chain.anchors is not None:
            flags |= int(lib.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG)
        name = None
        if server_name is not None and server_name.ip is None:
            name = server_name.name.rstrip(".")
        error = _policy(chain, auth, name, _IGNORE_REVOCATION, flags)
        if error:
            label, reason = _POLICY_REASONS.get(error, (f"0x{error:08X}", R.OTHER))
            return _error(
                reason, whose, f"the SSL policy refused it: {label} ({windows_error(error)})"
            )
        return None
    finally:
        chain.close()


def verify_peer(
    cert_context: Any,
    *,
    trust: TrustStore,
    server_name: ServerName | None,
    peer_is_server: bool,
) -> None:
    """Raise the CertificateError for the peer's certificate (the leaf of what it sent), if any."""
    error = evaluate(
        cert_context, trust=trust, server_name=server_name, peer_is_server=peer_is_server
    )
    if error is not None:
        raise error


def verify_chain(
    chain: Sequence[bytes],
    *,
    trust: TrustStore,
    server_name: ServerName | None,
    peer_is_server: bool = True,
    when: datetime.datetime | None = None,
) -> CertificateError | None:
    """``evaluate`` on DER certificates (leaf first) instead of a handshake's context.

    For tests and the x509-limbo verifier: the chain goes into a memory store
    as SChannel puts what a peer sent.
    """
    store = open_memory_store()
    leaf = ffi.new("PCCERT_CONTEXT *")
    try:
        for index, der in enumerate(chain):
            add_certificate(
                store, der, f"certificate {index + 1}", leaf if index == 0 else ffi.NULL
            )
        return evaluate(
            leaf[0], trust=trust, server_name=server_name, peer_is_server=peer_is_server, when=when
        )
    finally:
        if leaf[0] != ffi.NULL:
            lib.CertFreeCertificateContext(leaf[0])
        lib.CertCloseStore(store, 0)


def library_verdict(
    chain: Sequence[bytes],
    *,
    trust: TrustStore,
    peer_name: str | None,
    when: datetime.datetime | None = None,
) -> tuple[bool, str]:
    """Windows' own answer on a server chain, without our reading of it (x509-limbo).

    The same chain building as ``evaluate`` (the exclusive-root engine, or
    the anchored fallback where it is refused), then what a Windows program
    doing manual validation asks (curl's schannel_verify.c does the same):
    the chain's error status must be clear (revocation left out: no CRLs
    here), and ``CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL)``
    must pass with the peer's DNS name.  An IP address is not given to the
    policy (it compares it with DNS names and the common name, never with
    iPAddress names): the verdict does not judge IP names.
    """
    problem = _unreadable_for_crypt32([*chain, *trust.certificates])
    if problem is not None:
        return False, f"not given to crypt32: {problem}"
    name = peer_name
    try:
        ipaddress.ip_address(peer_name or "")
        name = None
    except ValueError:
        pass
    store = open_memory_store()
    leaf = ffi.new("PCCERT_CONTEXT *")
    try:
        for index, der in enumerate(chain):
            add_certificate(
                store, der, f"certificate {index + 1}", leaf if index == 0 else ffi.NULL
            )
        built = _build(leaf[0], trust, _SERVER_AUTH, when)
        try:
            flags = 0
            status = int(built.context.TrustStatus.dwErrorStatus) & ~_bits(*_IGNORED)
            if built.anchors is not None:
                elements = built.elements()
                ours = certificate_der(elements[-1].pCertContext) in built.anchors
                if not ours or status & _bits("IS_PARTIAL_CHAIN"):
                    return False, "the chain does not end in one of the trusted certificates"
                status &= ~_bits("IS_UNTRUSTED_ROOT")
                flags = int(lib.CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG)
            if status:
                return False, f"CertGetCertificateChain: {_describe_bits(status)}"
            error = _policy(built, lib.AUTHTYPE_SERVER, name, 0, flags)
        finally:
            built.close()
        unchecked = "" if name == peer_name else " (the IP address not judged)"
        if error == 0:
            return True, f"CERT_CHAIN_POLICY_SSL: success{unchecked}"
        label = _POLICY_REASONS.get(error, (f"0x{error:08X}", R.OTHER))[0]
        return False, f"CERT_CHAIN_POLICY_SSL: {label}"
    finally:
        if leaf[0] != ffi.NULL:
            lib.CertFreeCertificateContext(leaf[0])
        lib.CertCloseStore(store, 0)
