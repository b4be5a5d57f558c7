"""``tlsapi serve``: a small TLS server for trying clients, like ``openssl s_server``.

It answers each connection on its own thread, in one of two modes: ``echo``
sends back whatever arrives; ``http`` answers one HTTP/1.1 request with a
plain-text page describing the TLS connection.  Without ``--cert``, it makes
a throwaway CA and a certificate for localhost, 127.0.0.1 and ::1, and
prints where the CA certificate is, for the client's ``--cafile``.  Given
``--cert``/``--key`` more than once (paired in order), it serves several
chains, say one RSA and one ECDSA, and the client's signature algorithms
choose between them (on backends with several-certificate-chains; two chains
need keys of different types).  ``--pass`` gives an encrypted key's password
as openssl does (env:VAR, file:PATH, pass:TEXT).  A ``--cafile`` (or
``--require-client-cert``) makes it require and verify client certificates.
Each connection's log line shows the version, cipher, key-exchange group,
ALPN, SNI and whether the client resumed a session (servers issue session
tickets).  Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import sys
import tempfile
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._backend import Backend
from .._config import CertificateChain, TLSConfiguration
from .._context import ServerContext
from .._credentials import TrustStore
from .._errors import ConfigurationError, TLSError
from .._protocols import NextProtocol
from .._socket import TLSWrappedSocket
from ._common import (
    CommandError,
    add_backend_option,
    add_version_options,
    format_alpn,
    format_cipher,
    format_version,
    load_pki,
    parse_alpn,
    select_backend,
    version_range,
    warn,
)
from ._credentials import add_pass_option, chains_from_options, read_pass
from ._x509 import summarize

if TYPE_CHECKING:
    from tlsapi.testing.pki import PKI  # needs cryptography: imported by load_pki()

__all__ = ["register", "run"]

_MAX_REQUEST_HEAD = 65536


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run a TLS echo or HTTP server for trying clients (like openssl s_server)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=4433, help="the port (default: 4433; 0 picks a free one)"
    )
    parser.add_argument(
        "--cert",
        action="append",
        metavar="PEM",
        help="the certificate chain, leaf first; repeat for several chains with keys of "
        "different types (say RSA and ECDSA): the client's signature algorithms choose",
    )
    parser.add_argument(
        "--key",
        action="append",
        metavar="PEM",
        help="its private key (default: in --cert's file); once per --cert, paired in order",
    )
    add_pass_option(parser)
    add_backend_option(parser)
    parser.add_argument(
        "--mode", choices=("echo", "http"), default="echo", help="echo (default) or http"
    )
    parser.add_argument(
        "--alpn",
        action="append",
        metavar="PROTOCOL",
        help="accept this ALPN protocol (repeatable, in preference order)",
    )
    parser.add_argument(
        "--require-client-cert",
        action="store_true",
        help="require a client certificate issued by --cafile (or by the throwaway CA)",
    )
    parser.add_argument(
        "--cafile", metavar="PEM", help="the CA certificates client certificates must chain to"
    )
    add_version_options(parser)
    parser.add_argument(
        "--keylog",
        metavar="FILE",
        help="append every connection's secrets to FILE in the NSS Key Log Format, for "
        "Wireshark (debugging only: prints a warning; needs a backend with key-log)",
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="handle one connection, then exit (status 1 if it failed)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds a connection may stay idle (default: 300)",
    )
    parser.set_defaults(run=run)


def _configuration(args: argparse.Namespace, scratch: Path) -> tuple[TLSConfiguration, list[str]]:
    """The server's configuration, and lines telling the user about throwaway files."""
    notes: list[str] = []
    trust = TrustStore.from_pem_file(args.cafile) if args.cafile else None
    password = read_pass(args.password_source) if args.password_source else None
    chains: tuple[CertificateChain, ...]
    if args.key and not args.cert:
        raise CommandError("--key needs --cert", status=2)
    if args.cert:
        chains = chains_from_options(args.cert, args.key, password)
        if args.require_client_cert and trust is None:
            raise CommandError(
                "--require-client-cert needs --cafile: the CA that issues the client certificates",
                status=2,
            )
    else:
        pki: PKI = load_pki()(name="tlsapi serve")
        chains = (pki.server_identity.certificate_chain(),)
        ca_path = pki.write_root(scratch, "ca.pem")
        notes.append(f"throwaway certificate for localhost, 127.0.0.1 and ::1; its CA: {ca_path}")
        if args.require_client_cert and trust is None:
            trust = pki.trust_store()
            files = pki.client_identity.write(scratch, "client")
            notes.append(f"throwaway client certificate: {files.chain} with key {files.key}")
    alpn = parse_alpn(args.alpn)
    if args.mode == "http":
        alpn = alpn or (NextProtocol.HTTP1,)
        other = [p for p in alpn if p not in (NextProtocol.HTTP1, NextProtocol.HTTP1_0)]
        if other:
            warn(
                f"--mode http speaks HTTP/1.x only, but --alpn also accepts {format_alpn(other[0])}"
            )
    try:
        config = TLSConfiguration(
            certificate_chain=chains[0] if len(chains) == 1 else chains,
            trust_store=trust,
            inner_protocols=alpn,
            keylog_filename=args.keylog,
        ).update(**version_range(args))
    except ConfigurationError as exc:
        # Two chains of one key type, an unusable key log path: bad arguments.
        raise CommandError(str(exc), status=2) from None
    if len(chains) > 1:
        notes.append(f"serving {len(chains)} certificate chains: {_chain_names(chains)}")
    if args.keylog:
        notes.append(f"appending key log lines to {args.keylog}")
    return config, notes


