"""Private keys: every format, encrypted with every kind of password, and the failures.

A key the library cannot use (wrong or missing password, not matching the
certificate) is a ConfigurationError from the context constructor, never a
handshake failure later.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Union

import pytest

from ..._backend import Backend, Capability
from ..._config import TLSConfiguration
from ..._credentials import Certificate, PrivateKey
from ..._errors import ConfigurationError
from ..pki import PKI, KeyType
from ._support import (
    Peers,
    connect_unless_unverifiable,
    make_pki,
    skip_if_lacks,
    skip_if_refuses_key_type,
    skip_unless_ec_pki,
)

__all__ = ["TestPrivateKeys"]

Password = Union[bytes, str, Callable[[], Union[bytes, str]]]

SECRET = "correct horse battery staple"
PASSWORDS: dict[str, Password] = {
    "bytes": SECRET.encode(),
    "str": SECRET,
    "callable-bytes": SECRET.encode,
    "callable-str": lambda: SECRET,
}
# (key type, key format, encoding) that exist.
FORMATS = [
    (KeyType.ECDSA_P256, "pkcs8", "pem"),
    (KeyType.ECDSA_P256, "sec1", "pem"),
    (KeyType.RSA_2048, "pkcs8", "pem"),
    (KeyType.RSA_2048, "pkcs1", "pem"),
]
DER_FORMATS = [
    (KeyType.ECDSA_P256, "pkcs8"),
    (KeyType.ECDSA_P256, "sec1"),
    (KeyType.RSA_2048, "pkcs8"),
    (KeyType.RSA_2048, "pkcs1"),
]


@pytest.fixture(scope="module")
def key_pkis() -> dict[KeyType, PKI]:
    return {key_type: make_pki(key_type, name=f"keys {key_type.name}") for key_type in KeyType}


def _server_with(
    peers: Peers, pki: PKI, key: PrivateKey, certificates: tuple[Certificate, ...] | None = None
) -> TLSConfiguration:
    certificates = certificates or pki.server_identity.certificates()
    return pki.server_config(certificate_chain=(certificates, key))


def _works(backend: Backend, pki: PKI, config: TLSConfiguration) -> None:
    """A server with ``config`` is accepted and serves pki's server certificate."""
    peers = Peers.for_backend(backend, pki)
    client, _ = connect_unless_unverifiable(peers, pki.key_type, server=config)
    assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]


def _require_server(backend: Backend, pki: PKI) -> None:
    skip_if_lacks(backend, Capability.SERVER, lambda: backend.server_context(pki.server_config()))


