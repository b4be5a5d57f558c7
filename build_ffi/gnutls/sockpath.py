"""cdefs for our sockpath.h: the native socket path (GnuTLS reads and writes a socket itself).

The C is in ``sockpath.c`` (its opening comment says how and why); the fields
it uses are in the transport struct (``transport.py``).
"""

INCLUDES = """
#include "sockpath.h"
"""

SOURCES = ("sockpath.c",)

TYPES = """
#define TLSAPI_GNUTLS_WAIT_TIMEOUT ...
#define TLSAPI_GNUTLS_WAIT_READY ...
#define TLSAPI_GNUTLS_WAIT_EINTR ...
#define TLSAPI_GNUTLS_WAIT_OUTPUT ...
"""

FUNCTIONS = """
int tlsapi_gnutls_attach_fd(tlsapi_gnutls_transport *t, int fd, int tap);
int64_t tlsapi_gnutls_flush_fd(tlsapi_gnutls_transport *t, int discard);
int64_t tlsapi_gnutls_cork_fd(tlsapi_gnutls_transport *t, int on);
void tlsapi_gnutls_tap_taken(tlsapi_gnutls_transport *t, int stop);
int64_t tlsapi_gnutls_peek_fd(tlsapi_gnutls_transport *t, char *data, size_t size);
int tlsapi_gnutls_wait_fd(const tlsapi_gnutls_transport *t, int timeout_ms, int output_first);
int64_t tlsapi_gnutls_recv_fd(tlsapi_gnutls_transport *t, char *data, size_t size);
"""
