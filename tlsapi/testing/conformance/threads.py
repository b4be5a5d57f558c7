"""Threads and re-entry: no call pattern may corrupt a connection or its memory.

cffi and the ``ssl`` module release the GIL around every C call, so two
threads calling one TLSWrappedBuffer run the library concurrently unless the
buffer serialises them.  These tests do what a careless (or a reasonable)
program does: feed ciphertext from one thread while another reads, write
from two threads while a third drains, handshake from eight threads, read
and write while the peer sends KeyUpdates; then they check that every byte
arrived intact.  Under AddressSanitizer (``nox -s sanitizers``) they also
show that no C memory is misused.  A callback that calls back into its own
connection must get a clear RuntimeError, and a KeyboardInterrupt in a
callback must come out as itself and leave the connection failed.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._errors import TLSError, WantReadError, WantWriteError
from ..._registry import available_backends
from ..._versions import TLSVersion
from ..pki import PKI
from ..pump import handshake, pump
from ._support import Peers, assert_caused_by, lacks

__all__ = ["TestReentry", "TestThreads"]

# Long enough for a thread switch inside every kind of call, short enough for
# the sanitizer run.
BULK_BYTES = 2 << 20
MESSAGE_SIZE = 1000
MESSAGES_PER_WRITER = 600
HANDSHAKE_THREADS = 8
MESSAGES = 250
KEY_UPDATES = 10
KEY_UPDATE_SPACING = 0.15  # seconds
DEADLINE = 120.0  # seconds: a hang is a failure, not a stuck test run


class Workers:
    """Threads whose exceptions fail the test, joined with a deadline."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def start(self, target: Callable[[], None], name: str) -> None:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # reported by join()
                self.errors.append(exc)
                self.stop.set()

        thread = threading.Thread(target=run, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        deadline = time.monotonic() + DEADLINE
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.stop.set()
        stuck = [t.name for t in self.threads if t.is_alive()]
        if self.errors:
            raise self.errors[0]
        assert not stuck, f"threads still running after {DEADLINE:.0f} s: {stuck}"

    def running(self) -> bool:
        return not self.stop.is_set()


def _pattern(size: int) -> bytes:
    block = hashlib.sha256(b"tlsapi threads").digest()
    return (block * (size // len(block) + 1))[:size]


def _read_some(buffer: TLSWrappedBuffer, size: int = 65536) -> bytes | None:
    """Plaintext if there is some, None when the buffer wants more bytes."""
    try:
        return buffer.read(size)
    except (WantReadError, WantWriteError):
        return None


def _key_update_sender(backend: Backend, pki: PKI) -> Backend | None:
    """``backend`` or another available one whose client buffers have key_update()."""
    for candidate in (backend, *available_backends()):
        if Capability.CLIENT not in candidate.capabilities:
            continue
        buffer = candidate.client_context(pki.client_config()).wrap_buffers("localhost")
        if callable(getattr(buffer, "key_update", None)):
            return candidate
    return None


class TestThreads:
    """Several threads on one connection: serialised, nothing lost, nothing corrupted."""

    def test_one_thread_feeds_while_another_reads(self, backend: Backend, pki: PKI) -> None:
        client, server = Peers.for_backend(backend, pki).connect()
        data = _pattern(BULK_BYTES)
        received = bytearray()
        workers = Workers()

        def feed() -> None:
            view = memoryview(data)
            while view and workers.running():
                taken = client.write(view[:16384])
                view = view[taken:]
                pump(client, server, chunk_size=4096)

        def read() -> None:
            while len(received) < len(data) and workers.running():
                chunk = _read_some(server)
                if chunk is None:
                    time.sleep(0)
                    continue
                assert chunk, "the peer's stream ended early"
                received.extend(chunk)

        workers.start(feed, "feeder")
        workers.start(read, "reader")
        workers.join()
        assert len(received) == len(data)
        assert bytes(received) == data

    def test_two_writers_and_a_drainer(self, backend: Backend, pki: PKI) -> None:
        client, server = Peers.for_backend(backend, pki).connect()
        written = {0: 0, 1: 0}
        received = bytearray()
        expected = 2 * MESSAGES_PER_WRITER * MESSAGE_SIZE
        workers = Workers()

        def writer(tag: int) -> Callable[[], None]:
            def run() -> None:
                for sequence in range(MESSAGES_PER_WRITER):
                    message = bytes([tag]) + sequence.to_bytes(4, "big")
                    message += bytes([65 + tag]) * (MESSAGE_SIZE - len(message))
                    # A write takes all of a buffer's message or it is not atomic:
                    # then messages from two threads could interleave.
                    assert server.write(message) == MESSAGE_SIZE
                    written[tag] += 1

            return run

        def drain() -> None:
            while len(received) < expected and workers.running():
                pump(server, client)
                chunk = _read_some(client)
                if chunk is None:
                    time.sleep(0)
                    continue
                received.extend(chunk)

        workers.start(writer(0), "writer-0")
        workers.start(writer(1), "writer-1")
        workers.start(drain, "drainer")
        workers.join()
        assert len(received) == expected
        seen: dict[int, list[int]] = {0: [], 1: []}
        for start in range(0, expected, MESSAGE_SIZE):
            message = received[start : start + MESSAGE_SIZE]
            tag = message[0]
            assert tag in (0, 1), f"message at {start} is corrupt: {bytes(message[:8])!r}"
            assert message[5:] == bytes([65 + tag]) * (MESSAGE_SIZE - 5)
            seen[tag].append(int.from_bytes(message[1:5], "big"))
        # Each thread's messages arrive whole and in the order it wrote them.
        assert seen == {0: list(range(MESSAGES_PER_WRITER)), 1: list(range(MESSAGES_PER_WRITER))}

    def test_many_threads_drive_one_handshake(self, backend: Backend, pki: PKI) -> None:
        client, server = Peers.for_backend(backend, pki).pair()
        done = threading.Event()
        # peek_outgoing + consume_outgoing is one transaction of the transport's:
        # the buffer serialises each call, the program must serialise the pair.
        transport = threading.Lock()
        workers = Workers()

        def drive() -> None:
            while not done.is_set() and workers.running():
                finished = 0
                for buffer in (client, server):
                    try:
                        buffer.do_handshake()
                        finished += 1
                    except (WantReadError, WantWriteError):
                        pass
                with transport:
                    pump(client, server)
                    pump(server, client)
                if finished == 2:
                    done.set()
                time.sleep(0)

        for number in range(HANDSHAKE_THREADS):
            workers.start(drive, f"handshake-{number}")
        workers.join()
        assert done.is_set()
        assert client.write(b"after eight threads") == 19
        pump(client, server)
        assert server.read(100) == b"after eight threads"

    def test_reader_and_writer_threads_while_the_peer_sends_key_updates(
        self, backend: Backend, pki: PKI
    ) -> None:
        sender_backend = _key_update_sender(backend, pki)
        if sender_backend is None:
            pytest.skip("no backend under test can send a TLS 1.3 KeyUpdate (key_update())")
        peers = Peers(sender_backend, Peers.for_backend(backend, pki).server_backend, pki)
        peer, receiver = peers.connect()
        if receiver.negotiated_tls_version is not TLSVersion.TLSv1_3:
            pytest.skip(f"{backend.name} did not negotiate TLS 1.3 with {sender_backend.name}")
        got = 0
        got_changed = threading.Condition()
        back = bytearray()
        workers = Workers()

        def sender() -> None:
            # The peer: messages, with a KeyUpdate that asks for one back every
            # so often.  Paced: GnuTLS refuses more than 8 KeyUpdates a second
            # (a flood guard; tests/test_robustness.py covers storms).
            nonlocal got
            last_update = 0.0
            for number in range(MESSAGES):
                if number % (MESSAGES // KEY_UPDATES) == 0:
                    time.sleep(max(0.0, last_update + KEY_UPDATE_SPACING - time.monotonic()))
                    peer.key_update()  # type: ignore[attr-defined]
                    last_update = time.monotonic()
                peer.write(number.to_bytes(4, "big"))
                pump(peer, receiver)
                with got_changed:
                    while got <= number and workers.running():
                        got_changed.wait(0.01)
                        chunk = _read_some(peer)
                        if chunk:
                            back.extend(chunk)

        def reader() -> None:
            nonlocal got
            stream = bytearray()
            while len(stream) < 4 * MESSAGES and workers.running():
                chunk = _read_some(receiver)
                if chunk is None:
                    time.sleep(0)
                    continue
                assert chunk, "the peer's stream ended early"
                stream.extend(chunk)
                with got_changed:
                    got = len(stream) // 4
                    got_changed.notify_all()
            expected = b"".join(n.to_bytes(4, "big") for n in range(MESSAGES))
            assert bytes(stream) == expected

        def writer() -> None:
            # The receiver's own traffic: its writes must use the updated keys.
            while workers.running() and got < MESSAGES:
                receiver.write(b"w" * 64)
                pump(receiver, peer)
                time.sleep(0)

        workers.start(sender, "peer")
        workers.start(reader, "reader")
        workers.start(writer, "writer")
        workers.join()
        pump(receiver, peer)
        while (chunk := _read_some(peer)) is not None and chunk:
            back.extend(chunk)
        assert back and back == b"w" * len(back), "the receiver's data arrived corrupted"


def _hello_delivered(peers: Peers, callback: Any) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    """A pair whose server has ``callback`` as sni_callback and the client's hello."""
    config = peers.server_config(sni_callback=callback)
    if lacks(peers.server_backend, Capability.SNI_CALLBACK, lambda: peers.server_context(config)):
        pytest.skip(f"{peers.server_backend.name} has no sni_callback")
    client, server = peers.pair(server=config)
    _deliver_client_hello(client, server)
    return client, server


def _deliver_client_hello(client: TLSWrappedBuffer, server: TLSWrappedBuffer) -> None:
    with pytest.raises(WantReadError):
        client.do_handshake()
    pump(client, server)


REENTRANT_CALLS: dict[str, Callable[[TLSWrappedBuffer], object]] = {
    "do_handshake": lambda b: b.do_handshake(),
    "read": lambda b: b.read(10),
    "readinto": lambda b: b.readinto(bytearray(10)),
    "write": lambda b: b.write(b"from the callback"),
    "shutdown": lambda b: b.shutdown(),
    "receive_from_network": lambda b: b.receive_from_network(b"\x16"),
    "peek_outgoing": lambda b: b.peek_outgoing(10),
    "consume_outgoing": lambda b: b.consume_outgoing(0),
    "outgoing_bytes_buffered": lambda b: b.outgoing_bytes_buffered(),
}


class TestReentry:
    """A callback that calls into its own connection, and interrupts inside callbacks."""

    @pytest.mark.parametrize("call", sorted(REENTRANT_CALLS))
    def test_sni_callback_calling_its_connection_is_refused(
        self, backend: Backend, pki: PKI, call: str
    ) -> None:
        peers = Peers.for_backend(backend, pki)
        seen: list[BaseException] = []

        def callback(buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration) -> None:
            try:
                REENTRANT_CALLS[call](buffer)
            except BaseException as exc:
                seen.append(exc)
                raise

        _client, server = _hello_delivered(peers, callback)
        with pytest.raises(TLSError) as raised:
            server.do_handshake()
        assert len(seen) == 1, f"the callback ran {len(seen)} times"
        assert isinstance(seen[0], RuntimeError), seen[0]
        assert "callback" in str(seen[0])
        assert_caused_by(raised.value, seen[0])
        # Failed for good: the same error again, the callback not run again.
        with pytest.raises(TLSError):
            server.do_handshake()
        assert len(seen) == 1

    def test_keyboard_interrupt_in_sni_callback(self, backend: Backend, pki: PKI) -> None:
        peers = Peers.for_backend(backend, pki)
        calls = []

        def callback(buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration) -> None:
            calls.append(name)
            raise KeyboardInterrupt

        _client, server = _hello_delivered(peers, callback)
        with pytest.raises(KeyboardInterrupt):
            server.do_handshake()
        # The connection is failed, not retried: a TLSError from now on, no second call.
        for again in (server.do_handshake, lambda: server.read(1), lambda: server.write(b"x")):
            with pytest.raises(TLSError) as raised:
                again()
            assert not isinstance(raised.value, (WantReadError, WantWriteError))
            assert "KeyboardInterrupt" in str(raised.value)
        assert calls == ["localhost"]

    def test_calls_from_another_thread_wait_during_a_callback(
        self, backend: Backend, pki: PKI
    ) -> None:
        """Another thread's call waits for the callback to return (it is not refused)."""
        peers = Peers.for_backend(backend, pki)
        entered = threading.Event()
        release = threading.Event()
        outside: list[object] = []

        def callback(buffer: TLSWrappedBuffer, name: str | None, config: TLSConfiguration) -> None:
            entered.set()
            assert release.wait(DEADLINE)

        client, server = _hello_delivered(peers, callback)
        workers = Workers()

        def other_thread() -> None:
            assert entered.wait(DEADLINE)
            outside.append(server.outgoing_bytes_buffered())

        workers.start(_quiet(server), "handshake")
        workers.start(other_thread, "other")
        assert entered.wait(DEADLINE)
        time.sleep(0.05)
        assert outside == [], "a call from another thread ran while the callback held the lock"
        release.set()
        workers.join()
        assert len(outside) == 1 and isinstance(outside[0], int) and outside[0] > 0
        handshake(client, server)


def _quiet(buffer: TLSWrappedBuffer) -> Callable[[], None]:
    def run() -> None:
        with contextlib.suppress(WantReadError):
            buffer.do_handshake()

    return run
