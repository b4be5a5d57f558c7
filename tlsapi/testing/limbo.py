"""x509-limbo path-validation vectors, run end to end through TLS handshakes.

Each usable SERVER testcase becomes one handshake: a lenient reference server
(the ``ssl`` module over memory BIOs, security level 0, no validation of its
own) presents ``peer_certificate`` + ``untrusted_intermediates`` with
``peer_certificate_key``; the client under test trusts only ``trusted_certs``
(``TrustStore.from_buffer``) and connects to ``expected_peer_name``.  Its
verdict (handshake completed or not) is compared with ``expected_result``.

Usable means: SERVER validation, a peer key (or no server could present the
certificate), a DNS or IP peer name, and no CRLs (the TLS API does no
revocation checking).  Every other case is counted with its reason.

Cases with a ``validation_time`` run in a child process under ``faketime``
with the clock frozen at that instant (``python -m tlsapi.testing.limbo``,
both ends in the child).  Without ``faketime`` those cases are not run and
counted as such.  Cases with the feature "denial-of-service" run each in a
child whose address space is capped (``CHILD_MEMORY_LIMIT``): a verifier that
explodes on them fails the case ("crashed"), not the test run.

The data file is ``../shared/data/x509-limbo/limbo.json`` beside the
repository, or the path in ``TLSAPI_LIMBO_PATH``.

Library verifiers: the hook for backends
----------------------------------------
The rule every backend must keep is: it never accepts a chain that its own
library's verifier rejects.  A *library verifier* answers, for one case,
whether the library's stand-alone verifier accepts the chain for that name,
purpose serverAuth, at the case's time.  It is any object with

    name: str                                   # shown in messages, e.g. "openssl verify"
    def unavailable_reason(self) -> str | None  # None when it can run here
    def verify(self, case: LimboCase, workdir: Path) -> Verdict

``verifier_for(backend_name)`` finds one, in this order: a factory given to
``register_verifier(backend_name, factory)`` (for a test session's own
override); an entry point named after the backend in the group
``tlsapi.testing.limbo_verifiers`` (value: a factory returning the
verifier), declared by the backend's distribution beside its
``tlsapi.backends`` entry point, in its pyproject.toml::

    [project.entry-points."tlsapi.testing.limbo_verifiers"]
    gnutls = "tlsapi_gnutls.testing:limbo_verifier"

That is the one way in for a backend distribution: tlsapi's GnuTLS and NSS
backends use it like any third party (their verifiers live in their own
``testing`` modules).  Only the stdlib backend, which ships in this
distribution, is built in (``BUILTIN_VERIFIERS``: ``openssl verify``,
:class:`OpenSSLVerifier`).  :class:`CerttoolVerifier` and
:class:`VfychainVerifier` wrap the GnuTLS and NSS command-line tools for a
backend that wants to use or extend them.  A verifier is run
with the settings the backend uses by default (purpose, hostname rules,
default depth), so that "stricter than the library" is allowed and "more
lenient than the library" is caught.  A verdict with ``conclusive=False``
(the tool gave no answer) is reported and not counted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import ipaddress
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from .._backend import Backend
from .._buffer import TLSWrappedBuffer
from .._config import TLSConfiguration
from .._credentials import TrustStore
from .._errors import CertificateError, TLSError, WantReadError, WantWriteError

__all__ = [
    "BUILTIN_VERIFIERS",
    "ENV_LIMBO_PATH",
    "VERIFIER_ENTRY_POINT_GROUP",
    "CaseResult",
    "CerttoolVerifier",
    "LibraryVerifier",
    "LimboCase",
    "OpenSSLVerifier",
    "Verdict",
    "VfychainVerifier",
    "default_limbo_path",
    "load_cases",
    "read_differences",
    "register_verifier",
    "run_cases",
    "select_cases",
    "verifier_for",
]

ENV_LIMBO_PATH = "TLSAPI_LIMBO_PATH"
VERIFIER_ENTRY_POINT_GROUP = "tlsapi.testing.limbo_verifiers"
_RELATIVE_PATH = Path("..", "shared", "data", "x509-limbo", "limbo.json")
# A handshake between two in-memory ends needs a handful of rounds; this bound
# only turns a stall (a bug) into a reported result instead of a hang.
_MAX_ROUNDS = 64
_CHILD_TIMEOUT = 300


def repository_root() -> Path:
    """The checkout this module lives in (tlsapi/testing/limbo.py -> the root)."""
    return Path(__file__).resolve().parents[2]


def default_limbo_path() -> Path:
    """``$TLSAPI_LIMBO_PATH``, else ``../shared/data/x509-limbo/limbo.json`` beside the checkout."""
    override = os.environ.get(ENV_LIMBO_PATH)
    if override:
        return Path(override)
    return (repository_root() / _RELATIVE_PATH).resolve()


# -- the testcases --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LimboCase:
    """One x509-limbo testcase, with the fields the TLS run needs."""

    id: str
    description: str
    features: tuple[str, ...]
    validation_kind: str
    trusted_certs: tuple[str, ...]
    untrusted_intermediates: tuple[str, ...]
    peer_certificate: str
    peer_certificate_key: str | None
    validation_time: datetime.datetime | None
    expected_success: bool
    peer_name_kind: str | None
    peer_name: str | None
    crls: tuple[str, ...]
    max_chain_depth: int | None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> LimboCase:
        name = item.get("expected_peer_name") or {}
        when = item.get("validation_time")
        return cls(
            id=item["id"],
            description=" ".join(str(item.get("description", "")).split()),
            features=tuple(item.get("features") or ()),
            validation_kind=item["validation_kind"],
            trusted_certs=tuple(item.get("trusted_certs") or ()),
            untrusted_intermediates=tuple(item.get("untrusted_intermediates") or ()),
            peer_certificate=item["peer_certificate"],
            peer_certificate_key=item.get("peer_certificate_key"),
            validation_time=datetime.datetime.fromisoformat(when) if when else None,
            expected_success=item["expected_result"] == "SUCCESS",
            peer_name_kind=name.get("kind"),
            peer_name=name.get("value"),
            crls=tuple(item.get("crls") or ()),
            max_chain_depth=item.get("max_chain_depth"),
        )

    def exclusion_reason(self) -> str | None:
        """Why this case cannot run through a TLS client handshake (None: it can)."""
        if self.validation_kind != "SERVER":
            return "CLIENT validation: the client under test validates servers"
        if not self.peer_certificate_key:
            return "no peer key: no server can present the certificate"
        if self.peer_name_kind not in ("DNS", "IP") or not self.peer_name:
            return "no DNS or IP peer name to connect to"
        if self.crls:
            return "has CRLs: the TLS API does no revocation checking"
        return None

    @property
    def chain_pem(self) -> bytes:
        """What the server presents: the leaf, then the untrusted intermediates."""
        return "".join((self.peer_certificate, *self.untrusted_intermediates)).encode()

    @property
    def trusted_pem(self) -> bytes:
        return "".join(self.trusted_certs).encode()

    @property
    def expected(self) -> str:
        return "SUCCESS" if self.expected_success else "FAILURE"


def load_cases(path: Path | None = None) -> list[LimboCase]:
    """Every testcase in the limbo file (FileNotFoundError when it is absent)."""
    with open(path or default_limbo_path(), encoding="utf-8") as file:
        document = json.load(file)
    return [LimboCase.from_json(item) for item in document["testcases"]]


def select_cases(cases: Iterable[LimboCase]) -> tuple[list[LimboCase], dict[str, list[str]]]:
    """The cases that can run through TLS, and the others' ids grouped by reason."""
    usable: list[LimboCase] = []
    excluded: dict[str, list[str]] = {}
    for case in cases:
        reason = case.exclusion_reason()
        if reason is None:
            usable.append(case)
        else:
            excluded.setdefault(reason, []).append(case.id)
    return usable, excluded


