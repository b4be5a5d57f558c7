"""A throwaway public-key infrastructure for tests.

``PKI()`` makes a root CA and one intermediate CA; ``pki.issue(...)`` makes
leaf certificates with chosen names, IP addresses, validity, key type,
extended key usage and issuer (including self-signed leaves), and hands them
out in every form a test or an external peer program needs: PEM, DER,
tlsapi credential objects, encrypted keys in PKCS#8, PKCS#1 or SEC1 form,
files on disk.

``cryptography`` does the work.  trustme would cover the common case, but
not the EKU, key-type, self-signed and validity-window choices the
conformance suite needs, so one code path serves them all.
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, Union

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .._config import TLSConfiguration
from .._credentials import Certificate, Password, PrivateKey, TrustStore

__all__ = ["PKI", "Identity", "IdentityFiles", "KeyType", "WeakKeyType"]

_PrivateKeyTypes = Union[rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey]
_Hash = Union[hashes.SHA256, hashes.SHA384, None]

_EKU = {
    "server": ExtendedKeyUsageOID.SERVER_AUTH,
    "client": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code-signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email": ExtendedKeyUsageOID.EMAIL_PROTECTION,
}

# CAs are valid long before and after any leaf a test asks for, so that a
# leaf's own window is the only date that can fail validation.
_CA_BEFORE = datetime.timedelta(days=3650)
_CA_AFTER = datetime.timedelta(days=7300)
# A little slack for clocks: "valid now" must hold for the peer too.
_LEAF_BEFORE = datetime.timedelta(hours=1)
_LEAF_AFTER = datetime.timedelta(days=365)


class KeyType(enum.Enum):
    """The key (and signature) algorithm of a certificate."""

    RSA_2048 = "rsa2048"
    ECDSA_P256 = "p256"
    ECDSA_P384 = "p384"
    ED25519 = "ed25519"

    def generate(self) -> _PrivateKeyTypes:
        if self is KeyType.RSA_2048:
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if self is KeyType.ECDSA_P256:
            return ec.generate_private_key(ec.SECP256R1())
        if self is KeyType.ECDSA_P384:
            return ec.generate_private_key(ec.SECP384R1())
        return ed25519.Ed25519PrivateKey.generate()

    def signature_hash(self) -> _Hash:
        if self is KeyType.ED25519:
            return None  # Ed25519 signs the message itself
        if self is KeyType.ECDSA_P384:
            return hashes.SHA384()
        return hashes.SHA256()


class WeakKeyType(enum.Enum):
    """Keys too small for tlsapi's verification policy (tlsapi._policy).

    Separate from KeyType, which lists what a backend must be able to serve:
    these are for showing that a peer presenting one is refused.
    """

    RSA_1024 = "rsa1024"
    ECDSA_P192 = "p192"
    ECDSA_P224 = "p224"

    def generate(self) -> _PrivateKeyTypes:
        if self is WeakKeyType.RSA_1024:
            return rsa.generate_private_key(public_exponent=65537, key_size=1024)
        if self is WeakKeyType.ECDSA_P192:
            return ec.generate_private_key(ec.SECP192R1())
        return ec.generate_private_key(ec.SECP224R1())

    def signature_hash(self) -> _Hash:
        return hashes.SHA256()


AnyKeyType = Union[KeyType, WeakKeyType]

# keyUsage bits by the names issue(key_usage=...) takes (x509.KeyUsage's arguments).
_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _key_type_of(key: _PrivateKeyTypes) -> AnyKeyType:
    if isinstance(key, rsa.RSAPrivateKey):
        return WeakKeyType.RSA_1024 if key.key_size < 2048 else KeyType.RSA_2048
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size < 256:
            return WeakKeyType.ECDSA_P192 if key.curve.key_size < 224 else WeakKeyType.ECDSA_P224
        return KeyType.ECDSA_P384 if key.curve.name == "secp384r1" else KeyType.ECDSA_P256
    return KeyType.ED25519


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


class IdentityFiles(NamedTuple):
    """Where ``Identity.write`` put things."""

    cert: Path
    chain: Path
    key: Path


class Identity:
    """A certificate, its private key and the chain up to (not including) the root."""

    def __init__(
        self,
        certificate: x509.Certificate,
        key: _PrivateKeyTypes,
        intermediates: Sequence[x509.Certificate] = (),
    ) -> None:
        self.x509 = certificate
        self.key = key
        self.intermediates = tuple(intermediates)

    # -- certificates ------------------------------------------------------

    @property
    def cert_der(self) -> bytes:
        return self.x509.public_bytes(serialization.Encoding.DER)

    @property
    def cert_pem(self) -> bytes:
        """The leaf alone, PEM."""
        return _pem(self.x509)

    @property
    def chain_pem(self) -> bytes:
        """The leaf, then its intermediates, PEM (what a server sends)."""
        return b"".join(_pem(c) for c in (self.x509, *self.intermediates))

    @property
    def chain_der(self) -> list[bytes]:
        """The leaf, then its intermediates, DER each."""
        return [
            c.public_bytes(serialization.Encoding.DER) for c in (self.x509, *self.intermediates)
        ]

    def certificate(self) -> Certificate:
        return Certificate.from_buffer(self.cert_pem)

    def certificates(self) -> tuple[Certificate, ...]:
        """The leaf and intermediates as tlsapi Certificates, leaf first."""
        return Certificate.chain_from_buffer(self.chain_pem)

    # -- private keys ------------------------------------------------------

    @property
    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.key_bytes()

    def key_bytes(
        self,
        password: bytes | str | None = None,
        key_format: str = "pkcs8",
        encoding: str = "pem",
    ) -> bytes:
        """The private key serialised; encrypted when ``password`` is given.

        ``key_format`` is "pkcs8", "pkcs1" (RSA keys only) or "sec1" (EC keys
        only); ``encoding`` is "pem" or "der".  Encrypted PKCS#8 uses PBES2
        (AES-256-CBC); encrypted PKCS#1/SEC1 is the legacy OpenSSL PEM form
        with Proc-Type/DEK-Info headers (there is no DER form of it).
        """
        if key_format == "pkcs8":
            private_format = serialization.PrivateFormat.PKCS8
        elif key_format in ("pkcs1", "sec1"):
            wanted: Any = rsa.RSAPrivateKey if key_format == "pkcs1" else ec.EllipticCurvePrivateKey
            if not isinstance(self.key, wanted):
                raise ValueError(f"a {_key_type_of(self.key).name} key has no {key_format} form")
            private_format = serialization.PrivateFormat.TraditionalOpenSSL
        else:
            raise ValueError(f"unknown key_format {key_format!r}: use pkcs8, pkcs1 or sec1")
        if encoding not in ("pem", "der"):
            raise ValueError(f"unknown encoding {encoding!r}: use pem or der")
        wire = serialization.Encoding.PEM if encoding == "pem" else serialization.Encoding.DER
        encryption: serialization.KeySerializationEncryption
        if password is None:
            encryption = serialization.NoEncryption()
        else:
            if encoding == "der" and key_format != "pkcs8":
                raise ValueError("encrypted PKCS#1/SEC1 keys exist only as PEM")
            raw = password.encode("utf-8") if isinstance(password, str) else password
            encryption = serialization.BestAvailableEncryption(raw)
        return self.key.private_bytes(wire, private_format, encryption)

    def private_key(
        self,
        password: Password | None = None,
        key_format: str = "pkcs8",
        encoding: str = "pem",
    ) -> PrivateKey:
        """The key as a tlsapi PrivateKey, encrypted when ``password`` is given.

        ``password`` may be bytes, str or a callable returning either (the
        callable is called once here to encrypt the key, and handed on to
        PrivateKey, which calls it again when a backend loads the key).  To
        count calls, build the key yourself from ``key_bytes``.
        """
        secret: bytes | str | None
        secret = password() if callable(password) else password
        return PrivateKey.from_buffer(
            self.key_bytes(secret, key_format, encoding), password=password
        )

    def certificate_chain(
        self, password: Password | None = None, key_format: str = "pkcs8"
    ) -> tuple[tuple[Certificate, ...], PrivateKey]:
        """``(certificates, key)`` for TLSConfiguration.certificate_chain."""
        return self.certificates(), self.private_key(password, key_format)

    # -- files ---------------------------------------------------------------

    def write(self, directory: str | os.PathLike[str], stem: str | None = None) -> IdentityFiles:
        """Write cert.pem, chain.pem and key.pem (PKCS#8) for external programs."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        stem = stem or f"identity-{self.x509.serial_number:x}"[:24]
        files = IdentityFiles(
            folder / f"{stem}-cert.pem", folder / f"{stem}-chain.pem", folder / f"{stem}-key.pem"
        )
        files.cert.write_bytes(self.cert_pem)
        files.chain.write_bytes(self.chain_pem)
        files.key.write_bytes(self.key_pem)
        files.key.chmod(0o600)
        return files

    def __repr__(self) -> str:
        return f"<Identity {self.x509.subject.rfc4514_string()}>"


class PKI:
    """A root CA and one intermediate CA that issue leaf certificates.

    Every PKI has fresh keys, so two PKIs never trust each other's leaves.
    """

    def __init__(
        self, key_type: KeyType = KeyType.ECDSA_P256, *, name: str = "tlsapi test"
    ) -> None:
        self.key_type = key_type
        self.name = name
        now = _now()
        root_key = key_type.generate()
        root_name = _name(f"{name} root CA")
        root_cert = _build(
            subject=root_name,
            issuer=root_name,
            public_key=root_key.public_key(),
            signing_key=root_key,
            issuer_public_key=root_key.public_key(),
            not_before=now - _CA_BEFORE,
            not_after=now + _CA_AFTER,
            extensions=_ca_extensions(path_length=None),
        )
        self.root = Identity(root_cert, root_key)
        inter_key = key_type.generate()
        inter_cert = _build(
            subject=_name(f"{name} intermediate CA"),
            issuer=root_name,
            public_key=inter_key.public_key(),
            signing_key=root_key,
            issuer_public_key=root_key.public_key(),
            not_before=now - _CA_BEFORE,
            not_after=now + _CA_AFTER,
            extensions=_ca_extensions(path_length=0),
        )
        self.intermediate = Identity(inter_cert, inter_key, ())
        self._server: Identity | None = None
        self._client: Identity | None = None

    @property
    def root_pem(self) -> bytes:
        return self.root.cert_pem

    @property
    def root_der(self) -> bytes:
        return self.root.cert_der

    @property
    def intermediate_pem(self) -> bytes:
        return self.intermediate.cert_pem

    @property
    def intermediate_der(self) -> bytes:
        return self.intermediate.cert_der

    def trust_store(self) -> TrustStore:
        """A TrustStore holding this PKI's root only."""
        return TrustStore.from_buffer(self.root_pem)

    def write_root(self, directory: str | os.PathLike[str], name: str = "root.pem") -> Path:
        """Write the root certificate (PEM) for external programs' CA options."""
        path = Path(directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.root_pem)
        return path

    def issue(
        self,
        names: Sequence[str] = ("localhost",),
        ips: Sequence[str] = ("127.0.0.1", "::1"),
        *,
        key_type: AnyKeyType | None = None,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        eku: Sequence[str] = ("server",),
        issuer: str | Identity = "intermediate",
        common_name: str | None = None,
        key_usage: Sequence[str] | None = None,
    ) -> Identity:
        """A leaf certificate.

        ``names`` become DNS subjectAltNames and ``ips`` IP subjectAltNames
        (no SAN extension when both are empty).  ``key_type`` defaults to the
        PKI's.  ``eku`` lists "server", "client", "code-signing", "email";
        ``()`` leaves the extension out.  ``issuer`` is "intermediate"
        (chain: leaf + intermediate), "root" (chain: leaf) or "self" (a
        self-signed leaf that no CA vouches for), or an intermediate made by
        :meth:`make_intermediate` (chain: leaf + that intermediate).
        ``common_name`` defaults to the first name or IP.  ``key_usage``
        names the keyUsage bits (``x509.KeyUsage``'s argument names, e.g.
        ``("key_encipherment",)``); by default digitalSignature, plus
        keyEncipherment for RSA keys.
        """
        key_type = key_type or self.key_type
        key = key_type.generate()
        now = _now()
        not_before = not_before or now - _LEAF_BEFORE
        not_after = not_after or now + _LEAF_AFTER
        cn = common_name or next(iter((*names, *ips)), "tlsapi test leaf")
        subject = _name(cn)
        chain: tuple[x509.Certificate, ...]
        signer: Identity | None
        if isinstance(issuer, Identity):
            signer, chain = issuer, (issuer.x509, *issuer.intermediates)
        elif issuer == "intermediate":
            signer, chain = self.intermediate, (self.intermediate.x509,)
        elif issuer == "root":
            signer, chain = self.root, ()
        elif issuer == "self":
            signer, chain = None, ()
        else:
            raise ValueError(f"issuer must be 'intermediate', 'root' or 'self', not {issuer!r}")
        extensions: list[tuple[x509.ExtensionType, bool]] = [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (_leaf_key_usage(key) if key_usage is None else _key_usage(key_usage), True),
        ]
        unknown = [u for u in eku if u not in _EKU]
        if unknown:
            raise ValueError(f"unknown eku {unknown}: use {', '.join(_EKU)}")
        if eku:
            extensions.append((x509.ExtendedKeyUsage([_EKU[u] for u in eku]), False))
        alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
        alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        if alt_names:
            extensions.append((x509.SubjectAlternativeName(alt_names), False))
        certificate = _build(
            subject=subject,
            issuer=subject if signer is None else signer.x509.subject,
            public_key=key.public_key(),
            signing_key=key if signer is None else signer.key,
            issuer_public_key=key.public_key() if signer is None else signer.key.public_key(),
            not_before=not_before,
            not_after=not_after,
            extensions=extensions,
        )
        return Identity(certificate, key, chain)

    def make_intermediate(
        self,
        key_type: AnyKeyType | None = None,
        *,
        key_usage: Sequence[str] = ("digital_signature", "key_cert_sign", "crl_sign"),
        name: str = "extra intermediate CA",
    ) -> Identity:
        """Another intermediate CA under the root (for ``issue(issuer=...)``).

        ``key_type`` defaults to the PKI's; ``key_usage`` as for :meth:`issue`.
        """
        key = (key_type or self.key_type).generate()
        now = _now()
        certificate = _build(
            subject=_name(f"{self.name} {name}"),
            issuer=self.root.x509.subject,
            public_key=key.public_key(),
            signing_key=self.root.key,
            issuer_public_key=self.root.key.public_key(),
            not_before=now - _CA_BEFORE,
            not_after=now + _CA_AFTER,
            extensions=[
                (x509.BasicConstraints(ca=True, path_length=0), True),
                (_key_usage(key_usage), True),
            ],
        )
        return Identity(certificate, key, ())

    # -- ready-made configurations --------------------------------------------

    @property
    def server_identity(self) -> Identity:
        """The default server leaf: localhost, 127.0.0.1 and ::1, EKU serverAuth."""
        if self._server is None:
            self._server = self.issue()
        return self._server

    @property
    def client_identity(self) -> Identity:
        """The default client leaf (EKU clientAuth), for mutual TLS."""
        if self._client is None:
            self._client = self.issue(names=("client.test",), ips=(), eku=("client",))
        return self._client

    def server_config(self, leaf: Identity | None = None, **overrides: Any) -> TLSConfiguration:
        """A server configuration presenting ``leaf`` (default: ``server_identity``)."""
        leaf = leaf or self.server_identity
        settings: dict[str, Any] = {"certificate_chain": leaf.certificate_chain()}
        settings.update(overrides)
        return TLSConfiguration(**settings)

    def client_config(self, **overrides: Any) -> TLSConfiguration:
        """A client configuration that trusts this PKI's root."""
        settings: dict[str, Any] = {"trust_store": self.trust_store()}
        settings.update(overrides)
        return TLSConfiguration(**settings)

    def __repr__(self) -> str:
        return f"<PKI {self.name!r} {self.key_type.name}>"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsapi testing"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_extensions(path_length: int | None) -> list[tuple[x509.ExtensionType, bool]]:
    return [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        ),
    ]


def _leaf_key_usage(key: _PrivateKeyTypes) -> x509.KeyUsage:
    # RSA key exchange (TLS 1.2 static RSA) would need keyEncipherment; allow
    # it for RSA keys so the suite does not fail for a reason it never tests.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _key_usage(names: Sequence[str]) -> x509.KeyUsage:
    unknown = [n for n in names if n not in _KEY_USAGES]
    if unknown:
        raise ValueError(f"unknown key usage {unknown}: use {', '.join(_KEY_USAGES)}")
    bits = {n: n in names for n in _KEY_USAGES}
    return x509.KeyUsage(**bits, encipher_only=False, decipher_only=False)


def _build(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: Any,
    signing_key: _PrivateKeyTypes,
    issuer_public_key: Any,
    not_before: datetime.datetime,
    not_after: datetime.datetime,
    extensions: list[tuple[x509.ExtensionType, bool]],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False
        )
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, _key_type_of(signing_key).signature_hash())
