"""cdefs for sspi.h (to be written)."""

INCLUDES = """
#include <sspi.h>
"""

TYPES = """
"""

FUNCTIONS = """
"""
