"""Several certificate chains on a stdlib server: OpenSSL serves the one the client can verify.

OpenSSL keeps one chain per key type in an SSL_CTX and picks by the
client's signature algorithms (TLS 1.3) or by the suite it chose (TLS 1.2).
The clients here offer only RSA or only ECDSA: ``openssl s_client -sigalgs``
for TLS 1.3, and a stdlib client limited to ECDHE_RSA or ECDHE_ECDSA suites
for TLS 1.2.  The same holds for a configuration returned by sni_callback.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing import PKI, KeyType, handshake
from tlsapi.testing.peers import OPENSSL_CLIENT

RSA_ONLY_TLS12 = (tlsapi.CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,)
ECDSA_ONLY_TLS12 = (tlsapi.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,)


class Chains:
    """An RSA chain from one PKI and an ECDSA chain from another; clients trust both roots."""

    def __init__(self) -> None:
        self.rsa_pki = PKI(KeyType.RSA_2048, name="tlsapi rsa chain")
        self.ec_pki = PKI(KeyType.ECDSA_P256, name="tlsapi ecdsa chain")
        self.rsa = self.rsa_pki.issue(common_name="rsa leaf")
        self.ecdsa = self.ec_pki.issue(common_name="ecdsa leaf")
        self.roots_pem = self.rsa_pki.root_pem + self.ec_pki.root_pem

    def server_config(self, **overrides: object) -> tlsapi.TLSConfiguration:
        chains = (self.rsa.certificate_chain(), self.ecdsa.certificate_chain())
        return tlsapi.TLSConfiguration(certificate_chain=chains, **overrides)  # type: ignore[arg-type]

    def client_config(self, **overrides: object) -> tlsapi.TLSConfiguration:
        trust = tlsapi.TrustStore.from_buffer(self.roots_pem)
        return tlsapi.TLSConfiguration(trust_store=trust, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def chains() -> Chains:
    return Chains()


@pytest.fixture
def stdlib() -> tlsapi.Backend:
    return tlsapi.backend("stdlib")


def _direct(chains: Chains) -> tlsapi.TLSConfiguration:
    return chains.server_config()


def _through_sni_callback(chains: Chains) -> tlsapi.TLSConfiguration:
    # The server's own configuration has one unrelated chain; the callback's has both.
    both = chains.server_config()
    only = chains.ec_pki.issue(common_name="not this one")
    return tlsapi.TLSConfiguration(
        certificate_chain=only.certificate_chain(),
        sni_callback=lambda buffer, name, config: both,
    )


SERVERS: list[Callable[[Chains], tlsapi.TLSConfiguration]] = [_direct, _through_sni_callback]
SERVER_IDS = ["configuration", "sni_callback"]


def test_the_capability_is_claimed(stdlib: tlsapi.Backend) -> None:
    assert tlsapi.Capability.SEVERAL_CERTIFICATE_CHAINS in stdlib.capabilities


@pytest.mark.parametrize("make_server", SERVERS, ids=SERVER_IDS)
@pytest.mark.parametrize(
    ("suites", "expected"),
    [(RSA_ONLY_TLS12, "rsa"), (ECDSA_ONLY_TLS12, "ecdsa")],
    ids=["rsa", "ecdsa"],
)
def test_tls12_client_gets_the_chain_its_suite_allows(
    stdlib: tlsapi.Backend,
    chains: Chains,
    make_server: Callable[[Chains], tlsapi.TLSConfiguration],
    suites: tuple[tlsapi.CipherSuite, ...],
    expected: str,
) -> None:
    server_context = stdlib.server_context(make_server(chains))
    client_context = stdlib.client_context(
        chains.client_config(ciphers=suites, highest_supported_version=tlsapi.TLSVersion.TLSv1_2)
    )
    client = client_context.wrap_buffers("localhost")
    handshake(client, server_context.wrap_buffers())
    identity = chains.rsa if expected == "rsa" else chains.ecdsa
    peer = client.getpeercert()
    assert peer is not None and peer[0] == identity.cert_der
    assert client.cipher() == suites[0]


def _openssl_client(port: int, roots: Path, sigalgs: str) -> str:
    """``openssl s_client -brief`` offering only ``sigalgs``; its report (stderr)."""
    if shutil.which("openssl") is None:
        if sys.platform.startswith("linux"):
            OPENSSL_CLIENT.check_installed()  # fails, naming the Debian package
        pytest.skip("openssl is a Linux test tool here")
    argv = [
        "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-brief", "-tls1_3",
        "-sigalgs", sigalgs, "-CAfile", str(roots), "-verify_return_error",
        "-servername", "localhost", "-verify_hostname", "localhost",
    ]  # fmt: skip
    completed = subprocess.run(
        argv,
        input=b"",
        capture_output=True,
        timeout=30,
        check=False,
    )
    return completed.stdout.decode(errors="replace") + completed.stderr.decode(errors="replace")


@pytest.mark.parametrize("make_server", SERVERS, ids=SERVER_IDS)
@pytest.mark.parametrize(
    ("sigalgs", "expected", "signature"),
    [
        ("rsa_pss_rsae_sha256:rsa_pss_rsae_sha384", "rsa leaf", "RSA-PSS"),
        ("ECDSA+SHA256:ECDSA+SHA384", "ecdsa leaf", "ECDSA"),
    ],
    ids=["rsa", "ecdsa"],
)
def test_tls13_client_gets_the_chain_its_signature_algorithms_allow(  # noqa: PLR0917 (fixtures and parameters)
    stdlib: tlsapi.Backend,
    chains: Chains,
    tmp_path: Path,
    make_server: Callable[[Chains], tlsapi.TLSConfiguration],
    sigalgs: str,
    expected: str,
    signature: str,
) -> None:
    server_context = stdlib.server_context(make_server(chains))
    roots = tmp_path / "roots.pem"
    roots.write_bytes(chains.roots_pem)
    errors: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(30)

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                with server_context.wrap_socket(conn) as tls:
                    tls.do_handshake()
                    tls.sendall(b"served\n")
                    # s_client may be gone once it has the line (ENOTCONN, EPIPE).
                    with contextlib.suppress(OSError, tlsapi.TLSError):
                        tls.shutdown(socket.SHUT_RDWR)
            except BaseException as exc:  # reported by the test thread
                errors.append(exc)

        thread = threading.Thread(target=serve)
        thread.start()
        report = _openssl_client(listener.getsockname()[1], roots, sigalgs)
        thread.join(30)
    assert not errors, errors
    assert "Protocol version: TLSv1.3" in report, report
    assert f"CN = {expected}" in report, report
    assert f"Signature type: {signature}" in report, report
    assert "Verification: OK" in report, report
