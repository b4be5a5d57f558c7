"""NSS's process-wide initialisation: once, shared, reference-counted, shut down cleanly.

Each test runs in a child process so that it sees NSS from a clean start.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _child(code: str) -> str:
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return child.stdout.strip()


_HANDSHAKE = """
    import gc
    import tlsapi
    from tlsapi.testing import PKI, handshake, close
    from tlsapi_nss._lib import ffi, lib
    from tlsapi_nss._runtime import RUNTIME

    def connect():
        pki = PKI()
        nss = tlsapi.backend("nss")
        client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
        server = nss.server_context(pki.server_config()).wrap_buffers()
        handshake(client, server)
        close(client, server)
"""


def test_nothing_is_initialised_until_a_context_is_made() -> None:
    out = _child(
        _HANDSHAKE
        + """
    tlsapi.available_backends()
    print(bool(lib.NSS_IsInitialized()))
    connect()
    print(bool(lib.NSS_IsInitialized()))
    """
    )
    assert out.split() == ["False", "True"]


def test_clean_shutdown_when_nothing_is_alive() -> None:
    out = _child(
        _HANDSHAKE
        + """
    connect()
    gc.collect()
    print(RUNTIME.live_objects, RUNTIME.shutdown(), bool(lib.NSS_IsInitialized()))
    connect()  # and NSS comes back when it is needed again
    print(bool(lib.NSS_IsInitialized()))
    """
    )
    assert out.split() == ["0", "True", "False", "True"]


def test_no_shutdown_under_live_objects() -> None:
    out = _child(
        _HANDSHAKE
        + """
    pki = PKI()
    keep = tlsapi.backend("nss").server_context(pki.server_config())
    print(RUNTIME.live_objects > 0, RUNTIME.shutdown(), bool(lib.NSS_IsInitialized()))
    """
    )
    assert out.split() == ["True", "False", "True"]


def test_another_nss_user_keeps_its_nss() -> None:
    # Another library initialised NSS first (its own NSS_InitContext); our
    # reference comes and goes without pulling NSS from under it.
    out = _child(
        _HANDSHAKE
        + """
    other = lib.NSS_InitContext(b"", b"", b"", b"", ffi.NULL,
                                lib.NSS_INIT_READONLY | lib.NSS_INIT_NOCERTDB | lib.NSS_INIT_NOMODDB)
    assert other != ffi.NULL
    connect()
    gc.collect()
    print(RUNTIME.shutdown(), bool(lib.NSS_IsInitialized()))
    print(lib.NSS_ShutdownContext(other) == lib.SECSuccess, bool(lib.NSS_IsInitialized()))
    """
    )
    assert out.split() == ["True", "True", "True", "False"]


def test_exit_with_live_objects_is_quiet() -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                _HANDSHAKE
                + """
    pki = PKI()
    KEEP = tlsapi.backend("nss").server_context(pki.server_config())
    connect()
    """
            ),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0
    assert child.stderr == ""
