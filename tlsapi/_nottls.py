"""Recognising a peer that does not speak TLS from its first bytes.

A TLS record starts with a content type (20-23) and version major 3; an HTTP
server, an SSH banner or a mail greeting starts with text.  Libraries either
wait for a "record" of the text's bytes 3-4 as length (NSS) or report a
version or packet error (OpenSSL, GnuTLS); the core checks once, for every
backend, and fails with NotTLSError quoting what the peer sent.
"""

from __future__ import annotations

__all__ = ["QUOTED", "not_tls"]

# change_cipher_spec, alert, handshake, application_data (heartbeat is never negotiated).
_CONTENT_TYPES = frozenset({20, 21, 22, 23})
_HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"CONNECT ")
# How many of the peer's first bytes an error message quotes.
QUOTED = 24


def not_tls(start: bytes) -> str | None:
    """Why ``start``, the peer's first bytes (at least one), cannot begin TLS; None if it may.

    Only the first two bytes decide, so a peer speaking another protocol is
    refused as soon as they arrive.  An SSLv2-style hello (high bit set) is
    refused too: no backend of ours negotiates with one.
    """
    if start[0] in _CONTENT_TYPES and (len(start) < 2 or start[1] == 3):
        return None
    return f"the peer did not answer with TLS (it sent {start[:QUOTED]!r}{_guess(start)})"


def _guess(start: bytes) -> str:
    """What the peer may have spoken instead, for the error message."""
    if start.startswith(b"HTTP/"):
        return ": an HTTP server? use http://, or the port that serves TLS"
    if start.startswith(_HTTP_METHODS):
        return ": an HTTP request? the client is not using TLS"
    if start.startswith(b"SSH-"):
        return ": an SSH server? wrong port"
    if start[:3].isdigit() and start[3:4] in (b" ", b"-"):
        return ": a mail or FTP server's greeting? it may need STARTTLS, or another port"
    if start[0] & 0x80:
        return ": an SSLv2-style hello, which is not accepted"
    return ""
