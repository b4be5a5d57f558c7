/* gnutls_ceiling: the GnuTLS backend's ceiling, tlsapi bench's in-memory work
 * done by GnuTLS alone, with no Python.
 *
 * The same work as tlsapi/_bench (see _tlsapi.py and _subject.py), both ends
 * in this process over memory buffers (push/pull on a pipe per direction):
 *
 *   handshakes_per_s        a client and a server session made, TLS 1.3
 *                           handshake to the end, both freed;
 *   bulk_mb_per_s           1 MiB written by the client, read by the server
 *                           into a 64 KiB buffer;
 *   echo_round_trips_per_s  64 bytes client -> server -> client.
 *
 * What the backend sets, we set: its priority string for the default
 * TLSConfiguration (TLS 1.3 only, the AEAD suites, %PROFILE_MEDIUM, the
 * server's precedence) appended to the system's defaults; the client
 * verifies the server's chain against the root in --ca, for --host and the
 * serverAuth purpose (gnutls_session_set_verify_cert2, as the backend), so a
 * wrong root fails the handshake (exit status 1); no handshake timeout.
 * --group pins the key-exchange group the way the backend's
 * key_exchange_groups does (-GROUP-ALL:+GROUP-...); "default" is GnuTLS's
 * own choice, as the backend's default configuration leaves it.
 *
 * Sessions as the backend's (tlsapi_gnutls/_resumption.py): the server
 * issues TLS 1.3 tickets under a key of its own
 * (gnutls_session_ticket_key_generate, gnutls_session_ticket_enable_server),
 * not with its Finished but once its handshake is done
 * (GNUTLS_NO_AUTO_SEND_TICKET, then gnutls_session_ticket_send of TICKETS
 * tickets), and has session-ID cache callbacks (TLS 1.2 only: a TLS 1.3
 * handshake never calls them).  A handshake's work therefore includes the
 * server making its two tickets; the client, like the benchmark's, does not
 * read them before the pair is closed.  Both ends have no key log function
 * (the backend replaces GnuTLS's $SSLKEYLOGFILE one with NULL), and the
 * client has GNUTLS_FORCE_CLIENT_CERT, as the backend's.
 *
 * Built by `nox -s bench-ceiling` or tlsapi/_bench/ceiling.py with
 * pkg-config gnutls and -Wall -Wextra -Werror.  Prints one JSON line.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "ceiling.h"

/* tlsapi_gnutls._priority.Priority for TLSConfiguration() limited to TLS 1.3. */
#define CLIENT_PRIORITY                                                                 \
    "-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:" \
    "-MAC-ALL:+AEAD:%PROFILE_MEDIUM"
#define SERVER_PRIORITY CLIENT_PRIORITY ":%SERVER_PRECEDENCE"
/* tlsapi_gnutls._resumption.TICKETS: TLS 1.3 tickets per full handshake. */
#define TICKETS 2

#if GNUTLS_VERSION_NUMBER >= 0x03060e
#define NO_AUTO_TICKET GNUTLS_NO_AUTO_SEND_TICKET
#else
#define NO_AUTO_TICKET 0 /* GnuTLS sends its tickets itself, with its Finished */
#endif

typedef struct {
    gnutls_session_t session;
    ceiling_pipe *in;
    ceiling_pipe *out;
} end;

typedef struct {
    end client, server;
    ceiling_pipe to_server, to_client;
} pair;

static gnutls_certificate_credentials_t client_credentials, server_credentials;
static gnutls_priority_t client_priority, server_priority;
static gnutls_typed_vdata_st verify_data[2];
static gnutls_datum_t ticket_key;
static const ceiling_options *options;

static ssize_t push(gnutls_transport_ptr_t pointer, const void *data, size_t size)
{
    end *e = pointer;
    if (ceiling_pipe_write(e->out, data, size) < 0) {
        gnutls_transport_set_errno(e->session, ENOMEM);
        return -1;
    }
    return (ssize_t)size;
}

static ssize_t pull(gnutls_transport_ptr_t pointer, void *data, size_t size)
{
    end *e = pointer;
    size_t count = ceiling_pipe_read(e->in, data, size);
    if (count == 0) {
        gnutls_transport_set_errno(e->session, EAGAIN);
        return -1;
    }
    return (ssize_t)count;
}

/* The session-ID cache (TLS 1.2; never called in TLS 1.3): keeps nothing. */
static int cache_store(void *pointer, gnutls_datum_t key, gnutls_datum_t data)
{
    (void)pointer;
    (void)key;
    (void)data;
    return -1;
}

static gnutls_datum_t cache_fetch(void *pointer, gnutls_datum_t key)
{
    gnutls_datum_t none = {NULL, 0};
    (void)pointer;
    (void)key;
    return none;
}

static int cache_remove(void *pointer, gnutls_datum_t key)
{
    (void)pointer;
    (void)key;
    return -1;
}

static int fail(const char *what, int code)
{
    fprintf(stderr, "gnutls_ceiling: %s: %s\n", what, gnutls_strerror(code));
    return -1;
}

