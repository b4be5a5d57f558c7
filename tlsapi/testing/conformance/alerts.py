"""Fatal errors after the handshake are answered with the alert the RFCs name.

A receiver that meets a bad record after the handshake must tell its peer
why (RFC 8446 §5 and §6.2) before it gives up, not just drop the connection.
Each case is built from real records: the peer is Python's ``ssl`` module
(OpenSSL) used directly, with a key log, so this module knows both
directions' TLS 1.3 application traffic secrets.  With them it

- protects records as the peer would (the peer's key, the peer's next
  sequence number): first a valid one, which the receiver must read (the
  proof that the forging is right, so no case can pass by accident), then
  the tampered one;
- decrypts what the receiver sends back and reads the alert's description.

Reading the alert itself is the robust check: its length or a peer's error
message would not say which alert it was.  The receiver's sequence number
is not tracked (it may have sent session tickets): each record is tried
against the first sequence numbers, and only the right one authenticates.
The backend under test is the receiver as a server and as a client; one
case puts it behind a TLSWrappedSocket, which must send the alert before it
raises.
"""

from __future__ import annotations

import os
import socket
import ssl
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._errors import TLSError, WantReadError
from ..._socket import TLSWrappedSocket
from ..._versions import TLSVersion
from ..pki import PKI

__all__ = ["TestAlertsAfterHandshake"]

# Alert descriptions (RFC 8446 §6).
UNEXPECTED_MESSAGE = 10
BAD_RECORD_MAC = 20
RECORD_OVERFLOW = 22
ILLEGAL_PARAMETER = 47
DECODE_ERROR = 50

_APPLICATION_DATA, _ALERT, _HANDSHAKE = 23, 21, 22
# TLS 1.3 suites: (AEAD, key length, hash).
_SUITES: dict[str, tuple[type[AESGCM | ChaCha20Poly1305], int, type[hashes.HashAlgorithm]]] = {
    "TLS_AES_128_GCM_SHA256": (AESGCM, 16, hashes.SHA256),
    "TLS_AES_256_GCM_SHA384": (AESGCM, 32, hashes.SHA384),
    "TLS_CHACHA20_POLY1305_SHA256": (ChaCha20Poly1305, 32, hashes.SHA256),
}
# The receiver's records are tried against this many sequence numbers.
_SEQUENCE_WINDOW = 64
MAX_CIPHERTEXT = 2**14 + 256  # RFC 8446 §5.2


def _expand_label(algorithm: hashes.HashAlgorithm, secret: bytes, label: bytes, size: int) -> bytes:
    """HKDF-Expand-Label (RFC 8446 §7.1) with an empty context."""
    full = b"tls13 " + label
    info = struct.pack("!HB", size, len(full)) + full + b"\x00"
    return HKDFExpand(algorithm, size, info).derive(secret)


class _Protection:
    """One direction's TLS 1.3 record protection (RFC 8446 §5.2, §5.3)."""

    def __init__(self, suite: str, secret: bytes) -> None:
        aead, key_size, algorithm = _SUITES[suite]
        self._aead: AESGCM | ChaCha20Poly1305 = aead(
            _expand_label(algorithm(), secret, b"key", key_size)
        )
        self._iv = _expand_label(algorithm(), secret, b"iv", 12)
        self.sequence = 0

    def _nonce(self, sequence: int) -> bytes:
        padded = sequence.to_bytes(12, "big")
        return bytes(a ^ b for a, b in zip(self._iv, padded, strict=True))

    def seal_inner(self, inner: bytes) -> bytes:
        """A record around the TLSInnerPlaintext ``inner``, with the next sequence number."""
        header = struct.pack("!BHH", _APPLICATION_DATA, 0x0303, len(inner) + 16)
        body = self._aead.encrypt(self._nonce(self.sequence), inner, header)
        self.sequence += 1
        return header + body

    def seal(self, content: bytes, content_type: int) -> bytes:
        return self.seal_inner(content + bytes((content_type,)))

    def open(self, record: bytes) -> bytes | None:
        """The TLSInnerPlaintext of ``record``, trying sequence numbers; None if none fits."""
        for sequence in range(_SEQUENCE_WINDOW):
            try:
                return self._aead.decrypt(self._nonce(sequence), record[5:], record[:5])
            except InvalidTag:  # not this sequence number
                continue
        return None


def _records(data: bytes) -> Iterator[bytes]:
    while len(data) >= 5:
        size = 5 + int.from_bytes(data[3:5], "big")
        yield data[:size]
        data = data[size:]


@dataclass
class Alert:
    level: int
    description: int
    encrypted: bool


