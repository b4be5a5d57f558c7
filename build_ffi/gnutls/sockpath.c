/* tlsapi-gnutls: the native socket path.  GnuTLS reads and writes a connected
 * socket itself, so a TLSWrappedSocket's recv or send is one call into C with
 * the GIL released and no Python per record.
 *
 * Attached, the session's push and pull are these functions over t->fd (not
 * gnutls_transport_set_int2: its pull and push block or fail in ways the
 * engine's rules do not allow).  They never wait: waiting is the Python
 * engine's, outside the connection's lock, so another thread can send while
 * one waits to receive.
 *
 * - pull first serves the memory window (ciphertext the buffer already held
 *   when the socket was attached), then recv(MSG_DONTWAIT) for exactly what
 *   GnuTLS asks: the rest of a record's header, then its body.  So GnuTLS
 *   never reads past the record it is on, and unwrap() leaves the bytes after
 *   the peer's close_notify in the kernel.  Reading application data
 *   (tlsapi_gnutls_recv_fd), pull instead peeks (MSG_PEEK) up to 64 KiB at a
 *   time into a buffer per thread and serves GnuTLS from that copy; what GnuTLS took, and only that,
 *   is then taken off the socket (MSG_TRUNC): two system calls per peek
 *   instead of two per record, and the socket still left exactly at the end
 *   of the last record GnuTLS read.  EAGAIN sets starved, as the
 *   memory pull does; end of file sets eof; any other error is kept in
 *   sys_errno and reported as EAGAIN, so the session stays intact and the
 *   Python side raises the OSError (a socket failure is not a TLS failure).
 * - push sends at once when nothing is queued; what the socket does not take
 *   (EAGAIN, or an error, which the next flush meets again) is appended to
 *   the output buffer, and tlsapi_gnutls_flush_fd sends it before anything
 *   newer.  GnuTLS is never told "would block", so a record is never half
 *   written inside GnuTLS, and every byte written is either sent or queued.
 * - tap: the peer's first bytes, for the core's check that they can begin TLS
 *   at all: a copy of what pull read from the socket until Python says stop.
 * - wait: the engine's wait for the peer (tlsapi_gnutls_wait_fd), called
 *   WITHOUT the connection's lock: it touches no session, only looks at the
 *   transport's counters (a hint, as from Python) and polls the socket.  One
 *   cffi call instead of Python's poll object and two hint checks; the GIL is
 *   released once for the wait, as before.
 *
 * Thread safety: as transport.c, the Python buffer's lock is held around every call.
 */

#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "sockpath.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef MSG_DONTWAIT
#define TLSAPI_GNUTLS_DONTWAIT MSG_DONTWAIT
#else
/* No non-blocking recv/send flag: attach refuses, the buffer path it is. */
#define TLSAPI_GNUTLS_DONTWAIT 0
#define TLSAPI_GNUTLS_NO_SOCKET_PATH 1
#endif

#ifdef MSG_NOSIGNAL
#define TLSAPI_GNUTLS_SEND_FLAGS (TLSAPI_GNUTLS_DONTWAIT | MSG_NOSIGNAL)
#else
#define TLSAPI_GNUTLS_SEND_FLAGS TLSAPI_GNUTLS_DONTWAIT /* SIGPIPE: Python ignores it */
#endif

