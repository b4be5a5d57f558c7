"""The conformance suite: the tests every tlsapi backend must pass unchanged.

Run it against a backend by star-importing it into a test module and giving
pytest a ``backend`` fixture that returns your :class:`tlsapi.Backend`::

    # test_my_backend.py
    import pytest
    import tlsapi
    from tlsapi.testing.conformance import *  # noqa: F403  (test classes + fixtures)

    @pytest.fixture
    def backend() -> tlsapi.Backend:
        return tlsapi.backend("mine")

then ``pytest test_my_backend.py``.  Needs ``pytest``, ``hypothesis`` and
``cryptography`` (the ``tlsapi[test]`` extra).  Configure pytest to turn
``tlsapi.InsecureConfigurationWarning`` into an error, as tlsapi's own suite
does: the tests expect every such warning explicitly.

The suite runs your backend against itself: client and server both yours.
Where the backend lacks a role (``Capability.CLIENT``/``SERVER``) the stdlib
backend plays it.  Where it lacks a capability, the tests check that asking
for it is a ConfigurationError, as the contract requires, instead of the
feature.  The fixtures ``pki``, ``rsa_pki``, ``other_pki`` (a fresh PKI per
module), ``peers``, ``loopback_tcp``, ``tls_pair`` and ``socket_path`` come with the
star import.
"""

import pytest

_MODULES = (
    "_support",
    "fixtures",
    "alerts",
    "alpn",
    "chains",
    "ciphers",
    "errors",
    "groups",
    "handshake",
    "handshake_details",
    "hostile",
    "keylog",
    "keys",
    "linear",
    "malformed",
    "memory",
    "mistakes",
    "mutual",
    "policy",
    "resumption",
    "semantics",
    "sni",
    "sockets",
    "sockets_blocking",
    "sockets_closing",
    "sockets_interop",
    "sockets_nonblocking",
    "threads",
    "transfer",
    "validation",
)
# Plain asserts in these modules must report their values as test modules'
# do; registering must happen before they are imported.
pytest.register_assert_rewrite(*(f"{__name__}.{name}" for name in _MODULES))

from .alerts import TestAlertsAfterHandshake  # noqa: E402
from .alpn import TestALPN  # noqa: E402
from .chains import TestSeveralChains  # noqa: E402
from .ciphers import TestCiphers  # noqa: E402
from .errors import TestBadInput  # noqa: E402
from .fixtures import other_pki, peers, pki, rsa_pki  # noqa: E402
from .groups import TestKeyExchangeGroups  # noqa: E402
from .handshake import TestHandshake, TestVersions  # noqa: E402
from .handshake_details import TestHandshakeDetails  # noqa: E402
from .hostile import TestHostileServerName, TestPasswordRules, TestReadSize, unraisable  # noqa: E402
from .keylog import TestKeyLog  # noqa: E402
from .keys import TestPrivateKeys, key_pkis  # noqa: E402
from .linear import TestLinearTime, linear_time_backends  # noqa: E402
from .malformed import TestMalformedHello  # noqa: E402
from .memory import TestMemory  # noqa: E402
from .mistakes import TestMistakes  # noqa: E402
from .mutual import TestMutualTLS  # noqa: E402
from .policy import TestVerificationPolicy  # noqa: E402
from .resumption import TestSessionResumption  # noqa: E402
from .semantics import TestBufferSemantics, TestShutdown  # noqa: E402
from .sni import TestSNI  # noqa: E402
from .sockets import TestSocket, loopback_tcp, socket_path, tls_pair  # noqa: E402
from .sockets_blocking import TestSocketBlocking, TestSocketTimeouts  # noqa: E402
from .sockets_closing import TestSocketClosing  # noqa: E402
from .sockets_interop import TestSocketInterop  # noqa: E402
from .sockets_nonblocking import TestSocketNonBlocking  # noqa: E402
from .threads import TestReentry, TestThreads  # noqa: E402
from .transfer import TestTransfer  # noqa: E402
from .validation import TestHostnames, TestInsecureMode, TestValidation  # noqa: E402

__all__ = [
    "TestALPN",
    "TestAlertsAfterHandshake",
    "TestBadInput",
    "TestBufferSemantics",
    "TestCiphers",
    "TestHandshake",
    "TestHandshakeDetails",
    "TestHostileServerName",
    "TestHostnames",
    "TestInsecureMode",
    "TestKeyExchangeGroups",
    "TestKeyLog",
    "TestLinearTime",
    "TestMalformedHello",
    "TestMemory",
    "TestMistakes",
    "TestMutualTLS",
    "TestPasswordRules",
    "TestPrivateKeys",
    "TestReadSize",
    "TestReentry",
    "TestSNI",
    "TestSessionResumption",
    "TestSeveralChains",
    "TestShutdown",
    "TestSocket",
    "TestSocketBlocking",
    "TestSocketClosing",
    "TestSocketInterop",
    "TestSocketNonBlocking",
    "TestSocketTimeouts",
    "TestThreads",
    "TestTransfer",
    "TestValidation",
    "TestVerificationPolicy",
    "TestVersions",
    "key_pkis",
    "linear_time_backends",
    "loopback_tcp",
    "other_pki",
    "peers",
    "pki",
    "rsa_pki",
    "socket_path",
    "tls_pair",
    "unraisable",
]
