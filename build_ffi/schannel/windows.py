"""cdefs for the base Windows types (windef.h/winnt.h) and the few kernel32/ntdll calls we use.

INCLUDES also sets the macros the SDK headers read, before any of them is
included: SECURITY_WIN32 (sspi.h's user-mode API), SCHANNEL_USE_BLACKLISTS
with <subauth.h> first (schannel.h declares SCH_CREDENTIALS only then).

cffi predefines the Windows types only when it runs on Windows; the
cross-build parses these cdefs on Linux, so every type is declared here.
``unsigned long``/``long`` are 32-bit on Windows (LLP64), as the headers mean.
"""

INCLUDES = """
#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS
#include <windows.h>
#include <subauth.h>
"""

TYPES = """
typedef unsigned char BYTE;
typedef unsigned short WORD;
typedef unsigned short USHORT;
typedef unsigned long DWORD;
typedef unsigned long ULONG;
typedef long LONG;
typedef int BOOL;
typedef char CHAR;
typedef wchar_t WCHAR;
typedef void *PVOID;
typedef void *LPVOID;
typedef const void *LPCVOID;
typedef void *HANDLE;
typedef const char *LPCSTR;
typedef const wchar_t *LPCWSTR;
typedef wchar_t *LPWSTR;
typedef unsigned long long ULONG_PTR;
typedef long long INT_PTR;
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG;
typedef long HRESULT;

/* STRICT handles: pointers to distinct incomplete structs, as windef.h declares them. */
typedef struct HINSTANCE__ *HMODULE;
typedef INT_PTR (*FARPROC)(void);

typedef wchar_t *PWSTR;
typedef BYTE BOOLEAN;

/* subauth.h */
typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;

typedef struct _OSVERSIONINFOW {
    DWORD dwOSVersionInfoSize;
    DWORD dwMajorVersion;
    DWORD dwMinorVersion;
    DWORD dwBuildNumber;
    DWORD dwPlatformId;
    WCHAR szCSDVersion[128];
} OSVERSIONINFOW, RTL_OSVERSIONINFOW;

#define FORMAT_MESSAGE_IGNORE_INSERTS ...
#define FORMAT_MESSAGE_FROM_SYSTEM ...
#define FORMAT_MESSAGE_FROM_HMODULE ...
"""

FUNCTIONS = """
DWORD GetLastError(void);
HMODULE GetModuleHandleW(LPCWSTR lpModuleName);
FARPROC GetProcAddress(HMODULE hModule, LPCSTR lpProcName);
/* Arguments is va_list * in winbase.h; we always pass NULL (with IGNORE_INSERTS). */
DWORD FormatMessageW(DWORD dwFlags, LPCVOID lpSource, DWORD dwMessageId,
                     DWORD dwLanguageId, LPWSTR lpBuffer, DWORD nSize, void *Arguments);
"""
