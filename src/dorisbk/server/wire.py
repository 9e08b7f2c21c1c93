"""The MySQL wire as a client may abuse it: framing bounded in length and time, and parsers of our own.

mysql-mimic's compiled reader loops forever on a string that lacks its NUL, takes a short read for a
whole packet header, has no size cap, no timeouts, and frames a result row of 16 MiB or more with a
corrupt header. Every byte a client sends is read here instead: :class:`PacketStream` frames and
bounds, the ``parse_*`` functions read only inside the packet they are given, and every failure is a
:class:`WireError` carrying the MySQL error a client gets.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mysql_mimic import packets
from mysql_mimic.charset import CharacterSet, Collation
from mysql_mimic.errors import ErrorCode, MysqlError
from mysql_mimic.results import ResultColumn
from mysql_mimic.stream import ConnectionClosed, MysqlStream
from mysql_mimic.types import Capabilities
from mysql_mimic.utils import seq

log = logging.getLogger(__name__)

MAX_FRAME = 0xFFFFFF  # a frame's payload; a payload this long continues in the next frame
MAX_COMMAND = 64 * 1024 * 1024  # MySQL 8's max_allowed_packet default, for a whole (multi-frame) command
MAX_LOGIN_PACKET = 1024 * 1024  # what a client may send before it has logged in
NET_READ_TIMEOUT = 30.0  # MySQL's net_read_timeout: the rest of a packet once it has begun
NET_WRITE_TIMEOUT = 60.0  # MySQL's net_write_timeout: a client that does not read its results


class WireError(MysqlError):
    """A packet the server refuses. ``fatal`` when the connection cannot go on: framing is lost or
    the login state is unknown; the client gets the error, then the connection closes."""

    def __init__(self, msg: str, code: int, fatal: bool = False) -> None:
        super().__init__(msg, code)  # type: ignore[arg-type]
        self.fatal = fatal


class IdleTimeout(Exception):
    """No command arrived within the session's ``wait_timeout``."""


class _Defect(Exception):
    """A packet that breaks the protocol: a field past its end, a missing NUL, an impossible value."""


def bad_handshake() -> WireError:
    return WireError("Bad handshake", ErrorCode.HANDSHAKE_ERROR, fatal=True)


def malformed(fatal: bool = False) -> WireError:
    return WireError("Malformed communication packet.", ErrorCode.MALFORMED_PACKET, fatal=fatal)


def too_large() -> WireError:
    return WireError("Got a packet bigger than 'max_allowed_packet' bytes", 1153, fatal=True)


# ---------------------------------------------------------------------- parsing


class PacketReader:
    """A cursor over one payload: a field that does not fit raises, so no read can pass the end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def fixed(self, size: int) -> bytes:
        end = self.pos + size
        if size < 0 or end > len(self.data):
            raise _Defect
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.fixed(size), "little")

    def lenenc_int(self) -> int:
        first = self.uint(1)
        if first < 0xFB:
            return first
        width = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
        if width is None:  # 0xFB is NULL and 0xFF an error marker: never a length
            raise _Defect
        return self.uint(width)

    def lenenc_bytes(self) -> bytes:
        return self.fixed(self.lenenc_int())

    def null_terminated(self) -> bytes:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise _Defect
        text = self.data[self.pos : end]
        self.pos = end + 1
        return text

    def rest(self) -> bytes:
        text = self.data[self.pos :]
        self.pos = len(self.data)
        return text


@dataclass(frozen=True)
class SslRequest:
    """The short handshake response that asks for TLS before the real one."""

    capabilities: Capabilities
    max_packet_size: int
    client_charset: CharacterSet


@dataclass
class HandshakeResponse:
    capabilities: Capabilities
    max_packet_size: int
    client_charset: CharacterSet
    username: str
    auth_response: bytes
    database: str | None = None
    client_plugin: str | None = None
    connect_attrs: dict[str, str] = field(default_factory=dict)
    zstd_compression_level: int = 0


@dataclass
class ChangeUser:
    username: str
    auth_response: bytes
    database: str | None
    client_charset: CharacterSet | None = None
    client_plugin: str | None = None
    connect_attrs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FieldList:
    table: str
    wildcard: str


def charset_of(collation_id: int) -> CharacterSet:
    """A client's collation id; one the server cannot decode (unknown, or no Python codec, such as
    macce) means the default, as on MySQL."""
    try:
        charset = Collation(collation_id).charset
        codecs.lookup(charset.codec)
    except (ValueError, LookupError):
        return CharacterSet.utf8mb4
    return charset


def _optional_text(r: PacketReader, present: bool, charset: CharacterSet) -> str | None:
    """A NUL-terminated field the capabilities announce; some clients leave it out at the very end."""
    if not present or r.at_end():
        return None
    return charset.decode(r.null_terminated())


def _connect_attrs(r: PacketReader, charset: CharacterSet) -> dict[str, str]:
    """CLIENT_CONNECT_ATTRS: a length, then key / value pairs that must fill exactly that length."""
    attrs = PacketReader(r.fixed(r.lenenc_int()))
    result: dict[str, str] = {}
    while not attrs.at_end():
        key = charset.decode(attrs.lenenc_bytes())
        result[key] = charset.decode(attrs.lenenc_bytes())
    return result


def parse_handshake_response(server: Capabilities, data: bytes, tls: bool = False) -> HandshakeResponse | SslRequest:
    """Protocol::HandshakeResponse41 (or its SSLRequest prefix, unless TLS is already on); any
    defect is MySQL's 1043 Bad handshake."""
    try:
        return _handshake_response(server, data, tls)
    except (_Defect, UnicodeDecodeError):
        raise bad_handshake() from None


