"""Key logging: ``keylog_filename`` gets NSS Key Log Format lines that are right.

Contract (issue 11).  A context whose configuration names a ``keylog_filename``
warns (InsecureConfigurationWarning); on a backend with ``Capability.KEY_LOG``
every connection appends its secrets there (TLS 1.3: the handshake and
application traffic secrets; TLS 1.2: ``CLIENT_RANDOM`` and the master
secret), keyed by the connection's client random.  A backend without it
refuses the configuration with ConfigurationError.  A backend whose library
gives out TLS 1.3 secrets only may refuse a key log on a configuration that
allows TLS 1.2 (ConfigurationError saying so: asserted, then the TLS 1.2
test skips); TLS 1.3 it must log.

"Right" is checked, not just "present": the bytes of each connection are
recorded as they cross, and the logged secrets must decrypt them (the
application data both ways, and in TLS 1.3 the encrypted handshake), with
keys derived as RFC 8446 section 7 (TLS 1.3) and RFC 5246 / 5288 / 7905
(TLS 1.2 AES-GCM and ChaCha20-Poly1305) say: what Wireshark does with the
file.  Both ends logging the same connection must log the same secrets, and
so must the stdlib backend (OpenSSL's own key log) as the peer.
"""

from __future__ import annotations

import hmac
import pathlib
import secrets
import warnings
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._context import ClientContext, ServerContext
from ..._errors import (
    ConfigurationError,
    InsecureConfigurationWarning,
    TLSError,
    WantReadError,
    WantWriteError,
)
from ..._registry import backend as backend_named
from ..._session import TLSSession
from ..._versions import TLSVersion
from ..pki import PKI
from ..pump import PumpStalled, read_available
from ._support import Peers, only_version, require_version

__all__ = ["TestKeyLog", "Wire", "read_keylog", "require_keylog"]

VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]
_T = TypeVar("_T")
TLS13_LABELS = (
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
)
TLS12_LABELS = ("CLIENT_RANDOM",)
# Tickets, Finished and key updates come before the data: the sequence
# numbers tried for a record (the AEAD tag tells which one is right).
_SEQUENCES = range(24)


