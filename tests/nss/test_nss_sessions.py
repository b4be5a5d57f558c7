"""Session resumption on the NSS backend, with real peers where it matters.

What the conformance kit cannot see: that another program's client resumes
our server's tickets (openssl s_client -sess_out/-sess_in, gnutls-cli
--resume), that our client resumes openssl s_server's sessions, that a
server configuration resumes only what it issued (NSS's ticket key is one
per process: TLS 1.2 falls back to a full handshake, TLS 1.3 is refused),
that our sessions stay out of NSS's process-wide client cache, and the
limits NSS sets (no token for a session with a client certificate).
"""

from __future__ import annotations

import contextlib
import gc
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from _nss_peers import Server, openssl_client, openssl_server, program, run_client, write_files

import tlsapi
from tlsapi import TLSError, TLSVersion
from tlsapi.testing import PKI, handshake

VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]
_OPENSSL_VERSION = {TLSVersion.TLSv1_2: "-tls1_2", TLSVersion.TLSv1_3: "-tls1_3"}


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss sessions")


def _only(version: TLSVersion) -> dict[str, Any]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


def _s_client(port: int, ca: Path, version: TLSVersion, *extra: str) -> str:
    return openssl_client(port, ca, _OPENSSL_VERSION[version], *extra)


def _openssl_said(output: str) -> str:
    """ "New" or "Reused", from s_client's summary line."""
    found = re.search(r"^(New|Reused), ", output, re.MULTILINE)
    assert found, output
    return found.group(1)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_openssl_client_resumes_our_server(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path, version: TLSVersion
) -> None:
    ca = write_files(pki, tmp_path)
    session = tmp_path / "session.pem"
    context = nss.server_context(pki.server_config(**_only(version)))
    with Server(context, count=2) as server:
        first = _s_client(server.port, ca, version, "-sess_out", str(session))
        assert "HELLO" in first, first
        assert session.stat().st_size > 0, first
        second = _s_client(server.port, ca, version, "-sess_in", str(session))
        assert "HELLO" in second, second
    assert _openssl_said(first) == "New"
    assert _openssl_said(second) == "Reused", second
    assert [seen.reused for seen in server.seen] == [False, True]
    assert [seen.version for seen in server.seen] == [version.name] * 2


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_another_server_context_does_not_resume_our_ticket(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path, version: TLSVersion
) -> None:
    """NSS would: its ticket key is one per process.  The TicketBook says no, and the
    client gets a full handshake (TLS 1.2: tickets off; TLS 1.3: a suite whose hash
    differs from the ticket's, under which NSS cannot resume it)."""
    ca = write_files(pki, tmp_path)
    session = tmp_path / "session.pem"
    config = pki.server_config(**_only(version))
    with Server(nss.server_context(config)) as server:
        first = _s_client(server.port, ca, version, "-sess_out", str(session))
        assert "HELLO" in first
    with Server(nss.server_context(config)) as other:
        output = _s_client(other.port, ca, version, "-sess_in", str(session))
    (seen,) = other.seen
    assert seen.error is None, seen.error
    assert _openssl_said(output) == "New", output
    assert "HELLO" in output
    assert seen.reused is False
    if version is TLSVersion.TLSv1_3:
        suites = re.findall(r"Cipher is (\S+)", first + output)
        assert suites[0] != suites[-1], suites  # the fallback took the other hash


