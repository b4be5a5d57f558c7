"""Session resumption: a client offers a finished connection's session again.

Contract (issue 11).  After a handshake and a read (TLS 1.3 tickets come
after the handshake), ``client.session`` is a :class:`tlsapi.TLSSession`;
offered through ``wrap_buffers(name, session=...)`` on the same
ClientContext and to the same server name, the next handshake with the same
ServerContext resumes it (``session_reused`` True on both ends) and
``getpeercert()`` still gives the server's chain.  Another context or
another name is a ValueError before anything is sent; another ServerContext
(its own cache and ticket keys) makes a full handshake.  A server has no
``session``.  A backend without ``Capability.SESSION_RESUMPTION`` never
gives a session and refuses one offered to it with ConfigurationError.
"""

from __future__ import annotations

import pickle
import socket
import threading

import pytest

from ..._backend import Capability
from ..._buffer import TLSWrappedBuffer
from ..._context import ClientContext, ServerContext
from ..._errors import ConfigurationError
from ..._session import TLSSession
from ..._socket import TLSWrappedSocket
from ..._versions import TLSVersion
from ..pki import PKI
from ..pump import handshake
from ._support import (
    Peers,
    client_identity,
    exchange,
    only_version,
    require_version,
    session_of,
    skip_client_chain_under_wine,
    skip_if_lacks,
)
from .sockets import Background, TCPPairs, recv_exactly

__all__ = ["TestSessionResumption", "require_resumption"]

VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]


def _forged_offer(context: ClientContext) -> TLSWrappedBuffer:
    """Offer a session the backend never made (what a backend without resumption gets)."""
    return context.wrap_buffers(
        "localhost", session=TLSSession(context._session_owner, "localhost", b"")
    )


def require_resumption(peers: Peers) -> None:
    """Skip unless both backends resume; a client backend without it must refuse an offer."""
    client_backend = peers.client_backend
    skip_if_lacks(
        client_backend,
        Capability.SESSION_RESUMPTION,
        lambda: _forged_offer(client_backend.client_context(peers.client_config())),
    )
    if Capability.SESSION_RESUMPTION not in peers.server_backend.capabilities:
        pytest.skip(f"backend {peers.server_backend.name!r} (the server) lacks session resumption")


def _contexts(peers: Peers, version: TLSVersion) -> tuple[ClientContext, ServerContext]:
    return (
        peers.client_context(peers.client_config(**only_version(version))),
        peers.server_context(peers.server_config(**only_version(version))),
    )


def _resume(
    client_context: ClientContext, server_context: ServerContext, session: TLSSession | None
) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    handshake(client, server)
    return client, server


def _serve_upper(server: TLSWrappedSocket) -> bool:
    server.sendall(recv_exactly(server, 5).upper())
    return server.session_reused


