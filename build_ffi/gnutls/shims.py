"""cdefs for our shims.h: a macro, a function pointer behind a macro and dladdr made callable.

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
"""
