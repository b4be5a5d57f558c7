"""Wireshark decrypts a real connection with a backend's key log (issue 11).

For each backend with ``Capability.KEY_LOG``, TLS 1.2 and TLS 1.3, the key
log written by its client (or its server): a real TCP connection over the
loopback interface is captured with ``tcpdump``, and ``tshark`` given the key
log must decrypt the application data both ways (a marker unique to the
test in each direction); without the key log it must decrypt nothing.
Then, without tshark, every pair of backends: each end's key log decrypts
the recorded connection (the kit's check) and both ends log the same secrets.

The hard parts:

- Readiness.  tcpdump says "listening" before its filter sees packets, so
  the capture is known to be running only when a probe datagram (to a UDP
  port of our own, also in the filter) has reached the file; the connection
  starts after that.  ``--immediate-mode`` and ``-U`` make tcpdump write each
  packet as it comes instead of in kernel blocks.
- Completeness.  tcpdump stops reading at SIGINT, dropping what the kernel
  still holds: a last probe is sent after the connection closed and tcpdump
  is stopped only once that probe is in the file, so every packet before it is.
- tshark needs ``-d tcp.port==PORT,tls``: the port is a random free one.
- Every process is stopped and reaped in ``finally`` (terminate, then kill).
"""

from __future__ import annotations

import contextlib
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import tlsapi
from tlsapi import Capability, InsecureConfigurationWarning, TLSVersion
from tlsapi.testing import PKI
from tlsapi.testing.conformance._support import Peers, require_version
from tlsapi.testing.conformance.keylog import check_secrets, logged_pair, read_keylog

pytestmark = pytest.mark.peer

TIMEOUT = 30.0
VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]


