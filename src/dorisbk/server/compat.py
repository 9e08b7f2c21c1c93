"""Fixes to mysql-mimic 3.0.5 that real clients need; each names the client it keeps working.

Two kinds of fix live here, and only here:

* patches of the library's pure-Python modules, applied once by :func:`apply` (its
  compiled classes cannot be patched): result-set OKs, column lengths, prepared-statement
  replies and parameter binding, login errors, SQLSTATEs;
* :class:`DorisConnection` / :class:`DorisMysqlServer`, subclasses the server is built from,
  for what needs a connection of our own: every read through :mod:`dorisbk.server.wire`
  (bounded packets, our own parsers of the login and its neighbours, timeouts), the TLS
  handshake race, COM_STATISTICS, COM_REFRESH, and errors without Python internals.

``tests/test_clients_*.py`` run each named client against a real server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import io
import logging
import math
import re
import ssl
import struct
import time
from collections.abc import Iterator
from typing import Any

from mysql_mimic import MysqlServer, errors, packets
from mysql_mimic import connection as connection_module
from mysql_mimic import context as mimic_context
from mysql_mimic.charset import CharacterSet
from mysql_mimic.connection import Connection
from mysql_mimic.constants import KillKind
from mysql_mimic.control import TooManyConnections
from mysql_mimic.errors import ErrorCode, MysqlError
from mysql_mimic.prepared import PreparedStatement
from mysql_mimic.results import ResultSet
from mysql_mimic.stream import ConnectionClosed, MysqlStream
from mysql_mimic.types import Capabilities, ColumnDefinition, ColumnType, Commands, ServerStatus, str_len
from mysql_mimic.utils import aiterate
from sqlglot.tokens import TokenType

from dorisbk.engine.dialect import is_word, lex
from dorisbk.server import wire
from dorisbk.server.control import SessionControl

log = logging.getLogger(__name__)

# Rows of a streamed result written (and sent) at a time.
WRITE_BATCH_ROWS = 10_000

# Realistic display lengths per wire type. MariaDB ODBC 3.1 reads every column after a
# BIGINT as NULL when all lengths are the library's fixed 256.
_LENGTHS = {
    ColumnType.TINY: 4,
    ColumnType.SHORT: 6,
    ColumnType.LONG: 11,
    ColumnType.LONGLONG: 20,
    ColumnType.FLOAT: 12,
    ColumnType.DOUBLE: 22,
    ColumnType.NEWDECIMAL: 40,
    ColumnType.DATE: 10,
    ColumnType.DATETIME: 19,
    ColumnType.TIME: 10,
    ColumnType.VAR_STRING: 65533,
}

# SQLSTATEs of the MySQL codes dorisbk sends, so JDBC and ODBC classify errors as MySQL would.
_SQLSTATES = {
    1044: b"42000",
    1045: b"28000",
    1046: b"3D000",
    1049: b"42000",
    1050: b"42S01",
    1051: b"42S02",
    1054: b"42S22",
    1060: b"42S21",
    1064: b"42000",
    1136: b"21S01",
    1142: b"42000",
    1146: b"42S02",
    1227: b"42000",
    1235: b"42000",
}


def _column_definition(server_charset: Any, column_type: ColumnType = ColumnType.VAR_STRING, **kw: Any) -> bytes:
    definition = getattr(kw.get("name"), "definition", None)
    if definition:  # what the session knows of a result column (session.wire_column): length, flags, tables
        kw.update(definition)
    if column_type in _LENGTHS:
        kw.setdefault("column_length", _LENGTHS[column_type])
    if column_type == ColumnType.NEWDECIMAL:
        kw.setdefault("decimals", 9)
    return _original_column_definition(server_charset=server_charset, column_type=column_type, **kw)


def _ok_or_eof(
    self: Connection, affected_rows: int = 0, last_insert_id: int = 0, warnings: int = 0, flags: int = 0
) -> bytes:
    """MariaDB Connector/J 2.x misreads a result set's closing OK that carries a row count: send 0."""
    return _original_ok_or_eof(self, 0, last_insert_id, warnings, flags)


def _prepare_response(self: Connection, statement: Any) -> Iterator[bytes]:
    """MariaDB Connector/J with useServerPrepStmts: no EOF after parameter defs under DEPRECATE_EOF."""
    yield packets.make_com_stmt_prepare_ok(statement)
    if statement.num_params:
        for _ in range(statement.num_params):
            yield packets.make_column_definition_41(server_charset=self.server_charset, name="?")
        if not self.deprecate_eof():
            yield self.eof()


async def _authenticate(self: Connection, username: str, auth_response: bytes, *args: Any, **kwargs: Any) -> None:
    """Every failed login is MySQL's (and Doris's) 1045 ``Access denied for user 'u'@'host' (using password:
    YES|NO)``; the library sends 3162 "User x does not exist" for an unknown user, which tells a stranger
    which names exist, and a bare "Access denied for user u" for a wrong password (mysql CLI, JDBC, pymysql)."""
    peer = self.stream.writer.get_extra_info("peername") or ("localhost",)
    self._dorisbk_denied = (  # type: ignore[attr-defined]
        f"Access denied for user '{username}'@'{peer[0]}' (using password: {'YES' if auth_response else 'NO'})"
    )
    if await self.identity_provider.get_user(username) is None:
        await self.stream.write(self.error(msg=self._dorisbk_denied, code=ErrorCode.ACCESS_DENIED_ERROR))
        return
    self._dorisbk_login = True  # type: ignore[attr-defined]
    try:
        await _original_authenticate(self, username, auth_response, *args, **kwargs)
    finally:
        self._dorisbk_denied = None  # type: ignore[attr-defined]
        self._dorisbk_login = False  # type: ignore[attr-defined]


