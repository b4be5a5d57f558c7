"""An HTTPS request with asyncio streams, TLS done by a tlsapi backend.

    python -m tlsapi.examples.asyncio_client example.org [--backend gnutls]

``tlsapi.SSLContext`` is an ``ssl.SSLContext``: asyncio takes it as it is.
"""

from __future__ import annotations

import argparse
import asyncio

import tlsapi


async def fetch(
    hostname: str,
    port: int = 443,
    *,
    cafile: str | None = None,
    backend: str | None = None,
    host: str | None = None,
) -> bytes:
    """GET / from ``hostname`` (connecting to ``host`` if given); returns the status line."""
    context = tlsapi.SSLContext(backend=backend)  # system trust, hostname checked
    if cafile:
        context.load_verify_locations(cafile)
    context.set_alpn_protocols(["http/1.1"])
    reader, writer = await asyncio.open_connection(
        host or hostname, port, ssl=context, server_hostname=hostname
    )
    try:
        writer.write(f"GET / HTTP/1.1\r\nHost: {hostname}\r\nConnection: close\r\n\r\n".encode())
        status = await reader.readline()
        ssl_object = writer.get_extra_info("ssl_object")
        print(status.decode().strip(), ssl_object.version(), ssl_object.cipher()[0])
        return status
    finally:
        writer.close()
        await writer.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hostname")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--backend")
    parser.add_argument("--cafile")
    args = parser.parse_args()
    asyncio.run(fetch(args.hostname, args.port, cafile=args.cafile, backend=args.backend))


if __name__ == "__main__":
    main()
