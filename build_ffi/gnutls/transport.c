/* tlsapi-gnutls: GnuTLS's push and pull, and the record loops, as plain C.
 *
 * Why C: GnuTLS pulls twice per record (the 5-byte header, then the body)
 * and pushes once.  As extern "Python" callbacks that was three trips into
 * Python per record, each taking the GIL again in the middle of a GnuTLS
 * call.  Here the callbacks are C and work on a small struct:
 *
 * - incoming: a window (pointer + length) over ciphertext GnuTLS has not
 *   read yet.  It points either into a bytes object that Python keeps alive
 *   (receive *borrows* it when nothing older is pending: no copy), or into
 *   in_buf, our own copy, used for other buffer types and when bytes arrive
 *   while older ones are still unread.  Pull copies from the window; when it
 *   is empty, pull answers EAGAIN (starved is set, so a GNUTLS_E_AGAIN can
 *   be told apart from TLS 1.3's "post-handshake message consumed, call
 *   again"), or 0 once the transport reached end of file (eof): GnuTLS then
 *   reports a premature termination.
 * - outgoing: push appends to out_buf (grown by realloc); out_data and
 *   out_len are the part Python has not consumed.  peek_outgoing is one
 *   ffi.unpack from there; then Python sets out_len to 0 (out_cap up to
 *   TLSAPI_GNUTLS_KEEP_OUTPUT) or tlsapi_gnutls_output_consume frees out_buf.
 *
 * Memory: an idle connection keeps at most a small output buffer
 * (TLSAPI_GNUTLS_KEEP_OUTPUT, reused by the next small message); a larger
 * one goes back to malloc as soon as everything in it was consumed, and so
 * does a large copy of incoming bytes once GnuTLS has pulled all of it.  (The
 * Python side drops its reference to a borrowed bytes once the window is
 * empty.)  tlsapi_gnutls_capacity tells tests what is still allocated.
 *
 * The record loops (recv: record after record while the caller's buffer has
 * room and ciphertext is here; send: one record per gnutls_record_send until
 * all is taken) run here too, so a read or a write is one cffi call.
 *
 * Thread safety: none inside; the Python buffer holds its per-connection lock
 * around every call into this struct, as a GnuTLS session needs.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "transport.h"
#include "sockpath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* Our copy of incoming bytes is freed once GnuTLS read it all, if larger than this. */
#define TLSAPI_GNUTLS_KEEP_INPUT 2048
/* A bound on consecutive non-fatal returns, so a confused peer cannot spin us. */
#define TLSAPI_GNUTLS_MAX_RETRIES 10000
/* Room reserved per record for header, tag and padding, when send reserves ahead. */
#define TLSAPI_GNUTLS_RECORD_OVERHEAD 256
#define TLSAPI_GNUTLS_RECORD_SIZE 16384

/* Room for ``extra`` more bytes after the pending ones. */
int tlsapi_gnutls_reserve_out(tlsapi_gnutls_transport *t, size_t extra)
{
    size_t needed, capacity;
    char *grown;
    if (t->out_len == 0)
        t->out_data = t->out_buf; /* all consumed: start again at the front */
    if (extra > ((size_t)-1) / 4 - t->out_len)
        return -1;
    needed = t->out_len + extra;
    if ((size_t)(t->out_data - t->out_buf) + needed <= t->out_cap)
        return 0;
    if (t->out_data != t->out_buf) {
        /* Python consumed a prefix: move the rest to the front (amortised: only when full). */
        memmove(t->out_buf, t->out_data, t->out_len);
        t->out_data = t->out_buf;
        if (needed <= t->out_cap)
            return 0;
    }
    capacity = t->out_cap ? t->out_cap : TLSAPI_GNUTLS_KEEP_OUTPUT;
    while (capacity < needed)
        capacity *= 2;
    grown = realloc(t->out_buf, capacity);
    if (grown == NULL)
        return -1;
    t->out_buf = t->out_data = grown;
    t->out_cap = capacity;
    return 0;
}

