"""The TLS layer (ssl.h): sockets, options, hooks, handshake, channel information.

The handshake and shutdown as one C call each are our shims (``shims.c``);
reading and writing application data, which need the memory I/O state as
well, are in ``memio.c``.
"""

INCLUDES = """
#include <ssl.h>
"""

TYPES = """
#define SSL_SECURITY ...
#define SSL_REQUEST_CERTIFICATE ...
#define SSL_HANDSHAKE_AS_CLIENT ...
#define SSL_HANDSHAKE_AS_SERVER ...
#define SSL_NO_CACHE ...
#define SSL_REQUIRE_CERTIFICATE ...
#define SSL_ENABLE_SESSION_TICKETS ...
#define SSL_ENABLE_RENEGOTIATION ...
#define SSL_REQUIRE_SAFE_NEGOTIATION ...
#define SSL_ENABLE_FALSE_START ...
#define SSL_ENABLE_OCSP_STAPLING ...
#define SSL_ENABLE_NPN ...
#define SSL_ENABLE_ALPN ...
#define SSL_ENABLE_FALLBACK_SCSV ...
#define SSL_ENABLE_EXTENDED_MASTER_SECRET ...
#define SSL_ENABLE_0RTT_DATA ...
#define SSL_ENABLE_HELLO_DOWNGRADE_CHECK ...
#define SSL_ENABLE_V2_COMPATIBLE_HELLO ...
#define SSL_ENABLE_POST_HANDSHAKE_AUTH ...
#define SSL_ENABLE_SERVER_DHE ...
#define SSL_REQUIRE_DH_NAMED_GROUPS ...

#define SSL_REQUIRE_NEVER ...
#define SSL_REQUIRE_ALWAYS ...
#define SSL_RENEGOTIATE_NEVER ...
#define SSL_NOT_ALLOWED ...
#define SSL_ALLOWED ...

#define SSL_SNI_CURRENT_CONFIG_IS_USED ...
#define SSL_SNI_SEND_ALERT ...

typedef enum SSLNextProtoState {
    SSL_NEXT_PROTO_NO_SUPPORT = 0,
    SSL_NEXT_PROTO_NEGOTIATED = 1,
    SSL_NEXT_PROTO_NO_OVERLAP = 2,
    SSL_NEXT_PROTO_SELECTED = 3,
    SSL_NEXT_PROTO_EARLY_VALUE = 4
} SSLNextProtoState;

typedef SECStatus (*SSLAuthCertificate)(void *arg, PRFileDesc *fd, PRBool checkSig,
                                        PRBool isServer);
typedef SECStatus (*SSLGetClientAuthData)(void *arg, PRFileDesc *fd, CERTDistNames *caNames,
                                          CERTCertificate **pRetCert,
                                          SECKEYPrivateKey **pRetKey);
typedef PRInt32 (*SSLSNISocketConfig)(PRFileDesc *fd, const SECItem *srvNameArr,
                                      PRUint32 srvNameArrSize, void *arg);
typedef SECStatus (*SSLNextProtoCallback)(void *arg, PRFileDesc *fd,
                                          const unsigned char *protos, unsigned int protosLen,
                                          unsigned char *protoOut, unsigned int *protoOutLen,
                                          unsigned int protoMaxOut);
"""

FUNCTIONS = """
const PRUint16 *SSL_GetImplementedCiphers(void);
PRUint16 SSL_GetNumImplementedCiphers(void);
PRFileDesc *SSL_ImportFD(PRFileDesc *model, PRFileDesc *fd);
SECStatus SSL_OptionSet(PRFileDesc *fd, PRInt32 option, PRIntn val);
SECStatus SSL_OptionGet(PRFileDesc *fd, PRInt32 option, PRIntn *val);
SECStatus SSL_CipherPrefSet(PRFileDesc *fd, PRInt32 cipher, PRBool enabled);
SECStatus SSL_CipherPrefGet(PRFileDesc *fd, PRInt32 cipher, PRBool *enabled);
SECStatus SSL_CipherPolicyGet(PRInt32 cipher, PRInt32 *policy);
SECStatus SSL_VersionRangeGetSupported(SSLProtocolVariant protocolVariant,
                                       SSLVersionRange *vrange);
SECStatus SSL_VersionRangeGet(PRFileDesc *fd, SSLVersionRange *vrange);
SECStatus SSL_VersionRangeSet(PRFileDesc *fd, const SSLVersionRange *vrange);
SECStatus SSL_ResetHandshake(PRFileDesc *fd, PRBool asServer);
CERTCertificate *SSL_PeerCertificate(PRFileDesc *fd);
CERTCertList *SSL_PeerCertificateChain(PRFileDesc *fd);
SECStatus SSL_AuthCertificateHook(PRFileDesc *fd, SSLAuthCertificate f, void *arg);
SECStatus SSL_GetClientAuthDataHook(PRFileDesc *fd, SSLGetClientAuthData f, void *a);
SECStatus SSL_SNISocketConfigHook(PRFileDesc *fd, SSLSNISocketConfig f, void *arg);
SECStatus SSL_ConfigServerCert(PRFileDesc *fd, CERTCertificate *cert, SECKEYPrivateKey *key,
                               const SSLExtraServerCertData *data, unsigned int data_len);
SECStatus SSL_SetURL(PRFileDesc *fd, const char *url);
SECStatus SSL_SetSockPeerID(PRFileDesc *fd, const char *peerID);
SECStatus SSL_InvalidateSession(PRFileDesc *fd);
SECStatus SSL_SetTrustAnchors(PRFileDesc *fd, CERTCertList *list);
int SSL_DataPending(PRFileDesc *fd);
SECStatus SSL_GetChannelInfo(PRFileDesc *fd, SSLChannelInfo *info, PRUintn len);
SECStatus SSL_SetNextProtoNego(PRFileDesc *fd, const unsigned char *data, unsigned int length);
SECStatus SSL_SetNextProtoCallback(PRFileDesc *fd, SSLNextProtoCallback callback, void *arg);
SECStatus SSL_GetNextProto(PRFileDesc *fd, SSLNextProtoState *state, unsigned char *buf,
                           unsigned int *bufLen, unsigned int bufLenMax);
SECItem *SSL_GetNegotiatedHostInfo(PRFileDesc *fd);
SECStatus SSL_SignatureSchemePrefSet(PRFileDesc *fd, const SSLSignatureScheme *schemes,
                                     unsigned int count);
SECStatus SSL_SignatureSchemePrefGet(PRFileDesc *fd, SSLSignatureScheme *schemes,
                                     unsigned int *count, unsigned int maxCount);
void SSL_ClearSessionCache(void);
SECStatus SSL_ShutdownServerSessionIDCache(void);
SECStatus SSL_NamedGroupConfig(PRFileDesc *fd, const SSLNamedGroup *groups,
                               unsigned int num_groups);
"""