static int open_end(end *e, int server)
{
    int code = gnutls_init(&e->session, server ? GNUTLS_SERVER | GNUTLS_NONBLOCK | NO_AUTO_TICKET
                                               : GNUTLS_CLIENT | GNUTLS_NONBLOCK |
                                                     GNUTLS_FORCE_CLIENT_CERT);
    if (code < 0)
        return fail("gnutls_init", code);
    gnutls_transport_set_ptr(e->session, e);
    gnutls_transport_set_push_function(e->session, push);
    gnutls_transport_set_pull_function(e->session, pull);
    gnutls_handshake_set_timeout(e->session, 0);
    gnutls_session_set_keylog_function(e->session, NULL);
    code = gnutls_priority_set(e->session, server ? server_priority : client_priority);
    if (code >= 0 && server) {
        code = gnutls_session_ticket_enable_server(e->session, &ticket_key);
        gnutls_db_set_retrieve_function(e->session, cache_fetch);
        gnutls_db_set_store_function(e->session, cache_store);
        gnutls_db_set_remove_function(e->session, cache_remove);
        gnutls_db_set_ptr(e->session, e);
    }
    if (code >= 0)
        code = gnutls_credentials_set(e->session, GNUTLS_CRD_CERTIFICATE,
                                      server ? server_credentials : client_credentials);
    if (code >= 0 && !server) {
        code = gnutls_server_name_set(e->session, GNUTLS_NAME_DNS, options->host,
                                      strlen(options->host));
        if (code >= 0)
            gnutls_session_set_verify_cert2(e->session, verify_data, 2, 0);
    }
    if (code < 0) {
        gnutls_deinit(e->session);
        e->session = NULL;
        return fail("session set-up", code);
    }
    return 0;
}

static void close_pair(void *opened)
{
    pair *p = opened;
    if (p->client.session != NULL)
        gnutls_deinit(p->client.session);
    if (p->server.session != NULL)
        gnutls_deinit(p->server.session);
    ceiling_pipe_free(&p->to_server);
    ceiling_pipe_free(&p->to_client);
}

static int handshake_step(void *opened, int server, int *done)
{
    pair *p = opened;
    gnutls_session_t session = server ? p->server.session : p->client.session;
    const char *who = server ? "server" : "client";
    int code;
    if (*done)
        return 0;
    code = gnutls_handshake(session);
    if (code == 0) {
        *done = 1;
        /* A TLS 1.3 server's tickets, once its handshake is done (as the backend's). */
        if (NO_AUTO_TICKET && server && gnutls_protocol_get_version(session) == GNUTLS_TLS1_3 &&
            (code = gnutls_session_ticket_send(session, TICKETS, 0)) < 0)
            return fail("gnutls_session_ticket_send", code);
        return 0;
    }
    if (code == GNUTLS_E_AGAIN || code == GNUTLS_E_INTERRUPTED || !gnutls_error_is_fatal(code))
        return 0;
    if (code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        gnutls_datum_t text = {NULL, 0};
        unsigned int status = gnutls_session_get_verify_cert_status(session);
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
        fprintf(stderr, "gnutls_ceiling: certificate verification failed: %s\n",
                text.data ? (const char *)text.data : "?");
        gnutls_free(text.data);
        return -1;
    }
    fprintf(stderr, "gnutls_ceiling: the %s's handshake failed: %s\n", who, gnutls_strerror(code));
    return -1;
}

/* A handshaken pair (its pipes empty but for the server's session tickets, which the
   client reads with its first gnutls_record_recv, if ever). */
static int open_pair(void *storage)
{
    pair *p = storage;
    memset(p, 0, sizeof(*p));
    p->client.in = p->server.out = &p->to_client;
    p->client.out = p->server.in = &p->to_server;
    if (open_end(&p->client, 0) < 0 || open_end(&p->server, 1) < 0 ||
        ceiling_handshake(p, handshake_step, "gnutls_ceiling") < 0) {
        close_pair(p);
        return -1;
    }
    return 0;
}

static int send_all(void *opened, int server, const unsigned char *data, size_t size)
{
    pair *p = opened;
    end *e = server ? &p->server : &p->client;
    size_t sent = 0;
    while (sent < size) {
        ssize_t count = gnutls_record_send(e->session, data + sent, size - sent);
        if (count < 0) {
            if (count == GNUTLS_E_AGAIN || count == GNUTLS_E_INTERRUPTED)
                continue;
            return fail("gnutls_record_send", (int)count);
        }
        sent += (size_t)count;
    }
    return 0;
}

static int receive_exactly(void *opened, int server, unsigned char *buffer, size_t capacity,
                           size_t wanted)
{
    pair *p = opened;
    end *e = server ? &p->server : &p->client;
    size_t received = 0;
    while (received < wanted) {
        size_t room = capacity < wanted - received ? capacity : wanted - received;
        ssize_t count = gnutls_record_recv(e->session, capacity == wanted ? buffer + received
                                                                          : buffer,
                                           room);
        if (count > 0) {
            received += (size_t)count;
            continue;
        }
        /* TLS 1.3: a post-handshake message (the server's tickets) consumed, call again. */
        if ((count == GNUTLS_E_AGAIN || count == GNUTLS_E_INTERRUPTED) &&
            e->in->end > e->in->start)
            continue;
        return fail("gnutls_record_recv", count == 0 ? GNUTLS_E_PREMATURE_TERMINATION : (int)count);
    }
    return 0;
}