static ssize_t tlsapi_gnutls_push(gnutls_transport_ptr_t pointer, const void *data, size_t size)
{
    tlsapi_gnutls_transport *t = pointer;
    if (size == 0)
        return 0; /* memcpy must not see a NULL buffer, even for 0 bytes */
    if (t->direct != NULL && t->out_len == 0 && size <= t->direct_cap - t->direct_len) {
        /* A large write into the core's bytes object; once a record did not fit, the
           rest follow it into out_buf, which the core reads after that object. */
        memcpy(t->direct + t->direct_len, data, size);
        t->direct_len += size;
        return (ssize_t)size;
    }
    if (tlsapi_gnutls_reserve_out(t, size) < 0) {
        gnutls_transport_set_errno(t->session, ENOMEM);
        return -1;
    }
    memcpy(t->out_data + t->out_len, data, size);
    t->out_len += size;
    return (ssize_t)size;
}

ssize_t tlsapi_gnutls_pull(gnutls_transport_ptr_t pointer, void *data, size_t size)
{
    tlsapi_gnutls_transport *t = pointer;
    size_t count = t->in_len;
    if (count == 0) {
        if (t->eof)
            return 0; /* end of file: a premature termination unless at a clean close */
        t->starved = 1;
        gnutls_transport_set_errno(t->session, EAGAIN);
        return -1;
    }
    if (count > size)
        count = size;
    memcpy(data, t->in_data, count);
    t->in_data += count;
    t->in_len -= count;
    if (t->in_len == 0 && t->in_cap > TLSAPI_GNUTLS_KEEP_INPUT) {
        /* A burst is over: an idle connection keeps no large copy (never the borrowed window). */
        free(t->in_buf);
        t->in_buf = NULL;
        t->in_cap = 0;
    }
    return (ssize_t)count;
}

static int tlsapi_gnutls_pull_timeout(gnutls_transport_ptr_t pointer, unsigned int ms)
{
    /* Only asked in blocking use; answer without waiting: is there anything to read? */
    tlsapi_gnutls_transport *t = pointer;
    (void)ms;
    return (t->in_len > 0 || t->eof) ? 1 : 0;
}

/* A server keeps the cipher_suites vector of the first ClientHello (RFC 8446
   4.1.2: legacy_version, random, legacy_session_id<0..32>, then
   cipher_suites<2..2^16-2>): GnuTLS does not report the client's offer, and
   the ssl adapter's shared_ciphers() needs it.  Read here, in GnuTLS's hook,
   it costs no Python per handshake; a hello too short to hold the vector
   leaves no offer (GnuTLS then refuses the hello itself).  The Python side
   turns the bytes into numbers only when asked. */
static void tlsapi_gnutls_keep_offer(tlsapi_gnutls_transport *t, const gnutls_datum_t *msg)
{
    const unsigned char *body = msg->data;
    size_t size = msg->size, offset = 2 + 32, length;
    unsigned char *kept;
    t->hello_seen = 1; /* the first hello only: a second one follows a HelloRetryRequest */
    if (offset + 1 > size)
        return;
    offset += 1 + (size_t)body[offset];
    if (offset + 2 > size)
        return;
    length = (size_t)body[offset] << 8 | (size_t)body[offset + 1];
    offset += 2;
    if (length > size - offset)
        return;
    kept = malloc(length ? length : 1);
    if (kept == NULL)
        return; /* no memory: the offer stays unknown, as for a hello we cannot read */
    memcpy(kept, body + offset, length);
    t->offered_len = length;
    t->offered = kept; /* last: Python reads it without the lock (offered, then the length) */
}

/* Every handshake message passes here before GnuTLS handles it (incoming) or
   sends it (outgoing).  Both Finished messages are kept: the ssl module's
   get_channel_binding("tls-unique") gives the client's verify_data in a full
   handshake and the server's in a resumption, under TLS 1.3 too, where
   gnutls_session_channel_binding refuses tls-unique.  A
   ClientHello goes on to Python's hook when the server has one (an sni_callback);
   GnuTLS keeps one hook per session, so this is that one. */
static int tlsapi_gnutls_hook(gnutls_session_t session, unsigned int htype, unsigned when,
                              unsigned int incoming, const gnutls_datum_t *msg)
{
    tlsapi_gnutls_transport *t = gnutls_transport_get_ptr(session);
    if (htype == GNUTLS_HANDSHAKE_FINISHED) {
        /* The client's Finished comes in to a server and goes out from a client. */
        int from_client = incoming == (unsigned int)t->server;
        unsigned char *kept = from_client ? t->client_finished : t->server_finished;
        unsigned int *kept_len = from_client ? &t->client_finished_len : &t->server_finished_len;
        if (msg->size <= TLSAPI_GNUTLS_FINISHED_MAX) {
            memcpy(kept, msg->data, msg->size);
            *kept_len = msg->size;
        } else {
            *kept_len = 0; /* not a Finished we know: none rather than a wrong one */
        }
    }
    if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && incoming && t->server && !t->hello_seen)
        tlsapi_gnutls_keep_offer(t, msg);
    if (htype == GNUTLS_HANDSHAKE_CLIENT_HELLO && t->hello_hook != NULL)
        return t->hello_hook(session, htype, when, incoming, msg);
    return 0;
}

