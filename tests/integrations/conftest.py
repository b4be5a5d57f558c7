"""Fixtures for the integration tests: one PKI and one nginx per test process.

The libraries under test (trio, anyio, httpx, urllib3, requests, aiohttp)
come from the ``integrations`` extra; a module skips when its library is not
installed.  nginx is a Debian package (.ci/packages.txt): it is missing only
where it cannot exist (another OS), so on Linux its absence fails the tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from _integ import Contexts, PKIFiles, Target
from _servers import BackendHTTPServer

import tlsapi
from tlsapi.testing.nginx import SMALL_BODY, NginxServer, find_nginx, run_nginx
from tlsapi.testing.pki import PKI, KeyType


@pytest.fixture(scope="session")
def pki() -> PKI:
    """One ECDSA P-256 PKI for every integration test (nginx is started once)."""
    return PKI(KeyType.ECDSA_P256, name="tlsapi integrations")


@pytest.fixture(scope="session")
def other_pki() -> PKI:
    """An unrelated PKI: a client trusting only it must refuse every server here."""
    return PKI(KeyType.ECDSA_P256, name="tlsapi integrations untrusted")


@pytest.fixture(scope="session")
def nginx(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    if find_nginx() is None:
        if sys.platform.startswith("linux"):
            pytest.fail("nginx is not installed: apt-get install nginx (.ci/packages.txt)")
        pytest.skip(f"no nginx package on {sys.platform}")
    with run_nginx(pki, tmp_path_factory.mktemp("nginx")) as server:
        yield server


@pytest.fixture
def backend_server(backend: tlsapi.Backend, pki: PKI) -> Iterator[BackendHTTPServer]:
    """An HTTP/1.1 server over ``backend``'s native ServerContext."""
    with BackendHTTPServer(backend, pki) as server:
        yield server


@pytest.fixture
def backend_mtls_server(backend: tlsapi.Backend, pki: PKI) -> Iterator[BackendHTTPServer]:
    """The same, requiring a client certificate issued by ``pki``."""
    with BackendHTTPServer(backend, pki, require_client_cert=True) as server:
        yield server


@pytest.fixture(scope="session")
def pki_files(pki: PKI, tmp_path_factory: pytest.TempPathFactory) -> PKIFiles:
    directory = tmp_path_factory.mktemp("pki")
    return PKIFiles(
        pki.write_root(directory, "root.pem"),
        pki.client_identity.write(directory, "client"),
        pki.server_identity.write(directory, "server"),
    )


@pytest.fixture
def contexts(backend: tlsapi.Backend, pki_files: PKIFiles, other_pki: PKI) -> Contexts:
    return Contexts(backend, pki_files, other_pki.root_pem)


@pytest.fixture(params=["nginx", "tlsapi"])
def target(request: pytest.FixtureRequest, backend: tlsapi.Backend, pki: PKI) -> Iterator[Target]:
    """nginx, then an HTTP/1.1 server of ``backend`` (native API)."""
    if request.param == "nginx":
        server: NginxServer = request.getfixturevalue("nginx")
        yield Target(
            "nginx",
            server.port,
            server.client_cert_port,
            "/",
            SMALL_BODY,
            server.large_body,
            True,
        )
        return
    with (
        BackendHTTPServer(backend, pki) as plain,
        BackendHTTPServer(backend, pki, require_client_cert=True) as mtls,
    ):
        target = Target(
            f"tlsapi-{backend.name}",
            plain.port,
            mtls.port,
            "/info",
            plain.small_body,
            plain.large_body,
            False,
        )
        yield target
        if target.clean_expected:
            # Every connection the client made ended cleanly on the server's side too.
            assert plain.errors == [] and mtls.errors == []
