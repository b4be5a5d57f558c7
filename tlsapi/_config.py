"""TLSConfiguration: an immutable, validated description of a TLS endpoint."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Optional, Union

from ._ciphers import DEFAULT_CIPHER_LIST, CipherSuite, weakness
from ._credentials import Certificate, PrivateKey, TrustStore
from ._der import DERError
from ._errors import ConfigurationError
from ._groups import NamedGroup
from ._keylog import check_keylog_path
from ._policy import read_certificate
from ._protocols import NextProtocol
from ._versions import TLSVersion

if TYPE_CHECKING:
    from ._buffer import TLSWrappedBuffer

__all__ = ["SNICallback", "TLSConfiguration"]

CertificateChain = tuple[tuple[Certificate, ...], PrivateKey]
# Several chains a server chooses from by what the client supports (RSA, ECDSA, ...).
CertificateChains = tuple[CertificateChain, ...]
# sni_callback(buffer, server_name, configuration) -> a configuration to use
# instead (its certificate_chain, trust_store and inner_protocols take effect)
# or None to go on with the current one.  Raising aborts the handshake.
SNICallback = Callable[
    ["TLSWrappedBuffer", Optional[str], "TLSConfiguration"], Optional["TLSConfiguration"]
]


def _tuple_of_ciphers(value: Iterable[Any]) -> tuple[CipherSuite | int, ...]:
    if isinstance(value, (str, bytes)):
        raise ConfigurationError(
            "ciphers must be a sequence of CipherSuite members or IANA numbers, not a string"
        )
    try:
        items = tuple(value)
    except TypeError:
        raise ConfigurationError(
            f"ciphers must be a sequence of CipherSuite members, not {type(value).__name__}"
        ) from None
    result: list[CipherSuite | int] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 0xFFFF:
            raise ConfigurationError(
                f"ciphers: {item!r} is not a CipherSuite or IANA number (0..0xFFFF)"
            )
        result.append(CipherSuite.from_number(int(item)))
    if not result:
        raise ConfigurationError("ciphers is empty: no connection could ever be made")
    weak = [f"{CipherSuite(s).name} ({why})" for s in result if (why := weakness(s))]
    if weak:
        raise ConfigurationError(f"ciphers: weak suites are never allowed: {', '.join(weak)}")
    return tuple(result)


def _tuple_of_protocols(value: Iterable[Any]) -> tuple[NextProtocol | bytes, ...]:
    if isinstance(value, (str, bytes, NextProtocol)):
        raise ConfigurationError(
            "inner_protocols must be a sequence of protocols, e.g. (NextProtocol.H2, b'http/1.1')"
        )
    try:
        items = tuple(value)
    except TypeError:
        raise ConfigurationError(
            f"inner_protocols must be a sequence of protocols, not {type(value).__name__}"
        ) from None
    result: list[NextProtocol | bytes] = []
    total = 0
    for item in items:
        if isinstance(item, NextProtocol):
            raw = item.value
        elif isinstance(item, (bytes, bytearray)):
            raw = bytes(item)
        else:
            raise ConfigurationError(
                f"inner_protocols: {item!r} is neither a NextProtocol nor bytes"
            )
        if not 1 <= len(raw) <= 255:
            raise ConfigurationError(
                f"inner_protocols: {raw!r} must be 1 to 255 bytes long (RFC 7301)"
            )
        total += 1 + len(raw)
        result.append(NextProtocol.from_bytes(raw))
    if total > 0xFFFF:
        raise ConfigurationError("inner_protocols: the ALPN list exceeds 65535 bytes")
    if len({p.value if isinstance(p, NextProtocol) else p for p in result}) != len(result):
        raise ConfigurationError("inner_protocols lists a protocol twice")
    return tuple(result)


def _tuple_of_groups(value: Any) -> tuple[NamedGroup, ...] | None:
    if value is None:
        return None
    usage = (
        "key_exchange_groups must be None (the library's defaults) or a sequence of "
        "NamedGroup members, IANA numbers or names, most preferred first, "
        "e.g. (NamedGroup.X25519, NamedGroup.secp256r1)"
    )
    if isinstance(value, (str, bytes, int)):
        raise ConfigurationError(f"{usage}, not {value!r}")
    try:
        items = tuple(value)
    except TypeError:
        raise ConfigurationError(f"{usage}, not {type(value).__name__}") from None
    result: list[NamedGroup] = []
    for item in items:
        if isinstance(item, str):
            group = NamedGroup.from_name(item)
        elif isinstance(item, int) and not isinstance(item, bool) and 0 < item <= 0xFFFF:
            group = NamedGroup.from_number(int(item))
        else:
            raise ConfigurationError(
                f"key_exchange_groups: {item!r} is not a NamedGroup, IANA number (1..0xFFFF) "
                "or group name"
            )
        if group in result:
            raise ConfigurationError(f"key_exchange_groups lists {group.name} twice")
        result.append(group)
    if not result:
        raise ConfigurationError(
            "key_exchange_groups is empty: no key exchange could ever be made "
            "(None means the library's defaults)"
        )
    return tuple(result)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TLSConfiguration:
    """What a TLS client or server should do; immutable and hashable.

    Values are checked here, so that a bad one is a ConfigurationError now
    rather than a failure at handshake time.  ``update(**changes)`` returns a
    new configuration.

    ``inner_protocols`` are the ALPN protocols (RFC 7301), most preferred
    first.  When the client's and the server's lists share no protocol, the
    handshake still succeeds without one and ``negotiated_protocol()`` is
    None on both ends, on every backend, as with the ``ssl`` module (no
    ``no_application_protocol`` alert): a program that needs a protocol
    checks ``negotiated_protocol()`` and closes the connection itself.

    ``key_exchange_groups`` are the named groups for the (EC)DHE key exchange,
    most preferred first (``NamedGroup`` members, IANA numbers or names such
    as ``"x25519"``); None leaves the library's defaults.  A backend that
    cannot offer exactly that list refuses it with ConfigurationError when
    the context is made.  Like ``ciphers``, set it on the context's own
    configuration: one returned by ``sni_callback`` may come too late to
    change it (gnutls and stdlib keep the context's; nss, which reads the
    ClientHello first, takes the returned one).

    ``certificate_chain`` is one chain, ``((leaf, *intermediates), key)``, or
    for a server a sequence of such chains with keys of different types
    (say one RSA and one ECDSA): the backend serves the one the client's
    signature algorithms allow.  ``certificate_chains`` always gives the
    chains as a tuple.

    ``keylog_filename`` appends every connection's secrets to that file in
    the NSS Key Log Format (for Wireshark), on backends with
    ``Capability.KEY_LOG``; a context made with it warns
    (InsecureConfigurationWarning).  tlsapi never reads ``SSLKEYLOGFILE``
    itself: pass ``os.environ.get("SSLKEYLOGFILE")`` explicitly to honour it.
    """

    validate_certificates: bool = True
    certificate_chain: Optional[Union[CertificateChain, CertificateChains]] = None
    ciphers: tuple[Union[CipherSuite, int], ...] = DEFAULT_CIPHER_LIST
    inner_protocols: tuple[Union[NextProtocol, bytes], ...] = ()
    lowest_supported_version: TLSVersion = TLSVersion.TLSv1_2
    highest_supported_version: TLSVersion = TLSVersion.MAXIMUM_SUPPORTED
    trust_store: Optional[TrustStore] = None
    sni_callback: Optional[SNICallback] = None
    key_exchange_groups: Optional[tuple[Union[NamedGroup, int], ...]] = None
    keylog_filename: Optional[str] = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # the dataclass is frozen; normalise in place once
        if not isinstance(self.validate_certificates, bool):
            raise ConfigurationError("validate_certificates must be True or False")
        set_(self, "ciphers", _tuple_of_ciphers(self.ciphers))
        set_(self, "inner_protocols", _tuple_of_protocols(self.inner_protocols))
        set_(self, "key_exchange_groups", _tuple_of_groups(self.key_exchange_groups))
        self._check_chain()
        for name in ("lowest_supported_version", "highest_supported_version"):
            if not isinstance(getattr(self, name), TLSVersion):
                raise ConfigurationError(
                    f"{name} must be a TLSVersion, not {getattr(self, name)!r}"
                )
        low, high = self.lowest_supported_version, self.highest_supported_version
        if low is TLSVersion.MAXIMUM_SUPPORTED or high is TLSVersion.MINIMUM_SUPPORTED:
            raise ConfigurationError(f"the version range {low.name}..{high.name} is upside down")
        if low._rank() > high._rank():
            raise ConfigurationError(
                f"the version range is empty: lowest_supported_version {low.name} "
                f"is above highest_supported_version {high.name}"
            )
        if self.trust_store is not None and not isinstance(self.trust_store, TrustStore):
            raise ConfigurationError(
                f"trust_store must be a TrustStore or None, not {type(self.trust_store).__name__}"
            )
        if self.sni_callback is not None and not callable(self.sni_callback):
            raise ConfigurationError("sni_callback must be callable or None")
        self._check_keylog()

    @property
    def certificate_chains(self) -> CertificateChains:
        """Every chain in ``certificate_chain`` as a tuple (empty when there is none)."""
        chain = self.certificate_chain
        if chain is None:
            return ()
        if isinstance(chain[1], PrivateKey):
            return (chain,)
        return chain

    def _check_keylog(self) -> None:
        path = self.keylog_filename
        if path is None:
            return
        if not isinstance(path, (str, os.PathLike)):
            raise ConfigurationError(
                f"keylog_filename must be a path (str or os.PathLike) or None, not {path!r}"
            )
        text = os.fspath(path)
        if not isinstance(text, str) or not text:
            raise ConfigurationError(f"keylog_filename must be a non-empty text path, not {path!r}")
        check_keylog_path(text)
        object.__setattr__(self, "keylog_filename", text)

    def _check_chain(self) -> None:
        chain = self.certificate_chain
        if chain is None:
            return
        if isinstance(chain, tuple) and len(chain) == 2 and isinstance(chain[1], PrivateKey):
            object.__setattr__(self, "certificate_chain", _one_chain(chain))
            return
        if not isinstance(chain, (tuple, list)) or not chain:
            raise ConfigurationError(_CHAIN_USAGE)
        chains = tuple(_one_chain(item) for item in chain)
        if len(chains) > 1:
            _check_key_types(chains)
        object.__setattr__(self, "certificate_chain", chains[0] if len(chains) == 1 else chains)

    def update(self, **changes: Any) -> TLSConfiguration:
        """A new configuration with ``changes`` applied (validated again)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigurationError(
                f"unknown TLSConfiguration field(s): {', '.join(sorted(unknown))}"
            )
        return dataclasses.replace(self, **changes)


