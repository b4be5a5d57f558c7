/* tlsapi-nss: private keys NSS has no single call for.
 *
 * tlsapi_nss_import_encrypted_pkcs8 decodes an EncryptedPrivateKeyInfo and
 * unwraps it with the password into the internal slot; NSS needs the key type
 * and public value for that, which come from the certificate the key belongs
 * to (as a key without its certificate is of no use to TLS anyway).
 *
 * tlsapi_nss_legacy_pem_decrypt undoes OpenSSL's traditional PEM encryption
 * ("Proc-Type: 4,ENCRYPTED", DEK-Info AES-*-CBC or DES-EDE3-CBC), which NSS
 * has no importer for: the key is OpenSSL's EVP_BytesToKey (MD5, the IV's
 * first eight bytes as salt, one iteration), the cipher runs in NSS's
 * softoken.
 *
 * tlsapi_nss_key_matches_cert signs a fixed digest with the private key and
 * verifies it with the certificate's public key: the one test that works for
 * every key type NSS can use, so that a key that does not belong to its
 * certificate is a configuration error rather than a failed handshake.
 *
 * Why C: each is a sequence of NSS calls over NSS's structures (an ASN.1
 * template, key unions, PKCS#11 contexts) that must be released on every
 * path; one cffi call each.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "keys.h"

#include <string.h>

#include <secasn1.h>
#include <secerr.h>
#include <secitem.h>
#include <secoid.h>
#include <secport.h>

SECKEYPrivateKey *tlsapi_nss_import_encrypted_pkcs8(PK11SlotInfo *slot, const SECItem *der,
                                                    SECItem *password, CERTCertificate *cert)
{
    SECKEYEncryptedPrivateKeyInfo epki;
    SECKEYPrivateKey *key = NULL;
    SECKEYPublicKey *pub = NULL;
    SECItem *public_value = NULL;
    PLArenaPool *arena = PORT_NewArena(2048);
    if (arena == NULL) {
        return NULL;
    }
    memset(&epki, 0, sizeof(epki));
    if (SEC_QuickDERDecodeItem(arena, &epki, SEC_ASN1_GET(SECKEY_EncryptedPrivateKeyInfoTemplate),
                               der) != SECSuccess) {
        goto done;
    }
    pub = CERT_ExtractPublicKey(cert);
    if (pub == NULL) {
        goto done;
    }
    switch (pub->keyType) {
    case rsaKey:
    case rsaPssKey:
        public_value = &pub->u.rsa.modulus;
        break;
    case ecKey:
        public_value = &pub->u.ec.publicValue;
        break;
    case dsaKey:
        public_value = &pub->u.dsa.publicValue;
        break;
    default:
        PORT_SetError(SEC_ERROR_UNSUPPORTED_KEYALG);
        goto done;
    }
    if (PK11_ImportEncryptedPrivateKeyInfoAndReturnKey(
            slot, &epki, password, NULL, public_value, PR_FALSE, PR_TRUE, pub->keyType, KU_ALL,
            &key, NULL) != SECSuccess) {
        key = NULL;
    }
done:
    if (pub != NULL) {
        SECKEY_DestroyPublicKey(pub);
    }
    PORT_FreeArena(arena, PR_TRUE);
    return key;
}

PRBool tlsapi_nss_key_matches_cert(SECKEYPrivateKey *key, CERTCertificate *cert)
{
    static unsigned char digest_bytes[32] = {
        /* "tlsapi key check", twice */
        0x74, 0x6c, 0x73, 0x61, 0x70, 0x69, 0x20, 0x6b,
        0x65, 0x79, 0x20, 0x63, 0x68, 0x65, 0x63, 0x6b,
        0x74, 0x6c, 0x73, 0x61, 0x70, 0x69, 0x20, 0x6b,
        0x65, 0x79, 0x20, 0x63, 0x68, 0x65, 0x63, 0x6b,
    };
    SECItem digest = { siBuffer, digest_bytes, sizeof(digest_bytes) };
    SECItem signature = { siBuffer, NULL, 0 };
    SECKEYPublicKey *pub = NULL;
    PRBool matches = PR_FALSE;
    int length = PK11_SignatureLen(key);
    if (length <= 0 || SECITEM_AllocItem(NULL, &signature, (unsigned int)length) == NULL) {
        return PR_FALSE;
    }
    if (PK11_Sign(key, &signature, &digest) == SECSuccess) {
        pub = CERT_ExtractPublicKey(cert);
        if (pub != NULL) {
            matches = PK11_Verify(pub, &signature, &digest, NULL) == SECSuccess;
            SECKEY_DestroyPublicKey(pub);
        }
    }
    SECITEM_FreeItem(&signature, PR_FALSE);
    return matches;
}

