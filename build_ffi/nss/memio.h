/* tlsapi-nss: the memory-buffer NSPR I/O layer under every NSS socket of ours,
 * and application data read and written through it in one call each.
 *
 * memio.c says how and why it is C.  build_ffi/nss/memio.py declares the same
 * to cffi: keep the two in step.
 */
#ifndef TLSAPI_NSS_MEMIO_H
#define TLSAPI_NSS_MEMIO_H

#include <stddef.h>
#include <stdint.h>

#include <prio.h>
#include <prtypes.h>

/* A chunk of received bytes, owned by the Python buffer (a `bytes` it keeps alive). */
typedef struct {
    const char *data;
    size_t size;
} tlsapi_nss_memio_chunk;

/* The native socket path: a copy of what passed the socket one way, for Python to read
   (the peer's first bytes and hello, our own hello), kept only while `on`. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int on;
} tlsapi_nss_memio_tap;

/* One connection's ciphertext, both ways: the `secret` of its bottom layer. */
typedef struct {
    /* Read and written from Python (see the cdef): */
    char *out;            /* ciphertext NSS sent, not yet taken by the application */
    size_t out_len;
    size_t in_size;       /* received bytes NSS has not read yet */
    size_t in_offset;     /* bytes of chunks[head] NSS has read */
    int eof;              /* the application reported the transport's end of file */
    int eof_delivered;    /* recv answered 0: NSS saw the end without a close_notify */
    int stopped;          /* the last read met `stop_code` after the data it returned */
    PRInt32 stop_code;    /* 0: close_notify or the transport's end; else an NSPR error */
    /* The native socket path (memio.c, "fd mode"): */
    int attached;         /* recv/send go to `fd` (after a detach, fd is -1: they fail) */
    int fd;               /* the connected socket, or -1 */
    int sys_errno;        /* the errno a recv met, for Python to raise as OSError; 0 */
    int held;             /* NSS holds plaintext the last read had no room for */
    tlsapi_nss_memio_tap tap_in;  /* what recv read from the socket */
    tlsapi_nss_memio_tap tap_out; /* what NSS sent (to the socket or the queue `out`) */
    /* C only: */
    int cork;             /* a large write: queue its records, send them once at the end */
    int paused;           /* NSS answered bytes Python has not seen (tap_in): no more reads */
    char *direct;         /* a large write's target: the core's bytes object (fast.c), or NULL */
    size_t direct_cap;
    size_t direct_len;
    size_t out_cap;
    tlsapi_nss_memio_chunk *chunks;
    size_t head;          /* first chunk not used up */
    size_t count;         /* chunks in use: [head, count) */
    size_t cap;
    PRInt32 refs;
} tlsapi_nss_memio;

/* A new state with one reference (the Python buffer's); NULL when out of memory. */
tlsapi_nss_memio *tlsapi_nss_memio_state_new(void);
/* Drop one reference; the last frees the state.  NULL is ignored. */
void tlsapi_nss_memio_state_release(tlsapi_nss_memio *state);
/* Queue received bytes without copying them (see memio.c for how long they must live). */
int tlsapi_nss_memio_feed(tlsapi_nss_memio *state, const char *data, size_t size);
/* The application took the `out_len` bytes pending. */
void tlsapi_nss_memio_taken(tlsapi_nss_memio *state);
/* The bytes the state has allocated: for tests. */
size_t tlsapi_nss_memio_capacity(tlsapi_nss_memio *state);

/* PR_Read and PR_Write returning the count or the (negative) NSPR error code. */
PRInt32 tlsapi_nss_read(PRFileDesc *fd, tlsapi_nss_memio *state, void *buf, PRInt32 amount);
PRInt32 tlsapi_nss_write(PRFileDesc *fd, tlsapi_nss_memio *state, const void *buf,
                         PRInt32 amount);

/* The native socket path: recv/send on `fd` from now on (fd < 0: detach); the taps
   start as asked.  0, or -1 where this platform cannot. */
int tlsapi_nss_memio_attach_fd(tlsapi_nss_memio *state, int fd, int tap_in, int tap_out);
/* Send the queue now without waiting (or drop it): what is left, or -errno. */
int64_t tlsapi_nss_memio_flush_fd(tlsapi_nss_memio *state, int discard);
/* Bytes of our own for the socket (an alert NSS did not write): sent or queued in order.
   0, or -1 when out of memory. */
int tlsapi_nss_memio_send_fd(tlsapi_nss_memio *state, const char *data, size_t size);
/* One recv from the socket, not waiting, not tapped: the count, 0 at its end (noted in
   eof), or -1 (nothing yet; or failed: sys_errno). */
int64_t tlsapi_nss_memio_recv_fd(tlsapi_nss_memio *state, char *data, size_t size);
/* What else already arrived on the socket, left in place; the count or -1. */
int64_t tlsapi_nss_memio_peek_fd(tlsapi_nss_memio *state, char *data, size_t size);
/* The engine's wait for the peer, without the connection's lock (memio.c says what
   it answers). */
#define TLSAPI_NSS_WAIT_TIMEOUT 0
#define TLSAPI_NSS_WAIT_READY 1
#define TLSAPI_NSS_WAIT_EINTR 2
#define TLSAPI_NSS_WAIT_OUTPUT 3
int tlsapi_nss_memio_wait_fd(const tlsapi_nss_memio *state, int timeout_ms, int output_first);
/* Python took a tap's bytes (which: 0 in, 1 out); `stop`: it needs no more of them. */
void tlsapi_nss_memio_tap_taken(tlsapi_nss_memio *state, int which, int stop);

/* A new bottom layer on `state` (NULL: a model socket's, which does no I/O). */
PRFileDesc *tlsapi_nss_memio_new(tlsapi_nss_memio *state);
/* Our layer in a socket's stack, or NULL. */
PRFileDesc *tlsapi_nss_memio_layer(PRFileDesc *fd);
/* Close a whole stack, detaching the state first. */
void tlsapi_nss_memio_close(PRFileDesc *fd);

#endif
