"""``tlsapi connect HOST[:PORT]``: a TLS client for looking at a server, like ``openssl s_client``.

It makes one connection, shows the certificate chain the server sent (a
short summary read without any extra package: subject, issuer, validity,
names, key type; ``--showcerts`` prints the PEM for ``openssl x509 -text``),
the protocol version, cipher suite, key-exchange group (as ``openssl
s_client``'s "Server Temp Key"; ``--groups`` limits what is offered), the
scheme the server signed the handshake with, whether the server asked for a
client certificate, whether the session was resumed, the ALPN protocol, and
the verification verdict.  What the backend cannot tell is shown as
"unknown (... cannot tell)", never guessed.

``--reconnect`` connects a second time offering the first connection's
session and shows whether the server resumed it; with TLS 1.3 the session
ticket comes after the handshake, so the first connection first reads what
the server sends for up to a second.  ``--keylog FILE`` appends the
connections' secrets to FILE for Wireshark (tlsapi does not read
SSLKEYLOGFILE itself: pass ``--keylog "$SSLKEYLOGFILE"``).

When verification fails, the reason is shown and the connection is made
once more without verification, only to show what the server sent.  The
exit status is 0 for a verified (or ``--insecure``) connection, 1 when
verification or a connection failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import select
import socket
import sys
import time
import warnings
from typing import Any, NamedTuple

from .._backend import Backend, Capability
from .._config import TLSConfiguration
from .._context import ClientContext
from .._credentials import TrustStore
from .._errors import (
    CertificateError,
    ConfigurationError,
    InsecureConfigurationWarning,
    TLSError,
    WantReadError,
    WantWriteError,
)
from .._groups import NamedGroup
from .._pem import der_to_pem
from .._session import TLSSession
from .._socket import TLSWrappedSocket
from .._versions import TLSVersion
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
from ._credentials import add_pass_option, chain_from_files, read_pass
from ._x509 import summarize

__all__ = ["register", "run"]

# How long the first connection of --reconnect waits for a TLS 1.3 session
# ticket (bounded by --timeout too): tickets follow the handshake at once,
# one round trip away, and a server that sends none must not stall us long.
TICKET_WAIT = 1.0

JSON_HELP = """\
--json prints one JSON object (and nothing else on stdout); its keys:
  backend           {"name", "library_version"}
  target            {"host", "port", "server_name"}
  offered           {"alpn": [...], "groups": [...] or null (the library's
                    own list), "client_certificate": bool, "keylog": path or
                    null, "insecure": bool}
  verification      {"status": "ok" | "failed" | "not-done", "reason": a
                    CertificateError reason or null, "message": str or null}
  handshake_error   null, or "TLSError: ..." when the handshake failed
  connection        null, or the connection (for a failed verification: the
                    second, unverified one that shows what the server sent):
                      address [ip, port]; protocol ("TLSv1.3"); cipher
                      (IANA name); group ("X25519", "P-256", ...);
                      signature_scheme (IANA name, e.g.
                      "ecdsa_secp256r1_sha256"); certificate_requested
                      (bool); resumed (bool); alpn; certificates (leaf
                      first: subject, issuer, not_before, not_after (ISO
                      8601, UTC), names, key_type, pem with --showcerts;
                      null fields where unreadable); reply (the text --send
                      brought back, else null); cannot_tell (the fields that
                      are null because the backend cannot tell them)
  reconnect         null without --reconnect, else {"session_offered": bool,
                    "why_not_offered": str or null, "resumed": bool or
                    null (null: the second handshake failed),
                    "same_certificates": bool or null, "handshake_error":
                    str or null, "connection": as above or null}