def test_a_foreign_tls13_ticket_without_another_suite_is_refused(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    """A client that offers only suites of the ticket's hash: NSS could only resume it,
    so the handshake is refused (handshake_failure), with a reason."""
    ca = write_files(pki, tmp_path)
    session = tmp_path / "session.pem"
    config = pki.server_config(**_only(TLSVersion.TLSv1_3))
    only256 = ("-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256")
    with Server(nss.server_context(config)) as server:
        first = _s_client(server.port, ca, TLSVersion.TLSv1_3, *only256, "-sess_out", str(session))
        assert "HELLO" in first
    with Server(nss.server_context(config)) as other:
        output = _s_client(other.port, ca, TLSVersion.TLSv1_3, *only256, "-sess_in", str(session))
    (seen,) = other.seen
    assert isinstance(seen.error, TLSError)
    assert "did not issue" in str(seen.error)
    assert "HELLO" not in output
    assert re.search(r"handshake failure", output, re.IGNORECASE), output


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_gnutls_client_resumes_our_server(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path, version: TLSVersion
) -> None:
    ca = write_files(pki, tmp_path)
    priority = {
        TLSVersion.TLSv1_2: "NORMAL:-VERS-ALL:+VERS-TLS1.2",
        TLSVersion.TLSv1_3: "NORMAL:-VERS-ALL:+VERS-TLS1.3",
    }[version]
    context = nss.server_context(pki.server_config(**_only(version)))
    with Server(context, count=2) as server:
        output = run_client(
            [
                program("gnutls-cli", "gnutls-bin"),
                "--resume",
                "--port",
                str(server.port),
                "--x509cafile",
                str(ca),
                "--priority",
                priority,
                "--sni-hostname",
                "localhost",
                "--verify-hostname",
                "localhost",
                "127.0.0.1",
            ],
            stdin=b"",
        )
    assert "This is a resumed session" in output, output
    assert [seen.reused for seen in server.seen] == [False, True], output


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_our_client_resumes_openssl_server(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path, version: TLSVersion
) -> None:
    ca = write_files(pki, tmp_path)
    files = pki.server_identity.write(tmp_path)
    context = nss.client_context(pki.client_config(**_only(version)))
    arguments = ["-cert", str(files.cert), "-key", str(files.key), "-rev"]
    arguments += ["-cert_chain", str(files.chain), "-CAfile", str(ca)]
    with openssl_server(arguments) as port:
        first = _exchange(context, port, None)
        assert first.session_reused is False
        chain = first.getpeercert()
        assert chain is not None
        assert chain[0] == pki.server_identity.cert_der
        session = first.session
        assert session is not None
        _finish(first)
        second = _exchange(context, port, session)
        assert second.session_reused is True
        # A resumed handshake carries no certificate: the first one's chain is kept.
        assert second.getpeercert() == chain
        assert second.signature_scheme() is None  # nothing was signed
        _finish(second)


def _finish(tls: tlsapi.TLSWrappedSocket) -> None:
    """close_notify, then close: OpenSSL forgets a session whose connection just drops."""
    with contextlib.suppress(TLSError, OSError):
        tls.shutdown(socket.SHUT_WR)
    tls.close()


def _exchange(
    context: tlsapi.ClientContext, port: int, session: tlsapi.TLSSession | None
) -> tlsapi.TLSWrappedSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    tls = context.wrap_socket(raw, "localhost", session=session)
    tls.do_handshake()
    tls.sendall(b"abc\n")
    answer = b""
    while not answer.endswith(b"\n"):
        answer += tls.recv(100)  # TLS 1.3 tickets come in with this read
    assert answer == b"cba\n"
    return tls


def test_client_sessions_stay_out_of_nss_client_cache(nss: tlsapi.Backend, pki: PKI) -> None:
    """Without an offer nothing is resumed, though NSS's cache is on for clients."""
    client_context = nss.client_context(pki.client_config())
    server_context = nss.server_context(pki.server_config(**_only(TLSVersion.TLSv1_2)))
    for _ in range(3):
        client = client_context.wrap_buffers("localhost")
        server = server_context.wrap_buffers()
        handshake(client, server)
        assert client.session is not None
        assert not client.session_reused
        assert not server.session_reused


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_a_client_certificate_session_resumes_from_nss_cache(
    nss: tlsapi.Backend, pki: PKI, version: TLSVersion
) -> None:
    """NSS exports no token for a session with client authentication: its cache holds it,
    under this connection's own peer ID."""
    identity = pki.client_identity
    client_context = nss.client_context(
        pki.client_config(certificate_chain=identity.certificate_chain(), **_only(version))
    )
    server_context = nss.server_context(
        pki.server_config(trust_store=pki.trust_store(), **_only(version))
    )
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert client.certificate_requested() is True
    server.write(b"x")
    client.receive_from_network(server.peek_outgoing(server.outgoing_bytes_buffered()))
    assert client.read(1) == b"x"  # a TLS 1.3 ticket comes before
    session = client.session
    assert session is not None
    assert client._resumption_token is None  # type: ignore[attr-defined]  # not a token: NSS's cache
    # Without the session, NSS's cache offers nothing (another peer ID).
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert not client.session_reused
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert client.session_reused and server.session_reused
    assert server.getpeercert()[0] == identity.cert_der  # type: ignore[index]
    assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]


