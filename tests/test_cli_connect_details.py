"""``tlsapi connect`` against real servers: group, signature scheme, client
certificate request, resumption (--reconnect), --groups, --keylog and --json.

The servers are ``openssl s_server``, ``gnutls-serv`` and ``tlsapi serve``,
each pinned so that only one answer is right (one group, one signature
scheme), or asked what it did: ``s_server -www`` writes "New" or "Reused"
for each connection, ``tlsapi serve`` logs "new session" or "resumed
session", and ``s_server -keylogfile`` logs the same secrets our client must
log.  Where a backend lacks the capability a field needs, the CLI must say
"cannot tell" (or print the backend's refusal), which is asserted, then the
test skips.  ``connect`` runs in-process through ``tlsapi._cli.main``.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi import Capability
from tlsapi._cli import main
from tlsapi.testing.peers import PeerProcess
from tlsapi.testing.pki import PKI, KeyType

TIMEOUT = 30.0

CONNECTION_KEYS = {
    "address",
    "protocol",
    "cipher",
    "group",
    "signature_scheme",
    "certificate_requested",
    "resumed",
    "alpn",
    "certificates",
    "reply",
    "cannot_tell",
}
REPORT_KEYS = {
    "backend",
    "target",
    "offered",
    "verification",
    "handshake_error",
    "connection",
    "reconnect",
}
RECONNECT_KEYS = {
    "session_offered",
    "why_not_offered",
    "resumed",
    "same_certificates",
    "handshake_error",
    "connection",
}
VERSION_FLAGS = {"1.2": "-tls1_2", "1.3": "-tls1_3"}
GET = r"GET / HTTP/1.0\r\n\r\n"


# -- servers --------------------------------------------------------------------------


class _Files:
    """A PKI's root and one server identity on disk."""

    def __init__(self, pki: PKI, directory: Path, key_type: KeyType | None = None) -> None:
        identity = pki.issue(key_type=key_type) if key_type else pki.server_identity
        self.identity = identity
        written = identity.write(directory, f"server-{key_type.value if key_type else 'default'}")
        self.cert, self.chain, self.key = str(written.cert), str(written.chain), str(written.key)
        self.ca = str(pki.write_root(directory, "ca.pem"))


class _OpenSSLServer:
    def __init__(self, files: _Files, *extra: str) -> None:
        argv = [
            "openssl", "s_server", "-accept", "127.0.0.1:0", "-www",
            "-cert", files.cert, "-cert_chain", files.chain, "-key", files.key, *extra,
        ]  # fmt: skip
        self.process = PeerProcess(argv)
        match = self.process.wait_for(r"^ACCEPT\s+\S+:(?P<port>\d+)\s*$", TIMEOUT)
        if match is None:
            self.process.stop()
            pytest.fail(f"openssl s_server did not start\n{self.process.transcript()}")
        self.port = int(match["port"])

    def stop(self) -> None:
        self.process.stop()


@pytest.fixture
def openssl_servers() -> Iterator[list[_OpenSSLServer]]:
    started: list[_OpenSSLServer] = []
    yield started
    for server in started:
        server.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _GnuTLSServer:
    """gnutls-serv --echo; it cannot bind port 0, so a free port is tried until one binds."""

    def __init__(self, files: _Files, *extra: str) -> None:
        for _ in range(8):
            self.port = _free_port()
            argv = [
                "gnutls-serv", "--echo", "-p", str(self.port),
                "--x509certfile", files.chain, "--x509keyfile", files.key, *extra,
            ]  # fmt: skip
            self.process = PeerProcess(argv)
            pattern = r"listening on IPv4 \S+ port \d+\.\.\.done|IPv4 .*bind\(\) failed"
            match = self.process.wait_for(pattern, TIMEOUT)
            if match is not None and "done" in match[0]:
                return
            self.process.stop()
        pytest.fail(f"gnutls-serv did not start\n{self.process.transcript()}")

    def stop(self) -> None:
        self.process.stop()


class _TlsapiServe:
    """``tlsapi serve`` as a child process, until stop() (SIGTERM); its log is kept."""

    def __init__(self, *args: str) -> None:
        argv = [sys.executable, "-m", "tlsapi._cli", "serve", "--port", "0", *args]
        self.process = PeerProcess(argv, name="tlsapi serve")
        match = self.process.wait_for(r"^listening on \S+ port (?P<port>\d+)", TIMEOUT)
        if match is None:
            self.process.stop()
            pytest.fail(f"tlsapi serve did not start\n{self.process.transcript()}")
        self.port = int(match["port"])
        ca = re.search(r"its CA: (\S+)", self.process.stdout())
        self.ca_file = ca.group(1) if ca else None

    def stop(self) -> str:
        self.process.stop()
        return self.process.stdout()


