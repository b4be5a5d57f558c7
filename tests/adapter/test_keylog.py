"""keylog_filename through the adapter, checked against the secrets OpenSSL logs for the same connection.

The peer is the ssl module (OpenSSL) with a key log of its own: both ends of
one connection derive the same secrets, so every line the backend logs must
be in the peer's file, label for label, and the secrets Wireshark needs to
decrypt (TLS 1.3: both handshake and both application traffic secrets; TLS
1.2: the master secret by client random) must be there.  A backend without
key-log refuses the setting when it is made (ConfigurationError, asserted).
"""

from __future__ import annotations

import os
import ssl
import sys
import warnings
from pathlib import Path

import pytest

import tlsapi

from .conftest import Files, make_client, make_server, skip_unless_serves, skip_unless_tls13
from .test_bio import End, _handshake, _until

REQUIRED = {
    "TLSv1.3": {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    },
    "TLSv1.2": {"CLIENT_RANDOM"},
}
KEY_LOG = tlsapi.Capability.KEY_LOG


def _skip_without_key_log(backend: tlsapi.Backend, path: Path) -> None:
    """Without key-log, setting keylog_filename raises at once and leaves no file: asserted."""
    if backend.supports(KEY_LOG):
        return
    context = tlsapi.SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend=backend)
    with pytest.raises(tlsapi.ConfigurationError, match=r"key-log.*SSLKEYLOGFILE"):
        context.keylog_filename = str(path)
    assert context.keylog_filename is None and not path.exists()
    pytest.skip(f"backend {backend.name!r} lacks {KEY_LOG.value!r} (refused when set)")


def _entries(path: Path) -> dict[tuple[str, str], str]:
    """(label, client random) -> secret, after checking the file's form (comments: ssl's)."""
    lines = path.read_text("ascii").splitlines()
    entries: dict[tuple[str, str], str] = {}
    for line in lines:
        if line.startswith("#"):
            continue
        label, client_random, secret = line.split(" ")
        assert len(client_random) == 64 and int(client_random, 16) >= 0, line
        assert len(secret) in (64, 96) and int(secret, 16) >= 0, line
        assert entries.setdefault((label, client_random), secret) == secret, line
    return entries


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
@pytest.mark.parametrize("side", ["client", "server"])
def test_logged_secrets_are_the_peers(
    backend: tlsapi.Backend, files: Files, tmp_path: Path, side: str, version: str
) -> None:
    ours_is_client = side == "client"
    ours_path, peer_path = tmp_path / "ours.log", tmp_path / "openssl.log"
    _skip_without_key_log(backend, ours_path)
    skip_unless_serves(None if ours_is_client else backend)
    if version == "TLSv1.3":
        skip_unless_tls13(backend)
    client_context = make_client(files, backend if ours_is_client else None)
    server_context = make_server(files, None if ours_is_client else backend)
    pinned = ssl.TLSVersion[version.replace(".", "_")]
    for context in (client_context, server_context):
        context.minimum_version = context.maximum_version = pinned
    ours, peer = (
        (client_context, server_context) if ours_is_client else (server_context, client_context)
    )
    ours.keylog_filename = str(ours_path)
    peer.keylog_filename = str(peer_path)
    assert ours.keylog_filename == str(ours_path)

    # The first connection makes the backend's context, which warns (once per context).
    try:
        with pytest.warns(tlsapi.InsecureConfigurationWarning, match="keylog_filename"):
            first = (End(client_context, False), End(server_context, True))
    except tlsapi.ConfigurationError as exc:
        # A library that hands out no TLS 1.2 secrets (NSS's secret callback) says so.
        assert version == "TLSv1.2" and "TLS 1.3" in str(exc), exc
        if "lowest_supported_version" in str(exc):  # said in the adapter's terms too
            assert "lowest_supported_version is minimum_version" in str(exc)
        pytest.skip(f"backend {backend.name!r} logs TLS 1.3 keys only: {exc}")
    randoms = set()
    for client, server in (first, (End(client_context, False), End(server_context, True))):
        # Two connections: two client randoms, appended to the same file.
        _handshake(client, server)
        assert client.obj.version() == version
        client.obj.write(b"ping")
        client.send_to(server)
        assert _until(lambda s=server: s.obj.read(4), (client, server)) == b"ping"  # type: ignore[misc]

        logged, reference = _entries(ours_path), _entries(peer_path)
        new = {key: value for key, value in logged.items() if key[1] not in randoms}
        assert {label for label, _ in new} >= REQUIRED[version], sorted(new)
        (client_random,) = {random for _, random in new}
        randoms.add(client_random)
        for key, secret in new.items():
            assert reference.get(key) == secret, f"{key[0]} differs from OpenSSL's"


