"""Robustness of every backend: hostile bytes, vanishing peers, many handshakes, many threads.

- Garbage, truncated, reordered, dropped, duplicated, corrupted and oversized
  records (hypothesis) fed to ``receive_from_network`` on the client and the
  server side, before, during and after the handshake: only TLSError
  subclasses may come out, every loop is bounded, and after the transport's
  end of file the next call must fail rather than ask for more bytes.
  Untouched bytes, however chunked, must still work (so the checks cannot
  pass by failing everything), and whatever plaintext comes out of tampered
  records must be a prefix of what was sent.
- A peer that disappears mid-handshake or mid-record: RaggedEOF.
- ``TLSAPI_SOAK_HANDSHAKES`` handshakes (default 2000; the native backends'
  issues ask for 20000) with the resident set size sampled: bounded growth.
- 8 threads doing handshakes and transfers at once, each on its own buffers,
  sharing the contexts.
- An sni_callback that raises fails the handshake cleanly, with its exception
  chained.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tlsapi
from tlsapi import (
    Capability,
    RaggedEOF,
    TLSError,
    TLSVersion,
    TLSWrappedBuffer,
    WantReadError,
    WantWriteError,
)
from tlsapi.testing.conformance._support import Peers, assert_caused_by, skip_if_lacks
from tlsapi.testing.pki import PKI
from tlsapi.testing.pump import close, handshake, pump, read_available, transfer

EXAMPLES = int(os.environ.get("TLSAPI_FUZZ_EXAMPLES", "100"))
SOAK_HANDSHAKES = int(os.environ.get("TLSAPI_SOAK_HANDSHAKES", "2000"))
# Growth allowed after warm-up, whatever the count: a leak of a few hundred
# bytes per handshake shows at 20000 handshakes, a few KiB at 2000.
SOAK_RSS_BOUND = int(os.environ.get("TLSAPI_SOAK_RSS_BOUND_MIB", "4")) * 1024 * 1024
# A call sequence that neither finishes nor fails within this many calls is a hang.
MAX_CALLS = 64

fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,  # no timed assertions: only correctness
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SIDES = ("client", "server")
VERSIONS = {"tls1.2": TLSVersion.TLSv1_2, "tls1.3": TLSVersion.TLSv1_3}


# -- pairs --------------------------------------------------------------------------


_CONTEXTS: dict[
    tuple[str, bytes, TLSVersion], tuple[tlsapi.ClientContext, tlsapi.ServerContext]
] = {}


def _newest(peers: Peers) -> TLSVersion:
    """TLS 1.3 when both backends have it (schannel under Wine has not), else TLS 1.2."""
    both = peers.client_backend.capabilities & peers.server_backend.capabilities
    return TLSVersion.TLSv1_3 if Capability.TLSv1_3 in both else TLSVersion.TLSv1_2


def _versions(peers: Peers) -> list[TLSVersion]:
    return [v for v in VERSIONS.values() if v <= _newest(peers)]


def _contexts(
    peers: Peers, version: TLSVersion
) -> tuple[tlsapi.ClientContext, tlsapi.ServerContext]:
    # Built once per backend, PKI and version: examples differ only in their bytes.
    key = (peers.client_backend.name + "/" + peers.server_backend.name, peers.pki.root_der, version)
    if key not in _CONTEXTS and version is TLSVersion.TLSv1_3:
        # A test pinned to TLS 1.3: a backend without it must refuse it, then skip.
        pinned = {"lowest_supported_version": version, "highest_supported_version": version}
        skip_if_lacks(
            peers.client_backend,
            Capability.TLSv1_3,
            lambda: peers.client_context(peers.client_config(**pinned)),
        )
        skip_if_lacks(
            peers.server_backend,
            Capability.TLSv1_3,
            lambda: peers.server_context(peers.server_config(**pinned)),
        )
    if key not in _CONTEXTS:
        client = peers.client_context(
            peers.client_config(lowest_supported_version=version, highest_supported_version=version)
        )
        _CONTEXTS[key] = (client, peers.server_context())
    return _CONTEXTS[key]


def _pair(peers: Peers, version: TLSVersion) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    client_context, server_context = _contexts(peers, version)
    return client_context.wrap_buffers("localhost"), server_context.wrap_buffers()


def _peers_for(backend: tlsapi.Backend, pki: PKI, side: str) -> Peers:
    """``backend`` plays ``side``; the other side is itself, or stdlib where it cannot."""
    needed = Capability.CLIENT if side == "client" else Capability.SERVER
    if needed not in backend.capabilities:
        pytest.skip(f"backend {backend.name} has no {side} side ({needed} not in capabilities)")
    return Peers.for_backend(backend, pki)


def _take(buffer: TLSWrappedBuffer) -> bytes:
    data = buffer.peek_outgoing(buffer.outgoing_bytes_buffered())
    buffer.consume_outgoing(len(data))
    return data


def _flights(
    peers: Peers, version: TLSVersion
) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer, bytes, bytes]:
    """A fresh pair after the ClientHello and the server's answer.

    Returns (client, server, client_hello, server_flight); neither flight has
    been delivered to the other side beyond what produced it.
    """
    client, server = _pair(peers, version)
    hello = _step(client, client.do_handshake)
    assert hello == "want", "a client must wait for the server after its ClientHello"
    client_hello = _take(client)
    server.receive_from_network(client_hello)
    assert _step(server, server.do_handshake) == "want"
    return client, server, client_hello, _take(server)


def _connected(peers: Peers, version: TLSVersion) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    """A pair that finished the handshake, with post-handshake messages consumed."""
    client, server = _pair(peers, version)
    handshake(client, server)
    # TLS 1.3 session tickets and the like: let each side read what is pending.
    for _ in range(3):
        pump(server, client)
        read_available(client)
        pump(client, server)
        read_available(server)
    return client, server


# -- what every call may do -----------------------------------------------------------


def _step(buffer: TLSWrappedBuffer, call: Callable[[], Any]) -> str:
    """One call: "done", "want" or "error"; any other exception fails the test."""
    try:
        call()
    except (WantReadError, WantWriteError):
        return "want"
    except TLSError as exc:
        assert str(exc), f"{type(exc).__name__} with an empty message"
        return "error"
    except Exception as exc:
        raise AssertionError(
            f"{type(buffer).__name__} raised {type(exc).__name__}, not a TLSError: {exc!r}"
        ) from exc
    return "done"


def _deliver(
    buffer: TLSWrappedBuffer, data: bytes, chunks: list[int], call: Callable[[], Any]
) -> str:
    """Feed ``data`` in pieces (sizes cycle through ``chunks``), calling after each piece.

    Stops at the first error (the rest of the bytes would go to a dead
    connection).  Returns the last state.
    """
    state = "want"
    position = 0
    index = 0
    while position < len(data):
        size = max(1, chunks[index % len(chunks)]) if chunks else len(data)
        index += 1
        piece = data[position : position + size]
        position += len(piece)
        try:
            buffer.receive_from_network(piece)
        except TLSError:
            return "error"
        except Exception as exc:
            raise AssertionError(f"receive_from_network raised {exc!r}") from exc
        state = _step(buffer, call)
        if state == "error":
            return state
        # Bytes the buffer wants to send go nowhere (the peer is a recording).
        _take(buffer)
    return state


def _hang_up(buffer: TLSWrappedBuffer, call: Callable[[], Any]) -> str:
    """The transport ends: the next call must finish or fail, never want more bytes."""
    buffer.receive_from_network(b"")
    after = _step(buffer, call)
    assert after != "want", "after end of file the buffer still asks for more bytes (a hang)"
    return after


def _read_all(buffer: TLSWrappedBuffer, out: bytearray) -> Callable[[], None]:
    """A read call for _step that keeps what it reads and raises WantRead when drained."""

    def call() -> None:
        for _ in range(MAX_CALLS):
            data = buffer.read(65536)
            if not data:
                raise AssertionError("read() returned b'' but no close_notify was ever sent")
            out.extend(data)
        raise AssertionError(f"read() returned data {MAX_CALLS} times from a few records")

    return call


# -- record surgery --------------------------------------------------------------------


def split_records(data: bytes) -> list[bytes]:
    """TLS records (5-byte header + body); a trailing partial record stays one piece."""
    records = []
    position = 0
    while position < len(data):
        length = (
            int.from_bytes(data[position + 3 : position + 5], "big")
            if position + 5 <= len(data)
            else 0
        )
        end = min(len(data), position + 5 + length)
        records.append(data[position:end])
        position = end
    return records


MUTATIONS = ("none", "truncate", "reorder", "drop", "duplicate", "flip", "insert", "oversize")


def _mutate(data: bytes, draw: st.DataObject) -> tuple[str, bytes]:
    """One hostile variant of ``data`` (a flight of records), chosen by hypothesis.

    Everything is drawn before looking at ``data``: flights differ in length
    from run to run (signatures, randoms), and hypothesis needs the same draws
    to replay an example.
    """
    kind = draw.draw(st.sampled_from(MUTATIONS), label="mutation")
    where = draw.draw(st.integers(0, 1 << 20), label="position")
    mask = draw.draw(st.integers(1, 255), label="mask")
    order = draw.draw(st.lists(st.integers(0, 15), min_size=16, max_size=16), label="order")
    junk = draw.draw(st.binary(min_size=1, max_size=64), label="junk")
    claimed = draw.draw(st.integers(2**14 + 2049, 2**16 - 1), label="claimed length")
    records = split_records(data)
    position = where % len(data)
    index = where % len(records)
    if kind == "truncate":
        return kind, data[:position]
    if kind == "reorder":
        ranked = sorted(range(len(records)), key=lambda i: (order[i % 16], i))
        return kind, b"".join(records[i] for i in ranked)
    if kind in ("drop", "duplicate"):
        copies = 0 if kind == "drop" else 2
        return kind, b"".join(records[:index] + [records[index]] * copies + records[index + 1 :])
    if kind == "flip":
        return kind, data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]
    if kind == "insert":
        position = where % (len(data) + 1)
        return kind, data[:position] + junk + data[position:]
    if kind == "oversize":
        # A record header claiming more than TLS allows (2^14 + 2048), with the bytes.
        return kind, data[:3] + claimed.to_bytes(2, "big") + bytes(claimed)
    return kind, data


_chunks = st.lists(st.integers(1, 2048), min_size=0, max_size=6)
_garbage = st.one_of(
    st.binary(min_size=1, max_size=2048),
    # Plausible record headers (handshake, alert, change_cipher_spec, application
    # data) over random bodies, to get past the record layer into the parsers.
    st.builds(
        lambda kind, minor, body, claimed: (
            bytes([kind, 3, minor])
            + (len(body) if claimed is None else claimed).to_bytes(2, "big")
            + body
        ),
        st.sampled_from([20, 21, 22, 23, 24, 0, 255]),
        st.integers(0, 4),
        st.binary(max_size=1024),
        st.one_of(st.none(), st.integers(0, 0xFFFF)),
    ),
)


# -- hostile bytes before, during and after the handshake --------------------------------


@pytest.mark.parametrize("side", SIDES)
@fuzz
@given(garbage=_garbage, chunks=_chunks)
def test_garbage_before_the_handshake(
    backend: tlsapi.Backend, pki: PKI, side: str, garbage: bytes, chunks: list[int]
) -> None:
    peers = _peers_for(backend, pki, side)
    client, server = _pair(peers, _newest(peers))
    victim = client if side == "client" else server
    if side == "client":
        assert _step(client, client.do_handshake) == "want"
        _take(client)
    state = _deliver(victim, garbage, chunks, victim.do_handshake)
    assert state != "done", "a handshake completed on random bytes"
    if _plainly_not_tls(garbage):
        # Enough was seen to know: refused before end of file, not waited on.
        assert state == "error", f"{garbage[:5]!r} is waited on instead of refused"
    assert _hang_up(victim, victim.do_handshake) == "error"


def _plainly_not_tls(data: bytes) -> bool:
    """A whole record header that no TLS peer sends first: version major not 3.

    (A first byte with the high bit set is left out: OpenSSL and GnuTLS
    servers parse such bytes as an SSLv2-style hello.)
    """
    return len(data) >= 5 and not data[0] & 0x80 and data[1] != 3


@pytest.mark.parametrize("version", list(VERSIONS), ids=list(VERSIONS))
@pytest.mark.parametrize("side", SIDES)
@fuzz
@given(draw=st.data(), chunks=_chunks)
def test_tampered_handshake_flight(  # noqa: PLR0917 (fixtures and examples)
    backend: tlsapi.Backend, pki: PKI, side: str, version: str, draw: st.DataObject,
    chunks: list[int],
) -> None:  # fmt: skip
    """The client gets a tampered server flight, or the server a tampered client flight."""
    peers = _peers_for(backend, pki, side)
    client, server, client_hello, server_flight = _flights(peers, VERSIONS[version])
    untouched = "done"  # what the victim must reach on the real bytes
    if side == "client":
        # A TLS 1.2 client still waits for the server's Finished after this flight.
        victim, original = client, server_flight
        untouched = "done" if version == "tls1.3" else "want"
    elif draw.draw(st.booleans(), label="second flight"):
        # The client's second flight (Finished, ...) after a real exchange.
        client.receive_from_network(server_flight)
        assert _step(client, client.do_handshake) in ("done", "want")
        victim, original = server, _take(client)
    else:
        # A ClientHello to a fresh server, which then waits for the client's Finished.
        victim, original, untouched = _pair(peers, VERSIONS[version])[1], client_hello, "want"
    kind, data = _mutate(original, draw)
    state = _deliver(victim, data, chunks, victim.do_handshake)
    if data == original:
        assert state == untouched, (
            f"untouched bytes ({kind}, chunks {chunks}) did not work: {state}"
        )
    if state != "done":
        assert _hang_up(victim, victim.do_handshake) == "error"


@pytest.mark.parametrize("version", list(VERSIONS), ids=list(VERSIONS))
@pytest.mark.parametrize("side", SIDES)
@fuzz
@given(draw=st.data(), chunks=_chunks)
def test_tampered_application_data(  # noqa: PLR0917 (fixtures and examples)
    backend: tlsapi.Backend, pki: PKI, side: str, version: str, draw: st.DataObject,
    chunks: list[int],
) -> None:  # fmt: skip
    """Tampered records after the handshake: an error or a prefix of the real plaintext."""
    peers = _peers_for(backend, pki, side)
    client, server = _connected(peers, VERSIONS[version])
    victim, sender = (client, server) if side == "client" else (server, client)
    messages = [b"first record " * 10, b"second record " * 20, b"third " * 5]
    for message in messages:
        assert sender.write(message) == len(message)
    sent = b"".join(messages)
    original = _take(sender)
    kind, data = _mutate(original, draw)
    received = bytearray()
    _deliver(victim, data, chunks, _read_all(victim, received))
    assert sent.startswith(bytes(received)), (
        f"tampered records ({kind}) produced plaintext that was never sent: {bytes(received)!r}"
    )
    if data == original:
        assert bytes(received) == sent, f"untouched records ({kind}, chunks {chunks}) lost data"
    final = _hang_up(victim, _read_all(victim, received))
    assert final == "error"


@pytest.mark.parametrize("side", SIDES)
@fuzz
@given(garbage=_garbage, chunks=_chunks)
def test_garbage_after_the_handshake(
    backend: tlsapi.Backend, pki: PKI, side: str, garbage: bytes, chunks: list[int]
) -> None:
    peers = _peers_for(backend, pki, side)
    client, server = _connected(peers, _newest(peers))
    victim = client if side == "client" else server
    received = bytearray()
    _deliver(victim, garbage, chunks, _read_all(victim, received))
    assert not received, f"random bytes decrypted to {bytes(received)!r}"
    assert _hang_up(victim, _read_all(victim, received)) == "error"
    # A failed connection stays failed: writing must not crash either.
    assert _step(victim, lambda: victim.write(b"after the failure")) == "error"


@pytest.mark.parametrize("side", SIDES)
def test_oversized_input_in_one_call(backend: tlsapi.Backend, pki: PKI, side: str) -> None:
    """4 MiB of zeros, then 4 MiB of 0x17 records claiming 64 KiB: refused, not buffered forever."""
    peers = _peers_for(backend, pki, side)
    for blob in (bytes(4 << 20), (b"\x17\x03\x03\xff\xff" + bytes(0xFFFF)) * 64):
        client, server = _pair(peers, _newest(peers))
        victim = client if side == "client" else server
        if side == "client":
            _step(client, client.do_handshake)
            _take(client)
        state = _deliver(victim, blob, [], victim.do_handshake)
        assert state == "error", "megabytes of invalid records did not fail the handshake"


# -- vanishing peers ---------------------------------------------------------------------


def _cut_points(flight: bytes) -> dict[str, int]:
    records = split_records(flight)
    first = len(records[0])
    return {
        "nothing": 0,
        "mid-header": 3,
        "mid-record": first // 2,
        "record-boundary": first if len(records) > 1 else first - 1,
        "one-byte-short": len(flight) - 1,
    }


CUTS = ("nothing", "mid-header", "mid-record", "record-boundary", "one-byte-short")


@pytest.mark.parametrize("cut", CUTS)
@pytest.mark.parametrize("version", list(VERSIONS), ids=list(VERSIONS))
@pytest.mark.parametrize("side", SIDES)
def test_peer_vanishes_mid_handshake(
    backend: tlsapi.Backend, pki: PKI, side: str, version: str, cut: str
) -> None:
    peers = _peers_for(backend, pki, side)
    client, _server, client_hello, server_flight = _flights(peers, VERSIONS[version])
    if side == "client":
        victim, flight = client, server_flight
    else:
        victim, flight = _pair(peers, VERSIONS[version])[1], client_hello
    keep = _cut_points(flight)[cut]
    if keep:
        victim.receive_from_network(flight[:keep])
    assert _step(victim, victim.do_handshake) == "want"
    victim.receive_from_network(b"")
    with pytest.raises(RaggedEOF):
        victim.do_handshake()
    with pytest.raises(TLSError):  # and it stays failed
        victim.do_handshake()


@pytest.mark.parametrize("whole", [False, True], ids=["mid-record", "after-record"])
@pytest.mark.parametrize("version", list(VERSIONS), ids=list(VERSIONS))
@pytest.mark.parametrize("side", SIDES)
def test_peer_vanishes_mid_stream(
    backend: tlsapi.Backend, pki: PKI, side: str, version: str, whole: bool
) -> None:
    """EOF inside a record, or after whole records without close_notify: RaggedEOF."""
    peers = _peers_for(backend, pki, side)
    client, server = _connected(peers, VERSIONS[version])
    victim, sender = (client, server) if side == "client" else (server, client)
    sender.write(b"x" * 5000)
    record = _take(sender)
    victim.receive_from_network(record if whole else record[: len(record) // 2])
    received = read_available(victim)
    assert received == (b"x" * 5000 if whole else b"")
    victim.receive_from_network(b"")
    with pytest.raises(RaggedEOF):
        victim.read(100)


# -- many handshakes, memory bounded ----------------------------------------------------------


def _rss() -> int:
    """Resident set size now (Linux, Windows), or the peak where only that is known."""
    if sys.platform == "win32":
        return _windows_working_set()
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _windows_working_set() -> int:
    """The working set (Windows' resident set) from K32GetProcessMemoryInfo."""
    import ctypes
    from ctypes import wintypes

    class Counters(ctypes.Structure):
        _fields_ = [
            ("cb", wintypes.DWORD),
            ("PageFaultCount", wintypes.DWORD),
            ("PeakWorkingSetSize", ctypes.c_size_t),
            ("WorkingSetSize", ctypes.c_size_t),
            ("QuotaPeakPagedPoolUsage", ctypes.c_size_t),
            ("QuotaPagedPoolUsage", ctypes.c_size_t),
            ("QuotaPeakNonPagedPoolUsage", ctypes.c_size_t),
            ("QuotaNonPagedPoolUsage", ctypes.c_size_t),
            ("PagefileUsage", ctypes.c_size_t),
            ("PeakPagefileUsage", ctypes.c_size_t),
        ]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.K32GetProcessMemoryInfo.argtypes = (
        wintypes.HANDLE,
        ctypes.POINTER(Counters),
        wintypes.DWORD,
    )
    kernel32.K32GetProcessMemoryInfo.restype = wintypes.BOOL
    counters = Counters()
    counters.cb = ctypes.sizeof(counters)
    if not kernel32.K32GetProcessMemoryInfo(
        kernel32.GetCurrentProcess(), ctypes.byref(counters), counters.cb
    ):
        raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined,unused-ignore]
    return int(counters.WorkingSetSize)


