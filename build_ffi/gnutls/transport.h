/* tlsapi-gnutls: the memory transport under every GnuTLS session of ours.
 *
 * A tlsapi_gnutls_transport owns a gnutls_session_t whose push and pull work
 * on C buffers (transport.c says how and why); these are the calls and the
 * fields the Python buffer uses.  build_ffi/gnutls/transport.py declares the
 * same to cffi: keep the two in step.
 */
#ifndef TLSAPI_GNUTLS_TRANSPORT_H
#define TLSAPI_GNUTLS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gnutls/gnutls.h>

/* The largest Finished verify_data: TLS 1.3's HMAC with SHA-384 is 48 bytes. */
#define TLSAPI_GNUTLS_FINISHED_MAX 64

typedef struct {
    /* Read (and the flags written) from Python: */
    gnutls_session_t session;
    char *out_data;        /* out_len pending bytes from here, inside out_buf */
    size_t out_len;
    size_t in_len;         /* ciphertext received, not yet pulled by GnuTLS */
    int eof;               /* the transport reached end of file */
    int starved;           /* pull found nothing and answered EAGAIN */
    int code;              /* why recv stopped, when its result carries TLSAPI_GNUTLS_STOPPED */
    /* The verify_data of the last Finished of each side (see tlsapi_gnutls_hook). */
    unsigned char client_finished[TLSAPI_GNUTLS_FINISHED_MAX];
    unsigned int client_finished_len;
    unsigned char server_finished[TLSAPI_GNUTLS_FINISHED_MAX];
    unsigned int server_finished_len;
    /* Set from Python: where a ClientHello goes before GnuTLS parses it (or NULL). */
    gnutls_handshake_hook_func hello_hook;
    /* The native socket path (socket.c): the connected socket GnuTLS reads and
       writes itself, or -1 for the memory transport. */
    int fd;
    int sys_errno;         /* recv failed with this errno: Python raises it as an OSError */
    int tap;               /* pull copies what it reads from fd to tap_buf (the not-TLS check) */
    char *tap_buf;
    size_t tap_len;
    int held;              /* recv left decrypted bytes inside GnuTLS (the caller's buffer was full) */
    int callback_failed;   /* a Python callback failed: its error waits for the handshake's end */
    /* A server: the first ClientHello's cipher_suites vector (tlsapi_gnutls_keep_offer),
       or NULL: no hello yet, or one too short to hold it. */
    unsigned char *offered;
    size_t offered_len;
    /* C only: */
    int server;
    char *out_buf;
    size_t out_cap;
    const char *in_data;   /* the window: in_len bytes from here */
    int in_borrowed;       /* the window points into a bytes object Python keeps alive */
    char *in_buf;          /* our copy (the window points into it unless borrowed) */
    size_t in_cap;
    size_t tap_cap;
    int hello_seen;        /* a server's hook met the first ClientHello */
    int cork;              /* the native path: push queues, tlsapi_gnutls_send sends once at the end */
    char *direct;          /* a large write's target: the core's bytes object (or NULL) */
    size_t direct_cap;
    size_t direct_len;
} tlsapi_gnutls_transport;

/* recv's result has this bit when it stopped for a reason in t->code. */
#define TLSAPI_GNUTLS_STOPPED ((int64_t)1 << 40)
/* The core's fast recv: the read emptied a window borrowed from Python. */
#define TLSAPI_GNUTLS_WINDOW_DONE ((int64_t)1 << 41)
/* t->code when GnuTLS kept answering non-fatal codes without progress. */
#define TLSAPI_GNUTLS_NO_PROGRESS 1
/* An output buffer larger than this is given back to malloc once Python has
   consumed all of it, so an idle connection holds none after a bulk write;
   one of at most this size stays for the next small message. */
#define TLSAPI_GNUTLS_KEEP_OUTPUT 2048

tlsapi_gnutls_transport *tlsapi_gnutls_transport_new(unsigned int flags, int *error);
void tlsapi_gnutls_transport_free(tlsapi_gnutls_transport *t);
int tlsapi_gnutls_receive(tlsapi_gnutls_transport *t, const char *data, size_t size, int borrow);
void tlsapi_gnutls_output_consume(tlsapi_gnutls_transport *t, size_t count);
size_t tlsapi_gnutls_capacity(tlsapi_gnutls_transport *t);
int tlsapi_gnutls_handshake(tlsapi_gnutls_transport *t);
int64_t tlsapi_gnutls_recv(tlsapi_gnutls_transport *t, char *data, size_t size);
int64_t tlsapi_gnutls_send(tlsapi_gnutls_transport *t, const char *data, size_t size);
/* The core's fast path: functions of the types in tlsapi/include/tlsapi_fast.h
   (tests/test_speedups.py compiles them against it). */
#define TLSAPI_GNUTLS_FAST_DECLINED (-1) /* TLSAPI_FAST_DECLINED */
#define TLSAPI_GNUTLS_FAST_WANT_READ (-2) /* TLSAPI_FAST_WANT_READ */
int64_t tlsapi_gnutls_fast_send(void *state, const char *data, size_t size);
int64_t tlsapi_gnutls_fast_recv(void *state, char *data, size_t size);
int tlsapi_gnutls_fast_give(void *state, const char *data, size_t size);
int64_t tlsapi_gnutls_fast_output(void *state, const char **data);
void tlsapi_gnutls_fast_taken(void *state, size_t count);
size_t tlsapi_gnutls_fast_bound(void *state, size_t size);
int64_t tlsapi_gnutls_fast_handshake(void *state);
int64_t tlsapi_gnutls_fast_send_into(void *state, const char *data, size_t size, char *out,
                                     size_t capacity, size_t *written);
/* For socket.c: the memory pull (the window), and room for more output. */
ssize_t tlsapi_gnutls_pull(gnutls_transport_ptr_t pointer, void *data, size_t size);
int tlsapi_gnutls_reserve_out(tlsapi_gnutls_transport *t, size_t extra);

#endif