class TestPrivateKeys:
    @pytest.mark.parametrize("key_type", list(KeyType), ids=lambda k: k.name)
    def test_unencrypted_pkcs8(
        self, backend: Backend, key_pkis: dict[KeyType, PKI], key_type: KeyType
    ) -> None:
        pki = key_pkis[key_type]
        skip_if_refuses_key_type(backend, key_type, pki)
        _works(
            backend,
            pki,
            _server_with(Peers.for_backend(backend, pki), pki, pki.server_identity.private_key()),
        )

    @pytest.mark.parametrize(("key_type", "key_format", "encoding"), FORMATS, ids=str)
    @pytest.mark.parametrize("password", list(PASSWORDS.values()), ids=list(PASSWORDS))
    def test_encrypted_pem(
        self,
        *,
        backend: Backend,
        key_pkis: dict[KeyType, PKI],
        key_type: KeyType,
        key_format: str,
        encoding: str,
        password: Password,
    ) -> None:
        pki = key_pkis[key_type]
        _require_server(backend, pki)
        key = pki.server_identity.private_key(password, key_format, encoding)
        assert key.is_encrypted
        config = _server_with(Peers.for_backend(backend, pki), pki, key)
        skip_if_lacks(backend, Capability.ENCRYPTED_KEYS, lambda: backend.server_context(config))
        _works(backend, pki, config)

    @pytest.mark.parametrize(("key_type", "key_format"), DER_FORMATS, ids=str)
    def test_unencrypted_der(
        self, backend: Backend, key_pkis: dict[KeyType, PKI], key_type: KeyType, key_format: str
    ) -> None:
        pki = key_pkis[key_type]
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(None, key_format, "der"))
        _works(backend, pki, _server_with(Peers.for_backend(backend, pki), pki, key))

    def test_encrypted_pkcs8_der(self, backend: Backend, pki: PKI) -> None:
        key = PrivateKey.from_buffer(
            pki.server_identity.key_bytes(SECRET, "pkcs8", "der"), password=SECRET
        )
        assert key.is_encrypted
        config = _server_with(Peers.for_backend(backend, pki), pki, key)
        skip_if_lacks(backend, Capability.ENCRYPTED_KEYS, lambda: backend.server_context(config))
        _works(backend, pki, config)

    @pytest.mark.parametrize(
        ("key_type", "key_format"),
        [(KeyType.ECDSA_P256, "pkcs8"), (KeyType.ECDSA_P256, "sec1"), (KeyType.RSA_2048, "pkcs1")],
        ids=str,
    )
    def test_wrong_password(
        self, backend: Backend, key_pkis: dict[KeyType, PKI], key_type: KeyType, key_format: str
    ) -> None:
        pki = key_pkis[key_type]
        _require_server(backend, pki)
        data = pki.server_identity.key_bytes(SECRET, key_format)
        key = PrivateKey.from_buffer(data, password=b"not the password")
        with pytest.raises(ConfigurationError):
            backend.server_context(_server_with(Peers.for_backend(backend, pki), pki, key))

    @pytest.mark.parametrize("key_format", ["pkcs8", "sec1"])
    def test_missing_password(self, backend: Backend, pki: PKI, key_format: str) -> None:
        if key_format == "sec1":
            skip_unless_ec_pki(pki, "the SEC 1 key format")
        _require_server(backend, pki)
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET, key_format))
        with pytest.raises(ConfigurationError):
            backend.server_context(_server_with(Peers.for_backend(backend, pki), pki, key))

    def test_password_callback_raising(self, backend: Backend, pki: PKI) -> None:
        _require_server(backend, pki)

        def ask() -> bytes:
            raise KeyError("no terminal to ask on")

        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=ask)
        with pytest.raises(ConfigurationError):
            backend.server_context(_server_with(Peers.for_backend(backend, pki), pki, key))

    def test_password_callback_returning_garbage(self, backend: Backend, pki: PKI) -> None:
        _require_server(backend, pki)
        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=lambda: 42)  # type: ignore[arg-type,return-value]
        with pytest.raises(ConfigurationError):
            backend.server_context(_server_with(Peers.for_backend(backend, pki), pki, key))

    def test_callback_not_called_for_a_plain_key(self, backend: Backend, pki: PKI) -> None:
        calls: list[int] = []

        def ask() -> bytes:
            calls.append(1)
            return b"unused"

        key = PrivateKey.from_buffer(pki.server_identity.key_pem, password=ask)
        _works(backend, pki, _server_with(Peers.for_backend(backend, pki), pki, key))
        assert calls == []

    def test_callback_called_for_an_encrypted_key(self, backend: Backend, pki: PKI) -> None:
        calls: list[int] = []

        def ask() -> str:
            calls.append(1)
            return SECRET

        key = PrivateKey.from_buffer(pki.server_identity.key_bytes(SECRET), password=ask)
        config = _server_with(Peers.for_backend(backend, pki), pki, key)
        skip_if_lacks(backend, Capability.ENCRYPTED_KEYS, lambda: backend.server_context(config))
        _works(backend, pki, config)
        assert calls, "the password callback was never called"

    def test_key_does_not_match_certificate(self, backend: Backend, pki: PKI) -> None:
        stranger = pki.issue().private_key()
        config = _server_with(Peers.for_backend(backend, pki), pki, stranger)
        if Capability.SERVER in backend.capabilities:
            with pytest.raises(ConfigurationError):
                backend.server_context(config)
        if Capability.CLIENT_CERTIFICATES in backend.capabilities:
            client = pki.client_config(
                certificate_chain=(pki.client_identity.certificates(), stranger)
            )
            with pytest.raises(ConfigurationError):
                backend.client_context(client)

    def test_key_of_another_type(
        self, backend: Backend, pki: PKI, key_pkis: dict[KeyType, PKI]
    ) -> None:
        rsa_key = key_pkis[KeyType.RSA_2048].server_identity.private_key()
        if Capability.SERVER in backend.capabilities:
            with pytest.raises(ConfigurationError):
                backend.server_context(_server_with(Peers.for_backend(backend, pki), pki, rsa_key))

    def test_chain_in_wrong_order(self, backend: Backend, pki: PKI) -> None:
        # The intermediate first: its key is not ours, so the chain is unusable.
        identity = pki.server_identity
        leaf, intermediate = identity.certificates()
        config = pki.server_config(certificate_chain=((intermediate, leaf), identity.private_key()))
        if Capability.SERVER in backend.capabilities:
            with pytest.raises(ConfigurationError):
                backend.server_context(config)

    def test_credentials_from_files(self, backend: Backend, pki: PKI, tmp_path: Path) -> None:
        files = pki.server_identity.write(tmp_path)
        encrypted = tmp_path / "encrypted-key.pem"
        encrypted.write_bytes(pki.server_identity.key_bytes(SECRET))
        chain = Certificate.chain_from_file(files.chain)
        _works(
            backend,
            pki,
            pki.server_config(certificate_chain=(chain, PrivateKey.from_file(files.key))),
        )
        config = pki.server_config(
            certificate_chain=(chain, PrivateKey.from_file(encrypted, password=SECRET))
        )
        skip_if_lacks(backend, Capability.ENCRYPTED_KEYS, lambda: backend.server_context(config))
        _works(backend, pki, config)

    def test_der_certificates(self, backend: Backend, pki: PKI) -> None:
        certificates = tuple(Certificate.from_buffer(der) for der in pki.server_identity.chain_der)
        config = pki.server_config(
            certificate_chain=(certificates, pki.server_identity.private_key())
        )
        _works(backend, pki, config)
