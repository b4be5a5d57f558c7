"""Shared helpers for the conformance suite: building contexts and connected pairs."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import Any, Union

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..._backend import Backend, Capability
from ..._buffer import TLSWrappedBuffer
from ..._config import TLSConfiguration
from ..._context import ClientContext, ServerContext
from ..._errors import (
    CertificateError,
    CertificateErrorReason,
    ConfigurationError,
    InsecureConfigurationWarning,
    TLSError,
    WantReadError,
    WantWriteError,
)
from ..._registry import backend as backend_named
from ..._session import TLSSession
from ..._versions import TLSVersion
from ..pki import PKI, Identity, KeyType
from ..pump import handshake, handshake_outcome, transfer

__all__ = [
    "Outcome",
    "Peers",
    "assert_caused_by",
    "assert_handshake_failure",
    "client_identity",
    "client_leaf_issuer",
    "connect_unless_unverifiable",
    "lacks",
    "make_pki",
    "pki_for_suite",
    "refuses_key_type",
    "skip_client_chain_under_wine",
    "skip_if_lacks",
    "skip_if_refuses_key_type",
    "skip_under_wine",
    "skip_unless_ec_pki",
    "wine_version",
]

# Every backend must serve these key types; others (P-384, Ed25519) a backend
# whose library cannot sign TLS handshakes with them may refuse, with a
# ConfigurationError when the context is made.
REQUIRED_KEY_TYPES = frozenset({KeyType.ECDSA_P256, KeyType.RSA_2048})


@functools.cache
def wine_version() -> str | None:
    """Wine's version when this is a Windows process running under Wine, else None.

    ntdll exports ``wine_get_version`` under Wine only.  Tests that meet a
    Wine limitation (not a Windows one) skip through :func:`skip_under_wine`.
    """
    if sys.platform != "win32":
        return None
    import ctypes

    ntdll = ctypes.WinDLL("ntdll")  # type: ignore[attr-defined,unused-ignore]
    try:
        get_version = ntdll.wine_get_version
    except AttributeError:
        return None
    get_version.restype = ctypes.c_char_p
    return str(get_version().decode("ascii"))


def skip_under_wine(reason: str) -> None:
    """Skip, saying ``reason``, when running under Wine; real Windows runs the test."""
    version = wine_version()
    if version is not None:
        pytest.skip(f"Wine {version}: {reason}")


# Wine's SChannel gives GnuTLS one certificate for a client credential, so the
# intermediates of a client chain never reach the server.
WINE_CLIENT_LEAF_ONLY = (
    "its SChannel sends only the leaf of a client certificate chain (schannel_gnutls.c "
    "hands GnuTLS one certificate), so the server never receives the client's "
    "intermediate; Windows' SChannel builds and sends the chain, which cannot be "
    "checked here"
)


def skip_client_chain_under_wine(identity: Identity) -> None:
    """Skip under Wine when ``identity``'s chain holds an intermediate the client must send."""
    if len(identity.chain_der) > 1:
        skip_under_wine(WINE_CLIENT_LEAF_ONLY)


def client_leaf_issuer() -> str:
    """``PKI.issue``'s ``issuer`` for client leaves a server must accept.

    "intermediate" (the client sends leaf + intermediate), except under Wine,
    whose SChannel sends the leaf alone (see WINE_CLIENT_LEAF_ONLY): there the
    root issues client leaves, so mutual TLS is still tested end to end.
    """
    return "root" if wine_version() is not None else "intermediate"


_CLIENT_IDENTITIES: weakref.WeakKeyDictionary[PKI, Identity] = weakref.WeakKeyDictionary()


def client_identity(pki: PKI) -> Identity:
    """``pki.client_identity``, or under Wine a client leaf the root issued (client_leaf_issuer)."""
    if client_leaf_issuer() == "intermediate":
        return pki.client_identity
    identity = _CLIENT_IDENTITIES.get(pki)
    if identity is None:
        identity = pki.issue(names=("client.test",), ips=(), eku=("client",), issuer="root")
        _CLIENT_IDENTITIES[pki] = identity
    return identity


