"""Experimental TLS functions (sslexp.h): reached through SSL_GetExperimentalAPI.

The header's macros look each function up by name at run time; these shims
give them a plain C signature.  A library that lacks one answers SECFailure
with SSL_ERROR_UNSUPPORTED_EXPERIMENTAL_API.
"""

INCLUDES = """
#include <sslexp.h>
"""

TYPES = ""

FUNCTIONS = """
SECStatus tlsapi_cipher_suite_order_set(PRFileDesc *fd, const PRUint16 *order, PRUint16 count);
SECStatus tlsapi_key_update(PRFileDesc *fd, PRBool request_update);
"""

CUSTOMIZATIONS = r"""
static SECStatus tlsapi_cipher_suite_order_set(PRFileDesc *fd, const PRUint16 *order,
                                               PRUint16 count)
{
    return SSL_CipherSuiteOrderSet(fd, order, count);
}

static SECStatus tlsapi_key_update(PRFileDesc *fd, PRBool request_update)
{
    return SSL_KeyUpdate(fd, request_update);
}
"""