_CHAIN_USAGE = (
    "certificate_chain must be ((leaf, *intermediates), private_key), or for a server "
    "a sequence of such chains"
)


def _one_chain(chain: Any) -> CertificateChain:
    if not isinstance(chain, (tuple, list)) or len(chain) != 2:
        raise ConfigurationError(_CHAIN_USAGE)
    certificates, key = chain
    if isinstance(certificates, Certificate):
        certificates = (certificates,)
    if not isinstance(certificates, (tuple, list)) or not certificates:
        raise ConfigurationError(_CHAIN_USAGE + ": the certificate tuple is empty or not a tuple")
    for item in certificates:
        if not isinstance(item, Certificate):
            raise ConfigurationError(f"{_CHAIN_USAGE}: {item!r} is not a Certificate")
    if not isinstance(key, PrivateKey):
        raise ConfigurationError(f"{_CHAIN_USAGE}: {key!r} is not a PrivateKey")
    return (tuple(certificates), key)


def _check_key_types(chains: CertificateChains) -> None:
    """Several chains must differ in key type: the client's algorithms choose between them."""
    seen: dict[str, int] = {}
    for index, (certificates, _key) in enumerate(chains):
        try:
            facts = read_certificate(certificates[0].der)
        except DERError as exc:
            raise ConfigurationError(
                f"certificate_chain: the leaf of chain {index + 1} cannot be read: {exc}"
            ) from None
        if facts.key_algorithm == "EC":
            kind = f"an EC {facts.curve} key"
        elif facts.key_algorithm == "RSA-PSS":
            kind = "an RSA-PSS key"
        else:
            kind = f"a {facts.key_algorithm} key"
        if kind in seen:
            raise ConfigurationError(
                f"certificate_chain: chains {seen[kind] + 1} and {index + 1} both have {kind}; "
                "several chains must have keys of different types (say RSA and ECDSA), "
                "since the client's signature algorithms choose between them"
            )
        seen[kind] = index
