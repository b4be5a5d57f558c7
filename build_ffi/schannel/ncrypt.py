"""cdefs for ncrypt.h (to be written)."""

INCLUDES = """
#include <ncrypt.h>
"""

TYPES = """
"""

FUNCTIONS = """
"""
