"""cdefs for our transport.h: Secure Transport's read and write functions over C buffers.

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
    SSLContextRef context;
    unsigned char *out_data;
    size_t out_len;
    size_t in_len;
    int eof;
    int starved;
    ...;
} tlsapi_securetransport_io;

#define TLSAPI_SECURETRANSPORT_KEEP ...
"""

FUNCTIONS = """
tlsapi_securetransport_io *tlsapi_securetransport_io_new(SSLProtocolSide side, OSStatus *status);
void tlsapi_securetransport_io_free(tlsapi_securetransport_io *io);
int tlsapi_securetransport_receive(tlsapi_securetransport_io *io, const char *data, size_t size);
void tlsapi_securetransport_consume(tlsapi_securetransport_io *io, size_t count);
size_t tlsapi_securetransport_capacity(tlsapi_securetransport_io *io);
"""
