"""SSLContext: an ``ssl.SSLContext`` whose connections are made by a tlsapi backend.

Programs and libraries configure it with the ``ssl`` API they already use;
each setting is checked when it is made (one that no tlsapi backend can
honour raises ConfigurationError saying what to do instead) and recorded.
At the first ``wrap_bio``/``wrap_socket`` after a change, the settings become
one ``TLSConfiguration`` and, when it differs from the last one, a new tlsapi
context, which later connections share (with its sessions: a session is
resumed only through the tlsapi context that made it).

The OpenSSL context underneath (``ssl.SSLContext`` is a C type) only keeps
the plain values (``verify_mode``, ``check_hostname``, ``options``, versions)
so that reading them back behaves exactly as ``ssl`` does; it never makes a
connection.
"""

from __future__ import annotations

import os
import re
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from .._backend import Backend, Capability
from .._ciphers import weakness
from .._config import TLSConfiguration
from .._context import ClientContext, ServerContext
from .._credentials import Certificate, PrivateKey, TrustStore
from .._der import DERError
from .._errors import ConfigurationError, TLSError
from .._policy import read_certificate
from .._protocols import NextProtocol
from .._session import TLSSession
from .._versions import TLSVersion
from ._session import check_session, offer_session

if TYPE_CHECKING:
    import socket as _socket

    from typing_extensions import Buffer

    from .._buffer import TLSWrappedBuffer
    from ._object import SSLObject
    from ._socket import SSLSocket, _SocketConnection

__all__ = ["SSLContext"]

# The original class, even after inject_into_ssl(); Any: its C descriptors are used directly.
_SSL: Any = ssl.SSLContext
# The C type under it.  ssl.SSLContext's own Python setters name the class
# through the module global (super(SSLContext, SSLContext)), which is ours once
# injected: calling them from ours would recurse, so we use the C ones.  And a
# plain ssl context (the stdlib backend's) setting verify_mode and the like then
# reaches our setters: they pass such a context straight to the C descriptor,
# which is all ssl's setter would have done.
_C: Any = ssl.SSLContext.__mro__[1]

# ssl.TLSVersion -> tlsapi.TLSVersion; SSLv3 has no counterpart (no backend may speak it).
_VERSIONS = {
    ssl.TLSVersion.MINIMUM_SUPPORTED: TLSVersion.MINIMUM_SUPPORTED,
    ssl.TLSVersion.TLSv1: TLSVersion.TLSv1,
    ssl.TLSVersion.TLSv1_1: TLSVersion.TLSv1_1,
    ssl.TLSVersion.TLSv1_2: TLSVersion.TLSv1_2,
    ssl.TLSVersion.TLSv1_3: TLSVersion.TLSv1_3,
    ssl.TLSVersion.MAXIMUM_SUPPORTED: TLSVersion.MAXIMUM_SUPPORTED,
}


def _option(name: str) -> int:
    return int(getattr(ssl, name, 0))


# Options that only forbid what tlsapi never does anyway (SSL 2/3, compression,
# renegotiation), that change no outcome (OP_NO_TICKET: OpenSSL then resumes
# by session ID or stateful ticket instead; sessions still resume), or that are
# no-ops in every library we bind (OpenSSL's defaults).  They may be set or cleared.
_HARMLESS_OPTIONS = (
    _option("OP_NO_TICKET")
    | _option("OP_NO_RENEGOTIATION")
    | _option("OP_SINGLE_DH_USE")
    | _option("OP_SINGLE_ECDH_USE")
    | _option("OP_CIPHER_SERVER_PREFERENCE")
    | _option("OP_ENABLE_MIDDLEBOX_COMPAT")
    | _option("OP_NO_TLSv1")
    | _option("OP_NO_TLSv1_1")
)
# Set by ssl itself and never clearable here: tlsapi cannot turn these on.
_REQUIRED_OPTIONS = _option("OP_NO_SSLv2") | _option("OP_NO_SSLv3") | _option("OP_NO_COMPRESSION")
# Honoured by narrowing the version range.
_VERSION_OPTIONS = _option("OP_NO_TLSv1_2") | _option("OP_NO_TLSv1_3")
# What ssl sets in every new context (OpenSSL's bug workarounds among them) is the baseline.
_DEFAULT_OPTIONS = int(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).options)
_ALLOWED_OPTIONS = _HARMLESS_OPTIONS | _REQUIRED_OPTIONS | _VERSION_OPTIONS | _DEFAULT_OPTIONS

