"""TLSConfiguration: defaults, validation of every field, immutability, hashing, update()."""

from __future__ import annotations

import dataclasses
import ssl
from typing import Any

import pytest

from tlsapi import (
    DEFAULT_CIPHER_LIST,
    CipherSuite,
    ConfigurationError,
    NextProtocol,
    TLSConfiguration,
    TLSError,
    TLSVersion,
    TrustStore,
)
from tlsapi.testing import PKI


def _callback(*_: object) -> None:
    return None


class TestDefaults:
    def test_secure_defaults(self) -> None:
        config = TLSConfiguration()
        assert config.validate_certificates is True
        assert config.certificate_chain is None
        assert config.ciphers == DEFAULT_CIPHER_LIST
        assert config.inner_protocols == ()
        assert config.lowest_supported_version is TLSVersion.TLSv1_2
        assert config.highest_supported_version is TLSVersion.MAXIMUM_SUPPORTED
        assert config.trust_store is None
        assert config.sni_callback is None

    def test_default_ciphers_are_forward_secret_aeads(self) -> None:
        for suite in DEFAULT_CIPHER_LIST:
            name = suite.name
            assert "GCM" in name or "CHACHA20" in name, name
            assert name.startswith(("TLS_AES_", "TLS_CHACHA20_", "TLS_ECDHE_")), name

    def test_keyword_only(self) -> None:
        with pytest.raises(TypeError):
            TLSConfiguration(True)  # type: ignore[misc]

    def test_unknown_keyword(self) -> None:
        with pytest.raises(TypeError):
            TLSConfiguration(verify=False)  # type: ignore[call-arg]


class TestImmutability:
    def test_frozen(self) -> None:
        config = TLSConfiguration()
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.validate_certificates = False  # type: ignore[misc]
        with pytest.raises(AttributeError):
            del config.ciphers  # type: ignore[misc]

    def test_sequences_become_tuples(self) -> None:
        config = TLSConfiguration(
            ciphers=[CipherSuite.TLS_AES_128_GCM_SHA256],  # type: ignore[arg-type]
            inner_protocols=[NextProtocol.H2],  # type: ignore[arg-type]
        )
        assert config.ciphers == (CipherSuite.TLS_AES_128_GCM_SHA256,)
        assert config.inner_protocols == (NextProtocol.H2,)
        hash(config)

    def test_generators_are_accepted(self) -> None:
        config = TLSConfiguration(ciphers=(c for c in DEFAULT_CIPHER_LIST))  # type: ignore[arg-type]
        assert config.ciphers == DEFAULT_CIPHER_LIST

    def test_hashable_and_equal(self, pki: PKI) -> None:
        chain = pki.server_identity.certificate_chain()
        a = TLSConfiguration(
            certificate_chain=chain, inner_protocols=(b"h2",), sni_callback=_callback
        )
        b = TLSConfiguration(
            certificate_chain=pki.server_identity.certificate_chain(),
            inner_protocols=(NextProtocol.H2,),
            sni_callback=_callback,
        )
        assert a == b
        assert hash(a) == hash(b)
        assert len({a, b, TLSConfiguration()}) == 2
        cache = {a: "context"}
        assert cache[b] == "context"

    def test_different_values_differ(self) -> None:
        assert TLSConfiguration() != TLSConfiguration(inner_protocols=(NextProtocol.H2,))
        assert TLSConfiguration() != TLSConfiguration(highest_supported_version=TLSVersion.TLSv1_2)

    def test_hashable_with_trust_store(self, pki: PKI) -> None:
        config = TLSConfiguration(trust_store=pki.trust_store())
        assert hash(config) == hash(TLSConfiguration(trust_store=pki.trust_store()))
        hash(TLSConfiguration(trust_store=TrustStore.system()))


