"""A tlsapi backend under test: TLSWrappedBuffer pairs in memory, TLSWrappedSocket over sockets.

Under asyncio, the ssl-compatible adapter ``tlsapi.SSLContext(..., backend=name)``
(asyncio takes only ``ssl.SSLContext`` objects); where this tlsapi has no
adapter, that figure is unavailable ("n/a" with the reason), not a failure.

The loops use the API as DESIGN.md documents it (peek_outgoing and
consume_outgoing to move bytes, readinto for bulk), the way an application
or a framework integration would.
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

from .._backend import Backend
from .._buffer import TLSWrappedBuffer
from .._ciphers import CipherSuite
from .._context import ClientContext, ServerContext
from .._errors import ConfigurationError, WantReadError, WantWriteError
from .._groups import NamedGroup
from .._versions import TLSVersion
from ._asyncio import http_round_trip_rate
from ._credentials import BenchCredentials
from ._subject import (
    ECHO_SIZE,
    PAYLOAD_SIZE,
    PINNED_GROUP,
    Subject,
    Unavailable,
    echo_client,
    echo_server,
    run_socket_pair,
    server_hello_group,
    timed_loop,
)

__all__ = ["BackendSubject"]


# As a transport would: take what is pending (an empty peek means nothing is).
_MOVE_LIMIT = 1 << 30


def _move(
    source: TLSWrappedBuffer, destination: TLSWrappedBuffer, tap: bytearray | None = None
) -> None:
    data = source.peek_outgoing(_MOVE_LIMIT)
    if data:
        source.consume_outgoing(len(data))
        destination.receive_from_network(data)
        if tap is not None:
            tap += data


def _group_name(group: NamedGroup | int | None) -> str:
    return "-" if group is None else NamedGroup.from_number(int(group)).display_name


class BackendSubject(Subject):
    kind = "tlsapi backend"

    def __init__(self, backend: Backend, credentials: BenchCredentials) -> None:
        self.key = backend.name
        self.label = backend.name
        self.library_version = backend.library_version
        self._hostname = credentials.hostname
        self._client = backend.client_context(credentials.client_config)
        self._server = backend.server_context(credentials.server_config)
        # The same, held to one group on both ends (None: the backend refused it).
        self._pinned: tuple[ClientContext, ServerContext] | None = None
        self._pinned_refusal = ""
        pinned = {"key_exchange_groups": (NamedGroup.from_name(PINNED_GROUP),)}
        try:
            self._pinned = (
                backend.client_context(credentials.client_config.update(**pinned)),
                backend.server_context(credentials.server_config.update(**pinned)),
            )
        except ConfigurationError as exc:
            self._pinned_refusal = f"{backend.name} cannot pin {PINNED_GROUP}: {exc}"
        self._credentials = credentials
        self._adapter_contexts: tuple[ssl.SSLContext, ssl.SSLContext] | None = None

    # -- in memory -------------------------------------------------------------

    def _pair(
        self, pinned: bool = False, tap: bytearray | None = None
    ) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
        client_context, server_context = self._client, self._server
        if pinned:
            if self._pinned is None:
                raise Unavailable(self._pinned_refusal)
            client_context, server_context = self._pinned
        client = client_context.wrap_buffers(self._hostname)
        server = server_context.wrap_buffers()
        client_done = server_done = False
        for _ in range(100):
            if not client_done:
                try:
                    client.do_handshake()
                    client_done = True
                except WantReadError:
                    pass
            _move(client, server)
            if not server_done:
                try:
                    server.do_handshake()
                    server_done = True
                except WantReadError:
                    pass
            _move(server, client, tap)
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
        client, server = self._pair()
        payload = memoryview(bytes(PAYLOAD_SIZE))
        sink = bytearray(65536)

        def one() -> int:
            sent = received = 0
            while received < PAYLOAD_SIZE:
                if sent < PAYLOAD_SIZE:
                    try:
                        sent += client.write(payload[sent:])
                    except WantWriteError:
                        _move(client, server)  # then write again: there is room now
                _move(client, server)
                try:
                    while received < PAYLOAD_SIZE:
                        received += server.readinto(sink)
                except WantReadError:
                    pass
            return PAYLOAD_SIZE

        return timed_loop(one, duration)

    def echo_rate(self, duration: float) -> float:
        client, server = self._pair()
        message = b"x" * ECHO_SIZE
        server_buffer = bytearray(ECHO_SIZE)
        client_buffer = bytearray(ECHO_SIZE)

        def one() -> int:
            client.write(message)
            _move(client, server)
            count = 0
            while count < ECHO_SIZE:
                count += server.readinto(memoryview(server_buffer)[count:])
            server.write(server_buffer)
            _move(server, client)
            count = 0
            while count < ECHO_SIZE:
                count += client.readinto(memoryview(client_buffer)[count:])
            return 1

        return timed_loop(one, duration)

    def connected_pairs(self, count: int) -> list[Any]:
        return [self._pair() for _ in range(count)]

    def negotiated(self) -> dict[str, str]:
        flight, pinned_flight = bytearray(), bytearray()
        client, _ = self._pair(tap=flight)
        version = client.negotiated_tls_version
        cipher = client.cipher()
        group = server_hello_group(bytes(flight))
        reported = client.negotiated_group()
        if reported is not None and reported != group:
            raise RuntimeError(f"{self.key} reports {reported.name}, its ServerHello {group}")
        pinned_group = "-"
        if self._pinned is not None:
            self._pair(pinned=True, tap=pinned_flight)
            pinned_group = _group_name(server_hello_group(bytes(pinned_flight)))
        return {
            "version": version.value if isinstance(version, TLSVersion) else str(version),
            "cipher": cipher.name if isinstance(cipher, CipherSuite) else str(cipher),
            "group": _group_name(group),
            "pinned_group": pinned_group,
        }

    # -- over sockets ---------------------------------------------------------------

    def socket_bulk_rate(self, total: int) -> float:
        def serve(conn: socket.socket) -> None:
            with self._server.wrap_socket(conn) as tls:
                tls.do_handshake()
                sink = bytearray(262144)
                received = 0
                while received < total:
                    count = tls.recv_into(sink)
                    if not count:
                        raise ConnectionError("the client closed early")
                    received += count
                tls.sendall(b"k")

        def client(sock: socket.socket) -> float:
            with self._client.wrap_socket(sock, self._hostname) as tls:
                tls.do_handshake()
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
            with self._server.wrap_socket(conn) as tls:
                echo_server(tls)

        def client(sock: socket.socket) -> float:
            with self._client.wrap_socket(sock, self._hostname) as tls:
                tls.do_handshake()
                rate = echo_client(tls, duration)
                tls.shutdown(socket.SHUT_WR)  # the server's recv then ends: it stops
                return rate

        return run_socket_pair(serve, client)

    # -- under asyncio, through the ssl-compatible adapter ------------------------------

    def _adapter(self) -> tuple[ssl.SSLContext, ssl.SSLContext]:
        """Client and server adapter contexts, set up as the raw subject sets up ``ssl``'s."""
        if self._adapter_contexts is None:
            import tlsapi

            # Looked up, not imported by name: the adapter may be missing from this tlsapi.
            adapter = getattr(tlsapi, "SSLContext", None)
            if not (isinstance(adapter, type) and issubclass(adapter, ssl.SSLContext)):
                raise Unavailable(
                    "this tlsapi has no ssl-compatible adapter (tlsapi.SSLContext) for asyncio"
                )
            credentials = self._credentials
            client = adapter(ssl.PROTOCOL_TLS_CLIENT, backend=self.key)
            client.load_verify_locations(cadata=credentials.root_pem.decode("ascii"))
            server = adapter(ssl.PROTOCOL_TLS_SERVER, backend=self.key)
            server.load_cert_chain(credentials.chain_file, credentials.key_file)
            for context in (client, server):
                context.minimum_version = ssl.TLSVersion.TLSv1_3
                context.maximum_version = ssl.TLSVersion.TLSv1_3
            self._adapter_contexts = (client, server)
        return self._adapter_contexts

    def asyncio_rate(self, duration: float) -> float:
        client, server = self._adapter()

        def check(ssl_object: object) -> None:
            # The adapter's object, not OpenSSL's by way of a fallback.
            if ssl_object is None or type(ssl_object) is ssl.SSLObject:
                raise TypeError(f"asyncio used {type(ssl_object).__name__}, not the tlsapi adapter")

        return http_round_trip_rate(client, server, self._hostname, duration, check=check)
