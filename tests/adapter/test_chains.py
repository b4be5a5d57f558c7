"""load_cert_chain called more than once: OpenSSL's one chain per key type, as ssl servers use it.

OpenSSL keeps one certificate and key per key type: loading a chain of a type
already loaded replaces it (every EC curve is one type), loading another type
adds it, and a server serves the one the client's signature algorithms (TLS
1.2: its cipher suites) allow.  Each test holds the adapter to what the ssl
module itself does with the same calls, and checks which leaf real clients
receive: the ssl module's, and ``openssl s_client -sigalgs`` for TLS 1.3.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi.testing.pki import PKI, Identity, IdentityFiles, KeyType

from .conftest import Files, make_client, skip_unless_serves, skip_unless_tls13

SEVERAL = tlsapi.Capability.SEVERAL_CERTIFICATE_CHAINS
# TLS 1.2 suites that admit one key type each, and TLS 1.3 signature algorithms likewise.
RSA_ONLY = {"TLSv1.2": "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.3": "rsa_pss_rsae_sha256"}
ECDSA_ONLY = {"TLSv1.2": "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.3": "ecdsa_secp256r1_sha256"}


@contextmanager
def _serving(context: ssl.SSLContext) -> Iterator[tuple[int, list[BaseException]]]:
    """Accept one connection in a thread and run the handshake (its errors are reported)."""
    errors: list[BaseException] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(20)

    def run() -> None:
        try:
            conn, _ = listener.accept()
            conn.settimeout(20)
            try:
                tls = context.wrap_socket(conn, server_side=True)
            except ConnectionError:
                # The client took the leaf and left while the server still wrote: TLS 1.3
                # tickets go out after the client's Finished (a TLS failure is an SSLError).
                conn.close()
                return
            # Until the client leaves; one that leaves without close_notify is fine here.
            with tls, contextlib.suppress(OSError):
                tls.recv(1)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield listener.getsockname()[1], errors
    finally:
        thread.join(30)
        listener.close()
        assert not thread.is_alive()


def _leaf_served(context: ssl.SSLContext, client: ssl.SSLContext) -> bytes:
    """The leaf a server made with ``context`` sends to the ssl module's ``client``."""
    with _serving(context) as (port, errors):
        raw = socket.create_connection(("127.0.0.1", port), timeout=20)
        with client.wrap_socket(raw, server_hostname="localhost") as tls:
            leaf = tls.getpeercert(binary_form=True)
    assert not errors, errors
    assert leaf is not None
    return leaf


