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
  identity and the time of issue), which NSS shows again to the
  HelloRetryRequest callback of a ClientHello that resumes it.  A ticket
  without this book's identity, or too old, is refused there.  NSS cannot
  decline a ticket it has decrypted without failing the handshake, so that
  refusal is a handshake_failure alert (a tlsapi client never offers a
  session to another context or name; another library's client may).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

__all__ = ["TicketBook"]

# What NSS announces as every ticket's lifetime (ssl_ticket_lifetime, 2 days).
LIFETIME = 2 * 24 * 60 * 60
# The most TLS 1.2 tickets one configuration remembers (the oldest go first).
_MAX_TICKETS = 20000
_IDENTITY_SIZE = 16


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

    def token(self) -> bytes:
        """What a TLS 1.3 ticket of ours carries: our identity and the time of issue."""
        return self._identity + int(time.time()).to_bytes(8, "big")

    def owns(self, token: bytes) -> bool:
        """Whether a TLS 1.3 ticket's token is ours and young enough to resume."""
        if len(token) != _IDENTITY_SIZE + 8 or token[:_IDENTITY_SIZE] != self._identity:
            return False
        age = time.time() - int.from_bytes(token[_IDENTITY_SIZE:], "big")
        return -60 <= age <= self.lifetime
