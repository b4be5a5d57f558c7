"""Key-exchange groups across backends: every client backend against every server backend.

For each pair, the groups both can use (``Backend.supported_groups``) are
pinned on both ends one at a time: the handshake must use that group, as
each end that can tell reports (``Capability.NEGOTIATED_GROUP``); with the
libraries' default groups both ends report the same group; with no group in
common the handshake fails on both ends; and a server with a list gets its
own first choice.  A stdlib end cannot report the group, so against it the
other end's report is what shows that stdlib's pin held.
"""

from __future__ import annotations

from typing import Any

import pytest

import tlsapi
from tlsapi import Capability, NamedGroup, TLSVersion
from tlsapi.testing import PKI
from tlsapi.testing.conformance._support import Peers, assert_handshake_failure, skip_if_lacks

V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
X25519, P256, P384 = NamedGroup.X25519, NamedGroup.secp256r1, NamedGroup.secp384r1


@pytest.fixture
def pair(client_backend: tlsapi.Backend, server_backend: tlsapi.Backend, rsa_pki: PKI) -> Peers:
    # RSA certificates: in TLS 1.2 the client's groups also bound an ECDSA key's curve.
    return Peers(client_backend, server_backend, rsa_pki)


def _only(version: TLSVersion) -> dict[str, Any]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


def _versions(pair: Peers) -> list[TLSVersion]:
    both = pair.client_backend.capabilities & pair.server_backend.capabilities
    return [V12, V13] if Capability.TLSv1_3 in both else [V12]


def _reports(backend: tlsapi.Backend) -> bool:
    return Capability.NEGOTIATED_GROUP in backend.capabilities


def _connect(
    pair: Peers, client: object, server: object, version: TLSVersion
) -> tuple[tlsapi.TLSWrappedBuffer, tlsapi.TLSWrappedBuffer]:
    return pair.connect(
        pair.client_config(key_exchange_groups=client, **_only(version)),
        pair.server_config(key_exchange_groups=server, **_only(version)),
    )


def _reported(
    pair: Peers, client: tlsapi.TLSWrappedBuffer, server: tlsapi.TLSWrappedBuffer
) -> list[NamedGroup]:
    """The groups the ends that can tell report (the others must say None)."""
    found = []
    for backend, buffer in ((pair.client_backend, client), (pair.server_backend, server)):
        group = buffer.negotiated_group()
        if _reports(backend):
            assert group is not None, f"{backend.name} reports no group"
            found.append(group)
        else:
            assert group is None
    return found


def test_default_groups_agree(pair: Peers) -> None:
    for version in _versions(pair):
        client, server = _connect(pair, None, None, version)
        reported = _reported(pair, client, server)
        assert len(set(reported)) <= 1, f"{version.name}: the ends disagree: {reported}"


def test_each_common_group_pinned(pair: Peers) -> None:
    common = [
        NamedGroup(n)
        for n in pair.client_backend.supported_groups
        if n in pair.server_backend.supported_groups
    ]
    if not common:
        pytest.skip("the two backends share no selectable group")
    if not (_reports(pair.client_backend) or _reports(pair.server_backend)):
        pytest.skip("neither backend can report the negotiated group")
    checked = 0
    for version in _versions(pair):
        for group in common:
            if version is V12 and group.is_finite_field:
                continue  # TLS 1.2 reaches finite-field groups only through DHE suites
            client, server = _connect(pair, (group,), (group,), version)
            assert _reported(pair, client, server) in ([group], [group, group]), (
                version.name,
                group.name,
            )
            checked += 1
    assert checked


def test_no_common_group_fails(pair: Peers) -> None:
    for version in _versions(pair):
        outcome = pair.outcome(
            pair.client_config(key_exchange_groups=(X25519,), **_only(version)),
            pair.server_config(key_exchange_groups=(P256,), **_only(version)),
        )
        assert_handshake_failure(outcome)


def test_server_preference(pair: Peers) -> None:
    lists = (X25519, P384)
    client_config = pair.client_config(key_exchange_groups=lists)
    server_config = pair.server_config(key_exchange_groups=lists)
    skip_if_lacks(
        pair.client_backend,
        Capability.GROUP_SELECTION,
        lambda: pair.client_backend.client_context(client_config),
    )
    skip_if_lacks(
        pair.server_backend,
        Capability.GROUP_SELECTION,
        lambda: pair.server_backend.server_context(server_config),
    )
    if not (_reports(pair.client_backend) or _reports(pair.server_backend)):
        pytest.skip("neither backend can report the negotiated group")
    for version in _versions(pair):
        for client_list, server_list in (((X25519, P384), (P384, X25519)), ((P384, X25519), lists)):
            client, server = _connect(pair, client_list, server_list, version)
            reported = _reported(pair, client, server)
            assert reported and set(reported) == {server_list[0]}, (version.name, reported)
