/* tlsapi-nss: private keys NSS has no single call for: encrypted PKCS#8
 * import, OpenSSL's traditional PEM encryption, and the key-certificate
 * match.  keys.c says how.  build_ffi/nss/keys.py declares the same to cffi:
 * keep the two in step.
 */
#ifndef TLSAPI_NSS_KEYS_H
#define TLSAPI_NSS_KEYS_H

#include <cert.h>
#include <keyhi.h>
#include <pk11pub.h>
#include <prtypes.h>

/* An EncryptedPrivateKeyInfo unwrapped with `password` into `slot`; NULL on failure. */
SECKEYPrivateKey *tlsapi_nss_import_encrypted_pkcs8(PK11SlotInfo *slot, const SECItem *der,
                                                    SECItem *password, CERTCertificate *cert);
/* The key signs what the certificate's public key verifies. */
PRBool tlsapi_nss_key_matches_cert(SECKEYPrivateKey *key, CERTCertificate *cert);
/* OpenSSL's "Proc-Type: 4,ENCRYPTED" body decrypted into `out` (at least
   data_length bytes): its length, or -1. */
int tlsapi_nss_legacy_pem_decrypt(unsigned long mechanism, unsigned int key_length,
                                  const unsigned char *password, unsigned int password_length,
                                  const unsigned char *iv, unsigned int iv_length,
                                  const unsigned char *data, unsigned int data_length,
                                  unsigned char *out);

#endif
