"""tlsapi_schannel._certificates / _keys under Windows (or Wine): chains, keys, passwords.

An identity is accepted by SChannel itself here: AcquireCredentialsHandleW
with the identity's leaf (outbound: the client-certificate case, the one
Wine implements) loads the key the way a handshake does.
"""

from __future__ import annotations

import ctypes
import gc
import random
import sys

import pytest

from tlsapi import Certificate, ConfigurationError, PrivateKey, TLSError
from tlsapi.testing import PKI
from tlsapi.testing.pki import Identity, KeyType

if sys.platform != "win32":
    pytest.skip("SChannel runs on Windows (and under Wine)", allow_module_level=True)

from tlsapi_schannel._binding import ffi, lib
from tlsapi_schannel._certificates import ServerIdentity, load_identity, peer_chain
from tlsapi_schannel._keys import ImportedKey
from tlsapi_schannel._platform import wine_version

WINE = wine_version()
PASSWORD = "pässwörd"


@pytest.fixture(scope="module")
def rsa_pki() -> PKI:
    return PKI(KeyType.RSA_2048, name="tlsapi schannel identity")


@pytest.fixture(scope="module")
def ec_pki() -> PKI:
    return PKI(KeyType.ECDSA_P256, name="tlsapi schannel identity ec")


@pytest.fixture(scope="module")
def rsa_leaf(rsa_pki: PKI) -> Identity:
    return rsa_pki.issue(eku=("server", "client"))


def _acquire(identity: ServerIdentity, outbound: bool = True) -> int:
    """AcquireCredentialsHandleW with the identity's certificate: the SECURITY_STATUS."""
    cred = ffi.new("SCHANNEL_CRED *")
    cred.dwVersion = lib.SCHANNEL_CRED_VERSION
    contexts = ffi.new("PCCERT_CONTEXT[1]", [identity.leaf])
    cred.cCreds = 1
    cred.paCred = contexts
    handle = ffi.new("CredHandle *")
    use = lib.SECPKG_CRED_OUTBOUND if outbound else lib.SECPKG_CRED_INBOUND
    status = lib.AcquireCredentialsHandleW(
        ffi.NULL, ffi.cast("SEC_WCHAR *", lib.UNISP_NAME_W), use, ffi.NULL, cred,
        ffi.NULL, ffi.NULL, handle, ffi.NULL,
    )  # fmt: skip
    if status == 0:
        lib.FreeCredentialsHandle(handle)
    return int(status)


