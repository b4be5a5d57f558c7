"""Certificate validation: each failure with its backend-neutral reason; names and IPs."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest

from ..._backend import Backend, Capability
from ..._context import ClientContext
from ..._credentials import Certificate, TrustStore
from ..._errors import (
    CertificateError,
    CertificateErrorReason,
    ConfigurationError,
    InsecureConfigurationWarning,
)
from ..pki import PKI, Identity
from ._support import Outcome, Peers, assert_handshake_failure, skip_if_lacks

__all__ = ["TestHostnames", "TestInsecureMode", "TestValidation"]

R = CertificateErrorReason
DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _serve(
    peers: Peers, leaf: Identity, hostname: str | None = "localhost", **client: object
) -> Outcome:
    server_config = peers.server_config(certificate_chain=leaf.certificate_chain())
    return peers.outcome(peers.client_config(**client), server_config, hostname)


def _assert_rejected(outcome: Outcome, reason: CertificateErrorReason) -> CertificateError:
    client_error, _ = assert_handshake_failure(outcome)
    assert isinstance(client_error, CertificateError), client_error
    assert isinstance(client_error, ssl.SSLCertVerificationError)
    assert client_error.reason is reason, f"{client_error.reason!r}: {client_error}"
    assert client_error.library_message or str(client_error)
    # A failed handshake tells nothing about the peer.
    assert outcome.client.getpeercert() is None
    return client_error


class TestValidation:
    def test_chain_through_intermediate(self, peers: Peers, pki: PKI) -> None:
        outcome = _serve(peers, pki.issue())
        assert outcome.client_error is None and outcome.server_error is None

    def test_leaf_issued_by_the_root(self, peers: Peers, pki: PKI) -> None:
        outcome = _serve(peers, pki.issue(issuer="root"))
        assert outcome.client_error is None and outcome.server_error is None

    def test_leaf_without_eku_is_accepted(self, peers: Peers, pki: PKI) -> None:
        # RFC 5280: no extendedKeyUsage extension means any usage.
        outcome = _serve(peers, pki.issue(eku=()))
        assert outcome.client_error is None and outcome.server_error is None

    def test_expired(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue(not_before=_now() - 60 * DAY, not_after=_now() - DAY)
        _assert_rejected(_serve(peers, leaf), R.EXPIRED)

    def test_not_yet_valid(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue(not_before=_now() + DAY, not_after=_now() + 60 * DAY)
        _assert_rejected(_serve(peers, leaf), R.NOT_YET_VALID)

    def test_hostname_mismatch(self, peers: Peers, pki: PKI) -> None:
        _assert_rejected(_serve(peers, pki.issue(), "example.org"), R.HOSTNAME_MISMATCH)

    def test_untrusted_issuer(self, peers: Peers, other_pki: PKI) -> None:
        _assert_rejected(_serve(peers, other_pki.issue()), R.UNTRUSTED_ISSUER)

    def test_untrusted_root_sent_along(self, peers: Peers, pki: PKI, other_pki: PKI) -> None:
        # The server sends its (untrusted) root too: still an untrusted issuer.
        leaf = other_pki.issue()
        chain = (*leaf.certificates(), Certificate.from_buffer(other_pki.root_pem))
        config = peers.server_config(certificate_chain=(chain, leaf.private_key()))
        _assert_rejected(peers.outcome(server=config), R.UNTRUSTED_ISSUER)

    def test_missing_intermediate(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue()
        config = peers.server_config(certificate_chain=((leaf.certificate(),), leaf.private_key()))
        _assert_rejected(peers.outcome(server=config), R.UNTRUSTED_ISSUER)

    def test_self_signed(self, peers: Peers, pki: PKI) -> None:
        _assert_rejected(_serve(peers, pki.issue(issuer="self")), R.SELF_SIGNED)

    @pytest.mark.parametrize("eku", [("client",), ("code-signing",), ("email",)], ids=str)
    def test_wrong_extended_key_usage(self, peers: Peers, pki: PKI, eku: tuple[str, ...]) -> None:
        _assert_rejected(_serve(peers, pki.issue(eku=eku)), R.BAD_USAGE)

    def test_system_store_does_not_trust_a_private_ca(self, backend: Backend, pki: PKI) -> None:
        peers = Peers.for_backend(backend, pki)
        config = pki.client_config(trust_store=None)
        skip_if_lacks(
            peers.client_backend,
            Capability.SYSTEM_TRUST,
            lambda: peers.client_backend.client_context(config),
        )
        _assert_rejected(peers.outcome(config), R.UNTRUSTED_ISSUER)
        explicit = pki.client_config(trust_store=TrustStore.system())
        _assert_rejected(peers.outcome(explicit), R.UNTRUSTED_ISSUER)

    def test_trust_store_from_pem_file(self, peers: Peers, pki: PKI, tmp_path: Path) -> None:
        path = pki.write_root(tmp_path)
        config = peers.client_config(trust_store=TrustStore.from_pem_file(path))
        skip_if_lacks(
            peers.client_backend,
            Capability.CUSTOM_TRUST,
            lambda: peers.client_backend.client_context(config),
        )
        peers.connect(config)

    def test_trust_store_from_der(self, peers: Peers, pki: PKI) -> None:
        config = peers.client_config(trust_store=TrustStore.from_buffer(pki.root_der))
        skip_if_lacks(
            peers.client_backend,
            Capability.CUSTOM_TRUST,
            lambda: peers.client_backend.client_context(config),
        )
        peers.connect(config)

    def test_trust_store_with_several_roots(self, peers: Peers, pki: PKI, other_pki: PKI) -> None:
        store = TrustStore.from_buffer(other_pki.root_pem + pki.root_pem)
        config = peers.client_config(trust_store=store)
        skip_if_lacks(
            peers.client_backend,
            Capability.CUSTOM_TRUST,
            lambda: peers.client_backend.client_context(config),
        )
        peers.connect(config)
        other = Peers(peers.client_backend, peers.server_backend, other_pki)
        other.connect(config)

    def test_server_hostname_is_required(self, backend: Backend, pki: PKI) -> None:
        context = backend.client_context(pki.client_config())
        with pytest.raises(ConfigurationError):
            context.wrap_buffers(None)

    def test_error_is_catchable_as_ssl_errors(self, peers: Peers, other_pki: PKI) -> None:
        error = _assert_rejected(_serve(peers, other_pki.issue()), R.UNTRUSTED_ISSUER)
        assert isinstance(error, ssl.SSLError)


class TestHostnames:
    @pytest.mark.parametrize("hostname", ["localhost", "LOCALHOST", "localhost."])
    def test_dns_name_matches(self, peers: Peers, hostname: str) -> None:
        peers.connect(hostname=hostname)

    @pytest.mark.parametrize("hostname", ["127.0.0.1", "::1", "[::1]", "0:0:0:0:0:0:0:1"])
    def test_ip_address_matches(self, peers: Peers, hostname: str) -> None:
        context = peers.client_context()
        skip_if_lacks(
            peers.client_backend,
            Capability.IP_ADDRESS_VALIDATION,
            lambda: context.wrap_buffers(hostname),
        )
        peers.connect(context, hostname=hostname)

    @pytest.mark.parametrize("hostname", ["127.0.0.2", "::2", "10.0.0.1"])
    def test_ip_address_mismatch(self, peers: Peers, pki: PKI, hostname: str) -> None:
        context = peers.client_context()
        skip_if_lacks(
            peers.client_backend,
            Capability.IP_ADDRESS_VALIDATION,
            lambda: context.wrap_buffers("127.0.0.1"),
        )
        _assert_rejected(_serve(peers, pki.server_identity, hostname), R.HOSTNAME_MISMATCH)

    def test_ip_address_needs_an_ip_entry(self, peers: Peers, pki: PKI) -> None:
        # A DNS entry spelled like an address must not match the address.
        context = peers.client_context()
        skip_if_lacks(
            peers.client_backend,
            Capability.IP_ADDRESS_VALIDATION,
            lambda: context.wrap_buffers("127.0.0.1"),
        )
        leaf = pki.issue(names=("127.0.0.1", "localhost"), ips=())
        _assert_rejected(_serve(peers, leaf, "127.0.0.1"), R.HOSTNAME_MISMATCH)

    def test_name_does_not_match_an_ip_entry(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue(names=(), ips=("127.0.0.1",))
        _assert_rejected(_serve(peers, leaf, "localhost"), R.HOSTNAME_MISMATCH)

    @pytest.mark.parametrize("hostname", ["a.example.test", "www.example.test"])
    def test_wildcard_matches_one_label(self, peers: Peers, pki: PKI, hostname: str) -> None:
        outcome = _serve(peers, pki.issue(names=("*.example.test",), ips=()), hostname)
        assert outcome.client_error is None and outcome.server_error is None

    @pytest.mark.parametrize("hostname", ["a.b.example.test", "example.test", "a.example.org"])
    def test_wildcard_does_not_match(self, peers: Peers, pki: PKI, hostname: str) -> None:
        leaf = pki.issue(names=("*.example.test",), ips=())
        _assert_rejected(_serve(peers, leaf, hostname), R.HOSTNAME_MISMATCH)

    def test_idna_name(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue(names=("xn--bcher-kva.test",), ips=())
        outcome = _serve(peers, leaf, "bücher.test")
        assert outcome.client_error is None and outcome.server_error is None

    def test_second_name_matches(self, peers: Peers, pki: PKI) -> None:
        leaf = pki.issue(names=("first.test", "second.test"), ips=())
        outcome = _serve(peers, leaf, "second.test")
        assert outcome.client_error is None and outcome.server_error is None


class TestInsecureMode:
    def _insecure(self, peers: Peers) -> ClientContext:
        config = peers.client_config(validate_certificates=False)
        with pytest.warns(InsecureConfigurationWarning):
            return peers.client_backend.client_context(config)

    @pytest.mark.parametrize("problem", ["self-signed", "untrusted", "expired", "wrong-name"])
    def test_anything_is_accepted(
        self, peers: Peers, pki: PKI, other_pki: PKI, problem: str
    ) -> None:
        if problem == "self-signed":
            leaf = pki.issue(issuer="self")
        elif problem == "untrusted":
            leaf = other_pki.issue()
        elif problem == "expired":
            leaf = pki.issue(not_before=_now() - 9 * DAY, not_after=_now() - DAY)
        else:
            leaf = pki.issue(names=("elsewhere.test",), ips=())
        context = self._insecure(peers)
        server_config = peers.server_config(certificate_chain=leaf.certificate_chain())
        client, _ = peers.connect(context, server_config)
        # The certificate is still reported, just not judged.
        assert client.getpeercert()[0] == leaf.cert_der  # type: ignore[index]

    def test_no_server_hostname_needed(self, peers: Peers) -> None:
        context = self._insecure(peers)
        client, server = peers.connect(context, hostname=None)
        assert client.server_hostname is None
        assert server.server_hostname is None

    def test_context_creation_warns(self, backend: Backend) -> None:
        from ..._config import TLSConfiguration

        with pytest.warns(InsecureConfigurationWarning):
            backend.client_context(TLSConfiguration(validate_certificates=False))
