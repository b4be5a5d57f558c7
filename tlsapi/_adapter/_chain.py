"""get_verified_chain(): the chain the verifier built, leaf to trust anchor.

Python 3.13's ``SSLObject.get_verified_chain()`` gives OpenSSL's verified
chain: the peer's certificate, the intermediates that link it up, and the
trust anchor at the end.  The stdlib backend asks its ssl object for exactly
that.  A backend whose library reports the path it built offers
``verified_chain()`` on its buffer (NSS: the path CERT_PKIXVerifyCert built,
its anchor appended).  For the others the chain is rebuilt
from what the library accepted: from the leaf, each next certificate is the
one the peer sent whose subject is the current one's issuer, until a
certificate is itself an anchor of the configured trust store or was issued
by one (that anchor then ends the chain).  The library has verified the
chain already; this only finds the anchor it used (by name, as a verifier
looks for issuers; the system store is read from the bundle file OpenSSL
and the distribution use; on Windows, from the system's "ROOT" store).
"""

from __future__ import annotations

import _ssl
import os
import ssl
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._credentials import TrustStore
from .._der import DERError
from .._policy import read_certificate

if TYPE_CHECKING:
    from .._buffer import TLSWrappedBuffer

__all__ = ["verified_chain"]

# Where distributions keep the system's CA bundle, after what ssl itself names.
_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
)
_system_lock = threading.Lock()
# The system anchors, read again when the bundle file changes: (file, mtime, size) -> anchors.
_system_cache: tuple[tuple[str, int, int], tuple[bytes, ...]] | None = None


def verified_chain(buffer: TLSWrappedBuffer, trust: TrustStore | None) -> list[bytes]:
    """The verified chain, DER, leaf to anchor; [] when the peer sent no certificate."""
    from .._stdlib._buffer import StdlibBuffer

    if isinstance(buffer, StdlibBuffer):
        with buffer._exclusive():
            chain = buffer._ssl._sslobj.get_verified_chain()  # type: ignore[attr-defined]
        return [certificate.public_bytes(_ssl.ENCODING_DER) for certificate in chain or ()]
    reported = getattr(buffer, "verified_chain", None)
    if reported is not None:
        return list(reported())
    sent = buffer.getpeercert() or []
    if not sent:
        return []
    return rebuild(sent, _anchors(trust))


def rebuild(sent: Sequence[bytes], anchors: Sequence[bytes]) -> list[bytes]:
    """The path from ``sent[0]`` through ``sent`` to one of ``anchors`` (see the docstring)."""
    by_subject: dict[bytes, bytes] = {}
    for anchor in anchors:
        try:
            by_subject.setdefault(read_certificate(anchor).subject, anchor)
        except DERError:
            continue  # an anchor we cannot read cannot end a path we rebuild
    anchor_set = set(anchors)
    path = [sent[0]]
    left = list(sent[1:])
    try:
        while path[-1] not in anchor_set:
            facts = read_certificate(path[-1])
            issuer = by_subject.get(facts.issuer)
            if issuer is not None:
                path.append(issuer)
                break
            if facts.self_issued:
                break
            following = next((c for c in left if read_certificate(c).subject == facts.issuer), None)
            if following is None:
                break
            left.remove(following)
            path.append(following)
    except DERError:
        pass  # the library read what we cannot: the path as far as we followed it
    return path


def _anchors(trust: TrustStore | None) -> tuple[bytes, ...]:
    if trust is None:
        return ()
    if not trust.is_system:
        return trust.certificates
    return _system_anchors()


def _system_anchors() -> tuple[bytes, ...]:
    if sys.platform == "win32":
        return _windows_anchors()
    global _system_cache
    paths = ssl.get_default_verify_paths()
    for name in (paths.cafile, paths.openssl_cafile, *_BUNDLES):
        if not name:
            continue
        try:
            status = os.stat(name)
        except OSError:
            continue
        key = (name, status.st_mtime_ns, status.st_size)
        with _system_lock:
            if _system_cache is not None and _system_cache[0] == key:
                return _system_cache[1]
        try:
            anchors = TrustStore.from_pem_file(name).certificates
        except Exception:  # unreadable or empty: try the next place
            continue
        with _system_lock:
            _system_cache = (key, anchors)
        return anchors
    return ()


# The purposes a root in the Windows store may be trusted for that end a TLS path.
_TLS_USAGES = frozenset({"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"})  # serverAuth, clientAuth


def _windows_anchors() -> tuple[bytes, ...]:
    """The roots of Windows' system store (what SChannel's system trust ends in).

    There is no bundle file on Windows: the "ROOT" certificate store is read
    (``ssl.enum_certificates``; its trust is True for every purpose, or a set
    of usage OIDs).
    """
    enum_certificates = getattr(ssl, "enum_certificates", None)
    if enum_certificates is None:
        return ()
    try:
        entries = enum_certificates("ROOT")
    except OSError:
        return ()
    return tuple(
        certificate
        for certificate, encoding, trust in entries
        if encoding == "x509_asn" and (trust is True or _TLS_USAGES & set(trust))
    )
