/* tlsapi._speedups: the common case of TLSWrappedBuffer's hot methods in C.
 *
 * Why: a 64-byte echo round trip is ten public calls (write, peek_outgoing,
 * consume_outgoing, receive_from_network, readinto, for each direction).  In
 * Python each costs a frame for the core's method (the lock token, the state
 * check, try/finally) and one for the backend's hook before the one C call
 * that does the work: about 900 bytecodes per round trip, against the ~130 of
 * the benchmark's own loop over the ssl module.
 *
 * What: FastBase, the C base class of tlsapi.TLSWrappedBuffer.  It holds the
 * attributes the hot paths test (_state, _lock_token, _waiters, _outgoing,
 * _shutdown_sent, _transport_eof) as C members, so that Python code reads and
 * writes them as before and C reads them with a load.  Its methods write,
 * read, readinto, receive_from_network, peek_outgoing, consume_outgoing,
 * do_handshake, and the ssl adapter's _bio_read and _bio_write (a receive, an
 * operation and the output in one call) take the fast path when all of these
 * hold, and otherwise call
 * the Python implementation (_write_slow, ...), where every rule of the API
 * is written once:
 *
 *   - the connection is OPEN (_state is the OPEN member registered by
 *     configure()): no handshake to run, no stop held, no failure (for write,
 *     read and readinto; do_handshake wants HANDSHAKING; receive_from_network
 *     and peek_outgoing move ciphertext in any state, as their Python methods
 *     do);
 *   - the lock token is in _lock_token: no other call is in progress (another
 *     thread inside a C call that released the GIL, or the call that runs a
 *     callback re-entering us: the Python path waits, or raises);
 *   - the backend registered its C functions (tlsapi/include/tlsapi_fast.h)
 *     through _fast_enable(): a client's when its buffer is made, a server's
 *     once the peer's first bytes passed the core's not-TLS check, or when the
 *     connection entered OPEN (a receive waits for that check: _peer_checked);
 *   - the size is small (16 KiB to write or receive, 64 KiB to read), since
 *     the GIL stays held: a bulk transfer goes through cffi, which releases it.
 *     A larger write, where the backend has bound and send_into (ABI 2), runs
 *     here too, with the GIL released around the backend's call: it encrypts
 *     straight into a bytes object that becomes the outgoing queue's only
 *     chunk, which peek_outgoing hands out as it is.  Without that the
 *     ciphertext went to the backend's buffer and was copied into a bytes
 *     object once more: about 5% of an in-memory bulk transfer.
 *
 * The backend's functions run with the GIL held, but for send_into and
 * handshake (a large write, a handshake step: long crypto work), around which
 * it is released as cffi would.  send, recv, send_into and handshake may run
 * Python (a cffi callback: key log, tickets, sni_callback) that lets other
 * threads in, so around them the fast path takes the token as the Python path
 * does; give, output and taken only copy memory and run nothing, so the token
 * being there is enough.  An answer that is not plain success (close_notify,
 * an error, partial progress, a finished handshake) is final: it goes, with
 * the token still held, to the Python method that handles it
 * (_fast_write_done, _fast_recv_done, _fast_handshake_done), never back to
 * the library; a handshake step's plain want-read raises WantReadError here;
 * TLSAPI_FAST_DECLINED (nothing done) takes the Python path.
 *
 * Portable C99 + Python.h (MSVC builds it too); strict warnings with gcc and
 * clang through the pragmas below.
 */

#if defined(__GNUC__)
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"
#endif

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <stddef.h>
#include <stdint.h>

#include "tlsapi_fast.h"

/* The sizes up to which the fast path runs with the GIL held. */
#define FAST_WRITE_MAX 16384
#define FAST_RECEIVE_MAX 16384
#define FAST_READ_MAX 65536

typedef struct {
    PyObject_HEAD
    /* The Python-visible members (see the module docstring of tlsapi/_buffer.py). */
    PyObject *state;      /* _state */
    PyObject *lock_token; /* _lock_token: a list holding one True when nobody holds the lock */
    PyObject *waiters;    /* _waiters: a list of locks */
    PyObject *outgoing;   /* _outgoing: a ByteQueue */
    char shutdown_sent;   /* _shutdown_sent */
    char transport_eof;   /* _transport_eof */
    char peer_checked;    /* _peer_checked: the peer's first bytes passed the not-TLS check */
    /* The backend's fast functions (all set, or send == NULL: no fast path). */
    void *fast_state;
    tlsapi_fast_send_fn send;
    tlsapi_fast_recv_fn recv;
    tlsapi_fast_give_fn give;
    tlsapi_fast_output_fn output;
    tlsapi_fast_taken_fn taken;
    tlsapi_fast_bound_fn bound;         /* with send_into: large writes (NULL: none) */
    tlsapi_fast_send_into_fn send_into;
    tlsapi_fast_handshake_fn handshake; /* a handshake step (NULL: the Python path) */
} FastBase;

/* Set by configure(): the OPEN and HANDSHAKING state objects, WantReadError, and
   ByteQueue's slot offsets. */
static PyObject *open_state = NULL;
static PyObject *handshaking_state = NULL;
static PyObject *want_read_error = NULL;
static Py_ssize_t queue_chunks_offset = -1;
static Py_ssize_t queue_offset_offset = -1;
static Py_ssize_t queue_size_offset = -1;
static PyTypeObject *queue_type = NULL;