def _full_length_signature(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """False for an ECDSA signature whose r or s is shorter than the issuer's curve size."""
    public_key = issuer.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return True
    size = (public_key.curve.key_size + 7) // 8
    r, s = decode_dss_signature(certificate.signature)
    return (r.bit_length() + 7) // 8 == size == (s.bit_length() + 7) // 8


def make_pki(key_type: KeyType, *, name: str) -> PKI:
    """``PKI(key_type, name=name)``; under Wine, one whose server chain Wine can verify.

    Wine 8.0's crypt32 reports CERT_TRUST_IS_NOT_SIGNATURE_VALID for a valid ECDSA
    signature whose r or s is shorter than the curve size (about 1 in 128 signatures;
    Windows verifies them), and its chain engine checks the root's self-signature
    too (measured: 7 of 300 P-256 chains failed, each with one short signature, two
    of them the root's): under Wine the PKI is made again until all three
    signatures are full length, so the test does not flake.
    """
    for _ in range(64):
        pki = PKI(key_type, name=name)
        leaf = pki.server_identity
        chain = (leaf.x509, *leaf.intermediates, pki.root.x509)
        signed_by = [*itertools.pairwise(chain), (pki.root.x509, pki.root.x509)]
        if wine_version() is None or all(
            _full_length_signature(cert, issuer) for cert, issuer in signed_by
        ):
            return pki
    raise AssertionError(f"64 {key_type.name} PKIs in a row had a short ECDSA signature")


@functools.cache
def _ecdsa_pki() -> PKI:
    return make_pki(KeyType.ECDSA_P256, name="tlsapi ecdsa test")


def pki_for_suite(suite: int, pki: PKI, rsa_pki: PKI) -> PKI:
    """The PKI whose certificates a TLS 1.2 suite authenticates with.

    ECDHE_ECDSA suites take ``pki`` when it is an EC PKI, else (with
    TLSAPI_TEST_PKI_KEY=rsa2048) a PKI of their own; every other suite ``rsa_pki``.
    """
    if "_ECDSA_" not in getattr(suite, "name", ""):
        return rsa_pki
    return pki if pki.key_type is not KeyType.RSA_2048 else _ecdsa_pki()


def skip_unless_ec_pki(pki: PKI, what: str) -> None:
    """Skip a test about an EC-only format when TLSAPI_TEST_PKI_KEY made ``pki`` RSA."""
    if pki.key_type is KeyType.RSA_2048:
        pytest.skip(f"{what} holds EC keys only, and pki is RSA here (TLSAPI_TEST_PKI_KEY=rsa2048)")


ClientSpec = Union[TLSConfiguration, ClientContext, None]
ServerSpec = Union[TLSConfiguration, ServerContext, None]


def lacks(backend: Backend, capability: Capability, *attempts: Callable[[], object]) -> bool:
    """True when ``backend`` lacks ``capability``, after checking the contract for that case.

    A backend without a capability must refuse a configuration that needs it
    with ConfigurationError when the context is made: each of ``attempts``
    (e.g. ``lambda: backend.server_context(config)``) must raise it.
    """
    if capability in backend.capabilities:
        return False
    for attempt in attempts:
        with pytest.raises(ConfigurationError), warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureConfigurationWarning)
            attempt()
    return True


def skip_if_lacks(
    backend: Backend, capability: Capability, *attempts: Callable[[], object]
) -> None:
    """Skip the test, naming backend and capability, when ``backend`` lacks ``capability``.

    The ConfigurationError contract is asserted first (see :func:`lacks`), so
    a backend that claims nothing and refuses nothing still fails.
    """
    if lacks(backend, capability, *attempts):
        pytest.skip(f"backend {backend.name!r} lacks {capability.value!r} (refused as required)")


