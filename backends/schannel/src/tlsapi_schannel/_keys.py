"""Private keys: decrypted here, imported where SChannel can sign with them, deleted after use.

How SChannel finds a key
------------------------
SChannel does not take a key handle: it reads the certificate context's
``CERT_KEY_PROV_INFO_PROP_ID`` (provider name + key container name) and
opens the key itself, in LSASS (key isolation).  A CNG *ephemeral* key (one
that lives only behind a handle, never named) is therefore refused: .NET
says so in ``SslStreamPal.Windows.AcquireCredentialsHandle``, which turns
``SEC_E_NO_CREDENTIALS`` for a certificate whose key is ephemeral into
"the platform does not support ephemeral keys" (``net_auth_ephemeral``), and
its certificate code attaches a CNG key to a context with
``CopyWithPersistedCngKey`` (``CRYPT_KEY_PROV_INFO`` naming the key and the
KSP, ``dwProvType`` 0 for CNG).  TLS 1.3 (``SCH_CREDENTIALS``, Windows 11 /
Server 2022) signs with RSA-PSS or ECDSA, which only CNG providers do; the
legacy CAPI providers cannot.

So on Windows the key is a *named* key in the Microsoft Software Key
Storage Provider: ``NCryptImportKey(NCRYPT_PKCS8_PRIVATE_KEY_BLOB)`` with a
unique name (``NCRYPTBUFFER_PKCS_KEY_NAME``, "tlsapi-<uuid4>"; the import
persists it), attached through ``CERT_KEY_PROV_INFO_PROP_ID`` (container =
the key's name, provider = the KSP, ``dwProvType`` and ``dwKeySpec`` 0: the
pattern aws-c-io's SChannel server credentials and mongo-c-driver's tests
also use), and deleted
(``NCryptDeleteKey``) when the identity is released (explicitly, by the
garbage collector, or at interpreter exit).  The key file exists on disk
(the user's key store) only while the identity lives; a process killed
outright leaves it behind under its ``tlsapi-`` name.

Wine 8.0 (read in Wine's dlls/secur32/schannel.c, verified by
tests/schannel/test_certs_identity.py): its schannel loads a key only for
client credentials (it has no AcceptSecurityContext at all), and only from
the legacy rsaenh provider's registry container
(``HKCU\\Software\\Wine\\Crypto\\RSA\\<container>``), after
``CryptAcquireCertificatePrivateKey`` succeeds; its NCrypt refuses PKCS#8
import.  Under Wine an RSA key therefore goes into a uniquely named CAPI
container (``CryptDecodeObjectEx(PKCS_RSA_PRIVATE_KEY)`` gives the
PRIVATEKEYBLOB, ``CryptImportKey`` stores it), deleted with
``CRYPT_DELETEKEYSET`` on release; an ECDSA key is refused with a
ConfigurationError that names Wine.

Encrypted keys are decrypted here, never by ``cryptography`` (not a
dependency of the backend): PKCS#8 PBES2 (PBKDF2 with HMAC-SHA1/224/256/384/512
from hashlib, AES-128/192/256-CBC or DES-EDE3-CBC through BCrypt) and the
legacy OpenSSL PEM encryption ("Proc-Type: 4,ENCRYPTED", EVP_BytesToKey with
MD5).  A wrong password shows as bad padding or a plaintext that is not a
key: ConfigurationError at load time.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from typing import Any, NamedTuple

from tlsapi import ConfigurationError, PrivateKey
from tlsapi.backend_api import (
    DERElement,
    DERError,
    decode_oid,
    der_sequence,
    encode_integer,
    encode_oid,
    encode_tlv,
    parse_der_one,
    parse_pem,
)

from ._binding import ffi, lib
from ._platform import wine_version

__all__ = ["ImportedKey", "PlainKey", "decrypt_key", "import_key", "windows_error"]

OID_RSA = "1.2.840.113549.1.1.1"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC = "1.2.840.10045.2.1"
CURVES = {"1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384", "1.3.132.0.35": "P-521"}
_UNSUPPORTED_ALGORITHMS = {
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.2.840.10040.4.1": "DSA",
}

_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
_PRFS = {
    "1.2.840.113549.2.7": "sha1",
    "1.2.840.113549.2.8": "sha224",
    "1.2.840.113549.2.9": "sha256",
    "1.2.840.113549.2.10": "sha384",
    "1.2.840.113549.2.11": "sha512",
}
# cipher OID -> (BCrypt algorithm, key length)
_CIPHERS = {
    "2.16.840.1.101.3.4.1.2": ("AES", 16),
    "2.16.840.1.101.3.4.1.22": ("AES", 24),
    "2.16.840.1.101.3.4.1.42": ("AES", 32),
    "1.2.840.113549.3.7": ("3DES", 24),
}
_LEGACY_CIPHERS = {
    "AES-128-CBC": ("AES", 16),
    "AES-192-CBC": ("AES", 24),
    "AES-256-CBC": ("AES", 32),
    "DES-EDE3-CBC": ("3DES", 24),
}

MS_KEY_STORAGE_PROVIDER = "Microsoft Software Key Storage Provider"
MS_ENH_RSA_AES_PROV = "Microsoft Enhanced RSA and AES Cryptographic Provider"
_PKCS_RSA_PRIVATE_KEY = 43  # wincrypt.h: ((LPCSTR) 43)


def windows_error(code: int | None = None) -> str:
    """``0x80092004: <Windows' text>`` for ``code`` (GetLastError() when None)."""
    if code is None:
        code = int(lib.GetLastError())
    buffer = ffi.new("wchar_t[512]")
    flags = lib.FORMAT_MESSAGE_FROM_SYSTEM | lib.FORMAT_MESSAGE_IGNORE_INSERTS
    length = lib.FormatMessageW(flags, ffi.NULL, code & 0xFFFFFFFF, 0, buffer, 512, ffi.NULL)
    text = ffi.string(buffer, length).strip() if length else ""
    number = f"0x{code & 0xFFFFFFFF:08X}"
    return f"{number}: {text}" if text else number


