"""cdefs for the base Windows types (windef.h/winnt.h) and the few kernel32/ntdll calls we use.

INCLUDES also sets the macros the SDK headers read, before any of them is
included: SECURITY_WIN32 (sspi.h's user-mode API), SCHANNEL_USE_BLACKLISTS
with <subauth.h> first (schannel.h declares SCH_CREDENTIALS only then).
"""

INCLUDES = """
#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS
#include <windows.h>
#include <subauth.h>
"""

TYPES = """
typedef unsigned long DWORD;
"""

FUNCTIONS = """
DWORD GetLastError(void);
"""
