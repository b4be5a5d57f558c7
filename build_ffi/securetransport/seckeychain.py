"""cdefs for <Security/SecKeychain.h>: the temporary keychain a context's identity lives in.

Each context that holds a private key creates its own keychain file in a
private temporary directory, with a random password, and deletes it when the
context goes; SecKeychainSetSettings keeps it from locking itself while the
context lives (a long-lived server signs with its key).  SecKeychainDelete is not in Debian's security-framework-sys
0.4.2 (tests/test_securetransport_cdefs.py lists it).
"""

INCLUDES = """
#include <Security/SecKeychain.h>
"""

TYPES = """
typedef struct {
    UInt32 version;
    Boolean lockOnSleep;
    Boolean useLockInterval;
    UInt32 lockInterval;
} SecKeychainSettings;

#define SEC_KEYCHAIN_SETTINGS_VERS1 1
"""

FUNCTIONS = """
OSStatus SecKeychainCreate(const char *pathName, UInt32 passwordLength, const void *password,
                           Boolean promptUser, SecAccessRef initialAccess,
                           SecKeychainRef *keychain);
OSStatus SecKeychainSetSettings(SecKeychainRef keychain, const SecKeychainSettings *newSettings);
OSStatus SecKeychainDelete(SecKeychainRef keychainOrArray);
"""
