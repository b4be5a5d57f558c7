"""Connection behaviour specific to the NSS backend: key updates, the memio layer's edges."""

from __future__ import annotations

import gc

import pytest

import tlsapi
from tlsapi import RaggedEOF, TLSVersion
from tlsapi.testing import PKI, close, handshake, transfer


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss connection")


@pytest.mark.parametrize("peer", ["nss", "stdlib"])
@pytest.mark.parametrize("nss_side", ["client", "server"])
def test_key_update_both_ways(nss: tlsapi.Backend, pki: PKI, peer: str, nss_side: str) -> None:
    other = tlsapi.backend(peer)
    client_backend, server_backend = (nss, other) if nss_side == "client" else (other, nss)
    client = client_backend.client_context(pki.client_config()).wrap_buffers("localhost")
    server = server_backend.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    assert client.negotiated_tls_version is TLSVersion.TLSv1_3
    ours, theirs = (client, server) if nss_side == "client" else (server, client)
    for _ in range(3):
        ours.key_update()  # type: ignore[attr-defined]
        assert ours.outgoing_bytes_buffered() > 0
        assert transfer(ours, theirs, b"after our update") == b"after our update"
        # The peer answered our request with its own KeyUpdate: data flows back too.
        assert transfer(theirs, ours, b"after theirs") == b"after theirs"
    close(client, server)


def test_key_update_needs_a_handshake(nss: tlsapi.Backend, pki: PKI) -> None:
    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    with pytest.raises(tlsapi.TLSError):
        client.key_update()  # type: ignore[attr-defined]


def test_close_notify_then_eof_is_clean_and_eof_alone_is_ragged(
    nss: tlsapi.Backend, pki: PKI
) -> None:
    for send_close_notify in (True, False):
        client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
        server = nss.server_context(pki.server_config()).wrap_buffers()
        handshake(client, server)
        server.write(b"last words")
        if send_close_notify:
            server.shutdown()
        data = server.peek_outgoing(server.outgoing_bytes_buffered())
        client.receive_from_network(data)
        client.receive_from_network(b"")  # the transport's end of file, right behind
        assert client.read(100) == b"last words"
        if send_close_notify:
            assert client.read(100) == b""
            assert client.read(100) == b""
        else:
            with pytest.raises(RaggedEOF):
                client.read(100)
            with pytest.raises(RaggedEOF):  # and it stays failed
                client.write(b"x")


def test_connections_leave_nothing_behind(nss: tlsapi.Backend, pki: PKI) -> None:
    from tlsapi_nss._runtime import RUNTIME

    client_context = nss.client_context(pki.client_config())
    server_context = nss.server_context(pki.server_config(inner_protocols=(b"a",)))
    # One connection first: a server profile builds the model a TLS 1.3 hello needs
    # (NSS's own tickets off) when it first meets one, and keeps it.
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    close(client, server)
    del client, server
    gc.collect()
    before = RUNTIME.live_objects
    for _ in range(50):
        client = client_context.wrap_buffers("localhost")
        server = server_context.wrap_buffers()
        handshake(client, server)
        assert client.getpeercert() is not None
        close(client, server)
        del client, server  # no reference cycle: freed at once, no collection needed
    assert RUNTIME.live_objects == before
