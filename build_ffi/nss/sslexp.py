"""Experimental TLS functions (sslexp.h): reached through SSL_GetExperimentalAPI.

The header's macros look each function up by name at run time; our shims
(``shims.c``) give the ones we use a plain C signature.
"""

INCLUDES = """
#include <sslexp.h>
"""

TYPES = ""

FUNCTIONS = ""
