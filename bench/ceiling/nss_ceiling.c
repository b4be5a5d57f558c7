/* nss_ceiling: the NSS backend's ceiling, tlsapi bench's in-memory work done
 * by NSS alone, with no Python.
 *
 * The same work as tlsapi/_bench (see _tlsapi.py and _subject.py), both ends
 * in this process: each socket is NSS's TLS layer over an NSPR stub layer
 * whose recv/send read and write a memory pipe per direction (the backend's
 * memio does the same), and
 *
 *   handshakes_per_s        a client and a server socket made from their
 *                           model sockets (SSL_ImportFD), TLS 1.3 handshake
 *                           to the end (SSL_ForceHandshake), both closed;
 *   bulk_mb_per_s           1 MiB written by the client (PR_Write), read by
 *                           the server into a 64 KiB buffer;
 *   echo_round_trips_per_s  64 bytes client -> server -> client.
 *
 * What the backend sets, we set: NSS initialised without a database, the
 * certificates as temporary certificates, the key a session object; model
 * sockets with the backend's options (no False Start, no 0-RTT, ...), TLS 1.3
 * only, its suite order, its signature schemes (NSS's defaults and the
 * RSA-PSS "pss" ones); the server sends
 * exactly the chain in --chain; the client's certificate hook verifies the
 * server with CERT_PKIXVerifyCert against only the root in --ca (no
 * revocation, no AIA fetching) and CERT_VerifyCertName for --host, so a wrong
 * root fails the handshake (exit status 1).  --group pins the key-exchange
 * group (SSL_NamedGroupConfig, as key_exchange_groups does); "default" is
 * NSS's own choice, as the backend's default configuration leaves it.
 *
 * Sessions as the backend's (tlsapi_nss/_profile.py, _buffer.py, _tickets.py):
 * the server has no session-ID cache and NSS's automatic tickets off, and
 * once its handshake is done sends one TLS 1.3 ticket of its own
 * (SSL_SendSessionTicket) carrying a token like a TicketBook's (a random
 * identity, the time of issue, the cipher suite); it has an SNI hook and a
 * HelloRetryRequest callback (which sees the token of a ticket offered).
 * The client has NSS's session cache and tickets on, a peer ID of its own
 * per connection (SSL_SetSockPeerID) and a resumption-token callback.  So a
 * handshake's work includes the server making its ticket; the client, like
 * the benchmark's, does not read it before the pair is closed.
 *
 * Built by `nox -s bench-ceiling` or tlsapi/_bench/ceiling.py with
 * pkg-config nss nspr and -Wall -Wextra -Werror.  Prints one JSON line.
 */
#include <base64.h>
#include <cert.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <prinit.h>
#include <prio.h>
#include <prnetdb.h>
#include <secerr.h>
#include <ssl.h>
#include <sslerr.h>
#include <sslexp.h>
#include <sslproto.h>

#include "ceiling.h"

typedef struct {
    ceiling_pipe *in;
    ceiling_pipe *out;
} end;

typedef struct {
    end client_end, server_end;
    PRFileDesc *client, *server;
    ceiling_pipe to_server, to_client;
} pair;

static PRDescIdentity memio_identity;
static PRIOMethods memio_methods;
static PRFileDesc *client_model, *server_model;
static CERTCertList *anchors;
static CERTCertificate *chain[8];
static int chain_length;
static SECKEYPrivateKey *server_key;
static const ceiling_options *options;
static long verifications;
static long connections;
/* What the server's tickets carry (tlsapi_nss._tickets.TicketBook.token). */
static unsigned char ticket_identity[16];

/* -- the memory layer ------------------------------------------------------------ */

static PRInt32 PR_CALLBACK memio_recv(PRFileDesc *fd, void *buf, PRInt32 amount, PRIntn flags,
                                      PRIntervalTime timeout)
{
    end *e = (end *)fd->secret;
    size_t count;
    (void)flags;
    (void)timeout;
    count = amount > 0 ? ceiling_pipe_read(e->in, buf, (size_t)amount) : 0;
    if (count == 0) {
        PR_SetError(PR_WOULD_BLOCK_ERROR, 0);
        return -1;
    }
    return (PRInt32)count;
}

