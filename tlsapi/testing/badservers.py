"""A local catalogue of bad TLS servers, in the manner of badssl.com.

Every entry is a real server program on 127.0.0.1 with a free port, started
and reaped by :func:`serve`: ``openssl s_server`` for the certificate cases,
the legacy protocol versions and weak DH; ``gnutls-serv`` for RC4, 3DES and
NULL suites, which this Debian's OpenSSL 3.0 no longer has (gnutls-serv has
no option to bind one address: it listens on every interface, and is only
ever contacted on 127.0.0.1).

An entry says what a correct client must do with its default configuration:
fail with a :class:`~tlsapi.CertificateError` of a given ``reason``
(certificate cases), or fail with a :class:`~tlsapi.TLSError` that is not a
certificate error (protocol and cipher cases).  Each entry also carries a
*probe*: a command-line client that connects with the defect allowed and
must see it (the verify code, the old version, the weak suite, the small
DH group), so that a server that fails to start or serves something else
cannot make a test pass.  An entry that no local tool can serve says so in
``unavailable``, with the reason, instead of being faked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import re
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from .._buffer import TLSWrappedBuffer
from .._errors import CertificateErrorReason, WantReadError, WantWriteError
from .pki import PKI, KeyType

__all__ = [
    "CATALOGUE",
    "BadServer",
    "RunningServer",
    "ServerPlan",
    "ServerStartError",
    "handshake_over_tcp",
    "serve",
]

HOST = "127.0.0.1"
R = CertificateErrorReason

# RFC 2409's 1024-bit MODP group ("Oakley group 2"), generator 2: a real group
# still found on old servers, so no slow parameter generation is needed.
_OAKLEY_GROUP_2 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22"
    "514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6"
    "F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381"
    "FFFFFFFFFFFFFFFF",
    16,
)

# Bounds that turn a stuck program into an error instead of a hang.
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 5.0
_PROBE_TIMEOUT = 20.0


class ServerStartError(RuntimeError):
    """A bad server's program would not start (with its output)."""


@dataclasses.dataclass(frozen=True)
class ServerPlan:
    """How to run one bad server and how to prove it serves its defect.

    ``argv`` and ``probe_argv`` contain ``{port}`` where the port goes;
    ``probe_pattern`` is a regular expression the probe's output must match.
    """

    argv: tuple[str, ...]
    server_hostname: str
    probe_argv: tuple[str, ...]
    probe_pattern: str


@dataclasses.dataclass(frozen=True)
class BadServer:
    """One catalogue entry."""

    name: str
    description: str
    # The CertificateError.reason a client must give; None: any TLSError
    # that is not a CertificateError (the protocol and cipher cases).
    reason: CertificateErrorReason | None
    plan: Callable[[PKI, Path], ServerPlan] | None
    # The server program the plan runs.
    program: str = "openssl"
    # Why no local tool can serve this case (None: it can).
    unavailable: str | None = None
    # A TLS cipher suite list (IANA numbers) that invites the weakness, for a
    # second check with a client that offers it (weak DH: offer DHE suites).
    inviting_ciphers: tuple[int, ...] = ()

    @property
    def is_certificate_case(self) -> bool:
        return self.reason is not None


# -- the plans -------------------------------------------------------------------

_NO_SYSTEM_CAS = ("-no-CAfile", "-no-CApath", "-no-CAstore")


def _openssl_server(cert: Path, key: Path, chain: Path | None, *extra: str) -> tuple[str, ...]:
    argv = ["openssl", "s_server", "-accept", f"{HOST}:{{port}}", "-www", "-cert", str(cert)]
    argv += ["-key", str(key), *_NO_SYSTEM_CAS]
    if chain is not None:
        argv += ["-cert_chain", str(chain)]
    return (*argv, *extra)


def _openssl_verify_probe(root: Path, hostname: str) -> tuple[str, ...]:
    return (
        "openssl", "s_client", "-connect", f"{HOST}:{{port}}", "-CAfile", str(root),
        *_NO_SYSTEM_CAS, "-verify_hostname", hostname, "-servername", hostname,
    )  # fmt: skip


