"""A user's program: checked with ``mypy --strict`` against the installed tlsapi (never run).

Every line is something the README shows; mypy must accept it as written,
without casts or isinstance checks.
"""

from __future__ import annotations

import socket

import tlsapi


def client(host: str) -> bytes:
    config = tlsapi.TLSConfiguration(inner_protocols=(tlsapi.NextProtocol.HTTP1,))
    context: tlsapi.ClientContext = tlsapi.ClientContext(config)
    with socket.create_connection((host, 443)) as sock, context.wrap_socket(sock, host) as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
        suite = tls.cipher()
        if suite is not None:
            print(suite.name, int(suite), suite == 0x1302)
        version = tls.negotiated_tls_version
        if isinstance(version, tlsapi.TLSVersion) and version >= tlsapi.TLSVersion.TLSv1_2:
            print(version.name)
        print(tls.negotiated_protocol())
        return tls.recv(4096)


def server(chain_path: str, key_path: str) -> tlsapi.ServerContext:
    chain = tlsapi.Certificate.chain_from_file(chain_path)
    key = tlsapi.PrivateKey.from_file(key_path, password=b"secret")
    config = tlsapi.TLSConfiguration(
        certificate_chain=(chain, key),
        inner_protocols=(tlsapi.NextProtocol.H2, tlsapi.NextProtocol.HTTP1),
        trust_store=tlsapi.TrustStore.from_pem_file("clients-ca.pem"),
        lowest_supported_version=tlsapi.TLSVersion.TLSv1_3,
    )
    return tlsapi.ServerContext(config.update(sni_callback=None))


def buffers(context: tlsapi.ClientContext) -> None:
    tls: tlsapi.TLSWrappedBuffer = context.wrap_buffers("localhost")
    try:
        tls.do_handshake()
    except tlsapi.WantReadError:
        data: bytes = tls.peek_outgoing(tls.outgoing_bytes_buffered())
        tls.consume_outgoing(len(data))
    except tlsapi.NotTLSError as exc:
        print("not TLS:", exc)
    except tlsapi.CertificateError as exc:
        reason: tlsapi.CertificateErrorReason = exc.reason
        print(reason.value, exc.library_message)
    except tlsapi.RaggedEOF:
        print("cut short")
    except tlsapi.TLSError as exc:
        print(exc)
    chain: list[bytes] | None = tls.getpeercert()
    print(chain)


def backends() -> None:
    for backend in tlsapi.available_backends():
        print(backend.name, backend.library_version, backend.supports(tlsapi.Capability.ALPN))
    chosen: tlsapi.Backend = tlsapi.backend("stdlib")
    print(chosen.client_context(tlsapi.TLSConfiguration()), tlsapi.default_backend().name)
    try:
        tlsapi.backend("nonexistent")
    except tlsapi.ConfigurationError as exc:
        print(exc)
