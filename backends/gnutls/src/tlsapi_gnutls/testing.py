"""Test hooks this backend provides to tlsapi's conformance kit.

``buffered_capacity(buffer)`` is what a connection holds for its ciphertext
outside GnuTLS: the C transport's output buffer and its copy of incoming
bytes (their allocated sizes, not what is pending), plus a ``bytes`` object
the incoming window still borrows.  The conformance kit's memory test checks
that it is small once a connection is idle after bulk traffic (GnuTLS's own
record buffers it measures by RSS, as for every backend).

``limbo_verifier()`` is GnuTLS's own stand-alone chain verifier for the
x509-limbo run (entry point ``gnutls`` in ``tlsapi.testing.limbo_verifiers``):
gnutls_x509_trust_list_verify_crt2 with the case's anchors, the leaf and the
untrusted intermediates, the peer name (DNS name or IP address), purpose
serverAuth and the NORMAL priority string's verification profile, which is
what a session checks (see _verify.py).  The library has no parameter for
the time, so a dated case runs in a child process under ``faketime``:
``python -m tlsapi_gnutls.testing ANCHORS CHAIN NAME``.

(``certtool --verify`` would be the other choice; it stops before verifying
when it cannot print a certificate, e.g. a CA with an empty subject, and adds
GNUTLS_VERIFY_DO_NOT_ALLOW_SAME, which TLS sessions do not use.)
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlsapi import TLSWrappedBuffer
    from tlsapi.testing.limbo import LimboCase, Verdict

__all__ = ["LibraryVerifier", "buffered_capacity", "limbo_verifier"]


def buffered_capacity(buffer: TLSWrappedBuffer) -> int:
    """Bytes allocated for ``buffer``'s ciphertext by our transport (not by GnuTLS itself),
    and the ciphertext queued for the peer (a large write goes straight to the core's queue)."""
    from ._binding import ffi, lib
    from ._buffer import GnuTLSBuffer

    if not isinstance(buffer, GnuTLSBuffer):
        raise TypeError(f"not a GnuTLS connection: {buffer!r}")
    total = int(lib.tlsapi_gnutls_capacity(buffer._transport)) + len(buffer._outgoing)
    borrowed = buffer._borrowed
    if isinstance(borrowed, bytes):
        total += len(borrowed)
    elif borrowed is not None:  # a pinned cdata (outside CPython)
        total += int(ffi.sizeof(borrowed))
    return total


class LibraryVerifier:
    name = "gnutls_x509_trust_list_verify_crt2"

    def __init__(self) -> None:
        self._faketime = shutil.which("faketime")

    def unavailable_reason(self) -> str | None:
        try:
            from . import _verify  # noqa: F401
        except ImportError as exc:
            return f"the GnuTLS binding cannot be loaded: {exc}"
        return None

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        from tlsapi.testing.limbo import Verdict

        name = case.peer_name or ""
        if case.validation_time is None:
            from ._verify import verify_server_chain

            verdict = verify_server_chain(case.trusted_pem, case.chain_pem, name)
            return Verdict(verdict.accepted, verdict.text)
        if self._faketime is None:
            return Verdict(False, "a dated case needs faketime, which is not installed")
        safe = case.id.replace(":", "_").replace("/", "_")
        anchors = workdir / f"{safe}.gnutls-anchors.pem"
        anchors.write_bytes(case.trusted_pem)
        chain = workdir / f"{safe}.gnutls-chain.pem"
        chain.write_bytes(case.chain_pem)
        when = case.validation_time.astimezone(datetime.timezone.utc)
        command = [
            self._faketime,
            "-f",
            when.strftime("%Y-%m-%d %H:%M:%S"),
            sys.executable,
            "-m",
            "tlsapi_gnutls.testing",
            str(anchors),
            str(chain),
            name,
        ]
        child = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ, TZ="UTC"),
            check=False,
            timeout=120,
        )
        if child.returncode != 0:
            return Verdict(False, f"the faketime child failed: {child.stderr.strip()[-300:]}")
        answer = json.loads(child.stdout)
        return Verdict(bool(answer["accepted"]), str(answer["text"]))


def limbo_verifier() -> LibraryVerifier:
    return LibraryVerifier()


def _main(argv: list[str]) -> int:
    from ._verify import verify_server_chain

    anchors, chain, name = argv
    verdict = verify_server_chain(Path(anchors).read_bytes(), Path(chain).read_bytes(), name)
    json.dump({"accepted": verdict.accepted, "text": verdict.text}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
