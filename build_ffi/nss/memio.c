/* tlsapi-nss: the memory-buffer NSPR I/O layer under every NSS socket of ours.
 *
 * NSS reads and writes the ciphertext through the bottom PRFileDesc of a
 * socket's layer stack.  Ours is a stub layer (PR_CreateIOLayerStub) whose
 * `secret` is a tlsapi_nss_memio: the connection's ciphertext, both ways.
 *
 * Why the I/O is in C: NSS asks for every record twice (its 5-byte header,
 * then the body) and hands over every record it writes with one send.  As
 * extern "Python" callbacks those crossings were a quarter of the bulk time
 * and two fifths of a small round trip.  Here recv/read and send/write are
 * plain C, and Python touches the state once per buffer operation:
 *
 * - incoming: tlsapi_nss_memio_feed queues a pointer to each chunk the
 *   application received (no copy; the Python buffer keeps the bytes alive
 *   while NSS may read them: the chunks feed counts as live, or all while
 *   in_size is not 0), and recv copies from the chunks straight into NSS's
 *   buffer;
 * - outgoing: send appends to one growable C buffer (a write reserves room
 *   for all its records first, so a bulk write allocates once), and the
 *   Python buffer takes everything pending with one ffi.unpack (one copy),
 *   then tlsapi_nss_memio_taken empties it: a small buffer stays for the
 *   next small message, a larger one is freed;
 * - application data: tlsapi_nss_read/tlsapi_nss_write are PR_Read/PR_Write
 *   returning the count or the error code, one cffi call each; a read goes on
 *   through every record queued that fits in the caller's buffer, holding
 *   back what ends it (0 or an error after data) as the next read's result.
 *
 * Memory: once the application took the output and NSS read the input, a
 * connection keeps at most a small output buffer (TLSAPI_NSS_MEMIO_OUT_MIN)
 * and a small chunk array; tlsapi_nss_memio_capacity tells tests what it holds.
 *
 * Would-block and end of file stay as NSS expects of a non-blocking socket:
 * recv with nothing queued answers -1 with PR_WOULD_BLOCK_ERROR until the
 * application reports the transport's end (eof), and 0 after that, noting
 * eof_delivered.  NSS returns 0 after a close_notify without asking recv
 * again, so eof_delivered tells a ragged EOF from a clean close.  send never
 * blocks: the outgoing buffer grows until the application takes the bytes.
 *
 * The native socket path ("fd mode", tlsapi_nss_memio_attach_fd): when a
 * TLSWrappedSocket wraps a real socket, the same layer reads and writes that
 * descriptor itself, so a recv or send on it is one cffi call with the GIL
 * released and no Python per record.  Nothing here ever waits: waiting is the
 * Python engine's, outside the connection's lock.
 *
 * - recv first serves the chunks already queued (bytes the buffer held when
 *   the socket was attached), then recv(MSG_DONTWAIT) for no more than NSS
 *   asks: NSS asks for a record's 5-byte header, then its body, so it never
 *   reads past the record it is on, and unwrap() leaves what follows the
 *   peer's close_notify in the kernel.  EAGAIN is PR_WOULD_BLOCK_ERROR; end
 *   of file is 0 (noted in eof and eof_delivered, as above); any other error
 *   is kept in sys_errno and answered as would-block, so NSS's session stays
 *   intact and the Python side raises the OSError (the transport failed, not
 *   TLS).  A kept error is answered again, without a recv, until Python
 *   clears it.
 * - send goes to the socket at once when nothing is queued; what the socket
 *   does not take (EAGAIN, or an error, which the next flush meets again) is
 *   appended to `out`, and tlsapi_nss_memio_flush_fd sends it before
 *   anything newer.  NSS is never told "would block", so a record is never
 *   half written inside NSS and every byte it wrote is sent or queued.  A
 *   write larger than a record is corked: its records are queued and sent
 *   with one send() at the end.
 * - a read goes on to the next record while the last one was full size (more
 *   of a bulk transfer is probably there) and notes in `held` whether NSS
 *   keeps plaintext the caller had no room for (SSL_DataPending), so that
 *   the engine need not wait for the socket before the next read.
 * - taps: until Python says stop, a copy of what recv read from the socket
 *   (the peer's first bytes for the not-TLS check, a server's hello) and of
 *   what NSS sent (our ClientHello's random for a key log, a server's TLS 1.2
 *   tickets), which the buffer path sees as it passes through Python.  As
 *   there, Python must see a flight before NSS reads the next: once NSS has
 *   sent something after reading tapped bytes, recv answers would-block
 *   (`paused`) until Python took them (a client decides from the
 *   ServerHello, before the handshake ends, where its session is kept).
 *
 * A state is not for concurrent use: the Python buffer holds its
 * per-connection lock around every call that reaches it.  Its lifetime is
 * reference-counted: one reference for the Python buffer (released by
 * ffi.gc), one for the layer (released by its close), so it is freed when the
 * last of the two goes, in either order.  tlsapi_nss_memio_close detaches the
 * state before PR_Close so that nothing NSS does while closing (it may send a
 * close_notify) touches a connection that is being collected.  A model
 * socket's layer has no state: I/O on it fails with PR_IO_ERROR.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "memio.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <pratom.h>
#include <prerror.h>
#include <prinit.h>
#include <prnetdb.h>
#include <ssl.h>

#include "shims.h"

/* A small first block (malloc serves it from its per-thread cache); bursts double it.
   An emptied buffer of this size stays for the next message (small round trips then
   allocate nothing); a bigger one is freed: an idle connection keeps 1 KiB. */
