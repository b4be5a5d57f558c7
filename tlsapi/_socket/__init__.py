"""TLSWrappedSocket: the stream-socket API over any TLSWrappedBuffer.

``_engine`` holds the I/O loops and the long explanation of the hard parts
(retries, timeouts, the pending-ciphertext rule, end of file, states,
threads); ``_facade`` is the socket API built on it.
"""

from ._facade import TLSWrappedSocket

__all__ = ["TLSWrappedSocket"]