# verify_flags: OpenSSL's default (trusted first) and the strictness flags that
# Python 3.13 and urllib3 set by default; every tlsapi backend already refuses
# non-conforming certificates and builds its own path.  CRL checking is not offered.
_ALLOWED_VERIFY_FLAGS = (
    int(ssl.VERIFY_DEFAULT)
    | int(ssl.VERIFY_X509_TRUSTED_FIRST)
    | int(getattr(ssl, "VERIFY_X509_STRICT", 0))
    | int(getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0))
)

# OpenSSL's c_rehash names in a capath directory: <8 hex digits>.<n> (".r<n>" are CRLs).
_HASHED_NAME = re.compile(r"^[0-9a-f]{8}\.[0-9]+$")

SSLSNICallback = Callable[[Any, Optional[str], ssl.SSLContext], Optional[int]]


def _backend_of(backend: str | Backend | None) -> Backend:
    from .._registry import backend as by_name
    from .._registry import default_backend

    if backend is None:
        return default_backend()
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, str):
        return by_name(backend)
    raise ConfigurationError(
        f"backend must be a tlsapi.Backend, a backend name or None, not {type(backend).__name__}"
    )


def _ssl_cipher_numbers(cipher_string: str) -> list[int]:
    """The IANA numbers of the suites an OpenSSL cipher string selects, in its order.

    OpenSSL itself parses the string (through a throwaway ``ssl`` context): its
    cipher-string language is large and only OpenSSL defines it exactly.
    """
    probe = _SSL(ssl.PROTOCOL_TLS_CLIENT)
    try:
        probe.set_ciphers(cipher_string)
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"set_ciphers({cipher_string!r}): OpenSSL selects no cipher suite from it ({exc})"
        ) from None
    return [entry["id"] & 0xFFFF for entry in probe.get_ciphers()]


