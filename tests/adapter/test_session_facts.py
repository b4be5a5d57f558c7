"""What an SSLObject tells about its session, compared with what ssl's own tells.

Each test runs a tlsapi SSLObject against the ssl module's SSLObject over
MemoryBIOs (both sides, TLS 1.2 and 1.3), or two tlsapi ends against each
other, and holds the adapter to what ``ssl`` answers for the same session.
"""

from __future__ import annotations

import _ssl
import os
import shutil
import ssl
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import tlsapi
from tlsapi._adapter._chain import _system_anchors, rebuild
from tlsapi._stdlib._buffer import StdlibBuffer
from tlsapi.backend_api import ClientHello, HelloReader, read_client_hello
from tlsapi.testing.conformance._support import skip_if_lacks
from tlsapi.testing.pki import PKI, KeyType

from .conftest import (
    Files,
    make_client,
    make_server,
    skip_unless_serves,
    skip_unless_tls13,
)
from .test_bio import End, _handshake

VERSIONS = [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]


def _pin(context: ssl.SSLContext, version: ssl.TLSVersion) -> ssl.SSLContext:
    context.minimum_version = context.maximum_version = version
    return context


def _skip_unless_able(
    client_backend: tlsapi.Backend | None,
    server_backend: tlsapi.Backend | None,
    version: ssl.TLSVersion,
) -> None:
    """Skip, after asserting the refusal, where a tlsapi end lacks the server side or ``version``."""
    skip_unless_serves(server_backend)
    if version is ssl.TLSVersion.TLSv1_3:
        skip_unless_tls13(client_backend)
        skip_unless_tls13(server_backend)


def _pair(
    files: Files,
    client_backend: tlsapi.Backend | None,
    server_backend: tlsapi.Backend | None,
    version: ssl.TLSVersion,
) -> tuple[End, End]:
    _skip_unless_able(client_backend, server_backend, version)
    client = End(_pin(make_client(files, client_backend), version), False)
    server = End(_pin(make_server(files, server_backend), version), True)
    return client, server


def _obj(end: End) -> Any:
    """The end's SSLObject, with Python 3.13's methods (typeshed for 3.10 lacks them)."""
    return end.obj


def _gives_channel_binding(end: End) -> bool:
    """The backend under this tlsapi end can tell tls-unique (stdlib, or a buffer offering it)."""
    buffer = end.obj._buffer  # type: ignore[attr-defined]
    return isinstance(buffer, StdlibBuffer) or hasattr(buffer, "get_channel_binding")


# -- get_channel_binding("tls-unique") ---------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
@pytest.mark.parametrize("side", ["client", "server"])
def test_channel_binding_as_ssl_gives_it(
    backend: tlsapi.Backend, files: Files, side: str, version: ssl.TLSVersion
) -> None:
    ours_is_client = side == "client"
    client, server = _pair(
        files,
        backend if ours_is_client else None,
        None if ours_is_client else backend,
        version,
    )
    ours, theirs = (client, server) if ours_is_client else (server, client)
    assert ours.obj.get_channel_binding() is None  # no handshake yet, as ssl says
    _handshake(client, server)
    assert ours.obj.version() == version.name.replace("_", ".")

    expected = theirs.obj.get_channel_binding("tls-unique")
    # ssl gives the client's Finished: 12 bytes in TLS 1.2, a hash's length in TLS 1.3.
    assert expected and len(expected) == (12 if version is ssl.TLSVersion.TLSv1_2 else 48)
    if _gives_channel_binding(ours):
        assert ours.obj.get_channel_binding() == expected
    else:  # NSS has no public call that gives it
        assert ours.obj.get_channel_binding() is None
    with pytest.raises(ValueError, match="not implemented"):
        ours.obj.get_channel_binding("tls-server-end-point")


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
def test_channel_binding_both_ends_tlsapi(
    backend: tlsapi.Backend, files: Files, version: ssl.TLSVersion
) -> None:
    client, server = _pair(files, backend, backend, version)
    _handshake(client, server)
    ours = client.obj.get_channel_binding()
    assert ours == server.obj.get_channel_binding()
    if _gives_channel_binding(client):
        assert ours
        # Bound to this session: a second connection has another.
        again_client, again_server = _pair(files, backend, backend, version)
        _handshake(again_client, again_server)
        assert again_client.obj.get_channel_binding() not in (None, ours)
    else:
        assert ours is None


# -- get_verified_chain(): leaf to trust anchor ---------------------------------------


