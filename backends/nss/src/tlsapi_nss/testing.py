"""Test support for the NSS backend: its library verifier for x509-limbo.

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

from tlsapi.testing.limbo import LimboCase, Verdict, VfychainVerifier

__all__ = ["NSSVerifier", "limbo_verifier"]


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
