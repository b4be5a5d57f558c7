"""The core's checks for issue 11's API, whatever the backend: sessions, key logs, chains.

What the core decides before a backend sees anything: a TLSSession is bound
to the ClientContext and server name that made it (ValueError otherwise,
TypeError for what is not a session) and never leaves its process; a
``keylog_filename`` is checked when the configuration is made
(ConfigurationError naming it), and a context made with one warns; several
certificate chains must have keys of different types and belong on a server.
Plus ``SignatureScheme``, ``KeyLogWriter`` and the socket facade's new methods.
"""

from __future__ import annotations

import copy
import os
import pathlib
import pickle
import socket
import stat
import threading
import warnings

import pytest

import tlsapi
from tlsapi import (
    Capability,
    ConfigurationError,
    InsecureConfigurationWarning,
    SignatureScheme,
    TLSConfiguration,
    TLSSession,
)
from tlsapi.backend_api import KeyLogWriter
from tlsapi.testing import PKI
from tlsapi.testing.pki import KeyType
from tlsapi.testing.pump import handshake


@pytest.fixture
def stdlib() -> tlsapi.Backend:
    return tlsapi.backend("stdlib")


# -- TLSSession ------------------------------------------------------------------


def _session(context: tlsapi.ClientContext, name: str | None = "localhost") -> TLSSession:
    """A session bound to ``context`` as the core binds one (backend state: opaque bytes)."""
    return TLSSession(context._session_owner, name, b"backend state")


def test_a_session_is_bound_to_its_context(stdlib: tlsapi.Backend, pki: PKI) -> None:
    context = stdlib.client_context(pki.client_config())
    twin = stdlib.client_context(pki.client_config())
    with pytest.raises(ValueError, match="made by another ClientContext"):
        twin.wrap_buffers("localhost", session=_session(context))


def test_a_session_is_bound_to_its_name(stdlib: tlsapi.Backend, pki: PKI) -> None:
    context = stdlib.client_context(pki.client_config())
    session = _session(context)
    assert session.server_hostname == "localhost"
    with pytest.raises(ValueError, match=r"for server name 'localhost', not '127\.0\.0\.1'"):
        context.wrap_buffers("127.0.0.1", session=session)
    with pytest.raises(ValueError, match="never offered to another server"):
        context.wrap_socket(socket.socket(), "example.test", session=session)


def test_a_nameless_session_stays_nameless(stdlib: tlsapi.Backend, pki: PKI) -> None:
    with pytest.warns(InsecureConfigurationWarning):
        context = stdlib.client_context(pki.client_config(validate_certificates=False))
    with pytest.raises(ValueError, match="for server name None, not 'localhost'"):
        context.wrap_buffers("localhost", session=_session(context, None))


def test_a_foreign_session_is_checked_before_the_backend_sees_it(pki: PKI) -> None:
    """Across backends too: the state of one library never reaches another."""
    backends = tlsapi.available_backends()
    for maker in backends:
        for taker in backends:
            if Capability.CLIENT not in maker.capabilities | taker.capabilities:
                continue
            made = maker.client_context(pki.client_config())
            taken = taker.client_context(pki.client_config())
            with pytest.raises(ValueError, match="another ClientContext"):
                taken.wrap_buffers("localhost", session=_session(made))


@pytest.mark.parametrize(
    "wrong", [b"state", "localhost", 0, object()], ids=["bytes", "str", "int", "object"]
)
def test_what_is_not_a_session_is_a_type_error(
    stdlib: tlsapi.Backend, pki: PKI, wrong: object
) -> None:
    context = stdlib.client_context(pki.client_config())
    with pytest.raises(TypeError, match="session must be a TLSSession, not"):
        context.wrap_buffers("localhost", session=wrong)  # type: ignore[arg-type]


def test_a_session_stays_in_its_process(stdlib: tlsapi.Backend, pki: PKI) -> None:
    session = _session(stdlib.client_context(pki.client_config()))
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="holds session secrets"):
            attempt(session)
    assert "backend state" not in repr(session)
    assert repr(session) == "<TLSSession for 'localhost'>"


def test_a_session_does_not_keep_its_context_alive(stdlib: tlsapi.Backend, pki: PKI) -> None:
    import gc
    import weakref

    context = stdlib.client_context(pki.client_config())
    session = _session(context)
    alive = weakref.ref(context)
    del context
    gc.collect()
    assert alive() is None
    assert session.server_hostname == "localhost"


def test_without_a_handshake_there_is_nothing(stdlib: tlsapi.Backend, pki: PKI) -> None:
    client = stdlib.client_context(pki.client_config()).wrap_buffers("localhost")
    server = stdlib.server_context(pki.server_config()).wrap_buffers()
    for buffer in (client, server):
        assert buffer.session is None
        assert buffer.session_reused is False
        assert buffer.signature_scheme() is None
        assert buffer.certificate_requested() is None
    handshake(client, server)
    assert server.session is None
    assert server.certificate_requested() is None


