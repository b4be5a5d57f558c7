"""cdefs for <Security/SecPolicy.h>: the SSL policy a peer's chain is evaluated against."""

INCLUDES = """
#include <Security/SecPolicy.h>
"""

TYPES = ""

FUNCTIONS = """
SecPolicyRef SecPolicyCreateSSL(Boolean server, CFStringRef hostname);
"""
