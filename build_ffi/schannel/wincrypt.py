"""cdefs for wincrypt.h: certificate contexts and stores, chain building and policy, CAPI keys.

What the SChannel backend does with them: the server's (or client's)
certificate chain goes into an in-memory store (``CERT_STORE_PROV_MEMORY``)
with its private key attached as a property; a peer's chain is built and
judged with ``CertGetCertificateChain`` (the default engine, or an engine
whose ``hExclusiveRoot`` holds only the configured roots) and
``CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL)``.  The legacy CAPI
calls (``CryptAcquireContextW``/``CryptImportKey``) exist for Wine, whose
schannel reads private keys only from the rsaenh provider's containers.

The provider and policy identifiers that wincrypt.h defines as small
integers cast to ``LPCSTR`` (``CERT_STORE_PROV_MEMORY``,
``CERT_CHAIN_POLICY_SSL``, ``PKCS_RSA_PRIVATE_KEY``) cannot be cffi integer
constants; the Python side casts their documented values.

FILETIME is declared here (minwinbase.h): only certificate code uses it.
"""

INCLUDES = """
#include <wincrypt.h>
"""

TYPES = """
typedef struct _FILETIME {
    DWORD dwLowDateTime;
    DWORD dwHighDateTime;
} FILETIME, *LPFILETIME;

typedef unsigned int ALG_ID;
typedef ULONG_PTR HCRYPTPROV;
typedef ULONG_PTR HCRYPTKEY;
typedef ULONG_PTR HCRYPTPROV_LEGACY;
typedef void *HCERTSTORE;
typedef HANDLE HCERTCHAINENGINE;

typedef struct _CRYPTOAPI_BLOB {
    DWORD cbData;
    BYTE *pbData;
} CRYPT_INTEGER_BLOB, CRYPT_DATA_BLOB, CERT_NAME_BLOB, CRYPT_OBJID_BLOB, CRYPT_DER_BLOB;

typedef struct _CRYPT_ALGORITHM_IDENTIFIER {
    char *pszObjId;
    CRYPT_OBJID_BLOB Parameters;
} CRYPT_ALGORITHM_IDENTIFIER;

typedef struct _CRYPT_BIT_BLOB {
    DWORD cbData;
    BYTE *pbData;
    DWORD cUnusedBits;
} CRYPT_BIT_BLOB;

typedef struct _CERT_PUBLIC_KEY_INFO {
    CRYPT_ALGORITHM_IDENTIFIER Algorithm;
    CRYPT_BIT_BLOB PublicKey;
} CERT_PUBLIC_KEY_INFO;

typedef struct _CERT_INFO {
    DWORD dwVersion;
    CRYPT_INTEGER_BLOB SerialNumber;
    CERT_NAME_BLOB Issuer;
    FILETIME NotBefore;
    FILETIME NotAfter;
    CERT_NAME_BLOB Subject;
    CERT_PUBLIC_KEY_INFO SubjectPublicKeyInfo;
    ...;
} CERT_INFO, *PCERT_INFO;

typedef struct _CERT_CONTEXT {
    DWORD dwCertEncodingType;
    BYTE *pbCertEncoded;
    DWORD cbCertEncoded;
    PCERT_INFO pCertInfo;
    HCERTSTORE hCertStore;
} CERT_CONTEXT, *PCERT_CONTEXT;
typedef const CERT_CONTEXT *PCCERT_CONTEXT;

typedef struct _CRYPT_KEY_PROV_PARAM CRYPT_KEY_PROV_PARAM;

typedef struct _CRYPT_KEY_PROV_INFO {
    LPWSTR pwszContainerName;
    LPWSTR pwszProvName;
    DWORD dwProvType;
    DWORD dwFlags;
    DWORD cProvParam;
    CRYPT_KEY_PROV_PARAM *rgProvParam;
    DWORD dwKeySpec;
} CRYPT_KEY_PROV_INFO;

/* Chains. */
typedef struct _CTL_USAGE {
    DWORD cUsageIdentifier;
    char **rgpszUsageIdentifier;
} CERT_ENHKEY_USAGE;

typedef struct _CERT_USAGE_MATCH {
    DWORD dwType;
    CERT_ENHKEY_USAGE Usage;
} CERT_USAGE_MATCH;

typedef struct _CERT_CHAIN_PARA {
    DWORD cbSize;
    CERT_USAGE_MATCH RequestedUsage;
    ...;
} CERT_CHAIN_PARA, *PCERT_CHAIN_PARA;

typedef struct _CERT_TRUST_STATUS {
    DWORD dwErrorStatus;
    DWORD dwInfoStatus;
} CERT_TRUST_STATUS;

typedef struct _CERT_CHAIN_ELEMENT {
    DWORD cbSize;
    PCCERT_CONTEXT pCertContext;
    CERT_TRUST_STATUS TrustStatus;
    ...;
} CERT_CHAIN_ELEMENT, *PCERT_CHAIN_ELEMENT;

typedef struct _CERT_SIMPLE_CHAIN {
    DWORD cbSize;
    CERT_TRUST_STATUS TrustStatus;
    DWORD cElement;
    PCERT_CHAIN_ELEMENT *rgpElement;
    ...;
} CERT_SIMPLE_CHAIN, *PCERT_SIMPLE_CHAIN;

typedef struct _CERT_CHAIN_CONTEXT {
    DWORD cbSize;
    CERT_TRUST_STATUS TrustStatus;
    DWORD cChain;
    PCERT_SIMPLE_CHAIN *rgpChain;
    ...;
} CERT_CHAIN_CONTEXT;
typedef const CERT_CHAIN_CONTEXT *PCCERT_CHAIN_CONTEXT;

typedef struct _CERT_CHAIN_ENGINE_CONFIG {
    DWORD cbSize;
    HCERTSTORE hRestrictedRoot;
    HCERTSTORE hRestrictedTrust;
    HCERTSTORE hRestrictedOther;
    DWORD cAdditionalStore;
    HCERTSTORE *rghAdditionalStore;
    DWORD dwFlags;
    DWORD dwUrlRetrievalTimeout;
    DWORD MaximumCachedCertificates;
    DWORD CycleDetectionModulus;
    HCERTSTORE hExclusiveRoot;
    HCERTSTORE hExclusiveTrustedPeople;
    DWORD dwExclusiveFlags;
} CERT_CHAIN_ENGINE_CONFIG;

typedef struct _CERT_CHAIN_POLICY_PARA {
    DWORD cbSize;
    DWORD dwFlags;
    void *pvExtraPolicyPara;
} CERT_CHAIN_POLICY_PARA;

typedef struct _CERT_CHAIN_POLICY_STATUS {
    DWORD cbSize;
    DWORD dwError;
    LONG lChainIndex;
    LONG lElementIndex;
    void *pvExtraPolicyStatus;
} CERT_CHAIN_POLICY_STATUS;

/* cbSize shares a nameless union with cbStruct in the header. */
typedef struct _HTTPSPolicyCallbackData {
    DWORD cbSize;
    DWORD dwAuthType;
    DWORD fdwChecks;
    WCHAR *pwszServerName;
} SSL_EXTRA_CERT_CHAIN_POLICY_PARA;

#define X509_ASN_ENCODING ...
#define PKCS_7_ASN_ENCODING ...
#define CERT_STORE_ADD_ALWAYS ...
#define CERT_STORE_ADD_USE_EXISTING ...
#define CERT_STORE_CREATE_NEW_FLAG ...
#define CERT_KEY_PROV_INFO_PROP_ID ...
#define CERT_NCRYPT_KEY_SPEC ...
#define AT_KEYEXCHANGE ...
#define AT_SIGNATURE ...

#define PROV_RSA_AES ...
#define CRYPT_NEWKEYSET ...
#define CRYPT_DELETEKEYSET ...
#define CRYPT_SILENT ...
#define CRYPT_VERIFYCONTEXT ...

#define USAGE_MATCH_TYPE_AND ...
#define CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT ...
#define CERT_CHAIN_CACHE_END_CERT ...
#define CERT_CHAIN_REVOCATION_ACCUMULATIVE_TIMEOUT ...
#define CERT_CHAIN_DISABLE_AUTH_ROOT_AUTO_UPDATE ...
#define CERT_CHAIN_CACHE_ONLY_URL_RETRIEVAL ...
#define CERT_CHAIN_EXCLUSIVE_ENABLE_CA_FLAG ...

#define CERT_TRUST_NO_ERROR ...
#define CERT_TRUST_IS_NOT_TIME_VALID ...
#define CERT_TRUST_IS_REVOKED ...
#define CERT_TRUST_IS_NOT_SIGNATURE_VALID ...
#define CERT_TRUST_IS_NOT_VALID_FOR_USAGE ...
#define CERT_TRUST_IS_UNTRUSTED_ROOT ...
#define CERT_TRUST_REVOCATION_STATUS_UNKNOWN ...
#define CERT_TRUST_IS_CYCLIC ...
#define CERT_TRUST_INVALID_EXTENSION ...
#define CERT_TRUST_INVALID_POLICY_CONSTRAINTS ...
#define CERT_TRUST_INVALID_BASIC_CONSTRAINTS ...
#define CERT_TRUST_INVALID_NAME_CONSTRAINTS ...
#define CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT ...
#define CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT ...
#define CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT ...
#define CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT ...
#define CERT_TRUST_IS_OFFLINE_REVOCATION ...
#define CERT_TRUST_NO_ISSUANCE_CHAIN_POLICY ...
#define CERT_TRUST_IS_EXPLICIT_DISTRUST ...
#define CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT ...
#define CERT_TRUST_HAS_WEAK_SIGNATURE ...
#define CERT_TRUST_IS_PARTIAL_CHAIN ...
#define CERT_TRUST_CTL_IS_NOT_TIME_VALID ...
#define CERT_TRUST_CTL_IS_NOT_SIGNATURE_VALID ...
#define CERT_TRUST_CTL_IS_NOT_VALID_FOR_USAGE ...
#define CERT_TRUST_IS_SELF_SIGNED ...

#define AUTHTYPE_CLIENT ...
#define AUTHTYPE_SERVER ...
#define CERT_CHAIN_POLICY_IGNORE_ALL_NOT_TIME_VALID_FLAGS ...
#define CERT_CHAIN_POLICY_IGNORE_INVALID_BASIC_CONSTRAINTS_FLAG ...
#define CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG ...
#define CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG ...
#define CERT_CHAIN_POLICY_IGNORE_INVALID_NAME_FLAG ...
#define CERT_CHAIN_POLICY_IGNORE_INVALID_POLICY_FLAG ...
#define CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS ...
#define CERT_CHAIN_POLICY_ALLOW_TESTROOT_FLAG ...
#define CERT_CHAIN_POLICY_TRUST_TESTROOT_FLAG ...
#define CERT_CHAIN_POLICY_IGNORE_NOT_SUPPORTED_CRITICAL_EXT_FLAG ...
#define CERT_CHAIN_POLICY_IGNORE_PEER_TRUST_FLAG ...

/* winerror.h: what CertVerifyCertificateChainPolicy reports (HRESULTs: negative LONGs). */
#define CERT_E_EXPIRED ...
#define CERT_E_ROLE ...
#define CERT_E_PATHLENCONST ...
#define CERT_E_CRITICAL ...
#define CERT_E_PURPOSE ...
#define CERT_E_UNTRUSTEDROOT ...
#define CERT_E_CHAINING ...
#define CERT_E_REVOKED ...
#define CERT_E_UNTRUSTEDTESTROOT ...
#define CERT_E_CN_NO_MATCH ...
#define CERT_E_WRONG_USAGE ...
#define TRUST_E_EXPLICIT_DISTRUST ...
#define CERT_E_UNTRUSTEDCA ...
#define CERT_E_INVALID_NAME ...
#define CRYPT_E_REVOKED ...
#define TRUST_E_CERT_SIGNATURE ...
#define TRUST_E_BASIC_CONSTRAINTS ...
#define TRUST_E_FAIL ...
#define CRYPT_E_NO_REVOCATION_CHECK ...
#define CRYPT_E_REVOCATION_OFFLINE ...
"""