class TestUpdate:
    def test_returns_a_new_configuration(self) -> None:
        original = TLSConfiguration()
        changed = original.update(inner_protocols=(NextProtocol.HTTP1,))
        assert changed is not original
        assert changed.inner_protocols == (NextProtocol.HTTP1,)
        assert original.inner_protocols == ()
        assert changed.ciphers == original.ciphers

    def test_no_changes(self) -> None:
        original = TLSConfiguration(inner_protocols=(b"h2",))
        assert original.update() == original

    def test_validates_again(self) -> None:
        with pytest.raises(ConfigurationError):
            TLSConfiguration().update(ciphers=())
        with pytest.raises(ConfigurationError):
            TLSConfiguration().update(
                lowest_supported_version=TLSVersion.TLSv1_3,
                highest_supported_version=TLSVersion.TLSv1_2,
            )

    def test_normalises_again(self) -> None:
        config = TLSConfiguration().update(inner_protocols=[b"http/1.1"])
        assert config.inner_protocols == (NextProtocol.HTTP1,)

    def test_unknown_field(self) -> None:
        with pytest.raises(ConfigurationError, match="verify"):
            TLSConfiguration().update(verify=False)

    def test_many_fields_at_once(self, pki: PKI) -> None:
        config = TLSConfiguration().update(
            validate_certificates=False,
            trust_store=pki.trust_store(),
            highest_supported_version=TLSVersion.TLSv1_2,
        )
        assert config.validate_certificates is False
        assert config.trust_store == pki.trust_store()
        assert config.highest_supported_version is TLSVersion.TLSv1_2