# -- results --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A yes/no answer on one case, with the evidence as text.

    ``conclusive`` is False when the verifier could not give an answer (the
    tool failed before verifying); such a verdict proves nothing either way.
    """

    accepted: bool
    detail: str
    conclusive: bool = True


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """What happened when a backend's client met one case.

    ``status`` is "accepted" (the handshake completed), "rejected" (a
    TLSError, ConfigurationError included), "crashed" (any other exception or
    a stalled handshake: a bug in the backend or the harness), or "not-run"
    (the reference server or the clock could not be set up; ``detail`` says why).
    """

    case_id: str
    status: str
    detail: str
    reason: str | None = None  # CertificateError.reason, when there was one

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> CaseResult:
        return cls(**item)


# -- the reference server and one handshake ---------------------------------------


def _safe(case_id: str) -> str:
    """A file-name stem for a case id."""
    return case_id.replace(":", "_").replace("/", "_")


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def _reference_server(case: LimboCase, workdir: Path) -> ssl.SSLContext:
    """A server context that presents the case's chain and validates nothing."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # Security level 0: weak keys and signatures in the chain are the client's
    # business, the server must still be able to present them.
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    safe = _safe(case.id)
    chain = _write(workdir, f"{safe}.chain.pem", case.chain_pem)
    key = _write(workdir, f"{safe}.key.pem", (case.peer_certificate_key or "").encode())
    context.load_cert_chain(str(chain), str(key))
    return context


