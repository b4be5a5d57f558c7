"""cdefs for <gnutls/x509.h>: certificates and trust lists (self-signed check, direct verification)."""

INCLUDES = """
#include <gnutls/x509.h>
"""

TYPES = """
typedef struct gnutls_x509_trust_list_st *gnutls_x509_trust_list_t;
typedef struct gnutls_x509_crl_int *gnutls_x509_crl_t;
typedef int gnutls_verify_output_function(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer,
                                          gnutls_x509_crl_t crl,
                                          unsigned int verification_output);

#define GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED ...
#define GNUTLS_TL_NO_DUPLICATES ...

typedef enum { GNUTLS_PROFILE_UNKNOWN, GNUTLS_PROFILE_LOW, GNUTLS_PROFILE_MEDIUM, ... }
    gnutls_certificate_verification_profiles_t;

static const char *const GNUTLS_KP_TLS_WWW_SERVER;
static const char *const GNUTLS_KP_TLS_WWW_CLIENT;
"""

FUNCTIONS = """
int gnutls_x509_crt_init(gnutls_x509_crt_t *cert);
void gnutls_x509_crt_deinit(gnutls_x509_crt_t cert);
int gnutls_x509_crt_import(gnutls_x509_crt_t cert, const gnutls_datum_t *data,
                           gnutls_x509_crt_fmt_t format);
int gnutls_x509_crt_list_import2(gnutls_x509_crt_t **certs, unsigned int *size,
                                 const gnutls_datum_t *data, gnutls_x509_crt_fmt_t format,
                                 unsigned int flags);
unsigned gnutls_x509_crt_check_issuer(gnutls_x509_crt_t cert, gnutls_x509_crt_t issuer);

int gnutls_x509_trust_list_init(gnutls_x509_trust_list_t *list, unsigned int size);
void gnutls_x509_trust_list_deinit(gnutls_x509_trust_list_t list, unsigned int all);
int gnutls_x509_trust_list_add_trust_mem(gnutls_x509_trust_list_t list,
                                         const gnutls_datum_t *cas, const gnutls_datum_t *crls,
                                         gnutls_x509_crt_fmt_t type, unsigned int tl_flags,
                                         unsigned int tl_vflags);
int gnutls_x509_trust_list_add_system_trust(gnutls_x509_trust_list_t list,
                                            unsigned int tl_flags, unsigned int tl_vflags);
int gnutls_x509_trust_list_verify_crt2(gnutls_x509_trust_list_t list,
                                       gnutls_x509_crt_t *cert_list, unsigned int cert_list_size,
                                       gnutls_typed_vdata_st *data, unsigned int elements,
                                       unsigned int flags, unsigned int *voutput,
                                       gnutls_verify_output_function func);
"""
