"""The ``extern "Python"`` functions NSS calls: the TLS hooks of a connection.

Only where Python must act: certificate checks against the connection's
profile, the client certificate, the SNI name, the secrets of a key log, a
client's resumption tokens, a server's check of the ticket it resumes.  The memory I/O layer under
the socket is plain C (``build_ffi/nss/memio.c``): it runs on every record.

Every one receives the connection's cffi handle (a weak reference to the
NSSBuffer) and never lets an exception reach C: it records the exception
on the buffer, sets an NSS error and answers failure, so the handshake
fails and the buffer's error path chains the exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tlsapi import CertificateError, CertificateErrorReason, TLSError
from tlsapi.backend_api import check_peer_chain, find_weak_key

from ._errors import certificate_error, error_text
from ._lib import ffi, lib
from ._tickets import TokenProbe

if TYPE_CHECKING:
    from ._buffer import NSSBuffer

__all__ = ["ders"]

R = CertificateErrorReason
_SUCCESS = lib.SECSuccess
_FAILURE = lib.SECFailure


def _buffer(handle: Any) -> NSSBuffer | None:
    buffer: NSSBuffer | None = ffi.from_handle(handle)()
    return buffer


# -- TLS hooks ----------------------------------------------------------------------


def _failed(buffer: NSSBuffer, exc: BaseException) -> int:
    buffer._callback_error = exc
    lib.PR_SetError(lib.SEC_ERROR_APPLICATION_CALLBACK_ERROR, 0)
    return _FAILURE


# Room for this many certificates in one call of tlsapi_nss_list_ders (more: a second).
_CHAIN_ROOM = 8
_list_ders = lib.tlsapi_nss_list_ders
_new = ffi.new
_unpack = ffi.unpack


def ders(certificates: Any) -> list[bytes]:
    """The DER of each certificate of a CERTCertList, in order (empty for NULL)."""
    if certificates == ffi.NULL:
        return []
    data = _new("char *[]", _CHAIN_ROOM)
    lengths = _new("unsigned int[]", _CHAIN_ROOM)
    count = _list_ders(certificates, data, lengths, _CHAIN_ROOM)
    if count > _CHAIN_ROOM:
        data = _new("char *[]", count)
        lengths = _new("unsigned int[]", count)
        _list_ders(certificates, data, lengths, count)
    # map: the copies are made without a Python step per certificate.
    return list(map(_unpack, data[0:count], lengths[0:count]))


def _copies(data: Any, lengths: Any, count: int, certificates: Any) -> list[bytes]:
    """The DER tlsapi_nss_check_peer pointed at (count of them), else read off the list."""
    if count > _PEER_ROOM:
        return ders(certificates)
    return list(map(_unpack, data[0:count], lengths[0:count]))


_check_peer = lib.tlsapi_nss_check_peer
_release_peer = lib.tlsapi_nss_peer_release
_PEER_ROOM = lib.TLSAPI_NSS_PEER_ROOM
_NULL = ffi.NULL
# The usage each side verifies the other's certificate for.
_USAGE = {False: lib.certificateUsageSSLServer, True: lib.certificateUsageSSLClient}


def _authenticate(buffer: NSSBuffer, fd: Any) -> int:
    profile = buffer._profile
    if not profile.validate:
        return _SUCCESS
    server_side = buffer._server_side
    host = ip = _NULL
    ip_length = 0
    name = buffer._server_name
    if name is not None and not server_side:
        if name.ip is not None:
            ip = name.ip.packed
            ip_length = len(ip)
        else:
            host = name.name.encode("ascii")
    anchors = profile.anchors
    passed = profile.passed
    # One C call: the certificate, its chain, their verification and the name
    # (verify.c says why), the DER of the chain and of the verified path, and
    # whether they are those the policy last passed.
    peer = _new("tlsapi_nss_peer *")
    code = _check_peer(
        fd,
        _USAGE[server_side],
        _NULL if anchors is None else anchors,
        host,
        ip,
        ip_length,
        _NULL if passed is None else passed[0],
        0 if passed is None else len(passed[0]),
        0 if passed is None else passed[1],
        peer,
    )
    try:
        if passed is not None and peer.passed:
            # Verified, and the chain the policy passed: passed again (the path is
            # the same; the list is shared, never changed, only copied out).
            buffer._verified_chain = passed[2]
            return _SUCCESS
        cert = peer.cert
        if cert == _NULL:
            return _FAILURE  # no certificate: the error is set
        chain = _copies(
            peer.presented_ders, peer.presented_lengths, peer.presented_count, peer.presented
        )
        count = peer.path_count
        if count:
            # The path NSS built, leaf to anchor: the ssl adapter's get_verified_chain().
            # Usually the chain as sent and the anchor: only the anchor is copied then.
            start = peer.path_presented
            if start == count - 1 and count <= _PEER_ROOM:
                path = chain[:start]
                path.append(_unpack(peer.path_ders[start], peer.path_lengths[start]))
            else:
                path = _copies(peer.path_ders, peer.path_lengths, count, peer.path)
            buffer._verified_chain = path
        if code == 0:
            # tlsapi's verification policy (tlsapi.backend_api) after NSS's own, which
            # passes RSA-1024 keys and a signing leaf without digitalSignature.
            refusal = check_peer_chain(chain, "client's" if server_side else "server's")
            if refusal is None:
                path = buffer._verified_chain
                profile.passed = (b"".join(chain) + b"".join(path), len(chain), path)
                return _SUCCESS
            buffer._verify_error = refusal
            usage = refusal.reason is R.BAD_USAGE
            # NSS answers either with a fatal bad_certificate alert.
            lib.PR_SetError(
                lib.SEC_ERROR_INADEQUATE_KEY_USAGE if usage else lib.SEC_ERROR_BAD_KEY, 0
            )
            return _FAILURE
        error = certificate_error(
            code,
            leaf_self_signed=bool(cert.isRoot),
            leaf_not_yet_valid=bool(lib.tlsapi_nss_not_yet_valid(cert, 0)),
        )
        if error.reason in (R.BAD_SIGNATURE, R.BAD_USAGE, R.OTHER):
            # NSS cannot verify with P-192/P-224 keys at all ("bad signature"), and
            # wants keyEncipherment in RSA server keys: a weak key is named first,
            # as OpenSSL's verifier does and as every backend reports it.
            weak = find_weak_key(chain, "client's" if server_side else "server's")
            if weak is not None:
                error = CertificateError(str(weak), R.WEAK_KEY, error.library_message)
        buffer._verify_error = error
        lib.PR_SetError(code, 0)
        return _FAILURE
    finally:
        _release_peer(peer)


@ffi.def_extern(error=_FAILURE)
def tlsapi_nss_auth_certificate_cb(arg: Any, fd: Any, check_sig: int, is_server: int) -> int:
    buffer = _buffer(arg)
    if buffer is None:
        return _FAILURE
    try:
        return _authenticate(buffer, fd)
    except BaseException as exc:
        return _failed(buffer, exc)


@ffi.def_extern(error=_FAILURE)
def tlsapi_nss_client_auth_data_cb(
    arg: Any, fd: Any, ca_names: Any, ret_cert: Any, ret_key: Any
) -> int:
    buffer = _buffer(arg)
    if buffer is None:
        return _FAILURE
    try:
        # NSS asks only when the server sent a CertificateRequest.
        buffer._certificate_request_seen = True
        profile = buffer._profile
        if profile.key is None:
            return _FAILURE  # no certificate to offer: NSS sends an empty one
        cert = lib.CERT_DupCertificate(profile.leaf)
        key = lib.SECKEY_CopyPrivateKey(profile.key)
        if ffi.NULL in (cert, key):
            if cert != ffi.NULL:
                lib.CERT_DestroyCertificate(cert)
            raise TLSError(
                f"NSS cannot copy the client certificate: {error_text(lib.PR_GetError())}"
            )
        ret_cert[0] = cert  # NSS owns these references now
        ret_key[0] = key
        return _SUCCESS
    except BaseException as exc:
        return _failed(buffer, exc)


@ffi.def_extern(error=lib.SSL_SNI_SEND_ALERT)
def tlsapi_nss_sni_config_cb(fd: Any, names: Any, count: int, arg: Any) -> int:
    buffer = _buffer(arg)
    if buffer is None or count < 1:
        return lib.SSL_SNI_SEND_ALERT
    try:
        if buffer._server_hostname is None:
            if names[0].data == ffi.NULL or not names[0].len:
                return lib.SSL_SNI_SEND_ALERT  # an empty host name (RFC 6066 forbids it)
            raw = ffi.unpack(ffi.cast("char *", names[0].data), names[0].len)
            buffer._server_hostname = raw.decode("ascii", "replace").lower()
        # Index 0: NSS acknowledges the name in its ServerHello, the usual answer.
        return 0
    except BaseException as exc:
        _failed(buffer, exc)
        return lib.SSL_SNI_SEND_ALERT


# -- key log and sessions ------------------------------------------------------------

# NSS's epochs (as in DTLS 1.3): 1 early data, 2 handshake, 3 the first application
# traffic secrets; later ones (key updates) have no NSS Key Log label of their own.
_LABELS = {
    (1, True): "CLIENT_EARLY_TRAFFIC_SECRET",
    (2, True): "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    (2, False): "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    (3, True): "CLIENT_TRAFFIC_SECRET_0",
    (3, False): "SERVER_TRAFFIC_SECRET_0",
}


def _log_secret(buffer: NSSBuffer, epoch: int, direction: int, secret: Any) -> None:
    writer = buffer._profile.keylog
    # A client writes with the client's secrets, a server reads with them.
    clients = (direction == lib.ssl_secret_write) != buffer._server_side
    label = _LABELS.get((epoch, clients))
    if writer is None or label is None:
        return
    random = buffer._random_for_keylog()
    if random is None:
        raise TLSError("the key log needs the client random, which was not found")
    if lib.PK11_ExtractKeyValue(secret) != _SUCCESS:
        raise TLSError(
            f"NSS would not hand out the {label} for the key log: {error_text(lib.PR_GetError())}"
        )
    item = lib.PK11_GetKeyData(secret)  # owned by the key
    if item == ffi.NULL or not item.len:
        raise TLSError(f"NSS gave no {label} for the key log")
    writer.write(label, random, ffi.unpack(ffi.cast("char *", item.data), item.len))


@ffi.def_extern()
def tlsapi_nss_secret_cb(fd: Any, epoch: int, direction: int, secret: Any, arg: Any) -> None:
    buffer = _buffer(arg)
    if buffer is None:
        return
    try:
        _log_secret(buffer, epoch, direction, secret)
    except Exception as exc:
        # NSS goes on (the callback returns nothing): the handshake's end raises it,
        # so that no connection runs with a key log that misses it.
        if buffer._keylog_error is None:
            error = TLSError(f"the key log failed: {exc}")
            error.__cause__ = exc
            buffer._keylog_error = error
    except BaseException as exc:
        buffer._callback_error = exc


@ffi.def_extern(error=_FAILURE)
def tlsapi_nss_resumption_token_cb(fd: Any, token: Any, length: int, ctx: Any) -> int:
    buffer = _buffer(ctx)
    if buffer is None:
        return _FAILURE
    try:
        # NSS's memory, valid for this call only: copied.  The latest one wins.
        buffer._resumption_token = ffi.unpack(ffi.cast("char *", token), length)
        return _SUCCESS
    except BaseException as exc:
        buffer._callback_error = exc
        return _FAILURE


_ACCEPT = lib.ssl_hello_retry_accept
_REFUSE = lib.ssl_hello_retry_fail


@ffi.def_extern(error=_REFUSE)
def tlsapi_nss_hello_retry_cb(  # noqa: PLR0917  (NSS's signature)
    first_hello: int,
    client_token: Any,
    client_token_length: int,
    retry_token: Any,
    retry_token_length: Any,
    retry_token_max: int,
    arg: Any,
) -> int:
    target: NSSBuffer | TokenProbe | None = ffi.from_handle(arg)()
    if isinstance(target, TokenProbe):
        # A throwaway socket that only reads the hello: note the token and stop.
        if first_hello and client_token_length:
            try:
                target.token = ffi.unpack(ffi.cast("char *", client_token), client_token_length)
            except Exception:  # no token: the real socket decides
                target.token = None
        return _REFUSE
    buffer = target
    if buffer is None:
        return _REFUSE
    try:
        if buffer._foreign_ticket:
            # Another configuration's ticket, on a socket whose suites NSS cannot
            # resume it with: a full handshake follows.
            return _ACCEPT
        if not first_hello or not client_token_length:
            # A second ClientHello shows our (empty) retry token, not the ticket's;
            # the first one was checked.  No token: no ticket of ours is resumed
            # (the handshake's end refuses a resumption without one).
            return _ACCEPT
        token = ffi.unpack(ffi.cast("char *", client_token), client_token_length)
        tickets = buffer._profile.tickets
        if tickets is not None and tickets.owns(token):
            buffer._our_ticket = True
            return _ACCEPT
        buffer._verify_error = TLSError(
            "the client offered a TLS 1.3 session that this server configuration did not "
            "issue (another server context's, or expired), and no cipher suite to make a "
            "full handshake with instead (NSS resumes a ticket it has decrypted under any "
            "suite of the ticket's hash, and cannot decline it otherwise), so the handshake "
            "is refused: the client can connect again without the session"
        )
        return _REFUSE
    except BaseException as exc:
        buffer._callback_error = exc
        return _REFUSE
