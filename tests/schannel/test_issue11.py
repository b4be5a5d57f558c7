"""Issue 11 on SChannel: session resumption, key log, several certificate chains.

SChannel keeps a client's sessions in the credentials handle, by target
name; each connection starts with a handle of its own and a TLSSession holds
the one it used.  Wine's SChannel (GnuTLS underneath) never resumes: there
the capability is left out and an offered session is refused, which these
tests assert before they skip.  The server here is the stdlib backend
(OpenSSL in the Windows CPython): it issues tickets and keeps a session
cache, and its own ``session_reused`` says what really happened.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tlsapi_schannel._platform import wine_version
from tlsapi_schannel._sspi_credentials import resumption_available, server_available
from tlsapi_schannel._suites import ServerHelloScanner

import tlsapi
from tlsapi import Capability, ConfigurationError, TLSVersion
from tlsapi.testing import PKI, KeyType, handshake
from tlsapi.testing.pump import close, transfer

WINE = wine_version()
VERSION_CAPABILITY = {
    TLSVersion.TLSv1_2: Capability.TLSv1_2,
    TLSVersion.TLSv1_3: Capability.TLSv1_3,
}
UNDER_WINE = (
    f"Wine {WINE}'s SChannel never resumes a session (measured; see test_wine_never_resumes)"
)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(KeyType.RSA_2048)  # Wine's crypt32 verifies RSA reliably


def _connect(
    client_context: tlsapi.ClientContext,
    server_context: tlsapi.ServerContext,
    session: tlsapi.TLSSession | None = None,
) -> tuple[tlsapi.TLSWrappedBuffer, tlsapi.TLSWrappedBuffer]:
    """A handshake and a byte each way (TLS 1.3 tickets read), then close_notify both ways."""
    client = client_context.wrap_buffers("localhost", session=session)
    server = server_context.wrap_buffers()
    handshake(client, server)
    assert transfer(server, client, b"s") == b"s"
    assert transfer(client, server, b"c") == b"c"
    # close_notify both ways: OpenSSL drops a session from its cache otherwise.
    close(client, server)
    return client, server


def _forge(context: tlsapi.ClientContext) -> tlsapi.TLSSession:
    return tlsapi.TLSSession(context._session_owner, "localhost", object())  # type: ignore[attr-defined]


# -- session resumption ---------------------------------------------------------------


def test_resumption_is_claimed_exactly_where_schannel_resumes(schannel: tlsapi.Backend) -> None:
    claimed = Capability.SESSION_RESUMPTION in schannel.capabilities
    assert claimed == resumption_available() == (WINE is None)
    assert "session_resumption" in schannel.details


def test_no_session_offered_no_resumption(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI
) -> None:
    # Same context, same name, a server that resumes whatever it can: without
    # session= each connection is a full handshake (its own credentials handle).
    client_context = schannel.client_context(pki.client_config())
    server_context = stdlib.server_context(pki.server_config())
    for _ in range(3):
        client, server = _connect(client_context, server_context)
        assert server.session_reused is False
        assert client.session_reused is False


def test_wine_never_resumes(schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI) -> None:
    """The measurement behind leaving the capability out under Wine."""
    if WINE is None:
        pytest.skip("Windows' SChannel resumes (tested below)")
    client_context = schannel.client_context(pki.client_config())
    server_context = stdlib.server_context(pki.server_config())
    client, _ = _connect(client_context, server_context)
    assert client.session is None
    with pytest.raises(ConfigurationError, match=r"cannot resume sessions on Windows .*Wine"):
        client_context.wrap_buffers("localhost", session=_forge(client_context))
    # Under Wine every connection of a context shares its one credentials
    # handle (and target name): that is where Windows would find the session,
    # yet the server, which issued a ticket and cached the session, sees a
    # full handshake each time.
    settings = client_context._settings  # type: ignore[attr-defined]
    assert settings.connection_credentials() is settings.credentials
    for _ in range(2):
        client, server = _connect(client_context, server_context)
        assert server.session_reused is False
        assert client.session_reused is False


@pytest.mark.parametrize("version", [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3], ids=str)
def test_an_offered_session_is_resumed(
    schannel: tlsapi.Backend, stdlib: tlsapi.Backend, pki: PKI, version: TLSVersion
) -> None:
    if WINE is not None:
        pytest.skip(UNDER_WINE)
    if VERSION_CAPABILITY[version] not in schannel.capabilities:
        pytest.skip(f"this SChannel has no {version.name}")
    only = {"lowest_supported_version": version, "highest_supported_version": version}
    client_context = schannel.client_context(pki.client_config(**only))
    server_context = stdlib.server_context(pki.server_config())
    first, first_server = _connect(client_context, server_context)
    assert not first.session_reused and not first_server.session_reused
    session = first.session
    assert session is not None
    second, second_server = _connect(client_context, server_context, session)
    assert second_server.session_reused, "SChannel offered no session the server knew"
    assert second.session_reused
    assert second.getpeercert() == first.getpeercert()
    # Another server context (its own cache and ticket keys): a full handshake.
    third, third_server = _connect(
        client_context, stdlib.server_context(pki.server_config()), session
    )
    assert not third.session_reused and not third_server.session_reused


def _server_flight(stdlib: tlsapi.Backend, pki: PKI, resume: bool, version: TLSVersion) -> bytes:
    """A real OpenSSL server's first flight, from a full or a resumed handshake."""
    only = {"lowest_supported_version": version, "highest_supported_version": version}
    client_context = stdlib.client_context(pki.client_config(**only))
    server_context = stdlib.server_context(pki.server_config())
    first, _ = _connect(client_context, server_context)
    client = client_context.wrap_buffers("localhost", session=first.session if resume else None)
    server = server_context.wrap_buffers()
    with pytest.raises(tlsapi.WantReadError):
        client.do_handshake()
    server.receive_from_network(client.peek_outgoing(client.outgoing_bytes_buffered()))
    with pytest.raises(tlsapi.WantReadError):
        server.do_handshake()
    return server.peek_outgoing(server.outgoing_bytes_buffered())