A field the connection does not have (no group in a resumption without key
exchange, no signature in a resumed handshake) is null too.  An error before
any handshake (bad arguments, no TCP connection) prints no JSON, only one
line on stderr.
"""


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "connect",
        help="connect to a TLS server and show what was negotiated (like openssl s_client)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        epilog=JSON_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    add_pass_option(parser)
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
        "or ',' (e.g. x25519,secp256r1 or X25519:P-256; default: the library's own list)",
    )
    parser.add_argument(
        "--reconnect",
        action="store_true",
        help="connect a second time offering the first connection's session, and show "
        "whether the server resumed it",
    )
    parser.add_argument(
        "--keylog",
        metavar="FILE",
        help="append the connections' secrets to FILE in the NSS Key Log Format, for "
        "Wireshark (debugging only: prints a warning; needs a backend with key-log)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (its keys are listed below)"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per network operation (default: 10)"
    )
    parser.add_argument(
        "--send",
        metavar="TEXT",
        help=r"send TEXT after the handshake (\r\n and other escapes allowed) and print the "
        "reply (with --reconnect: on both connections)",
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
    context: ClientContext,
    address: tuple[str, int],
    name: str,
    timeout: float,
    session: TLSSession | None = None,
) -> TLSWrappedSocket:
    sock = _open_socket(*address, timeout)
    try:
        tls = context.wrap_socket(sock, name, session=session)
    except BaseException:
        sock.close()
        raise
    try:
        tls.do_handshake()
    except BaseException:
        tls.close()
        raise
    return tls


# -- what a connection shows: one dict, printed as text or as JSON --------------------


def _parse_groups(text: str | None) -> tuple[NamedGroup, ...] | None:
    if text is None:
        return None
    names = [part for part in text.replace(",", ":").split(":") if part.strip()]
    if not names:
        raise CommandError("--groups: give at least one group, e.g. X25519", status=2)
    try:
        return tuple(NamedGroup.from_name(name) for name in names)
    except ConfigurationError as exc:
        raise CommandError(f"--groups: {exc}", status=2) from None


def _certificate_facts(der: bytes, with_pem: bool) -> dict[str, Any]:
    summary = summarize(der)
    facts: dict[str, Any] = {
        "subject": summary.subject if summary else None,
        "issuer": summary.issuer if summary else None,
        "not_before": summary.not_before.isoformat() if summary else None,
        "not_after": summary.not_after.isoformat() if summary else None,
        "names": list(summary.alt_names) if summary else None,
        "key_type": summary.key_type if summary else None,
    }
    if with_pem:
        facts["pem"] = der_to_pem(der, "CERTIFICATE").decode("ascii")
    return facts


def _connection_facts(tls: TLSWrappedSocket, backend: Backend, with_pem: bool) -> dict[str, Any]:
    """Everything the connection can tell, with None where it cannot (see cannot_tell)."""
    cannot_tell = [
        field
        for field, capability in (
            ("group", Capability.NEGOTIATED_GROUP),
            ("signature_scheme", Capability.SIGNATURE_SCHEME),
            ("certificate_requested", Capability.CERTIFICATE_REQUESTED),
        )
        if not backend.supports(capability)
    ]
    version = tls.negotiated_tls_version
    cipher = tls.cipher()
    group = tls.negotiated_group()
    scheme = tls.signature_scheme()
    protocol = tls.negotiated_protocol()
    peer = tls.getpeername()
    return {
        "address": [peer[0], peer[1]],
        "protocol": None if version is None else format_version(version),
        "cipher": None if cipher is None else format_cipher(cipher),
        "group": None if group is None else group.display_name,
        "signature_scheme": None if scheme is None else scheme.name,
        "certificate_requested": tls.certificate_requested(),
        "resumed": tls.session_reused,
        "alpn": None if protocol is None else format_alpn(protocol),
        "certificates": [_certificate_facts(der, with_pem) for der in tls.getpeercert() or []],
        "reply": None,
        "cannot_tell": cannot_tell,
    }


def _cannot_tell(backend: Backend, capability: Capability) -> str:
    return f"unknown (the {backend.name} backend cannot tell: it lacks {capability.value})"


def _print_chain(facts: dict[str, Any], chain: list[bytes], backend: Backend) -> None:
    if not chain:
        print("certificate chain: none received")
        return
    print("certificate chain (as the server sent it, leaf first):")
    for index, (der, cert) in enumerate(zip(chain, facts["certificates"], strict=True)):
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
        if "pem" in cert:
            print(cert["pem"], end="")
    if len(chain) == 1 and not backend.supports(Capability.FULL_PEER_CHAIN):
        print(f"  (the {backend.name} backend reports only the leaf: it lacks full-peer-chain)")


def _print_session(facts: dict[str, Any], offered: str, backend: Backend, sent_cert: bool) -> None:
    def line(label: str, value: str) -> None:
        print(f"{label + ':':<13}{value}")

    line("protocol", facts["protocol"] or "-")
    line("cipher", facts["cipher"] or "-")
    # As openssl s_client's "Server Temp Key": the (EC)DHE group of the key exchange.
    if facts["group"] is not None:
        group = facts["group"]
    elif "group" in facts["cannot_tell"]:
        group = _cannot_tell(backend, Capability.NEGOTIATED_GROUP)
    else:
        group = "none (no ephemeral key exchange)"
    line("group", group)
    # As openssl s_client's "Peer signature type": how the server signed the handshake.
    if facts["signature_scheme"] is not None:
        signature = facts["signature_scheme"]
    elif "signature_scheme" in facts["cannot_tell"]:
        signature = _cannot_tell(backend, Capability.SIGNATURE_SCHEME)
    elif facts["resumed"]:
        signature = "none (a resumed session: the server signed nothing)"
    else:
        signature = "none"
    line("signature", signature)
    requested = facts["certificate_requested"]
    if requested is None:
        asked = _cannot_tell(backend, Capability.CERTIFICATE_REQUESTED)
    elif requested:
        asked = "requested by the server; " + ("ours sent" if sent_cert else "none sent")
    else:
        asked = "not requested"
    line("client cert", asked)
    line("resumed", "yes" if facts["resumed"] else "no")
    line("ALPN", f"{facts['alpn'] or '-'} (offered: {offered})")


# -- talking to the server -------------------------------------------------------------


def _exchange(tls: TLSWrappedSocket, text: str, timeout: float, out: _Output) -> str:
    try:
        data = codecs.escape_decode(text.encode("utf-8"))[0]
    except ValueError as exc:
        raise CommandError(f"--send: bad escape sequence: {exc}", status=2) from None
    tls.sendall(data)
    out.say(f"sent {len(data)} bytes; reply:")
    # Wait for the reply, then read until the server closes or goes quiet.
    reply = bytearray()
    tls.settimeout(timeout)
    while True:
        try:
            chunk = tls.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        reply += chunk
        tls.settimeout(0.5)
    tls.settimeout(timeout)
    text = reply.decode("utf-8", "backslashreplace")
    out.say(text)
    return text


def _await_session(tls: TLSWrappedSocket, wait: float) -> tuple[TLSSession | None, bytes]:
    """The connection's session, after reading what the server sent for up to ``wait`` s.

    TLS 1.3 tickets come after the handshake: non-blocking reads let the
    backend process them, and we stop as soon as a session is there.
    Returns the session and any application data that came meanwhile.
    """
    received = bytearray()
    deadline = time.monotonic() + wait
    previous = tls.gettimeout()
    tls.settimeout(0.0)
    try:
        while True:
            try:
                chunk = tls.recv(65536)
                if not chunk:
                    break  # the server closed: no more tickets
                received += chunk
                continue
            except (WantReadError, WantWriteError):
                pass  # all that came is processed
            except (TLSError, OSError):
                break  # the connection ended; a session that came stays usable
            session = tls.session
            remaining = deadline - time.monotonic()
            if session is not None or remaining <= 0:
                break
            select.select([tls], [], [], remaining)
    finally:
        with contextlib.suppress(OSError):
            tls.settimeout(previous)
    return tls.session, bytes(received)


def _goodbye(tls: TLSWrappedSocket) -> None:
    with contextlib.suppress(OSError, TLSError):
        tls.shutdown(socket.SHUT_WR)  # close_notify: an orderly goodbye


class _Output:
    """Text as it happens, or one JSON object at the end."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def say(self, text: str) -> None:
        if not self.as_json:
            print(text)