static int set_up(void)
{
    char priority[512];
    const char *error_position = NULL;
    const char *group = NULL;
    int code;

    code = gnutls_certificate_allocate_credentials(&client_credentials);
    if (code >= 0)
        code = gnutls_certificate_allocate_credentials(&server_credentials);
    if (code < 0)
        return fail("gnutls_certificate_allocate_credentials", code);
    code = gnutls_certificate_set_x509_trust_file(client_credentials, options->ca,
                                                  GNUTLS_X509_FMT_PEM);
    if (code <= 0) {
        fprintf(stderr, "gnutls_ceiling: no trust anchor in %s\n", options->ca);
        return -1;
    }
    code = gnutls_certificate_set_x509_key_file2(server_credentials, options->chain, options->key,
                                                 GNUTLS_X509_FMT_PEM, NULL, 0);
    if (code < 0)
        return fail("the server's chain and key", code);
    code = gnutls_certificate_set_known_dh_params(server_credentials, GNUTLS_SEC_PARAM_MEDIUM);
    if (code < 0)
        return fail("gnutls_certificate_set_known_dh_params", code);
    code = gnutls_session_ticket_key_generate(&ticket_key);
    if (code < 0)
        return fail("gnutls_session_ticket_key_generate", code);

    if (strcmp(options->group, "P-256") == 0)
        group = ":-GROUP-ALL:+GROUP-SECP256R1";
    else if (strcmp(options->group, "X25519") == 0)
        group = ":-GROUP-ALL:+GROUP-X25519";
    snprintf(priority, sizeof(priority), "%s%s", CLIENT_PRIORITY, group ? group : "");
    code = gnutls_priority_init2(&client_priority, priority, &error_position,
                                 GNUTLS_PRIORITY_INIT_DEF_APPEND);
    if (code >= 0) {
        snprintf(priority, sizeof(priority), "%s%s", SERVER_PRIORITY, group ? group : "");
        code = gnutls_priority_init2(&server_priority, priority, &error_position,
                                     GNUTLS_PRIORITY_INIT_DEF_APPEND);
    }
    if (code < 0)
        return fail("gnutls_priority_init2", code);

    verify_data[0].type = GNUTLS_DT_DNS_HOSTNAME;
    verify_data[0].data = (unsigned char *)options->host;
    verify_data[0].size = 0;
    verify_data[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
    verify_data[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
    verify_data[1].size = 0;
    return 0;
}

int main(int argc, char **argv)
{
    static ceiling_options parsed;
    static char library[64], cipher[96], group[64];
    ceiling_result result;
    pair probe;
    int status;
    const ceiling_library ends = {sizeof(pair), open_pair, close_pair, send_all,
                                     receive_exactly};

    status = ceiling_parse(argc, argv, &parsed);
    if (status != 0)
        return status;
    options = &parsed;
    if (gnutls_global_init() < 0 || set_up() < 0)
        return 1;

    /* What one handshake negotiates, and that the client really verified the server. */
    if (open_pair(&probe) < 0)
        return 1;
#if GNUTLS_VERSION_NUMBER >= 0x030703
    snprintf(cipher, sizeof(cipher), "%s", gnutls_ciphersuite_get(probe.client.session));
#else
    snprintf(cipher, sizeof(cipher), "%s", gnutls_cipher_get_name(gnutls_cipher_get(probe.client.session)));
#endif
    snprintf(group, sizeof(group), "%s", gnutls_group_get_name(gnutls_group_get(probe.client.session)));
    if (gnutls_protocol_get_version(probe.client.session) != GNUTLS_TLS1_3) {
        fprintf(stderr, "gnutls_ceiling: the handshake did not negotiate TLS 1.3\n");
        return 1;
    }
    if (NO_AUTO_TICKET && probe.to_client.end == probe.to_client.start) {
        fprintf(stderr, "gnutls_ceiling: the server sent no session ticket\n");
        return 1;
    }
    result.verified = gnutls_certificate_get_peers(probe.client.session, NULL) != NULL &&
                      gnutls_session_get_verify_cert_status(probe.client.session) == 0;
    close_pair(&probe);
    snprintf(library, sizeof(library), "GnuTLS %s", gnutls_check_version(NULL));
    result.program = "gnutls_ceiling";
    result.library = library;
    result.cipher = cipher;
    result.group = group;
    if (ceiling_measure(&result, &parsed, &ends) < 0)
        return 1;
    ceiling_print(&result, &parsed);
    gnutls_priority_deinit(client_priority);
    gnutls_priority_deinit(server_priority);
    gnutls_certificate_free_credentials(client_credentials);
    gnutls_certificate_free_credentials(server_credentials);
    gnutls_memset(ticket_key.data, 0, ticket_key.size);
    gnutls_free(ticket_key.data);
    gnutls_global_deinit();
    return 0;
}
