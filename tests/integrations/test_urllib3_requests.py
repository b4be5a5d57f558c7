"""urllib3 with tlsapi's ssl context, and requests through inject_into_ssl().

Servers: nginx, a backend's native server, and ``tlsapi serve`` in a subprocess.
"""

from __future__ import annotations

import hashlib
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _integ import UNKNOWN_CA, WRONG_HOST, Contexts, PKIFiles, Target, assert_refused

import tlsapi
from tlsapi.testing.peers._process import PeerProcess
from tlsapi.testing.pki import PKI

urllib3 = pytest.importorskip("urllib3")
requests = pytest.importorskip("requests")


def _pool(ctx: ssl.SSLContext, **kwargs: Any) -> Any:
    return urllib3.PoolManager(ssl_context=ctx, retries=False, **kwargs)


def test_urllib3(contexts: Contexts, target: Target) -> None:
    with _pool(contexts.client()) as http:
        small = http.request("GET", target.url("/"))
        large = http.request("GET", target.url("/large.bin"))
        info = http.request("GET", target.url("/info"))
    assert small.status == 200 and small.data == target.small_body
    assert large.status == 200 and len(large.data) == len(target.large_body)
    assert hashlib.sha256(large.data).hexdigest() == target.large_sha256
    # urllib3 offers ALPN http/1.1 itself; both servers report what they agreed.
    assert info.status == 200
    assert b"alpn=http/1.1" in info.data


def test_urllib3_mutual_tls(contexts: Contexts, target: Target) -> None:
    with _pool(contexts.client(mtls=True)) as http:
        response = http.request("GET", target.url(target.mtls_path, mtls=True))
    assert response.status == 200
    assert b"CN=client.test" in response.data


def test_urllib3_wrong_host_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    http = _pool(contexts.client(), server_hostname="wrong.example")
    with http, pytest.raises(urllib3.exceptions.SSLError) as info:
        http.request("GET", target.url("/"))
    assert_refused(info.value, WRONG_HOST)


def test_urllib3_unknown_ca_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    http = _pool(contexts.untrusting_client())
    with http, pytest.raises(urllib3.exceptions.SSLError) as info:
        http.request("GET", target.url("/"))
    assert_refused(info.value, UNKNOWN_CA)


@pytest.fixture
def tlsapi_serve(backend: tlsapi.Backend, pki_files: PKIFiles) -> Iterator[int]:
    """``tlsapi serve --mode http`` of ``backend`` in a subprocess; its port."""
    argv = [sys.executable, "-m", "tlsapi", "serve", "--backend", backend.name]
    argv += ["--mode", "http", "--port", "0", "--cert", str(pki_files.server.chain)]
    argv += ["--key", str(pki_files.server.key), "--timeout", "20"]
    with PeerProcess(argv, name="tlsapi serve") as process:
        match = process.wait_for(r"listening on 127\.0\.0\.1 port (?P<port>\d+)", 30)
        assert match, process.transcript()
        yield int(match["port"])


def test_urllib3_tlsapi_serve(
    backend: tlsapi.Backend, contexts: Contexts, tlsapi_serve: int
) -> None:
    with _pool(contexts.client()) as http:
        response = http.request("GET", f"https://localhost:{tlsapi_serve}/")
    assert response.status == 200
    assert f"tlsapi serve: backend {backend.name}".encode() in response.data
    assert b"ALPN: http/1.1" in response.data


# -- requests, through inject_into_ssl() ---------------------------------------


@pytest.fixture
def injected(backend: tlsapi.Backend) -> Iterator[None]:
    """The whole process on ``backend`` for one test, and exactly undone after it."""
    original = ssl.SSLContext
    copies = [(urllib3.util.ssl_, urllib3.util.ssl_.SSLContext)]
    try:
        tlsapi.inject_into_ssl(backend=backend)
        assert ssl.SSLContext is not original
        assert urllib3.util.ssl_.SSLContext is ssl.SSLContext
        yield
    finally:
        try:
            tlsapi.extract_from_ssl()
        finally:
            # Whatever extract did, no later test in this process may run injected.
            undone = ssl.SSLContext is original and all(m.SSLContext is c for m, c in copies)
            ssl.SSLContext = original  # type: ignore[misc]
            for module, copy in copies:
                module.SSLContext = copy
    assert undone, "extract_from_ssl() did not restore ssl.SSLContext and urllib3's copy"


@pytest.fixture
def other_root(other_pki: PKI, tmp_path: Path) -> str:
    return str(other_pki.write_root(tmp_path, "other-root.pem"))


class _SNIAdapter(requests.adapters.HTTPAdapter):  # type: ignore[misc]
    """Connects as if to another name (the server is the same)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = "wrong.example"
        super().init_poolmanager(*args, **kwargs)


def test_requests_injected(
    injected: None, pki_files: PKIFiles, other_root: str, target: Target
) -> None:
    root = str(pki_files.root)
    small = requests.get(target.url("/"), verify=root, timeout=20)
    assert small.status_code == 200 and small.content == target.small_body
    large = requests.get(target.url("/large.bin"), verify=root, timeout=20)
    assert hashlib.sha256(large.content).hexdigest() == target.large_sha256
    client = (str(pki_files.client.chain), str(pki_files.client.key))
    mutual = requests.get(target.url(target.mtls_path, mtls=True), verify=root, cert=client)
    assert mutual.status_code == 200 and b"CN=client.test" in mutual.content

    target.expect_refusal()
    with pytest.raises(requests.exceptions.SSLError) as info:
        requests.get(target.url("/"), verify=other_root, timeout=20)
    assert_refused(info.value, UNKNOWN_CA)
    with requests.Session() as session:
        session.mount("https://", _SNIAdapter(max_retries=0))
        with pytest.raises(requests.exceptions.SSLError) as info:
            session.get(target.url("/"), verify=root, timeout=20)
    assert_refused(info.value, WRONG_HOST)


def test_requests_injected_tlsapi_serve(
    injected: None, backend: tlsapi.Backend, pki_files: PKIFiles, tlsapi_serve: int
) -> None:
    response = requests.get(f"https://localhost:{tlsapi_serve}/", verify=str(pki_files.root))
    assert response.status_code == 200
    assert f"tlsapi serve: backend {backend.name}".encode() in response.content
