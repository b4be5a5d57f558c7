"""Key objects (keyhi.h, keythi.h)."""

INCLUDES = """
#include <keyhi.h>
"""

TYPES = """
typedef enum {
    nullKey = 0,
    rsaKey = 1,
    dsaKey = 2,
    dhKey = 4,
    ecKey = 6,
    rsaPssKey = 7,
    ...
} KeyType;
typedef struct SECKEYPublicKeyStr SECKEYPublicKey;
typedef struct SECKEYPrivateKeyStr SECKEYPrivateKey;
"""

FUNCTIONS = """
SECKEYPrivateKey *SECKEY_CopyPrivateKey(const SECKEYPrivateKey *privKey);
void SECKEY_DestroyPrivateKey(SECKEYPrivateKey *key);
void SECKEY_DestroyPublicKey(SECKEYPublicKey *key);
KeyType SECKEY_GetPrivateKeyType(const SECKEYPrivateKey *privKey);
KeyType SECKEY_GetPublicKeyType(const SECKEYPublicKey *pubKey);
SECKEYPublicKey *CERT_ExtractPublicKey(CERTCertificate *cert);
"""