def run(args: argparse.Namespace) -> int:
    host, port = parse_host_port(args.target, 443)
    name = args.servername or host
    groups = _parse_groups(args.groups)
    if args.key and not args.cert:
        raise CommandError("--key needs --cert", status=2)
    password = read_pass(args.password_source) if args.password_source else None
    backend = select_backend(args.backend)
    trust = TrustStore.from_pem_file(args.cafile) if args.cafile else None
    alpn = parse_alpn(args.alpn)
    client_chain = chain_from_files(args.cert, args.key, password) if args.cert else None
    try:
        config = TLSConfiguration(
            validate_certificates=not args.insecure,
            trust_store=trust,
            certificate_chain=client_chain,
            inner_protocols=alpn,
            key_exchange_groups=groups,
            keylog_filename=args.keylog,
        ).update(**version_range(args))
    except ConfigurationError as exc:
        # What the options asked for cannot be (a key log path that cannot be opened...).
        raise CommandError(str(exc), status=2) from None
    offered = ", ".join(format_alpn(p) for p in alpn) or "none"
    trust_text = (
        f"the CA certificates in {args.cafile}" if args.cafile else "the system trust store"
    )
    out = _Output(args.json)
    report: dict[str, Any] = {
        "backend": {"name": backend.name, "library_version": backend.library_version},
        "target": {"host": host, "port": port, "server_name": name},
        "offered": {
            "alpn": [format_alpn(p) for p in alpn],
            "groups": None if groups is None else [g.display_name for g in groups],
            "client_certificate": bool(args.cert),
            "keylog": args.keylog,
            "insecure": args.insecure,
        },
        "verification": {"status": "not-done", "reason": None, "message": None},
        "handshake_error": None,
        "connection": None,
        "reconnect": None,
    }

    # One context for both connections: a session resumes only through the
    # context that made it.  It warns (on stderr) for --insecure and --keylog.
    context = backend.client_context(config)
    out.say(
        f"connecting to {host}:{port} as {name!r} with the {backend.name} backend "
        f"({backend.library_version})"
    )
    try:
        tls = _handshake(context, (host, port), name, args.timeout)
    except CertificateError as exc:
        report["verification"] = {
            "status": "failed",
            "reason": str(exc.reason.value),
            "message": str(exc),
        }
        out.say(f"verification: FAILED ({exc.reason}): {exc}")
        report["connection"] = _show_unverified(backend, config, (host, port), name, args, out)
        _emit_json(out, report)
        return 1
    except TLSError as exc:
        report["handshake_error"] = f"{type(exc).__name__}: {exc}"
        out.say(f"handshake: FAILED: {type(exc).__name__}: {exc}")
        _emit_json(out, report)
        return 1
    status = 0
    with tls:
        facts = _connection_facts(tls, backend, args.showcerts)
        chain = tls.getpeercert() or []
        report["connection"] = facts
        if args.insecure:
            report["verification"]["status"] = "not-done"
        else:
            report["verification"]["status"] = "ok"
        if not out.as_json:
            print(f"connected: {facts['address'][0]} port {facts['address'][1]}")
            _print_chain(facts, chain, backend)
            _print_session(facts, offered, backend, bool(args.cert))
            if args.insecure:
                print(
                    "verification: NOT DONE (--insecure): anyone in the middle could be this server"
                )
            else:
                print(f"verification: OK: the chain leads to {trust_text} and matches {name!r}")
        if args.send is not None:
            facts["reply"] = _exchange(tls, args.send, args.timeout, out)
        session, why_not = (
            _first_session(tls, backend, args, out) if args.reconnect else (None, None)
        )
        _goodbye(tls)
    if args.reconnect:
        offer = _Offer(session, why_not, chain)
        status = _reconnect(backend, context, (host, port), name, offer, args, report)
    if args.keylog:
        out.say(f"key log: secrets appended to {args.keylog}")
    _emit_json(out, report)
    return status


