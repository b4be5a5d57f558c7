"""The GnuTLS client and server contexts."""

from __future__ import annotations

import threading
from collections import OrderedDict

from tlsapi import ClientContext, ServerContext, TLSConfiguration
from tlsapi.backend_api import ServerName

from ._binding import initialize
from ._buffer import GnuTLSBuffer
from ._settings import ConnectionSettings

__all__ = ["GnuTLSClientContext", "GnuTLSServerContext"]

# Configurations an sni_callback returned, with their credentials parsed once.
_SNI_CACHE_SIZE = 32


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
        self._sni_lock = threading.Lock()
        self._sni_settings: OrderedDict[TLSConfiguration, ConnectionSettings] = OrderedDict()

    def _wrap_buffers(self) -> GnuTLSBuffer:
        return GnuTLSBuffer(self, self._settings, server=True, settings_for=self._settings_for)

    def _settings_for(self, config: TLSConfiguration) -> ConnectionSettings:
        """Settings for a configuration an sni_callback returned (cached, bounded)."""
        if config is self._configuration:
            return self._settings
        with self._sni_lock:
            settings = self._sni_settings.get(config)
            if settings is not None:
                self._sni_settings.move_to_end(config)
                return settings
        settings = ConnectionSettings(config, server=True, with_priority=False)
        with self._sni_lock:
            self._sni_settings[config] = settings
            while len(self._sni_settings) > _SNI_CACHE_SIZE:
                self._sni_settings.popitem(last=False)
        return settings
