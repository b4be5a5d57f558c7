"""Test hooks this backend provides to tlsapi's conformance kit.

``buffered_capacity(buffer)`` is what a connection holds for ciphertext: our C
transport's buffers plus the output waiting in the core's queue.

``limbo_verifier()`` is the Security framework's own chain verifier for the
x509-limbo run (entry point ``securetransport`` in
``tlsapi.testing.limbo_verifiers``): the chain the case's server presents, a
SecTrust made from it with SecPolicyCreateSSL(server, the case's peer name),
the case's anchors only (SecTrustSetAnchorCertificates + ...Only), at the
case's ``validation_time`` (SecTrustSetVerifyDate: no faketime needed), then
SecTrustEvaluateWithError: what the backend asks at the break on server
authentication.  The backend then applies tlsapi's own policy too (key sizes,
keyUsage), so it is never more lenient than this verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tlsapi import TLSError, TLSWrappedBuffer, TrustStore

if TYPE_CHECKING:
    from tlsapi.testing.limbo import LimboCase, Verdict

__all__ = ["LibraryVerifier", "buffered_capacity", "limbo_verifier"]


def buffered_capacity(buffer: TLSWrappedBuffer) -> int:
    """Bytes allocated for ``buffer``'s ciphertext by our transport and the output queue."""
    from ._binding import lib
    from ._buffer import SecureTransportBuffer

    if not isinstance(buffer, SecureTransportBuffer):
        raise TypeError(f"not a Secure Transport connection: {buffer!r}")
    return int(lib.tlsapi_securetransport_capacity(buffer._io)) + buffer.outgoing_bytes_buffered()


class LibraryVerifier:
    name = "SecTrustCreateWithCertificates + SecPolicyCreateSSL + SecTrustEvaluateWithError"

    def unavailable_reason(self) -> str | None:
        try:
            from . import _trust  # noqa: F401
        except ImportError as exc:
            return f"the Secure Transport binding cannot be loaded: {exc}"
        return None

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        from tlsapi.backend_api import parse_pem
        from tlsapi.testing.limbo import Verdict

        from ._trust import Anchors, library_verdict

        del workdir  # nothing to write: the framework takes the certificates in memory
        try:
            chain = [block.der for block in parse_pem(case.chain_pem, "the case's chain")]
            anchors = Anchors(TrustStore.from_buffer(case.trusted_pem))
            accepted, detail = library_verdict(
                chain, anchors=anchors, peer_name=case.peer_name, when=case.validation_time
            )
        except TLSError as exc:
            # The framework could not even read a certificate: nothing was accepted.
            return Verdict(False, f"the Security framework refused the input: {exc}")
        return Verdict(accepted, detail)


def limbo_verifier() -> LibraryVerifier:
    return LibraryVerifier()