def _leaf_served_to_s_client(context: ssl.SSLContext, sigalgs: str, root: Path) -> bytes:
    """The leaf ``openssl s_client -tls1_3 -sigalgs ...`` receives (verified against ``root``)."""
    program = shutil.which("openssl")
    if program is None and sys.platform == "win32":
        pytest.skip("no openssl program on PATH here (Windows); the Linux run uses Debian's")
    assert program is not None, "openssl (Debian package openssl) is not installed"
    version = subprocess.run(
        [program, "version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    if not version.startswith("OpenSSL"):
        pytest.skip(f"the openssl program here is {version.strip()}: -sigalgs is OpenSSL's")
    with _serving(context) as (port, errors):
        completed = subprocess.run(
            [program, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
             "-tls1_3", "-sigalgs", sigalgs, "-CAfile", str(root), "-verify_return_error",
             "-verify_hostname", "localhost"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Verify return code: 0 (ok)" in completed.stdout, completed.stdout
    assert not errors, errors
    pem = completed.stdout.split("-----BEGIN CERTIFICATE-----", 1)[1].split("-----END", 1)[0]
    return ssl.PEM_cert_to_DER_cert(f"-----BEGIN CERTIFICATE-----{pem}-----END CERTIFICATE-----\n")


def _server(backend: tlsapi.Backend | None) -> ssl.SSLContext:
    if backend is None:
        return ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    return tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)


def _written(identity: Identity, directory: Path, stem: str) -> IdentityFiles:
    return identity.write(directory, stem)


def _chains(context: ssl.SSLContext) -> Any:
    assert isinstance(context, tlsapi.SSLContext)
    return context._configuration(server_side=True).certificate_chains


@pytest.mark.parametrize(
    "key_types",
    [(None, None), (KeyType.ECDSA_P256, KeyType.ECDSA_P384)],
    ids=["same-type", "P-256-then-P-384"],
)
def test_a_chain_of_the_same_key_type_replaces_the_first(
    backend: tlsapi.Backend,
    files: Files,
    pki: PKI,
    tmp_path: Path,
    key_types: tuple[KeyType | None, KeyType | None],
) -> None:
    """As OpenSSL: the second chain of a key type is served, the first is gone (EC is one type)."""
    skip_unless_serves(backend)
    first = _written(pki.issue(key_type=key_types[0]), tmp_path, "first")
    second = _written(pki.issue(key_type=key_types[1]), tmp_path, "second")
    served = {}
    for subject in (None, backend):  # the ssl module first: what OpenSSL does is the reference
        context = _server(subject)
        context.load_cert_chain(first.chain, first.key)
        context.load_cert_chain(second.chain, second.key)
        served["ssl" if subject is None else "ours"] = _leaf_served(
            context, make_client(files, None)
        )
        if subject is not None:
            assert len(_chains(context)) == 1
    assert served["ssl"] == served["ours"] == ssl.PEM_cert_to_DER_cert(second.cert.read_text())


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_an_rsa_and_an_ecdsa_chain(
    backend: tlsapi.Backend, files: Files, pki: PKI, tmp_path: Path, version: str
) -> None:
    """A server with both serves each client the chain its algorithms allow (ssl does too)."""
    skip_unless_serves(backend)
    if version == "TLSv1.3":
        skip_unless_tls13(backend)
    ecdsa = _written(pki.issue(key_type=KeyType.ECDSA_P256), tmp_path, "ecdsa")
    rsa = _written(pki.issue(key_type=KeyType.RSA_2048), tmp_path, "rsa")
    leaves = {
        "ecdsa": ssl.PEM_cert_to_DER_cert(ecdsa.cert.read_text()),
        "rsa": ssl.PEM_cert_to_DER_cert(rsa.cert.read_text()),
    }
    context = _server(backend)
    context.load_cert_chain(ecdsa.chain, ecdsa.key)
    if not backend.supports(SEVERAL):
        # Refused when the second chain is loaded; the first one stays, and is served.
        with pytest.raises(tlsapi.ConfigurationError, match=SEVERAL.value):
            context.load_cert_chain(rsa.chain, rsa.key)
        assert _leaf_served(context, make_client(files, None)) == leaves["ecdsa"]
        pytest.skip(f"backend {backend.name!r} lacks {SEVERAL.value!r} (refused when loaded)")
    context.load_cert_chain(rsa.chain, rsa.key)
    assert [chain[0][0].der for chain in _chains(context)] == [leaves["ecdsa"], leaves["rsa"]]

    for subject in (None, backend):  # the ssl module's server with the same calls first
        server = _server(subject)
        server.load_cert_chain(ecdsa.chain, ecdsa.key)
        server.load_cert_chain(rsa.chain, rsa.key)
        server.minimum_version = server.maximum_version = ssl.TLSVersion[version.replace(".", "_")]
        for kind, only in (("rsa", RSA_ONLY[version]), ("ecdsa", ECDSA_ONLY[version])):
            if version == "TLSv1.2":
                client = make_client(files, None)
                client.set_ciphers(only)
                leaf = _leaf_served(server, client)
            else:
                leaf = _leaf_served_to_s_client(server, only, files.root)
            assert leaf == leaves[kind], f"{(subject and subject.name) or 'ssl'}: {kind}"


def test_a_client_presents_one_chain(
    backend: tlsapi.Backend, files: Files, pki: PKI, tmp_path: Path
) -> None:
    """A client context refuses a second key type when it is loaded (OpenSSL would pick by the
    server's CertificateRequest; tlsapi clients present one chain); the same type replaces."""
    ecdsa = _written(pki.issue(key_type=KeyType.ECDSA_P256, eku=("client",)), tmp_path, "ecdsa")
    again = _written(pki.issue(key_type=KeyType.ECDSA_P384, eku=("client",)), tmp_path, "again")
    rsa = _written(pki.issue(key_type=KeyType.RSA_2048, eku=("client",)), tmp_path, "rsa")
    context = make_client(files, backend)
    context.load_cert_chain(ecdsa.chain, ecdsa.key)
    with pytest.raises(tlsapi.ConfigurationError, match="client presents one certificate chain"):
        context.load_cert_chain(rsa.chain, rsa.key)
    context.load_cert_chain(again.chain, again.key)  # EC again: replaces, as in OpenSSL
    assert isinstance(context, tlsapi.SSLContext)
    (chain,) = context._configuration(server_side=False).certificate_chains
    assert chain[0][0].der == ssl.PEM_cert_to_DER_cert(again.cert.read_text())


def test_a_context_for_both_sides_refuses_several_chains_as_a_client(
    backend: tlsapi.Backend, files: Files, pki: PKI, tmp_path: Path
) -> None:
    """PROTOCOL_TLS (either side): several chains serve as a server, and are refused (at the
    connection: the side is known then) when it acts as a client."""
    skip_unless_serves(backend)
    ecdsa = _written(pki.issue(key_type=KeyType.ECDSA_P256), tmp_path, "ecdsa")
    rsa = _written(pki.issue(key_type=KeyType.RSA_2048), tmp_path, "rsa")
    with pytest.warns(DeprecationWarning, match="PROTOCOL_TLS"):
        context = tlsapi.SSLContext(ssl.PROTOCOL_TLS, backend=backend)
    context.load_cert_chain(ecdsa.chain, ecdsa.key)
    if not backend.supports(SEVERAL):
        with pytest.raises(tlsapi.ConfigurationError, match=SEVERAL.value):
            context.load_cert_chain(rsa.chain, rsa.key)
        pytest.skip(f"backend {backend.name!r} lacks {SEVERAL.value!r} (refused when loaded)")
    context.load_cert_chain(rsa.chain, rsa.key)
    assert len(_chains(context)) == 2
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.raises(tlsapi.ConfigurationError, match="used as a client, which presents one"):
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=False)
