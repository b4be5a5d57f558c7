"""Our certificate chain and private key as a SecIdentity, through a temporary keychain.

Secure Transport signs with a SecIdentity: a certificate whose private key
lives in a keychain.  A key given as PEM or DER bytes has to be imported into
one first, and we do not touch the user's keychains: each context that holds
a key creates its own keychain file in a private temporary directory (0700),
locked with a random password nobody else sees, imports the key there
(SecItemImport), pairs it with the leaf (SecIdentityCreateWithCertificate),
and deletes the keychain and the directory when the context goes
(weakref.finalize: also at interpreter exit).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import weakref
from typing import Any

from tlsapi import Certificate, ConfigurationError, PrivateKey

from . import _cf
from ._binding import ffi, lib
from ._errors import describe

__all__ = ["Identity"]


class Identity:
    """The CFArray SSLSetCertificate takes: the SecIdentity, then the rest of the chain."""

    __slots__ = ("__weakref__", "_finalizer", "_keychain", "certificates")

    def __init__(self, certificates: tuple[Certificate, ...], key: PrivateKey) -> None:
        directory = tempfile.mkdtemp(prefix="tlsapi-securetransport-")  # mode 0700
        password = secrets.token_hex(32).encode("ascii")
        keychain = ffi.new("SecKeychainRef *")
        path = os.path.join(directory, "identity.keychain").encode()
        status = lib.SecKeychainCreate(path, len(password), password, False, ffi.NULL, keychain)
        if status != lib.errSecSuccess:
            shutil.rmtree(directory, ignore_errors=True)
            raise ConfigurationError(f"cannot create a temporary keychain: {describe(status)}")
        self._keychain: Any = _cf.owned(keychain[0], "SecKeychainCreate")
        self._finalizer = weakref.finalize(self, _delete, self._keychain, directory)
        try:
            # Never locked by time or sleep while the context lives: a long-lived
            # server still signs with its key hours later, without a prompt.
            settings = ffi.new("SecKeychainSettings *")
            settings.version = lib.SEC_KEYCHAIN_SETTINGS_VERS1
            settings.lockOnSleep = False
            settings.useLockInterval = False
            settings.lockInterval = 0xFFFFFFFF
            status = lib.SecKeychainSetSettings(self._keychain, settings)
            if status != lib.errSecSuccess:
                raise ConfigurationError(
                    f"cannot configure the temporary keychain: {describe(status)}"
                )
            chain = [
                _certificate(certificate, position)
                for position, certificate in enumerate(certificates, 1)
            ]
            self._import_key(key)
            identity = ffi.new("SecIdentityRef *")
            status = lib.SecIdentityCreateWithCertificate(self._keychain, chain[0], identity)
            if status != lib.errSecSuccess:
                raise ConfigurationError(
                    "certificate_chain: the private key does not belong to the first (leaf) "
                    f"certificate, or the Security framework cannot pair them: {describe(status)}"
                )
            owned_identity = _cf.owned(identity[0], "SecIdentityCreateWithCertificate")
            self.certificates: Any = _cf.array([owned_identity, *chain[1:]])
        except BaseException:
            self._finalizer()
            raise

    def _import_key(self, key: PrivateKey) -> None:
        password = key.password_bytes()
        parameters = ffi.new("SecItemImportExportKeyParameters *")
        parameters.version = lib.SEC_KEY_IMPORT_EXPORT_PARAMS_VERSION
        keep = None
        if password is not None:
            keep = _cf.data(password)
            parameters.passphrase = keep
        form = ffi.new("SecExternalFormat *", lib.kSecFormatUnknown)
        kind = ffi.new("SecExternalItemType *", lib.kSecItemTypePrivateKey)
        items = ffi.new("CFArrayRef *")
        status = lib.SecItemImport(
            _cf.data(key.data), ffi.NULL, form, kind, 0, parameters, self._keychain, items
        )
        del keep
        if items[0] != ffi.NULL:
            _cf.owned(items[0], "SecItemImport")
        if status != lib.errSecSuccess:
            where = f" {key.source!r}" if key.source else ""
            if password is not None or key.is_encrypted:
                raise ConfigurationError(
                    f"the private key{where} cannot be imported: wrong password, or an "
                    f"encryption the Security framework does not read? ({describe(status)})"
                )
            raise ConfigurationError(
                f"the private key{where} cannot be imported: {describe(status)}"
            )

    def close(self) -> None:
        """Delete the keychain now (also done when the object goes)."""
        self._finalizer()


def _certificate(certificate: Certificate, position: int) -> Any:
    reference = lib.SecCertificateCreateWithData(lib.kCFAllocatorDefault, _cf.data(certificate.der))
    if reference == ffi.NULL:
        raise ConfigurationError(
            f"certificate_chain: certificate #{position} is not one the Security framework can read"
        )
    return _cf.owned(reference, "SecCertificateCreateWithData")


def _delete(keychain: Any, directory: str) -> None:
    lib.SecKeychainDelete(keychain)
    shutil.rmtree(directory, ignore_errors=True)
