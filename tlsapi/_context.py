"""ClientContext and ServerContext: the base classes every backend's contexts derive from.

``tlsapi.ClientContext(config)`` called on the base class itself builds the
default backend's context, so an application can ignore backends entirely;
``backend.client_context(config)`` picks one explicitly.
"""

from __future__ import annotations

import abc
import socket as _socket
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._config import TLSConfiguration
from ._errors import ConfigurationError, InsecureConfigurationWarning
from ._hostname import ServerName, parse_server_hostname
from ._session import TLSSession
from ._versions import TLSVersion

if TYPE_CHECKING:
    from ._buffer import TLSWrappedBuffer
    from ._socket import TLSWrappedSocket

__all__ = ["ClientContext", "ServerContext"]


_LEGACY_VERSIONS = (TLSVersion.MINIMUM_SUPPORTED, TLSVersion.TLSv1, TLSVersion.TLSv1_1)
# How many configurations returned by an sni_callback a server context keeps built.
SNI_CACHE_SIZE = 64
_T = TypeVar("_T")


class _DefaultBackendDispatch(abc.ABCMeta):
    """Calling the abstract base builds the default backend's concrete context."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is ClientContext or cls is ServerContext:
            from ._registry import default_backend

            backend = default_backend()
            factory = backend.client_context if cls is ClientContext else backend.server_context
            return factory(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class _Context(metaclass=_DefaultBackendDispatch):
    def __init__(self, configuration: TLSConfiguration) -> None:
        if not isinstance(configuration, TLSConfiguration):
            raise ConfigurationError(
                f"expected a TLSConfiguration, not {type(configuration).__name__}"
            )
        self._configuration = configuration
        if configuration.lowest_supported_version in _LEGACY_VERSIONS:
            warnings.warn(
                f"lowest_supported_version={configuration.lowest_supported_version.name} allows "
                "TLS 1.0/1.1, which are deprecated (RFC 8996) and weak",
                InsecureConfigurationWarning,
                stacklevel=4,
            )
        if configuration.keylog_filename is not None:
            warnings.warn(
                f"keylog_filename={configuration.keylog_filename!r}: every connection's "
                "secrets are written there, and anyone who can read that file can decrypt "
                "the traffic; use it for debugging only",
                InsecureConfigurationWarning,
                stacklevel=4,
            )

    @property
    def configuration(self) -> TLSConfiguration:
        return self._configuration

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__}>"


class ClientContext(_Context):
    """Makes client-side TLS connections with one configuration."""

    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        if not configuration.validate_certificates:
            warnings.warn(
                "certificate validation is off (validate_certificates=False): "
                "this client trusts any server, including an attacker in the middle",
                InsecureConfigurationWarning,
                stacklevel=3,
            )
        if len(configuration.certificate_chains) > 1:
            raise ConfigurationError(
                "a client presents one certificate_chain; several chains are for a server, "
                "which picks one by what the client supports"
            )
        # What a TLSSession made here is bound to (a token, so that a session
        # does not keep its context alive).
        self._session_owner = object()

    def wrap_buffers(
        self, server_hostname: str | None, *, session: TLSSession | None = None
    ) -> TLSWrappedBuffer:
        """A new connection over memory buffers.

        ``server_hostname`` is sent as SNI (for a DNS name) and the server's
        certificate is checked against it (DNS name or IP address).  It may be
        None only when validate_certificates is False.

        ``session`` (from an earlier connection's ``session``) is offered for
        resumption; it must come from this context and this server name
        (ValueError otherwise).  A server that refuses it makes a full
        handshake; ``session_reused`` tells which happened.
        """
        if server_hostname is None:
            if self._configuration.validate_certificates:
                raise ConfigurationError(
                    "server_hostname is required when certificates are validated: "
                    "pass the name (or IP address) the certificate must match"
                )
            name = None
        else:
            name = parse_server_hostname(server_hostname)
        state = None
        if session is not None:
            if not isinstance(session, TLSSession):
                raise TypeError(f"session must be a TLSSession, not {type(session).__name__}")
            state = session._state_for(self._session_owner, None if name is None else name.name)
        buffer = self._wrap_buffers(name)
        if state is not None:
            buffer._offer_session(state)
        buffer._fast_start()
        return buffer

    def wrap_socket(
        self,
        socket: _socket.socket,
        server_hostname: str | None,
        *,
        session: TLSSession | None = None,
    ) -> TLSWrappedSocket:
        """A TLS connection over a connected stream socket (``session``: see wrap_buffers)."""
        from ._socket import TLSWrappedSocket

        return TLSWrappedSocket(socket, self.wrap_buffers(server_hostname, session=session))

    if TYPE_CHECKING:
        # Not abstract to type checkers: ``ClientContext(config)`` is a real call that
        # returns the default backend's context (the metaclass), which mypy cannot see.
        def _wrap_buffers(self, server_name: ServerName | None) -> TLSWrappedBuffer:
            raise NotImplementedError
    else:

        @abc.abstractmethod
        def _wrap_buffers(self, server_name): ...


class ServerContext(_Context):
    """Accepts server-side TLS connections with one configuration."""

    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        if configuration.certificate_chain is None and configuration.sni_callback is None:
            raise ConfigurationError(
                "a server needs a certificate_chain (or an sni_callback that supplies one)"
            )
        self._sni_cache: OrderedDict[TLSConfiguration, object] = OrderedDict()
        self._sni_cache_lock = threading.Lock()

    def wrap_buffers(self) -> TLSWrappedBuffer:
        """A new server-side connection over memory buffers."""
        return self._wrap_buffers()

    def _built_for(
        self, configuration: TLSConfiguration, build: Callable[[TLSConfiguration], _T]
    ) -> _T:
        """What ``build`` makes of a configuration an sni_callback returned, cached.

        One policy for every backend: built once per configuration (compared by
        value), the least recently used dropped beyond ``SNI_CACHE_SIZE``, so a
        callback that makes a new configuration per connection costs a build
        each time but never grows memory.
        """
        with self._sni_cache_lock:
            built = self._sni_cache.get(configuration)
            if built is not None:
                self._sni_cache.move_to_end(configuration)
                return cast(_T, built)
        built = build(configuration)  # outside the lock: building may be slow
        with self._sni_cache_lock:
            self._sni_cache[configuration] = built
            while len(self._sni_cache) > SNI_CACHE_SIZE:
                self._sni_cache.popitem(last=False)
        return built

    def wrap_socket(self, socket: _socket.socket) -> TLSWrappedSocket:
        """A TLS connection over an accepted stream socket."""
        from ._socket import TLSWrappedSocket

        return TLSWrappedSocket(socket, self.wrap_buffers())

    if TYPE_CHECKING:
        # Not abstract to type checkers: see ClientContext._wrap_buffers.
        def _wrap_buffers(self) -> TLSWrappedBuffer:
            raise NotImplementedError
    else:

        @abc.abstractmethod
        def _wrap_buffers(self): ...
