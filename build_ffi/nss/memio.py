"""The memory-buffer NSPR I/O layer under every NSS socket of ours (no header: our own C).

NSS reads and writes the ciphertext through the bottom PRFileDesc of a
socket's layer stack.  Ours is a stub layer (PR_CreateIOLayerStub) whose
``secret`` is the cffi handle of the Python buffer; recv/read and
send/write call back into Python (``extern "Python"``), which moves bytes
between NSS and the buffer's ByteQueues.  An empty incoming queue answers
PR_WOULD_BLOCK_ERROR, so NSS behaves as on a non-blocking socket; after the
transport's end of file recv answers 0.

The methods that need no Python (close, shutdown, getpeername, socket
options) are plain C.  ``tlsapi_memio_close`` clears ``secret`` before
PR_Close so that nothing NSS does while closing (it may try to send a
close_notify) can reach a Python object that is being collected.
"""

INCLUDES = """
#include <prnetdb.h>
"""

TYPES = """
#define TLSAPI_MEMIO_WOULD_BLOCK ...
#define TLSAPI_MEMIO_FAILED ...
"""

FUNCTIONS = """
extern "Python" PRInt32 tlsapi_memio_recv_cb(void *handle, char *buf, PRInt32 amount);
extern "Python" PRInt32 tlsapi_memio_send_cb(void *handle, const char *buf, PRInt32 amount);

PRFileDesc *tlsapi_memio_new(void *handle);
PRFileDesc *tlsapi_memio_layer(PRFileDesc *fd);
void tlsapi_memio_close(PRFileDesc *fd);
"""

