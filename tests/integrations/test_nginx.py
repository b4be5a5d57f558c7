"""Every backend's native ClientContext against nginx, a TLS server nobody here wrote."""

from __future__ import annotations

import hashlib
import socket

import pytest

import tlsapi
from tlsapi.testing.nginx import SMALL_BODY, NginxServer
from tlsapi.testing.pki import PKI

H2_FIRST = (tlsapi.NextProtocol.H2, tlsapi.NextProtocol.HTTP1)


def _get(tls: tlsapi.TLSWrappedSocket, path: str) -> tuple[bytes, bytes]:
    """One HTTP/1.1 GET; the head and the body, read until nginx's close_notify."""
    tls.sendall(
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode("ascii")
    )
    data = bytearray()
    while chunk := tls.recv(65536):  # b"" only on close_notify; a bare TCP close raises
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    return head, body


def _connect(
    backend: tlsapi.Backend,
    config: tlsapi.TLSConfiguration,
    address: tuple[str, int],
    hostname: str = "localhost",
) -> tlsapi.TLSWrappedSocket:
    sock = socket.create_connection(address, timeout=20)
    try:
        tls = backend.client_context(config).wrap_socket(sock, hostname)
        tls.do_handshake()
    except BaseException:
        sock.close()
        raise
    return tls


@pytest.mark.parametrize(
    "highest", [tlsapi.TLSVersion.TLSv1_2, tlsapi.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"]
)
def test_verified_handshake_alpn_h2(
    backend: tlsapi.Backend, pki: PKI, nginx: NginxServer, highest: tlsapi.TLSVersion
) -> None:
    config = pki.client_config(inner_protocols=H2_FIRST, highest_supported_version=highest)
    with _connect(backend, config, nginx.address) as tls:
        assert tls.negotiated_tls_version == highest
        assert tls.negotiated_protocol() == tlsapi.NextProtocol.H2
        chain = tls.getpeercert()
        assert chain and chain[0] == pki.server_identity.cert_der


def test_small_and_large_body_http1_clean_close(
    backend: tlsapi.Backend, pki: PKI, nginx: NginxServer
) -> None:
    config = pki.client_config(inner_protocols=(tlsapi.NextProtocol.HTTP1,))
    with _connect(backend, config, nginx.address) as tls:
        assert tls.negotiated_protocol() == tlsapi.NextProtocol.HTTP1
        head, body = _get(tls, "/")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert body == SMALL_BODY
    with _connect(backend, config, nginx.address) as tls:
        head, body = _get(tls, "/large.bin")
        assert head.startswith(b"HTTP/1.1 200"), head
        assert len(body) == len(nginx.large_body)
        assert hashlib.sha256(body).hexdigest() == nginx.large_sha256


def test_wrong_host_refused(backend: tlsapi.Backend, pki: PKI, nginx: NginxServer) -> None:
    with pytest.raises(tlsapi.CertificateError) as info:
        _connect(backend, pki.client_config(), nginx.address, "wrong.example")
    assert info.value.reason == tlsapi.CertificateErrorReason.HOSTNAME_MISMATCH


def test_unknown_ca_refused(backend: tlsapi.Backend, other_pki: PKI, nginx: NginxServer) -> None:
    with pytest.raises(tlsapi.CertificateError) as info:
        _connect(backend, other_pki.client_config(), nginx.address)
    assert info.value.reason == tlsapi.CertificateErrorReason.UNTRUSTED_ISSUER


def test_mutual_tls(backend: tlsapi.Backend, pki: PKI, nginx: NginxServer) -> None:
    identity = pki.client_identity
    config = pki.client_config(
        certificate_chain=identity.certificate_chain(),
        inner_protocols=(tlsapi.NextProtocol.HTTP1,),
    )
    with _connect(backend, config, nginx.client_cert_address) as tls:
        head, body = _get(tls, "/")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body == b"client CN=client.test,O=tlsapi testing verify SUCCESS\n"


def test_no_client_certificate_refused(
    backend: tlsapi.Backend, pki: PKI, nginx: NginxServer
) -> None:
    # nginx finishes the handshake and answers 400 itself rather than failing it.
    config = pki.client_config(inner_protocols=(tlsapi.NextProtocol.HTTP1,))
    with _connect(backend, config, nginx.client_cert_address) as tls:
        head, body = _get(tls, "/")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"No required SSL certificate was sent" in body
