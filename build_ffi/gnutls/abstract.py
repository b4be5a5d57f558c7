"""cdefs for <gnutls/abstract.h>: private keys and parsed certificates for our own chain.

gnutls_privkey_import_x509_raw() reads PEM or DER in every key format
(PKCS#8, PKCS#1, SEC1, encrypted or not) and gnutls_pcert_import_x509_raw()
takes one DER certificate, so a chain given as DER needs no re-encoding.
"""

INCLUDES = """
#include <gnutls/abstract.h>
"""

TYPES = """
typedef struct gnutls_pubkey_st *gnutls_pubkey_t;
typedef struct gnutls_privkey_st *gnutls_privkey_t;

typedef struct gnutls_pcert_st {
    gnutls_pubkey_t pubkey;
    gnutls_datum_t cert;
    gnutls_certificate_type_t type;
    ...;
} gnutls_pcert_st;
"""

FUNCTIONS = """
int gnutls_privkey_init(gnutls_privkey_t *key);
void gnutls_privkey_deinit(gnutls_privkey_t key);
int gnutls_privkey_import_x509_raw(gnutls_privkey_t pkey, const gnutls_datum_t *data,
                                   gnutls_x509_crt_fmt_t format, const char *password,
                                   unsigned int flags);
int gnutls_pcert_import_x509_raw(gnutls_pcert_st *pcert, const gnutls_datum_t *cert,
                                 gnutls_x509_crt_fmt_t format, unsigned int flags);
void gnutls_pcert_deinit(gnutls_pcert_st *pcert);
int gnutls_certificate_set_key(gnutls_certificate_credentials_t res, const char **names,
                               int names_size, gnutls_pcert_st *pcert_list,
                               int pcert_list_size, gnutls_privkey_t key);
"""