def _shuttle(
    client: TLSWrappedBuffer,
    server: ssl.SSLObject,
    to_server: ssl.MemoryBIO,
    from_server: ssl.MemoryBIO,
) -> tuple[bool, BaseException | None]:
    """Run the handshake between the two ends; (client finished, server's error)."""
    server_error: BaseException | None = None
    for _ in range(_MAX_ROUNDS):
        try:
            client.do_handshake()
            return True, server_error
        except (WantReadError, WantWriteError):
            pass
        moved = 0
        outgoing = client.peek_outgoing(1 << 20)
        if outgoing:
            client.consume_outgoing(len(outgoing))
            to_server.write(outgoing)
            moved += len(outgoing)
        if server_error is None:
            try:
                server.do_handshake()
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                server_error = exc
        incoming = from_server.read()
        if incoming:
            client.receive_from_network(incoming)
            moved += len(incoming)
        if not moved:
            if server_error is None:
                raise RuntimeError("the handshake stalled: neither end has anything to send")
            # The server gave up without an alert the client saw: end of file.
            client.receive_from_network(b"")
    raise RuntimeError(f"the handshake did not finish in {_MAX_ROUNDS} rounds")


def run_case(backend: Backend, case: LimboCase, workdir: Path) -> CaseResult:
    """One handshake of ``backend``'s client against the case's reference server."""
    try:
        server_context = _reference_server(case, workdir)
    except (ssl.SSLError, OSError, ValueError) as exc:
        return CaseResult(case.id, "not-run", f"the reference server cannot present it: {exc}")
    to_server, from_server = ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_context.wrap_bio(to_server, from_server, server_side=True)
    try:
        config = TLSConfiguration(trust_store=TrustStore.from_buffer(case.trusted_pem))
        client = backend.client_context(config).wrap_buffers(case.peer_name)
        finished, server_error = _shuttle(client, server, to_server, from_server)
    except CertificateError as exc:
        return CaseResult(case.id, "rejected", _describe(exc), str(exc.reason))
    except TLSError as exc:
        return CaseResult(case.id, "rejected", _describe(exc))
    except Exception as exc:
        text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return CaseResult(case.id, "crashed", text)
    assert finished
    note = f" (the reference server reported {server_error})" if server_error else ""
    return CaseResult(case.id, "accepted", "handshake completed" + note)


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


# -- running many cases, with faketime for the dated ones ----------------------------


def _faketime_stamp(when: datetime.datetime) -> str:
    utc = when.astimezone(datetime.timezone.utc)
    stamp = utc.strftime("%Y-%m-%d %H:%M:%S")
    if utc.microsecond:
        stamp += f".{utc.microsecond:06d}".rstrip("0")
    return stamp