def _connect(
    buffer: TLSWrappedBuffer, context: ssl.SSLContext, *, server_side: bool, keylog: Path
) -> tuple[_Protection, _Protection]:
    """Handshake ``buffer`` with an ``ssl`` peer; the (peer's, buffer's) record protection."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    peer = context.wrap_bio(
        incoming,
        outgoing,
        server_side=server_side,
        server_hostname=None if server_side else "localhost",
    )
    peer_done = buffer_done = False
    for _ in range(50):
        if not peer_done:
            try:
                peer.do_handshake()
                peer_done = True
            except ssl.SSLWantReadError:
                pass
        data = outgoing.read()
        if data:
            buffer.receive_from_network(data)
        if not buffer_done:
            try:
                buffer.do_handshake()
                buffer_done = True
            except WantReadError:
                pass
            # Up to its handshake's end the buffer's bytes are the peer's to read.
            data = buffer.peek_outgoing(buffer.outgoing_bytes_buffered())
            buffer.consume_outgoing(len(data))
            if data:
                incoming.write(data)
        if peer_done and buffer_done and not outgoing.pending:
            break
    else:
        raise AssertionError("the handshake with the ssl module's peer did not finish")
    # What the buffer sent after its handshake (session tickets) the peer never reads.
    buffer.consume_outgoing(buffer.outgoing_bytes_buffered())
    assert buffer.negotiated_tls_version is TLSVersion.TLSv1_3
    name = peer.cipher()
    assert name is not None
    suite = name[0]
    secrets: dict[str, bytes] = {}
    for line in keylog.read_text().splitlines():
        fields = line.split()
        if len(fields) == 3:
            secrets[fields[0]] = bytes.fromhex(fields[2])
    client = secrets["CLIENT_TRAFFIC_SECRET_0"]
    server = secrets["SERVER_TRAFFIC_SECRET_0"]
    peer_secret, buffer_secret = (server, client) if server_side else (client, server)
    return _Protection(suite, peer_secret), _Protection(suite, buffer_secret)


class _Case:
    def __init__(
        self, buffer: TLSWrappedBuffer, peer_side: _Protection, buffer_side: _Protection
    ) -> None:
        self.buffer = buffer
        self.peer_side = peer_side
        self.buffer_side = buffer_side

    def check_forging(self) -> None:
        """A valid record protected here must read as data: the keys and sequence are right."""
        self.buffer.receive_from_network(
            self.peer_side.seal(b"forged but valid", _APPLICATION_DATA)
        )
        assert self.buffer.read() == b"forged but valid"

    def answer_to(self, record: bytes) -> tuple[TLSError, list[Alert]]:
        """Feed ``record``; the error the receiver raised and the alerts it sent."""
        self.buffer.receive_from_network(record)
        with pytest.raises(TLSError) as info:
            for _ in range(3):  # a want-read would mean it waits for more: it must not
                self.buffer.read()
        error = info.value
        assert not isinstance(error, WantReadError), f"the receiver waits for more: {error!r}"
        sent = self.buffer.peek_outgoing(self.buffer.outgoing_bytes_buffered())
        return error, self.alerts_in(sent)

    def answer_over_a_socket(self, record: bytes) -> tuple[TLSError, list[Alert]]:
        """As answer_to, with the receiver behind a TLSWrappedSocket: what reaches the peer."""
        ours, theirs = socket.socketpair()
        with ours, theirs:
            theirs.settimeout(30)
            wrapped = TLSWrappedSocket(ours, self.buffer)
            theirs.sendall(record)
            with pytest.raises(TLSError) as info:
                wrapped.recv(100)
            theirs.shutdown(socket.SHUT_WR)  # so that the receiver's socket sees the end
            wrapped.close()
            received = bytearray()
            while chunk := theirs.recv(65536):
                received += chunk
        assert not isinstance(info.value, WantReadError), info.value
        return info.value, self.alerts_in(bytes(received))

    def alerts_in(self, sent: bytes) -> list[Alert]:
        """The alerts among the records the receiver sent."""
        alerts = []
        for sent_record in _records(sent):
            if sent_record[0] == _ALERT and len(sent_record) == 7:
                alerts.append(Alert(sent_record[5], sent_record[6], encrypted=False))
            elif sent_record[0] == _APPLICATION_DATA:
                inner = self.buffer_side.open(sent_record)
                if inner is None:
                    continue
                inner = inner.rstrip(b"\x00")
                if inner[-1:] == bytes((_ALERT,)) and len(inner) == 3:
                    alerts.append(Alert(inner[0], inner[1], encrypted=True))
        return alerts


def _skip_without_tls13(backend: Backend) -> None:
    if Capability.TLSv1_3 not in backend.capabilities:
        pytest.skip(f"{backend.name} has no TLS 1.3, where these records are built")


def _assert_alert(error: TLSError, alerts: list[Alert], *expected: int) -> None:
    assert alerts, f"the receiver failed ({error!r}) without sending any alert"
    first = alerts[0]
    assert first.level == 2, f"the alert is not fatal: {first}"
    # After the handshake every record is protected (RFC 8446 §5), alerts too.
    assert first.encrypted, f"the alert was sent in the clear: {first}"
    assert first.description in expected, (
        f"the receiver sent alert {first.description}, expected one of {expected} ({error!r})"
    )


class TestAlertsAfterHandshake:
    @pytest.fixture(params=["server", "client"])
    def case(self, request: pytest.FixtureRequest, backend: Backend, pki: PKI) -> Iterator[_Case]:
        """The backend under test (server, then client) after a TLS 1.3 handshake with ssl."""
        _skip_without_tls13(backend)
        role = request.param
        needed = Capability.SERVER if role == "server" else Capability.CLIENT
        if needed not in backend.capabilities:
            pytest.skip(f"{backend.name} cannot be the {role}")
        with tempfile.TemporaryDirectory() as directory:
            keylog = Path(directory) / "keylog.txt"
            if role == "server":
                buffer = backend.server_context(pki.server_config()).wrap_buffers()
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.load_verify_locations(cadata=pki.root_pem.decode("ascii"))
            else:
                buffer = backend.client_context(pki.client_config()).wrap_buffers("localhost")
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                files = pki.server_identity.write(directory, "server")
                context.load_cert_chain(files.chain, files.key)
                # No session tickets: the peer's first record after the handshake is ours.
                context.num_tickets = 0
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            context.keylog_filename = os.fspath(keylog)
            peer_side, buffer_side = _connect(
                buffer, context, server_side=role == "client", keylog=keylog
            )
            # ssl keeps the key log open; Windows cannot delete an open file.
            context.keylog_filename = None  # type: ignore[assignment]
            yield _Case(buffer, peer_side, buffer_side)

    def test_bad_tag_is_bad_record_mac(self, case: _Case) -> None:
        case.check_forging()
        record = bytearray(case.peer_side.seal(b"tampered", _APPLICATION_DATA))
        record[-1] ^= 0x01  # a bit of the authentication tag
        _assert_alert(*case.answer_to(bytes(record)), BAD_RECORD_MAC)

    def test_the_socket_sends_the_alert_before_raising(self, case: _Case) -> None:
        case.check_forging()
        record = bytearray(case.peer_side.seal(b"tampered", _APPLICATION_DATA))
        record[-1] ^= 0x01
        _assert_alert(*case.answer_over_a_socket(bytes(record)), BAD_RECORD_MAC)

    def test_oversized_record_is_record_overflow(self, case: _Case) -> None:
        case.check_forging()
        size = MAX_CIPHERTEXT + 1
        record = struct.pack("!BHH", _APPLICATION_DATA, 0x0303, size) + os.urandom(size)
        _assert_alert(*case.answer_to(record), RECORD_OVERFLOW)

    def test_oversized_plaintext_is_record_overflow(self, case: _Case) -> None:
        case.check_forging()
        # A well-protected record whose plaintext is one byte over 2^14 (RFC 8446 §5.4).
        record = case.peer_side.seal(b"x" * (2**14 + 1), _APPLICATION_DATA)
        _assert_alert(*case.answer_to(record), RECORD_OVERFLOW)

    def test_empty_alert_is_unexpected_message(self, case: _Case) -> None:
        case.check_forging()
        # RFC 8446 §5.4: an Alert with zero-length content is an unexpected_message;
        # decode_error (what a TLS 1.2 reading of it gives) is also a truthful answer.
        record = case.peer_side.seal(b"", _ALERT)
        _assert_alert(*case.answer_to(record), UNEXPECTED_MESSAGE, DECODE_ERROR)

    def test_no_content_type(self, case: _Case) -> None:
        case.check_forging()
        # Padding only, no content type: RFC 8446 §5.4 says unexpected_message;
        # GnuTLS reports it as a record that does not decrypt (bad_record_mac).
        record = case.peer_side.seal_inner(b"\x00" * 8)
        _assert_alert(*case.answer_to(record), UNEXPECTED_MESSAGE, BAD_RECORD_MAC)

    # A malformed KeyUpdate: RFC 8446 §4.6.3 names illegal_parameter for a bad
    # request_update value, and §6 decode_error for a body of the wrong length;
    # the libraries differ on which they report (NSS: decode_error for both,
    # OpenSSL: illegal_parameter for both), and either says what is wrong.

    def test_key_update_with_bad_value(self, case: _Case) -> None:
        case.check_forging()
        record = case.peer_side.seal(b"\x18\x00\x00\x01\x02", _HANDSHAKE)
        _assert_alert(*case.answer_to(record), ILLEGAL_PARAMETER, DECODE_ERROR)

    def test_key_update_with_bad_length(self, case: _Case) -> None:
        case.check_forging()
        record = case.peer_side.seal(b"\x18\x00\x00\x02\x00\x00", _HANDSHAKE)
        _assert_alert(*case.answer_to(record), DECODE_ERROR, ILLEGAL_PARAMETER)

    def test_unexpected_handshake_message(self, case: _Case) -> None:
        case.check_forging()
        # A Finished after the handshake is never expected, from either side.
        finished = b"\x14\x00\x00\x20" + b"\x00" * 32
        record = case.peer_side.seal(finished, _HANDSHAKE)
        _assert_alert(*case.answer_to(record), UNEXPECTED_MESSAGE)
