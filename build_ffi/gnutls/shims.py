"""cdefs for our shims.h: macros, function pointers behind macros and dladdr made callable.

The C is in ``shims.c``; the declarations must match ``shims.h``.
"""

INCLUDES = """
#include "shims.h"
"""

SOURCES = ("shims.c",)

TYPES = ""

FUNCTIONS = """
void tlsapi_gnutls_free(void *ptr);
const char *tlsapi_gnutls_library_path(void);
unsigned int tlsapi_gnutls_profile_vflags(unsigned int profile);
unsigned int tlsapi_gnutls_no_auto_send_ticket(void);
void *tlsapi_gnutls_malloc(size_t size);
void tlsapi_gnutls_free_secret(gnutls_datum_t *secret);
"""
