"""Key logging on the stdlib backend: SSLContext.keylog_filename, checked by decrypting with tshark.

The key log is read two ways: its lines must name this connection's client
random (read off the ClientHello that went over the wire) with the labels
TLS 1.2 and TLS 1.3 use, and tshark given the file must decrypt a loopback
capture (dumpcap on lo) of a real TCP connection and find the application
data, which it cannot without the file.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi.testing import PKI, handshake
from tlsapi.testing.pump import transfer

VERSIONS = [tlsapi.TLSVersion.TLSv1_2, tlsapi.TLSVersion.TLSv1_3]
IDS = ["tls12", "tls13"]
TLS13_LABELS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
}


@pytest.fixture
def stdlib() -> tlsapi.Backend:
    return tlsapi.backend("stdlib")


def _logged(path: Path) -> dict[str, set[str]]:
    """The key log as {label: {client random hex}}; every line checked for the format."""
    entries: dict[str, set[str]] = {}
    for line in path.read_text("ascii").splitlines():
        if not line or line.startswith("#"):
            continue
        label, random, secret = line.split(" ")
        assert len(random) == 64 and int(random, 16) >= 0, line
        assert len(secret) in (64, 96) and int(secret, 16) >= 0, line
        entries.setdefault(label, set()).add(random)
    return entries


def test_the_capability_is_claimed(stdlib: tlsapi.Backend) -> None:
    assert tlsapi.Capability.KEY_LOG in stdlib.capabilities


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_the_log_names_this_connection(
    stdlib: tlsapi.Backend, pki: PKI, tmp_path: Path, version: tlsapi.TLSVersion, side: str
) -> None:
    path = tmp_path / "keys.log"
    client_config = pki.client_config(highest_supported_version=version)
    server_config = pki.server_config()
    with pytest.warns(tlsapi.InsecureConfigurationWarning, match="keylog_filename"):
        if side == "client":
            client_config = client_config.update(keylog_filename=str(path))
            client_context = stdlib.client_context(client_config)
            server_context = stdlib.server_context(server_config)
        else:
            client_context = stdlib.client_context(client_config)
            server_context = stdlib.server_context(server_config.update(keylog_filename=path))
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    hello = _first_flight(client)
    server.receive_from_network(hello)
    handshake(client, server)
    assert transfer(client, server, b"x") == b"x"
    random = hello[11:43].hex()  # record header 5, handshake header 4, version 2
    entries = _logged(path)
    if version is tlsapi.TLSVersion.TLSv1_2:
        assert entries == {"CLIENT_RANDOM": {random}}
    else:
        assert entries == {label: {random} for label in TLS13_LABELS}


def _first_flight(client: tlsapi.TLSWrappedBuffer) -> bytes:
    with contextlib.suppress(tlsapi.WantReadError):
        client.do_handshake()  # the ClientHello goes out, then it waits
    data = client.peek_outgoing(client.outgoing_bytes_buffered())
    client.consume_outgoing(len(data))
    assert data[:1] == b"\x16" and data[5:6] == b"\x01", "not a ClientHello"
    return data


def test_a_configuration_from_sni_callback_is_logged_too(
    stdlib: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    # The connection moves to the returned configuration's SSLContext; the
    # server's key log still gets its secrets.
    path = tmp_path / "keys.log"
    switched = pki.server_config(pki.issue(common_name="switched"))
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        server_context = stdlib.server_context(
            pki.server_config(keylog_filename=str(path), sni_callback=lambda b, n, c: switched)
        )
    client_context = stdlib.client_context(pki.client_config())
    client = client_context.wrap_buffers("localhost")
    hello = _first_flight(client)
    server = server_context.wrap_buffers()
    server.receive_from_network(hello)
    handshake(client, server)
    assert _logged(path) == {label: {hello[11:43].hex()} for label in TLS13_LABELS}


def test_several_contexts_share_one_file(stdlib: tlsapi.Backend, pki: PKI, tmp_path: Path) -> None:
    path = tmp_path / "keys.log"
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        client_context = stdlib.client_context(pki.client_config(keylog_filename=str(path)))
        server_context = stdlib.server_context(pki.server_config(keylog_filename=str(path)))
    randoms = set()
    for _ in range(3):
        client = client_context.wrap_buffers("localhost")
        hello = _first_flight(client)
        randoms.add(hello[11:43].hex())
        server = server_context.wrap_buffers()
        server.receive_from_network(hello)
        handshake(client, server)
    lines = [line for line in path.read_text("ascii").splitlines() if not line.startswith("#")]
    # Each connection logged by both ends: 5 labels x 2 ends x 3 connections.
    assert len(lines) == 30
    assert _logged(path) == {label: randoms for label in TLS13_LABELS}


def test_an_unwritable_path_is_refused_at_configuration_time(tmp_path: Path) -> None:
    with pytest.raises(tlsapi.ConfigurationError, match="cannot be opened"):
        tlsapi.TLSConfiguration(keylog_filename=str(tmp_path / "missing" / "keys.log"))


# -- tshark decrypts a capture with it -------------------------------------------------


def capture_filter_argv(port: int, probe_port: int) -> list[str]:
    return ["dumpcap", "-i", "lo", "-f", f"tcp port {port} or udp port {probe_port}"]


class Capture:
    """dumpcap on lo for one TCP port, stopped by its process id.

    dumpcap says "Capturing on" before its filter sees packets, and hands
    packets on in batches: it counts as ready once its packet count (on
    stderr, about every 0.5 s) shows our UDP probes, and as having everything
    once that count has grown twice after the traffic (probes keep going).
    """

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        self._probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._probe.bind(("127.0.0.1", 0))
        self._probe_address = self._probe.getsockname()
        self._process = subprocess.Popen(
            [*capture_filter_argv(port, self._probe_address[1]), "-w", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert self._process.stderr is not None
        os.set_blocking(self._process.stderr.fileno(), False)
        self._said = b""
        self._wait_for_counts(1)

    def _counts(self) -> list[int]:
        return [int(n) for n in re.findall(rb"Packets: (\d+)", self._said)]

    def _wait_for_counts(self, rises: int) -> None:
        """Probe until dumpcap's reported packet count rose ``rises`` more times."""
        assert self._process.stderr is not None
        start = len(self._counts())
        deadline = time.monotonic() + 20
        while True:
            counts = self._counts()
            new = counts[start:]
            if len({*new} - {*counts[:start]}) >= rises:
                return
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.stop()
                pytest.fail(
                    f"dumpcap did not report packets: {self._said.decode(errors='replace')}"
                )
            self._probe.sendto(b"probe", self._probe_address)
            select.select([self._process.stderr], [], [], 0.05)
            self._said += self._process.stderr.read() or b""

    def finish(self) -> None:
        """Wait until what was sent so far is in the capture."""
        self._wait_for_counts(2)

    def stop(self) -> str:
        self._probe.close()
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)  # dumpcap writes the rest and exits
        try:
            _, err = self._process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _, err = self._process.communicate()
        return (err or b"").decode(errors="replace")