def test_keylog_filename_is_set_as_in_ssl(
    backend: tlsapi.Backend, files: Files, tmp_path: Path
) -> None:
    """Path types, errors, the header line and None: what ssl does, with the file made 0600."""
    _skip_without_key_log(backend, tmp_path / "keys.log")
    context = tlsapi.SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend=backend)
    reference = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for bad in (123, 1.5):
        for candidate in (context, reference):
            with pytest.raises(TypeError):
                candidate.keylog_filename = bad  # type: ignore[assignment]
    missing = tmp_path / "missing" / "keys.log"
    for candidate in (context, reference):
        with pytest.raises(FileNotFoundError):
            candidate.keylog_filename = str(missing)
        with pytest.raises(ValueError, match="null"):  # Windows words it otherwise
            candidate.keylog_filename = str(tmp_path / "keys\0.log")
    assert context.keylog_filename is None

    path = tmp_path / "keys.log"
    for value in (path, os.fsencode(path), str(path)):
        context.keylog_filename = value
        assert context.keylog_filename == value  # given back as it was set, as ssl does
    assert path.read_text() == ""  # made now; the lines come with connections
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600  # it will hold secrets
    # An existing file is appended to, never truncated.
    existing = tmp_path / "existing.log"
    existing.write_text("CLIENT_RANDOM 00 00\n")
    context.keylog_filename = str(existing)
    assert existing.read_text() == "CLIENT_RANDOM 00 00\n"

    context.keylog_filename = None
    assert context.keylog_filename is None
    context.load_verify_locations(files.root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no key log, no warning
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="localhost")


@pytest.mark.skipif(bool(sys.flags.ignore_environment), reason="python -E ignores SSLKEYLOGFILE")
def test_sslkeylogfile_reaches_injected_contexts(
    backend: tlsapi.Backend, files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ssl.create_default_context() sets keylog_filename from SSLKEYLOGFILE: so does it injected,
    and its connections log their secrets there (or the backend says what to change)."""
    path = tmp_path / "env-keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(path))
    server_context = make_server(files, None)  # the ssl module's, made before injecting
    tlsapi.inject_into_ssl(backend)
    try:
        if not backend.supports(KEY_LOG):
            with pytest.raises(tlsapi.ConfigurationError, match="SSLKEYLOGFILE"):
                ssl.create_default_context()
            pytest.skip(f"backend {backend.name!r} lacks {KEY_LOG.value!r} (refused when set)")
        context = ssl.create_default_context(cafile=str(files.root))
        assert isinstance(context, tlsapi.SSLContext)
        assert context.keylog_filename == str(path) and path.exists()
        try:
            with pytest.warns(tlsapi.InsecureConfigurationWarning, match="keylog_filename"):
                client = End(context, False)
        except tlsapi.ConfigurationError as exc:
            # nss logs TLS 1.3 only: its refusal names the ssl setting that makes it work.
            assert "minimum_version" in str(exc), exc
            context.minimum_version = ssl.TLSVersion.TLSv1_3
            with pytest.warns(tlsapi.InsecureConfigurationWarning, match="keylog_filename"):
                client = End(context, False)
        server = End(server_context, True)
        _handshake(client, server)
    finally:
        tlsapi.extract_from_ssl()
    labels = {label for label, _ in _entries(path)}
    assert labels & {"CLIENT_RANDOM", "CLIENT_TRAFFIC_SECRET_0"}, labels