def _ok(self: Connection, **kwargs: Any) -> bytes:
    """The OK that ends a successful login: a database named in the handshake must exist and be
    visible to the user, else the login fails with 1049 / 1044 as on MySQL (pymysql ``database=``,
    ``mysql db``, JDBC URLs)."""
    if getattr(self, "_dorisbk_login", False) and self.session.database:
        check = getattr(self.session, "database_error", None)
        failure = check(self.session.database) if check is not None else None
        if failure is not None:
            self.session.database = None
            self.session.username = None  # the login failed: the connection ends after this error
            code, message = failure
            return self.error(msg=message, code=code)
    affected = getattr(self.session, "affected_rows", 0)
    if affected and not kwargs.get("eof"):
        # pymysql's cursor.execute() / JDBC's executeUpdate() return an INSERT's row count
        self.session.affected_rows = 0
        kwargs.setdefault("affected_rows", affected)
    info = getattr(self.session, "ok_info", None)
    if info and not kwargs.get("eof"):
        # an INSERT's {'label':..., 'status':..., 'txnId':...} as Doris sends it (the mysql CLI prints it,
        # pymysql keeps it, length prefix included, as ``_result.message``); the library's OK has no info
        # field. Doris and MySQL write it length-encoded, which libmysqlclient expects
        self.session.ok_info = None
        return _original_ok(self, **kwargs) + str_len(info.encode())
    return _original_ok(self, **kwargs)


def _parse_com_query(capabilities: Capabilities, client_charset: CharacterSet, data: bytes) -> packets.ComQuery:
    """The library's COM_QUERY parser (bounded, it only fails on bad query attributes), failing with
    MySQL's 1835 instead of a Python error; text in the wrong character set stays a 1300."""
    try:
        return _original_parse_com_query(capabilities, client_charset, data)
    except UnicodeDecodeError:
        raise
    except (struct.error, ValueError, OverflowError):
        raise wire.malformed() from None


async def _handle_query(self: Connection, data: bytes) -> None:
    """A query that is not valid in the connection's character set gets MySQL's 1300, not a Python
    message (any client sending raw bytes: pymysql ``query(b"...")``, C clients)."""
    try:
        await _original_handle_query(self, data)
    except UnicodeDecodeError as exc:
        raise _invalid_text(self.client_charset, exc) from None


def _invalid_text(charset: CharacterSet, exc: UnicodeDecodeError) -> MysqlError:
    """MySQL's 1300 for bytes that are not text in the connection's character set."""
    bad = exc.object[exc.start : exc.start + 8].hex().upper()
    return errors.MysqlError(f"Invalid {charset.name} character string: '{bad}'", code=1300)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- errors

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _error(self: Connection, **kwargs: Any) -> bytes:
    """Every ERR packet: the login denial of :func:`_authenticate`, and no terminal escapes (the
    mysql CLI would print sqlglot's underline codes raw)."""
    denied = getattr(self, "_dorisbk_denied", None)
    if denied and kwargs.get("code") == ErrorCode.ACCESS_DENIED_ERROR:
        kwargs["msg"] = denied
    if "msg" in kwargs:
        # no terminal colour codes (sqlglot underlines the culprit) ever reach a client
        kwargs["msg"] = _ANSI.sub("", str(kwargs["msg"]))
    return _original_error(self, **kwargs)


# ---------------------------------------------------------------------- prepared statements
#
# The library pastes EXECUTE's parameters into the statement text as '<value>' without
# escaping: a quote breaks the statement (mysql-connector-python ``cursor(prepared=True)``,
# Connector/J ``useServerPrepStmts=true``, MariaDB ODBC, which prepares every query) and any
# string can rewrite it. Here every value becomes one SQL literal, escaped, and placeholders
# are the statement's ``?`` tokens (dorisbk.engine.dialect.lex), never a ``?`` in a string, name or comment.

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


class _DecimalText(str):
    """A DECIMAL parameter, sent by the client as text."""


def split_placeholders(sql: str) -> list[str]:
    """The text around each ``?`` placeholder (``len(result) - 1`` parameters): the ``?`` tokens of
    the statement as the dialect reads it, so a ``?`` inside a quoted string, a back-quoted name or a
    comment is text, not a placeholder (an unterminated one runs to the end of the text)."""
    if "?" not in sql:  # most statements: no need to read them
        return [sql]
    parts: list[str] = []
    start = 0
    for token in lex(sql).tokens:
        if token.token_type == TokenType.PLACEHOLDER:
            parts.append(sql[start : token.start])
            start = token.end + 1
    parts.append(sql[start:])
    return parts


# A prepared statement longer than this is read in a thread, not on the event loop.
_SPLIT_ON_LOOP_MAX = 64 * 1024


