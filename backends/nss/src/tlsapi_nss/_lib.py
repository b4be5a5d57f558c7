"""The compiled binding (``tlsapi_nss._nss``) and the library version checks."""

from __future__ import annotations

from ._nss import ffi, lib

__all__ = ["MINIMUM_VERSION", "ffi", "lib", "library_version", "version_problem"]

# SSL_ConfigServerCert with SSLExtraServerCertData, final TLS 1.3, the experimental
# SSL_CipherSuiteOrderSet and SSL_KeyUpdate, cert_pi_useOnlyTrustAnchors: all in 3.52.
MINIMUM_VERSION = "3.52"


def library_version() -> str:
    return ffi.string(lib.NSS_GetVersion()).decode("ascii", "replace")


def compiled_version() -> str:
    return ffi.string(lib.tlsapi_nss_compiled_version).decode("ascii", "replace")


def version_problem() -> str | None:
    """Why the NSS loaded at run time cannot be used, or None."""
    running = library_version()
    if not lib.NSS_VersionCheck(MINIMUM_VERSION.encode("ascii")):
        return f"NSS {running} is too old: tlsapi-nss needs NSS {MINIMUM_VERSION} or later"
    compiled = compiled_version()
    if not lib.NSS_VersionCheck(compiled.encode("ascii")):
        # Structures such as SSLChannelInfo grew after the version we run.
        return (
            f"NSS {running} is older than the NSS {compiled} headers tlsapi-nss was "
            "compiled against: reinstall tlsapi-nss against this NSS"
        )
    return None
