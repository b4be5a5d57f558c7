"""The reference: Python's ``ssl`` module used directly, with no tlsapi code at all.

In memory: SSLObject over two MemoryBIOs per end.  Over sockets: SSLSocket,
the ssl module's own socket path, since that is what a user of ``ssl``
would compare TLSWrappedSocket with.  Under asyncio: a plain SSLContext
handed to asyncio (which drives an SSLObject itself).
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

from ._asyncio import http_round_trip_rate
from ._credentials import BenchCredentials
from ._subject import (
    ECHO_SIZE,
    PAYLOAD_SIZE,
    PINNED_GROUP,
    Subject,
    echo_client,
    echo_server,
    run_socket_pair,
    server_hello_group,
    timed_loop,
)

__all__ = ["RawSSLSubject"]

_End = tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]  # (tls, incoming, outgoing)


def _group_name(number: int | None) -> str:
    from .._groups import NamedGroup

    return "-" if number is None else NamedGroup.from_number(number).display_name


class RawSSLSubject(Subject):
    key = "raw-ssl"
    label = "ssl (raw)"
    kind = (
        "the ssl module used directly (SSLObject + MemoryBIO; SSLSocket over sockets;"
        " asyncio with a plain SSLContext)"
    )

    def __init__(self, credentials: BenchCredentials) -> None:
        self.library_version = ssl.OPENSSL_VERSION
        self._hostname = credentials.hostname
        self._client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._client.load_verify_locations(cadata=credentials.root_pem.decode("ascii"))
        self._server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server.load_cert_chain(credentials.chain_file, credentials.key_file)
        # The same two, held to one group (SSL_CTX_set1_groups under OpenSSL 3).
        self._pinned_client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._pinned_client.load_verify_locations(cadata=credentials.root_pem.decode("ascii"))
        self._pinned_server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._pinned_server.load_cert_chain(credentials.chain_file, credentials.key_file)
        for context in (self._client, self._server, self._pinned_client, self._pinned_server):
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            context.maximum_version = ssl.TLSVersion.TLSv1_3
        for context in (self._pinned_client, self._pinned_server):
            context.set_ecdh_curve(PINNED_GROUP)

    # -- in memory -------------------------------------------------------------

    def _ends(self, pinned: bool = False) -> tuple[_End, _End]:
        c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
        client_context = self._pinned_client if pinned else self._client
        server_context = self._pinned_server if pinned else self._server
        client = client_context.wrap_bio(c_in, c_out, server_hostname=self._hostname)
        server = server_context.wrap_bio(s_in, s_out, server_side=True)
        return (client, c_in, c_out), (server, s_in, s_out)

    def _pair(self, pinned: bool = False, tap: bytearray | None = None) -> tuple[_End, _End]:
        client, server = self._ends(pinned)
        c_tls, c_in, c_out = client
        s_tls, s_in, s_out = server
        client_done = server_done = False
        for _ in range(100):
            if not client_done:
                try:
                    c_tls.do_handshake()
                    client_done = True
                except ssl.SSLWantReadError:
                    pass
            if c_out.pending:
                s_in.write(c_out.read())
            if not server_done:
                try:
                    s_tls.do_handshake()
                    server_done = True
                except ssl.SSLWantReadError:
                    pass
            if s_out.pending:
                flight = s_out.read()
                if tap is not None:
                    tap += flight
                c_in.write(flight)
            if client_done and server_done:
                return client, server
        raise RuntimeError("the in-memory handshake did not finish")

    def handshake_rate(self, duration: float) -> float:
        def one() -> int:
            self._pair()
            return 1

        return timed_loop(one, duration)

    def pinned_handshake_rate(self, duration: float) -> float:
        def one() -> int:
            self._pair(pinned=True)
            return 1

        return timed_loop(one, duration)

    def buffer_bulk_rate(self, duration: float) -> float:
        (c_tls, _, c_out), (s_tls, s_in, _) = self._pair()
        payload = memoryview(bytes(PAYLOAD_SIZE))
        sink = bytearray(65536)

        def one() -> int:
            sent = received = 0
            while received < PAYLOAD_SIZE:
                if sent < PAYLOAD_SIZE:
                    sent += c_tls.write(payload[sent:])
                if c_out.pending:
                    s_in.write(c_out.read())
                try:
                    while received < PAYLOAD_SIZE:
                        received += s_tls.read(len(sink), sink)  # type: ignore[operator]  # an int with a buffer
                except ssl.SSLWantReadError:
                    pass
            return PAYLOAD_SIZE

        return timed_loop(one, duration)

    def echo_rate(self, duration: float) -> float:
        (c_tls, c_in, c_out), (s_tls, s_in, s_out) = self._pair()
        message = b"x" * ECHO_SIZE
        server_buffer = bytearray(ECHO_SIZE)
        client_buffer = bytearray(ECHO_SIZE)

        def one() -> int:
            c_tls.write(message)
            s_in.write(c_out.read())
            count = 0
            while count < ECHO_SIZE:
                count += s_tls.read(ECHO_SIZE - count, memoryview(server_buffer)[count:])  # type: ignore[operator]  # an int with a buffer
            s_tls.write(server_buffer)
            c_in.write(s_out.read())
            count = 0
            while count < ECHO_SIZE:
                count += c_tls.read(ECHO_SIZE - count, memoryview(client_buffer)[count:])  # type: ignore[operator]  # an int with a buffer
            return 1

        return timed_loop(one, duration)

    def connected_pairs(self, count: int) -> list[Any]:
        return [self._pair() for _ in range(count)]

    def negotiated(self) -> dict[str, str]:
        flight, pinned_flight = bytearray(), bytearray()
        (c_tls, _, _), _ = self._pair(tap=flight)
        self._pair(pinned=True, tap=pinned_flight)
        cipher = c_tls.cipher()
        return {
            "version": str(c_tls.version()),
            "cipher": cipher[0] if cipher else "-",
            "group": _group_name(server_hello_group(bytes(flight))),
            "pinned_group": _group_name(server_hello_group(bytes(pinned_flight))),
        }

    # -- over sockets ---------------------------------------------------------------

    def socket_bulk_rate(self, total: int) -> float:
        def serve(conn: socket.socket) -> None:
            with self._server.wrap_socket(conn, server_side=True) as tls:
                sink = bytearray(262144)
                received = 0
                while received < total:
                    count = tls.recv_into(sink)
                    if not count:
                        raise ConnectionError("the client closed early")
                    received += count
                tls.sendall(b"k")

        def client(sock: socket.socket) -> float:
            with self._client.wrap_socket(sock, server_hostname=self._hostname) as tls:
                payload = bytes(PAYLOAD_SIZE)
                start = time.perf_counter()
                sent = 0
                while sent < total:
                    tls.sendall(payload)
                    sent += PAYLOAD_SIZE
                if tls.recv(1) != b"k":
                    raise ConnectionError("no acknowledgement from the server")
                return total / (time.perf_counter() - start)

        return run_socket_pair(serve, client)

    def socket_echo_rate(self, duration: float) -> float:
        def serve(conn: socket.socket) -> None:
            with self._server.wrap_socket(conn, server_side=True) as tls:
                echo_server(tls)

        def client(sock: socket.socket) -> float:
            with self._client.wrap_socket(sock, server_hostname=self._hostname) as tls:
                rate = echo_client(tls, duration)
                tls.shutdown(socket.SHUT_WR)  # the server's recv then ends: it stops
                return rate

        return run_socket_pair(serve, client)

    def asyncio_rate(self, duration: float) -> float:
        def check(ssl_object: object) -> None:
            if type(ssl_object) is not ssl.SSLObject:
                raise TypeError(f"asyncio used {type(ssl_object).__name__}, not ssl.SSLObject")

        return http_round_trip_rate(
            self._client, self._server, self._hostname, duration, check=check
        )