#define TLSAPI_NSS_MEMIO_OUT_MIN 1024
/* Room a write reserves per record beyond its plaintext: header, tag, content type. */
#define TLSAPI_NSS_MEMIO_RECORD_OVERHEAD 64
#define TLSAPI_NSS_MEMIO_RECORD_SIZE 16384
#define TLSAPI_NSS_MEMIO_CHUNKS_MIN 8
/* A chunk array grown past this (many small deliveries) is freed once all were read. */
#define TLSAPI_NSS_MEMIO_CHUNKS_KEEP 64
/* A tap's first block: a hello fits. */
#define TLSAPI_NSS_MEMIO_TAP_MIN 4096

#ifdef MSG_DONTWAIT
#define TLSAPI_NSS_DONTWAIT MSG_DONTWAIT
#else
/* No non-blocking recv/send flag: attach refuses, the buffer path it is. */
#define TLSAPI_NSS_DONTWAIT 0
#define TLSAPI_NSS_NO_SOCKET_PATH 1
#endif

#ifdef MSG_NOSIGNAL
#define TLSAPI_NSS_SEND_FLAGS (TLSAPI_NSS_DONTWAIT | MSG_NOSIGNAL)
#else
#define TLSAPI_NSS_SEND_FLAGS TLSAPI_NSS_DONTWAIT /* SIGPIPE: Python ignores it */
#endif

static PRDescIdentity tlsapi_nss_memio_identity = PR_INVALID_IO_LAYER;
static PRIOMethods tlsapi_nss_memio_methods;
static PRCallOnceType tlsapi_nss_memio_once;

tlsapi_nss_memio *tlsapi_nss_memio_state_new(void)
{
    tlsapi_nss_memio *state = calloc(1, sizeof(*state));
    if (state != NULL) {
        state->refs = 1; /* the Python buffer's */
        state->fd = -1;
    }
    return state;
}

void tlsapi_nss_memio_state_release(tlsapi_nss_memio *state)
{
    if (state == NULL || PR_ATOMIC_DECREMENT(&state->refs) != 0) {
        return;
    }
    free(state->out);
    free(state->chunks);
    free(state->tap_in.data);
    free(state->tap_out.data);
    free(state);
}

/* Queue `size` bytes at `data` (size > 0), which the caller keeps alive and unchanged
   while NSS may still read them: the newest chunks, as many as this returns (counted
   before this one), or all of them while `in_size` is not 0.  -1: no memory. */
