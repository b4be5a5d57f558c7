"""aiohttp's client with tlsapi's ssl context, and aiohttp's server on tlsapi's server context."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from _integ import UNKNOWN_CA, WRONG_HOST, Contexts, Target, assert_refused, is_adapter_object

aiohttp = pytest.importorskip("aiohttp")
web = pytest.importorskip("aiohttp.web")


async def _get(url: str, ctx: ssl.SSLContext, **kwargs: Any) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, ssl=ctx, **kwargs) as r:
        return r.status, await r.read()


def test_client(contexts: Contexts, target: Target) -> None:
    async def main() -> None:
        status, body = await _get(target.url("/"), contexts.client())
        assert status == 200 and body == target.small_body
        # aiohttp offers no ALPN itself: the context's list is what goes out.
        status, body = await _get(target.url("/info"), contexts.client(alpn=["http/1.1"]))
        assert status == 200 and b"alpn=http/1.1" in body
        status, body = await _get(target.url("/large.bin"), contexts.client())
        assert status == 200 and hashlib.sha256(body).hexdigest() == target.large_sha256
        status, body = await _get(
            target.url(target.mtls_path, mtls=True), contexts.client(mtls=True)
        )
        assert status == 200 and b"CN=client.test" in body

    asyncio.run(main())


def test_client_wrong_host_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    with pytest.raises(aiohttp.ClientSSLError) as info:
        asyncio.run(_get(target.url("/"), contexts.client(), server_hostname="wrong.example"))
    assert_refused(info.value, WRONG_HOST)


def test_client_unknown_ca_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    with pytest.raises(aiohttp.ClientSSLError) as info:
        asyncio.run(_get(target.url("/"), contexts.untrusting_client()))
    assert_refused(info.value, UNKNOWN_CA)


# -- aiohttp's server over the adapter -------------------------------------------

LARGE = os.urandom(4 * 1024 * 1024)


def _subject(peercert: dict[str, Any] | None) -> str:
    if not peercert:
        return "none"
    return ",".join(f"{k}={v}" for rdn in peercert["subject"] for k, v in rdn)


async def _with_server(
    server_ctx: ssl.SSLContext, client: Callable[[int], Awaitable[None]]
) -> None:
    async def info(request: Any) -> Any:
        transport = request.transport
        ssl_object = transport.get_extra_info("ssl_object")
        assert is_adapter_object(ssl_object), type(ssl_object)
        text = (
            f"{ssl_object.version()} alpn={ssl_object.selected_alpn_protocol()} "
            f"client={_subject(transport.get_extra_info('peercert'))}"
        )
        return web.Response(text=text)

    async def large(request: Any) -> Any:
        return web.Response(body=LARGE)

    async def sha256(request: Any) -> Any:
        return web.Response(text=hashlib.sha256(await request.read()).hexdigest())

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_get("/info", info)
    app.router.add_get("/large.bin", large)
    app.router.add_post("/sha256", sha256)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
        await site.start()
        await client(runner.addresses[0][1])
    finally:
        await runner.cleanup()


def test_server(contexts: Contexts) -> None:
    async def client(port: int) -> None:
        base = f"https://localhost:{port}"
        ctx = contexts.reference_client(alpn=["http/1.1"])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/info", ssl=ctx) as response:
                assert response.status == 200
                assert await response.text() in (
                    "TLSv1.3 alpn=http/1.1 client=none",
                    "TLSv1.2 alpn=http/1.1 client=none",
                )
            async with session.get(f"{base}/large.bin", ssl=ctx) as response:
                assert await response.read() == LARGE
            async with session.post(f"{base}/sha256", data=LARGE, ssl=ctx) as response:
                assert await response.text() == hashlib.sha256(LARGE).hexdigest()

    asyncio.run(_with_server(contexts.server(alpn=["h2", "http/1.1"]), client))


def test_server_mutual_tls(contexts: Contexts) -> None:
    async def client(port: int) -> None:
        url = f"https://localhost:{port}/info"
        async with aiohttp.ClientSession() as session:
            async with session.get(url, ssl=contexts.reference_client(mtls=True)) as response:
                assert response.status == 200
                assert (await response.text()).endswith(
                    "client=organizationName=tlsapi testing,commonName=client.test"
                )
            # Without a certificate the server ends the connection (in TLS 1.3
            # after the client's side of the handshake has finished).
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url, ssl=contexts.reference_client()) as response:
                    await response.read()

    asyncio.run(_with_server(contexts.server(mtls=True), client))
