"""What a GnuTLS session must tolerate from its peer: key updates, renegotiation, HRR."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from tlsapi_gnutls._binding import lib
from tlsapi_gnutls._buffer import GnuTLSBuffer

import tlsapi
from tlsapi import TLSConfiguration, TLSVersion, WantReadError
from tlsapi.testing import PKI, handshake, pump, read_available, transfer


def _session(buffer: tlsapi.TLSWrappedBuffer) -> Any:
    assert isinstance(buffer, GnuTLSBuffer)
    return buffer._session


@pytest.mark.parametrize("peer", ["gnutls", "stdlib"])
def test_tls13_key_update_from_the_peer(pki: PKI, gnutls: tlsapi.Backend, peer: str) -> None:
    other = tlsapi.backend(peer)
    client = other.client_context(pki.client_config()).wrap_buffers("localhost")
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    assert server.negotiated_tls_version is TLSVersion.TLSv1_3
    assert transfer(client, server, b"before") == b"before"
    # Our server updates its keys and asks the client to update too (KeyUpdate,
    # update_requested); the client's answer is a post-handshake message for us.
    assert lib.gnutls_session_key_update(_session(server), lib.GNUTLS_KU_PEER) == 0
    assert transfer(server, client, b"after our update" * 1000) == b"after our update" * 1000
    assert transfer(client, server, b"after theirs" * 1000) == b"after theirs" * 1000
    if peer == "gnutls":
        # And the other way round: a KeyUpdate arriving at our client between records.
        assert lib.gnutls_session_key_update(_session(client), lib.GNUTLS_KU_PEER) == 0
        assert transfer(client, server, b"x" * 50_000) == b"x" * 50_000
        assert transfer(server, client, b"y" * 50_000) == b"y" * 50_000


def test_tls12_renegotiation_request_is_refused_and_the_connection_goes_on(
    pki: PKI, gnutls: tlsapi.Backend
) -> None:
    tls12 = {"highest_supported_version": TLSVersion.TLSv1_2}
    client = gnutls.client_context(pki.client_config(**tls12)).wrap_buffers("localhost")
    server = gnutls.server_context(pki.server_config(**tls12)).wrap_buffers()
    handshake(client, server)
    # A HelloRequest from the server: our client answers no_renegotiation (a warning).
    assert lib.gnutls_rehandshake(_session(server)) == 0
    pump(server, client)
    with pytest.raises(WantReadError):
        client.read()
    pump(client, server)
    with pytest.raises(WantReadError):
        server.read()  # the warning alert is consumed, nothing else happens
    assert transfer(client, server, b"still here") == b"still here"
    assert transfer(server, client, b"so am I") == b"so am I"


OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
def test_sni_callback_runs_once_across_a_hello_retry_request(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openssl s_client sends a key share only for P-521; our server wants P-256: HRR."""
    hellos: list[int] = []
    original = GnuTLSBuffer._on_client_hello

    def counting(self: GnuTLSBuffer, message: Any) -> int:
        hellos.append(1)
        return original(self, message)

    monkeypatch.setattr(GnuTLSBuffer, "_on_client_hello", counting)
    names: list[str | None] = []

    def callback(
        buffer: tlsapi.TLSWrappedBuffer, name: str | None, config: TLSConfiguration
    ) -> TLSConfiguration | None:
        names.append(name)
        return None

    context = gnutls.server_context(pki.server_config(sni_callback=callback))
    root = pki.write_root(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        result: dict[str, Any] = {}

        def serve() -> None:
            try:
                connection, _ = listener.accept()
                with context.wrap_socket(connection) as tls:
                    tls.do_handshake()
                    result["host"] = tls.server_hostname
                    tls.sendall(b"hello from gnutls\n")
                    tls.shutdown(socket.SHUT_WR)
            except BaseException as exc:  # reported below
                result["error"] = exc

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        assert OPENSSL is not None
        child = subprocess.run(
            [
                OPENSSL,
                "s_client",
                "-connect",
                f"127.0.0.1:{port}",
                "-servername",
                "sni.test",
                "-groups",
                "P-521:P-256",
                "-tls1_3",
                "-CAfile",
                str(root),
                "-quiet",
            ],
            input=b"",
            capture_output=True,
            timeout=60,
            check=False,
        )
        server.join(60)
    assert "error" not in result, result.get("error")
    assert b"hello from gnutls" in child.stdout, child.stderr
    assert len(hellos) == 2, "no HelloRetryRequest happened: the test proves nothing"
    assert names == ["sni.test"]
    assert result["host"] == "sni.test"


def test_readinto_fills_from_every_record_already_received(
    pki: PKI, gnutls: tlsapi.Backend
) -> None:
    """readinto() decrypts record after record straight into the caller's buffer."""
    client = gnutls.client_context(pki.client_config()).wrap_buffers("localhost")
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    for _ in range(3):
        pump(server, client)
        read_available(client)
    payload = bytes(range(256)) * 4096  # 1 MiB: 64 records of 16 KiB
    assert client.write(payload) == len(payload)
    pump(client, server)
    target = bytearray(len(payload))
    assert server.readinto(target) == len(payload)  # one call, not one per record
    assert target == payload
    with pytest.raises(WantReadError):
        server.readinto(target)
