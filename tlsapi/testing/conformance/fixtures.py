"""The fixtures the conformance suite uses (besides ``backend``, which the user supplies)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..pki import PKI, KeyType
from ._support import Peers

__all__ = ["other_pki", "peers", "pki", "rsa_pki"]


@pytest.fixture(scope="module")
def pki() -> Iterator[PKI]:
    """A fresh ECDSA P-256 PKI (root + intermediate) per test module."""
    yield PKI(KeyType.ECDSA_P256)


@pytest.fixture(scope="module")
def rsa_pki() -> Iterator[PKI]:
    """A fresh RSA-2048 PKI per test module (for ECDHE_RSA suites)."""
    yield PKI(KeyType.RSA_2048, name="tlsapi rsa test")


@pytest.fixture(scope="module")
def other_pki() -> Iterator[PKI]:
    """An unrelated PKI: nothing it issues is trusted by ``pki``'s configurations."""
    yield PKI(KeyType.ECDSA_P256, name="tlsapi untrusted test")


@pytest.fixture
def peers(backend: object, pki: PKI) -> Peers:
    """The backend against itself (or against stdlib for a side it lacks), with ``pki``."""
    return Peers.for_backend(backend, pki)  # type: ignore[arg-type]
