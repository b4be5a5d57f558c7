"""cdefs for the CoreFoundation types and calls the backend uses (CFBase.h, CFData.h, CFArray.h,
CFString.h, CFDictionary.h, CFError.h, CFDate.h, all through the umbrella header).

Opaque CF objects are ``typedef ... *XRef``: cffi then names the pointer type
as the header does, and the compiler checks every call.  The integer types
are the LP64 macOS ones (CFIndex is ``signed long``, Boolean ``unsigned
char``, OSStatus ``SInt32``); tests/test_securetransport_cdefs.py checks them
and every function against Debian's core-foundation-sys.
"""

INCLUDES = """
#include <CoreFoundation/CoreFoundation.h>
"""

TYPES = """
typedef unsigned char Boolean;
typedef int32_t OSStatus;
typedef unsigned int UInt32;
typedef signed long CFIndex;
typedef unsigned long CFTypeID;
typedef unsigned long CFOptionFlags;
typedef uint32_t CFStringEncoding;
typedef double CFTimeInterval;
typedef CFTimeInterval CFAbsoluteTime;

typedef const void *CFTypeRef;
typedef ... *CFAllocatorRef;
typedef ... *CFDataRef;
typedef ... *CFArrayRef;
typedef ... *CFMutableArrayRef;
typedef ... *CFStringRef;
typedef ... *CFDictionaryRef;
typedef ... *CFErrorRef;
typedef ... *CFDateRef;

typedef struct { ...; } CFArrayCallBacks;
typedef struct { ...; } CFDictionaryKeyCallBacks;
typedef struct { ...; } CFDictionaryValueCallBacks;

/* The framework's extern constants.  The callback tables are declared as
   variables (not const) so that ffi.addressof(lib, ...) gives their real
   address: CFArray and CFDictionary recognise these tables by address. */
const CFAllocatorRef kCFAllocatorDefault;
const CFTimeInterval kCFAbsoluteTimeIntervalSince1970;
extern CFArrayCallBacks kCFTypeArrayCallBacks;
extern CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks;
extern CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks;

#define kCFStringEncodingUTF8 134217984
"""

FUNCTIONS = """
void CFRelease(CFTypeRef cf);
CFTypeRef CFRetain(CFTypeRef cf);
CFTypeID CFGetTypeID(CFTypeRef cf);

CFDataRef CFDataCreate(CFAllocatorRef allocator, const uint8_t *bytes, CFIndex length);
const uint8_t *CFDataGetBytePtr(CFDataRef theData);
CFIndex CFDataGetLength(CFDataRef theData);
CFTypeID CFDataGetTypeID(void);

CFArrayRef CFArrayCreate(CFAllocatorRef allocator, const void **values, CFIndex numValues,
                         const CFArrayCallBacks *callBacks);
CFIndex CFArrayGetCount(CFArrayRef theArray);
const void *CFArrayGetValueAtIndex(CFArrayRef theArray, CFIndex idx);

CFStringRef CFStringCreateWithBytes(CFAllocatorRef alloc, const uint8_t *bytes, CFIndex numBytes,
                                    CFStringEncoding encoding, Boolean isExternalRepresentation);
Boolean CFStringGetCString(CFStringRef theString, char *buffer, CFIndex bufferSize,
                           CFStringEncoding encoding);
CFIndex CFStringGetLength(CFStringRef theString);
CFTypeID CFStringGetTypeID(void);

CFDictionaryRef CFDictionaryCreate(CFAllocatorRef allocator, const void **keys,
                                   const void **values, CFIndex numValues,
                                   const CFDictionaryKeyCallBacks *keyCallBacks,
                                   const CFDictionaryValueCallBacks *valueCallBacks);
Boolean CFDictionaryGetValueIfPresent(CFDictionaryRef theDict, const void *key,
                                      const void **value);

CFDateRef CFDateCreate(CFAllocatorRef allocator, CFAbsoluteTime at);

CFIndex CFErrorGetCode(CFErrorRef err);
CFStringRef CFErrorCopyDescription(CFErrorRef err);
"""
