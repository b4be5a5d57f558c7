"""OpenSSL's ``s_server`` and ``s_client``: the programs and their command lines."""

from __future__ import annotations

from collections.abc import Sequence

from ..._versions import TLSVersion
from ._files import PeerFiles
from ._process import HOST, _Launch
from ._programs import (
    ClientAuth,
    EchoStyle,
    PeerProgram,
    _alpn_tokens,
    _is_ip,
    _versions,
)

OPENSSL_SERVER = PeerProgram(
    "openssl s_server", "server", ("openssl",), "openssl",
    alpn=True, echo=EchoStyle.REVERSED_LINES, reports_alpn=True,
)  # fmt: skip
OPENSSL_CLIENT = PeerProgram(
    "openssl s_client", "client", ("openssl",), "openssl", alpn=True, reports_alpn=True
)

_OPENSSL_VERSIONS = {
    TLSVersion.TLSv1: "TLSv1",
    TLSVersion.TLSv1_1: "TLSv1.1",
    TLSVersion.TLSv1_2: "TLSv1.2",
    TLSVersion.TLSv1_3: "TLSv1.3",
}


def _openssl_versions(lowest: TLSVersion, highest: TLSVersion) -> list[str]:
    chosen = _versions(lowest, highest)
    return [
        "-min_protocol", _OPENSSL_VERSIONS[chosen[0]],
        "-max_protocol", _OPENSSL_VERSIONS[chosen[-1]],
    ]  # fmt: skip


def _openssl_server_launch(
    files: PeerFiles, versions: list[str], alpn: Sequence[bytes], client_auth: ClientAuth
) -> _Launch:
    cert, chain, key = files.identity_files()
    argv = [
        "openssl", "s_server", "-accept", f"{HOST}:0", "-rev",
        "-cert", str(cert), "-cert_chain", str(chain), "-key", str(key),
        "-CAfile", str(files.ca_file), *versions,
    ]  # fmt: skip
    if alpn:
        argv += ["-alpn", ",".join(_alpn_tokens(alpn))]
    if client_auth is not ClientAuth.NONE:
        flag = "-Verify" if client_auth is ClientAuth.REQUIRE else "-verify"
        argv += [flag, "4", "-verify_return_error"]
    return _Launch(argv, None, r"^ACCEPT\s+\S+:(?P<port>\d+)\s*$", None)


def _openssl_client_argv(
    port: int, server_name: str, files: PeerFiles, versions: list[str], alpn: Sequence[bytes]
) -> list[str]:
    argv = [
        "openssl", "s_client", "-connect", f"{HOST}:{port}", "-CAfile", str(files.ca_file),
        "-verify_return_error", *versions,
    ]  # fmt: skip
    argv += _openssl_name_check(server_name)
    if alpn:
        argv += ["-alpn", ",".join(_alpn_tokens(alpn))]
    if files.has_identity:
        cert, chain, key = files.identity_files()
        argv += ["-cert", str(cert), "-cert_chain", str(chain), "-key", str(key)]
    return argv


def _openssl_name_check(server_name: str) -> list[str]:
    if _is_ip(server_name):
        return ["-noservername", "-verify_ip", server_name]
    return ["-servername", server_name, "-verify_hostname", server_name]
