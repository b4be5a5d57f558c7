"""The Windows end of tests/wine: one long-lived python.exe under Wine, driven over pipes.

Run by tests/wine/conftest.py as ``python.exe driver.py`` (through
tools/winenv.py, with the stage on its path).  It reads one JSON request per
line on stdin and answers each with one line on stdout that starts with
``MARK`` (Wine and Python may print other lines; the Linux side skips
them).  A Python start under Wine costs 1-2 s, so one process serves a whole
test session.  Requests:

- ``hello``: the backends this Windows Python finds, their capabilities and
  details, and Wine's version.
- ``connect``: a TLS client of ``backend`` to 127.0.0.1:``port``: handshake,
  send ``send``, read until ``expect`` arrived (or the peer closed), close
  with close_notify; what was negotiated and received, or the error.
- ``serve``: a TLS server of ``backend`` on 127.0.0.1, port 0; answers at once
  with the port, then (in a thread) accepts one connection, handshakes, reads
  one line, sends it back, closes with close_notify.  ``result`` waits for
  what that connection negotiated, or its error.

Only the standard library and tlsapi are imported: the certificates were
made on the Linux side and arrive as files.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import sys
import threading
import traceback
from typing import Any

import tlsapi

MARK = "@@tlsapi-wine-driver "
TIMEOUT = 30.0
VERSIONS = {"1.2": tlsapi.TLSVersion.TLSv1_2, "1.3": tlsapi.TLSVersion.TLSv1_3}


def _wine_version() -> str | None:
    import ctypes

    ntdll = ctypes.WinDLL("ntdll")  # type: ignore[attr-defined,unused-ignore]
    try:
        get_version = ntdll.wine_get_version
    except AttributeError:
        return None
    get_version.restype = ctypes.c_char_p
    return str(get_version().decode("ascii"))


def _hello(_request: dict[str, Any]) -> dict[str, Any]:
    backends: dict[str, Any] = {}
    for name in ("schannel", "stdlib"):
        try:
            backend = tlsapi.backend(name)
        except tlsapi.ConfigurationError as exc:
            backends[name] = {"available": False, "why_not": str(exc)}
            continue
        backends[name] = {
            "available": True,
            "library_version": backend.library_version,
            "capabilities": sorted(str(c) for c in backend.capabilities),
            "details": dict(backend.details),
        }
    return {
        "ok": True,
        "wine": _wine_version(),
        "python": sys.version,
        "backends": backends,
    }


def _configuration(request: dict[str, Any], **extra: Any) -> tlsapi.TLSConfiguration:
    settings: dict[str, Any] = {
        "inner_protocols": tuple(p.encode("ascii") for p in request.get("alpn", ())),
        "lowest_supported_version": VERSIONS[request.get("lowest", "1.2")],
        "highest_supported_version": VERSIONS[request.get("highest", "1.3")],
        **extra,
    }
    if request.get("chain"):
        chain = tlsapi.Certificate.chain_from_file(request["chain"])
        key = tlsapi.PrivateKey.from_file(request["key"])
        settings["certificate_chain"] = (tuple(chain), key)
    if request.get("cafile"):
        settings["trust_store"] = tlsapi.TrustStore.from_pem_file(request["cafile"])
    return tlsapi.TLSConfiguration(**settings)


def _summary(tls: tlsapi.TLSWrappedSocket) -> dict[str, Any]:
    version = tls.negotiated_tls_version
    cipher = tls.cipher()
    protocol = tls.negotiated_protocol()
    chain = tls.getpeercert() or []
    return {
        "version": None if version is None else getattr(version, "name", version),
        "cipher": getattr(cipher, "name", cipher),
        "alpn": None if protocol is None else bytes(protocol).decode("ascii", "replace"),
        "peer_chain_sha256": [hashlib.sha256(der).hexdigest() for der in chain],
    }


def _error(exc: BaseException) -> dict[str, Any]:
    reason = getattr(exc, "reason", None)
    return {
        "ok": False,
        "error": type(exc).__name__,
        "classes": [c.__name__ for c in type(exc).__mro__],
        "message": str(exc),
        "reason": getattr(reason, "value", None if reason is None else str(reason)),
        "traceback": traceback.format_exc(limit=8),
    }


def _recv_until(tls: tlsapi.TLSWrappedSocket, expect: bytes) -> bytes:
    received = bytearray()
    while not (expect and expect in received):
        chunk = tls.recv(65536)
        if not chunk:
            break
        received += chunk
    return bytes(received)


def _connect(request: dict[str, Any]) -> dict[str, Any]:
    try:
        backend = tlsapi.backend(request["backend"])
        context = backend.client_context(_configuration(request))
        raw = socket.create_connection(("127.0.0.1", request["port"]), timeout=TIMEOUT)
        with context.wrap_socket(raw, request.get("server_hostname")) as tls:
            tls.do_handshake()
            summary = _summary(tls)
            tls.sendall(base64.b64decode(request.get("send", "")))
            received = _recv_until(tls, base64.b64decode(request.get("expect", "")))
            with contextlib.suppress(OSError):  # the peer may have closed first
                tls.shutdown(socket.SHUT_WR)
        return {"ok": True, **summary, "received": base64.b64encode(received).decode()}
    except Exception as exc:
        return _error(exc)


class _Server:
    def __init__(self, request: dict[str, Any]) -> None:
        self.server_name: list[str | None] = []

        def record_sni(
            _buffer: tlsapi.TLSWrappedBuffer, name: str | None, _config: tlsapi.TLSConfiguration
        ) -> None:
            self.server_name.append(name)

        backend = tlsapi.backend(request["backend"])
        callback = record_sni if tlsapi.Capability.SNI_CALLBACK in backend.capabilities else None
        self.context = backend.server_context(_configuration(request, sni_callback=callback))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.outcome: dict[str, Any] | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            with self.listener:
                raw, _ = self.listener.accept()
            raw.settimeout(TIMEOUT)
            with self.context.wrap_socket(raw) as tls:
                tls.do_handshake()
                summary = _summary(tls)
                line = _recv_until(tls, b"\n")
                tls.sendall(line)
                tls.shutdown(socket.SHUT_WR)
                # Until the client's close_notify or EOF, so the reply is not cut
                # short; a client may hang up without close_notify once it has all.
                with contextlib.suppress(tlsapi.RaggedEOF):
                    _recv_until(tls, b"")
            self.outcome = {
                "ok": True,
                **summary,
                "sni": self.server_name[-1] if self.server_name else None,
                "sni_seen": bool(self.server_name),
                "received": base64.b64encode(line).decode(),
            }
        except Exception as exc:
            self.outcome = _error(exc)


_servers: dict[int, _Server] = {}


def _serve(request: dict[str, Any]) -> dict[str, Any]:
    try:
        server = _Server(request)
    except Exception as exc:
        return _error(exc)
    _servers[server.port] = server
    return {"ok": True, "port": server.port}


def _result(request: dict[str, Any]) -> dict[str, Any]:
    server = _servers.pop(request["port"])
    server.thread.join(TIMEOUT + 5)
    if server.outcome is None:
        return {"ok": False, "error": "Timeout", "classes": [], "message": "no connection ended"}
    return server.outcome


OPERATIONS = {"hello": _hello, "connect": _connect, "serve": _serve, "result": _result}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        operation = OPERATIONS.get(request.get("op", ""))
        if operation is None:
            answer: dict[str, Any] = {"ok": False, "error": "BadRequest", "message": line}
        else:
            answer = operation(request)
        sys.stdout.write(MARK + json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
