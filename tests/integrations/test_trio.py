"""trio.SSLStream with tlsapi's ssl contexts: a client against nginx and a backend's server, and a server."""

from __future__ import annotations

import hashlib
import os
import ssl

import pytest
from _integ import UNKNOWN_CA, WRONG_HOST, Contexts, Target, assert_refused, http_body

trio = pytest.importorskip("trio")

LARGE = os.urandom(4 * 1024 * 1024)


async def _get(
    ctx: ssl.SSLContext, port: int, path: str, hostname: str = "localhost"
) -> tuple[str | None, bytes]:
    """ALPN and the whole response, read until the server's close_notify."""
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    stream = trio.SSLStream(tcp, ctx, server_hostname=hostname)
    try:
        await stream.do_handshake()
        request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        await stream.send_all(request.encode("ascii"))
        data = bytearray()
        # b"" only after close_notify: a bare TCP close raises BrokenResourceError
        # (https_compatible is off).
        while chunk := await stream.receive_some(65536):
            data += chunk
        return stream.selected_alpn_protocol(), bytes(data)
    finally:
        await stream.aclose()


def test_client(contexts: Contexts, target: Target) -> None:
    async def main() -> None:
        alpn, response = await _get(contexts.client(alpn=["http/1.1"]), target.port, "/")
        assert alpn == "http/1.1" and http_body(response) == target.small_body
        _, response = await _get(contexts.client(), target.port, "/large.bin")
        assert hashlib.sha256(http_body(response)).hexdigest() == target.large_sha256
        _, response = await _get(contexts.client(mtls=True), target.mtls_port, target.mtls_path)
        assert b"CN=client.test" in http_body(response)

    trio.run(main)


def test_client_alpn_h2(contexts: Contexts, target: Target) -> None:
    async def main() -> str | None:
        tcp = await trio.open_tcp_stream("127.0.0.1", target.port)
        stream = trio.SSLStream(
            tcp, contexts.client(alpn=["h2", "http/1.1"]), server_hostname="localhost"
        )
        await stream.do_handshake()
        try:
            return stream.selected_alpn_protocol()
        finally:
            await stream.aclose()

    assert trio.run(main) == ("h2" if target.h2 else "http/1.1")


def test_client_wrong_host_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    with pytest.raises(trio.BrokenResourceError) as info:
        trio.run(_get, contexts.client(), target.port, "/", "wrong.example")
    assert_refused(info.value, WRONG_HOST)


def test_client_unknown_ca_refused(contexts: Contexts, target: Target) -> None:
    target.expect_refusal()
    with pytest.raises(trio.BrokenResourceError) as info:
        trio.run(_get, contexts.untrusting_client(), target.port, "/")
    assert_refused(info.value, UNKNOWN_CA)


@pytest.mark.parametrize("mtls", [False, True], ids=["server", "server-mtls"])
def test_server(contexts: Contexts, mtls: bool) -> None:
    """The adapter's server context in trio.SSLListener; Python's ssl as the client.

    The client sends 4 MiB, the server answers with their SHA-256 and the same
    4 MiB, then each end closes with close_notify.
    """
    seen: dict[str, object] = {}

    async def handler(stream: trio.SSLStream) -> None:
        await stream.do_handshake()
        seen["alpn"] = stream.selected_alpn_protocol()
        seen["peercert"] = stream.getpeercert()
        received = bytearray()
        while len(received) < len(LARGE):
            received += await stream.receive_some(65536)
        await stream.send_all(hashlib.sha256(received).hexdigest().encode() + bytes(received))
        seen["eof"] = await stream.receive_some(65536)  # the client's close_notify
        await stream.aclose()

    async def main() -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        server_ctx = contexts.server(alpn=["h2", "http/1.1"], mtls=mtls)
        ssl_listener = trio.SSLListener(listeners[0], server_ctx)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(trio.serve_listeners, handler, [ssl_listener])
            tcp = await trio.open_tcp_stream("127.0.0.1", port)
            client_ctx = contexts.reference_client(alpn=["h2"], mtls=mtls)
            stream = trio.SSLStream(tcp, client_ctx, server_hostname="localhost")
            await stream.send_all(LARGE)
            expected = hashlib.sha256(LARGE).hexdigest().encode() + LARGE
            reply = bytearray()
            while len(reply) < len(expected):
                reply += await stream.receive_some(65536)
            assert reply == expected
            assert stream.selected_alpn_protocol() == "h2"
            await stream.aclose()
            with trio.fail_after(10):
                while "eof" not in seen:
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()

    trio.run(main)
    assert seen["alpn"] == "h2"
    assert seen["eof"] == b""
    peercert = seen["peercert"]
    if mtls:
        assert isinstance(peercert, dict)
        assert (("commonName", "client.test"),) in peercert["subject"]
    else:
        assert peercert is None
