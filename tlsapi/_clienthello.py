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
client accepts that key's signatures.  The client random and every
extension's raw body (the first of each type) come along, so that a backend
needing more of the hello (NSS's: the random for a key log, the tickets and
versions offered) reads it once, here.

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
        *,
        random: bytes = b"",
        extensions: dict[int, bytes] | None = None,
    ) -> None:
        self.server_name = server_name
        self.alpn = alpn  # None: the client sent no ALPN extension
        # The suites the client offered, by IANA number, in its order (GREASE values
        # included): what the ssl adapter's shared_ciphers() intersects with the server's.
        self.cipher_suites = cipher_suites
        # The client's signature_algorithms (SignatureScheme numbers, in its order,
        # GREASE included); None: the client sent no such extension.
        self.signature_algorithms = signature_algorithms
        # The client random (32 bytes): what a key log names the connection by.
        self.random = random
        # Every extension's body by type, the first of each type (a backend reads what
        # its library does not report, e.g. a ticket offered); None: not read.
        self.extensions = extensions


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


# The parse works on bytes with index arithmetic, not a reader object: it runs on
# every server handshake, where a method call per field was most of its cost.
_PAST_END = "a length runs past the end"
_AFTER = "bytes after the list"
_HELLO = "the ClientHello"
# A record header (type, major version, minor skipped, length), then the 4-byte header
# of the message it starts (type, 3-byte length).
_record_and_message = struct.Struct(">BBxHI").unpack_from
# An extension's type and length (fewer than 4 bytes left: struct.error).
_extension_header = struct.Struct(">HH").unpack_from
# The extensions whose contents the server needs (the others are only kept).
_INTERPRETED = frozenset((_SERVER_NAME, _SIGNATURE_ALGORITHMS, _ALPN))


def _whole_list(payload: bytes, what: str) -> None:
    """An extension's body must be one vector with a 2-byte length, filling it exactly."""
    size = len(payload)
    if size < 2:
        raise HelloDecodeError(f"{what}: {_PAST_END}")
    end = 2 + (payload[0] << 8 | payload[1])
    if end > size:
        raise HelloDecodeError(f"{what}: {_PAST_END}")
    if end < size:
        raise HelloDecodeError(f"{what}: {_AFTER}")


def _server_name(payload: bytes) -> str | None:
    """RFC 6066 section 3: ``ServerName server_name_list<1..2^16-1>``, host names not empty."""
    what = "the server_name extension"
    _whole_list(payload, what)
    size = len(payload)
    if size == 2:
        raise HelloDecodeError(f"{what}: an empty list")
    if size > 5 and payload[2] == _HOST_NAME and 5 + (payload[3] << 8 | payload[4]) == size:
        # The usual list: one host name, filling it (the loop below would read the same).
        try:
            return payload[5:].decode("ascii").lower()
        except UnicodeDecodeError:
            raise MalformedHello("the server_name is not ASCII") from None
    found: str | None = None
    offset = 2
    while offset < size:
        # name_type (1), then the name with a 2-byte length
        start = offset + 3
        if start > size:
            raise HelloDecodeError(f"{what}: {_PAST_END}")
        end = start + (payload[offset + 1] << 8 | payload[offset + 2])
        if end > size:
            raise HelloDecodeError(f"{what}: {_PAST_END}")
        if payload[offset] == _HOST_NAME and found is None:
            # (the library judges unknown types and repeated names)
            if end == start:
                raise HelloDecodeError(f"{what}: an empty host name")
            try:
                found = payload[start:end].decode("ascii").lower()
            except UnicodeDecodeError:
                # Not ours to judge: the library reads the hello without a name from us.
                raise MalformedHello("the server_name is not ASCII") from None
        offset = end
    return found


def _alpn(payload: bytes) -> tuple[bytes, ...]:
    """RFC 7301 section 3.1: ``ProtocolName protocol_name_list<2..2^16-1>``, names 1..255."""
    what = "the ALPN extension"
    _whole_list(payload, what)
    size = len(payload)
    if size == 2:
        raise HelloDecodeError(f"{what}: an empty protocol list")
    result = []
    offset = 2
    while offset < size:
        start = offset + 1
        end = start + payload[offset]
        if end > size:
            raise HelloDecodeError(f"{what}: {_PAST_END}")
        if end == start:
            raise HelloDecodeError(f"{what}: an empty protocol name")
        result.append(payload[start:end])
        offset = end
    return tuple(result)


