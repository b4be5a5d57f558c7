"""gnutls_certificate_credentials_t from a configuration: trust anchors and our own chains.

One credentials object per context (and per configuration an sni_callback
returns); GnuTLS only reads it during handshakes, so sessions on several
threads may share it.  A server may hold several chains (RSA and ECDSA,
...): each goes in with its own gnutls_certificate_set_key, and GnuTLS
picks, per handshake, the first whose key suits the client's signature
algorithms (and, in TLS 1.2, the cipher suite's authentication).
"""

from __future__ import annotations

from typing import Any

from tlsapi import Certificate, ConfigurationError, PrivateKey, TrustStore

from ._binding import datum, ffi, lib
from ._errors import check_configuration, describe

__all__ = ["Credentials"]


class Credentials:
    """Trust anchors (to verify the peer) and our certificate chain with its key."""

    __slots__ = ("cdata", "has_chain", "trust_count", "trust_source")

    def __init__(
        self,
        trust_store: TrustStore | None,
        chains: tuple[tuple[tuple[Certificate, ...], PrivateKey], ...],
    ) -> None:
        pointer = ffi.new("gnutls_certificate_credentials_t *")
        code = lib.gnutls_certificate_allocate_credentials(pointer)
        if code < 0:
            raise MemoryError(f"gnutls_certificate_allocate_credentials: {describe(code)}")
        self.cdata: Any = ffi.gc(pointer[0], lib.gnutls_certificate_free_credentials)
        self.trust_count = 0
        self.trust_source: str | None = None
        self.has_chain = bool(chains)
        if trust_store is not None:
            self._load_trust(trust_store)
        for number, (certificates, key) in enumerate(chains, 1):
            where = "certificate_chain" if len(chains) == 1 else f"certificate_chain #{number}"
            self._load_chain(certificates, key, where)
        if chains:
            # DHE suites with a client that names no RFC 7919 group (OpenSSL, NSS): serve
            # the RFC 7919 group of the medium security level (ffdhe2048), as OpenSSL does.
            check_configuration(
                lib.gnutls_certificate_set_known_dh_params(self.cdata, lib.GNUTLS_SEC_PARAM_MEDIUM),
                "GnuTLS cannot set the DH parameters",
            )

    # -- trust ---------------------------------------------------------------

    def _load_trust(self, store: TrustStore) -> None:
        if store.is_system:
            code = lib.gnutls_certificate_set_x509_system_trust(self.cdata)
            check_configuration(
                code,
                "GnuTLS cannot load the system trust store (gnutls_certificate_set_x509_system_trust)",
            )
            self.trust_count = code
            self.trust_source = "system"
            return
        where = f" from {store.source!r}" if store.source else ""
        for position, der in enumerate(store.certificates, 1):
            code = lib.gnutls_certificate_set_x509_trust_mem(
                self.cdata, datum(der), lib.GNUTLS_X509_FMT_DER
            )
            check_configuration(code, f"trust store{where}: certificate #{position} is not usable")
            self.trust_count += code
        self.trust_source = store.source or "memory"

    # -- our chain -------------------------------------------------------------

    def _load_chain(
        self, certificates: tuple[Certificate, ...], key: PrivateKey, where: str
    ) -> None:
        privkey = self._import_key(key)
        pcerts = ffi.new("gnutls_pcert_st[]", len(certificates))
        imported = 0
        try:
            for position, certificate in enumerate(certificates):
                code = lib.gnutls_pcert_import_x509_raw(
                    ffi.addressof(pcerts, position),
                    datum(certificate.der),
                    lib.GNUTLS_X509_FMT_DER,
                    0,
                )
                check_configuration(code, f"{where}: certificate #{position + 1} cannot be parsed")
                imported += 1
            code = lib.gnutls_certificate_set_key(
                self.cdata, ffi.NULL, 0, pcerts, len(certificates), privkey
            )
            if code == lib.GNUTLS_E_CERTIFICATE_KEY_MISMATCH:
                raise ConfigurationError(
                    f"{where}: the private key does not belong to the first "
                    f"(leaf) certificate: {describe(code)}"
                )
            check_configuration(code, f"{where}: GnuTLS refused the certificate and key")
        except BaseException:
            # On failure the caller still owns the key and the parsed certificates.
            for position in range(imported):
                lib.gnutls_pcert_deinit(ffi.addressof(pcerts, position))
            lib.gnutls_privkey_deinit(privkey)
            raise
        # On success the credentials own them (freed by gnutls_certificate_free_credentials).

    @staticmethod
    def _import_key(key: PrivateKey) -> Any:
        # None for a plain key; may call the user's callable.  tlsapi refuses a
        # password with a NUL byte, so the C string below is the whole password.
        password = key.password_bytes()
        pointer = ffi.new("gnutls_privkey_t *")
        code = lib.gnutls_privkey_init(pointer)
        if code < 0:
            raise MemoryError(f"gnutls_privkey_init: {describe(code)}")
        privkey = pointer[0]
        data = key.data
        fmt = lib.GNUTLS_X509_FMT_PEM if key.is_pem else lib.GNUTLS_X509_FMT_DER
        c_password = ffi.NULL if password is None else ffi.new("char[]", password)
        code = lib.gnutls_privkey_import_x509_raw(privkey, datum(data), fmt, c_password, 0)
        if code < 0:
            lib.gnutls_privkey_deinit(privkey)
            where = f" {key.source!r}" if key.source else ""
            if code == lib.GNUTLS_E_DECRYPTION_FAILED or (
                password is not None and key.is_encrypted
            ):
                raise ConfigurationError(
                    f"the private key{where} cannot be decrypted: wrong password? ({describe(code)})"
                )
            raise ConfigurationError(f"the private key{where} cannot be parsed: {describe(code)}")
        return privkey
