/* tlsapi-nss: small shims (see shims.h).  C so that a call and its error code
 * are one crossing of the cffi boundary, and so that sslexp.h's macros (which
 * look the function up at run time) become functions cffi can call.
 * tlsapi_nss_set_hooks installs a connection's hooks in one call: it runs
 * for every connection, where a cffi call per hook was most of the Python
 * work of opening one.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "shims.h"

#include <prerror.h>
#include <ssl.h>
#include <sslexp.h>

const char *const tlsapi_nss_compiled_version = NSS_VERSION;

PRInt32 tlsapi_nss_error_code(void)
{
    PRErrorCode code = PR_GetError();
    return code < 0 ? code : PR_UNKNOWN_ERROR;
}

PRInt32 tlsapi_nss_handshake(PRFileDesc *fd)
{
    return SSL_ForceHandshake(fd) == SECSuccess ? 0 : tlsapi_nss_error_code();
}

PRInt32 tlsapi_nss_shutdown(PRFileDesc *fd)
{
    return PR_Shutdown(fd, PR_SHUTDOWN_SEND) == PR_SUCCESS ? 0 : tlsapi_nss_error_code();
}

SECStatus tlsapi_nss_cipher_suite_order_set(PRFileDesc *fd, const PRUint16 *order,
                                            PRUint16 count)
{
    return SSL_CipherSuiteOrderSet(fd, order, count);
}

SECStatus tlsapi_nss_key_update(PRFileDesc *fd, PRBool request_update)
{
    return SSL_KeyUpdate(fd, request_update);
}

SECStatus tlsapi_nss_secret_callback(PRFileDesc *fd, SSLSecretCallback cb, void *arg)
{
    return SSL_SecretCallback(fd, cb, arg);
}

SECStatus tlsapi_nss_resumption_token_callback(PRFileDesc *fd, SSLResumptionTokenCallback cb,
                                               void *arg)
{
    return SSL_SetResumptionTokenCallback(fd, cb, arg);
}

SECStatus tlsapi_nss_set_resumption_token(PRFileDesc *fd, const PRUint8 *token,
                                          unsigned int len)
{
    return SSL_SetResumptionToken(fd, token, len);
}

SECStatus tlsapi_nss_send_session_ticket(PRFileDesc *fd, const PRUint8 *token,
                                         unsigned int len)
{
    return SSL_SendSessionTicket(fd, token, len);
}

SECStatus tlsapi_nss_hello_retry_callback(PRFileDesc *fd, SSLHelloRetryRequestCallback cb,
                                          void *arg)
{
    return SSL_HelloRetryRequestCallback(fd, cb, arg);
}

PRInt32 tlsapi_nss_set_hooks(PRFileDesc *fd, const tlsapi_nss_hooks *hooks, void *arg,
                             PRBool server, const char *url, const char *peer_id)
{
    if (SSL_AuthCertificateHook(fd, hooks->auth_certificate, arg) != SECSuccess)
        return tlsapi_nss_error_code();
    if (server) {
        if (SSL_SNISocketConfigHook(fd, hooks->sni_config, arg) != SECSuccess ||
            SSL_HelloRetryRequestCallback(fd, hooks->hello_retry, arg) != SECSuccess)
            return tlsapi_nss_error_code();
    } else {
        if ((url != NULL && SSL_SetURL(fd, url) != SECSuccess) ||
            SSL_SetSockPeerID(fd, peer_id) != SECSuccess ||
            SSL_GetClientAuthDataHook(fd, hooks->client_auth_data, arg) != SECSuccess ||
            SSL_SetResumptionTokenCallback(fd, hooks->resumption_token, arg) != SECSuccess)
            return tlsapi_nss_error_code();
    }
    if (hooks->secret != NULL && SSL_SecretCallback(fd, hooks->secret, arg) != SECSuccess)
        return tlsapi_nss_error_code();
    return SSL_ResetHandshake(fd, server) == SECSuccess ? 0 : tlsapi_nss_error_code();
}