# -- running connect --------------------------------------------------------------------


def _connect(
    capsys: pytest.CaptureFixture[str], *args: str, status: int | None = 0
) -> tuple[int, str, str]:
    code = main(["connect", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if status is not None:
        assert code == status, captured.out + captured.err
    return code, captured.out, captured.err


def _connect_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    _, out, _ = _connect(capsys, *args, "--json")
    report: dict[str, Any] = json.loads(out)
    assert set(report) == REPORT_KEYS
    assert set(report["connection"]) == CONNECTION_KEYS
    return report


def _line(out: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}:\s+(.*)$", out, re.MULTILINE)
    assert match, f"no {label!r} line in:\n{out}"
    return match[1]


def _page_state(reply: str) -> tuple[str, str, str]:
    """("New" or "Reused", version, cipher) from an ``s_server -www`` page."""
    match = re.search(r"^(New|Reused), (TLSv1\.[23]), Cipher is (\S+)", reply, re.MULTILINE)
    assert match, reply
    return match[1], match[2], match[3]


def _cannot_tell(backend: tlsapi.Backend, capability: Capability) -> str:
    return f"unknown (the {backend.name} backend cannot tell: it lacks {capability.value})"


# -- group, signature scheme, certificate request ------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.3"])
@pytest.mark.parametrize("requested", [True, False], ids=["cert-requested", "no-cert-request"])
def test_connect_reports_what_openssl_negotiated(  # noqa: PLR0917 (fixtures and parameters)
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
    version: str,
    requested: bool,
) -> None:
    """s_server allows one group and one signature scheme: the report must name them."""
    files = _Files(pki, tmp_path, KeyType.RSA_2048)
    extra = ["-groups", "secp384r1", "-sigalgs", "rsa_pss_rsae_sha384", VERSION_FLAGS[version]]
    if requested:
        extra += ["-verify", "1"]  # asks for a client certificate, does not require one
    server = _OpenSSLServer(files, *extra)
    openssl_servers.append(server)
    target = [f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca]

    report = _connect_json(capsys, *target, "--send", GET)
    connection = report["connection"]
    state, page_version, page_cipher = _page_state(connection["reply"])
    assert state == "New"
    assert report["backend"] == {"name": backend.name, "library_version": backend.library_version}
    assert report["target"] == {
        "host": "localhost",
        "port": server.port,
        "server_name": "localhost",
    }
    assert report["verification"] == {"status": "ok", "reason": None, "message": None}
    assert report["reconnect"] is None
    assert connection["protocol"] == page_version == f"TLSv{version}"
    if version == "1.3":
        assert connection["cipher"] == page_cipher  # OpenSSL names TLS 1.3 suites as IANA does
    assert connection["address"] == ["127.0.0.1", server.port]
    assert connection["resumed"] is False
    assert connection["certificates"][0]["key_type"] == "RSA 2048"
    assert connection["certificates"][0]["subject"] == "CN=localhost, O=tlsapi testing"
    assert "pem" not in connection["certificates"][0]  # only with --showcerts

    # The text form says the same.
    _, out, _ = _connect(capsys, *target)
    expectations = [
        ("group", "group", Capability.NEGOTIATED_GROUP, "P-384"),
        ("signature", "signature_scheme", Capability.SIGNATURE_SCHEME, "rsa_pss_rsae_sha384"),
        (
            "client cert",
            "certificate_requested",
            Capability.CERTIFICATE_REQUESTED,
            requested,
        ),
    ]
    missing = []
    for label, key, capability, expected in expectations:
        if backend.supports(capability):
            assert key not in connection["cannot_tell"]
            assert connection[key] == expected, key
        else:
            missing.append(capability.value)
            assert key in connection["cannot_tell"]
            assert connection[key] is None
            assert _line(out, label) == _cannot_tell(backend, capability)
    assert _line(out, "resumed") == "no"
    assert _line(out, "protocol") == f"TLSv{version}"
    if backend.supports(Capability.NEGOTIATED_GROUP):
        assert _line(out, "group") == "P-384"
    if backend.supports(Capability.SIGNATURE_SCHEME):
        assert _line(out, "signature") == "rsa_pss_rsae_sha384"
    if backend.supports(Capability.CERTIFICATE_REQUESTED):
        wanted = "requested by the server; none sent" if requested else "not requested"
        assert _line(out, "client cert") == wanted
    if missing:
        pytest.skip(f"the {backend.name} backend cannot tell: it lacks {', '.join(missing)}")


@pytest.mark.parametrize("key_type", [KeyType.ECDSA_P256, KeyType.ECDSA_P384])
def test_connect_reports_an_ecdsa_signature_from_gnutls_serv(
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    key_type: KeyType,
) -> None:
    """TLS 1.3 binds the ECDSA hash to the curve: one right answer per key.
    gnutls-serv asks for a client certificate unless told not to."""
    files = _Files(pki, tmp_path, key_type)
    expected = {
        KeyType.ECDSA_P256: "ecdsa_secp256r1_sha256",
        KeyType.ECDSA_P384: "ecdsa_secp384r1_sha384",
    }[key_type]
    for asks in (True, False):
        extra = ["--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-X25519"]
        if not asks:
            extra.append("--disable-client-cert")
        server = _GnuTLSServer(files, *extra)
        try:
            report = _connect_json(
                capsys,
                f"localhost:{server.port}",
                "--backend",
                backend.name,
                "--cafile",
                files.ca,
                "--send",
                r"ping\n",
            )
        finally:
            server.stop()
        connection = report["connection"]
        assert connection["protocol"] == "TLSv1.3"
        assert "ping" in connection["reply"]  # gnutls-serv --echo
        if backend.supports(Capability.NEGOTIATED_GROUP):
            assert connection["group"] == "X25519"
        if backend.supports(Capability.CERTIFICATE_REQUESTED):
            assert connection["certificate_requested"] is asks
        if backend.supports(Capability.SIGNATURE_SCHEME):
            assert connection["signature_scheme"] == expected
    lacking = [
        c.value
        for c in (Capability.SIGNATURE_SCHEME, Capability.CERTIFICATE_REQUESTED)
        if not backend.supports(c)
    ]
    if lacking:
        assert {"signature_scheme", "certificate_requested"} & set(connection["cannot_tell"])
        pytest.skip(f"the {backend.name} backend lacks {', '.join(lacking)}")


# -- --groups ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "expected"),
    [("x25519", "X25519"), ("secp256r1", "P-256"), ("x25519,secp256r1", "X25519")],
)
def test_connect_groups_pins_the_group(  # noqa: PLR0917 (fixtures and parameters)
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
    groups: str,
    expected: str,
) -> None:
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files)  # OpenSSL's default groups: X25519 first
    openssl_servers.append(server)
    args = [f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca]
    code, out, err = _connect(
        capsys, *args, "--groups", groups, "--send", GET, "--json", status=None
    )
    if code != 0:
        # Only a backend without full group selection may refuse, and it says why.
        assert not backend.supports(Capability.GROUP_SELECTION), err
        assert out == ""
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, err
        assert lines[0].startswith("tlsapi connect: error: ConfigurationError: "), err
        pytest.skip(f"the {backend.name} backend refuses --groups {groups}: {lines[0]}")
    report = json.loads(out)
    offered = [g.strip() for g in groups.split(",")]
    assert report["offered"]["groups"] == [
        tlsapi.NamedGroup.from_name(g).display_name for g in offered
    ]
    page = report["connection"]["reply"]
    shared = re.search(r"^Shared groups: (\S+)$", page, re.MULTILINE)
    assert shared, page
    assert set(shared[1].split(":")) == set(offered)  # what the server saw offered
    if not backend.supports(Capability.NEGOTIATED_GROUP):
        assert report["connection"]["group"] is None
        pytest.skip(f"the {backend.name} backend lacks negotiated-group")
    assert report["connection"]["group"] == expected


