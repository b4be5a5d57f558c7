"""Credentials from command-line options: certificate chain files, keys, key passwords."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence

from .._config import CertificateChain
from .._credentials import Certificate, PrivateKey
from .._errors import ConfigurationError
from ._common import CommandError

__all__ = ["PASS_HELP", "add_pass_option", "chain_from_files", "chains_from_options", "read_pass"]

PASS_HELP = (
    "where the password of an encrypted key comes from (one for every key), as openssl's -pass: "
    "env:VAR (an environment variable), file:PATH (the file's first line) or "
    "pass:TEXT (the text itself: other users may see it in the process list); "
    "without it the password is asked on the terminal"
)

_SCHEMES = "env:VAR, file:PATH or pass:TEXT"


def add_pass_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pass", dest="password_source", metavar="SOURCE", help=PASS_HELP)


def read_pass(source: str) -> bytes:
    """The password ``--pass SOURCE`` names; a CommandError says what is wrong with it.

    Read at once, as openssl does, so a bad source is an error even when no
    key turns out to be encrypted.
    """
    scheme, colon, rest = source.partition(":")
    if not colon:
        raise CommandError(f"--pass {source!r}: expected {_SCHEMES}", status=2)
    if scheme == "pass":
        # argv was decoded with surrogateescape: fsencode gives back its bytes.
        return os.fsencode(rest)
    if scheme == "env":
        if not rest:
            raise CommandError("--pass env: needs a variable name, e.g. env:KEY_PASSWORD", 2)
        value = os.environ.get(rest)
        if value is None:
            raise CommandError(f"--pass env:{rest}: the environment variable {rest} is not set", 2)
        return os.fsencode(value)
    if scheme == "file":
        if not rest:
            raise CommandError("--pass file: needs a path, e.g. file:/run/secrets/key-pass", 2)
        try:
            with open(rest, "rb") as stream:
                first = stream.readline()
        except OSError as exc:
            raise CommandError(f"--pass file:{rest}: cannot read it: {exc.strerror}") from None
        if not first:
            raise CommandError(f"--pass file:{rest}: the file is empty (no password line)")
        return first.rstrip(b"\r\n")
    raise CommandError(
        f"--pass {source!r}: unknown password source {scheme + ':'!r}; use {_SCHEMES}", status=2
    )


def _ask_password(path: str) -> Callable[[], bytes]:
    # Called by the backend only if the key really is encrypted.
    def ask() -> bytes:
        if not sys.stdin.isatty():
            raise ConfigurationError(
                f"{path} is encrypted and there is no terminal to ask for its password "
                "(give it with --pass env:VAR, file:PATH or pass:TEXT)"
            )
        return getpass.getpass(f"password for {path}: ").encode("utf-8")

    return ask


def chain_from_files(cert: str, key: str | None, password: bytes | None = None) -> CertificateChain:
    """``--cert CHAIN.pem [--key KEY.pem]``: the key may sit in the chain's file."""
    certificates = Certificate.chain_from_file(cert)
    key_path = key or cert
    secret: bytes | Callable[[], bytes] = _ask_password(key_path) if password is None else password
    return certificates, PrivateKey.from_file(key_path, password=secret)


def chains_from_options(
    certs: Sequence[str], keys: Sequence[str] | None, password: bytes | None
) -> tuple[CertificateChain, ...]:
    """``--cert``/``--key`` given several times, paired in order.

    Either no ``--key`` (each key in its ``--cert`` file) or one per ``--cert``.
    """
    keys = list(keys or ())
    if keys and not certs:
        raise CommandError("--key needs --cert", status=2)
    if keys and len(keys) != len(certs):
        raise CommandError(
            f"{len(certs)} --cert but {len(keys)} --key: give one --key per --cert "
            "(paired in order), or none when each key is in its --cert file",
            status=2,
        )
    pairs = zip(certs, keys, strict=True) if keys else ((cert, None) for cert in certs)
    return tuple(chain_from_files(cert, key, password) for cert, key in pairs)
