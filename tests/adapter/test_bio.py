"""wrap_bio: tlsapi's SSLObject against the ssl module's own SSLObject, over MemoryBIOs."""

from __future__ import annotations

import _ssl
import ssl
from collections.abc import Callable
from typing import Any

import pytest

import tlsapi
from tlsapi.testing.conformance._support import wine_version
from tlsapi.testing.pki import PKI

from .conftest import (
    Files,
    make_client,
    make_server,
    skip_if_wine_refuses_client_key,
    skip_if_wine_sends_client_leaf_only,
    skip_unless_serves,
)


class End:
    """One end of a connection: an SSLObject and its two BIOs."""

    def __init__(self, context: ssl.SSLContext, server_side: bool) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = context.wrap_bio(
            self.incoming,
            self.outgoing,
            server_side=server_side,
            server_hostname=None if server_side else "localhost",
        )

    def send_to(self, other: End) -> int:
        data = self.outgoing.read()
        if data:
            other.incoming.write(data)
        return len(data)


def _until(step: Callable[[], Any], ends: tuple[End, End], rounds: int = 50) -> Any:
    """Call ``step`` until it stops raising SSLWantReadError, moving bytes between the ends."""
    for _ in range(rounds):
        try:
            return step()
        except ssl.SSLWantReadError:
            moved = ends[0].send_to(ends[1]) + ends[1].send_to(ends[0])
            if not moved:
                raise
    raise AssertionError("no progress")


def _handshake(client: End, server: End) -> None:
    done = {"client": False, "server": False}
    for _ in range(20):
        for name, end in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    end.obj.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        client.send_to(server)
        server.send_to(client)
        if all(done.values()):
            return
    raise AssertionError(f"handshake did not finish: {done}")


@pytest.mark.parametrize("side", ["client", "server"])
def test_against_ssl_object(backend: tlsapi.Backend, files: Files, side: str) -> None:
    ours_is_client = side == "client"
    skip_unless_serves(None if ours_is_client else backend)
    skip_if_wine_sends_client_leaf_only(backend if ours_is_client else None)
    client = End(
        make_client(files, backend if ours_is_client else None, alpn=["h2"], identity=True), False
    )
    server = End(
        make_server(
            files,
            None if ours_is_client else backend,
            alpn=["h2", "http/1.1"],
            client_ca=files.root,
        ),
        True,
    )
    ours = client if ours_is_client else server
    assert isinstance(ours.obj, ssl.SSLObject) and isinstance(ours.obj, tlsapi._adapter.SSLObject)
    with pytest.raises(ValueError, match="handshake not done"):
        ours.obj.getpeercert()
    assert ours.obj.cipher() is None and ours.obj.version() is None
    _handshake(client, server)

    # What was negotiated reads the same on both ends.
    theirs = server if ours_is_client else client
    assert ours.obj.version() == theirs.obj.version()
    assert ours.obj.selected_alpn_protocol() == theirs.obj.selected_alpn_protocol() == "h2"
    assert ours.obj.cipher()[0] == theirs.obj.cipher()[0]  # type: ignore[index]
    assert ours.obj.cipher()[2] == theirs.obj.cipher()[2]  # type: ignore[index]
    assert ours.obj.compression() is None
    assert ours.obj.session_reused is False
    if not ours_is_client or not backend.supports(tlsapi.Capability.SESSION_RESUMPTION):
        assert ours.obj.session is None  # a server gives none, nor a backend that cannot resume
    assert ours.obj.server_side is (not ours_is_client)
    assert ours.obj.server_hostname == ("localhost" if ours_is_client else None)
    with pytest.raises(ValueError):
        ours.obj.get_channel_binding("no-such-binding")
    # getpeercert: the peer's certificate as DER and as ssl's dict.
    peer_der = ours.obj.getpeercert(binary_form=True)
    assert peer_der == _leaf_der(files, server=ours_is_client)
    expected_name = ("DNS", "localhost") if ours_is_client else ("DNS", "client.test")
    assert expected_name in ours.obj.getpeercert()["subjectAltName"]  # type: ignore[index]
    assert ours.obj.get_unverified_chain()[0] == peer_der
    assert ours.obj.get_verified_chain()[0] == peer_der

    # Data both ways, with read(len, buffer) too, and pending().
    payload = bytes(range(256)) * 1000
    ours.obj.write(payload)
    ours.send_to(theirs)
    received = bytearray()
    while len(received) < len(payload):
        received += _until(lambda: theirs.obj.read(65536), (ours, theirs))
    assert received == payload
    theirs.obj.write(b"hello")
    theirs.send_to(ours)
    assert ours.obj.pending() == 5
    target = bytearray(10)
    assert ours.obj.read(10, target) == 5 and target[:5] == b"hello"
    with pytest.raises(ssl.SSLWantReadError):
        ours.obj.read()

    # Clean close: our unwrap waits for theirs; then reads give b"".
    with pytest.raises(ssl.SSLWantReadError):
        ours.obj.unwrap()
    ours.send_to(theirs)
    _until(theirs.obj.unwrap, (ours, theirs))
    theirs.send_to(ours)
    ours.obj.unwrap()
    assert ours.obj.read() == b""


