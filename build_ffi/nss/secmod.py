"""PKCS#11 module loading (secmod.h, secmodt.h): the trust module for the system's roots."""

INCLUDES = """
#include <secmod.h>
"""

TYPES = """
typedef struct PK11SlotInfoStr PK11SlotInfo;
typedef struct SECMODModuleStr SECMODModule;
struct SECMODModuleStr {
    PRBool internal;
    PRBool loaded;
    char *dllName;
    char *commonName;
    PK11SlotInfo **slots;
    int slotCount;
    ...;
};
"""

FUNCTIONS = """
SECMODModule *SECMOD_LoadUserModule(char *moduleSpec, SECMODModule *parent, PRBool recurse);
SECStatus SECMOD_UnloadUserModule(SECMODModule *mod);
void SECMOD_DestroyModule(SECMODModule *module);
"""
