"""Inputs that would make NSS's libpkix run away are refused before it sees them."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing import limbo

LIMBO = limbo.default_limbo_path()
pytestmark = pytest.mark.skipif(not LIMBO.is_file(), reason=f"x509-limbo data not at {LIMBO}")


def _case(case_id: str) -> dict[str, object]:
    with open(LIMBO, encoding="utf-8") as file:
        return next(c for c in json.load(file)["testcases"] if c["id"] == case_id)


def _capped() -> None:  # pragma: no cover - runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("case_id", ["pathological::nc-dos-1", "pathological::nc-dos-3"])
def test_name_constraint_blowup_is_refused_up_front(case_id: str) -> None:
    # libpkix alone needs tens of GiB for these (quadratic name-constraint checks):
    # run in a child whose address space is capped, so a regression cannot eat the machine.
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlsapi.testing.limbo",
            "--backend",
            "nss",
            "--json",
            "--limbo",
            str(LIMBO),
            "--case",
            case_id,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_capped,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    (result,) = json.loads(child.stdout)
    assert result["status"] == "rejected", result
    assert "SEC_ERROR_OUT_OF_SEARCH_LIMITS" in result["detail"]


def test_ordinary_name_constraints_still_work(nss: tlsapi.Backend, tmp_path: Path) -> None:
    case = limbo.LimboCase.from_json(_case("rfc5280::nc::permitted-dns-match"))
    assert case.expected_success
    result = limbo.run_case(nss, case, tmp_path)
    assert result.status == "accepted", result
