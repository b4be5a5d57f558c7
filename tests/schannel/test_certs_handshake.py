"""Identities and validation through real handshakes: schannel's client against the stdlib server.

Under Wine the schannel side is a client only, so the identity here is a
client certificate; it is issued by the root because Wine's schannel sends
the leaf alone (real Windows sends the chain).  The server (``ssl``, in
this process) requires and checks it; getpeercert() on the server shows
what the schannel client sent.
"""

from __future__ import annotations

import sys

import pytest

import tlsapi
from tlsapi import CertificateError, CertificateErrorReason, TLSConfiguration
from tlsapi.testing import PKI, handshake, handshake_outcome
from tlsapi.testing.pki import Identity, KeyType

if sys.platform != "win32":
    pytest.skip("SChannel runs on Windows (and under Wine)", allow_module_level=True)

from tlsapi_schannel._platform import wine_version

PASSWORD = "client key password"


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(KeyType.RSA_2048, name="tlsapi schannel handshake")


@pytest.fixture(scope="module")
def client_identity(pki: PKI) -> Identity:
    # Root-issued: see the module docstring.
    return pki.issue(names=("client.test",), ips=(), eku=("client",), issuer="root")


def _pair(
    pki: PKI, client_config: TLSConfiguration, hostname: str = "localhost"
) -> tuple[tlsapi.TLSWrappedBuffer, tlsapi.TLSWrappedBuffer]:
    # The server asks for a client certificate when the client has one to give.
    wants = client_config.certificate_chain is not None
    server_config = pki.server_config(trust_store=pki.trust_store() if wants else None)
    server = tlsapi.backend("stdlib").server_context(server_config).wrap_buffers()
    client = tlsapi.backend("schannel").client_context(client_config).wrap_buffers(hostname)
    return client, server


@pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])
def test_client_certificate_is_sent_and_accepted(
    pki: PKI, client_identity: Identity, password: str | None
) -> None:
    config = pki.client_config(certificate_chain=client_identity.certificate_chain(password))
    client, server = _pair(pki, config)
    handshake(client, server)
    assert server.getpeercert() == [client_identity.cert_der]
    assert client.getpeercert() == pki.server_identity.chain_der


def test_server_chain_is_reported_leaf_first(pki: PKI) -> None:
    client, server = _pair(pki, pki.client_config())
    handshake(client, server)
    chain = client.getpeercert()
    assert chain is not None and chain == pki.server_identity.chain_der


def test_exclusive_trust_through_a_handshake(pki: PKI) -> None:
    other = PKI(KeyType.RSA_2048, name="tlsapi schannel other root")
    client, server = _pair(pki, other.client_config())
    client_error, _ = handshake_outcome(client, server)
    assert isinstance(client_error, CertificateError), client_error
    assert client_error.reason is CertificateErrorReason.UNTRUSTED_ISSUER


def test_ecdsa_client_identity(pki: PKI) -> None:
    ec = PKI(KeyType.ECDSA_P256, name="tlsapi schannel ec client")
    leaf = ec.issue(names=("client.test",), ips=(), eku=("client",), issuer="root")
    config = pki.client_config(certificate_chain=leaf.certificate_chain())
    wine = wine_version()
    if wine is not None:
        with pytest.raises(tlsapi.ConfigurationError, match=f"Wine {wine}"):
            _pair(pki, config)
        pytest.skip(f"Wine {wine}'s schannel signs only with CAPI RSA keys (refusal checked)")
    client, _ = _pair(pki, config)
    assert client is not None
