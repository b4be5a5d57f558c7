/* tlsapi-gnutls: small shims, each making something cffi cannot call directly
 * (a macro, a function pointer behind a macro, dladdr) into a plain function.
 * build_ffi/gnutls/shims.py declares the same to cffi: keep the two in step.
 */
#ifndef TLSAPI_GNUTLS_SHIMS_H
#define TLSAPI_GNUTLS_SHIMS_H

#include <stddef.h>

#include <gnutls/gnutls.h>

/* gnutls_free without its macro (which also clears its argument). */
void tlsapi_gnutls_free(void *ptr);
/* The path of the loaded libgnutls (for `tlsapi backends`), or NULL. */
const char *tlsapi_gnutls_library_path(void);
/* GNUTLS_PROFILE_TO_VFLAGS: the verification flags of a security profile. */
unsigned int tlsapi_gnutls_profile_vflags(unsigned int profile);
/* GNUTLS_NO_AUTO_SEND_TICKET (GnuTLS 3.6.14), or 0 where the headers are older. */
unsigned int tlsapi_gnutls_no_auto_send_ticket(void);
/* gnutls_malloc: what GnuTLS frees itself (a session the cache hands back). */
void *tlsapi_gnutls_malloc(size_t size);
/* Wipe and gnutls_free a secret GnuTLS allocated (a ticket key); the datum is left empty. */
void tlsapi_gnutls_free_secret(gnutls_datum_t *secret);

#endif
