"""The NSS server reads the ClientHello once (the core's HelloReader): random and extensions.

The key log needs the client random, which NSS does not report, and the
server's ticket handling reads the hello's supported_versions,
session_ticket and pre_shared_key extensions: all of it comes from the
core's parse of the hello.  A hello the core cannot parse but NSS accepts
(a server_name that is not ASCII) still gets its random, read off the
records received.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi import InsecureConfigurationWarning, TLSVersion
from tlsapi.testing import PKI, handshake
from tlsapi.testing.conformance.malformed import client_first_flight, with_extension

ONLY13: dict[str, Any] = {
    "lowest_supported_version": TLSVersion.TLSv1_3,
    "highest_supported_version": TLSVersion.TLSv1_3,
}


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss hello once")


def _logging_server(nss: tlsapi.Backend, pki: PKI, log: Path) -> tlsapi.TLSWrappedBuffer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        context = nss.server_context(pki.server_config(keylog_filename=str(log), **ONLY13))
    return context.wrap_buffers()


def _randoms(log: Path) -> set[bytes]:
    lines = [line.split() for line in log.read_text().splitlines() if line[:1] not in ("", "#")]
    assert {line[0] for line in lines} >= {"CLIENT_HANDSHAKE_TRAFFIC_SECRET"}
    return {bytes.fromhex(line[1]) for line in lines}


@pytest.mark.parametrize("piece", [1, 7, 1 << 16], ids=["bytes", "pieces", "whole"])
def test_the_server_logs_the_random_of_the_hello(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path, piece: int
) -> None:
    log = tmp_path / "keys.log"
    server = _logging_server(nss, pki, log)
    client = nss.client_context(pki.client_config(**ONLY13)).wrap_buffers("localhost")
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    hello = client.peek_outgoing(client.outgoing_bytes_buffered())
    client.consume_outgoing(len(hello))
    for i in range(0, len(hello), piece):
        server.receive_from_network(hello[i : i + piece])
    handshake(client, server)
    # The random follows the record header (5), the message header (4), the version (2).
    assert _randoms(log) == {hello[11:43]}


def test_a_hello_the_core_cannot_parse_still_gives_the_random(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    """NSS goes on with a server_name that is not ASCII (see the conformance kit's
    hostile names); its key log lines still name the client random."""
    log = tmp_path / "keys.log"
    server = _logging_server(nss, pki, log)
    flight = client_first_flight(pki, ())
    hello = with_extension(flight, 0, b"\x00\x05\x00\x00\x02\xc3\xa9")  # host name "é"
    for i in range(0, len(hello), 100):
        server.receive_from_network(hello[i : i + 100])
    with pytest.raises(tlsapi.WantReadError):
        server.do_handshake()  # NSS answers (its flight is out), the client's is awaited
    assert server.outgoing_bytes_buffered()
    assert _randoms(log) == {hello[11:43]}
