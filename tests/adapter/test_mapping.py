"""Every ssl setting on tlsapi.SSLContext is honoured or refused when it is set, saying why."""

from __future__ import annotations

import dataclasses
import ssl
import warnings
from pathlib import Path

import pytest

import tlsapi
from tlsapi.testing.pki import PKI, Identity

from .conftest import (
    Files,
    skip_if_wine_refuses_client_key,
    skip_unless_serves,
    skip_unless_tls13,
)


def _client(backend: tlsapi.Backend) -> tlsapi.SSLContext:
    return tlsapi.SSLContext(ssl.PROTOCOL_TLS_CLIENT, backend=backend)


def _configuration(
    context: tlsapi.SSLContext, server_side: bool = False
) -> tlsapi.TLSConfiguration:
    return context._tls_context(server_side).configuration


def test_is_an_ssl_context_with_ssl_defaults(backend: tlsapi.Backend) -> None:
    client = _client(backend)
    assert isinstance(client, ssl.SSLContext)
    assert client.backend is backend
    assert client.check_hostname and client.verify_mode == ssl.CERT_REQUIRED
    assert client.protocol == ssl.PROTOCOL_TLS_CLIENT
    config = _configuration(client)
    assert config.validate_certificates and config.trust_store == tlsapi.TrustStore.system()
    skip_unless_serves(backend)
    server = tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)
    assert not server.check_hostname and server.verify_mode == ssl.CERT_NONE


def test_default_backend_and_old_protocols() -> None:
    assert tlsapi.SSLContext().backend == tlsapi.default_backend()
    with pytest.raises(tlsapi.ConfigurationError, match="PROTOCOL_TLS_CLIENT"):
        tlsapi.SSLContext(ssl.PROTOCOL_TLSv1_2)  # type: ignore[attr-defined]


def test_trust_settings(backend: tlsapi.Backend, files: Files, tmp_path: object) -> None:
    context = _client(backend)
    context.load_verify_locations(files.root)
    root_der = ssl.PEM_cert_to_DER_cert(files.root.read_text())
    assert _configuration(context).trust_store == tlsapi.TrustStore.from_buffer(root_der)
    assert context.get_ca_certs(binary_form=True) == [root_der]
    assert context.get_ca_certs()[0]["subject"]
    context.load_verify_locations(cadata=files.other_root.read_text())  # PEM text adds
    assert len(_configuration(context).trust_store.certificates) == 2  # type: ignore[union-attr]
    context.load_verify_locations(cadata=root_der)  # DER: already there, not twice
    assert context.cert_store_stats()["x509_ca"] == 2
    with pytest.raises(TypeError):
        context.load_verify_locations()
    with pytest.raises(tlsapi.ConfigurationError, match="no hashed certificate files"):
        context.load_verify_locations(capath=files.root.parent)
    system = _client(backend)
    system.load_default_certs()
    assert _configuration(system).trust_store == tlsapi.TrustStore.system()


def test_capath_is_honoured(
    backend: tlsapi.Backend, files: Files, tmp_path: pytest.TempPathFactory
) -> None:
    import pathlib

    directory = pathlib.Path(str(tmp_path)) / "capath"
    directory.mkdir()
    (directory / "0123abcd.0").write_bytes(files.root.read_bytes())
    (directory / "README").write_text("not a certificate: ignored, as OpenSSL ignores it")
    context = _client(backend)
    context.load_verify_locations(capath=directory)
    root_der = ssl.PEM_cert_to_DER_cert(files.root.read_text())
    assert _configuration(context).trust_store == tlsapi.TrustStore.from_buffer(root_der)


def test_verify_mode_rules(backend: tlsapi.Backend) -> None:
    context = _client(backend)
    with pytest.raises(ValueError, match="check_hostname"):
        context.verify_mode = ssl.CERT_NONE  # ssl's own rule
    context.check_hostname = False
    with pytest.raises(tlsapi.ConfigurationError, match="check_hostname=False"):
        _configuration(context)  # verify the chain but not the name: not offered
    context.verify_mode = ssl.CERT_NONE
    with pytest.warns(tlsapi.InsecureConfigurationWarning):
        assert not _configuration(context).validate_certificates
    skip_unless_serves(backend)
    server = tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)
    with pytest.raises(tlsapi.ConfigurationError, match="CERT_OPTIONAL"):
        server.verify_mode = ssl.CERT_OPTIONAL
    assert server.verify_mode == ssl.CERT_NONE


