"""NSS's common types, memory and error helpers (seccomon.h, secport.h, secitem.h, plarena)."""

INCLUDES = """
#include <seccomon.h>
#include <secport.h>
#include <secitem.h>
#include <string.h>
"""

TYPES = """
typedef enum {
    siBuffer = 0,
    ...
} SECItemType;
typedef struct SECItemStr SECItem;
struct SECItemStr {
    SECItemType type;
    unsigned char *data;
    unsigned int len;
};
typedef enum _SECStatus {
    SECWouldBlock = -2,
    SECFailure = -1,
    SECSuccess = 0
} SECStatus;
typedef struct PLArenaPool PLArenaPool;
"""

FUNCTIONS = """
void PORT_Free(void *ptr);
void PORT_SetError(int value);
int PORT_GetError(void);
PLArenaPool *PORT_NewArena(unsigned long chunksize);
void PORT_FreeArena(PLArenaPool *arena, PRBool zero);
void *PORT_ArenaZAlloc(PLArenaPool *arena, size_t size);
SECItem *SECITEM_AllocItem(PLArenaPool *arena, SECItem *item, unsigned int len);
SECStatus SECITEM_CopyItem(PLArenaPool *arena, SECItem *to, const SECItem *from);
void SECITEM_FreeItem(SECItem *zap, PRBool freeit);
"""
