"""Fixtures for the GnuTLS backend's own tests (what the shared conformance kit cannot know).

These tests need the tlsapi-gnutls distribution.  Where it is not installed
(another OS, a checkout without the backend) they are skipped with that
reason; when TLSAPI_TEST_BACKENDS names gnutls, a missing backend fails.
"""

from __future__ import annotations

import os

import pytest

import tlsapi

_requested = "gnutls" in os.environ.get("TLSAPI_TEST_BACKENDS", "").split(",")
try:
    import tlsapi_gnutls  # noqa: F401
except ImportError as exc:
    if _requested:
        raise
    pytest.skip(f"tlsapi-gnutls is not installed: {exc}", allow_module_level=True)


@pytest.fixture(scope="session")
def gnutls() -> tlsapi.Backend:
    return tlsapi.backend("gnutls")
