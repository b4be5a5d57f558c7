"""Experimental TLS functions (sslexp.h): reached through SSL_GetExperimentalAPI.

The header's macros look each function up by name at run time; our shims
(``shims.c``) give the ones we use a plain C signature.  Here: the types of
the callbacks those functions install (secrets, resumption tokens, the
server's ClientHello check).
"""

INCLUDES = """
#include <sslexp.h>
"""

TYPES = """
typedef void (*SSLSecretCallback)(PRFileDesc *fd, PRUint16 epoch, SSLSecretDirection dir,
                                  PK11SymKey *secret, void *arg);
typedef SECStatus (*SSLResumptionTokenCallback)(PRFileDesc *fd,
                                                const PRUint8 *resumptionToken,
                                                unsigned int len, void *ctx);
typedef enum {
    ssl_hello_retry_fail,
    ssl_hello_retry_accept,
    ssl_hello_retry_request,
    ssl_hello_retry_reject_0rtt
} SSLHelloRetryRequestAction;
typedef SSLHelloRetryRequestAction (*SSLHelloRetryRequestCallback)(
    PRBool firstHello, const PRUint8 *clientToken, unsigned int clientTokenLen,
    PRUint8 *retryToken, unsigned int *retryTokenLen, unsigned int retryTokMax, void *arg);
"""

FUNCTIONS = ""