def test_client_certificate_as_an_ssl_server_receives_it(
    backend: tlsapi.Backend, files: Files, pki: PKI
) -> None:
    """Our client's chain as the server receives it: leaf and intermediate (Wine: the leaf alone).

    The server also knows the intermediate, so it accepts the leaf alone too:
    that is the one thing Wine's SChannel sends (test_against_ssl_object skips there).
    """
    skip_if_wine_refuses_client_key(backend, files, pki)
    server_context = make_server(files, None, client_ca=files.root)
    server_context.load_verify_locations(cadata=pki.intermediate_der)
    client = End(make_client(files, backend, identity=True), False)
    server = End(server_context, True)
    _handshake(client, server)
    received = [
        certificate.public_bytes(_ssl.ENCODING_DER)
        for certificate in server.obj._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    ]
    if backend.name == "schannel" and wine_version() is not None:
        assert received == [pki.client_identity.cert_der]
    else:
        assert received == pki.client_identity.chain_der
    assert ("DNS", "client.test") in server.obj.getpeercert()["subjectAltName"]  # type: ignore[index]


def _leaf_der(files: Files, server: bool) -> bytes:
    path = files.chain if server else files.client_chain
    return ssl.PEM_cert_to_DER_cert(
        path.read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    )


def test_peer_dict_matches_ssl(backend: tlsapi.Backend, files: Files) -> None:
    """The peer's dict is ssl's own, field for field (for the server's certificate)."""
    ours = End(make_client(files, backend), False)
    reference = End(make_client(files, None), False)
    for client in (ours, reference):
        server = End(make_server(files, None), True)
        _handshake(client, server)
    assert ours.obj.getpeercert() == reference.obj.getpeercert()
    assert set(ours.obj.getpeercert()) >= {  # type: ignore[arg-type]
        "subject",
        "issuer",
        "version",
        "serialNumber",
        "notBefore",
        "notAfter",
        "subjectAltName",
    }


def test_errors_are_ssl_classes(backend: tlsapi.Backend, files: Files) -> None:
    client = End(make_client(files, backend, ca=files.other_root), False)
    server = End(make_server(files, None), True)
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        _handshake(client, server)
    assert caught.value.verify_message
    assert hasattr(caught.value, "verify_code")

    # The transport ends without close_notify: SSLEOFError, as ssl raises.
    client = End(make_client(files, backend), False)
    server = End(make_server(files, None), True)
    _handshake(client, server)
    server.obj.write(b"partial")
    server.send_to(client)
    client.incoming.write_eof()
    assert client.obj.read() == b"partial"
    with pytest.raises(ssl.SSLEOFError):
        client.obj.read()


