"""Run in a child process by test_trust_sources: one NSS client handshake with system trust.

Usage: python _probe.py CHAIN_PEM KEY_PEM NAME.  A stdlib server in this process
presents the chain; the NSS client trusts TrustStore.system() (whatever the
environment configures).  Prints one line: "accepted", "rejected <reason>",
or "error <message>" (a TLSError that is not a certificate verdict).
"""

from __future__ import annotations

import sys

import tlsapi
from tlsapi import Certificate, PrivateKey, TLSConfiguration, TrustStore
from tlsapi.testing import handshake_outcome


def main(chain_path: str, key_path: str, name: str) -> None:
    nss = tlsapi.backend("nss")
    chain = Certificate.chain_from_file(chain_path)
    key = PrivateKey.from_file(key_path)
    server = tlsapi.backend("stdlib").server_context(
        TLSConfiguration(certificate_chain=(chain, key))
    )
    try:
        client = nss.client_context(TLSConfiguration(trust_store=TrustStore.system()))
    except tlsapi.TLSError as exc:
        print(f"error {exc}")
        return
    error, _ = handshake_outcome(client.wrap_buffers(name), server.wrap_buffers())
    if error is None:
        print("accepted")
    elif isinstance(error, tlsapi.CertificateError):
        print(f"rejected {error.reason}")
    else:
        print(f"error {error}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