FUNCTIONS = """
HCERTSTORE CertOpenStore(LPCSTR lpszStoreProvider, DWORD dwEncodingType,
                         HCRYPTPROV_LEGACY hCryptProv, DWORD dwFlags, const void *pvPara);
BOOL CertCloseStore(HCERTSTORE hCertStore, DWORD dwFlags);
BOOL CertAddEncodedCertificateToStore(HCERTSTORE hCertStore, DWORD dwCertEncodingType,
                                      const BYTE *pbCertEncoded, DWORD cbCertEncoded,
                                      DWORD dwAddDisposition, PCCERT_CONTEXT *ppCertContext);
BOOL CertAddCertificateContextToStore(HCERTSTORE hCertStore, PCCERT_CONTEXT pCertContext,
                                      DWORD dwAddDisposition, PCCERT_CONTEXT *ppStoreContext);
PCCERT_CONTEXT CertEnumCertificatesInStore(HCERTSTORE hCertStore, PCCERT_CONTEXT pPrevCertContext);
PCCERT_CONTEXT CertCreateCertificateContext(DWORD dwCertEncodingType, const BYTE *pbCertEncoded,
                                            DWORD cbCertEncoded);
PCCERT_CONTEXT CertDuplicateCertificateContext(PCCERT_CONTEXT pCertContext);
BOOL CertFreeCertificateContext(PCCERT_CONTEXT pCertContext);
BOOL CertSetCertificateContextProperty(PCCERT_CONTEXT pCertContext, DWORD dwPropId,
                                       DWORD dwFlags, const void *pvData);
LONG CertVerifyTimeValidity(LPFILETIME pTimeToVerify, PCERT_INFO pCertInfo);

BOOL CertCreateCertificateChainEngine(CERT_CHAIN_ENGINE_CONFIG *pConfig,
                                      HCERTCHAINENGINE *phChainEngine);
void CertFreeCertificateChainEngine(HCERTCHAINENGINE hChainEngine);
BOOL CertGetCertificateChain(HCERTCHAINENGINE hChainEngine, PCCERT_CONTEXT pCertContext,
                             LPFILETIME pTime, HCERTSTORE hAdditionalStore,
                             PCERT_CHAIN_PARA pChainPara, DWORD dwFlags, LPVOID pvReserved,
                             PCCERT_CHAIN_CONTEXT *ppChainContext);
void CertFreeCertificateChain(PCCERT_CHAIN_CONTEXT pChainContext);
BOOL CertVerifyCertificateChainPolicy(LPCSTR pszPolicyOID, PCCERT_CHAIN_CONTEXT pChainContext,
                                      CERT_CHAIN_POLICY_PARA *pPolicyPara,
                                      CERT_CHAIN_POLICY_STATUS *pPolicyStatus);

BOOL CryptDecodeObjectEx(DWORD dwCertEncodingType, LPCSTR lpszStructType,
                         const BYTE *pbEncoded, DWORD cbEncoded, DWORD dwFlags,
                         void *pDecodePara, void *pvStructInfo, DWORD *pcbStructInfo);

BOOL CryptAcquireContextW(HCRYPTPROV *phProv, LPCWSTR szContainer, LPCWSTR szProvider,
                          DWORD dwProvType, DWORD dwFlags);
BOOL CryptReleaseContext(HCRYPTPROV hProv, DWORD dwFlags);
BOOL CryptImportKey(HCRYPTPROV hProv, const BYTE *pbData, DWORD dwDataLen, HCRYPTKEY hPubKey,
                    DWORD dwFlags, HCRYPTKEY *phKey);
BOOL CryptDestroyKey(HCRYPTKEY hKey);
"""
