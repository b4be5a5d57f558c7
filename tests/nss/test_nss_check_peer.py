"""tlsapi_nss_check_peer, the certificate hook's one C call, on real connections.

The hook already ran during each handshake; NSS still holds the peer's
certificate afterwards, so the call is made again here with other names and
anchors and its whole result read: the code, the certificate, and the DER of
the chain as presented and of the verified path.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
from tlsapi_nss._credentials import anchor_list
from tlsapi_nss._lib import ffi, lib

import tlsapi
from tlsapi.testing import PKI, handshake
from tlsapi.testing.pki import WeakKeyType


@pytest.fixture(scope="module")
def pki() -> PKI:
    return PKI(name="tlsapi nss check peer")


@pytest.fixture
def pair(nss: tlsapi.Backend, pki: PKI) -> tuple[Any, Any]:
    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    server = nss.server_context(pki.server_config()).wrap_buffers()
    handshake(client, server)
    return client, server


@pytest.fixture
def peer() -> Iterator[Any]:
    result = ffi.new("tlsapi_nss_peer *")
    yield result
    lib.tlsapi_nss_peer_release(result)
    assert result.cert == ffi.NULL and result.presented == ffi.NULL and result.path == ffi.NULL


def _check(
    buffer: Any,
    peer: Any,
    host: bytes | None = b"localhost",
    ip: str | None = None,
    passed: tuple[bytes, int] | None = None,
) -> int:
    packed = ipaddress.ip_address(ip).packed if ip is not None else ffi.NULL
    code: int = lib.tlsapi_nss_check_peer(
        buffer._fd,
        lib.certificateUsageSSLServer,
        buffer._profile.anchors,
        ffi.NULL if host is None else host,
        packed,
        0 if ip is None else len(packed),
        ffi.NULL if passed is None else passed[0],
        0 if passed is None else len(passed[0]),
        0 if passed is None else passed[1],
        peer,
    )
    return code


def _ders(data: Any, lengths: Any, count: int) -> list[bytes]:
    return [ffi.unpack(data[i], lengths[i]) for i in range(count)]


def test_a_good_peer_gives_its_chain_and_the_verified_path(
    pair: tuple[Any, Any], peer: Any, pki: PKI
) -> None:
    client, _ = pair
    assert _check(client, peer) == 0
    assert peer.cert != ffi.NULL
    chain = pki.server_identity.chain_der
    assert peer.presented_count == len(chain)
    assert _ders(peer.presented_ders, peer.presented_lengths, peer.presented_count) == chain
    assert peer.path_count == len(chain) + 1
    assert _ders(peer.path_ders, peer.path_lengths, peer.path_count) == [*chain, pki.root_der]
    # All of the path but its anchor is the chain as sent: the hook copies the anchor only.
    assert peer.path_presented == len(chain)
    assert client.verified_chain() == [*chain, pki.root_der]


def test_a_path_that_is_not_the_chain_as_sent(nss: tlsapi.Backend, pki: PKI, peer: Any) -> None:
    # Another certificate between the leaf and its issuer: the path skips it.
    leaf = pki.server_identity
    extra = pki.issue(("extra.test",), ())
    leaf_certificate, intermediate = leaf.certificates()
    server_config = tlsapi.TLSConfiguration(
        certificate_chain=(
            (leaf_certificate, extra.certificate(), intermediate),
            leaf.private_key(),
        ),
    )
    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    handshake(client, nss.server_context(server_config).wrap_buffers())
    path = [*leaf.chain_der, pki.root_der]
    assert client.verified_chain() == path
    assert _check(client, peer) == 0
    assert peer.presented_count == 3 and peer.path_presented == 1
    assert _ders(peer.path_ders, peer.path_lengths, peer.path_count) == path


def test_the_chain_the_policy_passed(pair: tuple[Any, Any], peer: Any, pki: PKI) -> None:
    client, _ = pair
    chain = pki.server_identity.chain_der
    path = [*chain, pki.root_der]
    # The handshake's hook kept what it passed on the client's profile.
    assert client._profile.passed == (b"".join(chain + path), 2, path)
    blob = b"".join(chain + path)
    assert _check(client, peer, passed=(blob, 2)) == 0
    assert peer.passed == 1
    lib.tlsapi_nss_peer_release(peer)
    # Other bytes, or the same bytes split otherwise, are another chain.
    changed = blob[:-1] + bytes([blob[-1] ^ 1])
    for other in ((changed, 2), (blob, 1), (blob, 3), (blob[:-1], 2), (blob + b"\0", 2)):
        assert _check(client, peer, passed=other) == 0
        assert peer.passed == 0, other[1]
        lib.tlsapi_nss_peer_release(peer)
    # Nor does a peer that fails its check pass.
    assert _check(client, peer, host=b"other.test", passed=(blob, 2)) != 0
    assert peer.passed == 0


def test_no_name_to_check(pair: tuple[Any, Any], peer: Any) -> None:
    assert _check(pair[0], peer, host=None) == 0


def test_a_wrong_name_fails_after_verification(pair: tuple[Any, Any], peer: Any) -> None:
    code = _check(pair[0], peer, host=b"other.test")
    assert code == lib.SSL_ERROR_BAD_CERT_DOMAIN
    assert lib.PR_GetError() == code
    # The path was verified before the name was checked: it is still reported.
    assert peer.path != ffi.NULL and peer.path_count == 3


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1"])
def test_an_address_in_the_subject_alt_name(pair: tuple[Any, Any], peer: Any, ip: str) -> None:
    # The address decides, not the host name passed with it.
    assert _check(pair[0], peer, host=b"other.test", ip=ip) == 0


def test_an_address_not_in_the_subject_alt_name(pair: tuple[Any, Any], peer: Any) -> None:
    assert _check(pair[0], peer, ip="10.1.2.3") == lib.SSL_ERROR_BAD_CERT_DOMAIN


def test_another_anchor_verifies_nothing(pair: tuple[Any, Any], peer: Any) -> None:
    other = anchor_list([PKI(name="tlsapi nss check peer, other").root_der])
    code = lib.tlsapi_nss_check_peer(
        pair[0]._fd,
        lib.certificateUsageSSLServer,
        other,
        b"localhost",
        ffi.NULL,
        0,
        ffi.NULL,
        0,
        0,
        peer,
    )
    assert code == lib.SEC_ERROR_UNTRUSTED_ISSUER
    assert peer.path == ffi.NULL and peer.path_count == 0
    # The chain is still there for the error's report (a weak key is named from it).
    assert peer.cert != ffi.NULL and peer.presented_count == 2


def test_a_chain_the_policy_passed_does_not_pass_another(nss: tlsapi.Backend, pki: PKI) -> None:
    # One client context (one profile) meets a good chain, then one NSS accepts but
    # tlsapi's policy does not (an RSA-1024 leaf), then the good one again.
    context = nss.client_context(pki.client_config())
    weak = pki.issue(key_type=WeakKeyType.RSA_1024)
    servers = [
        nss.server_context(pki.server_config()),
        nss.server_context(pki.server_config(weak)),
    ]
    for index in (0, 1, 0, 1):
        client = context.wrap_buffers("localhost")
        server = servers[index].wrap_buffers()
        if index == 0:
            handshake(client, server)
            continue
        with pytest.raises(tlsapi.CertificateError) as failure:
            handshake(client, server)
        assert failure.value.reason is tlsapi.CertificateErrorReason.WEAK_KEY


def test_a_peer_without_a_certificate(pair: tuple[Any, Any], peer: Any) -> None:
    # The server asked the client for none.
    _, server = pair
    code = lib.tlsapi_nss_check_peer(
        server._fd,
        lib.certificateUsageSSLClient,
        ffi.NULL,
        ffi.NULL,
        ffi.NULL,
        0,
        ffi.NULL,
        0,
        0,
        peer,
    )
    assert code == lib.SSL_ERROR_NO_CERTIFICATE
    assert lib.PR_GetError() == code
    assert peer.cert == ffi.NULL and peer.presented_count == 0
