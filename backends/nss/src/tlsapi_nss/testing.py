"""Test support for the NSS backend: its library verifier for x509-limbo, buffer sizes.

``buffered_capacity(buffer)`` is what a connection holds for its ciphertext
outside NSS: the memory I/O layer's output buffer and chunk array (their
allocated sizes), the received chunks it keeps alive for NSS to read, and
output taken from C but not yet consumed.  The conformance kit's memory test
checks that it is small once a connection is idle after bulk traffic (NSS's
own record buffers it measures by RSS, as for every backend).

``limbo_verifier()`` (entry point ``tlsapi.testing.limbo_verifiers: nss``)
answers as NSS's own client would: the chain through ``vfychain -pp``
(CERT_PKIXVerifyCert, usage SSL server, only the case's anchors trusted, at
the case's time), then the peer name through CERT_VerifyCertName, the check
NSS's default SSL_AuthCertificate hook makes.  The backend may be stricter
than this (it is, on not-yet-valid slop and on addresses matched by common
name) but never more lenient.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tlsapi.testing.limbo import LimboCase, Verdict, VfychainVerifier

if TYPE_CHECKING:
    from tlsapi import TLSWrappedBuffer

__all__ = ["NSSVerifier", "buffered_capacity", "limbo_verifier"]


def buffered_capacity(buffer: TLSWrappedBuffer) -> int:
    """Bytes allocated for ``buffer``'s ciphertext by our memory I/O (not by NSS itself)."""
    from ._buffer import NSSBuffer
    from ._lib import ffi, lib

    if not isinstance(buffer, NSSBuffer):
        raise TypeError(f"not an NSS connection: {buffer!r}")
    # The output NSS wrote is counted by its C capacity until the buffer takes it.
    total = int(lib.tlsapi_nss_memio_capacity(buffer._memio)) + len(buffer._outgoing)
    for chunk in buffer._chunks:
        total += len(chunk) if isinstance(chunk, bytes) else int(ffi.sizeof(chunk))
    if buffer._fast is not None:  # the core's fast path copied what it received
        total += int(lib.tlsapi_nss_fast_capacity(buffer._fast))
    return total


class NSSVerifier(VfychainVerifier):
    name = "vfychain -pp + CERT_VerifyCertName"

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        chain = super().verify(case, workdir)
        if not chain.accepted or not case.peer_name:
            return chain
        accepted, detail = _name_matches(case.peer_certificate.encode(), case.peer_name)
        return Verdict(accepted, f"{chain.detail} | name {case.peer_name!r}: {detail}")


def _name_matches(leaf_pem: bytes, name: str) -> tuple[bool, str]:
    from tlsapi import Certificate

    from ._credentials import import_certificate
    from ._errors import error_text
    from ._lib import lib

    cert = import_certificate(Certificate.from_buffer(leaf_pem).der)
    if lib.CERT_VerifyCertName(cert, name.encode("ascii", "replace")) == lib.SECSuccess:
        return True, "CERT_VerifyCertName: OK"
    return False, f"CERT_VerifyCertName: {error_text(lib.PR_GetError())}"


def limbo_verifier() -> NSSVerifier:
    return NSSVerifier()
