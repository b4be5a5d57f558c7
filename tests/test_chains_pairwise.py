"""A server with an RSA and an ECDSA chain, against clients that can verify one of them.

Pairwise: every server backend with ``Capability.SEVERAL_CERTIFICATE_CHAINS``
against every client backend, limited in TLS 1.2 by its suites
(ECDHE_ECDSA-only or ECDHE_RSA-only), must serve the chain that client can
use.  Real clients limited by signature algorithms, TLS 1.2 and TLS 1.3:
``openssl s_client -sigalgs ECDSA+SHA256`` / ``-sigalgs RSA-PSS+SHA256``
and ``gnutls-cli --priority NORMAL:-SIGN-ALL:+SIGN-...``; the certificate
each prints must be the leaf of the chain its algorithms allow, and each
must say it verified it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi import Capability, TLSError, TLSVersion
from tlsapi.testing import PKI
from tlsapi.testing.conformance._support import Peers, only_version, skip_if_lacks
from tlsapi.testing.conformance.chains import (
    ECDSA_ONLY_TLS12,
    RSA_ONLY_TLS12,
    dual_identities,
    require_chains,
)
from tlsapi.testing.peers import (
    GNUTLS_CLIENT,
    OPENSSL_CLIENT,
    OPENSSL_SERVER,
    ClientAuth,
    PeerFiles,
    PeerProcess,
    require_program,
    run_server,
)
from tlsapi.testing.pki import Identity
from tlsapi.testing.pump import transfer

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
TIMEOUT = 30.0


@pytest.fixture(scope="module")
def identities(pki: PKI) -> tuple[Identity, Identity]:
    return dual_identities(pki)


def _server_config(pki: PKI, identities: tuple[Identity, Identity]) -> tlsapi.TLSConfiguration:
    ecdsa, rsa = identities
    return pki.server_config(certificate_chain=(rsa.certificate_chain(), ecdsa.certificate_chain()))


def test_tls12_suites_choose_the_chain_pairwise(
    client_backend: tlsapi.Backend,
    server_backend: tlsapi.Backend,
    pki: PKI,
    identities: tuple[Identity, Identity],
) -> None:
    server_config = _server_config(pki, identities)
    require_chains(server_backend, server_config)
    if Capability.CLIENT not in client_backend.capabilities:
        pytest.skip(f"backend {client_backend.name!r} has no client side")
    pair = Peers(client_backend, server_backend, pki)
    server_context = server_backend.server_context(server_config)
    ecdsa, rsa = identities
    for suites, identity in ((ECDSA_ONLY_TLS12, ecdsa), (RSA_ONLY_TLS12, rsa)):
        client_config = pki.client_config(ciphers=suites, **only_version(V12))
        skip_if_lacks(
            client_backend,
            Capability.CIPHER_SELECTION,
            functools.partial(client_backend.client_context, client_config),
        )
        client, server = pair.connect(client_config, server_context)
        chain = client.getpeercert()
        assert chain and chain[0] == identity.cert_der, f"{suites[0].name}: the other chain"
        assert transfer(client, server, b"pairwise") == b"pairwise"


class OneLineServer:
    """Our server for one connection in a thread: echoes a line, notes what it saw."""

    def __init__(self, context: tlsapi.ServerContext) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(TIMEOUT)
        self.port: int = self.listener.getsockname()[1]
        self.context = context
        self.version: TLSVersion | int | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            sock, _ = self.listener.accept()
            sock.settimeout(TIMEOUT)
            with self.context.wrap_socket(sock) as tls:
                tls.do_handshake()
                self.version = tls.negotiated_tls_version
                line = b""
                while not line.endswith(b"\n"):
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    line += chunk
                tls.sendall(line)
                with contextlib.suppress(TLSError, OSError):
                    tls.shutdown(socket.SHUT_WR)
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        self._thread.join(TIMEOUT)
        self.listener.close()
        assert not self._thread.is_alive(), "our server did not finish"


def _leaf_printed(output: str) -> bytes:
    """The DER of the first PEM certificate a client program printed (the server's leaf)."""
    match = re.search(
        r"-----BEGIN CERTIFICATE-----\s+(.+?)\s+-----END CERTIFICATE-----", output, re.S
    )
    assert match, f"the program printed no certificate:\n{output}"
    return base64.b64decode("".join(match.group(1).split()))


def _serve_one(
    backend: tlsapi.Backend, pki: PKI, identities: tuple[Identity, Identity], argv: list[str]
) -> tuple[str, OneLineServer]:
    server = OneLineServer(backend.server_context(_server_config(pki, identities)))
    process = PeerProcess(
        [*argv[:1], *(a.format(port=server.port) for a in argv[1:])], stdin_data=b"chains\n"
    )
    try:
        process.wait(TIMEOUT)
    finally:
        process.stop()
    server.join()
    return process.output(), server


OPENSSL_CASES = [
    pytest.param("ECDSA+SHA256", "ecdsa", V13, id="ecdsa-tls1.3"),
    pytest.param("RSA-PSS+SHA256", "rsa", V13, id="rsa-pss-tls1.3"),
    pytest.param("ECDSA+SHA256", "ecdsa", V12, id="ecdsa-tls1.2"),
    pytest.param("RSA-PSS+SHA256", "rsa", V12, id="rsa-pss-tls1.2"),
    pytest.param("RSA+SHA256", "rsa", V12, id="rsa-pkcs1-tls1.2"),
]


def _require_server(
    backend: tlsapi.Backend, pki: PKI, identities: tuple[Identity, Identity], version: TLSVersion
) -> None:
    require_chains(backend, _server_config(pki, identities))
    if version is V13 and Capability.TLSv1_3 not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks TLS 1.3")


@pytest.mark.peer
@pytest.mark.parametrize(("sigalgs", "expected", "version"), OPENSSL_CASES)
def test_openssl_s_client_sigalgs(
    backend: tlsapi.Backend,
    pki: PKI,
    identities: tuple[Identity, Identity],
    tmp_path: Path,
    *,
    sigalgs: str,
    expected: str,
    version: TLSVersion,
) -> None:
    require_program(OPENSSL_CLIENT)
    _require_server(backend, pki, identities, version)
    root = pki.write_root(tmp_path)
    output, server = _serve_one(
        backend,
        pki,
        identities,
        [
            "openssl", "s_client", "-connect", "127.0.0.1:{port}", "-servername", "localhost",
            "-verify_hostname", "localhost", "-CAfile", str(root), "-verify_return_error",
            "-tls1_3" if version is V13 else "-tls1_2", "-sigalgs", sigalgs,
        ],
    )  # fmt: skip
    assert server.error is None, f"our server failed: {server.error!r}\n{output}"
    assert server.version is version
    ecdsa, rsa = identities
    leaf = ecdsa if expected == "ecdsa" else rsa
    assert _leaf_printed(output) == leaf.cert_der, f"-sigalgs {sigalgs}: the other leaf\n{output}"
    assert "Verify return code: 0 (ok)" in output, output
    kind = "ECDSA" if expected == "ecdsa" else ("RSA-PSS" if "PSS" in sigalgs else "RSA")
    assert re.search(rf"^Peer signature type: {kind}$", output, re.M), output


GNUTLS_CASES = [
    pytest.param(
        "+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SHA256", "ecdsa", V13, id="ecdsa-tls1.3"
    ),
    pytest.param("+SIGN-RSA-PSS-RSAE-SHA256", "rsa", V13, id="rsa-pss-tls1.3"),
    pytest.param(
        "+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SHA256", "ecdsa", V12, id="ecdsa-tls1.2"
    ),
    pytest.param("+SIGN-RSA-SHA256", "rsa", V12, id="rsa-pkcs1-tls1.2"),
]


@pytest.mark.peer
@pytest.mark.parametrize(("signatures", "expected", "version"), GNUTLS_CASES)
def test_gnutls_cli_priority(
    backend: tlsapi.Backend,
    pki: PKI,
    identities: tuple[Identity, Identity],
    tmp_path: Path,
    *,
    signatures: str,
    expected: str,
    version: TLSVersion,
) -> None:
    require_program(GNUTLS_CLIENT)
    _require_server(backend, pki, identities, version)
    root = pki.write_root(tmp_path)
    versions = "-VERS-ALL:+VERS-TLS1.3" if version is V13 else "-VERS-ALL:+VERS-TLS1.2"
    output, server = _serve_one(
        backend,
        pki,
        identities,
        [
            "gnutls-cli", "-p", "{port}", "127.0.0.1", "--sni-hostname", "localhost",
            "--verify-hostname", "localhost", "--x509cafile", str(root), "--print-cert",
            "--priority", f"NORMAL:{versions}:-SIGN-ALL:{signatures}",
        ],
    )  # fmt: skip
    assert server.error is None, f"our server failed: {server.error!r}\n{output}"
    assert server.version is version
    ecdsa, rsa = identities
    leaf = ecdsa if expected == "ecdsa" else rsa
    assert _leaf_printed(output) == leaf.cert_der, f"{signatures}: the other leaf\n{output}"
    assert "Certificate is trusted" in output or "certificate is trusted" in output, output


def test_tls13_scheme_matches_the_served_chain_pairwise(
    client_backend: tlsapi.Backend,
    server_backend: tlsapi.Backend,
    pki: PKI,
    identities: tuple[Identity, Identity],
) -> None:
    """TLS 1.3 suites do not name a key type: the scheme the client reports (where it
    can) must be one the served leaf's key signs with."""
    server_config = _server_config(pki, identities)
    require_chains(server_backend, server_config)
    for backend in (client_backend, server_backend):
        if Capability.TLSv1_3 not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} lacks TLS 1.3")
    if Capability.CLIENT not in client_backend.capabilities:
        pytest.skip(f"backend {client_backend.name!r} has no client side")
    if Capability.SIGNATURE_SCHEME not in client_backend.capabilities:
        pytest.skip(f"backend {client_backend.name!r} cannot report the signature scheme")
    pair = Peers(client_backend, server_backend, pki)
    client, _server = pair.connect(pki.client_config(**only_version(V13)), server_config)
    ecdsa, rsa = identities
    leaf = client.getpeercert()[0]  # type: ignore[index]
    scheme = client.signature_scheme()
    assert scheme is not None
    if leaf == ecdsa.cert_der:
        assert scheme is tlsapi.SignatureScheme.ecdsa_secp256r1_sha256, scheme
    else:
        assert leaf == rsa.cert_der, "the leaf is neither chain's"
        assert scheme.name.startswith("rsa_pss_rsae_"), scheme


