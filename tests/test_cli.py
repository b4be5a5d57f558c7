"""The ``tlsapi`` command line: backends, demo, connect, serve, bench.

Commands run in-process through ``tlsapi._cli.main`` where they return on
their own, and as a child process for ``serve`` (it blocks, and must stop
on a signal).  The peer in the connect tests is Python's ``ssl`` module on a
thread, independent of tlsapi.  No test looks at how fast anything is.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi._cli import main
from tlsapi._cli._common import CommandError, parse_host_port
from tlsapi._cli._x509 import summarize
from tlsapi.testing.pki import PKI, KeyType

ENV_BACKENDS = "TLSAPI_TEST_BACKENDS"


def _names_under_test() -> list[str]:
    requested = os.environ.get(ENV_BACKENDS, "").strip()
    if requested:
        return [n.strip() for n in requested.split(",") if n.strip()]
    return [b.name for b in tlsapi.available_backends()]


def _backend_args() -> list[str]:
    return [arg for name in _names_under_test() for arg in ("--backend", name)]


def _one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "expected an error message on stderr"
    assert any(" error: " in line for line in lines), stderr


# -- helpers --------------------------------------------------------------------


def test_parse_host_port() -> None:
    assert parse_host_port("example.org", 443) == ("example.org", 443)
    assert parse_host_port("example.org:8443", 443) == ("example.org", 8443)
    assert parse_host_port("[::1]", 443) == ("::1", 443)
    assert parse_host_port("[::1]:4433", 443) == ("::1", 4433)
    assert parse_host_port("::1", 443) == ("::1", 443)  # a bare IPv6 address has no port
    for bad in ("example.org:0", "example.org:65536", "example.org:http", ":443", "[::1"):
        with pytest.raises(CommandError):
            parse_host_port(bad, 443)


@pytest.mark.parametrize(
    ("key_type", "expected"),
    [
        (KeyType.ECDSA_P256, "EC P-256"),
        (KeyType.ECDSA_P384, "EC P-384"),
        (KeyType.RSA_2048, "RSA 2048"),
        (KeyType.ED25519, "Ed25519"),
    ],
)
def test_certificate_summary(pki: PKI, key_type: KeyType, expected: str) -> None:
    leaf = pki.issue(names=("a.example", "b.example"), ips=("192.0.2.7", "::1"), key_type=key_type)
    summary = summarize(leaf.cert_der)
    assert summary is not None
    assert summary.subject == leaf.x509.subject.rfc4514_string().replace(",", ", ")
    assert summary.issuer == pki.intermediate.x509.subject.rfc4514_string().replace(",", ", ")
    assert summary.not_before == leaf.x509.not_valid_before_utc
    assert summary.not_after == leaf.x509.not_valid_after_utc
    assert summary.alt_names == ("DNS:a.example", "DNS:b.example", "IP:192.0.2.7", "IP:::1")
    assert summary.key_type == expected
    assert summary.validity_note().endswith("days left")


def test_certificate_summary_of_garbage_is_none(pki: PKI) -> None:
    der = pki.server_identity.cert_der
    assert summarize(b"") is None
    assert summarize(b"\x30\x03abc") is None
    for cut in range(0, len(der), 7):
        assert summarize(der[:cut]) is None


# -- tlsapi --help, tlsapi backends ---------------------------------------------


@pytest.mark.parametrize("command", [[], ["backends"], ["demo"], ["connect"], ["serve"], ["bench"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: tlsapi" in capsys.readouterr().out


def test_backends_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    default, reason = tlsapi._registry.choose_default_backend()
    assert f"default: {default.name} ({reason})" in out
    for backend in tlsapi.available_backends():
        assert re.search(rf"^{re.escape(backend.name)}\b", out, re.MULTILINE)
        assert backend.library_version in out
    assert "capabilities:" in out


def test_backends_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backends", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    default, reason = tlsapi._registry.choose_default_backend()
    assert data["default"] == {"name": default.name, "reason": reason}
    assert data["default_error"] is None
    assert data["priority"]
    assert all({"path", "exists"} <= set(f) for f in data["configuration_files"])
    by_name = {entry["name"]: entry for entry in data["backends"]}
    for backend in tlsapi.available_backends():
        entry = by_name[backend.name]
        assert entry["available"] is True
        assert entry["unavailable_reason"] is None
        assert entry["library_version"] == backend.library_version
        assert set(entry["capabilities"]) == {c.value for c in backend.capabilities}
        assert entry["details"] == dict(backend.details)
        assert entry["default"] is (backend.name == default.name)
    assert sum(entry["default"] for entry in data["backends"]) == 1


def test_backends_with_an_unusable_choice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TLSAPI_BACKEND", "no-such-backend")
    assert main(["backends", "--json"]) == 1
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["default"] is None
    assert "no-such-backend" in data["default_error"]
    _one_line_error(captured.err)
    assert "no-such-backend" in captured.err


# -- tlsapi demo ------------------------------------------------------------------


def test_demo(capsys: pytest.CaptureFixture[str]) -> None:
    names = _names_under_test()
    assert main(["demo", *_backend_args()]) == 0
    out = capsys.readouterr().out
    rows = [
        line.split() for line in out.splitlines() if line.split()[:1] and line.split()[0] in names
    ]
    pairs = {(row[0], row[1]) for row in rows if len(row) > 2}
    assert pairs == {(s, c) for s in names for c in names}
    for row in rows:
        if len(row) > 2:
            assert row[-1] == "ok"
            assert row[-3:-1] == ["refused", "refused"]
    assert "passed every check" in out


def test_demo_unknown_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--backend", "no-such-backend"]) == 1
    _one_line_error(capsys.readouterr().err)


# -- tlsapi connect -------------------------------------------------------------------


class _SSLEchoServer:
    """Python's ssl module as the peer: echo, ALPN h2/http1.1, until stopped."""

    def __init__(self, pki: PKI, tmp_path: Path) -> None:
        files = pki.server_identity.write(tmp_path, "server")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files.chain, files.key)
        context.set_alpn_protocols(["h2", "http/1.1"])
        self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # a closed listener does not wake accept(): poll
        self.port: int = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.ca_file = pki.write_root(tmp_path, "ca.pem")
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    while data := tls.recv(4096):
                        tls.sendall(data)
            except (OSError, ssl.SSLError):
                pass  # a client that refused our certificate, or left without close_notify
            finally:
                conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def ssl_server(pki: PKI, tmp_path: Path) -> Iterator[_SSLEchoServer]:
    server = _SSLEchoServer(pki, tmp_path)
    yield server
    server.stop()


