"""Loading the library: the version check, the build's error message, registration, details."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import tlsapi_gnutls
from tlsapi_gnutls import _backend, _binding

import tlsapi
from tlsapi import Capability
from tlsapi._registry import choose_default_backend

REPOSITORY = Path(__file__).resolve().parents[2]


def test_runtime_version_meets_the_minimum(gnutls: tlsapi.Backend) -> None:
    assert _binding.version_problem() is None
    assert gnutls.is_available()
    assert gnutls.library_version == f"GnuTLS {_binding.runtime_version()}"


def test_too_old_a_library_makes_the_backend_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_binding, "MINIMUM_VERSION", "99.0.0")
    _backend.make_backend.cache_clear()
    try:
        backend = tlsapi_gnutls.load_backend()  # no exception: a Backend that says why
        assert not backend.is_available()
        assert backend.capabilities == frozenset()
        reason = backend.unavailable_reason or ""
        assert "needs GnuTLS 99.0.0 or later" in reason
        assert _binding.runtime_version() in reason
    finally:
        monkeypatch.undo()
        _backend.make_backend.cache_clear()
    assert tlsapi_gnutls.load_backend().is_available()


def test_capabilities_are_all_there(gnutls: tlsapi.Backend) -> None:
    assert gnutls.capabilities >= {
        Capability.TLSv1_2,
        Capability.TLSv1_3,
        Capability.SERVER,
        Capability.ALPN,
        Capability.SNI_CALLBACK,
        Capability.CLIENT_CERTIFICATES,
        Capability.SYSTEM_TRUST,
        Capability.FULL_PEER_CHAIN,
        Capability.IP_ADDRESS_VALIDATION,
    }


def test_details_name_the_library_and_the_trust_source(gnutls: tlsapi.Backend) -> None:
    library = gnutls.details["library"]
    assert "libgnutls" in library and Path(library).exists()
    assert "gnutls_certificate_set_x509_system_trust" in gnutls.details["system trust"]
    if Path("/etc/debian_version").exists():
        assert "/etc/ssl/certs/ca-certificates.crt" in gnutls.details["system trust"]


def test_registered_under_the_entry_point() -> None:
    (entry,) = [e for e in entry_points(group="tlsapi.backends") if e.name == "gnutls"]
    assert entry.value == "tlsapi_gnutls:load_backend"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gnutls is the default on Linux")
def test_default_on_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TLSAPI_BACKEND", raising=False)
    (tmp_path / "empty.toml").write_text("")  # no site or user choice (a missing file is refused)
    monkeypatch.setenv("TLSAPI_CONFIG", str(tmp_path / "empty.toml"))
    backend, why = choose_default_backend()
    assert backend.name == "gnutls", why


def test_build_without_headers_names_the_package(tmp_path: Path) -> None:
    """pkg-config finding no gnutls.pc stops the build with the package to install."""
    environment = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path), PKG_CONFIG_PATH="")
    child = subprocess.run(
        [sys.executable, str(REPOSITORY / "build_ffi" / "gnutls" / "build.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )
    assert child.returncode != 0
    assert "libgnutls28-dev" in child.stderr
    assert "gnutls-devel" in child.stderr
    assert "Traceback" not in child.stderr
