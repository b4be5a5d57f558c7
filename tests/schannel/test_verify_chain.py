"""tlsapi_schannel._verify under Windows (or Wine): every reason of the bad-server catalogue.

The chains go through ``verify_chain``: what a peer sent, in a memory store,
judged by CertGetCertificateChain + the SSL policy exactly as ``verify_peer``
judges a handshake's certificate.  Custom trust stores are exclusive: a root
the system trusts but the TrustStore does not hold is refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import sys
from collections.abc import Iterator

import pytest

from tlsapi import CertificateError, CertificateErrorReason, TrustStore
from tlsapi.backend_api import parse_server_hostname
from tlsapi.testing import PKI
from tlsapi.testing.pki import Identity, KeyType

if sys.platform != "win32":
    pytest.skip("SChannel runs on Windows (and under Wine)", allow_module_level=True)

from tlsapi_schannel._platform import wine_version
from tlsapi_schannel._verify import verify_chain

R = CertificateErrorReason
DAY = datetime.timedelta(days=1)


# -- a test root in the system's Root store, for the length of a test (ctypes: crypt32) --
# The local machine's store: a new root in the current user's raises a confirmation
# dialog on Windows (the CI runner is an administrator).
_CERT_STORE_PROV_SYSTEM_W = 10
_CERT_SYSTEM_STORE_LOCAL_MACHINE = 2 << 16
_X509_ASN_ENCODING = 1
_CERT_STORE_ADD_REPLACE_EXISTING = 3


@contextlib.contextmanager
def system_root(der: bytes, store_name: str = "Root") -> Iterator[None]:
    assert sys.platform == "win32"
    crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    crypt32.CertOpenStore.restype = ctypes.c_void_p
    crypt32.CertOpenStore.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_wchar_p,
    ]  # fmt: skip
    crypt32.CertAddEncodedCertificateToStore.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_void_p),
    ]  # fmt: skip
    crypt32.CertDeleteCertificateFromStore.argtypes = [ctypes.c_void_p]
    crypt32.CertCloseStore.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    where = _CERT_SYSTEM_STORE_LOCAL_MACHINE  # the user's store would ask in a dialog
    store = crypt32.CertOpenStore(_CERT_STORE_PROV_SYSTEM_W, 0, None, where, store_name)
    if not store:
        raise OSError(ctypes.get_last_error(), f"cannot open the system {store_name} store")
    context = ctypes.c_void_p()
    try:
        if not crypt32.CertAddEncodedCertificateToStore(
            store, _X509_ASN_ENCODING, der, len(der), _CERT_STORE_ADD_REPLACE_EXISTING,
            ctypes.byref(context),
        ):  # fmt: skip
            raise OSError(ctypes.get_last_error(), "cannot add the test root")
        try:
            yield
        finally:
            # Deleting frees the context too.
            crypt32.CertDeleteCertificateFromStore(context)
    finally:
        crypt32.CertCloseStore(store, 0)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(scope="module", params=[KeyType.RSA_2048, KeyType.ECDSA_P256], ids=str)
def pki(request: pytest.FixtureRequest) -> PKI:
    if request.param is not KeyType.RSA_2048 and wine_version() is not None:
        pytest.skip(
            f"Wine {wine_version()}'s crypt32 rejects ECDSA signatures whose r or s is shorter "
            "than the curve size (CERT_TRUST_IS_NOT_SIGNATURE_VALID for ~1 in 128 signatures): "
            "ECDSA chains are judged on real Windows only"
        )
    return PKI(request.param, name="tlsapi schannel verify")


@pytest.fixture(scope="module")
def other_pki(pki: PKI) -> PKI:
    return PKI(pki.key_type, name="tlsapi schannel untrusted")


def _check(
    chain: list[bytes],
    trust: TrustStore,
    hostname: str | None = "localhost",
    *,
    peer_is_server: bool = True,
    when: datetime.datetime | None = None,
) -> CertificateError | None:
    name = parse_server_hostname(hostname) if hostname is not None else None
    error: CertificateError | None = verify_chain(
        chain, trust=trust, server_name=name, peer_is_server=peer_is_server, when=when
    )
    return error


def _accepted(leaf: Identity, trust: TrustStore, hostname: str | None = "localhost") -> None:
    error = _check(leaf.chain_der, trust, hostname)
    assert error is None, error


def _rejected(
    chain: list[bytes],
    trust: TrustStore,
    reason: CertificateErrorReason,
    hostname: str = "localhost",
) -> CertificateError:
    error = _check(chain, trust, hostname)
    assert error is not None, "accepted"
    assert error.reason is reason, f"{error.reason!r}: {error}"
    assert error.library_message
    assert str(error).startswith(f"certificate verify failed ({reason.value})")
    return error


class TestCatalogue:
    def test_chain_through_intermediate(self, pki: PKI) -> None:
        _accepted(pki.issue(), pki.trust_store())

    def test_leaf_issued_by_the_root(self, pki: PKI) -> None:
        _accepted(pki.issue(issuer="root"), pki.trust_store())

    def test_leaf_without_eku(self, pki: PKI) -> None:
        _accepted(pki.issue(eku=()), pki.trust_store())

    def test_expired(self, pki: PKI) -> None:
        leaf = pki.issue(not_before=_now() - 60 * DAY, not_after=_now() - DAY)
        _rejected(leaf.chain_der, pki.trust_store(), R.EXPIRED)

    def test_not_yet_valid(self, pki: PKI) -> None:
        leaf = pki.issue(not_before=_now() + DAY, not_after=_now() + 60 * DAY)
        _rejected(leaf.chain_der, pki.trust_store(), R.NOT_YET_VALID)

    def test_expired_leaf_is_valid_at_a_time_inside_its_window(self, pki: PKI) -> None:
        leaf = pki.issue(not_before=_now() - 60 * DAY, not_after=_now() - DAY)
        assert _check(leaf.chain_der, pki.trust_store(), when=_now() - 30 * DAY) is None

    def test_hostname_mismatch(self, pki: PKI) -> None:
        _rejected(pki.issue().chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, "example.org")

    def test_untrusted_issuer(self, pki: PKI, other_pki: PKI) -> None:
        _rejected(other_pki.issue().chain_der, pki.trust_store(), R.UNTRUSTED_ISSUER)

    def test_untrusted_root_sent_along(self, pki: PKI, other_pki: PKI) -> None:
        chain = [*other_pki.issue().chain_der, other_pki.root_der]
        _rejected(chain, pki.trust_store(), R.UNTRUSTED_ISSUER)

    def test_missing_intermediate(self, pki: PKI) -> None:
        _rejected([pki.issue().cert_der], pki.trust_store(), R.UNTRUSTED_ISSUER)

    def test_self_signed(self, pki: PKI) -> None:
        _rejected(pki.issue(issuer="self").chain_der, pki.trust_store(), R.SELF_SIGNED)

    @pytest.mark.parametrize("eku", [("client",), ("code-signing",), ("email",)], ids=str)
    def test_wrong_extended_key_usage(self, pki: PKI, eku: tuple[str, ...]) -> None:
        _rejected(pki.issue(eku=eku).chain_der, pki.trust_store(), R.BAD_USAGE)

    def test_empty_key_usage_never_reaches_crypt32(self, pki: PKI) -> None:
        # RFC 5280 forbids it; Wine 8.0's crypt32 page-faults on it (CRYPT_KeyUsageValid).
        leaf = pki.issue(key_usage=())
        error = _rejected(leaf.chain_der, pki.trust_store(), R.BAD_USAGE)
        assert "keyUsage extension with no bit set" in str(error)

    def test_untrusted_beats_expired(self, pki: PKI, other_pki: PKI) -> None:
        # Several defects: the reason OpenSSL's verifier (and the GnuTLS backend) gives first.
        leaf = other_pki.issue(not_before=_now() - 60 * DAY, not_after=_now() - DAY)
        _rejected(leaf.chain_der, pki.trust_store(), R.UNTRUSTED_ISSUER)

    def test_hostname_beats_expired(self, pki: PKI) -> None:
        leaf = pki.issue(not_before=_now() - 60 * DAY, not_after=_now() - DAY)
        _rejected(leaf.chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, "example.org")

    def test_several_roots_in_the_store(self, pki: PKI, other_pki: PKI) -> None:
        store = TrustStore.from_buffer(other_pki.root_pem + pki.root_pem)
        _accepted(pki.issue(), store)
        _accepted(other_pki.issue(), store)

    def test_intermediate_alone_is_no_anchor(self, pki: PKI) -> None:
        # As OpenSSL without partial chains: an anchor must be a self-signed root.
        store = TrustStore.from_buffer(pki.intermediate_pem)
        _rejected(pki.issue().chain_der, store, R.UNTRUSTED_ISSUER)


def test_exclusive_root_engine(pki: PKI) -> None:
    from tlsapi_schannel._binding import lib
    from tlsapi_schannel._certificates import add_certificate, open_memory_store
    from tlsapi_schannel._verify import _exclusive_engine

    roots = open_memory_store()
    try:
        add_certificate(roots, pki.root_der, "the root")
        engine = _exclusive_engine(roots)
        if wine_version() is not None:
            assert engine is None
            pytest.skip(
                f"Wine {wine_version()} refuses CERT_CHAIN_ENGINE_CONFIG with hExclusiveRoot "
                "(E_INVALIDARG; checked): custom trust uses the anchored-chain fallback there"
            )
        assert engine is not None
        lib.CertFreeCertificateChainEngine(engine)
    finally:
        lib.CertCloseStore(roots, 0)


class TestClientCertificates:
    def test_client_certificate_accepted(self, pki: PKI) -> None:
        leaf = pki.issue(eku=("client",))
        assert _check(leaf.chain_der, pki.trust_store(), None, peer_is_server=False) is None

    def test_server_only_certificate_refused_for_a_client(self, pki: PKI) -> None:
        leaf = pki.issue(eku=("server",))
        error = _check(leaf.chain_der, pki.trust_store(), None, peer_is_server=False)
        assert error is not None and error.reason is R.BAD_USAGE, error
        assert "client's" in str(error)

    def test_untrusted_client(self, pki: PKI, other_pki: PKI) -> None:
        leaf = other_pki.issue(eku=("client",))
        error = _check(leaf.chain_der, pki.trust_store(), None, peer_is_server=False)
        assert error is not None and error.reason is R.UNTRUSTED_ISSUER, error


class TestNames:
    @pytest.mark.parametrize("hostname", ["localhost", "LOCALHOST", "localhost."])
    def test_dns_name_matches(self, pki: PKI, hostname: str) -> None:
        _accepted(pki.issue(), pki.trust_store(), hostname)

    @pytest.mark.parametrize("hostname", ["127.0.0.1", "::1", "[::1]", "0:0:0:0:0:0:0:1"])
    def test_ip_address_matches(self, pki: PKI, hostname: str) -> None:
        _accepted(pki.issue(), pki.trust_store(), hostname)

    @pytest.mark.parametrize("hostname", ["127.0.0.2", "::2", "10.0.0.1"])
    def test_ip_address_mismatch(self, pki: PKI, hostname: str) -> None:
        _rejected(pki.issue().chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, hostname)

    def test_ip_address_needs_an_ip_entry(self, pki: PKI) -> None:
        leaf = pki.issue(names=("127.0.0.1", "localhost"), ips=())
        _rejected(leaf.chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, "127.0.0.1")

    def test_ip_address_does_not_match_the_common_name(self, pki: PKI) -> None:
        leaf = pki.issue(names=("localhost",), ips=(), common_name="127.0.0.1")
        _rejected(leaf.chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, "127.0.0.1")

    def test_name_does_not_match_an_ip_entry(self, pki: PKI) -> None:
        leaf = pki.issue(names=(), ips=("127.0.0.1",))
        _rejected(leaf.chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, "localhost")

    @pytest.mark.parametrize("hostname", ["a.example.test", "www.example.test"])
    def test_wildcard_matches_one_label(self, pki: PKI, hostname: str) -> None:
        _accepted(pki.issue(names=("*.example.test",), ips=()), pki.trust_store(), hostname)

    @pytest.mark.parametrize("hostname", ["a.b.example.test", "example.test", "a.example.org"])
    def test_wildcard_does_not_match(self, pki: PKI, hostname: str) -> None:
        leaf = pki.issue(names=("*.example.test",), ips=())
        _rejected(leaf.chain_der, pki.trust_store(), R.HOSTNAME_MISMATCH, hostname)

    def test_idna_name(self, pki: PKI) -> None:
        _accepted(
            pki.issue(names=("xn--bcher-kva.test",), ips=()), pki.trust_store(), "bücher.test"
        )

    def test_second_name_matches(self, pki: PKI) -> None:
        leaf = pki.issue(names=("first.test", "second.test"), ips=())
        _accepted(leaf, pki.trust_store(), "second.test")


def _system_roots() -> list[bytes]:
    """The DER of every certificate in the current user's Root store (ctypes: crypt32)."""
    crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    crypt32.CertOpenSystemStoreW.restype = ctypes.c_void_p
    crypt32.CertOpenSystemStoreW.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
    crypt32.CertEnumCertificatesInStore.restype = ctypes.POINTER(_CertContext)
    crypt32.CertEnumCertificatesInStore.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    crypt32.CertCloseStore.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    store = crypt32.CertOpenSystemStoreW(None, "ROOT")
    ders: list[bytes] = []
    current = None
    while True:
        current = crypt32.CertEnumCertificatesInStore(store, current)
        if not current:
            break
        ders.append(
            ctypes.string_at(current.contents.pbCertEncoded, current.contents.cbCertEncoded)
        )
    crypt32.CertCloseStore(store, 0)
    return ders


