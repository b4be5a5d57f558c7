"""TicketBook: which session tickets a server configuration issued, so it resumes only those.

NSS encrypts every server's tickets with one key per process (made at first
use, kept in memory, never rotated), so any NSS server socket in the process
would resume any NSS ticket: one made under another context, with another
client-certificate trust, included.  The backend therefore keeps, per server
configuration (per Profile), its own record, and lets NSS resume only what
is in it:

- TLS 1.2: the tickets themselves.  A TLS 1.2 NewSessionTicket travels in
  the clear before the server's ChangeCipherSpec, so the server reads the
  tickets it issues off its own output.  A ClientHello carrying a ticket
  that is not in the book (another context's, or older than ``lifetime``)
  gets a socket with tickets off: NSS ignores the ticket and makes a full
  handshake.
- TLS 1.3: NSS's automatic tickets are off; the server sends its own with
  ``SSL_SendSessionTicket``, carrying ``token()`` (this book's random
  identity, the time of issue and the cipher suite), which NSS shows again
  to the HelloRetryRequest callback of a ClientHello that resumes it.  NSS
  cannot decline a ticket it has decrypted but by failing the handshake, so
  a ClientHello that offers a ticket is first read by a throwaway NSS socket
  that only reports the token (``NSSBuffer._ticket_token``).  Another book's
  ticket (or one of ours older than ``lifetime``) then gets a socket without
  the TLS 1.3 suites of the ticket's hash: NSS resumes only a ticket whose
  suite has the negotiated suite's hash, so it makes a full handshake.  Where
  the client offers no suite of the other hash, the HelloRetryRequest
  callback refuses the ticket with a handshake_failure alert.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

__all__ = ["TLS13_SUITES", "TicketBook", "TokenProbe", "same_hash", "token_suite"]

# What NSS announces as every ticket's lifetime (ssl_ticket_lifetime, 2 days).
LIFETIME = 2 * 24 * 60 * 60
# The most TLS 1.2 tickets one configuration remembers (the oldest go first).
_MAX_TICKETS = 20000
_IDENTITY_SIZE = 16
_TOKEN_SIZE = _IDENTITY_SIZE + 8 + 2


class TicketBook:
    """One server configuration's tickets (TLS 1.2) and ticket identity (TLS 1.3)."""

    def __init__(self, lifetime: float = LIFETIME) -> None:
        self.lifetime = lifetime
        self._identity = os.urandom(_IDENTITY_SIZE)
        self._issued: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def issued(self, ticket: bytes) -> None:
        """Remember a TLS 1.2 ticket this configuration's server just sent."""
        with self._lock:
            self._issued[ticket] = time.monotonic()
            self._issued.move_to_end(ticket)
            while len(self._issued) > _MAX_TICKETS:
                self._issued.popitem(last=False)

    def knows(self, ticket: bytes) -> bool:
        """Whether a TLS 1.2 ticket is one of ours and young enough to resume."""
        with self._lock:
            issued = self._issued.get(ticket)
            if issued is None:
                return False
            if time.monotonic() - issued > self.lifetime:
                del self._issued[ticket]
                return False
            return True

    def token(self, suite: int) -> bytes:
        """What a TLS 1.3 ticket of ours carries: our identity, the time, the suite."""
        return self._identity + int(time.time()).to_bytes(8, "big") + suite.to_bytes(2, "big")

    def owns(self, token: bytes) -> bool:
        """Whether a TLS 1.3 ticket's token is ours and young enough to resume."""
        if len(token) != _TOKEN_SIZE or token[:_IDENTITY_SIZE] != self._identity:
            return False
        issued = int.from_bytes(token[_IDENTITY_SIZE : _IDENTITY_SIZE + 8], "big")
        return -60 <= time.time() - issued <= self.lifetime


def token_suite(token: bytes) -> int | None:
    """The cipher suite a token of any TicketBook names (None: not such a token)."""
    if len(token) != _TOKEN_SIZE:
        return None
    return int.from_bytes(token[-2:], "big")


# TLS 1.3 suites by the hash of their key schedule (RFC 8446 B.4): a ticket
# resumes only under a suite with the same hash.
SHA384_SUITES = frozenset({0x1302})
TLS13_SUITES = frozenset({0x1301, 0x1302, 0x1303, 0x1304, 0x1305})


def same_hash(suite: int) -> frozenset[int]:
    """The TLS 1.3 suites whose hash is that of ``suite``."""
    if suite in SHA384_SUITES:
        return SHA384_SUITES
    return TLS13_SUITES - SHA384_SUITES


class TokenProbe:
    """Stands for a connection on a throwaway server socket that only reads a ClientHello:
    the HelloRetryRequest callback notes the offered ticket's token here and stops."""

    def __init__(self) -> None:
        self.token: bytes | None = None