# -- what our client reports of a real server's signature and certificate request ----

SCHEME_CASES = [
    pytest.param("rsa", "rsa_pss_rsae_sha384", V13, id="rsa-pss-sha384-tls1.3"),
    pytest.param("rsa", "rsa_pss_rsae_sha512", V12, id="rsa-pss-sha512-tls1.2"),
    pytest.param("rsa", "rsa_pkcs1_sha384", V12, id="rsa-pkcs1-sha384-tls1.2"),
    pytest.param("ecdsa", "ecdsa_secp256r1_sha256", V13, id="ecdsa-p256-tls1.3"),
    pytest.param("ecdsa", "ecdsa_secp384r1_sha384", V12, id="ecdsa-sha384-tls1.2"),
]


def _client_against_s_server(
    backend: tlsapi.Backend,
    pki: PKI,
    identity: Identity,
    tmp_path: Path,
    version: TLSVersion,
    **options: Any,
) -> tuple[tlsapi.SignatureScheme | None, bool | None]:
    """Our client's signature_scheme() and certificate_requested() against s_server."""
    files = PeerFiles.from_pki(tmp_path, pki, identity)
    context = backend.client_context(pki.client_config(**only_version(version)))
    with run_server(
        OPENSSL_SERVER, files, lowest_version=version, highest_version=version, **options
    ) as server:
        sock = socket.create_connection(server.address, timeout=TIMEOUT)
        with context.wrap_socket(sock, "localhost") as tls:
            tls.sendall(server.echo.request(b"details"))
            reply = b""
            while server.echo.expected(b"details") not in reply:
                chunk = tls.recv(4096)
                assert chunk, f"s_server closed first\n{server.transcript()}"
                reply += chunk
            return tls.signature_scheme(), tls.certificate_requested()


