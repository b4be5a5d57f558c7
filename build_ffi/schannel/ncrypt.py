"""cdefs for ncrypt.h: importing a private key into the CNG software key storage provider.

SChannel signs with the key named by the certificate's
CERT_KEY_PROV_INFO_PROP_ID; for TLS 1.3 (RSA-PSS) it must be a CNG key.  The
backend imports the key as a PKCS#8 blob under a unique name and deletes it
when the identity is released (see tlsapi_schannel/_keys.py).

The functions return SECURITY_STATUS, a LONG (declared by sspi.py, which is
composed after this module): LONG here.  The key names and blob types are
wide-string macros, spelled out on the Python side.
"""

INCLUDES = """
#include <ncrypt.h>
"""

TYPES = """
typedef ULONG_PTR NCRYPT_HANDLE;
typedef ULONG_PTR NCRYPT_PROV_HANDLE;
typedef ULONG_PTR NCRYPT_KEY_HANDLE;

typedef struct {
    ULONG cbBuffer;
    ULONG BufferType;
    PVOID pvBuffer;
} NCryptBuffer;

typedef struct {
    ULONG ulVersion;
    ULONG cBuffers;
    NCryptBuffer *pBuffers;
} NCryptBufferDesc;

#define NCRYPTBUFFER_VERSION ...
#define NCRYPTBUFFER_PKCS_KEY_NAME ...
#define NCRYPTBUFFER_PKCS_SECRET ...
#define NCRYPT_OVERWRITE_KEY_FLAG ...
#define NCRYPT_DO_NOT_FINALIZE_FLAG ...
#define NCRYPT_SILENT_FLAG ...
#define NCRYPT_ALLOW_EXPORT_FLAG ...
#define NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG ...
"""

FUNCTIONS = """
LONG NCryptOpenStorageProvider(NCRYPT_PROV_HANDLE *phProvider, LPCWSTR pszProviderName,
                               DWORD dwFlags);
LONG NCryptImportKey(NCRYPT_PROV_HANDLE hProvider, NCRYPT_KEY_HANDLE hImportKey,
                     LPCWSTR pszBlobType, NCryptBufferDesc *pParameterList,
                     NCRYPT_KEY_HANDLE *phKey, BYTE *pbData, DWORD cbData, DWORD dwFlags);
LONG NCryptSetProperty(NCRYPT_HANDLE hObject, LPCWSTR pszProperty, BYTE *pbInput,
                       DWORD cbInput, DWORD dwFlags);
LONG NCryptFinalizeKey(NCRYPT_KEY_HANDLE hKey, DWORD dwFlags);
LONG NCryptExportKey(NCRYPT_KEY_HANDLE hKey, NCRYPT_KEY_HANDLE hExportKey, LPCWSTR pszBlobType,
                     NCryptBufferDesc *pParameterList, BYTE *pbOutput, DWORD cbOutput,
                     DWORD *pcbResult, DWORD dwFlags);
LONG NCryptDeleteKey(NCRYPT_KEY_HANDLE hKey, DWORD dwFlags);
LONG NCryptFreeObject(NCRYPT_HANDLE hObject);
"""
