"""The benchmark's certificates: one ECDSA P-256 PKI, as tlsapi configurations and as files.

tlsapi backends get TLSConfigurations; the raw ``ssl`` module gets the same
certificate and key as PEM files, so every subject does the same work.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .._config import TLSConfiguration
from .._versions import TLSVersion

__all__ = ["BenchCredentials", "make_credentials"]

HOSTNAME = "localhost"


@dataclasses.dataclass(frozen=True)
class BenchCredentials:
    server_config: TLSConfiguration
    client_config: TLSConfiguration
    chain_file: Path
    key_file: Path
    root_pem: bytes
    hostname: str = HOSTNAME


def make_credentials(directory: Path) -> BenchCredentials:
    """A fresh PKI (needs ``cryptography``: it comes from tlsapi.testing)."""
    from tlsapi.testing.pki import PKI, KeyType

    pki = PKI(key_type=KeyType.ECDSA_P256, name="tlsapi bench")
    leaf = pki.issue(names=(HOSTNAME,), ips=("127.0.0.1",))
    files = leaf.write(directory, "server")
    tls13 = {
        "lowest_supported_version": TLSVersion.TLSv1_3,
        "highest_supported_version": TLSVersion.TLSv1_3,
    }
    return BenchCredentials(
        server_config=pki.server_config(leaf, **tls13),
        client_config=pki.client_config(**tls13),
        chain_file=files.chain,
        key_file=files.key,
        root_pem=pki.root_pem,
    )
