/* tlsapi-nss: certificate path validation with this backend's fixed policy.
 *
 * tlsapi_nss_verify_certificate runs CERT_PKIXVerifyCert with this policy:
 * revocation is not checked (no network fetching, as no other backend of ours
 * fetches either), AIA fetching is off, and when `anchors` is given only those
 * certificates are trust anchors (the context's own trust store, never the
 * process-wide trust of NSS's modules).  NSS builds paths from every
 * certificate it knows in the process (its temporary store is global), so
 * when `presented` (the peer's chain) is given, every certificate of the
 * validated path other than the trust anchor must be one the peer presented:
 * a chain is never completed with an intermediate some other connection
 * brought in.  Before NSS sees a chain, the name-constraint work it could
 * cause is bounded: libpkix compares every name of the leaf with every
 * subtree of every constraint, in memory that grows with the product
 * (x509-limbo's nc-dos cases take it to tens of gigabytes), so a chain whose
 * leaf names times the constraints of the presented and anchor certificates
 * exceed TLSAPI_NSS_MAX_NAME_CHECKS fails with SEC_ERROR_OUT_OF_SEARCH_LIMITS.
 * NSS accepts a certificate up to a day before its notBefore (clock-skew
 * slop, process-wide); we do not: a not-yet-valid certificate in the path
 * fails.  It returns 0 or the NSS error code; on success, when `verified` is
 * not NULL, *verified is the path NSS built, leaf first, ending with its trust
 * anchor (what ssl's get_verified_chain reports; the caller destroys it).
 *
 * tlsapi_nss_not_yet_valid is that strict notBefore test; tlsapi_nss_has_ip
 * looks for an IP address in the subjectAltName (CERT_VerifyCertName falls
 * back to the common name when the extension holds no address, which we never
 * accept for an address).
 *
 * tlsapi_nss_certificate_list builds the CERTCertificateList that
 * SSL_ConfigServerCert sends as the chain, exactly as the user gave it.
 *
 * tlsapi_nss_list_ders points at the DER of each certificate of a list (a
 * peer's chain, a verified path), which Python then copies out.
 *
 * tlsapi_nss_check_peer is a connection's whole certificate check in one call:
 * the peer's certificate and chain, their verification, the name, and the DER
 * of the chain and of the verified path, with how much of the path is the
 * chain's beginning (Python copies them before tlsapi_nss_peer_release) and
 * whether chain and path are those the profile's policy check last passed
 * (then Python copies nothing: a peer shows the same chain again and again).  Made call by call from the hook it was a dozen
 * cffi calls and allocations per handshake, on caches the handshake's
 * cryptography left cold: about 7 us of a 1.8 ms pair more than this one call.
 *
 * Why C: each is many NSS calls over NSS's own structures (lists, arenas,
 * decoded extensions, the CERTValInParam arrays); one cffi call each.  Walking
 * a list from Python took several cffi attribute reads and casts per
 * certificate, on every handshake.
 */

/* Our own C is held to these (the cffi-generated module is not ours to fix). */
#pragma GCC diagnostic error "-Wall"
#pragma GCC diagnostic error "-Wextra"
#pragma GCC diagnostic error "-Wconversion"
#pragma GCC diagnostic error "-Wshadow"
#pragma GCC diagnostic error "-Wmissing-prototypes"

#include "verify.h"

#include <string.h>

#include <prerror.h>
#include <secerr.h>
#include <secitem.h>
#include <secport.h>
#include <ssl.h>
#include <sslerr.h>

static PRBool tlsapi_nss_list_holds(CERTCertList *list, CERTCertificate *cert)
{
    CERTCertListNode *node;
    for (node = CERT_LIST_HEAD(list); !CERT_LIST_END(node, list); node = CERT_LIST_NEXT(node)) {
        if (CERT_CompareCerts(node->cert, cert)) {
            return PR_TRUE;
        }
    }
    return PR_FALSE;
}

int tlsapi_nss_list_ders(CERTCertList *list, const char **ders, unsigned int *lengths, int room)
{
    CERTCertListNode *node;
    int count = 0;
    for (node = CERT_LIST_HEAD(list); !CERT_LIST_END(node, list); node = CERT_LIST_NEXT(node)) {
        if (count < room) {
            ders[count] = (const char *)node->cert->derCert.data;
            lengths[count] = node->cert->derCert.len;
        }
        count++;
    }
    return count;
}

PRBool tlsapi_nss_not_yet_valid(const CERTCertificate *cert, PRTime when)
{
    PRTime not_before, not_after;
    if (CERT_GetCertTimes(cert, &not_before, &not_after) != SECSuccess) {
        return PR_TRUE;
    }
    return (when != 0 ? when : PR_Now()) < not_before;
}