/* Interned method names. */
static PyObject *str_write_slow, *str_read_slow, *str_readinto_slow, *str_receive_slow,
    *str_peek_slow, *str_consume_slow, *str_write_done, *str_recv_done, *str_wake, *str_clear,
    *str_append, *str_output_lost, *str_handshake_slow, *str_handshake_done, *str_bio_read_slow,
    *str_bio_write_slow, *str_take_outgoing;
/* b"", for the Python path of a read whose bytes were already given. */
static PyObject *empty_bytes;

/* -- helpers ------------------------------------------------------------------------- */

/* The object in a ByteQueue slot (borrowed; NULL if unset). */
static PyObject *queue_slot(PyObject *queue, Py_ssize_t offset)
{
    return *(PyObject **)((char *)queue + offset);
}

/* Replaces the object in a ByteQueue slot (steals ``value``). */
static void queue_set(PyObject *queue, Py_ssize_t offset, PyObject *value)
{
    PyObject **slot = (PyObject **)((char *)queue + offset);
    PyObject *old = *slot;
    *slot = value;
    Py_XDECREF(old);
}

/* The outgoing queue if it is a ByteQueue whose size is 0 or ``size``; else NULL. */
static PyObject *fast_queue(FastBase *self, Py_ssize_t *size)
{
    PyObject *queue = self->outgoing, *value;
    if (queue == NULL || queue_type == NULL || Py_TYPE(queue) != queue_type)
        return NULL;
    value = queue_slot(queue, queue_size_offset);
    if (value == NULL || !PyLong_CheckExact(value))
        return NULL;
    *size = PyLong_AsSsize_t(value);
    if (*size == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return NULL;
    }
    return queue;
}

/* Whether the token is there (nobody else is inside a call on this connection). */
static int token_present(FastBase *self)
{
    PyObject *token = self->lock_token;
    return token != NULL && PyList_CheckExact(token) && PyList_GET_SIZE(token) > 0;
}

/* Takes the token (it is present): 0, or -1 with an exception. */
static int take_token(FastBase *self)
{
    Py_ssize_t size = PyList_GET_SIZE(self->lock_token);
    return PyList_SetSlice(self->lock_token, size - 1, size, NULL);
}

/* Gives the token back and wakes the waiters; keeps a pending exception. */
static int give_token(FastBase *self)
{
    PyObject *type, *value, *traceback, *result;
    int failed = 0;
    PyErr_Fetch(&type, &value, &traceback);
    if (PyList_Append(self->lock_token, Py_True) < 0)
        failed = 1;
    else if (self->waiters != NULL && PyList_CheckExact(self->waiters) &&
             PyList_GET_SIZE(self->waiters) > 0) {
        result = PyObject_CallMethodNoArgs((PyObject *)self, str_wake);
        if (result == NULL)
            failed = 1;
        Py_XDECREF(result);
    }
    if (type != NULL) {
        if (failed)
            PyErr_Clear(); /* the call's own exception wins */
        PyErr_Restore(type, value, traceback);
        return -1;
    }
    return failed ? -1 : 0;
}

/* self.<name>(*args, **kwnames), args without self. */
static PyObject *call_slow(FastBase *self, PyObject *name, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    PyObject *stack[4];
    Py_ssize_t total = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames)), i;
    if (total > 3) { /* more than any of our methods takes: let Python say what is wrong */
        PyObject *method = PyObject_GetAttr((PyObject *)self, name), *result;
        if (method == NULL)
            return NULL;
        result = PyObject_Vectorcall(method, args, (size_t)nargs, kwnames);
        Py_DECREF(method);
        return result;
    }
    stack[0] = (PyObject *)self;
    for (i = 0; i < total; i++)
        stack[i + 1] = args[i];
    return PyObject_VectorcallMethod(name, stack, (size_t)(nargs + 1), kwnames);
}

/* A backend's answer that is not plain success goes to the Python method that
   handles it (``method``), with the token still held (hand_over: then the token
   goes back).  Returns what the method returned, or NULL with an exception. */
static PyObject *call_with_result(FastBase *self, PyObject *method, int64_t result)
{
    PyObject *value = PyLong_FromLongLong(result), *done = NULL;
    if (value != NULL)
        done = PyObject_CallMethodOneArg((PyObject *)self, method, value);
    Py_XDECREF(value);
    return done;
}

static PyObject *hand_over(FastBase *self, PyObject *method, int64_t result)
{
    PyObject *done = call_with_result(self, method, result);
    if (give_token(self) < 0) {
        Py_XDECREF(done);
        return NULL;
    }
    return done;
}

/* Reads and writes: OPEN, the backend's functions, the token. */
static int fast_ready(FastBase *self)
{
    return self->send != NULL && open_state != NULL && self->state == open_state &&
           token_present(self);
}

/* Moving ciphertext (receive_from_network, peek_outgoing) does not depend on the
   state, in the Python methods either: the backend's functions and the token (and
   for a receive, the peer's first bytes checked: _peer_checked).  The core enables
   them for a client as soon as its buffer is made, for a server once the client's
   first bytes passed the not-TLS check, so that a handshake's flights move without
   Python too. */
