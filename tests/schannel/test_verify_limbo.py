"""The x509-limbo vectors against Windows' own verifier and ours, without handshakes.

``tlsapi_schannel.testing.limbo_verifier`` is what tests/test_limbo.py asks
for this backend (entry point ``schannel``).  Here: it is registered, it is
no rubber stamp, it answers every usable case (dated ones at their time,
through CertGetCertificateChain's pTime), and ``verify_chain`` (the
backend's reading, plus tlsapi's policy, as a handshake runs them) never
accepts a chain the verifier rejects.
"""

from __future__ import annotations

import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tlsapi import TLSError, TrustStore
from tlsapi.backend_api import check_peer_chain, parse_pem, parse_server_hostname
from tlsapi.testing import limbo

if sys.platform != "win32":
    pytest.skip("SChannel runs on Windows (and under Wine)", allow_module_level=True)

from tlsapi_schannel._verify import verify_chain
from tlsapi_schannel.testing import limbo_verifier

# Beside the checkout (the staged tlsapi under Wine is not inside it).
LIMBO_PATH = Path(
    os.environ.get(limbo.ENV_LIMBO_PATH)
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "x509-limbo" / "limbo.json"
)

pytestmark = pytest.mark.skipif(
    not LIMBO_PATH.is_file(), reason=f"x509-limbo data not found at {LIMBO_PATH}"
)


def _cases() -> dict[str, limbo.LimboCase]:
    cases, _ = limbo.select_cases(limbo.load_cases(LIMBO_PATH))
    return {case.id: case for case in cases}


def _ours(case: limbo.LimboCase) -> tuple[bool, str]:
    chain = [block.der for block in parse_pem(case.chain_pem, "the case's chain")]
    try:
        error = verify_chain(
            chain,
            trust=TrustStore.from_buffer(case.trusted_pem),
            server_name=parse_server_hostname(case.peer_name),
            when=case.validation_time,
        )
    except TLSError as exc:
        return False, str(exc)
    if error is None:
        error = check_peer_chain(chain, "server's")
    return error is None, str(error or "accepted")


def test_verifier_is_registered() -> None:
    names = {ep.name for ep in entry_points(group=limbo.VERIFIER_ENTRY_POINT_GROUP)}
    assert "schannel" in names
    verifier = limbo.verifier_for("schannel")
    assert verifier is not None and verifier.unavailable_reason() is None


def test_verifier_is_not_a_rubber_stamp(tmp_path: Path) -> None:
    cases = _cases()
    verifier = limbo_verifier()
    good = verifier.verify(cases["rfc5280::nc::permitted-dns-match"], tmp_path)
    assert good.accepted, good.detail
    for bad in (
        "rfc5280::validity::expired-leaf",
        "rfc5280::nc::excluded-dns-match",
        "rfc5280::nc::permitted-dns-mismatch",
    ):
        verdict = verifier.verify(cases[bad], tmp_path)
        assert not verdict.accepted, f"{bad}: {verdict.detail}"


def test_never_accepts_what_windows_rejects(tmp_path: Path) -> None:
    verifier = limbo_verifier()
    accepted = 0
    lenient: list[str] = []
    for case_id, case in sorted(_cases().items()):
        ours, _ = _ours(case)
        verdict = verifier.verify(case, tmp_path)
        accepted += ours
        if ours and not verdict.accepted:
            lenient.append(f"  {case_id}: {verifier.name} says {verdict.detail}")
    assert accepted >= 50, f"only {accepted} cases accepted: the run is not meaningful"
    assert not lenient, "accepted chains Windows rejects:\n" + "\n".join(lenient)


def test_differences_file_names_real_cases() -> None:
    listed = limbo.read_differences(
        Path(__file__).parents[1] / "limbo_differences" / "schannel.txt"
    )
    unknown = sorted(set(listed) - set(_cases()))
    assert not unknown, f"not usable limbo cases: {unknown}"
