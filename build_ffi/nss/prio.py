"""NSPR file descriptors and I/O layering (prio.h, prinit.h)."""

INCLUDES = """
#include <prio.h>
#include <prinit.h>
"""

TYPES = """
typedef struct PRIOMethods PRIOMethods;
typedef struct PRFilePrivate PRFilePrivate;
typedef struct PRFileDesc PRFileDesc;
typedef PRIntn PRDescIdentity;
struct PRFileDesc {
    const PRIOMethods *methods;
    PRFilePrivate *secret;
    PRFileDesc *lower;
    PRFileDesc *higher;
    ...;
};
typedef enum PRShutdownHow {
    PR_SHUTDOWN_RCV = 0,
    PR_SHUTDOWN_SEND = 1,
    PR_SHUTDOWN_BOTH = 2
} PRShutdownHow;
"""

FUNCTIONS = """
PRStatus PR_Close(PRFileDesc *fd);
PRInt32 PR_Read(PRFileDesc *fd, void *buf, PRInt32 amount);
PRInt32 PR_Write(PRFileDesc *fd, const void *buf, PRInt32 amount);
PRStatus PR_Shutdown(PRFileDesc *fd, PRShutdownHow how);
PRDescIdentity PR_GetUniqueIdentity(const char *layer_name);
PRFileDesc *PR_GetIdentitiesLayer(PRFileDesc *fd_stack, PRDescIdentity id);
const char *PR_GetVersion(void);
"""