def test_server_needs_client_cas_for_cert_required(backend: tlsapi.Backend, files: Files) -> None:
    skip_unless_serves(backend)
    server = tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)
    server.load_cert_chain(files.chain, files.key)
    server.verify_mode = ssl.CERT_REQUIRED
    with pytest.raises(tlsapi.ConfigurationError, match="load_verify_locations"):
        _configuration(server, server_side=True)
    server.load_verify_locations(files.root)
    assert _configuration(server, server_side=True).trust_store is not None


def test_versions(backend: tlsapi.Backend) -> None:
    context = _client(backend)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    assert _configuration(context).highest_supported_version is tlsapi.TLSVersion.TLSv1_2
    with pytest.raises(tlsapi.ConfigurationError, match=r"SSL 3\.0"):
        context.minimum_version = ssl.TLSVersion.SSLv3
    context = _client(backend)
    with pytest.warns(DeprecationWarning):  # ssl's own warning about OP_NO_TLS*
        context.options |= ssl.OP_NO_TLSv1_3
    assert _configuration(context).highest_supported_version is tlsapi.TLSVersion.TLSv1_2
    if not backend.supports(tlsapi.Capability.TLSv1_3):
        # TLS 1.3 only, asked for either way, is refused when it is set.
        context = _client(backend)
        with pytest.raises(tlsapi.ConfigurationError, match=r"TLS 1\.3"):
            context.options |= ssl.OP_NO_TLSv1_2
        assert not context.options & ssl.OP_NO_TLSv1_2
    skip_unless_tls13(backend)
    context = _client(backend)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    assert context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert _configuration(context).lowest_supported_version is tlsapi.TLSVersion.TLSv1_3


def test_what_the_backend_lacks_is_refused_when_set() -> None:
    """A client-only backend without TLS 1.3 (as SChannel under Wine): refused at the setting.

    The stdlib backend claiming less than it has stands in for one here, so
    that every platform checks the adapter's side of the contract.
    """
    stdlib = tlsapi.backend("stdlib")
    limited = dataclasses.replace(
        stdlib,
        name="client-only",
        capabilities=stdlib.capabilities - {tlsapi.Capability.SERVER, tlsapi.Capability.TLSv1_3},
    )
    with pytest.raises(tlsapi.ConfigurationError, match="PROTOCOL_TLS_SERVER"):
        tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=limited)
    client = _client(limited)
    before = client.minimum_version
    with pytest.raises(tlsapi.ConfigurationError, match="minimum_version=TLSv1_3"):
        client.minimum_version = ssl.TLSVersion.TLSv1_3
    assert client.minimum_version == before
    with pytest.raises(tlsapi.ConfigurationError, match=r"TLS 1\.3"):
        client.options |= ssl.OP_NO_TLSv1_2
    assert not client.options & ssl.OP_NO_TLSv1_2
    client.maximum_version = ssl.TLSVersion.TLSv1_3  # a ceiling it stays under: allowed
    assert _configuration(client).highest_supported_version is tlsapi.TLSVersion.TLSv1_3


def test_options(backend: tlsapi.Backend) -> None:
    context = _client(backend)
    before = context.options
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET | ssl.OP_NO_RENEGOTIATION
    assert context.options & ssl.OP_NO_TICKET
    legacy_server_connect = 0x4  # OpenSSL's SSL_OP_LEGACY_SERVER_CONNECT (not in ssl before 3.12)
    with pytest.raises(tlsapi.ConfigurationError, match="cannot honour"):
        context.options |= legacy_server_connect
    with pytest.raises(tlsapi.ConfigurationError, match="OP_NO_SSLv3"):
        context.options &= ~ssl.OP_NO_SSLv3
    assert context.options == before | ssl.OP_NO_TICKET | ssl.OP_NO_RENEGOTIATION


def test_alpn_and_ciphers(backend: tlsapi.Backend) -> None:
    context = _client(backend)
    context.set_alpn_protocols(["h2", "http/1.1"])
    assert _configuration(context).inner_protocols == (
        tlsapi.NextProtocol.H2,
        tlsapi.NextProtocol.HTTP1,
    )
    if not backend.supports(tlsapi.Capability.CIPHER_SELECTION):
        with pytest.raises(tlsapi.ConfigurationError):
            context.set_ciphers("ECDHE+AESGCM")
        pytest.skip(f"{backend.name} does not offer cipher selection")
    context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    ciphers = _configuration(context).ciphers
    assert tlsapi.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 in ciphers
    assert tlsapi.CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256 not in ciphers
    assert tlsapi.CipherSuite.TLS_AES_128_GCM_SHA256 in ciphers  # TLS 1.3 suites stay, as in ssl
    with pytest.raises(tlsapi.ConfigurationError, match=r"no TLS 1\.2 cipher suite"):
        context.set_ciphers("aNULL:@SECLEVEL=0")  # only anonymous (weak) suites
    with pytest.raises(tlsapi.ConfigurationError, match="selects no cipher"):
        context.set_ciphers("NO-SUCH-CIPHER")