def _ssl_verified_chain(end: End) -> list[bytes]:
    """What ssl's own SSLObject reports (3.13's get_verified_chain, DER)."""
    chain = end.obj._sslobj.get_verified_chain()  # type: ignore[attr-defined]
    return [certificate.public_bytes(_ssl.ENCODING_DER) for certificate in chain]


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
@pytest.mark.parametrize("side", ["client", "server"])
def test_verified_chain_as_ssl_builds_it(
    backend: tlsapi.Backend, files: Files, pki: PKI, side: str, version: ssl.TLSVersion
) -> None:
    """Ours in one role against ssl, and ssl in the same role against the same peer: same chain."""
    ours_is_client = side == "client"
    _skip_unless_able(
        backend if ours_is_client else None, None if ours_is_client else backend, version
    )

    def pair(mine: tlsapi.Backend | None) -> tuple[End, End]:
        # The client presents a certificate when the server is the end under test:
        # the chain it sends is the one that server verifies.
        client = End(
            _pin(
                make_client(files, mine if ours_is_client else None, identity=not ours_is_client),
                version,
            ),
            False,
        )
        server = End(
            _pin(
                make_server(
                    files,
                    None if ours_is_client else mine,
                    client_ca=None if ours_is_client else files.root,
                ),
                version,
            ),
            True,
        )
        _handshake(client, server)
        return client, server

    client, server = pair(backend)
    ours = client if ours_is_client else server
    reference_client, reference_server = pair(None)
    reference = _ssl_verified_chain(reference_client if ours_is_client else reference_server)

    peer = pki.server_identity if ours_is_client else pki.client_identity
    assert reference == [peer.cert_der, pki.intermediate_der, pki.root_der]  # leaf to root
    assert _obj(ours).get_verified_chain() == reference
    reported = getattr(_obj(ours)._buffer, "verified_chain", None)
    if reported is not None:  # the library's own path (NSS), not one rebuilt by the adapter
        assert reported() == reference
    # What the peer sent (no root; the stdlib backend sees only the leaf before Python 3.13).
    assert _obj(ours).get_unverified_chain() in (peer.chain_der, [peer.cert_der])


def test_verified_chain_without_verification_is_empty(
    backend: tlsapi.Backend, files: Files
) -> None:
    context = make_client(files, backend)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        client = End(context, False)
    server = End(make_server(files, None), True)
    _handshake(client, server)
    assert _obj(client).get_verified_chain() == []
    assert _obj(client).get_unverified_chain()  # the peer's certificates are still there


@pytest.fixture(scope="module")
def system_ca(update_system_trust: Callable[[], None]) -> Iterator[PKI]:
    """A CA the administrator added to the system store (update-ca-certificates)."""
    if shutil.which("update-ca-certificates") is None or os.geteuid() != 0:
        pytest.skip("adding a CA to the system store needs update-ca-certificates and root")
    authority = PKI(name=f"tlsapi adapter system-trust {uuid.uuid4().hex[:8]}")
    path = Path("/usr/local/share/ca-certificates") / f"tlsapi-adapter-{uuid.uuid4().hex}.crt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(authority.root_pem)
    try:
        update_system_trust()
        yield authority
    finally:
        path.unlink(missing_ok=True)
        update_system_trust()


def test_verified_chain_ends_in_a_system_anchor(
    backend: tlsapi.Backend, system_ca: PKI, tmp_path: Path
) -> None:
    if backend.name == "nss":
        # NSS loads the system roots (p11-kit) once per process, before this CA was
        # added; tests/nss/test_trust_sources.py checks that path in a child process.
        pytest.skip("NSS in this process cannot see a CA added to the system store now")
    client_context = tlsapi.SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend=backend)
    client_context.load_default_certs()
    server_files = system_ca.server_identity.write(tmp_path, "server")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(server_files.chain, server_files.key)
    client = End(client_context, False)
    server = End(server_context, True)
    _handshake(client, server)
    assert _obj(client).get_verified_chain() == [
        system_ca.server_identity.cert_der,
        system_ca.intermediate_der,
        system_ca.root_der,
    ]


def test_rebuild_follows_issuers_not_the_order_sent(pki: PKI, other_pki: PKI) -> None:
    leaf = pki.server_identity.cert_der
    anchors = [other_pki.root_der, pki.root_der]
    # Out of order, with a stranger, the root sent too: the path is still leaf -> root.
    sent = [leaf, other_pki.intermediate_der, pki.root_der, pki.intermediate_der]
    assert rebuild(sent, anchors) == [leaf, pki.intermediate_der, pki.root_der]
    # The intermediate trusted directly ends the path there.
    assert rebuild([leaf, pki.intermediate_der], [pki.intermediate_der]) == [
        leaf,
        pki.intermediate_der,
    ]
    # No anchor known (the library's store could not be read): as far as the peer's links go.
    assert rebuild([leaf, pki.intermediate_der], []) == [leaf, pki.intermediate_der]
    # A certificate we cannot read stops the walk, never raises.
    assert rebuild([b"not a certificate", leaf], anchors) == [b"not a certificate"]


