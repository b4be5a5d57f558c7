"""Session resumption on the stdlib backend: OpenSSL's tickets and session IDs through ``ssl``.

The client's state is the ``ssl.SSLSession`` of a finished connection; the
server issues tickets with keys of its own ssl.SSLContext, which it replaces
every SESSION_KEYS_LIFETIME seconds (``ssl`` cannot rotate keys in place).
Real peers: the backend against itself in memory, and ``openssl s_server``.
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi._stdlib import _context as stdlib_context
from tlsapi.testing import PKI, handshake
from tlsapi.testing.peers import OPENSSL_SERVER, PeerFiles, run_server
from tlsapi.testing.pump import pump, read_available, transfer

VERSIONS = [tlsapi.TLSVersion.TLSv1_2, tlsapi.TLSVersion.TLSv1_3]
IDS = ["tls12", "tls13"]


@pytest.fixture
def stdlib() -> tlsapi.Backend:
    return tlsapi.backend("stdlib")


def _connect(
    client_context: tlsapi.ClientContext,
    server_context: tlsapi.ServerContext,
    session: tlsapi.TLSSession | None = None,
) -> tuple[tlsapi.TLSWrappedBuffer, tlsapi.TLSWrappedBuffer]:
    """A handshake, then a byte each way, so that TLS 1.3 tickets have been read."""
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert transfer(server, client, b"s") == b"s"
    assert transfer(client, server, b"c") == b"c"
    return client, server


def test_the_capability_is_claimed(stdlib: tlsapi.Backend) -> None:
    assert tlsapi.Capability.SESSION_RESUMPTION in stdlib.capabilities
    assert str(int(stdlib_context.SESSION_KEYS_LIFETIME)) in stdlib.details["session_resumption"]


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_a_session_is_resumed_on_both_sides(
    stdlib: tlsapi.Backend, pki: PKI, version: tlsapi.TLSVersion
) -> None:
    client_context = stdlib.client_context(pki.client_config(highest_supported_version=version))
    server_context = stdlib.server_context(pki.server_config())
    first, first_server = _connect(client_context, server_context)
    assert not first.session_reused and not first_server.session_reused
    session = first.session
    assert session is not None and session.server_hostname == "localhost"

    second, second_server = _connect(client_context, server_context, session)
    assert second.session_reused and second_server.session_reused
    assert second.negotiated_tls_version == version
    # The resumed connection still knows the server's certificate.
    assert second.getpeercert() == first.getpeercert()
    assert second.getpeercert() is not None
    # A resumed connection gives a session again (TLS 1.3: a new ticket).
    assert second.session is not None


def test_tls13_tickets_arrive_after_the_handshake(stdlib: tlsapi.Backend, pki: PKI) -> None:
    client_context = stdlib.client_context(
        pki.client_config(lowest_supported_version=tlsapi.TLSVersion.TLSv1_3)
    )
    server_context = stdlib.server_context(pki.server_config())
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    # The tickets went out with the server's last flight but nothing read them.
    assert client.session is None
    # A read that finds no application data still processes them.
    pump(server, client)
    assert read_available(client) == b""
    assert client.session is not None


def test_without_a_session_nothing_is_resumed(stdlib: tlsapi.Backend, pki: PKI) -> None:
    client_context = stdlib.client_context(pki.client_config())
    server_context = stdlib.server_context(pki.server_config())
    first, _ = _connect(client_context, server_context)
    assert first.session is not None
    # The same context and name, but no session= : a full handshake.
    second, second_server = _connect(client_context, server_context)
    assert not second.session_reused and not second_server.session_reused


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_another_server_context_makes_a_full_handshake(
    stdlib: tlsapi.Backend, pki: PKI, version: tlsapi.TLSVersion
) -> None:
    # Same configuration, another context: its own ticket keys and cache.
    client_context = stdlib.client_context(pki.client_config(highest_supported_version=version))
    first, _ = _connect(client_context, stdlib.server_context(pki.server_config()))
    session = first.session
    assert session is not None
    second, second_server = _connect(
        client_context, stdlib.server_context(pki.server_config()), session
    )
    assert not second.session_reused and not second_server.session_reused
    assert second.getpeercert() == first.getpeercert()


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_rotated_keys_refuse_earlier_sessions(
    stdlib: tlsapi.Backend, pki: PKI, version: tlsapi.TLSVersion
) -> None:
    client_context = stdlib.client_context(pki.client_config(highest_supported_version=version))
    server_context = stdlib.server_context(pki.server_config())
    first, _ = _connect(client_context, server_context)
    old_session = first.session
    assert old_session is not None
    server_context._rotate_session_keys()  # type: ignore[attr-defined]
    second, second_server = _connect(client_context, server_context, old_session)
    assert not second.session_reused and not second_server.session_reused
    # What the new keys issue resumes.
    new_session = second.session
    assert new_session is not None
    third, third_server = _connect(client_context, server_context, new_session)
    assert third.session_reused and third_server.session_reused


def test_keys_rotate_by_themselves(
    stdlib: tlsapi.Backend, pki: PKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_context = stdlib.client_context(pki.client_config())
    server_context = stdlib.server_context(pki.server_config())
    first, _ = _connect(client_context, server_context)
    session = first.session
    assert session is not None
    # Every key older than 0 s is stale: the next connection gets new keys.
    monkeypatch.setattr(stdlib_context, "SESSION_KEYS_LIFETIME", 0.0)
    second, _ = _connect(client_context, server_context, session)
    assert not second.session_reused
    monkeypatch.setattr(stdlib_context, "SESSION_KEYS_LIFETIME", 3600.0)
    third, _ = _connect(client_context, server_context, second.session)
    assert third.session_reused


def test_a_session_goes_only_to_its_context_and_name(stdlib: tlsapi.Backend, pki: PKI) -> None:
    client_context = stdlib.client_context(pki.client_config())
    first, _ = _connect(client_context, stdlib.server_context(pki.server_config()))
    session = first.session
    assert session is not None
    with pytest.raises(ValueError, match="another ClientContext"):
        stdlib.client_context(pki.client_config()).wrap_buffers("localhost", session=session)
    with pytest.raises(ValueError, match=r"not '127\.0\.0\.1'"):
        client_context.wrap_buffers("127.0.0.1", session=session)


def test_a_client_certificate_is_known_after_resumption(stdlib: tlsapi.Backend, pki: PKI) -> None:
    identity = pki.client_identity
    client_context = stdlib.client_context(
        pki.client_config(certificate_chain=identity.certificate_chain())
    )
    server_context = stdlib.server_context(pki.server_config(trust_store=pki.trust_store()))
    first, first_server = _connect(client_context, server_context)
    session = first.session
    assert session is not None
    _, second_server = _connect(client_context, server_context, session)
    assert second_server.session_reused
    peer = second_server.getpeercert()
    assert peer is not None and peer[0] == identity.cert_der
    assert peer == first_server.getpeercert()


def test_resumption_through_an_sni_callback_configuration(stdlib: tlsapi.Backend, pki: PKI) -> None:
    # The connection switches to the returned configuration's SSLContext;
    # OpenSSL keeps tickets and the session cache with the first one.
    other_leaf = pki.issue(common_name="switched leaf")
    switched = pki.server_config(other_leaf)
    server_context = stdlib.server_context(
        pki.server_config(sni_callback=lambda buffer, name, config: switched)
    )
    client_context = stdlib.client_context(pki.client_config())
    first, _ = _connect(client_context, server_context)
    peer = first.getpeercert()
    assert peer is not None and peer[0] == other_leaf.cert_der
    session = first.session
    assert session is not None
    second, second_server = _connect(client_context, server_context, session)
    assert second.session_reused and second_server.session_reused
    assert second.getpeercert() == peer


# -- against openssl s_server ---------------------------------------------------


def require_program(name: str) -> None:
    """On Linux the peer programs are part of the test set-up (.ci/packages.txt): missing
    is a failure; elsewhere (the Windows job) they are Linux tools: skip."""
    if shutil.which(name) is not None:
        return
    if sys.platform.startswith("linux"):
        pytest.fail(f"{name} is not installed (.ci/packages.txt names its Debian package)")
    pytest.skip(f"{name} is a Linux test tool here")


@pytest.fixture
def files(tmp_path: Path, pki: PKI) -> Iterator[PeerFiles]:
    require_program("openssl")
    yield PeerFiles.from_pki(tmp_path / "server", pki, pki.server_identity)


def _over_socket(
    client_context: tlsapi.ClientContext,
    address: tuple[str, int],
    session: tlsapi.TLSSession | None,
) -> tuple[bool, tlsapi.TLSSession | None]:
    sock = socket.create_connection(address, timeout=10)
    with client_context.wrap_socket(sock, "localhost", session=session) as tls:
        tls.do_handshake()
        tls.sendall(b"ping\n")  # s_server -rev answers each line reversed
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = tls.recv(100)
            assert chunk, "s_server closed before answering"
            reply += chunk
        assert reply.strip() == b"gnip"
        result = tls.session_reused, tls.session
        # close_notify: OpenSSL drops a session from its cache when the
        # connection ends without one.
        tls.shutdown(socket.SHUT_RDWR)
        return result


@pytest.mark.parametrize(
    ("version", "extra"),
    [
        (tlsapi.TLSVersion.TLSv1_2, ["-no_ticket"]),  # session IDs and the server's cache
        (tlsapi.TLSVersion.TLSv1_2, []),  # tickets
        (tlsapi.TLSVersion.TLSv1_3, []),
    ],
    ids=["tls12-session-id", "tls12-ticket", "tls13"],
)
def test_resumes_with_openssl_s_server(
    stdlib: tlsapi.Backend,
    pki: PKI,
    files: PeerFiles,
    version: tlsapi.TLSVersion,
    extra: list[str],
) -> None:
    client_context = stdlib.client_context(pki.client_config(highest_supported_version=version))
    with run_server(OPENSSL_SERVER, files, highest_version=version, extra_args=extra) as server:
        reused, session = _over_socket(client_context, server.address, None)
        assert not reused and session is not None
        reused, _ = _over_socket(client_context, server.address, session)
        assert reused
