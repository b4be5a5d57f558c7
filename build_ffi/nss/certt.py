"""Certificate types (certt.h): certificates, lists and the PKIX validation parameters."""

INCLUDES = """
#include <certt.h>
"""

TYPES = """
typedef struct CERTCertDBHandleStr CERTCertDBHandle;
typedef struct CERTCertificateStr CERTCertificate;
struct CERTCertificateStr {
    SECItem derCert;
    PRBool isRoot;
    ...;
};
typedef struct CERTCertListNodeStr CERTCertListNode;
struct CERTCertListNodeStr {
    PRCList links;
    CERTCertificate *cert;
    void *appData;
};
typedef struct CERTCertListStr CERTCertList;
struct CERTCertListStr {
    PRCList list;
    PLArenaPool *arena;
};
typedef struct CERTCertificateListStr CERTCertificateList;
struct CERTCertificateListStr {
    SECItem *certs;
    int len;
    PLArenaPool *arena;
};
typedef struct CERTDistNamesStr CERTDistNames;
typedef PRInt64 SECCertificateUsage;
#define certificateUsageSSLClient ...
#define certificateUsageSSLServer ...

typedef enum SECCertTimeValidityEnum {
    secCertTimeValid = 0,
    secCertTimeExpired = 1,
    secCertTimeNotValidYet = 2,
    secCertTimeUndetermined = 3
} SECCertTimeValidity;
"""

FUNCTIONS = ""
