/* openssl_ceiling: the yardstick's own ceiling, tlsapi bench's in-memory work
 * done by OpenSSL alone, with no Python.
 *
 * What the raw ssl module's rows (and the stdlib backend's) measure, in C:
 * the same work as tlsapi/_bench/_raw.py, both ends in this process over
 * memory BIOs (BIO_s_mem, what ssl.MemoryBIO is), the bytes moved between
 * them as the Python loop moves them (read out of one BIO, written into the
 * other):
 *
 *   handshakes_per_s        a client and a server SSL made, TLS 1.3 handshake
 *                           to the end, both freed;
 *   bulk_mb_per_s           1 MiB written by the client, read by the server
 *                           into a 64 KiB buffer;
 *   echo_round_trips_per_s  64 bytes client -> server -> client.
 *
 * What CPython's ssl.SSLContext(PROTOCOL_TLS_CLIENT / _SERVER) sets, we set:
 * its options (SSL_OP_ALL without DONT_INSERT_EMPTY_FRAGMENTS, no
 * compression, the server's preference, single DH/ECDH use), its modes
 * (moving write buffer, auto retry), its cipher list, TLS 1.2 as the lowest
 * version; the client verifies the server's chain against the root in --ca
 * and its name (SSL_set1_host, as check_hostname does), so a wrong root or
 * name fails the handshake (exit status 1).  The server sends OpenSSL's
 * default two TLS 1.3 tickets, which the client does not read before the
 * pair is freed, as in the benchmark.  --group pins the key-exchange group as
 * SSLContext.set_ecdh_curve does; "default" is OpenSSL's own list.
 *
 * Built by `nox -s bench-ceiling` or tlsapi/_bench/ceiling.py with
 * pkg-config openssl and -Wall -Wextra -Werror.  Prints one JSON line.
 */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ceiling.h"

/* CPython's default cipher string (Modules/_ssl.c, PY_SSL_DEFAULT_CIPHER_STRING). */
#define PYTHON_CIPHERS                                                                    \
    "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:" \
    "!AESCCM"

typedef struct {
    SSL *ssl;
    BIO *in;  /* what the peer sent, for this end to read (owned by ssl) */
    BIO *out; /* what this end wrote, for the peer (owned by ssl) */
} end;

typedef struct {
    end client, server;
} pair;

static SSL_CTX *client_context, *server_context;
static const ceiling_options *options;
/* Where moved bytes pass, as the Python loop's bytes object does. */
static unsigned char *moving;
static size_t moving_cap;

static int fail(const char *what)
{
    unsigned long code = ERR_get_error();
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    fprintf(stderr, "openssl_ceiling: %s: %s\n", what, code ? text : "(no OpenSSL error)");
    ERR_clear_error();
    return -1;
}

/* Everything ``from`` wrote, into ``to``'s incoming BIO: out.read() then in.write(). */
static int move(end *from, end *to)
{
    size_t pending = BIO_ctrl_pending(from->out);
    int count;
    if (pending == 0)
        return 0;
    if (pending > moving_cap) {
        unsigned char *grown = realloc(moving, pending);
        if (grown == NULL)
            return fail("no memory to move bytes");
        moving = grown;
        moving_cap = pending;
    }
    count = BIO_read(from->out, moving, (int)pending);
    if (count <= 0 || BIO_write(to->in, moving, count) != count)
        return fail("moving bytes between the BIOs");
    return 0;
}

static int open_end(end *e, int server)
{
    e->ssl = SSL_new(server ? server_context : client_context);
    e->in = BIO_new(BIO_s_mem());
    e->out = BIO_new(BIO_s_mem());
    if (e->ssl == NULL || e->in == NULL || e->out == NULL) {
        SSL_free(e->ssl);
        BIO_free(e->in);
        BIO_free(e->out);
        e->ssl = NULL;
        return fail("SSL_new");
    }
    /* As ssl.MemoryBIO: empty means "would block", not end of file. */
    BIO_set_mem_eof_return(e->in, -1);
    BIO_set_mem_eof_return(e->out, -1);
    SSL_set_bio(e->ssl, e->in, e->out);
    if (server) {
        SSL_set_accept_state(e->ssl);
    } else {
        SSL_set_connect_state(e->ssl);
        if (SSL_set_tlsext_host_name(e->ssl, options->host) != 1 ||
            SSL_set1_host(e->ssl, options->host) != 1)
            return fail("the server name");
    }
    return 0;
}

static void close_pair(void *opened)
{
    pair *p = opened;
    SSL_free(p->client.ssl);
    SSL_free(p->server.ssl);
    memset(p, 0, sizeof(*p));
}

/* One end's step, then what it wrote handed to the other (as the Python loop does). */
static int handshake_step(void *opened, int server, int *done)
{
    pair *p = opened;
    end *e = server ? &p->server : &p->client, *peer = server ? &p->client : &p->server;
    const char *who = server ? "server" : "client";
    int code;
    if (*done)
        return 0;
    code = SSL_do_handshake(e->ssl);
    if (code == 1) {
        *done = 1;
        return move(e, peer);
    }
    if (SSL_get_error(e->ssl, code) == SSL_ERROR_WANT_READ)
        return move(e, peer);
    if (SSL_get_verify_result(e->ssl) != X509_V_OK) {
        fprintf(stderr, "openssl_ceiling: certificate verification failed: %s\n",
                X509_verify_cert_error_string(SSL_get_verify_result(e->ssl)));
        ERR_clear_error();
        return -1;
    }
    fprintf(stderr, "openssl_ceiling: the %s's handshake failed\n", who);
    return fail("SSL_do_handshake");
}

