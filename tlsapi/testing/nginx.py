"""nginx as a TLS server nobody here wrote, for integration tests.

``run_nginx(pki, directory)`` writes a configuration into ``directory``,
starts Debian's ``nginx`` in the foreground (``daemon off``, no master
process) and yields an :class:`NginxServer` once both of its ports accept
connections; leaving the ``with`` block stops it (terminate, then kill) and
reaps it, also when the start failed.

Two servers on two free 127.0.0.1 ports, both TLS 1.2 and 1.3 with ALPN
h2 and http/1.1, the certificate ``pki.server_identity`` (leaf and
intermediate):

- ``port``: ``/`` a small page (:data:`SMALL_BODY`), ``/large.bin`` a
  random body of ``large_size`` bytes (:attr:`NginxServer.large_body`),
  ``/info`` one line of what nginx saw (TLS version, ALPN, HTTP
  version);
- ``client_cert_port``: requires a client certificate chaining to
  ``pki``'s root; ``/`` answers with the client's subject and nginx's
  verdict.

The hard parts: nginx as root writes to ``/var/lib/nginx`` and
``/run/nginx.pid`` unless told otherwise, so every path (pid, lock, error
and access logs, every temp directory) points into ``directory``, and
``-e`` moves even the log it opens before reading the configuration.  It
prints no line when it listens, so readiness is a TCP connect that
succeeds on both ports.  Ports are picked free and the start retried when
nginx reports that one was taken meanwhile.  HTTP/2 is ``listen ... ssl
http2`` before nginx 1.25.1 (Debian 12 ships 1.22) and ``http2 on`` from
then on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from .peers._process import HOST, START_TIMEOUT, PeerError, PeerProcess, _free_port
from .pki import PKI

__all__ = ["SMALL_BODY", "NginxServer", "find_nginx", "nginx_version", "run_nginx"]

SMALL_BODY = b"hello from nginx\n"
LARGE_SIZE = 4 * 1024 * 1024
_ATTEMPTS = 5
_COLLISION = re.compile(r"bind\(\) to \S+ failed \(98: Address already in use\)")


@dataclasses.dataclass
class NginxServer:
    """A running nginx: where it listens and what it serves."""

    host: str
    port: int
    client_cert_port: int
    large_body: bytes
    process: PeerProcess
    directory: Path

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def client_cert_address(self) -> tuple[str, int]:
        return (self.host, self.client_cert_port)

    @property
    def large_sha256(self) -> str:
        return hashlib.sha256(self.large_body).hexdigest()

    def url(self, path: str = "/", *, client_cert: bool = False, host: str = "localhost") -> str:
        port = self.client_cert_port if client_cert else self.port
        return f"https://{host}:{port}{path}"

    def error_log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def transcript(self) -> str:
        """nginx's output and error log, for failure messages."""
        return f"{self.process.transcript()}\n--- error.log:\n{self.error_log()[-6000:]}"


def find_nginx() -> str | None:
    """The nginx program, also where root's PATH has it but a user's does not."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def nginx_version(program: str) -> tuple[int, ...]:
    """nginx's version (it prints ``nginx version: nginx/1.22.1`` on stderr)."""
    result = subprocess.run([program, "-v"], capture_output=True, timeout=10, check=False)
    match = re.search(r"nginx/(\d+(?:\.\d+)*)", (result.stdout + result.stderr).decode())
    if not match:
        raise PeerError(f"cannot read nginx's version from {result.stderr!r}")
    return tuple(int(part) for part in match[1].split("."))


def _config(directory: Path, port: int, client_cert_port: int, new_http2: bool) -> str:
    d = directory
    http2_listen = "" if new_http2 else " http2"
    http2_directive = "http2 on;" if new_http2 else ""
    tls = f"""
        ssl_certificate {d}/server-chain.pem;
        ssl_certificate_key {d}/server-key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        {http2_directive}
    """
    # As root, nginx would switch to "nobody" for its temp directories; a
    # user it need not switch to keeps every file ours.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
lock_file {d}/nginx.lock;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    server {{
        listen {HOST}:{port} ssl{http2_listen};
        server_name localhost;
        {tls}
        root {d}/www;
        location = /info {{
            default_type text/plain;
            return 200 "$ssl_protocol alpn=$ssl_alpn_protocol $server_protocol\\n";
        }}
    }}
    server {{
        listen {HOST}:{client_cert_port} ssl{http2_listen};
        server_name localhost;
        {tls}
        ssl_client_certificate {d}/clients-ca.pem;
        ssl_verify_client on;
        ssl_verify_depth 3;
        location / {{
            default_type text/plain;
            return 200 "client $ssl_client_s_dn verify $ssl_client_verify\\n";
        }}
    }}
}}
"""


def _wait_until_accepting(process: PeerProcess, ports: tuple[int, ...], timeout: float) -> bool:
    """True once every port accepts a TCP connection; False if nginx exited first."""
    deadline = time.monotonic() + timeout
    waiting = list(ports)
    while waiting:
        if process.returncode is not None:
            return False
        try:
            with socket.create_connection((HOST, waiting[0]), timeout=1.0):
                waiting.pop(0)
                continue
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise PeerError(f"nginx did not listen within {timeout:.0f} s\n{process.transcript()}")
        time.sleep(0.05)
    return True


@contextlib.contextmanager
def run_nginx(
    pki: PKI, directory: str | os.PathLike[str], *, large_size: int = LARGE_SIZE
) -> Iterator[NginxServer]:
    """Start nginx serving ``pki``'s server certificate; stop it when the block ends."""
    program = find_nginx()
    if program is None:
        raise PeerError("nginx is not installed (Debian: apt-get install nginx)")
    d = Path(directory).resolve()
    (d / "www").mkdir(parents=True, exist_ok=True)
    (d / "tmp").mkdir(exist_ok=True)
    pki.server_identity.write(d, "server")
    pki.write_root(d, "clients-ca.pem")
    (d / "www" / "index.html").write_bytes(SMALL_BODY)
    large_body = os.urandom(large_size)
    (d / "www" / "large.bin").write_bytes(large_body)
    new_http2 = nginx_version(program) >= (1, 25, 1)
    for _ in range(_ATTEMPTS):
        port, client_cert_port = _free_port(), _free_port()
        if port == client_cert_port:
            continue
        (d / "nginx.conf").write_text(_config(d, port, client_cert_port, new_http2))
        argv = [program, "-p", f"{d}/", "-c", str(d / "nginx.conf"), "-e", str(d / "error.log")]
        process = PeerProcess(argv, name="nginx")
        server = NginxServer(HOST, port, client_cert_port, large_body, process, d)
        try:
            if _wait_until_accepting(process, (port, client_cert_port), START_TIMEOUT):
                yield server
                return
            process.stop()
            if not _COLLISION.search(server.error_log() + process.output()):
                raise PeerError(f"nginx exited before it listened\n{server.transcript()}")
        finally:
            process.stop()
    raise PeerError(f"nginx found no free port in {_ATTEMPTS} attempts")
