"""Session resumption on GnuTLS, with real peers on both sides (beyond the conformance kit).

Our client resumes with ``gnutls-serv`` (tickets, and its session cache
with ``--noticket``); ``gnutls-cli --resume``
and ``openssl s_client -sess_out/-sess_in`` resume with our server, whose
ticket key and session cache belong to one context only.  GnuTLS's ticket key
rotation is seen by moving GnuTLS's clock (gnutls_global_set_time_function):
the key name at the head of each TLS 1.2 ticket (sent in the clear) changes
with the period, a ticket of the previous period is still taken, an older
one is not.  The session cache is bounded, entries expire, a callback that
fails costs only the resumption, and a session that ended in a fatal error
is forgotten.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import cffi
import pytest
from gnutls_loopback import LoopbackServer, run, talk
from tlsapi_gnutls._binding import library_path
from tlsapi_gnutls._context import GnuTLSServerContext
from tlsapi_gnutls._resumption import ServerSessions

import tlsapi
from tlsapi import TLSError, TLSVersion, WantReadError
from tlsapi.testing import PKI, handshake, pump
from tlsapi.testing.peers import GNUTLS_SERVER, OPENSSL_SERVER, PeerFiles, run_server

VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]
IDS = ["TLSv1.2", "TLSv1.3"]


def _only(version: TLSVersion) -> dict[str, TLSVersion]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


def _server_context(pki: PKI, gnutls: tlsapi.Backend, **overrides: Any) -> GnuTLSServerContext:
    context = gnutls.server_context(pki.server_config(**overrides))
    assert isinstance(context, GnuTLSServerContext)
    return context


# -- our client, their server --------------------------------------------------------------


@pytest.mark.peer
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_our_client_resumes_with_gnutls_serv(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path, version: TLSVersion
) -> None:
    files = PeerFiles.from_pki(tmp_path, pki, pki.server_identity)
    context = gnutls.client_context(pki.client_config(**_only(version)))
    with run_server(GNUTLS_SERVER, files, lowest_version=version, highest_version=version) as peer:
        first = talk(context, peer.port)
        session = first.session  # the echo was read: a TLS 1.3 ticket came before it
        first.close()
        assert session is not None and not first.session_reused
        assert first.signature_scheme() is not None
        second = talk(context, peer.port, session=session)
        assert second.session_reused
        assert second.negotiated_tls_version is version
        assert second.getpeercert() == pki.server_identity.chain_der
        assert second.signature_scheme() is None  # nothing was signed
        second.close()


@pytest.mark.peer
def test_our_client_resumes_a_session_id_with_gnutls_serv(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path
) -> None:
    """TLS 1.2 without tickets (--noticket): the session ID in the server's cache."""
    files = PeerFiles.from_pki(tmp_path, pki, pki.server_identity)
    version = TLSVersion.TLSv1_2
    context = gnutls.client_context(pki.client_config(**_only(version)))
    with run_server(
        GNUTLS_SERVER, files, lowest_version=version, highest_version=version,
        extra_args=["--noticket"],
    ) as peer:  # fmt: skip
        first = talk(context, peer.port)
        session = first.session
        first.close()
        assert session is not None
        second = talk(context, peer.port, session=session)
        assert second.session_reused
        second.close()


# -- their client, our server --------------------------------------------------------------


def _gnutls_cli(port: int, files: PeerFiles, version: TLSVersion, *extra: str) -> list[str]:
    vers = "+VERS-TLS1.2" if version is TLSVersion.TLSv1_2 else "+VERS-TLS1.3"
    return [
        "gnutls-cli", "-p", str(port), "127.0.0.1", "--x509cafile", str(files.ca_file),
        "--verify-hostname", "localhost", "--sni-hostname", "localhost",
        "--priority", f"NORMAL:-VERS-ALL:{vers}", *extra,
    ]  # fmt: skip


@pytest.mark.peer
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_gnutls_cli_resumes_with_our_server(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path, version: TLSVersion
) -> None:
    GNUTLS_SERVER.check_installed()
    files = PeerFiles.from_pki(tmp_path, pki)
    with LoopbackServer(_server_context(pki, gnutls, **_only(version))) as server:
        output = run(_gnutls_cli(server.port, files, version, "--resume"), stdin=b"ping\n")
    assert "*** This is a resumed session" in output, output
    assert [served.reused for served in server.served] == [False, True], output
    assert server.served[1].version is version


def _s_client(port: int, files: PeerFiles, version: TLSVersion, *extra: str) -> list[str]:
    flag = "-tls1_2" if version is TLSVersion.TLSv1_2 else "-tls1_3"
    return [
        "openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
        "-CAfile", str(files.ca_file), "-verify_return_error", "-ign_eof", flag, *extra,
    ]  # fmt: skip