class SSLContext(ssl.SSLContext):
    """An ``ssl.SSLContext`` whose connections are made by a tlsapi backend.

    ``SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend="gnutls")``; ``backend=None``
    is ``tlsapi.default_backend()``.  Pass it wherever an ``ssl.SSLContext`` goes
    (asyncio, trio, anyio, httpx, urllib3, aiohttp).  What the backend lacks is
    refused (ConfigurationError) when asked for: ``PROTOCOL_TLS_SERVER`` when the
    context is made, ``minimum_version=TLSv1_3`` or ``keylog_filename`` when it
    is set, a second chain of another key type when ``load_cert_chain`` is
    called again, and so on.

    Sessions: ``sock.session`` is a ``tlsapi.TLSSession`` (see ``_session``) that
    ``wrap_socket``/``wrap_bio(session=...)`` and ``sock.session = ...`` take
    back, with ssl's checks; on a backend without session resumption it stays
    None, so nothing is ever resumed there.
    """

    # Set on the classes inject_into_ssl() makes, for contexts made without backend=.
    _injected_backend: Backend | None = None
    # ssl's own class, for code that needs a real OpenSSL context while injected
    # (the stdlib backend: tlsapi._stdlib._ciphers.plain_ssl_context).
    _ssl_original: ClassVar[type[ssl.SSLContext]] = _SSL

    def __new__(
        cls,
        protocol: int = ssl.PROTOCOL_TLS_CLIENT,
        *args: Any,
        backend: str | Backend | None = None,
        **kwargs: Any,
    ) -> SSLContext:
        if protocol not in (
            ssl.PROTOCOL_TLS_CLIENT,
            ssl.PROTOCOL_TLS_SERVER,
            ssl.PROTOCOL_TLS,
        ):
            raise ConfigurationError(
                f"protocol {ssl._SSLMethod(protocol).name} pins one old protocol version, which "
                "tlsapi does not offer: use PROTOCOL_TLS_CLIENT or PROTOCOL_TLS_SERVER and "
                "set minimum_version/maximum_version"
            )
        return super().__new__(cls, protocol)

    def __init__(
        self,
        protocol: int = ssl.PROTOCOL_TLS_CLIENT,
        *,
        backend: str | Backend | None = None,
    ) -> None:
        if backend is None:
            backend = type(self)._injected_backend
        self._backend = _backend_of(backend)
        if protocol == ssl.PROTOCOL_TLS_SERVER:
            # Refused now, not at the first connection: asyncio's start_server would
            # otherwise listen, then fail every accept (and stop accepting) instead.
            self._require(Capability.SERVER, "PROTOCOL_TLS_SERVER (a server context)")
        self._lock = threading.Lock()
        self._trusted: list[bytes] = []  # DER anchors from load_verify_locations
        self._trust_sources: list[str] = []
        self._system_trust = False
        # OpenSSL's certificate slots: key type -> chain, in the order first loaded.
        self._chains: dict[str, tuple[tuple[Certificate, ...], PrivateKey]] = {}
        self._keylog_filename: Any = None  # as given, for the getter (ssl returns it so)
        self._keylog_path: str | None = None
        # What the sessions of this context's connections are bound to.
        self._session_token = object()
        self._alpn: tuple[NextProtocol | bytes, ...] = ()
        self._ciphers: tuple[int, ...] | None = None
        self._ssl_sni_callback: SSLSNICallback | None = None
        self._built: dict[bool, ClientContext | ServerContext] = {}
        # Settings changes so far, and the count each side's context was checked at:
        # a change made while a context is being built is seen at the next connection.
        self._generation = 0
        self._checked_at: dict[bool, int] = {}

    # -- what the settings become -------------------------------------------

    @property
    def backend(self) -> Backend:
        """The tlsapi backend that makes this context's connections."""
        return self._backend

    def _changed(self) -> None:
        # Checked at the next connection: a setting set to the value it had (http.client
        # sets check_hostname for every HTTPSConnection) keeps the built context, with
        # its sessions; rebuilding cost 20-50 ms with the system trust store.
        self._generation += 1

    def _require(self, capability: Capability, what: str) -> None:
        if not self._backend.supports(capability):
            raise ConfigurationError(
                f"{what}: the {self._backend.name} backend does not support {capability.value}; "
                "choose another backend (tlsapi.available_backends())"
            )

    def _version_range(self) -> tuple[TLSVersion, TLSVersion]:
        low = _VERSIONS[ssl.TLSVersion(_C.minimum_version.__get__(self))]
        high = _VERSIONS[ssl.TLSVersion(_C.maximum_version.__get__(self))]
        options = int(_C.options.__get__(self))
        if options & _option("OP_NO_TLSv1_3"):
            high = TLSVersion.TLSv1_2
        if options & _option("OP_NO_TLSv1_2") and not options & _option("OP_NO_TLSv1_3"):
            low = TLSVersion.TLSv1_3
        if low is TLSVersion.MINIMUM_SUPPORTED:
            # ssl's MINIMUM_SUPPORTED is "whatever the library allows"; tlsapi's
            # own floor (TLS 1.2) is the honest reading, not TLS 1.0.
            low = TLSVersion.TLSv1_2
        return low, high

    def _trust_store(self) -> TrustStore | None:
        if self._trusted:
            return TrustStore.from_buffer(b"".join(self._trusted))
        if self._system_trust:
            return TrustStore.system()
        return None

    def _configuration(self, server_side: bool) -> TLSConfiguration:
        low, high = self._version_range()
        settings: dict[str, Any] = {
            "lowest_supported_version": low,
            "highest_supported_version": high,
            "inner_protocols": self._alpn,
            "certificate_chain": self._certificate_chain(server_side),
            "keylog_filename": self._keylog_path,
        }
        if self._ciphers is not None:
            settings["ciphers"] = self._ciphers
        verify_mode = _C.verify_mode.__get__(self)
        if server_side:
            if verify_mode == ssl.CERT_OPTIONAL:
                raise ConfigurationError(
                    "verify_mode=CERT_OPTIONAL on a server (ask for a client certificate, accept "
                    "none) is not supported by any tlsapi backend: use CERT_REQUIRED or CERT_NONE"
                )
            if verify_mode == ssl.CERT_REQUIRED:
                trust = self._trust_store()
                if trust is None:
                    raise ConfigurationError(
                        "verify_mode=CERT_REQUIRED on a server needs the CAs that issue client "
                        "certificates: call load_verify_locations(cafile=...)"
                    )
                self._require(Capability.CLIENT_CERTIFICATES, "client certificates")
                settings["trust_store"] = trust
            if self._ssl_sni_callback is not None:
                settings["sni_callback"] = self._tlsapi_sni_callback
        elif verify_mode == ssl.CERT_NONE:
            settings["validate_certificates"] = False
        else:
            if not _SSL.check_hostname.__get__(self):
                raise ConfigurationError(
                    "check_hostname=False with certificate verification on (verify the "
                    "chain but not the name) is not offered by tlsapi backends: keep "
                    "check_hostname=True and pass server_hostname, or set "
                    "verify_mode=CERT_NONE as well"
                )
            settings["trust_store"] = self._trust_store() or TrustStore.system()
        return TLSConfiguration(**settings)

    def _certificate_chain(self, server_side: bool) -> Any:
        chains = tuple(self._chains.values())
        if not chains:
            return None
        if len(chains) == 1:
            return chains[0]
        if not server_side:
            raise ConfigurationError(
                f"this context has {len(chains)} certificate chains ({', '.join(self._chains)}) "
                "and is used as a client, which presents one: load one chain into a client "
                "context (tlsapi cannot pick one by the server's CertificateRequest as OpenSSL does)"
            )
        return chains

    def _tls_context(self, server_side: bool) -> ClientContext | ServerContext:
        with self._lock:
            built = self._built.get(server_side)
            generation = self._generation
            if built is None or self._checked_at.get(server_side) != generation:
                config = self._configuration(server_side)
                if built is None or config != built.configuration:
                    try:
                        if server_side:
                            built = self._backend.server_context(config)
                        else:
                            built = self._backend.client_context(config)
                    except ConfigurationError as exc:
                        raise _in_ssl_terms(exc) from None
                    self._built[server_side] = built
                self._checked_at[server_side] = generation
            return built

    def _side(self, server_side: bool) -> bool:
        protocol = self.protocol
        if protocol == ssl.PROTOCOL_TLS_CLIENT and server_side:
            raise ValueError("Cannot create a server socket with a PROTOCOL_TLS_CLIENT context")
        if protocol == ssl.PROTOCOL_TLS_SERVER and not server_side:
            raise ValueError("Cannot create a client socket with a PROTOCOL_TLS_SERVER context")
        return server_side

    def _wrap_buffer(
        self, server_side: bool, server_hostname: str | None, session: object = None
    ) -> TLSWrappedBuffer:
        """A tlsapi buffer for one new connection, with ssl's rules on names and sessions."""
        if server_side:
            if server_hostname:
                raise ValueError("server_hostname can only be specified in client mode")
            if session is not None:
                check_session(session, self._session_token, server_side=True)
            context = self._tls_context(True)
            assert isinstance(context, ServerContext)
            return context.wrap_buffers()
        if _SSL.check_hostname.__get__(self) and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        offered = None if session is None else check_session(session, self._session_token, False)
        context = self._tls_context(False)
        assert isinstance(context, ClientContext)
        buffer = context.wrap_buffers(server_hostname or None)
        if offered is not None:
            offer_session(buffer, offered)
        return buffer

    def _configuration_for_sni(self) -> TLSConfiguration:
        """This context's server configuration, for an sni_callback that switched to it."""
        context = self._tls_context(True)
        return context.configuration

    def _tlsapi_sni_callback(
        self, buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration
    ) -> TLSConfiguration | None:
        from ._object import connection_of

        callback = self._ssl_sni_callback
        if callback is None:
            return None
        connection = connection_of(buffer)
        if connection is None:
            raise TLSError("tlsapi bug: an sni_callback ran for a connection it does not know")
        result = callback(connection.ssl_owner(), name, self)
        if result is not None:
            raise TLSError(
                f"the sni_callback refused the connection for server name {name!r} "
                f"(it returned TLS alert {result})"
            )
        chosen = connection.context
        if chosen is self:
            return None
        if not isinstance(chosen, SSLContext):
            raise ConfigurationError(
                "an sni_callback may only switch to another tlsapi.SSLContext, not "
                f"{type(chosen).__module__}.{type(chosen).__qualname__}"
            )
        return chosen._configuration_for_sni()

    # -- connections ---------------------------------------------------------

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | TLSSession | None = None,
    ) -> SSLObject:
        """An ``ssl.SSLObject`` over two memory BIOs (what asyncio and trio use).

        ``session``: an earlier connection's ``session`` from this context, offered
        for resumption (see the class docstring).
        """
        from ._object import SSLObject

        server_side = self._side(server_side)
        hostname = _SSL._encode_hostname(self, server_hostname)
        buffer = self._wrap_buffer(server_side, hostname, session)
        return SSLObject(self, buffer, incoming, outgoing, server_side, hostname)

    # ssl.SSLSocket calls this (from _create and connect) for its connection object.
    def _wrap_socket(
        self,
        sock: _socket.socket,
        server_side: bool,
        server_hostname: str | None = None,
        *,
        owner: SSLSocket | None = None,
        session: ssl.SSLSession | TLSSession | None = None,
    ) -> _SocketConnection:
        from ._socket import SSLSocket, _SocketConnection

        if not isinstance(sock, SSLSocket):
            raise TypeError("tlsapi.SSLContext wraps sockets only through wrap_socket()")
        buffer = self._wrap_buffer(self._side(server_side), server_hostname, session)
        return _SocketConnection(self, buffer, sock, server_side, server_hostname)

    # -- trust -----------------------------------------------------------------

    def load_verify_locations(
        self,
        cafile: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
        capath: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
        cadata: str | Buffer | None = None,
    ) -> None:
        """Trust these CAs (a PEM/DER file, a c_rehash directory, PEM text or DER bytes)."""
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        self._require(Capability.CUSTOM_TRUST, "load_verify_locations")
        found: list[bytes] = []
        sources: list[str] = []
        if cafile is not None:
            path = os.fsdecode(cafile)
            found += TrustStore.from_pem_file(path).certificates
            sources.append(path)
        if capath is not None:
            directory = os.fsdecode(capath)
            try:
                names = sorted(n for n in os.listdir(directory) if _HASHED_NAME.match(n))
            except OSError as exc:
                raise ConfigurationError(f"capath {directory!r}: {exc.strerror}") from None
            if not names:
                raise ConfigurationError(
                    f"capath {directory!r} holds no hashed certificate files (<hash>.0, made by "
                    "'openssl rehash'): give cafile= with a PEM bundle instead"
                )
            for name in names:
                found += TrustStore.from_pem_file(os.path.join(directory, name)).certificates
            sources.append(directory)
        if cadata is not None:
            if isinstance(cadata, str):
                data = cadata.encode("ascii")
            else:
                try:
                    data = bytes(memoryview(cadata))
                except TypeError:
                    raise TypeError(
                        "cadata should be an ASCII string or a bytes-like object"
                    ) from None
            found += TrustStore.from_buffer(data).certificates
            sources.append("cadata")
        self._trusted += [der for der in found if der not in self._trusted]
        self._trust_sources += sources
        self._changed()

    def load_default_certs(self, purpose: ssl.Purpose = ssl.Purpose.SERVER_AUTH) -> None:
        """Trust the system's CAs (``tlsapi.TrustStore.system()``)."""
        if not isinstance(purpose, ssl._ASN1Object):
            raise TypeError(purpose)
        self.set_default_verify_paths()

    def set_default_verify_paths(self) -> None:
        """Trust the system's CAs as the backend's library finds them."""
        self._require(Capability.SYSTEM_TRUST, "the system trust store")
        self._system_trust = True
        self._changed()

    def get_ca_certs(self, binary_form: bool = False) -> list[Any]:
        """The CAs given with load_verify_locations (the system's are the backend's to find)."""
        if binary_form:
            return list(self._trusted)
        from ._certdict import decode_certificate

        return [decode_certificate(der) for der in self._trusted]

    def cert_store_stats(self) -> dict[str, int]:
        return {"x509": len(self._trusted), "crl": 0, "x509_ca": len(self._trusted)}

    # -- own identity ------------------------------------------------------------

    def load_cert_chain(
        self,
        certfile: str | bytes | os.PathLike[str] | os.PathLike[bytes],
        keyfile: str | bytes | os.PathLike[str] | os.PathLike[bytes] | None = None,
        password: Callable[[], str | bytes | bytearray] | str | bytes | bytearray | None = None,
    ) -> None:
        """Present this certificate chain (leaf first) and key; the key may be in certfile.

        As in OpenSSL, each key type has one place: a chain whose key has the same
        type as an earlier one's (RSA, RSA-PSS, EC of any curve, Ed25519, ...)
        replaces it, and one of another type is added beside it.  A server then
        serves the chain the client's signature algorithms allow; that needs a
        backend with several-certificate-chains (refused here otherwise).  A
        client presents one chain: a second key type on a PROTOCOL_TLS_CLIENT
        context is refused here, on a PROTOCOL_TLS one when it acts as a client.
        """
        certificates = Certificate.chain_from_file(os.fsdecode(certfile))
        key_path = os.fsdecode(keyfile if keyfile is not None else certfile)
        key = PrivateKey.from_file(key_path, password=_password(password))
        if key.is_encrypted:
            self._require(Capability.ENCRYPTED_KEYS, "an encrypted private key")
        slot = _key_slot(certificates[0])
        chains = dict(self._chains)
        chains[slot] = (certificates, key)
        if len(chains) > 1:
            others = ", ".join(name for name in chains if name != slot)
            if self.protocol == ssl.PROTOCOL_TLS_CLIENT:
                raise ConfigurationError(
                    f"load_cert_chain: this client context already has a chain ({others} key) "
                    f"and this one has another key type ({slot}); a tlsapi client presents "
                    "one certificate chain (OpenSSL would choose by the server's "
                    "CertificateRequest): load one, or use a context per key type"
                )
            self._require(
                Capability.SEVERAL_CERTIFICATE_CHAINS,
                f"load_cert_chain with another key type ({slot}) beside the chain already "
                f"loaded ({others}): a server with several chains",
            )
            TLSConfiguration(certificate_chain=tuple(chains.values()))  # checked now
        self._chains = chains
        self._changed()

    def load_dh_params(self, path: str, /) -> None:
        raise ConfigurationError(
            "load_dh_params: tlsapi backends use their library's own finite-field groups "
            "(RFC 7919) and prefer ECDHE; remove the call"
        )

    def set_ecdh_curve(self, name: str, /) -> None:
        raise ConfigurationError(
            f"set_ecdh_curve({name!r}): tlsapi backends choose key exchange groups by the "
            "system's crypto policy; remove the call"
        )

    # -- negotiation ------------------------------------------------------------

    def set_alpn_protocols(self, alpn_protocols: Iterable[str]) -> None:
        """Offer (client) or accept (server) these ALPN protocols, most preferred first."""
        protocols = tuple(NextProtocol.from_bytes(p.encode("ascii")) for p in alpn_protocols)
        if protocols:
            server_only = self.protocol == ssl.PROTOCOL_TLS_SERVER
            # A PROTOCOL_TLS context's server side is checked by the backend when it is built.
            self._require(
                Capability.SERVER_ALPN if server_only else Capability.ALPN, "set_alpn_protocols"
            )
        TLSConfiguration(inner_protocols=protocols)  # checked now, not at wrap time
        self._alpn = protocols
        self._changed()

    def set_npn_protocols(self, npn_protocols: Iterable[str]) -> None:
        raise ConfigurationError(
            "NPN is obsolete and no tlsapi backend offers it: use set_alpn_protocols()"
        )

    def set_ciphers(self, cipherlist: str, /) -> None:
        """Allow the TLS 1.2 suites an OpenSSL cipher string selects (TLS 1.3 suites stay).

        OpenSSL parses the string; the suites are then given to the backend by
        IANA number.  Weak suites the string selects are left out (tlsapi never
        allows them); suites the backend cannot negotiate are left out too.  If
        nothing is left, this raises.
        """
        numbers = _ssl_cipher_numbers(cipherlist)
        supported = set(self._backend.supported_ciphers)
        chosen = tuple(
            n for n in numbers if weakness(n) is None and (not supported or n in supported)
        )
        if not any(n not in range(0x1301, 0x1306) for n in chosen):
            raise ConfigurationError(
                f"set_ciphers({cipherlist!r}) selects no TLS 1.2 cipher suite the "
                f"{self._backend.name} backend allows (weak suites are never allowed): "
                "use e.g. 'ECDHE+AESGCM:ECDHE+CHACHA20'"
            )
        self._require(Capability.CIPHER_SELECTION, "set_ciphers")
        # Checked now by the backend itself: some libraries cannot take every list.
        self._backend.client_context(TLSConfiguration(ciphers=chosen))
        _SSL.set_ciphers(self, cipherlist)  # so get_ciphers() shows the choice
        self._ciphers = chosen
        self._changed()

    @property  # type: ignore[override]
    def sni_callback(self) -> SSLSNICallback | None:
        return self._ssl_sni_callback

    @sni_callback.setter
    def sni_callback(self, callback: SSLSNICallback | None) -> None:
        if callback is not None:
            if not callable(callback):
                raise TypeError("not a callable object")
            self._require(Capability.SNI_CALLBACK, "sni_callback")
        self._ssl_sni_callback = callback
        self._changed()

    def set_servername_callback(self, server_name_callback: Any) -> None:
        self.sni_callback = server_name_callback

    # -- plain values, checked then kept in the OpenSSL context ------------------

    @property  # type: ignore[override]
    def verify_mode(self) -> ssl.VerifyMode:
        return ssl.VerifyMode(_C.verify_mode.__get__(self))

    @verify_mode.setter
    def verify_mode(self, value: ssl.VerifyMode) -> None:
        if not isinstance(self, SSLContext):  # a plain ssl context: see _C
            _C.verify_mode.__set__(self, value)
            return
        if value == ssl.CERT_OPTIONAL and self.protocol == ssl.PROTOCOL_TLS_SERVER:
            raise ConfigurationError(
                "verify_mode=CERT_OPTIONAL on a server (ask for a client certificate, accept "
                "none) is not supported by any tlsapi backend: use CERT_REQUIRED or CERT_NONE"
            )
        _C.verify_mode.__set__(self, value)  # ssl's own rules (CERT_NONE vs check_hostname)
        self._changed()

    @property
    def check_hostname(self) -> bool:
        return bool(_SSL.check_hostname.__get__(self))

    @check_hostname.setter
    def check_hostname(self, value: bool) -> None:
        _SSL.check_hostname.__set__(self, value)
        self._changed()

    @property
    def hostname_checks_common_name(self) -> bool:
        return False

    @hostname_checks_common_name.setter
    def hostname_checks_common_name(self, value: bool) -> None:
        if value:
            raise ConfigurationError(
                "hostname_checks_common_name=True: tlsapi matches names only against "
                "subjectAltName (RFC 6125); reissue the certificate with a subjectAltName"
            )

    @property  # type: ignore[override]
    def verify_flags(self) -> ssl.VerifyFlags:
        return ssl.VerifyFlags(_C.verify_flags.__get__(self))

    @verify_flags.setter
    def verify_flags(self, value: ssl.VerifyFlags) -> None:
        if not isinstance(self, SSLContext):  # a plain ssl context: see _C
            _C.verify_flags.__set__(self, value)
            return
        extra = int(value) & ~_ALLOWED_VERIFY_FLAGS
        if extra:
            names = ", ".join(f.name or hex(f.value) for f in ssl.VerifyFlags if f.value & extra)
            raise ConfigurationError(
                f"verify_flags {names}: tlsapi backends do not check CRLs or take "
                "OpenSSL verification flags; remove them"
            )
        _C.verify_flags.__set__(self, value)

    @property  # type: ignore[override]
    def options(self) -> ssl.Options:
        return ssl.Options(_C.options.__get__(self))

    @options.setter
    def options(self, options: ssl.Options) -> None:
        if not isinstance(self, SSLContext):  # a plain ssl context: see _C
            _C.options.__set__(self, options)
            return
        value = int(options)
        extra = value & ~_ALLOWED_OPTIONS
        if extra:
            names = ", ".join(o.name or hex(o.value) for o in ssl.Options if o.value & extra)
            raise ConfigurationError(
                f"options {names or hex(extra)}: tlsapi cannot honour these OpenSSL options; "
                "remove them (tlsapi already forbids SSL 2/3, compression and renegotiation)"
            )
        missing = _REQUIRED_OPTIONS & ~value
        if missing:
            names = ", ".join(o.name or hex(o.value) for o in ssl.Options if o.value & missing)
            raise ConfigurationError(
                f"clearing {names}: tlsapi never enables SSL 2/3 or TLS compression"
            )
        if value & _VERSION_OPTIONS == _VERSION_OPTIONS:
            raise ConfigurationError(
                "OP_NO_TLSv1_2 together with OP_NO_TLSv1_3 leaves no version tlsapi offers"
            )
        if value & _option("OP_NO_TLSv1_2"):
            self._require(Capability.TLSv1_3, "OP_NO_TLSv1_2 (TLS 1.3 only)")
        _C.options.__set__(self, value)
        self._changed()

    @property  # type: ignore[override]
    def minimum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion(_C.minimum_version.__get__(self))

    @minimum_version.setter
    def minimum_version(self, value: ssl.TLSVersion) -> None:
        if not isinstance(self, SSLContext):  # a plain ssl context: see _C
            _C.minimum_version.__set__(self, value)
            return
        self._set_version(_C.minimum_version, value, "minimum_version")

    @property  # type: ignore[override]
    def maximum_version(self) -> ssl.TLSVersion:
        return ssl.TLSVersion(_C.maximum_version.__get__(self))

    @maximum_version.setter
    def maximum_version(self, value: ssl.TLSVersion) -> None:
        if not isinstance(self, SSLContext):  # a plain ssl context: see _C
            _C.maximum_version.__set__(self, value)
            return
        self._set_version(_C.maximum_version, value, "maximum_version")

    def _set_version(self, prop: Any, value: ssl.TLSVersion, name: str) -> None:
        if value == ssl.TLSVersion.SSLv3:
            raise ConfigurationError(f"{name}=SSLv3: no tlsapi backend speaks SSL 3.0")
        if value not in _VERSIONS:
            raise ConfigurationError(f"{name}={value!r} is not an ssl.TLSVersion")
        if name == "minimum_version" and value == ssl.TLSVersion.TLSv1_3:
            # TLS 1.3 only: a backend without it could make no connection at all.
            self._require(Capability.TLSv1_3, "minimum_version=TLSv1_3")
        prop.__set__(self, value)
        self._changed()

    @property  # type: ignore[override]
    def post_handshake_auth(self) -> bool | None:
        # None is ssl's "not available here": urllib3 then does not ask for it.
        return None

    @post_handshake_auth.setter
    def post_handshake_auth(self, value: bool) -> None:
        if value:
            raise ConfigurationError(
                "post_handshake_auth=True: no tlsapi backend offers TLS 1.3 post-handshake "
                "client authentication; a server must ask for the client certificate in the "
                "handshake (verify_mode=CERT_REQUIRED)"
            )

    @property
    def keylog_filename(self) -> Any:
        """The key log file, as it was set (None: no key log)."""
        return self._keylog_filename

    @keylog_filename.setter
    def keylog_filename(self, value: Any) -> None:
        """Append every later connection's secrets to this file (NSS Key Log Format).

        As in ssl: the path may be str, bytes or os.PathLike (TypeError
        otherwise); the file is opened for appending now (OSError if it cannot
        be), created when missing (mode 0600 here: it holds secrets), and None
        stops logging.  The comment line ssl puts at the top of a new file is
        the stdlib backend's to write (ssl writes it again on Windows when it
        opens a file that has one); the native backends write key lines only.

        On a backend without key-log this raises ConfigurationError now, not at
        the first connection: so ``ssl.create_default_context()`` with
        SSLKEYLOGFILE set fails at once instead of connecting without the key
        log that was asked for.  A backend may refuse more at the first
        connection (nss logs TLS 1.3 only: set minimum_version too).  The
        backend's context warns (InsecureConfigurationWarning) when it is made.
        """
        if value is None:
            self._keylog_filename = self._keylog_path = None
            self._changed()
            return
        path = os.fsdecode(value)  # ssl's TypeError for what is not a path
        if not self._backend.supports(Capability.KEY_LOG):
            raise ConfigurationError(
                f"keylog_filename={value!r}: the {self._backend.name} backend cannot log TLS "
                "secrets (it lacks key-log); use a backend that can, or unset SSLKEYLOGFILE "
                "(ssl.create_default_context() sets keylog_filename from it)"
            )
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        self._keylog_filename = value
        self._keylog_path = path
        self._changed()

    @property
    def num_tickets(self) -> int:
        return int(_SSL.num_tickets.__get__(self))

    @num_tickets.setter
    def num_tickets(self, value: int) -> None:
        raise ConfigurationError(
            "num_tickets: tlsapi backends decide on TLS 1.3 session tickets themselves; "
            "remove the setting"
        )

    @property
    def _msg_callback(self) -> None:
        return None

    @_msg_callback.setter
    def _msg_callback(self, callback: object) -> None:
        if not isinstance(self, SSLContext):  # a plain ssl context: see _C
            _C._msg_callback.__set__(self, callback)
            return
        if callback is not None:
            raise ConfigurationError("_msg_callback (OpenSSL message tracing) is not offered")

    def session_stats(self) -> dict[str, int]:
        # OpenSSL's counters describe its session cache (hits, misses, timeouts,
        # cache_full); no tlsapi backend publishes its library's, so any figure
        # here would be made up (the OpenSSL context underneath makes no connection).
        raise ConfigurationError(
            "session_stats(): tlsapi backends do not publish session cache counters; count "
            "the connections whose session_reused is True instead"
        )

    def __repr__(self) -> str:
        side = {
            ssl.PROTOCOL_TLS_CLIENT: "client",
            ssl.PROTOCOL_TLS_SERVER: "server",
        }.get(self.protocol, "client/server")
        return f"<tlsapi.SSLContext {side}, backend {self._backend.name}>"

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a tlsapi.SSLContext")


