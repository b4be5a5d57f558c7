"""cdefs for our verify.h: path validation under this backend's policy, strict notBefore, IP SANs.

The C is in ``verify.c`` (its opening comment says what the policy is and why
it is C); the declarations must match ``verify.h``.
"""

INCLUDES = """
#include "verify.h"
"""

SOURCES = ("verify.c",)

TYPES = """
#define TLSAPI_NSS_PEER_ROOM ...

typedef struct {
    CERTCertificate *cert;
    CERTCertList *presented;
    CERTCertList *path;
    int presented_count;
    int path_count;
    int path_presented;
    int passed;
    const char *presented_ders[...];
    unsigned int presented_lengths[...];
    const char *path_ders[...];
    unsigned int path_lengths[...];
    ...;
} tlsapi_nss_peer;
"""

FUNCTIONS = """
PRInt32 tlsapi_nss_verify_certificate(CERTCertificate *cert, SECCertificateUsage usage,
                                      CERTCertList *anchors, CERTCertList *presented,
                                      PRTime when, CERTCertList **verified);
CERTCertificateList *tlsapi_nss_certificate_list(CERTCertificate **certs, int count);
PRBool tlsapi_nss_not_yet_valid(const CERTCertificate *cert, PRTime when);
int tlsapi_nss_list_ders(CERTCertList *list, const char **ders, unsigned int *lengths, int room);
PRInt32 tlsapi_nss_check_peer(PRFileDesc *fd, SECCertificateUsage usage, CERTCertList *anchors,
                              const char *host, const unsigned char *ip, unsigned int ip_length,
                              const char *passed, size_t passed_length, int passed_count,
                              tlsapi_nss_peer *peer);
void tlsapi_nss_peer_release(tlsapi_nss_peer *peer);
PRBool tlsapi_nss_has_ip(CERTCertificate *cert, const unsigned char *address,
                         unsigned int length);
"""
