"""TLSSession: a client's resumable session, bound to the context and name that made it.

A session is offered again only through the context that made it and only to
the same server name (``ClientContext.wrap_buffers(name, session=...)``), so a
resumed handshake never skips a validation that a full handshake with that
context would have done: another trust store, another name or another
backend never sees it.  The state inside is the backend's own (session data,
a resumption token, an ``ssl.SSLSession``); it stays in this process (a
session cannot be pickled: it holds the session's secrets).
"""

from __future__ import annotations

from typing import NoReturn

__all__ = ["TLSSession"]


class TLSSession:
    """A session a client may resume: from ``TLSWrappedBuffer.session`` after a handshake.

    With TLS 1.3 the server sends its tickets after the handshake: read from
    the connection (or let a read return) before taking its ``session``.
    """

    __slots__ = ("_owner", "_server_hostname", "_state")

    def __init__(self, owner: object, server_hostname: str | None, state: object) -> None:
        self._owner = owner
        self._server_hostname = server_hostname
        self._state = state

    @property
    def server_hostname(self) -> str | None:
        """The server name this session may be offered to (the only one)."""
        return self._server_hostname

    def _state_for(self, owner: object, server_hostname: str | None) -> object:
        """The backend's state, when offered by ``owner`` to ``server_hostname``; else ValueError."""
        if owner is not self._owner:
            raise ValueError(
                "this session was made by another ClientContext: a session is resumed only "
                "through the context that made it (its trust settings decided the first "
                "handshake)"
            )
        if server_hostname != self._server_hostname:
            raise ValueError(
                f"this session is for server name {self._server_hostname!r}, not "
                f"{server_hostname!r}: a session is never offered to another server"
            )
        return self._state

    def __reduce__(self) -> NoReturn:
        raise TypeError("a TLSSession holds session secrets and stays in its process")

    def __repr__(self) -> str:
        return f"<TLSSession for {self._server_hostname!r}>"
