"""``tlsapi connect HOST[:PORT]``: a TLS client for looking at a server, like ``openssl s_client``.

It makes one connection, shows the certificate chain the server sent (a
short summary read without any extra package: subject, issuer, validity,
names, key type; ``--showcerts`` prints the PEM for ``openssl x509 -text``),
the protocol version, cipher suite, key-exchange group (as ``openssl
s_client``'s "Server Temp Key"; ``--groups`` limits what is offered) and ALPN
protocol, and the verification verdict.  When verification fails, the reason is shown and the connection is
made once more without verification, only to show what the server sent.
The exit status is 0 for a verified (or ``--insecure``) connection, 1 otherwise.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import socket
import sys
import warnings
from typing import Any

from .._backend import Backend, Capability
from .._config import TLSConfiguration
from .._context import ClientContext
from .._credentials import TrustStore
from .._errors import CertificateError, InsecureConfigurationWarning, TLSError
from .._groups import NamedGroup
from .._pem import der_to_pem
from .._socket import TLSWrappedSocket
from ._common import (
    CommandError,
    add_backend_option,
    add_version_options,
    format_alpn,
    format_cipher,
    format_version,
    parse_alpn,
    parse_host_port,
    select_backend,
    version_range,
)
from ._credentials import chain_from_files
from ._x509 import summarize

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "connect",
        help="connect to a TLS server and show what was negotiated (like openssl s_client)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("target", metavar="HOST[:PORT]", help="the server (port 443 by default)")
    add_backend_option(parser)
    parser.add_argument(
        "--cafile", metavar="PEM", help="trust these CA certificates instead of the system's"
    )
    parser.add_argument(
        "--alpn",
        action="append",
        metavar="PROTOCOL",
        help="offer this ALPN protocol, e.g. h2 or http/1.1 (repeatable, in preference order)",
    )
    parser.add_argument(
        "--cert", metavar="PEM", help="a client certificate chain, for servers that ask for one"
    )
    parser.add_argument("--key", metavar="PEM", help="its private key (default: in --cert's file)")
    parser.add_argument(
        "--sni",
        "--servername",
        dest="servername",
        metavar="NAME",
        help="the name to send as SNI and to check the certificate against (default: HOST)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do NOT verify the server's certificate (prints a warning)",
    )
    add_version_options(parser)
    parser.add_argument(
        "--groups",
        metavar="LIST",
        help="offer only these key-exchange groups, most preferred first, separated by ':' "
        "or ',' (e.g. X25519:P-256; default: the library's own list)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per network operation (default: 10)"
    )
    parser.add_argument(
        "--send",
        metavar="TEXT",
        help=r"send TEXT after the handshake (\r\n and other escapes allowed) and print the reply",
    )
    parser.add_argument(
        "--showcerts", action="store_true", help="also print each certificate as PEM"
    )
    parser.set_defaults(run=run)


def _open_socket(host: str, port: int, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise CommandError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None


def _handshake(
    context: ClientContext, host: str, port: int, name: str, timeout: float
) -> TLSWrappedSocket:
    tls = context.wrap_socket(_open_socket(host, port, timeout), name)
    try:
        tls.do_handshake()
    except BaseException:
        tls.close()
        raise
    return tls


def _print_chain(chain: list[bytes] | None, backend: Backend, showcerts: bool) -> None:
    if not chain:
        print("certificate chain: none received")
        return
    print("certificate chain (as the server sent it, leaf first):")
    for index, der in enumerate(chain):
        summary = summarize(der)
        if summary is None:
            print(f"  {index} (could not be read: {len(der)} bytes of DER)")
        else:
            print(f"  {index} subject: {summary.subject}")
            print(f"    issuer:  {summary.issuer}")
            print(
                f"    valid:   {summary.not_before:%Y-%m-%d %H:%M} to "
                f"{summary.not_after:%Y-%m-%d %H:%M} UTC ({summary.validity_note()})"
            )
            if summary.alt_names:
                print(f"    names:   {', '.join(summary.alt_names)}")
            print(f"    key:     {summary.key_type}")
        if showcerts:
            print(der_to_pem(der, "CERTIFICATE").decode("ascii"), end="")
    if len(chain) == 1 and not backend.supports(Capability.FULL_PEER_CHAIN):
        print(f"  (the {backend.name} backend reports only the leaf: it lacks full-peer-chain)")


def _parse_groups(text: str | None) -> tuple[NamedGroup, ...] | None:
    if text is None:
        return None
    names = [part for part in text.replace(",", ":").split(":") if part.strip()]
    if not names:
        raise CommandError("--groups: give at least one group, e.g. X25519", status=2)
    return tuple(NamedGroup.from_name(name) for name in names)


def _format_group(tls: TLSWrappedSocket, backend: Backend) -> str:
    group = tls.negotiated_group()
    if group is not None:
        return group.display_name
    if Capability.NEGOTIATED_GROUP not in backend.capabilities:
        return f"unknown (the {backend.name} backend cannot tell: it lacks negotiated-group)"
    return "none (no ephemeral key exchange)"


def _print_session(tls: TLSWrappedSocket, offered: str, backend: Backend) -> None:
    print(f"protocol:  {format_version(tls.negotiated_tls_version)}")
    print(f"cipher:    {format_cipher(tls.cipher())}")
    # As openssl s_client's "Server Temp Key": the (EC)DHE group of the key exchange.
    print(f"group:     {_format_group(tls, backend)}")
    print(f"ALPN:      {format_alpn(tls.negotiated_protocol())} (offered: {offered})")


def _exchange(tls: TLSWrappedSocket, text: str, timeout: float) -> None:
    try:
        data = codecs.escape_decode(text.encode("utf-8"))[0]
    except ValueError as exc:
        raise CommandError(f"--send: bad escape sequence: {exc}", status=2) from None
    tls.sendall(data)
    print(f"sent {len(data)} bytes; reply:")
    # Wait for the reply, then read until the server closes or goes quiet.
    tls.settimeout(timeout)
    while True:
        try:
            chunk = tls.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        sys.stdout.write(chunk.decode("utf-8", "backslashreplace"))
        tls.settimeout(0.5)
    print()


def run(args: argparse.Namespace) -> int:
    host, port = parse_host_port(args.target, 443)
    name = args.servername or host
    backend = select_backend(args.backend)
    trust = TrustStore.from_pem_file(args.cafile) if args.cafile else None
    alpn = parse_alpn(args.alpn)
    if args.key and not args.cert:
        raise CommandError("--key needs --cert", status=2)
    config = TLSConfiguration(
        validate_certificates=not args.insecure,
        trust_store=trust,
        certificate_chain=chain_from_files(args.cert, args.key) if args.cert else None,
        inner_protocols=alpn,
        key_exchange_groups=_parse_groups(args.groups),
    ).update(**version_range(args))
    offered = ", ".join(format_alpn(p) for p in alpn) or "none"
    trust_text = (
        f"the CA certificates in {args.cafile}" if args.cafile else "the system trust store"
    )

    context = backend.client_context(config)  # warns (on stderr) when --insecure
    print(
        f"connecting to {host}:{port} as {name!r} with the {backend.name} backend ({backend.library_version})"
    )
    try:
        tls = _handshake(context, host, port, name, args.timeout)
    except CertificateError as exc:
        print(f"verification: FAILED ({exc.reason}): {exc}")
        _show_unverified(backend, config, (host, port), name, args)
        return 1
    except TLSError as exc:
        print(f"handshake: FAILED: {type(exc).__name__}: {exc}")
        return 1
    with tls:
        peer = tls.getpeername()
        print(f"connected: {peer[0]} port {peer[1]}")
        _print_chain(tls.getpeercert(), backend, args.showcerts)
        _print_session(tls, offered, backend)
        if args.insecure:
            print("verification: NOT DONE (--insecure): anyone in the middle could be this server")
        else:
            print(f"verification: OK: the chain leads to {trust_text} and matches {name!r}")
        if args.send is not None:
            _exchange(tls, args.send, args.timeout)
        with contextlib.suppress(OSError, TLSError):
            tls.shutdown(socket.SHUT_WR)  # close_notify: an orderly goodbye
    return 0


def _show_unverified(
    backend: Backend,
    config: TLSConfiguration,
    address: tuple[str, int],
    name: str,
    args: argparse.Namespace,
) -> None:
    """Connect again without verification, only to show what the server presented."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        context = backend.client_context(config.update(validate_certificates=False))
    try:
        tls = _handshake(context, *address, name, args.timeout)
    except (TLSError, CommandError, OSError) as exc:
        print(f"(a second, unverified connection to show the chain failed too: {exc})")
        return
    with tls:
        print("what the server presented (second connection, NOT verified, no data sent):")
        _print_chain(tls.getpeercert(), backend, args.showcerts)
        _print_session(
            tls, ", ".join(format_alpn(p) for p in config.inner_protocols) or "none", backend
        )
        with contextlib.suppress(OSError, TLSError):
            tls.shutdown(socket.SHUT_WR)
