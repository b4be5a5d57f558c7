"""cdefs for our fast.h: the core's C fast path (tlsapi/include/tlsapi_fast.h) over memio.

The C is in ``fast.c`` (its opening comment says what it does); this module
declares to cffi what ``fast.h`` declares, and the two must stay in step.
"""

INCLUDES = """
#include "fast.h"
"""

SOURCES = ("fast.c",)

TYPES = """
typedef struct {
    PRFileDesc *fd;
    tlsapi_nss_memio *state;
    int python_fed;
    ...;
} tlsapi_nss_fast;

#define TLSAPI_NSS_FAST_STOPPED ...
"""

FUNCTIONS = """
tlsapi_nss_fast *tlsapi_nss_fast_new(PRFileDesc *fd, tlsapi_nss_memio *state);
void tlsapi_nss_fast_free(tlsapi_nss_fast *fast);
size_t tlsapi_nss_fast_capacity(tlsapi_nss_fast *fast);
int64_t tlsapi_nss_fast_send(void *fast, const char *data, size_t size);
int64_t tlsapi_nss_fast_recv(void *fast, char *data, size_t size);
int tlsapi_nss_fast_give(void *fast, const char *data, size_t size);
int64_t tlsapi_nss_fast_output(void *fast, const char **data);
void tlsapi_nss_fast_taken(void *fast, size_t count);
size_t tlsapi_nss_fast_bound(void *fast, size_t size);
int64_t tlsapi_nss_fast_send_into(void *fast, const char *data, size_t size, char *out,
                                  size_t capacity, size_t *written);
"""
