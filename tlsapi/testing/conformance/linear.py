"""Linear time on what a peer sends: a 32 KB ClientHello delivered one byte at a time.

Whatever parses a peer's bytes must do work linear in their length, however
they are cut up: a parser that re-reads everything it has so far on each
delivery lets a client burn a core per connection (one byte at a time, a
32 KB hello cost an earlier NSS server 20 s of CPU).  The server here has
ALPN and an sni_callback, the configuration in which a backend may read the
hello itself before its library does.

Absolute times mean little on a shared machine, and backends differ in their
constant cost per delivery, so each backend is held to its own: the server's
CPU time on the full hello against its time on a quarter of it, delivered the
same way.  Linear work grows about 4x; work that re-reads what it has grows
about 16x; more than ``GROWTH`` fails.  Times under ``FLOOR`` seconds (a
quarter of it for the short hello) count as ``FLOOR``: noise on tiny times
cannot fail it.

The backends measured come from the ``linear_time_backends`` fixture: the
names in ``TLSAPI_TEST_BACKENDS`` (comma-separated, as tlsapi's own suite
uses it), else every available backend.  Override the fixture to choose.
"""

from __future__ import annotations

import contextlib
import os
import time

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._errors import WantReadError
from ..._protocols import NextProtocol
from ..._registry import available_backends
from ..._registry import backend as backend_named
from ..pki import PKI
from ..pump import handshake

__all__ = ["TestLinearTime", "linear_time_backends"]

GROWTH = 8.0
FLOOR = 0.05
HELLO_SIZE = 32 * 1024
SHORT_SIZE = HELLO_SIZE // 4


def _client_protocols(size: int) -> tuple[bytes, ...]:
    """An ALPN list that makes the hello ``size`` bytes or more: long names, then the
    one the server takes."""
    return (*(b"%03d-" % i + b"x" * 246 for i in range(size // 252)), NextProtocol.H2)


_SERVER_PROTOCOLS = (NextProtocol.H2, NextProtocol.HTTP1)


@pytest.fixture(scope="session")
def linear_time_backends() -> list[Backend]:
    """The backends TestLinearTime compares (see the module's docstring)."""
    requested = os.environ.get("TLSAPI_TEST_BACKENDS", "").strip()
    if requested:
        return [backend_named(name.strip()) for name in requested.split(",") if name.strip()]
    return list(available_backends())


def _keep_configuration(
    buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration
) -> TLSConfiguration | None:
    return None


def _server_config(backend: Backend, pki: PKI) -> TLSConfiguration:
    """ALPN and an sni_callback, as far as the backend has them."""
    config = pki.server_config()
    if Capability.SERVER_ALPN in backend.capabilities:
        config = config.update(inner_protocols=_SERVER_PROTOCOLS)
    if Capability.SNI_CALLBACK in backend.capabilities:
        config = config.update(sni_callback=_keep_configuration)
    return config


def _one_byte_at_a_time(backend: Backend, pki: PKI, size: int = HELLO_SIZE) -> float:
    """CPU seconds the server spends on a ClientHello of ``size`` bytes fed byte by byte."""
    client_config = pki.client_config(inner_protocols=_client_protocols(size))
    client = backend_named("stdlib").client_context(client_config).wrap_buffers("localhost")
    server = backend.server_context(_server_config(backend, pki)).wrap_buffers()
    with pytest.raises(WantReadError):
        client.do_handshake()
    hello = client.peek_outgoing(client.outgoing_bytes_buffered())
    client.consume_outgoing(len(hello))
    assert len(hello) >= size, len(hello)
    pieces = [hello[i : i + 1] for i in range(len(hello))]
    started = time.process_time()
    for piece in pieces:
        server.receive_from_network(piece)
        with contextlib.suppress(WantReadError):
            server.do_handshake()
    spent = time.process_time() - started
    # The hello was read, not refused: the server answered, and the handshake finishes.
    assert server.outgoing_bytes_buffered(), f"the {backend.name} server said nothing"
    handshake(client, server)
    if Capability.SERVER_ALPN in backend.capabilities:
        assert server.negotiated_protocol() is NextProtocol.H2
    return spent


class TestLinearTime:
    def test_client_hello_one_byte_at_a_time(
        self, linear_time_backends: list[Backend], pki: PKI
    ) -> None:
        servers = [b for b in linear_time_backends if Capability.SERVER in b.capabilities]
        if not servers:
            pytest.skip("no backend under test has a server side")
        stdlib = backend_named("stdlib")
        for backend in servers:  # warm up: the libraries' set-up is not what is measured
            client = stdlib.client_context(pki.client_config()).wrap_buffers("localhost")
            handshake(client, backend.server_context(_server_config(backend, pki)).wrap_buffers())
        times = {b.name: self._times(b, pki) for b in servers}
        if self._too_slow(times) and not self._too_slow(times, 2 * GROWTH):
            # Near the limit, best of two for every backend: one hiccup is not a failure.
            for b in servers:
                again = self._times(b, pki)
                times[b.name] = (min(times[b.name][0], again[0]), min(times[b.name][1], again[1]))
        report = ", ".join(
            f"{name} {short:.3f} s -> {full:.3f} s" for name, (short, full) in times.items()
        )
        print(
            f"\nClientHello of {SHORT_SIZE} B -> {HELLO_SIZE} B one byte at a time, "
            f"server CPU time: {report}"
        )
        slow = self._too_slow(times)
        assert not slow, (
            f"{', '.join(slow)}: four times the bytes took more than {GROWTH:g} times the "
            f"CPU time (times under {FLOOR} s, {FLOOR / 4} s for the short hello, count as "
            f"that): {report}"
        )

    @staticmethod
    def _times(backend: Backend, pki: PKI) -> tuple[float, float]:
        return _one_byte_at_a_time(backend, pki, SHORT_SIZE), _one_byte_at_a_time(backend, pki)

    @staticmethod
    def _too_slow(times: dict[str, tuple[float, float]], growth: float = GROWTH) -> list[str]:
        return [
            name
            for name, (short, full) in times.items()
            if max(full, FLOOR) > growth * max(short, FLOOR / 4)
        ]