tlsapi_gnutls_transport *tlsapi_gnutls_transport_new(unsigned int flags, int *error)
{
    tlsapi_gnutls_transport *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        *error = GNUTLS_E_MEMORY_ERROR;
        return NULL;
    }
    *error = gnutls_init(&t->session, flags);
    if (*error < 0) {
        free(t);
        return NULL;
    }
    gnutls_transport_set_ptr(t->session, t);
    gnutls_transport_set_push_function(t->session, tlsapi_gnutls_push);
    gnutls_transport_set_pull_function(t->session, tlsapi_gnutls_pull);
    gnutls_transport_set_pull_timeout_function(t->session, tlsapi_gnutls_pull_timeout);
    /* GnuTLS's only use of a clock here; a sans-I/O connection waits as long as its owner. */
    gnutls_handshake_set_timeout(t->session, 0);
    t->server = (flags & GNUTLS_SERVER) != 0;
    t->fd = -1;
    gnutls_handshake_set_hook_function(t->session, GNUTLS_HANDSHAKE_ANY, GNUTLS_HOOK_PRE,
                                       tlsapi_gnutls_hook);
    return t;
}

void tlsapi_gnutls_transport_free(tlsapi_gnutls_transport *t)
{
    gnutls_deinit(t->session);
    free(t->out_buf);
    free(t->in_buf);
    free(t->tap_buf);
    free(t->offered);
    free(t);
}

/* Makes in_buf hold at least ``capacity`` bytes; its contents are not kept. */
static int tlsapi_gnutls_fresh_in(tlsapi_gnutls_transport *t, size_t capacity)
{
    size_t size = t->in_cap ? t->in_cap : TLSAPI_GNUTLS_KEEP_INPUT;
    char *fresh;
    if (capacity <= t->in_cap)
        return 0;
    while (size < capacity)
        size *= 2;
    fresh = malloc(size);
    if (fresh == NULL)
        return -1;
    free(t->in_buf);
    t->in_buf = fresh;
    t->in_cap = size;
    return 0;
}

/* Ciphertext from the network.  Returns 1 when the window now points into
   ``data`` itself (the caller keeps it alive and unchanged until the window
   is empty or the next receive), 0 when it was copied (nothing borrowed any
   more), 2 when ``size`` is 0 (nothing changed), -1 when memory ran out. */
int tlsapi_gnutls_receive(tlsapi_gnutls_transport *t, const char *data, size_t size, int borrow)
{
    size_t pending = t->in_len;
    if (size == 0)
        return 2; /* and no memcpy from a possibly NULL ``data`` */
    if (size > ((size_t)-1) / 4 - pending)
        return -1;
    if (pending == 0) {
        if (borrow) {
            t->in_data = data;
            t->in_len = size;
            t->in_borrowed = 1;
            return 1;
        }
        if (tlsapi_gnutls_fresh_in(t, size) < 0)
            return -1;
        memcpy(t->in_buf, data, size);
    } else if (t->in_borrowed) {
        /* What is left of the borrowed window, then the new bytes, into our buffer. */
        if (tlsapi_gnutls_fresh_in(t, pending + size) < 0)
            return -1;
        memcpy(t->in_buf, t->in_data, pending);
        memcpy(t->in_buf + pending, data, size);
    } else {
        size_t offset = (size_t)(t->in_data - t->in_buf);
        if (offset + pending + size > t->in_cap) {
            if (pending + size > t->in_cap) {
                size_t capacity = t->in_cap * 2;
                char *grown;
                while (capacity < pending + size)
                    capacity *= 2;
                grown = malloc(capacity);
                if (grown == NULL)
                    return -1;
                memcpy(grown, t->in_data, pending);
                free(t->in_buf);
                t->in_buf = grown;
                t->in_cap = capacity;
            } else {
                memmove(t->in_buf, t->in_data, pending);
            }
            offset = 0;
        }
        memcpy(t->in_buf + offset + pending, data, size);
        t->in_data = t->in_buf + offset;
        t->in_len = pending + size;
        return 0;
    }
    t->in_data = t->in_buf;
    t->in_len = pending + size;
    t->in_borrowed = 0;
    return 0;
}

