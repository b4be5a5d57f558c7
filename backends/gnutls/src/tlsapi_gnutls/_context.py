"""The GnuTLS client and server contexts."""

from __future__ import annotations

from tlsapi import ClientContext, ServerContext, TLSConfiguration
from tlsapi.backend_api import ServerName

from ._binding import initialize
from ._buffer import GnuTLSBuffer
from ._settings import ConnectionSettings

__all__ = ["GnuTLSClientContext", "GnuTLSServerContext"]


class GnuTLSClientContext(ClientContext):
    """Client connections on GnuTLS; everything is parsed and checked here, once."""

    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        initialize()
        self._settings = ConnectionSettings(configuration, server=False)

    def _wrap_buffers(self, server_name: ServerName | None) -> GnuTLSBuffer:
        return GnuTLSBuffer(self, self._settings, server=False, server_name=server_name)


class GnuTLSServerContext(ServerContext):
    """Server connections on GnuTLS."""

    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        initialize()
        self._settings = ConnectionSettings(configuration, server=True)

    def _wrap_buffers(self) -> GnuTLSBuffer:
        return GnuTLSBuffer(self, self._settings, server=True, settings_for=self._settings_for)

    def _settings_for(self, config: TLSConfiguration) -> ConnectionSettings:
        """Settings for a configuration an sni_callback returned (the core's bounded cache)."""
        if config is self._configuration:
            return self._settings
        return self._built_for(
            config, lambda c: ConnectionSettings(c, server=True, with_priority=False)
        )
