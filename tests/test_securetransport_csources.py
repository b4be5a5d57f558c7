"""Secure Transport's C transport (transport.c), compiled and run on Linux against stubs.

Apple's headers do not exist here, so this test writes a test-only
``Security/SecureTransport.h`` declaring the few names transport.c uses (with
the types and values our cdefs give them, which tests/test_securetransport_cdefs.py
checks against Debian's declarations), plus a stub implementation of
SSLCreateContext, SSLSetIOFuncs, SSLSetConnection and CFRelease that keeps the
read and write functions transport.c registers.  Then:

* the file compiles with -Wall -Wextra -Wconversion -Wshadow
  -Wmissing-prototypes as errors (its own pragmas, and on the command line);
* built into a shared library with the stubs, the read and write functions
  behave as Secure Transport needs: partial reads answer errSSLWouldBlock with
  the count copied, an empty buffer at end of file answers
  errSSLClosedNoNotify, writes never block, consumed output is released, and
  the context is released once.

On macOS the real compiler checks the same file against the real headers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
C_DIR = ROOT / "build_ffi" / "securetransport"
WARNINGS = ["-Wall", "-Wextra", "-Wconversion", "-Wshadow", "-Wmissing-prototypes", "-Werror"]

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None or not sys.platform.startswith("linux"),
    reason="needs gcc on Linux (on macOS the real headers are used)",
)

STUB_HEADER = """
/* Test-only stand-in for Apple's header: only what transport.c uses. */
#ifndef TLSAPI_TEST_STUB_SECURETRANSPORT_H
#define TLSAPI_TEST_STUB_SECURETRANSPORT_H
#include <stddef.h>
#include <stdint.h>
typedef int32_t OSStatus;
typedef const void *CFTypeRef;
typedef const void *CFAllocatorRef;
typedef struct SSLContext *SSLContextRef;
typedef const void *SSLConnectionRef;
typedef int SSLProtocolSide;
typedef int SSLConnectionType;
typedef OSStatus (*SSLReadFunc)(SSLConnectionRef connection, void *data, size_t *dataLength);
typedef OSStatus (*SSLWriteFunc)(SSLConnectionRef connection, const void *data,
                                 size_t *dataLength);
enum { noErr = 0 };
enum { errSSLWouldBlock = -9803, errSSLInternal = -9810, errSSLClosedNoNotify = -9816 };
enum { kSSLServerSide = 0, kSSLClientSide = 1 };
enum { kSSLStreamType = 0 };
SSLContextRef SSLCreateContext(CFAllocatorRef alloc, SSLProtocolSide protocolSide,
                               SSLConnectionType connectionType);
OSStatus SSLSetIOFuncs(SSLContextRef context, SSLReadFunc readFunc, SSLWriteFunc writeFunc);
OSStatus SSLSetConnection(SSLContextRef context, SSLConnectionRef connection);
void CFRelease(CFTypeRef cf);
#endif
"""

STUB_SOURCE = """
#include <Security/SecureTransport.h>
#include "transport.h"

static struct { int dummy; } tlsapi_stub_context;
static SSLReadFunc tlsapi_stub_reader;
static SSLWriteFunc tlsapi_stub_writer;
static SSLConnectionRef tlsapi_stub_connection;
int tlsapi_stub_releases;

SSLContextRef SSLCreateContext(CFAllocatorRef alloc, SSLProtocolSide side, SSLConnectionType type)
{
    (void)alloc; (void)side; (void)type;
    return (SSLContextRef)(void *)&tlsapi_stub_context;
}
OSStatus SSLSetIOFuncs(SSLContextRef context, SSLReadFunc reader, SSLWriteFunc writer)
{
    (void)context; tlsapi_stub_reader = reader; tlsapi_stub_writer = writer; return noErr;
}
OSStatus SSLSetConnection(SSLContextRef context, SSLConnectionRef connection)
{
    (void)context; tlsapi_stub_connection = connection; return noErr;
}
void CFRelease(CFTypeRef cf) { (void)cf; tlsapi_stub_releases++; }