def refuses_key_type(backend: Backend, key_type: KeyType, pki: PKI) -> bool:
    """True when ``backend`` refuses (ConfigurationError) a server key of an optional type."""
    if Capability.SERVER not in backend.capabilities:
        return False
    try:
        backend.server_context(pki.server_config())
    except ConfigurationError:
        if key_type in REQUIRED_KEY_TYPES:
            raise
        return True
    return False


def skip_if_refuses_key_type(backend: Backend, key_type: KeyType, pki: PKI) -> None:
    """Skip the test when ``backend`` refuses an optional server key type (see refuses_key_type)."""
    if refuses_key_type(backend, key_type, pki):
        pytest.skip(f"backend {backend.name!r} refuses {key_type.name} server keys")


def connect_unless_unverifiable(
    peers: Peers, key_type: KeyType, client: ClientSpec = None, server: ServerSpec = None
) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
    """``peers.connect(client, server)`` for a server key of ``key_type``.

    A backend refuses an optional key type it cannot sign with as a server
    (refuses_key_type), and it cannot verify that type's signatures either.  A
    backend with no server side cannot be asked that way: when it is the client
    and refuses the server's optional key type as a bad signature, the test skips
    with its error (e.g. SChannel: crypt32 has no Ed25519).
    """
    outcome = peers.outcome(client, server)
    error = outcome.client_error
    if (
        isinstance(error, CertificateError)
        and error.reason is CertificateErrorReason.BAD_SIGNATURE
        and key_type not in REQUIRED_KEY_TYPES
        and Capability.SERVER not in peers.client_backend.capabilities
    ):
        pytest.skip(
            f"backend {peers.client_backend.name!r} cannot verify {key_type.name} signatures "
            f"(and has no server side to refuse such keys): {error}"
        )
    for failed in (outcome.client_error, outcome.server_error):
        if failed is not None:
            raise failed
    return outcome.client, outcome.server


