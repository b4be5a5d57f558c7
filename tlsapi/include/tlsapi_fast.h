/* tlsapi's fast path: the C functions a backend hands to the core.
 *
 * The core's C extension (tlsapi/_speedups.c) runs the common case of
 * TLSWrappedBuffer's hot methods (write, read, readinto, receive_from_network,
 * peek_outgoing, consume_outgoing) without a Python frame: on an OPEN
 * connection, with no other call in progress, for a small size, it calls
 * these functions directly, with the GIL held, and everything else goes to
 * the Python implementation, which keeps every rule.
 *
 * A backend opts in with the buffer hook ``_fast_functions()`` (see
 * tlsapi/backend_api.py), asked when a client's buffer is made, once the
 * peer's first bytes passed the core's not-TLS check, and when the connection
 * enters OPEN (each time only if the last answer was None); it returns None
 * or a tuple of integers:
 *
 *     (TLSAPI_FAST_ABI, state, send, recv, give, output, taken, bound, send_into,
 *      handshake)
 *
 * the addresses of ``state`` (the backend's per-connection C object, which
 * must live as long as the buffer) and of functions of the types below
 * (cffi: ``int(ffi.cast("uintptr_t", ffi.addressof(lib, "name")))``);
 * bound and send_into may be 0 (no large writes), handshake may be 0 (the
 * Python path runs every handshake step), and a backend built for ABI 1
 * returns the first seven, with 1 first, which the core still takes.
 * send, recv and send_into run on an OPEN connection only, handshake while
 * it is HANDSHAKING; give, output and taken in any state.
 * The core never calls two of them at once on one connection, holds the GIL
 * around each call (send_into and handshake excepted), and calls none while
 * another call on the connection (the Python path, which may release the
 * GIL) is in progress.
 *
 * Every function may answer TLSAPI_FAST_DECLINED: it did nothing, and the
 * core takes the Python path for this call (the backend's own hooks).  Any
 * other answer that is not plain success is final work done: the core hands
 * it to the backend's Python hook (_fast_send_result, _fast_recv_result)
 * with the connection's lock held, never calls the function again for it.
 *
 * This header is the contract; a backend declares functions of these types
 * (tests/test_speedups.py compiles each backend's against it).
 */
#ifndef TLSAPI_FAST_H
#define TLSAPI_FAST_H

#include <stddef.h>
#include <stdint.h>

/* The first element of the tuple: the version of this contract (2 added
   bound, send_into and handshake). */
#define TLSAPI_FAST_ABI 2

/* Nothing done: take the Python path. */
#define TLSAPI_FAST_DECLINED (-1)

/* handshake's answer: the step needs the peer's next bytes, nothing else to do. */
#define TLSAPI_FAST_WANT_READ (-2)

/* Encrypt data[0:size] (0 < size <= 16 KiB).  Returns size (all taken),
   TLSAPI_FAST_DECLINED, or anything else: the backend's
   _fast_send_result(value) turns it into the return value or the error. */
typedef int64_t (*tlsapi_fast_send_fn)(void *state, const char *data, size_t size);

/* Decrypt into data[0:size] (0 < size <= 64 KiB).  Returns the bytes read
   (> 0) when that is all there is to say, TLSAPI_FAST_DECLINED, or anything
   else (0, a count with a backend's "stopped" flag, an error code): the
   backend's _fast_recv_result(value) returns the count or raises. */
typedef int64_t (*tlsapi_fast_recv_fn)(void *state, char *data, size_t size);

/* Ciphertext from the peer (0 < size <= 16 KiB), copied: the caller's
   memory is not kept.  Returns 0, TLSAPI_FAST_DECLINED, or any other value
   when memory ran out (MemoryError). */
typedef int (*tlsapi_fast_give_fn)(void *state, const char *data, size_t size);

/* What the library wrote that was not taken yet: its size (>= 0) and, in
   *data, where it starts; or TLSAPI_FAST_DECLINED. */
typedef int64_t (*tlsapi_fast_output_fn)(void *state, const char **data);

/* The core copied the first ``count`` bytes output() reported (all of them). */
typedef void (*tlsapi_fast_taken_fn)(void *state, size_t count);

/* Large writes (more than 16 KiB), straight into the bytes object the core
   hands to peek_outgoing: without them the ciphertext is written to the
   backend's buffer and copied out once more (a tenth of a bulk transfer).

   bound: the most ciphertext that encrypting ``size`` bytes can produce now
   (record headers, tags, padding, whatever the library sends between
   records), or 0 (no large write now: the Python path).  The core allocates
   that much.

   send_into: encrypt data[0:size] with the ciphertext put in out[0:capacity]
   (capacity from bound), in order; *written is how much.  Called with the
   GIL RELEASED (the core holds the connection's lock, as around a cffi
   call), and only when the core's own queue is empty.  It must decline when
   output() would report bytes (they go first), and write whatever does not
   fit in ``out`` to the library's usual output (output() reports it after
   the core queued ``out``).  Returns as send: size, TLSAPI_FAST_DECLINED
   (nothing done), or a value for _fast_send_result (the core queues what
   was written first: records before an alert). */
typedef size_t (*tlsapi_fast_bound_fn)(void *state, size_t size);
typedef int64_t (*tlsapi_fast_send_into_fn)(void *state, const char *data, size_t size,
                                            char *out, size_t capacity, size_t *written);

/* One do_handshake step of a HANDSHAKING connection, called with the GIL
   RELEASED (the core holds the connection's lock, as around a cffi call; a
   library callback that runs Python takes the GIL itself).  Returns
   TLSAPI_FAST_WANT_READ when the step needs the peer's next bytes and
   nothing else is to be done (the core raises WantReadError: a backend with
   Python work pending after the step, such as a callback's error to raise,
   answers otherwise), TLSAPI_FAST_DECLINED (nothing done), or a value for
   the backend's _fast_handshake_result(value), which finishes the handshake,
   raises, or goes on through the Python path. */
typedef int64_t (*tlsapi_fast_handshake_fn)(void *state);

#endif
