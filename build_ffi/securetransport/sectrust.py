"""cdefs for <Security/SecTrust.h>: evaluating the peer's chain after Secure Transport breaks on auth.

SecTrustEvaluateWithError (macOS 10.14) is newer than Debian's
security-framework-sys 0.4.2, which also lacks SecTrustSetVerifyDate (macOS
10.3, used by the x509-limbo verifier in testing.py);
tests/test_securetransport_cdefs.py lists both.
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
OSStatus SecTrustCreateWithCertificates(CFTypeRef certificates, CFTypeRef policies,
                                        SecTrustRef *trust);
OSStatus SecTrustSetPolicies(SecTrustRef trust, CFTypeRef policies);
OSStatus SecTrustSetVerifyDate(SecTrustRef trust, CFDateRef verifyDate);
OSStatus SecTrustSetAnchorCertificates(SecTrustRef trust, CFArrayRef anchorCertificates);
OSStatus SecTrustSetAnchorCertificatesOnly(SecTrustRef trust, Boolean anchorCertificatesOnly);
_Bool SecTrustEvaluateWithError(SecTrustRef trust, CFErrorRef *error);
CFIndex SecTrustGetCertificateCount(SecTrustRef trust);
SecCertificateRef SecTrustGetCertificateAtIndex(SecTrustRef trust, CFIndex ix);
"""