def _chain_names(chains: tuple[CertificateChain, ...]) -> str:
    names = []
    for certificates, _key in chains:
        summary = summarize(certificates[0].der)
        names.append(f"{summary.key_type} ({summary.subject})" if summary else "(unreadable)")
    return "; ".join(names)


def _say(message: str) -> None:
    print(message, flush=True)


class _Server:
    def __init__(self, backend: Backend, context: ServerContext, args: argparse.Namespace) -> None:
        self.backend = backend
        self.context = context
        self.mode: str = args.mode
        self.timeout: float = args.timeout
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = False

    def handle(self, conn: socket.socket, address: tuple[Any, ...]) -> bool:
        """One connection, start to end; True when it went well."""
        label = f"{address[0]} port {address[1]}"
        with self._lock:
            self._connections.add(conn)
        try:
            conn.settimeout(self.timeout)
            with self.context.wrap_socket(conn) as tls:
                tls.do_handshake()
                _say(f"{label}: {self._describe(tls)}")
                if self.mode == "echo":
                    count = self._echo(tls)
                    _say(f"{label}: closed after echoing {count} bytes")
                else:
                    request = self._http(tls)
                    if request is None:
                        _say(f"{label}: closed by the client before a request")
                    else:
                        _say(f"{label}: answered {request!r}")
                # close_notify; the client may already have gone, which is fine.
                with contextlib.suppress(OSError):
                    tls.shutdown(socket.SHUT_WR)
            return True
        except (TLSError, OSError) as exc:
            if self._stopping:
                _say(f"{label}: closed because the server is stopping")
            else:
                _say(f"{label}: {type(exc).__name__}: {exc}")
            return False
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()

    def _describe(self, tls: TLSWrappedSocket) -> str:
        parts = [
            format_version(tls.negotiated_tls_version),
            format_cipher(tls.cipher()),
            f"group {_group_name(tls)}",
            "resumed session" if tls.session_reused else "new session",
            f"ALPN {format_alpn(tls.negotiated_protocol())}",
            f"SNI {tls.server_hostname or '-'}",
        ]
        chain = tls.getpeercert()
        if chain:
            summary = summarize(chain[0])
            parts.append(f"client certificate {summary.subject if summary else '(unreadable)'}")
        return ", ".join(parts)

    @staticmethod
    def _echo(tls: TLSWrappedSocket) -> int:
        total = 0
        while True:
            data = tls.recv(65536)
            if not data:
                return total
            tls.sendall(data)
            total += len(data)

    def _http(self, tls: TLSWrappedSocket) -> str | None:
        """Answer one request; None when the client closed (close_notify) before sending one."""
        head = bytearray()
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                # The client's close_notify: after it we send only our own (RFC 8446 §6.1).
                return None
            # Look for the blank line only where it can end: the new bytes and the
            # three before them (a rescan of the whole head per chunk is quadratic).
            start = max(0, len(head) - 3)
            head += chunk
            if head.find(b"\r\n\r\n", start) >= 0 or head.find(b"\n\n", start) >= 0:
                break
            if len(head) > _MAX_REQUEST_HEAD:
                break
        request = bytes(head).split(b"\n", 1)[0].strip().decode("latin-1")
        chain = tls.getpeercert()
        client = summarize(chain[0]) if chain else None
        body = "\n".join(
            [
                f"tlsapi serve: backend {self.backend.name} ({self.backend.library_version})",
                f"protocol: {format_version(tls.negotiated_tls_version)}",
                f"cipher: {format_cipher(tls.cipher())}",
                f"group: {_group_name(tls)}",
                f"resumed: {'yes' if tls.session_reused else 'no'}",
                f"ALPN: {format_alpn(tls.negotiated_protocol())}",
                f"SNI: {tls.server_hostname or '-'}",
                f"client certificate: {client.subject if client else 'none'}",
                f"request: {request or '(none)'}",
                "",
            ]
        ).encode("utf-8")
        status = "200 OK" if request else "400 Bad Request"
        header = (
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        tls.sendall(header + body)
        return request

    def start(self, conn: socket.socket, address: tuple[Any, ...]) -> None:
        thread = threading.Thread(
            target=self.handle, args=(conn, address), name="tlsapi-serve", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()]
        thread.start()
        self._threads.append(thread)  # only started threads: stop() joins them

    def stop(self) -> None:
        # Unblock the connection threads (a recv waiting on an idle client).
        self._stopping = True
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in self._threads:
            thread.join(2.0)


def _group_name(tls: TLSWrappedSocket) -> str:
    group = tls.negotiated_group()
    return group.display_name if group is not None else "-"


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    # Accept in short waits so Ctrl-C is seen promptly everywhere (Windows too).
    listener.settimeout(0.5)
    return listener


def _terminate(signum: int, frame: types.FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise CommandError("--port must be from 0 to 65535", status=2)
    backend = select_backend(args.backend)
    with tempfile.TemporaryDirectory(prefix="tlsapi-serve-") as scratch:
        config, notes = _configuration(args, Path(scratch))
        context = backend.server_context(config)
        server = _Server(backend, context, args)
        listener = _listen(args.host, args.port)
        # SIGTERM stops it as cleanly as Ctrl-C (signals go to the main thread only).
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
        try:
            for note in notes:
                _say(note)
            port = listener.getsockname()[1]
            _say(
                f"listening on {args.host} port {port} with the {backend.name} backend "
                f"({backend.library_version}), mode {args.mode}; Ctrl-C stops"
            )
            while True:
                try:
                    conn, address = listener.accept()
                except TimeoutError:
                    continue
                if args.once:
                    return 0 if server.handle(conn, address) else 1
                server.start(conn, address)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr, flush=True)
            return 0
        finally:
            listener.close()
            server.stop()
            if in_main:
                signal.signal(signal.SIGTERM, previous)
