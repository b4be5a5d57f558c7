"""anyio's TLS (connect_tcp(tls=True) and TLSListener) with tlsapi's ssl contexts, on asyncio and trio."""

from __future__ import annotations

import hashlib
import os
import ssl
from typing import Any

import pytest
from _integ import UNKNOWN_CA, WRONG_HOST, Contexts, Target, assert_refused, http_body

anyio = pytest.importorskip("anyio")
from anyio.streams.tls import TLSAttribute, TLSListener  # noqa: E402

LARGE = os.urandom(4 * 1024 * 1024)


@pytest.fixture(params=["asyncio", "trio"])
def loop(request: pytest.FixtureRequest) -> str:
    if request.param == "trio":
        pytest.importorskip("trio")
    return str(request.param)


async def _get(
    ctx: ssl.SSLContext, port: int, path: str, hostname: str = "localhost"
) -> tuple[str | None, bytes]:
    """ALPN and the whole response; EndOfStream comes only after close_notify."""
    stream = await anyio.connect_tcp(
        "127.0.0.1", port, tls=True, ssl_context=ctx, tls_hostname=hostname
    )
    async with stream:
        request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        await stream.send(request.encode("ascii"))
        data = bytearray()
        try:
            while True:
                data += await stream.receive(65536)
        except anyio.EndOfStream:
            pass
        return stream.extra(TLSAttribute.alpn_protocol), bytes(data)


def test_client(contexts: Contexts, target: Target, loop: str) -> None:
    async def main() -> None:
        alpn, response = await _get(contexts.client(alpn=["http/1.1"]), target.port, "/")
        assert alpn == "http/1.1" and http_body(response) == target.small_body
        _, response = await _get(contexts.client(), target.port, "/large.bin")
        assert hashlib.sha256(http_body(response)).hexdigest() == target.large_sha256
        _, response = await _get(contexts.client(mtls=True), target.mtls_port, target.mtls_path)
        assert b"CN=client.test" in http_body(response)

    anyio.run(main, backend=loop)


def test_client_refused(contexts: Contexts, target: Target, loop: str) -> None:
    target.expect_refusal()
    errors: list[BaseException] = []

    async def main() -> None:
        for ctx, hostname in (
            (contexts.client(), "wrong.example"),
            (contexts.untrusting_client(), "localhost"),
        ):
            try:
                await _get(ctx, target.port, "/", hostname)
            except Exception as exc:  # whatever anyio wraps it in
                errors.append(exc)

    anyio.run(main, backend=loop)
    assert len(errors) == 2, errors
    assert_refused(errors[0], WRONG_HOST)
    assert_refused(errors[1], UNKNOWN_CA)


@pytest.mark.parametrize("mtls", [False, True], ids=["server", "server-mtls"])
def test_server(contexts: Contexts, loop: str, mtls: bool) -> None:
    """The adapter's server context in a TLSListener; Python's ssl as the client."""
    seen: dict[str, Any] = {}

    async def handler(stream: Any) -> None:
        async with stream:
            seen["alpn"] = stream.extra(TLSAttribute.alpn_protocol)
            seen["peercert"] = stream.extra(TLSAttribute.peer_certificate)
            received = bytearray()
            while len(received) < len(LARGE):
                received += await stream.receive()
            await stream.send(hashlib.sha256(received).hexdigest().encode() + bytes(received))
            try:
                await stream.receive()
            except anyio.EndOfStream:  # the client's close_notify
                seen["eof"] = True

    async def main() -> None:
        tcp_listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = tcp_listener.extra(anyio.abc.SocketAttribute.local_port)
        server_ctx = contexts.server(alpn=["h2", "http/1.1"], mtls=mtls)
        listener = TLSListener(tcp_listener, server_ctx, standard_compatible=True)
        async with listener, anyio.create_task_group() as group:
            group.start_soon(listener.serve, handler)
            client_ctx = contexts.reference_client(alpn=["h2"], mtls=mtls)
            stream = await anyio.connect_tcp(
                "127.0.0.1", port, tls=True, ssl_context=client_ctx, tls_hostname="localhost"
            )
            async with stream:
                await stream.send(LARGE)
                expected = hashlib.sha256(LARGE).hexdigest().encode() + LARGE
                reply = bytearray()
                while len(reply) < len(expected):
                    reply += await stream.receive()
                assert reply == expected
                assert stream.extra(TLSAttribute.alpn_protocol) == "h2"
            with anyio.fail_after(10):
                while "eof" not in seen:
                    await anyio.sleep(0.01)
            group.cancel_scope.cancel()

    anyio.run(main, backend=loop)
    assert seen["alpn"] == "h2" and seen["eof"] is True
    if mtls:
        assert (("commonName", "client.test"),) in seen["peercert"]["subject"]
    else:
        assert seen["peercert"] is None
