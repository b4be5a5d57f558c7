"""GnuTLS's cipher-suite table, read once from gnutls_cipher_suite_info().

GnuTLS names no suite in a priority string: it enables every combination of
the key exchanges, ciphers and MACs listed.  This table links each IANA
number to its (kx, cipher, mac, minimum version) so that a list of numbers
can become priority keywords, and a negotiated (kx, cipher, mac) can become a
number again.
"""

from __future__ import annotations

import dataclasses
import functools

from ._binding import ffi, lib

__all__ = ["SuiteInfo", "negotiated_suite", "suite_table"]


@dataclasses.dataclass(frozen=True)
class SuiteInfo:
    number: int
    name: str
    kx: int
    cipher: int
    mac: int
    min_version: int  # gnutls_protocol_t

    @property
    def tls13(self) -> bool:
        return bool(self.min_version == lib.GNUTLS_TLS1_3)

    @property
    def kx_name(self) -> str:
        return _name(lib.gnutls_kx_get_name(self.kx))

    @property
    def cipher_name(self) -> str:
        return _name(lib.gnutls_cipher_get_name(self.cipher))

    @property
    def mac_name(self) -> str:
        return _name(lib.gnutls_mac_get_name(self.mac))


def _name(pointer: object) -> str:
    return "" if pointer == ffi.NULL else str(ffi.string(pointer).decode("ascii"))


@functools.lru_cache(maxsize=1)
def suite_table() -> dict[int, SuiteInfo]:
    """Every suite this GnuTLS knows (enabled or not), by IANA number."""
    cs_id = ffi.new("unsigned char[2]")
    kx = ffi.new("gnutls_kx_algorithm_t *")
    cipher = ffi.new("gnutls_cipher_algorithm_t *")
    mac = ffi.new("gnutls_mac_algorithm_t *")
    version = ffi.new("gnutls_protocol_t *")
    table: dict[int, SuiteInfo] = {}
    index = 0
    while True:
        name = lib.gnutls_cipher_suite_info(index, cs_id, kx, cipher, mac, version)
        if name == ffi.NULL:
            break
        number = cs_id[0] << 8 | cs_id[1]
        table.setdefault(
            number,
            SuiteInfo(
                number, _name(name), int(kx[0]), int(cipher[0]), int(mac[0]), int(version[0])
            ),
        )
        index += 1
    return table


@functools.lru_cache(maxsize=64)
def negotiated_suite(protocol: int, kx: int, cipher: int, mac: int) -> int | None:
    """The IANA number of what a session negotiated (gnutls_*_get values)."""
    tls13 = protocol == lib.GNUTLS_TLS1_3
    for info in suite_table().values():
        if info.tls13 != tls13 or info.cipher != cipher:
            continue
        # TLS 1.3 suites carry no key exchange, and gnutls_kx_get() reports the group's.
        if tls13 or (info.kx == kx and info.mac == mac and info.min_version <= protocol):
            return info.number
    return None
