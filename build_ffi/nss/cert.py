"""Certificate functions (cert.h): temporary certificates, lists, names, validity.

Our own validation and certificate checks are in ``verify.c`` (cdefs: ``verify.py``).
"""

INCLUDES = """
#include <cert.h>
"""

TYPES = ""

FUNCTIONS = """
CERTCertDBHandle *CERT_GetDefaultCertDB(void);
CERTCertificate *CERT_NewTempCertificate(CERTCertDBHandle *handle, SECItem *derCert,
                                         char *nickname, PRBool isperm, PRBool copyDER);
CERTCertificate *CERT_DupCertificate(CERTCertificate *c);
void CERT_DestroyCertificate(CERTCertificate *cert);
CERTCertList *CERT_NewCertList(void);
SECStatus CERT_AddCertToListTail(CERTCertList *certs, CERTCertificate *cert);
void CERT_DestroyCertList(CERTCertList *certs);
void CERT_DestroyCertificateList(CERTCertificateList *list);
SECStatus CERT_VerifyCertName(const CERTCertificate *cert, const char *hostname);
SECCertTimeValidity CERT_CheckCertValidTimes(const CERTCertificate *cert, PRTime t,
                                             PRBool allowOverride);
PRBool CERT_CompareCerts(const CERTCertificate *c1, const CERTCertificate *c2);

"""