def _certificate_plan(
    make_leaf: Callable[[PKI], tuple[PKI, dict[str, object]]],
    *,
    send_chain: bool = True,
    hostname: str = "localhost",
    verify_code: int,
) -> Callable[[PKI, Path], ServerPlan]:
    """A plan for a certificate case: ``make_leaf`` picks the issuing PKI and issue() options."""

    def plan(pki: PKI, workdir: Path) -> ServerPlan:
        issuer, options = make_leaf(pki)
        leaf = issuer.issue(**options)  # type: ignore[arg-type]
        files = leaf.write(workdir)
        chain = None
        if send_chain and leaf.intermediates:
            chain = workdir / "intermediates.pem"
            chain.write_bytes(leaf.chain_pem[len(leaf.cert_pem) :])
        root = pki.write_root(workdir, "trusted-root.pem")
        return ServerPlan(
            argv=_openssl_server(files.cert, files.key, chain),
            server_hostname=hostname,
            probe_argv=_openssl_verify_probe(root, hostname),
            probe_pattern=rf"Verify return code: {verify_code} \(",
        )

    return plan


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _rsa_leaf(pki: PKI, workdir: Path) -> tuple[Path, Path, Path]:
    """An RSA leaf (for RSA key exchange and DHE_RSA), valid and trusted: cert, key, intermediates."""
    leaf = pki.issue(key_type=KeyType.RSA_2048)
    files = leaf.write(workdir)
    chain = workdir / "intermediates.pem"
    chain.write_bytes(leaf.chain_pem[len(leaf.cert_pem) :])
    return files.cert, files.key, chain


def _legacy_version_plan(flag: str, shown: str) -> Callable[[PKI, Path], ServerPlan]:
    def plan(pki: PKI, workdir: Path) -> ServerPlan:
        cert, key, chain = _rsa_leaf(pki, workdir)
        # OpenSSL 3 allows TLS 1.0/1.1 only at security level 0.
        return ServerPlan(
            argv=_openssl_server(cert, key, chain, flag, "-cipher", "DEFAULT@SECLEVEL=0"),
            server_hostname="localhost",
            probe_argv=(
                "openssl",
                "s_client",
                "-connect",
                f"{HOST}:{{port}}",
                flag,
                "-cipher",
                "DEFAULT@SECLEVEL=0",
                *_NO_SYSTEM_CAS,
            ),
            probe_pattern=rf"Protocol\s*: {re.escape(shown)}\n",
        )

    return plan


def _gnutls_suite_plan(cipher: str) -> Callable[[PKI, Path], ServerPlan]:
    # Only this bulk cipher, with RSA or ECDHE_RSA key exchange, TLS 1.0-1.2.
    priority = (
        "NONE:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0:+RSA:+ECDHE-RSA:"
        f"+{cipher}:+SHA1:+SHA256:+COMP-NULL:+SIGN-ALL:+GROUP-ALL:+CTYPE-X509"
    )

    def plan(pki: PKI, workdir: Path) -> ServerPlan:
        cert, key, chain = _rsa_leaf(pki, workdir)
        full_chain = workdir / "full-chain.pem"
        full_chain.write_bytes(cert.read_bytes() + chain.read_bytes())
        return ServerPlan(
            argv=(
                "gnutls-serv",
                "--port",
                "{port}",
                "--echo",
                "--x509certfile",
                str(full_chain),
                "--x509keyfile",
                str(key),
                "--priority",
                priority,
            ),
            server_hostname="localhost",
            probe_argv=(
                "gnutls-cli",
                "--insecure",
                "--port",
                "{port}",
                "--priority",
                priority,
                HOST,
            ),
            probe_pattern=rf"Description: \(TLS1\.\d-X\.509\)-\([A-Z-]+\)-\({re.escape(cipher)}\)",
        )

    return plan


def _weak_dh_plan(pki: PKI, workdir: Path) -> ServerPlan:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dh
    from cryptography.utils import CryptographyDeprecationWarning

    cert, key, chain = _rsa_leaf(pki, workdir)
    params = workdir / "dh1024.pem"
    with warnings.catch_warnings():
        # cryptography deprecates finite-field DH; serialising a group is all we need.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        numbers = dh.DHParameterNumbers(_OAKLEY_GROUP_2, 2)
        encoded = numbers.parameters().parameter_bytes(
            serialization.Encoding.PEM, serialization.ParameterFormat.PKCS3
        )
    params.write_bytes(encoded)
    suites = "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-SHA@SECLEVEL=0"
    return ServerPlan(
        argv=_openssl_server(
            cert, key, chain, "-tls1_2", "-cipher", suites, "-dhparam", str(params)
        ),
        server_hostname="localhost",
        probe_argv=(
            "openssl",
            "s_client",
            "-connect",
            f"{HOST}:{{port}}",
            "-cipher",
            suites,
            *_NO_SYSTEM_CAS,
        ),
        probe_pattern=r"Server Temp Key: DH, 1024 bits",
    )


