"""The stdlib backend's contexts: a TLSConfiguration turned into an ssl.SSLContext."""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._config import TLSConfiguration
from .._context import ClientContext, ServerContext
from .._credentials import PrivateKey
from .._errors import ConfigurationError
from .._hostname import ServerName
from .._protocols import protocol_bytes
from .._versions import TLSVersion
from ._buffer import StdlibBuffer
from ._ciphers import openssl_cipher_string, plain_ssl_context
from ._groups import apply_groups
from ._sni import ServerNameScreen, illegal_parameter_alert, is_hello_retry_request

if TYPE_CHECKING:
    from .._credentials import Certificate

__all__ = ["SESSION_KEYS_LIFETIME", "StdlibClientContext", "StdlibServerContext"]

# OpenSSL makes a server's ticket keys once per SSL_CTX and never changes them
# (rotating them in place needs SSL_CTX_set_tlsext_ticket_key_evp_cb, which
# ``ssl`` does not expose).  A server context therefore builds a new
# ssl.SSLContext, with fresh keys and an empty session cache, this often
# (seconds); earlier sessions then get a full handshake.
SESSION_KEYS_LIFETIME = 3600.0

_SSL_VERSIONS = {
    TLSVersion.MINIMUM_SUPPORTED: ssl.TLSVersion.MINIMUM_SUPPORTED,
    TLSVersion.TLSv1: ssl.TLSVersion.TLSv1,
    TLSVersion.TLSv1_1: ssl.TLSVersion.TLSv1_1,
    TLSVersion.TLSv1_2: ssl.TLSVersion.TLSv1_2,
    TLSVersion.TLSv1_3: ssl.TLSVersion.TLSv1_3,
    TLSVersion.MAXIMUM_SUPPORTED: ssl.TLSVersion.MAXIMUM_SUPPORTED,
}


@contextlib.contextmanager
def _private_files(*contents: bytes) -> Iterator[list[str]]:
    """Files holding ``contents`` in a private directory, removed afterwards.

    ssl.SSLContext.load_cert_chain reads only from paths.  The directory is
    mode 0700 and prefers a memory file system, so a key written here never
    reaches a disk where one is available.
    """
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="tlsapi-", dir=base) as directory:
        paths = []
        for index, data in enumerate(contents):
            path = os.path.join(directory, f"{index}.pem")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            paths.append(path)
        yield paths


def _load_chain(context: ssl.SSLContext, chain: tuple[tuple[Certificate, ...], PrivateKey]) -> None:
    certificates, key = chain
    password = key.password_bytes()
    pem_chain = b"".join(certificate.pem for certificate in certificates)
    with _private_files(pem_chain, key.pem) as (chain_path, key_path):
        try:
            context.load_cert_chain(chain_path, key_path, password=password)
        except ssl.SSLError as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            # A key of another type than the leaf's is NO_CERTIFICATE_ASSIGNED to OpenSSL.
            if reason in ("KEY_VALUES_MISMATCH", "NO_CERTIFICATE_ASSIGNED"):
                message = (
                    "the private key does not match the certificate "
                    "(the key must be the first (leaf) certificate's)"
                )
            elif password is not None and key.key_format.endswith("-encrypted"):
                # Our own parser already accepted the PEM: what OpenSSL calls
                # "PEM lib" or "bad decrypt" here is a password that does not fit.
                message = (
                    f"the private key cannot be decrypted: wrong password? (OpenSSL: {reason})"
                )
            else:
                message = f"OpenSSL cannot use the certificate chain or key ({reason})"
            raise ConfigurationError(message) from exc
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"OpenSSL cannot use the certificate chain or key: {exc}"
            ) from exc


def _load_trust(context: ssl.SSLContext, config: TLSConfiguration, purpose: ssl.Purpose) -> None:
    store = config.trust_store
    if store is None or store.is_system:
        context.load_default_certs(purpose)
        return
    try:
        context.load_verify_locations(cadata=b"".join(store.certificates))
    except ssl.SSLError as exc:
        raise ConfigurationError(f"OpenSSL cannot load the trust store: {exc}") from exc


def _set_keylog(context: ssl.SSLContext, path: str) -> None:
    # OpenSSL's keylog callback appends NSS Key Log Format lines itself.
    try:
        context.keylog_filename = path
    except OSError as exc:
        raise ConfigurationError(
            f"keylog_filename {path!r} cannot be opened for appending: {exc}"
        ) from None