def read_keylog(path: pathlib.Path) -> dict[tuple[str, bytes], bytes]:
    """``{(label, client_random): secret}``; a line not in the format fails the test."""
    entries: dict[tuple[str, bytes], bytes] = {}
    for number, line in enumerate(path.read_text("ascii").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(" ")
        assert len(parts) == 3, f"{path}:{number}: not 'LABEL random secret': {line!r}"
        label, random_hex, secret_hex = parts
        random, secret = bytes.fromhex(random_hex), bytes.fromhex(secret_hex)
        assert len(random) == 32, f"{path}:{number}: a client random is 32 bytes: {line!r}"
        assert len(secret) in (32, 48, 64), f"{path}:{number}: secret size: {line!r}"
        key = (label, random)
        assert entries.get(key, secret) == secret, f"{path}:{number}: {label} logged twice, changed"
        entries[key] = secret
    return entries


class Wire:
    """Drives two buffers like ``tlsapi.testing.pump`` and records every byte each way."""

    def __init__(self, client: TLSWrappedBuffer, server: TLSWrappedBuffer) -> None:
        self.client, self.server = client, server
        self.client_bytes = bytearray()  # client -> server
        self.server_bytes = bytearray()  # server -> client

    def _move(self) -> int:
        moved = 0
        for source, destination, record in (
            (self.client, self.server, self.client_bytes),
            (self.server, self.client, self.server_bytes),
        ):
            size = source.outgoing_bytes_buffered()
            if size:
                data = source.peek_outgoing(size)
                record.extend(data)
                destination.receive_from_network(data)
                source.consume_outgoing(len(data))
                moved += len(data)
        return moved

    def handshake(self) -> None:
        done = {"client": False, "server": False}
        for _ in range(200):
            for name, buffer in (("client", self.client), ("server", self.server)):
                if not done[name]:
                    try:
                        buffer.do_handshake()
                        done[name] = True
                    except (WantReadError, WantWriteError):
                        pass
            if not self._move() and all(done.values()):
                return
        raise PumpStalled(f"the handshake did not finish: {done}")

    def send(self, sender: TLSWrappedBuffer, data: bytes) -> bytes:
        """``data`` from ``sender`` to the other end, which must read it all."""
        receiver = self.server if sender is self.client else self.client
        assert sender.write(data) == len(data)
        received = bytearray()
        for _ in range(50):
            self._move()
            received += read_available(receiver)
            received_other = read_available(sender)  # tickets, key updates
            assert not received_other, received_other
            if len(received) >= len(data):
                break
        assert bytes(received) == data
        return bytes(received)

    @property
    def client_random(self) -> bytes:
        return _hello_random(bytes(self.client_bytes), 1)

    @property
    def server_random(self) -> bytes:
        return _hello_random(bytes(self.server_bytes), 2)


def _records(stream: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(header, body) of each TLS record in ``stream``."""
    offset = 0
    while offset + 5 <= len(stream):
        length = int.from_bytes(stream[offset + 3 : offset + 5], "big")
        yield stream[offset : offset + 5], stream[offset + 5 : offset + 5 + length]
        offset += 5 + length


def _hello_random(stream: bytes, message_type: int) -> bytes:
    header, body = next(_records(stream))
    assert header[0] == 22 and body[0] == message_type, f"not a hello: {stream[:16].hex()}"
    return body[6:38]  # type (1), length (3), legacy_version (2), then the random


def _suite(buffer: TLSWrappedBuffer) -> tuple[str, int, str]:
    """The AEAD ('aes' or 'chacha'), its key size and the hash of the negotiated suite."""
    cipher = buffer.cipher()
    name = getattr(cipher, "name", str(cipher))
    digest = "sha384" if name.endswith("SHA384") else "sha256"
    if "_GCM_" in name:
        return "aes", 16 if "AES_128" in name else 32, digest
    assert "CHACHA20_POLY1305" in name, f"the key log check knows AES-GCM and ChaCha20, not {name}"
    return "chacha", 32, digest


def _aead(kind: str, key: bytes) -> AESGCM | ChaCha20Poly1305:
    return AESGCM(key) if kind == "aes" else ChaCha20Poly1305(key)


def _xor_sequence(iv: bytes, sequence: int) -> bytes:
    padded = sequence.to_bytes(len(iv), "big")
    return bytes(a ^ b for a, b in zip(iv, padded, strict=True))


# -- TLS 1.3 (RFC 8446 section 7) ------------------------------------------------


def _hkdf_expand_label(digest: str, secret: bytes, label: str, length: int) -> bytes:
    full = b"tls13 " + label.encode()
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + b"\x00"  # empty context
    output, block, counter = b"", b"", 1
    while len(output) < length:
        block = hmac.new(secret, block + info + bytes([counter]), digest).digest()
        output += block
        counter += 1
    return output[:length]


def open_tls13(
    suite: tuple[str, int, str], secret: bytes, stream: bytes
) -> list[tuple[int, bytes]]:
    """``(inner content type, plaintext)`` of each record of ``stream`` that ``secret`` opens."""
    kind, key_size, digest = suite
    key = _hkdf_expand_label(digest, secret, "key", key_size)
    iv = _hkdf_expand_label(digest, secret, "iv", 12)
    aead = _aead(kind, key)
    opened = []
    for header, body in _records(stream):
        if header[0] != 23:
            continue
        for sequence in _SEQUENCES:
            try:
                plain = aead.decrypt(_xor_sequence(iv, sequence), body, header)
            except InvalidTag:
                continue
            content = plain.rstrip(b"\x00")
            opened.append((content[-1], content[:-1]))
            break
    return opened


# -- TLS 1.2 (RFC 5246 section 5 and 6.3; RFC 5288; RFC 7905) ---------------------


def _prf(digest: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    seed = label + seed
    output, a = b"", seed
    while len(output) < length:
        a = hmac.new(secret, a, digest).digest()
        output += hmac.new(secret, a + seed, digest).digest()
    return output[:length]


def open_tls12(
    suite: tuple[str, int, str], master: bytes, wire: Wire, from_client: bool
) -> list[bytes]:
    """The plaintext of each record one end sent that the master secret opens."""
    kind, key_size, digest = suite
    iv_size = 12 if kind == "chacha" else 4
    block = _prf(
        digest,
        master,
        b"key expansion",
        wire.server_random + wire.client_random,
        2 * key_size + 2 * iv_size,
    )
    keys = (block[:key_size], block[key_size : 2 * key_size])
    ivs = (block[2 * key_size : 2 * key_size + iv_size], block[2 * key_size + iv_size :])
    side = 0 if from_client else 1
    aead, iv = _aead(kind, keys[side]), ivs[side]
    stream = bytes(wire.client_bytes if from_client else wire.server_bytes)
    opened = []
    for header, body in _records(stream):
        if header[0] not in (22, 23):
            continue
        for sequence in _SEQUENCES:
            if kind == "aes":
                nonce, ciphertext = iv + body[:8], body[8:]
            else:
                nonce, ciphertext = _xor_sequence(iv, sequence), body
            plain_length = len(ciphertext) - 16
            if plain_length < 0:
                break
            aad = sequence.to_bytes(8, "big") + header[:3] + plain_length.to_bytes(2, "big")
            try:
                opened.append(aead.decrypt(nonce, ciphertext, aad))
            except InvalidTag:
                continue
            break
    return opened


# -- the tests' helpers --------------------------------------------------------


def require_keylog(backend: Backend, pki: PKI, path: pathlib.Path) -> None:
    """Skip unless ``backend`` logs keys; without KEY_LOG it must refuse the configuration."""
    attempts: list[Callable[[], object]] = []
    if Capability.CLIENT in backend.capabilities:
        config = pki.client_config(keylog_filename=str(path))
        attempts.append(lambda: backend.client_context(config))
    if Capability.SERVER in backend.capabilities:
        server_config = pki.server_config(keylog_filename=str(path))
        attempts.append(lambda: backend.server_context(server_config))
    if Capability.KEY_LOG not in backend.capabilities:
        for attempt in attempts:
            with pytest.raises(ConfigurationError), warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureConfigurationWarning)
                attempt()
        pytest.skip(f"backend {backend.name!r} lacks 'key-log' (refused as required)")


def make_logging(make: Callable[[], _T], version: TLSVersion) -> _T:
    """``make()`` (a context with a key log), where a TLS 1.2 refusal may skip.

    A library that hands out TLS 1.3 secrets only (NSS's secret callback) cannot
    log a TLS 1.2 connection: its backend may refuse, with ConfigurationError, a
    configuration with a key log that allows TLS 1.2; the test then skips with
    that message.  Refusing a TLS 1.3-only configuration fails the test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        try:
            return make()
        except ConfigurationError as exc:
            if version is TLSVersion.TLSv1_3:
                raise
            assert "TLS 1.3" in str(exc), f"a TLS 1.2 key log refused without saying why: {exc}"
            pytest.skip(f"TLS 1.2 key log refused as its library cannot log it: {exc}")


def logged_contexts(
    peers: Peers,
    version: TLSVersion,
    client_log: pathlib.Path | None,
    server_log: pathlib.Path | None,
) -> tuple[ClientContext, ServerContext]:
    """Contexts pinned to ``version``; each logs to its path (None: it does not log)."""
    client_config = peers.client_config(**only_version(version))
    server_config = peers.server_config(**only_version(version))
    if client_log is not None:
        client_config = client_config.update(keylog_filename=str(client_log))
    if server_log is not None:
        server_config = server_config.update(keylog_filename=str(server_log))
    return (
        make_logging(lambda: peers.client_backend.client_context(client_config), version),
        make_logging(lambda: peers.server_backend.server_context(server_config), version),
    )


def recorded(
    client_context: ClientContext, server_context: ServerContext, session: TLSSession | None = None
) -> Wire:
    """A recorded connection between the two contexts, after its handshake."""
    wire = Wire(
        client_context.wrap_buffers("localhost", session=session), server_context.wrap_buffers()
    )
    wire.handshake()
    return wire


def logged_pair(
    peers: Peers,
    version: TLSVersion,
    client_log: pathlib.Path | None,
    server_log: pathlib.Path | None,
) -> Wire:
    """A recorded connection; each side logs to its path (None: that side does not log)."""
    return recorded(*logged_contexts(peers, version, client_log, server_log))


def _best_version(*backends: Backend) -> TLSVersion:
    both = all(Capability.TLSv1_3 in b.capabilities for b in backends)
    return TLSVersion.TLSv1_3 if both else TLSVersion.TLSv1_2


def logs(backend: Backend, path: pathlib.Path) -> pathlib.Path | None:
    return path if Capability.KEY_LOG in backend.capabilities else None


def check_secrets(
    wire: Wire, entries: dict[tuple[str, bytes], bytes], markers: tuple[bytes, bytes]
) -> None:
    """The logged secrets open what each end sent (``markers``: client's, server's data)."""
    version = wire.client.negotiated_tls_version
    suite = _suite(wire.client)
    random = wire.client_random
    labels = TLS13_LABELS if version is TLSVersion.TLSv1_3 else TLS12_LABELS
    missing = [label for label in labels if (label, random) not in entries]
    assert not missing, f"no {missing} for client random {random.hex()}; logged: {sorted(entries)}"
    if version is TLSVersion.TLSv1_3:
        for side, stream, marker in (
            ("CLIENT", wire.client_bytes, markers[0]),
            ("SERVER", wire.server_bytes, markers[1]),
        ):
            handshake = open_tls13(
                suite, entries[(f"{side}_HANDSHAKE_TRAFFIC_SECRET", random)], bytes(stream)
            )
            assert handshake and all(t == 22 for t, _ in handshake), (
                f"{side}_HANDSHAKE_TRAFFIC_SECRET opens no handshake record: {handshake}"
            )
            data = open_tls13(suite, entries[(f"{side}_TRAFFIC_SECRET_0", random)], bytes(stream))
            application = b"".join(p for t, p in data if t == 23)
            assert marker in application, f"{side}_TRAFFIC_SECRET_0 does not open the data"
    else:
        master = entries[("CLIENT_RANDOM", random)]
        assert len(master) == 48, f"a TLS 1.2 master secret is 48 bytes, not {len(master)}"
        for from_client, marker in ((True, markers[0]), (False, markers[1])):
            opened = b"".join(open_tls12(suite, master, wire, from_client))
            assert marker in opened, (
                f"the master secret does not open the {'client' if from_client else 'server'}'s data"
            )


def _markers() -> tuple[bytes, bytes]:
    token = secrets.token_hex(8).encode()
    return b"client says " + token, b"server says " + token


def _converse(wire: Wire, markers: tuple[bytes, bytes]) -> None:
    wire.send(wire.client, markers[0])
    wire.send(wire.server, markers[1])


class TestKeyLog:
    def test_a_context_with_a_key_log_warns(
        self, backend: Backend, pki: PKI, tmp_path: pathlib.Path
    ) -> None:
        path = tmp_path / "keys.log"
        require_keylog(backend, pki, path)
        pinned = only_version(_best_version(backend))
        if Capability.CLIENT in backend.capabilities:
            with pytest.warns(InsecureConfigurationWarning, match="keylog_filename"):
                backend.client_context(pki.client_config(keylog_filename=str(path), **pinned))
        if Capability.SERVER in backend.capabilities:
            with pytest.warns(InsecureConfigurationWarning, match="keylog_filename"):
                backend.server_context(pki.server_config(keylog_filename=str(path), **pinned))

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_logged_secrets_decrypt_the_connection(
        self, backend: Backend, peers: Peers, pki: PKI, tmp_path: pathlib.Path, version: TLSVersion
    ) -> None:
        require_keylog(backend, pki, tmp_path / "probe.log")
        require_version(peers, version)
        client_log, server_log = tmp_path / "client.log", tmp_path / "server.log"
        wire = logged_pair(
            peers,
            version,
            logs(peers.client_backend, client_log),
            logs(peers.server_backend, server_log),
        )
        assert wire.client.negotiated_tls_version is version
        markers = _markers()
        _converse(wire, markers)
        checked = 0
        for path in (client_log, server_log):
            if path.exists():
                check_secrets(wire, read_keylog(path), markers)
                checked += 1
        assert checked, "neither end wrote its key log"

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_both_ends_log_the_same_secrets(
        self, backend: Backend, peers: Peers, pki: PKI, tmp_path: pathlib.Path, version: TLSVersion
    ) -> None:
        require_keylog(backend, pki, tmp_path / "probe.log")
        require_version(peers, version)
        for other in (peers.client_backend, peers.server_backend):
            if Capability.KEY_LOG not in other.capabilities:
                pytest.skip(f"backend {other.name!r} plays one end here and lacks 'key-log'")
        client_log, server_log = tmp_path / "client.log", tmp_path / "server.log"
        wire = logged_pair(peers, version, client_log, server_log)
        _converse(wire, _markers())
        _assert_same(wire, read_keylog(client_log), read_keylog(server_log))

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    @pytest.mark.parametrize("role", ["client", "server"])
    def test_the_same_secrets_as_the_stdlib_peer(
        self,
        backend: Backend,
        pki: PKI,
        tmp_path: pathlib.Path,
        version: TLSVersion,
        role: str,
    ) -> None:
        """OpenSSL (the stdlib backend) at the other end logs the reference secrets."""
        require_keylog(backend, pki, tmp_path / "probe.log")
        stdlib = backend_named("stdlib")
        if backend.name == "stdlib":
            pytest.skip("the stdlib backend is the reference itself")
        if Capability.KEY_LOG not in stdlib.capabilities:
            pytest.skip("the stdlib backend lacks 'key-log' here")
        wanted = Capability.CLIENT if role == "client" else Capability.SERVER
        if wanted not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} has no {role} side")
        peers = Peers(backend, stdlib, pki) if role == "client" else Peers(stdlib, backend, pki)
        require_version(peers, version)
        client_log, server_log = tmp_path / "client.log", tmp_path / "server.log"
        wire = logged_pair(peers, version, client_log, server_log)
        markers = _markers()
        _converse(wire, markers)
        reference = read_keylog(server_log if role == "client" else client_log)
        check_secrets(wire, reference, markers)
        _assert_same(wire, read_keylog(client_log), read_keylog(server_log))

    def test_every_connection_is_logged(
        self, backend: Backend, peers: Peers, pki: PKI, tmp_path: pathlib.Path
    ) -> None:
        """One file, several connections (and contexts): each client random has its lines."""
        require_keylog(backend, pki, tmp_path / "probe.log")
        path = tmp_path / "shared.log"
        randoms = []
        version = _best_version(peers.client_backend, peers.server_backend)
        for _ in range(3):
            wire = logged_pair(
                peers, version, logs(peers.client_backend, path), logs(peers.server_backend, path)
            )
            _converse(wire, _markers())
            randoms.append(wire.client_random)
        entries = read_keylog(path)
        logged = {random for _, random in entries}
        assert set(randoms) <= logged, f"{len(randoms)} connections, logged: {len(logged)}"

    @pytest.mark.parametrize("version", VERSIONS, ids=str)
    def test_a_resumed_connection_is_logged(
        self, backend: Backend, peers: Peers, pki: PKI, tmp_path: pathlib.Path, version: TLSVersion
    ) -> None:
        """A resumption has a new client random and new secrets (TLS 1.2: the session's
        master secret under the new random); the log must open it too."""
        from .resumption import require_resumption

        require_keylog(backend, pki, tmp_path / "probe.log")
        require_resumption(peers)
        require_version(peers, version)
        client_log, server_log = tmp_path / "client.log", tmp_path / "server.log"
        client_context, server_context = logged_contexts(
            peers,
            version,
            logs(peers.client_backend, client_log),
            logs(peers.server_backend, server_log),
        )
        first = recorded(client_context, server_context)
        _converse(first, _markers())
        session = first.client.session
        assert session is not None, "no session after data went both ways"
        wire = recorded(client_context, server_context, session)
        assert wire.client.session_reused and wire.server.session_reused
        markers = _markers()
        _converse(wire, markers)
        checked = 0
        for path in (client_log, server_log):
            if path.exists():
                check_secrets(wire, read_keylog(path), markers)
                checked += 1
        assert checked, "neither end wrote its key log"

    def test_an_unopenable_path_is_refused_at_configuration(self, tmp_path: pathlib.Path) -> None:
        for bad in (tmp_path / "no-such-dir" / "keys.log", tmp_path):
            with pytest.raises(ConfigurationError, match="keylog_filename"):
                TLSConfiguration(keylog_filename=str(bad))

    def test_a_failed_handshake_does_not_break_the_log(
        self, backend: Backend, peers: Peers, pki: PKI, other_pki: PKI, tmp_path: pathlib.Path
    ) -> None:
        """A client that refuses the server's certificate: a TLSError, and what it logged is well formed."""
        require_keylog(backend, pki, tmp_path / "probe.log")
        path = tmp_path / "refused.log"
        version = _best_version(peers.client_backend, peers.server_backend)
        client_config = peers.client_config(**only_version(version))
        if Capability.KEY_LOG in peers.client_backend.capabilities:
            client_config = client_config.update(keylog_filename=str(path))
        client_context = make_logging(
            lambda: peers.client_backend.client_context(client_config), version
        )
        client = client_context.wrap_buffers("localhost")
        server_config = other_pki.server_config(**only_version(version))
        server = peers.server_backend.server_context(server_config).wrap_buffers()
        wire = Wire(client, server)
        with pytest.raises(TLSError):
            wire.handshake()
        if path.exists():
            read_keylog(path)  # whatever was written is well formed


def _assert_same(
    wire: Wire,
    client_entries: dict[tuple[str, bytes], bytes],
    server_entries: dict[tuple[str, bytes], bytes],
) -> None:
    random = wire.client_random
    labels = (
        TLS13_LABELS if wire.client.negotiated_tls_version is TLSVersion.TLSv1_3 else TLS12_LABELS
    )
    for label in labels:
        key = (label, random)
        assert key in client_entries, f"the client logged no {label}"
        assert key in server_entries, f"the server logged no {label}"
        assert client_entries[key] == server_entries[key], f"the ends log different {label}"