static int fast_network_ready(FastBase *self)
{
    return self->send != NULL && token_present(self);
}

/* Queues ``chunk`` (steals it), its first ``size`` bytes, as the only chunk of the
   empty outgoing queue: 0, or -1 with an exception. */
static int queue_only_chunk(PyObject *queue, PyObject *chunk, Py_ssize_t size)
{
    PyObject *chunks = queue_slot(queue, queue_chunks_offset), *count, *added;
    if (size < PyBytes_GET_SIZE(chunk) && _PyBytes_Resize(&chunk, size) < 0)
        return -1;
    if (chunks == NULL) {
        Py_DECREF(chunk);
        PyErr_SetString(PyExc_AttributeError, "chunks");
        return -1;
    }
    count = PyLong_FromSsize_t(size);
    if (count == NULL) {
        Py_DECREF(chunk);
        return -1;
    }
    added = PyObject_CallMethodOneArg(chunks, str_append, chunk);
    Py_DECREF(chunk);
    if (added == NULL) {
        Py_DECREF(count);
        return -1;
    }
    Py_DECREF(added);
    queue_set(queue, queue_size_offset, count);
    return 0;
}

/* A large write straight into the bytes object peek_outgoing will hand out (the
   backend's bound and send_into, tlsapi_fast.h).  Returns 0 when not taken (the
   Python path does it), 1 with *answer set: write's result, or NULL with an
   exception. */
static int fast_write_large(FastBase *self, Py_buffer *view, PyObject **answer)
{
    Py_ssize_t queued;
    PyObject *queue = fast_queue(self, &queued), *out;
    size_t capacity, written = 0;
    int64_t result;
    if (queue == NULL || queued != 0) /* older bytes queued: the Python path keeps the order */
        return 0;
    capacity = self->bound(self->fast_state, (size_t)view->len);
    if (capacity == 0 || capacity > (size_t)PY_SSIZE_T_MAX)
        return 0;
    *answer = NULL;
    out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)capacity);
    if (out == NULL)
        return 1;
    if (take_token(self) < 0) {
        Py_DECREF(out);
        return 1;
    }
    /* The token is held, as around a cffi call: no other call on this connection runs. */
    Py_BEGIN_ALLOW_THREADS
    result = self->send_into(self->fast_state, (const char *)view->buf, (size_t)view->len,
                             PyBytes_AS_STRING(out), capacity, &written);
    Py_END_ALLOW_THREADS
    if (result == TLSAPI_FAST_DECLINED) {
        Py_DECREF(out);
        return give_token(self) < 0 ? 1 : 0;
    }
    if (written > capacity) {
        Py_DECREF(out);
        PyErr_SetString(PyExc_SystemError, "tlsapi: a backend wrote past the output it was given");
    } else if (written == 0) {
        Py_DECREF(out);
    } else if (queue_only_chunk(queue, out, (Py_ssize_t)written) < 0) {
        /* Encrypted records lost (no memory): the connection must not go on without them. */
        PyObject *type, *value, *traceback, *failed;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        failed = PyObject_CallMethodOneArg((PyObject *)self, str_output_lost,
                                           value != NULL ? value : Py_None);
        Py_XDECREF(failed); /* it raises, always: that exception stands */
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
    }
    if (!PyErr_Occurred()) {
        if (result == (int64_t)view->len) {
            *answer = PyLong_FromSsize_t(view->len);
        } else { /* an error, or no progress: the Python side's (queued records go first) */
            *answer = call_with_result(self, str_write_done, result);
        }
    }
    if (give_token(self) < 0)
        Py_CLEAR(*answer);
    return 1;
}

/* -- the methods --------------------------------------------------------------------- */

PyDoc_STRVAR(write_doc, "write(buf) -> int\n\nEncrypt application data; returns how many bytes were taken.");

static PyObject *FastBase_write(FastBase *self, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    if (nargs == 1 && kwnames == NULL && !self->shutdown_sent && fast_ready(self)) {
        Py_buffer view;
        if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear(); /* the Python path says what is wrong with it */
        } else if (view.len > FAST_WRITE_MAX) {
            PyObject *answer = NULL;
            int taken = self->send_into != NULL && fast_write_large(self, &view, &answer);
            PyBuffer_Release(&view);
            if (taken)
                return answer;
            if (PyErr_Occurred())
                return NULL;
        } else if (view.len <= 0) {
            PyBuffer_Release(&view);
        } else {
            int64_t result;
            Py_ssize_t size = view.len;
            if (take_token(self) < 0) {
                PyBuffer_Release(&view);
                return NULL;
            }
            result = self->send(self->fast_state, (const char *)view.buf, (size_t)size);
            PyBuffer_Release(&view);
            if (result == (int64_t)size) {
                if (give_token(self) < 0)
                    return NULL;
                return PyLong_FromSsize_t(size);
            }
            if (result != TLSAPI_FAST_DECLINED)
                return hand_over(self, str_write_done, result);
            if (give_token(self) < 0)
                return NULL;
        }
    }
    return call_slow(self, str_write_slow, args, nargs, kwnames);
}

/* The backend's recv into ``data``; the count read, or -1 with an exception,
   or -2: declined (nothing done, the token given back). */