def _signature_algorithms(payload: bytes) -> tuple[int, ...]:
    """RFC 8446 section 4.2.3: ``SignatureScheme supported_signature_algorithms<2..2^16-2>``."""
    what = "the signature_algorithms extension"
    _whole_list(payload, what)
    size = len(payload) - 2
    if not size:
        raise HelloDecodeError(f"{what}: an empty list")
    if size % 2:
        raise HelloDecodeError(f"{what}: an odd length")
    return struct.unpack_from(f">{size // 2}H", payload, 2)


def _parse(body: bytes, with_extensions: bool = True) -> ClientHello:
    """The fields of a whole ClientHello message body that the server needs.

    Without ``with_extensions`` only the random and the cipher suites are read
    (server_name, ALPN, signature_algorithms and extensions are then None, and
    the extensions are not looked at).
    """
    size = len(body)
    # legacy_version (2), random (32), legacy_session_id<0..32> (1-byte length)
    if size < 35:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    offset = 35 + body[34]
    # cipher_suites (2-byte length)
    start = offset + 2
    if start > size:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    offset = start + (body[offset] << 8 | body[offset + 1])
    if offset > size:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    # Two bytes each; an odd last byte is the library's to judge.
    offered: tuple[int, ...] = struct.unpack_from(f">{(offset - start) // 2}H", body, start)
    random = body[2:34]
    if not with_extensions:
        return ClientHello(None, None, offered, random=random)
    # legacy_compression_methods (1-byte length)
    if offset >= size:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    offset += 1 + body[offset]
    if offset > size:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    extensions: dict[int, bytes] = {}
    if offset == size:
        return ClientHello(None, None, offered, random=random, extensions=extensions)  # none at all
    # extensions (2-byte length): they must fill the rest of the body
    if offset + 2 > size or offset + 2 + (body[offset] << 8 | body[offset + 1]) > size:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    if offset + 2 + (body[offset] << 8 | body[offset + 1]) < size:
        raise MalformedHello(f"{_HELLO}: {_AFTER}")
    offset += 2
    name: str | None = None
    alpn: tuple[bytes, ...] | None = None
    signatures: tuple[int, ...] | None = None
    keep = extensions.setdefault
    try:
        while offset < size:
            kind, length = _extension_header(body, offset)
            offset += 4 + length
            keep(kind, body[offset - length : offset])
            if kind in _INTERPRETED:
                if offset > size:
                    break  # refused below, as every extension that runs past the end
                # (a repeated one is judged too, and the last one counts)
                payload = body[offset - length : offset]
                if kind == _SERVER_NAME:
                    name = _server_name(payload)
                elif kind == _ALPN:
                    alpn = _alpn(payload)
                else:
                    signatures = _signature_algorithms(payload)
    except struct.error:
        offset = size + 1  # fewer than 4 bytes for an extension's header
    if offset > size:
        raise MalformedHello(f"{_HELLO}: {_PAST_END}")
    return ClientHello(name, alpn, offered, signatures, random=random, extensions=extensions)


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
            if self._received or self._header or not self._whole_in(data):
                self._take(data)
        except MalformedHello as exc:
            self._done, self._failure = True, exc
            self._message = bytearray()  # nothing more to keep

    def result(self) -> ClientHello | None:
        if self._failure is not None:
            raise self._failure
        return self._hello

    def _whole_in(self, data: bytes | memoryview) -> bool:
        """The common case, nothing gathered yet: the whole hello in the first record
        of ``data``.  Then it is parsed from ``data`` at once (True); otherwise
        (False) ``_take`` reads it, and judges every header that is not plainly fine."""
        if len(data) < _HEADER + 4:
            return False
        kind, major, record, message = _record_and_message(data)
        end = _HEADER + 4 + (message & 0xFFFFFF)
        if (
            kind != _HANDSHAKE
            or major != 3
            or message >> 24 != _CLIENT_HELLO
            or record > _MAX_RECORD
            or end - _HEADER > record
            or end > len(data)
        ):
            return False
        self._done = True
        self._hello = _parse(bytes(data[_HEADER + 4 : end]), self._extensions)
        return True

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
        self._hello = _parse(bytes(memoryview(message)[4:]), self._extensions)
        self._message = bytearray()  # parsed: keep nothing


def read_client_hello(data: bytes) -> ClientHello | None:
    """The hello at the start of ``data``, None while incomplete; MalformedHello if not one."""
    reader = HelloReader()
    reader.feed(data)
    return reader.result()
