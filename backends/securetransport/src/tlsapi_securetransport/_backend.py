"""The Backend this distribution publishes (macOS only: it needs the compiled module)."""

from __future__ import annotations

from tlsapi import Backend

from . import _binding

__all__ = ["make_backend"]


def make_backend() -> Backend:
    # The contexts are not written yet (issue 13): say so rather than publish a backend
    # that cannot make a connection.
    assert _binding.lib is not None  # the framework loaded; what is missing is ours
    raise ImportError("tlsapi-securetransport has no contexts yet (issue 13)")