def test_connect_unknown_group_is_a_bad_argument(capsys: pytest.CaptureFixture[str]) -> None:
    # Refused before any connection: the port is never tried.
    _, out, err = _connect(capsys, "localhost:1", "--groups", "x25519,nosuch", status=2)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tlsapi connect: error: --groups: unknown key-exchange group")
    assert "'nosuch'" in lines[0]
    assert "known groups: " in lines[0]


# -- --reconnect --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "extra"),
    [("1.3", []), ("1.2", []), ("1.2", ["-no_ticket"])],
    ids=["tls1.3-ticket", "tls1.2-ticket", "tls1.2-session-id"],
)
def test_connect_reconnect_resumes_with_openssl(  # noqa: PLR0917 (fixtures and parameters)
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
    version: str,
    extra: list[str],
) -> None:
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files, VERSION_FLAGS[version], *extra)
    openssl_servers.append(server)
    args = [f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca]
    report = _connect_json(capsys, *args, "--reconnect", "--send", GET)
    first, again = report["connection"], report["reconnect"]
    assert set(again) == RECONNECT_KEYS
    assert set(again["connection"]) == CONNECTION_KEYS
    assert again["handshake_error"] is None
    assert _page_state(first["reply"])[0] == "New"
    assert first["resumed"] is False
    # What the CLI says must be what the server did, capability or not.
    server_state = _page_state(again["connection"]["reply"])[0]
    assert again["resumed"] is again["connection"]["resumed"] is (server_state == "Reused")
    assert again["connection"]["protocol"] == f"TLSv{version}"

    if not backend.supports(Capability.SESSION_RESUMPTION):
        assert again["session_offered"] is False
        assert again["why_not_offered"] == (
            f"the {backend.name} backend cannot resume sessions (it lacks session-resumption)"
        )
        assert server_state == "New"
        _, out, _ = _connect(capsys, *args, "--reconnect")
        assert f"reconnecting without a session to offer: {again['why_not_offered']}" in out
        pytest.skip(f"the {backend.name} backend lacks session-resumption")
    assert again["session_offered"] is True
    assert again["why_not_offered"] is None
    assert server_state == "Reused"
    assert again["resumed"] is True
    # A resumed session still reports the server's chain.
    assert again["same_certificates"] is True
    assert again["connection"]["certificates"] == first["certificates"]
    if backend.supports(Capability.SIGNATURE_SCHEME):
        assert first["signature_scheme"] == "ecdsa_secp256r1_sha256"
        assert again["connection"]["signature_scheme"] is None  # nothing signed in a resumption

    # The text form, without --send: the TLS 1.3 ticket is waited for after the handshake.
    _, out, _ = _connect(capsys, *args, "--reconnect")
    assert "reconnecting, offering the first connection's session" in out
    assert re.findall(r"^resumed:\s+(\S+)$", out, re.MULTILINE) == ["no", "yes"]
    assert "peer chain:  the same" in out
    if backend.supports(Capability.SIGNATURE_SCHEME):
        assert "none (a resumed session: the server signed nothing)" in out


