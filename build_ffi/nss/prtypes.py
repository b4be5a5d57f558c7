"""NSPR's basic types (prtypes.h, prinrval.h, prtime.h)."""

INCLUDES = """
#include <prtypes.h>
#include <prinrval.h>
#include <prtime.h>
"""

TYPES = """
typedef int... PRInt32;
typedef int... PRUint32;
typedef int... PRInt16;
typedef int... PRUint16;
typedef int... PRUint8;
typedef int... PRInt64;
typedef int... PRUint64;
typedef int... PRIntn;
typedef int... PRUintn;
typedef int... PRBool;
typedef int... PRSize;
typedef PRUint32 PRIntervalTime;
typedef PRInt64 PRTime;
typedef enum { PR_FAILURE = -1, PR_SUCCESS = 0 } PRStatus;
#define PR_TRUE ...
#define PR_FALSE ...

typedef struct PRCListStr PRCList;
struct PRCListStr {
    PRCList *next;
    PRCList *prev;
};
"""

FUNCTIONS = """
PRTime PR_Now(void);
"""
