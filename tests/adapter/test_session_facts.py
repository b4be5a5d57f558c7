"""What an SSLObject tells about its session, compared with what ssl's own tells.

Each test runs a tlsapi SSLObject against the ssl module's SSLObject over
MemoryBIOs (both sides, TLS 1.2 and 1.3), or two tlsapi ends against each
other, and holds the adapter to what ``ssl`` answers for the same session.
"""

from __future__ import annotations

import ssl

import pytest

import tlsapi
from tlsapi._stdlib._buffer import StdlibBuffer

from .conftest import Files, make_client, make_server
from .test_bio import End, _handshake

VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


def _pin(context: ssl.SSLContext, version: ssl.TLSVersion) -> ssl.SSLContext:
    context.minimum_version = context.maximum_version = version
    return context


def _pair(
    files: Files,
    client_backend: tlsapi.Backend | None,
    server_backend: tlsapi.Backend | None,
    version: ssl.TLSVersion,
) -> tuple[End, End]:
    client = End(_pin(make_client(files, client_backend), version), False)
    server = End(_pin(make_server(files, server_backend), version), True)
    return client, server


def _gives_channel_binding(end: End) -> bool:
    """The backend under this tlsapi end can tell tls-unique (stdlib, or a buffer offering it)."""
    buffer = end.obj._buffer  # type: ignore[attr-defined]
    return isinstance(buffer, StdlibBuffer) or hasattr(buffer, "get_channel_binding")


# -- get_channel_binding("tls-unique") ---------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
@pytest.mark.parametrize("side", ["client", "server"])
def test_channel_binding_as_ssl_gives_it(
    backend: tlsapi.Backend, files: Files, side: str, version: ssl.TLSVersion
) -> None:
    ours_is_client = side == "client"
    client, server = _pair(
        files,
        backend if ours_is_client else None,
        None if ours_is_client else backend,
        version,
    )
    ours, theirs = (client, server) if ours_is_client else (server, client)
    assert ours.obj.get_channel_binding() is None  # no handshake yet, as ssl says
    _handshake(client, server)
    assert ours.obj.version() == version.name.replace("_", ".")

    expected = theirs.obj.get_channel_binding("tls-unique")
    # ssl gives the client's Finished: 12 bytes in TLS 1.2, a hash's length in TLS 1.3.
    assert expected and len(expected) == (12 if version is ssl.TLSVersion.TLSv1_2 else 48)
    if _gives_channel_binding(ours):
        assert ours.obj.get_channel_binding() == expected
    else:  # NSS has no public call that gives it
        assert ours.obj.get_channel_binding() is None
    with pytest.raises(ValueError, match="not implemented"):
        ours.obj.get_channel_binding("tls-server-end-point")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_channel_binding_both_ends_tlsapi(
    backend: tlsapi.Backend, files: Files, version: ssl.TLSVersion
) -> None:
    client, server = _pair(files, backend, backend, version)
    _handshake(client, server)
    ours = client.obj.get_channel_binding()
    assert ours == server.obj.get_channel_binding()
    if _gives_channel_binding(client):
        assert ours
        # Bound to this session: a second connection has another.
        again_client, again_server = _pair(files, backend, backend, version)
        _handshake(again_client, again_server)
        assert again_client.obj.get_channel_binding() not in (None, ours)
    else:
        assert ours is None