PRBool tlsapi_nss_has_ip(CERTCertificate *cert, const unsigned char *address, unsigned int length)
{
    SECItem san = { siBuffer, NULL, 0 };
    PLArenaPool *arena;
    CERTGeneralName *names, *current;
    PRBool found = PR_FALSE;
    if (CERT_FindCertExtension(cert, SEC_OID_X509_SUBJECT_ALT_NAME, &san) != SECSuccess) {
        return PR_FALSE;
    }
    arena = PORT_NewArena(DER_DEFAULT_CHUNKSIZE);
    if (arena != NULL) {
        names = current = CERT_DecodeAltNameExtension(arena, &san);
        if (names != NULL) {
            do {
                if (current->type == certIPAddress && current->name.other.len == length &&
                    memcmp(current->name.other.data, address, length) == 0) {
                    found = PR_TRUE;
                    break;
                }
                current = CERT_GetNextGeneralName(current);
            } while (current != names);
        }
        PORT_FreeArena(arena, PR_FALSE);
    }
    SECITEM_FreeItem(&san, PR_FALSE);
    return found;
}

/* Go and webpki bound name-constraint checking the same way. */
#define TLSAPI_NSS_MAX_NAME_CHECKS 100000

static PRUint64 tlsapi_nss_count_names(CERTCertificate *cert)
{
    PRUint64 count = 0;
    CERTRDN **rdn;
    CERTAVA **ava;
    SECItem san = { siBuffer, NULL, 0 };
    if (cert->subject.rdns != NULL) {
        for (rdn = cert->subject.rdns; *rdn != NULL; rdn++) {
            for (ava = (*rdn)->avas; ava != NULL && *ava != NULL; ava++) {
                count++;
            }
        }
    }
    if (CERT_FindCertExtension(cert, SEC_OID_X509_SUBJECT_ALT_NAME, &san) == SECSuccess) {
        PLArenaPool *arena = PORT_NewArena(DER_DEFAULT_CHUNKSIZE);
        if (arena != NULL) {
            CERTGeneralName *names = CERT_DecodeAltNameExtension(arena, &san), *current = names;
            if (names != NULL) {
                do {
                    count++;
                    current = CERT_GetNextGeneralName(current);
                } while (current != names);
            }
            PORT_FreeArena(arena, PR_FALSE);
        }
        SECITEM_FreeItem(&san, PR_FALSE);
    }
    return count;
}

static PRUint64 tlsapi_nss_count_constraints(CERTCertificate *cert)
{
    PRUint64 count = 0;
    SECItem encoded = { siBuffer, NULL, 0 };
    SECItem **item;
    PLArenaPool *arena;
    CERTNameConstraints *constraints;
    if (CERT_FindCertExtension(cert, SEC_OID_X509_NAME_CONSTRAINTS, &encoded) != SECSuccess) {
        return 0;
    }
    arena = PORT_NewArena(DER_DEFAULT_CHUNKSIZE);
    if (arena != NULL) {
        constraints = CERT_DecodeNameConstraintsExtension(arena, &encoded);
        if (constraints == NULL) {
            count = 1; /* undecodable: NSS will refuse it, no blowup to fear */
        } else {
            for (item = constraints->DERPermited; item != NULL && *item != NULL; item++) {
                count++;
            }
            for (item = constraints->DERExcluded; item != NULL && *item != NULL; item++) {
                count++;
            }
        }
        PORT_FreeArena(arena, PR_FALSE);
    }
    SECITEM_FreeItem(&encoded, PR_FALSE);
    return count;
}

static PRUint64 tlsapi_nss_list_constraints(CERTCertList *list, CERTCertificate *leaf)
{
    PRUint64 count = 0;
    CERTCertListNode *node;
    if (list == NULL) {
        return 0;
    }
    for (node = CERT_LIST_HEAD(list); !CERT_LIST_END(node, list); node = CERT_LIST_NEXT(node)) {
        if (!CERT_CompareCerts(node->cert, leaf)) {
            count += tlsapi_nss_count_constraints(node->cert);
        }
    }
    return count;
}

