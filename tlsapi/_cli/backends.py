"""``tlsapi backends``: every discovered backend, what it can do, and which is the default."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._backend import Capability
from .._errors import ConfigurationError
from .._registry import (
    BackendRecord,
    choose_default_backend,
    configuration_files,
    discover_backends,
)

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "backends",
        help="list the installed backends and which one is the default",
        description=(
            "List every backend found in the entry-point group 'tlsapi.backends': "
            "its library and version, whether it can be used (or why not), its "
            "capabilities, and which backend is the default and why. Exits with "
            "status 1 when no default backend can be chosen."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.set_defaults(run=run)


def _record_dict(record: BackendRecord, default_name: str | None) -> dict[str, Any]:
    backend = record.backend
    capabilities = sorted(c.value for c in backend.capabilities) if backend else []
    return {
        "name": record.name,
        "available": record.available,
        "unavailable_reason": record.why_not,
        "library_version": backend.library_version if backend else None,
        "capabilities": capabilities,
        "missing_capabilities": sorted(
            c.value for c in Capability if backend and c not in backend.capabilities
        ),
        "details": dict(backend.details) if backend else {},
        "entry_point": record.origin,
        "default": record.name == default_name,
    }


def collect() -> dict[str, Any]:
    """Everything the command shows, as plain data."""
    from .._registry import _platform_priority

    records = discover_backends()
    default: dict[str, str] | None = None
    default_error: str | None = None
    try:
        chosen, reason = choose_default_backend()
        default = {"name": chosen.name, "reason": reason}
    except ConfigurationError as exc:
        default_error = str(exc)
    default_name = default["name"] if default else None
    order = _platform_priority()
    names = sorted(records, key=lambda n: (order.index(n) if n in order else len(order), n))
    return {
        "platform": sys.platform,
        "priority": list(order),
        "configuration_files": [
            {"path": str(path), "exists": path.is_file()} for path in configuration_files()
        ],
        "default": default,
        "default_error": default_error,
        "backends": [_record_dict(records[name], default_name) for name in names],
    }


def _print_text(data: dict[str, Any]) -> None:
    if not data["backends"]:
        print("no tlsapi backends are installed")
    for entry in data["backends"]:
        marker = "  (default)" if entry["default"] else ""
        print(f"{entry['name']}{marker}")
        if entry["library_version"]:
            print(f"  version:       {entry['library_version']}")
        if entry["available"]:
            print("  status:        available")
        else:
            print(f"  status:        UNAVAILABLE: {entry['unavailable_reason']}")
        if entry["capabilities"]:
            print(f"  capabilities:  {', '.join(entry['capabilities'])}")
        if entry["available"] and entry["missing_capabilities"]:
            print(f"  lacks:         {', '.join(entry['missing_capabilities'])}")
        for key, value in entry["details"].items():
            print(f"  {key.replace('_', ' ') + ':':<14} {value}")
        print(f"  entry point:   {entry['entry_point']}")
        print()
    if data["default"]:
        print(f"default: {data['default']['name']} ({data['default']['reason']})")
    else:
        print("default: none (see the error below)")
    print(f"priority on {data['platform']}: {', '.join(data['priority'])}")
    files = ", ".join(
        f"{f['path']}{'' if f['exists'] else ' (absent)'}" for f in data["configuration_files"]
    )
    print(f"configuration files: {files}")


def run(args: argparse.Namespace) -> int:
    data = collect()
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        print()
    else:
        _print_text(data)
    if data["default_error"]:
        print(f"tlsapi backends: error: {data['default_error']}", file=sys.stderr)
        return 1
    return 0