def test_unverified_peer_gives_empty_dict(backend: tlsapi.Backend, files: Files) -> None:
    context = make_client(files, backend)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    client = End.__new__(End)
    client.incoming, client.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        client.obj = context.wrap_bio(client.incoming, client.outgoing)
    server = End(make_server(files, None), True)
    _handshake(client, server)
    assert client.obj.getpeercert() == {}  # as ssl: not validated, so not decoded
    assert client.obj.getpeercert(binary_form=True)
    assert client.obj.get_verified_chain() == []


def test_sni_callback_sees_the_name_and_switches_context(
    backend: tlsapi.Backend, files: Files, other_pki: object
) -> None:
    skip_unless_serves(backend)
    if not backend.supports(tlsapi.Capability.SNI_CALLBACK):
        with pytest.raises(tlsapi.ConfigurationError):
            make_server(files, backend).sni_callback = lambda *args: None
        pytest.skip(f"{backend.name} has no sni_callback")
    from tlsapi.testing.pki import PKI

    assert isinstance(other_pki, PKI)
    other = tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)
    identity = other_pki.issue(names=("other.test",))
    directory = files.root.parent
    written = identity.write(directory, "sni-other")
    other.load_cert_chain(written.chain, written.key)
    seen: list[object] = []

    def choose(obj: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        seen.append((type(obj), name, context))
        if name == "other.test":
            obj.context = other

    server_context = make_server(files, backend)
    server_context.sni_callback = choose
    client_context = make_client(files, None, ca=files.other_root)
    client = End.__new__(End)
    client.incoming, client.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client.obj = client_context.wrap_bio(
        client.incoming, client.outgoing, server_hostname="other.test"
    )
    server = End(server_context, True)
    _handshake(client, server)
    assert seen == [(tlsapi._adapter.SSLObject, "other.test", server_context)]
    assert ("DNS", "other.test") in client.obj.getpeercert()["subjectAltName"]  # type: ignore[index]
    assert server.obj.context is other

    def refuse(obj: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> int:
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    server_context.sni_callback = refuse
    client = End(make_client(files, None), False)
    server = End(server_context, True)
    with pytest.raises(ssl.SSLError):
        _handshake(client, server)


def test_connections_are_freed(backend: tlsapi.Backend, files: Files) -> None:
    """Nothing the adapter keeps (the sni_callback's registry) outlives a connection."""
    import gc
    import weakref

    context = make_client(files, backend)
    refs = []
    for _ in range(3):
        obj = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")
        refs.append((weakref.ref(obj), weakref.ref(obj._buffer)))  # type: ignore[attr-defined]
        del obj
    gc.collect()
    assert all(obj() is None and buffer() is None for obj, buffer in refs)


@pytest.mark.parametrize("size", [65536 + 3000, 200_000, 16384 * 5 + 1])
@pytest.mark.parametrize("with_buffer", [False, True], ids=["read", "readinto"])
def test_reads_until_want_read_get_every_byte(
    backend: tlsapi.Backend, files: Files, size: int, with_buffer: bool
) -> None:
    # As asyncio and trio read: large reads until SSLWantReadError, the ciphertext
    # delivered at once.  A read that stops short (read() hands out at most 64 KiB)
    # must not make the next one answer "want read" while plaintext is still there.
    client = End(make_client(files, backend), False)
    server = End(make_server(files, None), True)
    _handshake(client, server)
    message = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    # 10,000-byte records: a 64 KiB read ends inside one, the rest of it held by
    # the library while no ciphertext is left.
    for start in range(0, size, 10_000):
        server.obj.write(message[start : start + 10_000])
    server.send_to(client)
    received = bytearray()
    target = bytearray(262144)
    while True:
        try:
            if with_buffer:
                count = client.obj.read(len(target), target)
                received += target[:count]
            else:
                received += client.obj.read(262144)
        except ssl.SSLWantReadError:
            break
    assert received == message