@pytest.mark.parametrize("version", [TLSVersion.TLSv1_2, TLSVersion.TLSv1_3], ids=str)
@pytest.mark.parametrize("resume", [False, True], ids=["full", "resumed"])
@pytest.mark.parametrize("chunk", [None, 1], ids=["whole", "bytewise"])
def test_the_server_flight_tells_a_resumption(
    stdlib: tlsapi.Backend, pki: PKI, version: TLSVersion, resume: bool, chunk: int | None
) -> None:
    # Where SChannel has no SECPKG_ATTR_SESSION_INFO (Wine), session_reused
    # comes from the server's flight: read here from OpenSSL's real ones.
    flight = _server_flight(stdlib, pki, resume, version)
    scanner = ServerHelloScanner()
    step = chunk or len(flight)
    for at in range(0, len(flight), step):
        scanner.feed(flight[at : at + step])
    assert scanner.resumed is resume
    assert scanner.suite is not None


# -- key log --------------------------------------------------------------------------


def test_a_key_log_is_refused(schannel: tlsapi.Backend, pki: PKI, tmp_path: Path) -> None:
    assert Capability.KEY_LOG not in schannel.capabilities
    path = f"{tmp_path}/keys.log"
    config = pki.client_config(keylog_filename=path)
    with (
        pytest.warns(tlsapi.InsecureConfigurationWarning),
        pytest.raises(ConfigurationError, match="cannot write a key log"),
    ):
        schannel.client_context(config)
    pytest.skip("SChannel hands its secrets to no application: keylog_filename is refused")


# -- several certificate chains --------------------------------------------------------


def test_several_chains_on_a_server(schannel: tlsapi.Backend, stdlib: tlsapi.Backend) -> None:
    rsa_pki = PKI(KeyType.RSA_2048, name="schannel rsa chain")
    ec_pki = PKI(KeyType.ECDSA_P256, name="schannel ecdsa chain")
    rsa, ecdsa = rsa_pki.issue(common_name="rsa leaf"), ec_pki.issue(common_name="ecdsa leaf")
    config = tlsapi.TLSConfiguration(
        certificate_chain=(rsa.certificate_chain(), ecdsa.certificate_chain())
    )
    if not server_available():
        assert Capability.SEVERAL_CERTIFICATE_CHAINS not in schannel.capabilities
        with pytest.raises(ConfigurationError, match="cannot be a TLS server"):
            schannel.server_context(config)
        pytest.skip(f"SChannel on Wine {WINE} has no server side (no AcceptSecurityContext)")
    assert Capability.SEVERAL_CERTIFICATE_CHAINS in schannel.capabilities
    server_context = schannel.server_context(config)
    trust = tlsapi.TrustStore.from_buffer(rsa_pki.root_pem + ec_pki.root_pem)
    for suite, leaf in (
        (tlsapi.CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, rsa),
        (tlsapi.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ecdsa),
    ):
        client_context = stdlib.client_context(
            tlsapi.TLSConfiguration(
                trust_store=trust,
                ciphers=(suite,),
                highest_supported_version=TLSVersion.TLSv1_2,
            )
        )
        client = client_context.wrap_buffers("localhost")
        handshake(client, server_context.wrap_buffers())
        peer = client.getpeercert()
        assert peer is not None and peer[0] == leaf.cert_der, suite.name
        assert client.cipher() == suite