def test_our_client_resumes_session_ids_of_openssl_server(
    nss: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    """A TLS 1.2 session ID (no ticket): NSS's cache, only when offered."""
    ca = write_files(pki, tmp_path)
    files = pki.server_identity.write(tmp_path)
    context = nss.client_context(pki.client_config(**_only(TLSVersion.TLSv1_2)))
    arguments = ["-cert", str(files.cert), "-key", str(files.key), "-rev", "-no_ticket"]
    arguments += ["-cert_chain", str(files.chain), "-CAfile", str(ca)]
    with openssl_server(arguments) as port:
        first = _exchange(context, port, None)
        session = first.session
        assert session is not None
        _finish(first)
        unoffered = _exchange(context, port, None)
        assert unoffered.session_reused is False
        _finish(unoffered)
        offered = _exchange(context, port, session)
        assert offered.session_reused is True
        _finish(offered)


def test_a_foreign_tls12_ticket_gets_a_full_handshake_and_spoils_nothing(
    nss: tlsapi.Backend, pki: PKI
) -> None:
    only12 = _only(TLSVersion.TLSv1_2)
    client_context = nss.client_context(pki.client_config(**only12))
    first = nss.server_context(pki.server_config(**only12))
    second = nss.server_context(pki.server_config(**only12))
    client = client_context.wrap_buffers("localhost")
    server = first.wrap_buffers()
    handshake(client, server)
    session = client.session
    for context, resumed in ((second, False), (first, True), (second, False)):
        client = client_context.wrap_buffers("localhost", session=session)
        server = context.wrap_buffers()
        handshake(client, server)
        assert (client.session_reused, server.session_reused) == (resumed, resumed)


@pytest.mark.parametrize("version", VERSIONS, ids=str)
def test_an_expired_ticket_gets_a_full_handshake(
    nss: tlsapi.Backend, pki: PKI, version: TLSVersion
) -> None:
    """The TicketBook's lifetime (NSS's 2 days) is what 'rotated' means here."""
    client_context = nss.client_context(pki.client_config(**_only(version)))
    server_context = nss.server_context(pki.server_config(**_only(version)))
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    server.write(b"x")
    client.receive_from_network(server.peek_outgoing(server.outgoing_bytes_buffered()))
    assert client.read(1) == b"x"  # a TLS 1.3 ticket comes before
    session = client.session
    assert session is not None
    server_context._profile.tickets.lifetime = -1  # type: ignore[attr-defined]
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert not client.session_reused
    assert not server.session_reused


@pytest.mark.parametrize("taken", [False, True])
def test_an_untaken_cached_session_leaves_nss_cache_with_its_connection(
    nss: tlsapi.Backend, pki: PKI, taken: bool
) -> None:
    """NSS's cache holds a client-certificate session; nobody took it: it goes."""
    from tlsapi_nss._buffer import NSSSession

    client_context = nss.client_context(
        pki.client_config(certificate_chain=pki.client_identity.certificate_chain())
    )
    server_context = nss.server_context(pki.server_config(trust_store=pki.trust_store()))
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    server.write(b"x")
    client.receive_from_network(server.peek_outgoing(server.outgoing_bytes_buffered()))
    assert client.read(1) == b"x"
    peer_id = client._peer_id  # type: ignore[attr-defined]
    if taken:
        assert client.session is not None
    del client, server
    gc.collect()
    # The same peer ID as a session would carry it.
    forged = tlsapi.TLSSession(
        client_context._session_owner, "localhost", NSSSession(None, peer_id, [], [])
    )
    client = client_context.wrap_buffers("localhost", session=forged)
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert client.session_reused is taken


def test_a_tls13_ticket_without_our_token_is_refused(
    nss: tlsapi.Backend, pki: PKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ticket NSS issued on its own (as for another NSS user in the process): NSS would
    resume it; the server refuses once the handshake ends, with close_notify."""
    from tlsapi_nss._buffer import NSSBuffer

    only13 = _only(TLSVersion.TLSv1_3)
    client_context = nss.client_context(pki.client_config(**only13))
    server_context = nss.server_context(pki.server_config(**only13))
    with monkeypatch.context() as patch:
        # NSS's automatic TLS 1.3 ticket (no token), and none of ours.
        patch.setattr(NSSBuffer, "_tls12_tickets", lambda self, profile: True)
        patch.setattr(NSSBuffer, "_after_server_handshake", lambda self: None)
        client = client_context.wrap_buffers("localhost")
        server = server_context.wrap_buffers()
        handshake(client, server)
        with pytest.raises(tlsapi.WantReadError):
            client.read(1)  # the ticket
        session = client.session
        assert session is not None
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    with pytest.raises(TLSError, match="did not issue"):
        handshake(client, server)
    assert server._resumed  # type: ignore[attr-defined]  # NSS resumed it: the refusal is ours
