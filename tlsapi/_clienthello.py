"""Reading the server_name, ALPN, signature algorithms and cipher suites out of a ClientHello first.

A server's ``sni_callback`` may hand back a configuration with another
certificate, trust store or ALPN list, so it must run before the library
commits to one.  Some libraries give no hook early enough: NSS calls its SNI
hook only after it has chosen the ALPN protocol (and not at all when the
client sent no name), SChannel has no SNI hook and takes its credentials
when the server's context is created.  Their backends read the hello
themselves with this module, then make the connection from the chosen
configuration.  NSS's backend reads the ALPN list for a second reason: NSS
answers a client whose protocols it shares none of with a fatal
no_application_protocol alert, where tlsapi (like OpenSSL) goes on without
ALPN.  The cipher suites the client offered are kept too: no library we bind
reports them, and the ssl adapter's ``shared_ciphers()`` needs them.  The
signature_algorithms list lets a server with several certificate chains
offer the library only those whose key the client can verify: NSS picks a
TLS 1.2 cipher suite by the certificates it has, without asking whether the
client accepts that key's signatures.

The reader is incremental, because a client may send its hello one byte at
a time: ``HelloReader.feed`` looks at each received byte once, keeps only
the record header in progress and the handshake message gathered so far
(both bounded), and parses the hello once, when it is whole.  The raw bytes
stay queued for the library, which reads them afterwards.

Bytes that cannot start a TLS record at all (an HTTP request, an SSH
banner) never get here: tlsapi's core refuses them for every backend
(NotTLSError), where a library may take their bytes 3-4 as a record
length and wait for more.  Other bytes that are not a ClientHello
are left to the library to reject (MalformedHello).  What this module parses itself it also judges
(HelloDecodeError: the caller answers with a fatal decode_error alert, as
RFC 8446 section 6 asks of anything that does not parse): a server_name or
ALPN extension that breaks RFC 6066 / RFC 7301 (an empty list, an empty
name, lengths that do not add up), a signature_algorithms extension that
breaks RFC 8446 section 4.2.3 / RFC 5246 section 7.4.1.4.1 (an empty list, an
odd length, lengths that do not add up), and a hello beyond our size limit.
"""

from __future__ import annotations

import struct

from ._errors import TLSError

__all__ = [
    "ClientHello",
    "HelloDecodeError",
    "HelloReader",
    "MalformedHello",
    "read_client_hello",
]

_HANDSHAKE = 22
_CLIENT_HELLO = 1
_SERVER_NAME = 0
_SIGNATURE_ALGORITHMS = 13
_ALPN = 16
_HOST_NAME = 0
_HEADER = 5
# A record's body: 2^14 plaintext bytes plus what TLS 1.2 allows for expansion.
_MAX_RECORD = 16384 + 2048
# A ClientHello larger than this (with its 4-byte header) is not one we will wait for
# (NSS's own limit is 128 KiB - 1 for the body).
_MAX_HELLO = 1 << 17
# Nor one spread over more record bytes than this: each record costs 5 header bytes,
# so a hello in tiny records would otherwise keep up to six times its size queued.
_MAX_RECEIVED = 2 * _MAX_HELLO


class ClientHello:
    """What the server needs to know before the library reads the hello."""

    def __init__(
        self,
        server_name: str | None,
        alpn: tuple[bytes, ...] | None,
        cipher_suites: tuple[int, ...] = (),
        signature_algorithms: tuple[int, ...] | None = None,
    ) -> None:
        self.server_name = server_name
        self.alpn = alpn  # None: the client sent no ALPN extension
        # The suites the client offered, by IANA number, in its order (GREASE values
        # included): what the ssl adapter's shared_ciphers() intersects with the server's.
        self.cipher_suites = cipher_suites
        # The client's signature_algorithms (SignatureScheme numbers, in its order,
        # GREASE included); None: the client sent no such extension.
        self.signature_algorithms = signature_algorithms


class MalformedHello(ValueError):
    """The bytes are not the start of a TLS ClientHello."""


