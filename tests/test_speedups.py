"""The core's C fast path (tlsapi/_speedups.c) and the pure-Python core it stands in for.

The conformance kit runs with the fast path wherever the extension is built;
``test_pure_python_core_passes_the_kit`` runs the kit's buffer semantics,
shutdown, threads, re-entry and transfer tests again with
``TLSAPI_NO_SPEEDUPS=1``, so both cores are held to the same rules in every run.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import socket
import struct
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

import tlsapi
from tlsapi import TLSError, WantReadError
from tlsapi._buffer import SPEEDUPS, TLSWrappedBuffer
from tlsapi.backend_api import FAST_ABI
from tlsapi.testing import handshake
from tlsapi.testing.conformance.sockets import TCPPairs
from tlsapi.testing.pki import PKI

ROOT = Path(__file__).resolve().parent.parent
CORE_BUFFER = sys.modules[TLSWrappedBuffer.__module__].__file__
DISABLED = os.environ.get("TLSAPI_NO_SPEEDUPS") == "1"
# The backends whose C functions the core calls directly (see _fast_functions).
FAST_BACKENDS = ("gnutls", "nss")

needs_speedups = pytest.mark.skipif(not SPEEDUPS, reason="the C fast path is off in this run")


def _backend_or_skip(name: str) -> tlsapi.Backend:
    wanted = os.environ.get("TLSAPI_TEST_BACKENDS")
    if wanted is not None and name not in wanted.split(","):
        pytest.skip(f"{name} is not under test (TLSAPI_TEST_BACKENDS)")
    return tlsapi.backend(name)


def _pair(name: str) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    backend = _backend_or_skip(name)
    pki = PKI()
    client = backend.client_context(pki.client_config()).wrap_buffers("localhost")
    server = backend.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    return client, server


def _move(source: TLSWrappedBuffer, destination: TLSWrappedBuffer) -> None:
    data = source.peek_outgoing(1 << 20)
    source.consume_outgoing(len(data))
    if data:
        destination.receive_from_network(data)


def test_the_extension_is_built_and_used() -> None:
    """A build that failed silently (optional=True) would leave the slow core in use."""
    assert SPEEDUPS is not DISABLED
    if not DISABLED:
        from tlsapi import _speedups

        assert _speedups.ABI == FAST_ABI
        assert TLSWrappedBuffer.write is _speedups.FastBase.write


def test_an_incomplete_backend_still_cannot_be_instantiated() -> None:
    class Incomplete(TLSWrappedBuffer):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete(None, None)  # type: ignore[abstract, arg-type]


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_fast_path_is_on_only_while_open(name: str) -> None:
    client, server = _pair(name)
    assert client._fast_enabled and server._fast_enabled
    client.write(b"hello")
    _move(client, server)
    buffer = bytearray(100)
    assert server.readinto(buffer) == 5
    assert buffer[:5] == b"hello"
    with pytest.raises(WantReadError):
        server.readinto(buffer)
    with pytest.raises(WantReadError):
        server.read(100)
    # A stop after data (close_notify in the same delivery): the data, then b"".
    client.write(b"last")
    client.shutdown()
    _move(client, server)
    assert server.read(100) == b"last"
    assert server.read(100) == b""
    assert server.readinto(buffer) == 0
    with pytest.raises(TLSError, match="shutdown"):
        client.write(b"more")


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_collection_ends_the_fast_path_first(name: str) -> None:
    """The C objects the fast functions use live in the buffer's __dict__, freed by
    ffi.gc when it is cleared: FastBase's finalizer (tp_finalize, run before any
    clearing) turns the fast path off first.  A backend buffer defining __del__
    would replace that finalizer."""
    client, server = _pair(name)
    from tlsapi import _speedups

    # FastBase's finalizer shows as its __del__; nothing above it may have one.
    assert [cls for cls in type(client).__mro__ if "__del__" in vars(cls)] == [_speedups.FastBase]
    client.write(b"ping")
    _move(client, server)
    # Both ends in a reference cycle with live fast state, collected by the GC (under
    # the sanitizer session, a use after free here is a report).
    client.peer = server  # type: ignore[attr-defined]
    server.peer = client  # type: ignore[attr-defined]
    del client, server
    gc.collect()


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_fast_path_waits_for_the_token(name: str) -> None:
    """A call in progress (the token gone) sends every other call to the Python path."""
    client, server = _pair(name)
    client._lock_token.pop()  # as if another thread were inside a call
    finished = threading.Event()

    def write() -> None:
        client.write(b"queued")
        finished.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not finished.wait(0.2)  # waits for its turn
    client._lock_token.append(True)
    client._wake()
    thread.join(10)
    assert finished.is_set()
    _move(client, server)
    assert server.read(100) == b"queued"


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_fast_path_refuses_reentry(name: str) -> None:
    """From inside a call on the same thread (a callback), every method raises."""
    client, server = _pair(name)
    client.write(b"x")
    _move(client, server)
    server._lock_token.pop()
    server._callback_thread = threading.get_ident()
    try:
        for call in (
            lambda: server.write(b"y"),
            lambda: server.readinto(bytearray(10)),
            lambda: server.read(10),
            lambda: server.receive_from_network(b"\x17\x03\x03\x00\x01x"),
            lambda: server.peek_outgoing(10),
            lambda: server.consume_outgoing(0),
        ):
            with pytest.raises(RuntimeError, match="callback"):
                call()
    finally:
        server._callback_thread = None
        server._lock_token.append(True)
    assert server.read(10) == b"x"


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_a_failure_from_the_fast_path_is_sticky(name: str) -> None:
    """A corrupted record: the backend's error once, the same error after, the lock free."""
    client, server = _pair(name)
    client.write(b"secret")
    record = bytearray(client.peek_outgoing(100))
    client.consume_outgoing(len(record))
    record[-1] ^= 1  # the authentication tag no longer matches
    server.receive_from_network(bytes(record))
    with pytest.raises(TLSError) as first:
        server.readinto(bytearray(100))
    assert not server._fast_enabled or server._state.name == "FAILED"
    for call in (lambda: server.read(10), lambda: server.write(b"x")):
        with pytest.raises(TLSError) as again:
            call()
        assert again.value is first.value
    assert server._lock_token == [True]
    assert server.peek_outgoing(100)  # the alert GnuTLS was asked to send


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_fast_path_over_the_native_socket_path(name: str, loopback_tcp: TCPPairs) -> None:
    """Over a plain socket the library reads and writes it itself; the fast path's send
    and recv run there too (their system calls never wait), and a socket failure
    still surfaces as the OSError it is, never a TLS failure."""
    backend = _backend_or_skip(name)
    pki = PKI()
    raw_client, raw_server = loopback_tcp()
    client = backend.client_context(pki.client_config()).wrap_socket(
        raw_client, server_hostname="localhost"
    )
    server = backend.server_context(pki.server_config()).wrap_socket(raw_server)
    worker = threading.Thread(target=server.do_handshake)
    worker.start()
    client.do_handshake()
    worker.join(10)
    buffer = bytearray(64)
    for message in (b"ping", b"x" * 64):
        client.sendall(message)
        count = server.recv_into(buffer)
        assert bytes(buffer[:count]) == message[:count]
        server.sendall(buffer[:count])
        assert client.recv(64) == message[:count]
    assert client._buffer._fast_enabled and server._buffer._fast_enabled
    # A round trip now takes no Python path of the buffer's (this thread's calls).
    called: set[str] = set()
    sys.setprofile(
        lambda frame, event, arg: called.add(
            f"{Path(frame.f_code.co_filename).parent.name}.{frame.f_code.co_name}"
        )
    )
    try:
        client.sendall(b"fast")
        count = server.recv_into(buffer)
        server.sendall(buffer[:count])
        assert client.recv(64) == b"fast"
    finally:
        sys.setprofile(None)
    # The core's Python methods (tlsapi/_buffer.py) and the backend's hooks.
    python_path = {"tlsapi.write", "tlsapi.readinto", "tlsapi.read"}
    python_path |= {f"tlsapi_{name}.{hook}" for hook in ("_write", "_readinto", "_read")}
    assert not python_path & called, sorted(python_path & called)
    # The server's socket is reset (SO_LINGER 0): the client's next recv meets ECONNRESET.
    raw_server.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    server.close()
    with pytest.raises(ConnectionResetError):
        client.recv(64)
    client.close()


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_sizes_and_buffer_types(name: str) -> None:
    """Bulk sizes and odd buffers go through the Python path, with the same results."""
    client, server = _pair(name)
    data = bytes(range(256)) * 300  # above the fast path's 16 KiB
    for chunk in (data, bytearray(b"ba"), memoryview(b"xmvx")[1:3], b"z"):
        assert client.write(chunk) == len(chunk)
    _move(client, server)
    received = bytearray()
    target = bytearray(70_000)  # above the fast read size
    received += target[: server.readinto(target)]
    while len(received) < len(data) + 5:
        received += server.read(3)
    assert bytes(received) == data + b"bamvz"
    with pytest.raises(TypeError):
        client.write("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        server.readinto(b"read-only")
    with pytest.raises(ValueError, match="negative"):
        server.read(-1)
    assert server.read(0) == b""
    with pytest.raises(ValueError, match="consume"):
        client.consume_outgoing(5)


@contextlib.contextmanager
def _core_calls() -> Iterator[list[str]]:
    """The names of the core's Python methods called meanwhile on this thread (those
    kept as _<name>_slow still carry their own names)."""
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == CORE_BUFFER:
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(None)


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_handshake_steps_run_in_c(name: str) -> None:
    """A client's buffer has its backend's C functions from the start, a server's once
    the client's first bytes passed the not-TLS check (each end's first receive is
    Python's, for that check); then ciphertext moves and (where the backend has a
    handshake function) handshake steps run without the Python methods, and a step
    that needs more bytes raises WantReadError from C, which fails nothing."""
    backend = _backend_or_skip(name)
    pki = PKI()
    client = backend.client_context(pki.client_config()).wrap_buffers("localhost")
    server = backend.server_context(pki.server_config()).wrap_buffers()
    # None while the backend has per-call Python work left in the handshake (nss).
    early = client._fast_functions()
    assert client._fast_enabled is (early is not None)
    assert not client._peer_checked and not server._fast_enabled
    has_handshake = early is not None and early[9] != 0
    with _core_calls() as calls:
        with pytest.raises(WantReadError) as raised:
            client.do_handshake()
        _move(client, server)
        assert server._fast_enabled is (early is not None) and server._peer_checked
        with pytest.raises(WantReadError):
            server.do_handshake()
        _move(server, client)
        assert client._peer_checked
        client.do_handshake()
        _move(client, server)
        server.do_handshake()
    assert str(raised.value) and isinstance(raised.value, TLSError)
    assert client._fast_enabled and server._fast_enabled
    if early is not None:
        assert "peek_outgoing" not in calls and "consume_outgoing" not in calls
        assert calls.count("receive_from_network") == 2  # each end's first: the check
        assert ("do_handshake" in calls) is not has_handshake
    if name == "gnutls":
        assert has_handshake
    client.write(b"after")
    _move(client, server)
    assert server.read(10) == b"after"


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_the_adapters_per_record_calls_run_in_c(name: str) -> None:
    """_bio_write and _bio_read (the ssl adapter's write and read: an operation and the
    output, a receive too) take no Python path on an open connection; what is not
    plain (want-read, close_notify after data) still answers as in Python."""
    client, server = _pair(name)
    with _core_calls() as calls:
        taken, output = client._bio_write(b"ping")
        data, answer = server._bio_read(output, 100)
    assert (taken, data, answer) == (4, b"ping", b"")
    assert "_bio_write" not in calls and "_bio_read" not in calls
    with pytest.raises(WantReadError):
        server._bio_read(b"", 100)
    client.write(b"last")
    client.shutdown()
    wire = client._take_outgoing()
    assert server._bio_read(wire, 100) == (b"last", b"")
    assert server._bio_read(b"", 100) == (b"", b"")


def _read_all(buffer: TLSWrappedBuffer, size: int) -> bytes:
    received = bytearray()
    sink = bytearray(65536)
    while len(received) < size:
        count = buffer.readinto(sink)
        received += sink[:count]
    with pytest.raises(WantReadError):
        buffer.readinto(sink)
    return bytes(received)


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_a_large_write_goes_straight_into_the_bytes_handed_out(name: str) -> None:
    """The records of a large write are written once, into the object peek_outgoing
    returns: the queue's only chunk, nothing left in the backend's own buffer."""
    client, server = _pair(name)
    payload = os.urandom(1 << 20)
    assert client.write(memoryview(payload)) == len(payload)
    chunks = client._outgoing.chunks
    assert len(chunks) == 1 and type(chunks[0]) is bytes
    data = client.peek_outgoing(1 << 30)
    assert data is chunks[0]
    assert client.outgoing_bytes_buffered() == len(data)  # the backend holds nothing more
    assert len(payload) < len(data) < len(payload) + 64 * 65  # records, not the bound's slack
    client.consume_outgoing(len(data))
    server.receive_from_network(data)
    assert _read_all(server, len(payload)) == payload
    # And the other way, in pieces of every size around the threshold.
    for size in (16383, 16384, 16385, 40000):
        piece = os.urandom(size)
        assert server.write(piece) == size
        _move(server, client)
        assert _read_all(client, size) == piece


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_a_large_receive_is_read_and_let_go(name: str) -> None:
    """A large receive lends its bytes object to the backend (no copy); reads empty it
    in C, and the object is let go once read."""
    client, server = _pair(name)
    payload = os.urandom(1 << 20)
    client.write(payload)
    data = client.peek_outgoing(1 << 30)
    client.consume_outgoing(len(data))
    alone = sys.getrefcount(data)
    server.receive_from_network(data)
    with _core_calls() as calls:
        received = _read_all(server, len(payload))
    assert received == payload
    assert sys.getrefcount(data) == alone  # nothing keeps the received object
    # The reads ran in C; the last (WantReadError: nothing left) may take Python's path.
    assert calls.count("readinto") <= 1


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_a_large_write_after_pending_output_keeps_the_order(name: str) -> None:
    """Bytes already written go first: in the backend's buffer (not yet peeked) or in
    the core's queue (peeked, not all consumed), a large write takes the Python path."""
    client, server = _pair(name)
    big = os.urandom(300_000)
    client.write(b"first")  # in the backend's buffer
    client.write(big)
    client.write(b"second")
    part = client.peek_outgoing(7)  # some in the core's queue, partly consumed
    client.consume_outgoing(3)
    client.write(big[::-1])
    rest = client.peek_outgoing(1 << 30)
    client.consume_outgoing(len(rest))
    server.receive_from_network(part[:3] + rest)
    expected = b"first" + big + b"second" + big[::-1]
    assert _read_all(server, len(expected)) == expected


@needs_speedups
@pytest.mark.parametrize("name", FAST_BACKENDS)
@pytest.mark.parametrize("capacity", [0, 20_000, 16_406 * 3 - 1])
def test_send_into_puts_what_does_not_fit_in_the_backends_output(name: str, capacity: int) -> None:
    """send_into called through its address, as the core calls it, with less room than
    the records need: the rest goes to the backend's output, after the bytes in ``out``."""
    import ctypes

    client, server = _pair(name)
    functions = client._fast_functions()
    assert functions is not None and len(functions) == 10 and functions[0] == FAST_ABI
    send_into = ctypes.CFUNCTYPE(
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t),
    )(functions[8])
    payload = os.urandom(100_000)
    out = ctypes.create_string_buffer(max(capacity, 1))
    written = ctypes.c_size_t(12345)
    # The test holds the connection's lock, as the core does around the call.
    with client._exclusive():
        result = send_into(functions[1], payload, len(payload), out, capacity, written)
    assert result == len(payload)
    assert written.value <= capacity
    if capacity >= 20_000:
        assert written.value > 0
    rest = client.peek_outgoing(1 << 30)
    client.consume_outgoing(len(rest))
    server.receive_from_network(out.raw[: written.value] + rest)
    assert _read_all(server, len(payload)) == payload