def test_connect_verified(
    backend: tlsapi.Backend, ssl_server: _SSLEchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    target = f"localhost:{ssl_server.port}"
    args = ["connect", target, "--backend", backend.name, "--cafile", str(ssl_server.ca_file)]
    assert main([*args, "--alpn", "h2", "--send", r"ping\n"]) == 0
    out = capsys.readouterr().out
    assert f"with the {backend.name} backend" in out
    assert "0 subject: CN=localhost, O=tlsapi testing" in out
    assert "names:   DNS:localhost, IP:127.0.0.1, IP:::1" in out
    assert re.search(r"^protocol:\s+TLSv1\.3$", out, re.MULTILINE)
    assert re.search(r"^ALPN:\s+h2 \(offered: h2\)$", out, re.MULTILINE)
    assert "verification: OK" in out
    assert "ping" in out.split("reply:", 1)[1]


def test_connect_version_range(
    backend: tlsapi.Backend, ssl_server: _SSLEchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["connect", f"127.0.0.1:{ssl_server.port}", "--backend", backend.name]
    assert main([*args, "--cafile", str(ssl_server.ca_file), "--tls-version-max", "1.2"]) == 0
    assert re.search(r"^protocol:\s+TLSv1\.2$", capsys.readouterr().out, re.MULTILINE)


def test_connect_wrong_name_is_refused(
    backend: tlsapi.Backend, ssl_server: _SSLEchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["connect", f"127.0.0.1:{ssl_server.port}", "--backend", backend.name]
    assert main([*args, "--cafile", str(ssl_server.ca_file), "--sni", "wrong.example"]) == 1
    out = capsys.readouterr().out
    assert "verification: FAILED (hostname-mismatch)" in out
    # ... and what the server sent is still shown, from an unverified second look.
    assert "NOT verified" in out
    assert "0 subject: CN=localhost" in out


def test_connect_untrusted_is_refused(
    backend: tlsapi.Backend, ssl_server: _SSLEchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # No --cafile: the system trust store knows nothing of the throwaway CA.
    assert main(["connect", f"localhost:{ssl_server.port}", "--backend", backend.name]) == 1
    assert "verification: FAILED (untrusted-issuer)" in capsys.readouterr().out


def test_connect_insecure_warns(
    backend: tlsapi.Backend, ssl_server: _SSLEchoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["connect", f"localhost:{ssl_server.port}", "--backend", backend.name, "--insecure"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "verification: NOT DONE (--insecure)" in captured.out
    assert "warning: certificate validation is off" in captured.err


def test_connect_errors_are_one_line(
    ssl_server: _SSLEchoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        closed_port = unused.getsockname()[1]
    assert main(["connect", f"127.0.0.1:{closed_port}"]) == 1
    err = capsys.readouterr().err
    _one_line_error(err)
    assert "cannot connect" in err

    missing = tmp_path / "missing.pem"
    assert main(["connect", f"localhost:{ssl_server.port}", "--cafile", str(missing)]) == 1
    err = capsys.readouterr().err
    _one_line_error(err)
    assert "missing.pem" in err

    assert main(["connect", "localhost:99999"]) == 2
    _one_line_error(capsys.readouterr().err)

    assert main(["connect", "localhost:1", "--backend", "no-such-backend"]) == 1
    _one_line_error(capsys.readouterr().err)


# -- tlsapi serve -------------------------------------------------------------------


class _ServeProcess:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tlsapi._cli", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("listening on"):
                break
        else:
            _, err = self.process.communicate(timeout=30)
            pytest.fail(f"tlsapi serve did not start: {''.join(self.lines)}{err}")
        self.port = int(re.search(r"port (\d+)", self.lines[-1]).group(1))  # type: ignore[union-attr]
        ca = re.search(r"its CA: (\S+)", "".join(self.lines))
        self.ca_file = ca.group(1) if ca else None

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, "".join(self.lines) + out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def serve_processes() -> Iterator[list[_ServeProcess]]:
    started: list[_ServeProcess] = []
    yield started
    for process in started:
        process.kill()


def _client_context(ca_file: str, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def test_serve_echo_once(backend: tlsapi.Backend, serve_processes: list[_ServeProcess]) -> None:
    server = _ServeProcess("--backend", backend.name, "--once", "--alpn", "h2")
    serve_processes.append(server)
    assert server.ca_file is not None
    context = _client_context(server.ca_file, ["h2"])
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        tls.sendall(b"hello tlsapi")
        assert tls.recv(100) == b"hello tlsapi"
        tls.unwrap()  # close_notify both ways: the server ends cleanly
    status, out, err = server.finish()
    assert status == 0, err
    assert "ALPN h2, SNI localhost" in out
    assert "closed after echoing 12 bytes" in out
    assert "Traceback" not in err


def test_serve_http_with_client_certificate(
    backend: tlsapi.Backend, serve_processes: list[_ServeProcess]
) -> None:
    server = _ServeProcess(
        "--backend", backend.name, "--once", "--mode", "http", "--require-client-cert"
    )
    serve_processes.append(server)
    match = re.search(r"client certificate: (\S+) with key (\S+)", "".join(server.lines))
    assert match, server.lines
    assert server.ca_file is not None
    context = _client_context(server.ca_file, ["http/1.1"])
    context.load_cert_chain(match.group(1), match.group(2))
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"GET /info HTTP/1.1\r\nHost: localhost\r\n\r\n")
        response = b""
        while chunk := tls.recv(4096):
            response += chunk
    text = response.decode()
    assert text.startswith("HTTP/1.1 200 OK\r\n")
    assert f"backend {backend.name}" in text
    assert "ALPN: http/1.1" in text
    assert "client certificate: CN=client.test" in text
    assert "request: GET /info HTTP/1.1" in text
    assert "resumed: no" in text
    group = re.search(r"^group: (\S+)$", text, re.MULTILINE)
    assert group, text
    # A backend that cannot tell the group shows "-"; the server's library picks which one.
    if backend.supports(tlsapi.Capability.NEGOTIATED_GROUP):
        assert group[1] in {g.display_name for g in tlsapi.NamedGroup}, text
    else:
        assert group[1] == "-"
    status, out, err = server.finish()
    assert status == 0, err
    assert "client certificate CN=client.test" in out


def test_connect_to_serve_with_client_certificate(
    backend: tlsapi.Backend,
    serve_processes: list[_ServeProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The two commands against each other: serve requires, connect presents."""
    server = _ServeProcess("--backend", backend.name, "--once", "--require-client-cert")
    serve_processes.append(server)
    match = re.search(r"client certificate: (\S+) with key (\S+)", "".join(server.lines))
    assert match and server.ca_file is not None
    args = ["connect", f"localhost:{server.port}", "--backend", backend.name]
    args += ["--cafile", server.ca_file, "--cert", match.group(1), "--key", match.group(2)]
    assert main([*args, "--send", "ping"]) == 0
    out = capsys.readouterr().out
    assert "verification: OK" in out
    assert "ping" in out.split("reply:", 1)[1]
    asked = re.search(r"^client cert:\s+(.*)$", out, re.MULTILINE)
    assert asked, out
    if backend.supports(tlsapi.Capability.CERTIFICATE_REQUESTED):
        assert asked[1] == "requested by the server; ours sent"
    else:
        assert asked[1] == (
            f"unknown (the {backend.name} backend cannot tell: it lacks certificate-requested)"
        )
    status, log, err = server.finish()
    assert status == 0, err
    assert "client certificate CN=client.test" in log


def test_serve_refuses_a_client_without_certificate(
    backend: tlsapi.Backend, serve_processes: list[_ServeProcess]
) -> None:
    server = _ServeProcess("--backend", backend.name, "--once", "--require-client-cert")
    serve_processes.append(server)
    assert server.ca_file is not None
    context = _client_context(server.ca_file)
    with (
        pytest.raises((ssl.SSLError, OSError)),
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        # TLS 1.3: the client learns of the refusal on its first read.
        tls.sendall(b"hello")
        tls.recv(100)
    status, _out, err = server.finish()
    assert status == 1  # --once: the one connection failed
    assert "Traceback" not in err


def test_serve_given_certificate(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, serve_processes: list[_ServeProcess]
) -> None:
    files = pki.server_identity.write(tmp_path, "given")
    server = _ServeProcess(
        "--backend", backend.name, "--once", "--cert", str(files.chain), "--key", str(files.key)
    )
    serve_processes.append(server)
    assert server.ca_file is None  # no throwaway CA when a certificate is given
    context = _client_context(str(pki.write_root(tmp_path)))
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"x")
        assert tls.recv(1) == b"x"
        tls.unwrap()
    assert server.finish()[0] == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals do not exist on Windows")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_a_signal(signum: int, serve_processes: list[_ServeProcess]) -> None:
    server = _ServeProcess()
    serve_processes.append(server)
    # An idle connection is open: stopping must not wait for it.
    with socket.create_connection(("127.0.0.1", server.port), timeout=30):
        server.process.send_signal(signum)
        status, _, err = server.finish()
    assert status == 0
    assert "stopped" in err
    assert "Traceback" not in err


def test_serve_bad_certificate_file_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsapi._cli",
            "serve",
            "--port",
            "0",
            "--cert",
            str(tmp_path / "nope.pem"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    _one_line_error(result.stderr)
    assert "nope.pem" in result.stderr


# -- tlsapi bench ---------------------------------------------------------------------


ASYNCIO = "asyncio_http_round_trips_per_s"
MEMORY_KEY = "memory_kib_per_connection"


def _has_adapter() -> bool:
    adapter = getattr(tlsapi, "SSLContext", None)
    return isinstance(adapter, type) and issubclass(adapter, ssl.SSLContext)


def test_bench_quick_json(capsys: pytest.CaptureFixture[str]) -> None:
    names = _names_under_test()
    assert main(["bench", "--quick", "--json", *_backend_args()]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["quick"] is True
    assert data["settings"]["reference"] == "raw-ssl"
    assert data["settings"]["clock"]["in_memory"] in ("thread CPU time", "wall clock")
    assert data["settings"]["clock"]["asyncio"] == "wall clock"
    assert data["settings"]["asyncio_request_size"] == 300
    assert data["settings"]["asyncio_response_size"] == 2048
    assert {s["key"] for s in data["subjects"]} == {"raw-ssl", *names}
    metric_keys = {m["key"] for m in data["metrics"]}
    assert metric_keys == {
        "handshakes_per_s",
        "handshakes_x25519_per_s",
        "buffer_bulk_mb_per_s",
        "echo_round_trips_per_s",
        "socket_bulk_mb_per_s",
        "socket_echo_round_trips_per_s",
        ASYNCIO,
        MEMORY_KEY,
    }
    for subject in data["subjects"]:
        assert subject["version"] == "TLSv1.3"
        assert subject["pinned_group"] == "X25519", subject  # the same work for every subject
        for key in metric_keys:
            result = data["results"][subject["key"]][key]
            assert result["error"] is None
            assert set(result) == {"best", "median", "samples", "ratio", "error", "unavailable"}
            if key == MEMORY_KEY and not sys.platform.startswith("linux"):
                assert result["best"] is None  # RSS needs /proc
                assert result["unavailable"]
                continue
            if key == ASYNCIO and subject["key"] != "raw-ssl" and not _has_adapter():
                # No ssl-compatible adapter in this tree: a reason, not a figure or a failure.
                assert "tlsapi.SSLContext" in result["unavailable"]
                assert result["best"] is None
                assert result["ratio"] is None
                continue
            assert result["unavailable"] is None
            assert result["best"] > 0 or key == MEMORY_KEY
            assert result["ratio"] is not None
    for key in metric_keys - {MEMORY_KEY}:
        assert len(data["results"]["raw-ssl"][key]["samples"]) == 2
        assert data["results"]["raw-ssl"][key]["ratio"] == 1.0


def test_bench_table(capsys: pytest.CaptureFixture[str]) -> None:
    name = _names_under_test()[0]
    assert main(["bench", "--quick", "--rounds", "1", "--backend", name]) == 0
    out = capsys.readouterr().out
    assert "ssl (raw)" in out
    assert re.search(rf"^\s+ssl \(raw\)\s+{re.escape(name)}\s*$", out, re.MULTILINE)
    assert re.search(r"^handshakes/s\s+[\d,.]+\s+[\d,.]+ \(\d+\.\d\dx\)$", out, re.MULTILINE)
    asyncio_row = re.search(
        r"^asyncio HTTP/1\.1, round trips/s\s+[\d,.]+\s+(.+)$", out, re.MULTILINE
    )
    assert asyncio_row, out
    if _has_adapter():
        assert re.fullmatch(r"[\d,.]+ \(\d+\.\d\dx\)", asyncio_row[1])
    else:
        assert asyncio_row[1] == "n/a"
    assert "wall-clock" in out


def test_bench_asyncio_without_the_adapter_is_na_with_a_reason(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tlsapi without tlsapi.SSLContext still benchmarks: that row says n/a and why."""
    monkeypatch.delattr(tlsapi, "SSLContext", raising=False)
    name = _names_under_test()[0]
    assert main(["bench", "--quick", "--rounds", "1", "--backend", name]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^asyncio HTTP/1\.1, round trips/s\s+[\d,.]+\s+n/a$", out, re.MULTILINE)
    assert re.search(
        rf"^  {re.escape(name)}, asyncio HTTP/1\.1, round trips/s: .*tlsapi\.SSLContext",
        out,
        re.MULTILINE,
    )
    assert "errors:" not in out


def test_bench_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--rounds", "0"]) == 2
    _one_line_error(capsys.readouterr().err)
    assert main(["bench", "--backend", "no-such-backend"]) == 1
    _one_line_error(capsys.readouterr().err)


def test_serve_http_answers_a_bare_close_notify_with_close_notify_only(
    backend: tlsapi.Backend, serve_processes: list[_ServeProcess]
) -> None:
    """A client that sends no request, only close_notify, gets no HTTP answer (RFC 8446 §6.1)."""
    server = _ServeProcess("--backend", backend.name, "--once", "--mode", "http")
    serve_processes.append(server)
    assert server.ca_file is not None
    # Memory BIOs over a plain socket: every byte the server sends is read here.
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = _client_context(server.ca_file).wrap_bio(incoming, outgoing, server_hostname="localhost")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                data = sock.recv(65536)
                assert data, "the server hung up during the handshake"
                incoming.write(data)
        with pytest.raises(ssl.SSLWantReadError):
            tls.unwrap()  # our close_notify goes out with the handshake's last flight
        sock.sendall(outgoing.read())
        while chunk := sock.recv(65536):
            incoming.write(chunk)
    received = b""
    with pytest.raises(ssl.SSLZeroReturnError):  # the server's close_notify
        while True:
            received += tls.read(65536)
    assert received == b""
    status, out, err = server.finish()
    assert status == 0, err
    assert "closed by the client before a request" in out
    assert "Traceback" not in err


# A child interpreter where `cryptography` cannot be imported (a finder that
# refuses it, as if it were not installed), then the tlsapi command.
_WITHOUT_CRYPTOGRAPHY = """
import sys

class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name == "cryptography" or name.startswith("cryptography."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _Absent())
sys.modules.pop("cryptography", None)
from tlsapi._cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    "command",
    [["serve", "--once", "--port", "0"], ["demo", "--backend", "stdlib"], ["bench", "--quick"]],
    ids=lambda command: command[0],
)
def test_without_cryptography_one_line_says_what_to_install(
    command: list[str], tmp_path: Path
) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _WITHOUT_CRYPTOGRAPHY, *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert child.returncode == 1, child.stderr
    lines = child.stderr.splitlines()
    assert len(lines) == 1, child.stderr  # no traceback
    assert lines[0].startswith(f"tlsapi {command[0]}: error: ")
    assert "pip install 'cryptography>=42'" in lines[0]
    # tlsapi is not on PyPI: the extra is offered only as a path to this checkout.
    assert "'tlsapi[" not in lines[0]
    root = Path(tlsapi.__file__).resolve().parent.parent
    assert f"pip install -e '{root}[cli]'" in lines[0]
