"""What a backend needs from tlsapi beyond the public API: the interface for backend authors.

A backend is a distribution that registers a :class:`tlsapi.Backend` under the
entry-point group ``tlsapi.backends``.  It imports the public ``tlsapi``
package and this module, never a ``tlsapi._*`` module (``tests/test_layering.py``
enforces it for the backends in this repository), so that the core may
reorganise its private modules without breaking a backend.

What to subclass (all from ``tlsapi``):

* :class:`tlsapi.ClientContext` and :class:`tlsapi.ServerContext`: the
  constructor takes the :class:`tlsapi.TLSConfiguration` and turns it into the
  library's objects once (refusing what the library cannot do with
  :class:`tlsapi.ConfigurationError`); ``_wrap_buffers(server_name)`` (client,
  given a :class:`ServerName` or None) and ``_wrap_buffers()`` (server) return
  a new connection.  The public ``wrap_buffers``/``wrap_socket`` call them.
* :class:`tlsapi.TLSWrappedBuffer`: one connection.  The public methods keep
  PEP 543's rules and the connection's state machine once for every backend;
  a backend implements the ``_``-prefixed hooks that drive its library: the
  handshake (``_handshake``), the application data (``_read``,
  ``_readinto``, ``_write``), our close_notify (``_shutdown``), the network
  side (``_receive``, ``_incoming_size``, ``_receive_eof``, and
  ``_library_output``, which returns what the library wrote for the core to
  queue in ``_outgoing``, or ``_flush_library_output``, which appends it
  there itself), and what the handshake negotiated
  (``_cipher_number``, ``_negotiated_protocol``, ``_tls_version_number``,
  ``_peer_chain``).  It raises a TLSError for a failure (the core keeps it
  and fails the connection), reports a close_notify or error met after data
  it returns with ``_stop_after_data``, runs user code (an ``sni_callback``)
  through ``_run_callback``, and wraps a method of its own in
  ``_exclusive()`` (checking ``_ready_to_write()`` first if it sends).  Which hook is called
  when, with what lock held and what it may raise: the docstring of
  ``tlsapi/_buffer.py`` and of each hook there.
* The native socket path (optional): a buffer whose library can read and
  write a file descriptor itself defines ``_attach_socket(fd)``, which
  :class:`tlsapi.TLSWrappedSocket` calls when it wraps a plain
  ``socket.socket`` (unless ``TLSAPI_SOCKET_PATH=buffer``).  Returning True
  means: from now on the library reads and writes ``fd`` directly, never
  waiting (MSG_DONTWAIT); the read and handshake hooks raise WantReadError
  when the socket has nothing, and an OSError (not a TLSError) when recv
  fails; what the socket does not take at once is queued, in order, and
  nothing is left in ``_outgoing``.  Bytes the buffer already held are read
  before the socket, and no more is taken from the socket than each record
  needs (a peek may look further; ``unwrap()`` relies on it).  The peer's first bytes still go to the
  core's not-TLS check (``_refuses_start``) before the handshake reports
  anything.  ``_attach_socket(None)`` lets go of the descriptor (closed or
  unwrapped).  With it come ``_socket_pending()`` (bytes queued for the
  socket; read without the lock, a hint), ``_socket_flush(discard=False)``
  (send the queue now without waiting, or drop it; returns what is left,
  raises the socket's OSError) and ``_socket_waiter()``: a callable
  ``wait(timeout_ms, output_first)`` that waits for readability in C without
  the lock (1 ready, also at once when a read could return something without
  the socket: bytes held from before, or the rest of a record the last read
  had no room for; 0 timed out; 2 interrupted by a signal; 3 at once when
  ``output_first`` and ciphertext is queued; it touches no session).  The engine keeps every rule (timeouts,
  Want* errors, the pending-ciphertext rule, threads): see the docstring of
  ``tlsapi/_socket/_engine.py``.
* The C fast path (optional): a buffer whose library is driven by C functions
  with the signatures of ``tlsapi/include/tlsapi_fast.h`` (send, recv, give,
  output, taken over the backend's per-connection C object; bound and
  send_into for large writes straight into the core's bytes object, and
  handshake for a handshake step, or 0) returns their addresses from
  ``_fast_functions()``, as ``(FAST_ABI, state, send, recv, give, output,
  taken, bound, send_into, handshake)`` integers
  (:data:`FAST_ABI` is the contract's version; the core still takes an ABI 1
  tuple, the first seven; cffi gives an address as ``int(ffi.cast("uintptr_t",
  ffi.addressof(lib, "name")))``), or None when it has per-call Python work
  to do.  The core asks when a client's buffer is made, once the peer's
  first bytes passed its not-TLS check, and on entering OPEN (each time only
  if it got None before); where its C extension is
  built, it then calls them directly for the common case (nothing else in
  progress, small sizes; send and recv on an open connection only, give and
  output in the handshake too) with the GIL held, and the hooks above for
  everything else.  A result that is not plain success comes back
  to ``_fast_send_result(result)`` (what write returns, or raise) or
  ``_fast_recv_result(result)`` (the count read, 0 for close_notify, or
  raise) or ``_fast_handshake_result(result)`` (finish or raise), with the
  lock held; a function answers TLSAPI_FAST_DECLINED (-1)
  for "do it through the hooks".  The hooks remain complete: without the
  extension (or with ``TLSAPI_NO_SPEEDUPS=1``) only they run.
* :class:`tlsapi.Backend` with its :class:`tlsapi.Capability` set: what the
  entry point publishes.  Claim only what the library really does.

Helpers for backends (``__all__``):

* :class:`ServerName`: the checked server name a client context hands to
  ``_wrap_buffers`` (``name`` in ASCII form, ``ip`` for an address, ``sni`` for
  the server_name extension).
* :func:`parse_server_hostname`: check and normalise a name the same way
  (for names a backend meets elsewhere).
* :func:`protocol_bytes`: an ALPN protocol (``NextProtocol`` or ``bytes``) in
  its wire form.
* :func:`cipher_weakness`: why a cipher suite number is too weak to allow, or
  None (``TLSConfiguration`` already refuses these; a backend uses it to keep
  them out of what the library would add on its own).
* :func:`parse_pem` and :class:`PemBlock`: the PEM blocks of a credential
  (label, headers, DER), with the error messages every backend gives.
* :func:`load_user_configuration`: the merged tlsapi configuration files, for
  a backend's own table (``[gnutls]``, ``[nss]``, ...).
* :func:`check_peer_chain`: tlsapi's verification policy (key sizes,
  keyUsage) on a chain the library accepted; the error to raise, or None.
* :func:`find_weak_key`: the weak-key error that names a refusal the library
  already made, or None.
* :func:`weak_signature_hash`: whether a chain holds an MD2/MD5/SHA-1
  signature (to name the library's refusal).
* :func:`certificate_alert`: the TLS alert a peer whose certificate was
  refused with a given reason should receive, for a backend that sends it.
* :class:`DERElement`, :func:`parse_der`, :func:`parse_der_one`,
  :func:`der_sequence`, :func:`decode_oid`, :func:`encode_tlv`,
  :func:`encode_oid`, :func:`encode_integer` and :class:`DERError`: the
  core's bounded DER reader and writer, for keys and certificates a backend
  must look inside (a malformed input is a DERError, never IndexError).
* :class:`KeyLogWriter`: appends NSS Key Log Format lines to the
  configuration's ``keylog_filename`` (one ``write`` per line, O_APPEND), for a
  library that hands its secrets to a callback.
* :class:`HelloReader` (with :class:`ClientHello`, :class:`MalformedHello`,
  :class:`HelloDecodeError` and :func:`read_client_hello`): the server_name
  and ALPN list of a ClientHello read incrementally as records arrive, for a
  library with no SNI hook early enough to run ``sni_callback``.

The conformance kit every backend must pass is :mod:`tlsapi.testing.conformance`.
"""

