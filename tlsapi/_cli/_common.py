"""Helpers shared by the subcommands: errors, names, tables, backend choice."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._backend import Backend
from .._ciphers import CipherSuite
from .._errors import ConfigurationError
from .._protocols import NextProtocol
from .._registry import checkout_root
from .._versions import TLSVersion

if TYPE_CHECKING:
    from tlsapi.testing.pki import PKI

__all__ = [
    "CommandError",
    "add_backend_option",
    "format_alpn",
    "format_cipher",
    "format_version",
    "load_pki",
    "parse_alpn",
    "parse_host_port",
    "render_table",
    "select_backend",
    "warn",
]

VERSION_CHOICES = {
    "1.0": TLSVersion.TLSv1,
    "1.1": TLSVersion.TLSv1_1,
    "1.2": TLSVersion.TLSv1_2,
    "1.3": TLSVersion.TLSv1_3,
}


class CommandError(Exception):
    """An expected failure of a command: printed as one line, exit status ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        metavar="NAME",
        help="the tlsapi backend to use (default: as `tlsapi backends` shows)",
    )


def select_backend(name: str | None) -> Backend:
    """The named backend, or the default one; ConfigurationError says why not."""
    from .._registry import backend, default_backend

    return backend(name) if name else default_backend()


def add_version_options(parser: argparse.ArgumentParser) -> None:
    for bound in ("min", "max"):
        parser.add_argument(
            f"--tls-version-{bound}",
            choices=sorted(VERSION_CHOICES),
            metavar="{" + ",".join(sorted(VERSION_CHOICES)) + "}",
            help=f"the {'lowest' if bound == 'min' else 'highest'} TLS version to accept",
        )


def version_range(args: argparse.Namespace) -> dict[str, TLSVersion]:
    """TLSConfiguration keywords for --tls-version-min/--tls-version-max."""
    changes: dict[str, TLSVersion] = {}
    if args.tls_version_min:
        changes["lowest_supported_version"] = VERSION_CHOICES[args.tls_version_min]
    if args.tls_version_max:
        changes["highest_supported_version"] = VERSION_CHOICES[args.tls_version_max]
    return changes


def parse_alpn(values: Sequence[str] | None) -> tuple[NextProtocol | bytes, ...]:
    result: list[NextProtocol | bytes] = []
    for value in values or ():
        try:
            raw = value.encode("ascii")
        except UnicodeEncodeError:
            raise ConfigurationError(f"--alpn {value!r}: protocol names are ASCII") from None
        result.append(NextProtocol.from_bytes(raw))
    return tuple(result)


def parse_host_port(text: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    host, port_text = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise CommandError(f"{text!r}: missing ']' after the IPv6 address", status=2)
        host, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise CommandError(f"{text!r}: expected ':PORT' after ']'", status=2)
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise CommandError(f"{text!r}: no host name", status=2)
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise CommandError(f"{text!r}: the port must be a number from 1 to 65535", status=2)
    return host, int(port_text)


def format_version(version: TLSVersion | int | None) -> str:
    if version is None:
        return "-"
    if isinstance(version, TLSVersion):
        return version.value
    return f"0x{version:04x}"


def format_cipher(cipher: CipherSuite | int | None) -> str:
    if cipher is None:
        return "-"
    if isinstance(cipher, CipherSuite):
        return cipher.name
    return f"0x{cipher:04x}"


def format_alpn(protocol: NextProtocol | bytes | None) -> str:
    if protocol is None:
        return "-"
    raw = protocol.value if isinstance(protocol, NextProtocol) else protocol
    return raw.decode("ascii", "backslashreplace")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: int = 2) -> str:
    """A plain-text table: left-aligned columns, a dashed rule under the headers."""
    widths = [len(h) for h in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    spacer = " " * gap

    def line(cells: Sequence[str]) -> str:
        return spacer.join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

    rule = spacer.join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def load_pki() -> type[PKI]:
    """The testing kit's PKI class, or a CommandError saying what to install."""
    try:
        from tlsapi.testing.pki import PKI
    except ImportError as exc:
        missing = (exc.name or "cryptography").partition(".")[0]
        command = (
            "pip install 'cryptography>=42'"
            if missing == "cryptography"
            else f"pip install {missing}"
        )
        # tlsapi is not on PyPI: 'tlsapi[cli]' resolves only as a path to the checkout.
        root = checkout_root()
        if root is not None and missing == "cryptography":
            command += f" (or the cli extra: pip install -e '{root}[cli]')"
        raise CommandError(
            f"throwaway certificates need the {missing!r} package ({exc}); "
            f"install it with: {command}"
        ) from None
    return PKI