class _CertContext(ctypes.Structure):
    _fields_ = [
        ("dwCertEncodingType", ctypes.c_uint32),
        ("pbCertEncoded", ctypes.c_void_p),
        ("cbCertEncoded", ctypes.c_uint32),
        ("pCertInfo", ctypes.c_void_p),
        ("hCertStore", ctypes.c_void_p),
    ]


@pytest.fixture(scope="module")
def system_trusted_root() -> bytes:
    """A root the system trusts (one its Root store holds and the default engine accepts)."""
    for der in _system_roots():
        if _check([der], TrustStore.system(), None) is None:
            return der
    pytest.fail("no certificate of the Root store is trusted by the default chain engine")


class TestSystemTrust:
    def test_system_store_does_not_trust_a_private_ca(self, pki: PKI) -> None:
        _rejected(pki.issue().chain_der, TrustStore.system(), R.UNTRUSTED_ISSUER)

    def test_custom_store_is_exclusive(self, system_trusted_root: bytes, pki: PKI) -> None:
        # Trusted by the system, but not in the TrustStore given: refused.
        error = _check([system_trusted_root], pki.trust_store(), None)
        assert error is not None and error.reason is R.SELF_SIGNED, error

    def test_system_root_in_the_custom_store(self, system_trusted_root: bytes, pki: PKI) -> None:
        store = TrustStore.from_buffer(pki.root_der + system_trusted_root)
        assert _check([system_trusted_root], store, None) is None