PRInt32 tlsapi_nss_verify_certificate(CERTCertificate *cert, SECCertificateUsage usage,
                                      CERTCertList *anchors, CERTCertList *presented,
                                      PRTime when, CERTCertList **verified)
{
    PRUint64 no_revocation[2] = {
        CERT_REV_M_DO_NOT_TEST_USING_THIS_METHOD | CERT_REV_M_FORBID_NETWORK_FETCHING,
        CERT_REV_M_DO_NOT_TEST_USING_THIS_METHOD | CERT_REV_M_FORBID_NETWORK_FETCHING,
    };
    CERTRevocationFlags revocation;
    CERTValInParam in[6];
    CERTValOutParam out[3];
    CERTCertListNode *node;
    PRInt32 result = 0;
    int n = 0;

    {
        PRUint64 constraints = tlsapi_nss_list_constraints(presented, cert) +
                               tlsapi_nss_list_constraints(anchors, cert);
        if (constraints != 0 &&
            constraints * tlsapi_nss_count_names(cert) > TLSAPI_NSS_MAX_NAME_CHECKS) {
            PR_SetError(SEC_ERROR_OUT_OF_SEARCH_LIMITS, 0);
            return SEC_ERROR_OUT_OF_SEARCH_LIMITS;
        }
    }
    memset(&revocation, 0, sizeof(revocation));
    revocation.leafTests.number_of_defined_methods = 2;
    revocation.leafTests.cert_rev_flags_per_method = no_revocation;
    revocation.chainTests.number_of_defined_methods = 2;
    revocation.chainTests.cert_rev_flags_per_method = no_revocation;

    in[n].type = cert_pi_revocationFlags;
    in[n++].value.pointer.revocation = &revocation;
    in[n].type = cert_pi_useAIACertFetch;
    in[n++].value.scalar.b = PR_FALSE;
    if (anchors != NULL) {
        in[n].type = cert_pi_trustAnchors;
        in[n++].value.pointer.chain = anchors;
        in[n].type = cert_pi_useOnlyTrustAnchors;
        in[n++].value.scalar.b = PR_TRUE;
    }
    if (when != 0) {
        in[n].type = cert_pi_date;
        in[n++].value.scalar.time = when;
    }
    in[n].type = cert_pi_end;
    memset(out, 0, sizeof(out));
    out[0].type = cert_po_trustAnchor;
    out[1].type = cert_po_certList;
    out[2].type = cert_po_end;

    if (CERT_PKIXVerifyCert(cert, usage, in, out, NULL) != SECSuccess) {
        PRErrorCode code = PR_GetError();
        return code < 0 ? code : SEC_ERROR_LIBRARY_FAILURE;
    }
    if (out[0].value.pointer.cert != NULL &&
        tlsapi_nss_not_yet_valid(out[0].value.pointer.cert, when)) {
        result = SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE;
    }
    if (out[1].value.pointer.chain != NULL) {
        CERTCertList *path = out[1].value.pointer.chain;
        for (node = CERT_LIST_HEAD(path); !CERT_LIST_END(node, path) && result == 0;
             node = CERT_LIST_NEXT(node)) {
            if (tlsapi_nss_not_yet_valid(node->cert, when)) {
                result = node->cert == cert || CERT_CompareCerts(node->cert, cert)
                             ? SEC_ERROR_EXPIRED_CERTIFICATE
                             : SEC_ERROR_EXPIRED_ISSUER_CERTIFICATE;
            }
        }
    }
    if (result == 0 && presented != NULL && out[1].value.pointer.chain != NULL) {
        CERTCertList *path = out[1].value.pointer.chain;
        for (node = CERT_LIST_HEAD(path); !CERT_LIST_END(node, path);
             node = CERT_LIST_NEXT(node)) {
            if (out[0].value.pointer.cert != NULL &&
                CERT_CompareCerts(node->cert, out[0].value.pointer.cert)) {
                continue;
            }
            if (!tlsapi_nss_list_holds(presented, node->cert)) {
                result = SEC_ERROR_UNKNOWN_ISSUER;
                break;
            }
        }
    }
    if (verified != NULL) {
        *verified = NULL;
    }
    if (result == 0 && verified != NULL && out[1].value.pointer.chain != NULL) {
        CERTCertList *path = out[1].value.pointer.chain;
        CERTCertificate *anchor = out[0].value.pointer.cert;
        CERTCertListNode *last = CERT_LIST_TAIL(path);
        /* The anchor ends the path, once (whether or not libpkix listed it). */
        if (anchor != NULL &&
            (CERT_LIST_END(last, path) || !CERT_CompareCerts(last->cert, anchor)) &&
            CERT_AddCertToListTail(path, anchor) == SECSuccess) {
            out[0].value.pointer.cert = NULL; /* the list owns it now */
        }
        *verified = path;
        out[1].value.pointer.chain = NULL; /* the caller's now */
    }
    if (out[0].value.pointer.cert != NULL) {
        CERT_DestroyCertificate(out[0].value.pointer.cert);
    }
    if (out[1].value.pointer.chain != NULL) {
        CERT_DestroyCertList(out[1].value.pointer.chain);
    }
    if (result != 0) {
        PR_SetError(result, 0);
    }
    return result;
}

/* The DER of `count` certificates of `chain` (all of them), then of each of `path`'s, is
 * exactly `ders`.  DER is self-delimiting, and each certificate is compared at its own
 * length: equal bytes are the same certificates in the same order. */
