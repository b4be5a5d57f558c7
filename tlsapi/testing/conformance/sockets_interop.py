"""TLSWrappedSocket against Python's own ``ssl`` module, on real loopback TCP sockets.

The backend under test plays one end (see ``peers``); ``ssl.SSLSocket`` or
``ssl.SSLObject`` (OpenSSL) plays the other: bulk data, makefile, close_notify
and unwrap both ways.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..pki import PKI
from ._support import Peers
from .sockets import Background, TCPPairs, recv_all, recv_exactly

__all__ = ["TestSocketInterop", "stdlib_client_context", "stdlib_server_context"]


def stdlib_server_context(pki: PKI, tmp_path: Path) -> ssl.SSLContext:
    """An ``ssl`` server context presenting ``pki.server_identity`` (files in ``tmp_path``)."""
    files = pki.server_identity.write(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.chain, files.key)
    return context


def stdlib_client_context(pki: PKI) -> ssl.SSLContext:
    """An ``ssl`` client context trusting ``pki``'s root."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=pki.root_pem.decode("ascii"))
    return context


@pytest.mark.usefixtures("socket_path")
class TestSocketInterop:
    def test_tlsapi_client_against_ssl_server(
        self, peers: Peers, loopback_tcp: TCPPairs, tmp_path: Path
    ) -> None:
        raw_client, raw_server = loopback_tcp()
        ssl_context = stdlib_server_context(peers.pki, tmp_path)

        def ssl_side() -> bytes:
            with ssl_context.wrap_socket(raw_server, server_side=True) as ssl_server:
                return ssl_conversation(ssl_server)

        def ssl_conversation(ssl_server: ssl.SSLSocket) -> bytes:
            data = recv_exactly(ssl_server, 1 << 20)
            ssl_server.sendall(hashlib.sha256(data).digest())
            with ssl_server.makefile("rb") as stream:
                line = stream.readline()
            ssl_server.sendall(line[::-1])
            plain = ssl_server.unwrap()  # waits for our close_notify, answers with its own
            plain.sendall(b"in the clear")
            return line

        server_job = Background(ssl_side)
        client = peers.client_context().wrap_socket(raw_client, "localhost")
        payload = os.urandom(1 << 20)
        client.sendall(payload)
        assert recv_exactly(client, 32) == hashlib.sha256(payload).digest()
        client.sendall(b"a line\n")
        assert recv_exactly(client, 7) == b"\nenil a"
        plain = client.unwrap()
        assert recv_exactly(plain, 12) == b"in the clear"
        assert server_job.result() == b"a line\n"

    def test_ssl_client_against_tlsapi_server(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        raw_client, raw_server = loopback_tcp()
        server = peers.server_context().wrap_socket(raw_server)

        def tlsapi_side() -> bytes:
            data = recv_exactly(server, 1 << 20)
            server.sendall(hashlib.sha256(data).digest())
            server.sendall(b"closing now")
            server.shutdown(socket.SHUT_WR)
            return recv_all(server)

        server_job = Background(tlsapi_side)
        with stdlib_client_context(peers.pki).wrap_socket(
            raw_client, server_hostname="localhost"
        ) as ssl_client:
            payload = os.urandom(1 << 20)
            ssl_client.sendall(payload)
            assert recv_exactly(ssl_client, 32) == hashlib.sha256(payload).digest()
            assert recv_exactly(ssl_client, 11) == b"closing now"
            assert ssl_client.recv(10) == b""  # our close_notify, seen by ssl as a clean end
            ssl_client.sendall(b"ssl's last word")
            ssl_client.unwrap()  # sends ssl's close_notify
            assert server_job.result() == b"ssl's last word"

    def test_ssl_client_unwraps_against_tlsapi_server(
        self, peers: Peers, loopback_tcp: TCPPairs
    ) -> None:
        raw_client, raw_server = loopback_tcp()
        server = peers.server_context().wrap_socket(raw_server)

        def tlsapi_side() -> bytes:
            assert recv_exactly(server, 5) == b"hello"
            plain = server.unwrap()
            plain.sendall(b"plain reply")
            return recv_exactly(plain, 10)

        server_job = Background(tlsapi_side)
        with stdlib_client_context(peers.pki).wrap_socket(
            raw_client, server_hostname="localhost"
        ) as ssl_client:
            ssl_client.sendall(b"hello")
            plain = ssl_client.unwrap()
            plain.sendall(b"plain text")
            assert recv_exactly(plain, 11) == b"plain reply"
            assert server_job.result() == b"plain text"

    def test_unwrap_never_reads_past_close_notify(
        self, peers: Peers, loopback_tcp: TCPPairs, tmp_path: Path
    ) -> None:
        """The peer's close_notify and its first plain bytes arrive in one TCP segment.

        The peer is OpenSSL through ssl.SSLObject over a raw socket, so the test
        decides exactly which bytes go out together.  Our client first reads part
        of a large transfer (so its chunked reads stop mid-record), then unwraps.
        """
        raw_client, raw_server = loopback_tcp()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        files = peers.pki.server_identity.write(tmp_path)
        context.load_cert_chain(files.chain, files.key)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        peer = context.wrap_bio(incoming, outgoing, server_side=True)
        bulk = os.urandom(300_000)

        def pump_until(step: Callable[[], Any]) -> Any:
            while True:
                try:
                    result = step()
                except ssl.SSLWantReadError:
                    if outgoing.pending:
                        raw_server.sendall(outgoing.read())
                    data = raw_server.recv(65536)
                    if not data:
                        raise AssertionError("client hung up") from None
                    incoming.write(data)
                    continue
                if outgoing.pending:
                    raw_server.sendall(outgoing.read())
                return result

        def openssl_side() -> None:
            pump_until(peer.do_handshake)
            peer.write(bulk)
            peer.write(b"three")
            peer.write(b"small")
            peer.write(b"records")
            raw_server.sendall(outgoing.read())
            assert pump_until(lambda: peer.read(1)) == b""  # the client's close_notify
            peer.unwrap()
            # close_notify and the first plain bytes in one segment:
            raw_server.sendall(outgoing.read() + b"PLAIN-TEXT")

        server_job = Background(openssl_side)
        client = peers.client_context().wrap_socket(raw_client, "localhost")
        assert recv_exactly(client, 1000) == bulk[:1000]  # the rest stays unread
        plain = client.unwrap()  # discards the unread application data, as SSL_shutdown does
        server_job.result()
        assert recv_exactly(plain, 10) == b"PLAIN-TEXT"
