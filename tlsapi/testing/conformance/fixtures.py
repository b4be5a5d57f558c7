"""The fixtures the conformance suite uses (besides ``backend``, which the user supplies).

``pki`` and ``other_pki`` are ECDSA P-256 unless ``TLSAPI_TEST_PKI_KEY``
names another :class:`~tlsapi.testing.pki.KeyType` value (``rsa2048``,
``p256``, ``p384``, ``ed25519``).  The Wine session sets
``TLSAPI_TEST_PKI_KEY=rsa2048``: Wine's SChannel signs only with RSA keys
(it reads client keys from the legacy CAPI RSA provider), so the kit runs
there with RSA certificates, and the few tests that are about ECDSA
certificates in particular take their own ECDSA PKI or say why they skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ..pki import PKI, KeyType
from ._support import Peers

__all__ = ["ENV_PKI_KEY", "other_pki", "peers", "pki", "pki_key_type", "rsa_pki"]

ENV_PKI_KEY = "TLSAPI_TEST_PKI_KEY"


def pki_key_type() -> KeyType:
    """The key type of ``pki`` and ``other_pki``: ``TLSAPI_TEST_PKI_KEY``, else ECDSA P-256."""
    value = os.environ.get(ENV_PKI_KEY, "").strip()
    if not value:
        return KeyType.ECDSA_P256
    try:
        return KeyType(value.lower())
    except ValueError:
        choices = ", ".join(k.value for k in KeyType)
        raise pytest.UsageError(f"{ENV_PKI_KEY}={value!r} is not one of: {choices}") from None


@pytest.fixture(scope="module")
def pki() -> Iterator[PKI]:
    """A fresh PKI (root + intermediate) per test module: ECDSA P-256 unless TLSAPI_TEST_PKI_KEY says."""
    yield PKI(pki_key_type())


@pytest.fixture(scope="module")
def rsa_pki() -> Iterator[PKI]:
    """A fresh RSA-2048 PKI per test module (for ECDHE_RSA suites)."""
    yield PKI(KeyType.RSA_2048, name="tlsapi rsa test")


@pytest.fixture(scope="module")
def other_pki() -> Iterator[PKI]:
    """An unrelated PKI: nothing it issues is trusted by ``pki``'s configurations."""
    yield PKI(pki_key_type(), name="tlsapi untrusted test")


@pytest.fixture
def peers(backend: object, pki: PKI) -> Peers:
    """The backend against itself (or against stdlib for a side it lacks), with ``pki``."""
    return Peers.for_backend(backend, pki)  # type: ignore[arg-type]
