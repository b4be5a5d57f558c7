"""Key-exchange groups: the NamedGroup enum, TLSConfiguration's checks, each backend's
refusals, the socket API and ``tlsapi connect``.

The handshake behaviour every backend must show is in the conformance kit
(tlsapi/testing/conformance/groups.py); across backends in test_groups_pairwise.py.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import tlsapi
from tlsapi import (
    Capability,
    CipherSuite,
    ConfigurationError,
    NamedGroup,
    TLSConfiguration,
    TLSVersion,
)
from tlsapi._cli import main
from tlsapi.testing import PKI

# -- the enum ------------------------------------------------------------------------


def test_iana_numbers() -> None:
    assert NamedGroup.X25519 == 29 and NamedGroup.X448 == 30
    assert (NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.secp521r1) == (23, 24, 25)
    assert [int(g) for g in NamedGroup if g.is_finite_field] == [256, 257, 258, 259, 260]
    assert NamedGroup.from_number(29) is NamedGroup.X25519


def test_unknown_number_is_a_named_pseudo_member() -> None:
    unknown = NamedGroup.from_number(0x11EC)
    assert isinstance(unknown, NamedGroup)
    assert unknown == 0x11EC and unknown.name == "UNKNOWN_0x11EC"
    assert NamedGroup.from_number(0x11EC) is unknown
    assert unknown not in list(NamedGroup)
    assert unknown.display_name == "UNKNOWN_0x11EC"


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("X25519", NamedGroup.X25519),
        ("x25519", NamedGroup.X25519),
        ("secp256r1", NamedGroup.secp256r1),
        ("P-256", NamedGroup.secp256r1),
        ("prime256v1", NamedGroup.secp256r1),
        ("p_384", NamedGroup.secp384r1),
        ("FFDHE3072", NamedGroup.ffdhe3072),
    ],
)
def test_from_name(name: str, group: NamedGroup) -> None:
    assert NamedGroup.from_name(name) is group


def test_unknown_name_says_what_is_known() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown key-exchange group 'curve9'.*X25519"):
        NamedGroup.from_name("curve9")


def test_display_names() -> None:
    assert NamedGroup.secp384r1.display_name == "P-384"
    assert NamedGroup.X25519.display_name == "X25519"
    assert NamedGroup.ffdhe2048.display_name == "ffdhe2048"


# -- the configuration ---------------------------------------------------------------


def test_default_is_the_library_defaults() -> None:
    assert TLSConfiguration().key_exchange_groups is None


def test_values_are_normalised() -> None:
    config = TLSConfiguration(key_exchange_groups=["x25519", 23, NamedGroup.X448, 0x11EC])
    assert config.key_exchange_groups == (
        NamedGroup.X25519,
        NamedGroup.secp256r1,
        NamedGroup.X448,
        NamedGroup.from_number(0x11EC),
    )
    assert all(isinstance(g, NamedGroup) for g in config.key_exchange_groups)
    assert hash(config) == hash(config.update())
    assert config.update(key_exchange_groups=None).key_exchange_groups is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "empty"),
        ((), "empty"),
        ("X25519", "sequence"),
        (b"\x00\x1d", "sequence"),
        (29, "sequence"),
        (object(), "sequence"),
        ([True], "not a NamedGroup"),
        ([0], "not a NamedGroup"),
        ([0x10000], "not a NamedGroup"),
        ([1.5], "not a NamedGroup"),
        (["X25519", "x25519"], "X25519 twice"),
        ([NamedGroup.secp256r1, "P-256"], "secp256r1 twice"),
        (["curve9"], "unknown key-exchange group"),
    ],
)
def test_bad_values_are_refused(value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TLSConfiguration(key_exchange_groups=value)  # type: ignore[arg-type]


# -- what each backend refuses ---------------------------------------------------------


def test_stdlib_pins_one_group_and_refuses_a_list(pki: PKI) -> None:
    stdlib = tlsapi.backend("stdlib")
    assert Capability.GROUP_SELECTION not in stdlib.capabilities
    assert Capability.NEGOTIATED_GROUP not in stdlib.capabilities
    stdlib.client_context(pki.client_config(key_exchange_groups=("X448",)))
    with pytest.raises(ConfigurationError, match="one key-exchange group only"):
        stdlib.client_context(pki.client_config(key_exchange_groups=("X25519", "P-256")))
    with pytest.raises(ConfigurationError, match="one key-exchange group only"):
        stdlib.server_context(pki.server_config(key_exchange_groups=("X25519", "P-256")))


def test_stdlib_pin_reaches_the_client_hello() -> None:
    """The one group is all the ClientHello's supported_groups holds (checked on the wire)."""
    stdlib = tlsapi.backend("stdlib")
    config = TLSConfiguration(validate_certificates=False, key_exchange_groups=("ffdhe3072",))
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        client = stdlib.client_context(config).wrap_buffers("localhost")
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    hello = client.peek_outgoing(client.outgoing_bytes_buffered())
    assert _supported_groups(hello) == [NamedGroup.ffdhe3072]


