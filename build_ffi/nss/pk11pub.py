"""PKCS#11 slots and key import (pk11pub.h, secasn1.h).

Our own key import and checks are in ``keys.c`` (cdefs: ``keys.py``).
"""

INCLUDES = """
#include <pk11pub.h>
#include <secasn1.h>
#include <secmodt.h>
#include <secoid.h>
#include <pkcs11t.h>
"""

TYPES = """
typedef struct PK11SymKeyStr PK11SymKey;
#define KU_ALL ...
#define CKM_AES_CBC_PAD ...
#define CKM_DES3_CBC_PAD ...
#define CKM_DES_CBC_PAD ...
"""

FUNCTIONS = """
PK11SlotInfo *PK11_GetInternalSlot(void);
void PK11_FreeSlot(PK11SlotInfo *slot);
PRBool SECMOD_HasRootCerts(void);
SECStatus PK11_ImportDERPrivateKeyInfoAndReturnKey(
    PK11SlotInfo *slot, SECItem *derPKI, SECItem *nickname, SECItem *publicValue,
    PRBool isPerm, PRBool isPrivate, unsigned int usage, SECKEYPrivateKey **privk,
    void *wincx);
SECStatus PK11_ExtractKeyValue(PK11SymKey *symKey);
SECItem *PK11_GetKeyData(PK11SymKey *symKey);

"""