@pytest.mark.slow
def test_memory_stays_bounded_over_many_handshakes(backend: tlsapi.Backend, pki: PKI) -> None:
    peers = _peers_for(backend, pki, "client")
    client_context, server_context = _contexts(peers, _newest(peers))
    total = SOAK_HANDSHAKES
    warm_up = max(100, total // 10)
    interval = max(1, (total - warm_up) // 10)
    payload = random.Random(1).randbytes(4096)
    samples: list[tuple[int, int]] = []
    baseline = 0
    for count in range(1, total + 1):
        client = client_context.wrap_buffers("localhost")
        server = server_context.wrap_buffers()
        handshake(client, server)
        assert transfer(client, server, payload) == payload
        assert transfer(server, client, payload[:512]) == payload[:512]
        close(client, server)
        del client, server
        if count == warm_up:
            gc.collect()
            baseline = _rss()
        elif count > warm_up and (count - warm_up) % interval == 0:
            gc.collect()
            samples.append((count, _rss() - baseline))
    worst = max(growth for _, growth in samples)
    trace = ", ".join(f"{n}: {g / 1024:+.0f} KiB" for n, g in samples)
    assert worst <= SOAK_RSS_BOUND, (
        f"RSS grew by {worst / 1048576:.1f} MiB after {warm_up} warm-up handshakes "
        f"(bound {SOAK_RSS_BOUND / 1048576:.0f} MiB): {trace}"
    )


# -- threads -----------------------------------------------------------------------------------


THREADS = 8
ROUNDS_PER_THREAD = 12


def test_eight_threads_at_once(backend: tlsapi.Backend, pki: PKI) -> None:
    peers = _peers_for(backend, pki, "client")
    versions = _versions(peers)
    contexts = {version: _contexts(peers, version) for version in versions}
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    finished: list[int] = []

    def work(number: int) -> None:
        rng = random.Random(number)
        try:
            start.wait(timeout=60)
            for round_ in range(ROUNDS_PER_THREAD):
                version = versions[round_ % len(versions)]
                client_context, server_context = contexts[version]
                client = client_context.wrap_buffers("localhost")
                server = server_context.wrap_buffers()
                handshake(client, server, chunk_size=rng.choice([None, 7, 1000]))
                upstream = rng.randbytes(rng.randrange(1, 200_000))
                downstream = rng.randbytes(rng.randrange(1, 50_000))
                assert transfer(client, server, upstream) == upstream
                assert transfer(server, client, downstream) == downstream
                assert client.negotiated_tls_version == version
                close(client, server)
            finished.append(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)  # a hang detector, not a speed check
    assert not [t for t in threads if t.is_alive()], "threads still running: a deadlock"
    if errors:
        raise errors[0]
    assert sorted(finished) == list(range(THREADS))


# -- callbacks that raise ---------------------------------------------------------------------


class CallbackFailure(Exception):
    """What the raising sni_callback raises."""


class RaisingCallback:
    """An sni_callback that raises, keeping each exception it raised."""

    def __init__(self) -> None:
        self.raised: list[CallbackFailure] = []

    def __call__(
        self, _buffer: TLSWrappedBuffer, _name: str | None, _config: tlsapi.TLSConfiguration
    ) -> tlsapi.TLSConfiguration | None:
        self.raised.append(CallbackFailure(f"sni_callback failure #{len(self.raised) + 1}"))
        raise self.raised[-1]


@pytest.mark.parametrize("chunk_size", [None, 1], ids=["whole", "1-byte"])
def test_raising_sni_callback_fails_the_handshake_cleanly(
    backend: tlsapi.Backend, pki: PKI, chunk_size: int | None
) -> None:
    peers = _peers_for(backend, pki, "server")
    callback = RaisingCallback()
    config = peers.server_config(sni_callback=callback)
    skip_if_lacks(backend, Capability.SNI_CALLBACK, lambda: backend.server_context(config))
    server_context = backend.server_context(config)
    for attempt in range(1, 4):  # the same context fails each connection the same way
        outcome = peers.outcome(server=server_context, chunk_size=chunk_size)
        assert len(callback.raised) == attempt, "the sni_callback was not called once"
        assert isinstance(outcome.server_error, TLSError), outcome.server_error
        assert not isinstance(outcome.server_error, (WantReadError, WantWriteError))
        assert_caused_by(outcome.server_error, callback.raised[-1])
        assert isinstance(outcome.client_error, TLSError), "the client did not see the failure"
        assert _step(outcome.server, outcome.server.do_handshake) == "error"
    # Other connections in the process are unaffected.
    peers.connect()


def _key_update_sender(pki: PKI) -> tlsapi.Backend | None:
    """An available backend whose client buffers can send a TLS 1.3 KeyUpdate."""
    for candidate in tlsapi.available_backends():
        if Capability.CLIENT not in candidate.capabilities:
            continue
        probe = candidate.client_context(pki.client_config()).wrap_buffers("localhost")
        if callable(getattr(probe, "key_update", None)):
            return candidate
    return None


KEY_UPDATE_STORM = 1000


@pytest.mark.parametrize("piece", [None, 7], ids=["one-delivery", "7-byte-pieces"])
def test_a_key_update_storm_is_read_through_or_refused_clearly(
    backend: tlsapi.Backend, pki: PKI, piece: int | None
) -> None:
    """1,000 KeyUpdates, each followed by a small message, at a receiver of each backend.

    OpenSSL (stdlib) and NSS take them all.  GnuTLS takes at most 8 within a second
    (a flood guard built into lib/tls13/key_update.c, with no switch, and not reset by
    returning to the caller between them): there the connection must fail with a
    TLSError that says so, after delivering exactly what came before, never garbage.
    """
    sender_backend = _key_update_sender(pki)
    if sender_backend is None:
        pytest.skip("no available backend can send a TLS 1.3 KeyUpdate (key_update())")
    peers = Peers(sender_backend, backend, pki)
    if Capability.SERVER not in backend.capabilities:
        pytest.skip(f"{backend.name} has no server side to receive with")
    sender, receiver = peers.connect()
    if receiver.negotiated_tls_version is not TLSVersion.TLSv1_3:
        pytest.skip(f"{backend.name} did not negotiate TLS 1.3 with {sender_backend.name}")
    expected = bytearray()
    for number in range(KEY_UPDATE_STORM):
        sender.key_update(request_peer_update=False)  # type: ignore[attr-defined]
        message = number.to_bytes(4, "big")
        assert sender.write(message) == len(message)
        expected += message
    wire = _take(sender)
    received = bytearray()
    error: TLSError | None = None

    def read_on() -> None:
        while True:  # not read_available: what came before an error must be kept
            try:
                data = receiver.read(65536)
            except WantReadError:
                return
            assert data, "the receiver saw the end of the stream"
            received.extend(data)

    try:
        if piece is None:
            receiver.receive_from_network(wire)
            read_on()
        else:
            for start in range(0, len(wire), piece):
                receiver.receive_from_network(wire[start : start + piece])
                read_on()
    except TLSError as exc:
        error = exc
    assert not isinstance(error, (WantReadError, WantWriteError)), error
    assert received == expected[: len(received)], "the data read is not what was sent"
    if backend.name == "gnutls" and error is not None:
        assert "KeyUpdate" in str(error), f"a vague error for GnuTLS's limit: {error}"
        assert len(received) >= 8 * 4, "GnuTLS gave up before its limit of 8"
        with pytest.raises(TLSError):
            receiver.read(100)  # the failure is sticky
        return
    assert error is None, f"{backend.name} refused a KeyUpdate storm: {error!r}"
    assert received == expected
    # The receiver's own keys are untouched: the sender still reads it.
    receiver.write(b"after the storm")
    sender.receive_from_network(_take(receiver))
    assert read_available(sender) == b"after the storm"