@pytest.mark.parametrize(
    ("version", "extra"),
    [("1.3", []), ("1.2", []), ("1.2", ["--noticket"])],
    ids=["tls1.3-ticket", "tls1.2-ticket", "tls1.2-session-id"],
)
def test_connect_reconnect_resumes_with_gnutls_serv(  # noqa: PLR0917 (fixtures and parameters)
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    version: str,
    extra: list[str],
) -> None:
    """gnutls-serv prints "This is a resumed session" for each connection it resumed."""
    files = _Files(pki, tmp_path)
    priority = f"NORMAL:-VERS-ALL:+VERS-TLS{version}"
    server = _GnuTLSServer(files, "--priority", priority, "--disable-client-cert", *extra)
    try:
        report = _connect_json(
            capsys,
            *(f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca),
            *("--reconnect", "--send", r"ping\n"),
        )
        # Both echoes came back: gnutls-serv has printed what it knows of both connections.
    finally:
        server.stop()
    again = report["reconnect"]
    assert "ping" in report["connection"]["reply"]
    assert "ping" in again["connection"]["reply"]
    assert again["connection"]["protocol"] == f"TLSv{version}"
    resumed_by_server = server.process.stdout().count("*** This is a resumed session")
    assert resumed_by_server in (0, 1), server.process.stdout()
    assert again["resumed"] is (resumed_by_server == 1)
    if not backend.supports(Capability.SESSION_RESUMPTION):
        assert again["session_offered"] is False
        pytest.skip(f"the {backend.name} backend lacks session-resumption")
    assert again["session_offered"] is True, again["why_not_offered"]
    assert again["resumed"] is True
    assert again["same_certificates"] is True


