"""asyncio end to end with tlsapi.SSLContext: streams, start_server, start_tls, loop.start_tls.

Every backend as the client against an ``ssl``-module server, and as the
server against an ``ssl``-module client, then tlsapi on both ends.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import pytest

import tlsapi

from .conftest import (
    Files,
    make_client,
    make_server,
    skip_if_wine_sends_client_leaf_only,
    skip_unless_serves,
)

BODY = bytes(range(256)) * 8192  # 2 MiB
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _echo_size(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read a 4-byte length, answer with that many bytes of BODY, then close cleanly."""
    try:
        size = int.from_bytes(await reader.readexactly(4), "big")
        writer.write(BODY[:size])
        await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()


async def _serve(context: ssl.SSLContext, handler: Handler = _echo_size) -> asyncio.Server:
    return await asyncio.start_server(handler, "127.0.0.1", 0, ssl=context)


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


async def _fetch(
    port: int, context: ssl.SSLContext, size: int, hostname: str = "localhost"
) -> tuple[bytes, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=hostname
    )
    writer.write(size.to_bytes(4, "big"))
    data = await reader.read()  # to EOF: the server's close_notify
    return data, writer


@pytest.mark.parametrize("side", ["client", "server", "both"])
def test_streams_verified_alpn_large_body(backend: tlsapi.Backend, files: Files, side: str) -> None:
    client_backend = backend if side in ("client", "both") else None
    server_backend = backend if side in ("server", "both") else None
    skip_unless_serves(server_backend)

    async def main() -> None:
        server = await _serve(make_server(files, server_backend, alpn=["h2", "http/1.1"]))
        async with server:
            client = make_client(files, client_backend, alpn=["h2"])
            data, writer = await _fetch(_port(server), client, len(BODY))
            assert data == BODY
            ssl_object = writer.get_extra_info("ssl_object")
            assert ssl_object.selected_alpn_protocol() == "h2"
            assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
            _name, protocol, bits = writer.get_extra_info("cipher")
            assert protocol == ssl_object.version() and bits >= 128
            peercert = writer.get_extra_info("peercert")
            assert dict(rdn[0] for rdn in peercert["subject"])["commonName"] == "localhost"
            assert ("DNS", "localhost") in peercert["subjectAltName"]
            writer.close()
            await writer.wait_closed()

    asyncio.run(main())


@pytest.mark.parametrize("server_is_tlsapi", [False, True], ids=["ssl-server", "tlsapi-server"])
def test_wrong_host_and_unknown_ca_refused(
    backend: tlsapi.Backend, files: Files, server_is_tlsapi: bool
) -> None:
    skip_unless_serves(backend if server_is_tlsapi else None)

    async def main() -> None:
        server = await _serve(make_server(files, backend if server_is_tlsapi else None))
        async with server:
            with pytest.raises(ssl.SSLCertVerificationError) as wrong_host:
                await _fetch(_port(server), make_client(files, backend), 10, "wrong.example")
            assert isinstance(wrong_host.value, tlsapi.CertificateError)
            assert wrong_host.value.reason is tlsapi.CertificateErrorReason.HOSTNAME_MISMATCH
            assert wrong_host.value.verify_code == 62  # X509_V_ERR_HOSTNAME_MISMATCH, as ssl
            with pytest.raises(ssl.SSLCertVerificationError) as unknown:
                await _fetch(_port(server), make_client(files, backend, ca=files.other_root), 10)
            assert unknown.value.verify_message
            assert unknown.value.verify_code in (18, 19, 20)  # as ssl: no trusted issuer

    asyncio.run(main())


@pytest.mark.parametrize("side", ["client", "server", "both"])
def test_mutual_tls(backend: tlsapi.Backend, files: Files, side: str) -> None:
    client_backend = backend if side in ("client", "both") else None
    server_backend = backend if side in ("server", "both") else None
    skip_unless_serves(server_backend)
    skip_if_wine_sends_client_leaf_only(client_backend)
    seen: list[dict[str, object]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(writer.get_extra_info("peercert"))
        await _echo_size(reader, writer)

    async def main() -> None:
        server_context = make_server(files, server_backend, client_ca=files.root)
        server = await _serve(server_context, handler)
        async with server:
            client = make_client(files, client_backend, identity=True)
            data, writer = await _fetch(_port(server), client, 1000)
            assert data == BODY[:1000]
            writer.close()
            await writer.wait_closed()
            # Without a client certificate the server refuses the connection.
            with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
                data, writer = await _fetch(_port(server), make_client(files, client_backend), 1000)
                assert not data  # TLS 1.3: the refusal may come after the client's handshake
                raise ConnectionError("the server closed without an answer, as it must")

    asyncio.run(main())
    assert ("DNS", "client.test") in seen[0]["subjectAltName"]  # type: ignore[operator]


@pytest.mark.parametrize("side", ["client", "server"])
def test_start_tls_upgrades_a_plain_stream(
    backend: tlsapi.Backend, files: Files, side: str
) -> None:
    """StreamWriter.start_tls on the client, loop.start_tls on the server (STARTTLS style)."""
    client_backend = backend if side == "client" else None
    server_backend = backend if side == "server" else None
    skip_unless_serves(server_backend)
    server_context = make_server(files, server_backend)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readline() == b"STARTTLS\n"
        writer.write(b"GO\n")
        await writer.drain()
        loop = asyncio.get_running_loop()
        transport = writer.transport
        protocol = transport.get_protocol()
        tls_transport = await loop.start_tls(transport, protocol, server_context, server_side=True)
        assert tls_transport is not None
        tls_writer = asyncio.StreamWriter(tls_transport, protocol, reader, loop)
        line = await reader.readline()
        tls_writer.write(line.upper())
        await tls_writer.drain()
        tls_writer.close()
        await tls_writer.wait_closed()

    async def main() -> None:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", _port(server))
            writer.write(b"STARTTLS\n")
            assert await reader.readline() == b"GO\n"
            await writer.start_tls(make_client(files, client_backend), server_hostname="localhost")
            assert writer.get_extra_info("ssl_object").version() is not None
            writer.write(b"hello over tls\n")
            assert await reader.readline() == b"HELLO OVER TLS\n"
            assert await reader.read() == b""
            writer.close()
            await writer.wait_closed()

    asyncio.run(main())


def test_clean_close_from_client(backend: tlsapi.Backend, files: Files) -> None:
    """The client closes first: the server reads EOF (close_notify), never an error."""
    skip_unless_serves(backend)
    results: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        results.append(await reader.read())
        writer.close()
        await writer.wait_closed()

    async def main() -> None:
        server = await _serve(make_server(files, backend), handler)
        async with server:
            _, writer = await asyncio.open_connection(
                "127.0.0.1",
                _port(server),
                ssl=make_client(files, backend),
                server_hostname="localhost",
            )
            writer.write(b"bye")
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            for _ in range(100):
                if results:
                    break
                await asyncio.sleep(0.01)

    asyncio.run(main())
    assert results == [b"bye"]


def test_example_runs(backend: tlsapi.Backend, files: Files) -> None:
    from tlsapi.examples import asyncio_client

    async def main() -> None:
        server = await _serve(make_server(files, None, alpn=["http/1.1"]), _http_handler)
        async with server:
            status = await asyncio_client.fetch(
                "localhost",
                _port(server),
                cafile=str(files.root),
                backend=backend.name,
                host="127.0.0.1",
            )
        assert status.startswith(b"HTTP/1.1 200")

    asyncio.run(main())


async def _http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
