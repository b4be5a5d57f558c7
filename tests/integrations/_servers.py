"""A small HTTP/1.1 server over a backend's native ServerContext (one thread per connection).

It answers one request per connection (``Connection: close``), then sends
close_notify and closes, so a client's clean close is observable:

- ``GET /`` a small page naming the backend;
- ``GET /large.bin`` :attr:`BackendHTTPServer.large_body` (4 MiB, random);
- ``GET /info`` one line: TLS version, ALPN, the client certificate's subject;
- ``POST /sha256`` the SHA-256 of the request body (a large upload).

What went wrong on the server's side of a connection is kept in ``errors``
(a client's refusal shows there as the server's failed handshake).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
from types import TracebackType

from cryptography import x509

import tlsapi
from tlsapi.testing.pki import PKI

LARGE_SIZE = 4 * 1024 * 1024
_MAX_HEAD = 64 * 1024


class BackendHTTPServer:
    def __init__(
        self,
        backend: tlsapi.Backend,
        pki: PKI,
        *,
        require_client_cert: bool = False,
        alpn: tuple[tlsapi.NextProtocol, ...] = (tlsapi.NextProtocol.HTTP1,),
    ) -> None:
        self.backend = backend
        trust = pki.trust_store() if require_client_cert else None
        config = pki.server_config(inner_protocols=alpn, trust_store=trust)
        self.context = backend.server_context(config)
        self.small_body = f"hello from tlsapi {backend.name}\n".encode()
        self.large_body = os.urandom(LARGE_SIZE)
        self.errors: list[BaseException] = []
        self.served = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._acceptor.start()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._connections.add(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(20)
            with self.context.wrap_socket(conn) as tls:
                tls.do_handshake()
                self._answer(tls)
                # close_notify: the client sees a clean end, not a truncation.  A
                # client that read the whole Content-Length may have gone already.
                with contextlib.suppress(OSError):
                    tls.shutdown(socket.SHUT_WR)
            with self._lock:
                self.served += 1
        except (BrokenPipeError, ConnectionResetError):
            # The client left while we still wrote: a TLS 1.3 server's tickets follow
            # the client's Finished, and a client that only looks at the handshake
            # (ALPN, the certificate) may be gone by then.  Not a failure of ours.
            pass
        except (tlsapi.TLSError, OSError) as exc:
            if not self._stopping.is_set():
                with self._lock:
                    self.errors.append(exc)
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()

    def _answer(self, tls: tlsapi.TLSWrappedSocket) -> None:
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = tls.recv(65536)
            if not chunk:
                return  # closed before a whole request
            data += chunk
            if len(data) > _MAX_HEAD:
                raise OSError("request head too long")
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        if method == "POST" and path == "/sha256":
            length = int(headers.get("content-length", "0"))
            digest = hashlib.sha256(body)
            received = len(body)
            while received < length:
                chunk = tls.recv(min(65536, length - received))
                if not chunk:
                    raise OSError("request body cut short")
                digest.update(chunk)
                received += len(chunk)
            payload = f"{digest.hexdigest()}\n".encode()
        elif path == "/":
            payload = self.small_body
        elif path == "/large.bin":
            payload = self.large_body
        elif path == "/info":
            payload = self._info(tls)
        else:
            self._send(tls, "404 Not Found", b"not found\n")
            return
        self._send(tls, "200 OK", payload)

    @staticmethod
    def _info(tls: tlsapi.TLSWrappedSocket) -> bytes:
        version = tls.negotiated_tls_version
        protocol = tls.negotiated_protocol()
        alpn = protocol.value if isinstance(protocol, tlsapi.NextProtocol) else protocol
        chain = tls.getpeercert()
        subject = (
            x509.load_der_x509_certificate(chain[0]).subject.rfc4514_string() if chain else "none"
        )
        name = version.value if isinstance(version, tlsapi.TLSVersion) else version
        return f"{name} alpn={(alpn or b'').decode()} client={subject}\n".encode()

    @staticmethod
    def _send(tls: tlsapi.TLSWrappedSocket, status: str, payload: bytes) -> None:
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        tls.sendall(head + payload)

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._acceptor.join(5)
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> BackendHTTPServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
