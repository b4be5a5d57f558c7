"""Application-layer protocol names for ALPN."""

from __future__ import annotations

import enum

__all__ = ["NextProtocol"]


class NextProtocol(bytes, enum.Enum):
    """Well-known ALPN protocol identifiers (IANA registry).

    Any other protocol may be given as plain ``bytes``; a negotiated protocol
    that is not listed here comes back as ``bytes``.

    Members *are* their wire bytes (a ``bytes`` subclass), so a negotiated
    protocol compares and hashes like them: ``NextProtocol.H2 == b"h2"``, and
    ``{b"h2": ...}[NextProtocol.H2]`` works.  They never equal a ``str``
    (``NextProtocol.H2 != "h2"``), exactly as ``b"h2" != "h2"``: an unlisted
    protocol comes back as raw ``bytes``, which cannot equal a ``str`` either,
    so ``negotiated_protocol() == "h2"`` would work for some protocols and
    silently fail for others.  Compare with bytes or members, or decode:
    ``protocol.decode()`` gives ``"h2"`` for a member and raw bytes alike.
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
