"""What each peer program is and can do, and the checks common to every launcher."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import re
import shutil
import sys
from collections.abc import Sequence

from ..._versions import TLSVersion
from ._process import PeerError

# The versions a command line can name, lowest first.
_CONCRETE_VERSIONS = (TLSVersion.TLSv1, TLSVersion.TLSv1_1, TLSVersion.TLSv1_2, TLSVersion.TLSv1_3)


class ToolMissing(PeerError):
    """A program is not installed; ``package`` is the Debian package that has it."""

    def __init__(self, program: PeerProgram, missing: Sequence[str]) -> None:
        self.program = program
        self.missing = tuple(missing)
        self.package = program.package
        super().__init__(
            f"{program.name} needs {', '.join(self.missing)}, not found on PATH: "
            f"install the Debian package {program.package} "
            f"(apt-get install {program.package}; CI installs .ci/packages.txt)"
        )


class ClientAuth(enum.Enum):
    """Whether a server program asks its clients for a certificate."""

    NONE = "none"
    REQUEST = "request"  # asked for, verified when sent, optional
    REQUIRE = "require"  # the handshake fails without a valid one


class EchoStyle(enum.Enum):
    """How a server program answers, so that a client knows what to send and expect."""

    ECHO = "echo"  # gnutls-serv --echo: the bytes come back as sent
    REVERSED_LINES = "reversed-lines"  # s_server -rev: each line comes back reversed
    HTTP = "http"  # selfserv: a page holding the request, then close_notify

    def request(self, token: bytes) -> bytes:
        """What to send; ``token`` must be printable ASCII without spaces."""
        if not re.fullmatch(rb"[!-~]+", token):
            raise ValueError(f"token {token!r} must be printable ASCII without spaces")
        if self is EchoStyle.HTTP:
            return b"GET /" + token + b" HTTP/1.0\r\n\r\n"
        return token + b"\n"

    def expected(self, token: bytes) -> bytes:
        """Bytes the reply must contain: proof that the server read the request."""
        if self is EchoStyle.REVERSED_LINES:
            return token[::-1] + b"\n"
        if self is EchoStyle.HTTP:
            return b"GET /" + token + b" HTTP/1.0"
        return token + b"\n"

    @property
    def server_closes(self) -> bool:
        """True when the server closes the connection after its reply."""
        return self is EchoStyle.HTTP


@dataclasses.dataclass(frozen=True)
class PeerProgram:
    """One external program and what it can do."""

    name: str
    role: str  # "server" or "client"
    executables: tuple[str, ...]
    package: str  # the Debian package that installs it
    alpn: bool  # can it be given any list of ALPN protocols?
    fixed_alpn: tuple[bytes, ...] = ()  # the only list it can offer, when alpn is False
    echo: EchoStyle | None = None  # servers only
    reports_alpn: bool = False  # does its output say which ALPN protocol was chosen?

    def missing(self) -> list[str]:
        """The executables it needs that are not on PATH."""
        return [exe for exe in self.executables if shutil.which(exe) is None]

    def check_installed(self) -> None:
        """Raise ToolMissing (naming the Debian package) when not installed."""
        missing = self.missing()
        if missing:
            raise ToolMissing(self, missing)

    def __str__(self) -> str:
        return self.name


def require_program(program: PeerProgram) -> None:
    """For pytest: fail when ``program`` is missing on Linux, skip on other systems.

    On Linux every program is one ``apt-get install`` away (the Debian
    package is named), so a missing one is a broken set-up and must not pass
    as a skip.  Elsewhere the programs are not part of the system, and what
    may be found instead (LibreSSL's ``openssl`` on macOS) lacks options used
    here, so the tests skip; ``run_server``/``run_client`` still work wherever
    the same programs are installed.
    """
    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip(
            f"{program.name}: the external peer programs are tested on Linux, where CI "
            f"installs them (Debian package {program.package}); not on {sys.platform}"
        )
    try:
        program.check_installed()
    except ToolMissing as exc:
        pytest.fail(str(exc), pytrace=False)


def _versions(lowest: TLSVersion, highest: TLSVersion) -> list[TLSVersion]:
    concrete = list(_CONCRETE_VERSIONS)
    for bound in (lowest, highest):
        if bound not in concrete:
            raise ValueError(f"external peers need concrete versions, not {bound.name}")
    chosen = concrete[concrete.index(lowest) : concrete.index(highest) + 1]
    if not chosen:
        raise ValueError(f"empty version range {lowest.name}..{highest.name}")
    return chosen


def _alpn_tokens(alpn: Sequence[bytes]) -> list[str]:
    tokens = []
    for protocol in alpn:
        text = bytes(protocol).decode("ascii")
        if not text or "," in text or not text.isprintable():
            raise ValueError(f"ALPN protocol {protocol!r} cannot be passed on a command line")
        tokens.append(text)
    return tokens


def _check_alpn(program: PeerProgram, alpn: Sequence[bytes]) -> None:
    if alpn and not program.alpn and tuple(alpn) != program.fixed_alpn:
        offer = ", ".join(p.decode() for p in program.fixed_alpn) or "no ALPN at all"
        raise ValueError(f"{program.name} cannot offer ALPN {list(alpn)}: it offers {offer}")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
