"""Helpers for the integration tests: adapter contexts, servers to test against, errors."""

from __future__ import annotations

import dataclasses
import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import tlsapi
from tlsapi.testing.pki import IdentityFiles

# -- ssl contexts through the adapter ------------------------------------------


@dataclasses.dataclass(frozen=True)
class PKIFiles:
    root: Path
    client: IdentityFiles
    server: IdentityFiles


def adapter_context(protocol: ssl._SSLMethod, backend: tlsapi.Backend) -> ssl.SSLContext:
    """An ``ssl.SSLContext`` whose TLS is ``backend``'s (tlsapi's adapter)."""
    context: ssl.SSLContext = tlsapi.SSLContext(protocol, backend=backend)
    return context


@dataclasses.dataclass(frozen=True)
class Contexts:
    """The contexts a test needs, all of one backend."""

    backend: tlsapi.Backend
    files: PKIFiles
    other_root: bytes

    def client(self, *, alpn: list[str] | None = None, mtls: bool = False) -> ssl.SSLContext:
        """A client trusting the PKI's root (and presenting its client certificate)."""
        ctx = adapter_context(ssl.PROTOCOL_TLS_CLIENT, self.backend)
        ctx.load_verify_locations(cafile=self.files.root)
        if mtls:
            ctx.load_cert_chain(self.files.client.chain, self.files.client.key)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def untrusting_client(self) -> ssl.SSLContext:
        """A client trusting only an unrelated root (cadata, not a file)."""
        ctx = adapter_context(ssl.PROTOCOL_TLS_CLIENT, self.backend)
        ctx.load_verify_locations(cadata=self.other_root.decode("ascii"))
        return ctx

    def server(self, *, alpn: list[str] | None = None, mtls: bool = False) -> ssl.SSLContext:
        ctx = adapter_context(ssl.PROTOCOL_TLS_SERVER, self.backend)
        ctx.load_cert_chain(self.files.server.chain, self.files.server.key)
        if mtls:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cafile=self.files.root)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx

    def reference_client(
        self, *, alpn: list[str] | None = None, mtls: bool = False
    ) -> ssl.SSLContext:
        """Python's own ssl (OpenSSL): the peer for the adapter's servers."""
        ctx = ssl.create_default_context(cafile=self.files.root)
        if mtls:
            ctx.load_cert_chain(self.files.client.chain, self.files.client.key)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        return ctx


# -- servers: nginx, and one of the backend under test -------------------------


@dataclasses.dataclass
class Target:
    """An HTTPS server to test a client library against (nginx or a backend's).

    After the test, a backend's server must have seen every connection end
    cleanly, unless the test calls :meth:`expect_refusal` (a client that
    refuses the certificate leaves the server with a failed handshake).
    """

    name: str
    port: int
    mtls_port: int
    mtls_path: str  # answers with the client certificate's subject
    small_body: bytes
    large_body: bytes
    h2: bool  # speaks HTTP/2
    clean_expected: bool = True

    def expect_refusal(self) -> None:
        self.clean_expected = False

    @property
    def large_sha256(self) -> str:
        return hashlib.sha256(self.large_body).hexdigest()

    def url(self, path: str = "/", *, mtls: bool = False) -> str:
        return f"https://localhost:{self.mtls_port if mtls else self.port}{path}"


# -- what libraries raise ------------------------------------------------------


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps: causes, contexts, exceptions in args and attributes."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, *current.args]
        # urllib3's MaxRetryError.reason, aiohttp's certificate_error, groups' exceptions
        linked += [getattr(current, a, None) for a in ("reason", "certificate_error", "os_error")]
        linked += list(getattr(current, "exceptions", ()))
        stack += [e for e in linked if isinstance(e, BaseException)]


def certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError:
    """The SSLCertVerificationError a library wrapped in ``exc`` (fails if none)."""
    found = [c for c in _causes(exc) if isinstance(c, ssl.SSLCertVerificationError)]
    # aiohttp's wrapper is itself an SSLCertVerificationError: prefer tlsapi's own.
    found.sort(key=lambda c: not isinstance(c, tlsapi.CertificateError))
    if found:
        return found[0]
    raise AssertionError(f"no SSLCertVerificationError in {exc!r}") from exc


def assert_refused(exc: BaseException, reason: tlsapi.CertificateErrorReason) -> None:
    """``exc`` wraps tlsapi's CertificateError (so the adapter verified) with ``reason``."""
    error = certificate_error(exc)
    assert isinstance(error, tlsapi.CertificateError), repr(error)
    assert error.reason == reason, repr(error)


WRONG_HOST = tlsapi.CertificateErrorReason.HOSTNAME_MISMATCH
UNKNOWN_CA = tlsapi.CertificateErrorReason.UNTRUSTED_ISSUER


def http_body(response: bytes) -> bytes:
    """The body of a whole HTTP/1.1 response, which must be a 200."""
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


def is_adapter_object(ssl_object: object) -> bool:
    """Whether a library's ssl object came from tlsapi's adapter (not from OpenSSL)."""
    return type(ssl_object).__module__.startswith("tlsapi")
