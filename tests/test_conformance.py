"""The conformance suite, run for every backend under test (see tests/conftest.py)."""

from tlsapi.testing.conformance import *  # noqa: F403
