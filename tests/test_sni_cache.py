"""What a server builds for the configurations its sni_callback returns: one bounded cache."""

from __future__ import annotations

import tlsapi
from tlsapi._context import SNI_CACHE_SIZE
from tlsapi.testing import PKI, handshake


def test_a_new_configuration_per_connection_does_not_grow_the_cache(
    server_backend: tlsapi.Backend, pki: PKI
) -> None:
    # A callback that returns a configuration equal to none before it (a new
    # ALPN name each time): each is built once, and at most SNI_CACHE_SIZE stay.
    count = 0

    def callback(
        buffer: tlsapi.TLSWrappedBuffer, name: str | None, config: tlsapi.TLSConfiguration
    ) -> tlsapi.TLSConfiguration:
        nonlocal count
        count += 1
        return config.update(sni_callback=None, inner_protocols=(f"p{count}".encode(),))

    context = server_backend.server_context(pki.server_config(sni_callback=callback))
    client_context = tlsapi.backend("stdlib").client_context(pki.client_config())
    for _ in range(SNI_CACHE_SIZE + 10):
        handshake(client_context.wrap_buffers("localhost"), context.wrap_buffers())
    assert count == SNI_CACHE_SIZE + 10
    kept = len(context._sni_cache)  # type: ignore[attr-defined]
    assert kept == SNI_CACHE_SIZE


def test_the_same_configuration_is_built_once(server_backend: tlsapi.Backend, pki: PKI) -> None:
    other = pki.server_config(inner_protocols=(tlsapi.NextProtocol.HTTP1,))
    context = server_backend.server_context(pki.server_config(sni_callback=lambda b, n, c: other))
    client_context = tlsapi.backend("stdlib").client_context(pki.client_config())
    for _ in range(5):
        handshake(client_context.wrap_buffers("localhost"), context.wrap_buffers())
    assert len(context._sni_cache) == 1  # type: ignore[attr-defined]
