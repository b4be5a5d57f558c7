"""Key-exchange groups: pinning, no overlap, the server's preference, refusals, reporting.

Contract.  ``key_exchange_groups`` lists the groups an endpoint may use,
most preferred first; None keeps the library's defaults.  A backend either
offers exactly that list or refuses it with ConfigurationError when the
context is made: a group it cannot use (not in ``Backend.supported_groups``,
or a number it does not know), or a list of several groups where it can pin
only one (it then lacks ``Capability.GROUP_SELECTION``).  With
GROUP_SELECTION, a server picks its own most preferred group among those the
client supports.  ``negotiated_group()`` names the group the handshake used
on a backend with ``Capability.NEGOTIATED_GROUP``, and is None on one
without it (and before the handshake).

TLS 1.2 note: there the client's groups also bound the curve of an ECDSA
server certificate (RFC 8422), so the TLS 1.2 tests here use RSA
certificates, and finite-field groups only in TLS 1.3 (TLS 1.2 reaches them
only through DHE suites).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._errors import ConfigurationError
from ..._groups import NamedGroup
from ..._versions import TLSVersion
from ..pki import PKI
from ._support import Peers, assert_handshake_failure, lacks, skip_if_lacks

__all__ = ["TestKeyExchangeGroups"]

X25519, P256, P384 = NamedGroup.X25519, NamedGroup.secp256r1, NamedGroup.secp384r1
V12, V13 = TLSVersion.TLSv1_2, TLSVersion.TLSv1_3
# A number no library assigns (IANA's private use starts at 0xFE00).
UNASSIGNED = 0xFE42


def _only(version: TLSVersion) -> dict[str, Any]:
    return {"lowest_supported_version": version, "highest_supported_version": version}


def _version_for(peers: Peers) -> TLSVersion:
    both = peers.client_backend.capabilities & peers.server_backend.capabilities
    return V13 if Capability.TLSv1_3 in both else V12


def _configs(
    peers: Peers, pki: PKI, client: object, server: object, version: TLSVersion
) -> tuple[TLSConfiguration, TLSConfiguration]:
    return (
        pki.client_config(key_exchange_groups=client, **_only(version)),
        pki.server_config(key_exchange_groups=server, **_only(version)),
    )


def _require_group(backend: Backend, group: int, config: TLSConfiguration, server: bool) -> None:
    """Skip when ``backend`` cannot use ``group``, after checking that it refuses it."""
    if group in backend.supported_groups:
        return
    with pytest.raises(ConfigurationError):
        if server:
            backend.server_context(config)
        else:
            backend.client_context(config)
    pytest.skip(f"backend {backend.name!r} cannot use {NamedGroup.from_number(group).name}")


def _require_selection(peers: Peers, pki: PKI, version: TLSVersion) -> None:
    client_config, server_config = _configs(peers, pki, (X25519, P384), (P384, X25519), version)
    skip_if_lacks(
        peers.client_backend,
        Capability.GROUP_SELECTION,
        lambda: peers.client_backend.client_context(client_config),
    )
    skip_if_lacks(
        peers.server_backend,
        Capability.GROUP_SELECTION,
        lambda: peers.server_backend.server_context(server_config),
    )


def _reported(backend: Backend, buffer: TLSWrappedBuffer) -> NamedGroup | None:
    """What ``buffer`` reports; None is checked for a backend that cannot tell."""
    group = buffer.negotiated_group()
    if Capability.NEGOTIATED_GROUP not in backend.capabilities:
        assert group is None, f"{backend.name} reports {group!r} without NEGOTIATED_GROUP"
    return group


def _assert_negotiated(
    peers: Peers, client: TLSWrappedBuffer, server: TLSWrappedBuffer, expected: NamedGroup
) -> int:
    """Each side that can tell reports ``expected``; returns how many sides checked it."""
    checked = 0
    for backend, buffer in ((peers.client_backend, client), (peers.server_backend, server)):
        group = _reported(backend, buffer)
        if Capability.NEGOTIATED_GROUP in backend.capabilities:
            assert group is expected, f"{backend.name} reports {group!r}, not {expected.name}"
            checked += 1
    return checked


class TestKeyExchangeGroups:
    def test_none_before_the_handshake(self, peers: Peers) -> None:
        client, server = peers.pair()
        assert client.negotiated_group() is None
        assert server.negotiated_group() is None

    def test_default_groups_are_reported_alike(self, peers: Peers) -> None:
        client, server = peers.connect()
        client_group = _reported(peers.client_backend, client)
        server_group = _reported(peers.server_backend, server)
        for backend, group in (
            (peers.client_backend, client_group),
            (peers.server_backend, server_group),
        ):
            if Capability.NEGOTIATED_GROUP in backend.capabilities:
                # The default suites are all (EC)DHE: there is always a group.
                assert isinstance(group, NamedGroup), (backend.name, group)
                assert not group.name.startswith("UNKNOWN"), group
        if client_group is not None and server_group is not None:
            assert client_group is server_group

    @pytest.mark.parametrize("group", list(NamedGroup), ids=lambda g: g.name)
    def test_pinned_group_is_negotiated(
        self, peers: Peers, rsa_pki: PKI, group: NamedGroup
    ) -> None:
        version = _version_for(peers)
        if version is V12 and group.is_finite_field:
            pytest.skip("finite-field groups need DHE suites in TLS 1.2")
        pki = peers.pki if version is V13 else rsa_pki
        client_config, server_config = _configs(peers, pki, (group,), (group,), version)
        _require_group(peers.client_backend, group, client_config, server=False)
        _require_group(peers.server_backend, group, server_config, server=True)
        client, server = peers.connect(
            peers.client_context(client_config), peers.server_context(server_config)
        )
        assert client.negotiated_tls_version is version
        _assert_negotiated(peers, client, server, group)

    @pytest.mark.parametrize("version", [V12, V13], ids=["TLSv1.2", "TLSv1.3"])
    def test_pinned_curve_under_each_version(
        self, peers: Peers, rsa_pki: PKI, version: TLSVersion
    ) -> None:
        if version is V13 and _version_for(peers) is not V13:
            pytest.skip("TLS 1.3 is not available on both sides")
        for group in (X25519, P384):
            client_config, server_config = _configs(peers, rsa_pki, (group,), (group,), version)
            _require_group(peers.client_backend, group, client_config, server=False)
            _require_group(peers.server_backend, group, server_config, server=True)
            client, server = peers.connect(
                peers.client_context(client_config), peers.server_context(server_config)
            )
            assert client.negotiated_tls_version is version
            _assert_negotiated(peers, client, server, group)

    @pytest.mark.parametrize("version", [V12, V13], ids=["TLSv1.2", "TLSv1.3"])
    def test_no_common_group_fails_the_handshake(
        self, peers: Peers, rsa_pki: PKI, version: TLSVersion
    ) -> None:
        if version is V13 and _version_for(peers) is not V13:
            pytest.skip("TLS 1.3 is not available on both sides")
        client_config, server_config = _configs(peers, rsa_pki, (X25519,), (P256,), version)
        _require_group(peers.client_backend, X25519, client_config, server=False)
        _require_group(peers.server_backend, P256, server_config, server=True)
        outcome = peers.outcome(
            peers.client_context(client_config), peers.server_context(server_config)
        )
        assert_handshake_failure(outcome)

    @pytest.mark.parametrize("version", [V12, V13], ids=["TLSv1.2", "TLSv1.3"])
    def test_the_server_preference_wins(
        self, peers: Peers, rsa_pki: PKI, version: TLSVersion
    ) -> None:
        if version is V13 and _version_for(peers) is not V13:
            pytest.skip("TLS 1.3 is not available on both sides")
        _require_selection(peers, rsa_pki, version)
        # The client prefers X25519 (its key share, in TLS 1.3); the server
        # wants P-384 first and gets it (a HelloRetryRequest in TLS 1.3).
        client_config, server_config = _configs(
            peers, rsa_pki, (X25519, P384), (P384, X25519), version
        )
        client, server = peers.connect(
            peers.client_context(client_config), peers.server_context(server_config)
        )
        if not _assert_negotiated(peers, client, server, P384):
            pytest.skip("neither side can report the negotiated group (checked: None)")
        # And the other way round: the same two groups, the server preferring X25519.
        client_config, server_config = _configs(
            peers, rsa_pki, (P384, X25519), (X25519, P384), version
        )
        client, server = peers.connect(
            peers.client_context(client_config), peers.server_context(server_config)
        )
        _assert_negotiated(peers, client, server, X25519)

    def test_a_list_needs_group_selection(self, backend: Backend, pki: PKI) -> None:
        """Without GROUP_SELECTION a list of several groups is refused on each side."""
        config_client = pki.client_config(key_exchange_groups=(X25519, P256))
        config_server = pki.server_config(key_exchange_groups=(X25519, P256))
        attempts: list[Callable[[], object]] = []
        if Capability.CLIENT in backend.capabilities:
            attempts.append(lambda: backend.client_context(config_client))
        if Capability.SERVER in backend.capabilities:
            attempts.append(lambda: backend.server_context(config_server))
        if not lacks(backend, Capability.GROUP_SELECTION, *attempts):
            for attempt in attempts:
                attempt()  # a backend that claims it takes the list

    def test_a_group_it_cannot_use_is_refused(self, backend: Backend, pki: PKI) -> None:
        lacking = [g for g in (*NamedGroup, UNASSIGNED) if g not in backend.supported_groups]
        assert UNASSIGNED in lacking, "an unassigned number cannot be supported"
        for group in lacking:
            if Capability.CLIENT in backend.capabilities:
                with pytest.raises(ConfigurationError):
                    backend.client_context(pki.client_config(key_exchange_groups=(group,)))
            if Capability.SERVER in backend.capabilities:
                with pytest.raises(ConfigurationError):
                    backend.server_context(pki.server_config(key_exchange_groups=(group,)))

    def test_supported_groups_are_known_groups(self, backend: Backend) -> None:
        if Capability.GROUP_SELECTION in backend.capabilities:
            assert backend.supported_groups, "GROUP_SELECTION with no supported_groups"
        for number in backend.supported_groups:
            assert number in NamedGroup._value2member_map_, f"{number:#06x} has no NamedGroup"
