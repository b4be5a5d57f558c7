"""cdefs for our memio.h: the memory-buffer NSPR I/O layer, and reads and writes through it.

The C is in ``memio.c`` (its opening comment says what it does and why it is
C, and how its native socket path reads and writes a descriptor); this module
declares to cffi what ``memio.h`` declares, and the two must stay in step (the
compiler checks them against each other).
"""

INCLUDES = """
#include "memio.h"
"""

SOURCES = ("memio.c",)

TYPES = """
#define TLSAPI_NSS_WAIT_TIMEOUT ...
#define TLSAPI_NSS_WAIT_READY ...
#define TLSAPI_NSS_WAIT_EINTR ...
#define TLSAPI_NSS_WAIT_OUTPUT ...

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int on;
} tlsapi_nss_memio_tap;

typedef struct {
    char *out;
    size_t out_len;
    size_t in_size;
    size_t in_offset;
    int eof;
    int eof_delivered;
    int stopped;
    PRInt32 stop_code;
    int attached;
    int fd;
    int sys_errno;
    int held;
    tlsapi_nss_memio_tap tap_in;
    tlsapi_nss_memio_tap tap_out;
    ...;
} tlsapi_nss_memio;
"""

FUNCTIONS = """
tlsapi_nss_memio *tlsapi_nss_memio_state_new(void);
void tlsapi_nss_memio_state_release(tlsapi_nss_memio *state);
int tlsapi_nss_memio_feed(tlsapi_nss_memio *state, const char *data, size_t size);
void tlsapi_nss_memio_taken(tlsapi_nss_memio *state);
size_t tlsapi_nss_memio_capacity(tlsapi_nss_memio *state);

PRInt32 tlsapi_nss_read(PRFileDesc *fd, tlsapi_nss_memio *state, void *buf, PRInt32 amount);
PRInt32 tlsapi_nss_write(PRFileDesc *fd, tlsapi_nss_memio *state, const void *buf, PRInt32 amount);

int tlsapi_nss_memio_attach_fd(tlsapi_nss_memio *state, int fd, int tap_in, int tap_out);
int64_t tlsapi_nss_memio_flush_fd(tlsapi_nss_memio *state, int discard);
int tlsapi_nss_memio_send_fd(tlsapi_nss_memio *state, const char *data, size_t size);
int64_t tlsapi_nss_memio_recv_fd(tlsapi_nss_memio *state, char *data, size_t size);
int64_t tlsapi_nss_memio_peek_fd(tlsapi_nss_memio *state, char *data, size_t size);
void tlsapi_nss_memio_tap_taken(tlsapi_nss_memio *state, int which, int stop);
int tlsapi_nss_memio_wait_fd(const tlsapi_nss_memio *state, int timeout_ms, int output_first);

PRFileDesc *tlsapi_nss_memio_new(tlsapi_nss_memio *state);
PRFileDesc *tlsapi_nss_memio_layer(PRFileDesc *fd);
void tlsapi_nss_memio_close(PRFileDesc *fd);
"""
