"""The memory transport: GnuTLS's push/pull callbacks as ``extern "Python"`` functions.

GnuTLS calls ``push`` with each record it wants to send and ``pull`` when it
needs bytes; both work directly on the connection's ByteQueues.  ``pull``
answers EAGAIN (through gnutls_transport_set_errno) when the queue is empty,
so gnutls_handshake/gnutls_record_recv return GNUTLS_E_AGAIN, which the
buffer turns into WantReadError; after the transport's end of file it
returns 0 and GnuTLS reports a premature termination (RaggedEOF).

The session's transport pointer is an ``ffi.new_handle`` to a small
``Transport``, not to the buffer itself: the buffer owns the session and the
handle, the handle owns the Transport, and the Transport refers back to the
buffer only weakly, so there is no reference cycle and a dropped connection
is freed at once (gnutls_deinit through ffi.gc).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ._binding import def_extern, ffi, lib

if TYPE_CHECKING:
    from tlsapi._bytequeue import ByteQueue

    from ._buffer import GnuTLSBuffer

__all__ = ["Transport"]


class Transport:
    """What the C callbacks need: the two queues, the session, the owning buffer (weakly).

    The queues' methods are bound once here: the callbacks run for every
    record (push once, pull twice: header, then body), so every attribute
    lookup saved counts.
    """

    __slots__ = (
        "__weakref__",
        "append",
        "incoming",
        "outgoing",
        "owner",
        "session",
        "starved",
        "take",
    )

    def __init__(self, owner: GnuTLSBuffer, session: Any) -> None:
        self.incoming: ByteQueue = owner._incoming
        self.outgoing: ByteQueue = owner._outgoing
        self.take = self.incoming.take
        self.append = self.outgoing.append
        self.owner: weakref.ref[GnuTLSBuffer] = weakref.ref(owner)
        self.session = session
        # Set when pull found nothing: a GNUTLS_E_AGAIN then really means "feed me".
        self.starved = False


_from_handle = ffi.from_handle
_buffer = ffi.buffer
_memmove = ffi.memmove


@def_extern(error=-1)
def _tlsapi_gnutls_push(pointer: Any, data: Any, size: int) -> int:
    _from_handle(pointer).append(_buffer(data, size)[:])  # bytes: the queue keeps it as is
    return size


@def_extern(error=-1)
def _tlsapi_gnutls_pull(pointer: Any, data: Any, size: int) -> int:
    transport: Transport = _from_handle(pointer)
    # take() slices the front chunk (bytes) and memmove copies it in: cheaper than
    # readinto()'s memoryviews for the 5-byte header and the record body alike.
    chunk = transport.take(size)
    count = len(chunk)
    if count:
        _memmove(data, chunk, count)
        return count
    owner = transport.owner()
    if owner is None or owner._transport_eof:
        return 0  # end of file: GnuTLS reports GNUTLS_E_PREMATURE_TERMINATION mid-stream
    transport.starved = True
    lib.gnutls_transport_set_errno(transport.session, lib.EAGAIN)
    return -1


@def_extern(error=-1)
def _tlsapi_gnutls_pull_timeout(pointer: Any, milliseconds: int) -> int:
    # Only asked in blocking use; answer without waiting: is there anything to read?
    transport: Transport = _from_handle(pointer)
    if len(transport.incoming):
        return 1
    owner = transport.owner()
    return 1 if owner is None or owner._transport_eof else 0
