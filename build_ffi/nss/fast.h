/* tlsapi-nss: the core's fast path (tlsapi/include/tlsapi_fast.h) over memio.
 *
 * fast.c says what these do; build_ffi/nss/fast.py declares the same to cffi:
 * keep the two in step.
 */
#ifndef TLSAPI_NSS_FAST_H
#define TLSAPI_NSS_FAST_H

#include <stddef.h>
#include <stdint.h>

#include <prio.h>

#include "memio.h"

typedef struct {
    /* Set from Python: */
    PRFileDesc *fd;           /* the connection's NSS socket */
    tlsapi_nss_memio *state;  /* its memio state */
    int python_fed;           /* Python's _receive queued bytes it keeps alive (its _chunks) */
    /* C only: */
    char *copy;               /* the bytes fast_give queued (memio reads them in place) */
    size_t copy_cap;
} tlsapi_nss_fast;

#define TLSAPI_NSS_FAST_DECLINED (-1) /* TLSAPI_FAST_DECLINED */
/* fast_recv's answer for Python: this plus the count or the NSPR error code. */
#define TLSAPI_NSS_FAST_STOPPED ((int64_t)1 << 40)

tlsapi_nss_fast *tlsapi_nss_fast_new(PRFileDesc *fd, tlsapi_nss_memio *state);
void tlsapi_nss_fast_free(tlsapi_nss_fast *fast);
size_t tlsapi_nss_fast_capacity(tlsapi_nss_fast *fast);  /* the copy it holds: for tests */
int64_t tlsapi_nss_fast_send(void *fast, const char *data, size_t size);
int64_t tlsapi_nss_fast_recv(void *fast, char *data, size_t size);
int tlsapi_nss_fast_give(void *fast, const char *data, size_t size);
int64_t tlsapi_nss_fast_output(void *fast, const char **data);
void tlsapi_nss_fast_taken(void *fast, size_t count);
size_t tlsapi_nss_fast_bound(void *fast, size_t size);
int64_t tlsapi_nss_fast_send_into(void *fast, const char *data, size_t size, char *out,
                                  size_t capacity, size_t *written);

#endif