int tlsapi_nss_memio_feed(tlsapi_nss_memio *state, const char *data, size_t size)
{
    int live;
    if (state->head == state->count) {
        state->head = state->count = 0;
    }
    if (state->count == state->cap) {
        if (state->head > 0) {
            /* Slide the chunks in use to the front: the array never outgrows the backlog. */
            memmove(state->chunks, state->chunks + state->head,
                    (state->count - state->head) * sizeof(*state->chunks));
            state->count -= state->head;
            state->head = 0;
        } else {
            size_t cap = state->cap ? state->cap * 2 : TLSAPI_NSS_MEMIO_CHUNKS_MIN;
            tlsapi_nss_memio_chunk *grown = realloc(state->chunks, cap * sizeof(*grown));
            if (grown == NULL) {
                return -1;
            }
            state->chunks = grown;
            state->cap = cap;
        }
    }
    live = (int)(state->count - state->head);
    state->chunks[state->count].data = data;
    state->chunks[state->count].size = size;
    state->count++;
    state->in_size += size;
    return live;
}

static int tlsapi_nss_would_block(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

/* Keep a copy of `size` bytes in `tap`; out of memory ends the tap (what it was for
   stays unknown: the handshake goes on, as on a malformed hello). */
static void tlsapi_nss_memio_tap_copy(tlsapi_nss_memio_tap *tap, const char *data, size_t size)
{
    size_t cap = tap->cap ? tap->cap : TLSAPI_NSS_MEMIO_TAP_MIN;
    char *grown;
    if (size > ((size_t)-1) / 4 - tap->len) {
        tap->on = 0;
        return;
    }
    while (cap < tap->len + size) {
        cap *= 2;
    }
    if (cap != tap->cap) {
        grown = realloc(tap->data, cap);
        if (grown == NULL) {
            tap->on = 0;
            return;
        }
        tap->data = grown;
        tap->cap = cap;
    }
    memcpy(tap->data + tap->len, data, size);
    tap->len += size;
}

/* One recv(MSG_DONTWAIT) of up to `size` bytes: the count, 0 at the socket's end (noted
   in eof), or -1 when nothing came (would block; or failed, kept in sys_errno). */
static ssize_t tlsapi_nss_memio_recv_some(tlsapi_nss_memio *state, char *buf, size_t size)
{
    ssize_t count;
    if (state->sys_errno == 0 && state->fd < 0) {
        state->sys_errno = EBADF; /* detached: never touch a descriptor that may be reused */
    }
    while (state->sys_errno == 0) {
        count = recv(state->fd, buf, size, TLSAPI_NSS_DONTWAIT);
        if (count > 0) {
            return count;
        }
        if (count == 0) {
            state->eof = 1;
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (tlsapi_nss_would_block(errno)) {
            break;
        }
        state->sys_errno = errno;
    }
    return -1;
}

static PRInt32 tlsapi_nss_memio_pull(tlsapi_nss_memio *state, char *buf, PRInt32 amount)
{
    size_t wanted, copied = 0;
    ssize_t count;
    if (amount <= 0) {
        /* Never 0: that is end of file to NSS. */
        PR_SetError(PR_INVALID_ARGUMENT_ERROR, 0);
        return -1;
    }
    if (state->in_size == 0) {
        if (state->eof) {
            state->eof_delivered = 1;
            return 0;
        }
        if (state->attached && !state->paused) {
            /* The socket, for no more than NSS asks (a header, or the rest of a record). */
            count = tlsapi_nss_memio_recv_some(state, buf, (size_t)amount);
            if (count > 0) {
                if (state->tap_in.on) {
                    tlsapi_nss_memio_tap_copy(&state->tap_in, buf, (size_t)count);
                }
                return (PRInt32)count;
            }
            if (count == 0) {
                state->eof_delivered = 1;
                return 0;
            }
        }
        PR_SetError(PR_WOULD_BLOCK_ERROR, 0);
        return -1;
    }
    wanted = (size_t)amount < state->in_size ? (size_t)amount : state->in_size;
    while (copied < wanted) {
        tlsapi_nss_memio_chunk *chunk = &state->chunks[state->head];
        size_t left = chunk->size - state->in_offset;
        size_t take = wanted - copied < left ? wanted - copied : left;
        memcpy(buf + copied, chunk->data + state->in_offset, take);
        copied += take;
        if (take == left) {
            state->head++;
            state->in_offset = 0;
        } else {
            state->in_offset += take;
        }
    }
    state->in_size -= copied;
    if (state->in_size == 0 && state->cap > TLSAPI_NSS_MEMIO_CHUNKS_KEEP) {
        /* A backlog of many chunks is over: an idle connection keeps a small array. */
        free(state->chunks);
        state->chunks = NULL;
        state->head = state->count = state->cap = 0;
    }
    return (PRInt32)copied;
}

/* The application took the `out_len` bytes pending. */
void tlsapi_nss_memio_taken(tlsapi_nss_memio *state)
{
    state->out_len = 0;
    if (state->out_cap > TLSAPI_NSS_MEMIO_OUT_MIN) {
        free(state->out);
        state->out = NULL;
        state->out_cap = 0;
    }
}

/* The bytes the state has allocated (output buffer, chunk array, taps): for tests. */
size_t tlsapi_nss_memio_capacity(tlsapi_nss_memio *state)
{
    return state->out_cap + state->cap * sizeof(*state->chunks) + state->tap_in.cap +
           state->tap_out.cap;
}

/* The first `count` queued output bytes went out: keep the rest at the front. */
static void tlsapi_nss_memio_consume(tlsapi_nss_memio *state, size_t count)
{
    if (count >= state->out_len) {
        tlsapi_nss_memio_taken(state);
        return;
    }
    memmove(state->out, state->out + count, state->out_len - count);
    state->out_len -= count;
}

/* Send from `data` until done or the socket refuses; how much went out (errno tells
   why it stopped, when it did). */
static size_t tlsapi_nss_memio_send_some(int fd, const char *data, size_t size)
{
    size_t sent = 0;
    ssize_t count;
    while (sent < size) {
        count = send(fd, data + sent, size - sent, TLSAPI_NSS_SEND_FLAGS);
        if (count > 0) {
            sent += (size_t)count;
        } else if (count < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    return sent;
}

/* Room for `extra` more output bytes: 0, or -1 when there is no memory. */
static int tlsapi_nss_memio_reserve(tlsapi_nss_memio *state, size_t extra)
{
    size_t need, cap;
    char *grown;
    if (extra > ((size_t)-1) / 4 - state->out_len) {
        return -1;
    }
    need = state->out_len + extra;
    if (need <= state->out_cap) {
        return 0;
    }
    cap = state->out_cap ? state->out_cap : TLSAPI_NSS_MEMIO_OUT_MIN;
    while (cap < need) {
        cap *= 2;
    }
    grown = realloc(state->out, cap);
    if (grown == NULL) {
        return -1;
    }
    state->out = grown;
    state->out_cap = cap;
    return 0;
}

/* To the socket at once when nothing is queued before it (and not corked), the rest
   queued in order: -1 when there is no memory to queue it, else 0. */
static int tlsapi_nss_memio_send_or_queue(tlsapi_nss_memio *state, const char *buf, size_t size)
{
    size_t sent = 0;
    if (state->out_len == 0 && state->fd >= 0 && !state->cork) {
        sent = tlsapi_nss_memio_send_some(state->fd, buf, size);
    }
    if (sent < size) {
        if (tlsapi_nss_memio_reserve(state, size - sent) < 0) {
            return -1;
        }
        memcpy(state->out + state->out_len, buf + sent, size - sent);
        state->out_len += size - sent;
    }
    return 0;
}

static PRInt32 tlsapi_nss_memio_push(tlsapi_nss_memio *state, const char *buf, PRInt32 amount)
{
    if (amount <= 0) {
        if (amount == 0) {
            return 0; /* nothing to send, and no memcpy from a possibly NULL `buf` */
        }
        PR_SetError(PR_INVALID_ARGUMENT_ERROR, 0);
        return -1;
    }
    if (state->attached) {
        if (tlsapi_nss_memio_send_or_queue(state, buf, (size_t)amount) < 0) {
            PR_SetError(PR_OUT_OF_MEMORY_ERROR, 0);
            return -1;
        }
        if (state->tap_out.on) {
            tlsapi_nss_memio_tap_copy(&state->tap_out, buf, (size_t)amount);
        }
        if (state->tap_in.on && state->tap_in.len > 0) {
            state->paused = 1; /* NSS answered a flight Python has not seen yet */
        }
        return amount;
    }
    if (state->direct != NULL && state->out_len == 0 &&
        (size_t)amount <= state->direct_cap - state->direct_len) {
        /* A large write into the core's bytes object (fast.c); once a record did not
           fit, the rest follow it into `out`, which the core reads after that object. */
        memcpy(state->direct + state->direct_len, buf, (size_t)amount);
        state->direct_len += (size_t)amount;
        return amount;
    }
    if (tlsapi_nss_memio_reserve(state, (size_t)amount) < 0) {
        PR_SetError(PR_OUT_OF_MEMORY_ERROR, 0);
        return -1;
    }
    memcpy(state->out + state->out_len, buf, (size_t)amount);
    state->out_len += (size_t)amount;
    return amount;
}

/* Application data into `buf`: up to `amount` bytes, the result or the NSPR error code.
   NSS hands back one record's plaintext per PR_Read; while room is left and received
   ciphertext is queued, read on, so a large buffer takes several records in one call.
   What ends the loop after data was read (0 for close_notify or the transport's end, or
   an error other than would-block) is noted in `stopped`/`stop_code` and the data is
   returned; the Python side reports it to tlsapi's core, which makes it the next read's
   result (one rule for every backend: see tlsapi/_buffer.py).  On the socket the loop
   goes on after a full-size record only, and `held` notes plaintext NSS keeps. */
PRInt32 tlsapi_nss_read(PRFileDesc *fd, tlsapi_nss_memio *state, void *buf, PRInt32 amount)
{
    PRInt32 rv, total;
    rv = PR_Read(fd, buf, amount);
    if (rv <= 0) {
        if (state->attached) {
            state->held = 0;
        }
        return rv == 0 ? 0 : tlsapi_nss_error_code();
    }
    total = rv;
    while (total < amount &&
           (state->in_size > 0 || (state->attached && rv >= TLSAPI_NSS_MEMIO_RECORD_SIZE))) {
        rv = PR_Read(fd, (char *)buf + total, amount - total);
        if (rv > 0) {
            total += rv;
            continue;
        }
        if (rv < 0) {
            PRInt32 code = tlsapi_nss_error_code();
            if (code == PR_WOULD_BLOCK_ERROR) {
                break; /* a partial record: the next read waits for the rest as usual */
            }
            state->stop_code = code;
        } else {
            state->stop_code = 0;
        }
        state->stopped = 1;
        break;
    }
    if (state->attached) {
        state->held = total == amount && SSL_DataPending(fd) > 0;
    }
    return total;
}

PRInt32 tlsapi_nss_write(PRFileDesc *fd, tlsapi_nss_memio *state, const void *buf, PRInt32 amount)
{
    PRInt32 rv;
    int cork = state->attached && amount > TLSAPI_NSS_MEMIO_RECORD_SIZE;
    if (amount > 0 && ((!state->attached && state->direct == NULL) || cork)) {
        /* Room for every record at once: a bulk write then allocates once, not per
           doubling (best effort: send grows the buffer itself if this fails). */
        (void)tlsapi_nss_memio_reserve(
            state, (size_t)amount + ((size_t)amount / TLSAPI_NSS_MEMIO_RECORD_SIZE + 1) *
                                        TLSAPI_NSS_MEMIO_RECORD_OVERHEAD);
    }
    state->cork = cork;
    /* One record's worth per PR_Write: given more, NSS yields the CPU (PR_Sleep,
       a sched_yield system call) between records, "to give the reader thread a
       chance"; ours never waits for a reader.  6% of a bulk write's time. */
    rv = 0;
    while (rv < amount) {
        PRInt32 piece = amount - rv < TLSAPI_NSS_MEMIO_RECORD_SIZE ? amount - rv
                                                                   : TLSAPI_NSS_MEMIO_RECORD_SIZE;
        PRInt32 written = PR_Write(fd, (const char *)buf + rv, piece);
        if (written < 0) {
            /* Nothing written: the error is the answer; else the part written (the
               next write meets the error). */
            rv = rv > 0 ? rv : -1;
            break;
        }
        rv += written;
        if (written < piece) {
            break;
        }
    }
    if (cork) {
        state->cork = 0;
        /* One send for all the records; an error stays for the engine's flush to meet. */
        (void)tlsapi_nss_memio_flush_fd(state, 0);
    }
    return rv >= 0 ? rv : tlsapi_nss_error_code();
}

/* fd >= 0: recv and send go to `fd` from now on; fd < 0: detached (the socket was
   closed or handed back), and every later recv fails with EBADF while output is only
   queued.  0, or -1 when this platform cannot. */
int tlsapi_nss_memio_attach_fd(tlsapi_nss_memio *state, int fd, int tap_in, int tap_out)
{
#ifdef TLSAPI_NSS_NO_SOCKET_PATH
    (void)state;
    (void)fd;
    (void)tap_in;
    (void)tap_out;
    return -1;
#else
    state->fd = fd < 0 ? -1 : fd;
    state->sys_errno = 0;
    if (fd >= 0) {
        state->attached = 1;
        state->tap_in.on = tap_in;
        state->tap_out.on = tap_out;
    } else {
        tlsapi_nss_memio_tap_taken(state, 0, 1);
        tlsapi_nss_memio_tap_taken(state, 1, 1);
    }
    return 0;
#endif
}

/* Send queued output without waiting (or drop it, `discard`).  How many bytes are still
   queued, or -errno when the socket failed. */
int64_t tlsapi_nss_memio_flush_fd(tlsapi_nss_memio *state, int discard)
{
    size_t sent;
    if (state->out_len == 0) {
        return 0;
    }
    if (!discard) {
        if (state->fd < 0) {
            return -EBADF;
        }
        errno = 0;
        sent = tlsapi_nss_memio_send_some(state->fd, state->out, state->out_len);
        if (sent == 0 && errno != 0 && !tlsapi_nss_would_block(errno)) {
            return -(int64_t)errno;
        }
    } else {
        sent = state->out_len;
    }
    tlsapi_nss_memio_consume(state, sent);
    return (int64_t)state->out_len;
}

int tlsapi_nss_memio_send_fd(tlsapi_nss_memio *state, const char *data, size_t size)
{
    return size == 0 ? 0 : tlsapi_nss_memio_send_or_queue(state, data, size);
}

int64_t tlsapi_nss_memio_recv_fd(tlsapi_nss_memio *state, char *data, size_t size)
{
    if (size == 0) {
        return -1;
    }
    return (int64_t)tlsapi_nss_memio_recv_some(state, data, size);
}

int64_t tlsapi_nss_memio_peek_fd(tlsapi_nss_memio *state, char *data, size_t size)
{
    ssize_t count;
    if (state->fd < 0 || size == 0) {
        return -1;
    }
    do {
        count = recv(state->fd, data, size, MSG_PEEK | TLSAPI_NSS_DONTWAIT);
    } while (count < 0 && errno == EINTR);
    if (count < 0 && !tlsapi_nss_would_block(errno) && state->sys_errno == 0) {
        /* The kernel reports a socket's error once: keep it for the next recv. */
        state->sys_errno = errno;
    }
    return count < 0 ? -1 : (int64_t)count;
}

/* The engine's wait for the peer, called WITHOUT the connection's lock (as
   _socket_pending and _socket_has_input, it reads counters as hints and touches
   no NSS socket): one cffi call, the GIL released once, instead of Python's
   poll object and two hint checks.  READY when a read may return something
   (chunks held from before the takeover, plaintext NSS holds, the socket
   readable or failed, no socket any more: the read meets what there is);
   TIMEOUT when `timeout_ms` (-1: none) ran out; EINTR when a signal came
   (Python runs its handlers, then calls again); OUTPUT at once when
   `output_first` and ciphertext is queued (the engine sends it first). */
int tlsapi_nss_memio_wait_fd(const tlsapi_nss_memio *state, int timeout_ms, int output_first)
{
    struct pollfd watched;
    int count;
    if (state->in_size > 0 || state->held || state->fd < 0) {
        return TLSAPI_NSS_WAIT_READY;
    }
    if (output_first && state->out_len > 0) {
        return TLSAPI_NSS_WAIT_OUTPUT;
    }
    watched.fd = state->fd;
    watched.events = POLLIN;
    watched.revents = 0;
    count = poll(&watched, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (count > 0) {
        return TLSAPI_NSS_WAIT_READY;
    }
    if (count == 0) {
        return TLSAPI_NSS_WAIT_TIMEOUT;
    }
    return errno == EINTR ? TLSAPI_NSS_WAIT_EINTR : TLSAPI_NSS_WAIT_READY;
}

void tlsapi_nss_memio_tap_taken(tlsapi_nss_memio *state, int which, int stop)
{
    tlsapi_nss_memio_tap *tap = which ? &state->tap_out : &state->tap_in;
    tap->len = 0;
    if (!which) {
        state->paused = 0;
    }
    if (stop) {
        tap->on = 0;
        free(tap->data);
        tap->data = NULL;
        tap->cap = 0;
    }
}

static PRStatus PR_CALLBACK tlsapi_nss_memio_m_close(PRFileDesc *fd)
{
    tlsapi_nss_memio_state_release((tlsapi_nss_memio *)fd->secret);
    fd->secret = NULL;
    fd->dtor(fd);
    return PR_SUCCESS;
}

static PRInt32 PR_CALLBACK tlsapi_nss_memio_m_recv(PRFileDesc *fd, void *buf, PRInt32 amount,
                                                   PRIntn flags, PRIntervalTime timeout)
{
    (void)timeout;
    if (fd->secret == NULL || flags != 0) {
        PR_SetError(fd->secret == NULL ? PR_IO_ERROR : PR_NOT_IMPLEMENTED_ERROR, 0);
        return -1;
    }
    return tlsapi_nss_memio_pull((tlsapi_nss_memio *)fd->secret, (char *)buf, amount);
}

static PRInt32 PR_CALLBACK tlsapi_nss_memio_m_read(PRFileDesc *fd, void *buf, PRInt32 amount)
{
    return tlsapi_nss_memio_m_recv(fd, buf, amount, 0, PR_INTERVAL_NO_TIMEOUT);
}

static PRInt32 PR_CALLBACK tlsapi_nss_memio_m_send(PRFileDesc *fd, const void *buf, PRInt32 amount,
                                                   PRIntn flags, PRIntervalTime timeout)
{
    (void)flags;
    (void)timeout;
    if (fd->secret == NULL) {
        PR_SetError(PR_IO_ERROR, 0);
        return -1;
    }
    return tlsapi_nss_memio_push((tlsapi_nss_memio *)fd->secret, (const char *)buf, amount);
}

static PRInt32 PR_CALLBACK tlsapi_nss_memio_m_write(PRFileDesc *fd, const void *buf, PRInt32 amount)
{
    return tlsapi_nss_memio_m_send(fd, buf, amount, 0, PR_INTERVAL_NO_TIMEOUT);
}

static PRStatus PR_CALLBACK tlsapi_nss_memio_m_shutdown(PRFileDesc *fd, PRIntn how)
{
    /* The transport is the application's: it decides when to close it. */
    (void)fd;
    (void)how;
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK tlsapi_nss_memio_m_getname(PRFileDesc *fd, PRNetAddr *addr)
{
    /* NSS asks for the peer's address (for its session cache, which we keep off);
       there is no socket, so answer 127.0.0.1 port 0. */
    (void)fd;
    memset(addr, 0, sizeof(*addr));
    addr->inet.family = PR_AF_INET;
    addr->inet.ip = PR_htonl(PR_INADDR_LOOPBACK);
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK tlsapi_nss_memio_m_getsockopt(PRFileDesc *fd, PRSocketOptionData *data)
{
    (void)fd;
    switch (data->option) {
    case PR_SockOpt_Nonblocking:
        data->value.non_blocking = PR_TRUE; /* so NSS answers PR_WOULD_BLOCK_ERROR upwards */
        return PR_SUCCESS;
    case PR_SockOpt_NoDelay:
        data->value.no_delay = PR_TRUE;
        return PR_SUCCESS;
    default:
        PR_SetError(PR_NOT_IMPLEMENTED_ERROR, 0);
        return PR_FAILURE;
    }
}

static PRStatus PR_CALLBACK tlsapi_nss_memio_m_setsockopt(PRFileDesc *fd,
                                                          const PRSocketOptionData *data)
{
    (void)fd;
    (void)data;
    return PR_SUCCESS;
}

static PRInt32 PR_CALLBACK tlsapi_nss_memio_m_available(PRFileDesc *fd)
{
    (void)fd;
    return 0;
}

static PRStatus tlsapi_nss_memio_init(void)
{
    tlsapi_nss_memio_identity = PR_GetUniqueIdentity("tlsapi memory I/O");
    if (tlsapi_nss_memio_identity == PR_INVALID_IO_LAYER) {
        return PR_FAILURE;
    }
    tlsapi_nss_memio_methods = *PR_GetDefaultIOMethods();
    tlsapi_nss_memio_methods.file_type = PR_DESC_LAYERED;
    tlsapi_nss_memio_methods.close = tlsapi_nss_memio_m_close;
    tlsapi_nss_memio_methods.read = tlsapi_nss_memio_m_read;
    tlsapi_nss_memio_methods.write = tlsapi_nss_memio_m_write;
    tlsapi_nss_memio_methods.available = tlsapi_nss_memio_m_available;
    tlsapi_nss_memio_methods.recv = tlsapi_nss_memio_m_recv;
    tlsapi_nss_memio_methods.send = tlsapi_nss_memio_m_send;
    tlsapi_nss_memio_methods.shutdown = tlsapi_nss_memio_m_shutdown;
    tlsapi_nss_memio_methods.getsockname = tlsapi_nss_memio_m_getname;
    tlsapi_nss_memio_methods.getpeername = tlsapi_nss_memio_m_getname;
    tlsapi_nss_memio_methods.getsocketoption = tlsapi_nss_memio_m_getsockopt;
    tlsapi_nss_memio_methods.setsocketoption = tlsapi_nss_memio_m_setsockopt;
    return PR_SUCCESS;
}

/* A new bottom layer doing its I/O on `state`, of which it takes a reference
   (NULL for a model socket, which never does I/O). */
PRFileDesc *tlsapi_nss_memio_new(tlsapi_nss_memio *state)
{
    PRFileDesc *fd;
    if (PR_CallOnce(&tlsapi_nss_memio_once, tlsapi_nss_memio_init) != PR_SUCCESS) {
        return NULL;
    }
    fd = PR_CreateIOLayerStub(tlsapi_nss_memio_identity, &tlsapi_nss_memio_methods);
    if (fd != NULL && state != NULL) {
        PR_ATOMIC_INCREMENT(&state->refs);
        fd->secret = (PRFilePrivate *)state;
    }
    return fd;
}

/* Our layer in a socket's stack (SSL_ImportFD pushes NSS's layer on top). */
PRFileDesc *tlsapi_nss_memio_layer(PRFileDesc *fd)
{
    return PR_GetIdentitiesLayer(fd, tlsapi_nss_memio_identity);
}

/* Close a whole stack; whatever NSS sends while closing goes nowhere. */
void tlsapi_nss_memio_close(PRFileDesc *fd)
{
    PRFileDesc *layer = PR_GetIdentitiesLayer(fd, tlsapi_nss_memio_identity);
    if (layer != NULL) {
        tlsapi_nss_memio_state_release((tlsapi_nss_memio *)layer->secret);
        layer->secret = NULL;
    }
    PR_Close(fd);
}