def run_cases(
    backend: Backend,
    cases: Sequence[LimboCase],
    *,
    limbo_path: Path | None = None,
    faketime: str | None = None,
) -> dict[str, CaseResult]:
    """Results for ``cases``.

    Undated cases run in this process; dated ones in a child under faketime
    (one per instant); denial-of-service cases each in a child capped at
    ``CHILD_MEMORY_LIMIT`` bytes of address space, so that a library that
    blows up on them fails its case instead of the machine.
    """
    faketime = faketime if faketime is not None else (shutil.which("faketime") or "")
    results: dict[str, CaseResult] = {}
    children: dict[tuple[datetime.datetime | None, str], list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="tlsapi-limbo-") as directory:
        for case in cases:
            hostile = "denial-of-service" in case.features
            if case.validation_time is None and not hostile:
                results[case.id] = run_case(backend, case, Path(directory))
            else:
                group = case.id if hostile else ""
                children.setdefault((case.validation_time, group), []).append(case.id)
    for (when, _), ids in sorted(children.items(), key=lambda item: str(item[0])):
        if when is not None and not faketime:
            for case_id in ids:
                results[case_id] = CaseResult(
                    case_id, "not-run", f"needs the clock at {when.isoformat()}: faketime not found"
                )
            continue
        results.update(_run_in_child(backend.name, when, ids, limbo_path, faketime))
    return results


CHILD_MEMORY_LIMIT = 2 << 30


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_LIMIT, CHILD_MEMORY_LIMIT))


def _run_in_child(
    backend_name: str,
    when: datetime.datetime | None,
    ids: list[str],
    limbo_path: Path | None,
    faketime: str,
) -> dict[str, CaseResult]:
    """Run ``ids`` in ``python -m tlsapi.testing.limbo --json`` (at ``when``, memory capped)."""
    command = [
        sys.executable,
        "-X",
        "faulthandler",
        "-m",
        "tlsapi.testing.limbo",
        "--backend",
        backend_name,
        "--json",
    ]
    if when is not None:
        command = [faketime, "-f", _faketime_stamp(when), *command]
    if limbo_path is not None:
        command += ["--limbo", str(limbo_path)]
    for case_id in ids:
        command += ["--case", case_id]
    what = f"the child at {when.isoformat()}" if when else f"the memory-capped child for {ids[0]}"
    try:
        child = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=dict(os.environ, TZ="UTC"),
            timeout=_CHILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
            preexec_fn=_limit_memory if sys.platform != "win32" else None,
        )
    except subprocess.TimeoutExpired:
        detail = f"{what} did not finish in {_CHILD_TIMEOUT} s"
        return {case_id: CaseResult(case_id, "crashed", detail) for case_id in ids}
    if child.returncode != 0:
        how = (
            f"was killed by signal {-child.returncode}"
            if child.returncode < 0
            else f"failed (exit {child.returncode})"
        )
        detail = (
            f"{what} {how} (address space capped at {CHILD_MEMORY_LIMIT >> 20} MiB): "
            + " ".join(child.stderr.split())[-500:]
        )
        return {case_id: CaseResult(case_id, "crashed", detail) for case_id in ids}
    answers = [CaseResult.from_json(item) for item in json.loads(child.stdout)]
    return {answer.case_id: answer for answer in answers}


# -- the differences files --------------------------------------------------------


def read_differences(path: Path) -> dict[str, str]:
    """``<case id>  <one-line reason>`` per line; ``#`` comments and blank lines ignored."""
    differences: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        case_id, _, reason = text.partition(" ")
        if not reason.strip():
            raise ValueError(f"{path}:{number}: {case_id} has no reason after it")
        if case_id in differences:
            raise ValueError(f"{path}:{number}: {case_id} is listed twice")
        differences[case_id] = reason.strip()
    return differences


# -- library verifiers ----------------------------------------------------------------


class LibraryVerifier(Protocol):
    """A backend library's own stand-alone chain verifier (see the module docstring)."""

    name: str

    def unavailable_reason(self) -> str | None: ...

    def verify(self, case: LimboCase, workdir: Path) -> Verdict: ...


