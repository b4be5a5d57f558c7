"""cdefs for our verify.h: path validation under this backend's policy, strict notBefore, IP SANs.

The C is in ``verify.c`` (its opening comment says what the policy is and why
it is C); the declarations must match ``verify.h``.
"""

INCLUDES = """
#include "verify.h"
"""

SOURCES = ("verify.c",)

TYPES = ""

FUNCTIONS = """
PRInt32 tlsapi_nss_verify_certificate(CERTCertificate *cert, SECCertificateUsage usage,
                                      CERTCertList *anchors, CERTCertList *presented,
                                      PRTime when, CERTCertList **verified);
CERTCertificateList *tlsapi_nss_certificate_list(CERTCertificate **certs, int count);
PRBool tlsapi_nss_not_yet_valid(const CERTCertificate *cert, PRTime when);
int tlsapi_nss_list_ders(CERTCertList *list, const char **ders, unsigned int *lengths, int room);
PRBool tlsapi_nss_has_ip(CERTCertificate *cert, const unsigned char *address,
                         unsigned int length);
"""
