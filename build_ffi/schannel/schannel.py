"""cdefs for schannel.h: SCHANNEL_CRED and SCH_CREDENTIALS, protocol bits, context attributes, control tokens.

SCH_CREDENTIALS (with TLS_PARAMETERS and CRYPTO_SETTINGS) exists only with
SCHANNEL_USE_BLACKLISTS defined and <subauth.h> included first (windows.py).
The certificate types (PCCERT_CONTEXT, HCERTSTORE, ALG_ID) belong to
wincrypt.py, composed before this module; the few declared below are there
only while wincrypt.py does not declare them itself.
"""

from __future__ import annotations

import re

from . import wincrypt as _wincrypt

INCLUDES = """
#include <schannel.h>
"""

# What this module needs from wincrypt.h, declared here only if wincrypt.py does not.
_WINCRYPT_NEEDS = (
    (r"\bALG_ID\s*;", "typedef unsigned int ALG_ID;"),
    (r"\bHCERTSTORE\s*;", "typedef void *HCERTSTORE;"),
    (r"\b_CERT_CONTEXT\b", "typedef struct _CERT_CONTEXT { ...; } CERT_CONTEXT;"),
    (r"\*\s*PCCERT_CONTEXT\s*[;,]", "typedef const CERT_CONTEXT *PCCERT_CONTEXT;"),
)
_FALLBACK = "\n".join(
    declaration
    for pattern, declaration in _WINCRYPT_NEEDS
    if not re.search(pattern, _wincrypt.TYPES)
)

TYPES = (
    _FALLBACK
    + """
static const wchar_t *const UNISP_NAME_W;

#define SCHANNEL_CRED_VERSION ...
#define SCH_CREDENTIALS_VERSION ...

typedef struct _SCHANNEL_CRED {
    DWORD dwVersion;
    DWORD cCreds;
    PCCERT_CONTEXT *paCred;
    HCERTSTORE hRootStore;
    DWORD cMappers;
    struct _HMAPPER **aphMappers;
    DWORD cSupportedAlgs;
    ALG_ID *palgSupportedAlgs;
    DWORD grbitEnabledProtocols;
    DWORD dwMinimumCipherStrength;
    DWORD dwMaximumCipherStrength;
    DWORD dwSessionLifespan;
    DWORD dwFlags;
    DWORD dwCredFormat;
} SCHANNEL_CRED;

typedef enum _eTlsAlgorithmUsage {
    TlsParametersCngAlgUsageKeyExchange,
    TlsParametersCngAlgUsageSignature,
    TlsParametersCngAlgUsageCipher,
    TlsParametersCngAlgUsageDigest,
    TlsParametersCngAlgUsageCertSig
} eTlsAlgorithmUsage;

typedef struct _CRYPTO_SETTINGS {
    eTlsAlgorithmUsage eAlgorithmUsage;
    UNICODE_STRING strCngAlgId;
    DWORD cChainingModes;
    PUNICODE_STRING rgstrChainingModes;
    DWORD dwMinBitLength;
    DWORD dwMaxBitLength;
} CRYPTO_SETTINGS, *PCRYPTO_SETTINGS;

typedef struct _TLS_PARAMETERS {
    DWORD cAlpnIds;
    PUNICODE_STRING rgstrAlpnIds;
    DWORD grbitDisabledProtocols;
    DWORD cDisabledCrypto;
    PCRYPTO_SETTINGS pDisabledCrypto;
    DWORD dwFlags;
} TLS_PARAMETERS, *PTLS_PARAMETERS;

typedef struct _SCH_CREDENTIALS {
    DWORD dwVersion;
    DWORD dwCredFormat;
    DWORD cCreds;
    PCCERT_CONTEXT *paCred;
    HCERTSTORE hRootStore;
    DWORD cMappers;
    struct _HMAPPER **aphMappers;
    DWORD dwSessionLifespan;
    DWORD dwFlags;
    DWORD cTlsParameters;
    PTLS_PARAMETERS pTlsParameters;
} SCH_CREDENTIALS;

#define SCH_CRED_NO_SYSTEM_MAPPER ...
#define SCH_CRED_NO_SERVERNAME_CHECK ...
#define SCH_CRED_MANUAL_CRED_VALIDATION ...
#define SCH_CRED_NO_DEFAULT_CREDS ...
#define SCH_CRED_AUTO_CRED_VALIDATION ...
#define SCH_CRED_DISABLE_RECONNECTS ...
#define SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT ...
#define SCH_USE_STRONG_CRYPTO ...
#define SCH_SEND_ROOT_CERT ...

#define SP_PROT_TLS1_0_SERVER ...
#define SP_PROT_TLS1_0_CLIENT ...
#define SP_PROT_TLS1_1_SERVER ...
#define SP_PROT_TLS1_1_CLIENT ...
#define SP_PROT_TLS1_2_SERVER ...
#define SP_PROT_TLS1_2_CLIENT ...
#define SP_PROT_TLS1_3_SERVER ...
#define SP_PROT_TLS1_3_CLIENT ...

#define SECPKG_ATTR_REMOTE_CERT_CONTEXT ...
#define SECPKG_ATTR_CONNECTION_INFO ...
#define SECPKG_ATTR_CIPHER_INFO ...
#define SECPKG_ATTR_SESSION_INFO ...
#define SSL_SESSION_RECONNECT ...

typedef struct _SecPkgContext_SessionInfo {
    DWORD dwFlags;
    DWORD cbSessionId;
    BYTE rgbSessionId[32];
} SecPkgContext_SessionInfo;

typedef struct _SecPkgContext_ConnectionInfo {
    DWORD dwProtocol;
    ALG_ID aiCipher;
    DWORD dwCipherStrength;
    ALG_ID aiHash;
    DWORD dwHashStrength;
    ALG_ID aiExch;
    DWORD dwExchStrength;
} SecPkgContext_ConnectionInfo;

#define SECPKGCONTEXT_CIPHERINFO_V1 ...

typedef struct _SecPkgContext_CipherInfo {
    DWORD dwVersion;
    DWORD dwProtocol;
    DWORD dwCipherSuite;
    DWORD dwBaseCipherSuite;
    WCHAR szCipherSuite[64];
    WCHAR szCipher[64];
    DWORD dwCipherLen;
    DWORD dwCipherBlockLen;
    WCHAR szHash[64];
    DWORD dwHashLen;
    WCHAR szExchange[64];
    DWORD dwMinExchangeLen;
    DWORD dwMaxExchangeLen;
    WCHAR szCertificate[64];
    DWORD dwKeyType;
} SecPkgContext_CipherInfo;

#define SCHANNEL_SHUTDOWN ...
#define SCHANNEL_ALERT ...

typedef struct _SCHANNEL_ALERT_TOKEN {
    DWORD dwTokenType;
    DWORD dwAlertType;
    DWORD dwAlertNumber;
} SCHANNEL_ALERT_TOKEN;

#define TLS1_ALERT_WARNING ...
#define TLS1_ALERT_FATAL ...
#define TLS1_ALERT_CLOSE_NOTIFY ...
#define TLS1_ALERT_HANDSHAKE_FAILURE ...
#define TLS1_ALERT_NO_RENEGOTIATION ...
"""
)

FUNCTIONS = """
"""
