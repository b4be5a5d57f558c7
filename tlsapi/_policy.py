"""tlsapi's own verification policy: one rule set for every backend.

The libraries disagree on a few things they accept in a peer's chain, so
tlsapi fixes them here, once:

* **Key sizes.**  Every RSA key (rsaEncryption or RSASSA-PSS) must have at
  least 2048 bits and every elliptic-curve key (id-ecPublicKey) a named curve
  of at least 256 bits, in the peer's end-entity certificate and in every
  intermediate of the path.  Otherwise: ``CertificateErrorReason.WEAK_KEY``.
  Ed25519/Ed448 keys pass; DSA and other algorithms are left to the library.
* **The trust anchor** is the user's own trust decision, so its key is not
  part of this policy: it is left to the library.  (GnuTLS's verification
  profile and OpenSSL's security level 2 refuse RSA < 2048 and curves below
  224 bits there too; NSS accepts them.)  tlsapi takes a self-issued
  certificate that ends the peer's path to be the anchor (when the path is
  more than the leaf), and, given a verified chain, its last certificate.
* **keyUsage.**  The peer's end-entity certificate signs the handshake (a
  server's in TLS 1.3 and in TLS 1.2 (EC)DHE, a client's CertificateVerify
  always), so when it has a keyUsage extension, digitalSignature must be in
  it (RFC 8446 4.4.2.4, RFC 5246 7.4.2 and 7.4.6, RFC 5280 4.2.1.3).
  Otherwise: ``BAD_USAGE``.  One rule for every version and key exchange:
  TLS 1.2's static-RSA key exchange (never in the default cipher list)
  would only need keyEncipherment, and tlsapi refuses such a certificate
  there too.
* A certificate this module cannot read (malformed DER, an unknown curve,
  explicit curve parameters) is refused with ``OTHER``: a policy that
  cannot be checked is not passed.

Each library does what it can itself (GnuTLS: ``%PROFILE_MEDIUM``, which
refuses RSA < 2048 and P-192 but passes P-224; OpenSSL: security level 2,
which refuses RSA < 2048 and P-192 but passes P-224; NSS cannot verify
with P-192/P-224 at all); backends call :func:`check_peer_chain` after the
library's own validation for the rest, and :func:`find_weak_key` to name a
library's refusal.

Certificates are read with the core's DER reader (``tlsapi._der``), which
the CLI's certificate summary and the backends (through ``tlsapi.backend_api``)
share.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence

from ._der import (
    BIT_STRING,
    INTEGER,
    OCTET_STRING,
    OID,
    SEQUENCE,
    DERError,
    Element,
    children,
    oid_text,
    read_element,
)
from ._errors import CertificateError, CertificateErrorReason

__all__ = [
    "MIN_EC_BITS",
    "MIN_RSA_BITS",
    "CertificateFacts",
    "DERError",
    "check_peer_chain",
    "children",
    "find_weak_key",
    "oid_text",
    "policy_path",
    "read_certificate",
    "read_element",
    "weak_signature_hash",
]

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256

R = CertificateErrorReason

# -- DER: the reader is tlsapi._der -----------------------------------------------


def _expect(data: bytes, element: Element, tag: int, what: str) -> Element:
    if element[0] != tag:
        raise DERError(f"{what}: expected tag 0x{tag:02x}, found 0x{element[0]:02x}")
    return element


def _content(data: bytes, element: Element) -> bytes:
    return data[element[1] : element[2]]


# -- certificates -----------------------------------------------------------------

_RSA = {"1.2.840.113549.1.1.1": "RSA", "1.2.840.113549.1.1.10": "RSA-PSS"}
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_KEY_USAGE = "2.5.29.15"

# Named curves by OID: (name, field size in bits).  SEC 2, X9.62, RFC 5639, SM2.
_CURVES: dict[str, tuple[str, int]] = {
    "1.2.840.10045.3.1.1": ("P-192", 192),
    "1.2.840.10045.3.1.2": ("prime192v2", 192),
    "1.2.840.10045.3.1.3": ("prime192v3", 192),
    "1.2.840.10045.3.1.4": ("prime239v1", 239),
    "1.2.840.10045.3.1.5": ("prime239v2", 239),
    "1.2.840.10045.3.1.6": ("prime239v3", 239),
    "1.2.840.10045.3.1.7": ("P-256", 256),
    "1.3.132.0.33": ("P-224", 224),
    "1.3.132.0.34": ("P-384", 384),
    "1.3.132.0.35": ("P-521", 521),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.3.132.0.31": ("secp192k1", 192),
    "1.3.132.0.32": ("secp224k1", 224),
    "1.3.132.0.6": ("secp112r1", 112),
    "1.3.132.0.7": ("secp112r2", 112),
    "1.3.132.0.28": ("secp128r1", 128),
    "1.3.132.0.29": ("secp128r2", 128),
    "1.3.132.0.8": ("secp160r1", 160),
    "1.3.132.0.9": ("secp160k1", 160),
    "1.3.132.0.30": ("secp160r2", 160),
    "1.3.132.0.4": ("sect113r1", 113),
    "1.3.132.0.5": ("sect113r2", 113),
    "1.3.132.0.22": ("sect131r1", 131),
    "1.3.132.0.23": ("sect131r2", 131),
    "1.3.132.0.1": ("sect163k1", 163),
    "1.3.132.0.2": ("sect163r1", 163),
    "1.3.132.0.15": ("sect163r2", 163),
    "1.3.132.0.24": ("sect193r1", 193),
    "1.3.132.0.25": ("sect193r2", 193),
    "1.3.132.0.26": ("sect233k1", 233),
    "1.3.132.0.27": ("sect233r1", 233),
    "1.3.132.0.3": ("sect239k1", 239),
    "1.3.132.0.16": ("sect283k1", 283),
    "1.3.132.0.17": ("sect283r1", 283),
    "1.3.132.0.36": ("sect409k1", 409),
    "1.3.132.0.37": ("sect409r1", 409),
    "1.3.132.0.38": ("sect571k1", 571),
    "1.3.132.0.39": ("sect571r1", 571),
    "1.2.156.10197.1.301": ("SM2", 256),
    **{
        f"1.3.36.3.3.2.8.1.1.{number}": (f"brainpoolP{bits}{kind}", bits)
        for bits, r1 in ((160, 1), (192, 3), (224, 5), (256, 7), (320, 9), (384, 11), (512, 13))
        for number, kind in ((r1, "r1"), (r1 + 1, "t1"))
    },
}

# Signature algorithms whose hash is broken (MD2, MD5, SHA-1).
_WEAK_SIGNATURES = frozenset(
    {
        "1.2.840.113549.1.1.2",  # md2WithRSAEncryption
        "1.2.840.113549.1.1.4",  # md5WithRSAEncryption
        "1.2.840.113549.1.1.5",  # sha1WithRSAEncryption
        "1.2.840.10045.4.1",  # ecdsa-with-SHA1
        "1.2.840.10040.4.3",  # dsa-with-sha1
    }
)


@dataclasses.dataclass(frozen=True)
class CertificateFacts:
    """What the policy needs from one certificate."""

    subject: bytes  # the DER of the Name, for chaining by name
    issuer: bytes
    key_algorithm: str  # "RSA", "RSA-PSS", "EC", or the algorithm's OID
    key_bits: int | None  # RSA modulus size or curve size; None when not applicable
    curve: str | None  # the curve's name or OID (EC keys)
    key_usage: int | None  # keyUsage bits, bit 0 = digitalSignature; None: no extension
    signature_algorithm: str  # OID

    @property
    def self_issued(self) -> bool:
        return self.subject == self.issuer

    @property
    def key_text(self) -> str:
        if self.key_algorithm == "EC":
            return f"an EC {self.curve} key"
        if self.key_bits is not None:
            return f"a {self.key_bits}-bit {self.key_algorithm} key"
        return f"a {self.key_algorithm} key"


def _rsa_bits(data: bytes, bit_string: Element) -> int:
    # BIT STRING: an unused-bits octet (0), then RSAPublicKey ::= SEQUENCE { modulus, e }.
    _, start, end = bit_string
    if start >= end or data[start] != 0:
        raise DERError("RSA public key: bad BIT STRING")
    key = _expect(data, read_element(data, start + 1, end), SEQUENCE, "RSAPublicKey")
    fields = children(data, key)
    if len(fields) != 2:
        raise DERError("RSAPublicKey: expected modulus and exponent")
    _, m_start, m_end = _expect(data, fields[0], INTEGER, "RSA modulus")
    while m_start < m_end and data[m_start] == 0:  # a sign octet, or non-minimal zeros
        m_start += 1
    if m_start == m_end:
        raise DERError("RSA modulus is zero")
    return (m_end - m_start - 1) * 8 + data[m_start].bit_length()


def _key_usage_bits(data: bytes, value: Element) -> int:
    # extnValue OCTET STRING holds KeyUsage ::= BIT STRING; bit 0 is the first octet's top bit.
    _, start, end = _expect(data, value, OCTET_STRING, "keyUsage extnValue")
    _, b_start, b_end = _expect(data, read_element(data, start, end), BIT_STRING, "KeyUsage")
    if b_start >= b_end or data[b_start] > 7:
        raise DERError("KeyUsage: bad BIT STRING")
    bits = 0
    for position, octet in enumerate(data[b_start + 1 : min(b_end, b_start + 3)]):
        for bit in range(8):
            if octet & (0x80 >> bit):
                bits |= 1 << (position * 8 + bit)
    return bits


def read_certificate(der: bytes) -> CertificateFacts:
    """The facts the policy needs from one DER certificate (DERError if unreadable)."""
    return _read_certificate(bytes(der))


# A client meets the same server's chain again and again: the facts of the last
# certificates read are kept (parsing one costs ~30 us, a tenth of a handshake's
# Python time).  A certificate that cannot be read is not kept: DERError again.
@functools.lru_cache(maxsize=128)
def _read_certificate(der: bytes) -> CertificateFacts:
    certificate = _expect(der, read_element(der, 0), SEQUENCE, "Certificate")
    if certificate[2] != len(der):
        raise DERError("trailing bytes after the certificate")
    parts = children(der, certificate)
    if len(parts) != 3:
        raise DERError("Certificate: expected tbsCertificate, signatureAlgorithm, signature")
    signature_algorithm = children(der, _expect(der, parts[1], SEQUENCE, "signatureAlgorithm"))
    if not signature_algorithm:
        raise DERError("signatureAlgorithm: empty")
    tbs = children(der, _expect(der, parts[0], SEQUENCE, "tbsCertificate"))
    if tbs and tbs[0][0] == 0xA0:  # explicit version
        tbs = tbs[1:]
    # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
    if len(tbs) < 6:
        raise DERError("tbsCertificate: too few fields")
    issuer = _expect(der, tbs[2], SEQUENCE, "issuer")
    subject = _expect(der, tbs[4], SEQUENCE, "subject")
    spki = children(der, _expect(der, tbs[5], SEQUENCE, "subjectPublicKeyInfo"))
    if len(spki) != 2:
        raise DERError("subjectPublicKeyInfo: expected algorithm and key")
    algorithm = children(der, _expect(der, spki[0], SEQUENCE, "AlgorithmIdentifier"))
    if not algorithm:
        raise DERError("AlgorithmIdentifier: empty")
    algorithm_oid = oid_text(_content(der, _expect(der, algorithm[0], OID, "algorithm")))
    key_bits: int | None = None
    curve: str | None = None
    key_algorithm = _RSA.get(algorithm_oid, algorithm_oid)
    if algorithm_oid in _RSA:
        key_bits = _rsa_bits(der, _expect(der, spki[1], BIT_STRING, "subjectPublicKey"))
    elif algorithm_oid == _EC_PUBLIC_KEY:
        key_algorithm = "EC"
        if len(algorithm) != 2 or algorithm[1][0] != OID:
            raise DERError("EC key without a named curve (explicit parameters)")
        curve_oid = oid_text(_content(der, algorithm[1]))
        if curve_oid not in _CURVES:
            raise DERError(f"EC key on a curve tlsapi does not know ({curve_oid})")
        curve, key_bits = _CURVES[curve_oid]
    key_usage: int | None = None
    for item in tbs[6:]:
        if item[0] != 0xA3:  # [3] extensions (issuerUniqueID/subjectUniqueID skipped)
            continue
        wrapped = children(der, item)
        if len(wrapped) != 1:
            raise DERError("extensions: expected one SEQUENCE")
        for extension in children(der, _expect(der, wrapped[0], SEQUENCE, "extensions")):
            fields = children(der, _expect(der, extension, SEQUENCE, "Extension"))
            if len(fields) not in (2, 3):
                raise DERError("Extension: expected extnID, [critical], extnValue")
            if oid_text(_content(der, _expect(der, fields[0], OID, "extnID"))) == _KEY_USAGE:
                if key_usage is not None:
                    raise DERError("two keyUsage extensions")
                key_usage = _key_usage_bits(der, fields[-1])
    return CertificateFacts(
        subject=_content(der, subject),
        issuer=_content(der, issuer),
        key_algorithm=key_algorithm,
        key_bits=key_bits,
        curve=curve,
        key_usage=key_usage,
        signature_algorithm=oid_text(
            _content(der, _expect(der, signature_algorithm[0], OID, "signature algorithm"))
        ),
    )


# -- the policy -------------------------------------------------------------------

_DIGITAL_SIGNATURE = 1  # keyUsage bit 0


def _is_weak(facts: CertificateFacts) -> bool:
    if facts.key_algorithm in ("RSA", "RSA-PSS"):
        return facts.key_bits is not None and facts.key_bits < MIN_RSA_BITS
    if facts.key_algorithm == "EC":
        return facts.key_bits is not None and facts.key_bits < MIN_EC_BITS
    return False


def policy_path(chain: Sequence[CertificateFacts], *, verified: bool = False) -> list[int]:
    """Indexes into ``chain`` (leaf first) of the certificates the key-size rule covers.

    ``verified``: ``chain`` is the library's validated path, anchor last.
    Otherwise it is what the peer presented: the path is followed by name
    from the leaf (extra certificates are not part of it), and a self-issued
    certificate ending it is taken to be the anchor.
    """
    if not chain:
        return []
    if verified:
        return list(range(len(chain) - 1 if len(chain) > 1 else 1))
    # Linear in the certificates presented: each subject's candidates in a queue,
    # each certificate taken at most once.
    by_subject: dict[bytes, list[int]] = {}
    for index in range(len(chain) - 1, 0, -1):  # reversed: pop() gives the first
        by_subject.setdefault(chain[index].subject, []).append(index)
    path = [0]
    current = chain[0]
    while not current.self_issued:
        candidates = by_subject.get(current.issuer)
        if not candidates:
            break
        following = candidates.pop()
        path.append(following)
        current = chain[following]
    if len(path) > 1 and chain[path[-1]].self_issued:
        path.pop()  # the anchor: the user's trust decision, left to the library
    return path


def _position(index: int) -> str:
    return "end-entity certificate" if index == 0 else f"intermediate certificate #{index}"


def _unreadable(index: int, whose: str, exc: DERError) -> CertificateError:
    message = (
        f"certificate verify failed (other): tlsapi cannot check the {whose} "
        f"{_position(index)} against its verification policy: {exc}"
    )
    return CertificateError(message, R.OTHER, message)


def find_weak_key(
    chain: Sequence[bytes] | None, whose: str, *, verified: bool = False
) -> CertificateError | None:
    """The WEAK_KEY error for the first key in the path that is too small, or None.

    Certificates that cannot be read are skipped here: this names a refusal
    the library already made (use :func:`check_peer_chain` to decide one).
    """
    if not chain:
        return None
    facts: list[CertificateFacts] = []
    for der in chain:
        try:
            facts.append(read_certificate(der))
        except DERError:
            break
    for index in policy_path(facts, verified=verified):
        if _is_weak(facts[index]):
            return _weak(index, facts[index], whose)
    return None


def _weak(index: int, facts: CertificateFacts, whose: str) -> CertificateError:
    message = (
        f"certificate verify failed (weak-key): the {whose} {_position(index)} has "
        f"{facts.key_text}; tlsapi requires RSA keys of at least {MIN_RSA_BITS} bits and "
        f"elliptic curves of at least {MIN_EC_BITS} bits"
    )
    return CertificateError(message, R.WEAK_KEY, message)


def check_peer_chain(
    chain: Sequence[bytes] | None, whose: str, *, verified: bool = False
) -> CertificateError | None:
    """The CertificateError the policy raises for a chain the library accepted, or None.

    ``chain`` is the peer's chain, leaf first, as presented (or the validated
    path with ``verified``); ``whose`` names the peer in messages
    ("server's", "client's").  The leaf is always checked, then every
    certificate of the path up to the anchor.
    """
    if not chain:
        return None
    key = tuple(bytes(der) for der in chain)
    if sum(map(len, key)) <= _CACHED_CHAIN_BYTES:
        finding = _cached_finding(key, verified)
    else:
        finding = _finding(key, verified)
    return None if finding is None else finding(whose)


# A client meets the same server's chain again and again: the verdict on the last
# chains checked is kept (reading them and following the path was a seventh of the
# Python in a handshake), as the error to make for a given ``whose``: a fresh
# exception each time.  Only chains of a usual size: a peer's huge chains are not kept.
_CACHED_CHAIN_BYTES = 32768


def _finding(chain: tuple[bytes, ...], verified: bool) -> Callable[[str], CertificateError] | None:
    # The anchor of a verified path is not read: its key is the library's business.
    readable = chain[:-1] if verified and len(chain) > 1 else chain
    facts: list[CertificateFacts] = []
    for index, der in enumerate(readable):
        try:
            facts.append(read_certificate(der))
        except DERError as exc:
            # Kept in the cache: without the frames of its traceback.
            return functools.partial(_unreadable, index, exc=exc.with_traceback(None))
    path = list(range(len(facts))) if verified and len(chain) > 1 else policy_path(facts)
    for index in path:
        if _is_weak(facts[index]):
            return functools.partial(_weak, index, facts[index])
    leaf = facts[0]
    if leaf.key_usage is not None and not leaf.key_usage & _DIGITAL_SIGNATURE:
        return _bad_usage
    return None


_cached_finding = functools.lru_cache(maxsize=64)(_finding)


def _bad_usage(whose: str) -> CertificateError:
    message = (
        f"certificate verify failed (bad-usage): the {whose} end-entity certificate's "
        "keyUsage extension does not include digitalSignature, which signing the TLS "
        "handshake requires (RFC 8446 4.4.2.4, RFC 5246 7.4.2)"
    )
    return CertificateError(message, R.BAD_USAGE, message)


def weak_signature_hash(chain: Sequence[bytes] | None) -> bool:
    """True when a certificate of ``chain`` is signed with MD2, MD5 or SHA-1."""
    for der in chain or ():
        try:
            if read_certificate(der).signature_algorithm in _WEAK_SIGNATURES:
                return True
        except DERError:
            continue
    return False
