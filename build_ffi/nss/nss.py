"""Library initialisation and version checks (nss.h)."""

INCLUDES = """
#include <nss.h>
"""

TYPES = """
typedef struct NSSInitContextStr NSSInitContext;
typedef struct NSSInitParametersStr NSSInitParameters;
#define NSS_INIT_READONLY ...
#define NSS_INIT_NOCERTDB ...
#define NSS_INIT_NOMODDB ...
#define NSS_INIT_FORCEOPEN ...
#define NSS_INIT_NOROOTINIT ...
#define NSS_INIT_OPTIMIZESPACE ...
#define NSS_INIT_PK11THREADSAFE ...

/* The header version this module was compiled against. */
extern const char *const tlsapi_nss_compiled_version;
"""

FUNCTIONS = """
PRBool NSS_VersionCheck(const char *importedVersion);
const char *NSS_GetVersion(void);
PRBool NSS_IsInitialized(void);
NSSInitContext *NSS_InitContext(const char *configdir, const char *certPrefix,
                                const char *keyPrefix, const char *secmodName,
                                NSSInitParameters *initParams, PRUint32 flags);
SECStatus NSS_ShutdownContext(NSSInitContext *);
"""

CUSTOMIZATIONS = """
#if !defined(NSS_VMAJOR) || NSS_VMAJOR < 3 || (NSS_VMAJOR == 3 && NSS_VMINOR < 52)
#error "tlsapi-nss needs the headers of NSS 3.52 or later (Debian: libnss3-dev, Fedora: nss-devel)"
#endif
const char *const tlsapi_nss_compiled_version = NSS_VERSION;
"""