static Py_ssize_t fast_recv(FastBase *self, char *data, Py_ssize_t size)
{
    int64_t result;
    PyObject *done;
    Py_ssize_t count;
    if (take_token(self) < 0)
        return -1;
    result = self->recv(self->fast_state, data, (size_t)size);
    if (result > 0 && result <= (int64_t)size) {
        if (give_token(self) < 0)
            return -1;
        return (Py_ssize_t)result;
    }
    if (result == TLSAPI_FAST_DECLINED) {
        if (give_token(self) < 0)
            return -1;
        return -2;
    }
    /* Want-read, close_notify, an error, a stop after data: the Python side's. */
    done = call_with_result(self, str_recv_done, result);
    count = -1;
    if (done != NULL) {
        count = PyLong_AsSsize_t(done);
        Py_DECREF(done);
        if (count >= 0 && count > size) {
            PyErr_SetString(PyExc_SystemError, "tlsapi: a read returned more than it was asked");
            count = -1;
        }
        if (count < 0 && !PyErr_Occurred())
            PyErr_SetString(PyExc_SystemError, "tlsapi: a read returned a negative count");
    }
    if (give_token(self) < 0)
        return -1;
    return count;
}

PyDoc_STRVAR(handshake_doc, "do_handshake() -> None\n\nRun the handshake; raises WantReadError until it has the peer's messages.");

static PyObject *FastBase_do_handshake(FastBase *self, PyObject *unused)
{
    (void)unused;
    if (self->handshake != NULL && handshaking_state != NULL &&
        self->state == handshaking_state && token_present(self)) {
        int64_t result;
        if (take_token(self) < 0)
            return NULL;
        /* The token is held, as around a cffi call: no other call on this connection runs. */
        Py_BEGIN_ALLOW_THREADS
        result = self->handshake(self->fast_state);
        Py_END_ALLOW_THREADS
        if (result == TLSAPI_FAST_WANT_READ) {
            /* What the Python path raises; a want-error does not fail the connection. */
            PyErr_SetString(want_read_error, "the handshake needs more data from the peer");
            give_token(self);
            return NULL;
        }
        if (result != TLSAPI_FAST_DECLINED)
            return hand_over(self, str_handshake_done, result);
        if (give_token(self) < 0)
            return NULL;
    }
    return call_slow(self, str_handshake_slow, NULL, 0, NULL);
}

PyDoc_STRVAR(readinto_doc, "readinto(buffer, amt=None) -> int\n\nRead into ``buffer`` (up to ``amt`` bytes); 0 after close_notify.");

static PyObject *FastBase_readinto(FastBase *self, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    if (kwnames == NULL && (nargs == 1 || (nargs == 2 && args[1] == Py_None)) &&
        fast_ready(self)) {
        Py_buffer view;
        if (PyObject_GetBuffer(args[0], &view, PyBUF_WRITABLE) < 0) {
            PyErr_Clear();
        } else if (view.len <= 0 || view.len > FAST_READ_MAX) {
            PyBuffer_Release(&view);
        } else {
            Py_ssize_t count = fast_recv(self, (char *)view.buf, view.len);
            PyBuffer_Release(&view);
            if (count >= 0)
                return PyLong_FromSsize_t(count);
            if (count == -1)
                return NULL;
        }
    }
    return call_slow(self, str_readinto_slow, args, nargs, kwnames);
}

PyDoc_STRVAR(read_doc, "read(amt=16384) -> bytes\n\nUp to ``amt`` bytes of application data; b\"\" after close_notify.");

static PyObject *FastBase_read(FastBase *self, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
    Py_ssize_t amt = 16384;
    if (kwnames == NULL && nargs <= 1 && fast_ready(self)) {
        if (nargs == 1) {
            amt = PyLong_CheckExact(args[0]) ? PyLong_AsSsize_t(args[0]) : -1;
            if (amt == -1 && PyErr_Occurred())
                PyErr_Clear();
        }
        if (amt > 0 && amt <= FAST_READ_MAX) {
            PyObject *data = PyBytes_FromStringAndSize(NULL, amt);
            Py_ssize_t count;
            if (data == NULL)
                return NULL;
            count = fast_recv(self, PyBytes_AS_STRING(data), amt);
            if (count >= 0) {
                if (count == 0) {
                    Py_DECREF(data);
                    return PyBytes_FromStringAndSize(NULL, 0);
                }
                if (count < amt && _PyBytes_Resize(&data, count) < 0)
                    return NULL;
                return data;
            }
            Py_DECREF(data);
            if (count == -1)
                return NULL;
        }
    }
    return call_slow(self, str_read_slow, args, nargs, kwnames);
}

PyDoc_STRVAR(receive_doc, "receive_from_network(data) -> None\n\nBytes that arrived from the peer; b\"\" means the transport's end of file.");

static PyObject *FastBase_receive_from_network(FastBase *self, PyObject *const *args,
                                               Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs == 1 && kwnames == NULL && !self->transport_eof && self->peer_checked &&
        fast_network_ready(self)) {
        Py_buffer view;
        if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
        } else if (view.len <= 0 || view.len > FAST_RECEIVE_MAX) {
            PyBuffer_Release(&view);
        } else {
            int result = self->give(self->fast_state, (const char *)view.buf, (size_t)view.len);
            PyBuffer_Release(&view);
            if (result == 0)
                Py_RETURN_NONE;
            if (result != TLSAPI_FAST_DECLINED)
                return PyErr_NoMemory();
        }
    }
    return call_slow(self, str_receive_slow, args, nargs, kwnames);
}

