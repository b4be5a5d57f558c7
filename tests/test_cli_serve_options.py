"""``tlsapi serve`` with several certificate chains and ``--pass`` key passwords.

The server runs as a child process on a free port; ``openssl s_client``
limited to one family of signature algorithms shows which chain it got, and
Python's ``ssl`` checks that an encrypted key really was unlocked.  Bad
input (two chains of one key type, unpaired --key, every kind of bad --pass)
must be one line on stderr and a non-zero status, never a traceback.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import tlsapi
from tlsapi import Capability
from tlsapi._cli import main
from tlsapi.testing.peers import PeerProcess
from tlsapi.testing.pki import PKI, KeyType

TIMEOUT = 30.0
PASSWORD = "correct horse"


class _Serve:
    """``tlsapi serve`` started with ``args``: either it listens, or it exited (status, stderr)."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        argv = [sys.executable, "-m", "tlsapi._cli", "serve", "--port", "0", *args]
        self.process = PeerProcess(argv, name="tlsapi serve", env=env)
        match = self.process.wait_for(r"^listening on \S+ port (?P<port>\d+)", TIMEOUT)
        self.port = int(match["port"]) if match else None
        self.status = None if match else self.process.wait(TIMEOUT)

    def stop(self) -> str:
        self.process.stop()
        return self.process.stdout()


@pytest.fixture
def servers() -> Iterator[list[_Serve]]:
    started: list[_Serve] = []
    yield started
    for server in started:
        server.stop()


def _serve(servers: list[_Serve], *args: str, env: dict[str, str] | None = None) -> _Serve:
    server = _Serve(*args, env=env)
    servers.append(server)
    return server


def _one_line_error(server: _Serve, status: int | None = None) -> str:
    """The single stderr line of a serve that refused to start."""
    assert server.port is None, server.process.transcript()
    assert server.status != 0
    if status is not None:
        assert server.status == status, server.process.transcript()
    err = server.process.stderr()
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("tlsapi serve: error: "), err
    return lines[0]


