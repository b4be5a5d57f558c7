"""Hostile or careless input from the user and from the peer: passwords, read sizes, SNI.

Passwords: a ``str`` that cannot be UTF-8 (a lone surrogate) and a password
with a NUL byte are ConfigurationErrors on every backend, whether given
directly or returned by a callable.  Libraries that read passwords as C
strings would otherwise cut at the NUL, so ``b"pw\\0"`` would unlock a key
encrypted with ``b"pw"``.

Reads: ``read(amt)`` with an enormous ``amt`` hands out what is there (never
more than ``MAX_READ_SIZE`` per call) or raises WantReadError; a backend must
never allocate ``amt`` bytes up front.

Server names: a ClientHello whose server_name is not ASCII (raw UTF-8 or
Latin-1 bytes) or is an ASCII A-label that is not valid IDNA, made by
patching a real client's first flight in place (and the second hello after a
HelloRetryRequest).  Every server must either
refuse it with a TLSError and a fatal alert, or go on with the handshake,
and print nothing: no "Exception ignored" traceback per handshake for a
client to flood the log with.  What each backend does with these bytes:

- stdlib: refuses a non-ASCII name with an illegal_parameter alert (CPython's
  ``_ssl`` cannot decode one for the sni callback, so tlsapi reads the name
  before OpenSSL does); a NUL is refused by OpenSSL (unrecognized_name).
- gnutls: refuses a non-ASCII name (and spaces, NULs) with illegal_parameter
  (GNUTLS_E_RECEIVED_DISALLOWED_NAME).
- nss: goes on; ``server_hostname`` holds the name with U+FFFD for each
  non-ASCII byte and the ``sni_callback`` is not called.
- all three pass an ASCII name that is not valid IDNA through as it came.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, Union

import pytest

from ..._backend import Backend, Capability
from ..._buffer import MAX_READ_SIZE, TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._context import ServerContext
from ..._credentials import PrivateKey
from ..._errors import ConfigurationError, TLSError, WantReadError, WantWriteError
from ..._versions import TLSVersion
from ..pki import PKI
from ..pump import pump, read_available
from ._support import Peers, lacks

__all__ = ["TestHostileServerName", "TestPasswordRules", "TestReadSize", "unraisable"]

Password = Union[bytes, str, Callable[[], Union[bytes, str]]]

SECRET = b"pw"
# Passwords that must never unlock a key encrypted with SECRET, nor escape as
# anything but ConfigurationError.
UNUSABLE_PASSWORDS: dict[str, Password] = {
    "nul-after": SECRET + b"\0",
    "nul-after-str": SECRET.decode() + "\0",
    "nul-then-more": SECRET + b"\0junk",
    "nul-first": b"\0" + SECRET,
    "callable-nul": lambda: SECRET + b"\0",
    "callable-nul-str": lambda: SECRET.decode() + "\0",
    "lone-surrogate": SECRET.decode() + "\ud800",
    "callable-lone-surrogate": lambda: SECRET.decode() + "\ud800",
    "surrogateescape": SECRET.decode() + "\udcff",
}


def _context_with_key(backend: Backend, pki: PKI, key: PrivateKey) -> Callable[[], object]:
    """How to make a context that loads ``key`` (server side, else as a client certificate)."""
    if Capability.SERVER in backend.capabilities:
        config = pki.server_config(certificate_chain=(pki.server_identity.certificates(), key))
        return lambda: backend.server_context(config)
    if Capability.CLIENT_CERTIFICATES in backend.capabilities:
        client = pki.client_config(certificate_chain=(pki.client_identity.certificates(), key))
        return lambda: backend.client_context(client)
    pytest.skip(f"{backend.name} loads no private key (neither server nor client certificates)")


def _identity_for(backend: Backend, pki: PKI) -> Any:
    if Capability.SERVER in backend.capabilities:
        return pki.server_identity
    return pki.client_identity


class TestPasswordRules:
    def test_the_right_password_unlocks(self, backend: Backend, pki: PKI) -> None:
        # The counterpart of the refusals below: the same key opens with b"pw".
        identity = _identity_for(backend, pki)
        make = _context_with_key(
            backend, pki, PrivateKey.from_buffer(identity.key_bytes(SECRET), password=SECRET)
        )
        if lacks(backend, Capability.ENCRYPTED_KEYS, make):
            pytest.skip(f"{backend.name} cannot load encrypted keys")
        context = make()
        if isinstance(context, ServerContext):
            client, _ = Peers.for_backend(backend, pki).connect(server=context)
            assert client.getpeercert()[0] == identity.cert_der  # type: ignore[index]

    @pytest.mark.parametrize(
        "password", list(UNUSABLE_PASSWORDS.values()), ids=list(UNUSABLE_PASSWORDS)
    )
    def test_unusable_password_is_a_configuration_error(
        self, backend: Backend, pki: PKI, password: Password
    ) -> None:
        key_data = _identity_for(backend, pki).key_bytes(SECRET)
        with pytest.raises(ConfigurationError, match=r"NUL|UTF-8") as info:
            # Given directly: refused here; from a callable: when the context asks.
            key = PrivateKey.from_buffer(key_data, password=password)
            _context_with_key(backend, pki, key)()
        assert not isinstance(info.value.__cause__, UnicodeError)

    def test_nul_refused_for_a_plain_key_too(self, backend: Backend, pki: PKI) -> None:
        # A password given directly is judged when the key is made, used or not.
        with pytest.raises(ConfigurationError, match="NUL"):
            PrivateKey.from_buffer(pki.server_identity.key_pem, password=b"\0")


class TestReadSize:
    HUGE = (2**31, 2**40, 2**64)

    def _connected(self, backend: Backend, pki: PKI) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
        return Peers.for_backend(backend, pki).connect()

    @pytest.mark.parametrize("amt", HUGE, ids=lambda n: f"2**{n.bit_length() - 1}")
    def test_huge_read_returns_what_is_pending(self, backend: Backend, pki: PKI, amt: int) -> None:
        client, server = self._connected(backend, pki)
        for sender, receiver in ((client, server), (server, client)):
            data = bytes(range(256)) * 300  # several records, more than one read's worth
            written = 0
            while written < len(data):
                written += sender.write(data[written:])
                pump(sender, receiver)
            received = bytearray()
            while len(received) < len(data):
                chunk = receiver.read(amt)
                assert chunk, "read() returned b'' with data pending"
                assert len(chunk) <= MAX_READ_SIZE
                received += chunk
            assert received == data

    @pytest.mark.parametrize("amt", HUGE, ids=lambda n: f"2**{n.bit_length() - 1}")
    def test_huge_read_with_nothing_pending(self, backend: Backend, pki: PKI, amt: int) -> None:
        client, server = self._connected(backend, pki)
        for end in (client, server):
            read_available(end)  # TLS 1.3 tickets and the like
            with pytest.raises(WantReadError):
                end.read(amt)

    def test_huge_read_after_close_notify(self, backend: Backend, pki: PKI) -> None:
        client, server = self._connected(backend, pki)
        client.write(b"last words")
        pump(client, server)
        with contextlib.suppress(WantReadError):  # the peer's close_notify is not awaited
            client.shutdown()
        pump(client, server)
        assert server.read(2**40) == b"last words"
        assert server.read(2**40) == b""


# -- server names ---------------------------------------------------------------------

PLACEHOLDER = "aaaaaaaaaaa.example"  # what the real client asks for, patched in place
HOSTILE_NAMES = {
    "utf-8": "ééééé.example.".encode(),
    "latin-1": b"\xe9" * 11 + b".example",
    "high-bytes": bytes(range(0x80, 0x93)),
    "invalid-idna": b"xn--zzzzzzz.example",
    "ascii-upper": b"AAAAAAAAAAA.EXAMPLE",
}
NON_ASCII = {"utf-8", "latin-1", "high-bytes"}


def _first_flight(peers: Peers, config: TLSConfiguration) -> bytes:
    client = peers.client_context(config).wrap_buffers(PLACEHOLDER)
    with contextlib.suppress(WantReadError, WantWriteError):
        client.do_handshake()
    return client.peek_outgoing(client.outgoing_bytes_buffered())


def _patched(hello: bytes, name: bytes) -> bytes:
    # Same length: every length field around the name stays right.
    assert len(name) == len(PLACEHOLDER), name
    assert hello.count(PLACEHOLDER.encode()) == 1, "the client did not send the name once"
    return hello.replace(PLACEHOLDER.encode(), name)


def _in_two_records(flight: bytes, name: bytes) -> bytes:
    """The ClientHello record split in two, the cut inside the server name."""
    header, body = flight[:5], flight[5:]
    assert header[0] == 22 and int.from_bytes(header[3:5], "big") == len(body)
    cut = body.index(name) + len(name) // 2
    return b"".join(
        header[:3] + len(part).to_bytes(2, "big") + part for part in (body[:cut], body[cut:])
    )


def _without_key_shares(flight: bytes) -> bytes:
    """The ClientHello record with an empty key_share list: the server must ask again (HRR)."""
    hello = flight[9:]  # record header, handshake header
    offset = 2 + 32
    offset += 1 + hello[offset]
    offset += 2 + int.from_bytes(hello[offset : offset + 2], "big")
    offset += 1 + hello[offset]
    extensions, rebuilt = hello[offset + 2 :], bytearray()
    while extensions:
        kind, size = extensions[:2], int.from_bytes(extensions[2:4], "big")
        data = b"\0\0" if kind == b"\x00\x33" else extensions[4 : 4 + size]
        rebuilt += kind + len(data).to_bytes(2, "big") + data
        extensions = extensions[4 + size :]
    body = hello[:offset] + len(rebuilt).to_bytes(2, "big") + rebuilt
    message = b"\x01" + len(body).to_bytes(3, "big") + body
    return flight[:3] + len(message).to_bytes(2, "big") + message


class _Unraisable:
    """Records what reaches sys.unraisablehook ("Exception ignored in: ...")."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, unraisable: Any) -> None:
        self.seen.append(f"{unraisable.exc_value!r} in {unraisable.object!r}")


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Unraisable]:
    recorder = _Unraisable()
    monkeypatch.setattr(sys, "unraisablehook", recorder)
    yield recorder


