/* tlsapi-securetransport: Secure Transport's read and write functions, as plain C.
 *
 * Why C: Secure Transport calls its read function once or twice per record
 * (header, then body) and its write function once per flight or record; as
 * Python callbacks that would be several trips into Python, each taking the
 * GIL again in the middle of an SSLRead.  Here they work on a small struct:
 *
 * - incoming: in_buf holds ciphertext from in_start, in_len bytes long.  The
 *   read function copies what it can; when it has fewer bytes than asked it
 *   answers errSSLWouldBlock with the count it did copy (Secure Transport
 *   keeps a partial record and asks again), or, once the transport reached
 *   end of file with nothing left, errSSLClosedNoNotify: the peer left
 *   without close_notify (a close_notify itself makes SSLRead answer
 *   errSSLClosedGraceful).
 * - outgoing: the write function appends everything it is given to out_buf
 *   and never blocks, so SSLWrite takes all of its input at once: there is
 *   never a partially written record that Secure Transport would hold back.
 *   Python peeks at out_data/out_len and consumes with
 *   tlsapi_securetransport_consume.
 *
 * Memory: an idle connection keeps at most TLSAPI_SECURETRANSPORT_KEEP bytes
 * of output buffer and no input buffer larger than that.
 *
 * Thread safety: none inside; the Python buffer holds its per-connection
 * lock around every call that reaches this struct.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "transport.h"

#include <stdlib.h>
#include <string.h>

/* Secure Transport's connection reference is our struct. */
static OSStatus tlsapi_securetransport_read(SSLConnectionRef connection, void *data,
                                            size_t *length)
{
    tlsapi_securetransport_io *io = (tlsapi_securetransport_io *)(size_t)connection;
    size_t wanted = *length;
    size_t count = io->in_len < wanted ? io->in_len : wanted;
    if (count > 0) {
        memcpy(data, io->in_buf + io->in_start, count);
        io->in_start += count;
        io->in_len -= count;
    }
    if (io->in_len == 0) {
        io->in_start = 0;
        if (io->in_cap > TLSAPI_SECURETRANSPORT_KEEP) {
            free(io->in_buf); /* a burst is over: an idle connection keeps no large copy */
            io->in_buf = NULL;
            io->in_cap = 0;
        }
    }
    *length = count;
    if (count == wanted)
        return noErr;
    if (io->eof && count == 0)
        return errSSLClosedNoNotify;
    io->starved = 1;
    return errSSLWouldBlock;
}

static OSStatus tlsapi_securetransport_write(SSLConnectionRef connection, const void *data,
                                             size_t *length)
{
    tlsapi_securetransport_io *io = (tlsapi_securetransport_io *)(size_t)connection;
    size_t size = *length;
    size_t offset, capacity;
    unsigned char *grown;
    if (size == 0)
        return noErr;
    if (io->out_len == 0)
        io->out_data = io->out_buf; /* all consumed: start again at the front */
    offset = (size_t)(io->out_data - io->out_buf);
    if (size > ((size_t)-1) / 4 - io->out_len) {
        *length = 0;
        return errSSLInternal;
    }
    if (offset + io->out_len + size > io->out_cap) {
        if (offset > 0) {
            memmove(io->out_buf, io->out_data, io->out_len);
            io->out_data = io->out_buf;
            offset = 0;
        }
        if (io->out_len + size > io->out_cap) {
            capacity = io->out_cap ? io->out_cap : TLSAPI_SECURETRANSPORT_KEEP;
            while (capacity < io->out_len + size)
                capacity *= 2;
            grown = realloc(io->out_buf, capacity);
            if (grown == NULL) {
                *length = 0;
                return errSSLInternal;
            }
            io->out_buf = io->out_data = grown;
            io->out_cap = capacity;
        }
    }
    memcpy(io->out_data + io->out_len, data, size);
    io->out_len += size;
    return noErr;
}

tlsapi_securetransport_io *tlsapi_securetransport_io_new(SSLProtocolSide side, OSStatus *status)
{
    tlsapi_securetransport_io *io = calloc(1, sizeof(*io));
    if (io == NULL) {
        *status = errSSLInternal;
        return NULL;
    }
    io->context = SSLCreateContext(NULL, side, kSSLStreamType);
    if (io->context == NULL) {
        free(io);
        *status = errSSLInternal;
        return NULL;
    }
    *status = SSLSetIOFuncs(io->context, tlsapi_securetransport_read,
                            tlsapi_securetransport_write);
    if (*status == noErr)
        *status = SSLSetConnection(io->context, io);
    if (*status != noErr) {
        CFRelease(io->context);
        free(io);
        return NULL;
    }
    return io;
}

void tlsapi_securetransport_io_free(tlsapi_securetransport_io *io)
{
    CFRelease(io->context);
    free(io->out_buf);
    free(io->in_buf);
    free(io);
}

/* Ciphertext from the network, copied after what is pending.  0, or -1 when
   memory ran out (nothing was taken). */
int tlsapi_securetransport_receive(tlsapi_securetransport_io *io, const char *data, size_t size)
{
    size_t capacity;
    unsigned char *grown;
    if (size == 0)
        return 0;
    if (size > ((size_t)-1) / 4 - io->in_len)
        return -1;
    if (io->in_start + io->in_len + size > io->in_cap) {
        if (io->in_start > 0) {
            memmove(io->in_buf, io->in_buf + io->in_start, io->in_len);
            io->in_start = 0;
        }
        if (io->in_len + size > io->in_cap) {
            capacity = io->in_cap ? io->in_cap : TLSAPI_SECURETRANSPORT_KEEP;
            while (capacity < io->in_len + size)
                capacity *= 2;
            grown = realloc(io->in_buf, capacity);
            if (grown == NULL)
                return -1;
            io->in_buf = grown;
            io->in_cap = capacity;
        }
    }
    memcpy(io->in_buf + io->in_start + io->in_len, data, size);
    io->in_len += size;
    return 0;
}

/* Python sent ``count`` of the pending output bytes (at most out_len). */
void tlsapi_securetransport_consume(tlsapi_securetransport_io *io, size_t count)
{
    if (count > io->out_len)
        count = io->out_len;
    io->out_data += count;
    io->out_len -= count;
    if (io->out_len == 0) {
        io->out_data = io->out_buf;
        if (io->out_cap > TLSAPI_SECURETRANSPORT_KEEP) {
            free(io->out_buf);
            io->out_buf = io->out_data = NULL;
            io->out_cap = 0;
        }
    }
}

/* The bytes this transport has allocated (input and output): for tests. */
size_t tlsapi_securetransport_capacity(tlsapi_securetransport_io *io)
{
    return io->out_cap + io->in_cap;
}
