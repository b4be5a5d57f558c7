"""cdefs for <Security/SecBase.h>: the Security framework's object types and status codes.

A status code with a value here is one Debian's security-framework-sys
declares too (tests/test_securetransport_cdefs.py compares them); those
written ``...`` take their value from the header at build time (listed in
that test as names the Debian sources lack).  cffi also checks every value
written here against the header when the module loads.
"""

INCLUDES = """
#include <Security/SecBase.h>
"""

TYPES = """
typedef ... *SecCertificateRef;
typedef ... *SecIdentityRef;
typedef ... *SecKeyRef;
typedef ... *SecPolicyRef;
typedef ... *SecKeychainRef;
typedef ... *SecAccessRef;

#define errSecSuccess 0
#define errSecUnimplemented -4
#define errSecIO -36
#define errSecParam -50
#define errSecBadReq -909
#define errSecAuthFailed -25293
#define errSecConversionError -67594
#define errSecTrustSettingDeny -67654
#define errSecNotTrusted -67843
#define errSecNoTrustSettings -25263

#define errSecDuplicateItem ...
#define errSecItemNotFound ...
#define errSecDecode ...
#define errSecPassphraseRequired ...
#define errSecPkcs12VerifyFailure ...
#define errSecUnknownFormat ...
#define errSecHostNameMismatch ...
#define errSecCertificateExpired ...
#define errSecCertificateNotValidYet ...
#define errSecCertificateRevoked ...
#define errSecCreateChainFailed ...
#define errSecInvalidExtendedKeyUsage ...
#define errSecInvalidKeyUsageForPolicy ...
"""

FUNCTIONS = """
CFStringRef SecCopyErrorMessageString(OSStatus status, void *reserved);
"""
