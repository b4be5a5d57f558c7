"""Application-layer protocol names for ALPN."""

from __future__ import annotations

import enum

__all__ = ["NextProtocol"]


class NextProtocol(enum.Enum):
    """Well-known ALPN protocol identifiers (IANA registry).

    Any other protocol may be given as plain ``bytes``; a negotiated protocol
    that is not listed here comes back as ``bytes``.
    """

    H2 = b"h2"
    H2C = b"h2c"
    H3 = b"h3"
    HTTP1 = b"http/1.1"
    HTTP1_0 = b"http/1.0"
    SPDY3 = b"spdy/3"
    WEBRTC = b"webrtc"
    C_WEBRTC = b"c-webrtc"
    FTP = b"ftp"
    IMAP = b"imap"
    POP3 = b"pop3"
    MANAGESIEVE = b"managesieve"
    COAP = b"coap"
    XMPP_CLIENT = b"xmpp-client"
    XMPP_SERVER = b"xmpp-server"
    ACME_TLS1 = b"acme-tls/1"
    MQTT = b"mqtt"
    DOT = b"dot"
    NTSKE1 = b"ntske/1"
    SUNRPC = b"sunrpc"
    IRC = b"irc"
    SMB = b"smb"
    POSTGRESQL = b"postgresql"

    @classmethod
    def from_bytes(cls, value: bytes) -> NextProtocol | bytes:
        """The member for ``value``, or ``value`` itself when it is not listed."""
        try:
            return cls(value)
        except ValueError:
            return value


def protocol_bytes(protocol: NextProtocol | bytes) -> bytes:
    """The wire form of an ALPN protocol given as a member or as bytes."""
    return protocol.value if isinstance(protocol, NextProtocol) else bytes(protocol)