static int tlsapi_gnutls_would_block(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

/* Keep a copy of ``size`` bytes read from the socket; out of memory ends the tap. */
static void tlsapi_gnutls_tap(tlsapi_gnutls_transport *t, const char *data, size_t size)
{
    size_t capacity = t->tap_cap ? t->tap_cap : 4096;
    char *grown;
    if (size > ((size_t)-1) / 4 - t->tap_len) {
        t->tap = 0;
        return;
    }
    while (capacity < t->tap_len + size)
        capacity *= 2;
    if (capacity != t->tap_cap) {
        grown = realloc(t->tap_buf, capacity);
        if (grown == NULL) {
            t->tap = 0; /* no check then: GnuTLS judges the bytes, the handshake goes on */
            return;
        }
        t->tap_buf = grown;
        t->tap_cap = capacity;
    }
    memcpy(t->tap_buf + t->tap_len, data, size);
    t->tap_len += size;
}

/* The read-ahead of one tlsapi_gnutls_recv_fd call (see the top): ``len`` bytes
   peeked into ``buf``, the first ``used`` of them given to GnuTLS and still to be
   taken off the socket.  Found by pull through a thread-local pointer: the
   transport struct is shared with the memory path and has no room for it. */
typedef struct {
    tlsapi_gnutls_transport *t;
    char *buf;
    size_t cap;
    size_t len;
    size_t used;
} tlsapi_gnutls_ahead;

/* Four full records per peek. */
#define TLSAPI_GNUTLS_AHEAD 65536

static __thread tlsapi_gnutls_ahead *tlsapi_gnutls_current_ahead;

/* Take the bytes GnuTLS was given off the socket (MSG_TRUNC: Linux discards them
   without a copy; elsewhere they are copied into buf, which held them).  A failure
   is kept in sys_errno: the stream is no longer where GnuTLS thinks it is. */
static void tlsapi_gnutls_ahead_consume(tlsapi_gnutls_ahead *a)
{
    size_t done = 0;
    ssize_t count;
    while (done < a->used) {
        count = recv(a->t->fd, a->buf, a->used - done, MSG_TRUNC | TLSAPI_GNUTLS_DONTWAIT);
        if (count > 0)
            done += (size_t)count;
        else if (count < 0 && errno == EINTR)
            continue;
        else {
            if (a->t->sys_errno == 0)
                a->t->sys_errno = count < 0 ? errno : EIO;
            break;
        }
    }
    a->len = a->used = 0;
}

static ssize_t tlsapi_gnutls_fd_pull(gnutls_transport_ptr_t pointer, void *data, size_t size)
{
    tlsapi_gnutls_transport *t = pointer;
    tlsapi_gnutls_ahead *a = tlsapi_gnutls_current_ahead;
    ssize_t count;
    size_t give;
    if (t->in_len > 0)
        return tlsapi_gnutls_pull(pointer, data, size); /* bytes held before the socket was ours */
    if (t->eof)
        return 0;
    if (t->sys_errno == 0 && t->fd < 0)
        t->sys_errno = EBADF; /* detached: never touch a descriptor that may be reused */
    if (a != NULL && a->t == t && !t->tap && t->sys_errno == 0) {
        if (a->used == a->len) {
            if (a->used)
                tlsapi_gnutls_ahead_consume(a);
            while (t->sys_errno == 0) {
                count = recv(t->fd, a->buf, a->cap, MSG_PEEK | TLSAPI_GNUTLS_DONTWAIT);
                if (count > 0) {
                    a->len = (size_t)count;
                    break;
                }
                if (count == 0) {
                    t->eof = 1; /* a premature termination unless at a clean close */
                    return 0;
                }
                if (errno == EINTR)
                    continue;
                if (!tlsapi_gnutls_would_block(errno))
                    t->sys_errno = errno;
                break;
            }
        }
        if (a->len > a->used) {
            give = a->len - a->used < size ? a->len - a->used : size;
            memcpy(data, a->buf + a->used, give);
            a->used += give;
            return (ssize_t)give;
        }
        t->starved = 1; /* would block, or the error kept in sys_errno */
        gnutls_transport_set_errno(t->session, EAGAIN);
        return -1;
    }
    while (t->sys_errno == 0) {
        count = recv(t->fd, data, size, TLSAPI_GNUTLS_DONTWAIT);
        if (count > 0) {
            if (t->tap)
                tlsapi_gnutls_tap(t, data, (size_t)count);
            return count;
        }
        if (count == 0) {
            t->eof = 1; /* a premature termination unless at a clean close */
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (tlsapi_gnutls_would_block(errno))
            break;
        t->sys_errno = errno;
    }
    t->starved = 1;
    gnutls_transport_set_errno(t->session, EAGAIN);
    return -1;
}

/* Send from ``data`` until done or the socket refuses; returns how much went out. */
static size_t tlsapi_gnutls_send_some(int fd, const char *data, size_t size)
{
    size_t sent = 0;
    ssize_t count;
    while (sent < size) {
        count = send(fd, data + sent, size - sent, TLSAPI_GNUTLS_SEND_FLAGS);
        if (count > 0)
            sent += (size_t)count;
        else if (count < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    return sent;
}

static ssize_t tlsapi_gnutls_fd_push(gnutls_transport_ptr_t pointer, const void *data, size_t size)
{
    tlsapi_gnutls_transport *t = pointer;
    const char *bytes = data;
    size_t sent = 0;
    if (size == 0)
        return 0;
    if (t->out_len == 0 && t->fd >= 0 && !t->cork)
        sent = tlsapi_gnutls_send_some(t->fd, bytes, size);
    if (sent < size) {
        /* Queued behind older bytes, or refused: tlsapi_gnutls_flush_fd sends it in order. */
        if (tlsapi_gnutls_reserve_out(t, size - sent) < 0) {
            gnutls_transport_set_errno(t->session, ENOMEM);
            return -1;
        }
        memcpy(t->out_data + t->out_len, bytes + sent, size - sent);
        t->out_len += size - sent;
    }
    return (ssize_t)size;
}

/* fd >= 0: GnuTLS reads and writes it from now on; fd < 0: detached (the
   socket was closed or handed back), every later pull or push fails.  Returns
   0, or -1 when this platform cannot do it. */
int tlsapi_gnutls_attach_fd(tlsapi_gnutls_transport *t, int fd, int tap)
{
#ifdef TLSAPI_GNUTLS_NO_SOCKET_PATH
    (void)t;
    (void)fd;
    (void)tap;
    return -1;
#else
    t->fd = fd < 0 ? -1 : fd;
    t->sys_errno = 0;
    if (fd >= 0) {
        t->tap = tap;
        gnutls_transport_set_push_function(t->session, tlsapi_gnutls_fd_push);
        gnutls_transport_set_pull_function(t->session, tlsapi_gnutls_fd_pull);
    } else {
        tlsapi_gnutls_tap_taken(t, 1);
    }
    return 0;
#endif
}

/* Send queued output without waiting (or drop it, ``discard``).  Returns how
   many bytes are still queued, or -errno when the socket failed. */
int64_t tlsapi_gnutls_flush_fd(tlsapi_gnutls_transport *t, int discard)
{
    size_t sent;
    if (t->out_len == 0)
        return 0;
    if (!discard) {
        if (t->fd < 0)
            return -EBADF;
        errno = 0;
        sent = tlsapi_gnutls_send_some(t->fd, t->out_data, t->out_len);
        if (sent == 0 && errno != 0 && !tlsapi_gnutls_would_block(errno))
            return -(int64_t)errno;
    } else {
        sent = t->out_len;
    }
    tlsapi_gnutls_output_consume(t, sent);
    return (int64_t)t->out_len;
}

/* The handshake on the socket (``on``, then not): while corked, push queues
   every record, and uncorking sends them with one send().  GnuTLS pushes each
   record of a flight on its own (ServerHello, ChangeCipherSpec, Certificate,
   ...; a client's ChangeCipherSpec and Finished; a server's tickets), and as
   separate small segments Nagle's algorithm holds each one after the first
   until the peer acknowledges it, which a peer with nothing to send does
   only when its delayed-ACK timer runs out (40 ms on Linux): twice per
   connection in the 64-byte echo benchmark.  Returns what is still queued
   (the engine's flush sends it), or -errno as tlsapi_gnutls_flush_fd; on the
   memory transport it does nothing. */
int64_t tlsapi_gnutls_cork_fd(tlsapi_gnutls_transport *t, int on)
{
    if (on) {
        t->cork = t->fd >= 0;
        return 0;
    }
    if (!t->cork)
        return (int64_t)t->out_len;
    t->cork = 0;
    return tlsapi_gnutls_flush_fd(t, 0);
}

/* Python took tap_len bytes from tap_buf; ``stop``: it needs no more. */
void tlsapi_gnutls_tap_taken(tlsapi_gnutls_transport *t, int stop)
{
    t->tap_len = 0;
    if (stop) {
        t->tap = 0;
        free(t->tap_buf);
        t->tap_buf = NULL;
        t->tap_cap = 0;
    }
}

/* What else already arrived, left in place (for quoting a peer that is not TLS);
   the count, or -1 when nothing could be read. */
int64_t tlsapi_gnutls_peek_fd(tlsapi_gnutls_transport *t, char *data, size_t size)
{
    ssize_t count;
    if (t->fd < 0 || size == 0)
        return -1;
    do
        count = recv(t->fd, data, size, MSG_PEEK | TLSAPI_GNUTLS_DONTWAIT);
    while (count < 0 && errno == EINTR);
    /* A pending socket error (a reset) is reported once, even by a peek: keep it
       for the next read, as pull does, instead of losing it to a quote. */
    if (count < 0 && !tlsapi_gnutls_would_block(errno) && t->sys_errno == 0)
        t->sys_errno = errno;
    return count < 0 ? -1 : (int64_t)count;
}

/* The engine's wait for the peer, without the connection's lock (see the top).
   Returns TLSAPI_GNUTLS_WAIT_READY when a read may return something: bytes held
   in memory (from before the takeover, or the rest of a record), the socket
   readable or in error (the read meets the error), or no socket any more (the
   read meets EBADF); TLSAPI_GNUTLS_WAIT_TIMEOUT when ``timeout_ms`` (-1: none)
   ran out; TLSAPI_GNUTLS_WAIT_EINTR when a signal came (Python runs its
   handlers, then calls again with what is left).  Queued output is the
   engine's to send before it waits: with ``output_first`` the answer is then
   TLSAPI_GNUTLS_WAIT_OUTPUT at once, without waiting. */
int tlsapi_gnutls_wait_fd(const tlsapi_gnutls_transport *t, int timeout_ms, int output_first)
{
    struct pollfd watched;
    int fd = t->fd, count;
    if (t->in_len > 0 || t->held || fd < 0)
        return TLSAPI_GNUTLS_WAIT_READY;
    if (output_first && t->out_len > 0)
        return TLSAPI_GNUTLS_WAIT_OUTPUT;
    watched.fd = fd;
    watched.events = POLLIN;
    watched.revents = 0;
    count = poll(&watched, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (count > 0)
        return TLSAPI_GNUTLS_WAIT_READY;
    if (count == 0)
        return TLSAPI_GNUTLS_WAIT_TIMEOUT;
    return errno == EINTR ? TLSAPI_GNUTLS_WAIT_EINTR : TLSAPI_GNUTLS_WAIT_READY;
}

/* This thread's read-ahead buffer (TLSAPI_GNUTLS_AHEAD bytes), made on first use
   and freed when the thread ends: one per thread, none per connection. */
static pthread_key_t tlsapi_gnutls_ahead_key;
static pthread_once_t tlsapi_gnutls_ahead_once = PTHREAD_ONCE_INIT;
static int tlsapi_gnutls_ahead_key_made;

static void tlsapi_gnutls_make_ahead_key(void)
{
    tlsapi_gnutls_ahead_key_made = pthread_key_create(&tlsapi_gnutls_ahead_key, free) == 0;
}

static char *tlsapi_gnutls_ahead_buffer(void)
{
    char *buffer;
    (void)pthread_once(&tlsapi_gnutls_ahead_once, tlsapi_gnutls_make_ahead_key);
    if (!tlsapi_gnutls_ahead_key_made)
        return NULL;
    buffer = pthread_getspecific(tlsapi_gnutls_ahead_key);
    if (buffer == NULL) {
        buffer = malloc(TLSAPI_GNUTLS_AHEAD);
        if (buffer != NULL && pthread_setspecific(tlsapi_gnutls_ahead_key, buffer) != 0) {
            free(buffer);
            buffer = NULL;
        }
    }
    return buffer;
}

/* tlsapi_gnutls_recv, reading ahead on the socket: pull peeks up to
   TLSAPI_GNUTLS_AHEAD bytes at a time into this thread's buffer and gives GnuTLS
   what it asks from there; only the bytes GnuTLS took are then taken off the
   socket.  So a run of records costs two system calls per peek instead of two
   per record (header, body), and the socket is left exactly where GnuTLS
   stopped, as with exact reads: after the close_notify record, unwrap() finds
   what follows in the kernel.  Not while the tap is on (the handshake's reads
   stay exact), and on the memory transport (no socket) it is tlsapi_gnutls_recv;
   without memory for the buffer, reads are exact. */
int64_t tlsapi_gnutls_recv_fd(tlsapi_gnutls_transport *t, char *data, size_t size)
{
    tlsapi_gnutls_ahead a;
    tlsapi_gnutls_ahead *outer = tlsapi_gnutls_current_ahead;
    int64_t result;
    if (t->fd < 0 || t->tap)
        return tlsapi_gnutls_recv(t, data, size);
    a.buf = tlsapi_gnutls_ahead_buffer();
    if (a.buf == NULL)
        return tlsapi_gnutls_recv(t, data, size);
    a.t = t;
    a.cap = TLSAPI_GNUTLS_AHEAD;
    a.len = a.used = 0;
    tlsapi_gnutls_current_ahead = &a;
    result = tlsapi_gnutls_recv(t, data, size);
    tlsapi_gnutls_current_ahead = outer;
    if (a.used)
        tlsapi_gnutls_ahead_consume(&a);
    return result;
}
