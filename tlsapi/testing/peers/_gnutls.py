"""GnuTLS's ``gnutls-serv`` and ``gnutls-cli``: the programs and their command lines."""

from __future__ import annotations

from collections.abc import Sequence

from ..._versions import TLSVersion
from ._files import PeerFiles
from ._process import HOST, _Launch
from ._programs import ClientAuth, EchoStyle, PeerProgram, _alpn_tokens, _is_ip, _versions

GNUTLS_SERVER = PeerProgram(
    "gnutls-serv", "server", ("gnutls-serv",), "gnutls-bin",
    alpn=True, echo=EchoStyle.ECHO, reports_alpn=True,
)  # fmt: skip
GNUTLS_CLIENT = PeerProgram(
    "gnutls-cli", "client", ("gnutls-cli",), "gnutls-bin", alpn=True, reports_alpn=True
)

_GNUTLS_VERSIONS = {
    TLSVersion.TLSv1: "VERS-TLS1.0",
    TLSVersion.TLSv1_1: "VERS-TLS1.1",
    TLSVersion.TLSv1_2: "VERS-TLS1.2",
    TLSVersion.TLSv1_3: "VERS-TLS1.3",
}


def _gnutls_priority(lowest: TLSVersion, highest: TLSVersion) -> str:
    chosen = _versions(lowest, highest)
    return "NORMAL:-VERS-ALL:" + ":".join("+" + _GNUTLS_VERSIONS[v] for v in reversed(chosen))


def _gnutls_server_launch(
    files: PeerFiles, port: int, priority: str, alpn: Sequence[bytes], client_auth: ClientAuth
) -> _Launch:
    """``port``: picked by the caller (gnutls-serv cannot bind port 0 and say which it got)."""
    _, chain, key = files.identity_files()
    argv = [
        "gnutls-serv", "--echo", "--crlf", "-p", str(port), "--priority", priority,
        "--x509certfile", str(chain), "--x509keyfile", str(key),
        "--x509cafile", str(files.ca_file),
    ]  # fmt: skip
    for protocol in _alpn_tokens(alpn):
        argv += ["--alpn", protocol]
    if client_auth is ClientAuth.NONE:
        argv.append("--disable-client-cert")
    else:
        argv.append("--verify-client-cert")
        if client_auth is ClientAuth.REQUIRE:
            argv.append("--require-client-cert")
    # It goes on with IPv6 alone when the IPv4 bind fails: only IPv4 "done" is ready.
    return _Launch(
        argv, port, r"listening on IPv4 \S+ port \d+\.\.\.done", r"IPv4 .*bind\(\) failed"
    )


def _gnutls_client_argv(
    port: int, server_name: str, files: PeerFiles, priority: str, alpn: Sequence[bytes]
) -> list[str]:
    argv = [
        "gnutls-cli", "-p", str(port), HOST, "--x509cafile", str(files.ca_file),
        "--priority", priority, "--verify-hostname", server_name,
    ]  # fmt: skip
    if not _is_ip(server_name):
        argv += ["--sni-hostname", server_name]
    for protocol in _alpn_tokens(alpn):
        argv += ["--alpn", protocol]
    if files.has_identity:
        _, chain, key = files.identity_files()
        argv += ["--x509certfile", str(chain), "--x509keyfile", str(key)]
    return argv