def _reused(output: str) -> bool:
    """What s_client says of its session (the last "New," or "Reused," line)."""
    found = re.findall(r"^(New|Reused), ", output, re.MULTILINE)
    assert found, output
    return bool(found[-1] == "Reused")


@pytest.mark.peer
@pytest.mark.parametrize(
    ("version", "tickets"),
    [(TLSVersion.TLSv1_2, False), (TLSVersion.TLSv1_2, True), (TLSVersion.TLSv1_3, True)],
    ids=["TLSv1.2-session-id", "TLSv1.2-ticket", "TLSv1.3-ticket"],
)
def test_openssl_resumes_only_with_the_server_context_that_made_the_session(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path, version: TLSVersion, tickets: bool
) -> None:
    OPENSSL_SERVER.check_installed()
    files = PeerFiles.from_pki(tmp_path, pki)
    saved = tmp_path / "session.pem"
    extra = () if tickets else ("-no_ticket",)
    one = _server_context(pki, gnutls, **_only(version))
    other = _server_context(pki, gnutls, **_only(version))
    with LoopbackServer(one) as server, LoopbackServer(other) as elsewhere:
        output = run(_s_client(server.port, files, version, "-sess_out", str(saved), *extra),
                     stdin=b"ping\n")  # fmt: skip
        assert not _reused(output) and saved.exists(), output
        # The same session offered to another context of the same configuration: refused.
        output = run(_s_client(elsewhere.port, files, version, "-sess_in", str(saved), *extra),
                     stdin=b"ping\n")  # fmt: skip
        assert not _reused(output), output
        output = run(_s_client(server.port, files, version, "-sess_in", str(saved), *extra),
                     stdin=b"ping\n")  # fmt: skip
        assert _reused(output), output
    assert [s.reused for s in server.served] == [False, True]
    assert [s.reused for s in elsewhere.served] == [False]
    assert server.served[1].received == b"ping\n"
    # Session IDs went through the cache; a ticket needs none.
    assert len(one._sessions) == (0 if tickets else 1)
    assert len(other._sessions) == (0 if tickets else 1)


# -- the ticket key: GnuTLS rotates it itself -------------------------------------------------

_ROTATION = ServerSessions().lifetime * 3  # GnuTLS: 3 x the session lifetime (lib/stek.c)


@contextmanager
def gnutls_clock() -> Iterator[Callable[[float], None]]:
    """GnuTLS's clock (gnutls_global_set_time_function) set to what the caller says."""
    path = library_path()
    if path is None:
        pytest.fail("the loaded libgnutls has no path to open")
    ffi = cffi.FFI()
    ffi.cdef(
        "typedef long time_t;"
        "void gnutls_global_set_time_function(time_t (*)(time_t *));"
        "time_t time(time_t *);"
    )
    gnutls_lib: Any = ffi.dlopen(path)  # the library this process already uses
    libc: Any = ffi.dlopen(None)
    now = [time.time()]

    @ffi.callback("time_t(time_t *)")
    def fake_time(out: Any) -> int:
        if out != ffi.NULL:
            out[0] = int(now[0])
        return int(now[0])

    def set_to(when: float) -> None:
        now[0] = when

    gnutls_lib.gnutls_global_set_time_function(fake_time)
    try:
        yield set_to
    finally:
        gnutls_lib.gnutls_global_set_time_function(libc.time)


def _ticket_key_name(flight: bytes) -> bytes | None:
    """The key name (first 16 bytes) of the ticket in a TLS 1.2 server flight, if any.

    NewSessionTicket (type 4) comes before ChangeCipherSpec: in the clear.
    """
    position = 0
    while position + 5 <= len(flight):
        kind, length = flight[position], int.from_bytes(flight[position + 3 : position + 5], "big")
        body = flight[position + 5 : position + 5 + length]
        position += 5 + length
        if kind != 22:
            continue
        offset = 0
        while offset + 4 <= len(body):
            message, size = body[offset], int.from_bytes(body[offset + 1 : offset + 4], "big")
            if message == 4:  # lifetime hint (4), ticket length (2), ticket
                return bytes(body[offset + 10 : offset + 26])
            offset += 4 + size
    return None


