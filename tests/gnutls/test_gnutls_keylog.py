"""The key log on GnuTLS: what real peers log for the same connection, and $SSLKEYLOGFILE.

Our lines must be the very lines the peer's library writes for the same
connection: ``gnutls-serv`` (GnuTLS's own writer, through $SSLKEYLOGFILE)
for our client, ``openssl s_client -keylogfile`` for our server.  GnuTLS's
default keylog function appends to $SSLKEYLOGFILE; tlsapi honours that
variable only when a program passes it, so a child Python process with the
variable set shows that nothing goes there (and that GnuTLS's own function,
put back on a session, would write there: the control), and that
keylog_filename writes the same labels with or without the variable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from gnutls_loopback import LoopbackServer, run, talk

import tlsapi
from tlsapi import InsecureConfigurationWarning, TLSError, TLSVersion
from tlsapi.testing import PKI, handshake, transfer
from tlsapi.testing.peers import GNUTLS_SERVER, OPENSSL_CLIENT, PeerFiles, run_server

VERSIONS = [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3]
IDS = ["TLSv1.2", "TLSv1.3"]
TLS13_LABELS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
}

pytestmark = pytest.mark.filterwarnings("ignore::tlsapi.InsecureConfigurationWarning")


def _only(version: TLSVersion) -> dict[str, TLSVersion]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


def _lines(path: Path) -> set[str]:
    return set(path.read_text().splitlines()) if path.exists() else set()


def _labels(lines: set[str]) -> set[str]:
    return {line.split()[0] for line in lines}


def test_a_context_with_a_key_log_warns(pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path) -> None:
    with pytest.warns(InsecureConfigurationWarning, match="keylog_filename"):
        gnutls.client_context(pki.client_config(keylog_filename=str(tmp_path / "keys")))


@pytest.mark.peer
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_our_client_logs_what_gnutls_serv_logs(
    pki: PKI,
    gnutls: tlsapi.Backend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    version: TLSVersion,
) -> None:
    ours, theirs = tmp_path / "ours.keys", tmp_path / "theirs.keys"
    files = PeerFiles.from_pki(tmp_path, pki, pki.server_identity)
    context = gnutls.client_context(pki.client_config(keylog_filename=str(ours), **_only(version)))
    with monkeypatch.context() as patch:
        patch.setenv("SSLKEYLOGFILE", str(theirs))  # for the peer process only (copied at start)
        server = run_server(GNUTLS_SERVER, files, lowest_version=version, highest_version=version)
        peer = server.__enter__()
    try:
        talk(context, peer.port).close()
    finally:
        server.__exit__(None, None, None)
    logged = _lines(ours)
    assert logged and logged == _lines(theirs)
    expected = TLS13_LABELS if version is TLSVersion.TLSv1_3 else {"CLIENT_RANDOM"}
    assert _labels(logged) == expected


@pytest.mark.peer
@pytest.mark.parametrize("version", VERSIONS, ids=IDS)
def test_our_server_logs_what_openssl_s_client_logs(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path, version: TLSVersion
) -> None:
    OPENSSL_CLIENT.check_installed()
    ours, theirs = tmp_path / "ours.keys", tmp_path / "theirs.keys"
    files = PeerFiles.from_pki(tmp_path, pki)
    context = gnutls.server_context(pki.server_config(keylog_filename=str(ours), **_only(version)))
    flag = "-tls1_2" if version is TLSVersion.TLSv1_2 else "-tls1_3"
    argv = [
        "openssl", "s_client", "-servername", "localhost", "-CAfile", str(files.ca_file),
        "-verify_return_error", "-ign_eof", flag, "-keylogfile", str(theirs),
    ]  # fmt: skip
    with LoopbackServer(context) as server:
        output = run([*argv, "-connect", f"127.0.0.1:{server.port}"], stdin=b"ping\n")
    assert server.served and server.served[0].received == b"ping\n", output
    # s_client writes comment lines ("# SSL/TLS secrets log file, ...").
    theirs_lines = {line for line in _lines(theirs) if not line.startswith("#")}
    logged = _lines(ours)
    assert logged and logged == theirs_lines
    expected = TLS13_LABELS if version is TLSVersion.TLSv1_3 else {"CLIENT_RANDOM"}
    assert _labels(logged) == expected


def test_key_updates_are_not_logged(pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path) -> None:
    """GnuTLS hands over the first traffic secrets only; Wireshark derives the updates."""
    path = tmp_path / "keys"
    client = gnutls.client_context(pki.client_config(keylog_filename=str(path))).wrap_buffers(
        "localhost"
    )
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    before = _lines(path)
    assert len(before) == 5
    client.key_update()
    assert transfer(client, server, b"after") == b"after"
    assert transfer(server, client, b"back") == b"back"
    assert _lines(path) == before


def test_a_key_log_that_cannot_be_written_fails_the_handshake(
    pki: PKI, gnutls: tlsapi.Backend
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here to make writes fail")
    client = gnutls.client_context(pki.client_config(keylog_filename="/dev/full")).wrap_buffers(
        "localhost"
    )
    server = gnutls.server_context(pki.server_config()).wrap_buffers()
    with pytest.raises(TLSError, match="writing the key log to '/dev/full' failed") as info:
        handshake(client, server)
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(TLSError):  # and it stays failed
        client.do_handshake()


_CHILD = textwrap.dedent(
    """
    import json, sys, warnings
    from pathlib import Path

    import cffi
    import tlsapi
    from tlsapi.testing import PKI, handshake
    from tlsapi_gnutls._binding import ffi, lib, library_path

    warnings.simplefilter("ignore", tlsapi.InsecureConfigurationWarning)
    env_file, ours = Path(sys.argv[1]), Path(sys.argv[2])
    gnutls = tlsapi.backend("gnutls")
    pki = PKI()

    def size():
        return len(env_file.read_text().splitlines()) if env_file.exists() else 0

    def pair(**config):
        client = gnutls.client_context(pki.client_config(**config)).wrap_buffers("localhost")
        server = gnutls.server_context(pki.server_config(**config)).wrap_buffers()
        return client, server

    report = {}
    handshake(*pair())
    report["plain"] = size()
    handshake(*pair(keylog_filename=str(ours)))
    report["ours"] = size()
    report["ours_labels"] = sorted(line.split()[0] for line in ours.read_text().splitlines())
    # The control: GnuTLS's default keylog function (what gnutls_init sets) back on a pair.
    abi = cffi.FFI()
    abi.cdef(
        "int gnutls_init(void **session, unsigned int flags);"
        "void gnutls_deinit(void *session);"
        "void *gnutls_session_get_keylog_function(void *session);"
    )
    library = abi.dlopen(library_path())
    fresh = abi.new("void **")
    assert library.gnutls_init(fresh, 2) == 0  # GNUTLS_CLIENT
    default = int(abi.cast("uintptr_t", library.gnutls_session_get_keylog_function(fresh[0])))
    library.gnutls_deinit(fresh[0])
    client, server = pair()
    for buffer in (client, server):
        lib.gnutls_session_set_keylog_function(
            buffer._session, ffi.cast("gnutls_keylog_func", default)
        )
    handshake(client, server)
    report["control"] = size()
    print(json.dumps(report))
    """
)


def _child(tmp_path: Path, name: str, env_value: str | None) -> dict[str, object]:
    env = dict(os.environ)
    env.pop("SSLKEYLOGFILE", None)
    if env_value is not None:
        env["SSLKEYLOGFILE"] = env_value
    env_file = tmp_path / f"{name}.env.keys"
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(env_file), str(tmp_path / f"{name}.ours.keys")],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_sslkeylogfile_is_not_read_and_changes_nothing(tmp_path: Path) -> None:
    env_file = tmp_path / "with.env.keys"
    with_variable = _child(tmp_path, "with", str(env_file))
    without_variable = _child(tmp_path, "without", None)
    # Set: nothing reaches it from tlsapi, with or without keylog_filename ...
    assert with_variable["plain"] == 0 and with_variable["ours"] == 0
    # ... while GnuTLS's own function, on a session of the same process, writes there
    # (client and server: five TLS 1.3 secrets each).
    assert with_variable["control"] == 10
    # keylog_filename logs the same either way.
    assert with_variable["ours_labels"] == without_variable["ours_labels"]
    # (client and server write to one file here: each label twice)
    assert with_variable["ours_labels"] == sorted(list(TLS13_LABELS) * 2)
    assert without_variable["control"] == 0  # no variable: GnuTLS writes nowhere


@pytest.mark.peer
def test_a_resumed_tls12_connection_is_logged_as_openssl_logs_it(
    pki: PKI, gnutls: tlsapi.Backend, tmp_path: Path
) -> None:
    """GnuTLS derives no master secret in a TLS 1.2 resumption and logs nothing: we do."""
    OPENSSL_CLIENT.check_installed()
    ours, theirs, saved = tmp_path / "ours.keys", tmp_path / "theirs.keys", tmp_path / "s.pem"
    files = PeerFiles.from_pki(tmp_path, pki)
    tls12 = {
        "lowest_supported_version": TLSVersion.TLSv1_2,
        "highest_supported_version": TLSVersion.TLSv1_2,
    }
    context = gnutls.server_context(pki.server_config(keylog_filename=str(ours), **tls12))
    argv = [
        "openssl", "s_client", "-servername", "localhost", "-CAfile", str(files.ca_file),
        "-verify_return_error", "-ign_eof", "-tls1_2", "-keylogfile", str(theirs),
    ]  # fmt: skip
    with LoopbackServer(context) as server:
        port = ["-connect", f"127.0.0.1:{server.port}"]
        run([*argv, *port, "-sess_out", str(saved)], stdin=b"ping\n")
        output = run([*argv, *port, "-sess_in", str(saved)], stdin=b"ping\n")
    assert "Reused, TLSv1.2" in output, output
    assert [s.reused for s in server.served] == [False, True]
    theirs_lines = {line for line in _lines(theirs) if not line.startswith("#")}
    logged = _lines(ours)
    assert len(logged) == 2 and logged == theirs_lines
    # Two client randoms, one master secret.
    assert len({line.split()[1] for line in logged}) == 2
    assert len({line.split()[2] for line in logged}) == 1
