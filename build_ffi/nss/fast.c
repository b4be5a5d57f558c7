/* tlsapi-nss: the core's fast path (tlsapi/include/tlsapi_fast.h, TLSAPI_FAST_ABI 2).
 *
 * tlsapi._speedups calls these with the GIL held, for small sizes, on an open
 * TLS 1.3 connection (the Python buffer hands them over only then: no
 * renegotiation to refuse, no hello readers left).  They do what the Python
 * hooks' cffi calls do (tlsapi_nss_write, tlsapi_nss_read, memio's output).
 * On the native socket path (memio attached to a descriptor) send and recv
 * work too: memio's system calls never wait, so the GIL held across them costs
 * microseconds and saves the hand-off that made the peer thread wait behind
 * our Python after each send; give and output serve the memory path only.
 * give declines (TLSAPI_NSS_FAST_DECLINED) while bytes Python queued itself
 * (python_fed: `bytes` objects in its _chunks, which memio reads in place) are
 * unread; recv reads them, and the read that takes their last byte goes to
 * Python (TLSAPI_NSS_FAST_STOPPED + the count), which lets go of them.
 *
 * Received bytes: memio reads chunks in place, so fast_give copies them into
 * `copy`, a buffer this struct owns, and only when nothing is pending (so memio
 * reads nothing older from it); fast_recv frees it once memio read it all, so
 * an idle connection keeps none.  A read that is not plain data (a stop met
 * after data, 0, an error) goes to Python as TLSAPI_NSS_FAST_STOPPED + the
 * result, for the checks _readinto makes after its call.
 *
 * Additive to memio.c: it uses memio.h's calls and fields only.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "fast.h"

#include <stdlib.h>
#include <string.h>

/* The largest size the core hands over (64 KiB reads); PRInt32 holds it. */
#define TLSAPI_NSS_FAST_MAX 65536

/* For the connection's socket and memio state (kept alive by the Python buffer,
   which owns this too); NULL when out of memory. */
tlsapi_nss_fast *tlsapi_nss_fast_new(PRFileDesc *fd, tlsapi_nss_memio *state)
{
    tlsapi_nss_fast *fast = calloc(1, sizeof(*fast));
    if (fast != NULL) {
        fast->fd = fd;
        fast->state = state;
    }
    return fast;
}

void tlsapi_nss_fast_free(tlsapi_nss_fast *fast)
{
    if (fast == NULL)
        return;
    free(fast->copy);
    free(fast);
}

size_t tlsapi_nss_fast_capacity(tlsapi_nss_fast *fast)
{
    return fast->copy_cap;
}

int64_t tlsapi_nss_fast_send(void *pointer, const char *data, size_t size)
{
    tlsapi_nss_fast *fast = pointer;
    if (size > TLSAPI_NSS_FAST_MAX)
        return TLSAPI_NSS_FAST_DECLINED;
    /* size, a partial count, or a negative NSPR error (never -1): _fast_send_result. */
    return tlsapi_nss_write(fast->fd, fast->state, data, (PRInt32)size);
}

int64_t tlsapi_nss_fast_recv(void *pointer, char *data, size_t size)
{
    tlsapi_nss_fast *fast = pointer;
    tlsapi_nss_memio *state = fast->state;
    PRInt32 count;
    if (size > TLSAPI_NSS_FAST_MAX)
        return TLSAPI_NSS_FAST_DECLINED;
    count = tlsapi_nss_read(fast->fd, state, data, (PRInt32)size);
    if (state->in_size == 0 && fast->copy != NULL) {
        free(fast->copy); /* memio read all of it */
        fast->copy = NULL;
        fast->copy_cap = 0;
    }
    if (count > 0 && !state->stopped && !(fast->python_fed && state->in_size == 0))
        return count;
    /* Also when memio read the last of the chunks Python queued (a large receive):
       _fast_recv_result lets them go, once per delivery rather than once per read. */
    return TLSAPI_NSS_FAST_STOPPED + count;
}

int tlsapi_nss_fast_give(void *pointer, const char *data, size_t size)
{
    tlsapi_nss_fast *fast = pointer;
    tlsapi_nss_memio *state = fast->state;
    if (state->attached || fast->python_fed || state->in_size > 0 || size > TLSAPI_NSS_FAST_MAX)
        return TLSAPI_NSS_FAST_DECLINED;
    if (size > fast->copy_cap) {
        char *grown = malloc(size);
        if (grown == NULL)
            return 1;
        free(fast->copy);
        fast->copy = grown;
        fast->copy_cap = size;
    }
    memcpy(fast->copy, data, size);
    return tlsapi_nss_memio_feed(state, fast->copy, size) < 0 ? 1 : 0;
}

int64_t tlsapi_nss_fast_output(void *pointer, const char **data)
{
    tlsapi_nss_fast *fast = pointer;
    if (fast->state->attached)
        return TLSAPI_NSS_FAST_DECLINED;
    *data = fast->state->out;
    return (int64_t)fast->state->out_len;
}

void tlsapi_nss_fast_taken(void *pointer, size_t count)
{
    tlsapi_nss_fast *fast = pointer;
    (void)count; /* the core takes all that output() reported */
    tlsapi_nss_memio_taken(fast->state);
}

/* TLS 1.3 records of at most 16 KiB of plaintext (the fast path runs on TLS 1.3
   only), each adding its header, AEAD tag and content type: 64 bytes is ample.
   A record_size_limit the peer set makes more, smaller records: what does not
   fit goes to memio's `out` after the core's object, in order.  0 on the native
   socket path, whose records go to the socket. */
#define TLSAPI_NSS_FAST_RECORD 16384
#define TLSAPI_NSS_FAST_RECORD_OVERHEAD 64

size_t tlsapi_nss_fast_bound(void *pointer, size_t size)
{
    tlsapi_nss_fast *fast = pointer;
    if (fast->state->attached || size > ((size_t)-1) / 4)
        return 0;
    return size + (size / TLSAPI_NSS_FAST_RECORD + 2) * TLSAPI_NSS_FAST_RECORD_OVERHEAD;
}

/* tlsapi_nss_write with memio putting the records in ``out`` (tlsapi_nss_memio_push);
   only when nothing older is pending in memio's `out`, which would have to go first. */
int64_t tlsapi_nss_fast_send_into(void *pointer, const char *data, size_t size, char *out,
                                  size_t capacity, size_t *written)
{
    tlsapi_nss_fast *fast = pointer;
    tlsapi_nss_memio *state = fast->state;
    int64_t result;
    *written = 0;
    if (state->attached || state->out_len > 0 || size > (size_t)0x7fffffff)
        return TLSAPI_NSS_FAST_DECLINED;
    state->direct = out;
    state->direct_cap = capacity;
    state->direct_len = 0;
    result = tlsapi_nss_write(fast->fd, state, data, (PRInt32)size);
    *written = state->direct_len;
    state->direct = NULL;
    state->direct_cap = state->direct_len = 0;
    return result;
}