class TestSessionResumption:
    def test_nothing_before_the_handshake(self, peers: Peers) -> None:
        client, server = peers.pair()
        assert client.session is None
        assert server.session is None
        assert client.session_reused is False
        assert server.session_reused is False

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_resumed(self, peers: Peers, pki: PKI, version: TLSVersion) -> None:
        require_resumption(peers)
        require_version(peers, version)
        client_context, server_context = _contexts(peers, version)
        first, first_server = _resume(client_context, server_context, None)
        assert first.session_reused is False
        assert first_server.session_reused is False
        session = session_of(first, first_server)
        assert session.server_hostname == "localhost"
        assert repr(session) == "<TLSSession for 'localhost'>"

        client, server = _resume(client_context, server_context, session)
        assert client.session_reused is True, f"{version.name}: the session was not resumed"
        assert server.session_reused is True, "the client resumed but the server says it did not"
        assert client.negotiated_tls_version is version
        assert server.negotiated_tls_version is version
        assert client.getpeercert() == first.getpeercert()
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
        exchange(client, server, b"resumed " + version.name.encode())

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_a_resumed_connection_gives_a_session_again(
        self, peers: Peers, version: TLSVersion
    ) -> None:
        """A connection pool resumes from its latest connection, resumed or not."""
        require_resumption(peers)
        require_version(peers, version)
        client_context, server_context = _contexts(peers, version)
        session = session_of(*_resume(client_context, server_context, None))
        for round_ in range(2):
            client, server = _resume(client_context, server_context, session)
            assert client.session_reused and server.session_reused, f"round {round_}"
            session = session_of(client, server)

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_one_session_offered_twice(self, peers: Peers, version: TLSVersion) -> None:
        """A pool may offer one session on two connections: the first resumes, and the
        second either resumes or makes a full handshake (a single-use ticket), never fails."""
        require_resumption(peers)
        require_version(peers, version)
        client_context, server_context = _contexts(peers, version)
        session = session_of(*_resume(client_context, server_context, None))
        client, server = _resume(client_context, server_context, session)
        assert client.session_reused and server.session_reused
        again, again_server = _resume(client_context, server_context, session)
        assert again.session_reused == again_server.session_reused
        exchange(again, again_server)

    def test_one_session_from_many_threads(self, peers: Peers) -> None:
        """Connections in several threads offer one session at once: the backend's state
        is shared, never changed in place; each handshake ends the same on both ends."""
        require_resumption(peers)
        version = (
            TLSVersion.TLSv1_3
            if Capability.TLSv1_3
            in peers.client_backend.capabilities & peers.server_backend.capabilities
            else TLSVersion.TLSv1_2
        )
        client_context, server_context = _contexts(peers, version)
        session = session_of(*_resume(client_context, server_context, None))
        results: list[tuple[bool, bool]] = []
        errors: list[BaseException] = []

        def connect() -> None:
            try:
                for _ in range(5):
                    client, server = _resume(client_context, server_context, session)
                    exchange(client, server)
                    results.append((client.session_reused, server.session_reused))
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=connect) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "a thread hangs"
        if errors:
            raise errors[0]
        assert len(results) == 30
        assert all(client == server for client, server in results), results
        assert any(client for client, _ in results), "no connection resumed"

    def test_tls13_session_arrives_with_a_read(self, peers: Peers) -> None:
        require_resumption(peers)
        require_version(peers, TLSVersion.TLSv1_3)
        client_context, server_context = _contexts(peers, TLSVersion.TLSv1_3)
        client, server = _resume(client_context, server_context, None)
        early = client.session  # may be None: the tickets are not read yet
        exchange(client, server)
        late = client.session
        assert isinstance(late, TLSSession), "no session after the server's tickets were read"
        for session in (early, late):
            if session is not None:
                again, again_server = _resume(client_context, server_context, session)
                assert again.session_reused and again_server.session_reused

    def test_session_from_another_context_is_refused(self, peers: Peers) -> None:
        require_resumption(peers)
        client_context, server_context = _contexts(peers, TLSVersion.TLSv1_2)
        session = session_of(*_resume(client_context, server_context, None))
        twin = peers.client_context(client_context.configuration)
        with pytest.raises(ValueError, match="another ClientContext"):
            twin.wrap_buffers("localhost", session=session)
        with pytest.raises(ValueError, match="another ClientContext"):
            twin.wrap_socket(socket.socket(), "localhost", session=session)

    def test_session_for_another_name_is_refused(self, peers: Peers) -> None:
        require_resumption(peers)
        client_context, server_context = _contexts(peers, TLSVersion.TLSv1_2)
        session = session_of(*_resume(client_context, server_context, None))
        for name in ("127.0.0.1", "LOCALHOST.example", "other.test"):
            with pytest.raises(ValueError, match="server name"):
                client_context.wrap_buffers(name, session=session)

    def test_session_that_is_not_a_session(self, peers: Peers) -> None:
        context = peers.client_context()
        for wrong in (b"session", object(), 1):
            with pytest.raises(TypeError, match="TLSSession"):
                context.wrap_buffers("localhost", session=wrong)  # type: ignore[arg-type]

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_another_server_context_makes_a_full_handshake(
        self, peers: Peers, pki: PKI, version: TLSVersion
    ) -> None:
        """Same certificate, another ServerContext: its own cache and ticket keys."""
        require_resumption(peers)
        require_version(peers, version)
        client_context, server_context = _contexts(peers, version)
        session = session_of(*_resume(client_context, server_context, None))
        other_server = peers.server_context(server_context.configuration)
        client, server = _resume(client_context, other_server, session)
        assert client.session_reused is False
        assert server.session_reused is False
        assert client.getpeercert()[0] == pki.server_identity.cert_der  # type: ignore[index]
        exchange(client, server)
        # The refused session did not spoil the first server's cache.
        client, server = _resume(client_context, server_context, session)
        assert client.session_reused and server.session_reused

    def test_a_server_has_no_session(self, peers: Peers) -> None:
        client, server = peers.connect()
        exchange(client, server)
        assert server.session is None

    def test_no_session_offered_no_resumption(self, peers: Peers) -> None:
        client_context, server_context = _contexts(peers, TLSVersion.TLSv1_2)
        for _ in range(2):
            client, server = _resume(client_context, server_context, None)
            exchange(client, server)
            assert client.session_reused is False
            assert server.session_reused is False

    def test_a_session_stays_in_its_process(self, peers: Peers) -> None:
        require_resumption(peers)
        client_context, server_context = _contexts(peers, TLSVersion.TLSv1_2)
        session = session_of(*_resume(client_context, server_context, None))
        with pytest.raises(TypeError, match="session secrets"):
            pickle.dumps(session)

    def test_resumed_server_still_knows_the_client(self, peers: Peers, pki: PKI) -> None:
        require_resumption(peers)
        skip_if_lacks(peers.client_backend, Capability.CLIENT_CERTIFICATES)
        skip_if_lacks(peers.server_backend, Capability.CLIENT_CERTIFICATES)
        identity = client_identity(pki)
        skip_client_chain_under_wine(identity)
        client_context = peers.client_context(
            peers.client_config(certificate_chain=identity.certificate_chain())
        )
        server_context = peers.server_context(peers.server_config(trust_store=pki.trust_store()))
        session = session_of(*_resume(client_context, server_context, None))
        client, server = _resume(client_context, server_context, session)
        assert client.session_reused and server.session_reused
        assert server.getpeercert()[0] == identity.cert_der  # type: ignore[index]

    def test_without_the_capability_nothing_is_given_or_taken(self, peers: Peers) -> None:
        backend = peers.client_backend
        if Capability.SESSION_RESUMPTION in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} resumes sessions (tested above)")
        context = peers.client_context()
        client = context.wrap_buffers("localhost")
        handshake(client, peers.server_context().wrap_buffers())
        with pytest.raises(ConfigurationError, match="cannot resume"):
            _forged_offer(context)
        assert client.session is None

    def test_wrap_socket_resumes(self, peers: Peers, loopback_tcp: TCPPairs) -> None:
        require_resumption(peers)
        client_context, server_context = peers.client_context(), peers.server_context()
        session: TLSSession | None = None
        for attempt in range(2):
            raw_client, raw_server = loopback_tcp()
            client = client_context.wrap_socket(raw_client, "localhost", session=session)
            server = server_context.wrap_socket(raw_server)

            job = Background(_serve_upper, server)
            client.sendall(b"hello")
            assert recv_exactly(client, 5) == b"HELLO"
            assert job.result() is (attempt == 1)
            assert client.session_reused is (attempt == 1)
            session = client.session
            assert isinstance(session, TLSSession)
            client.close()
            server.close()