def assert_caused_by(error: BaseException, original: BaseException) -> None:
    """``original`` must be in ``error``'s __cause__/__context__ chain."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        if current is original:
            return
        seen.append(current)
        current = current.__cause__ or current.__context__
    raise AssertionError(f"{error!r} does not chain to {original!r} (chain: {seen!r})")


def assert_tls_failure(error: BaseException | None, who: str) -> TLSError:
    assert error is not None, f"the {who} finished the handshake; it should have failed"
    assert isinstance(error, TLSError), f"the {who} raised {error!r}, not a TLSError"
    assert not isinstance(error, (WantReadError, WantWriteError)), error
    assert str(error), f"the {who}'s {type(error).__name__} has an empty message"
    return error


@dataclasses.dataclass
class Outcome:
    """How a handshake ended for each side (errors are None for a side that finished)."""

    client_error: TLSError | None
    server_error: TLSError | None
    client: TLSWrappedBuffer
    server: TLSWrappedBuffer


def assert_handshake_failure(outcome: Outcome) -> tuple[TLSError, TLSError]:
    """Both sides must have failed with a TLSError (after the alert was delivered)."""
    return (
        assert_tls_failure(outcome.client_error, "client"),
        assert_tls_failure(outcome.server_error, "server"),
    )


class Peers:
    """A client backend, a server backend and a PKI: makes contexts and connections.

    Defaults: the client trusts ``pki``'s root; the server presents
    ``pki.server_identity`` (localhost, 127.0.0.1, ::1).  Configuration
    arguments may be a TLSConfiguration, a ready context, or None for the
    default.
    """

    def __init__(self, client_backend: Backend, server_backend: Backend, pki: PKI) -> None:
        self.client_backend = client_backend
        self.server_backend = server_backend
        self.pki = pki

    @classmethod
    def for_backend(cls, backend: Backend, pki: PKI) -> Peers:
        """``backend`` on both sides; a side it cannot play is played by stdlib."""
        client = backend if Capability.CLIENT in backend.capabilities else backend_named("stdlib")
        server = backend if Capability.SERVER in backend.capabilities else backend_named("stdlib")
        return cls(client, server, pki)

    # -- contexts -------------------------------------------------------------

    def client_config(self, **overrides: Any) -> TLSConfiguration:
        return self.pki.client_config(**overrides)

    def server_config(self, **overrides: Any) -> TLSConfiguration:
        return self.pki.server_config(**overrides)

    def client_context(self, config: ClientSpec = None, **overrides: Any) -> ClientContext:
        if isinstance(config, ClientContext):
            return config
        config = config if config is not None else self.pki.client_config()
        if overrides:
            config = config.update(**overrides)
        if not config.validate_certificates:
            with pytest.warns(InsecureConfigurationWarning):
                return self.client_backend.client_context(config)
        return self.client_backend.client_context(config)

    def server_context(self, config: ServerSpec = None, **overrides: Any) -> ServerContext:
        if isinstance(config, ServerContext):
            return config
        config = config if config is not None else self.pki.server_config()
        if overrides:
            config = config.update(**overrides)
        return self.server_backend.server_context(config)

    # -- connections --------------------------------------------------------------

    def pair(
        self,
        client: ClientSpec = None,
        server: ServerSpec = None,
        hostname: str | None = "localhost",
    ) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
        """A client and a server buffer, not yet connected."""
        client_buffer = self.client_context(client).wrap_buffers(hostname)
        server_buffer = self.server_context(server).wrap_buffers()
        return client_buffer, server_buffer

    def connect(
        self,
        client: ClientSpec = None,
        server: ServerSpec = None,
        hostname: str | None = "localhost",
        chunk_size: int | None = None,
    ) -> tuple[TLSWrappedBuffer, TLSWrappedBuffer]:
        """A client and a server buffer that have finished the handshake."""
        client_buffer, server_buffer = self.pair(client, server, hostname)
        handshake(client_buffer, server_buffer, chunk_size=chunk_size)
        return client_buffer, server_buffer

    def outcome(
        self,
        client: ClientSpec = None,
        server: ServerSpec = None,
        hostname: str | None = "localhost",
        chunk_size: int | None = None,
    ) -> Outcome:
        """Run a handshake to its end, whatever it is."""
        client_buffer, server_buffer = self.pair(client, server, hostname)
        client_error, server_error = handshake_outcome(
            client_buffer, server_buffer, chunk_size=chunk_size
        )
        return Outcome(client_error, server_error, client_buffer, server_buffer)

    def __repr__(self) -> str:
        return f"<Peers client={self.client_backend.name} server={self.server_backend.name}>"


# -- issue 11: versions, data both ways, sessions -------------------------------


def only_version(version: TLSVersion) -> dict[str, Any]:
    """TLSConfiguration overrides that allow ``version`` alone."""
    return {"lowest_supported_version": version, "highest_supported_version": version}


def require_version(peers: Peers, version: TLSVersion) -> None:
    """Skip when the client or the server backend lacks ``version`` (TLS 1.3 under Wine)."""
    capability = Capability.TLSv1_3 if version is TLSVersion.TLSv1_3 else Capability.TLSv1_2
    for backend in (peers.client_backend, peers.server_backend):
        if capability not in backend.capabilities:
            pytest.skip(f"backend {backend.name!r} lacks {capability.value!r}")


def exchange(client: TLSWrappedBuffer, server: TLSWrappedBuffer, data: bytes = b"ping") -> None:
    """``data`` from client to server and back: both ends read (TLS 1.3 tickets arrive)."""
    assert transfer(client, server, data) == data
    assert transfer(server, client, data[::-1]) == data[::-1]


def session_of(client: TLSWrappedBuffer, server: TLSWrappedBuffer) -> TLSSession:
    """The client's session after data went both ways; it must have one."""
    exchange(client, server)
    session = client.session
    assert isinstance(session, TLSSession), f"no session after a read: {session!r}"
    return session


__all__ += ["exchange", "only_version", "require_version", "session_of"]
