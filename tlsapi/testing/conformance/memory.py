"""Memory: a connection left idle after bulk traffic keeps no large buffer.

Two measurements, because neither sees everything:

* ``buffered_capacity``: a backend may offer ``buffered_capacity(buffer) -> int``
  in the ``testing`` module of the package its buffer class comes from
  (``tlsapi_gnutls.testing``, ...): the bytes it has allocated for the
  connection's ciphertext outside the TLS library (C buffers, borrowed input).
  After a 1 MiB write each way, moved across in one piece or in many, and
  read to the end, that must be small.  Backends without it are skipped here
  with the reason (the second test still covers them).
* the heap of a fresh child process: 50 connected pairs, 1 MiB each way per
  pair, everything read; the bytes malloc has in use afterwards, minus before,
  per pair.  This sees the library's own buffers too.  glibc's ``mallinfo2``
  counts exactly what is still allocated; elsewhere on Linux the resident set
  size is used (coarser: freed memory may stay resident).  Python's own objects
  are counted apart, by tracemalloc (pymalloc's arenas are not malloc's, so
  mallinfo2 misses small objects a connection would keep).  Half the pairs move
  everything at once and read() it; the other half move 16 KiB pieces through
  peek_outgoing/consume_outgoing as memoryviews and readinto() a bytearray, so
  the core's partial-consume and readinto paths are covered as well as the
  backend's.  One pair does the same first, untimed and unmeasured, so that
  one-off allocations (a per-thread read scratch) are not counted.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

from ..._backend import Backend
from ..._buffer import TLSWrappedBuffer
from ..pump import read_available
from ._support import Peers

__all__ = ["TestMemory"]

MiB = 1 << 20
# What an idle connection may keep for its ciphertext: a small buffer for the next
# small message is fine, a copy of a bulk transfer (1 MiB or more) is not.
IDLE_LIMIT = 32 * 1024
# Per pair of connections (both ends) in the child process: the library's record
# buffers (up to a few 16 KiB records per end) and allocator slack, far below the
# 2 MiB that went through each pair.
PAIR_LIMIT = 256 * 1024
# Python objects still held per idle pair (both ends): a few small ones, no copy of the data.
PYTHON_PAIR_LIMIT = 16 * 1024
PAIRS = 50


def _capacity_helper(buffer: TLSWrappedBuffer) -> Callable[[TLSWrappedBuffer], int] | None:
    package = type(buffer).__module__.split(".")[0]
    try:
        module = importlib.import_module(f"{package}.testing")
    except ImportError:
        return None
    helper = getattr(module, "buffered_capacity", None)
    return helper if callable(helper) else None


def _move(source: TLSWrappedBuffer, destination: TLSWrappedBuffer, piece: int | None) -> int:
    data = source.peek_outgoing(source.outgoing_bytes_buffered())
    source.consume_outgoing(len(data))
    if piece is None:
        destination.receive_from_network(data)
    else:  # memoryviews: backends that borrow bytes must copy these
        view = memoryview(data)
        for start in range(0, len(data), piece):
            destination.receive_from_network(view[start : start + piece])
    return len(data)


class TestMemory:
    @pytest.mark.parametrize("piece", [None, 5000], ids=["one-delivery", "5000-byte-pieces"])
    def test_idle_connection_keeps_no_large_buffer(self, peers: Peers, piece: int | None) -> None:
        client, server = peers.connect()
        helpers = [(end, _capacity_helper(end)) for end in (client, server)]
        if all(helper is None for _, helper in helpers):
            pytest.skip(
                "the backend offers no buffered_capacity helper in its testing module; "
                "test_idle_connections_in_a_child_process measures it from the heap"
            )
        message = bytes(range(256)) * (MiB // 256)
        for sender, receiver in ((client, server), (server, client)):
            assert sender.write(message) == len(message)
            helper = dict(helpers)[sender]
            if helper is not None:
                # The measurement sees the pending ciphertext: it would see a kept copy too.
                assert helper(sender) >= len(message), "buffered_capacity misses pending output"
            _move(sender, receiver, piece)
            received = bytearray()
            while len(received) < len(message):
                received += read_available(receiver)
            assert received == message
            assert receiver.incoming_bytes_buffered() == 0
        for end, helper in helpers:
            if helper is not None:
                kept = helper(end)
                assert kept <= IDLE_LIMIT, f"an idle connection keeps {kept} bytes of buffers"

    def test_idle_connections_in_a_child_process(self, backend: Backend) -> None:
        if not sys.platform.startswith("linux"):
            pytest.skip("the heap is measured through glibc or /proc (Linux only)")
        child = subprocess.run(
            [sys.executable, "-c", _CHILD, backend.name, str(PAIRS)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, TLSAPI_BACKEND=backend.name),
            check=False,
            timeout=300,
        )
        if child.returncode == 3:
            pytest.skip(f"the child process cannot measure or use the backend: {child.stdout}")
        assert child.returncode == 0, child.stderr[-2000:]
        result = json.loads(child.stdout)
        per_pair = result["growth"] / PAIRS
        assert per_pair <= PAIR_LIMIT, (
            f"{backend.name}: {per_pair / 1024:.0f} KiB ({result['method']}) still held per "
            f"pair of idle connections after 1 MiB each way"
        )
        python_per_pair = result["python_growth"] / PAIRS
        assert python_per_pair <= PYTHON_PAIR_LIMIT, (
            f"{backend.name}: {python_per_pair / 1024:.1f} KiB of Python objects (tracemalloc) "
            f"still held per pair of idle connections after 1 MiB each way"
        )


_CHILD = textwrap.dedent(
    """
    import ctypes, gc, json, sys, tracemalloc
    import tlsapi
    from tlsapi.testing import PKI, handshake
    from tlsapi.testing.pump import read_available

    name, count = sys.argv[1], int(sys.argv[2])

    class MallInfo2(ctypes.Structure):
        _fields_ = [(field, ctypes.c_size_t) for field in (
            "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
        ).split()]

    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
        mallinfo2.restype = MallInfo2
    except (AttributeError, OSError):
        mallinfo2 = None

    def in_use():
        if mallinfo2 is not None:
            info = mallinfo2()
            return info.uordblks + info.hblkhd  # heap and mmapped blocks in use
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * 4096

    try:
        backend = tlsapi.backend(name)
        in_use()
    except (tlsapi.ConfigurationError, OSError) as exc:
        print(exc)
        sys.exit(3)
    pki = PKI()
    client_context = backend.client_context(pki.client_config())
    server_context = backend.server_context(pki.server_config())
    tracemalloc.start()
    pairs = []
    for _ in range(count + 1):
        client, server = client_context.wrap_buffers("localhost"), server_context.wrap_buffers()
        handshake(client, server)
        pairs.append((client, server))
    message = bytes(range(256)) * 4096
    sink = bytearray(16384)

    def at_once(sender, receiver):
        data = sender.peek_outgoing(sender.outgoing_bytes_buffered())
        sender.consume_outgoing(len(data))
        receiver.receive_from_network(data)
        del data
        received = 0
        while received < len(message):
            received += len(read_available(receiver))

    def in_pieces(sender, receiver):
        received = 0
        while received < len(message):
            data = sender.peek_outgoing(16384)
            if data:
                sender.consume_outgoing(len(data))
                receiver.receive_from_network(memoryview(data))
            del data
            while True:
                try:
                    got = receiver.readinto(sink)
                except tlsapi.WantReadError:
                    break
                if not got:
                    break
                received += got

    def bulk(index, client, server):
        move = at_once if index % 2 else in_pieces
        for sender, receiver in ((client, server), (server, client)):
            sender.write(message)
            move(sender, receiver)

    bulk(0, *pairs.pop())  # one-off allocations first
    gc.collect()
    before, python_before = in_use(), tracemalloc.get_traced_memory()[0]
    for index, (client, server) in enumerate(pairs):
        bulk(index, client, server)
    gc.collect()
    method = "mallinfo2" if mallinfo2 is not None else "RSS"
    python_growth = tracemalloc.get_traced_memory()[0] - python_before
    print(json.dumps({"growth": in_use() - before, "method": method, "python_growth": python_growth}))
    """
)
