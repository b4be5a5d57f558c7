"""cdefs for bcrypt.h: the block ciphers that decrypt password-protected private keys.

An encrypted PKCS#8 key (PBES2: PBKDF2 + AES-CBC or 3DES-CBC) and a legacy
OpenSSL "Proc-Type: 4,ENCRYPTED" PEM key are decrypted by the backend itself
(hashlib derives the key; BCrypt runs the cipher), so that one path serves
real Windows and Wine, whose NCrypt cannot import PKCS#8 and whose schannel
reads keys only from the CAPI provider.  NTSTATUS is a LONG.
"""

INCLUDES = """
#include <bcrypt.h>
"""

TYPES = """
typedef PVOID BCRYPT_HANDLE;
typedef PVOID BCRYPT_ALG_HANDLE;
typedef PVOID BCRYPT_KEY_HANDLE;
"""

FUNCTIONS = """
LONG BCryptOpenAlgorithmProvider(BCRYPT_ALG_HANDLE *phAlgorithm, LPCWSTR pszAlgId,
                                 LPCWSTR pszImplementation, ULONG dwFlags);
LONG BCryptCloseAlgorithmProvider(BCRYPT_ALG_HANDLE hAlgorithm, ULONG dwFlags);
LONG BCryptSetProperty(BCRYPT_HANDLE hObject, LPCWSTR pszProperty, BYTE *pbInput,
                       ULONG cbInput, ULONG dwFlags);
LONG BCryptGenerateSymmetricKey(BCRYPT_ALG_HANDLE hAlgorithm, BCRYPT_KEY_HANDLE *phKey,
                                BYTE *pbKeyObject, ULONG cbKeyObject, BYTE *pbSecret,
                                ULONG cbSecret, ULONG dwFlags);
LONG BCryptDecrypt(BCRYPT_KEY_HANDLE hKey, BYTE *pbInput, ULONG cbInput, void *pPaddingInfo,
                   BYTE *pbIV, ULONG cbIV, BYTE *pbOutput, ULONG cbOutput, ULONG *pcbResult,
                   ULONG dwFlags);
LONG BCryptDestroyKey(BCRYPT_KEY_HANDLE hKey);
"""