/* Python sent ``count`` pending bytes (at most out_len); once all are gone,
   a buffer larger than TLSAPI_GNUTLS_KEEP_OUTPUT goes back to malloc. */
void tlsapi_gnutls_output_consume(tlsapi_gnutls_transport *t, size_t count)
{
    if (count > t->out_len)
        count = t->out_len;
    t->out_data += count;
    t->out_len -= count;
    if (t->out_len == 0) {
        t->out_data = t->out_buf;
        if (t->out_cap > TLSAPI_GNUTLS_KEEP_OUTPUT) {
            free(t->out_buf);
            t->out_buf = t->out_data = NULL;
            t->out_cap = 0;
        }
    }
}

/* The bytes this transport has allocated (output and copied input): for tests. */
size_t tlsapi_gnutls_capacity(tlsapi_gnutls_transport *t)
{
    return t->out_cap + t->in_cap;
}

/* gnutls_handshake until it finishes or really waits for bytes: in TLS 1.3 a
   GNUTLS_E_AGAIN may also mean "a message was handled, call again". */
int tlsapi_gnutls_handshake(tlsapi_gnutls_transport *t)
{
    int code, retries = 0;
    for (;;) {
        t->starved = 0;
        code = gnutls_handshake(t->session);
        if (code != GNUTLS_E_AGAIN || t->starved || ++retries > TLSAPI_GNUTLS_MAX_RETRIES)
            break;
    }
    if (t->in_len == 0 && t->in_buf != NULL) {
        /* The flight copied in (by the core's fast path) was read: no copy is kept. */
        free(t->in_buf);
        t->in_buf = NULL;
        t->in_cap = 0;
        if (!t->in_borrowed)
            t->in_data = NULL;
    }
    return code;
}

/* gnutls_record_recv into ``data``, record after record while there is room
   and ciphertext is here.  Returns the bytes read, plus TLSAPI_GNUTLS_STOPPED
   when reading stopped for a reason the caller must act on, in t->code: 0 =
   close_notify, GNUTLS_E_AGAIN = nothing read and more ciphertext needed, a
   fatal GnuTLS code, or TLSAPI_GNUTLS_NO_PROGRESS. */