def test_the_socket_facade_passes_them_on(stdlib: tlsapi.Backend, pki: PKI) -> None:
    left, right = socket.socketpair()
    with left, right:
        tls = stdlib.client_context(pki.client_config()).wrap_socket(left, "localhost")
        assert tls.session is None
        assert tls.session_reused is False
        assert tls.signature_scheme() is None
        assert tls.certificate_requested() is None


# -- keylog_filename -------------------------------------------------------------


def test_keylog_path_is_checked_at_configuration(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "no-such-directory" / "keys.log"
    with pytest.raises(ConfigurationError, match="cannot be opened for appending") as info:
        TLSConfiguration(keylog_filename=str(missing))
    assert str(missing) in str(info.value)
    with pytest.raises(ConfigurationError, match="keylog_filename"):
        TLSConfiguration(keylog_filename=str(tmp_path))  # a directory
    with pytest.raises(ConfigurationError, match="keylog_filename"):
        TLSConfiguration().update(keylog_filename=str(missing))


@pytest.mark.parametrize("wrong", ["", 42, b"/tmp/keys.log"], ids=repr)
def test_keylog_path_must_be_a_text_path(wrong: object) -> None:
    with pytest.raises(ConfigurationError, match="keylog_filename must be"):
        TLSConfiguration(keylog_filename=wrong)  # type: ignore[arg-type]


def test_keylog_path_with_a_nul_byte_is_a_configuration_error() -> None:
    """os.open raises a bare ValueError ('embedded null byte') for it: the core must say
    which setting is wrong."""
    with pytest.raises(ConfigurationError, match="keylog_filename"):
        TLSConfiguration(keylog_filename="keys\0.log")


def test_keylog_file_is_created_private_and_appended(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "keys.log"
    config = TLSConfiguration(keylog_filename=path)  # type: ignore[arg-type]
    assert config.keylog_filename == str(path)  # os.PathLike comes back as str
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("# earlier lines stay\n")
    TLSConfiguration(keylog_filename=str(path))
    assert path.read_text() == "# earlier lines stay\n"


def test_a_context_with_a_key_log_warns(tmp_path: pathlib.Path, pki: PKI) -> None:
    """Through whichever backend: the warning comes from the core, before any refusal."""
    path = str(tmp_path / "keys.log")
    for backend in tlsapi.available_backends():
        for make, config in (
            (backend.client_context, pki.client_config(keylog_filename=path)),
            (backend.server_context, pki.server_config(keylog_filename=path)),
        ):
            with pytest.warns(InsecureConfigurationWarning, match="anyone who can read"):
                try:
                    make(config)
                except ConfigurationError as exc:
                    # Refused: no key log at all, or (NSS) none for TLS 1.2, which this
                    # configuration allows.
                    if Capability.KEY_LOG in backend.capabilities:
                        assert "TLS 1.3" in str(exc), (backend.name, str(exc))


def test_sslkeylogfile_is_not_read(
    stdlib: tlsapi.Backend, pki: PKI, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an explicit keylog_filename logs; the environment variable alone does not."""
    path = tmp_path / "env.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureConfigurationWarning)
        for backend in tlsapi.available_backends():
            if {Capability.CLIENT, Capability.SERVER} <= backend.capabilities:
                client = backend.client_context(pki.client_config()).wrap_buffers("localhost")
                server = backend.server_context(pki.server_config()).wrap_buffers()
                handshake(client, server)
    assert not path.exists() or path.read_text() == ""


def test_keylog_writer_lines(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "writer.log"
    writer = KeyLogWriter(str(path))
    assert writer.path == str(path)
    writer.write("CLIENT_RANDOM", bytes(range(32)), b"\xab" * 48)
    writer.write_line("SERVER_TRAFFIC_SECRET_0 " + "11" * 32 + " " + "22" * 32 + "\n")
    writer.close()
    writer.write_line("after close: dropped")
    writer.close()  # twice is fine
    assert path.read_text().splitlines() == [
        "CLIENT_RANDOM " + bytes(range(32)).hex() + " " + "ab" * 48,
        "SERVER_TRAFFIC_SECRET_0 " + "11" * 32 + " " + "22" * 32,
    ]


def test_keylog_writers_never_interleave(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "shared.log"
    writers = [KeyLogWriter(str(path)) for _ in range(4)]

    def log(index: int) -> None:
        for n in range(500):
            writers[index % 4].write(f"LABEL_{index}", n.to_bytes(32, "big"), bytes([index]) * 48)

    threads = [threading.Thread(target=log, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for writer in writers:
        writer.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 8 * 500
    for line in lines:
        label, random, secret = line.split(" ")
        index = int(label.removeprefix("LABEL_"))
        assert len(bytes.fromhex(random)) == 32 and bytes.fromhex(secret) == bytes([index]) * 48


def test_keylog_writer_refuses_an_unopenable_path(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be opened"):
        KeyLogWriter(str(tmp_path / "missing" / "keys.log"))


def test_keylog_writer_releases_its_descriptor(tmp_path: pathlib.Path) -> None:
    import gc

    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    if before is None:
        pytest.skip("no /proc/self/fd to count descriptors")
    for _ in range(50):
        KeyLogWriter(str(tmp_path / "gc.log"))
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before + 1


# -- several certificate chains --------------------------------------------------


@pytest.fixture(scope="module")
def leaves(pki: PKI) -> dict[str, tuple[tuple[tlsapi.Certificate, ...], tlsapi.PrivateKey]]:
    return {
        "p256": pki.issue(key_type=KeyType.ECDSA_P256).certificate_chain(),
        "p256-again": pki.issue(key_type=KeyType.ECDSA_P256).certificate_chain(),
        "p384": pki.issue(key_type=KeyType.ECDSA_P384).certificate_chain(),
        "rsa": pki.issue(key_type=KeyType.RSA_2048).certificate_chain(),
        "rsa-again": pki.issue(key_type=KeyType.RSA_2048).certificate_chain(),
        "ed25519": pki.issue(key_type=KeyType.ED25519).certificate_chain(),
    }


def test_chains_of_different_key_types(leaves: dict) -> None:  # type: ignore[type-arg]
    chains = (leaves["p256"], leaves["rsa"], leaves["p384"], leaves["ed25519"])
    config = TLSConfiguration(certificate_chain=chains)
    assert config.certificate_chains == chains
    assert config.certificate_chain == chains


def test_certificate_chains_is_always_a_tuple(leaves: dict) -> None:  # type: ignore[type-arg]
    assert TLSConfiguration().certificate_chains == ()
    one = leaves["rsa"]
    assert TLSConfiguration(certificate_chain=one).certificate_chains == (one,)
    # A list of one chain is that chain.
    listed = TLSConfiguration(certificate_chain=[list(one)])  # type: ignore[arg-type]
    assert listed.certificate_chain == one
    assert listed.certificate_chains == (one,)


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [("p256", "p256-again", "an EC P-256 key"), ("rsa", "rsa-again", "a RSA key")],
)
def test_two_chains_of_one_key_type_are_refused(
    leaves: dict,  # type: ignore[type-arg]
    first: str,
    second: str,
    kind: str,
) -> None:
    with pytest.raises(ConfigurationError, match=f"chains 2 and 3 both have {kind}"):
        TLSConfiguration(certificate_chain=(leaves["ed25519"], leaves[first], leaves[second]))


@pytest.mark.parametrize("wrong", [[], (), [("not", "a chain")], [(None, None), (None, None)]])
def test_what_is_not_a_chain_is_refused(wrong: object) -> None:
    with pytest.raises(ConfigurationError, match="certificate_chain must be"):
        TLSConfiguration(certificate_chain=wrong)  # type: ignore[arg-type]


def test_a_client_has_one_chain(leaves: dict, pki: PKI) -> None:  # type: ignore[type-arg]
    config = pki.client_config(certificate_chain=(leaves["p256"], leaves["rsa"]))
    for backend in tlsapi.available_backends():
        if Capability.CLIENT in backend.capabilities:
            with pytest.raises(ConfigurationError, match="a client presents one certificate_chain"):
                backend.client_context(config)


def test_a_backend_without_several_chains_refuses_them(
    leaves: dict,  # type: ignore[type-arg]
) -> None:
    config = TLSConfiguration(certificate_chain=(leaves["p256"], leaves["rsa"]))
    for backend in tlsapi.available_backends():
        if Capability.SERVER not in backend.capabilities:
            continue
        if Capability.SEVERAL_CERTIFICATE_CHAINS in backend.capabilities:
            backend.server_context(config)
        else:
            with pytest.raises(ConfigurationError):
                backend.server_context(config)


# -- SignatureScheme ---------------------------------------------------------------


def test_signature_scheme_numbers() -> None:
    assert SignatureScheme.from_number(0x0804) is SignatureScheme.rsa_pss_rsae_sha256
    assert int(SignatureScheme.ed25519) == 0x0807
    unknown = SignatureScheme.from_number(0x0A0A)
    assert unknown.name == "UNKNOWN_0x0A0A"
    assert int(unknown) == 0x0A0A
    assert SignatureScheme.from_number(0x0A0A) is unknown
    assert isinstance(unknown, SignatureScheme)


def test_the_new_capabilities_have_names() -> None:
    for capability, value in (
        (Capability.SESSION_RESUMPTION, "session-resumption"),
        (Capability.SEVERAL_CERTIFICATE_CHAINS, "several-certificate-chains"),
        (Capability.SIGNATURE_SCHEME, "signature-scheme"),
        (Capability.CERTIFICATE_REQUESTED, "certificate-requested"),
        (Capability.KEY_LOG, "key-log"),
    ):
        assert str(capability) == value
