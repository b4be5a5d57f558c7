"""httpx (sync and async, HTTP/1.1 and HTTP/2) with tlsapi's ssl context, against nginx and a backend's server."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from _integ import UNKNOWN_CA, WRONG_HOST, Contexts, Target, assert_refused

httpx = pytest.importorskip("httpx")
pytest.importorskip("h2")  # httpx[http2]


def test_sync(contexts: Contexts, target: Target) -> None:
    with httpx.Client(verify=contexts.client(), http2=target.h2) as client:
        small = client.get(target.url("/"))
        large = client.get(target.url("/large.bin"))
    assert small.status_code == 200 and small.content == target.small_body
    assert small.http_version == ("HTTP/2" if target.h2 else "HTTP/1.1")
    assert large.status_code == 200 and len(large.content) == len(target.large_body)
    assert hashlib.sha256(large.content).hexdigest() == target.large_sha256


def test_async(contexts: Contexts, target: Target) -> None:
    async def main() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(verify=contexts.client(), http2=target.h2) as client:
            return await client.get(target.url("/")), await client.get(target.url("/large.bin"))

    small, large = asyncio.run(main())
    assert small.status_code == 200 and small.content == target.small_body
    assert small.http_version == ("HTTP/2" if target.h2 else "HTTP/1.1")
    assert hashlib.sha256(large.content).hexdigest() == target.large_sha256


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_mutual_tls(contexts: Contexts, target: Target, http2: bool) -> None:
    with httpx.Client(verify=contexts.client(mtls=True), http2=http2) as client:
        response = client.get(target.url(target.mtls_path, mtls=True))
    assert response.status_code == 200
    assert b"CN=client.test" in response.content
    assert response.http_version == ("HTTP/2" if http2 and target.h2 else "HTTP/1.1")


def test_wrong_host_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    with (
        httpx.Client(verify=contexts.client()) as client,
        pytest.raises(httpx.ConnectError) as info,
    ):
        client.get(target.url("/"), extensions={"sni_hostname": "wrong.example"})
    assert_refused(info.value, WRONG_HOST)


def test_unknown_ca_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()

    async def main() -> None:
        async with httpx.AsyncClient(verify=contexts.untrusting_client()) as client:
            await client.get(target.url("/"))

    with pytest.raises(httpx.ConnectError) as info:
        asyncio.run(main())
    assert_refused(info.value, UNKNOWN_CA)