def _first_session(
    tls: TLSWrappedSocket, backend: Backend, args: argparse.Namespace, out: _Output
) -> tuple[TLSSession | None, str | None]:
    """The session the first connection gives to offer again, or None and why."""
    if not backend.supports(Capability.SESSION_RESUMPTION):
        return None, (
            f"the {backend.name} backend cannot resume sessions (it lacks session-resumption)"
        )
    if tls.negotiated_tls_version != TLSVersion.TLSv1_3:
        # TLS 1.2 hands out its session ID or ticket inside the handshake.
        if tls.session is None:
            return None, "no resumable session came with the handshake (no session ID or ticket)"
        return tls.session, None
    wait = min(TICKET_WAIT, args.timeout)
    session, unasked = _await_session(tls, wait)
    if unasked:
        out.say(f"the server sent, unasked:\n{unasked.decode('utf-8', 'backslashreplace')}")
    if session is None:
        return None, f"no resumable session: no TLS 1.3 ticket came within {wait:g} s"
    return session, None


class _Offer(NamedTuple):
    """What the first connection hands to the second."""

    session: TLSSession | None
    why_not: str | None
    chain: list[bytes]


def _reconnect(  # noqa: PLR0917 (the two connections share all of these)
    backend: Backend,
    context: ClientContext,
    address: tuple[str, int],
    name: str,
    offer: _Offer,
    args: argparse.Namespace,
    report: dict[str, Any],
) -> int:
    """The second connection of --reconnect; its exit status."""
    out = _Output(args.json)
    session, why_not, first_chain = offer
    result: dict[str, Any] = {
        "session_offered": session is not None,
        "why_not_offered": why_not,
        "resumed": None,
        "same_certificates": None,
        "handshake_error": None,
        "connection": None,
    }
    report["reconnect"] = result
    if session is None:
        out.say(f"reconnecting without a session to offer: {why_not}")
    else:
        out.say("reconnecting, offering the first connection's session")
    try:
        tls = _handshake(context, address, name, args.timeout, session)
    except TLSError as exc:
        result["handshake_error"] = f"{type(exc).__name__}: {exc}"
        out.say(f"reconnect: handshake FAILED: {type(exc).__name__}: {exc}")
        return 1
    with tls:
        facts = _connection_facts(tls, backend, args.showcerts)
        chain = tls.getpeercert() or []
        result["connection"] = facts
        result["resumed"] = facts["resumed"]
        result["same_certificates"] = chain == first_chain
        if not out.as_json:
            print(f"connected: {facts['address'][0]} port {facts['address'][1]}")
            offered = ", ".join(format_alpn(p) for p in context.configuration.inner_protocols)
            _print_session(facts, offered or "none", backend, bool(args.cert))
            if chain == first_chain:
                print(f"peer chain:  the same {len(chain)} certificate(s) as the first connection")
            elif not chain:
                print("peer chain:  none reported on this connection")
            else:
                print("peer chain:  DIFFERENT from the first connection's:")
                _print_chain(facts, chain, backend)
        if args.send is not None:
            facts["reply"] = _exchange(tls, args.send, args.timeout, out)
        _goodbye(tls)
    return 0


def _emit_json(out: _Output, report: dict[str, Any]) -> None:
    if out.as_json:
        json.dump(report, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")


def _show_unverified(  # noqa: PLR0917
    backend: Backend,
    config: TLSConfiguration,
    address: tuple[str, int],
    name: str,
    args: argparse.Namespace,
    out: _Output,
) -> dict[str, Any] | None:
    """Connect again without verification, only to show what the server presented."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureConfigurationWarning)
        # The key log warning was shown for the first context; this one logs nothing.
        context = backend.client_context(
            config.update(validate_certificates=False, keylog_filename=None)
        )
    try:
        tls = _handshake(context, address, name, args.timeout)
    except (TLSError, CommandError, OSError) as exc:
        out.say(f"(a second, unverified connection to show the chain failed too: {exc})")
        return None
    with tls:
        facts = _connection_facts(tls, backend, args.showcerts)
        if not out.as_json:
            print("what the server presented (second connection, NOT verified, no data sent):")
            _print_chain(facts, tls.getpeercert() or [], backend)
            offered = ", ".join(format_alpn(p) for p in config.inner_protocols) or "none"
            _print_session(facts, offered, backend, bool(args.cert))
        _goodbye(tls)
    return facts