def _can_capture() -> str | None:
    """Why a capture cannot run here (None: it can); on Linux a missing tool fails."""
    if not sys.platform.startswith("linux"):
        return "dumpcap and tshark on lo are Linux test tools here"
    for program in ("dumpcap", "tshark"):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is not installed (Debian: apt-get install tshark)")
    return None  # without the right to capture, dumpcap says so and the test fails


def _decrypted(capture: Path, port: int, keylog: Path | None) -> list[bytes]:
    argv = ["tshark", "-r", str(capture), "-d", f"tcp.port=={port},tls", "-2"]
    if keylog is not None:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    argv += ["-R", f"tcp.port=={port} && tls.app_data", "-T", "fields", "-e", "data.data"]
    completed = subprocess.run(argv, capture_output=True, timeout=60, check=True)
    return [
        bytes.fromhex(field)
        for line in completed.stdout.decode().splitlines()
        for field in line.replace(",", "\t").split("\t")
        if field
    ]


@pytest.mark.parametrize("logging_side", ["client", "server"])
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_tshark_decrypts_a_capture_with_the_log(
    stdlib: tlsapi.Backend,
    pki: PKI,
    tmp_path: Path,
    version: tlsapi.TLSVersion,
    logging_side: str,
) -> None:
    why_not = _can_capture()
    if why_not is not None:
        pytest.skip(why_not)
    keylog = tmp_path / "keys.log"
    client_config = pki.client_config(highest_supported_version=version)
    server_config = pki.server_config()
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        if logging_side == "client":
            client_config = client_config.update(keylog_filename=str(keylog))
        else:
            server_config = server_config.update(keylog_filename=str(keylog))
        client_context = stdlib.client_context(client_config)
        server_context = stdlib.server_context(server_config)
    token = os.urandom(12).hex().encode()
    errors: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(30)
        port = listener.getsockname()[1]
        capture = Capture(tmp_path / "lo.pcapng", port)
        try:

            def serve() -> None:
                try:
                    conn, _ = listener.accept()
                    with server_context.wrap_socket(conn) as tls:
                        tls.sendall(tls.recv(100)[::-1])
                        # The client closes once it has the reply: our close_notify
                        # may meet its reset (ENOTCONN, EPIPE).
                        with contextlib.suppress(OSError, tlsapi.TLSError):
                            tls.shutdown(socket.SHUT_RDWR)
                except BaseException as exc:  # reported by the test thread
                    errors.append(exc)

            thread = threading.Thread(target=serve)
            thread.start()
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            with client_context.wrap_socket(sock, "localhost") as tls:
                tls.sendall(token)
                assert tls.recv(100) == token[::-1]
            thread.join(30)
            capture.finish()
        finally:
            report = capture.stop()
    assert not errors, errors
    decrypted = _decrypted(capture.path, port, keylog)
    assert token in decrypted and token[::-1] in decrypted, (decrypted, report)
    # Without the key log tshark sees only ciphertext: the check above can fail.
    assert _decrypted(capture.path, port, None) == []


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_a_resumed_connection_is_logged_too(
    stdlib: tlsapi.Backend, pki: PKI, tmp_path: Path, version: tlsapi.TLSVersion, side: str
) -> None:
    # A resumed TLS 1.2 handshake derives no new master secret, yet its
    # records are keyed by the new randoms: OpenSSL logs the session's master
    # secret under the new client random (a library that logs only when it
    # derives one leaves resumed connections undecryptable).
    path = tmp_path / "keys.log"
    logging: dict[str, Any] = {"keylog_filename": str(path)}
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        client_context = stdlib.client_context(
            pki.client_config(
                highest_supported_version=version, **(logging if side == "client" else {})
            )
        )
        server_context = stdlib.server_context(
            pki.server_config(**(logging if side == "server" else {}))
        )
    randoms = []
    session = None
    for _ in range(2):
        client = client_context.wrap_buffers("localhost", session=session)
        hello = _first_flight(client)
        randoms.append(hello[11:43].hex())
        server = server_context.wrap_buffers()
        server.receive_from_network(hello)
        handshake(client, server)
        assert transfer(server, client, b"t") == b"t"  # TLS 1.3 tickets read
        session = client.session
    assert client.session_reused
    labels = {"CLIENT_RANDOM"} if version is tlsapi.TLSVersion.TLSv1_2 else TLS13_LABELS
    assert _logged(path) == {label: set(randoms) for label in labels}