PyDoc_STRVAR(peek_doc, "peek_outgoing(amt) -> bytes\n\nUp to ``amt`` bytes waiting to go to the peer, left in place.");

static PyObject *FastBase_peek_outgoing(FastBase *self, PyObject *const *args, Py_ssize_t nargs,
                                        PyObject *kwnames)
{
    Py_ssize_t queued;
    PyObject *queue;
    if (nargs != 1 || kwnames != NULL || !PyLong_CheckExact(args[0]) || !fast_network_ready(self))
        queue = NULL;
    else
        queue = fast_queue(self, &queued);
    if (queue != NULL && queued == 0) {
        const char *data = NULL;
        int64_t pending = self->output(self->fast_state, &data);
        Py_ssize_t amt = PyLong_AsSsize_t(args[0]);
        if (amt == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        } else if (pending == 0) {
            return PyBytes_FromStringAndSize(NULL, 0);
        } else if (pending > 0 && pending <= (int64_t)amt) {
            /* The common case: one message and nothing older; queued as the Python path does. */
            PyObject *chunk = PyBytes_FromStringAndSize(data, (Py_ssize_t)pending), *size, *added;
            if (chunk == NULL)
                return NULL;
            size = PyLong_FromLongLong(pending);
            if (size == NULL) {
                Py_DECREF(chunk);
                return NULL;
            }
            added = queue_slot(queue, queue_chunks_offset) == NULL
                        ? (PyErr_SetString(PyExc_AttributeError, "chunks"), NULL)
                        : PyObject_CallMethodOneArg(queue_slot(queue, queue_chunks_offset),
                                                    str_append, chunk);
            if (added == NULL) {
                Py_DECREF(chunk);
                Py_DECREF(size);
                return NULL;
            }
            Py_DECREF(added);
            self->taken(self->fast_state, (size_t)pending);
            queue_set(queue, queue_size_offset, size);
            return chunk;
        }
    } else if (queue != NULL && queued > 0) {
        /* A large write's bytes object (fast_write_large), whole and alone: that very object. */
        const char *data = NULL;
        PyObject *chunks = queue_slot(queue, queue_chunks_offset),
                 *offset = queue_slot(queue, queue_offset_offset);
        Py_ssize_t amt = PyLong_AsSsize_t(args[0]);
        if (amt == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        } else if (queued <= amt && chunks != NULL && PyList_CheckExact(chunks) &&
                   PyList_GET_SIZE(chunks) == 1 && offset != NULL && PyLong_CheckExact(offset) &&
                   PyLong_AsSsize_t(offset) == 0 && PyBytes_CheckExact(PyList_GET_ITEM(chunks, 0)) &&
                   self->output(self->fast_state, &data) == 0) {
            PyObject *chunk = PyList_GET_ITEM(chunks, 0);
            Py_INCREF(chunk);
            return chunk;
        }
    }
    return call_slow(self, str_peek_slow, args, nargs, kwnames);
}

/* -- the ssl adapter's per-record calls ------------------------------------------------ */

/* All the output pending, taken (the core's queue is empty): what _take_outgoing
   returns, through the backend's output and taken where the token allows. */
static PyObject *fast_take_output(FastBase *self)
{
    Py_ssize_t queued;
    if (token_present(self) && fast_queue(self, &queued) != NULL && queued == 0) {
        const char *data = NULL;
        int64_t pending = self->output(self->fast_state, &data);
        if (pending == 0)
            return PyBytes_FromStringAndSize(NULL, 0);
        if (pending > 0) {
            PyObject *chunk = PyBytes_FromStringAndSize(data, (Py_ssize_t)pending);
            if (chunk != NULL)
                self->taken(self->fast_state, (size_t)pending);
            return chunk;
        }
    }
    return PyObject_CallMethodNoArgs((PyObject *)self, str_take_outgoing);
}

/* (first, output) as a tuple, both references stolen. */
static PyObject *pair_of(PyObject *first, PyObject *output)
{
    PyObject *pair = NULL;
    if (first != NULL && output != NULL)
        pair = PyTuple_Pack(2, first, output);
    Py_XDECREF(first);
    Py_XDECREF(output);
    return pair;
}

PyDoc_STRVAR(bio_read_doc, "_bio_read(received, amt) -> (bytes, bytes)\n\nreceive_from_network(received) unless empty, read(amt), _take_outgoing(): the ssl adapter's per-record read.");

