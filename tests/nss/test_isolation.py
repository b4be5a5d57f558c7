"""NSS is one library per process; each context's trust must still be its own.

NSS keeps certificates in a process-wide temporary store and sessions in a
process-wide cache.  These tests pin down that neither leaks trust between
contexts: anchors are passed to CERT_PKIXVerifyCert per context, paths may
not borrow an intermediate another connection brought in, and no session is
resumed (so no validation is ever skipped).
"""

from __future__ import annotations

import warnings

import pytest

import tlsapi
from tlsapi import CertificateError, CertificateErrorReason, TLSConfiguration, TrustStore
from tlsapi.testing import PKI, handshake, handshake_outcome

R = CertificateErrorReason


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss isolation")


def _insecure(nss: tlsapi.Backend) -> tlsapi.ClientContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tlsapi.InsecureConfigurationWarning)
        return nss.client_context(TLSConfiguration(validate_certificates=False))


def test_another_contexts_anchor_is_not_trusted(nss: tlsapi.Backend, pki: PKI) -> None:
    trusting = nss.client_context(pki.client_config())
    server = nss.server_context(pki.server_config())
    handshake(trusting.wrap_buffers("localhost"), server.wrap_buffers())
    # The root is now a temporary certificate in NSS; a system-trust context must not trust it.
    system = nss.client_context(TLSConfiguration(trust_store=TrustStore.system()))
    client_error, _ = handshake_outcome(system.wrap_buffers("localhost"), server.wrap_buffers())
    assert isinstance(client_error, CertificateError)
    assert client_error.reason is R.UNTRUSTED_ISSUER


def test_an_intermediate_seen_elsewhere_does_not_complete_a_chain(
    nss: tlsapi.Backend, pki: PKI
) -> None:
    full = nss.server_context(pki.server_config())  # sends leaf + intermediate
    leaf = pki.issue()
    bare = nss.server_context(
        pki.server_config(certificate_chain=((leaf.certificate(),), leaf.private_key()))
    )
    client = nss.client_context(pki.client_config())
    handshake(client.wrap_buffers("localhost"), full.wrap_buffers())
    error, _ = handshake_outcome(client.wrap_buffers("localhost"), bare.wrap_buffers())
    assert isinstance(error, CertificateError)
    assert error.reason is R.UNTRUSTED_ISSUER


def test_no_session_is_resumed_across_contexts(nss: tlsapi.Backend, pki: PKI) -> None:
    # One server context for both: a resumable session from the lenient client would
    # let the strict client skip its validation if NSS's cache were on.
    other = PKI(name="tlsapi nss other")
    server = nss.server_context(other.server_config())
    for version in (tlsapi.TLSVersion.TLSv1_2, tlsapi.TLSVersion.TLSv1_3):
        lenient = _insecure(nss)
        handshake(lenient.wrap_buffers("localhost"), server.wrap_buffers())
        strict = nss.client_context(
            pki.client_config(lowest_supported_version=version, highest_supported_version=version)
        )
        error, _ = handshake_outcome(strict.wrap_buffers("localhost"), server.wrap_buffers())
        assert isinstance(error, CertificateError), version
        assert error.reason is R.UNTRUSTED_ISSUER


def test_server_client_auth_anchors_are_per_context(nss: tlsapi.Backend, pki: PKI) -> None:
    other = PKI(name="tlsapi nss client ca")
    client_identity = other.issue(eku=("client",))
    accepting = nss.server_context(pki.server_config(trust_store=other.trust_store()))
    refusing = nss.server_context(pki.server_config(trust_store=pki.trust_store()))
    client = nss.client_context(
        pki.client_config(certificate_chain=client_identity.certificate_chain())
    )
    handshake(client.wrap_buffers("localhost"), accepting.wrap_buffers())
    server = refusing.wrap_buffers()
    client_buffer = client.wrap_buffers("localhost")
    _, server_error = handshake_outcome(client_buffer, server)
    assert isinstance(server_error, CertificateError)
    assert server_error.reason is R.UNTRUSTED_ISSUER
