"""Fixtures for the whole suite: the backends under test and throwaway PKIs.

``backend`` runs a test once per available backend (ids are backend names);
``client_backend`` and ``server_backend`` together run it for every pair.
``TLSAPI_TEST_BACKENDS=stdlib,gnutls`` restricts the backends; naming one
that is not available fails the tests that use it (never a silent skip).
"""

from __future__ import annotations

import os

import pytest

import tlsapi
from tlsapi.testing.conformance.fixtures import other_pki, peers, pki, rsa_pki
from tlsapi.testing.conformance.sockets import loopback_tcp

__all__ = ["loopback_tcp", "other_pki", "peers", "pki", "rsa_pki"]

ENV_BACKENDS = "TLSAPI_TEST_BACKENDS"


def _backend_names() -> list[str]:
    requested = os.environ.get(ENV_BACKENDS, "").strip()
    if requested:
        return [name.strip() for name in requested.split(",") if name.strip()]
    return [b.name for b in tlsapi.available_backends()]


BACKEND_NAMES = _backend_names()
# No backend at all must fail loudly, not collect zero tests.
_PARAMS = BACKEND_NAMES or ["<none available>"]


def _resolve(name: str) -> tlsapi.Backend:
    try:
        return tlsapi.backend(name)
    except tlsapi.ConfigurationError as exc:
        pytest.fail(f"backend {name!r} under test is not usable: {exc}", pytrace=False)


@pytest.fixture(params=_PARAMS, ids=_PARAMS)
def backend(request: pytest.FixtureRequest) -> tlsapi.Backend:
    """Each backend under test in turn."""
    return _resolve(request.param)


@pytest.fixture(params=_PARAMS, ids=[f"client={n}" for n in _PARAMS])
def client_backend(request: pytest.FixtureRequest) -> tlsapi.Backend:
    """Each backend under test as the client (combine with ``server_backend``)."""
    return _resolve(request.param)


@pytest.fixture(params=_PARAMS, ids=[f"server={n}" for n in _PARAMS])
def server_backend(request: pytest.FixtureRequest) -> tlsapi.Backend:
    """Each backend under test as the server (combine with ``client_backend``)."""
    return _resolve(request.param)
