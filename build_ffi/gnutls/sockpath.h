/* tlsapi-gnutls: the native socket path (sockpath.c says how and why).
 *
 * build_ffi/gnutls/sockpath.py declares the same to cffi: keep the two in step.
 */
#ifndef TLSAPI_GNUTLS_SOCKPATH_H
#define TLSAPI_GNUTLS_SOCKPATH_H

#include "transport.h"

int tlsapi_gnutls_attach_fd(tlsapi_gnutls_transport *t, int fd, int tap);
int64_t tlsapi_gnutls_flush_fd(tlsapi_gnutls_transport *t, int discard);
int64_t tlsapi_gnutls_cork_fd(tlsapi_gnutls_transport *t, int on);
void tlsapi_gnutls_tap_taken(tlsapi_gnutls_transport *t, int stop);
int64_t tlsapi_gnutls_peek_fd(tlsapi_gnutls_transport *t, char *data, size_t size);

/* tlsapi_gnutls_wait_fd's answers. */
#define TLSAPI_GNUTLS_WAIT_TIMEOUT 0
#define TLSAPI_GNUTLS_WAIT_READY 1
#define TLSAPI_GNUTLS_WAIT_EINTR 2
#define TLSAPI_GNUTLS_WAIT_OUTPUT 3
int tlsapi_gnutls_wait_fd(const tlsapi_gnutls_transport *t, int timeout_ms, int output_first);
int64_t tlsapi_gnutls_recv_fd(tlsapi_gnutls_transport *t, char *data, size_t size);

#endif
