"""Test hooks this backend provides to tlsapi's conformance kit.

``limbo_verifier()`` is Windows' own chain verifier for the x509-limbo run
(entry point ``schannel`` in ``tlsapi.testing.limbo_verifiers``): the chain
the case's server presents, in a memory store as SChannel keeps a peer's
certificates, built by ``CertGetCertificateChain`` with an engine that
trusts only the case's anchors (``hExclusiveRoot``; where that engine is
refused, as under Wine 8.0, the default engine with the anchors as an
additional store, accepted only when the chain ends in one of them),
usage serverAuth, at the case's ``validation_time`` (``pTime``: no faketime
needed), then ``CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL)``
with the peer name.  That is what a Windows program doing manual
validation asks; the backend reads the same chain more strictly (IP
addresses only against iPAddress names, tlsapi's key-size policy), never
more leniently.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tlsapi import TLSError, TrustStore

if TYPE_CHECKING:
    from tlsapi.testing.limbo import LimboCase, Verdict

__all__ = ["LibraryVerifier", "limbo_verifier"]


class LibraryVerifier:
    name = "CertGetCertificateChain + CertVerifyCertificateChainPolicy(SSL)"

    def unavailable_reason(self) -> str | None:
        try:
            from . import _verify  # noqa: F401
        except ImportError as exc:
            return f"the SChannel binding cannot be loaded: {exc}"
        return None

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        from tlsapi.backend_api import parse_pem
        from tlsapi.testing.limbo import Verdict

        from ._verify import library_verdict

        try:
            chain = [block.der for block in parse_pem(case.chain_pem, "the case's chain")]
            trust = TrustStore.from_buffer(case.trusted_pem)
            accepted, detail = library_verdict(
                chain, trust=trust, peer_name=case.peer_name, when=case.validation_time
            )
        except TLSError as exc:
            # crypt32 could not even read a certificate: nothing was accepted.
            return Verdict(False, f"crypt32 refused the input: {exc}")
        return Verdict(accepted, detail)


def limbo_verifier() -> LibraryVerifier:
    return LibraryVerifier()
