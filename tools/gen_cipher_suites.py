#!/usr/bin/env python3
"""Regenerate the CipherSuite members in tlsapi/_ciphers.py from the local TLS libraries.

The union of what OpenSSL (``openssl ciphers -stdname``), NSS (``sslproto.h``)
and GnuTLS (``gnutls-cli -l``) implement, named as in the IANA registry.
OpenSSL and NSS print IANA names; GnuTLS-only suites get theirs by a fixed
rewrite of GnuTLS's naming (checked by eye when the list changes).
Run on a Debian machine with openssl, libnss3-dev and gnutls-bin installed:

    python tools/gen_cipher_suites.py > /tmp/members.txt
"""

from __future__ import annotations

import re
import subprocess

_GNUTLS_KX = (
    "ECDHE_ECDSA",
    "ECDHE_RSA",
    "ECDHE_PSK",
    "DHE_DSS",
    "DHE_RSA",
    "DHE_PSK",
    "RSA_PSK",
    "ECDH_ANON",
    "DH_ANON",
    "SRP_SHA_DSS",
    "SRP_SHA_RSA",
    "SRP_SHA",
    "GOSTR341112_256",
    "PSK",
    "RSA",
)


def _gnutls_to_iana(name: str) -> str:
    body = name.removeprefix("TLS_")
    if body.startswith(("AES_", "CHACHA20_")):  # TLS 1.3: no key exchange in the name
        return name
    for kx in _GNUTLS_KX:
        if body.startswith(kx + "_"):
            cipher = body[len(kx) + 1 :].replace("ARCFOUR_128", "RC4_128")
            cipher = re.sub(r"_SHA1$", "_SHA", cipher)
            exchange = kx.replace("_ANON", "_anon")
            return f"TLS_{exchange}_WITH_{cipher}"
    raise ValueError(f"unknown GnuTLS key exchange in {name}")


def collect() -> dict[int, str]:
    suites: dict[int, str] = {}
    out = subprocess.run(["gnutls-cli", "-l"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        m = re.match(r"(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})", line)
        if m:
            suites[int(m[2] + m[3], 16)] = _gnutls_to_iana(m[1])
    with open("/usr/include/nss/sslproto.h") as header:
        for line in header:
            m = re.match(r"#define ((?:TLS|SSL)_\w+)\s+0x([0-9A-Fa-f]{4})\b", line)
            if m and ("_WITH_" in m[1] or m[1].startswith(("TLS_AES_", "TLS_CHACHA20_"))):
                suites[int(m[2], 16)] = m[1]
    out = subprocess.run(
        ["openssl", "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)", line)
        if m:
            suites[int(m[1] + m[2], 16)] = m[3]
    # Old SSL_ spellings in sslproto.h for the same numbers: prefer TLS_.
    return {n: name.replace("SSL_", "TLS_", 1) for n, name in suites.items()}


def main() -> None:
    for number, name in sorted(collect().items()):
        print(f"    {name} = 0x{number:04X}")


if __name__ == "__main__":
    main()
