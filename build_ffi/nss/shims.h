/* tlsapi-nss: small shims.  Each folds "call, then PR_GetError()" into one C
 * call that returns 0 or the (always negative) NSPR error code, so that an
 * operation crosses the cffi boundary once, or gives an sslexp.h experimental
 * function (looked up by name at run time through a macro) a plain signature.
 * build_ffi/nss/shims.py declares the same to cffi: keep the two in step.
 */
#ifndef TLSAPI_NSS_SHIMS_H
#define TLSAPI_NSS_SHIMS_H

#include <nss.h>
#include <prio.h>
#include <prtypes.h>
#include <seccomon.h>
#include <ssl.h>
#include <sslexp.h>

#if !defined(NSS_VMAJOR) || NSS_VMAJOR < 3 || (NSS_VMAJOR == 3 && NSS_VMINOR < 52)
#error "tlsapi-nss needs the headers of NSS 3.52 or later (Debian: libnss3-dev, Fedora: nss-devel)"
#endif

/* The NSS header version this extension was compiled against. */
extern const char *const tlsapi_nss_compiled_version;

/* PR_GetError(), or PR_UNKNOWN_ERROR when NSS failed without setting an error. */
PRInt32 tlsapi_nss_error_code(void);
/* SSL_ForceHandshake: 0 or the error code. */
PRInt32 tlsapi_nss_handshake(PRFileDesc *fd);
/* PR_Shutdown(PR_SHUTDOWN_SEND) (sends close_notify): 0 or the error code. */
PRInt32 tlsapi_nss_shutdown(PRFileDesc *fd);

/* SSL_CipherSuiteOrderSet and SSL_KeyUpdate (sslexp.h).  A library that lacks one
   answers SECFailure with SSL_ERROR_UNSUPPORTED_EXPERIMENTAL_API. */
SECStatus tlsapi_nss_cipher_suite_order_set(PRFileDesc *fd, const PRUint16 *order,
                                            PRUint16 count);
SECStatus tlsapi_nss_key_update(PRFileDesc *fd, PRBool request_update);

/* The experimental functions behind key logging and session resumption:
   SSL_SecretCallback, SSL_SetResumptionTokenCallback, SSL_SetResumptionToken,
   SSL_SendSessionTicket (a server's ticket carrying our token) and
   SSL_HelloRetryRequestCallback (which shows a server that token again). */
SECStatus tlsapi_nss_secret_callback(PRFileDesc *fd, SSLSecretCallback cb, void *arg);
SECStatus tlsapi_nss_resumption_token_callback(PRFileDesc *fd, SSLResumptionTokenCallback cb,
                                               void *arg);
SECStatus tlsapi_nss_set_resumption_token(PRFileDesc *fd, const PRUint8 *token,
                                          unsigned int len);
SECStatus tlsapi_nss_send_session_ticket(PRFileDesc *fd, const PRUint8 *token,
                                         unsigned int len);
SECStatus tlsapi_nss_hello_retry_callback(PRFileDesc *fd, SSLHelloRetryRequestCallback cb,
                                          void *arg);

/* The hooks of a connection's socket (our extern "Python" functions), and the call
   that installs them: the certificate hook; on a server the SNI hook and the
   HelloRetryRequest callback, on a client the URL (when not NULL), the peer ID,
   the client-certificate hook and the resumption-token callback; the secret
   callback when there is one (a key log); then SSL_ResetHandshake.  Each gets
   `arg`.  0 or the error code of the first call that failed. */
typedef struct {
    SSLAuthCertificate auth_certificate;
    SSLSNISocketConfig sni_config;
    SSLHelloRetryRequestCallback hello_retry;
    SSLGetClientAuthData client_auth_data;
    SSLResumptionTokenCallback resumption_token;
    SSLSecretCallback secret; /* NULL: none */
} tlsapi_nss_hooks;
PRInt32 tlsapi_nss_set_hooks(PRFileDesc *fd, const tlsapi_nss_hooks *hooks, void *arg,
                             PRBool server, const char *url, const char *peer_id);

#endif
