"""The backend registry: discovery by entry points, and the choice of a default.

Backends register in the entry-point group ``tlsapi.backends``; the value is a
Backend or a callable returning one.  A plugin that fails to import or load
its library is recorded with the reason (and logged), never raised from
``import tlsapi``.  The default backend is, in order:

1. ``TLSAPI_BACKEND=name`` in the environment (that one, or an error; any case);
2. ``backend = "name"`` in the ``[tlsapi]`` table of a TOML configuration
   file: system-wide first, then per-user, the later one winning (or
   ``TLSAPI_CONFIG=path`` for exactly one file, which must exist);
3. the first available backend in this platform's priority order;
4. an error that says what to install.

A configuration file may hold ``[tlsapi]`` (whose only key is ``backend``)
and one table per backend (``[gnutls]``, ``[nss]``, ...: read by that
backend); anything else is a ConfigurationError naming the key and the file,
since a misspelt setting silently ignored is a setting the user thinks holds.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ._backend import Backend
from ._errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "BackendRecord",
    "available_backends",
    "backend",
    "choose_default_backend",
    "configuration_files",
    "default_backend",
    "discover_backends",
    "load_user_configuration",
]

log = logging.getLogger("tlsapi")

ENTRY_POINT_GROUP = "tlsapi.backends"
ENV_BACKEND = "TLSAPI_BACKEND"
ENV_CONFIG = "TLSAPI_CONFIG"

_PRIORITY = {
    "darwin": ("securetransport", "stdlib"),
    "win32": ("schannel", "stdlib"),
}
_DEFAULT_PRIORITY = ("gnutls", "nss", "stdlib")
_TLSAPI_KEYS = frozenset({"backend"})

# Backend directories under a checkout, with what building each needs.
_INSTALL_HINT = {
    "darwin": (("securetransport", ""),),
    "win32": (("schannel", ""),),
}
_DEFAULT_INSTALL_HINT = (
    ("gnutls", " (needs GnuTLS >= 3.6 and libgnutls28-dev)"),
    ("nss", " (needs libnss3-dev and libnspr4-dev)"),
)


def checkout_root() -> Path | None:
    """The source checkout tlsapi runs from (editable install), or None."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "backends").is_dir():
        return root
    return None


def install_hint() -> str:
    """A command that installs this platform's native backend.

    tlsapi is not on PyPI, so the hint names the checkout's backend
    directories (``pip install 'tlsapi[gnutls]'`` would fail to resolve).
    """
    root = checkout_root()
    where = str(root / "backends") if root else "backends"
    hints = [
        f"pip install {where}/{name}{needs}"
        for name, needs in _INSTALL_HINT.get(sys.platform, _DEFAULT_INSTALL_HINT)
    ]
    suffix = "" if root else " (from a tlsapi checkout)"
    return " or ".join(hints) + suffix


@dataclasses.dataclass(frozen=True)
class BackendRecord:
    """A discovered plugin: its Backend, or why it could not be loaded."""

    name: str
    backend: Backend | None
    reason: str | None
    origin: str

    @property
    def available(self) -> bool:
        return self.backend is not None and self.backend.is_available()

    @property
    def why_not(self) -> str | None:
        if self.backend is None:
            return self.reason
        return self.backend.unavailable_reason


_lock = threading.Lock()
_records: dict[str, BackendRecord] | None = None


def _load_entry_point(name: str, value: str, load: Any) -> BackendRecord:
    try:
        loaded = load()
        result = loaded if isinstance(loaded, Backend) else loaded()
        if not isinstance(result, Backend):
            raise TypeError(f"{value} gave {type(result).__name__}, not a tlsapi.Backend")
    except Exception as exc:  # a broken plugin must never break import tlsapi
        reason = f"failed to load ({type(exc).__name__}: {exc})"
        log.warning("tlsapi backend %r %s", name, reason)
        return BackendRecord(name, None, reason, value)
    if not result.is_available():
        log.info("tlsapi backend %r is unavailable: %s", name, result.unavailable_reason)
    return BackendRecord(result.name, result, None, value)


def discover_backends(refresh: bool = False) -> Mapping[str, BackendRecord]:
    """Every plugin in the entry-point group, loaded once (``refresh`` reloads)."""
    global _records
    with _lock:
        if _records is None or refresh:
            records: dict[str, BackendRecord] = {}
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                if ep.name in records:
                    continue  # the same distribution seen twice on sys.path
                records[ep.name] = _load_entry_point(ep.name, ep.value, ep.load)
            if "stdlib" not in records:
                # Running from a source tree without installed metadata.
                from ._stdlib import load_backend

                records["stdlib"] = _load_entry_point(
                    "stdlib", "tlsapi._stdlib:load_backend", load_backend
                )
            _records = records
        return dict(_records)


def available_backends() -> list[Backend]:
    """The usable backends, in this platform's priority order."""
    records = discover_backends()
    order = _platform_priority()
    names = sorted(records, key=lambda n: (order.index(n) if n in order else len(order), n))
    return [r.backend for n in names if (r := records[n]).available and r.backend is not None]


