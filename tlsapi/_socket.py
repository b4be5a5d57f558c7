"""PLACEHOLDER: TLSWrappedSocket is being written (see the socket work item)."""

from __future__ import annotations


class TLSWrappedSocket:
    pass
