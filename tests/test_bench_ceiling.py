"""The benchmark's C ceiling programs (bench/ceiling) build, run and really verify the server.

No speed is asserted: only that each program gives positive figures on the
benchmark's certificates, negotiates what the benchmark expects, and fails
the handshake when the client is given the wrong root or the wrong name.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("cryptography")

from tlsapi import TLSError
from tlsapi._bench import ceiling
from tlsapi._bench._credentials import BenchCredentials, make_credentials
from tlsapi.testing.pki import PKI, KeyType

# One per program: the stdlib backend shares the raw ssl module's (OpenSSL's).
BACKENDS = sorted(name for name in ceiling.PROGRAMS if name != "stdlib")
LIBRARIES = {"gnutls": "GnuTLS", "nss": "NSS", "openssl": "OpenSSL"}


def _library_present(program: ceiling.CeilingProgram) -> bool:
    if shutil.which("pkg-config") is None:
        return False
    found = subprocess.run(["pkg-config", "--exists", *program.packages], check=False)
    return found.returncode == 0


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> tuple[BenchCredentials, Path]:
    directory = tmp_path_factory.mktemp("ceiling-pki")
    made = make_credentials(directory)
    return made, ceiling.write_root(made, directory)


@pytest.fixture(scope="module", params=BACKENDS)
def program(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    if not _library_present(ceiling.PROGRAMS[name]):
        pytest.skip(f"no {name} development files here ({ceiling.PROGRAMS[name].install_hint})")
    # With the library's headers present, a failed build is a failure, not a skip.
    return ceiling.build_program(name, tmp_path_factory.mktemp(f"ceiling-{name}"), force=True)


def test_builds_and_gives_positive_figures(
    program: Path, credentials: tuple[BenchCredentials, Path]
) -> None:
    made, root = credentials
    figures = ceiling.run_program(program, made, root, duration=0.01, rounds=1)
    assert figures.verified
    assert figures.cipher.startswith("TLS_AES_") or figures.cipher.startswith("TLS_CHACHA20")
    assert figures.handshakes_per_s > 0
    assert figures.bulk_mb_per_s is not None and figures.bulk_mb_per_s > 0
    assert figures.echo_round_trips_per_s > 0
    assert figures.library.startswith(LIBRARIES[program.name.split("_")[0]])


def test_a_pinned_group_is_the_one_negotiated(
    program: Path, credentials: tuple[BenchCredentials, Path]
) -> None:
    made, root = credentials
    figures = ceiling.run_program(
        program, made, root, duration=0.01, group="X25519", skip_bulk=True
    )
    assert figures.group == "X25519"
    assert figures.bulk_mb_per_s is None


def test_a_wrong_root_fails_the_handshake(
    program: Path, credentials: tuple[BenchCredentials, Path], tmp_path: Path
) -> None:
    made, _ = credentials
    other = PKI(key_type=KeyType.ECDSA_P256, name="not the bench's").write_root(tmp_path)
    with pytest.raises(TLSError, match=r"(?i)issuer|not trusted"):
        ceiling.run_program(program, made, other, duration=0.01, skip_bulk=True)


def test_a_wrong_name_fails_the_handshake(
    program: Path, credentials: tuple[BenchCredentials, Path]
) -> None:
    made, root = credentials
    elsewhere = BenchCredentials(
        made.server_config,
        made.client_config,
        made.chain_file,
        made.key_file,
        made.root_pem,
        hostname="not-the-server.example",
    )
    with pytest.raises(
        TLSError, match=r"(?i)domain name|name in the certificate|hostname mismatch"
    ):
        ceiling.run_program(program, elsewhere, root, duration=0.01, skip_bulk=True)


def test_a_missing_library_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if shutil.which("pkg-config") is None:
        pytest.skip("no pkg-config here")
    missing = ceiling.CeilingProgram(
        "gnutls", "gnutls_ceiling.c", ("tlsapi-no-such-library",), "install libgnutls28-dev"
    )
    monkeypatch.setitem(ceiling.PROGRAMS, "gnutls", missing)
    with pytest.raises(ceiling.CeilingUnavailable, match="install libgnutls28-dev"):
        ceiling.build_program("gnutls", tmp_path, force=True)


def test_a_missing_compiler_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ceiling.CeilingUnavailable, match="install gcc"):
        ceiling.build_program("nss", tmp_path, force=True)


def test_the_report_divides_by_the_matching_ceiling_figure() -> None:
    from types import SimpleNamespace

    from tlsapi._bench._runner import ALL_METRICS, BenchRun, Result, Settings

    subjects = [SimpleNamespace(key=k, label=k) for k in ("raw-ssl", "gnutls", "stdlib")]
    results = {
        s.key: {
            m.key: Result(samples=[100.0], higher_is_better=m.higher_is_better) for m in ALL_METRICS
        }
        for s in subjects
    }
    results["gnutls"]["handshakes_per_s"].samples = [90.0]
    run = BenchRun(Settings(), subjects, {}, results)  # type: ignore[arg-type]
    figures = ceiling.CeilingFigures(
        "gnutls_ceiling", "GnuTLS 3.7.9", "TLS_AES_256_GCM_SHA384", "SECP256R1", True,
        handshakes_per_s=120.0, bulk_mb_per_s=200.0, echo_round_trips_per_s=1000.0,
        x25519_handshakes_per_s=150.0,
    )  # fmt: skip
    fractions = ceiling.report_json(run, {"gnutls": figures})["gnutls"]["fraction"]
    assert fractions["handshakes_per_s"] == pytest.approx(0.75)
    assert fractions["buffer_bulk_mb_per_s"] == pytest.approx(0.5)
    assert fractions["echo_round_trips_per_s"] == pytest.approx(0.1)
    assert "memory_kib_per_connection" not in fractions
    headers, rows = ceiling.report_rows(run, {"gnutls": figures})
    assert headers[1:] == ["gnutls"]  # stdlib has no C program: no column
    by_label = {row[0]: row[1] for row in rows}
    assert by_label["handshakes/s"].startswith("0.75x (90 of 120, 0.90x ssl)")
    assert by_label["C handshakes/s, X25519 pinned"] == "150"


# -- tlsapi bench --ceiling ----------------------------------------------------------------


def _native_under_test() -> str:
    import tlsapi

    names = [b.name for b in tlsapi.available_backends() if b.name in ceiling.PROGRAMS]
    usable = [n for n in names if _library_present(ceiling.PROGRAMS[n])]
    if not usable:
        pytest.skip("no native backend with a ceiling program (and its -dev files) here")
    return usable[0]


def test_bench_ceiling_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tlsapi._cli import main

    name = _native_under_test()
    arguments = ["bench", "--quick", "--rounds", "1", "--backend", name, "--ceiling", "--json"]
    assert main(arguments) == 0
    data = json.loads(capsys.readouterr().out)
    part = data["ceiling"][name]
    assert part["program"]["verified"] is True
    assert part["program"]["x25519_handshakes_per_s"] > 0
    assert set(part["fraction"]) >= set(ceiling.CEILING_METRICS)
    assert all(value > 0 for value in part["fraction"].values())


def test_bench_ceiling_of_the_ssl_module(capsys: pytest.CaptureFixture[str]) -> None:
    """The raw ssl module and the stdlib backend against OpenSSL's program (one run)."""
    import json

    from tlsapi._cli import main

    if not _library_present(ceiling.PROGRAMS["raw-ssl"]):
        pytest.skip(
            f"no OpenSSL development files here ({ceiling.PROGRAMS['raw-ssl'].install_hint})"
        )
    arguments = ["bench", "--quick", "--rounds", "1", "--backend", "stdlib", "--ceiling", "--json"]
    assert main(arguments) == 0
    data = json.loads(capsys.readouterr().out)["ceiling"]
    assert set(data) == {"raw-ssl", "stdlib"}
    assert data["raw-ssl"]["program"] == data["stdlib"]["program"]  # one run for both
    assert data["raw-ssl"]["program"]["program"] == "openssl_ceiling"
    assert data["raw-ssl"]["program"]["verified"] is True
    assert all(value > 0 for value in data["stdlib"]["fraction"].values())


def test_bench_ceiling_without_any_program_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No library's development files (pkg-config finds none): the OpenSSL program is
    left out with the reason, and a run with no program at all is an error."""
    from tlsapi._cli import main

    if shutil.which("pkg-config") is None:
        pytest.skip("no pkg-config here")
    monkeypatch.setenv("PKG_CONFIG_LIBDIR", str(tmp_path / "none"))
    monkeypatch.setenv("PKG_CONFIG_PATH", "")
    monkeypatch.setenv(ceiling.ENV_BUILD_DIR, str(tmp_path / "build"))
    assert main(["bench", "--quick", "--backend", "stdlib", "--ceiling"]) == 1
    err = capsys.readouterr().err
    assert "no OpenSSL ceiling for raw-ssl" in err and "install libssl-dev" in err
    assert "has a C ceiling program" in err
