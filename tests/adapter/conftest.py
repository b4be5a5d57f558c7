"""Fixtures for the adapter's tests: a PKI written to files, and contexts made from it."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing.conformance._support import skip_if_lacks, skip_under_wine, wine_version
from tlsapi.testing.pki import PKI, KeyType


@dataclass(frozen=True)
class Files:
    root: Path  # the CA that issued everything below
    chain: Path  # server leaf + intermediate
    key: Path
    client_chain: Path
    client_key: Path
    other_root: Path  # an unrelated CA


@pytest.fixture(scope="module")
def files(pki: PKI, other_pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("adapter-pki")
    server = pki.server_identity.write(directory, "server")
    client = pki.client_identity.write(directory, "client")
    return Files(
        root=pki.write_root(directory),
        chain=server.chain,
        key=server.key,
        client_chain=client.chain,
        client_key=client.key,
        other_root=other_pki.write_root(directory, "other-root.pem"),
    )


ContextFactory = Callable[..., ssl.SSLContext]


def make_server(
    files: Files,
    backend: tlsapi.Backend | None,
    *,
    alpn: list[str] | None = None,
    client_ca: Path | None = None,
) -> ssl.SSLContext:
    """A server context: tlsapi's with ``backend``, the ssl module's with None."""
    if backend is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    else:
        context = tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)
    context.load_cert_chain(files.chain, files.key)
    if alpn:
        context.set_alpn_protocols(alpn)
    if client_ca is not None:
        context.load_verify_locations(client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def make_client(
    files: Files,
    backend: tlsapi.Backend | None,
    *,
    alpn: list[str] | None = None,
    ca: Path | None = None,
    identity: bool = False,
) -> ssl.SSLContext:
    """A client context trusting ``ca`` (default: the PKI's root)."""
    if backend is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = tlsapi.SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend=backend)
    context.load_verify_locations(ca or files.root)
    if alpn:
        context.set_alpn_protocols(alpn)
    if identity:
        context.load_cert_chain(files.client_chain, files.client_key)
    return context


def skip_unless_serves(backend: tlsapi.Backend | None) -> None:
    """Skip when ``backend`` has no server side, after asserting the adapter's refusal.

    A server context for a client-only backend (SChannel under Wine) is
    refused when it is made: ``tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER)``
    raises ConfigurationError.
    """
    if backend is None:
        return
    skip_if_lacks(
        backend,
        tlsapi.Capability.SERVER,
        lambda: tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend),
    )


def skip_unless_tls13(backend: tlsapi.Backend | None) -> None:
    """Skip when ``backend`` lacks TLS 1.3, after asserting that minimum_version=TLSv1_3 is refused.

    A version range the backend cannot honour raises when it is set.
    """
    if backend is None:
        return

    def pin() -> None:
        context = tlsapi.SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend=backend)
        context.minimum_version = ssl.TLSVersion.TLSv1_3

    skip_if_lacks(backend, tlsapi.Capability.TLSv1_3, pin)


def skip_if_wine_sends_client_leaf_only(backend: tlsapi.Backend | None) -> None:
    """Wine's SChannel sends only the leaf of a client certificate chain.

    A server that must build the path through the client's intermediate then
    refuses it (unknown issuer).  Real Windows sends the chain, and runs the test.
    """
    if backend is not None and backend.name == "schannel":
        skip_under_wine("SChannel sends only the leaf of a client certificate chain")


def skip_if_wine_refuses_client_key(backend: tlsapi.Backend | None, files: Files, pki: PKI) -> None:
    """Wine's SChannel signs only with RSA keys (it reads keys from the legacy CAPI RSA provider).

    Under Wine an EC client key is refused (ConfigurationError, asserted here)
    when the context is made; real Windows imports it into CNG, and runs the test.
    """
    if backend is None or backend.name != "schannel" or pki.key_type is KeyType.RSA_2048:
        return
    if wine_version() is None:
        return
    context = make_client(files, backend, identity=True)
    with pytest.raises(tlsapi.ConfigurationError, match="RSA"):
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
    skip_under_wine(
        f"SChannel signs only with RSA keys, and this PKI's keys are {pki.key_type.name}"
    )
