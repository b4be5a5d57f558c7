"""cdefs for <gnutls/gnutls.h>: sessions, credentials, priorities, records, alerts."""

INCLUDES = """
#include <gnutls/gnutls.h>
"""

TYPES = """
#define GNUTLS_VERSION_NUMBER ...
static const char *const GNUTLS_VERSION;

typedef struct gnutls_session_int *gnutls_session_t;
typedef struct gnutls_certificate_credentials_st *gnutls_certificate_credentials_t;
typedef struct gnutls_priority_st *gnutls_priority_t;
typedef struct gnutls_x509_crt_int *gnutls_x509_crt_t;
typedef void *gnutls_transport_ptr_t;

typedef struct {
    unsigned char *data;
    unsigned int size;
} gnutls_datum_t;

typedef enum {
    GNUTLS_DT_UNKNOWN,
    GNUTLS_DT_DNS_HOSTNAME,
    GNUTLS_DT_KEY_PURPOSE_OID,
    GNUTLS_DT_RFC822NAME,
    GNUTLS_DT_IP_ADDRESS,
    ...
} gnutls_vdata_types_t;

typedef struct {
    gnutls_vdata_types_t type;
    unsigned char *data;
    unsigned int size;
} gnutls_typed_vdata_st;

/* gnutls_init() flags */
#define GNUTLS_SERVER ...
#define GNUTLS_CLIENT ...
#define GNUTLS_NONBLOCK ...
#define GNUTLS_NO_SIGNAL ...
#define GNUTLS_NO_TICKETS ...
#define GNUTLS_FORCE_CLIENT_CERT ...

#define GNUTLS_PRIORITY_INIT_DEF_APPEND ...
#define GNUTLS_KU_PEER ...
#define GNUTLS_HOOK_PRE ...
#define GNUTLS_HOOK_POST ...
#define GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO ...
#define GNUTLS_E_APPLICATION_ERROR_MAX ...

typedef enum { GNUTLS_CRD_CERTIFICATE, ... } gnutls_credentials_type_t;
typedef enum { GNUTLS_X509_FMT_DER, GNUTLS_X509_FMT_PEM, ... } gnutls_x509_crt_fmt_t;
typedef enum { GNUTLS_CERT_IGNORE, GNUTLS_CERT_REQUEST, GNUTLS_CERT_REQUIRE, ... }
    gnutls_certificate_request_t;
typedef enum { GNUTLS_SHUT_RDWR, GNUTLS_SHUT_WR, ... } gnutls_close_request_t;
typedef enum { GNUTLS_NAME_DNS, ... } gnutls_server_name_type_t;
typedef enum { GNUTLS_CRT_X509, ... } gnutls_certificate_type_t;
typedef enum { GNUTLS_ALPN_MANDATORY, GNUTLS_ALPN_SERVER_PRECEDENCE, ... } gnutls_alpn_flags_t;
typedef enum { GNUTLS_HANDSHAKE_CLIENT_HELLO, ... } gnutls_handshake_description_t;
typedef enum { GNUTLS_CB_TLS_UNIQUE, ... } gnutls_channel_binding_t;
typedef enum { GNUTLS_AL_WARNING, GNUTLS_AL_FATAL, ... } gnutls_alert_level_t;
typedef enum {
    GNUTLS_A_CLOSE_NOTIFY,
    GNUTLS_A_HANDSHAKE_FAILURE,
    GNUTLS_A_INTERNAL_ERROR,
    GNUTLS_A_NO_RENEGOTIATION,
    GNUTLS_A_UNRECOGNIZED_NAME,
    ...
} gnutls_alert_description_t;
typedef enum {
    GNUTLS_SSL3, GNUTLS_TLS1_0, GNUTLS_TLS1_1, GNUTLS_TLS1_2, GNUTLS_TLS1_3, ...
} gnutls_protocol_t;
typedef enum { GNUTLS_KX_UNKNOWN, ... } gnutls_kx_algorithm_t;
typedef enum { GNUTLS_SEC_PARAM_MEDIUM, ... } gnutls_sec_param_t;
typedef enum { GNUTLS_CIPHER_UNKNOWN, ... } gnutls_cipher_algorithm_t;
typedef enum { GNUTLS_MAC_UNKNOWN, GNUTLS_MAC_AEAD, ... } gnutls_mac_algorithm_t;
typedef enum {
    GNUTLS_GROUP_INVALID,
    GNUTLS_GROUP_SECP256R1,
    GNUTLS_GROUP_SECP384R1,
    GNUTLS_GROUP_SECP521R1,
    GNUTLS_GROUP_X25519,
    GNUTLS_GROUP_X448,
    GNUTLS_GROUP_FFDHE2048,
    GNUTLS_GROUP_FFDHE3072,
    GNUTLS_GROUP_FFDHE4096,
    GNUTLS_GROUP_FFDHE6144,
    GNUTLS_GROUP_FFDHE8192,
    ...
} gnutls_group_t;

typedef enum {
    GNUTLS_CERT_INVALID,
    GNUTLS_CERT_REVOKED,
    GNUTLS_CERT_SIGNER_NOT_FOUND,
    GNUTLS_CERT_SIGNER_NOT_CA,
    GNUTLS_CERT_INSECURE_ALGORITHM,
    GNUTLS_CERT_NOT_ACTIVATED,
    GNUTLS_CERT_EXPIRED,
    GNUTLS_CERT_SIGNATURE_FAILURE,
    GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED,
    GNUTLS_CERT_UNEXPECTED_OWNER,
    GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE,
    GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
    GNUTLS_CERT_MISMATCH,
    GNUTLS_CERT_PURPOSE_MISMATCH,
    GNUTLS_CERT_MISSING_OCSP_STATUS,
    GNUTLS_CERT_INVALID_OCSP_STATUS,
    GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS,
    ...
} gnutls_certificate_status_t;

/* error codes the backend tells apart; the rest go through gnutls_strerror() */
#define GNUTLS_E_SUCCESS ...
#define GNUTLS_E_AGAIN ...
#define GNUTLS_E_INTERRUPTED ...
#define GNUTLS_E_REHANDSHAKE ...
#define GNUTLS_E_WARNING_ALERT_RECEIVED ...
#define GNUTLS_E_FATAL_ALERT_RECEIVED ...
#define GNUTLS_E_PREMATURE_TERMINATION ...
#define GNUTLS_E_UNEXPECTED_PACKET_LENGTH ...
#define GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ...
#define GNUTLS_E_CERTIFICATE_ERROR ...
#define GNUTLS_E_CERTIFICATE_KEY_MISMATCH ...
#define GNUTLS_E_CERTIFICATE_REQUIRED ...
#define GNUTLS_E_NO_CERTIFICATE_FOUND ...
#define GNUTLS_E_KEY_USAGE_VIOLATION ...
#define GNUTLS_E_TOO_MANY_HANDSHAKE_PACKETS ...
#define GNUTLS_E_DECRYPTION_FAILED ...
#define GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ...
#define GNUTLS_E_UNKNOWN_CIPHER_SUITE ...
#define GNUTLS_E_GOT_APPLICATION_DATA ...
#define GNUTLS_E_REAUTH_REQUEST ...
#define GNUTLS_E_NO_PRIORITIES_WERE_SET ...
#define GNUTLS_E_INVALID_REQUEST ...
#define GNUTLS_E_SHORT_MEMORY_BUFFER ...
#define GNUTLS_E_LARGE_PACKET ...
#define GNUTLS_E_PUSH_ERROR ...
#define GNUTLS_E_PULL_ERROR ...
#define GNUTLS_E_INSUFFICIENT_CREDENTIALS ...
#define GNUTLS_E_NO_CIPHER_SUITES ...
#define GNUTLS_E_UNSUPPORTED_VERSION_PACKET ...
#define GNUTLS_E_NO_APPLICATION_PROTOCOL ...
#define GNUTLS_E_SESSION_EOF ...
#define GNUTLS_E_INVALID_SESSION ...

#define EAGAIN ...
#define EINTR ...

typedef ssize_t (*gnutls_pull_func)(gnutls_transport_ptr_t, void *, size_t);
typedef ssize_t (*gnutls_push_func)(gnutls_transport_ptr_t, const void *, size_t);
typedef int (*gnutls_pull_timeout_func)(gnutls_transport_ptr_t, unsigned int ms);
typedef int (*gnutls_handshake_hook_func)(gnutls_session_t, unsigned int htype, unsigned when,
                                          unsigned int incoming, const gnutls_datum_t *msg);
typedef int (*gnutls_ext_raw_process_func)(void *ctx, unsigned tls_id,
                                           const unsigned char *data, unsigned data_size);

/* key log, session resumption (client data, server tickets, the TLS 1.2 session-ID cache) */
typedef int (*gnutls_keylog_func)(gnutls_session_t session, const char *label,
                                  const gnutls_datum_t *secret);
typedef int (*gnutls_db_store_func)(void *, gnutls_datum_t key, gnutls_datum_t data);
typedef int (*gnutls_db_remove_func)(void *, gnutls_datum_t key);
typedef gnutls_datum_t (*gnutls_db_retr_func)(void *, gnutls_datum_t key);
typedef enum { GNUTLS_SFLAGS_SESSION_TICKET, ... } gnutls_session_flags_t;

/* the signature algorithms whose TLS code points _signatures.py knows */
typedef enum {
    GNUTLS_SIGN_UNKNOWN,
    GNUTLS_SIGN_RSA_SHA1,
    GNUTLS_SIGN_RSA_SHA256,
    GNUTLS_SIGN_RSA_SHA384,
    GNUTLS_SIGN_RSA_SHA512,
    GNUTLS_SIGN_ECDSA_SHA1,
    GNUTLS_SIGN_ECDSA_SHA256,
    GNUTLS_SIGN_ECDSA_SHA384,
    GNUTLS_SIGN_ECDSA_SHA512,
    GNUTLS_SIGN_ECDSA_SECP256R1_SHA256,
    GNUTLS_SIGN_ECDSA_SECP384R1_SHA384,
    GNUTLS_SIGN_ECDSA_SECP521R1_SHA512,
    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256,
    GNUTLS_SIGN_RSA_PSS_RSAE_SHA384,
    GNUTLS_SIGN_RSA_PSS_RSAE_SHA512,
    GNUTLS_SIGN_RSA_PSS_SHA256,
    GNUTLS_SIGN_RSA_PSS_SHA384,
    GNUTLS_SIGN_RSA_PSS_SHA512,
    GNUTLS_SIGN_EDDSA_ED25519,
    GNUTLS_SIGN_EDDSA_ED448,
    GNUTLS_SIGN_GOST_256,
    GNUTLS_SIGN_GOST_512,
    ...
} gnutls_sign_algorithm_t;
"""

