"""Protocol version numbers (sslproto.h)."""

INCLUDES = """
#include <sslproto.h>
"""

TYPES = """
#define SSL_LIBRARY_VERSION_3_0 ...
#define SSL_LIBRARY_VERSION_TLS_1_0 ...
#define SSL_LIBRARY_VERSION_TLS_1_1 ...
#define SSL_LIBRARY_VERSION_TLS_1_2 ...
#define SSL_LIBRARY_VERSION_TLS_1_3 ...
"""

FUNCTIONS = ""

CUSTOMIZATIONS = ""
