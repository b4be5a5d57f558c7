/* tlsapi-nss: certificate path validation with this backend's fixed policy,
 * and the certificate checks NSS has no call for.  verify.c says what the
 * policy is.  build_ffi/nss/verify.py declares the same to cffi: keep the two
 * in step.
 */
#ifndef TLSAPI_NSS_VERIFY_H
#define TLSAPI_NSS_VERIFY_H

#include <cert.h>
#include <certt.h>
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
/* The IP address (4 or 16 bytes) is in the subjectAltName. */
PRBool tlsapi_nss_has_ip(CERTCertificate *cert, const unsigned char *address,
                         unsigned int length);

#endif