# -- decrypting and reading the key ------------------------------------------------


class PlainKey(NamedTuple):
    """An unencrypted private key and what we need to know about it."""

    algorithm: str  # "RSA" or "EC"
    pkcs8: bytes  # PrivateKeyInfo DER
    pkcs1: bytes | None  # RSAPrivateKey DER (RSA only)
    curve: str | None  # curve OID (EC only)
    public: bytes | None  # RSA: the modulus's bytes; EC: the public point, when the key holds it


def _key_der(key: PrivateKey) -> tuple[bytes, dict[str, str]]:
    """The key's DER (ciphertext for legacy encryption) and its PEM headers."""
    if not key.is_pem:
        return key.data, {}
    blocks = [block for block in parse_pem(key.data, "private key") if "PRIVATE KEY" in block.label]
    if len(blocks) != 1:
        raise ConfigurationError("the private key's PEM data does not hold exactly one key")
    return blocks[0].der, blocks[0].headers


def _cbc_decrypt(algorithm: str, secret: bytes, iv: bytes, data: bytes) -> bytes:
    """CBC decryption through BCrypt, padding left in place."""
    handle = ffi.new("BCRYPT_ALG_HANDLE *")
    status = lib.BCryptOpenAlgorithmProvider(handle, algorithm, ffi.NULL, 0)
    if status != 0:
        raise ConfigurationError(
            f"BCrypt has no {algorithm} cipher to decrypt the private key ({windows_error(status)})"
        )
    key_handle = ffi.new("BCRYPT_KEY_HANDLE *")
    try:
        mode = ffi.new("wchar_t[]", "ChainingModeCBC")
        status = lib.BCryptSetProperty(
            handle[0], "ChainingMode", ffi.cast("BYTE *", mode), ffi.sizeof(mode), 0
        )
        if status == 0:
            status = lib.BCryptGenerateSymmetricKey(
                handle[0], key_handle, ffi.NULL, 0, ffi.new("BYTE[]", secret), len(secret), 0
            )
        if status != 0:
            raise ConfigurationError(
                f"BCrypt cannot set up {algorithm}-CBC to decrypt the private key "
                f"({windows_error(status)})"
            )
        output = ffi.new("BYTE[]", max(len(data), 1))
        result = ffi.new("ULONG *")
        status = lib.BCryptDecrypt(
            key_handle[0],
            ffi.new("BYTE[]", data),
            len(data),
            ffi.NULL,
            ffi.new("BYTE[]", iv),
            len(iv),
            output,
            len(data),
            result,
            0,
        )
        if status != 0:
            raise ConfigurationError(
                f"the private key cannot be decrypted ({windows_error(status)}): "
                "the encrypted data is damaged"
            )
        return bytes(ffi.buffer(output, result[0]))
    finally:
        if key_handle[0] != ffi.NULL:
            lib.BCryptDestroyKey(key_handle[0])
        lib.BCryptCloseAlgorithmProvider(handle[0], 0)


