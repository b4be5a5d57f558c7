"""NSS's ``selfserv`` and ``tstclnt``: the programs and their command lines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..._versions import TLSVersion
from ._files import PeerFiles
from ._process import HOST, PeerError, _Launch
from ._programs import ClientAuth, EchoStyle, PeerProgram, _versions

NSS_SERVER = PeerProgram(
    "selfserv", "server", ("selfserv", "certutil", "pk12util"), "libnss3-tools",
    alpn=False, fixed_alpn=(b"http/1.1",), echo=EchoStyle.HTTP,
)  # fmt: skip
NSS_CLIENT = PeerProgram(
    "tstclnt", "client", ("tstclnt", "certutil", "pk12util"), "libnss3-tools", alpn=False
)

_NSS_VERSIONS = {
    TLSVersion.TLSv1: "tls1.0",
    TLSVersion.TLSv1_1: "tls1.1",
    TLSVersion.TLSv1_2: "tls1.2",
    TLSVersion.TLSv1_3: "tls1.3",
}


def _nss_versions(lowest: TLSVersion, highest: TLSVersion) -> str:
    chosen = _versions(lowest, highest)
    return f"{_NSS_VERSIONS[chosen[0]]}:{_NSS_VERSIONS[chosen[-1]]}"


def _nss_server_launch(
    files: PeerFiles, port: int, versions: str, alpn: Sequence[bytes], client_auth: ClientAuth
) -> _Launch:
    """``port``: picked by the caller (selfserv cannot bind port 0 and say which it got)."""
    database = files.nss_database()
    if database.nickname is None:
        raise PeerError(f"{files.directory} holds no certificate and key for selfserv")
    argv = [
        "selfserv", "-d", database.spec, "-n", database.nickname, "-p", str(port),
        "-V", versions, "-v",
    ]  # fmt: skip
    if alpn:
        argv.append("-Q")  # http/1.1, the only protocol selfserv can offer
    if client_auth is ClientAuth.REQUEST:
        argv.append("-r")
    elif client_auth is ClientAuth.REQUIRE:
        argv += ["-r", "-r"]
    return _Launch(argv, port, r"About to call accept", r"PR_Bind|address is in use")


def _nss_client_argv(
    port: int, server_name: str, files: PeerFiles, versions: str, request_file: Path
) -> list[str]:
    database = files.nss_database()
    argv = [
        "tstclnt", "-h", HOST, "-p", str(port), "-d", database.spec, "-V", versions,
        "-A", str(request_file), "-v",
    ]  # fmt: skip
    if server_name != HOST:
        argv += ["-a", server_name]  # SNI, and the name the certificate must match
    if database.nickname is not None:
        argv += ["-n", database.nickname]
    return argv