class HelloDecodeError(MalformedHello):
    """A ClientHello the server must refuse itself, with a fatal decode_error alert."""

    # The alert that refuses it: decode_error (RFC 8446 section 6.2).
    alert = 50

    def tls_error(self) -> TLSError:
        """The TLSError a server's handshake raises for this hello (caused by it)."""
        error = TLSError(f"the client's hello is malformed: {self}")
        error.__cause__ = self
        return error


class _Reader:
    """Reads TLS vectors from a memoryview; a length past the end is ``error``."""

    def __init__(self, data: memoryview, error: type[MalformedHello], what: str) -> None:
        self.data = data
        self.offset = 0
        self.error = error
        self.what = what

    def left(self) -> int:
        return len(self.data) - self.offset

    def take(self, count: int) -> memoryview:
        end = self.offset + count
        if end > len(self.data):
            raise self.error(f"{self.what}: a length runs past the end")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def number(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, size: int) -> memoryview:
        return self.take(self.number(size))

    def whole_vector(self, size: int) -> _Reader:
        """A vector that must fill all that is left (an extension's body)."""
        inner = self.vector(size)
        if self.left():
            raise self.error(f"{self.what}: bytes after the list")
        return _Reader(inner, self.error, self.what)


def _server_name(payload: memoryview) -> str | None:
    """RFC 6066 section 3: ``ServerName server_name_list<1..2^16-1>``, host names not empty."""
    what = "the server_name extension"
    names = _Reader(payload, HelloDecodeError, what).whole_vector(2)
    if not names.left():
        raise HelloDecodeError(f"{what}: an empty list")
    found: str | None = None
    while names.left():
        name_type = names.number(1)
        name = names.vector(2)
        if name_type != _HOST_NAME or found is not None:
            continue  # the library judges unknown types and repeated names
        if not name:
            raise HelloDecodeError(f"{what}: an empty host name")
        try:
            found = bytes(name).decode("ascii").lower()
        except UnicodeDecodeError:
            # Not ours to judge: the library reads the hello without a name from us.
            raise MalformedHello("the server_name is not ASCII") from None
    return found


def _alpn(payload: memoryview) -> tuple[bytes, ...]:
    """RFC 7301 section 3.1: ``ProtocolName protocol_name_list<2..2^16-1>``, names 1..255."""
    what = "the ALPN extension"
    protocols = _Reader(payload, HelloDecodeError, what).whole_vector(2)
    if not protocols.left():
        raise HelloDecodeError(f"{what}: an empty protocol list")
    result = []
    while protocols.left():
        name = protocols.vector(1)
        if not name:
            raise HelloDecodeError(f"{what}: an empty protocol name")
        result.append(bytes(name))
    return tuple(result)


def _signature_algorithms(payload: memoryview) -> tuple[int, ...]:
    """RFC 8446 section 4.2.3: ``SignatureScheme supported_signature_algorithms<2..2^16-2>``."""
    what = "the signature_algorithms extension"
    schemes = _Reader(payload, HelloDecodeError, what).whole_vector(2).data
    if not schemes:
        raise HelloDecodeError(f"{what}: an empty list")
    if len(schemes) % 2:
        raise HelloDecodeError(f"{what}: an odd length")
    return struct.unpack(f">{len(schemes) // 2}H", schemes)


def _parse(body: memoryview, with_extensions: bool = True) -> ClientHello:
    """The fields of a whole ClientHello message body that the server needs.

    Without ``with_extensions`` only the cipher suites are read (server_name, ALPN
    and signature_algorithms are then None, and the extensions are not looked at).
    """
    reader = _Reader(body, MalformedHello, "the ClientHello")
    reader.take(2 + 32)  # legacy_version, random
    reader.vector(1)  # legacy_session_id
    suites = reader.vector(2)
    # Two bytes each; an odd last byte is the library's to judge.
    count = len(suites) // 2
    offered: tuple[int, ...] = struct.unpack(f">{count}H", suites[: 2 * count])
    if not with_extensions:
        return ClientHello(None, None, offered)
    reader.vector(1)  # legacy_compression_methods
    if not reader.left():
        return ClientHello(None, None, offered)  # no extensions at all
    extensions = reader.whole_vector(2)
    name: str | None = None
    alpn: tuple[bytes, ...] | None = None
    signatures: tuple[int, ...] | None = None
    while extensions.left():
        kind = extensions.number(2)
        payload = extensions.vector(2)
        if kind == _SERVER_NAME:
            name = _server_name(payload)
        elif kind == _ALPN:
            alpn = _alpn(payload)
        elif kind == _SIGNATURE_ALGORITHMS:
            signatures = _signature_algorithms(payload)
    return ClientHello(name, alpn, offered, signatures)