_WRONG_PASSWORD = (
    "the private key cannot be decrypted with the password given: wrong password (or a damaged key)"
)


def _unpad(plaintext: bytes, block: int) -> bytes:
    pad = plaintext[-1] if plaintext else 0
    if not 1 <= pad <= block or plaintext[-pad:] != bytes([pad]) * pad:
        raise ConfigurationError(_WRONG_PASSWORD)
    return plaintext[:-pad]


def _decrypt_pkcs8(der: bytes, password: bytes) -> bytes:
    try:
        algorithm, encrypted = der_sequence(der)
        parts = algorithm.children()
        scheme = decode_oid(parts[0])
        if scheme != _PBES2:
            raise ConfigurationError(
                f"the private key is encrypted with {scheme}, which this backend does not "
                "decrypt (only PBES2: PBKDF2 with AES-CBC or 3DES-CBC); re-encrypt it, e.g. "
                "`openssl pkcs8 -topk8 -v2 aes-256-cbc`"
            )
        kdf, cipher = parts[1].children()
        kdf_parts = kdf.children()
        if decode_oid(kdf_parts[0]) != _PBKDF2:
            raise ConfigurationError("the private key's PBES2 key derivation is not PBKDF2")
        kdf_params = kdf_parts[1].children()
        salt = kdf_params[0].content
        iterations = kdf_params[1].integer()
        prf = "sha1"
        for item in kdf_params[2:]:
            if item.tag == 0x30:
                prf_oid = decode_oid(item.children()[0])
                if prf_oid not in _PRFS:
                    raise ConfigurationError(f"the private key's PBKDF2 PRF {prf_oid} is unknown")
                prf = _PRFS[prf_oid]
        cipher_parts = cipher.children()
        cipher_oid = decode_oid(cipher_parts[0])
        iv = cipher_parts[1].content
    except (DERError, IndexError, ValueError) as exc:
        if isinstance(exc, ConfigurationError):
            raise
        raise ConfigurationError(
            f"the encrypted private key is not a valid EncryptedPrivateKeyInfo ({exc})"
        ) from None
    if cipher_oid not in _CIPHERS:
        raise ConfigurationError(
            f"the private key is encrypted with cipher {cipher_oid}, which this backend does not "
            "decrypt (AES-CBC and DES-EDE3-CBC are supported); re-encrypt it with AES-256-CBC"
        )
    if not 0 < iterations <= 10_000_000:
        raise ConfigurationError(f"the private key's PBKDF2 iteration count {iterations} is absurd")
    name, size = _CIPHERS[cipher_oid]
    secret = hashlib.pbkdf2_hmac(prf, password, salt, iterations, size)
    plaintext = _cbc_decrypt(name, secret, iv, encrypted.content)
    return _unpad(plaintext, len(iv))


