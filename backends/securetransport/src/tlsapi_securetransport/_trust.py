"""The peer's chain, validated by us after Secure Transport breaks on authentication.

Secure Transport is told to stop the handshake once the peer's certificate
has arrived (kSSLSessionOptionBreakOnServerAuth / ...ClientAuth); SSLHandshake
then returns errSSLPeerAuthCompleted and we evaluate the SecTrust it holds:

* the policy is SecPolicyCreateSSL(server, name): a server's certificate is
  checked for the name we connect to (DNS name or IP address), a client's for
  client use;
* TrustStore.system(): the system's anchors and trust settings (the user's,
  the administrator's and MDM profiles'), Apple's default for a SecTrust;
* a custom TrustStore is exclusive: SecTrustSetAnchorCertificates with its
  certificates, then SecTrustSetAnchorCertificatesOnly(true);
* SecTrustEvaluateWithError (macOS 10.14); its CFError's code is an OSStatus,
  mapped to CertificateError.reason.

Secure Transport sends no alert when we refuse: the buffer sends the one the
peer should see (tlsapi.backend_api.certificate_alert) before it raises.
"""

from __future__ import annotations

import datetime
from typing import Any

from tlsapi import CertificateError, TLSError, TrustStore

from . import _cf
from ._binding import ffi, lib
from ._errors import certificate_reason, describe

__all__ = ["Anchors", "evaluate", "library_verdict", "peer_chain", "peer_trust"]


class Anchors:
    """A custom TrustStore's certificates as SecCertificateRefs in one CFArray (made once per context)."""

    __slots__ = ("array", "source")

    def __init__(self, store: TrustStore) -> None:
        from tlsapi import ConfigurationError

        certificates = []
        for position, der in enumerate(store.certificates, 1):
            reference = lib.SecCertificateCreateWithData(lib.kCFAllocatorDefault, _cf.data(der))
            if reference == ffi.NULL:
                where = f" from {store.source!r}" if store.source else ""
                raise ConfigurationError(
                    f"trust store{where}: certificate #{position} is not a certificate the "
                    "Security framework can read"
                )
            certificates.append(_cf.owned(reference, "SecCertificateCreateWithData"))
        self.array: Any = _cf.array(certificates)
        self.source = store.source or "memory"


def peer_trust(context: Any) -> Any:
    """The SecTrustRef for the peer's chain (owned), or None when the peer sent none."""
    pointer = ffi.new("SecTrustRef *")
    status = lib.SSLCopyPeerTrust(context, pointer)
    if status != lib.errSecSuccess:
        raise TLSError(f"SSLCopyPeerTrust failed: {describe(status)}")
    if pointer[0] == ffi.NULL:
        return None
    return _cf.owned(pointer[0], "SSLCopyPeerTrust")


def peer_chain(trust: Any) -> list[bytes]:
    """The certificates in ``trust``, leaf first, as DER."""
    chain = []
    for index in range(lib.SecTrustGetCertificateCount(trust)):
        certificate = lib.SecTrustGetCertificateAtIndex(trust, index)  # borrowed
        chain.append(
            _cf.data_bytes(
                _cf.owned(lib.SecCertificateCopyData(certificate), "SecCertificateCopyData")
            )
        )
    return chain


def evaluate(
    trust: Any, *, server_certificate: bool, name: str | None, anchors: Anchors | None
) -> None:
    """Raise CertificateError unless ``trust`` holds a chain valid for ``name`` under the anchors."""
    hostname = _cf.string(name) if name is not None else ffi.NULL
    policy = _cf.owned(lib.SecPolicyCreateSSL(server_certificate, hostname), "SecPolicyCreateSSL")
    _check(lib.SecTrustSetPolicies(trust, policy), "SecTrustSetPolicies")
    if anchors is not None:
        _check(
            lib.SecTrustSetAnchorCertificates(trust, anchors.array), "SecTrustSetAnchorCertificates"
        )
        _check(
            lib.SecTrustSetAnchorCertificatesOnly(trust, True), "SecTrustSetAnchorCertificatesOnly"
        )
    error = ffi.new("CFErrorRef *")
    if lib.SecTrustEvaluateWithError(trust, error):
        return
    whose = "server's" if server_certificate else "client's"
    if error[0] == ffi.NULL:
        raise CertificateError(f"the {whose} certificate chain is not trusted")
    owned_error = _cf.owned(error[0], "SecTrustEvaluateWithError")
    code = int(lib.CFErrorGetCode(owned_error))
    text = _cf.string_text(
        _cf.owned(lib.CFErrorCopyDescription(owned_error), "CFErrorCopyDescription")
    )
    raise CertificateError(
        f"the {whose} certificate chain failed validation: {text}",
        certificate_reason(code),
        f"{describe(code)}: {text}",
    )


def _check(status: int, call: str) -> None:
    if status != lib.errSecSuccess:
        raise TLSError(f"{call} failed: {describe(status)}")


def library_verdict(
    chain: list[bytes], *, anchors: Anchors, peer_name: str | None, when: datetime.datetime | None
) -> tuple[bool, str]:
    """Whether the Security framework accepts ``chain`` for ``peer_name`` under exactly ``anchors``.

    What the backend's client asks at the break on server authentication, on a
    SecTrust made directly (SecTrustCreateWithCertificates), at ``when``
    (SecTrustSetVerifyDate) or now: for tlsapi's x509-limbo run.
    """
    certificates = []
    for position, der in enumerate(chain, 1):
        reference = lib.SecCertificateCreateWithData(lib.kCFAllocatorDefault, _cf.data(der))
        if reference == ffi.NULL:
            return False, f"the Security framework cannot read certificate #{position}"
        certificates.append(_cf.owned(reference, "SecCertificateCreateWithData"))
    hostname = _cf.string(peer_name) if peer_name is not None else ffi.NULL
    policy = _cf.owned(lib.SecPolicyCreateSSL(True, hostname), "SecPolicyCreateSSL")
    pointer = ffi.new("SecTrustRef *")
    _check(
        lib.SecTrustCreateWithCertificates(_cf.array(certificates), policy, pointer),
        "SecTrustCreateWithCertificates",
    )
    trust = _cf.owned(pointer[0], "SecTrustCreateWithCertificates")
    if when is not None:
        moment = when if when.tzinfo is not None else when.replace(tzinfo=datetime.timezone.utc)
        absolute = moment.timestamp() - float(lib.kCFAbsoluteTimeIntervalSince1970)
        date = _cf.owned(lib.CFDateCreate(lib.kCFAllocatorDefault, absolute), "CFDateCreate")
        _check(lib.SecTrustSetVerifyDate(trust, date), "SecTrustSetVerifyDate")
    try:
        evaluate(trust, server_certificate=True, name=peer_name, anchors=anchors)
    except CertificateError as exc:
        return False, f"{exc.reason}: {exc.library_message or exc}"
    return True, "SecTrustEvaluateWithError accepted the chain"
