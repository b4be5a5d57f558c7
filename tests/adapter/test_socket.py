"""wrap_socket: a real ssl.SSLSocket whose TLS is a tlsapi backend's, over loopback."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import tlsapi

from .conftest import Files, make_client, make_server, skip_unless_serves

BODY = bytes(range(256)) * 4096  # 1 MiB


@contextmanager
def _server(
    context: ssl.SSLContext, serve: Callable[[ssl.SSLSocket], None]
) -> Iterator[tuple[int, list[BaseException]]]:
    """One connection accepted and served in a thread; errors are reported, not lost."""
    errors: list[BaseException] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def run() -> None:
        try:
            conn, _ = listener.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                serve(tls)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield listener.getsockname()[1], errors
    finally:
        thread.join(10)
        listener.close()
        assert not thread.is_alive()


def _echo_then_close(tls: ssl.SSLSocket) -> None:
    size = int.from_bytes(tls.recv(4), "big")
    tls.sendall(BODY[:size])
    tls.unwrap()  # close_notify both ways


@pytest.mark.parametrize("side", ["client", "server"])
def test_sslsocket_both_sides(backend: tlsapi.Backend, files: Files, side: str) -> None:
    ours_is_client = side == "client"
    skip_unless_serves(None if ours_is_client else backend)
    server_context = make_server(files, None if ours_is_client else backend, alpn=["h2"])
    client_context = make_client(files, backend if ours_is_client else None, alpn=["h2"])
    with _server(server_context, _echo_then_close) as (port, errors):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with client_context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert isinstance(tls, ssl.SSLSocket)
            assert tls.selected_alpn_protocol() == "h2"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert ("DNS", "localhost") in tls.getpeercert()["subjectAltName"]  # type: ignore[index]
            tls.sendall(len(BODY).to_bytes(4, "big"))
            received = bytearray()
            with tls.makefile("rb") as stream:
                received += stream.read(len(BODY))
            assert received == BODY
            plain = tls.unwrap()
            assert plain is tls and tls.version() is None
    assert not errors, errors


def test_client_refuses_wrong_host(backend: tlsapi.Backend, files: Files) -> None:
    def serve(tls: ssl.SSLSocket) -> None:
        tls.recv(1)

    with _server(make_server(files, None), serve) as (port, errors):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with pytest.raises(ssl.SSLCertVerificationError) as caught:
            make_client(files, backend).wrap_socket(raw, server_hostname="wrong.example")
        assert caught.value.verify_code == 62  # X509_V_ERR_HOSTNAME_MISMATCH, as ssl
        raw.close()
    assert errors and isinstance(errors[0], (ssl.SSLError, OSError))


def test_timeout_and_suppress_ragged_eofs(backend: tlsapi.Backend, files: Files) -> None:
    release = threading.Event()

    def serve(tls: ssl.SSLSocket) -> None:
        tls.sendall(b"x")
        release.wait(10)
        tls.shutdown(socket.SHUT_RDWR)  # no close_notify: a ragged end

    with _server(make_server(files, None), serve) as (port, errors):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        with make_client(files, backend).wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.recv(1) == b"x"
            tls.settimeout(0.2)
            with pytest.raises(TimeoutError):
                tls.recv(1)
            tls.settimeout(10)
            release.set()
            assert tls.recv(1) == b""  # suppress_ragged_eofs=True, ssl's default
    assert not errors, errors