BAD_VALUES: list[tuple[str, Any]] = [
    ("validate_certificates", 1),
    ("validate_certificates", "yes"),
    ("validate_certificates", None),
    ("ciphers", ()),
    ("ciphers", []),
    ("ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("ciphers", b"\x13\x01"),
    ("ciphers", 0x1301),
    ("ciphers", (1.5,)),
    ("ciphers", ("TLS_AES_128_GCM_SHA256",)),
    ("ciphers", (True,)),
    ("ciphers", (-1,)),
    ("ciphers", (0x10000,)),
    ("ciphers", (None,)),
    ("inner_protocols", "h2"),
    ("inner_protocols", b"h2"),
    ("inner_protocols", NextProtocol.H2),
    ("inner_protocols", ("h2",)),
    ("inner_protocols", (b"",)),
    ("inner_protocols", (b"x" * 256,)),
    ("inner_protocols", (b"h2", NextProtocol.H2)),
    ("inner_protocols", (b"same", b"same")),
    ("inner_protocols", tuple(b"%03d" % i + b"p" * 252 for i in range(300))),
    ("inner_protocols", (None,)),
    ("inner_protocols", 5),
    ("lowest_supported_version", "TLSv1.2"),
    ("lowest_supported_version", ssl.TLSVersion.TLSv1_2),
    ("lowest_supported_version", 0x0303),
    ("lowest_supported_version", None),
    ("highest_supported_version", "MAXIMUM_SUPPORTED"),
    ("lowest_supported_version", TLSVersion.MAXIMUM_SUPPORTED),
    ("highest_supported_version", TLSVersion.MINIMUM_SUPPORTED),
    ("trust_store", "/etc/ssl/certs/ca-certificates.crt"),
    ("trust_store", b"-----BEGIN CERTIFICATE-----"),
    ("sni_callback", "callback"),
    ("sni_callback", 42),
    ("certificate_chain", "cert.pem"),
    ("certificate_chain", ()),
    ("certificate_chain", ((), None)),
]


class TestValidation:
    @pytest.mark.parametrize(("field", "value"), BAD_VALUES, ids=lambda v: repr(v)[:40])
    def test_bad_value(self, field: str, value: Any) -> None:
        with pytest.raises(ConfigurationError) as info:
            TLSConfiguration(**{field: value})
        assert str(info.value)

    @pytest.mark.parametrize(
        ("lowest", "highest"),
        [
            (TLSVersion.TLSv1_3, TLSVersion.TLSv1_2),
            (TLSVersion.TLSv1_2, TLSVersion.TLSv1_1),
            (TLSVersion.TLSv1_1, TLSVersion.TLSv1),
        ],
        ids=str,
    )
    def test_empty_version_range(self, lowest: TLSVersion, highest: TLSVersion) -> None:
        with pytest.raises(ConfigurationError, match="empty"):
            TLSConfiguration(lowest_supported_version=lowest, highest_supported_version=highest)

    @pytest.mark.parametrize(
        ("lowest", "highest"),
        [
            (TLSVersion.TLSv1_2, TLSVersion.TLSv1_2),
            (TLSVersion.TLSv1_3, TLSVersion.TLSv1_3),
            (TLSVersion.MINIMUM_SUPPORTED, TLSVersion.MAXIMUM_SUPPORTED),
            (TLSVersion.MINIMUM_SUPPORTED, TLSVersion.TLSv1_2),
            (TLSVersion.TLSv1_3, TLSVersion.MAXIMUM_SUPPORTED),
        ],
        ids=str,
    )
    def test_good_version_range(self, lowest: TLSVersion, highest: TLSVersion) -> None:
        config = TLSConfiguration(
            lowest_supported_version=lowest, highest_supported_version=highest
        )
        assert config.lowest_supported_version is lowest

    def test_errors_are_value_errors(self) -> None:
        with pytest.raises(ValueError):
            TLSConfiguration(ciphers=())
        assert issubclass(ConfigurationError, TLSError)
        assert issubclass(ConfigurationError, ssl.SSLError)

    def test_message_names_the_field(self) -> None:
        for field, value in [("ciphers", ()), ("inner_protocols", "h2"), ("trust_store", "x")]:
            with pytest.raises(ConfigurationError) as info:
                TLSConfiguration(**{field: value})
            assert field in str(info.value), str(info.value)


class TestCiphers:
    def test_known_numbers_become_members(self) -> None:
        config = TLSConfiguration(ciphers=(0x1301, 0xC02B))
        assert config.ciphers == (
            CipherSuite.TLS_AES_128_GCM_SHA256,
            CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        )
        assert all(isinstance(c, CipherSuite) for c in config.ciphers)

    def test_unknown_numbers_stay_their_number(self) -> None:
        config = TLSConfiguration(ciphers=(0x7A7A, CipherSuite.TLS_AES_128_GCM_SHA256))
        assert config.ciphers[0] == 0x7A7A
        assert config.ciphers[0].name == "UNKNOWN_0x7A7A"  # a named pseudo-member

    def test_order_is_kept(self) -> None:
        suites = tuple(reversed(DEFAULT_CIPHER_LIST))
        assert TLSConfiguration(ciphers=suites).ciphers == suites

    def test_cipher_suite_numbers_are_iana(self) -> None:
        assert CipherSuite.TLS_AES_128_GCM_SHA256 == 0x1301
        assert CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 == 0xCCA8
        assert CipherSuite.from_number(0x7A7A) == 0x7A7A


class TestProtocols:
    def test_bytes_of_a_member_become_the_member(self) -> None:
        config = TLSConfiguration(inner_protocols=(b"h2", b"http/1.1"))
        assert config.inner_protocols == (NextProtocol.H2, NextProtocol.HTTP1)

    def test_unknown_bytes_stay_bytes(self) -> None:
        config = TLSConfiguration(inner_protocols=(bytearray(b"x-custom"),))
        assert config.inner_protocols == (b"x-custom",)
        assert type(config.inner_protocols[0]) is bytes

    def test_longest_allowed(self) -> None:
        TLSConfiguration(inner_protocols=(b"x" * 255,))

    def test_next_protocol_from_bytes(self) -> None:
        assert NextProtocol.from_bytes(b"h2") is NextProtocol.H2
        assert NextProtocol.from_bytes(b"x") == b"x"


class TestCertificateChain:
    def test_leaf_and_intermediates(self, pki: PKI) -> None:
        certificates, key = pki.server_identity.certificate_chain()
        config = TLSConfiguration(certificate_chain=(certificates, key))
        assert config.certificate_chain == (certificates, key)

    def test_single_certificate_is_wrapped(self, pki: PKI) -> None:
        leaf = pki.server_identity.certificate()
        key = pki.server_identity.private_key()
        config = TLSConfiguration(certificate_chain=(leaf, key))  # type: ignore[arg-type]
        assert config.certificate_chain == ((leaf,), key)

    def test_list_becomes_tuple(self, pki: PKI) -> None:
        certificates, key = pki.server_identity.certificate_chain()
        config = TLSConfiguration(certificate_chain=(list(certificates), key))  # type: ignore[arg-type]
        assert config.certificate_chain is not None
        assert isinstance(config.certificate_chain[0], tuple)
        hash(config)

    @pytest.mark.parametrize("shape", ["key-first", "no-key", "three", "bytes-cert", "bytes-key"])
    def test_bad_shapes(self, pki: PKI, shape: str) -> None:
        certificates, key = pki.server_identity.certificate_chain()
        chain: Any = {
            "key-first": (key, certificates),
            "no-key": (certificates,),
            "three": (certificates, key, key),
            "bytes-cert": ((pki.server_identity.cert_pem,), key),
            "bytes-key": (certificates, pki.server_identity.key_pem),
        }[shape]
        with pytest.raises(ConfigurationError):
            TLSConfiguration(certificate_chain=chain)
