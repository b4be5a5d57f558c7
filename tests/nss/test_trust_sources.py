"""Where TrustStore.system() comes from: the trust module, an NSS database, the administrator.

Each verdict is taken in a fresh child process (``_probe.py``): NSS is
initialised once per process, and which database and trust module it uses
is decided then, from the environment and the tlsapi configuration file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing import PKI, IdentityFiles

PROBE = Path(__file__).with_name("_probe.py")
CERTUTIL = shutil.which("certutil")
UPDATE = shutil.which("update-ca-certificates")
LOCAL_CAS = Path("/usr/local/share/ca-certificates")


def _probe(files: IdentityFiles, name: str = "localhost", **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TLSAPI_NSS_")}
    environment.pop("TLSAPI_CONFIG", None)
    environment.update(env)
    child = subprocess.run(
        [sys.executable, str(PROBE), str(files.chain), str(files.key), name],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    return child.stdout.strip()


@pytest.fixture
def identity(tmp_path: Path) -> tuple[PKI, IdentityFiles]:
    pki = PKI(name=f"tlsapi nss trust {uuid.uuid4().hex[:8]}")
    return pki, pki.issue().write(tmp_path / "server")


@pytest.fixture
def database(tmp_path: Path, identity: tuple[PKI, IdentityFiles]) -> str:
    """An NSS database that trusts the PKI's root for TLS servers."""
    if CERTUTIL is None:
        pytest.fail("certutil (libnss3-tools) is needed for the database tests")
    pki, _ = identity
    directory = tmp_path / "nssdb"
    directory.mkdir()
    root = pki.write_root(tmp_path)
    for arguments in (
        ["-N", "--empty-password"],
        ["-A", "-n", "tlsapi test root", "-t", "C,,", "-a", "-i", str(root)],
    ):
        command = [CERTUTIL, "-d", f"sql:{directory}", *arguments]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return f"sql:{directory}"


def test_the_trust_source_is_reported(nss: tlsapi.Backend) -> None:
    source = nss.details["trust_source"]
    if Path("/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-trust.so").exists():
        assert source.startswith("p11-kit trust module"), source
    assert tlsapi.Capability.SYSTEM_TRUST in nss.capabilities


def test_an_unknown_ca_is_not_trusted(identity: tuple[PKI, IdentityFiles]) -> None:
    assert _probe(identity[1]) == "rejected untrusted-issuer"


def test_a_database_named_in_the_environment_is_used(
    identity: tuple[PKI, IdentityFiles], database: str
) -> None:
    assert _probe(identity[1], TLSAPI_NSS_DATABASE=database) == "accepted"


def test_a_database_named_in_the_configuration_file_is_used(
    identity: tuple[PKI, IdentityFiles], database: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[nss]\ndatabase = "{database}"\n')
    assert _probe(identity[1], TLSAPI_CONFIG=str(config)) == "accepted"


def test_the_database_trust_still_checks_the_name(
    identity: tuple[PKI, IdentityFiles], database: str
) -> None:
    assert _probe(identity[1], "example.org", TLSAPI_NSS_DATABASE=database) == (
        "rejected hostname-mismatch"
    )


def test_a_missing_database_is_a_clear_error(
    identity: tuple[PKI, IdentityFiles], tmp_path: Path
) -> None:
    answer = _probe(identity[1], TLSAPI_NSS_DATABASE=f"sql:{tmp_path / 'absent'}")
    assert answer.startswith("error cannot initialise the NSS database"), answer
    assert "TLSAPI_NSS_DATABASE" in answer


def test_a_broken_trust_module_is_a_clear_error(
    identity: tuple[PKI, IdentityFiles], tmp_path: Path
) -> None:
    module = tmp_path / "not-a-module.so"
    module.write_bytes(b"not a shared object")
    answer = _probe(identity[1], TLSAPI_NSS_TRUST_MODULE=str(module))
    assert answer.startswith("error NSS cannot load the trust module"), answer


@pytest.fixture
def system_ca(update_system_trust: Callable[[], None]) -> Iterator[tuple[PKI, IdentityFiles]]:
    """A CA added to the system store the way an administrator does it (root only)."""
    if UPDATE is None:
        pytest.skip("update-ca-certificates exists only on Debian-like systems")
    if os.geteuid() != 0:
        pytest.skip("changing the system trust store needs root")
    import tempfile

    pki = PKI(name=f"tlsapi nss system-trust test {uuid.uuid4().hex[:8]}")
    path = LOCAL_CAS / f"tlsapi-nss-test-{uuid.uuid4().hex}.crt"
    LOCAL_CAS.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pki.root_pem)
    with tempfile.TemporaryDirectory() as directory:
        try:
            update_system_trust()
            yield pki, pki.issue().write(Path(directory))
        finally:
            path.unlink(missing_ok=True)
            update_system_trust()


def test_a_ca_added_by_the_administrator_is_trusted(
    nss: tlsapi.Backend, system_ca: tuple[PKI, IdentityFiles]
) -> None:
    if not nss.details["trust_source"].startswith("p11-kit"):
        pytest.skip("NSS's built-in roots do not follow the system store; p11-kit is not here")
    assert _probe(system_ca[1]) == "accepted"