class OpenSSLVerifier:
    """``openssl verify`` as the ssl module's client uses OpenSSL.

    Purpose sslserver, the peer name as host (``-verify_hostname``) or IP
    address (``-verify_ip``), ``-attime`` for dated cases, the untrusted
    intermediates as ``-untrusted``, only the case's anchors as ``-CAfile``
    (``-no-CApath``/``-no-CAstore`` keep the system's out), default flags
    (no partial chains, no strict mode), as ssl.SSLContext has them.
    """

    name = "openssl verify"

    def __init__(self, program: str = "openssl") -> None:
        self._program = shutil.which(program)

    def unavailable_reason(self) -> str | None:
        return None if self._program else "the openssl program is not installed"

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        assert self._program is not None
        safe = _safe(case.id)
        command = [self._program, "verify", "-no-CApath", "-no-CAstore", "-purpose", "sslserver"]
        command += ["-CAfile", str(_write(workdir, f"{safe}.anchors.pem", case.trusted_pem))]
        if case.untrusted_intermediates:
            untrusted = "".join(case.untrusted_intermediates).encode()
            command += ["-untrusted", str(_write(workdir, f"{safe}.untrusted.pem", untrusted))]
        if case.peer_name_kind == "IP":
            command += ["-verify_ip", str(ipaddress.ip_address(case.peer_name or ""))]
        elif case.peer_name:
            command += ["-verify_hostname", case.peer_name]
        if case.validation_time is not None:
            command += ["-attime", str(int(case.validation_time.timestamp()))]
        command.append(str(_write(workdir, f"{safe}.leaf.pem", case.peer_certificate.encode())))
        child = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=60,
        )
        output = " ".join((child.stdout + " " + child.stderr).split())
        accepted = child.returncode == 0 and output.endswith(": OK")
        return Verdict(accepted, output[-300:])


def _at_case_time(case: LimboCase, command: list[str]) -> tuple[list[str], dict[str, str]]:
    """``command`` run with the clock frozen at the case's time (tools without -attime)."""
    if case.validation_time is None:
        return command, dict(os.environ)
    faketime = shutil.which("faketime")
    if faketime is None:
        raise FileNotFoundError("faketime is needed for a dated case")
    frozen = [faketime, "-f", _faketime_stamp(case.validation_time), *command]
    return frozen, dict(os.environ, TZ="UTC")


def _run_tool(command: list[str], environment: dict[str, str] | None = None) -> tuple[int, str]:
    child = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
        timeout=60, env=environment,
    )  # fmt: skip
    return child.returncode, " ".join((child.stdout + " " + child.stderr).split())


class CerttoolVerifier:
    """GnuTLS's ``certtool --verify``, as a GnuTLS client session verifies a server.

    The case's anchors as ``--load-ca-certificate``, the presented chain as
    ``--infile``, the peer name as ``--verify-hostname`` (GnuTLS compares an
    IP address given there with iPAddress SANs), purpose serverAuth, profile
    "low" (what the NORMAL priority string applies), and for a dated case
    the clock frozen by faketime (certtool has no option for the time).
    """

    name = "certtool --verify"

    def __init__(self, program: str = "certtool") -> None:
        self._program = shutil.which(program)

    def unavailable_reason(self) -> str | None:
        if not self._program:
            return "the certtool program (gnutls-bin) is not installed"
        return None

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        assert self._program is not None
        safe = _safe(case.id)
        command = [
            self._program, "--verify", "--verify-profile", "low",
            "--verify-purpose", "1.3.6.1.5.5.7.3.1",
            "--load-ca-certificate", str(_write(workdir, f"{safe}.anchors.pem", case.trusted_pem)),
            "--infile", str(_write(workdir, f"{safe}.chain.pem", case.chain_pem)),
        ]  # fmt: skip
        if case.peer_name:
            command += ["--verify-hostname", case.peer_name]
        try:
            command, environment = _at_case_time(case, command)
        except FileNotFoundError as exc:
            return Verdict(False, f"cannot run: {exc}")
        code, output = _run_tool(command, environment)
        verdicts = re.findall(r"Chain verification output: ([^.]*\.[^.]*\.)", output)
        if not verdicts:
            # certtool stopped before verifying (e.g. it cannot print an empty issuer DN).
            return Verdict(False, f"certtool gave no verdict: {output[-300:]}", conclusive=False)
        return Verdict(code == 0 and verdicts[-1].startswith("Verified."), verdicts[-1])


