"""The NSS backend's contexts: a TLSConfiguration turned into a Profile once."""

from __future__ import annotations

from tlsapi import ClientContext, ConfigurationError, ServerContext, TLSConfiguration
from tlsapi.backend_api import ServerName

from ._buffer import NSSBuffer
from ._profile import Profile

__all__ = ["NSSClientContext", "NSSServerContext"]


class NSSClientContext(ClientContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._profile = Profile(configuration, server_side=False)

    def _wrap_buffers(self, server_name: ServerName | None) -> NSSBuffer:
        return NSSBuffer(self, self._profile, server_name)


class NSSServerContext(ServerContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._profile = Profile(configuration, server_side=True)

    def _profile_for(self, configuration: TLSConfiguration) -> Profile:
        if not isinstance(configuration, TLSConfiguration):
            raise ConfigurationError(
                f"sni_callback returned {type(configuration).__name__}, "
                "not a TLSConfiguration or None"
            )
        if configuration == self._configuration:
            return self._profile
        return self._built_for(configuration, lambda c: Profile(c, server_side=True))

    def _wrap_buffers(self) -> NSSBuffer:
        return NSSBuffer(self, self._profile, None, profile_for=self._profile_for)
