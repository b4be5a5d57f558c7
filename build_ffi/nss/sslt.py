"""TLS types (sslt.h): version ranges, channel information, server certificate data,
the direction of a secret (SSL_SecretCallback)."""

INCLUDES = """
#include <sslt.h>
"""

TYPES = """
typedef enum {
    ssl_variant_stream = 0,
    ssl_variant_datagram = 1
} SSLProtocolVariant;
typedef enum {
    ssl_secret_read = 1,
    ssl_secret_write = 2
} SSLSecretDirection;
typedef struct SSLVersionRangeStr {
    PRUint16 min;
    PRUint16 max;
} SSLVersionRange;
typedef enum {
    ssl_auth_null = 0,
    ...
} SSLAuthType;
typedef enum {
    ssl_kea_null = 0,
    ssl_kea_rsa = 1,
    ssl_kea_dh = 2,
    ssl_kea_ecdh = 4,
    ...
} SSLKEAType;
typedef enum {
    ssl_grp_ec_secp256r1 = 23,
    ssl_grp_ec_secp384r1 = 24,
    ssl_grp_ec_secp521r1 = 25,
    ssl_grp_ec_curve25519 = 29,
    ssl_grp_ffdhe_2048 = 256,
    ssl_grp_ffdhe_3072 = 257,
    ssl_grp_ffdhe_4096 = 258,
    ssl_grp_ffdhe_6144 = 259,
    ssl_grp_ffdhe_8192 = 260,
    ssl_grp_none = 65537,
    ...
} SSLNamedGroup;
typedef enum {
    ssl_sig_none = 0,
    ssl_sig_rsa_pss_pss_sha256 = 0x0809,
    ssl_sig_rsa_pss_pss_sha384 = 0x080a,
    ssl_sig_rsa_pss_pss_sha512 = 0x080b,
    ...
} SSLSignatureScheme;
typedef struct SSLChannelInfoStr {
    PRUint32 length;
    PRUint16 protocolVersion;
    PRUint16 cipherSuite;
    PRUint32 authKeyBits;
    PRUint32 keaKeyBits;
    SSLKEAType keaType;
    SSLNamedGroup keaGroup;
    SSLNamedGroup originalKeaGroup;
    PRBool resumed;
    SSLAuthType authType;
    SSLSignatureScheme signatureScheme;
    ...;
} SSLChannelInfo;
typedef struct SECItemArrayStr SECItemArray;
typedef struct SSLExtraServerCertDataStr {
    SSLAuthType authType;
    const CERTCertificateList *certChain;
    const SECItemArray *stapledOCSPResponses;
    const SECItem *signedCertTimestamps;
    ...;
} SSLExtraServerCertData;
"""

FUNCTIONS = ""
