"""A refused TLS 1.2 renegotiation leaves the connection usable, on every backend.

No backend renegotiates (the design's secure defaults).  A peer that asks
is refused with a no_renegotiation warning (RFC 5246 §7.2.2, RFC 5746 §4),
and the connection goes on: data after it flows both ways.  The peer that
asks is GnuTLS, through the gnutls backend's own session: no tlsapi API
starts a renegotiation, and OpenSSL's s_client gives up when refused (it
turns the warning into a fatal handshake_failure).
"""

from __future__ import annotations

from typing import Any

import pytest

import tlsapi
from tlsapi import TLSVersion, WantReadError
from tlsapi.testing import PKI, handshake, pump, transfer

TLS12: dict[str, Any] = {"highest_supported_version": TLSVersion.TLSv1_2}


def _gnutls() -> tuple[tlsapi.Backend, Any]:
    try:
        backend = tlsapi.backend("gnutls")
    except tlsapi.ConfigurationError as exc:
        pytest.skip(f"the renegotiating peer is GnuTLS, which is not usable here: {exc}")
    from tlsapi_gnutls._binding import lib

    return backend, lib


def _session(buffer: tlsapi.TLSWrappedBuffer) -> Any:
    return buffer._session  # type: ignore[attr-defined]


@pytest.mark.parametrize("data_first", [False, True], ids=["alone", "after-data"])
def test_client_renegotiation_is_refused_and_the_connection_goes_on(
    server_backend: tlsapi.Backend, pki: PKI, data_first: bool
) -> None:
    gnutls, lib = _gnutls()
    client = gnutls.client_context(pki.client_config(**TLS12)).wrap_buffers("localhost")
    server = server_backend.server_context(pki.server_config(**TLS12)).wrap_buffers()
    handshake(client, server)
    assert transfer(client, server, b"before") == b"before"
    session = _session(client)
    if data_first:  # a record and the hello in one delivery: one read meets both
        client.write(b"just before")
    # The client starts a new handshake: a ClientHello under the current keys.
    assert lib.gnutls_handshake(session) == lib.GNUTLS_E_AGAIN
    pump(client, server)
    if data_first:
        assert server.read() == b"just before"
    with pytest.raises(WantReadError):
        server.read()  # refused: no data, and no error
    pump(server, client)
    # GnuTLS reports the server's answer: a no_renegotiation warning.
    assert lib.gnutls_handshake(session) == lib.GNUTLS_E_WARNING_ALERT_RECEIVED
    assert lib.gnutls_alert_get(session) == lib.GNUTLS_A_NO_RENEGOTIATION
    assert transfer(client, server, b"after the refusal") == b"after the refusal"
    assert transfer(server, client, b"and back") == b"and back"


def test_server_renegotiation_request_is_refused_and_the_connection_goes_on(
    client_backend: tlsapi.Backend, pki: PKI
) -> None:
    gnutls, lib = _gnutls()
    client = client_backend.client_context(pki.client_config(**TLS12)).wrap_buffers("localhost")
    server = gnutls.server_context(pki.server_config(**TLS12)).wrap_buffers()
    handshake(client, server)
    assert transfer(server, client, b"before") == b"before"
    session = _session(server)
    assert lib.gnutls_rehandshake(session) == 0  # a HelloRequest
    pump(server, client)
    with pytest.raises(WantReadError):
        client.read()  # refused: no data, and no error
    pump(client, server)
    with pytest.raises(WantReadError):
        server.read()  # the client's warning is consumed
    assert lib.gnutls_alert_get(session) == lib.GNUTLS_A_NO_RENEGOTIATION
    assert transfer(client, server, b"after the refusal") == b"after the refusal"
    assert transfer(server, client, b"and back") == b"and back"
