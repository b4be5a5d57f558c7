"""The memory transport: GnuTLS's push and pull are C functions on a small struct.

Why C: GnuTLS pulls twice per record (the 5-byte header, then the body) and
pushes once.  As ``extern "Python"`` callbacks that cost three trips into
Python per record (about 2 µs each, plus taking the GIL back in the middle of
a GnuTLS call), more than the AES-GCM work on a small record.  The C side
(``build_ffi/gnutls/transport.c``) keeps:

* an incoming window (pointer + length) over ciphertext GnuTLS has not read.
  ``receive`` lends it the ``bytes`` object itself when nothing older is
  pending (the buffer keeps a reference until the next receive), and copies
  otherwise (other buffer types, or bytes arriving before the older ones
  were read).  Pull copies from the window, so no Python runs per record.
* an outgoing buffer that push appends to.  GnuTLSBuffer's _library_output
  is one ``ffi.unpack`` of its pending part (``out_data``, ``out_len``), then
  sets ``out_len`` to 0 (a small buffer, kept for the next message) or calls
  tlsapi_gnutls_output_consume (a large one, freed).  The core queues the
  bytes; the incoming ByteQueue stays empty.

EAGAIN and end of file keep their meaning exactly: an empty window makes pull
answer EAGAIN through gnutls_transport_set_errno (GNUTLS_E_AGAIN, which the
buffer turns into WantReadError) and sets ``starved``, which tells it from
TLS 1.3's "post-handshake message consumed, call again"; after the
transport's end of file (``eof``) an empty window makes pull return 0, and
GnuTLS reports a premature termination (RaggedEOF) unless it saw close_notify.

The struct owns the session: ``tlsapi_gnutls_transport_free`` runs
gnutls_deinit, then frees the buffers (through ``ffi.gc``).
"""

from __future__ import annotations

from typing import Any

from ._binding import ffi, lib
from ._errors import raise_for_code

__all__ = ["RECV_STOPPED", "new_transport"]

# recv's result carries this bit when reading stopped for the reason in ``code``.
RECV_STOPPED = int(lib.TLSAPI_GNUTLS_STOPPED)


def new_transport(flags: int) -> Any:
    """A new session (gnutls_init with ``flags``) with our memory transport, freed by GC."""
    error = ffi.new("int *")
    transport = lib.tlsapi_gnutls_transport_new(flags, error)
    if transport == ffi.NULL:
        raise_for_code(error[0])
    return ffi.gc(transport, lib.tlsapi_gnutls_transport_free)
