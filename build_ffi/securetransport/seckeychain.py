"""cdefs for <Security/SecKeychain.h>: the temporary keychain a context's identity lives in.

Each context that holds a private key creates its own keychain file in a
private temporary directory, with a random password, and deletes it when the
context goes.  SecKeychainDelete is not in Debian's security-framework-sys
0.4.2 (tests/test_securetransport_cdefs.py lists it).
"""

INCLUDES = """
#include <Security/SecKeychain.h>
"""

TYPES = ""

FUNCTIONS = """
OSStatus SecKeychainCreate(const char *pathName, UInt32 passwordLength, const void *password,
                           Boolean promptUser, SecAccessRef initialAccess,
                           SecKeychainRef *keychain);
OSStatus SecKeychainDelete(SecKeychainRef keychainOrArray);
"""
