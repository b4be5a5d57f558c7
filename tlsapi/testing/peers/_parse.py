"""Parsers for what each peer program prints about the connection it made."""

from __future__ import annotations

import dataclasses
import re

from ..._versions import TLSVersion


@dataclasses.dataclass(frozen=True)
class PeerReport:
    """What a program printed about its (last) connection; None: not printed."""

    version: TLSVersion | None = None
    cipher: str | None = None  # in the program's own naming
    alpn: bytes | None = None  # None also when the program does not report ALPN
    peer_subject: str | None = None  # the peer certificate's subject, as printed
    verified: bool | None = None  # the program says the peer's certificate checked out

    @property
    def bulk_cipher(self) -> str | None:
        """The cipher as "AES-256-GCM", "CHACHA20-POLY1305", ... (see bulk_cipher())."""
        return bulk_cipher(self.cipher) if self.cipher else None


_VERSIONS = {
    "TLSv1": TLSVersion.TLSv1,
    "TLSv1.1": TLSVersion.TLSv1_1,
    "TLSv1.2": TLSVersion.TLSv1_2,
    "TLSv1.3": TLSVersion.TLSv1_3,
    "TLS1.0": TLSVersion.TLSv1,
    "TLS1.1": TLSVersion.TLSv1_1,
    "TLS1.2": TLSVersion.TLSv1_2,
    "TLS1.3": TLSVersion.TLSv1_3,
    "3.1": TLSVersion.TLSv1,
    "3.2": TLSVersion.TLSv1_1,
    "3.3": TLSVersion.TLSv1_2,
    "3.4": TLSVersion.TLSv1_3,
}


def bulk_cipher(name: str) -> str | None:
    """The record cipher of a suite name in IANA, OpenSSL, GnuTLS or NSS style.

    "TLS_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", "AES-256-GCM"
    and NSS's "256-bit AES-GCM" all give "AES-256-GCM", so that what a program
    prints can be compared with a backend's ``cipher()``.
    """
    text = name.upper().replace("_", "-")
    if "CHACHA20" in text:
        return "CHACHA20-POLY1305"
    match = re.search(r"(\d+)-BIT (AES|CAMELLIA|ARIA)-(GCM|CCM|CBC)", text)  # NSS
    if match:
        return f"{match[2]}-{match[1]}-{match[3]}"
    match = re.search(r"(AES|CAMELLIA|ARIA)-?(\d+)-(GCM|CCM-8|CCM|CBC)", text)
    if match:
        return f"{match[1]}-{match[2]}-{match[3]}"
    match = re.search(r"(AES|CAMELLIA|ARIA)-?(\d+)(?:-SHA|$)", text)  # OpenSSL's CBC names
    if match:
        return f"{match[1]}-{match[2]}-CBC"
    return None


def _last(pattern: str, text: str) -> re.Match[str] | None:
    matches = list(re.finditer(pattern, text, re.MULTILINE))
    return matches[-1] if matches else None


def _group(pattern: str, text: str) -> str | None:
    match = _last(pattern, text)
    return match[1].strip() if match else None


def _first(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match[1].strip() if match else None


def _version(token: str | None) -> TLSVersion | None:
    return _VERSIONS.get(token) if token else None


def _alpn_value(token: str | None) -> bytes | None:
    return token.encode() if token else None


def _parse_openssl_server(text: str) -> PeerReport:
    return PeerReport(
        version=_version(_group(r"^Protocol version: (\S+)", text)),
        cipher=_group(r"^Ciphersuite: (\S+)", text),
        alpn=_alpn_value(_group(r"^ALPN protocols selected: (\S+)", text)),
        peer_subject=_group(r"^Peer certificate: (.+)$", text),
        verified=None,
    )


def _parse_openssl_client(text: str) -> PeerReport:
    new = _last(r"^New, (\S+), Cipher is (\S+)", text)
    verification = _group(r"^Verification: (.+)$", text)
    return PeerReport(
        version=_version(new[1]) if new else None,
        cipher=new[2] if new else None,
        alpn=_alpn_value(_group(r"^ALPN protocol: (\S+)", text)),
        peer_subject=_group(r"^subject=(.+)$", text),
        verified=None if verification is None else verification == "OK",
    )


def _parse_gnutls(text: str) -> PeerReport:
    # Only the last connection's block counts (a server prints one per client).
    start = _last(r"^\* Accepted connection", text)
    block = text[start.start() :] if start else text
    # "- Description: (TLS1.3-X.509)-(ECDHE-X25519)-(ECDSA-SECP256R1-SHA256)-(AES-256-GCM)"
    description = _last(r"^- Description: \((TLS[\d.]+)-.*\(([^()]+)\)\s*$", block)
    status = _group(r"^- Status: (.+)$", block)
    return PeerReport(
        version=_version(description[1]) if description else None,
        cipher=description[2] if description else None,
        alpn=_alpn_value(_group(r"^- Application protocol: (\S+)", block)),
        # The first subject printed is the peer's leaf (the chain follows it).
        peer_subject=_first(r"subject `([^']*)'", block) or _first(r"^\s*Subject: (.+)$", block),
        verified=None if status is None else status.startswith("The certificate is trusted"),
    )


def _parse_nss(text: str, program: str) -> PeerReport:
    line = _last(rf"^{program}: SSL version (\d\.\d) using (\d+-bit \S+)", text)
    return PeerReport(
        version=_version(line[1]) if line else None,
        cipher=line[2] if line else None,
        alpn=None,
        peer_subject=_group(rf"^(?:{program}: )?subject DN: (.+)$", text),
        verified=None,
    )
