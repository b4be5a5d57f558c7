"""tlsapi: one Python API for TLS, with the platform's own TLS library underneath.

    import tlsapi
    config = tlsapi.TLSConfiguration(inner_protocols=(tlsapi.NextProtocol.HTTP1,))
    context = tlsapi.ClientContext(config)          # the default backend's
    with context.wrap_socket(sock, "example.org") as tls:
        tls.sendall(b"...")

Choose a backend explicitly with ``tlsapi.backend("gnutls").client_context(config)``;
see ``tlsapi.available_backends()`` and the ``tlsapi backends`` command.
"""

from ._adapter import SSLContext, extract_from_ssl, inject_into_ssl
from ._backend import Backend, Capability
from ._buffer import TLSWrappedBuffer
from ._ciphers import DEFAULT_CIPHER_LIST, CipherSuite
from ._config import TLSConfiguration
from ._context import ClientContext, ServerContext
from ._credentials import Certificate, PrivateKey, TrustStore
from ._errors import (
    CertificateError,
    CertificateErrorReason,
    ConfigurationError,
    InsecureConfigurationWarning,
    NotTLSError,
    RaggedEOF,
    TLSError,
    WantReadError,
    WantWriteError,
)
from ._groups import NamedGroup
from ._protocols import NextProtocol
from ._registry import available_backends, backend, default_backend
from ._session import TLSSession
from ._sigschemes import SignatureScheme
from ._socket import TLSWrappedSocket
from ._version import __version__
from ._versions import TLSVersion

__all__ = [
    "DEFAULT_CIPHER_LIST",
    "Backend",
    "Capability",
    "Certificate",
    "CertificateError",
    "CertificateErrorReason",
    "CipherSuite",
    "ClientContext",
    "ConfigurationError",
    "InsecureConfigurationWarning",
    "NamedGroup",
    "NextProtocol",
    "NotTLSError",
    "PrivateKey",
    "RaggedEOF",
    "SSLContext",
    "ServerContext",
    "SignatureScheme",
    "TLSConfiguration",
    "TLSError",
    "TLSSession",
    "TLSVersion",
    "TLSWrappedBuffer",
    "TLSWrappedSocket",
    "TrustStore",
    "WantReadError",
    "WantWriteError",
    "__version__",
    "available_backends",
    "backend",
    "default_backend",
    "extract_from_ssl",
    "inject_into_ssl",
]
