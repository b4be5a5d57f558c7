"""cdefs for <Security/SecImportExport.h>: PEM/DER keys and certificates into a keychain, PKCS#12.

SecItemImport puts a private key into the backend's temporary keychain
(SecKeychain.h); SecPKCS12Import takes a PKCS#12 file (Apple's importer
refuses OpenSSL 3's default AES/PBKDF2 encryption).  The format and item type
enumerations are not in Debian's security-framework-sys 0.4.2: their values
come from the header (``...``).
"""

INCLUDES = """
#include <Security/SecImportExport.h>
"""

TYPES = """
typedef uint32_t SecExternalFormat;
typedef uint32_t SecExternalItemType;
typedef uint32_t SecItemImportExportFlags;
typedef uint32_t SecKeyImportExportFlags;

#define kSecFormatUnknown ...
#define kSecFormatOpenSSL ...
#define kSecFormatWrappedPKCS8 ...
#define kSecFormatX509Cert ...
#define kSecFormatPEMSequence ...
#define kSecFormatPKCS12 ...

#define kSecItemTypeUnknown ...
#define kSecItemTypePrivateKey ...
#define kSecItemTypeCertificate ...
#define kSecItemTypeAggregate ...

#define kSecKeyImportOnlyOne 1
#define kSecKeySecurePassphrase 2
#define kSecKeyNoAccessControl 4
#define SEC_KEY_IMPORT_EXPORT_PARAMS_VERSION 0

typedef struct {
    uint32_t version;
    SecKeyImportExportFlags flags;
    CFTypeRef passphrase;
    CFStringRef alertTitle;
    CFStringRef alertPrompt;
    SecAccessRef accessRef;
    CFArrayRef keyUsage;
    CFArrayRef keyAttributes;
} SecItemImportExportKeyParameters;

const CFStringRef kSecImportExportPassphrase;
const CFStringRef kSecImportExportKeychain;
const CFStringRef kSecImportItemIdentity;
const CFStringRef kSecImportItemCertChain;
"""

FUNCTIONS = """
OSStatus SecItemImport(CFDataRef importedData, CFStringRef fileNameOrExtension,
                       SecExternalFormat *inputFormat, SecExternalItemType *itemType,
                       SecItemImportExportFlags flags,
                       const SecItemImportExportKeyParameters *keyParams,
                       SecKeychainRef importKeychain, CFArrayRef *outItems);
OSStatus SecPKCS12Import(CFDataRef pkcs12_data, CFDictionaryRef options, CFArrayRef *items);
"""