static PRBool tlsapi_nss_same_ders(CERTCertList *chain, int count, CERTCertList *path,
                                   const char *ders, size_t length)
{
    CERTCertList *lists[2] = { chain, path };
    CERTCertListNode *node;
    size_t at = 0;
    int i, seen = 0;
    for (i = 0; i < 2; i++) {
        if (lists[i] == NULL) {
            continue;
        }
        for (node = CERT_LIST_HEAD(lists[i]); !CERT_LIST_END(node, lists[i]);
             node = CERT_LIST_NEXT(node)) {
            const SECItem *der = &node->cert->derCert;
            if (der->len > length - at || memcmp(ders + at, der->data, der->len) != 0) {
                return PR_FALSE;
            }
            at += der->len;
            seen += i == 0;
        }
    }
    return at == length && seen == count;
}

PRInt32 tlsapi_nss_check_peer(PRFileDesc *fd, SECCertificateUsage usage, CERTCertList *anchors,
                              const char *host, const unsigned char *ip, unsigned int ip_length,
                              const char *passed, size_t passed_length, int passed_count,
                              tlsapi_nss_peer *peer)
{
    PRInt32 code;
    memset(peer, 0, sizeof(*peer));
    peer->cert = SSL_PeerCertificate(fd);
    if (peer->cert == NULL) {
        PR_SetError(SSL_ERROR_NO_CERTIFICATE, 0);
        return SSL_ERROR_NO_CERTIFICATE;
    }
    peer->presented = SSL_PeerCertificateChain(fd);
    code = tlsapi_nss_verify_certificate(peer->cert, usage, anchors, peer->presented, 0,
                                         &peer->path);
    if (code == 0 && ip != NULL) {
        /* Only an IP entry of the subjectAltName names an address (RFC 6125). */
        if (!tlsapi_nss_has_ip(peer->cert, ip, ip_length)) {
            code = SSL_ERROR_BAD_CERT_DOMAIN;
        }
    } else if (code == 0 && host != NULL && CERT_VerifyCertName(peer->cert, host) != SECSuccess) {
        code = SSL_ERROR_BAD_CERT_DOMAIN;
    }
    if (peer->presented != NULL) {
        peer->presented_count = tlsapi_nss_list_ders(peer->presented, peer->presented_ders,
                                                     peer->presented_lengths, TLSAPI_NSS_PEER_ROOM);
    }
    if (peer->path != NULL) {
        CERTCertListNode *step, *sent;
        peer->path_count = tlsapi_nss_list_ders(peer->path, peer->path_ders, peer->path_lengths,
                                                TLSAPI_NSS_PEER_ROOM);
        /* Usually the chain as sent, then the anchor: Python then copies the anchor only. */
        if (peer->presented != NULL) {
            for (step = CERT_LIST_HEAD(peer->path), sent = CERT_LIST_HEAD(peer->presented);
                 !CERT_LIST_END(step, peer->path) && !CERT_LIST_END(sent, peer->presented) &&
                 CERT_CompareCerts(step->cert, sent->cert);
                 step = CERT_LIST_NEXT(step), sent = CERT_LIST_NEXT(sent)) {
                peer->path_presented++;
            }
        }
    }
    if (code != 0) {
        PR_SetError(code, 0);
    } else if (passed != NULL) {
        peer->passed = tlsapi_nss_same_ders(peer->presented, passed_count, peer->path, passed,
                                            passed_length);
    }
    return code;
}

void tlsapi_nss_peer_release(tlsapi_nss_peer *peer)
{
    if (peer->path != NULL) {
        CERT_DestroyCertList(peer->path);
    }
    if (peer->presented != NULL) {
        CERT_DestroyCertList(peer->presented);
    }
    if (peer->cert != NULL) {
        CERT_DestroyCertificate(peer->cert);
    }
    memset(peer, 0, sizeof(*peer));
}

CERTCertificateList *tlsapi_nss_certificate_list(CERTCertificate **certs, int count)
{
    PLArenaPool *arena;
    CERTCertificateList *list;
    int i;
    if (count <= 0 || (arena = PORT_NewArena(4096)) == NULL) {
        return NULL;
    }
    list = PORT_ArenaZNew(arena, CERTCertificateList);
    /* count > 0 here: the conversion keeps its value */
    if (list == NULL ||
        (list->certs = PORT_ArenaZNewArray(arena, SECItem, (size_t)count)) == NULL) {
        PORT_FreeArena(arena, PR_FALSE);
        return NULL;
    }
    list->arena = arena;
    list->len = count;
    for (i = 0; i < count; i++) {
        if (SECITEM_CopyItem(arena, &list->certs[i], &certs[i]->derCert) != SECSuccess) {
            PORT_FreeArena(arena, PR_FALSE);
            return NULL;
        }
    }
    return list;
}
