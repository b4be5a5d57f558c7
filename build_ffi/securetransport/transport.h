/* tlsapi-securetransport: the memory transport under every SSLContextRef of ours.
 *
 * Secure Transport reads and writes through the two functions SSLSetIOFuncs
 * gives it; ours (transport.c) work on the C buffers of this struct, so that
 * no call goes back into Python per record.  build_ffi/securetransport/
 * transport.py declares the same to cffi: keep the two in step.
 */
#ifndef TLSAPI_SECURETRANSPORT_TRANSPORT_H
#define TLSAPI_SECURETRANSPORT_TRANSPORT_H

#include <stddef.h>

#include <Security/SecureTransport.h>

/* An output buffer larger than this is freed once Python consumed all of it. */
#define TLSAPI_SECURETRANSPORT_KEEP 2048

typedef struct {
    /* Read from Python: */
    SSLContextRef context;
    unsigned char *out_data; /* out_len bytes Secure Transport wrote, not yet consumed */
    size_t out_len;
    size_t in_len;           /* ciphertext received, not yet read by Secure Transport */
    int eof;                 /* the transport reached end of file (set from Python) */
    int starved;             /* the read function ran out of bytes (errSSLWouldBlock) */
    /* C only: */
    unsigned char *out_buf;
    size_t out_cap;
    unsigned char *in_buf;
    size_t in_start;
    size_t in_cap;
} tlsapi_securetransport_io;

tlsapi_securetransport_io *tlsapi_securetransport_io_new(SSLProtocolSide side, OSStatus *status);
void tlsapi_securetransport_io_free(tlsapi_securetransport_io *io);
int tlsapi_securetransport_receive(tlsapi_securetransport_io *io, const char *data, size_t size);
void tlsapi_securetransport_consume(tlsapi_securetransport_io *io, size_t count);
size_t tlsapi_securetransport_capacity(tlsapi_securetransport_io *io);

#endif