CUSTOMIZATIONS = r"""
#include <string.h>

#define TLSAPI_MEMIO_WOULD_BLOCK (-1)
#define TLSAPI_MEMIO_FAILED (-2)

/* Defined by cffi further down (extern "Python"). */
static PRInt32 tlsapi_memio_recv_cb(void *handle, char *buf, PRInt32 amount);
static PRInt32 tlsapi_memio_send_cb(void *handle, const char *buf, PRInt32 amount);

static PRDescIdentity tlsapi_memio_identity = PR_INVALID_IO_LAYER;
static PRIOMethods tlsapi_memio_methods;
static PRCallOnceType tlsapi_memio_once;

/* Python answers a count, WOULD_BLOCK or FAILED; NSPR wants -1 plus an error code. */
static PRInt32 tlsapi_memio_result(PRInt32 rv)
{
    if (rv >= 0) {
        return rv;
    }
    PR_SetError(rv == TLSAPI_MEMIO_WOULD_BLOCK ? PR_WOULD_BLOCK_ERROR : PR_IO_ERROR, 0);
    return -1;
}

static PRStatus PR_CALLBACK tlsapi_memio_m_close(PRFileDesc *fd)
{
    fd->secret = NULL;
    fd->dtor(fd);
    return PR_SUCCESS;
}

static PRInt32 PR_CALLBACK tlsapi_memio_m_recv(PRFileDesc *fd, void *buf, PRInt32 amount,
                                               PRIntn flags, PRIntervalTime timeout)
{
    (void)timeout;
    if (fd->secret == NULL || flags != 0) {
        PR_SetError(fd->secret == NULL ? PR_IO_ERROR : PR_NOT_IMPLEMENTED_ERROR, 0);
        return -1;
    }
    return tlsapi_memio_result(tlsapi_memio_recv_cb((void *)fd->secret, (char *)buf, amount));
}

static PRInt32 PR_CALLBACK tlsapi_memio_m_read(PRFileDesc *fd, void *buf, PRInt32 amount)
{
    return tlsapi_memio_m_recv(fd, buf, amount, 0, PR_INTERVAL_NO_TIMEOUT);
}

static PRInt32 PR_CALLBACK tlsapi_memio_m_send(PRFileDesc *fd, const void *buf, PRInt32 amount,
                                               PRIntn flags, PRIntervalTime timeout)
{
    (void)flags;
    (void)timeout;
    if (fd->secret == NULL) {
        PR_SetError(PR_IO_ERROR, 0);
        return -1;
    }
    return tlsapi_memio_result(tlsapi_memio_send_cb((void *)fd->secret, (const char *)buf, amount));
}

static PRInt32 PR_CALLBACK tlsapi_memio_m_write(PRFileDesc *fd, const void *buf, PRInt32 amount)
{
    return tlsapi_memio_m_send(fd, buf, amount, 0, PR_INTERVAL_NO_TIMEOUT);
}

static PRStatus PR_CALLBACK tlsapi_memio_m_shutdown(PRFileDesc *fd, PRIntn how)
{
    /* The transport is the application's: it decides when to close it. */
    (void)fd;
    (void)how;
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK tlsapi_memio_m_getname(PRFileDesc *fd, PRNetAddr *addr)
{
    /* NSS asks for the peer's address (for its session cache, which we keep off);
       there is no socket, so answer 127.0.0.1 port 0. */
    (void)fd;
    memset(addr, 0, sizeof(*addr));
    addr->inet.family = PR_AF_INET;
    addr->inet.ip = PR_htonl(PR_INADDR_LOOPBACK);
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK tlsapi_memio_m_getsockopt(PRFileDesc *fd, PRSocketOptionData *data)
{
    (void)fd;
    switch (data->option) {
    case PR_SockOpt_Nonblocking:
        data->value.non_blocking = PR_TRUE; /* so NSS answers PR_WOULD_BLOCK_ERROR upwards */
        return PR_SUCCESS;
    case PR_SockOpt_NoDelay:
        data->value.no_delay = PR_TRUE;
        return PR_SUCCESS;
    default:
        PR_SetError(PR_NOT_IMPLEMENTED_ERROR, 0);
        return PR_FAILURE;
    }
}

static PRStatus PR_CALLBACK tlsapi_memio_m_setsockopt(PRFileDesc *fd, const PRSocketOptionData *data)
{
    (void)fd;
    (void)data;
    return PR_SUCCESS;
}

static PRInt32 PR_CALLBACK tlsapi_memio_m_available(PRFileDesc *fd)
{
    (void)fd;
    return 0;
}

static PRStatus tlsapi_memio_init(void)
{
    tlsapi_memio_identity = PR_GetUniqueIdentity("tlsapi memory I/O");
    if (tlsapi_memio_identity == PR_INVALID_IO_LAYER) {
        return PR_FAILURE;
    }
    tlsapi_memio_methods = *PR_GetDefaultIOMethods();
    tlsapi_memio_methods.file_type = PR_DESC_LAYERED;
    tlsapi_memio_methods.close = tlsapi_memio_m_close;
    tlsapi_memio_methods.read = tlsapi_memio_m_read;
    tlsapi_memio_methods.write = tlsapi_memio_m_write;
    tlsapi_memio_methods.available = tlsapi_memio_m_available;
    tlsapi_memio_methods.recv = tlsapi_memio_m_recv;
    tlsapi_memio_methods.send = tlsapi_memio_m_send;
    tlsapi_memio_methods.shutdown = tlsapi_memio_m_shutdown;
    tlsapi_memio_methods.getsockname = tlsapi_memio_m_getname;
    tlsapi_memio_methods.getpeername = tlsapi_memio_m_getname;
    tlsapi_memio_methods.getsocketoption = tlsapi_memio_m_getsockopt;
    tlsapi_memio_methods.setsocketoption = tlsapi_memio_m_setsockopt;
    return PR_SUCCESS;
}

/* A new bottom layer whose I/O goes to the Python object behind `handle`
   (NULL for a model socket, which never does I/O). */
static PRFileDesc *tlsapi_memio_new(void *handle)
{
    PRFileDesc *fd;
    if (PR_CallOnce(&tlsapi_memio_once, tlsapi_memio_init) != PR_SUCCESS) {
        return NULL;
    }
    fd = PR_CreateIOLayerStub(tlsapi_memio_identity, &tlsapi_memio_methods);
    if (fd != NULL) {
        fd->secret = (PRFilePrivate *)handle;
    }
    return fd;
}

/* Our layer in a socket's stack (SSL_ImportFD pushes NSS's layer on top). */
static PRFileDesc *tlsapi_memio_layer(PRFileDesc *fd)
{
    return PR_GetIdentitiesLayer(fd, tlsapi_memio_identity);
}

/* Close a whole stack without letting NSS call back into Python. */
static void tlsapi_memio_close(PRFileDesc *fd)
{
    PRFileDesc *layer = PR_GetIdentitiesLayer(fd, tlsapi_memio_identity);
    if (layer != NULL) {
        layer->secret = NULL;
    }
    PR_Close(fd);
}
"""