int64_t tlsapi_gnutls_recv(tlsapi_gnutls_transport *t, char *data, size_t size)
{
    gnutls_session_t session = t->session;
    size_t total = 0;
    int retries = 0;
    int refused_hello = 0;
    ssize_t code;
    t->held = 0;
    for (;;) {
        t->starved = 0;
        code = gnutls_record_recv(session, data + total, size - total);
        if (code > 0) {
            total += (size_t)code;
            if (total < size &&
                (t->in_len > 0 || (t->fd >= 0 && (size_t)code >= TLSAPI_GNUTLS_RECORD_SIZE)))
                continue; /* more records may be waiting (a full one on a socket: bulk) */
            /* A full target may leave the rest of a record decrypted inside GnuTLS. */
            t->held = total == size && gnutls_record_check_pending(session) > 0;
            return (int64_t)total;
        }
        if (code == 0) {
            t->code = 0;
            return TLSAPI_GNUTLS_STOPPED + (int64_t)total;
        }
        if (code == GNUTLS_E_AGAIN) {
            if (t->starved) {
                if (total)
                    return (int64_t)total;
                t->code = GNUTLS_E_AGAIN;
                return TLSAPI_GNUTLS_STOPPED;
            }
            /* else: a TLS 1.3 post-handshake message was consumed; go on */
        } else if (code == GNUTLS_E_REHANDSHAKE) {
            /* TLS 1.2 renegotiation (HelloRequest, or a client's new ClientHello): refused. */
            gnutls_alert_send(session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
            /* A server keeps the client's hello (the only pending record) for a
               gnutls_handshake() that will not come; the next call drops it. */
            refused_hello = gnutls_record_check_pending(session) > 0;
        } else if (refused_hello && code == GNUTLS_E_UNEXPECTED_PACKET) {
            refused_hello = 0; /* that was the hello being dropped: go on */
        } else if (gnutls_error_is_fatal((int)code)) {
            t->code = (int)code;
            return TLSAPI_GNUTLS_STOPPED + (int64_t)total;
        }
        if (++retries > TLSAPI_GNUTLS_MAX_RETRIES) {
            t->code = TLSAPI_GNUTLS_NO_PROGRESS;
            return TLSAPI_GNUTLS_STOPPED + (int64_t)total;
        }
    }
}

/* gnutls_record_send (one record per call) until all of ``data`` is taken.
   Returns ``size``, a fatal GnuTLS code, or 0 when GnuTLS made no progress. */
int64_t tlsapi_gnutls_send(tlsapi_gnutls_transport *t, const char *data, size_t size)
{
    gnutls_session_t session = t->session;
    size_t sent = 0;
    int retries = 0;
    ssize_t code = 0;
    /* On a socket, records of a large write are queued and sent at the end with
       one send (one system call, not one per record); a small one goes at once. */
    int corked = t->fd >= 0 && size > TLSAPI_GNUTLS_RECORD_SIZE;
    /* Room for all the records at once: push then never reallocates midway (none
       when they go to the core's bytes object: tlsapi_gnutls_fast_send_into). */
    if ((t->fd < 0 && t->direct == NULL) || corked)
        (void)tlsapi_gnutls_reserve_out(
            t, size + (size / TLSAPI_GNUTLS_RECORD_SIZE + 1) * TLSAPI_GNUTLS_RECORD_OVERHEAD);
    t->cork = corked;
    while (sent < size) {
        code = gnutls_record_send(session, data + sent, size - sent);
        if (code > 0) {
            sent += (size_t)code;
            continue;
        }
        if ((code < 0 && gnutls_error_is_fatal((int)code)) || ++retries > TLSAPI_GNUTLS_MAX_RETRIES)
            break;
    }
    t->cork = 0;
    if (corked)
        (void)tlsapi_gnutls_flush_fd(t, 0); /* an error stays for the engine's flush to meet */
    if (sent < size)
        return code < 0 && gnutls_error_is_fatal((int)code) ? (int64_t)code : 0;
    return (int64_t)sent;
}

/* The core's fast path (tlsapi/include/tlsapi_fast.h, TLSAPI_FAST_ABI 2): the
   same work as the Python hooks' cffi calls, called by tlsapi._speedups with
   the GIL held for small sizes on an open connection.  On the native socket
   path send and recv work too (recv through tlsapi_gnutls_recv_fd, the
   read-ahead): their system calls never wait (MSG_DONTWAIT), so holding the
   GIL across them costs microseconds, and saves the GIL hand-off that made the
   peer thread wait behind our Python after each send (64-byte echo over
   loopback: 0.88x -> 1.02x of ssl.SSLSocket).  give and output serve the
   memory path only.  give declines (TLSAPI_GNUTLS_FAST_DECLINED) while a
   window borrowed by the Python path is unread: copying its rest would leave
   Python holding a bytes object nobody reads any more. */

static int tlsapi_gnutls_fast_declines(const tlsapi_gnutls_transport *t)
{
    return t->in_borrowed && t->in_len > 0;
}

/* size, or what tlsapi_gnutls_send answered otherwise (0, a fatal GnuTLS code):
   the Python side's _fast_send_result. */
int64_t tlsapi_gnutls_fast_send(void *state, const char *data, size_t size)
{
    return tlsapi_gnutls_send(state, data, size);
}

/* A count (> 0), or a result with TLSAPI_GNUTLS_STOPPED for _fast_recv_result.
   Our copy of the input goes once GnuTLS read all of it: an idle connection
   keeps none.  A window borrowed by the Python path (a large receive, whose
   bytes object Python keeps alive) is read here too; the read that empties it
   adds TLSAPI_GNUTLS_WINDOW_DONE, so that _fast_recv_result lets the object go
   (one Python call per received window, not one per read). */
int64_t tlsapi_gnutls_fast_recv(void *state, char *data, size_t size)
{
    tlsapi_gnutls_transport *t = state;
    int64_t result;
    int borrowed = t->in_borrowed && t->in_len > 0;
    result = tlsapi_gnutls_recv_fd(t, data, size);
    if (borrowed && t->in_len == 0)
        result += TLSAPI_GNUTLS_WINDOW_DONE;
    if (t->in_len == 0 && !t->in_borrowed && t->in_buf != NULL) {
        free(t->in_buf);
        t->in_buf = NULL;
        t->in_data = NULL;
        t->in_cap = 0;
    }
    return result;
}

/* Copied: 0; no memory: 1.  Into a buffer of the exact size when nothing is
   pending (freed again by fast_recv once read). */
int tlsapi_gnutls_fast_give(void *state, const char *data, size_t size)
{
    tlsapi_gnutls_transport *t = state;
    if (t->fd >= 0 || tlsapi_gnutls_fast_declines(t))
        return TLSAPI_GNUTLS_FAST_DECLINED;
    if (t->in_len == 0 && t->in_cap < size) {
        char *fresh = malloc(size);
        if (fresh == NULL)
            return 1;
        free(t->in_buf);
        t->in_buf = fresh;
        t->in_cap = size;
    }
    return tlsapi_gnutls_receive(t, data, size, 0) < 0 ? 1 : 0;
}

int64_t tlsapi_gnutls_fast_output(void *state, const char **data)
{
    tlsapi_gnutls_transport *t = state;
    if (t->fd >= 0)
        return TLSAPI_GNUTLS_FAST_DECLINED;
    *data = t->out_data;
    return (int64_t)t->out_len;
}

/* As _library_output after its copy: consumed, a large buffer freed. */
void tlsapi_gnutls_fast_taken(void *state, size_t count)
{
    tlsapi_gnutls_output_consume(state, count);
}

/* A do_handshake step for the core, with the GIL released: the memory path's
   tlsapi_gnutls_handshake, and TLSAPI_FAST_WANT_READ when it is starved with
   nothing for Python to do; otherwise TLSAPI_GNUTLS_STOPPED + the code, for
   _fast_handshake_result (done, a failure, a callback's error to raise, no
   progress).  The native socket path's steps (the cork, the tap) are Python's. */
int64_t tlsapi_gnutls_fast_handshake(void *state)
{
    tlsapi_gnutls_transport *t = state;
    int code;
    if (t->fd >= 0)
        return TLSAPI_GNUTLS_FAST_DECLINED;
    code = tlsapi_gnutls_handshake(t);
    if (code == GNUTLS_E_AGAIN && t->starved && !t->callback_failed)
        return TLSAPI_GNUTLS_FAST_WANT_READ;
    return TLSAPI_GNUTLS_STOPPED + code;
}

/* A large write's ciphertext, at most: per record (GnuTLS's largest plaintext it
   sends now, after any record_size_limit) the record header and GnuTLS's own
   bound on what a record adds (IV, tag, MAC, padding, TLS 1.3's content type),
   and a margin for what GnuTLS may send between records (a KeyUpdate).  0 on
   the native socket path, whose records go to the socket. */
size_t tlsapi_gnutls_fast_bound(void *state, size_t size)
{
    tlsapi_gnutls_transport *t = state;
    size_t plain, per_record, records;
    if (t->fd >= 0)
        return 0;
    plain = gnutls_record_get_max_size(t->session);
    per_record = 5 + gnutls_record_overhead_size(t->session);
    if (plain == 0 || per_record > TLSAPI_GNUTLS_RECORD_OVERHEAD)
        return 0; /* a bound we do not believe: out_buf, which grows as needed */
    records = size / plain + 1;
    if (size > ((size_t)-1) / 4)
        return 0;
    return size + records * per_record + TLSAPI_GNUTLS_RECORD_OVERHEAD;
}

/* tlsapi_gnutls_send with push writing to ``out`` (see tlsapi_gnutls_push); only
   when nothing older is pending in out_buf, which would have to go first. */
int64_t tlsapi_gnutls_fast_send_into(void *state, const char *data, size_t size, char *out,
                                     size_t capacity, size_t *written)
{
    tlsapi_gnutls_transport *t = state;
    int64_t result;
    *written = 0;
    if (t->fd >= 0 || t->out_len > 0)
        return TLSAPI_GNUTLS_FAST_DECLINED;
    t->direct = out;
    t->direct_cap = capacity;
    t->direct_len = 0;
    result = tlsapi_gnutls_send(t, data, size);
    *written = t->direct_len;
    t->direct = NULL;
    t->direct_cap = t->direct_len = 0;
    return result;
}