def _connect_tls12(
    client_context: tlsapi.ClientContext,
    server_context: tlsapi.ServerContext,
    session: tlsapi.TLSSession | None = None,
) -> tuple[tlsapi.TLSWrappedBuffer, bytes | None]:
    """A TLS 1.2 handshake in memory; the ticket key name the server's flights carried."""
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    name = None
    for _ in range(10):
        moved = False
        for sender, receiver in ((client, server), (server, client)):
            with suppress(WantReadError):
                sender.do_handshake()
            data = sender.peek_outgoing(sender.outgoing_bytes_buffered())
            sender.consume_outgoing(len(data))
            if data:
                moved = True
                receiver.receive_from_network(data)
                if sender is server and name is None:
                    name = _ticket_key_name(data)
        if not moved:
            break
    client.do_handshake()  # both done: these return at once
    server.do_handshake()
    assert client.session_reused == server.session_reused
    return client, name


def test_ticket_key_rotates_with_gnutls_clock(pki: PKI, gnutls: tlsapi.Backend) -> None:
    tls12 = _only(TLSVersion.TLSv1_2)
    client_context = gnutls.client_context(pki.client_config(**tls12))
    server_context = gnutls.server_context(pki.server_config(**tls12))
    other_context = gnutls.server_context(pki.server_config(**tls12))
    # The start of a rotation period that lies ahead (the leaf is valid for a year).
    period = (int(time.time() // _ROTATION) + 1) * _ROTATION
    with gnutls_clock() as set_clock:
        set_clock(period + 60)
        first, name = _connect_tls12(client_context, server_context)
        second, again = _connect_tls12(client_context, server_context)
        _, foreign = _connect_tls12(client_context, other_context)
        assert name is not None and again == name  # one key per period and context
        assert foreign is not None and foreign != name  # each context its own key
        # Late in the period a session is made; 20 minutes later the key has
        # rotated, and the ticket (under the previous key, within its 6 h) is taken.
        set_clock(period + _ROTATION - 600)
        late, _ = _connect_tls12(client_context, server_context)
        set_clock(period + _ROTATION + 600)
        resumed, rotated = _connect_tls12(client_context, server_context, late.session)
        assert resumed.session_reused
        fresh, rotated = _connect_tls12(client_context, server_context)
        assert rotated is not None and rotated != name
        # Two periods on, the first key is gone (and its session long expired): full handshake.
        set_clock(period + 2 * _ROTATION + 60)
        refused, newer = _connect_tls12(client_context, server_context, fresh.session)
        assert not refused.session_reused
        assert refused.getpeercert() == pki.server_identity.chain_der
        assert newer not in (None, name, rotated)
        assert first.session is not None and second.session is not None


# -- the TLS 1.2 session cache, with Python's ssl as a client that takes no tickets ----------


def _ssl_client(pki: PKI) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=pki.root_pem.decode())
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_TICKET  # resumption by session ID only
    return context


def _ssl_connect(
    context: ssl.SSLContext, server: tlsapi.TLSWrappedBuffer, session: ssl.SSLSession | None = None
) -> ssl.SSLObject:
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="localhost", session=session)
    for _ in range(20):
        done = True
        try:
            client.do_handshake()
        except ssl.SSLWantReadError:
            done = False
        if data := outgoing.read():
            server.receive_from_network(data)
        try:
            server.do_handshake()
        except WantReadError:
            done = False
        if answer := server.peek_outgoing(server.outgoing_bytes_buffered()):
            server.consume_outgoing(len(answer))
            incoming.write(answer)
        if done and not data and not answer:
            return client
    pytest.fail("the handshake with ssl did not finish")


def test_session_ids_go_through_the_context_cache(pki: PKI, gnutls: tlsapi.Backend) -> None:
    context = _server_context(pki, gnutls)
    client_context = _ssl_client(pki)
    first = _ssl_connect(client_context, context.wrap_buffers())
    assert len(context._sessions) == 1 and not first.session_reused
    server = context.wrap_buffers()
    second = _ssl_connect(client_context, server, first.session)
    assert second.session_reused and server.session_reused
    assert server.signature_scheme() is None


def test_the_cache_is_bounded_and_forgets_the_oldest(pki: PKI, gnutls: tlsapi.Backend) -> None:
    context = _server_context(pki, gnutls)
    context._sessions = ServerSessions(capacity=2)
    client_context = _ssl_client(pki)
    sessions = [_ssl_connect(client_context, context.wrap_buffers()).session for _ in range(3)]
    assert len(context._sessions) == 2
    # Newest first (a resumption stores nothing, a full handshake would evict).
    reused = [
        _ssl_connect(client_context, context.wrap_buffers(), session).session_reused
        for session in reversed(sessions)
    ]
    assert reused == [True, True, False]  # the first was dropped


def test_cache_entries_expire(pki: PKI, gnutls: tlsapi.Backend) -> None:
    sessions = ServerSessions(lifetime=0.2)
    sessions.store(b"id", b"data")
    assert sessions.fetch(b"id") == b"data"
    time.sleep(0.3)
    assert sessions.fetch(b"id") is None
    sessions.store(b"old", b"1")
    time.sleep(0.3)
    sessions.store(b"new", b"2")  # storing drops what expired
    assert len(sessions) == 1 and sessions.fetch(b"new") == b"2"