int tlsapi_nss_legacy_pem_decrypt(unsigned long mechanism, unsigned int key_length,
                                  const unsigned char *password, unsigned int password_length,
                                  const unsigned char *iv, unsigned int iv_length,
                                  const unsigned char *data, unsigned int data_length,
                                  unsigned char *out)
{
    unsigned char key_bytes[64], block[16 + 1024 + 8];
    unsigned int have = 0, previous = 0, n;
    int length = -1, part = 0;
    unsigned int final_part = 0;
    PK11SlotInfo *slot = NULL;
    PK11SymKey *key = NULL;
    PK11Context *context = NULL;
    SECItem *parameter = NULL;
    SECItem key_item, iv_item;

    if (key_length > sizeof(key_bytes) || iv_length < 8 || password_length > 1024) {
        PORT_SetError(SEC_ERROR_INVALID_ARGS);
        return -1;
    }
    /* EVP_BytesToKey(MD5, salt = iv[0..8], count 1): D_i = MD5(D_{i-1} || password || salt). */
    while (have < key_length) {
        unsigned char digest[16];
        n = 0;
        memcpy(block, key_bytes + have - previous, previous);
        n += previous;
        memcpy(block + n, password, password_length);
        n += password_length;
        memcpy(block + n, iv, 8);
        n += 8;
        if (PK11_HashBuf(SEC_OID_MD5, digest, block, (PRInt32)n) != SECSuccess) {
            return -1;
        }
        memcpy(key_bytes + have, digest, 16);
        have += 16;
        previous = 16;
    }
    key_item.type = siBuffer;
    key_item.data = key_bytes;
    key_item.len = key_length;
    iv_item.type = siBuffer;
    iv_item.data = (unsigned char *)iv;
    iv_item.len = iv_length;
    slot = PK11_GetInternalSlot();
    if (slot == NULL) {
        goto done;
    }
    key = PK11_ImportSymKey(slot, mechanism, PK11_OriginUnwrap, CKA_DECRYPT, &key_item, NULL);
    if (key == NULL || (parameter = PK11_ParamFromIV(mechanism, &iv_item)) == NULL) {
        goto done;
    }
    context = PK11_CreateContextBySymKey(mechanism, CKA_DECRYPT, key, parameter);
    if (context == NULL) {
        goto done;
    }
    if (PK11_CipherOp(context, out, &part, (int)data_length, data, (int)data_length) !=
        SECSuccess) {
        goto done;
    }
    if (PK11_DigestFinal(context, out + part, &final_part, data_length - (unsigned int)part) !=
        SECSuccess) {
        goto done;
    }
    length = part + (int)final_part;
done:
    memset(key_bytes, 0, sizeof(key_bytes));
    memset(block, 0, sizeof(block));
    if (context != NULL) {
        PK11_DestroyContext(context, PR_TRUE);
    }
    if (parameter != NULL) {
        SECITEM_FreeItem(parameter, PR_TRUE);
    }
    if (key != NULL) {
        PK11_FreeSymKey(key);
    }
    if (slot != NULL) {
        PK11_FreeSlot(slot);
    }
    return length;
}