static PRInt32 PR_CALLBACK memio_read(PRFileDesc *fd, void *buf, PRInt32 amount)
{
    return memio_recv(fd, buf, amount, 0, PR_INTERVAL_NO_TIMEOUT);
}

static PRInt32 PR_CALLBACK memio_send(PRFileDesc *fd, const void *buf, PRInt32 amount,
                                      PRIntn flags, PRIntervalTime timeout)
{
    end *e = (end *)fd->secret;
    (void)flags;
    (void)timeout;
    if (amount < 0 || ceiling_pipe_write(e->out, buf, (size_t)amount) < 0) {
        PR_SetError(PR_OUT_OF_MEMORY_ERROR, 0);
        return -1;
    }
    return amount;
}

static PRInt32 PR_CALLBACK memio_write(PRFileDesc *fd, const void *buf, PRInt32 amount)
{
    return memio_send(fd, buf, amount, 0, PR_INTERVAL_NO_TIMEOUT);
}

static PRStatus PR_CALLBACK memio_close(PRFileDesc *fd)
{
    fd->secret = NULL; /* the pair owns the pipes */
    fd->dtor(fd);
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK memio_name(PRFileDesc *fd, PRNetAddr *addr)
{
    /* NSS asks for the peer's address (its session cache's key): there is no socket. */
    (void)fd;
    memset(addr, 0, sizeof(*addr));
    addr->inet.family = PR_AF_INET;
    addr->inet.ip = PR_htonl(PR_INADDR_LOOPBACK);
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK memio_getsockopt(PRFileDesc *fd, PRSocketOptionData *data)
{
    (void)fd;
    if (data->option == PR_SockOpt_Nonblocking) {
        data->value.non_blocking = PR_TRUE; /* NSS then answers PR_WOULD_BLOCK_ERROR upwards */
        return PR_SUCCESS;
    }
    PR_SetError(PR_NOT_IMPLEMENTED_ERROR, 0);
    return PR_FAILURE;
}

static PRStatus PR_CALLBACK memio_setsockopt(PRFileDesc *fd, const PRSocketOptionData *data)
{
    (void)fd;
    (void)data;
    return PR_SUCCESS;
}

static PRStatus PR_CALLBACK memio_shutdown(PRFileDesc *fd, PRIntn how)
{
    (void)fd;
    (void)how;
    return PR_SUCCESS;
}

static void memio_set_up(void)
{
    memio_identity = PR_GetUniqueIdentity("ceiling memory I/O");
    memio_methods = *PR_GetDefaultIOMethods();
    memio_methods.file_type = PR_DESC_LAYERED;
    memio_methods.close = memio_close;
    memio_methods.read = memio_read;
    memio_methods.write = memio_write;
    memio_methods.recv = memio_recv;
    memio_methods.send = memio_send;
    memio_methods.shutdown = memio_shutdown;
    memio_methods.getsockname = memio_name;
    memio_methods.getpeername = memio_name;
    memio_methods.getsocketoption = memio_getsockopt;
    memio_methods.setsocketoption = memio_setsockopt;
}

static PRFileDesc *memio_new(end *e)
{
    PRFileDesc *fd = PR_CreateIOLayerStub(memio_identity, &memio_methods);
    if (fd != NULL)
        fd->secret = (PRFilePrivate *)e;
    return fd;
}

/* -- errors -------------------------------------------------------------------------- */

static int fail(const char *what)
{
    PRErrorCode code = PR_GetError();
    const char *name = PR_ErrorToName(code);
    fprintf(stderr, "nss_ceiling: %s: %s (%s)\n", what, PR_ErrorToString(code, PR_LANGUAGE_I_DEFAULT),
            name ? name : "?");
    return -1;
}

/* -- credentials ---------------------------------------------------------------------- */

/* The DER of each "-----BEGIN <label>-----" block of a PEM file, in order. */
static int pem_blocks(const char *path, const char *label, SECItem *items, int most)
{
    char begin[64], stop[64];
    size_t size;
    char *text = ceiling_read_file(path, &size), *cursor;
    int count = 0;
    if (text == NULL)
        return -1;
    snprintf(begin, sizeof(begin), "-----BEGIN %s-----", label);
    snprintf(stop, sizeof(stop), "-----END %s-----", label);
    for (cursor = strstr(text, begin); cursor != NULL && count < most;
         cursor = strstr(cursor, begin)) {
        char *body = cursor + strlen(begin), *finish = strstr(body, stop);
        unsigned int length = 0;
        unsigned char *der;
        if (finish == NULL)
            break;
        *finish = '\0'; /* ATOB_AsciiToData decodes a string, skipping the line breaks */
        der = ATOB_AsciiToData(body, &length);
        if (der == NULL) {
            free(text);
            return fail(path);
        }
        items[count].type = siBuffer;
        items[count].data = der;
        items[count].len = length;
        count++;
        cursor = finish + 1;
    }
    free(text);
    if (count == 0)
        fprintf(stderr, "nss_ceiling: no %s in %s\n", label, path);
    return count;
}

static CERTCertificate *temporary_certificate(SECItem *der)
{
    /* Temporary, with no trust of its own: only the anchor list makes the root trusted. */
    return CERT_NewTempCertificate(CERT_GetDefaultCertDB(), der, NULL, PR_FALSE, PR_TRUE);
}

static int load_credentials(void)
{
    SECItem items[8];
    PK11SlotInfo *slot;
    int count, i;
    SECStatus status;

    count = pem_blocks(options->ca, "CERTIFICATE", items, 8);
    if (count <= 0)
        return -1;
    anchors = CERT_NewCertList();
    for (i = 0; i < count; i++) {
        CERTCertificate *cert = temporary_certificate(&items[i]);
        PORT_Free(items[i].data);
        if (cert == NULL || CERT_AddCertToListTail(anchors, cert) != SECSuccess)
            return fail("the root certificate");
    }

    count = pem_blocks(options->chain, "CERTIFICATE", items, 8);
    if (count <= 0)
        return -1;
    for (i = 0; i < count; i++) {
        chain[i] = temporary_certificate(&items[i]);
        PORT_Free(items[i].data);
        if (chain[i] == NULL)
            return fail("the server's chain");
    }
    chain_length = count;

    if (pem_blocks(options->key, "PRIVATE KEY", items, 1) != 1)
        return -1;
    slot = PK11_GetInternalSlot();
    status = PK11_ImportDERPrivateKeyInfoAndReturnKey(slot, &items[0], NULL, NULL, PR_FALSE,
                                                      PR_TRUE, KU_ALL, &server_key, NULL);
    PK11_FreeSlot(slot);
    PORT_Free(items[0].data);
    if (status != SECSuccess)
        return fail("the server's key");
    return 0;
}

/* The chain the server sends: exactly the certificates of --chain, leaf first. */
static CERTCertificateList *server_chain(void)
{
    PLArenaPool *arena = PORT_NewArena(4096);
    CERTCertificateList *list;
    int i;
    if (arena == NULL)
        return NULL;
    list = PORT_ArenaZNew(arena, CERTCertificateList);
    if (list == NULL ||
        (list->certs = PORT_ArenaZNewArray(arena, SECItem, (size_t)chain_length)) == NULL) {
        PORT_FreeArena(arena, PR_FALSE);
        return NULL;
    }
    list->arena = arena;
    list->len = chain_length;
    for (i = 0; i < chain_length; i++) {
        if (SECITEM_CopyItem(arena, &list->certs[i], &chain[i]->derCert) != SECSuccess) {
            PORT_FreeArena(arena, PR_FALSE);
            return NULL;
        }
    }
    return list;
}

/* -- verification ---------------------------------------------------------------------- */

static SECStatus authenticate(void *arg, PRFileDesc *fd, PRBool check_signature, PRBool is_server)
{
    PRUint64 no_revocation[2] = {
        CERT_REV_M_DO_NOT_TEST_USING_THIS_METHOD | CERT_REV_M_FORBID_NETWORK_FETCHING,
        CERT_REV_M_DO_NOT_TEST_USING_THIS_METHOD | CERT_REV_M_FORBID_NETWORK_FETCHING,
    };
    CERTRevocationFlags revocation;
    CERTValInParam in[5];
    CERTValOutParam out[1];
    CERTCertificate *cert;
    SECStatus status;
    (void)arg;
    (void)check_signature;
    if (is_server)
        return SECSuccess; /* a server asks for no client certificate here */
    cert = SSL_PeerCertificate(fd);
    if (cert == NULL)
        return SECFailure;
    memset(&revocation, 0, sizeof(revocation));
    revocation.leafTests.number_of_defined_methods = 2;
    revocation.leafTests.cert_rev_flags_per_method = no_revocation;
    revocation.chainTests.number_of_defined_methods = 2;
    revocation.chainTests.cert_rev_flags_per_method = no_revocation;
    in[0].type = cert_pi_revocationFlags;
    in[0].value.pointer.revocation = &revocation;
    in[1].type = cert_pi_useAIACertFetch;
    in[1].value.scalar.b = PR_FALSE;
    in[2].type = cert_pi_trustAnchors;
    in[2].value.pointer.chain = anchors;
    in[3].type = cert_pi_useOnlyTrustAnchors;
    in[3].value.scalar.b = PR_TRUE;
    in[4].type = cert_pi_end;
    out[0].type = cert_po_end;
    status = CERT_PKIXVerifyCert(cert, certificateUsageSSLServer, in, out, NULL);
    if (status == SECSuccess)
        status = CERT_VerifyCertName(cert, options->host);
    CERT_DestroyCertificate(cert);
    if (status == SECSuccess)
        verifications++;
    return status;
}

/* -- the backend's other hooks ---------------------------------------------------------- */

static PRInt32 sni_config(PRFileDesc *fd, const SECItem *names, PRUint32 count, void *arg)
{
    /* The backend notes the name and keeps the socket's configuration. */
    (void)fd;
    (void)arg;
    return count > 0 && names[0].len > 0 ? 0 : SSL_SNI_SEND_ALERT;
}

static SSLHelloRetryRequestAction hello_retry(PRBool first, const PRUint8 *token,
                                              unsigned int token_length, PRUint8 *retry,
                                              unsigned int *retry_length, unsigned int retry_max,
                                              void *arg)
{
    /* The backend checks a resumed ticket's token; nothing is resumed here. */
    (void)first;
    (void)token;
    (void)retry;
    (void)retry_max;
    (void)arg;
    *retry_length = 0;
    return token_length == 0 || token_length == sizeof(ticket_identity) + 10 ? ssl_hello_retry_accept
                                                                            : ssl_hello_retry_fail;
}

static SECStatus resumption_token(PRFileDesc *fd, const PRUint8 *token, unsigned int length,
                                  void *arg)
{
    (void)fd;
    (void)token;
    (void)length;
    (void)arg;
    return SECSuccess;
}

/* The TLS 1.3 ticket the backend's server sends once its handshake is done. */
static int send_ticket(PRFileDesc *fd)
{
    SSLChannelInfo channel;
    unsigned char token[sizeof(ticket_identity) + 10];
    PRUint64 now = (PRUint64)time(NULL);
    int i;
    if (SSL_GetChannelInfo(fd, &channel, sizeof(channel)) != SECSuccess)
        return fail("SSL_GetChannelInfo");
    memcpy(token, ticket_identity, sizeof(ticket_identity));
    for (i = 0; i < 8; i++)
        token[sizeof(ticket_identity) + i] = (unsigned char)(now >> (56 - 8 * i));
    token[sizeof(token) - 2] = (unsigned char)(channel.cipherSuite >> 8);
    token[sizeof(token) - 1] = (unsigned char)channel.cipherSuite;
    if (SSL_SendSessionTicket(fd, token, sizeof(token)) != SECSuccess)
        return fail("SSL_SendSessionTicket");
    return 0;
}

/* -- sockets --------------------------------------------------------------------------- */

/* The backend's _profile._enable_rsa_pss_pss: NSS's schemes and the RSA-PSS "pss" ones. */
static int enable_rsa_pss_pss(PRFileDesc *model)
{
    static const SSLSignatureScheme pss[] = {ssl_sig_rsa_pss_pss_sha256, ssl_sig_rsa_pss_pss_sha384,
                                             ssl_sig_rsa_pss_pss_sha512};
    SSLSignatureScheme schemes[64];
    unsigned int count = 0, i, j;
    if (SSL_SignatureSchemePrefGet(model, schemes, &count, 64 - 3) != SECSuccess)
        return fail("SSL_SignatureSchemePrefGet");
    for (i = 0; i < 3; i++) {
        for (j = 0; j < count && schemes[j] != pss[i]; j++)
            ;
        if (j == count)
            schemes[count++] = pss[i];
    }
    if (SSL_SignatureSchemePrefSet(model, schemes, count) != SECSuccess)
        return fail("SSL_SignatureSchemePrefSet");
    return 0;
}

static PRFileDesc *new_model(int server)
{
    /* The backend's _profile.Profile._model for the default configuration, TLS 1.3 only. */
    static const struct {
        PRInt32 option, value;
    } settings[] = {
        {SSL_SECURITY, 1},
        {SSL_ENABLE_RENEGOTIATION, SSL_RENEGOTIATE_NEVER},
        {SSL_ENABLE_FALSE_START, 0},
        {SSL_ENABLE_0RTT_DATA, 0},
        {SSL_ENABLE_NPN, 0},
        {SSL_ENABLE_ALPN, 0},
        {SSL_ENABLE_EXTENDED_MASTER_SECRET, 1},
        {SSL_ENABLE_HELLO_DOWNGRADE_CHECK, 1},
        {SSL_ENABLE_V2_COMPATIBLE_HELLO, 0},
        {SSL_ENABLE_OCSP_STAPLING, 0},
        {SSL_ENABLE_POST_HANDSHAKE_AUTH, 0},
    };
    /* tlsapi's default order of the TLS 1.3 suites. */
    static const PRUint16 suites[] = {TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256,
                                      TLS_AES_128_GCM_SHA256};
    SSLVersionRange range = {SSL_LIBRARY_VERSION_TLS_1_3, SSL_LIBRARY_VERSION_TLS_1_3};
    PRFileDesc *stub = memio_new(NULL), *model;
    size_t i;
    if (stub == NULL || (model = SSL_ImportFD(NULL, stub)) == NULL) {
        fail("a model socket");
        return NULL;
    }
    /* A server: no session-ID cache, no automatic tickets (it sends its own, TLS 1.3);
       a client: NSS's cache and tickets on. */
    if (SSL_OptionSet(model, SSL_NO_CACHE, server) != SECSuccess ||
        SSL_OptionSet(model, SSL_ENABLE_SESSION_TICKETS, !server) != SECSuccess) {
        fail("SSL_OptionSet");
        return NULL;
    }
    for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        if (SSL_OptionSet(model, settings[i].option, settings[i].value) != SECSuccess) {
            fail("SSL_OptionSet");
            return NULL;
        }
    }
    if (SSL_OptionSet(model, server ? SSL_HANDSHAKE_AS_SERVER : SSL_HANDSHAKE_AS_CLIENT, 1) !=
            SECSuccess ||
        SSL_VersionRangeSet(model, &range) != SECSuccess ||
        SSL_CipherSuiteOrderSet(model, suites, sizeof(suites) / sizeof(suites[0])) != SECSuccess) {
        fail("the model socket's versions and suites");
        return NULL;
    }
    if (enable_rsa_pss_pss(model) < 0)
        return NULL;
    if (!server && SSL_SetSockPeerID(model, "tlsapi-nss:ceiling") != SECSuccess) {
        fail("SSL_SetSockPeerID");
        return NULL;
    }
    if (strcmp(options->group, "default") != 0) {
        SSLNamedGroup group =
            strcmp(options->group, "X25519") == 0 ? ssl_grp_ec_curve25519 : ssl_grp_ec_secp256r1;
        if (SSL_NamedGroupConfig(model, &group, 1) != SECSuccess) {
            fail("SSL_NamedGroupConfig");
            return NULL;
        }
    }
    if (server) {
        SSLExtraServerCertData extra;
        CERTCertificateList *list = server_chain();
        memset(&extra, 0, sizeof(extra));
        extra.authType = ssl_auth_null;
        extra.certChain = list;
        if (list == NULL ||
            SSL_ConfigServerCert(model, chain[0], server_key, &extra, sizeof(extra)) != SECSuccess) {
            fail("SSL_ConfigServerCert");
            return NULL;
        }
        CERT_DestroyCertificateList(list); /* NSS keeps its own copy */
    }
    return model;
}

static PRFileDesc *open_socket(end *e, int server)
{
    PRFileDesc *stub = memio_new(e), *fd;
    char peer_id[64];
    int ok;
    if (stub == NULL)
        return NULL;
    fd = SSL_ImportFD(server ? server_model : client_model, stub);
    if (fd == NULL) {
        PR_Close(stub);
        return NULL;
    }
    if (server)
        ok = SSL_SNISocketConfigHook(fd, sni_config, NULL) == SECSuccess &&
             SSL_HelloRetryRequestCallback(fd, hello_retry, NULL) == SECSuccess;
    else {
        snprintf(peer_id, sizeof(peer_id), "tlsapi-nss:ceiling:%ld", connections++);
        ok = SSL_SetURL(fd, options->host) == SECSuccess &&
             SSL_SetSockPeerID(fd, peer_id) == SECSuccess &&
             SSL_SetResumptionTokenCallback(fd, resumption_token, NULL) == SECSuccess;
    }
    if (!ok || SSL_AuthCertificateHook(fd, authenticate, NULL) != SECSuccess ||
        SSL_ResetHandshake(fd, server ? PR_TRUE : PR_FALSE) != SECSuccess) {
        PR_Close(fd);
        return NULL;
    }
    return fd;
}

static void close_pair(void *opened)
{
    pair *p = opened;
    if (p->client != NULL)
        PR_Close(p->client);
    if (p->server != NULL)
        PR_Close(p->server);
    ceiling_pipe_free(&p->to_server);
    ceiling_pipe_free(&p->to_client);
}

static int handshake_step(void *opened, int server, int *done)
{
    pair *p = opened;
    PRFileDesc *fd = server ? p->server : p->client;
    const char *who = server ? "server" : "client";
    PRErrorCode code;
    char what[64];
    if (*done)
        return 0;
    if (SSL_ForceHandshake(fd) == SECSuccess) {
        *done = 1;
        return server ? send_ticket(fd) : 0;
    }
    code = PR_GetError();
    if (code == PR_WOULD_BLOCK_ERROR)
        return 0;
    snprintf(what, sizeof(what), "the %s's handshake failed", who);
    return fail(what);
}

static int open_pair(void *storage)
{
    pair *p = storage;
    memset(p, 0, sizeof(*p));
    p->client_end.in = p->server_end.out = &p->to_client;
    p->client_end.out = p->server_end.in = &p->to_server;
    p->client = open_socket(&p->client_end, 0);
    p->server = open_socket(&p->server_end, 1);
    if (p->client == NULL || p->server == NULL) {
        fail("a socket");
        close_pair(p);
        return -1;
    }
    if (ceiling_handshake(p, handshake_step, "nss_ceiling") < 0) {
        close_pair(p);
        return -1;
    }
    return 0;
}

static int send_all(void *opened, int server, const unsigned char *data, size_t length)
{
    pair *p = opened;
    PRFileDesc *fd = server ? p->server : p->client;
    PRInt32 sent = 0, size = (PRInt32)length;
    while (sent < size) {
        /* One record's worth per PR_Write, as the backend writes (memio.c): given more,
           NSS yields the CPU between records. */
        PRInt32 count = PR_Write(fd, data + sent, size - sent < 16384 ? size - sent : 16384);
        if (count <= 0)
            return fail("PR_Write");
        sent += count;
    }
    return 0;
}

static int receive_exactly(void *opened, int server, unsigned char *buffer, size_t room_size,
                           size_t wanted_size)
{
    pair *p = opened;
    PRFileDesc *fd = server ? p->server : p->client;
    PRInt32 received = 0, capacity = (PRInt32)room_size, wanted = (PRInt32)wanted_size;
    while (received < wanted) {
        PRInt32 room = capacity < wanted - received ? capacity : wanted - received;
        PRInt32 count = PR_Read(fd, capacity == wanted ? buffer + received : buffer, room);
        if (count <= 0)
            return count == 0 ? (fprintf(stderr, "nss_ceiling: early end of file\n"), -1)
                              : fail("PR_Read");
        received += count;
    }
    return 0;
}

static const char *group_name(SSLNamedGroup group)
{
    switch (group) {
    case ssl_grp_ec_secp256r1:
        return "SECP256R1";
    case ssl_grp_ec_secp384r1:
        return "SECP384R1";
    case ssl_grp_ec_secp521r1:
        return "SECP521R1";
    case ssl_grp_ec_curve25519:
        return "X25519";
    default:
        return "other";
    }
}

int main(int argc, char **argv)
{
    static ceiling_options parsed;
    static char library[64], cipher[96];
    ceiling_result result;
    SSLChannelInfo channel;
    SSLCipherSuiteInfo suite;
    NSSInitContext *context;
    pair probe;
    int status;
    const ceiling_library ends = {sizeof(pair), open_pair, close_pair, send_all,
                                  receive_exactly};

    status = ceiling_parse(argc, argv, &parsed);
    if (status != 0)
        return status;
    options = &parsed;
    /* As the backend's runtime initialises NSS: no database, nothing on disk. */
    context = NSS_InitContext("", "", "", "", NULL,
                              NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB |
                                  NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT |
                                  NSS_INIT_OPTIMIZESPACE);
    if (context == NULL)
        return fail("NSS_InitContext"), 1;
    memio_set_up();
    if (PK11_GenerateRandom(ticket_identity, sizeof(ticket_identity)) != SECSuccess)
        return fail("PK11_GenerateRandom"), 1;
    if (load_credentials() < 0 || (client_model = new_model(0)) == NULL ||
        (server_model = new_model(1)) == NULL)
        return 1;

    /* What one handshake negotiates, and that the client really verified the server. */
    if (open_pair(&probe) < 0)
        return 1;
    if (SSL_GetChannelInfo(probe.client, &channel, sizeof(channel)) != SECSuccess ||
        SSL_GetCipherSuiteInfo(channel.cipherSuite, &suite, sizeof(suite)) != SECSuccess)
        return fail("SSL_GetChannelInfo"), 1;
    if (channel.protocolVersion != SSL_LIBRARY_VERSION_TLS_1_3) {
        fprintf(stderr, "nss_ceiling: the handshake did not negotiate TLS 1.3\n");
        return 1;
    }
    if (probe.to_client.end == probe.to_client.start) {
        fprintf(stderr, "nss_ceiling: the server sent no session ticket\n");
        return 1;
    }
    snprintf(cipher, sizeof(cipher), "%s", suite.cipherSuiteName);
    close_pair(&probe);
    snprintf(library, sizeof(library), "NSS %s", NSS_GetVersion());
    result.program = "nss_ceiling";
    result.library = library;
    result.cipher = cipher;
    result.group = group_name(channel.keaGroup);
    result.verified = verifications == 1;
    if (ceiling_measure(&result, &parsed, &ends) < 0)
        return 1;
    ceiling_print(&result, &parsed);

    PR_Close(client_model);
    PR_Close(server_model);
    for (status = 0; status < chain_length; status++)
        CERT_DestroyCertificate(chain[status]);
    CERT_DestroyCertList(anchors);
    SECKEY_DestroyPrivateKey(server_key);
    NSS_ShutdownContext(context);
    return 0;
}