class HelloReader:
    """The ClientHello at the start of a connection, read as its bytes arrive.

    ``feed`` each received chunk in order; ``result()`` is the hello once it
    is whole, None before, and raises the MalformedHello met, if any.  Bytes
    after the hello are not looked at.  ``extensions=False``: a server that
    only wants the offered cipher suites skips the extensions' parse.
    """

    __slots__ = (
        "_done",
        "_extensions",
        "_failure",
        "_header",
        "_hello",
        "_message",
        "_received",
        "_record_left",
        "_wanted",
    )

    def __init__(self, *, extensions: bool = True) -> None:
        # False: only the cipher suites are wanted (the extensions' fields stay None).
        self._extensions = extensions
        self._header = bytearray()  # the record header in progress (under 5 bytes)
        self._record_left = 0  # body bytes of the current record still to come
        self._message = bytearray()  # the handshake message gathered so far
        self._wanted = 4  # message bytes to gather before the next look: header, then all
        self._received = 0  # bytes of the records begun so far
        self._done = False
        self._hello: ClientHello | None = None
        self._failure: MalformedHello | None = None

    def feed(self, data: bytes | memoryview) -> None:
        if self._done:
            return
        try:
            self._take(data)
        except MalformedHello as exc:
            self._done, self._failure = True, exc
            self._message = bytearray()  # nothing more to keep

    def result(self) -> ClientHello | None:
        if self._failure is not None:
            raise self._failure
        return self._hello

    def _take(self, data: bytes | memoryview) -> None:
        size = len(data)
        position = 0
        while position < size and not self._done:
            if not self._record_left:
                position = self._take_header(data, position)
                continue
            message = self._message
            count = min(self._record_left, size - position, self._wanted - len(message))
            message += data[position : position + count]
            position += count
            self._record_left -= count
            if len(message) == self._wanted:
                self._message_grew()

    def _take_header(self, data: bytes | memoryview, position: int) -> int:
        header = self._header
        count = min(_HEADER - len(header), len(data) - position)
        header += data[position : position + count]
        if len(header) == _HEADER:
            length = int.from_bytes(header[3:5], "big")
            if header[0] != _HANDSHAKE or header[1] != 3 or not 0 < length <= _MAX_RECORD:
                raise MalformedHello("not a TLS handshake record")
            self._received += _HEADER + length
            if self._received > _MAX_RECEIVED:
                raise HelloDecodeError(
                    f"the ClientHello is spread over more than {_MAX_RECEIVED} bytes of records"
                )
            self._record_left = length
            header.clear()
        return position + count

    def _message_grew(self) -> None:
        message = self._message
        if self._wanted == 4:
            if message[0] != _CLIENT_HELLO:
                raise MalformedHello("the first handshake message is not a ClientHello")
            self._wanted = 4 + int.from_bytes(message[1:4], "big")
            if self._wanted > _MAX_HELLO:
                raise HelloDecodeError(
                    f"the ClientHello has {self._wanted} bytes; at most {_MAX_HELLO} are accepted"
                )
            if self._wanted > 4:
                return
        self._done = True
        self._hello = _parse(memoryview(message)[4:], self._extensions)
        self._message = bytearray()  # parsed: keep nothing


def read_client_hello(data: bytes) -> ClientHello | None:
    """The hello at the start of ``data``, None while incomplete; MalformedHello if not one."""
    reader = HelloReader()
    reader.feed(data)
    return reader.result()