# RFC 7919 ffdhe2048 (a published constant), as OpenSSL's DH PARAMETERS PEM.
_FFDHE2048 = b"""-----BEGIN DH PARAMETERS-----
MIIBCAKCAQEA//////////+t+FRYortKmq/cViAnPTzx2LnFg84tNpWp4TZBFGQz
+8yTnc4kmz75fS/jY2MMddj2gbICrsRhetPfHtXV/WVhJDP1H18GbtCFY2VVPe0a
87VXE15/V8k1mE8McODmi3fipona8+/och3xWKE2rec1MKzKT0g6eXq8CrGCsyT7
YdEIqUuyyOP7uWrat2DX9GgdT0Kj3jlN9K5W7edjcrsZCwenyO4KbXCeAvzhzffi
7MA0BM0oNC9hkXL+nOmFg/+OTxIy7vKBg8P+OxtMb61zO7X8vC7CIAXFjvGDfRaD
ssbzSibBsu/6iGtCOGEoXJf//////////wIBAg==
-----END DH PARAMETERS-----
"""


class TaggedSSLObject(ssl.SSLObject):
    """An SSLObject that knows its buffer, for the SNI callback.

    On a server it also reads the client's server_name before OpenSSL does
    and refuses one that ``_ssl`` would choke on (see ``_sni``).
    """

    tlsapi_buffer: StdlibBuffer
    _sni_screen: ServerNameScreen | None = None
    _sni_screened = 0  # bytes at the head of the incoming BIO that were screened
    _sni_bios: tuple[ssl.MemoryBIO, ssl.MemoryBIO]

    @classmethod
    def _create(
        cls,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        *,
        server_side: bool = False,
        server_hostname: str | None = None,
        session: ssl.SSLSession | None = None,
        context: ssl.SSLContext | None = None,
    ) -> TaggedSSLObject:
        self: TaggedSSLObject = super()._create(  # type: ignore[misc]
            incoming,
            outgoing,
            server_side=server_side,
            server_hostname=server_hostname,
            session=session,
            context=context,
        )
        if server_side and context is not None and context.sni_callback is not None:
            self._sni_screen = ServerNameScreen()
            self._sni_bios = (incoming, outgoing)
        return self

    def do_handshake(self) -> None:
        screen = self._sni_screen
        if screen is None:
            return super().do_handshake()
        hellos = screen.hellos
        self._screen_server_name(screen)
        try:
            super().do_handshake()
        finally:
            incoming, outgoing = self._sni_bios
            # What OpenSSL left unread was screened already: skip it next time.
            self._sni_screened = incoming.pending
            if screen.hellos > hellos:
                # OpenSSL has answered the hello.  Only a HelloRetryRequest
                # brings another one in the clear: otherwise stop screening,
                # so that nothing the handshake still needs is held up.
                answer = outgoing.read()
                outgoing.write(answer)
                if screen.hellos > 1 or not is_hello_retry_request(answer):
                    self._sni_screen = None
        self._sni_screen = None
        return None

    def _screen_server_name(self, screen: ServerNameScreen) -> None:
        incoming, outgoing = self._sni_bios
        if incoming.pending > self._sni_screened:
            # A MemoryBIO cannot peek: take its bytes and put them back.
            data = incoming.read()
            screen.feed(memoryview(data)[self._sni_screened :])
            if screen.hostile_name is None:
                # After EOF the bytes cannot go back; but the screen stops once
                # OpenSSL answers the (last) ClientHello, so the client hung up
                # before the server spoke and the handshake could not finish.
                with contextlib.suppress(ssl.SSLError):
                    incoming.write(data)
        if screen.done:
            self._sni_screen = None
        if screen.hostile_name is not None:
            outgoing.write(illegal_parameter_alert())
            raise ssl.SSLError(
                0,
                "the client sent a server_name (SNI) that is not ASCII "
                f"({screen.hostile_name[:64]!r}); refused with an illegal_parameter alert",
            )