FUNCTIONS = """
const char *gnutls_check_version(const char *req_version);
int gnutls_global_init(void);

int gnutls_init(gnutls_session_t *session, unsigned int flags);
void gnutls_deinit(gnutls_session_t session);
void gnutls_session_set_ptr(gnutls_session_t session, void *ptr);
void *gnutls_session_get_ptr(gnutls_session_t session);

/* the memory transport */
void gnutls_transport_set_ptr(gnutls_session_t session, gnutls_transport_ptr_t ptr);
void gnutls_transport_set_push_function(gnutls_session_t session, gnutls_push_func push_func);
void gnutls_transport_set_pull_function(gnutls_session_t session, gnutls_pull_func pull_func);
void gnutls_transport_set_pull_timeout_function(gnutls_session_t session,
                                                gnutls_pull_timeout_func func);
void gnutls_transport_set_errno(gnutls_session_t session, int err);

/* priorities and the algorithm tables */
int gnutls_priority_init(gnutls_priority_t *priority_cache, const char *priorities,
                         const char **err_pos);
int gnutls_priority_init2(gnutls_priority_t *priority_cache, const char *priorities,
                          const char **err_pos, unsigned flags);
void gnutls_priority_deinit(gnutls_priority_t priority_cache);
int gnutls_priority_set(gnutls_session_t session, gnutls_priority_t priority);
int gnutls_priority_get_cipher_suite_index(gnutls_priority_t pcache, unsigned int idx,
                                           unsigned int *sidx);
const char *gnutls_cipher_suite_info(size_t idx, unsigned char *cs_id,
                                     gnutls_kx_algorithm_t *kx,
                                     gnutls_cipher_algorithm_t *cipher,
                                     gnutls_mac_algorithm_t *mac,
                                     gnutls_protocol_t *min_version);
const char *gnutls_cipher_get_name(gnutls_cipher_algorithm_t algorithm);
const char *gnutls_mac_get_name(gnutls_mac_algorithm_t algorithm);
const char *gnutls_kx_get_name(gnutls_kx_algorithm_t algorithm);
const char *gnutls_protocol_get_name(gnutls_protocol_t version);
int gnutls_priority_group_list(gnutls_priority_t pcache, const unsigned int **list);
const char *gnutls_group_get_name(gnutls_group_t group);

/* what was negotiated */
gnutls_protocol_t gnutls_protocol_get_version(gnutls_session_t session);
gnutls_kx_algorithm_t gnutls_kx_get(gnutls_session_t session);
gnutls_cipher_algorithm_t gnutls_cipher_get(gnutls_session_t session);
gnutls_mac_algorithm_t gnutls_mac_get(gnutls_session_t session);
gnutls_group_t gnutls_group_get(gnutls_session_t session);
char *gnutls_session_get_desc(gnutls_session_t session);
const gnutls_datum_t *gnutls_certificate_get_peers(gnutls_session_t session,
                                                   unsigned int *list_size);

/* credentials */
int gnutls_credentials_set(gnutls_session_t session, gnutls_credentials_type_t type, void *cred);
int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res);
void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc);
int gnutls_certificate_set_x509_system_trust(gnutls_certificate_credentials_t cred);
int gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res,
                                          const gnutls_datum_t *ca,
                                          gnutls_x509_crt_fmt_t type);
int gnutls_certificate_set_x509_key_mem2(gnutls_certificate_credentials_t res,
                                         const gnutls_datum_t *cert,
                                         const gnutls_datum_t *key,
                                         gnutls_x509_crt_fmt_t type,
                                         const char *pass, unsigned int flags);
int gnutls_certificate_set_known_dh_params(gnutls_certificate_credentials_t res,
                                           gnutls_sec_param_t sec_param);
void gnutls_certificate_server_set_request(gnutls_session_t session,
                                           gnutls_certificate_request_t req);

/* verification */
void gnutls_session_set_verify_cert2(gnutls_session_t session, gnutls_typed_vdata_st *data,
                                     unsigned elements, unsigned flags);
unsigned int gnutls_session_get_verify_cert_status(gnutls_session_t session);
int gnutls_certificate_verification_status_print(unsigned int status,
                                                 gnutls_certificate_type_t type,
                                                 gnutls_datum_t *out, unsigned int flags);

/* channel binding */
int gnutls_session_channel_binding(gnutls_session_t session, gnutls_channel_binding_t cbtype,
                                   gnutls_datum_t *cb);

/* the handshake and records */
int gnutls_handshake(gnutls_session_t session);
void gnutls_handshake_set_timeout(gnutls_session_t session, unsigned int ms);
void gnutls_handshake_set_hook_function(gnutls_session_t session, unsigned int htype,
                                        int when, gnutls_handshake_hook_func func);
ssize_t gnutls_record_send(gnutls_session_t session, const void *data, size_t data_size);
ssize_t gnutls_record_recv(gnutls_session_t session, void *data, size_t data_size);
size_t gnutls_record_check_pending(gnutls_session_t session);
size_t gnutls_record_get_max_size(gnutls_session_t session);
int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how);
/* the peer's side of what we must tolerate (used by tests/gnutls) */
int gnutls_session_key_update(gnutls_session_t session, unsigned flags);
int gnutls_rehandshake(gnutls_session_t session);
int gnutls_priority_set_direct(gnutls_session_t session, const char *priorities,
                               const char **err_pos);

/* extensions */
int gnutls_server_name_set(gnutls_session_t session, gnutls_server_name_type_t type,
                           const void *name, size_t name_length);
int gnutls_server_name_get(gnutls_session_t session, void *data, size_t *data_length,
                           unsigned int *type, unsigned int indx);
int gnutls_alpn_set_protocols(gnutls_session_t session, const gnutls_datum_t *protocols,
                              unsigned protocols_size, unsigned int flags);
int gnutls_alpn_get_selected_protocol(gnutls_session_t session, gnutls_datum_t *protocol);
int gnutls_ext_raw_parse(void *ctx, gnutls_ext_raw_process_func cb,
                         const gnutls_datum_t *data, unsigned int flags);

/* the signature the peer made, whether the server asked for a certificate */
int gnutls_sign_algorithm_get(gnutls_session_t session);
int gnutls_sign_algorithm_get_client(gnutls_session_t session);
const char *gnutls_sign_get_name(gnutls_sign_algorithm_t algorithm);
unsigned gnutls_certificate_client_get_request_status(gnutls_session_t session);

/* key log */
void gnutls_session_set_keylog_function(gnutls_session_t session, gnutls_keylog_func func);
void gnutls_session_get_random(gnutls_session_t session, gnutls_datum_t *client,
                               gnutls_datum_t *server);
void gnutls_session_get_master_secret(gnutls_session_t session, gnutls_datum_t *secret);

/* session resumption */
int gnutls_session_set_data(gnutls_session_t session, const void *session_data,
                            size_t session_data_size);
int gnutls_session_get_data2(gnutls_session_t session, gnutls_datum_t *data);
int gnutls_session_is_resumed(gnutls_session_t session);
unsigned gnutls_session_get_flags(gnutls_session_t session);
int gnutls_session_get_id2(gnutls_session_t session, gnutls_datum_t *session_id);
int gnutls_session_ticket_key_generate(gnutls_datum_t *key);
int gnutls_session_ticket_enable_server(gnutls_session_t session, const gnutls_datum_t *key);
int gnutls_session_ticket_send(gnutls_session_t session, unsigned nr, unsigned flags);
void gnutls_db_set_retrieve_function(gnutls_session_t session, gnutls_db_retr_func retr_func);
void gnutls_db_set_remove_function(gnutls_session_t session, gnutls_db_remove_func rem_func);
void gnutls_db_set_store_function(gnutls_session_t session, gnutls_db_store_func store_func);
void gnutls_db_set_ptr(gnutls_session_t session, void *ptr);
void gnutls_db_set_cache_expiration(gnutls_session_t session, int seconds);
unsigned gnutls_db_get_default_cache_expiration(void);
void gnutls_memset(void *data, int c, size_t size);

/* errors and alerts */
const char *gnutls_strerror(int error);
const char *gnutls_strerror_name(int error);
int gnutls_error_is_fatal(int error);
gnutls_alert_description_t gnutls_alert_get(gnutls_session_t session);
const char *gnutls_alert_get_name(gnutls_alert_description_t alert);
int gnutls_alert_send(gnutls_session_t session, gnutls_alert_level_t level,
                      gnutls_alert_description_t desc);
int gnutls_alert_send_appropriate(gnutls_session_t session, int err);

/* the ClientHello hook (the memory transport is C: transport.c) */
extern "Python" int tlsapi_gnutls_client_hello_hook(gnutls_session_t, unsigned int, unsigned,
                                                    unsigned int, const gnutls_datum_t *);
extern "Python" int tlsapi_gnutls_raw_extension(void *, unsigned, const unsigned char *,
                                                unsigned);
/* the key log and the server's TLS 1.2 session cache (_keylog.py, _resumption.py) */
extern "Python" int tlsapi_gnutls_keylog(gnutls_session_t, const char *, const gnutls_datum_t *);
extern "Python" int tlsapi_gnutls_cache_store(void *, gnutls_datum_t, gnutls_datum_t);
extern "Python" gnutls_datum_t tlsapi_gnutls_cache_fetch(void *, gnutls_datum_t);
extern "Python" int tlsapi_gnutls_cache_remove(void *, gnutls_datum_t);
"""