def _key_exists(key: ImportedKey) -> bool:
    """Whether the identity's named key is still in its provider (ctypes)."""
    if key.provider_type:  # CAPI (Wine)
        advapi32 = ctypes.WinDLL("advapi32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
        handle = ctypes.c_size_t()
        advapi32.CryptAcquireContextW.argtypes = [
            ctypes.POINTER(ctypes.c_size_t), ctypes.c_wchar_p, ctypes.c_wchar_p,
            ctypes.c_uint32, ctypes.c_uint32,
        ]  # fmt: skip
        found = advapi32.CryptAcquireContextW(
            ctypes.byref(handle), key.container, key.provider, key.provider_type, 0x40
        )
        if found:
            advapi32.CryptReleaseContext(handle, 0)
        return bool(found)
    ncrypt = ctypes.WinDLL("ncrypt")  # type: ignore[attr-defined,unused-ignore]
    provider = ctypes.c_size_t()
    assert ncrypt.NCryptOpenStorageProvider(ctypes.byref(provider), key.provider, 0) == 0
    handle = ctypes.c_size_t()
    status = ncrypt.NCryptOpenKey(provider, ctypes.byref(handle), key.container, 0, 0x40)
    if status == 0:
        ncrypt.NCryptFreeObject(handle)
    ncrypt.NCryptFreeObject(provider)
    return bool(status == 0)


class TestLoad:
    @pytest.mark.parametrize("key_format", ["pkcs8", "pkcs1"])
    def test_rsa_identity_is_usable_by_schannel(self, rsa_leaf: Identity, key_format: str) -> None:
        with load_identity(
            rsa_leaf.certificates(), rsa_leaf.private_key(key_format=key_format)
        ) as identity:
            assert identity.store != ffi.NULL
            assert (
                bytes(ffi.buffer(identity.leaf.pbCertEncoded, identity.leaf.cbCertEncoded))
                == rsa_leaf.cert_der
            )
            assert identity.leaf.hCertStore != ffi.NULL
            assert _acquire(identity) == 0

    def test_a_certificate_without_its_key_is_refused(self, rsa_leaf: Identity) -> None:
        # The control for the test above: SChannel does look for the key.
        with load_identity(rsa_leaf.certificates(), rsa_leaf.private_key()) as identity:
            bare = lib.CertCreateCertificateContext(
                lib.X509_ASN_ENCODING, rsa_leaf.cert_der, len(rsa_leaf.cert_der)
            )
            assert bare != ffi.NULL
            try:
                identity.leaf, real = bare, identity.leaf
                assert _acquire(identity) != 0
            finally:
                identity.leaf = real
                lib.CertFreeCertificateContext(bare)

    def test_der_key(self, rsa_leaf: Identity) -> None:
        key = PrivateKey.from_buffer(rsa_leaf.key_bytes(encoding="der"))
        with load_identity(rsa_leaf.certificates(), key) as identity:
            assert _acquire(identity) == 0

    def test_leaf_store_holds_the_chain(self, rsa_leaf: Identity) -> None:
        with load_identity(rsa_leaf.certificates(), rsa_leaf.private_key()) as identity:
            assert peer_chain(identity.leaf) == rsa_leaf.chain_der

    def test_key_is_deleted_on_close(self, rsa_leaf: Identity) -> None:
        identity = load_identity(rsa_leaf.certificates(), rsa_leaf.private_key())
        assert identity.key.container.startswith("tlsapi-")
        assert _key_exists(identity.key)
        identity.close()
        assert identity.closed
        assert not _key_exists(identity.key)
        identity.close()  # idempotent

    def test_key_is_deleted_when_collected(self, rsa_leaf: Identity) -> None:
        identity = load_identity(rsa_leaf.certificates(), rsa_leaf.private_key())
        key = identity.key
        assert _key_exists(key)
        del identity
        gc.collect()
        assert not _key_exists(key)

    def test_empty_chain(self, rsa_leaf: Identity) -> None:
        with pytest.raises(ConfigurationError, match="empty"):
            load_identity((), rsa_leaf.private_key())


class TestCngImport:
    """The CNG path real Windows takes; under Wine its NCrypt refuses PKCS#8 (checked)."""

    @pytest.mark.parametrize("kind", ["rsa", "ec"])
    def test_named_cng_key(self, rsa_leaf: Identity, ec_pki: PKI, kind: str) -> None:
        from tlsapi_schannel._keys import _import_cng, decrypt_key

        leaf = rsa_leaf if kind == "rsa" else ec_pki.issue()
        plain = decrypt_key(leaf.private_key())
        if WINE is not None:
            with pytest.raises(ConfigurationError, match="Software Key Storage Provider"):
                _import_cng(plain)
            pytest.skip(f"Wine {WINE}'s NCrypt cannot import PKCS#8 keys (refusal checked)")
        key = _import_cng(plain)
        try:
            assert key.container.startswith("tlsapi-") and key.provider_type == 0
            assert _key_exists(key)
        finally:
            key.close()
        assert not _key_exists(key)


class TestEncryptedKeys:
    @pytest.mark.parametrize("key_format", ["pkcs8", "pkcs1"])
    def test_encrypted_key(self, rsa_leaf: Identity, key_format: str) -> None:
        key = rsa_leaf.private_key(PASSWORD, key_format=key_format)
        assert key.is_encrypted
        with load_identity(rsa_leaf.certificates(), key) as identity:
            assert _acquire(identity) == 0

    def test_encrypted_der_pkcs8(self, rsa_leaf: Identity) -> None:
        key = PrivateKey.from_buffer(
            rsa_leaf.key_bytes(b"secret", encoding="der"), password=b"secret"
        )
        with load_identity(rsa_leaf.certificates(), key) as identity:
            assert _acquire(identity) == 0

    def test_password_callback(self, rsa_leaf: Identity) -> None:
        calls: list[int] = []

        def password() -> str:
            calls.append(1)
            return PASSWORD

        key = PrivateKey.from_buffer(rsa_leaf.key_bytes(PASSWORD), password=password)
        with load_identity(rsa_leaf.certificates(), key):
            assert calls == [1]

    @pytest.mark.parametrize("key_format", ["pkcs8", "pkcs1"])
    def test_wrong_password(self, rsa_leaf: Identity, key_format: str) -> None:
        encrypted = rsa_leaf.key_bytes(PASSWORD, key_format=key_format)
        key = PrivateKey.from_buffer(encrypted, password="not the password")
        with pytest.raises(ConfigurationError, match="wrong password") as info:
            load_identity(rsa_leaf.certificates(), key)
        assert isinstance(info.value, TLSError)

    def test_missing_password(self, rsa_leaf: Identity) -> None:
        key = PrivateKey.from_buffer(rsa_leaf.key_bytes(PASSWORD))
        with pytest.raises(ConfigurationError, match="no password"):
            load_identity(rsa_leaf.certificates(), key)

    def test_many_wrong_passwords_never_load(self, rsa_leaf: Identity) -> None:
        # Padding can look right by chance (1 in 256); the DER check catches the rest.
        encrypted = rsa_leaf.key_bytes(PASSWORD)
        rng = random.Random(9)
        for _ in range(40):
            guess = bytes(rng.randrange(33, 127) for _ in range(8))
            with pytest.raises(ConfigurationError):
                load_identity(
                    rsa_leaf.certificates(), PrivateKey.from_buffer(encrypted, password=guess)
                )


class TestMismatch:
    def test_key_of_another_certificate(self, rsa_pki: PKI, rsa_leaf: Identity) -> None:
        other = rsa_pki.issue()
        with pytest.raises(ConfigurationError, match="does not match the certificate"):
            load_identity(rsa_leaf.certificates(), other.private_key())

    def test_ec_key_for_an_rsa_certificate(self, ec_pki: PKI, rsa_leaf: Identity) -> None:
        with pytest.raises(ConfigurationError, match="does not match the certificate"):
            load_identity(rsa_leaf.certificates(), ec_pki.issue().private_key())

    def test_ed25519_key_is_refused(self, rsa_pki: PKI) -> None:
        leaf = rsa_pki.issue(key_type=KeyType.ED25519)
        with pytest.raises(ConfigurationError, match="Ed25519"):
            load_identity(leaf.certificates(), leaf.private_key())

    def test_garbage_certificate(self, rsa_leaf: Identity) -> None:
        broken = Certificate(b"\x30\x03\x02\x01\x00")
        with pytest.raises(ConfigurationError):
            load_identity((broken,), rsa_leaf.private_key())


class TestEcdsa:
    @pytest.mark.parametrize("key_format", ["pkcs8", "sec1"])
    def test_ecdsa_identity(self, ec_pki: PKI, key_format: str) -> None:
        leaf = ec_pki.issue(eku=("server", "client"))
        key = leaf.private_key(key_format=key_format)
        if WINE is not None:
            with pytest.raises(ConfigurationError, match=f"Wine {WINE}.*RSA") as info:
                load_identity(leaf.certificates(), key)
            assert "Real Windows" in str(info.value)
            pytest.skip(
                f"Wine {WINE}'s schannel reads private keys only from the CAPI RSA provider: "
                "no ECDSA identity (refused with ConfigurationError, checked above)"
            )
        with load_identity(leaf.certificates(), key) as identity:
            assert _acquire(identity) == 0

    def test_encrypted_sec1_wrong_password(self, ec_pki: PKI) -> None:
        # Decryption comes before any import: the same error under Wine and Windows.
        leaf = ec_pki.issue()
        key = PrivateKey.from_buffer(leaf.key_bytes(PASSWORD, key_format="sec1"), password="nope")
        with pytest.raises(ConfigurationError, match="wrong password"):
            load_identity(leaf.certificates(), key)


class TestPeerChain:
    def test_order_is_rebuilt_from_the_leaf(self, rsa_pki: PKI) -> None:
        inner = rsa_pki.make_intermediate()
        leaf = rsa_pki.issue(issuer=inner)
        chain = leaf.chain_der
        with load_identity(leaf.certificates(), leaf.private_key()) as identity:
            assert peer_chain(identity.leaf) == chain
            # A certificate the chain does not reach follows it.
            extra = rsa_pki.issue().cert_der
            assert lib.CertAddEncodedCertificateToStore(
                identity.store, lib.X509_ASN_ENCODING, extra, len(extra),
                lib.CERT_STORE_ADD_ALWAYS, ffi.NULL,
            )  # fmt: skip
            assert peer_chain(identity.leaf) == [*chain, extra]