static PyObject *FastBase_bio_read(FastBase *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t queued;
    if (nargs == 2 && PyBytes_CheckExact(args[0]) && PyLong_CheckExact(args[1]) &&
        !self->transport_eof && self->peer_checked && fast_ready(self) &&
        fast_queue(self, &queued) != NULL && queued == 0) {
        Py_ssize_t size = PyBytes_GET_SIZE(args[0]), amt = PyLong_AsSsize_t(args[1]), count;
        PyObject *data;
        if (amt == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        } else if (amt > 0 && size <= FAST_RECEIVE_MAX) {
            if (size > 0) {
                int given = self->give(self->fast_state, PyBytes_AS_STRING(args[0]), (size_t)size);
                if (given == TLSAPI_FAST_DECLINED)
                    return call_slow(self, str_bio_read_slow, args, nargs, NULL);
                if (given != 0)
                    return PyErr_NoMemory();
            }
            if (amt > FAST_READ_MAX)
                amt = FAST_READ_MAX; /* as read() hands out at most MAX_READ_SIZE */
            data = PyBytes_FromStringAndSize(NULL, amt);
            if (data == NULL)
                return NULL;
            count = fast_recv(self, PyBytes_AS_STRING(data), amt);
            if (count < 0) {
                Py_DECREF(data);
                if (count == -1)
                    return NULL;
                /* Declined: the Python path reads what was given (nothing more to give). */
                {
                    PyObject *rest[2];
                    rest[0] = empty_bytes;
                    rest[1] = args[1];
                    return call_slow(self, str_bio_read_slow, rest, 2, NULL);
                }
            }
            if (count < amt && _PyBytes_Resize(&data, count) < 0)
                return NULL;
            return pair_of(data, fast_take_output(self));
        }
    }
    return call_slow(self, str_bio_read_slow, args, nargs, NULL);
}

PyDoc_STRVAR(bio_write_doc, "_bio_write(data) -> (int, bytes)\n\nwrite(data) (bytes-shaped) and _take_outgoing(): the ssl adapter's per-record write.");

static PyObject *FastBase_bio_write(FastBase *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t queued;
    if (nargs == 1 && !self->shutdown_sent && fast_ready(self) &&
        fast_queue(self, &queued) != NULL && queued == 0) {
        Py_buffer view;
        if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
        } else if (view.len <= 0 || view.len > FAST_WRITE_MAX) {
            PyBuffer_Release(&view);
        } else {
            Py_ssize_t size = view.len;
            PyObject *count;
            int64_t result;
            if (take_token(self) < 0) {
                PyBuffer_Release(&view);
                return NULL;
            }
            result = self->send(self->fast_state, (const char *)view.buf, (size_t)size);
            PyBuffer_Release(&view);
            if (result == TLSAPI_FAST_DECLINED) {
                if (give_token(self) < 0)
                    return NULL;
            } else {
                if (result == (int64_t)size)
                    count = give_token(self) < 0 ? NULL : PyLong_FromSsize_t(size);
                else
                    count = hand_over(self, str_write_done, result);
                if (count == NULL)
                    return NULL; /* the alert stays for _take_outgoing, as in Python */
                return pair_of(count, fast_take_output(self));
            }
        }
    }
    return call_slow(self, str_bio_write_slow, args, nargs, NULL);
}

PyDoc_STRVAR(consume_doc, "consume_outgoing(amt) -> None\n\nMark ``amt`` bytes from peek_outgoing as sent.");

static PyObject *FastBase_consume_outgoing(FastBase *self, PyObject *const *args, Py_ssize_t nargs,
                                           PyObject *kwnames)
{
    Py_ssize_t queued;
    PyObject *queue;
    /* Any backend: only the core's queue is involved. */
    if (nargs == 1 && kwnames == NULL && PyLong_CheckExact(args[0]) && token_present(self) &&
        (queue = fast_queue(self, &queued)) != NULL && queued > 0) {
        Py_ssize_t amt = PyLong_AsSsize_t(args[0]);
        if (amt == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        } else if (amt == queued) { /* everything peeked was sent */
            PyObject *chunks = queue_slot(queue, queue_chunks_offset), *cleared, *zero;
            if (chunks == NULL)
                goto slow;
            cleared = PyObject_CallMethodNoArgs(chunks, str_clear);
            if (cleared == NULL)
                return NULL;
            Py_DECREF(cleared);
            zero = PyLong_FromLong(0);
            if (zero == NULL)
                return NULL;
            Py_INCREF(zero); /* one reference for each slot */
            queue_set(queue, queue_offset_offset, zero);
            queue_set(queue, queue_size_offset, zero);
            Py_RETURN_NONE;
        }
    }
slow:
    return call_slow(self, str_consume_slow, args, nargs, kwnames);
}

PyDoc_STRVAR(enable_doc, "_fast_enable(functions) -> bool\n\nUse the backend's C functions (a tuple from _fast_functions()), or none (None).\nReturns whether the fast path is now on.");

