"""The ``tlsapi`` command: backends, demo, connect, serve, bench.

Each subcommand lives in its own module with ``register(subparsers)``, which
adds its parser and sets ``run(args) -> int`` as the handler.  Expected
failures (a TLSError from the library, a refused connection, a bad
argument) are one line on stderr and a non-zero exit status, never a
traceback.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import TextIO

from .._errors import InsecureConfigurationWarning, TLSError
from .._version import __version__
from . import backends, bench, connect, demo, serve
from ._common import CommandError

__all__ = ["build_parser", "main"]

_COMMANDS = (backends, demo, connect, serve, bench)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tlsapi",
        description="One Python API for TLS: inspect backends, try them, measure them.",
    )
    parser.add_argument("--version", action="version", version=f"tlsapi {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(subparsers)
    return parser


class _StderrHandler(logging.Handler):
    """Log records as one line on whatever sys.stderr is now."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"tlsapi: {record.getMessage()}", file=sys.stderr, flush=True)


def _logging_handler(command: str) -> logging.Handler:
    # A plugin that fails to load is logged as a warning; `tlsapi backends`
    # shows those reasons in its table, so it keeps only errors.
    handler = _StderrHandler(logging.ERROR if command == "backends" else logging.WARNING)
    logger = logging.getLogger("tlsapi")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > handler.level:
        logger.setLevel(handler.level)
    return handler


def _show_warning(  # noqa: PLR0917 (the signature of warnings.showwarning)
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    # A warning is for the person at the terminal: one line, no source location.
    print(f"warning: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = _logging_handler(args.command)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", InsecureConfigurationWarning)
            warnings.showwarning = _show_warning
            return _run(args)
    finally:
        logging.getLogger("tlsapi").removeHandler(handler)


def _run(args: argparse.Namespace) -> int:
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()  # the reader went away (`tlsapi demo | head`): not an error to report
        return 1
    except CommandError as exc:
        print(f"tlsapi {args.command}: error: {exc}", file=sys.stderr)
        return exc.status
    except TLSError as exc:
        print(f"tlsapi {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        message = exc.strerror or str(exc) or type(exc).__name__
        print(f"tlsapi {args.command}: error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tlsapi {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at devnull so that
    # flush cannot fail a second time with a traceback.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