def test_refused_settings_say_what_to_do(backend: tlsapi.Backend) -> None:
    context = _client(backend)
    context.post_handshake_auth = False
    assert context.post_handshake_auth is None  # ssl's "not available": urllib3 leaves it
    with pytest.raises(tlsapi.ConfigurationError, match="post-handshake"):
        context.post_handshake_auth = True
    context.keylog_filename = None  # no key log: allowed everywhere (tests/adapter/test_keylog.py)
    assert context.keylog_filename is None
    context.hostname_checks_common_name = False
    with pytest.raises(tlsapi.ConfigurationError, match="subjectAltName"):
        context.hostname_checks_common_name = True
    with pytest.raises(tlsapi.ConfigurationError, match="groups"):
        context.set_ecdh_curve("prime256v1")
    with pytest.raises(tlsapi.ConfigurationError, match="set_alpn_protocols"):
        context.set_npn_protocols(["h2"])
    with pytest.raises(tlsapi.ConfigurationError, match="RFC 7919"):
        context.load_dh_params("dh.pem")
    with pytest.raises(tlsapi.ConfigurationError, match="CRL"):
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    context.verify_flags |= ssl.VERIFY_X509_STRICT  # what Python 3.13 sets by default
    with pytest.raises(TypeError, match="not a SSLSession"):  # ssl's error and words
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="x", session=object())  # type: ignore[arg-type]
    with pytest.raises(tlsapi.ConfigurationError, match="session_reused"):
        context.session_stats()  # no backend publishes its cache counters: not made up


def test_create_default_context_works_once_injected(backend: tlsapi.Backend, files: Files) -> None:
    tlsapi.inject_into_ssl(backend)
    try:
        context = ssl.create_default_context(cafile=str(files.root))
        assert isinstance(context, tlsapi.SSLContext) and context.backend is backend
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert _configuration(context).validate_certificates
    finally:
        tlsapi.extract_from_ssl()
    assert not isinstance(ssl.create_default_context(), tlsapi.SSLContext)


def test_load_cert_chain_with_password(
    backend: tlsapi.Backend, files: Files, pki: PKI, tmp_path: Path
) -> None:
    def write(identity: Identity, name: str) -> tuple[Path, Path]:
        encrypted = tmp_path / f"{name}-key.pem"
        encrypted.write_bytes(identity.key_bytes(password=b"secret"))
        chain = tmp_path / f"{name}-chain.pem"
        chain.write_bytes(identity.chain_pem)
        return chain, encrypted

    # A client certificate's key, then a server's: each decrypted when the context is made.
    client = _client(backend)
    client_chain, client_key = write(pki.client_identity, "client")
    if not backend.supports(tlsapi.Capability.ENCRYPTED_KEYS):
        with pytest.raises(tlsapi.ConfigurationError):
            client.load_cert_chain(client_chain, client_key, password=b"secret")
        pytest.skip(f"{backend.name} does not load encrypted keys")
    skip_if_wine_refuses_client_key(backend, files, pki)
    client.load_cert_chain(client_chain, client_key, password=b"secret")
    assert _configuration(client).certificate_chain is not None
    skip_unless_serves(backend)
    server = tlsapi.SSLContext(ssl.PROTOCOL_TLS_SERVER, backend=backend)
    server_chain, server_key = write(pki.server_identity, "server")
    server.load_cert_chain(server_chain, server_key, password=lambda: bytearray(b"secret"))
    assert _configuration(server, server_side=True).certificate_chain is not None


def test_a_setting_given_its_own_value_keeps_the_context(
    backend: tlsapi.Backend, files: Files
) -> None:
    """http.client sets check_hostname on every HTTPSConnection: the backend's context (and
    the sessions bound to it) stays until a setting really changes."""
    context = _client(backend)
    context.load_verify_locations(files.root)
    built = context._tls_context(False)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(files.root)  # the same CA again
    context.set_alpn_protocols([])
    assert context._tls_context(False) is built
    context.set_alpn_protocols(["h2"])
    changed = context._tls_context(False)
    assert changed is not built and changed.configuration.inner_protocols == (
        tlsapi.NextProtocol.H2,
    )
    context.load_verify_locations(files.other_root)  # another CA: trusted from now on
    assert context._tls_context(False) is not changed