def quote_string(text: str) -> str:
    """A MySQL string literal: backslashes and quotes escaped, so nothing can end it early."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0") + "'"


def sql_literal(value: Any) -> str:
    """One parameter value as a SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else quote_string(repr(value))
    if isinstance(value, _DecimalText):
        return str(value) if _NUMBER.match(value) else quote_string(str(value))
    if isinstance(value, dt.datetime):
        return quote_string(value.isoformat(sep=" "))
    if isinstance(value, dt.date):
        return quote_string(value.isoformat())
    if isinstance(value, dt.timedelta):
        return quote_string(_time_text(value))
    if isinstance(value, bytes):
        return "X'" + value.hex().upper() + "'"
    return quote_string(str(value))


def _time_text(value: dt.timedelta) -> str:
    micros = abs(value) // dt.timedelta(microseconds=1)
    seconds, micro = divmod(micros, 1_000_000)
    text = f"{'-' if value < dt.timedelta(0) else ''}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return text + (f".{micro:06d}" if micro else "")


def _bad_arguments(what: str) -> MysqlError:
    return MysqlError(f"Incorrect arguments to mysqld_stmt_execute: {what}", code=1210)  # type: ignore[arg-type]


def _take(reader: io.BytesIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise _bad_arguments("packet too short")
    return data


def _lenenc_int(reader: io.BytesIO) -> int:
    first = _take(reader, 1)[0]
    if first < 0xFB:
        return first
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
    if width is None:
        raise _bad_arguments("bad length")
    return int.from_bytes(_take(reader, width), "little")


def _text(raw: bytes, charset: CharacterSet) -> str | bytes:
    try:
        return charset.decode(raw)
    except UnicodeDecodeError:
        return raw


_STRING_TYPES = {
    ColumnType.VARCHAR, ColumnType.VAR_STRING, ColumnType.STRING, ColumnType.ENUM, ColumnType.SET,
    ColumnType.JSON, ColumnType.TINY_BLOB, ColumnType.MEDIUM_BLOB, ColumnType.LONG_BLOB, ColumnType.BLOB,
    ColumnType.GEOMETRY, ColumnType.BIT,
}  # fmt: skip
_INTS = {
    ColumnType.TINY: (1, "<b", "<B"),
    ColumnType.BOOL: (1, "<b", "<B"),
    ColumnType.SHORT: (2, "<h", "<H"),
    ColumnType.YEAR: (2, "<h", "<H"),
    ColumnType.LONG: (4, "<i", "<I"),
    ColumnType.INT24: (4, "<i", "<I"),
    ColumnType.LONGLONG: (8, "<q", "<Q"),
}


def _read_value(reader: io.BytesIO, kind: int, unsigned: bool, charset: CharacterSet) -> Any:
    """One binary-protocol parameter value (MySQL's COM_STMT_EXECUTE encoding)."""
    if kind in _INTS:
        size, signed_fmt, unsigned_fmt = _INTS[kind]  # type: ignore[index]
        return struct.unpack(unsigned_fmt if unsigned else signed_fmt, _take(reader, size))[0]
    if kind == ColumnType.FLOAT:
        return struct.unpack("<f", _take(reader, 4))[0]
    if kind == ColumnType.DOUBLE:
        return struct.unpack("<d", _take(reader, 8))[0]
    if kind in (ColumnType.DECIMAL, ColumnType.NEWDECIMAL):
        return _DecimalText(charset.decode(_take(reader, _lenenc_int(reader))))
    if kind in (ColumnType.DATE, ColumnType.DATETIME, ColumnType.TIMESTAMP, ColumnType.NEWDATE):
        raw = _take(reader, _take(reader, 1)[0])
        year, month, day = struct.unpack("<HBB", raw[:4]) if len(raw) >= 4 else (0, 0, 0)
        hour, minute, second = tuple(raw[4:7]) if len(raw) >= 7 else (0, 0, 0)
        micro = struct.unpack("<I", raw[7:11])[0] if len(raw) >= 11 else 0
        if kind in (ColumnType.DATE, ColumnType.NEWDATE):
            return f"{year:04d}-{month:02d}-{day:02d}"
        text = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
        return text + (f".{micro:06d}" if micro else "")
    if kind == ColumnType.TIME:
        raw = _take(reader, _take(reader, 1)[0])
        if len(raw) < 8:
            return dt.timedelta(0)
        negative, days, hour, minute, second = struct.unpack("<BIBBB", raw[:8])
        micro = struct.unpack("<I", raw[8:12])[0] if len(raw) >= 12 else 0
        value = dt.timedelta(days=days, hours=hour, minutes=minute, seconds=second, microseconds=micro)
        return -value if negative else value
    if kind == ColumnType.NULL:
        return None
    if kind in _STRING_TYPES:
        return _text(_take(reader, _lenenc_int(reader)), charset)
    raise _bad_arguments(f"unsupported parameter type {kind}")


def _parse_com_stmt_execute(
    capabilities: Capabilities, client_charset: CharacterSet, data: bytes, get_stmt: Any
) -> Any:
    """COM_STMT_EXECUTE, with every parameter bound as an escaped literal (replaces the library's)."""
    reader = io.BytesIO(data)
    stmt: PreparedStatement = get_stmt(struct.unpack("<I", _take(reader, 4))[0])
    if getattr(stmt, "_dorisbk_long_data_dropped", False):
        stmt._dorisbk_long_data_dropped = False  # type: ignore[attr-defined]
        raise MysqlError(_LONG_DATA_TOO_LONG)
    flags = _take(reader, 1)[0]
    _take(reader, 4)  # iteration count, always 1
    with_attributes = Capabilities.CLIENT_QUERY_ATTRIBUTES in capabilities
    count = stmt.num_params
    if with_attributes and (count > 0 or flags & 0x08):  # PARAMETER_COUNT_AVAILABLE
        count = _lenenc_int(reader)
    params: list[tuple[str, Any]] = []
    if count > 0:
        nulls = _take(reader, (count + 7) // 8)
        if _take(reader, 1)[0]:  # new-params-bound: the types follow, else those of the last EXECUTE
            types = []
            for _ in range(count):
                kind, flag = _take(reader, 2)
                name = client_charset.decode(_take(reader, _lenenc_int(reader))) if with_attributes else ""
                types.append((kind, bool(flag & 0x80), name))
            stmt._dorisbk_types = types  # type: ignore[attr-defined]
        else:
            types = getattr(stmt, "_dorisbk_types", [])
            if len(types) != count:
                raise _bad_arguments("parameter types were never sent")
        buffers = stmt.param_buffers or {}
        for i, (kind, unsigned, name) in enumerate(types):
            if nulls[i // 8] & (1 << (i % 8)):
                value = None
            elif i in buffers:  # COM_STMT_SEND_LONG_DATA
                value = _text(bytes(buffers[i]), client_charset)
            else:
                value = _read_value(reader, kind, unsigned, client_charset)
            params.append((name, value))
    if len(params) < stmt.num_params:
        raise _bad_arguments(f"{stmt.num_params} parameters expected, {len(params)} sent")
    segments = getattr(stmt, "_dorisbk_segments", None) or split_placeholders(stmt.sql)
    pieces = [segments[0]]
    for (_name, value), segment in zip(params[: stmt.num_params], segments[1:], strict=True):
        pieces.append(sql_literal(value))
        pieces.append(segment)
    attrs = {name: str(value) for name, value in params[stmt.num_params :] if name}
    return packets.ComStmtExecute(sql="".join(pieces), query_attrs=attrs, stmt=stmt, use_cursor=bool(flags & 0x01))


# ---------------------------------------------------------------------- COM_FIELD_LIST

_FIELD_TYPES: dict[str, tuple[ColumnType, int]] = {
    "boolean": (ColumnType.TINY, 1),
    "tinyint": (ColumnType.TINY, 4),
    "smallint": (ColumnType.SHORT, 6),
    "int": (ColumnType.LONG, 11),
    "bigint": (ColumnType.LONGLONG, 20),
    "largeint": (ColumnType.STRING, 40),
    "float": (ColumnType.FLOAT, 12),
    "double": (ColumnType.DOUBLE, 22),
    "date": (ColumnType.DATE, 10),
    "datev2": (ColumnType.DATE, 10),
    "datetime": (ColumnType.DATETIME, 19),
    "datetimev2": (ColumnType.DATETIME, 19),
    "char": (ColumnType.STRING, 255),
    "varchar": (ColumnType.VAR_STRING, 65533),
}
_TYPE_TEXT = re.compile(r"([a-z0-9_]+)\s*(?:\((\d+)(?:\s*,\s*(\d+))?\))?")


def field_list_type(text: str) -> tuple[ColumnType, int, int, CharacterSet]:
    """(wire type, display length, decimals, character set) of a column SHOW COLUMNS types as ``text``
    (``bigint``, ``decimal(10,2)``, ``varchar(32)``, ``datetime(3)``, ``array<int>``), as Doris's
    COM_FIELD_LIST reply describes it: numbers and dates in the binary character set, text in utf8."""
    match = _TYPE_TEXT.match(text.strip().lower())
    name = match.group(1) if match else ""
    first = int(match.group(2)) if match and match.group(2) else None
    second = int(match.group(3)) if match and match.group(3) else 0
    if name.startswith("decimal"):
        precision, scale = first or 38, second if first else 9
        return ColumnType.NEWDECIMAL, precision + (2 if scale else 1), scale, CharacterSet.binary
    if name in _FIELD_TYPES:
        column_type, length = _FIELD_TYPES[name]
        if column_type in (ColumnType.STRING, ColumnType.VAR_STRING):
            return column_type, first or length, 0, CharacterSet.utf8
        if name.startswith("datetime") and first:
            return column_type, length + 1 + first, first, CharacterSet.binary
        decimals = 31 if column_type in (ColumnType.FLOAT, ColumnType.DOUBLE) else 0
        return column_type, length, decimals, CharacterSet.binary
    return ColumnType.BLOB, 2**32 - 1, 0, CharacterSet.utf8  # text, string, json, array<...>, map<...>


# ---------------------------------------------------------------------- the connection


async def start_tls_keeping_buffer(stream: MysqlStream, context: ssl.SSLContext, timeout: float = 30.0) -> None:
    """``loop.start_tls`` that also hands over bytes already read ahead.

    A client may send its TLS ClientHello in the same TCP segment as the SSLRequest packet;
    asyncio's StreamReader has then buffered it, ``loop.start_tls`` never sees it, and the
    handshake stalls until the client times out (PyMySQL, which turns TLS on by itself
    whenever the server offers it, hit this about one connect in three). CPython 3.11's
    ``start_tls``, plus feeding the buffered bytes to the TLS protocol first.
    """
    reader, writer = stream.reader, stream.writer
    transport = writer.transport
    loop = asyncio.get_running_loop()
    leftover = bytes(reader._buffer)  # type: ignore[attr-defined]
    reader._buffer.clear()  # type: ignore[attr-defined]
    waiter = loop.create_future()
    protocol = asyncio.sslproto.SSLProtocol(  # type: ignore[attr-defined]
        loop,
        transport.get_protocol(),
        context,
        waiter,
        server_side=True,
        call_connection_made=False,
        ssl_handshake_timeout=timeout,
    )
    transport.pause_reading()  # type: ignore[attr-defined]
    transport.set_protocol(protocol)
    made = loop.call_soon(protocol.connection_made, transport)

    def feed() -> None:
        if leftover:
            buffer = protocol.get_buffer(len(leftover))
            buffer[: len(leftover)] = leftover
            protocol.buffer_updated(len(leftover))
        transport.resume_reading()  # type: ignore[attr-defined]

    fed = loop.call_soon(feed)
    try:
        await waiter
    except BaseException:
        transport.close()
        made.cancel()
        fed.cancel()
        raise
    writer._transport = protocol._app_transport  # type: ignore[attr-defined]
    reader._transport = protocol._app_transport  # type: ignore[attr-defined]


# MySQL 8's ER_CLIENT_INTERACTION_TIMEOUT (4031), sent before an idle connection is closed
_INACTIVE = (
    "The client was disconnected by the server because of inactivity. "
    "See wait_timeout and interactive_timeout for configuring this behavior."
)
_UNEXPECTED = "errCode = 2, detailMessage = Unexpected exception, see the server log"
_MAX_PREPARED = 16382  # MySQL's max_prepared_stmt_count, here per connection
_LONG_DATA_TOO_LONG = (
    "Parameter of prepared statement which is set through mysql_send_long_data() is longer than "
    "'max_allowed_packet' bytes"
)
# the fixed fields of the commands whose library parsers would fail with a Python error when they are missing
_MIN_PAYLOAD = {
    Commands.COM_STMT_EXECUTE: 9,
    Commands.COM_STMT_FETCH: 8,
    Commands.COM_STMT_RESET: 4,
    Commands.COM_STMT_CLOSE: 4,
    Commands.COM_STMT_SEND_LONG_DATA: 6,
    Commands.COM_REFRESH: 1,
}


class DorisConnection(Connection):
    """One client connection (the library's, with the fixes that need a connection of our own)."""

    #: set by :class:`DorisMysqlServer` when it starts, for COM_STATISTICS
    started = time.monotonic()
    questions = 0

    @property
    def status_flags(self) -> ServerStatus:  # type: ignore[override]
        """SERVER_STATUS_AUTOCOMMIT as Doris sends it (the library always sends 0, and MySQL
        Connector/J's ``getAutoCommit()`` reads this flag)."""
        try:
            on = bool(self.session.variables.get("autocommit"))
        except Exception:  # before the session has variables
            on = True
        return ServerStatus.SERVER_STATUS_AUTOCOMMIT if on else ServerStatus(0)

    @status_flags.setter
    def status_flags(self, value: ServerStatus) -> None:
        pass

    async def _start(self) -> None:
        """The library's, with the connection phase under MySQL's connect_timeout, and a connection
        that did not log in closed instead of served (the library went on to the command phase after
        sending the 1045, and the session ran as root)."""
        mimic_context.connection_id.set(self.connection_id)
        deadline = self._timeout("connect_timeout")
        try:
            async with asyncio.timeout(deadline):
                await self.connection_phase()
        except TimeoutError:
            log.info("connection %s: no login within %ss", self.connection_id, deadline)
            return
        except MysqlError as exc:
            await self.stream.write(self.error(msg=exc.msg, code=exc.code))
            return
        except (ConnectionClosed, ConnectionError, ssl.SSLError):
            raise
        except Exception:  # a bug of ours: the client gets a plain error, the log the traceback
            log.exception("connection %s: login failed", self.connection_id)
            await self.stream.write(self.error(msg="Bad handshake", code=ErrorCode.HANDSHAKE_ERROR))
            return
        if self.session.username is None:  # refused; the client has its error
            return
        self.stream.max_packet = wire.MAX_COMMAND  # type: ignore[attr-defined]
        await self.session.init(self)
        try:
            await self.command_phase()
        except asyncio.CancelledError:
            if self._kill != KillKind.CONNECTION:
                raise
            log.info("connection %s killed", self.connection_id)
            await self.stream.write(self.error(msg="Session was killed", code=ErrorCode.SESSION_WAS_KILLED))
            self._kill = None
        finally:
            await self.session.close()

    async def connection_phase(self) -> None:
        """The library's, reading with :mod:`wire`'s parsers and :func:`start_tls_keeping_buffer`
        (PyMySQL over TLS); success leaves ``session.username`` set."""
        default_auth_plugin = self.identity_provider.get_default_plugin()
        auth_data, auth_state = await default_auth_plugin.start()
        assert isinstance(auth_data, bytes)
        self.handshake_auth_data = auth_data
        self.handshake_auth_plugin = default_auth_plugin.name
        await self.stream.write(
            packets.make_handshake_v10(
                capabilities=self.server_capabilities,
                server_charset=self.server_charset,
                server_version=str(self.session.variables.get("version")),
                connection_id=self.connection_id,
                auth_data=auth_data,
                status_flags=self.status_flags,
                auth_plugin_name=default_auth_plugin.name,
            )
        )
        response = wire.parse_handshake_response(self.server_capabilities, await self.stream.read())
        if isinstance(response, wire.SslRequest):
            if self.ssl is None:
                raise wire.bad_handshake()
            await start_tls_keeping_buffer(self.stream, self.ssl)  # type: ignore[arg-type]
            response = wire.parse_handshake_response(self.server_capabilities, await self.stream.read(), True)
        assert isinstance(response, wire.HandshakeResponse)
        self.capabilities = response.capabilities
        self.max_packet_size = response.max_packet_size
        self.session.variables.set("character_set_client", response.client_charset.name)
        self.session.database = response.database
        self.client_plugin_name = response.client_plugin
        self.client_connect_attrs = response.connect_attrs
        self.zstd_compression_level = response.zstd_compression_level
        self.session.variables.set("external_user", response.username, force=True)
        self.session.username = None
        await self.authenticate(
            auth_state=auth_state,
            server_plugin=default_auth_plugin,
            username=response.username,
            client_plugin_name=response.client_plugin,
            auth_response=response.auth_response,
            connect_attrs=response.connect_attrs,
        )
        self.stream.reset_seq()

    def _timeout(self, name: str) -> float:
        """A session's timeout variable (``wait_timeout``, ``net_read_timeout``...): seconds, at least one."""
        return max(1.0, float(self.session.variables.get(name)))  # type: ignore[arg-type]

    async def command_phase(self) -> None:
        """The library's command loop, reading through :class:`wire.PacketStream` with the session's
        ``wait_timeout``, ``net_read_timeout`` and ``net_write_timeout``; plus COM_STATISTICS (the mysql
        CLI's ``\\s`` / ``status`` prints its Uptime line), and failures of ours sent as Doris-style 1105
        errors."""
        handlers = {
            Commands.COM_QUERY: self.handle_query,
            Commands.COM_STMT_PREPARE: self.handle_stmt_prepare,
            Commands.COM_STMT_SEND_LONG_DATA: self.handle_stmt_send_long_data,
            Commands.COM_STMT_EXECUTE: self.handle_stmt_execute,
            Commands.COM_STMT_FETCH: self.handle_stmt_fetch,
            Commands.COM_STMT_RESET: self.handle_stmt_reset,
            Commands.COM_STMT_CLOSE: self.handle_stmt_close,
            Commands.COM_PING: self.handle_ping,
            Commands.COM_CHANGE_USER: self.handle_change_user,
            Commands.COM_RESET_CONNECTION: self.handle_reset_connection,
            Commands.COM_DEBUG: self.handle_debug,
            Commands.COM_INIT_DB: self.handle_init_db,
            Commands.COM_FIELD_LIST: self.handle_field_list,
            Commands.COM_STATISTICS: self.handle_statistics,
            Commands.COM_REFRESH: self.handle_refresh,
        }
        stream: wire.PacketStream = self.stream  # type: ignore[assignment]
        while True:
            stream.read_timeout = self._timeout("net_read_timeout")
            stream.write_timeout = self._timeout("net_write_timeout")
            try:
                data = await stream.read(idle=self._timeout("wait_timeout"))
            except ConnectionClosed:
                return
            except wire.IdleTimeout:
                log.info("connection %s idle for longer than wait_timeout", self.connection_id)
                self.stream.reset_seq()
                await self.stream.write(self.error(msg=_INACTIVE, code=4031))  # type: ignore[arg-type]
                return
            except wire.WireError as exc:  # framing lost or too big: nothing more can be read
                await self.stream.write(self.error(msg=exc.msg, code=exc.code))
                return
            try:
                await self._dispatch(handlers, data)
            except ConnectionClosed:
                return
            except wire.WireError as exc:
                await self.stream.write(self.error(msg=exc.msg, code=exc.code))
                if exc.fatal:
                    return
            except MysqlError as exc:
                log.debug("error %s: %s", exc.code, exc.msg)
                await self.stream.write(self.error(msg=exc.msg, code=exc.code))
            except asyncio.CancelledError:
                if self._kill != KillKind.QUERY:
                    raise
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                await self.stream.write(self.error(msg="Query was killed", code=ErrorCode.SESSION_WAS_KILLED))
                self._kill = None
            except Exception:  # a bug of ours: the client gets a plain error, the log the traceback
                log.exception("command failed")
                await self.stream.write(self.error(msg=_UNEXPECTED, code=ErrorCode.UNKNOWN_ERROR))
            finally:
                self.stream.reset_seq()

    async def _dispatch(self, handlers: dict[Commands, Any], data: bytes) -> None:
        """One command: an empty packet, or a fixed-layout command too short for its fields, is a malformed
        packet (the library's parsers would raise Python errors)."""
        if not data:
            raise wire.malformed()
        command = data[0]
        if command == Commands.COM_QUIT:
            raise ConnectionClosed()
        handler = handlers.get(command)  # type: ignore[call-overload]
        if handler is None:
            raise MysqlError(f"Unsupported command: {command:#x}", ErrorCode.UNKNOWN_COM_ERROR)
        if len(data) - 1 < _MIN_PAYLOAD.get(command, 0):  # type: ignore[call-overload]
            raise wire.malformed()
        if command in (Commands.COM_QUERY, Commands.COM_STMT_EXECUTE):
            DorisConnection.questions += 1
        await handler(data[1:])

    async def write_text_resultset(self, result_set: ResultSet) -> None:
        """The library's, but rows that come from an async generator (a large SELECT, fetched from DuckDB as
        it is sent) are written with the fast row writer in batches, each sent (drained) before the next is
        taken: the server never holds more than a batch of such a result, however large."""
        rows = result_set.rows
        if not inspect.isasyncgen(rows):
            await super().write_text_resultset(result_set)
            return
        columns = result_set.columns
        header = [packets.make_column_count(capabilities=self.capabilities, column_count=len(columns))]
        header += [
            packets.make_column_definition_41(
                server_charset=self.server_charset, name=c.name, column_type=c.type, character_set=c.character_set
            )
            for c in columns
        ]
        if not self.deprecate_eof():
            header.append(self.eof())
        self.stream.write_many(header)
        count = 0
        batch: list[Any] = []
        async for row in rows:
            batch.append(row)
            if len(batch) >= WRITE_BATCH_ROWS:
                count += self.stream.write_text_rows(batch, columns)
                batch = []
                await self.stream.drain()
        count += self.stream.write_text_rows(batch, columns)
        await self.stream.write(self.ok_or_eof(affected_rows=count))

    async def handle_change_user(self, data: bytes) -> None:
        """COM_CHANGE_USER read by :func:`wire.parse_change_user`. A failed change ends the connection:
        it belongs to nobody any more (the library kept the previous user, with the new database)."""
        request = wire.parse_change_user(self.capabilities, self.client_charset, data)
        self.session.username = None
        self.session.database = request.database
        self.session.variables.set("external_user", request.username, force=True)
        if request.client_charset:
            self.session.variables.set("character_set_client", request.client_charset.name)
        if request.connect_attrs:
            self.client_connect_attrs = request.connect_attrs
        await self.authenticate(
            username=request.username,
            auth_response=request.auth_response,
            client_plugin_name=request.client_plugin,
            connect_attrs=request.connect_attrs,
        )
        if self.session.username is None:
            raise ConnectionClosed()
        await self.session.reset()

    async def handle_init_db(self, data: bytes) -> None:
        """COM_INIT_DB (``mysql db``, ``\\u db``, Connector/J's ``setCatalog``)."""
        await self.session.use(wire.parse_init_db(self.client_charset, data))
        await self.stream.write(self.ok())

    async def handle_field_list(self, data: bytes) -> None:
        """COM_FIELD_LIST (``mysql_list_fields``: the mysql CLI's column completion after ``use db``): every
        column of a table or a view, from SHOW FULL COLUMNS, as Doris sends it: a column definition each
        (schema, table, name, type, length, decimals, NOT NULL) with its default as a length-encoded
        string, then EOF (an OK under CLIENT_DEPRECATE_EOF). An unknown table is the SHOW's error."""
        request = wire.parse_field_list(self.client_charset, data)
        sql = f"SHOW FULL COLUMNS FROM `{request.table.replace('`', '``')}`"
        if request.wildcard:
            sql += f" LIKE {quote_string(request.wildcard)}"
        result = await self.query(sql=sql, query_attrs={})
        names = [column.name.lower() for column in result.columns]
        field, kind, null, default = (names.index(n) for n in ("field", "type", "null", "default"))
        schema = self.session.database or ""
        definitions = []
        async for row in aiterate(result.rows):
            column_type, length, decimals, charset = field_list_type(str(row[kind]))
            definition = packets.make_column_definition_41(
                server_charset=self.server_charset,
                schema=schema,
                table=request.table,
                name=row[field],
                character_set=charset,
                column_length=length,
                column_type=column_type,
                flags=ColumnDefinition.NOT_NULL_FLAG if str(row[null]).upper() == "NO" else ColumnDefinition(0),
                decimals=decimals,
            )
            value = "" if row[default] is None else str(row[default])
            definitions.append(definition + str_len(self.server_charset.encode(value)))
        self.stream.write_many(definitions)
        await self.stream.write(self.ok_or_eof())

    async def handle_statistics(self, data: bytes) -> None:
        """COM_STATISTICS: MySQL's one-line status string (not an OK packet)."""
        uptime = max(1, int(time.monotonic() - DorisConnection.started))
        threads = (self.control.count() if isinstance(self.control, SessionControl) else 0) or 1
        text = (
            f"Uptime: {uptime}  Threads: {threads}  Questions: {DorisConnection.questions}  Slow queries: 0  "
            f"Opens: 0  Flush tables: 1  Open tables: 0  Queries per second avg: "
            f"{DorisConnection.questions / uptime:.3f}"
        )
        await self.stream.write(text.encode())

    async def handle_refresh(self, data: bytes) -> None:
        """COM_REFRESH (``mysqldump --flush-logs``, ``mysqladmin flush-logs``): there are no binary or
        error logs to rotate, nor caches a flag could clear, so every flag is done at once: OK."""
        await self.stream.write(self.ok())

    async def handle_stmt_prepare(self, data: bytes) -> None:
        """COM_STMT_PREPARE with placeholders found by :func:`split_placeholders`."""
        try:
            sql = self.client_charset.decode(data)
        except UnicodeDecodeError as exc:
            raise _invalid_text(self.client_charset, exc) from None
        if len(self.prepared_stmts) >= _MAX_PREPARED:
            message = f"Can't create more than max_prepared_stmt_count statements (current value: {_MAX_PREPARED})"
            raise MysqlError(message, code=1461)  # type: ignore[arg-type]
        if len(sql) > _SPLIT_ON_LOOP_MAX:
            segments = await asyncio.to_thread(split_placeholders, sql)
        else:
            segments = split_placeholders(sql)
        stmt = PreparedStatement(stmt_id=next(self.prepared_stmt_seq), sql=sql, num_params=len(segments) - 1)
        stmt._dorisbk_segments = segments  # type: ignore[attr-defined]
        self.prepared_stmts[stmt.stmt_id] = stmt
        for packet in self.com_stmt_prepare_response(stmt):
            await self.stream.write(packet, drain=False)
        await self.stream.drain()

    async def handle_stmt_send_long_data(self, data: bytes) -> None:
        """COM_STMT_SEND_LONG_DATA (it has no reply), capped as MySQL caps it: a statement's long data
        beyond max_allowed_packet is dropped, and its next EXECUTE fails."""
        await super().handle_stmt_send_long_data(data)
        stmt = self.get_stmt(int.from_bytes(data[:4], "little"))
        if sum(map(len, (stmt.param_buffers or {}).values())) > wire.MAX_COMMAND:
            stmt.param_buffers = None
            stmt._dorisbk_long_data_dropped = True  # type: ignore[attr-defined]


class DorisMysqlServer(MysqlServer):
    """The library's server, building :class:`DorisConnection` for each client."""

    async def start_server(self, **kwargs: Any) -> None:
        DorisConnection.started = time.monotonic()
        await super().start_server(**kwargs)

    async def _client_connected_cb(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stream = wire.PacketStream(MysqlStream(reader, writer))
        try:
            session = self.session_factory()
            if asyncio.iscoroutine(session):
                session = await session
            connection = DorisConnection(
                stream=stream,  # type: ignore[arg-type]
                session=session,  # type: ignore[arg-type]
                control=self.control,
                server_capabilities=self.capabilities,
                identity_provider=self.identity_provider,
                ssl=self.ssl,
            )
        except Exception:
            log.exception("failed to create a connection")
            await stream.write(packets.make_error(capabilities=self.capabilities, msg="Failed to create connection"))
            writer.close()
            return
        try:
            connection_id = await self.control.add(connection)
        except TooManyConnections:
            await stream.write(connection.error(msg="Too many connections", code=ErrorCode.CON_COUNT_ERROR))
            writer.close()
            return
        connection.connection_id = connection_id
        try:
            await connection.start()
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, ConnectionClosed) as exc:
            log.info("connection %s ended: %s", connection_id, type(exc).__name__)
        except Exception:
            log.exception("connection %s failed", connection_id)
        finally:
            writer.close()
            await self.control.remove(connection_id)


_original_handle_query = Connection.handle_query
_original_authenticate = Connection.authenticate
_original_ok = Connection.ok
_original_error = Connection.error
_original_column_definition = packets.make_column_definition_41
_original_ok_or_eof = Connection.ok_or_eof
_original_parse_com_query = packets.parse_com_query


class _QuietTlsEof(logging.Filter):
    """asyncio warns on every TLS client that closes without close_notify (most do)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "eof_received() has no effect when using ssl" not in record.getMessage()


def apply() -> None:
    if getattr(packets, "_dorisbk_patched", False):
        return
    logging.getLogger("asyncio").addFilter(_QuietTlsEof())
    packets.make_column_definition_41 = _column_definition
    connection_module.make_column_definition_41 = _column_definition
    Connection.ok_or_eof = _ok_or_eof  # type: ignore[method-assign]
    Connection.com_stmt_prepare_response = _prepare_response  # type: ignore[method-assign]
    Connection.authenticate = _authenticate  # type: ignore[method-assign]
    Connection.error = _error  # type: ignore[method-assign]
    Connection.ok = _ok  # type: ignore[method-assign]
    Connection.handle_query = _handle_query  # type: ignore[method-assign]
    packets.parse_com_stmt_execute = _parse_com_stmt_execute
    packets.parse_com_query = _parse_com_query
    errors.SQLSTATES.update(_SQLSTATES)  # type: ignore[arg-type]
    packets._dorisbk_patched = True  # type: ignore[attr-defined]


_MARIADB_CONNECT_SET = ("SET", "AUTOCOMMIT", "=", "1", ",", "SQL_MODE", "=", "CONCAT", "(", "@@", "SQL_MODE", ",")


def is_mariadb_connect_set(sql: str) -> bool:
    """MariaDB Connector/J 2.x and MariaDB ODBC send ``set autocommit=1, sql_mode = concat(@@sql_mode, ...)``
    on connect, which the library refuses (complex expression in SET); accept it as a no-op. Told by its
    first tokens, read from the head of the text only (this runs on the event loop for every statement)."""
    tokens = lex(sql[:256]).tokens[: len(_MARIADB_CONNECT_SET)]
    return len(tokens) == len(_MARIADB_CONNECT_SET) and all(
        is_word(token, word) for token, word in zip(tokens, _MARIADB_CONNECT_SET, strict=True)
    )