static PyObject *FastBase_fast_enable(FastBase *self, PyObject *functions)
{
    void *pointers[9] = {NULL};
    Py_ssize_t i, count;
    long abi;
    self->send = NULL;
    self->send_into = NULL;
    self->bound = NULL;
    self->handshake = NULL;
    if (functions == Py_None)
        Py_RETURN_FALSE;
    if (!PyTuple_Check(functions) || PyTuple_GET_SIZE(functions) < 1) {
        PyErr_SetString(PyExc_TypeError,
                        "_fast_functions() must return None or a tuple (abi, state, send, recv, "
                        "give, output, taken, bound, send_into, handshake)");
        return NULL;
    }
    abi = PyLong_AsLong(PyTuple_GET_ITEM(functions, 0));
    if (abi == -1 && PyErr_Occurred())
        return NULL;
    /* ABI 1 had no large writes: its seven elements are still a valid contract. */
    if (abi != 1 && abi != TLSAPI_FAST_ABI) /* a backend built for another contract */
        Py_RETURN_FALSE;
    count = abi == 1 ? 7 : 10;
    if (PyTuple_GET_SIZE(functions) != count) {
        PyErr_Format(PyExc_TypeError, "_fast_functions() gave %zd elements for ABI %ld, not %zd",
                     PyTuple_GET_SIZE(functions), abi, count);
        return NULL;
    }
    for (i = 0; i < count - 1; i++) {
        pointers[i] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(functions, i + 1));
        if (pointers[i] == NULL && PyErr_Occurred())
            return NULL;
        if (pointers[i] == NULL && i < 6) { /* bound, send_into, handshake may be 0: none */
            PyErr_SetString(PyExc_ValueError, "_fast_functions() gave a NULL address");
            return NULL;
        }
    }
    if ((pointers[6] == NULL) != (pointers[7] == NULL)) {
        PyErr_SetString(PyExc_ValueError, "_fast_functions() gave bound without send_into");
        return NULL;
    }
    /* Data and function pointers converted through integers: what the header's
       contract (and cffi's uintptr_t casts) is about. */
    self->fast_state = pointers[0];
    self->recv = (tlsapi_fast_recv_fn)(uintptr_t)pointers[2];
    self->give = (tlsapi_fast_give_fn)(uintptr_t)pointers[3];
    self->output = (tlsapi_fast_output_fn)(uintptr_t)pointers[4];
    self->taken = (tlsapi_fast_taken_fn)(uintptr_t)pointers[5];
    self->bound = (tlsapi_fast_bound_fn)(uintptr_t)pointers[6];
    self->send_into = (tlsapi_fast_send_into_fn)(uintptr_t)pointers[7];
    self->handshake = (tlsapi_fast_handshake_fn)(uintptr_t)pointers[8];
    self->send = (tlsapi_fast_send_fn)(uintptr_t)pointers[1];
    Py_RETURN_TRUE;
}

static PyObject *FastBase_fast_enabled(FastBase *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->send != NULL);
}

/* -- the type ------------------------------------------------------------------------- */

static int FastBase_traverse(FastBase *self, visitproc visit, void *arg)
{
    Py_VISIT(self->state);
    Py_VISIT(self->lock_token);
    Py_VISIT(self->waiters);
    Py_VISIT(self->outgoing);
    return 0;
}

static int FastBase_clear(FastBase *self)
{
    Py_CLEAR(self->state);
    Py_CLEAR(self->lock_token);
    Py_CLEAR(self->waiters);
    Py_CLEAR(self->outgoing);
    self->send = NULL;
    self->send_into = NULL;
    self->handshake = NULL;
    return 0;
}

/* Runs before the instance's __dict__ is cleared or freed (collection, or the
   last reference gone): the backend's C objects that fast_state points into live
   there, freed in the dict's order by ffi.gc, so the fast path ends first.  Only
   a backend subclass that defines __del__ replaces this; none with fast
   functions does (test_speedups checks it). */
static void FastBase_finalize(FastBase *self)
{
    self->send = NULL;
    self->send_into = NULL;
    self->handshake = NULL;
}

static void FastBase_dealloc(FastBase *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    FastBase_clear(self);
    type->tp_free((PyObject *)self);
}