/* A handshaken pair (the server's tickets left unread in the client's BIO). */
static int open_pair(void *storage)
{
    pair *p = storage;
    memset(p, 0, sizeof(*p));
    if (open_end(&p->client, 0) < 0 || open_end(&p->server, 1) < 0 ||
        ceiling_handshake(p, handshake_step, "openssl_ceiling") < 0) {
        close_pair(p);
        return -1;
    }
    return 0;
}

static int send_all(void *opened, int server, const unsigned char *data, size_t size)
{
    pair *p = opened;
    end *e = server ? &p->server : &p->client, *peer = server ? &p->client : &p->server;
    size_t sent = 0;
    while (sent < size) {
        size_t written = 0;
        if (SSL_write_ex(e->ssl, data + sent, size - sent, &written) != 1)
            return fail("SSL_write_ex");
        sent += written;
    }
    return move(e, peer); /* as the Python loop hands the bytes on after each write */
}

static int receive_exactly(void *opened, int server, unsigned char *buffer, size_t capacity,
                           size_t wanted)
{
    pair *p = opened;
    end *e = server ? &p->server : &p->client;
    size_t received = 0;
    while (received < wanted) {
        size_t room = capacity < wanted - received ? capacity : wanted - received, count = 0;
        if (SSL_read_ex(e->ssl, capacity == wanted ? buffer + received : buffer, room, &count) != 1) {
            /* TLS 1.3: the server's tickets read, nothing else yet: read on. */
            if (SSL_get_error(e->ssl, 0) == SSL_ERROR_WANT_READ && BIO_ctrl_pending(e->in) > 0)
                continue;
            return fail("SSL_read_ex");
        }
        received += count;
    }
    return 0;
}

/* An SSL_CTX as CPython's ssl.SSLContext makes one (Modules/_ssl.c, _ssl__SSLContext_impl). */
static SSL_CTX *python_context(const SSL_METHOD *method)
{
    SSL_CTX *context = SSL_CTX_new(method);
    if (context == NULL)
        return NULL;
    SSL_CTX_set_options(context, (SSL_OP_ALL & ~SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS) |
                                     SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                     SSL_OP_SINGLE_DH_USE | SSL_OP_SINGLE_ECDH_USE);
    SSL_CTX_set_mode(context, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_AUTO_RETRY);
    if (SSL_CTX_set_cipher_list(context, PYTHON_CIPHERS) != 1 ||
        SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
        SSL_CTX_free(context);
        return NULL;
    }
    return context;
}

static int set_up(void)
{
    const char *group = NULL;
    client_context = python_context(TLS_client_method());
    server_context = python_context(TLS_server_method());
    if (client_context == NULL || server_context == NULL)
        return fail("SSL_CTX_new");
    SSL_CTX_set_verify(client_context, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(client_context, options->ca, NULL) != 1) {
        fprintf(stderr, "openssl_ceiling: no trust anchor in %s\n", options->ca);
        return -1;
    }
    if (SSL_CTX_use_certificate_chain_file(server_context, options->chain) != 1 ||
        SSL_CTX_use_PrivateKey_file(server_context, options->key, SSL_FILETYPE_PEM) != 1)
        return fail("the server's chain and key");
    if (strcmp(options->group, "P-256") == 0)
        group = "P-256";
    else if (strcmp(options->group, "X25519") == 0)
        group = "X25519";
    if (group != NULL && (SSL_CTX_set1_groups_list(client_context, group) != 1 ||
                          SSL_CTX_set1_groups_list(server_context, group) != 1))
        return fail("SSL_CTX_set1_groups_list");
    return 0;
}

int main(int argc, char **argv)
{
    static ceiling_options parsed;
    static char library[64], cipher[96], group[64];
    ceiling_result result;
    pair probe;
    int status, nid;
    const char *name;
    const ceiling_library ends = {sizeof(pair), open_pair, close_pair, send_all,
                                     receive_exactly};

    status = ceiling_parse(argc, argv, &parsed);
    if (status != 0)
        return status;
    options = &parsed;
    if (set_up() < 0)
        return 1;

    /* What one handshake negotiates, and that the client really verified the server. */
    if (open_pair(&probe) < 0)
        return 1;
    if (SSL_version(probe.client.ssl) != TLS1_3_VERSION) {
        fprintf(stderr, "openssl_ceiling: the handshake did not negotiate TLS 1.3\n");
        close_pair(&probe);
        return 1;
    }
    snprintf(library, sizeof(library), "%s", OpenSSL_version(OPENSSL_VERSION));
    snprintf(cipher, sizeof(cipher), "%s", SSL_CIPHER_get_name(SSL_get_current_cipher(probe.client.ssl)));
    nid = SSL_get_negotiated_group(probe.client.ssl);
    name = nid == NID_X9_62_prime256v1 ? "SECP256R1" : nid == NID_X25519 ? "X25519" : OBJ_nid2sn(nid);
    snprintf(group, sizeof(group), "%s", name != NULL ? name : "?");
    result.verified = SSL_get_verify_result(probe.client.ssl) == X509_V_OK &&
                      SSL_get0_peer_certificate(probe.client.ssl) != NULL;
    close_pair(&probe);

    result.program = "openssl_ceiling";
    result.library = library;
    result.cipher = cipher;
    result.group = group;
    if (ceiling_measure(&result, options, &ends) < 0)
        return 1;
    ceiling_print(&result, options);
    free(moving);
    SSL_CTX_free(client_context);
    SSL_CTX_free(server_context);
    return 0;
}