OSStatus tlsapi_stub_read(void *data, size_t *length)
{ return tlsapi_stub_reader(tlsapi_stub_connection, data, length); }
OSStatus tlsapi_stub_write(const void *data, size_t *length)
{ return tlsapi_stub_writer(tlsapi_stub_connection, data, length); }
size_t tlsapi_stub_in_len(tlsapi_securetransport_io *io) { return io->in_len; }
size_t tlsapi_stub_out_len(tlsapi_securetransport_io *io) { return io->out_len; }
const unsigned char *tlsapi_stub_out(tlsapi_securetransport_io *io) { return io->out_data; }
void tlsapi_stub_set_eof(tlsapi_securetransport_io *io) { io->eof = 1; }
int tlsapi_stub_starved(tlsapi_securetransport_io *io) { return io->starved; }
"""

ABI = """
typedef struct tlsapi_securetransport_io tlsapi_securetransport_io;
tlsapi_securetransport_io *tlsapi_securetransport_io_new(int side, int32_t *status);
void tlsapi_securetransport_io_free(tlsapi_securetransport_io *io);
int tlsapi_securetransport_receive(tlsapi_securetransport_io *io, const char *data, size_t size);
void tlsapi_securetransport_consume(tlsapi_securetransport_io *io, size_t count);
size_t tlsapi_securetransport_capacity(tlsapi_securetransport_io *io);
int32_t tlsapi_stub_read(void *data, size_t *length);
int32_t tlsapi_stub_write(const void *data, size_t *length);
size_t tlsapi_stub_in_len(tlsapi_securetransport_io *io);
size_t tlsapi_stub_out_len(tlsapi_securetransport_io *io);
const unsigned char *tlsapi_stub_out(tlsapi_securetransport_io *io);
void tlsapi_stub_set_eof(tlsapi_securetransport_io *io);
int tlsapi_stub_starved(tlsapi_securetransport_io *io);
extern int tlsapi_stub_releases;
"""
WOULD_BLOCK, CLOSED_NO_NOTIFY, KEEP = -9803, -9816, 2048


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("securetransport-stubs")
    (directory / "Security").mkdir()
    (directory / "Security" / "SecureTransport.h").write_text(STUB_HEADER, encoding="utf-8")
    (directory / "stubs.c").write_text(STUB_SOURCE, encoding="utf-8")
    return directory


def _gcc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["gcc", *args], capture_output=True, text=True, check=False, timeout=120)


def test_transport_compiles_without_a_warning(stubs: Path) -> None:
    result = _gcc(
        *WARNINGS, "-fsyntax-only", f"-I{stubs}", f"-I{C_DIR}", str(C_DIR / "transport.c")
    )
    assert result.returncode == 0, result.stderr


def test_its_pragmas_make_warnings_errors(stubs: Path, tmp_path: Path) -> None:
    probe = tmp_path / "transport.c"
    text = (C_DIR / "transport.c").read_text(encoding="utf-8")
    probe.write_text(text + "\nint tlsapi_securetransport_probe(long x);\n"
                     "int tlsapi_securetransport_probe(long x) { int y = x; return y; }\n",
                     encoding="utf-8")  # fmt: skip
    result = _gcc("-fsyntax-only", f"-I{stubs}", f"-I{C_DIR}", str(probe))
    assert result.returncode != 0 and "-Werror=conversion" in result.stderr, result.stderr


@pytest.fixture(scope="module")
def transport(stubs: Path) -> Any:
    library = stubs / "libtransport.so"
    ours, theirs = stubs / "transport.o", stubs / "stubs.o"
    include = [f"-I{stubs}", f"-I{C_DIR}", "-fPIC", "-O1", "-g", "-c"]
    for arguments in (
        [*WARNINGS, *include, "-o", str(ours), str(C_DIR / "transport.c")],
        [*include, "-o", str(theirs), str(stubs / "stubs.c")],  # the stubs are not held to them
        ["-shared", "-o", str(library), str(ours), str(theirs)],
    ):
        result = _gcc(*arguments)
        assert result.returncode == 0, result.stderr
    ffi = FFI()
    ffi.cdef(ABI)
    return ffi, ffi.dlopen(str(library))


def _new(transport: Any) -> Any:
    ffi, lib = transport
    status = ffi.new("int32_t *", 1)
    io = lib.tlsapi_securetransport_io_new(1, status)
    assert io != ffi.NULL and status[0] == 0
    return io


def _read(transport: Any, size: int) -> tuple[int, bytes]:
    ffi, lib = transport
    buffer = ffi.new("char[]", max(size, 1))
    length = ffi.new("size_t *", size)
    status = lib.tlsapi_stub_read(buffer, length)
    return status, ffi.unpack(buffer, length[0])


def test_reads_copy_what_is_there_and_would_block_for_the_rest(transport: Any) -> None:
    _, lib = transport
    io = _new(transport)
    try:
        assert lib.tlsapi_securetransport_receive(io, b"0123456789", 10) == 0
        assert _read(transport, 4) == (0, b"0123")
        assert not lib.tlsapi_stub_starved(io)
        assert _read(transport, 10) == (WOULD_BLOCK, b"456789")  # partial: the count copied
        assert lib.tlsapi_stub_starved(io)
        assert _read(transport, 5) == (WOULD_BLOCK, b"")
        # Bytes received while some are pending follow them.
        lib.tlsapi_securetransport_receive(io, b"abc", 3)
        assert _read(transport, 1) == (0, b"a")
        lib.tlsapi_securetransport_receive(io, b"defgh", 5)
        assert lib.tlsapi_stub_in_len(io) == 7
        assert _read(transport, 7) == (0, b"bcdefgh")
        # A buffer whose front was read makes room by moving what is pending.
        first, second = bytes(range(200)) * 10, bytes(range(100, 200)) * 10
        lib.tlsapi_securetransport_receive(io, first, len(first))
        assert _read(transport, 1500) == (0, first[:1500])
        lib.tlsapi_securetransport_receive(io, second, len(second))
        assert lib.tlsapi_securetransport_capacity(io) == KEEP  # moved, not grown
        assert _read(transport, 1500) == (0, first[1500:] + second)
        # End of file: what is left is still read, then errSSLClosedNoNotify.
        lib.tlsapi_securetransport_receive(io, b"xy", 2)
        lib.tlsapi_stub_set_eof(io)
        assert _read(transport, 5) == (WOULD_BLOCK, b"xy")
        assert _read(transport, 5) == (CLOSED_NO_NOTIFY, b"")
    finally:
        lib.tlsapi_securetransport_io_free(io)


def test_writes_never_block_and_consumed_output_is_released(transport: Any) -> None:
    ffi, lib = transport
    io = _new(transport)
    try:
        for chunk in (b"hello", bytes(range(256)) * 40):
            length = ffi.new("size_t *", len(chunk))
            assert lib.tlsapi_stub_write(chunk, length) == 0 and length[0] == len(chunk)
        total = 5 + 256 * 40
        assert lib.tlsapi_stub_out_len(io) == total
        assert ffi.unpack(ffi.cast("char *", lib.tlsapi_stub_out(io)), 5) == b"hello"
        lib.tlsapi_securetransport_consume(io, 5)
        out = ffi.unpack(ffi.cast("char *", lib.tlsapi_stub_out(io)), total - 5)
        assert out == bytes(range(256)) * 40
        lib.tlsapi_securetransport_consume(io, total)  # more than pending: clamped
        assert lib.tlsapi_stub_out_len(io) == 0
        assert lib.tlsapi_securetransport_capacity(io) == 0  # a large buffer is given back
        # Output whose front was consumed makes room by moving what is pending.
        first, second = bytes(range(200)) * 10, bytes(range(50, 150)) * 10
        for chunk in (first, second):
            if chunk is second:
                lib.tlsapi_securetransport_consume(io, 1500)
            length = ffi.new("size_t *", len(chunk))
            assert lib.tlsapi_stub_write(chunk, length) == 0
        assert lib.tlsapi_securetransport_capacity(io) == KEEP  # moved, not grown
        pending = lib.tlsapi_stub_out_len(io)
        assert (
            ffi.unpack(ffi.cast("char *", lib.tlsapi_stub_out(io)), pending)
            == first[1500:] + second
        )
        lib.tlsapi_securetransport_consume(io, pending)
        assert lib.tlsapi_securetransport_capacity(io) == KEEP  # a small one is kept
        # A large burst in: its copy is freed once read.
        lib.tlsapi_securetransport_receive(io, b"z" * 100_000, 100_000)
        assert lib.tlsapi_securetransport_capacity(io) >= 100_000
        assert _read(transport, 100_000) == (0, b"z" * 100_000)
        assert lib.tlsapi_securetransport_capacity(io) <= KEEP
    finally:
        lib.tlsapi_securetransport_io_free(io)


def test_the_context_is_released_once(transport: Any) -> None:
    _, lib = transport
    before = lib.tlsapi_stub_releases
    io = _new(transport)
    lib.tlsapi_securetransport_io_free(io)
    assert lib.tlsapi_stub_releases == before + 1
