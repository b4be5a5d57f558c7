"""cdefs for our transport.h: GnuTLS's push and pull over C buffers, and the record loops.

The C is in ``transport.c`` (its opening comment says what it does and why it
is C); this module declares to cffi what ``transport.h`` declares, and the
two must stay in step (the compiler checks them against each other).
"""

INCLUDES = """
#include "transport.h"
"""

SOURCES = ("transport.c",)

TYPES = """
typedef struct {
    gnutls_session_t session;
    char *out_data;     /* what push was given, not yet consumed by Python */
    size_t out_len;
    size_t out_cap;     /* out_buf's size: above TLSAPI_GNUTLS_KEEP_OUTPUT, consume frees it */
    size_t in_len;      /* ciphertext received, not yet pulled by GnuTLS */
    int eof;            /* the transport reached end of file */
    int starved;        /* pull found nothing and answered EAGAIN */
    int code;           /* why recv stopped, when its result carries TLSAPI_GNUTLS_STOPPED */
    unsigned char client_finished[...];  /* the client's Finished verify_data (tls-unique) */
    unsigned int client_finished_len;
    unsigned char server_finished[...];  /* the server's (tls-unique after a resumption) */
    unsigned int server_finished_len;
    gnutls_handshake_hook_func hello_hook;  /* a ClientHello goes here first, if set */
    int fd;             /* the native socket path's socket (socket.c), or -1 */
    int sys_errno;      /* recv on fd failed with this errno */
    int tap;            /* pull copies what it reads from fd to tap_buf */
    char *tap_buf;
    size_t tap_len;
    int held;           /* recv left decrypted bytes inside GnuTLS */
    int callback_failed;  /* a Python callback failed: the fast handshake step says so */
    unsigned char *offered;  /* a server: the first ClientHello's cipher_suites, or NULL */
    size_t offered_len;
    ...;
} tlsapi_gnutls_transport;

#define TLSAPI_GNUTLS_STOPPED ...
#define TLSAPI_GNUTLS_WINDOW_DONE ...
#define TLSAPI_GNUTLS_NO_PROGRESS ...
#define TLSAPI_GNUTLS_KEEP_OUTPUT ...
#define TLSAPI_GNUTLS_FINISHED_MAX ...
"""

FUNCTIONS = """
tlsapi_gnutls_transport *tlsapi_gnutls_transport_new(unsigned int flags, int *error);
void tlsapi_gnutls_transport_free(tlsapi_gnutls_transport *t);
int tlsapi_gnutls_receive(tlsapi_gnutls_transport *t, const char *data, size_t size, int borrow);
void tlsapi_gnutls_output_consume(tlsapi_gnutls_transport *t, size_t count);
size_t tlsapi_gnutls_capacity(tlsapi_gnutls_transport *t);
int tlsapi_gnutls_handshake(tlsapi_gnutls_transport *t);
int64_t tlsapi_gnutls_recv(tlsapi_gnutls_transport *t, char *data, size_t size);
int64_t tlsapi_gnutls_send(tlsapi_gnutls_transport *t, const char *data, size_t size);
int64_t tlsapi_gnutls_fast_send(void *state, const char *data, size_t size);
int64_t tlsapi_gnutls_fast_recv(void *state, char *data, size_t size);
int tlsapi_gnutls_fast_give(void *state, const char *data, size_t size);
int64_t tlsapi_gnutls_fast_output(void *state, const char **data);
void tlsapi_gnutls_fast_taken(void *state, size_t count);
size_t tlsapi_gnutls_fast_bound(void *state, size_t size);
int64_t tlsapi_gnutls_fast_handshake(void *state);
int64_t tlsapi_gnutls_fast_send_into(void *state, const char *data, size_t size, char *out,
                                     size_t capacity, size_t *written);
ssize_t tlsapi_gnutls_pull(gnutls_transport_ptr_t pointer, void *data, size_t size);
int tlsapi_gnutls_reserve_out(tlsapi_gnutls_transport *t, size_t extra);
"""
