"""The NSS callbacks of a connection, implemented in Python (no header: ours).

Each is passed to NSS as a plain function pointer (``lib.<name>``) with the
connection's cffi handle as its argument (the SNI hook gets it last, as NSS
orders it).  The Python side never lets an exception escape into C: it
records the exception on the connection and answers failure, and the
handshake's error path chains it.
"""

INCLUDES = ""

TYPES = ""

FUNCTIONS = """
extern "Python" SECStatus tlsapi_nss_auth_certificate_cb(void *arg, PRFileDesc *fd,
                                                         PRBool checkSig, PRBool isServer);
extern "Python" SECStatus tlsapi_nss_client_auth_data_cb(void *arg, PRFileDesc *fd,
                                                         CERTDistNames *caNames,
                                                         CERTCertificate **pRetCert,
                                                         SECKEYPrivateKey **pRetKey);
extern "Python" PRInt32 tlsapi_nss_sni_config_cb(PRFileDesc *fd, const SECItem *srvNameArr,
                                                 PRUint32 srvNameArrSize, void *arg);
extern "Python" void tlsapi_nss_secret_cb(PRFileDesc *fd, PRUint16 epoch,
                                          SSLSecretDirection dir, PK11SymKey *secret,
                                          void *arg);
extern "Python" SECStatus tlsapi_nss_resumption_token_cb(PRFileDesc *fd, const PRUint8 *token,
                                                         unsigned int len, void *ctx);
extern "Python" SSLHelloRetryRequestAction tlsapi_nss_hello_retry_cb(
    PRBool firstHello, const PRUint8 *clientToken, unsigned int clientTokenLen,
    PRUint8 *retryToken, unsigned int *retryTokenLen, unsigned int retryTokMax, void *arg);
"""
