"""cdefs for our keys.h: encrypted PKCS#8 import, OpenSSL's PEM encryption, key-certificate match.

The C is in ``keys.c`` (its opening comment says how and why it is C); the
declarations must match ``keys.h``.
"""

INCLUDES = """
#include "keys.h"
"""

SOURCES = ("keys.c",)

TYPES = ""

FUNCTIONS = """
SECKEYPrivateKey *tlsapi_nss_import_encrypted_pkcs8(PK11SlotInfo *slot, const SECItem *der,
                                                    SECItem *password, CERTCertificate *cert);
PRBool tlsapi_nss_key_matches_cert(SECKEYPrivateKey *key, CERTCertificate *cert);
int tlsapi_nss_legacy_pem_decrypt(unsigned long mechanism, unsigned int key_length,
                                  const unsigned char *password, unsigned int password_length,
                                  const unsigned char *iv, unsigned int iv_length,
                                  const unsigned char *data, unsigned int data_length,
                                  unsigned char *out);
"""