def _password(password: object) -> bytes | str | Callable[[], bytes | str] | None:
    """ssl's password forms (bytearray, a callable returning bytearray) as tlsapi takes them."""
    if isinstance(password, bytearray):
        return bytes(password)
    if callable(password):
        ask = password

        def call() -> bytes | str:
            value = ask()
            return bytes(value) if isinstance(value, bytearray) else value

        return call
    return password  # type: ignore[return-value]  # anything else: tlsapi says what is wrong


# TLSConfiguration's fields, as a program using ssl sets them.
_SSL_NAMES = {
    "lowest_supported_version": "minimum_version",
    "highest_supported_version": "maximum_version",
    "inner_protocols": "set_alpn_protocols()",
    "certificate_chain": "load_cert_chain()",
    "trust_store": "load_verify_locations()",
}


def _in_ssl_terms(error: ConfigurationError) -> ConfigurationError:
    """The backend's refusal, with the ssl names of the TLSConfiguration fields it names."""
    message = str(error)
    named = [f"{field} is {name}" for field, name in _SSL_NAMES.items() if field in message]
    if not named:
        return error
    return ConfigurationError(f"{message} (on a tlsapi.SSLContext: {'; '.join(named)})")


_EDWARDS = {"1.3.101.112": "Ed25519", "1.3.101.113": "Ed448"}


def _key_slot(leaf: Certificate) -> str:
    """OpenSSL's place for a certificate: its key type ("EC" for every curve)."""
    try:
        algorithm = read_certificate(leaf.der).key_algorithm
        return _EDWARDS.get(algorithm, algorithm)
    except DERError as exc:
        raise ConfigurationError(
            f"load_cert_chain: the leaf certificate cannot be read: {exc}"
        ) from None