class VfychainVerifier:
    """NSS's ``vfychain -pp`` (CERT_PKIXVerifyCert), usage SSL server, the anchors as ``-t``.

    vfychain checks the chain and its usage but not the peer name (NSS does
    that separately, in CERT_VerifyCertName), so this verifier is more
    lenient than an NSS client on names: it can miss a name the backend
    should have rejected, never flag a correct rejection.  Dated cases run
    with the clock frozen by faketime (``-b`` has only minute resolution).
    """

    name = "vfychain -pp"

    def __init__(self, program: str = "vfychain") -> None:
        self._program = shutil.which(program)

    def unavailable_reason(self) -> str | None:
        if not self._program:
            return "the vfychain program (libnss3-tools) is not installed"
        return None

    def verify(self, case: LimboCase, workdir: Path) -> Verdict:
        assert self._program is not None
        safe = _safe(case.id)
        command = [self._program, "-pp", "-u", "1"]
        command += ["-a", str(_write(workdir, f"{safe}.leaf.pem", case.peer_certificate.encode()))]
        for index, pem in enumerate(case.untrusted_intermediates):
            command += ["-a", str(_write(workdir, f"{safe}.untrusted{index}.pem", pem.encode()))]
        for index, pem in enumerate(case.trusted_certs):
            command += ["-t", "-a", str(_write(workdir, f"{safe}.anchor{index}.pem", pem.encode()))]
        try:
            command, environment = _at_case_time(case, command)
        except FileNotFoundError as exc:
            return Verdict(False, f"cannot run: {exc}")
        code, output = _run_tool(command, environment)
        return Verdict(code == 0 and "Chain is good!" in output, output[-300:])


# Only the backend shipped with this distribution: the others come by entry point.
BUILTIN_VERIFIERS: dict[str, Callable[[], LibraryVerifier]] = {"stdlib": OpenSSLVerifier}
_REGISTERED: dict[str, Callable[[], LibraryVerifier]] = {}


def register_verifier(backend_name: str, factory: Callable[[], LibraryVerifier]) -> None:
    """Use ``factory()`` as the library verifier of ``backend_name`` (overrides the rest)."""
    _REGISTERED[backend_name] = factory


def verifier_for(backend_name: str) -> LibraryVerifier | None:
    """The library verifier for a backend: registered, entry point, built-in, or None."""
    factory = _REGISTERED.get(backend_name)
    if factory is None:
        for entry in entry_points(group=VERIFIER_ENTRY_POINT_GROUP):
            if entry.name == backend_name:
                factory = entry.load()
                break
    if factory is None:
        factory = BUILTIN_VERIFIERS.get(backend_name)
    return factory() if factory is not None else None


# -- command line: the faketime child, and a report for people -------------------------


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlsapi.testing.limbo",
        description="Run x509-limbo cases through a backend's client and print the verdicts.",
    )
    parser.add_argument("--backend", required=True, help="backend name, e.g. stdlib")
    parser.add_argument("--limbo", type=Path, help="path of limbo.json")
    parser.add_argument("--case", action="append", default=[], help="case id (repeatable)")
    parser.add_argument("--json", action="store_true", help="JSON out, this process's clock")
    args = parser.parse_args(argv)

    import tlsapi

    backend = tlsapi.backend(args.backend)
    cases, _ = select_cases(load_cases(args.limbo))
    if args.case:
        wanted = set(args.case)
        cases = [case for case in cases if case.id in wanted]
    if args.json:
        # The faketime child: every case on this process's (frozen) clock.
        with tempfile.TemporaryDirectory(prefix="tlsapi-limbo-") as directory:
            answers = [run_case(backend, case, Path(directory)).to_json() for case in cases]
        json.dump(answers, sys.stdout)
        return 0
    results = run_cases(backend, cases, limbo_path=args.limbo)
    for case in cases:
        result = results[case.id]
        verdict = "SUCCESS" if result.accepted else "FAILURE"
        mark = "" if verdict == case.expected or result.status == "not-run" else "  <-- differs"
        print(f"{case.id}  {result.status}  expected {case.expected}{mark}  {result.detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