def build_ssl_context(config: TLSConfiguration, server_side: bool) -> ssl.SSLContext:
    """An ssl.SSLContext that does what ``config`` says (ConfigurationError if it cannot)."""
    context = plain_ssl_context(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    context.sslobject_class = TaggedSSLObject
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    if server_side:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE

    cipher_string, tls13_allowed = openssl_cipher_string(tuple(int(c) for c in config.ciphers))
    lowest = _SSL_VERSIONS[config.lowest_supported_version]
    highest = _SSL_VERSIONS[config.highest_supported_version]
    if not tls13_allowed:
        if config.lowest_supported_version is TLSVersion.TLSv1_3:
            raise ConfigurationError(
                "the cipher list holds no TLS 1.3 suite but TLS 1.3 is the only version allowed"
            )
        if highest in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.MAXIMUM_SUPPORTED):
            highest = ssl.TLSVersion.TLSv1_2
    if cipher_string is None:
        # Only TLS 1.3 suites: TLS 1.2 has nothing it could negotiate.
        if config.highest_supported_version not in (
            TLSVersion.TLSv1_3,
            TLSVersion.MAXIMUM_SUPPORTED,
        ):
            raise ConfigurationError(
                "the cipher list holds only TLS 1.3 suites but TLS 1.3 is not in the version range"
            )
        lowest = ssl.TLSVersion.TLSv1_3
    else:
        try:
            context.set_ciphers(cipher_string)
        except ssl.SSLError:
            raise ConfigurationError(
                "none of the requested cipher suites can be used by OpenSSL "
                f"{ssl.OPENSSL_VERSION_INFO[:3]} at its security level"
            ) from None
    try:
        with warnings.catch_warnings():
            # The ssl module warns about TLS 1.0/1.1; ClientContext already
            # warned with InsecureConfigurationWarning.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = lowest
            context.maximum_version = highest
    except ValueError as exc:
        raise ConfigurationError(f"OpenSSL cannot use that version range: {exc}") from exc
    apply_groups(context, config, tls12=lowest is not ssl.TLSVersion.TLSv1_3)
    if config.keylog_filename is not None:
        _set_keylog(context, config.keylog_filename)

    if config.inner_protocols:
        try:
            names = [protocol_bytes(p).decode("ascii") for p in config.inner_protocols]
        except UnicodeDecodeError:
            raise ConfigurationError(
                "the stdlib backend supports only ASCII ALPN protocol names"
            ) from None
        context.set_alpn_protocols(names)

    # OpenSSL keeps one chain per key type and picks by the client's algorithms.
    for chain in config.certificate_chains:
        _load_chain(context, chain)

    if server_side:
        # OpenSSL has no DH group unless given one: RFC 7919's ffdhe2048 for DHE suites.
        with _private_files(_FFDHE2048) as (dh_path,):
            context.load_dh_params(dh_path)
        if config.trust_store is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            _load_trust(context, config, ssl.Purpose.CLIENT_AUTH)
    elif config.validate_certificates:
        context.check_hostname = True
        context.verify_mode = ssl.CERT_REQUIRED
        _load_trust(context, config, ssl.Purpose.SERVER_AUTH)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class StdlibClientContext(ClientContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._ssl_context = build_ssl_context(configuration, server_side=False)

    def _wrap_buffers(self, server_name: ServerName | None) -> StdlibBuffer:
        return StdlibBuffer(self, self._ssl_context, server_name, server_side=False)


class StdlibServerContext(ServerContext):
    def __init__(self, configuration: TLSConfiguration) -> None:
        super().__init__(configuration)
        self._rotation_lock = threading.Lock()
        self._keys_born = 0.0
        self._ssl_context = self._new_ssl_context()

    def _new_ssl_context(self) -> ssl.SSLContext:
        context = build_ssl_context(self._configuration, server_side=True)
        context.sni_callback = self._on_server_name
        self._keys_born = time.monotonic()
        return context

    def _rotate_session_keys(self) -> None:
        """New ticket keys and an empty session cache: every session issued so far
        gets a full handshake.  Runs by itself every SESSION_KEYS_LIFETIME."""
        context = self._new_ssl_context()
        self._ssl_context = context

    def _context_for(self, config: TLSConfiguration) -> ssl.SSLContext:
        return self._built_for(config, self._build_for_sni)

    def _build_for_sni(self, config: TLSConfiguration) -> ssl.SSLContext:
        context = build_ssl_context(config, server_side=True)
        # OpenSSL logs secrets through the SSL_CTX the connection switched to
        # (tickets and the session cache stay with the first one).
        keylog = self._configuration.keylog_filename
        if keylog is not None and config.keylog_filename is None:
            _set_keylog(context, keylog)
        return context

    def _on_server_name(
        self, ssl_object: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext
    ) -> int | None:
        buffer = ssl_object.tlsapi_buffer  # type: ignore[attr-defined]
        buffer._server_hostname = server_name
        callback = self._configuration.sni_callback
        if callback is None:
            return None
        try:
            new_config = buffer._run_callback(callback, buffer, server_name, self._configuration)
            if new_config is not None:
                if not isinstance(new_config, TLSConfiguration):
                    raise ConfigurationError(
                        f"sni_callback returned {type(new_config).__name__}, "
                        "not a TLSConfiguration or None"
                    )
                if (new_config.trust_store is None) != (self._configuration.trust_store is None):
                    # OpenSSL keeps the first context's verify mode on a switch.
                    raise ConfigurationError(
                        "the stdlib backend cannot switch client-certificate checking on or off "
                        "in sni_callback: give the server's own configuration a trust_store too"
                    )
                ssl_object.context = self._context_for(new_config)
        except BaseException as exc:  # reported by the handshake, chained
            buffer._callback_error = exc
            return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
        return None

    def _wrap_buffers(self) -> StdlibBuffer:
        if time.monotonic() - self._keys_born >= SESSION_KEYS_LIFETIME:
            with self._rotation_lock:
                if time.monotonic() - self._keys_born >= SESSION_KEYS_LIFETIME:
                    self._rotate_session_keys()
        return StdlibBuffer(self, self._ssl_context, None, server_side=True)