def test_connect_reconnect_without_a_ticket_waits_briefly(
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A TLS 1.3 server that sends no ticket: a bounded wait, then a full second handshake."""
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files, "-tls1_3", "-num_tickets", "0")
    openssl_servers.append(server)
    args = [f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca]
    started = time.monotonic()
    report = _connect_json(capsys, *args, "--reconnect")
    elapsed = time.monotonic() - started
    again = report["reconnect"]
    assert again["session_offered"] is False
    assert again["resumed"] is False
    assert again["connection"]["resumed"] is False
    if not backend.supports(Capability.SESSION_RESUMPTION):
        assert "lacks session-resumption" in again["why_not_offered"]
        pytest.skip(f"the {backend.name} backend lacks session-resumption")
    assert again["why_not_offered"] == "no resumable session: no TLS 1.3 ticket came within 1 s"
    assert 1.0 <= elapsed < 1.0 + TIMEOUT / 2  # waited the second, not --timeout's 10 s
    # --timeout bounds the wait too.
    started = time.monotonic()
    report = _connect_json(capsys, *args, "--reconnect", "--timeout", "0.2")
    assert time.monotonic() - started < 1.0
    assert report["reconnect"]["why_not_offered"].endswith("within 0.2 s")


def test_connect_json_on_a_failed_handshake(
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No group in common: the handshake fails, the JSON says how, the status is 1."""
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files, "-groups", "secp384r1")
    openssl_servers.append(server)
    args = [f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca]
    _, out, _ = _connect(capsys, *args, "--groups", "x25519", "--json", "--reconnect", status=1)
    report = json.loads(out)
    assert set(report) == REPORT_KEYS
    assert report["connection"] is None
    assert report["reconnect"] is None  # no second try after a failed first
    assert report["verification"]["status"] == "not-done"
    assert re.match(r"\w*Error: ", report["handshake_error"]), report["handshake_error"]
    _, out, _ = _connect(capsys, *args, "--groups", "x25519", status=1)
    assert re.search(r"^handshake: FAILED: \w*Error: ", out, re.MULTILINE), out


