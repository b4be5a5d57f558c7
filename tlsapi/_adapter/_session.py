"""The adapter's session: a ``tlsapi.TLSSession`` that also knows its ``SSLContext``.

``ssl.SSLSession`` cannot be constructed outside ``_ssl``, so ``sock.session``
and ``sslobj.session`` give this instead; code that passes it back in
(``wrap_socket(..., session=s)``, ``wrap_bio(..., session=s)``, ``sock.session
= s``) gets ssl's checks, in ssl's order and with ssl's exception types:

* not a session (None included, for the setter): TypeError;
* made by another SSLContext (or an ``ssl.SSLSession``, or a TLSSession of
  the native API): ValueError "Session refers to a different SSLContext.";
* given to a server-side connection, or after the handshake: ValueError.

Then tlsapi's own rule applies: a session is offered only through the tlsapi
context that made it and only to the same server name.  Where ssl would offer
it anyway (the SSLContext's settings changed since, so the adapter made a new
tlsapi context; another ``server_hostname``) the adapter does not offer it:
the connection makes a full handshake and ``session_reused`` is False, as
when a server declines a session.  A resumption never skips a check that the
context's current settings would make.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

from .._session import TLSSession

if TYPE_CHECKING:
    from .._buffer import TLSWrappedBuffer

__all__ = ["AdapterSession", "check_session", "offer_session"]


class AdapterSession(TLSSession):
    """A TLSSession made through a ``tlsapi.SSLContext`` (what ``sock.session`` gives)."""

    __slots__ = ("_ssl_context_token",)

    def __init__(self, session: TLSSession, ssl_context_token: object) -> None:
        super().__init__(session._owner, session.server_hostname, session._state)
        self._ssl_context_token = ssl_context_token


def check_session(session: object, ssl_context_token: object, server_side: bool) -> AdapterSession:
    """ssl's checks on a session given to a connection (see the module docstring)."""
    if not isinstance(session, AdapterSession):
        if isinstance(session, (ssl.SSLSession, TLSSession)):
            raise ValueError(
                "Session refers to a different SSLContext. (a tlsapi.SSLContext resumes only "
                "the sessions of its own connections: pass the session of an earlier "
                "connection's sock.session made with this context)"
            )
        raise TypeError(
            f"Value is not a SSLSession. (a session is an earlier connection's sock.session, "
            f"not {type(session).__name__})"
        )
    if session._ssl_context_token is not ssl_context_token:
        raise ValueError(
            "Session refers to a different SSLContext. (a session is resumed only through "
            "the context whose connection made it)"
        )
    if server_side:
        raise ValueError("Cannot set session for server-side SSLSocket.")
    return session


def offer_session(buffer: TLSWrappedBuffer, session: AdapterSession) -> bool:
    """Offer ``session`` on a client buffer whose handshake has not begun.

    False (nothing offered: a full handshake follows) when the session is not
    this buffer's tlsapi context's, or is for another server name.
    """
    owner = getattr(buffer.context, "_session_owner", None)
    try:
        state = session._state_for(owner, buffer.server_hostname)
    except ValueError:
        return False
    with buffer._exclusive():
        buffer._offer_session(state)
    return True
