"""Fixtures for the NSS backend's own tests (what the shared conformance kit cannot know).

These tests need the tlsapi-nss distribution.  Where it is not installed
they are skipped with that reason; when TLSAPI_TEST_BACKENDS names nss, a
missing backend fails.
"""

from __future__ import annotations

import os

import pytest

import tlsapi

_requested = "nss" in os.environ.get("TLSAPI_TEST_BACKENDS", "").split(",")
try:
    import tlsapi_nss  # noqa: F401
except ImportError as exc:
    if _requested:
        raise
    pytest.skip(f"tlsapi-nss is not installed: {exc}", allow_module_level=True)


@pytest.fixture(scope="session")
def nss() -> tlsapi.Backend:
    return tlsapi.backend("nss")


@pytest.fixture(scope="session")
def stdlib() -> tlsapi.Backend:
    return tlsapi.backend("stdlib")
