"""cdefs for <Security/SecureTransport.h> (and CipherSuite.h, SecProtocolTypes.h, which it includes).

Secure Transport reads and writes through two C functions we give it
(SSLSetIOFuncs); ours are in transport.c, over C-side buffers, and answer
errSSLWouldBlock when there is nothing to read.  The enumerations are
``CF_ENUM(int, ...)`` in the headers (SSLCipherSuite is uint32_t on macOS,
uint16_t only on iOS).  errSSLServerAuthCompleted and
errSSLClientAuthCompleted are both errSSLPeerAuthCompleted (-9841): what
SSLHandshake returns when it breaks on authentication so that we validate.
"""

INCLUDES = """
#include <Security/SecureTransport.h>
"""

TYPES = """
typedef ... *SSLContextRef;
typedef const void *SSLConnectionRef;
typedef uint32_t SSLCipherSuite;
typedef int SSLProtocol;
typedef int SSLProtocolSide;
typedef int SSLConnectionType;
typedef int SSLSessionOption;
typedef int SSLSessionState;
typedef int SSLAuthenticate;
typedef int SSLClientCertificateState;

typedef OSStatus (*SSLReadFunc)(SSLConnectionRef connection, void *data, size_t *dataLength);
typedef OSStatus (*SSLWriteFunc)(SSLConnectionRef connection, const void *data,
                                 size_t *dataLength);

#define kSSLProtocolUnknown 0
#define kTLSProtocol1 4
#define kTLSProtocol11 7
#define kTLSProtocol12 8
#define kTLSProtocol13 10

#define kSSLServerSide 0
#define kSSLClientSide 1
#define kSSLStreamType 0

#define kSSLSessionOptionBreakOnServerAuth 0
#define kSSLSessionOptionBreakOnClientAuth 2

#define kSSLIdle 0
#define kSSLHandshake 1
#define kSSLConnected 2
#define kSSLClosed 3
#define kSSLAborted 4

#define kNeverAuthenticate 0
#define kAlwaysAuthenticate 1
#define kTryAuthenticate 2

#define errSSLProtocol -9800
#define errSSLNegotiation -9801
#define errSSLFatalAlert -9802
#define errSSLWouldBlock -9803
#define errSSLClosedGraceful -9805
#define errSSLClosedAbort -9806
#define errSSLXCertChainInvalid -9807
#define errSSLBadCert -9808
#define errSSLCrypto -9809
#define errSSLInternal -9810
#define errSSLUnknownRootCert -9812
#define errSSLNoRootCert -9813
#define errSSLCertExpired -9814
#define errSSLCertNotYetValid -9815
#define errSSLClosedNoNotify -9816
#define errSSLBufferOverflow -9817
#define errSSLBadCipherSuite -9818
#define errSSLPeerUnexpectedMsg -9819
#define errSSLPeerBadRecordMac -9820
#define errSSLPeerDecryptionFail -9821
#define errSSLPeerRecordOverflow -9822
#define errSSLPeerHandshakeFail -9824
#define errSSLPeerBadCert -9825
#define errSSLPeerUnsupportedCert -9826
#define errSSLPeerCertRevoked -9827
#define errSSLPeerCertExpired -9828
#define errSSLPeerCertUnknown -9829
#define errSSLIllegalParam -9830
#define errSSLPeerUnknownCA -9831
#define errSSLPeerAccessDenied -9832
#define errSSLPeerDecodeError -9833
#define errSSLPeerDecryptError -9834
#define errSSLPeerProtocolVersion -9836
#define errSSLPeerInsufficientSecurity -9837
#define errSSLPeerInternalError -9838
#define errSSLPeerUserCancelled -9839
#define errSSLPeerNoRenegotiation -9840
#define errSSLPeerAuthCompleted -9841
#define errSSLClientCertRequested -9842
#define errSSLHostNameMismatch -9843
#define errSSLConnectionRefused -9844
#define errSSLDecryptionFail -9845
#define errSSLBadRecordMac -9846
#define errSSLRecordOverflow -9847
#define errSSLBadConfiguration -9848
#define errSSLServerAuthCompleted ...
#define errSSLClientAuthCompleted ...
"""

FUNCTIONS = """
SSLContextRef SSLCreateContext(CFAllocatorRef alloc, SSLProtocolSide protocolSide,
                               SSLConnectionType connectionType);
OSStatus SSLSetIOFuncs(SSLContextRef context, SSLReadFunc readFunc, SSLWriteFunc writeFunc);
OSStatus SSLSetConnection(SSLContextRef context, SSLConnectionRef connection);
OSStatus SSLHandshake(SSLContextRef context);
OSStatus SSLRead(SSLContextRef context, void *data, size_t dataLength, size_t *processed);
OSStatus SSLWrite(SSLContextRef context, const void *data, size_t dataLength, size_t *processed);
OSStatus SSLClose(SSLContextRef context);
OSStatus SSLGetBufferedReadSize(SSLContextRef context, size_t *bufferSize);
OSStatus SSLGetSessionState(SSLContextRef context, SSLSessionState *state);

OSStatus SSLSetProtocolVersionMin(SSLContextRef context, SSLProtocol minVersion);
OSStatus SSLSetProtocolVersionMax(SSLContextRef context, SSLProtocol maxVersion);
OSStatus SSLGetNegotiatedProtocolVersion(SSLContextRef context, SSLProtocol *protocol);

OSStatus SSLGetNumberSupportedCiphers(SSLContextRef context, size_t *numCiphers);
OSStatus SSLGetSupportedCiphers(SSLContextRef context, SSLCipherSuite *ciphers,
                                size_t *numCiphers);
OSStatus SSLSetEnabledCiphers(SSLContextRef context, const SSLCipherSuite *ciphers,
                              size_t numCiphers);
OSStatus SSLGetNumberEnabledCiphers(SSLContextRef context, size_t *numCiphers);
OSStatus SSLGetEnabledCiphers(SSLContextRef context, SSLCipherSuite *ciphers,
                              size_t *numCiphers);
OSStatus SSLGetNegotiatedCipher(SSLContextRef context, SSLCipherSuite *cipherSuite);

OSStatus SSLSetPeerDomainName(SSLContextRef context, const char *peerName, size_t peerNameLen);
OSStatus SSLSetPeerID(SSLContextRef context, const void *peerID, size_t peerIDLen);
OSStatus SSLSetSessionOption(SSLContextRef context, SSLSessionOption option, Boolean value);
OSStatus SSLSetCertificate(SSLContextRef context, CFArrayRef certRefs);
OSStatus SSLSetClientSideAuthenticate(SSLContextRef context, SSLAuthenticate auth);
OSStatus SSLGetClientCertificateState(SSLContextRef context,
                                      SSLClientCertificateState *clientState);
OSStatus SSLCopyPeerTrust(SSLContextRef context, SecTrustRef *trust);

OSStatus SSLSetALPNProtocols(SSLContextRef context, CFArrayRef protocols);
OSStatus SSLCopyALPNProtocols(SSLContextRef context, CFArrayRef *protocols);
"""
