"""The backend registry: entry-point discovery, the default's order, and broken plugins.

Plugins are added for real: a throwaway distribution (a ``.dist-info`` with
an ``entry_points.txt``) on ``sys.path``, found by importlib.metadata as any
installed backend would be.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi import _registry


def _run(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter: the registry reads its environment once per process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


_CHOOSE = """
import tlsapi
try:
    backend, why = tlsapi._registry.choose_default_backend()
    print(backend.name, "|", why)
except tlsapi.ConfigurationError as exc:
    print("refused:", exc)
"""


def _choose(env: dict[str, str], tmp_path: Path) -> str:
    """What a fresh process picks as its default backend (and why), or its refusal."""
    result = _run(_CHOOSE, env, tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def refreshed() -> Iterator[None]:
    _registry.discover_backends(refresh=True)
    yield
    _registry.discover_backends(refresh=True)


def _plugin(directory: Path, name: str, module_source: str) -> Path:
    """A distribution named tlsapi-test-<name> registering backend ``name``."""
    module = f"tlsapi_test_plugin_{name}"
    (directory / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = directory / f"tlsapi_test_{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: tlsapi-test-{name}\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[tlsapi.backends]\n{name} = {module}:load\n")
    return directory


class TestExplicitChoice:
    def test_backend_by_name(self) -> None:
        stdlib = tlsapi.backend("stdlib")
        assert stdlib.name == "stdlib"
        assert stdlib.is_available()
        assert stdlib.library_version.startswith(("OpenSSL", "LibreSSL"))

    def test_unknown_name_lists_the_installed(self) -> None:
        with pytest.raises(
            tlsapi.ConfigurationError, match=r"no tlsapi backend named 'nope'.*stdlib"
        ):
            tlsapi.backend("nope")

    def test_available_backends_hold_stdlib_last_on_linux(self) -> None:
        names = [b.name for b in tlsapi.available_backends()]
        assert "stdlib" in names
        if sys.platform.startswith("linux"):
            assert names[-1] == "stdlib"
            expected = [n for n in ("gnutls", "nss") if n in names]
            assert names[: len(expected)] == expected

    def test_pep543_names_on_the_backend(self) -> None:
        stdlib = tlsapi.backend("stdlib")
        assert stdlib.certificate is tlsapi.Certificate
        assert stdlib.private_key is tlsapi.PrivateKey
        assert stdlib.trust_store is tlsapi.TrustStore
        assert issubclass(stdlib.client_context, tlsapi.ClientContext)
        assert issubclass(stdlib.server_context, tlsapi.ServerContext)


class TestDefaultChoice:
    def test_environment_variable_wins(self, tmp_path: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text('[tlsapi]\nbackend = "no-such-backend"\n')
        assert (
            _choose({"TLSAPI_BACKEND": "stdlib", "TLSAPI_CONFIG": str(config)}, tmp_path)
            == "stdlib | TLSAPI_BACKEND=stdlib in the environment"
        )

    def test_environment_variable_naming_nothing_is_an_error(self, tmp_path: Path) -> None:
        answer = _choose({"TLSAPI_BACKEND": "bogus"}, tmp_path)
        assert answer.startswith("refused: TLSAPI_BACKEND=bogus: no tlsapi backend named 'bogus'")
        assert "stdlib" in answer  # the error names what is installed

    def test_configuration_file(self, tmp_path: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text('[tlsapi]\nbackend = "stdlib"\n')
        assert (
            _choose({"TLSAPI_CONFIG": str(config)}, tmp_path)
            == f"stdlib | backend = 'stdlib' in {config}"
        )

    def test_per_user_file(self, tmp_path: Path) -> None:
        user = tmp_path / ".config" / "tlsapi"
        user.mkdir(parents=True)
        (user / "config.toml").write_text(
            '[tlsapi]\nbackend = "stdlib"\n\n[nss]\ndatabase = "sql:/x"\n'
        )
        result = _run(
            """
            import tlsapi._registry as r
            config, files = r.load_user_configuration()
            print(config["tlsapi"]["backend"], config["nss"]["database"], [str(f) for f in files])
            print(r.choose_default_backend()[0].name)
            """,
            {},
            tmp_path,
        )
        assert result.returncode == 0, result.stderr
        first, second = result.stdout.splitlines()
        assert first.startswith("stdlib sql:/x") and str(user / "config.toml") in first
        assert second == "stdlib"

    def test_configuration_naming_an_unknown_backend_is_an_error(self, tmp_path: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text('[tlsapi]\nbackend = "bogus"\n')
        assert f"refused: {config}: no tlsapi backend named 'bogus'" in _choose(
            {"TLSAPI_CONFIG": str(config)}, tmp_path
        )

    def test_malformed_configuration_file(self, tmp_path: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text("[tlsapi\nbackend = \n")
        assert f"refused: cannot read the tlsapi configuration file {config}" in _choose(
            {"TLSAPI_CONFIG": str(config)}, tmp_path
        )

    def test_platform_priority(self, tmp_path: Path) -> None:
        name, why = _choose({}, tmp_path).split(" | ")
        assert name == tlsapi.available_backends()[0].name
        assert why == f"highest-priority available backend on {sys.platform}"

    def test_base_class_builds_the_default_backends_context(self) -> None:
        default = tlsapi.default_backend()
        context = tlsapi.ClientContext(tlsapi.TLSConfiguration())
        assert type(context) is default.client_context
        assert context.configuration == tlsapi.TLSConfiguration()


class TestPlugins:
    def test_broken_plugin_is_recorded_not_raised(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refreshed: None
    ) -> None:
        _plugin(
            tmp_path, "broken", "raise ImportError('libfoo.so.1: cannot open shared object file')\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        records = _registry.discover_backends(refresh=True)
        record = records["broken"]
        assert not record.available
        assert record.why_not is not None and "libfoo.so.1" in record.why_not
        assert "broken" not in [b.name for b in tlsapi.available_backends()]
        with pytest.raises(tlsapi.ConfigurationError, match=r"libfoo\.so\.1"):
            tlsapi.backend("broken")

    def test_plugin_returning_something_else(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refreshed: None
    ) -> None:
        _plugin(tmp_path, "wrongtype", "def load():\n    return 42\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        record = _registry.discover_backends(refresh=True)["wrongtype"]
        assert record.why_not is not None and "not a tlsapi.Backend" in record.why_not

    def test_third_party_backend_is_found_and_usable(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refreshed: None
    ) -> None:
        # A third party can publish a backend (here: the stdlib one under another name).
        _plugin(
            tmp_path,
            "thirdparty",
            """
            import dataclasses
            from tlsapi._stdlib import load_backend as _load

            def load():
                return dataclasses.replace(_load(), name="thirdparty")
            """,
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        _registry.discover_backends(refresh=True)
        backend = tlsapi.backend("thirdparty")
        assert backend.name == "thirdparty"
        # Listed, but after the platform's own backends.
        assert [b.name for b in tlsapi.available_backends()][-1] == "thirdparty"

    def test_unavailable_backend_keeps_its_reason(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refreshed: None
    ) -> None:
        _plugin(
            tmp_path,
            "tooold",
            """
            import dataclasses
            from tlsapi._stdlib import load_backend as _load

            def load():
                return dataclasses.replace(
                    _load(), name="tooold", unavailable_reason="libtls 0.1 is older than 2.0"
                )
            """,
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        _registry.discover_backends(refresh=True)
        with pytest.raises(tlsapi.ConfigurationError, match=r"unavailable: libtls 0\.1 is older"):
            tlsapi.backend("tooold")


class TestEnvironmentAndFileMistakes:
    """Issue 10: a name in another case works; a missing or misspelt configuration is refused."""

    def test_backend_variable_matches_any_case(self, tmp_path: Path) -> None:
        empty = tmp_path / "config.toml"
        empty.write_text("")
        answer = _choose({"TLSAPI_BACKEND": "STDLIB", "TLSAPI_CONFIG": str(empty)}, tmp_path)
        assert answer == "stdlib | TLSAPI_BACKEND=STDLIB in the environment"

    def test_configured_backend_matches_any_case(self, tmp_path: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text('[tlsapi]\nbackend = "StdLib"\n')
        assert _choose({"TLSAPI_CONFIG": str(config)}, tmp_path).startswith("stdlib | ")

    def test_config_variable_naming_a_missing_file_is_an_error(self, tmp_path: Path) -> None:
        missing = tmp_path / "no-such-dir" / "config.toml"
        answer = _choose({"TLSAPI_CONFIG": str(missing)}, tmp_path)
        assert answer.startswith("refused: TLSAPI_CONFIG=")
        assert f"the tlsapi configuration file {missing} does not exist" in answer

    def test_missing_per_user_file_is_fine(self, tmp_path: Path) -> None:
        # Only an explicitly named file must exist; the usual places are optional.
        assert not _choose({}, tmp_path).startswith("refused")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('[tlsapi]\nbackend = "stdlib"\nbakend = "nss"\n', "unknown key 'bakend' in [tlsapi]"),
            ('[tlsapi]\nbackend = "stdlib"\n\n[gnutsl]\nx = 1\n', "unknown table [gnutsl]"),
            ('backend = "stdlib"\n', "unknown top-level key 'backend'"),
            ('tlsapi = "stdlib"\n', "'tlsapi' must be a table"),
        ],
        ids=["key-in-tlsapi", "table", "top-level-key", "tlsapi-not-a-table"],
    )
    def test_unknown_settings_are_errors_naming_the_file(
        self, tmp_path: Path, text: str, expected: str
    ) -> None:
        config = tmp_path / "config.toml"
        config.write_text(text)
        answer = _choose({"TLSAPI_CONFIG": str(config)}, tmp_path)
        assert answer.startswith(f"refused: {config}: {expected}"), answer

    def test_unknown_key_in_a_per_user_file_is_an_error(self, tmp_path: Path) -> None:
        user = tmp_path / ".config" / "tlsapi" / "config.toml"
        user.parent.mkdir(parents=True)
        user.write_text('[tlsapi]\ndefault = "nss"\n')
        assert _choose({}, tmp_path) == (
            f"refused: {user}: unknown key 'default' in [tlsapi] (known: backend)"
        )

    def test_backend_tables_are_left_to_their_backends(self, tmp_path: Path) -> None:
        config = tmp_path / "config.toml"
        config.write_text(
            '[tlsapi]\nbackend = "stdlib"\n\n[nss]\ndatabase = "sql:/x"\n\n'
            "[gnutls]\nanything = 1\n\n[schannel]\nanything = 2\n"
        )
        assert _choose({"TLSAPI_CONFIG": str(config)}, tmp_path).startswith("stdlib | ")

    def test_install_hint_works_from_a_checkout(self) -> None:
        # tlsapi is not on PyPI: the hint names directories, never 'tlsapi[...]'.
        hint = _registry.install_hint()
        assert "tlsapi[" not in hint
        root = _registry.checkout_root()
        assert root is not None  # the suite runs from the checkout
        for name in ("gnutls", "nss"):
            assert f"pip install {root / 'backends' / name}" in hint
            assert (root / "backends" / name / "pyproject.toml").is_file()
