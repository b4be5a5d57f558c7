"""The NSS backend's key log: NSS's TLS 1.3 secrets, checked against OpenSSL's own key log.

OpenSSL writes the same secrets for the same connection (``-keylogfile``),
so every line we write must be one of its lines: same label, same client
random, same secret.  TLS 1.2 cannot be logged (NSS never hands out a TLS
1.2 master secret), so a configuration that allows it is refused.
"""

from __future__ import annotations

import socket
import warnings
from pathlib import Path
from typing import Any

import pytest
from _nss_peers import Server, openssl_client, openssl_server, write_files

import tlsapi
from tlsapi import ConfigurationError, InsecureConfigurationWarning, TLSVersion
from tlsapi.testing import PKI

ONLY13: dict[str, Any] = {
    "lowest_supported_version": TLSVersion.TLSv1_3,
    "highest_supported_version": TLSVersion.TLSv1_3,
}
LABELS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
}


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss keylog")


def _lines(path: Path) -> set[str]:
    return {line for line in path.read_text().splitlines() if line and not line.startswith("#")}


def _check_against(ours: set[str], theirs: set[str]) -> None:
    assert {line.split()[0] for line in ours} == LABELS
    assert len({line.split()[1] for line in ours}) == 1  # one connection, one client random
    assert ours <= theirs, f"ours:\n{sorted(ours)}\nOpenSSL's:\n{sorted(theirs)}"


def test_our_server_logs_what_openssl_client_logs(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    ca = write_files(pki, tmp_path)
    ours, theirs = tmp_path / "ours.log", tmp_path / "theirs.log"
    with pytest.warns(InsecureConfigurationWarning, match="keylog_filename"):
        context = nss.server_context(pki.server_config(keylog_filename=str(ours), **ONLY13))
    with Server(context) as server:
        output = openssl_client(server.port, ca, "-tls1_3", "-keylogfile", str(theirs))
    assert "HELLO" in output, output
    _check_against(_lines(ours), _lines(theirs))


def test_our_client_logs_what_openssl_server_logs(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    ca = write_files(pki, tmp_path)
    files = pki.server_identity.write(tmp_path)
    ours, theirs = tmp_path / "ours.log", tmp_path / "theirs.log"
    with pytest.warns(InsecureConfigurationWarning):
        context = nss.client_context(pki.client_config(keylog_filename=str(ours), **ONLY13))
    arguments = ["-cert", str(files.cert), "-key", str(files.key), "-cert_chain", str(files.chain)]
    arguments += ["-CAfile", str(ca), "-rev", "-keylogfile", str(theirs)]
    with openssl_server(arguments) as port:
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        with context.wrap_socket(raw, "localhost") as tls:
            tls.sendall(b"abc\n")
            answer = b""
            while not answer.endswith(b"\n"):
                answer += tls.recv(100)
            assert answer == b"cba\n"
    _check_against(_lines(ours), _lines(theirs))


@pytest.mark.parametrize("side", ["client", "server"])
def test_a_range_with_tls12_is_refused(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path, side: str
) -> None:
    log = tmp_path / "keys.log"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        with pytest.raises(
            ConfigurationError, match=r"lowest_supported_version=TLSVersion\.TLSv1_3"
        ):
            if side == "client":
                nss.client_context(pki.client_config(keylog_filename=str(log)))
            else:
                nss.server_context(pki.server_config(keylog_filename=str(log)))
    assert "TLS 1.3 only" in nss.details["key_log"]
    assert tlsapi.Capability.KEY_LOG in nss.capabilities


def test_key_updates_are_not_logged_twice(nss: tlsapi.Backend, pki: PKI, tmp_path: Path) -> None:
    """Later traffic secrets (epoch 4 on) have no NSS Key Log label: only the four lines."""
    from tlsapi.testing import handshake, pump

    log = tmp_path / "keys.log"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        client_context = nss.client_context(pki.client_config(keylog_filename=str(log), **ONLY13))
    server_context = nss.server_context(pki.server_config(**ONLY13))
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    client.key_update()  # type: ignore[attr-defined]
    client.write(b"after")
    pump(client, server)
    assert server.read(10) == b"after"
    assert {line.split()[0] for line in _lines(log)} == LABELS
    assert len(_lines(log)) == 4