def _s_client(port: int, ca: Path, *extra: str) -> str:
    """What ``openssl s_client`` says about one connection (it sends nothing and leaves)."""
    result = subprocess.run(
        [
            *("openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"),
            *("-CAfile", str(ca), "-verify_return_error", "-verify_hostname", "localhost"),
            *extra,
        ],
        input=b"",
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    text = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 0, text
    return text


# -- several chains ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_serve_picks_the_chain_the_client_can_verify(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, servers: list[_Serve], version: str
) -> None:
    rsa = pki.issue(key_type=KeyType.RSA_2048).write(tmp_path, "rsa")
    ecdsa = pki.issue(key_type=KeyType.ECDSA_P256).write(tmp_path, "ecdsa")
    ca = pki.write_root(tmp_path, "ca.pem")
    server = _serve(
        servers,
        *("--backend", backend.name, "--tls-version-min", version, "--tls-version-max", version),
        *("--cert", str(rsa.chain), "--key", str(rsa.key)),
        *("--cert", str(ecdsa.chain), "--key", str(ecdsa.key)),
    )
    if not backend.supports(Capability.SEVERAL_CERTIFICATE_CHAINS):
        line = _one_line_error(server, status=1)
        assert "ConfigurationError" in line
        pytest.skip(f"the {backend.name} backend lacks several-certificate-chains: {line}")
    assert server.port is not None, server.process.transcript()
    started = server.process.stdout()
    assert re.search(r"^serving 2 certificate chains: RSA 2048 \(.*\); EC P-256 \(", started, re.M)

    flag = "-tls1_3" if version == "1.3" else "-tls1_2"
    for sigalgs, signature, key_bits in (
        ("ECDSA+SHA256", "ECDSA", "256"),
        ("rsa_pss_rsae_sha256", "RSA-PSS", "2048"),
    ):
        text = _s_client(server.port, ca, flag, "-sigalgs", sigalgs)
        assert re.search(rf"^Peer signature type: {signature}$", text, re.M), text
        assert re.search(rf"^Server public key is {key_bits} bit$", text, re.M), text
        assert "Verification: OK" in text

    # TLS 1.2 also chooses by cipher suite: an ECDHE_RSA-only client gets the RSA chain.
    if version == "1.2":
        text = _s_client(server.port, ca, flag, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
        assert re.search(r"^Server public key is 2048 bit$", text, re.M), text
    log = server.stop()
    assert log.count("new session") >= 2, log


def test_serve_two_chains_of_one_key_type_is_the_core_message(
    pki: PKI, tmp_path: Path, servers: list[_Serve]
) -> None:
    first = pki.issue(key_type=KeyType.ECDSA_P256).write(tmp_path, "one")
    second = pki.issue(key_type=KeyType.ECDSA_P256).write(tmp_path, "two")
    server = _serve(
        servers,
        *("--cert", str(first.chain), "--key", str(first.key)),
        *("--cert", str(second.chain), "--key", str(second.key)),
    )
    line = _one_line_error(server, status=2)
    assert line == (
        "tlsapi serve: error: certificate_chain: chains 1 and 2 both have an EC P-256 key; "
        "several chains must have keys of different types (say RSA and ECDSA), since the "
        "client's signature algorithms choose between them"
    )


def test_serve_keys_must_pair_with_certificates(
    pki: PKI, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rsa = pki.issue(key_type=KeyType.RSA_2048).write(tmp_path, "rsa")
    ecdsa = pki.issue(key_type=KeyType.ECDSA_P256).write(tmp_path, "ecdsa")
    args = ["serve", "--port", "0", "--cert", str(rsa.chain), "--cert", str(ecdsa.chain)]
    assert main([*args, "--key", str(rsa.key)]) == 2  # refused before listening
    err = capsys.readouterr().err
    assert err.strip() == (
        "tlsapi serve: error: 2 --cert but 1 --key: give one --key per --cert (paired in "
        "order), or none when each key is in its --cert file"
    )


# -- --pass -----------------------------------------------------------------------------------


def _encrypted_identity(pki: PKI, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(chain, encrypted key, CA) files for a server whose key needs PASSWORD."""
    identity = pki.server_identity
    chain = tmp_path / "chain.pem"
    chain.write_bytes(identity.chain_pem)
    key = tmp_path / "encrypted-key.pem"
    key.write_bytes(identity.key_bytes(password=PASSWORD))
    return chain, key, pki.write_root(tmp_path, "ca.pem")


def _round_trip(port: int, ca: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"unlocked")
        assert tls.recv(100) == b"unlocked"
        tls.unwrap()


@pytest.mark.parametrize("scheme", ["env", "file", "pass"])
def test_serve_pass_unlocks_an_encrypted_key(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, servers: list[_Serve], scheme: str
) -> None:
    chain, key, ca = _encrypted_identity(pki, tmp_path)
    env = dict(os.environ)
    if scheme == "env":
        env["TLSAPI_TEST_KEY_PASSWORD"] = PASSWORD
        source = "env:TLSAPI_TEST_KEY_PASSWORD"
    elif scheme == "file":
        secret = tmp_path / "password.txt"
        secret.write_text(f"{PASSWORD}\nthis second line is not part of it\n")
        source = f"file:{secret}"
    else:
        source = f"pass:{PASSWORD}"
    args = ["--backend", backend.name, "--once", "--cert", str(chain), "--key", str(key)]
    server = _serve(servers, *args, "--pass", source, env=env)
    if not backend.supports(Capability.ENCRYPTED_KEYS):
        line = _one_line_error(server)
        pytest.skip(f"the {backend.name} backend lacks encrypted-keys: {line}")
    assert server.port is not None, server.process.transcript()
    _round_trip(server.port, ca)
    assert server.process.wait(TIMEOUT) == 0, server.process.transcript()


def test_serve_wrong_password_is_one_line(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, servers: list[_Serve]
) -> None:
    chain, key, _ = _encrypted_identity(pki, tmp_path)
    server = _serve(
        servers,
        *("--backend", backend.name, "--cert", str(chain), "--key", str(key)),
        *("--pass", "pass:not the password"),
    )
    line = _one_line_error(server, status=1)
    assert "Error" in line  # the backend's TLSError subclass, named


@pytest.mark.parametrize(
    ("source", "status", "message"),
    [
        ("env:TLSAPI_TEST_UNSET_VARIABLE", 2, "the environment variable "),
        ("file:{missing}", 1, "cannot read it: No such file or directory"),
        ("file:{empty}", 1, "the file is empty (no password line)"),
        ("stdin:", 2, "unknown password source 'stdin:'; use env:VAR, file:PATH or pass:TEXT"),
        ("hunter2", 2, "expected env:VAR, file:PATH or pass:TEXT"),
        ("env:", 2, "needs a variable name"),
    ],
    ids=["unset-variable", "missing-file", "empty-file", "unknown-scheme", "no-scheme", "no-name"],
)
def test_serve_bad_pass_source_is_one_line(  # noqa: PLR0917 (fixtures and parameters)
    pki: PKI, tmp_path: Path, servers: list[_Serve], source: str, status: int, message: str
) -> None:
    chain, key, _ = _encrypted_identity(pki, tmp_path)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    source = source.format(missing=tmp_path / "missing.txt", empty=empty)
    env = {k: v for k, v in os.environ.items() if k != "TLSAPI_TEST_UNSET_VARIABLE"}
    server = _serve(servers, "--cert", str(chain), "--key", str(key), "--pass", source, env=env)
    line = _one_line_error(server, status=status)
    assert line.startswith("tlsapi serve: error: --pass "), line
    assert message in line


def test_connect_pass_unlocks_a_client_key(  # noqa: PLR0917 (fixtures)
    backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    servers: list[_Serve],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """connect takes --pass too: an encrypted client key against serve --require-client-cert."""
    server = _serve(servers, "--once", "--require-client-cert")
    assert server.port is not None, server.process.transcript()
    started = server.process.stdout()
    ca = re.search(r"its CA: (\S+)", started)
    client = re.search(r"client certificate: (\S+) with key (\S+)", started)
    assert ca and client, started
    encrypted = tmp_path / "client-key.pem"
    identity_key = Path(client[2]).read_bytes()
    # Re-encrypt the throwaway client key with PASSWORD.
    loaded = serialization.load_pem_private_key(identity_key, None)
    encrypted.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    monkeypatch.setenv("TLSAPI_TEST_CLIENT_PASSWORD", PASSWORD)
    args = ["connect", f"localhost:{server.port}", "--backend", backend.name, "--cafile", ca[1]]
    args += [
        "--cert",
        client[1],
        "--key",
        str(encrypted),
        "--pass",
        "env:TLSAPI_TEST_CLIENT_PASSWORD",
    ]
    code = main([*args, "--send", "ping"])
    captured = capsys.readouterr()
    if not backend.supports(Capability.ENCRYPTED_KEYS):
        assert code == 1
        assert "Traceback" not in captured.err
        pytest.skip(f"the {backend.name} backend lacks encrypted-keys")
    assert code == 0, captured.out + captured.err
    assert "ping" in captured.out.split("reply:", 1)[1]
    assert server.process.wait(TIMEOUT) == 0
    assert "client certificate CN=client.test" in server.process.stdout()


# -- --keylog ----------------------------------------------------------------------------------


def test_serve_keylog_matches_the_client_key_log(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, servers: list[_Serve]
) -> None:
    """serve --keylog logs the secrets Python's ssl client logs for the same connection."""
    server_log, client_log = tmp_path / "serve.keys", tmp_path / "client.keys"
    # TLS 1.3 only: every backend with key-log logs it (NSS logs TLS 1.3 only).
    server = _serve(
        servers,
        *("--backend", backend.name, "--once", "--tls-version-min", "1.3"),
        *("--keylog", str(server_log)),
    )
    if server.port is None:
        line = _one_line_error(server, status=1)
        assert not backend.supports(Capability.KEY_LOG), line
        assert "ConfigurationError" in line
        pytest.skip(f"the {backend.name} backend refuses --keylog: {line}")
    assert backend.supports(Capability.KEY_LOG), "took --keylog without claiming key-log"
    # The warning goes to stderr, a pipe of its own read apart from stdout's "listening".
    assert server.process.wait_for("warning: keylog_filename", TIMEOUT, stream="stderr")
    started = server.process.stdout() + server.process.stderr()
    assert f"appending key log lines to {server_log}" in started
    assert server.process.stderr().count("warning: keylog_filename") == 1
    ca = re.search(r"its CA: (\S+)", started)
    assert ca, started
    context = ssl.create_default_context(cafile=ca[1])
    context.keylog_filename = str(client_log)
    assert server.port is not None
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock,
        context.wrap_socket(sock, server_hostname="localhost") as tls,
    ):
        tls.sendall(b"logged")
        assert tls.recv(100) == b"logged"
        tls.unwrap()
    assert server.process.wait(TIMEOUT) == 0, server.process.transcript()

    def lines(path: Path) -> set[str]:
        return {line for line in path.read_text().splitlines() if line and line[0] != "#"}

    traffic = {
        line
        for line in lines(client_log)
        if line.split()[0] in ("CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0")
    }
    assert len(traffic) == 2, lines(client_log)
    assert traffic <= lines(server_log)


def test_serve_several_chains_with_each_key_in_its_file(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, servers: list[_Serve]
) -> None:
    """No --key at all: each --cert file holds its chain and key."""
    files = []
    for key_type in (KeyType.RSA_2048, KeyType.ECDSA_P384):
        identity = pki.issue(key_type=key_type)
        combined = tmp_path / f"{key_type.value}-combined.pem"
        combined.write_bytes(identity.chain_pem + identity.key_pem)
        files += ["--cert", str(combined)]
    ca = pki.write_root(tmp_path, "ca.pem")
    server = _serve(servers, "--backend", backend.name, *files)
    if not backend.supports(Capability.SEVERAL_CERTIFICATE_CHAINS):
        line = _one_line_error(server, status=1)
        pytest.skip(f"the {backend.name} backend lacks several-certificate-chains: {line}")
    assert server.port is not None, server.process.transcript()
    assert "serving 2 certificate chains: RSA 2048 (" in server.process.stdout()
    text = _s_client(server.port, ca, "-tls1_3", "-sigalgs", "ECDSA+SHA384")
    assert re.search(r"^Server public key is 384 bit$", text, re.M), text
    text = _s_client(server.port, ca, "-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256")
    assert re.search(r"^Server public key is 2048 bit$", text, re.M), text
