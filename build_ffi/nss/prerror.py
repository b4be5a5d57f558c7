"""NSPR error codes and their text (prerror.h, prerr.h)."""

INCLUDES = """
#include <prerror.h>
#include <prerr.h>
"""

TYPES = """
typedef PRInt32 PRErrorCode;
typedef PRUint32 PRLanguageCode;
#define PR_LANGUAGE_I_DEFAULT ...

#define PR_WOULD_BLOCK_ERROR ...
#define PR_END_OF_FILE_ERROR ...
#define PR_NOT_IMPLEMENTED_ERROR ...
#define PR_IO_ERROR ...
#define PR_UNKNOWN_ERROR ...
#define PR_CONNECT_RESET_ERROR ...
#define PR_OUT_OF_MEMORY_ERROR ...
#define PR_INVALID_ARGUMENT_ERROR ...
"""

FUNCTIONS = """
void PR_SetError(PRErrorCode errorCode, PRInt32 oserr);
PRErrorCode PR_GetError(void);
const char *PR_ErrorToString(PRErrorCode code, PRLanguageCode language);
const char *PR_ErrorToName(PRErrorCode code);
"""

CUSTOMIZATIONS = ""
