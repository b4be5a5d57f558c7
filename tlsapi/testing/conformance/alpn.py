"""ALPN: agreement, no overlap, one-sided offers, unknown protocols as bytes.

Contract (the reference backend's behaviour, which every backend follows):
when client and server share no protocol, the handshake still succeeds and
``negotiated_protocol()`` is None on both sides; the application decides
what to do.  Never is a protocol chosen that the client did not offer.
"""

from __future__ import annotations

import pytest

from ..._backend import Backend, Capability
from ..._errors import ConfigurationError
from ..._protocols import NextProtocol
from ..pki import PKI
from ._support import Peers, lacks, skip_if_lacks

__all__ = ["TestALPN"]

H2, HTTP1 = NextProtocol.H2, NextProtocol.HTTP1


def _require_alpn(peers: Peers) -> None:
    config = peers.client_config(inner_protocols=(H2,))
    server_config = peers.server_config(inner_protocols=(H2,))
    skip_if_lacks(
        peers.client_backend,
        Capability.ALPN,
        lambda: peers.client_backend.client_context(config),
    )
    skip_if_lacks(
        peers.server_backend,
        Capability.SERVER_ALPN,
        lambda: peers.server_backend.server_context(server_config),
    )


class TestALPN:
    def test_one_common_protocol(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.connect(
            peers.client_config(inner_protocols=(H2, HTTP1)),
            peers.server_config(inner_protocols=(HTTP1,)),
        )
        assert client.negotiated_protocol() is HTTP1
        assert server.negotiated_protocol() is HTTP1

    def test_same_preference_picks_the_first(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.connect(
            peers.client_config(inner_protocols=(H2, HTTP1)),
            peers.server_config(inner_protocols=(H2, HTTP1)),
        )
        assert client.negotiated_protocol() is H2
        assert server.negotiated_protocol() is H2

    def test_no_overlap_gives_none(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.connect(
            peers.client_config(inner_protocols=(H2,)),
            peers.server_config(inner_protocols=(HTTP1,)),
        )
        assert client.negotiated_protocol() is None
        assert server.negotiated_protocol() is None

    def test_only_client_offers(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.connect(peers.client_config(inner_protocols=(H2, HTTP1)))
        assert client.negotiated_protocol() is None
        assert server.negotiated_protocol() is None

    def test_only_server_offers(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.connect(server=peers.server_config(inner_protocols=(H2, HTTP1)))
        assert client.negotiated_protocol() is None
        assert server.negotiated_protocol() is None

    def test_unknown_protocol_comes_back_as_bytes(self, peers: Peers) -> None:
        _require_alpn(peers)
        custom = b"x-tlsapi-test/1"
        client, server = peers.connect(
            peers.client_config(inner_protocols=(custom, H2)),
            peers.server_config(inner_protocols=(custom,)),
        )
        for side in (client, server):
            negotiated = side.negotiated_protocol()
            assert type(negotiated) is bytes
            assert negotiated == custom

    def test_bytes_spelling_of_a_member_comes_back_as_the_member(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.connect(
            peers.client_config(inner_protocols=(b"h2",)),
            peers.server_config(inner_protocols=(H2,)),
        )
        assert client.negotiated_protocol() is H2
        assert server.negotiated_protocol() is H2

    @pytest.mark.parametrize(
        "protocol",
        [
            NextProtocol.H2,
            NextProtocol.HTTP1,
            NextProtocol.HTTP1_0,
            NextProtocol.ACME_TLS1,
            NextProtocol.DOT,
            NextProtocol.IMAP,
            NextProtocol.XMPP_CLIENT,
        ],
        ids=lambda p: p.name,
    )
    def test_members(self, peers: Peers, protocol: NextProtocol) -> None:
        _require_alpn(peers)
        client, server = peers.connect(
            peers.client_config(inner_protocols=(protocol,)),
            peers.server_config(inner_protocols=(b"x-not-offered", protocol)),
        )
        assert client.negotiated_protocol() is protocol
        assert server.negotiated_protocol() is protocol

    def test_long_protocol_name(self, peers: Peers) -> None:
        _require_alpn(peers)
        # RFC 7301 allows 255 bytes; a library with a lower limit (GnuTLS: 31) must
        # say so when the context is made, never truncate or drop the name.
        name = b"p" * 255
        try:
            client_context = peers.client_context(peers.client_config(inner_protocols=(name,)))
            server_context = peers.server_context(peers.server_config(inner_protocols=(name,)))
        except ConfigurationError as exc:
            assert str(exc)
            pytest.skip(f"{peers!r}: a 255-byte ALPN name is refused: {exc}")
        client, server = peers.connect(client_context, server_context)
        assert client.negotiated_protocol() == name
        assert server.negotiated_protocol() == name

    def test_before_handshake(self, peers: Peers) -> None:
        _require_alpn(peers)
        client, server = peers.pair(
            peers.client_config(inner_protocols=(H2,)),
            peers.server_config(inner_protocols=(H2,)),
        )
        assert client.negotiated_protocol() is None
        assert server.negotiated_protocol() is None

    def test_without_capability(self, backend: Backend, pki: PKI) -> None:
        config = pki.client_config(inner_protocols=(H2,))
        if not lacks(backend, Capability.ALPN, lambda: backend.client_context(config)):
            backend.client_context(config)

    def test_server_side_without_capability(self, backend: Backend, pki: PKI) -> None:
        """A server that cannot choose a protocol refuses inner_protocols (Secure Transport)."""
        if Capability.SERVER not in backend.capabilities:
            pytest.skip(f"the {backend.name} backend has no server side")
        config = pki.server_config(inner_protocols=(H2,))
        if not lacks(backend, Capability.SERVER_ALPN, lambda: backend.server_context(config)):
            backend.server_context(config)