def _leaf(**options: object) -> Callable[[PKI], tuple[PKI, dict[str, object]]]:
    return lambda pki: (pki, options)


def _untrusted(pki: PKI) -> tuple[PKI, dict[str, object]]:
    return PKI(pki.key_type, name="tlsapi untrusted root"), {}


_DAY = datetime.timedelta(days=1)

CATALOGUE: tuple[BadServer, ...] = (
    BadServer(
        "expired",
        "a leaf whose notAfter was yesterday",
        R.EXPIRED,
        _certificate_plan(
            lambda pki: (pki, {"not_before": _now() - 30 * _DAY, "not_after": _now() - _DAY}),
            verify_code=10,
        ),
    ),
    BadServer(
        "not-yet-valid",
        "a leaf whose notBefore is tomorrow",
        R.NOT_YET_VALID,
        _certificate_plan(
            lambda pki: (pki, {"not_before": _now() + _DAY, "not_after": _now() + 30 * _DAY}),
            verify_code=9,
        ),
    ),
    BadServer(
        "wrong-host",
        "a leaf for wrong.host.example, reached as localhost",
        R.HOSTNAME_MISMATCH,
        _certificate_plan(_leaf(names=("wrong.host.example",), ips=()), verify_code=62),
    ),
    BadServer(
        "self-signed",
        "a self-signed leaf that no trusted CA issued",
        R.SELF_SIGNED,
        _certificate_plan(_leaf(issuer="self"), verify_code=18),
    ),
    BadServer(
        "untrusted-root",
        "a full chain (leaf + intermediate) up to a root the client does not trust",
        R.UNTRUSTED_ISSUER,
        _certificate_plan(_untrusted, verify_code=20),
    ),
    BadServer(
        "incomplete-chain",
        "a leaf from a trusted root's intermediate, sent without the intermediate",
        R.UNTRUSTED_ISSUER,
        _certificate_plan(_leaf(), send_chain=False, verify_code=21),
    ),
    BadServer(
        "wrong-eku",
        "a leaf whose extendedKeyUsage is clientAuth only",
        R.BAD_USAGE,
        _certificate_plan(_leaf(eku=("client",)), verify_code=26),
    ),
    BadServer(
        "tls1.0-only",
        "a server that speaks TLS 1.0 and nothing newer",
        None,
        _legacy_version_plan("-tls1", "TLSv1"),
    ),
    BadServer(
        "tls1.1-only",
        "a server that speaks TLS 1.1 and nothing newer",
        None,
        _legacy_version_plan("-tls1_1", "TLSv1.1"),
    ),
    BadServer(
        "sslv3-only",
        "a server that speaks SSL 3.0 only",
        None,
        None,
        unavailable=(
            "no local tool can serve SSL 3.0: Debian's OpenSSL 3.0 is built without it (no "
            "-ssl3 option) and GnuTLS 3.7.9 without SSL 3.0 support (+VERS-SSL3.0 lists no suite)"
        ),
    ),
    BadServer(
        "rc4-only",
        "a server whose only bulk cipher is RC4 (ARCFOUR-128)",
        None,
        _gnutls_suite_plan("ARCFOUR-128"),
        program="gnutls-serv",
    ),
    BadServer(
        "3des-only",
        "a server whose only bulk cipher is 3DES-EDE-CBC",
        None,
        _gnutls_suite_plan("3DES-CBC"),
        program="gnutls-serv",
    ),
    BadServer(
        "null-only",
        "a server that offers only NULL encryption (authentication without secrecy)",
        None,
        _gnutls_suite_plan("NULL"),
        program="gnutls-serv",
    ),
    BadServer(
        "dh1024",
        "a TLS 1.2 server with DHE_RSA suites only and a 1024-bit DH group (RFC 2409 group 2)",
        None,
        _weak_dh_plan,
        inviting_ciphers=(0x009E, 0x009F, 0x0033),  # TLS_DHE_RSA_WITH_AES_{128,256}_GCM, _128_CBC
    ),
    BadServer(
        "dh512",
        "a TLS 1.2 server with DHE_RSA suites only and a 512-bit DH group",
        None,
        None,
        unavailable=(
            "no local tool can serve it: OpenSSL 3.0 refuses DH parameters below 1024 bits even "
            "at security level 0 ('dh key too small'), and GnuTLS 3.7.9's server switches to an "
            "RFC 7919 group (ffdhe2048) when the client offers one, or fails the handshake "
            "when its FFDHE groups are disabled, so it never sends a custom 512-bit group"
        ),
        inviting_ciphers=(0x009E, 0x009F, 0x0033),
    ),
)


