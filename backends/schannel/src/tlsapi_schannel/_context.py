"""The SChannel client and server contexts: a TLSConfiguration checked and its credential acquired once."""

from __future__ import annotations

from tlsapi import ClientContext, ConfigurationError, ServerContext, TLSConfiguration
from tlsapi.backend_api import ServerName

from ._buffer import SChannelBuffer
from ._platform import describe
from ._sspi_credentials import Settings, server_available

__all__ = ["SChannelClientContext", "SChannelServerContext"]


class SChannelClientContext(ClientContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._settings = Settings(configuration, server=False)

    def _wrap_buffers(self, server_name: ServerName | None) -> SChannelBuffer:
        return SChannelBuffer(self, self._settings, server_name)


class SChannelServerContext(ServerContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        if not server_available():
            raise ConfigurationError(
                f"SChannel on {describe()} cannot be a TLS server (AcceptSecurityContext is "
                "not implemented: Wine's SChannel is client-only); use another backend for "
                "the server side"
            )
        self._settings = Settings(configuration, server=True)

    def _settings_for(self, configuration: TLSConfiguration) -> Settings:
        """Settings for a configuration an sni_callback returned (the core's bounded cache)."""
        if not isinstance(configuration, TLSConfiguration):
            raise ConfigurationError(
                f"sni_callback returned {type(configuration).__name__}, "
                "not a TLSConfiguration or None"
            )
        if configuration == self._configuration:
            return self._settings
        return self._built_for(configuration, lambda c: Settings(c, server=True))

    def _wrap_buffers(self) -> SChannelBuffer:
        return SChannelBuffer(self, self._settings, None, settings_for=self._settings_for)
