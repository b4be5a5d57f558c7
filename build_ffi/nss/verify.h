/* tlsapi-nss: certificate path validation with this backend's fixed policy,
 * and the certificate checks NSS has no call for.  verify.c says what the
 * policy is.  build_ffi/nss/verify.py declares the same to cffi: keep the two
 * in step.
 */
#ifndef TLSAPI_NSS_VERIFY_H
#define TLSAPI_NSS_VERIFY_H

#include <cert.h>
#include <certt.h>
#include <prio.h>
#include <prtypes.h>

/* CERT_PKIXVerifyCert under our policy: 0 or the NSS error code (also set). */
PRInt32 tlsapi_nss_verify_certificate(CERTCertificate *cert, SECCertificateUsage usage,
                                      CERTCertList *anchors, CERTCertList *presented,
                                      PRTime when, CERTCertList **verified);
/* The chain SSL_ConfigServerCert sends, exactly as given; NULL on failure. */
CERTCertificateList *tlsapi_nss_certificate_list(CERTCertificate **certs, int count);
/* Before its notBefore at `when` (0: now), with no clock-skew allowance. */
PRBool tlsapi_nss_not_yet_valid(const CERTCertificate *cert, PRTime when);
/* The DER of each certificate of `list`, in order: up to `room` pointers into the
 * certificates (valid while the list holds them) and their lengths.  Returns how
 * many certificates the list holds, which may be more than `room`. */
int tlsapi_nss_list_ders(CERTCertList *list, const char **ders, unsigned int *lengths, int room);
/* What tlsapi_nss_check_peer found: the peer's certificate and chain, held until
 * tlsapi_nss_peer_release, and the DER of each certificate of the chain and of the
 * verified path (pointers into those certificates) for Python to copy. */
#define TLSAPI_NSS_PEER_ROOM 8
typedef struct {
    CERTCertificate *cert;   /* the peer's certificate, NULL if it sent none */
    CERTCertList *presented; /* the chain it sent, leaf first */
    CERTCertList *path;      /* the path NSS verified, leaf to anchor; NULL if none */
    int presented_count;     /* certificates in each (the DER arrays hold the first ROOM) */
    int path_count;
    int path_presented;      /* how many certificates the path begins with are the chain's */
    int passed;              /* the chain and path are those `passed` holds (and all is well) */
    const char *presented_ders[TLSAPI_NSS_PEER_ROOM];
    unsigned int presented_lengths[TLSAPI_NSS_PEER_ROOM];
    const char *path_ders[TLSAPI_NSS_PEER_ROOM];
    unsigned int path_lengths[TLSAPI_NSS_PEER_ROOM];
} tlsapi_nss_peer;
/* A connection's certificate check, as its AuthCertificate hook makes it: the peer's
 * certificate verified under our policy (tlsapi_nss_verify_certificate, `presented`
 * being its chain), then, when `ip` (4 or 16 bytes) or else `host` is given, the name
 * (an IP subjectAltName entry, or CERT_VerifyCertName).  Returns 0 or the NSS error
 * code (SSL_ERROR_NO_CERTIFICATE, SSL_ERROR_BAD_CERT_DOMAIN, or the verifier's), which
 * is also set.  `passed` (may be NULL) is the DER of a chain, `passed_count`
 * certificates, then of its verified path, all concatenated: peer->passed says
 * whether this peer's chain and path are exactly those.  *peer is filled whatever
 * the outcome: release it. */
PRInt32 tlsapi_nss_check_peer(PRFileDesc *fd, SECCertificateUsage usage, CERTCertList *anchors,
                              const char *host, const unsigned char *ip, unsigned int ip_length,
                              const char *passed, size_t passed_length, int passed_count,
                              tlsapi_nss_peer *peer);
void tlsapi_nss_peer_release(tlsapi_nss_peer *peer);
/* The IP address (4 or 16 bytes) is in the subjectAltName. */
PRBool tlsapi_nss_has_ip(CERTCertificate *cert, const unsigned char *address,
                         unsigned int length);

#endif
