/* tlsapi-gnutls: small shims (see shims.h).  C because each wraps what cffi
 * cannot reach from a cdef: a macro, or a symbol lookup through dladdr.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#define _GNU_SOURCE /* dladdr and Dl_info in glibc's dlfcn.h */

#include "shims.h"

#include <dlfcn.h>
#include <stddef.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

void tlsapi_gnutls_free(void *ptr)
{
    /* gnutls_free is a function pointer wrapped in a macro; the parentheses
       call the pointer itself. */
    (gnutls_free)(ptr);
}

const char *tlsapi_gnutls_library_path(void)
{
    Dl_info info;
    if (dladdr((void *)&gnutls_init, &info) && info.dli_fname != NULL)
        return info.dli_fname;
    return NULL;
}

unsigned int tlsapi_gnutls_profile_vflags(unsigned int profile)
{
    return GNUTLS_PROFILE_TO_VFLAGS(profile);
}

unsigned int tlsapi_gnutls_no_auto_send_ticket(void)
{
#if GNUTLS_VERSION_NUMBER >= 0x03060e
    return GNUTLS_NO_AUTO_SEND_TICKET;
#else
    return 0; /* before 3.6.14: GnuTLS sends its tickets itself, and the flag does not exist */
#endif
}

void *tlsapi_gnutls_malloc(size_t size)
{
    /* gnutls_malloc is a function pointer variable: GnuTLS frees with its match. */
    return gnutls_malloc(size);
}

void tlsapi_gnutls_free_secret(gnutls_datum_t *secret)
{
    if (secret->data != NULL) {
        gnutls_memset(secret->data, 0, secret->size);
        (gnutls_free)(secret->data);
    }
    secret->data = NULL;
    secret->size = 0;
}