static PyMethodDef FastBase_methods[] = {
    {"write", (PyCFunction)(void (*)(void))FastBase_write, METH_FASTCALL | METH_KEYWORDS,
     write_doc},
    {"do_handshake", (PyCFunction)FastBase_do_handshake, METH_NOARGS, handshake_doc},
    {"_bio_read", (PyCFunction)(void (*)(void))FastBase_bio_read, METH_FASTCALL, bio_read_doc},
    {"_bio_write", (PyCFunction)(void (*)(void))FastBase_bio_write, METH_FASTCALL, bio_write_doc},
    {"read", (PyCFunction)(void (*)(void))FastBase_read, METH_FASTCALL | METH_KEYWORDS, read_doc},
    {"readinto", (PyCFunction)(void (*)(void))FastBase_readinto, METH_FASTCALL | METH_KEYWORDS,
     readinto_doc},
    {"receive_from_network", (PyCFunction)(void (*)(void))FastBase_receive_from_network,
     METH_FASTCALL | METH_KEYWORDS, receive_doc},
    {"peek_outgoing", (PyCFunction)(void (*)(void))FastBase_peek_outgoing,
     METH_FASTCALL | METH_KEYWORDS, peek_doc},
    {"consume_outgoing", (PyCFunction)(void (*)(void))FastBase_consume_outgoing,
     METH_FASTCALL | METH_KEYWORDS, consume_doc},
    {"_fast_enable", (PyCFunction)FastBase_fast_enable, METH_O, enable_doc},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef FastBase_members[] = {
    {"_state", T_OBJECT_EX, offsetof(FastBase, state), 0, NULL},
    {"_lock_token", T_OBJECT_EX, offsetof(FastBase, lock_token), 0, NULL},
    {"_waiters", T_OBJECT_EX, offsetof(FastBase, waiters), 0, NULL},
    {"_outgoing", T_OBJECT_EX, offsetof(FastBase, outgoing), 0, NULL},
    {"_shutdown_sent", T_BOOL, offsetof(FastBase, shutdown_sent), 0, NULL},
    {"_transport_eof", T_BOOL, offsetof(FastBase, transport_eof), 0, NULL},
    {"_peer_checked", T_BOOL, offsetof(FastBase, peer_checked), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef FastBase_getset[] = {
    {"_fast_enabled", (getter)FastBase_fast_enabled, NULL,
     "Whether the backend's C functions run this connection's common case.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject FastBase_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tlsapi._speedups.FastBase",
    .tp_basicsize = sizeof(FastBase),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of tlsapi.TLSWrappedBuffer: the fast path of its hot methods.",
    .tp_dealloc = (destructor)FastBase_dealloc,
    .tp_traverse = (traverseproc)FastBase_traverse,
    .tp_clear = (inquiry)FastBase_clear,
    .tp_finalize = (destructor)FastBase_finalize,
    .tp_methods = FastBase_methods,
    .tp_members = FastBase_members,
    .tp_getset = FastBase_getset,
};

/* -- the module ----------------------------------------------------------------------- */

/* The member descriptor's offset of ``name`` in ``type`` (a __slots__ class). */
static Py_ssize_t slot_offset(PyTypeObject *type, const char *name)
{
    PyObject *descriptor = PyObject_GetAttrString((PyObject *)type, name);
    Py_ssize_t offset = -1;
    if (descriptor == NULL)
        return -1;
    if (Py_IS_TYPE(descriptor, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
        if (member->type == T_OBJECT_EX || member->type == T_OBJECT)
            offset = member->offset;
    }
    Py_DECREF(descriptor);
    if (offset < 0)
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", type->tp_name, name);
    return offset;
}

PyDoc_STRVAR(configure_doc, "configure(open_state, handshaking_state, queue_type, want_read_error) -> None\n\nThe OPEN and HANDSHAKING state objects, the ByteQueue class (its chunks, offset and size slots) and WantReadError.");

static PyObject *speedups_configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyTypeObject *type;
    Py_ssize_t chunks, offset, size;
    (void)module;
    if (nargs != 4 || !PyType_Check(args[2]) || !PyExceptionClass_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError,
                        "configure(open_state, handshaking_state, queue_type, want_read_error)");
        return NULL;
    }
    type = (PyTypeObject *)args[2];
    chunks = slot_offset(type, "chunks");
    if (chunks < 0)
        return NULL;
    offset = slot_offset(type, "offset");
    if (offset < 0)
        return NULL;
    size = slot_offset(type, "size");
    if (size < 0)
        return NULL;
    Py_INCREF(args[0]);
    Py_XSETREF(open_state, args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(handshaking_state, args[1]);
    Py_INCREF(args[3]);
    Py_XSETREF(want_read_error, args[3]);
    Py_INCREF(type);
    Py_XSETREF(queue_type, type);
    queue_chunks_offset = chunks;
    queue_offset_offset = offset;
    queue_size_offset = size;
    Py_RETURN_NONE;
}

static PyMethodDef speedups_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))speedups_configure, METH_FASTCALL, configure_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "tlsapi._speedups",
    "The C fast path of TLSWrappedBuffer's hot methods (see _speedups.c).",
    -1,
    speedups_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static int intern(PyObject **target, const char *name)
{
    *target = PyUnicode_InternFromString(name);
    return *target == NULL ? -1 : 0;
}

PyMODINIT_FUNC PyInit__speedups(void);

PyMODINIT_FUNC PyInit__speedups(void)
{
    PyObject *module;
    if (intern(&str_write_slow, "_write_slow") < 0 || intern(&str_read_slow, "_read_slow") < 0 ||
        intern(&str_readinto_slow, "_readinto_slow") < 0 ||
        intern(&str_receive_slow, "_receive_from_network_slow") < 0 ||
        intern(&str_peek_slow, "_peek_outgoing_slow") < 0 ||
        intern(&str_consume_slow, "_consume_outgoing_slow") < 0 ||
        intern(&str_write_done, "_fast_write_done") < 0 ||
        intern(&str_recv_done, "_fast_recv_done") < 0 || intern(&str_wake, "_wake") < 0 ||
        intern(&str_clear, "clear") < 0 || intern(&str_append, "append") < 0 ||
        intern(&str_output_lost, "_fast_output_lost") < 0 ||
        intern(&str_handshake_slow, "_do_handshake_slow") < 0 ||
        intern(&str_handshake_done, "_fast_handshake_done") < 0 ||
        intern(&str_bio_read_slow, "_bio_read_slow") < 0 ||
        intern(&str_bio_write_slow, "_bio_write_slow") < 0 ||
        intern(&str_take_outgoing, "_take_outgoing") < 0)
        return NULL;
    empty_bytes = PyBytes_FromStringAndSize(NULL, 0);
    if (empty_bytes == NULL)
        return NULL;
    /* object's: it refuses to instantiate a class with abstract methods left. */
    FastBase_Type.tp_new = PyBaseObject_Type.tp_new;
    if (PyType_Ready(&FastBase_Type) < 0)
        return NULL;
    module = PyModule_Create(&speedups_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&FastBase_Type);
    if (PyModule_AddObject(module, "FastBase", (PyObject *)&FastBase_Type) < 0) {
        Py_DECREF(&FastBase_Type);
        Py_DECREF(module);
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "ABI", TLSAPI_FAST_ABI) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
