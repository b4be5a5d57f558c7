"""Session resumption: the client's session data, the server's tickets and session cache.

Client: after the handshake, gnutls_session_get_data2 packs what a later
connection offers with gnutls_session_set_data (the core binds it to the
context and server name that made it).  Under TLS 1.3 the server's tickets
come after the handshake, so there is nothing resumable until a read has
processed a NewSessionTicket (GNUTLS_SFLAGS_SESSION_TICKET): before that
``client_session_data`` says None.  (gnutls_session_get_data2 would try to
read a ticket itself, but not on a GNUTLS_NONBLOCK session: it then packs
an empty placeholder, which we do not hand out.)

Server: each server context has its own ServerSessions.

* Tickets (RFC 5077 for TLS 1.2, RFC 8446 for 1.3) are on by default, with a
  64-byte master key from gnutls_session_ticket_key_generate that lives only
  in this process's memory and is wiped when the context goes.  GnuTLS 3.7
  rotates the ticket key itself (lib/stek.c): the key that encrypts a ticket
  is SHA3-512(period number || master key), the period being 3 x the
  session lifetime (3 x 6 h = 18 h by default), and a ticket is still taken
  in the period after the one that made it; the master key itself never
  encrypts a ticket.  Tickets also expire after the session lifetime (6 h).
  A TLS 1.3 server sends TICKETS tickets when its handshake is done, after
  the client's Finished (GNUTLS_NO_AUTO_SEND_TICKET, then
  gnutls_session_ticket_send), as OpenSSL does: GnuTLS itself would send
  them with its own Finished when it asks no client certificate, so that a
  client would take them within the handshake's flight (and a fault in a
  ticket record would only show after the handshake).  Before GnuTLS 3.6.14
  (no such flag) GnuTLS still sends them itself.
* A TLS 1.2 client that takes no ticket resumes by session ID: GnuTLS then
  stores the session through the gnutls_db_* callbacks into a bounded cache
  (CACHE_SIZE entries, oldest dropped first, entries older than the lifetime
  never handed back; GnuTLS also checks the time stamp inside the data).

The callbacks run inside gnutls_handshake with the connection's lock held;
the cache has its own lock, as one server context serves many threads.  An
exception never reaches C: a failure to cache costs only a full handshake
later, and what is not an Exception (KeyboardInterrupt) is handed to the
buffer, which raises it once GnuTLS returns.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ._binding import def_extern, ffi, lib
from ._errors import describe

if TYPE_CHECKING:
    from ._buffer import GnuTLSBuffer

__all__ = ["CACHE_SIZE", "ServerSessions", "client_session_data"]

# As many sessions as OpenSSL's default server cache (SSL_SESSION_CACHE_MAX_SIZE_DEFAULT).
CACHE_SIZE = 20 * 1024
# How many TLS 1.3 tickets a server sends per handshake (GnuTLS's and OpenSSL's default).
TICKETS = 2
# GnuTLS's default session lifetime (gnutls_db_get_default_cache_expiration: 6 hours).
LIFETIME = int(lib.gnutls_db_get_default_cache_expiration())

_TICKET_RECEIVED = int(lib.GNUTLS_SFLAGS_SESSION_TICKET)
_TLS1_3 = int(lib.GNUTLS_TLS1_3)


def client_session_data(session: Any) -> bytes | None:
    """What a client may offer again (gnutls_session_get_data2), or None."""
    if (
        int(lib.gnutls_protocol_get_version(session)) == _TLS1_3
        and not lib.gnutls_session_get_flags(session) & _TICKET_RECEIVED
    ):
        return None  # no NewSessionTicket read yet
    data = ffi.new("gnutls_datum_t *")
    if lib.gnutls_session_get_data2(session, data) < 0:
        return None  # GNUTLS_E_INVALID_SESSION: the server gave nothing resumable
    try:
        return ffi.unpack(ffi.cast("char *", data.data), data.size) or None
    finally:
        lib.tlsapi_gnutls_free_secret(data)  # the master secret is in there


class ServerSessions:
    """One server context's ticket key and TLS 1.2 session cache (never shared)."""

    __slots__ = ("_entries", "_key", "_lock", "capacity", "lifetime")

    def __init__(self, *, capacity: int = CACHE_SIZE, lifetime: float = LIFETIME) -> None:
        key = ffi.new("gnutls_datum_t *")
        code = lib.gnutls_session_ticket_key_generate(key)
        if code < 0:
            raise MemoryError(f"gnutls_session_ticket_key_generate: {describe(code)}")
        self._key: Any = ffi.gc(key, lib.tlsapi_gnutls_free_secret)
        self.capacity = capacity
        self.lifetime = lifetime
        # session ID -> (monotonic expiry, packed session), oldest first
        self._entries: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def apply(self, session: Any, handle: Any) -> int:
        """Tickets with this context's key, the cache through ``handle`` (the buffer's)."""
        code = int(lib.gnutls_session_ticket_enable_server(session, self._key))
        if code < 0:
            return code
        lib.gnutls_db_set_retrieve_function(session, lib.tlsapi_gnutls_cache_fetch)
        lib.gnutls_db_set_store_function(session, lib.tlsapi_gnutls_cache_store)
        lib.gnutls_db_set_remove_function(session, lib.tlsapi_gnutls_cache_remove)
        lib.gnutls_db_set_ptr(session, handle)
        return 0

    def send_tickets(self, session: Any) -> None:
        """After a TLS 1.3 server handshake: the session's tickets (TLS 1.2: in the handshake)."""
        if int(lib.gnutls_protocol_get_version(session)) == _TLS1_3:
            # A ticket that cannot be made costs only a full handshake later.
            lib.gnutls_session_ticket_send(session, TICKETS, 0)

    def __len__(self) -> int:
        return len(self._entries)

    def store(self, session_id: bytes, data: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            entries = self._entries
            entries.pop(session_id, None)
            # Oldest first: drop what expired, then what exceeds the bound.
            while entries:
                oldest = next(iter(entries.values()))
                if oldest[0] > now and len(entries) < self.capacity:
                    break
                entries.popitem(last=False)
            if self.capacity > 0:
                entries[session_id] = (now + self.lifetime, data)

    def fetch(self, session_id: bytes) -> bytes | None:
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[session_id]
                return None
            return entry[1]

    def remove(self, session_id: bytes) -> None:
        with self._lock:
            self._entries.pop(session_id, None)

    def forget(self, session: Any) -> None:
        """Drop ``session``'s ID: it ended in a fatal error (RFC 5246 7.2.2)."""
        identifier = ffi.new("gnutls_datum_t *")
        if lib.gnutls_session_get_id2(session, identifier) == 0 and identifier.size:
            self.remove(ffi.unpack(ffi.cast("char *", identifier.data), identifier.size))


# -- the gnutls_db_* callbacks (ptr: the buffer's handle, a weak reference) -------------


def _owner(pointer: Any) -> GnuTLSBuffer | None:
    reference: weakref.ref[GnuTLSBuffer] = ffi.from_handle(pointer)
    return reference()


def _unpack(datum: Any) -> bytes:
    return ffi.unpack(ffi.cast("char *", datum.data), datum.size) if datum.size else b""


@def_extern(error=-1)
def tlsapi_gnutls_cache_store(pointer: Any, key: Any, data: Any) -> int:
    owner = None
    try:
        owner = _owner(pointer)
        sessions = None if owner is None else owner._sessions
        if sessions is None or not key.size:
            return -1
        sessions.store(_unpack(key), _unpack(data))
        return 0
    except Exception:
        return -1  # not cached: a later resumption becomes a full handshake
    except BaseException as exc:
        if owner is not None:
            owner._callback_failed(exc, "the session cache")
        return -1


@def_extern(error=None)
def tlsapi_gnutls_cache_fetch(pointer: Any, key: Any) -> Any:
    found = ffi.new("gnutls_datum_t *")  # {NULL, 0}: not found, a full handshake
    owner = None
    try:
        owner = _owner(pointer)
        sessions = None if owner is None else owner._sessions
        data = None if sessions is None else sessions.fetch(_unpack(key))
        if data:
            # GnuTLS frees what we return with gnutls_free.
            memory = lib.tlsapi_gnutls_malloc(len(data))
            if memory != ffi.NULL:
                ffi.memmove(memory, data, len(data))
                found.data = ffi.cast("unsigned char *", memory)
                found.size = len(data)
    except Exception:
        pass  # a miss
    except BaseException as exc:
        if owner is not None:
            owner._callback_failed(exc, "the session cache")
    return found[0]


@def_extern(error=-1)
def tlsapi_gnutls_cache_remove(pointer: Any, key: Any) -> int:
    owner = None
    try:
        owner = _owner(pointer)
        sessions = None if owner is None else owner._sessions
        if sessions is not None:
            sessions.remove(_unpack(key))
        return 0
    except Exception:
        return -1
    except BaseException as exc:
        if owner is not None:
            owner._callback_failed(exc, "the session cache")
        return -1
