"""A certificate as the dict ``ssl.SSLSocket.getpeercert()`` returns.

The ``ssl`` module builds that dict in C from OpenSSL's own parse; its one
entry point that takes a certificate from outside a connection is
``_ssl._test_decode_cert(path)``.  Using it gives the exact same dict (name
attributes, subjectAltName forms, OCSP/caIssuers/CRL entries) instead of a
re-implementation that would drift.  The certificate goes to an in-memory
file (memfd) where the platform has one, else to a private temporary file.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from typing import Any

from .._errors import TLSError

__all__ = ["decode_certificate"]


def _decode_file(path: str) -> dict[str, Any]:
    import _ssl

    decode = getattr(_ssl, "_test_decode_cert", None)
    if decode is None:
        raise TLSError(
            "this Python's ssl module cannot decode a certificate into getpeercert()'s dict "
            "(_ssl._test_decode_cert is missing): use getpeercert(binary_form=True) and parse "
            "the DER with the cryptography package"
        )
    result: dict[str, Any] = decode(path)
    return result


def decode_certificate(der: bytes) -> dict[str, Any]:
    """The ``getpeercert()`` dict of one DER certificate, built by the ``ssl`` module itself."""
    pem = ssl.DER_cert_to_PEM_cert(der).encode("ascii")
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        fd = memfd_create("tlsapi-peer-certificate")
        try:
            os.write(fd, pem)
            return _decode_file(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
    handle, path = tempfile.mkstemp(prefix="tlsapi-cert-", suffix=".pem")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(pem)
        return _decode_file(path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
