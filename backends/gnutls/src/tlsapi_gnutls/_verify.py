"""GnuTLS's stand-alone chain verification (gnutls_x509_trust_list_verify_crt2).

What a session does when it verifies a server, without a handshake: the
same call, the same typed data (host name or IP address, purpose
serverAuth) and the verification profile a session uses (GNUTLS_PROFILE_MEDIUM,
set by the backend's priority string), on this process's clock.  The x509-limbo harness uses
it as "the library's own verifier" (see testing.py).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import TYPE_CHECKING

from tlsapi.backend_api import check_peer_chain

from ._binding import datum, ffi, lib
from ._errors import describe, reason_for_status, status_text

if TYPE_CHECKING:
    from ._buffer import GnuTLSBuffer

__all__ = ["ChainVerdict", "enforce_policy", "verify_server_chain"]

_BAD_CERTIFICATE = 42  # the TLS alert's number (RFC 8446 6.2); not among our cdefs


def enforce_policy(buffer: GnuTLSBuffer) -> None:
    """tlsapi's verification policy (tlsapi.backend_api) where GnuTLS's profile stops short.

    Run when a handshake that verified the peer has finished: "medium" passes
    P-224 keys, and a TLS 1.2 static-RSA server certificate without
    digitalSignature.  A refusal sends a fatal bad_certificate alert first.
    """
    settings = buffer._active_settings if buffer._is_server else buffer._settings
    if not settings.verify_peer:
        return
    whose = "client's" if buffer._is_server else "server's"
    error = check_peer_chain(buffer._peer_chain(), whose)
    if error is not None:
        lib.gnutls_alert_send(buffer._session, lib.GNUTLS_AL_FATAL, _BAD_CERTIFICATE)
        raise error


@dataclasses.dataclass(frozen=True)
class ChainVerdict:
    accepted: bool
    status: int
    text: str


def verify_server_chain(anchors_pem: bytes, chain_pem: bytes, peer_name: str) -> ChainVerdict:
    """Verify ``chain_pem`` (leaf first) for ``peer_name`` against ``anchors_pem``."""
    list_ptr = ffi.new("gnutls_x509_trust_list_t *")
    code = lib.gnutls_x509_trust_list_init(list_ptr, 0)
    if code < 0:
        return ChainVerdict(False, -1, f"gnutls_x509_trust_list_init: {describe(code)}")
    trust_list = list_ptr[0]
    certs_ptr = ffi.new("gnutls_x509_crt_t **")
    count = ffi.new("unsigned int *")
    try:
        code = lib.gnutls_x509_trust_list_add_trust_mem(
            trust_list, datum(anchors_pem), ffi.NULL, lib.GNUTLS_X509_FMT_PEM, 0, 0
        )
        if code <= 0:
            return ChainVerdict(False, -1, f"no usable trust anchor: {describe(code)}")
        code = lib.gnutls_x509_crt_list_import2(
            certs_ptr, count, datum(chain_pem), lib.GNUTLS_X509_FMT_PEM, 0
        )
        if code < 0:
            return ChainVerdict(False, -1, f"the chain cannot be parsed: {describe(code)}")
        try:
            address = ipaddress.ip_address(peer_name)
        except ValueError:
            name = ffi.new("char[]", peer_name.encode("idna"))
            element = (lib.GNUTLS_DT_DNS_HOSTNAME, ffi.cast("unsigned char *", name), 0)
        else:
            name = ffi.new("unsigned char[]", address.packed)
            element = (lib.GNUTLS_DT_IP_ADDRESS, name, len(address.packed))
        purpose = ffi.new("char[]", ffi.string(lib.GNUTLS_KP_TLS_WWW_SERVER))
        vdata = ffi.new(
            "gnutls_typed_vdata_st[2]",
            [element, (lib.GNUTLS_DT_KEY_PURPOSE_OID, ffi.cast("unsigned char *", purpose), 0)],
        )
        status = ffi.new("unsigned int *")
        flags = lib.tlsapi_gnutls_profile_vflags(lib.GNUTLS_PROFILE_MEDIUM)
        code = lib.gnutls_x509_trust_list_verify_crt2(
            trust_list, certs_ptr[0], count[0], vdata, 2, flags, status, ffi.NULL
        )
        if code < 0:
            return ChainVerdict(False, -1, f"verification could not run: {describe(code)}")
        value = int(status[0])
        if value == 0:
            return ChainVerdict(True, 0, "trusted")
        reason = reason_for_status(value, None)
        return ChainVerdict(False, value, f"{reason.value}: {status_text(value)}")
    finally:
        if certs_ptr[0] != ffi.NULL:
            for index in range(count[0]):
                lib.gnutls_x509_crt_deinit(certs_ptr[0][index])
            lib.tlsapi_gnutls_free(certs_ptr[0])
        lib.gnutls_x509_trust_list_deinit(trust_list, 1)
