"""x509-limbo vectors end to end: every backend's client against a lenient reference server.

See ``tlsapi.testing.limbo`` for how a case becomes a handshake, and for the
hook through which a backend names its library's own verifier.  Three rules:

- no case crashes the client (only a TLSError may end a failed handshake);
- the backend never accepts a chain its library's verifier rejects;
- where the backend's verdict differs from ``expected_result``, the case is
  listed in ``tests/limbo_differences/<backend>.txt`` with a reason, and the
  list is exact: a new difference or a fixed one fails the test.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing import limbo

LIMBO_PATH = limbo.default_limbo_path()
DIFFERENCES = Path(__file__).parent / "limbo_differences"

# Cases no local TLS server can present: OpenSSL and GnuTLS both refuse to
# load the certificate (gnutls-serv: "ASN1 parser: Error in TAG" and
# "Duplicate extension"), so no client ever sees it.  Both expect FAILURE.
UNSERVABLE = {
    "rfc5280::san::malformed": "the SAN holds ASCII bytes, not DER: OpenSSL cannot load it",
    "rfc5280::duplicate-extensions": "two extensions with one OID: OpenSSL cannot load it",
}

pytestmark = pytest.mark.skipif(
    not LIMBO_PATH.is_file(),
    reason=f"x509-limbo data not found at {LIMBO_PATH} "
    f"(a checkout needs ../shared/data/x509-limbo/ beside it, or set {limbo.ENV_LIMBO_PATH})",
)


@functools.cache
def _selection() -> tuple[list[limbo.LimboCase], dict[str, list[str]]]:
    return limbo.select_cases(limbo.load_cases(LIMBO_PATH))


@functools.cache
def _results(backend_name: str) -> dict[str, limbo.CaseResult]:
    # One run per backend and process, shared by the tests below.
    cases, _ = _selection()
    return limbo.run_cases(tlsapi.backend(backend_name), cases, limbo_path=LIMBO_PATH)


def _cases_by_id() -> dict[str, limbo.LimboCase]:
    return {case.id: case for case in _selection()[0]}


def test_selection_keeps_the_tls_cases() -> None:
    cases, excluded = _selection()
    # The shipped file has 170 SERVER cases with a key, a DNS/IP name and no CRL.
    assert len(cases) >= 150, f"only {len(cases)} usable cases in {LIMBO_PATH}"
    assert all(case.exclusion_reason() is None for case in cases)
    total = len(cases) + sum(len(ids) for ids in excluded.values())
    assert total == len(limbo.load_cases(LIMBO_PATH))
    assert {case.expected_success for case in cases} == {True, False}
    assert any(case.validation_time for case in cases), "no dated case: faketime path unused"


def test_every_selected_case_runs(backend: tlsapi.Backend) -> None:
    """Only the known-unservable cases may go unrun; nothing may crash."""
    results = _results(backend.name)
    crashed = {cid: r.detail for cid, r in results.items() if r.status == "crashed"}
    assert not crashed, "cases that crashed the client or the harness (bugs):\n" + "\n".join(
        f"  {cid}: {detail}" for cid, detail in sorted(crashed.items())
    )
    not_run = {cid: r.detail for cid, r in results.items() if r.status == "not-run"}
    if sys.platform != "linux":
        # faketime exists only on Linux; elsewhere the dated cases cannot run.
        not_run = {cid: d for cid, d in not_run.items() if "faketime" not in d}
    assert set(not_run) == set(UNSERVABLE), "\n".join(
        f"  {cid}: {detail}" for cid, detail in sorted(not_run.items())
    )


def test_verifier_comes_from_the_backend(backend: tlsapi.Backend) -> None:
    """A backend outside this distribution names its verifier by entry point, not by a table."""
    if backend.name in limbo.BUILTIN_VERIFIERS:
        pytest.skip(f"backend {backend.name!r} ships with tlsapi; its verifier is built in")
    names = {ep.name for ep in entry_points(group=limbo.VERIFIER_ENTRY_POINT_GROUP)}
    assert backend.name in names, (
        f"backend {backend.name!r} declares no {limbo.VERIFIER_ENTRY_POINT_GROUP!r} entry point"
    )
    assert limbo.verifier_for(backend.name) is not None


def _require_verifier(verifier: limbo.LibraryVerifier) -> None:
    """Fail when the verifier cannot run, except for a Linux program on Windows."""
    unavailable = verifier.unavailable_reason()
    if unavailable is not None and sys.platform == "win32":
        # The Wine run has no Linux programs on its PATH (and cannot start
        # them); a real Windows machine with openssl.exe on PATH runs the test.
        pytest.skip(f"{verifier.name} cannot run on this Windows machine: {unavailable}")
    assert unavailable is None, f"{verifier.name} cannot run here: {unavailable}"


def test_never_accepts_what_the_library_rejects(backend: tlsapi.Backend) -> None:
    verifier = limbo.verifier_for(backend.name)
    if verifier is None:
        pytest.skip(
            f"no library verifier for backend {backend.name!r}: register one "
            f"(entry point group {limbo.VERIFIER_ENTRY_POINT_GROUP!r}, see tlsapi.testing.limbo)"
        )
    _require_verifier(verifier)
    cases = _cases_by_id()
    accepted = [cid for cid, r in _results(backend.name).items() if r.accepted]
    assert accepted, "the backend accepted no case at all: the run is not meaningful"
    broken: list[str] = []
    unknown: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tlsapi-limbo-verify-") as directory:
        for cid in sorted(accepted):
            verdict = verifier.verify(cases[cid], Path(directory))
            if not verdict.conclusive:
                unknown.append(f"  {cid}: {verdict.detail}")
            elif not verdict.accepted:
                broken.append(f"  {cid}: {verifier.name} says: {verdict.detail}")
    if unknown:
        warnings.warn(
            f"{verifier.name} gave no verdict on {len(unknown)} accepted case(s), "
            "so the rule is unchecked there:\n" + "\n".join(unknown),
            stacklevel=1,
        )
    assert len(unknown) <= len(accepted) // 10, "the verifier answered too few cases"
    assert not broken, (
        f"backend {backend.name!r} accepted chains that {verifier.name} rejects:\n"
        + "\n".join(broken)
    )


def test_library_verifier_is_not_a_rubber_stamp(backend: tlsapi.Backend) -> None:
    """The verifier must itself reject what is plainly bad, or the rule above proves nothing."""
    verifier = limbo.verifier_for(backend.name)
    if verifier is None:
        pytest.skip(f"no library verifier for backend {backend.name!r}")
    _require_verifier(verifier)
    cases = _cases_by_id()
    with tempfile.TemporaryDirectory(prefix="tlsapi-limbo-verify-") as directory:
        workdir = Path(directory)
        good = verifier.verify(cases["rfc5280::nc::permitted-dns-match"], workdir)
        expired = verifier.verify(cases["rfc5280::validity::expired-leaf"], workdir)
        excluded = verifier.verify(cases["rfc5280::nc::excluded-dns-match"], workdir)
        wrong_name = verifier.verify(cases["rfc5280::nc::permitted-dns-mismatch"], workdir)
    assert good.accepted, good.detail
    for verdict in (expired, excluded, wrong_name):
        assert not verdict.accepted, verdict.detail


def test_differences_are_listed_exactly(backend: tlsapi.Backend) -> None:
    cases = _cases_by_id()
    results = _results(backend.name)
    found = {
        cid: result
        for cid, result in results.items()
        if result.status in ("accepted", "rejected")
        and result.accepted != cases[cid].expected_success
    }
    path = DIFFERENCES / f"{backend.name}.txt"
    listed = limbo.read_differences(path) if path.is_file() else {}
    new = sorted(set(found) - set(listed))
    unconfirmed: set[str] = set()
    if sys.platform != "linux":
        # faketime exists only on Linux: a dated case that did not run here
        # neither confirms nor refutes its listed difference.
        unconfirmed = {
            cid for cid, r in results.items() if r.status == "not-run" and "faketime" in r.detail
        }
    fixed = sorted(set(listed) - set(found) - unconfirmed)
    if not new and not fixed:
        return
    lines = [f"{path} does not match backend {backend.name!r}'s verdicts."]
    if new:
        lines.append(
            "New differences: add each line below to the file, replacing the draft reason "
            "after the colon with the real one-line cause:"
        )
        lines += [f"{cid}  expected {cases[cid].expected}: {found[cid].detail}" for cid in new]
    if fixed:
        lines.append("No longer different (or not a selected case): remove these lines:")
        lines += [f"{cid}  {listed[cid]}" for cid in fixed]
    pytest.fail("\n".join(lines), pytrace=False)
