"""The Secure Transport client and server contexts: a configuration checked and prepared once."""

from __future__ import annotations

from tlsapi import ClientContext, ConfigurationError, ServerContext, TLSConfiguration
from tlsapi.backend_api import ServerName

from ._buffer import SecureTransportBuffer
from ._prepared import Prepared

__all__ = ["SecureTransportClientContext", "SecureTransportServerContext"]


class SecureTransportClientContext(ClientContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._prepared = Prepared(configuration, server=False)

    def _wrap_buffers(self, server_name: ServerName | None) -> SecureTransportBuffer:
        return SecureTransportBuffer(self, self._prepared, server_name)


class SecureTransportServerContext(ServerContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._prepared = Prepared(configuration, server=True)

    def _prepared_for(self, configuration: TLSConfiguration) -> Prepared:
        """What an sni_callback's configuration needs (the core's bounded cache)."""
        if not isinstance(configuration, TLSConfiguration):
            raise ConfigurationError(
                f"sni_callback returned {type(configuration).__name__}, "
                "not a TLSConfiguration or None"
            )
        if configuration == self._configuration:
            return self._prepared
        return self._built_for(configuration, lambda c: Prepared(c, server=True))

    def _wrap_buffers(self) -> SecureTransportBuffer:
        return SecureTransportBuffer(self, self._prepared, None, prepared_for=self._prepared_for)
