"""cdefs for <Security/SecCertificate.h>: certificates from and to DER."""

INCLUDES = """
#include <Security/SecCertificate.h>
"""

TYPES = ""

FUNCTIONS = """
SecCertificateRef SecCertificateCreateWithData(CFAllocatorRef allocator, CFDataRef data);
CFDataRef SecCertificateCopyData(SecCertificateRef certificate);
CFTypeID SecCertificateGetTypeID(void);
"""