def _decrypt_legacy(der: bytes, headers: dict[str, str], password: bytes) -> bytes:
    cipher, _, iv_hex = headers.get("DEK-Info", "").partition(",")
    cipher = cipher.strip().upper()
    if cipher not in _LEGACY_CIPHERS:
        raise ConfigurationError(
            f"the private key's PEM encryption {cipher or '(no DEK-Info)'} is not supported "
            f"(use one of {', '.join(_LEGACY_CIPHERS)}, or PKCS#8)"
        )
    try:
        iv = bytes.fromhex(iv_hex.strip())
    except ValueError:
        raise ConfigurationError("the private key's DEK-Info IV is not hexadecimal") from None
    name, size = _LEGACY_CIPHERS[cipher]
    # OpenSSL's EVP_BytesToKey: MD5, one round, the IV's first 8 bytes as salt.
    secret = b""
    block = b""
    while len(secret) < size:
        block = hashlib.md5(block + password + iv[:8]).digest()
        secret += block
    plaintext = _cbc_decrypt(name, secret[:size], iv, der)
    return _unpad(plaintext, len(iv))


def _wrap_pkcs8(algorithm_identifier: bytes, private_key: bytes) -> bytes:
    return encode_tlv(
        0x30,
        encode_integer(0) + algorithm_identifier + encode_tlv(0x04, private_key),
    )


def _rsa_from_pkcs1(pkcs1: bytes, pkcs8: bytes | None = None) -> PlainKey:
    fields = der_sequence(pkcs1)
    modulus = fields[1].integer()
    if pkcs8 is None:
        identifier = encode_tlv(0x30, encode_oid(OID_RSA) + b"\x05\x00")
        pkcs8 = _wrap_pkcs8(identifier, pkcs1)
    size = (modulus.bit_length() + 7) // 8
    return PlainKey("RSA", pkcs8, pkcs1, None, modulus.to_bytes(size, "big"))


def _ec_from_sec1(sec1: bytes, curve: str | None, pkcs8: bytes | None = None) -> PlainKey:
    fields = der_sequence(sec1)
    public = None
    for field in fields[2:]:
        if field.tag == 0xA0 and curve is None:
            curve = decode_oid(parse_der_one(field.content))
        elif field.tag == 0xA1:
            bits = parse_der_one(field.content)
            public = bits.content[1:]
    if curve is None:
        raise ConfigurationError("the EC private key names no curve")
    if curve not in CURVES:
        raise ConfigurationError(
            f"the EC private key's curve {curve} cannot be used by SChannel "
            "(P-256, P-384 and P-521 can)"
        )
    if pkcs8 is None:
        identifier = encode_tlv(0x30, encode_oid(OID_EC) + encode_oid(curve))
        pkcs8 = _wrap_pkcs8(identifier, sec1)
    return PlainKey("EC", pkcs8, None, curve, public)


def _from_pkcs8(pkcs8: bytes) -> PlainKey:
    fields = der_sequence(pkcs8)
    algorithm: list[DERElement] = fields[1].children()
    oid = decode_oid(algorithm[0])
    private = fields[2].content
    if oid in (OID_RSA, OID_RSA_PSS):
        return _rsa_from_pkcs1(private, pkcs8)
    if oid == OID_EC:
        curve = decode_oid(algorithm[1]) if len(algorithm) > 1 and algorithm[1].tag == 6 else None
        return _ec_from_sec1(private, curve, pkcs8)
    name = _UNSUPPORTED_ALGORITHMS.get(oid, oid)
    raise ConfigurationError(
        f"the private key is a {name} key, which SChannel cannot use for TLS; "
        "use an RSA or ECDSA (P-256, P-384, P-521) key and certificate"
    )


