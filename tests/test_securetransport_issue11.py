"""Issue 11 on Secure Transport, checked on any system: what it refuses and why.

Secure Transport writes no key log, serves one identity per server and
cannot resume sessions through tlsapi (see ``_settings.NO_RESUMPTION``):
the configuration checks (pure Python) refuse the first two with a
ConfigurationError that says what to do, the capabilities claim none of the
three, and the buffer gives each connection its own peer ID so that Secure
Transport's process-wide cache resumes nothing behind the API's back.  The
buffer itself needs the framework: the last test reads its source for the
peer ID and the refusal, which the macOS job then runs for real.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

import tlsapi
from tlsapi import Capability, ConfigurationError, TLSConfiguration
from tlsapi.testing import PKI, KeyType

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "backends" / "securetransport" / "src"


@pytest.fixture(scope="module")
def settings() -> ModuleType:
    try:
        return importlib.import_module("tlsapi_securetransport._settings")
    except ImportError:
        sys.path.insert(0, str(SOURCE))
        return importlib.import_module("tlsapi_securetransport._settings")


@pytest.fixture(scope="module")
def chains() -> tuple[tlsapi.TLSConfiguration, ...]:
    rsa = PKI(KeyType.RSA_2048).server_identity.certificate_chain()
    ecdsa = PKI(KeyType.ECDSA_P256).server_identity.certificate_chain()
    return (
        TLSConfiguration(certificate_chain=rsa),
        TLSConfiguration(certificate_chain=(rsa, ecdsa)),
    )


def test_no_capability_of_issue_11_is_claimed(settings: ModuleType) -> None:
    for capability in (
        Capability.KEY_LOG,
        Capability.SESSION_RESUMPTION,
        Capability.SEVERAL_CERTIFICATE_CHAINS,
        Capability.SIGNATURE_SCHEME,
        Capability.CERTIFICATE_REQUESTED,
    ):
        assert capability not in settings.CAPABILITIES, capability
    for words in ("no key log", "one certificate chain per server", "no session resumption"):
        assert words in settings.LIMITATIONS


@pytest.mark.parametrize("server", [False, True], ids=["client", "server"])
def test_a_key_log_is_refused(
    settings: ModuleType,
    chains: tuple[tlsapi.TLSConfiguration, ...],
    tmp_path: Path,
    server: bool,
) -> None:
    base = chains[0] if server else TLSConfiguration()
    config = base.update(keylog_filename=str(tmp_path / "keys.log"))
    with pytest.raises(ConfigurationError, match="cannot write a key log") as caught:
        settings.check_configuration(config, server=server)
    assert "keylog_filename at None" in str(caught.value)
    settings.check_configuration(base, server=server)  # the rest of it is fine


def test_several_chains_are_refused_one_is_taken(
    settings: ModuleType, chains: tuple[tlsapi.TLSConfiguration, ...]
) -> None:
    one, two = chains
    settings.check_configuration(one, server=True)
    with pytest.raises(ConfigurationError, match="serves one certificate chain") as caught:
        settings.check_configuration(two, server=True)
    assert "SEVERAL_CERTIFICATE_CHAINS" in str(caught.value)


def test_the_refusal_of_a_session_says_why(settings: ModuleType) -> None:
    reason = settings.NO_RESUMPTION
    assert "cannot resume sessions" in reason
    assert "SSLGetResumableSessionInfo" in reason and "private SPI" in reason
    assert "process-wide cache" in reason


def _method(tree: ast.Module, cls: str, name: str) -> ast.FunctionDef:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == name:
                    return item
    raise AssertionError(f"{cls}.{name} is missing")


def test_the_buffer_refuses_sessions_and_never_shares_a_peer_id() -> None:
    # Read, not run (the module needs the Security framework): the macOS job
    # runs it; here the source must say what the tests above rely on.
    path = SOURCE / "tlsapi_securetransport" / "_buffer.py"
    tree = ast.parse(path.read_text("utf-8"))
    offer = _method(tree, "SecureTransportBuffer", "_offer_session")
    raised = [n for n in ast.walk(offer) if isinstance(n, ast.Raise)]
    assert len(raised) == 1 and "NO_RESUMPTION" in ast.unparse(raised[0])
    client = ast.unparse(_method(tree, "SecureTransportBuffer", "_configure_client"))
    assert "os.urandom(16)" in client and "SSLSetPeerID" in client
