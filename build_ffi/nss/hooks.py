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
"""
