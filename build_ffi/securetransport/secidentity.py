"""cdefs for <Security/SecIdentity.h>: a certificate paired with its private key in a keychain."""

INCLUDES = """
#include <Security/SecIdentity.h>
"""

TYPES = ""

FUNCTIONS = """
OSStatus SecIdentityCreateWithCertificate(CFTypeRef keychainOrArray,
                                          SecCertificateRef certificateRef,
                                          SecIdentityRef *identityRef);
CFTypeID SecIdentityGetTypeID(void);
"""
