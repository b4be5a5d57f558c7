"""inject_into_ssl() / extract_from_ssl(): the whole process switched, and put back exactly."""

from __future__ import annotations

import ssl
import sys
from collections.abc import Iterator

import pytest

import tlsapi


@pytest.fixture
def restore() -> Iterator[None]:
    yield
    tlsapi.extract_from_ssl()


def _library_copies() -> dict[str, object]:
    pytest.importorskip("urllib3")
    pytest.importorskip("requests")
    pytest.importorskip("aiohttp")
    import aiohttp.connector
    import requests.adapters
    import urllib3.util.ssl_

    return {
        "ssl": ssl.SSLContext,
        "urllib3": urllib3.util.ssl_.SSLContext,
        "requests": getattr(requests.adapters, "_preloaded_ssl_context", None),
        "aiohttp verified": getattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", None),
        "aiohttp unverified": getattr(aiohttp.connector, "_SSL_CONTEXT_UNVERIFIED", None),
    }


def test_inject_reaches_library_copies_and_extract_restores(
    backend: tlsapi.Backend, restore: None
) -> None:
    before = _library_copies()
    tlsapi.inject_into_ssl(backend)
    tlsapi.inject_into_ssl(backend)  # idempotent
    after = _library_copies()
    assert issubclass(after["ssl"], tlsapi.SSLContext)  # type: ignore[arg-type]
    assert after["urllib3"] is after["ssl"]
    for name in ("requests", "aiohttp verified", "aiohttp unverified"):
        if before[name] is not None:
            assert isinstance(after[name], tlsapi.SSLContext), name
            assert after[name].backend is backend  # type: ignore[attr-defined]
    made = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert isinstance(made, tlsapi.SSLContext) and made.backend is backend
    from urllib3.util.ssl_ import create_urllib3_context

    assert isinstance(create_urllib3_context(), tlsapi.SSLContext)
    tlsapi.extract_from_ssl()
    assert _library_copies() == before  # the very same objects
    assert type(ssl.create_default_context()) is ssl.SSLContext
    tlsapi.extract_from_ssl()  # a second extract changes nothing
    assert _library_copies() == before


def test_switching_backend(restore: None) -> None:
    names = [b.name for b in tlsapi.available_backends()]
    original = ssl.SSLContext
    for name in names:
        tlsapi.inject_into_ssl(name)
        assert ssl.create_default_context().backend.name == name  # type: ignore[attr-defined]
    tlsapi.extract_from_ssl()
    assert ssl.SSLContext is original


def test_library_imported_while_injected_is_put_back(restore: None) -> None:
    pytest.importorskip("urllib3")
    saved = {k: v for k, v in sys.modules.items() if k.startswith("urllib3")}
    for name in saved:
        del sys.modules[name]
    try:
        tlsapi.inject_into_ssl()
        import urllib3.util.ssl_

        assert issubclass(urllib3.util.ssl_.SSLContext, tlsapi.SSLContext)
        tlsapi.extract_from_ssl()
        assert urllib3.util.ssl_.SSLContext is ssl.SSLContext
    finally:
        for name in [k for k in sys.modules if k.startswith("urllib3")]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(tlsapi.ConfigurationError):
        tlsapi.inject_into_ssl("no-such-backend")
    assert not issubclass(ssl.SSLContext, tlsapi.SSLContext)