def decrypt_key(key: PrivateKey) -> PlainKey:
    """The key unencrypted (asking for the password if it is encrypted), with its facts."""
    der, headers = _key_der(key)
    key_format = key.key_format
    password = key.password_bytes()
    if key_format == "pkcs8-encrypted":
        assert password is not None
        der, key_format = _decrypt_pkcs8(der, password), "pkcs8"
    elif key_format.endswith("-encrypted"):
        assert password is not None
        der, key_format = _decrypt_legacy(der, headers, password), key_format[: -len("-encrypted")]
    if key_format == "dsa":
        raise ConfigurationError(
            "the private key is a DSA key, which SChannel cannot use for TLS; use RSA or ECDSA"
        )
    try:
        if key_format == "pkcs8":
            return _from_pkcs8(der)
        if key_format == "pkcs1":
            return _rsa_from_pkcs1(der)
        if key_format == "sec1":
            return _ec_from_sec1(der, None)
    except (DERError, IndexError, ValueError) as exc:
        if isinstance(exc, ConfigurationError):
            raise
        if key.is_encrypted:
            raise ConfigurationError(_WRONG_PASSWORD) from None
        raise ConfigurationError(f"the private key cannot be read ({exc})") from None
    raise ConfigurationError(f"the private key's format {key.key_format} is not supported")


# -- importing it ------------------------------------------------------------------------


class ImportedKey:
    """A key SChannel can open by name; ``close()`` deletes it (idempotent, thread-safe)."""

    def __init__(self, provider: str, container: str, provider_type: int, key_spec: int) -> None:
        self.provider = provider
        self.container = container
        self.provider_type = provider_type
        self.key_spec = key_spec
        self._lock = threading.Lock()
        self._release: Any = None  # the deleter, None once run
        # An EC key's public point read back from CNG when the key file did not hold it.
        self.public_point: bytes | None = None

    def prov_info(self) -> Any:
        """A CRYPT_KEY_PROV_INFO for CertSetCertificateContextProperty (which copies it)."""
        container = ffi.new("wchar_t[]", self.container)
        provider = ffi.new("wchar_t[]", self.provider)
        info = ffi.new("CRYPT_KEY_PROV_INFO *")
        info.pwszContainerName = container
        info.pwszProvName = provider
        info.dwProvType = self.provider_type
        info.dwKeySpec = self.key_spec
        return info, (container, provider)

    def close(self) -> None:
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()


def _import_cng(plain: PlainKey) -> ImportedKey:
    provider = ffi.new("NCRYPT_PROV_HANDLE *")
    status = lib.NCryptOpenStorageProvider(provider, MS_KEY_STORAGE_PROVIDER, 0)
    if status != 0:
        raise ConfigurationError(
            f"the {MS_KEY_STORAGE_PROVIDER} cannot be opened ({windows_error(status)})"
        )
    name = f"tlsapi-{uuid.uuid4()}"
    name_buffer = ffi.new("wchar_t[]", name)
    buffers = ffi.new("NCryptBuffer[1]")
    buffers[0].cbBuffer = ffi.sizeof(name_buffer)
    buffers[0].BufferType = lib.NCRYPTBUFFER_PKCS_KEY_NAME
    buffers[0].pvBuffer = name_buffer
    parameters = ffi.new("NCryptBufferDesc *")
    parameters.ulVersion = lib.NCRYPTBUFFER_VERSION
    parameters.cBuffers = 1
    parameters.pBuffers = buffers
    blob = ffi.new("BYTE[]", plain.pkcs8)
    key = ffi.new("NCRYPT_KEY_HANDLE *")
    handle = provider[0]
    try:
        # With a name, the import itself persists the key (no NCryptFinalizeKey).
        status = lib.NCryptImportKey(
            handle, 0, "PKCS8_PRIVATEKEY", parameters, key, blob, len(plain.pkcs8),
            lib.NCRYPT_OVERWRITE_KEY_FLAG | lib.NCRYPT_SILENT_FLAG,
        )  # fmt: skip
        if status != 0:
            raise ConfigurationError(
                f"Windows refused to import the {plain.algorithm} private key into the "
                f"{MS_KEY_STORAGE_PROVIDER} ({windows_error(status)})"
            )
    except BaseException:
        lib.NCryptFreeObject(handle)
        raise
    key_handle = key[0]
    imported = ImportedKey(MS_KEY_STORAGE_PROVIDER, name, 0, 0)
    if plain.algorithm == "EC" and plain.public is None:
        imported.public_point = _cng_public_point(key_handle)

    def release() -> None:
        # NCryptDeleteKey frees the handle too.
        if lib.NCryptDeleteKey(key_handle, lib.NCRYPT_SILENT_FLAG) != 0:
            lib.NCryptFreeObject(key_handle)
        lib.NCryptFreeObject(handle)

    imported._release = release
    return imported


