"""``tlsapi demo``: every available server backend against every client backend, offline.

A throwaway CA (root and intermediate) issues a server certificate for
localhost and a client certificate; then, for each (server, client) pair,
over 127.0.0.1 sockets:

- a verified handshake with ALPN, and one echoed message;
- mutual TLS (where both backends support client certificates);
- a wrong host name and a CA the client does not trust, each of which must be
  refused with the right CertificateError reason.

The exit status is 1 if any pair fails any check.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

from .._backend import Backend, Capability
from .._config import TLSConfiguration
from .._errors import CertificateError, CertificateErrorReason
from .._protocols import NextProtocol
from .._registry import available_backends, backend, discover_backends
from ._common import CommandError, format_alpn, load_pki, render_table
from ._loopback import SideResult, run_connection
from ._x509 import summarize

__all__ = ["register", "run"]

_ALPN = (NextProtocol.H2, NextProtocol.HTTP1)
_WRONG_HOST = "wrong.example"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="try every server backend against every client backend (offline)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--backend",
        action="append",
        metavar="NAME",
        help="use only this backend (repeatable; default: every available one)",
    )
    parser.add_argument(
        "--key-type",
        choices=("p256", "p384", "rsa2048", "ed25519"),
        default="p256",
        help="the key type of the throwaway CA and certificates (default: p256)",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per socket operation (default: 10)"
    )
    parser.set_defaults(run=run)


def _error_text(error: BaseException) -> str:
    if isinstance(error, CertificateError):
        return f"CertificateError ({error.reason}): {error}"
    return f"{type(error).__name__}: {error}"


@dataclasses.dataclass
class _PairReport:
    server: str
    client: str
    cells: list[str]
    failures: list[str]


class _Demo:
    def __init__(self, key_type: str, timeout: float) -> None:
        pki_class = load_pki()
        from tlsapi.testing.pki import KeyType

        self.key_type = KeyType(key_type)
        self.pki = pki_class(key_type=self.key_type, name="tlsapi demo")
        self.other_pki = pki_class(key_type=self.key_type, name="tlsapi demo (untrusted)")
        self.server_identity = self.pki.server_identity
        self.client_identity = self.pki.client_identity
        self.timeout = timeout

    def describe_pki(self) -> str:
        root = summarize(self.pki.root.cert_der)
        leaf = summarize(self.server_identity.cert_der)
        root_name = root.subject if root else "(unreadable)"
        names = ", ".join(n.split(":", 1)[1] for n in leaf.alt_names) if leaf else "?"
        key = leaf.key_type if leaf else self.key_type.name
        return (
            f'throwaway CA: root "{root_name}" -> intermediate CA\n'
            f"certificates: server for {names} ({key}); client for mutual TLS"
        )

    def _alpn(self, server: Backend, client: Backend) -> tuple[NextProtocol | bytes, ...]:
        both = server.supports(Capability.SERVER_ALPN) and client.supports(Capability.ALPN)
        return _ALPN if both else ()

    def check_pair(self, server: Backend, client: Backend) -> _PairReport:
        failures: list[str] = []
        alpn = self._alpn(server, client)
        server_config = self.pki.server_config(inner_protocols=alpn)
        client_config = self.pki.client_config(inner_protocols=alpn)

        # 1. The verified handshake, with ALPN and an echoed message.
        s, c = self._connect(server, server_config, client, client_config, "localhost")
        expected_alpn = format_alpn(alpn[0]) if alpn else "-"
        if s.ok and c.ok:
            for what, left, right in (
                ("version", s.version, c.version),
                ("cipher", s.cipher, c.cipher),
                ("ALPN", s.alpn, c.alpn),
            ):
                if left != right:
                    failures.append(
                        f"the sides disagree on the {what}: server {left}, client {right}"
                    )
            if c.alpn != expected_alpn:
                failures.append(f"ALPN: expected {expected_alpn}, negotiated {c.alpn}")
            if not (s.echoed and c.echoed):
                failures.append("the echoed message did not come back intact")
            verified = "yes" if not failures else "FAILED"
        else:
            verified = "FAILED"
            failures.extend(self._side_errors("handshake", s, c))

        # 2. Mutual TLS: the server requires a certificate from the client.
        if server.supports(Capability.CLIENT_CERTIFICATES) and client.supports(
            Capability.CLIENT_CERTIFICATES
        ):
            s2, c2 = self._connect(
                server,
                server_config.update(trust_store=self.pki.trust_store()),
                client,
                client_config.update(certificate_chain=self.client_identity.certificate_chain()),
                "localhost",
            )
            if s2.ok and c2.ok and s2.peer_chain_length and s2.echoed:
                mutual = "yes"
            else:
                mutual = "FAILED"
                failures.extend(self._side_errors("mutual TLS", s2, c2))
                if s2.ok and not s2.peer_chain_length:
                    failures.append("mutual TLS: the server saw no client certificate")
        else:
            mutual = "n/a"

        # 3. and 4. What must be refused.
        refusals = []
        for what, config, hostname, reason in (
            ("wrong host", client_config, _WRONG_HOST, CertificateErrorReason.HOSTNAME_MISMATCH),
            (
                "unknown CA",
                client_config.update(trust_store=self.other_pki.trust_store()),
                "localhost",
                CertificateErrorReason.UNTRUSTED_ISSUER,
            ),
        ):
            _, c3 = self._connect(server, server_config, client, config, hostname)
            cell, problem = self._judge_refusal(c3, reason)
            refusals.append(cell)
            if problem:
                failures.append(f"{what}: {problem}")

        cells = [
            server.name,
            client.name,
            c.version,
            c.cipher,
            c.alpn,
            verified,
            mutual,
            *refusals,
            "ok" if not failures else "FAIL",
        ]
        return _PairReport(server.name, client.name, cells, failures)

    def _connect(
        self,
        server: Backend,
        server_config: TLSConfiguration,
        client: Backend,
        client_config: TLSConfiguration,
        hostname: str,
    ) -> tuple[SideResult, SideResult]:
        # Building a context can itself fail (a backend refusing a credential):
        # that is a failed check of this pair, not a crash of the demo.
        try:
            server_context = server.server_context(server_config)
            client_context = client.client_context(client_config)
        except Exception as exc:
            return SideResult(error=exc), SideResult(error=exc)
        return run_connection(server_context, client_context, hostname, timeout=self.timeout)

    @staticmethod
    def _side_errors(what: str, server: SideResult, client: SideResult) -> list[str]:
        errors = []
        if client.error is not None:
            errors.append(f"{what}: client: {_error_text(client.error)}")
        if server.error is not None and server.error is not client.error:
            errors.append(f"{what}: server: {_error_text(server.error)}")
        return errors

    @staticmethod
    def _judge_refusal(
        client: SideResult, reason: CertificateErrorReason
    ) -> tuple[str, str | None]:
        error = client.error
        if error is None:
            return "ACCEPTED", "the client accepted a certificate it must refuse"
        if isinstance(error, CertificateError):
            if error.reason == reason:
                return "refused", None
            return (
                f"refused: {error.reason} (!)",
                f"refused, but with reason {error.reason} instead of {reason}: {error}",
            )
        return "error (!)", f"expected CertificateError ({reason}), got {_error_text(error)}"


def _backends(names: Sequence[str] | None) -> list[Backend]:
    if names:
        return [backend(name) for name in dict.fromkeys(names)]
    found = available_backends()
    if not found:
        raise CommandError("no tlsapi backend is available (see `tlsapi backends`)")
    return found


def run(args: argparse.Namespace) -> int:
    backends = _backends(args.backend)
    servers = [b for b in backends if b.supports(Capability.SERVER)]
    clients = [b for b in backends if b.supports(Capability.CLIENT)]
    demo = _Demo(args.key_type, args.timeout)

    print("tlsapi demo: every server backend against every client backend, over 127.0.0.1 sockets")
    print()
    print("backends:   " + ", ".join(f"{b.name} ({b.library_version})" for b in backends))
    if not args.backend:
        for record in discover_backends().values():
            if not record.available:
                print(f"not used:   {record.name}: {record.why_not}")
    for b in backends:
        if b not in servers:
            print(f"note:       {b.name} has no server side; it appears only as a client")
        if b not in clients:
            print(f"note:       {b.name} has no client side; it appears only as a server")
    print(demo.describe_pki())
    print(
        "each pair:  a verified handshake with ALPN (h2, http/1.1) and an echo; mutual TLS;\n"
        f"            a wrong host name ({_WRONG_HOST}) and an unknown CA, which must be refused\n"
        "            (a CertificateError with reason hostname-mismatch and untrusted-issuer)"
    )
    print(flush=True)

    reports = [demo.check_pair(s, c) for s in servers for c in clients]
    headers = [
        "server",
        "client",
        "version",
        "cipher",
        "ALPN",
        "verified",
        "mTLS",
        "wrong host",
        "unknown CA",
        "result",
    ]
    print(render_table(headers, [r.cells for r in reports]))
    print()
    failed = [r for r in reports if r.failures]
    if not reports:
        print("no pair to run: no backend has both a client and a server side")
        return 1
    if not failed:
        print(
            "the pair passed every check."
            if len(reports) == 1
            else f"all {len(reports)} pairs passed every check."
        )
        return 0
    print(f"{len(failed)} of {len(reports)} pairs FAILED:")
    for report in failed:
        for failure in report.failures:
            print(f"  server {report.server}, client {report.client}: {failure}")
    return 1