def _supported_groups(record: bytes) -> list[int]:
    """The supported_groups extension of a ClientHello record (no session resumption)."""
    at = 5 + 4 + 2 + 32
    at += 1 + record[at]
    at += 2 + int.from_bytes(record[at : at + 2], "big")
    at += 1 + record[at]
    end = at + 2 + int.from_bytes(record[at : at + 2], "big")
    at += 2
    while at < end:
        kind = int.from_bytes(record[at : at + 2], "big")
        size = int.from_bytes(record[at + 2 : at + 4], "big")
        body = record[at + 4 : at + 4 + size]
        if kind == 10:
            return [int.from_bytes(body[i : i + 2], "big") for i in range(2, len(body), 2)]
        at += 4 + size
    raise AssertionError("no supported_groups extension")


DHE_12 = {
    "ciphers": (CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,),
    "lowest_supported_version": TLSVersion.TLSv1_2,
    "highest_supported_version": TLSVersion.TLSv1_2,
}


@pytest.mark.parametrize("name", ["stdlib", "gnutls"])
def test_tls12_dhe_cannot_be_held_to_the_list(name: str, rsa_pki: PKI) -> None:
    backend = _backend_or_skip(name)
    with pytest.raises(ConfigurationError, match="DHE"):
        backend.client_context(rsa_pki.client_config(key_exchange_groups=("ffdhe2048",), **DHE_12))
    with pytest.raises(ConfigurationError, match="DHE"):
        backend.server_context(rsa_pki.server_config(key_exchange_groups=("ffdhe2048",), **DHE_12))
    # Without the list, DHE is the library's own business.
    backend.client_context(rsa_pki.client_config(**DHE_12))


def test_nss_holds_tls12_dhe_to_the_list(rsa_pki: PKI) -> None:
    """SSL_REQUIRE_DH_NAMED_GROUPS: an NSS pair uses the pinned finite-field group."""
    nss = _backend_or_skip("nss")
    from tlsapi.testing.conformance._support import Peers

    peers = Peers(nss, nss, rsa_pki)
    client, server = peers.connect(
        rsa_pki.client_config(key_exchange_groups=("ffdhe3072",), **DHE_12),
        rsa_pki.server_config(key_exchange_groups=("ffdhe3072",), **DHE_12),
    )
    assert client.cipher() is CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    if Capability.NEGOTIATED_GROUP in nss.capabilities:
        assert client.negotiated_group() is NamedGroup.ffdhe3072
        assert server.negotiated_group() is NamedGroup.ffdhe3072


def test_nss_has_no_x448(pki: PKI) -> None:
    nss = _backend_or_skip("nss")
    assert NamedGroup.X448 not in nss.supported_groups
    with pytest.raises(ConfigurationError, match=r"NSS cannot use the key-exchange group.*X448"):
        nss.client_context(pki.client_config(key_exchange_groups=("X25519", "X448")))


def _backend_or_skip(name: str) -> tlsapi.Backend:
    if name not in [b.name for b in tlsapi.available_backends()]:
        pytest.skip(f"backend {name!r} is not available here")
    return tlsapi.backend(name)


# -- the socket API ---------------------------------------------------------------------