def test_connect_reconnect_with_tlsapi_serve(
    client_backend: tlsapi.Backend,
    server_backend: tlsapi.Backend,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Both commands: serve logs "resumed session" exactly when connect says it resumed."""
    server = _TlsapiServe("--backend", server_backend.name)
    try:
        assert server.ca_file is not None
        report = _connect_json(
            capsys,
            f"localhost:{server.port}",
            "--backend",
            client_backend.name,
            "--cafile",
            server.ca_file,
            "--reconnect",
            "--send",
            "hello",
        )
        server.process.wait_for(
            r"closed after echoing 5 bytes(.|\n)*closed after echoing 5", TIMEOUT
        )
    finally:
        log = server.stop()
    states = re.findall(r": TLSv1\.3, \S+, group \S+, (new|resumed) session,", log)
    assert len(states) == 2, log
    assert report["connection"]["reply"] == "hello"
    assert report["reconnect"]["connection"]["reply"] == "hello"
    assert states[0] == "new"
    assert report["reconnect"]["resumed"] is (states[1] == "resumed")
    both = [
        b for b in (client_backend, server_backend) if b.supports(Capability.SESSION_RESUMPTION)
    ]
    if len(both) < 2:
        lacking = {client_backend.name, server_backend.name} - {b.name for b in both}
        pytest.skip(f"session-resumption is lacking in {', '.join(sorted(lacking))}")
    assert states[1] == "resumed"
    assert report["reconnect"]["resumed"] is True


# -- --keylog -------------------------------------------------------------------------------


def _keylog_lines(path: Path) -> dict[tuple[str, str], str]:
    """{(label, client_random): secret} from an NSS Key Log file."""
    lines: dict[tuple[str, str], str] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        label, client_random, secret = line.split()
        assert re.fullmatch(r"[0-9a-f]{64}", client_random), line
        assert re.fullmatch(r"[0-9a-f]+", secret), line
        lines[(label, client_random)] = secret
    return lines


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_connect_keylog_matches_the_server_key_log(  # noqa: PLR0917 (fixtures and parameters)
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
    version: str,
) -> None:
    """Our client logs the very secrets s_server logs for the same connections."""
    files = _Files(pki, tmp_path)
    server_log, client_log = tmp_path / "server.keys", tmp_path / "client.keys"
    server = _OpenSSLServer(files, VERSION_FLAGS[version], "-keylogfile", str(server_log))
    openssl_servers.append(server)
    args = [f"localhost:{server.port}", "--backend", backend.name, "--cafile", files.ca]
    # Only this version on both ends: a backend that logs TLS 1.3 only can say so.
    args += ["--tls-version-min", version, "--tls-version-max", version]
    code, out, err = _connect(
        capsys, *args, "--keylog", str(client_log), "--reconnect", "--send", GET, status=None
    )
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert all("keylog_filename" in line for line in warnings), err
    if code != 0:
        # The backend's refusal, as one line (it may come before or after the core's warning).
        assert len(warnings) <= 1, err
        assert code == 1
        errors = [line for line in err.splitlines() if not line.startswith("warning:")]
        assert len(errors) == 1, err
        assert errors[0].startswith("tlsapi connect: error: ConfigurationError: "), err
        assert out == ""
        # A backend that claims key-log logs TLS 1.3 at least (NSS hands out no TLS 1.2 secret).
        assert not (backend.supports(Capability.KEY_LOG) and version == "1.3"), err
        pytest.skip(f"the {backend.name} backend refuses to log TLS {version} keys: {errors[0]}")
    assert code == 0, out + err
    if not backend.supports(Capability.KEY_LOG):
        pytest.fail(
            f"the {backend.name} backend took --keylog without claiming key-log (it must refuse "
            f"keylog_filename); the log has {len(client_log.read_bytes())} bytes"
        )
    assert len(warnings) == 1, err  # one context for both connections: one warning
    assert f"key log: secrets appended to {client_log}" in out
    server.stop()  # s_server writes its log as it goes; stopped, it is complete
    ours, theirs = _keylog_lines(client_log), _keylog_lines(server_log)
    if version == "1.3":
        wanted = {"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"}
    else:
        wanted = {"CLIENT_RANDOM"}
    randoms = {random for (label, random) in theirs if label in wanted}
    assert len(randoms) == 2, theirs  # two connections (--reconnect)
    for key, secret in theirs.items():
        if key[0] in wanted:
            assert ours.get(key) == secret, key
    # Whatever else we logged that the server logged too must agree.
    for key in ours.keys() & theirs.keys():
        assert ours[key] == theirs[key], key


def test_connect_keylog_bad_path_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "no-such-directory" / "keys.log"
    _, out, err = _connect(capsys, "localhost:1", "--keylog", str(path), status=2)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tlsapi connect: error: keylog_filename")
    assert str(path) in lines[0]
    assert "cannot be opened" in lines[0]


# -- --json and --help ------------------------------------------------------------------------


def test_connect_json_on_failed_verification(
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files)
    openssl_servers.append(server)
    _, out, _ = _connect(
        capsys,
        f"127.0.0.1:{server.port}",
        "--backend",
        backend.name,
        "--cafile",
        files.ca,
        "--sni",
        "wrong.example",
        "--json",
        status=1,
    )
    report = json.loads(out)
    assert set(report) == REPORT_KEYS
    assert report["verification"]["status"] == "failed"
    assert report["verification"]["reason"] == "hostname-mismatch"
    assert report["verification"]["message"]
    # The unverified second look, for what the server sent.
    assert report["connection"]["certificates"][0]["subject"] == "CN=localhost, O=tlsapi testing"


def test_connect_json_showcerts_gives_the_pem(
    pki: PKI,
    tmp_path: Path,
    openssl_servers: list[_OpenSSLServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files)
    openssl_servers.append(server)
    report = _connect_json(capsys, f"localhost:{server.port}", "--cafile", files.ca, "--showcerts")
    leaf = report["connection"]["certificates"][0]
    assert leaf["pem"] == files.identity.cert_pem.decode("ascii")
    assert leaf["names"] == ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
    assert leaf["key_type"] == "EC P-256"


def test_connect_help_lists_the_json_keys(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["connect", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for key in REPORT_KEYS | CONNECTION_KEYS | RECONNECT_KEYS:
        assert re.search(rf"\b{key}\b", text), key
    for option in ("--reconnect", "--keylog", "--json", "--groups", "--pass"):
        assert option in text


def test_connect_as_a_child_process_prints_json_only(
    pki: PKI, tmp_path: Path, openssl_servers: list[_OpenSSLServer]
) -> None:
    """stdout is one JSON document and the --insecure warning goes to stderr, once."""
    files = _Files(pki, tmp_path)
    server = _OpenSSLServer(files)
    openssl_servers.append(server)
    child = subprocess.run(
        [
            *(sys.executable, "-m", "tlsapi._cli", "connect", f"localhost:{server.port}"),
            *("--insecure", "--json", "--backend", tlsapi.default_backend().name),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    assert report["verification"]["status"] == "not-done"
    assert report["offered"]["insecure"] is True
    assert child.stderr.count("warning: ") == 1, child.stderr
    assert "Traceback" not in child.stderr
