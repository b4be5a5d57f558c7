"""The conformance kit: what any tlsapi backend is tested with.

- :mod:`tlsapi.testing.pki`: a throwaway PKI (root, intermediate, leaves with
  chosen names, IPs, validity, key type, EKU).
- :mod:`tlsapi.testing.pump`: helpers that drive two TLSWrappedBuffers against
  each other in memory (whole or 1-byte-at-a-time delivery).
- :mod:`tlsapi.testing.conformance`: the test suite every backend must pass
  unchanged; see its docstring for running it against a third-party backend.

This package needs the ``test`` extra (``cryptography``, ``pytest``).
"""

from .pki import PKI, Identity, IdentityFiles, KeyType
from .pump import (
    PumpStalled,
    close,
    handshake,
    handshake_outcome,
    pump,
    read_available,
    transfer,
)

__all__ = [
    "PKI",
    "Identity",
    "IdentityFiles",
    "KeyType",
    "PumpStalled",
    "close",
    "handshake",
    "handshake_outcome",
    "pump",
    "read_available",
    "transfer",
]