def _handshake_response(server: Capabilities, data: bytes, tls: bool) -> HandshakeResponse | SslRequest:
    r = PacketReader(data)
    client = Capabilities(r.uint(4))
    if Capabilities.CLIENT_PROTOCOL_41 not in client:  # pre-4.1 clients are not served, as on MySQL 8
        raise _Defect
    caps = server & client
    max_packet_size = r.uint(4)
    charset = charset_of(r.uint(1))
    r.fixed(23)
    if r.at_end():
        if Capabilities.CLIENT_SSL in caps and not tls:
            return SslRequest(caps, max_packet_size, charset)
        raise _Defect
    username = charset.decode(r.null_terminated())
    if Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA in caps:
        auth = r.lenenc_bytes()
    elif Capabilities.CLIENT_SECURE_CONNECTION in caps:
        auth = r.fixed(r.uint(1))
    else:
        auth = r.null_terminated()
    response = HandshakeResponse(caps, max_packet_size, charset, username, auth)
    response.database = _optional_text(r, Capabilities.CLIENT_CONNECT_WITH_DB in caps, charset)
    response.client_plugin = _optional_text(r, Capabilities.CLIENT_PLUGIN_AUTH in caps, charset)
    if Capabilities.CLIENT_CONNECT_ATTRS in caps and not r.at_end():
        response.connect_attrs = _connect_attrs(r, charset)
    if Capabilities.CLIENT_ZSTD_COMPRESSION_ALGORITHM in caps and not r.at_end():
        response.zstd_compression_level = r.uint(1)
    return response


def parse_change_user(caps: Capabilities, charset: CharacterSet, data: bytes) -> ChangeUser:
    """COM_CHANGE_USER's payload (after the command byte); a defect ends the connection, whose login
    state would be unknown."""
    try:
        return _change_user(caps, charset, data)
    except (_Defect, UnicodeDecodeError):
        raise malformed(fatal=True) from None


def _change_user(caps: Capabilities, charset: CharacterSet, data: bytes) -> ChangeUser:
    r = PacketReader(data)
    username = charset.decode(r.null_terminated())
    auth = r.fixed(r.uint(1)) if Capabilities.CLIENT_SECURE_CONNECTION in caps else r.null_terminated()
    request = ChangeUser(username, auth, charset.decode(r.null_terminated()) or None)
    if Capabilities.CLIENT_PROTOCOL_41 in caps and not r.at_end():
        request.client_charset = charset = charset_of(r.uint(2))
    request.client_plugin = _optional_text(r, Capabilities.CLIENT_PLUGIN_AUTH in caps, charset)
    if Capabilities.CLIENT_CONNECT_ATTRS in caps and not r.at_end():
        request.connect_attrs = _connect_attrs(r, charset)
    return request


def parse_field_list(charset: CharacterSet, data: bytes) -> FieldList:
    """COM_FIELD_LIST: a NUL-terminated table name, then a LIKE wildcard to the end."""
    try:
        r = PacketReader(data)
        table = charset.decode(r.null_terminated())
        return FieldList(table, charset.decode(r.rest()))
    except (_Defect, UnicodeDecodeError):
        raise malformed() from None


def parse_init_db(charset: CharacterSet, data: bytes) -> str:
    """COM_INIT_DB: the database name is the whole payload."""
    try:
        return charset.decode(data)
    except UnicodeDecodeError:
        raise malformed() from None


# ---------------------------------------------------------------------- framing


