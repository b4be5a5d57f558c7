"""cdefs for our shims.h: a call and its NSPR error code in one, sslexp.h's functions callable.

The C is in ``shims.c``; the declarations must match ``shims.h``.  The
header also refuses NSS headers older than 3.52.
"""

INCLUDES = """
#include "shims.h"
"""

SOURCES = ("shims.c",)

TYPES = """
/* The NSS header version the extension was compiled against. */
extern const char *const tlsapi_nss_compiled_version;
typedef struct {
    SSLAuthCertificate auth_certificate;
    SSLSNISocketConfig sni_config;
    SSLHelloRetryRequestCallback hello_retry;
    SSLGetClientAuthData client_auth_data;
    SSLResumptionTokenCallback resumption_token;
    SSLSecretCallback secret;
} tlsapi_nss_hooks;
"""

FUNCTIONS = """
PRInt32 tlsapi_nss_error_code(void);
PRInt32 tlsapi_nss_handshake(PRFileDesc *fd);
PRInt32 tlsapi_nss_shutdown(PRFileDesc *fd);
SECStatus tlsapi_nss_cipher_suite_order_set(PRFileDesc *fd, const PRUint16 *order,
                                            PRUint16 count);
SECStatus tlsapi_nss_key_update(PRFileDesc *fd, PRBool request_update);
SECStatus tlsapi_nss_secret_callback(PRFileDesc *fd, SSLSecretCallback cb, void *arg);
SECStatus tlsapi_nss_resumption_token_callback(PRFileDesc *fd, SSLResumptionTokenCallback cb,
                                               void *arg);
SECStatus tlsapi_nss_set_resumption_token(PRFileDesc *fd, const PRUint8 *token,
                                          unsigned int len);
SECStatus tlsapi_nss_send_session_ticket(PRFileDesc *fd, const PRUint8 *token,
                                         unsigned int len);
SECStatus tlsapi_nss_hello_retry_callback(PRFileDesc *fd, SSLHelloRetryRequestCallback cb,
                                          void *arg);
PRInt32 tlsapi_nss_set_hooks(PRFileDesc *fd, const tlsapi_nss_hooks *hooks, void *arg,
                             PRBool server, const char *url, const char *peer_id);
"""