class TestHostileServerName:
    @pytest.mark.parametrize("delivery", ["whole", "two-records", "byte-by-byte"])
    @pytest.mark.parametrize("version", [TLSVersion.TLSv1_3, TLSVersion.TLSv1_2], ids=str)
    @pytest.mark.parametrize("with_callback", [True, False], ids=["sni-callback", "no-callback"])
    @pytest.mark.parametrize("label", list(HOSTILE_NAMES))
    def test_server_prints_nothing(
        self,
        *,
        backend: Backend,
        pki: PKI,
        label: str,
        with_callback: bool,
        version: TLSVersion,
        delivery: str,
        capfd: pytest.CaptureFixture[str],
        unraisable: _Unraisable,
    ) -> None:
        if Capability.SERVER not in backend.capabilities:
            pytest.skip(f"{backend.name} has no server side")
        peers = Peers.for_backend(backend, pki)
        names: list[str | None] = []

        def sni_callback(buffer: TLSWrappedBuffer, name: str | None, config: Any) -> None:
            names.append(name)

        config = pki.server_config(sni_callback=sni_callback if with_callback else None)
        if with_callback and lacks(
            backend, Capability.SNI_CALLBACK, lambda: backend.server_context(config)
        ):
            pytest.skip(f"{backend.name} has no sni_callback")
        hostile = HOSTILE_NAMES[label]
        flight = _patched(
            _first_flight(peers, pki.client_config(highest_supported_version=version)), hostile
        )
        if delivery == "two-records":
            flight = _in_two_records(flight, hostile)
        pieces = (
            [flight[i : i + 1] for i in range(len(flight))]
            if delivery == "byte-by-byte"
            else [flight]
        )
        server = backend.server_context(config).wrap_buffers()
        error: TLSError | None = None
        for piece in pieces:
            server.receive_from_network(piece)
            try:
                server.do_handshake()
            except (WantReadError, WantWriteError):
                continue
            except TLSError as exc:
                error = exc
                break
            pytest.fail("the server finished a handshake from a ClientHello alone")
        answer = server.peek_outgoing(server.outgoing_bytes_buffered())
        out, err = capfd.readouterr()
        assert unraisable.seen == [], f"{backend.name} server: {unraisable.seen}"
        assert (out, err) == ("", ""), f"{backend.name} server printed something"
        if error is not None:
            assert str(error)
            # A fatal alert, in the clear, is all a refusing server sends.
            assert answer[:1] == b"\x15" and answer[5:6] == b"\x02", answer[:8].hex()
        else:
            assert answer[:1] == b"\x16", f"the server went on but sent {answer[:8].hex()}"
            assert server.server_hostname is None or isinstance(server.server_hostname, str)
            assert all(name is None or isinstance(name, str) for name in names)
            if label not in NON_ASCII:
                # An ASCII name, valid IDNA or not, is passed on as it came (case aside);
                # server_hostname may be set only once the handshake is done.
                if server.server_hostname is not None:
                    assert server.server_hostname.lower() == hostile.decode().lower()
                if with_callback:
                    assert [name.lower() for name in names if name] == [hostile.decode().lower()]
        if label not in NON_ASCII:
            assert error is None, f"{backend.name} refused the ASCII name {hostile!r}: {error}"

    def test_hostile_name_in_the_second_hello(
        self, backend: Backend, pki: PKI, capfd: pytest.CaptureFixture[str], unraisable: _Unraisable
    ) -> None:
        # A first hello with a plain name and no key share draws a
        # HelloRetryRequest; the second carries the hostile name.
        if Capability.SERVER not in backend.capabilities or (
            Capability.TLSv1_3 not in backend.capabilities
        ):
            pytest.skip(f"{backend.name} has no TLS 1.3 server")
        peers = Peers.for_backend(backend, pki)
        flight = _first_flight(
            peers, pki.client_config(lowest_supported_version=TLSVersion.TLSv1_3)
        )
        server = peers.server_context().wrap_buffers()
        server.receive_from_network(_without_key_shares(flight))
        with pytest.raises(WantReadError):
            server.do_handshake()
        retry = server.peek_outgoing(server.outgoing_bytes_buffered())
        server.consume_outgoing(len(retry))
        assert retry[:1] == b"\x16", retry[:8].hex()
        change_cipher_spec = b"\x14\x03\x03\x00\x01\x01"
        server.receive_from_network(change_cipher_spec + _patched(flight, HOSTILE_NAMES["utf-8"]))
        with contextlib.suppress(WantReadError, TLSError):
            server.do_handshake()
        out, err = capfd.readouterr()
        assert unraisable.seen == [], f"{backend.name} server: {unraisable.seen}"
        assert (out, err) == ("", ""), f"{backend.name} server printed something"

    @pytest.mark.parametrize("version", [TLSVersion.TLSv1_3, TLSVersion.TLSv1_2], ids=str)
    def test_last_flight_data_and_eof_together(
        self, backend: Backend, pki: PKI, version: TLSVersion
    ) -> None:
        # Whatever a server reads ahead of its library must lose nothing: the
        # client's last flight, a request and the end of the stream, in one go.
        peers = Peers.for_backend(backend, pki)
        client, server = peers.pair(client=pki.client_config(highest_supported_version=version))
        while True:
            try:
                client.do_handshake()
                break
            except WantReadError:
                pass
            pump(client, server)
            with contextlib.suppress(WantReadError):
                server.do_handshake()
            pump(server, client)
        client.write(b"request")
        with contextlib.suppress(WantReadError):
            client.shutdown()
        pump(client, server)
        server.receive_from_network(b"")
        assert server.read(100) == b"request"
        assert server.read(100) == b""

    def test_a_refused_name_does_not_spoil_the_next_connection(
        self, backend: Backend, pki: PKI, unraisable: _Unraisable
    ) -> None:
        if Capability.SERVER not in backend.capabilities:
            pytest.skip(f"{backend.name} has no server side")
        peers = Peers.for_backend(backend, pki)
        context = peers.server_context()
        server = context.wrap_buffers()
        server.receive_from_network(
            _patched(_first_flight(peers, pki.client_config()), HOSTILE_NAMES["utf-8"])
        )
        with contextlib.suppress(TLSError):  # refused, or on its way: either is fine here
            server.do_handshake()
        _, server = peers.connect(server=context)
        assert server.server_hostname == "localhost"
        assert unraisable.seen == []