class PacketStream:
    """The connection's packet stream: the library's MysqlStream (which cannot be subclassed) keeps its
    write buffer and the sequence counter; reads are ours, and so is the framing of any packet of
    ``MAX_FRAME`` bytes or more. Reads and drains are bounded in time (``read_timeout`` for the
    rest of a packet once begun, ``write_timeout`` for a client to take what it was sent), packets
    in size (``max_packet``: small until the client has logged in)."""

    def __init__(self, inner: MysqlStream) -> None:
        self._inner = inner
        self.read_timeout = NET_READ_TIMEOUT
        self.write_timeout = NET_WRITE_TIMEOUT
        self.max_packet = MAX_LOGIN_PACKET

    @property
    def reader(self) -> asyncio.StreamReader:
        return self._inner.reader

    @property
    def writer(self) -> asyncio.StreamWriter:
        return self._inner.writer

    @property
    def seq(self) -> seq:
        return self._inner.seq

    def reset_seq(self) -> None:
        self._inner.reset_seq()

    # ---- reading

    async def read(self, idle: float | None = None) -> bytes:
        """One packet, reassembled from its frames. ``idle`` bounds the wait for its first byte
        (:class:`IdleTimeout`), ``read_timeout`` every other wait; more than ``max_packet`` bytes in
        all is MySQL's 1153 before they are read."""
        try:
            begun = await self._exactly(1, self.read_timeout if idle is None else idle)
        except TimeoutError:
            if idle is None:
                raise _read_timeout() from None
            raise IdleTimeout from None
        chunks: list[bytes] = []
        total = 0
        while True:
            header = begun + await self._read_or_fail(4 - len(begun))
            begun = b""
            length = int.from_bytes(header[:3], "little")
            if header[3] != next(self.seq):
                raise WireError("Got packets out of order", 1156, fatal=True)
            total += length
            if total > self.max_packet:
                raise too_large()
            if length:
                chunks.append(await self._read_or_fail(length))
            if length < MAX_FRAME:
                return b"".join(chunks)

    async def _read_or_fail(self, size: int) -> bytes:
        try:
            return await self._exactly(size, self.read_timeout)
        except TimeoutError:
            raise _read_timeout() from None

    async def _exactly(self, size: int, timeout: float) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._inner.reader.readexactly(size)
        except asyncio.IncompleteReadError:
            raise ConnectionClosed() from None

    # ---- writing

    def _frame(self, payload: bytes) -> None:
        """Buffer one packet, split into frames of ``MAX_FRAME`` bytes; one of exactly a multiple of
        ``MAX_FRAME`` bytes ends with an empty frame, so the client knows it is complete."""
        buffer = self._inner._buffer
        view = memoryview(payload)
        while True:
            chunk, view = view[:MAX_FRAME], view[MAX_FRAME:]
            buffer += (len(chunk) | next(self.seq) << 24).to_bytes(4, "little")
            buffer += chunk
            if len(chunk) < MAX_FRAME:
                return

    async def write(self, data: bytes, drain: bool = True) -> None:
        self._frame(data)
        if drain or len(self._inner._buffer) >= self._inner._buffer_size:
            await self.drain()

    def write_many(self, payloads: Sequence[bytes]) -> None:
        if payloads and max(map(len, payloads)) >= MAX_FRAME:
            for payload in payloads:
                self._frame(payload)
        else:
            self._inner.write_many(payloads)

    def write_text_rows(self, rows: Sequence[Sequence[Any]], columns: Sequence[ResultColumn]) -> int:
        """The library's fast row writer, unless the rows come to a frame's size or more: it writes the
        header of a row that long wrong (the length spills into the sequence id), so such a batch is
        framed here again, row by row."""
        buffer = self._inner._buffer
        start, first_seq = len(buffer), self.seq.value
        try:
            self._inner.write_text_rows(rows, columns)
            if len(buffer) - start < MAX_FRAME:
                return len(rows)
        except struct.error:  # a row of 4 GiB or more overflows even the header
            pass
        del buffer[start:]
        self.seq.value = first_seq
        for row in rows:
            self._frame(packets.make_text_resultset_row(row, columns))
        return len(rows)

    async def drain(self) -> None:
        """Flush; a client that reads nothing for ``write_timeout`` seconds is gone."""
        try:
            async with asyncio.timeout(self.write_timeout):
                await self._inner.drain()
        except TimeoutError:
            log.info("a client took nothing for %ss (net_write_timeout): closing", self.write_timeout)
            raise ConnectionClosed() from None


def _read_timeout() -> WireError:
    return WireError("Got timeout reading communication packets", 1159, fatal=True)
