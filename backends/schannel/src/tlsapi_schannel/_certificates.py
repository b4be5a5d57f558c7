"""Our certificate chain for SChannel (``load_identity``) and the peer's chain as sent (``peer_chain``).

``load_identity`` puts every certificate of the chain into one in-memory
store (``CERT_STORE_PROV_MEMORY``): the leaf's context lives in that store
(its ``hCertStore``), next to the intermediates, which is where a chain
builder given the leaf looks first.  SChannel has no credential field for
intermediates; whether it reads the leaf's own store when it builds the
chain it sends is for the Windows runner to show (the conformance kit's
chain-through-intermediate tests with an schannel server): .NET, which
cannot count on it, adds missing intermediates to the user's
"Intermediate Certification Authorities" store instead
(``SslStreamCertificateContext.Windows``), a change to the machine we do
not make.  Wine 8.0's client sends the leaf alone whatever the store holds
(``gnutls_certificate_set_x509_key(creds, &crt, 1, key)``).  The private key is decrypted and
imported where SChannel can open it by name (``_keys.py`` says where and
why), checked against the certificate's public key first, and attached with
``CERT_KEY_PROV_INFO_PROP_ID``.  Contexts are created with
``X509_ASN_ENCODING`` alone: Wine's schannel refuses a certificate whose
encoding type also has ``PKCS_7_ASN_ENCODING`` (SEC_E_INTERNAL_ERROR).

A ``ServerIdentity`` owns the store, the leaf context and the key; it
releases them (deleting the key) on ``close()``, when it is garbage
collected, or at interpreter exit, whichever comes first.  The SSPI core
keeps it alive as long as a credential handle uses it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from tlsapi import Certificate, ConfigurationError, PrivateKey
from tlsapi.backend_api import DERError, decode_oid, der_sequence

from ._binding import ffi, lib
from ._der import certificate_fields
from ._keys import (
    CURVES,
    OID_EC,
    OID_RSA,
    OID_RSA_PSS,
    ImportedKey,
    PlainKey,
    decrypt_key,
    import_key,
    windows_error,
)

__all__ = ["ServerIdentity", "certificate_der", "load_identity", "peer_chain"]

CERT_STORE_PROV_MEMORY = 2  # wincrypt.h: ((LPCSTR) 2)


def open_memory_store() -> Any:
    store = lib.CertOpenStore(
        ffi.cast("LPCSTR", CERT_STORE_PROV_MEMORY), 0, 0, lib.CERT_STORE_CREATE_NEW_FLAG, ffi.NULL
    )
    if store == ffi.NULL:
        raise ConfigurationError(
            f"cannot create an in-memory certificate store ({windows_error()})"
        )
    return store


def add_certificate(store: Any, der: bytes, what: str, out: Any = ffi.NULL) -> None:
    if not lib.CertAddEncodedCertificateToStore(
        store, lib.X509_ASN_ENCODING, der, len(der), lib.CERT_STORE_ADD_ALWAYS, out
    ):
        raise ConfigurationError(f"Windows cannot read {what} ({windows_error()})")


def certificate_der(context: Any) -> bytes:
    return bytes(ffi.buffer(context.pbCertEncoded, context.cbCertEncoded))


def _release(store: Any, leaf: Any, key: ImportedKey | None) -> None:
    if leaf is not None and leaf != ffi.NULL:
        lib.CertFreeCertificateContext(leaf)
    if store is not None and store != ffi.NULL:
        lib.CertCloseStore(store, 0)
    if key is not None:
        key.close()


class ServerIdentity:
    """A certificate chain with its private key, ready for ``SCHANNEL_CRED.paCred``.

    ``leaf`` is the leaf's ``PCCERT_CONTEXT`` (its key attached), ``store``
    the ``HCERTSTORE`` holding the whole chain; both stay valid until
    ``close()``.
    """

    def __init__(self, store: Any, leaf: Any, key: ImportedKey, chain: tuple[bytes, ...]) -> None:
        self.store = store
        self.leaf = leaf
        self.key = key
        self.chain = chain  # the DER as given, leaf first
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _release, store, leaf, key)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def close(self) -> None:
        """Free the contexts and delete the imported key (idempotent)."""
        with self._lock:
            self._finalizer()

    def __enter__(self) -> ServerIdentity:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"key {self.key.container!r}"
        return f"<ServerIdentity {len(self.chain)} certificates, {state}>"


def _key_mismatch(plain: PlainKey, leaf_der: bytes, point: bytes | None) -> str | None:
    """Why the key does not belong to the certificate, or None when it does (or cannot tell)."""
    try:
        fields = certificate_fields(leaf_der)
    except (DERError, IndexError) as exc:
        return f"the certificate cannot be read ({exc})"
    algorithm = fields.public_key_algorithm
    if algorithm in (OID_RSA, OID_RSA_PSS):
        if plain.algorithm != "RSA":
            return f"the private key is an {plain.algorithm} key, the certificate's key is RSA"
        try:
            modulus = der_sequence(fields.public_key)[0].integer()
        except (DERError, IndexError) as exc:
            return f"the certificate's RSA public key cannot be read ({exc})"
        size = (modulus.bit_length() + 7) // 8
        if plain.public != modulus.to_bytes(size, "big"):
            return "the private key's RSA modulus is not the certificate's"
        return None
    if algorithm == OID_EC:
        if plain.algorithm != "EC":
            return "the private key is an RSA key, the certificate's key is ECDSA"
        parameters = fields.public_key_parameters
        curve = decode_oid(parameters) if parameters is not None and parameters.tag == 6 else None
        if curve != plain.curve:
            named = CURVES.get(curve or "", curve)
            return (
                f"the private key is on {CURVES.get(plain.curve or '')}, the certificate on {named}"
            )
        public = plain.public if plain.public is not None else point
        if public is not None and public != fields.public_key:
            return "the private key's EC public point is not the certificate's"
        return None
    return (
        f"the certificate's public key algorithm {algorithm} cannot be used by SChannel "
        "(RSA and ECDSA can)"
    )


def load_identity(chain: Sequence[Certificate], key: PrivateKey) -> ServerIdentity:
    """The chain (leaf first) and its key as SChannel wants them (ConfigurationError if unusable)."""
    if not chain:
        raise ConfigurationError("the certificate chain is empty: it needs at least the leaf")
    ders = tuple(certificate.der for certificate in chain)
    plain = decrypt_key(key)
    problem = _key_mismatch(plain, ders[0], None)
    if problem is not None:
        raise ConfigurationError(f"the private key does not match the certificate: {problem}")
    store = open_memory_store()
    leaf_out = ffi.new("PCCERT_CONTEXT *")
    imported: ImportedKey | None = None
    try:
        for index, der in enumerate(ders):
            what = "the leaf certificate" if index == 0 else f"certificate {index + 1} of the chain"
            add_certificate(store, der, what, leaf_out if index == 0 else ffi.NULL)
        imported = import_key(plain)
        if imported.public_point is not None:
            problem = _key_mismatch(plain, ders[0], imported.public_point)
            if problem is not None:
                raise ConfigurationError(
                    f"the private key does not match the certificate: {problem}"
                )
        info, _keep = imported.prov_info()
        if not lib.CertSetCertificateContextProperty(
            leaf_out[0], lib.CERT_KEY_PROV_INFO_PROP_ID, 0, info
        ):
            raise ConfigurationError(
                f"cannot attach the private key to the certificate ({windows_error()})"
            )
    except BaseException:
        _release(store, leaf_out[0], imported)
        raise
    return ServerIdentity(store, leaf_out[0], imported, ders)


def _names(context: Any) -> tuple[bytes, bytes]:
    info = context.pCertInfo
    subject = bytes(ffi.buffer(info.Subject.pbData, info.Subject.cbData))
    issuer = bytes(ffi.buffer(info.Issuer.pbData, info.Issuer.cbData))
    return subject, issuer


def peer_chain(cert_context: Any) -> list[bytes]:
    """The DER of the peer's chain, leaf first, from the certificates it sent.

    The leaf's ``hCertStore`` holds what the peer sent; a store does not
    keep the order, so the chain is walked from the leaf by issuer name (the
    order a conforming peer sends), and anything left over follows in the
    store's order.
    """
    leaf = certificate_der(cert_context)
    others: list[tuple[bytes, bytes, bytes]] = []  # (der, subject, issuer)
    store = cert_context.hCertStore
    if store != ffi.NULL:
        current = ffi.NULL
        while True:
            current = lib.CertEnumCertificatesInStore(store, current)
            if current == ffi.NULL:
                break
            der = certificate_der(current)
            if der != leaf and all(der != other[0] for other in others):
                others.append((der, *_names(current)))
    chain = [leaf]
    issuer = _names(cert_context)[1]
    subject = _names(cert_context)[0]
    while others and issuer != subject:
        found = next((item for item in others if item[1] == issuer), None)
        if found is None:
            break
        others.remove(found)
        chain.append(found[0])
        subject, issuer = found[1], found[2]
    chain.extend(item[0] for item in others)
    return chain
