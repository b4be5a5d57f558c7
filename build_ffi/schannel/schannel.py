"""cdefs for schannel.h (to be written)."""

INCLUDES = """
#include <schannel.h>
"""

TYPES = """
"""

FUNCTIONS = """
"""