def _cng_public_point(key_handle: int) -> bytes | None:
    """The uncompressed public point of a CNG EC key (BCRYPT_ECCKEY_BLOB: magic, size, X, Y)."""
    size = ffi.new("DWORD *")
    if lib.NCryptExportKey(key_handle, 0, "ECCPUBLICBLOB", ffi.NULL, ffi.NULL, 0, size, 0) != 0:
        return None
    blob = ffi.new("BYTE[]", size[0])
    if lib.NCryptExportKey(key_handle, 0, "ECCPUBLICBLOB", ffi.NULL, blob, size[0], size, 0) != 0:
        return None
    data = bytes(ffi.buffer(blob, size[0]))
    return b"\x04" + data[8:]


def _import_capi(plain: PlainKey, wine: str) -> ImportedKey:
    if plain.algorithm != "RSA" or plain.pkcs1 is None:
        raise ConfigurationError(
            f"Wine {wine}'s schannel cannot use an {plain.algorithm} private key: it reads keys "
            "only from the legacy CAPI RSA provider (rsaenh), so only RSA keys work under Wine. "
            "Real Windows imports ECDSA keys into CNG and uses them; under Wine, use an RSA key"
        )
    size = ffi.new("DWORD *")
    encoded = ffi.new("BYTE[]", plain.pkcs1)
    kind = ffi.cast("LPCSTR", _PKCS_RSA_PRIVATE_KEY)
    if not lib.CryptDecodeObjectEx(
        lib.X509_ASN_ENCODING, kind, encoded, len(plain.pkcs1), 0, ffi.NULL, ffi.NULL, size
    ):
        raise ConfigurationError(f"the RSA private key cannot be decoded ({windows_error()})")
    blob = ffi.new("BYTE[]", size[0])
    if not lib.CryptDecodeObjectEx(
        lib.X509_ASN_ENCODING, kind, encoded, len(plain.pkcs1), 0, ffi.NULL, blob, size
    ):
        raise ConfigurationError(f"the RSA private key cannot be decoded ({windows_error()})")
    name = f"tlsapi-{uuid.uuid4()}"
    provider = ffi.new("HCRYPTPROV *")
    if not lib.CryptAcquireContextW(
        provider, name, MS_ENH_RSA_AES_PROV, lib.PROV_RSA_AES,
        lib.CRYPT_NEWKEYSET | lib.CRYPT_SILENT,
    ):  # fmt: skip
        raise ConfigurationError(f"cannot create a CAPI key container ({windows_error()})")
    handle = provider[0]

    def release() -> None:
        lib.CryptReleaseContext(handle, 0)
        gone = ffi.new("HCRYPTPROV *")
        lib.CryptAcquireContextW(
            gone, name, MS_ENH_RSA_AES_PROV, lib.PROV_RSA_AES,
            lib.CRYPT_DELETEKEYSET | lib.CRYPT_SILENT,
        )  # fmt: skip

    key = ffi.new("HCRYPTKEY *")
    if not lib.CryptImportKey(handle, blob, size[0], 0, 0, key):
        error = windows_error()
        release()
        raise ConfigurationError(f"the CAPI provider refused the RSA private key ({error})")
    lib.CryptDestroyKey(key[0])
    imported = ImportedKey(MS_ENH_RSA_AES_PROV, name, lib.PROV_RSA_AES, lib.AT_KEYEXCHANGE)
    imported._release = release
    return imported


def import_key(plain: PlainKey) -> ImportedKey:
    """Store ``plain`` where SChannel can open it by name (see the module docstring)."""
    wine = wine_version()
    if wine is not None:
        return _import_capi(plain, wine)
    return _import_cng(plain)