def backend(name: str) -> Backend:
    """The backend called ``name``, or ConfigurationError saying why it cannot be had."""
    records = discover_backends()
    record = records.get(name)
    if record is None:
        # Names are matched in any case ("NSS" is nss); an exact match wins.
        same = [r for n, r in records.items() if n.lower() == name.lower()]
        record = same[0] if len(same) == 1 else None
    if record is None:
        known = ", ".join(sorted(records)) or "none"
        raise ConfigurationError(
            f"no tlsapi backend named {name!r} is installed (installed: {known})"
        )
    if not record.available or record.backend is None:
        raise ConfigurationError(f"the tlsapi backend {name!r} is unavailable: {record.why_not}")
    return record.backend


def _platform_priority() -> tuple[str, ...]:
    return _PRIORITY.get(sys.platform, _DEFAULT_PRIORITY)


def configuration_files() -> list[Path]:
    """Where configuration is read from, system-wide first, then per-user."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return [Path(explicit)]
    home = Path.home()
    if sys.platform == "win32":
        program_data = Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData"))
        app_data = Path(os.environ.get("APPDATA", home / "AppData" / "Roaming"))
        return [program_data / "tlsapi" / "config.toml", app_data / "tlsapi" / "config.toml"]
    if sys.platform == "darwin":
        return [
            Path("/Library/Application Support/tlsapi/config.toml"),
            home / "Library" / "Application Support" / "tlsapi" / "config.toml",
        ]
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [Path("/etc/tlsapi/config.toml"), config_home / "tlsapi" / "config.toml"]


def load_user_configuration() -> tuple[dict[str, Any], list[Path]]:
    """The merged TOML configuration (later files win, table by table) and the files read."""
    merged: dict[str, Any] = {}
    used: list[Path] = []
    for path in configuration_files():
        try:
            with open(path, "rb") as file:
                data = tomllib.load(file)
        except FileNotFoundError:
            if os.environ.get(ENV_CONFIG):
                # Named explicitly: a typo must not fall back to no configuration.
                raise ConfigurationError(
                    f"{ENV_CONFIG}={os.environ[ENV_CONFIG]}: the tlsapi configuration "
                    f"file {path} does not exist (create it, or unset {ENV_CONFIG})"
                ) from None
            continue
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(
                f"cannot read the tlsapi configuration file {path}: {exc}"
            ) from exc
        _check_keys(data, path)
        used.append(path)
        for table, values in data.items():
            if isinstance(values, dict) and isinstance(merged.get(table), dict):
                merged[table] = {**merged[table], **values}
            else:
                merged[table] = values
    return merged, used


def _backend_tables() -> set[str]:
    """Tables a backend may own: every registered name and every platform's.

    Entry-point names only: loading backends here would recurse (a backend
    reads its table while it loads).
    """
    names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    names.update(_DEFAULT_PRIORITY)
    for priority in _PRIORITY.values():
        names.update(priority)
    return names


def _check_keys(data: dict[str, Any], path: Path) -> None:
    """Refuse what no one reads: unknown [tlsapi] keys, tables and top-level keys."""
    backends = _backend_tables()
    for key, value in data.items():
        if key == "tlsapi" and isinstance(value, dict):
            for unknown in sorted(set(value) - _TLSAPI_KEYS):
                raise ConfigurationError(
                    f"{path}: unknown key {unknown!r} in [tlsapi] "
                    f"(known: {', '.join(sorted(_TLSAPI_KEYS))})"
                )
        elif key in backends and isinstance(value, dict):
            continue  # that backend's own settings, checked by it
        elif isinstance(value, dict):
            raise ConfigurationError(
                f"{path}: unknown table [{key}] (known: [tlsapi] and backend tables "
                f"{', '.join(f'[{name}]' for name in sorted(backends))})"
            )
        elif key == "tlsapi" or key in backends:
            raise ConfigurationError(f"{path}: {key!r} must be a table ([{key}])")
        else:
            raise ConfigurationError(
                f"{path}: unknown top-level key {key!r} (settings go in a table, "
                'e.g. [tlsapi] backend = "nss")'
            )


def choose_default_backend() -> tuple[Backend, str]:
    """The default backend and the reason it was chosen."""
    requested = os.environ.get(ENV_BACKEND, "").strip()
    if requested:
        try:
            return backend(requested), f"{ENV_BACKEND}={requested} in the environment"
        except ConfigurationError as exc:
            raise ConfigurationError(f"{ENV_BACKEND}={requested}: {exc}") from None
    config, files = load_user_configuration()
    table = config.get("tlsapi", {})
    configured = table.get("backend") if isinstance(table, dict) else None
    if configured is not None:
        where = str(files[-1]) if files else "configuration"
        if not isinstance(configured, str):
            raise ConfigurationError(f"{where}: [tlsapi] backend must be a string")
        try:
            return backend(configured), f"backend = {configured!r} in {where}"
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
    records = discover_backends()
    for name in _platform_priority():
        record = records.get(name)
        if record is not None and record.available and record.backend is not None:
            return record.backend, f"highest-priority available backend on {sys.platform}"
    for name in sorted(records):
        record = records[name]
        if record.available and record.backend is not None:
            return record.backend, "the only kind of backend available"
    hint = install_hint()
    details = "; ".join(f"{n}: {r.why_not}" for n, r in sorted(records.items())) or "none installed"
    raise ConfigurationError(f"no usable tlsapi backend ({details}); install one: {hint}")


def default_backend() -> Backend:
    """The backend this process should use (see the module docstring for the order)."""
    return choose_default_backend()[0]