def _program(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        if sys.platform.startswith("linux"):
            pytest.fail(f"{name} is not installed (.ci/packages.txt names its Debian package)")
        pytest.skip(f"{name} is a Linux test tool here")
    return path


class Capture:
    """tcpdump on ``lo`` for one TCP port (and our probe port), written to ``path``."""

    def __init__(self, path: pathlib.Path, port: int) -> None:
        self.path = path
        self._probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._probe.bind(("127.0.0.1", 0))
        probe_port = self._probe.getsockname()[1]
        self._target = ("127.0.0.1", probe_port)
        self._process = subprocess.Popen(
            [
                _program("tcpdump"), "-i", "lo", "-n", "-U", "--immediate-mode",
                "-w", str(path), f"tcp port {port} or udp port {probe_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip

    def _size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def sync(self) -> None:
        """Return once a probe sent now is in the file (so is everything before it)."""
        before = self._size()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"tcpdump exited: {self._stderr()}")
            self._probe.sendto(b"tlsapi capture probe", self._target)
            for _ in range(20):
                time.sleep(0.005)
                if self._size() > max(before, 24):  # 24: the pcap file header
                    return
        raise AssertionError(f"tcpdump did not capture a probe in {TIMEOUT}s: {self._stderr()}")

    def _stderr(self) -> str:
        if self._process.poll() is None or self._process.stderr is None:
            return "(running)"
        return self._process.stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(TIMEOUT)
        if self._process.stderr is not None:
            self._process.stderr.close()
        self._probe.close()


@contextlib.contextmanager
def capturing(path: pathlib.Path, port: int) -> Iterator[Capture]:
    capture = Capture(path, port)
    try:
        capture.sync()
        yield capture
        capture.sync()
    finally:
        capture.stop()


def _decrypted(capture: pathlib.Path, port: int, keylog: pathlib.Path | None) -> list[bytes]:
    """The "Decrypted TLS" data sources tshark shows for the capture."""
    argv = [_program("tshark"), "-r", str(capture), "-n", "-d", f"tcp.port=={port},tls"]
    if keylog is not None:
        argv += ["-o", f"tls.keylog_file:{keylog}"]
    else:
        argv += ["-o", "tls.keylog_file:"]
    result = subprocess.run(
        [*argv, "-Y", "tcp", "-x"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, f"tshark failed ({result.returncode}): {result.stderr}"
    sources: list[bytes] = []
    current: bytearray | None = None
    for line in result.stdout.splitlines():
        if line.startswith("Decrypted TLS ("):
            current = bytearray()
            sources.append(b"")
            continue
        match = re.match(r"^[0-9a-f]{4}  ((?:[0-9a-f]{2} )+)", line)
        if current is not None and match:
            current += bytes.fromhex(match.group(1).replace(" ", ""))
            sources[-1] = bytes(current)
        elif not line.strip():
            current = None
    return sources


def _server_and_client(
    backend: tlsapi.Backend, side: str, pki: PKI, version: TLSVersion, keylog: pathlib.Path
) -> tuple[tlsapi.ClientContext, tlsapi.ServerContext]:
    stdlib = tlsapi.backend("stdlib")
    only: dict[str, Any] = {
        "lowest_supported_version": version,
        "highest_supported_version": version,
    }
    client_backend = backend if Capability.CLIENT in backend.capabilities else stdlib
    server_backend = backend if Capability.SERVER in backend.capabilities else stdlib
    logging_backend = client_backend if side == "client" else server_backend
    if logging_backend is not backend:
        pytest.skip(f"backend {backend.name!r} has no {side} side")
    for each in (client_backend, server_backend):
        capability = Capability.TLSv1_3 if version is TLSVersion.TLSv1_3 else Capability.TLSv1_2
        if capability not in each.capabilities:
            pytest.skip(f"backend {each.name!r} lacks {capability.value!r}")
    client_config = pki.client_config(**only)
    server_config = pki.server_config(**only)
    if side == "client":
        client_config = client_config.update(keylog_filename=str(keylog))
    else:
        server_config = server_config.update(keylog_filename=str(keylog))
    try:
        with pytest.warns(InsecureConfigurationWarning, match="keylog_filename"):
            client = client_backend.client_context(client_config)
            server = server_backend.server_context(server_config)
    except tlsapi.ConfigurationError as exc:
        # A library with TLS 1.3 secrets only (NSS) refuses a TLS 1.2 key log, saying so.
        if version is TLSVersion.TLSv1_3 or "TLS 1.3" not in str(exc):
            raise
        pytest.skip(f"TLS 1.2 key log refused as its library cannot log it: {exc}")
    return client, server


def _converse(
    listener: socket.socket,
    client_context: tlsapi.ClientContext,
    server_context: tlsapi.ServerContext,
    markers: tuple[bytes, bytes],
) -> None:
    failures: list[BaseException] = []

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            raw.settimeout(TIMEOUT)
            with server_context.wrap_socket(raw) as tls:
                received = bytearray()
                while len(received) < len(markers[0]):
                    chunk = tls.recv(4096)
                    assert chunk, "EOF before the client's marker"
                    received += chunk
                assert bytes(received) == markers[0]
                tls.sendall(markers[1])
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    raw = socket.create_connection(listener.getsockname(), timeout=TIMEOUT)
    with client_context.wrap_socket(raw, "localhost") as tls:
        tls.sendall(markers[0])
        received = bytearray()
        while len(received) < len(markers[1]):
            chunk = tls.recv(4096)
            assert chunk, "EOF before the server's marker"
            received += chunk
        assert bytes(received) == markers[1]
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "the server thread did not finish"
    if failures:
        raise failures[0]


@pytest.mark.parametrize("version", VERSIONS, ids=str)
@pytest.mark.parametrize("side", ["client", "server"])
def test_tshark_decrypts_with_the_key_log(
    backend: tlsapi.Backend, pki: PKI, tmp_path: pathlib.Path, version: TLSVersion, side: str
) -> None:
    keylog = tmp_path / "keys.log"
    if Capability.KEY_LOG not in backend.capabilities:
        config = pki.client_config(keylog_filename=str(keylog))
        maker: Callable[[tlsapi.TLSConfiguration], object] = backend.client_context
        if side == "server":
            config, maker = pki.server_config(keylog_filename=str(keylog)), backend.server_context
        role = Capability.CLIENT if side == "client" else Capability.SERVER
        if role in backend.capabilities:
            with pytest.raises(tlsapi.ConfigurationError), warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureConfigurationWarning)
                maker(config)
        pytest.skip(f"backend {backend.name!r} lacks 'key-log' (refused as required)")
    client_context, server_context = _server_and_client(backend, side, pki, version, keylog)
    token = secrets.token_hex(12)
    markers = (f"tlsapi-client-{token}".encode(), f"tlsapi-server-{token}".encode())
    capture_path = tmp_path / "connection.pcap"
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        with capturing(capture_path, port):
            _converse(listener, client_context, server_context, markers)

    raw = capture_path.read_bytes()
    for marker in markers:
        assert marker not in raw, "the marker crossed the wire in the clear"
    assert keylog.read_text().strip(), "the key log is empty"
    decrypted = _decrypted(capture_path, port, keylog)
    everything = b"\n".join(decrypted)
    assert markers[0] in everything, (
        f"tshark did not decrypt the client's data with the {side}'s key log: {decrypted}"
    )
    assert markers[1] in everything, (
        f"tshark did not decrypt the server's data with the {side}'s key log: {decrypted}"
    )
    # Without the key log tshark sees only ciphertext.
    assert not any(m in b"".join(_decrypted(capture_path, port, None)) for m in markers)


# -- pairwise, without tshark ------------------------------------------------------
#
# Every client backend against every server backend, both logging: the kit
# records the connection and decrypts it with each end's secrets (RFC 8446 /
# RFC 5246 key derivation, as Wireshark does), and both ends log the same.


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_keylog_pairwise(
    client_backend: tlsapi.Backend,
    server_backend: tlsapi.Backend,
    pki: PKI,
    tmp_path: pathlib.Path,
    version: TLSVersion,
) -> None:
    for each in (client_backend, server_backend):
        if Capability.KEY_LOG not in each.capabilities:
            pytest.skip(
                f"backend {each.name!r} lacks 'key-log' (its refusal: the kit's TestKeyLog)"
            )
    pair = Peers(client_backend, server_backend, pki)
    require_version(pair, version)
    client_log, server_log = tmp_path / "client.log", tmp_path / "server.log"
    wire = logged_pair(pair, version, client_log, server_log)
    token = secrets.token_hex(8).encode()
    markers = (b"from the client " + token, b"from the server " + token)
    wire.send(wire.client, markers[0])
    wire.send(wire.server, markers[1])
    client_entries, server_entries = read_keylog(client_log), read_keylog(server_log)
    check_secrets(wire, client_entries, markers)
    check_secrets(wire, server_entries, markers)
    random = wire.client_random
    mine = {key: value for key, value in client_entries.items() if key[1] == random}
    theirs = {key: value for key, value in server_entries.items() if key[1] == random}
    shared = mine.keys() & theirs.keys()
    assert shared, "the two ends logged no label in common"
    assert {k: mine[k] for k in shared} == {k: theirs[k] for k in shared}