@pytest.mark.skipif(
    sys.platform != "win32", reason="Windows keeps its roots in a store, not a file"
)
def test_system_anchors_on_windows_come_from_the_root_store() -> None:
    """SChannel's system trust ends in the "ROOT" store: the chain is rebuilt up to one of those."""
    anchors = _system_anchors()
    assert anchors  # Windows has roots (Wine: the host's, imported by crypt32)
    roots = [
        certificate
        for certificate, encoding, _ in ssl.enum_certificates("ROOT")  # type: ignore[attr-defined,unused-ignore]
        if encoding == "x509_asn"
    ]
    assert set(anchors) <= set(roots)
    root = anchors[0]
    assert rebuild([root], anchors) == [root]


# -- shared_ciphers(): what the client offered and the server enables -------------------


def _server_ciphers(pki: PKI) -> tuple[str, str]:
    """The server's set_ciphers() string, for the key ``pki`` signs with, and that key's name.

    TLS 1.2 suites name the certificate's key type: a server whose key is RSA
    (TLSAPI_TEST_PKI_KEY=rsa2048) enabling only ECDSA suites shares none with
    any client, in ssl as in tlsapi.
    """
    auth = "RSA" if pki.key_type is KeyType.RSA_2048 else "ECDSA"
    return (
        f"ECDHE-{auth}-AES256-GCM-SHA384:ECDHE-{auth}-CHACHA20-POLY1305:"
        f"ECDHE-{auth}-AES128-GCM-SHA256"
    ), auth


@pytest.mark.parametrize("version", VERSIONS, ids=lambda v: v.name)
@pytest.mark.parametrize(
    "offer", [None, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"]
)
def test_shared_ciphers_as_ssl_gives_them(
    backend: tlsapi.Backend, files: Files, pki: PKI, version: ssl.TLSVersion, offer: str | None
) -> None:
    """One ssl client's offer against ssl's server and ours, set up with the same set_ciphers()."""
    server_ciphers, auth = _server_ciphers(pki)
    skip_unless_serves(backend)
    skip_if_lacks(
        backend,
        tlsapi.Capability.CIPHER_SELECTION,
        lambda: make_server(files, backend).set_ciphers(server_ciphers),
    )

    def serve(server_backend: tlsapi.Backend | None) -> tuple[End, End]:
        client_context = make_client(files, None)
        client_context.maximum_version = version
        if offer is not None:
            client_context.set_ciphers(offer)
        server_context = make_server(files, server_backend)
        server_context.set_ciphers(server_ciphers)
        client, server = End(client_context, False), End(server_context, True)
        assert server.obj.shared_ciphers() is None  # nothing offered yet, as ssl says
        _handshake(client, server)
        return client, server

    _, reference = serve(None)
    client, ours = serve(backend)
    expected = reference.obj.shared_ciphers()
    assert expected  # what ssl's server shares with this client
    assert ours.obj.shared_ciphers() == expected
    assert ours.obj.cipher() == reference.obj.cipher()  # ssl's tuple for the chosen suite
    assert client.obj.shared_ciphers() is None  # a client has none, in ssl too
    if offer is not None:
        names = {name for name, _, _ in expected}
        assert f"ECDHE-{auth}-AES128-GCM-SHA256" in names
        assert f"ECDHE-{auth}-AES256-GCM-SHA384" not in names  # enabled, but not offered


def test_shared_ciphers_client_side_tlsapi_is_none(backend: tlsapi.Backend, files: Files) -> None:
    client, server = _pair(files, backend, backend, ssl.TLSVersion.TLSv1_3)
    _handshake(client, server)
    assert client.obj.shared_ciphers() is None
    shared = server.obj.shared_ciphers()
    if not backend.supported_ciphers:
        # The backend cannot tell which suites it enables (SChannel: the system's list).
        assert shared is None
        pytest.skip(
            f"{backend.name} does not publish the suites it enables: shared_ciphers() is None"
        )
    assert shared is not None and client.obj.cipher() in shared


def test_hello_reader_keeps_the_offered_suites() -> None:
    """The core's ClientHello reader, fed one byte at a time, has the suites the client sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305")
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="example.org")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    flight = outgoing.read()
    reader = HelloReader()
    for index in range(len(flight)):
        assert reader.result() is None
        reader.feed(flight[index : index + 1])
    hello = reader.result()
    assert hello is not None and hello.server_name == "example.org"
    # OpenSSL adds the renegotiation-info signalling value (RFC 5746) after the suites.
    assert hello.cipher_suites == (0xC02B, 0xCCA9, 0x00FF)
    assert read_client_hello(flight).cipher_suites == hello.cipher_suites  # type: ignore[union-attr]
    # A server that wants only the suites skips the extensions.
    suites_only = HelloReader(extensions=False)
    suites_only.feed(flight)
    lean = suites_only.result()
    assert lean is not None and lean.cipher_suites == hello.cipher_suites
    assert lean.server_name is None and lean.alpn is None
    # The older two-argument form still builds a hello (the API is unchanged).
    assert ClientHello("a.example", None).cipher_suites == ()