# -- running a server --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _fill(argv: tuple[str, ...], port: int) -> list[str]:
    return [part.replace("{port}", str(port)) for part in argv]


@dataclasses.dataclass
class RunningServer:
    """A started bad server: where to connect, and how to check it."""

    entry: BadServer
    plan: ServerPlan
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return (HOST, self.port)

    @property
    def server_hostname(self) -> str:
        return self.plan.server_hostname

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def probe(self) -> str:
        """Run the probe client; its output (raises AssertionError if the defect is not seen)."""
        try:
            child = subprocess.run(
                _fill(self.plan.probe_argv, self.port),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=_PROBE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"{self.entry.name}: the probe did not finish") from exc
        text = (child.stdout + child.stderr).decode(errors="replace")
        if not re.search(self.plan.probe_pattern, text):
            raise AssertionError(
                f"{self.entry.name}: the probe ({' '.join(self.plan.probe_argv[:2])}) did not see "
                f"/{self.plan.probe_pattern}/; its output:\n{text[-2000:]}\n"
                f"server output:\n{self.output()[-2000:]}"
            )
        return text

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(_STOP_TIMEOUT)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise ServerStartError(
                f"{process.args!r} exited with {process.returncode}: "
                f"{log.read_text(errors='replace')[-2000:]}"
            )
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{process.args!r} did not listen on {HOST}:{port} "
                    f"within {_START_TIMEOUT:.0f} s"
                ) from None
            time.sleep(0.02)


@contextlib.contextmanager
def serve(entry: BadServer, pki: PKI, workdir: Path) -> Iterator[RunningServer]:
    """Start ``entry``'s server (certificates from ``pki``), yield it, stop and reap it."""
    if entry.plan is None:
        raise ValueError(f"{entry.name} cannot be served here: {entry.unavailable}")
    directory = workdir / entry.name
    directory.mkdir(parents=True, exist_ok=True)
    plan = entry.plan(pki, directory)
    program = shutil.which(plan.argv[0])
    if program is None:
        raise ServerStartError(f"{plan.argv[0]} is not installed (needed for {entry.name})")
    last_error: ServerStartError | None = None
    for attempt in range(3):  # another process may take the free port first
        port = _free_port()
        log = directory / f"server-{attempt}.log"
        with open(log, "wb") as sink:
            process = subprocess.Popen(
                _fill(plan.argv, port),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, LC_ALL="C"),
            )
        server = RunningServer(entry, plan, port, process, log)
        try:
            _wait_until_listening(process, port, log)
        except ServerStartError as exc:
            server.stop()
            last_error = exc
            continue
        try:
            yield server
        finally:
            server.stop()
        return
    assert last_error is not None
    raise last_error


# -- a client over TCP ------------------------------------------------------------


def handshake_over_tcp(
    buffer: TLSWrappedBuffer,
    address: tuple[str, int],
    *,
    timeout: float = 20.0,
    max_rounds: int = 100,
) -> None:
    """Run ``buffer``'s handshake over a TCP connection to ``address``.

    Raises what the handshake raises (a TLSError for any TLS failure); a
    peer that goes quiet raises ``TimeoutError`` after ``timeout`` seconds.
    """
    with socket.create_connection(address, timeout=timeout) as sock:

        def flush() -> None:
            while data := buffer.peek_outgoing(65536):
                sock.sendall(data)
                buffer.consume_outgoing(len(data))

        for _ in range(max_rounds):
            try:
                buffer.do_handshake()
            except (WantReadError, WantWriteError):
                flush()
                buffer.receive_from_network(sock.recv(65536))  # b"": the peer closed
            except BaseException:
                with contextlib.suppress(OSError):
                    flush()  # the alert, so the server's log says why
                raise
            else:
                flush()
                return
    raise RuntimeError(f"the handshake with {address} did not finish in {max_rounds} rounds")