@pytest.mark.peer
@pytest.mark.parametrize(("key", "scheme", "version"), SCHEME_CASES)
def test_signature_scheme_of_a_real_server(
    backend: tlsapi.Backend,
    pki: PKI,
    identities: tuple[Identity, Identity],
    tmp_path: Path,
    *,
    key: str,
    scheme: str,
    version: TLSVersion,
) -> None:
    """s_server allowed one scheme (-sigalgs): the client reports exactly that one."""
    require_program(OPENSSL_SERVER)
    if Capability.CLIENT not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} has no client side")
    if version is V13 and Capability.TLSv1_3 not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks TLS 1.3")
    identity = identities[0] if key == "ecdsa" else identities[1]
    reported, _ = _client_against_s_server(
        backend, pki, identity, tmp_path, version, extra_args=("-sigalgs", scheme)
    )
    if Capability.SIGNATURE_SCHEME not in backend.capabilities:
        assert reported is None
        pytest.skip(f"backend {backend.name!r} lacks 'signature-scheme' (checked: None)")
    assert reported is tlsapi.SignatureScheme[scheme], (
        f"s_server signed {scheme}, we say {reported!r}"
    )


@pytest.mark.peer
@pytest.mark.parametrize("version", [V12, V13], ids=str)
@pytest.mark.parametrize("requested", [False, True], ids=["not-requested", "requested"])
def test_certificate_request_of_a_real_server(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path, *, version: TLSVersion, requested: bool
) -> None:
    """s_server -verify asks for a certificate without requiring one: the client says so."""
    require_program(OPENSSL_SERVER)
    if Capability.CLIENT not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} has no client side")
    if version is V13 and Capability.TLSv1_3 not in backend.capabilities:
        pytest.skip(f"backend {backend.name!r} lacks TLS 1.3")
    auth = ClientAuth.REQUEST if requested else ClientAuth.NONE
    _, said = _client_against_s_server(
        backend, pki, pki.server_identity, tmp_path, version, client_auth=auth
    )
    if Capability.CERTIFICATE_REQUESTED not in backend.capabilities:
        assert said is None
        pytest.skip(f"backend {backend.name!r} lacks 'certificate-requested' (checked: None)")
    assert said is requested
