"""Certificate, PrivateKey and TrustStore: loading from files and buffers, and every bad input."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import tlsapi
from tlsapi import Certificate, ConfigurationError, PrivateKey, TrustStore
from tlsapi.testing import PKI, KeyType

SECRET = b"s3cret"


def _strip_armour(pem: bytes) -> bytes:
    return b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))


BAD_CERTIFICATE_DATA = {
    "empty": b"",
    "whitespace": b"  \n\t\n",
    "text": b"this is not a certificate",
    "no-end": b"-----BEGIN CERTIFICATE-----\nMIIB\n",
    "bad-base64": b"-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
    "empty-block": b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    "not-der-inside": b"-----BEGIN CERTIFICATE-----\n"
    + base64.b64encode(b"hello world")
    + b"\n-----END CERTIFICATE-----\n",
    "der-garbage": b"\x30\x82\xff\xff\x00",
    "random-binary": bytes(range(1, 200)),
}


class TestCertificate:
    def test_from_pem(self, pki: PKI) -> None:
        certificate = Certificate.from_buffer(pki.server_identity.cert_pem)
        assert certificate.der == pki.server_identity.cert_der
        assert certificate.source is None

    def test_from_der(self, pki: PKI) -> None:
        certificate = Certificate.from_buffer(pki.server_identity.cert_der)
        assert certificate.der == pki.server_identity.cert_der

    def test_pem_round_trip(self, pki: PKI) -> None:
        certificate = Certificate.from_buffer(pki.server_identity.cert_der)
        assert Certificate.from_buffer(certificate.pem) == certificate
        assert certificate.pem.startswith(b"-----BEGIN CERTIFICATE-----")

    @pytest.mark.parametrize("kind", ["str", "bytearray", "memoryview"])
    def test_other_buffer_types(self, pki: PKI, kind: str) -> None:
        pem = pki.server_identity.cert_pem
        data = {"str": pem.decode(), "bytearray": bytearray(pem), "memoryview": memoryview(pem)}
        assert Certificate.from_buffer(data[kind]).der == pki.server_identity.cert_der  # type: ignore[arg-type]

    def test_crlf_and_surrounding_text(self, pki: PKI) -> None:
        pem = pki.server_identity.cert_pem.replace(b"\n", b"\r\n")
        data = b"Certificate:\n    Data: (openssl x509 -text output)\n" + pem + b"\ntrailing\n"
        assert Certificate.from_buffer(data).der == pki.server_identity.cert_der

    def test_from_file(self, pki: PKI, tmp_path: Path) -> None:
        files = pki.server_identity.write(tmp_path)
        certificate = Certificate.from_file(files.cert)
        assert certificate.der == pki.server_identity.cert_der
        assert certificate.source == str(files.cert)
        assert str(files.cert) in repr(certificate)

    def test_from_der_file(self, pki: PKI, tmp_path: Path) -> None:
        path = tmp_path / "cert.der"
        path.write_bytes(pki.server_identity.cert_der)
        assert Certificate.from_file(str(path)).der == pki.server_identity.cert_der

    def test_missing_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.pem"
        with pytest.raises(ConfigurationError, match=r"nope\.pem"):
            Certificate.from_file(missing)

    def test_directory_instead_of_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError):
            Certificate.from_file(tmp_path)

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "empty.pem"
        path.write_bytes(b"")
        with pytest.raises(ConfigurationError, match="empty"):
            Certificate.from_file(path)

    @pytest.mark.parametrize(
        "data", list(BAD_CERTIFICATE_DATA.values()), ids=list(BAD_CERTIFICATE_DATA)
    )
    def test_bad_buffer(self, data: bytes) -> None:
        with pytest.raises(ConfigurationError) as info:
            Certificate.from_buffer(data)
        assert str(info.value)

    @pytest.mark.parametrize(
        "data", list(BAD_CERTIFICATE_DATA.values()), ids=list(BAD_CERTIFICATE_DATA)
    )
    def test_bad_file(self, data: bytes, tmp_path: Path) -> None:
        path = tmp_path / "bad.pem"
        path.write_bytes(data)
        with pytest.raises(ConfigurationError):
            Certificate.from_file(path)

    def test_truncated_der(self, pki: PKI) -> None:
        der = pki.server_identity.cert_der
        for cut in (1, 10, len(der) // 2, len(der) - 1):
            with pytest.raises(ConfigurationError):
                Certificate.from_buffer(der[:cut])

    def test_der_with_trailing_garbage(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError):
            Certificate.from_buffer(pki.server_identity.cert_der + b"\x00\x01")

    def test_key_is_not_a_certificate(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError, match="CERTIFICATE"):
            Certificate.from_buffer(pki.server_identity.key_pem)

    def test_two_certificates_need_chain_from_buffer(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError, match="chain"):
            Certificate.from_buffer(pki.server_identity.chain_pem)

    def test_not_bytes(self) -> None:
        with pytest.raises(ConfigurationError):
            Certificate.from_buffer(12345)  # type: ignore[arg-type]

    def test_equality_and_hash(self, pki: PKI) -> None:
        a = Certificate.from_buffer(pki.server_identity.cert_pem)
        b = Certificate.from_buffer(pki.server_identity.cert_der)
        assert a == b
        assert hash(a) == hash(b)
        assert a != Certificate.from_buffer(pki.root_pem)
        assert a != pki.server_identity.cert_der


class TestCertificateChain:
    def test_chain_from_pem(self, pki: PKI) -> None:
        chain = Certificate.chain_from_buffer(pki.server_identity.chain_pem)
        assert [c.der for c in chain] == pki.server_identity.chain_der

    def test_chain_from_concatenated_der(self, pki: PKI) -> None:
        chain = Certificate.chain_from_buffer(b"".join(pki.server_identity.chain_der))
        assert [c.der for c in chain] == pki.server_identity.chain_der

    def test_chain_from_file(self, pki: PKI, tmp_path: Path) -> None:
        files = pki.server_identity.write(tmp_path)
        chain = Certificate.chain_from_file(files.chain)
        assert [c.der for c in chain] == pki.server_identity.chain_der
        assert all(c.source == str(files.chain) for c in chain)

    def test_chain_with_a_key_in_between(self, pki: PKI) -> None:
        identity = pki.server_identity
        data = identity.cert_pem + identity.key_pem + pki.intermediate_pem
        assert [c.der for c in Certificate.chain_from_buffer(data)] == identity.chain_der

    def test_single_certificate_chain(self, pki: PKI) -> None:
        assert len(Certificate.chain_from_buffer(pki.root_pem)) == 1

    @pytest.mark.parametrize(
        "data", list(BAD_CERTIFICATE_DATA.values()), ids=list(BAD_CERTIFICATE_DATA)
    )
    def test_bad_chain(self, data: bytes) -> None:
        with pytest.raises(ConfigurationError):
            Certificate.chain_from_buffer(data)

    def test_one_broken_block_spoils_the_chain(self, pki: PKI) -> None:
        broken = b"-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n"
        with pytest.raises(ConfigurationError):
            Certificate.chain_from_buffer(pki.server_identity.cert_pem + broken)

    def test_missing_chain_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError):
            Certificate.chain_from_file(tmp_path / "missing.pem")


KEY_FORMATS = [
    (KeyType.ECDSA_P256, "pkcs8"),
    (KeyType.ECDSA_P256, "sec1"),
    (KeyType.RSA_2048, "pkcs8"),
    (KeyType.RSA_2048, "pkcs1"),
    (KeyType.ED25519, "pkcs8"),
]


@pytest.fixture(scope="module")
def identities() -> dict[KeyType, PKI]:
    return {
        key_type: PKI(key_type)
        for key_type in (KeyType.ECDSA_P256, KeyType.RSA_2048, KeyType.ED25519)
    }


class TestPrivateKey:
    @pytest.mark.parametrize(("key_type", "key_format"), KEY_FORMATS, ids=str)
    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_unencrypted(
        self, identities: dict[KeyType, PKI], key_type: KeyType, key_format: str, encoding: str
    ) -> None:
        data = identities[key_type].server_identity.key_bytes(None, key_format, encoding)
        key = PrivateKey.from_buffer(data)
        assert not key.is_encrypted
        assert key.is_pem == (encoding == "pem")
        assert key.data == data
        assert key.password_bytes() is None

    @pytest.mark.parametrize(("key_type", "key_format"), KEY_FORMATS, ids=str)
    def test_encrypted_pem(
        self, identities: dict[KeyType, PKI], key_type: KeyType, key_format: str
    ) -> None:
        data = identities[key_type].server_identity.key_bytes(SECRET, key_format)
        key = PrivateKey.from_buffer(data, password=SECRET)
        assert key.is_encrypted
        assert key.password_bytes() == SECRET

    def test_encrypted_pkcs8_der(self, pki: PKI) -> None:
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET, "pkcs8", "der"), SECRET)
        assert key.is_encrypted
        assert not key.is_pem

    @pytest.mark.parametrize(
        "password",
        [SECRET, SECRET.decode(), lambda: SECRET, SECRET.decode, bytearray(SECRET)],
        ids=["bytes", "str", "callable-bytes", "callable-str", "bytearray"],
    )
    def test_password_kinds(self, pki: PKI, password: object) -> None:
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=password)  # type: ignore[arg-type]
        assert key.password_bytes() == SECRET

    def test_unicode_password_is_utf8(self, pki: PKI) -> None:
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes("pässwörd"), password="pässwörd")
        assert key.password_bytes() == "pässwörd".encode()

    def test_callback_only_called_when_needed(self, pki: PKI) -> None:
        calls: list[int] = []

        def ask() -> bytes:
            calls.append(1)
            return SECRET

        plain = PrivateKey.from_buffer(pki.server_identity.key_pem, password=ask)
        assert plain.password_bytes() is None
        assert calls == []
        encrypted = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=ask)
        assert calls == []  # not at construction either
        assert encrypted.password_bytes() == SECRET
        assert calls == [1]

    def test_missing_password(self, pki: PKI) -> None:
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET))
        with pytest.raises(ConfigurationError, match="password"):
            key.password_bytes()

    def test_callback_raising(self, pki: PKI) -> None:
        def ask() -> bytes:
            raise RuntimeError("no tty")

        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=ask)
        with pytest.raises(ConfigurationError) as info:
            key.password_bytes()
        assert isinstance(info.value.__cause__, RuntimeError)

    def test_callback_returning_garbage(self, pki: PKI) -> None:
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=lambda: 42)  # type: ignore[arg-type,return-value]
        with pytest.raises(ConfigurationError):
            key.password_bytes()

    @pytest.mark.parametrize("password", [42, 4.2, ["s3cret"]], ids=str)
    def test_password_of_wrong_type(self, pki: PKI, password: object) -> None:
        with pytest.raises(ConfigurationError):
            PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=password)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "password",
        ["pw\ud800", "\udcff", b"pw\x00", "pw\x00", bytearray(b"\x00pw")],
        ids=["lone-surrogate", "surrogateescape", "nul-bytes", "nul-str", "nul-bytearray"],
    )
    def test_unusable_password_given_directly(self, pki: PKI, password: bytes | str) -> None:
        # Refused when the key is made, whatever the backend.
        with pytest.raises(ConfigurationError, match=r"UTF-8|NUL") as info:
            PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=password)
        assert info.value.__cause__ is None

    @pytest.mark.parametrize(
        "password",
        ["pw\ud800", "\udcff", b"pw\x00", "pw\x00", b"\x00"],
        ids=["lone-surrogate", "surrogateescape", "nul-bytes", "nul-str", "only-nul"],
    )
    def test_unusable_password_from_a_callable(self, pki: PKI, password: bytes | str) -> None:
        key = PrivateKey.from_buffer(
            pki.server_identity.key_bytes(SECRET), password=lambda: password
        )
        with pytest.raises(ConfigurationError, match=r"callback returned.*(UTF-8|NUL)"):
            key.password_bytes()

    def test_surrogate_message_names_the_position(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError, match="position 3"):
            PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password="abc\udfff")

    def test_non_ascii_str_buffer(self) -> None:
        # PEM is ASCII: a str with anything else is a ConfigurationError, not UnicodeEncodeError.
        for make in (Certificate.from_buffer, PrivateKey.from_buffer, TrustStore.from_buffer):
            with pytest.raises(ConfigurationError, match="ASCII"):
                make("-----BEGIN CERTIFICATE-----\n\u00e9\n")  # type: ignore[arg-type]

    def test_from_file(self, pki: PKI, tmp_path: Path) -> None:
        files = pki.server_identity.write(tmp_path)
        key = PrivateKey.from_file(files.key)
        assert key.source == str(files.key)
        assert key.data == pki.server_identity.key_pem

    def test_encrypted_from_file(self, pki: PKI, tmp_path: Path) -> None:
        path = tmp_path / "key.pem"
        path.write_bytes(pki.server_identity.key_bytes(SECRET))
        key = PrivateKey.from_file(path, password=SECRET)
        assert key.is_encrypted
        assert key.password_bytes() == SECRET

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match=r"missing-key\.pem"):
            PrivateKey.from_file(tmp_path / "missing-key.pem")

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "key.pem"
        path.write_bytes(b"\n")
        with pytest.raises(ConfigurationError, match="empty"):
            PrivateKey.from_file(path)

    @pytest.mark.parametrize(
        "data",
        [
            b"",
            b"not a key",
            b"-----BEGIN PRIVATE KEY-----\n",
            b"-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN PRIVATE KEY-----\n"
            + base64.b64encode(b"junk")
            + b"\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n",
            b"\x30\x03\x02\x01",
            b"\x04\x05hello",
        ],
        ids=[
            "empty",
            "text",
            "no-end",
            "bad-base64",
            "not-der",
            "public-key",
            "truncated-der",
            "not-sequence",
        ],
    )
    def test_bad_buffer(self, data: bytes) -> None:
        with pytest.raises(ConfigurationError) as info:
            PrivateKey.from_buffer(data)
        assert str(info.value)

    def test_certificate_is_not_a_key(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError, match="private key"):
            PrivateKey.from_buffer(pki.server_identity.cert_pem)

    def test_two_keys(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError):
            PrivateKey.from_buffer(pki.server_identity.key_pem + pki.client_identity.key_pem)

    def test_key_next_to_its_certificate(self, pki: PKI) -> None:
        # A combined PEM file (cert + key), as many servers keep them.
        key = PrivateKey.from_buffer(pki.server_identity.chain_pem + pki.server_identity.key_pem)
        assert not key.is_encrypted

    def test_truncated_der(self, pki: PKI) -> None:
        der = pki.server_identity.key_bytes(None, "pkcs8", "der")
        with pytest.raises(ConfigurationError):
            PrivateKey.from_buffer(der[: len(der) // 2])

    def test_equality(self, pki: PKI) -> None:
        a = PrivateKey.from_buffer(pki.server_identity.key_pem)
        b = PrivateKey.from_buffer(pki.server_identity.key_pem)
        assert a == b
        assert hash(a) == hash(b)
        assert a != PrivateKey.from_buffer(pki.client_identity.key_pem)

    def test_repr_hides_the_password(self, pki: PKI) -> None:
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=SECRET)
        assert SECRET.decode() not in repr(key)


class TestTrustStore:
    def test_system(self) -> None:
        store = TrustStore.system()
        assert store.is_system
        assert store.certificates == ()
        assert TrustStore.system() == store
        hash(store)

    def test_from_pem_buffer(self, pki: PKI, other_pki: PKI) -> None:
        store = TrustStore.from_buffer(pki.root_pem + other_pki.root_pem)
        assert not store.is_system
        assert store.certificates == (pki.root_der, other_pki.root_der)

    def test_from_der_buffer(self, pki: PKI) -> None:
        assert TrustStore.from_buffer(pki.root_der).certificates == (pki.root_der,)

    def test_from_concatenated_der(self, pki: PKI, other_pki: PKI) -> None:
        store = TrustStore.from_buffer(pki.root_der + other_pki.root_der)
        assert store.certificates == (pki.root_der, other_pki.root_der)

    def test_from_pem_file(self, pki: PKI, tmp_path: Path) -> None:
        path = pki.write_root(tmp_path)
        store = TrustStore.from_pem_file(path)
        assert store.certificates == (pki.root_der,)
        assert store.source == str(path)
        assert store == TrustStore.from_buffer(pki.root_pem)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match=r"no-such-bundle\.pem"):
            TrustStore.from_pem_file(tmp_path / "no-such-bundle.pem")

    def test_empty_file(self, tmp_path: Path) -> None:
        path = tmp_path / "bundle.pem"
        path.write_bytes(b"")
        with pytest.raises(ConfigurationError, match="empty"):
            TrustStore.from_pem_file(path)

    @pytest.mark.parametrize(
        "data", list(BAD_CERTIFICATE_DATA.values()), ids=list(BAD_CERTIFICATE_DATA)
    )
    def test_bad_buffer(self, data: bytes) -> None:
        with pytest.raises(ConfigurationError):
            TrustStore.from_buffer(data)

    def test_only_a_key(self, pki: PKI) -> None:
        with pytest.raises(ConfigurationError):
            TrustStore.from_buffer(pki.server_identity.key_pem)

    def test_system_bundle_file_loads(self) -> None:
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if not bundle.exists():
            pytest.skip("no Debian CA bundle on this system")
        assert len(TrustStore.from_pem_file(bundle).certificates) > 10

    def test_distinct_stores_differ(self, pki: PKI, other_pki: PKI) -> None:
        assert TrustStore.from_buffer(pki.root_pem) != TrustStore.from_buffer(other_pki.root_pem)
        assert TrustStore.from_buffer(pki.root_pem) != TrustStore.system()


class TestBackendPublishesTheTypes:
    def test_pep543_names(self, backend: tlsapi.Backend, pki: PKI) -> None:
        assert backend.certificate.from_buffer(pki.root_pem).der == pki.root_der
        assert not backend.private_key.from_buffer(pki.server_identity.key_pem).is_encrypted
        assert backend.trust_store.from_buffer(pki.root_pem).certificates == (pki.root_der,)
        assert issubclass(backend.client_context, tlsapi.ClientContext)
        assert issubclass(backend.server_context, tlsapi.ServerContext)

    def test_stripped_armour_is_refused(self, pki: PKI) -> None:
        # Base64 without the PEM lines is neither PEM nor DER.
        with pytest.raises(ConfigurationError):
            Certificate.from_buffer(_strip_armour(pki.root_pem))