def test_socket_reports_the_group(backend: tlsapi.Backend, pki: PKI) -> None:
    group = NamedGroup.secp384r1
    if group not in backend.supported_groups:
        pytest.skip(f"{backend.name} cannot pin {group.name}")
    server_context = tlsapi.backend("stdlib").server_context(
        pki.server_config(key_exchange_groups=(group,))
    )
    client_context = backend.client_context(pki.client_config(key_exchange_groups=(group,)))
    left, right = socket.socketpair()
    with left, right:
        server = server_context.wrap_socket(right)
        thread = threading.Thread(target=server.do_handshake)
        thread.start()
        client = client_context.wrap_socket(left, "localhost")
        assert client.negotiated_group() is None
        client.do_handshake()
        thread.join(10)
        expected = group if Capability.NEGOTIATED_GROUP in backend.capabilities else None
        assert client.negotiated_group() is expected
        assert server.negotiated_group() is None  # stdlib cannot tell


# -- tlsapi connect ---------------------------------------------------------------------


class _P384Server:
    """An ssl-module server that accepts only P-384 for the key exchange."""

    def __init__(self, pki: PKI, tmp_path: Path) -> None:
        files = pki.server_identity.write(tmp_path, "server")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(files.chain, files.key)
        self.context.set_ecdh_curve("secp384r1")
        self.ca_file = pki.write_root(tmp_path, "ca.pem")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port: int = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(10)
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    while tls.recv(4096):
                        pass
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def p384_server(pki: PKI, tmp_path: Path) -> Iterator[_P384Server]:
    server = _P384Server(pki, tmp_path)
    yield server
    server.stop()


def test_connect_shows_the_group(
    backend: tlsapi.Backend, p384_server: _P384Server, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["connect", f"localhost:{p384_server.port}", "--backend", backend.name]
    assert main([*args, "--cafile", str(p384_server.ca_file)]) == 0
    out = capsys.readouterr().out
    if Capability.NEGOTIATED_GROUP in backend.capabilities:
        assert re.search(r"^group:\s+P-384$", out, re.MULTILINE), out
    else:
        assert re.search(r"^group:\s+unknown \(.*lacks negotiated-group\)$", out, re.MULTILINE)


def test_connect_groups_option(
    backend: tlsapi.Backend, p384_server: _P384Server, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["connect", f"localhost:{p384_server.port}", "--backend", backend.name]
    args += ["--cafile", str(p384_server.ca_file)]
    assert main([*args, "--groups", "X25519"]) == 1
    assert "handshake: FAILED" in capsys.readouterr().out
    assert main([*args, "--groups", "curve9"]) == 2  # a bad argument
    err = capsys.readouterr().err
    assert err.startswith("tlsapi connect: error: --groups: unknown key-exchange group")
    assert len(err.strip().splitlines()) == 1


# -- an independent witness: openssl s_client ----------------------------------------------


def test_server_group_as_openssl_s_client_sees_it(
    backend: tlsapi.Backend, pki: PKI, tmp_path: Path
) -> None:
    """openssl s_client prefers X25519; our server wants P-384 and gets it ("Server Temp Key")."""
    if Capability.SERVER not in backend.capabilities:
        pytest.skip(f"{backend.name} has no server side")
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (Debian: openssl)")
    p384 = NamedGroup.secp384r1
    groups = (p384, NamedGroup.X25519)
    if Capability.GROUP_SELECTION not in backend.capabilities:
        groups = (p384,)  # one group is all it can pin
    context = backend.server_context(pki.server_config(key_exchange_groups=groups))
    ca_file = pki.write_root(tmp_path, "ca.pem")
    reported: list[NamedGroup | None] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(20)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            conn.settimeout(20)
            with context.wrap_socket(conn) as tls:
                tls.do_handshake()
                reported.append(tls.negotiated_group())
                with contextlib.suppress(tlsapi.TLSError, OSError):
                    while tls.recv(4096):
                        pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        argv = [openssl, "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"]
        client = subprocess.run(
            [*argv, "-CAfile", str(ca_file), "-groups", "X25519:P-384"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        thread.join(20)
    assert "Verification: OK" in client.stdout, client.stdout + client.stderr
    assert "Server Temp Key: ECDH, secp384r1, 384 bits" in client.stdout, client.stdout
    expected = p384 if Capability.NEGOTIATED_GROUP in backend.capabilities else None
    assert reported == [expected]
