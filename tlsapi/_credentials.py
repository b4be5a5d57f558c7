"""Backend-neutral credentials: certificates, private keys and trust stores.

These are value objects: they hold what the user gave (the bytes, read once,
and where they came from) and check the framing early, so that a missing file
or a broken PEM block is a ConfigurationError when the object is made.  Each
backend turns them into its own library's objects when a context is built;
the library's verdict on the content (a bad key, a wrong password) is a
ConfigurationError from the context constructor.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Union

from ._errors import ConfigurationError
from ._pem import (
    check_der_sequence,
    der_sequence_tags,
    der_to_pem,
    looks_like_pem,
    parse_pem,
    split_der_sequences,
)

__all__ = ["Certificate", "Password", "PrivateKey", "TrustStore"]

Password = Union[bytes, str, Callable[[], Union[bytes, str]]]
StrPath = Union[str, "os.PathLike[str]"]


def _read_file(path: StrPath, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read {what} file {os.fspath(path)!r}: {exc.strerror}"
        ) from exc


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, str):
        try:
            return data.encode("ascii", "strict")
        except UnicodeEncodeError as exc:
            # PEM is ASCII; a str holding anything else is not PEM.
            raise ConfigurationError(
                f"{what}: a str must be ASCII PEM text; position {exc.start} holds "
                f"{data[exc.start]!r} (pass bytes for DER)"
            ) from None
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConfigurationError(f"{what} must be bytes, not {type(data).__name__}")
    result = bytes(data)
    if not result.strip():
        raise ConfigurationError(f"{what} is empty")
    return result


def _password_bytes(password: bytes | bytearray | str, what: str) -> bytes:
    """The password as the bytes every backend hands its library (UTF-8 for str).

    One rule for all backends: a str must encode as UTF-8 (a lone surrogate
    cannot), and no NUL byte, because OpenSSL and NSS read passwords as C
    strings and would silently truncate at it ("pw\\0" would unlock "pw").
    """
    if isinstance(password, str):
        try:
            data = password.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ConfigurationError(
                f"{what} is a str that cannot be encoded as UTF-8 "
                f"({exc.reason} at position {exc.start}); give bytes or a valid str"
            ) from None
    else:
        data = bytes(password)
    if b"\0" in data:
        raise ConfigurationError(
            f"{what} contains a NUL byte at position {data.index(0)}, which TLS libraries "
            "would read as the end of the password; remove it"
        )
    return data


_CERT_LABELS = ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE")


def _certificates_from(data: bytes, what: str) -> list[bytes]:
    """DER certificates from PEM (every certificate block) or concatenated DER."""
    if looks_like_pem(data):
        ders = [block.der for block in parse_pem(data, what) if block.label in _CERT_LABELS]
        if not ders:
            raise ConfigurationError(f"{what}: the PEM data holds no CERTIFICATE block")
        for der in ders:
            check_der_sequence(der, what)
        return ders
    return split_der_sequences(data, what)


class Certificate:
    """One X.509 certificate (PEM or DER), as the user gave it."""

    __slots__ = ("_der", "_source")

    def __init__(self, der: bytes, source: str | None = None) -> None:
        self._der = der
        self._source = source

    @classmethod
    def from_buffer(cls, buffer: bytes) -> Certificate:
        """One certificate from PEM or DER bytes."""
        data = _as_bytes(buffer, "certificate")
        ders = _certificates_from(data, "certificate")
        if len(ders) != 1:
            raise ConfigurationError(
                f"certificate: the data holds {len(ders)} certificates; "
                "use Certificate.chain_from_buffer() for a chain"
            )
        return cls(ders[0])

    @classmethod
    def from_file(cls, path: StrPath) -> Certificate:
        """One certificate from a PEM or DER file."""
        name = os.fspath(path)
        data = _read_file(path, "certificate")
        if not data.strip():
            raise ConfigurationError(f"certificate file {name!r} is empty")
        ders = _certificates_from(data, f"certificate file {name!r}")
        if len(ders) != 1:
            raise ConfigurationError(
                f"certificate file {name!r} holds {len(ders)} certificates; "
                "use Certificate.chain_from_file() for a chain"
            )
        return cls(ders[0], name)

    @classmethod
    def chain_from_buffer(cls, buffer: bytes) -> tuple[Certificate, ...]:
        """Every certificate in PEM or DER bytes, in order (leaf first for a chain)."""
        data = _as_bytes(buffer, "certificate chain")
        return tuple(cls(der) for der in _certificates_from(data, "certificate chain"))

    @classmethod
    def chain_from_file(cls, path: StrPath) -> tuple[Certificate, ...]:
        """Every certificate in a PEM or DER file, in order (leaf first for a chain)."""
        name = os.fspath(path)
        data = _read_file(path, "certificate chain")
        if not data.strip():
            raise ConfigurationError(f"certificate chain file {name!r} is empty")
        ders = _certificates_from(data, f"certificate chain file {name!r}")
        return tuple(cls(der, name) for der in ders)

    @property
    def der(self) -> bytes:
        return self._der

    @property
    def pem(self) -> bytes:
        return der_to_pem(self._der, "CERTIFICATE")

    @property
    def source(self) -> str | None:
        """The file it was read from, if any."""
        return self._source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other._der == self._der

    def __hash__(self) -> int:
        return hash(self._der)

    def __repr__(self) -> str:
        where = f" from {self._source!r}" if self._source else ""
        return f"<Certificate {len(self._der)} bytes DER{where}>"


_KEY_LABELS = {
    "PRIVATE KEY": "pkcs8",
    "ENCRYPTED PRIVATE KEY": "pkcs8-encrypted",
    "RSA PRIVATE KEY": "pkcs1",
    "EC PRIVATE KEY": "sec1",
    "DSA PRIVATE KEY": "dsa",
}


def _der_key_format(data: bytes, what: str) -> str:
    """Tell the DER key structures apart by their first two elements.

    EncryptedPrivateKeyInfo starts with an AlgorithmIdentifier SEQUENCE; the
    others with a version INTEGER followed by: an AlgorithmIdentifier
    SEQUENCE (PKCS#8), the modulus INTEGER (PKCS#1 RSA) or the private key
    OCTET STRING (SEC1 EC).
    """
    try:
        items = der_sequence_tags(data)
    except ValueError:
        raise ConfigurationError(f"{what}: not a private key structure") from None
    if len(items) >= 2 and items[0] == 0x30:
        return "pkcs8-encrypted"
    if len(items) >= 3 and items[0] == 0x02:
        return {0x30: "pkcs8", 0x02: "pkcs1", 0x04: "sec1"}.get(items[1], "unknown")
    raise ConfigurationError(f"{what}: DER data that is not a PKCS#8, PKCS#1 or SEC1 private key")


_PEM_LABEL = {
    "pkcs8": "PRIVATE KEY",
    "pkcs8-encrypted": "ENCRYPTED PRIVATE KEY",
    "pkcs1": "RSA PRIVATE KEY",
    "sec1": "EC PRIVATE KEY",
    "dsa": "DSA PRIVATE KEY",
}


class PrivateKey:
    """A private key (PKCS#8, PKCS#1 or SEC1; PEM or DER; maybe encrypted).

    ``password`` may be bytes, str or a callable returning either; it is only
    used (and a callable only called) when the key is encrypted.
    """

    __slots__ = ("_data", "_format", "_password", "_source")

    def __init__(
        self, data: bytes, key_format: str, password: Password | None, source: str | None
    ) -> None:
        self._data = data
        self._format = key_format
        self._password = password
        self._source = source

    @classmethod
    def _parse(
        cls, data: bytes, password: Password | None, what: str, source: str | None
    ) -> PrivateKey:
        if password is not None and not (
            isinstance(password, (bytes, bytearray, str)) or callable(password)
        ):
            raise ConfigurationError(
                f"{what}: password must be bytes, str or a callable, not {type(password).__name__}"
            )
        if password is not None and not callable(password):
            # A password given directly is checked now, not at context creation.
            _password_bytes(password, f"{what}: the password")
        if looks_like_pem(data):
            blocks = [b for b in parse_pem(data, what) if b.label in _KEY_LABELS]
            if not blocks:
                raise ConfigurationError(
                    f"{what}: the PEM data holds no private key block "
                    f"(expected one of: {', '.join(_KEY_LABELS)})"
                )
            if len(blocks) > 1:
                raise ConfigurationError(f"{what}: the PEM data holds {len(blocks)} private keys")
            block = blocks[0]
            key_format = _KEY_LABELS[block.label]
            if "ENCRYPTED" in block.headers.get("Proc-Type", ""):
                # Legacy OpenSSL encryption: the body is ciphertext, not DER.
                key_format += "-encrypted"
            else:
                check_der_sequence(block.der, what)
            # Keep the PEM: legacy encrypted keys need their headers.
            return cls(data, key_format, password, source)
        check_der_sequence(data, what)
        return cls(data, _der_key_format(data, what), password, source)

    @classmethod
    def from_buffer(cls, buffer: bytes, password: Password | None = None) -> PrivateKey:
        return cls._parse(_as_bytes(buffer, "private key"), password, "private key", None)

    @classmethod
    def from_file(cls, path: StrPath, password: Password | None = None) -> PrivateKey:
        name = os.fspath(path)
        data = _read_file(path, "private key")
        if not data.strip():
            raise ConfigurationError(f"private key file {name!r} is empty")
        return cls._parse(data, password, f"private key file {name!r}", name)

    @property
    def data(self) -> bytes:
        """The key exactly as given (PEM or DER)."""
        return self._data

    @property
    def is_pem(self) -> bool:
        return looks_like_pem(self._data)

    @property
    def key_format(self) -> str:
        """``pkcs8``, ``pkcs1``, ``sec1`` or ``dsa``; ``-encrypted`` appended when encrypted.

        ``pkcs8-encrypted`` is PKCS#8 EncryptedPrivateKeyInfo; ``pkcs1-encrypted``
        and ``sec1-encrypted`` are legacy OpenSSL PEM with a Proc-Type header.
        """
        return self._format

    @property
    def pem(self) -> bytes:
        """The key as PEM (DER keys get the label of their structure)."""
        if self.is_pem:
            return self._data
        return der_to_pem(self._data, _PEM_LABEL[self._format])

    @property
    def is_encrypted(self) -> bool:
        return self._format.endswith("-encrypted")

    @property
    def source(self) -> str | None:
        return self._source

    def password_bytes(self) -> bytes | None:
        """The password as bytes, or None for an unencrypted key.

        A callable password is called here, and only for an encrypted key.
        """
        if not self.is_encrypted:
            return None
        password = self._password
        if password is None:
            raise ConfigurationError(
                "the private key is encrypted but no password was given "
                "(pass password= to PrivateKey.from_file/from_buffer)"
            )
        if callable(password):
            try:
                password = password()
            except Exception as exc:
                raise ConfigurationError(
                    f"the private key's password callback raised {exc!r}"
                ) from exc
            if not isinstance(password, (bytes, bytearray, str)):
                raise ConfigurationError(
                    f"the private key's password callback returned {type(password).__name__}, "
                    "not bytes or str"
                )
            return _password_bytes(password, "the password the private key's callback returned")
        return _password_bytes(password, "the private key's password")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PrivateKey)
            and other._data == self._data
            and other._password == self._password
        )

    def __hash__(self) -> int:
        return hash(self._data)

    def __repr__(self) -> str:
        where = f" from {self._source!r}" if self._source else ""
        return f"<PrivateKey {self._format}{where}>"


class TrustStore:
    """A set of trust anchors: the system's store, or certificates the user gave."""

    __slots__ = ("_certificates", "_source")

    _SYSTEM: TrustStore | None = None

    def __init__(self, certificates: tuple[bytes, ...] | None, source: str | None) -> None:
        self._certificates = certificates
        self._source = source

    @classmethod
    def system(cls) -> TrustStore:
        """The operating system's trust store, as the backend's library finds it."""
        if cls._SYSTEM is None:
            cls._SYSTEM = cls(None, "system")
        return cls._SYSTEM

    @classmethod
    def from_pem_file(cls, path: StrPath) -> TrustStore:
        """Trust anchors from a PEM (or DER) file."""
        name = os.fspath(path)
        data = _read_file(path, "trust store")
        if not data.strip():
            raise ConfigurationError(f"trust store file {name!r} is empty")
        return cls(tuple(_certificates_from(data, f"trust store file {name!r}")), name)

    @classmethod
    def from_buffer(cls, buffer: bytes) -> TrustStore:
        """Trust anchors from PEM bytes (one or more certificates) or DER bytes."""
        data = _as_bytes(buffer, "trust store")
        return cls(tuple(_certificates_from(data, "trust store")), None)

    @property
    def is_system(self) -> bool:
        return self._certificates is None

    @property
    def certificates(self) -> tuple[bytes, ...]:
        """The anchors as DER (empty for the system store, which the backend loads)."""
        return self._certificates or ()

    @property
    def source(self) -> str | None:
        return self._source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustStore) and other._certificates == self._certificates

    def __hash__(self) -> int:
        return hash(self._certificates)

    def __repr__(self) -> str:
        if self.is_system:
            return "<TrustStore system>"
        where = f" from {self._source!r}" if self._source else ""
        return f"<TrustStore {len(self.certificates)} certificates{where}>"
