"""cdefs for wincrypt.h (to be written)."""

INCLUDES = """
#include <wincrypt.h>
"""

TYPES = """
"""

FUNCTIONS = """
"""
