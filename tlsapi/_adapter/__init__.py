"""The ssl-compatible adapter: tlsapi behind ``ssl.SSLContext``'s interface.

``SSLContext`` is an ``ssl.SSLContext`` subclass (so asyncio, trio, httpx,
urllib3 and aiohttp accept it); ``wrap_bio`` gives an ``ssl.SSLObject``,
``wrap_socket`` an ``ssl.SSLSocket``, both over a tlsapi backend.
``inject_into_ssl()`` makes every context in the process one of these.
"""

from ._context import SSLContext
from ._inject import extract_from_ssl, inject_into_ssl
from ._object import SSLObject
from ._socket import SSLSocket

SSLContext.sslobject_class = SSLObject
SSLContext.sslsocket_class = SSLSocket

__all__ = ["SSLContext", "SSLObject", "SSLSocket", "extract_from_ssl", "inject_into_ssl"]