from ._alerts import certificate_alert
from ._ciphers import weakness as cipher_weakness
from ._clienthello import (
    ClientHello,
    HelloDecodeError,
    HelloReader,
    MalformedHello,
    read_client_hello,
)
from ._der import (
    DERElement,
    DERError,
    decode_oid,
    der_sequence,
    encode_integer,
    encode_oid,
    encode_tlv,
    parse_der,
    parse_der_one,
)
from ._hostname import ServerName, parse_server_hostname
from ._keylog import KeyLogWriter
from ._pem import PemBlock, parse_pem
from ._policy import check_peer_chain, find_weak_key, weak_signature_hash
from ._protocols import protocol_bytes
from ._registry import load_user_configuration

# The version of the fast path's contract (tlsapi/include/tlsapi_fast.h) this core speaks.
FAST_ABI = 2

__all__ = [
    "FAST_ABI",
    "ClientHello",
    "DERElement",
    "DERError",
    "HelloDecodeError",
    "HelloReader",
    "KeyLogWriter",
    "MalformedHello",
    "PemBlock",
    "ServerName",
    "certificate_alert",
    "check_peer_chain",
    "cipher_weakness",
    "decode_oid",
    "der_sequence",
    "encode_integer",
    "encode_oid",
    "encode_tlv",
    "find_weak_key",
    "load_user_configuration",
    "parse_der",
    "parse_der_one",
    "parse_pem",
    "parse_server_hostname",
    "protocol_bytes",
    "read_client_hello",
    "weak_signature_hash",
]