# Per backend: its pkg-config packages, its header, its functions' prefix.
HEADERS = {
    "gnutls": (("gnutls",), "transport.h", "tlsapi_gnutls_fast_", "TLSAPI_GNUTLS_FAST_DECLINED"),
    "nss": (("nss", "nspr"), "fast.h", "tlsapi_nss_fast_", "TLSAPI_NSS_FAST_DECLINED"),
}


_REQUIRED_KINDS = ("send", "recv", "give", "output", "taken")


@pytest.mark.parametrize("name", FAST_BACKENDS)
def test_backend_functions_match_the_header(name: str, tmp_path: Path) -> None:
    """Each fast backend's C functions have exactly the types of tlsapi_fast.h."""
    packages, header, prefix, declined = HEADERS[name]
    header_text = (ROOT / "build_ffi" / name / header).read_text()
    compiler = sysconfig.get_config_var("CC") or "cc"
    if shutil.which(compiler.split()[0]) is None or shutil.which("pkg-config") is None:
        pytest.skip("no C compiler or pkg-config")
    flags = subprocess.run(
        ["pkg-config", "--cflags", *packages], capture_output=True, text=True, check=False
    )
    if flags.returncode:
        pytest.skip(f"no {name} headers")
    source = tmp_path / "check.c"
    source.write_text(
        f'#include "tlsapi_fast.h"\n#include "{header}"\n'
        + "".join(
            f"tlsapi_fast_{kind}_fn {kind}_fn = {prefix}{kind};\n"
            for kind in (
                "send",
                "recv",
                "give",
                "output",
                "taken",
                "bound",
                "send_into",
                "handshake",
            )
            # The first five are required; the rest only where the backend has them.
            if kind in _REQUIRED_KINDS or f"{prefix}{kind}(" in header_text
        )
        + f"#if {declined} != TLSAPI_FAST_DECLINED || TLSAPI_FAST_ABI != {FAST_ABI}\n"
        "#error the contract changed\n#endif\n"
    )
    subprocess.run(
        [
            *compiler.split(),
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-c",
            "-o",
            str(tmp_path / "check.o"),
            f"-I{ROOT / 'tlsapi' / 'include'}",
            f"-I{ROOT / 'build_ffi' / name}",
            *flags.stdout.split(),
            str(source),
        ],
        check=True,
    )


@pytest.mark.skipif(DISABLED, reason="this run is the pure-Python core already")
def test_pure_python_core_passes_the_kit() -> None:
    """The kit's buffer semantics, shutdown, threads, re-entry and transfer tests,
    and the ssl adapter's per-record calls (its BIO and asyncio tests), with
    TLSAPI_NO_SPEEDUPS=1 (every backend under test)."""
    env = dict(os.environ, TLSAPI_NO_SPEEDUPS="1")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            "0",
            str(ROOT / "tests" / "test_conformance.py"),
            str(ROOT / "tests" / "test_speedups.py"),
            str(ROOT / "tests" / "adapter" / "test_bio.py"),
            str(ROOT / "tests" / "adapter" / "test_asyncio.py"),
            "-k",
            "TestBufferSemantics or TestShutdown or TestThreads or TestReentry or TestTransfer "
            "or test_the_extension_is_built_and_used or test_bio or test_asyncio",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
