"""The GnuTLS client and server contexts."""

from __future__ import annotations

from tlsapi import ClientContext, ServerContext, TLSConfiguration
from tlsapi.backend_api import KeyLogWriter, ServerName

from ._binding import initialize
from ._buffer import GnuTLSBuffer
from ._resumption import ServerSessions
from ._settings import ConnectionSettings

__all__ = ["GnuTLSClientContext", "GnuTLSServerContext"]


def _keylog(configuration: TLSConfiguration) -> KeyLogWriter | None:
    """One writer per context, for all its connections (closed when the context goes)."""
    path = configuration.keylog_filename
    return None if path is None else KeyLogWriter(path)


class GnuTLSClientContext(ClientContext):
    """Client connections on GnuTLS; everything is parsed and checked here, once."""

    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        initialize()
        self._settings = ConnectionSettings(configuration, server=False)
        self._keylog = _keylog(configuration)

    def _wrap_buffers(self, server_name: ServerName | None) -> GnuTLSBuffer:
        return GnuTLSBuffer(
            self, self._settings, server=False, server_name=server_name, keylog=self._keylog
        )


class GnuTLSServerContext(ServerContext):
    """Server connections on GnuTLS.

    Each context has its own ticket key and session cache (``ServerSessions``),
    also for the connections whose configuration an sni_callback chose; its key
    log is the context's configuration's.
    """

    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        initialize()
        self._settings = ConnectionSettings(configuration, server=True)
        self._keylog = _keylog(configuration)
        self._sessions = ServerSessions()

    def _wrap_buffers(self) -> GnuTLSBuffer:
        return GnuTLSBuffer(
            self,
            self._settings,
            server=True,
            settings_for=self._settings_for,
            keylog=self._keylog,
            sessions=self._sessions,
        )

    def _settings_for(self, config: TLSConfiguration) -> ConnectionSettings:
        """Settings for a configuration an sni_callback returned (the core's bounded cache)."""
        if config is self._configuration:
            return self._settings
        return self._built_for(
            config, lambda c: ConnectionSettings(c, server=True, with_priority=False)
        )
