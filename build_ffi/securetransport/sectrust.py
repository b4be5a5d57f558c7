"""cdefs for <Security/SecTrust.h>: evaluating the peer's chain after Secure Transport breaks on auth.

SecTrustEvaluateWithError (macOS 10.14) is newer than Debian's
security-framework-sys 0.4.2; tests/test_securetransport_cdefs.py lists it.
SecTrustGetCertificateAtIndex is deprecated since macOS 12 but still present
(its replacement, SecTrustCopyCertificateChain, needs macOS 12).
"""

INCLUDES = """
#include <Security/SecTrust.h>
"""

TYPES = """
typedef ... *SecTrustRef;
typedef uint32_t SecTrustResultType;

#define kSecTrustResultInvalid 0
#define kSecTrustResultProceed 1
#define kSecTrustResultDeny 3
#define kSecTrustResultUnspecified 4
#define kSecTrustResultRecoverableTrustFailure 5
#define kSecTrustResultFatalTrustFailure 6
#define kSecTrustResultOtherError 7
"""

FUNCTIONS = """
OSStatus SecTrustSetPolicies(SecTrustRef trust, CFTypeRef policies);
OSStatus SecTrustSetAnchorCertificates(SecTrustRef trust, CFArrayRef anchorCertificates);
OSStatus SecTrustSetAnchorCertificatesOnly(SecTrustRef trust, Boolean anchorCertificatesOnly);
_Bool SecTrustEvaluateWithError(SecTrustRef trust, CFErrorRef *error);
CFIndex SecTrustGetCertificateCount(SecTrustRef trust);
SecCertificateRef SecTrustGetCertificateAtIndex(SecTrustRef trust, CFIndex ix);
"""
