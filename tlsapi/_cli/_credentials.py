"""Credentials from command-line options: certificate chain files and keys."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from .._config import CertificateChain
from .._credentials import Certificate, PrivateKey
from .._errors import ConfigurationError

__all__ = ["chain_from_files"]


def _ask_password(path: str) -> Callable[[], bytes]:
    # Called by the backend only if the key really is encrypted.
    def ask() -> bytes:
        if not sys.stdin.isatty():
            raise ConfigurationError(
                f"{path} is encrypted and there is no terminal to ask for its password"
            )
        return getpass.getpass(f"password for {path}: ").encode("utf-8")

    return ask


def chain_from_files(cert: str, key: str | None) -> CertificateChain:
    """``--cert CHAIN.pem [--key KEY.pem]``: the key may sit in the chain's file."""
    certificates = Certificate.chain_from_file(cert)
    key_path = key or cert
    return certificates, PrivateKey.from_file(key_path, password=_ask_password(key_path))
