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
