"""A peer chain longer than one call of the backend's DER reader holds (tlsapi_nss_list_ders)."""

from __future__ import annotations

import tlsapi
from tlsapi import TLSConfiguration
from tlsapi.testing import PKI, handshake


def test_every_certificate_of_a_long_chain_comes_back(nss: tlsapi.Backend) -> None:
    pki = PKI(name="tlsapi nss long chain")
    leaf = pki.server_identity
    # Eleven certificates after the leaf's own two: the path through the intermediate
    # stays valid, the others are only carried (a peer may send more than its path).
    extras = [pki.issue((f"extra{i}.test",), ()) for i in range(11)]
    server_config = TLSConfiguration(
        certificate_chain=(
            (*leaf.certificates(), *(extra.certificate() for extra in extras)),
            leaf.private_key(),
        ),
    )
    client = nss.client_context(pki.client_config()).wrap_buffers("localhost")
    server = nss.server_context(server_config).wrap_buffers()
    handshake(client, server)
    assert client.getpeercert() == [*leaf.chain_der, *(extra.cert_der for extra in extras)]
    verified = client.verified_chain()  # type: ignore[attr-defined]
    assert verified == [*leaf.chain_der, pki.root_der]