@pytest.fixture(scope="module")
def system_pki() -> Iterator[PKI]:
    if wine_version() is not None:
        pytest.skip(
            f"Wine {wine_version()}'s Root system store ignores certificates added at run time "
            "(CertAddEncodedCertificateToStore succeeds, the store keeps only the host's roots), "
            "so no private CA can be made system-trusted here, and its chain engine ignores the "
            "Disallowed store; real Windows runs these"
        )
    pki = PKI(KeyType.RSA_2048, name="tlsapi schannel system root")
    with system_root(pki.root_der):
        yield pki


class TestSystemTrustWithAnAddedRoot:
    def test_a_root_in_the_system_store_is_trusted_by_system(self, system_pki: PKI) -> None:
        _accepted(system_pki.issue(), TrustStore.system())

    def test_system_catalogue(self, system_pki: PKI) -> None:
        trust = TrustStore.system()
        expired = system_pki.issue(not_before=_now() - 60 * DAY, not_after=_now() - DAY)
        _rejected(expired.chain_der, trust, R.EXPIRED)
        _rejected(system_pki.issue().chain_der, trust, R.HOSTNAME_MISMATCH, "example.org")
        _rejected(system_pki.issue(eku=("client",)).chain_der, trust, R.BAD_USAGE)
        _rejected(system_pki.issue(issuer="self").chain_der, trust, R.SELF_SIGNED)

    def test_disallowed_certificate_is_refused(self, system_pki: PKI) -> None:
        # The Disallowed store is Windows' local revocation list.
        leaf = system_pki.issue()
        with system_root(leaf.cert_der, "Disallowed"):
            _rejected(leaf.chain_der, TrustStore.system(), R.REVOKED)

    def test_custom_store_is_exclusive(self, system_pki: PKI, pki: PKI) -> None:
        _rejected(system_pki.issue().chain_der, pki.trust_store(), R.UNTRUSTED_ISSUER)
        chain = [*system_pki.issue().chain_der, system_pki.root_der]
        _rejected(chain, pki.trust_store(), R.UNTRUSTED_ISSUER)