def test_a_cache_that_fails_costs_only_the_resumption(
    pki: PKI, gnutls: tlsapi.Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _server_context(pki, gnutls)
    client_context = _ssl_client(pki)

    def broken(*args: object) -> None:
        raise RuntimeError("the cache is broken")

    monkeypatch.setattr(ServerSessions, "store", broken)
    first = _ssl_connect(client_context, context.wrap_buffers())
    monkeypatch.setattr(ServerSessions, "fetch", broken)
    server = context.wrap_buffers()
    again = _ssl_connect(client_context, server, first.session)
    assert not again.session_reused and not server.session_reused
    assert again.version() == "TLSv1.2"


def test_an_interrupt_in_a_cache_callback_is_raised_after_the_call(
    pki: PKI, gnutls: tlsapi.Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = _server_context(pki, gnutls)

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ServerSessions, "store", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _ssl_connect(_ssl_client(pki), context.wrap_buffers())


def test_a_session_that_failed_is_forgotten(pki: PKI, gnutls: tlsapi.Backend) -> None:
    context = _server_context(pki, gnutls)
    client_context = _ssl_client(pki)
    server = context.wrap_buffers()
    client = _ssl_connect(client_context, server)
    assert len(context._sessions) == 1
    # A record that does not decrypt: a fatal error after the handshake.
    server.receive_from_network(b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
    with pytest.raises(TLSError):
        server.read()
    assert len(context._sessions) == 0
    again = context.wrap_buffers()
    assert not _ssl_connect(client_context, again, client.session).session_reused


def test_a_resumed_server_still_knows_the_client_chain(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path
) -> None:
    """gnutls-cli presents a chain, then resumes: our server still gives that chain."""
    GNUTLS_SERVER.check_installed()
    client = pki.client_identity
    files = PeerFiles.from_pki(tmp_path, pki, client)
    context = _server_context(pki, gnutls, trust_store=pki.trust_store(), **_only(VERSIONS[1]))
    _, chain, key = files.identity_files()
    argv = _gnutls_cli(0, files, TLSVersion.TLSv1_3, "--resume",
                       "--x509certfile", str(chain), "--x509keyfile", str(key))  # fmt: skip
    with LoopbackServer(context) as server:
        argv[2] = str(server.port)
        output = run(argv, stdin=b"ping\n")
    assert "*** This is a resumed session" in output, output
    assert [s.reused for s in server.served] == [False, True]
    assert server.served[0].peer_chain == client.chain_der
    assert server.served[1].peer_chain == client.chain_der


def test_in_memory_pair_resumes_after_a_read(pki: PKI, gnutls: tlsapi.Backend) -> None:
    """TLS 1.3: nothing to resume until a read took the tickets, sent after client Finished."""
    client_context = gnutls.client_context(pki.client_config())
    server_context = gnutls.server_context(pki.server_config())
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert client.session is None
    with pytest.raises(WantReadError):
        client.read()
    session = client.session
    assert session is not None
    again = client_context.wrap_buffers("localhost", session=session)
    handshake(again, server_context.wrap_buffers())
    assert again.session_reused


@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_tls_unique_after_a_resumption_is_what_ssl_gives(
    pki: PKI, gnutls: tlsapi.Backend, version: TLSVersion
) -> None:
    """The first Finished: the server's in a resumption (ssl's rule, TLS 1.3 included)."""
    stdlib = tlsapi.backend("stdlib")
    client_context = gnutls.client_context(pki.client_config(**_only(version)))
    server_context = stdlib.server_context(pki.server_config(**_only(version)))
    client = client_context.wrap_buffers("localhost")
    server = server_context.wrap_buffers()
    handshake(client, server)
    full = client.get_channel_binding()  # type: ignore[attr-defined]
    assert full is not None and full == _ssl_binding(server)
    server.write(b"x")  # a read on the client takes the TLS 1.3 tickets
    pump(server, client)
    assert client.read() == b"x"
    session = client.session
    assert session is not None
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert client.session_reused and server.session_reused
    resumed = client.get_channel_binding()  # type: ignore[attr-defined]
    assert resumed is not None and resumed == _ssl_binding(server)
    assert resumed != full


def _ssl_binding(buffer: tlsapi.TLSWrappedBuffer) -> bytes | None:
    """The stdlib backend's ssl.SSLObject's tls-unique (the reference)."""
    ssl_object = buffer._ssl  # type: ignore[attr-defined]
    binding: bytes | None = ssl_object.get_channel_binding("tls-unique")
    return binding
