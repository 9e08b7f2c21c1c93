"""The MySQL session: translates between mysql-mimic and the statement router, nothing more.

Statements run in worker threads so the event loop keeps serving other connections.
Every error leaves as a MySQL error packet with its code and a Doris-style message; the
connection stays usable.
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import datetime as dt
import decimal
import functools
import logging
import math
import re
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import sqlglot
from mysql_mimic import ColumnType, ResultColumn, ResultSet, Session
from mysql_mimic.charset import CharacterSet
from mysql_mimic.constants import INFO_SCHEMA
from mysql_mimic.errors import ErrorCode, MysqlError
from mysql_mimic.intercept import expression_to_value
from mysql_mimic.types import ColumnDefinition
from mysql_mimic.utils import aiterate, find_tables
from mysql_mimic.variables import SYSTEM_VARIABLES, GlobalVariables, SessionVariables
from sqlglot import exp

from dorisbk import interrupt
from dorisbk.auth.users import require_admin
from dorisbk.config import VERSION
from dorisbk.engine.dialect import DorisBK, lex
from dorisbk.engine.query import Origin, RowStream, name_projections
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError, ParseError, UnknownDatabase
from dorisbk.server import compat
from dorisbk.server.audit import AuditEvent, AuditLog, AuditState
from dorisbk.server.control import SessionControl
from dorisbk.server.workers import STATEMENT_WORKERS
from dorisbk.sql import clock, info_schema
from dorisbk.sql.handlers.show import VIRTUAL_DBS
from dorisbk.sql.router import (
    Router,
    clean_parse_error,
    executable_comments,
    leading_words,
    log_text,
    odbc_escapes,
    redacted,
)
from dorisbk.sql.user_variables import UserVariables
from dorisbk.timeutil import session_zone

log = logging.getLogger(__name__)
T = TypeVar("T")

_WIRE_TYPES = {
    "TINYINT": ColumnType.TINY,
    "BOOLEAN": ColumnType.TINY,
    "SMALLINT": ColumnType.SHORT,
    "INT": ColumnType.LONG,
    "BIGINT": ColumnType.LONGLONG,
    # Doris sends LARGEINT as text (MYSQL_TYPE_STRING, utf8): 128 bits fit no MySQL integer type
    "LARGEINT": ColumnType.STRING,
    "FLOAT": ColumnType.FLOAT,
    "DOUBLE": ColumnType.DOUBLE,
    "DECIMAL": ColumnType.NEWDECIMAL,
    "DATE": ColumnType.DATE,
    "DATETIME": ColumnType.DATETIME,
    "VARCHAR": ColumnType.VAR_STRING,
    "BLOB": ColumnType.BLOB,
    "NULL": ColumnType.NULL,
}

# Display lengths (column_length) of the fixed-size kinds, as Doris and MySQL send them.
_LENGTHS = {
    "TINYINT": 4,
    "BOOLEAN": 1,
    "SMALLINT": 6,
    "INT": 11,
    "BIGINT": 20,
    "LARGEINT": 255,
    "FLOAT": 12,
    "DOUBLE": 22,
    "DATE": 10,
    "DATETIME": 19,
    "VARCHAR": 65533,
    "ARRAY": 65533,
    "BLOB": 65535,
    "NULL": 0,
}
_TEXT_KINDS = ("VARCHAR", "ARRAY", "LARGEINT")  # utf8; every other kind is binary (63), as in Doris and MySQL
_NOT_FIXED_DEC = 31  # the decimals of FLOAT / DOUBLE: not a fixed number of digits
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)", re.I)
_FRACTION = {"TIMESTAMP_S": 0, "TIMESTAMP_MS": 3, "TIMESTAMP_NS": 6}  # DuckDB timestamps of a fixed precision

_NO_LIMIT = 2**63 - 1  # sql_select_limit's default: no limit

# Variables clients set or read on connect that the library does not know.
_EXTRA_VARIABLES: dict[str, tuple[Any, Any, bool]] = {
    "version": (str, "5.7.99-dorisbk", False),
    "version_comment": (str, f"Doris version {VERSION} (dorisbk)", False),
    "session_track_schema": (bool, True, True),
    "session_track_system_variables": (str, "", True),
    "session_track_state_change": (bool, False, True),
    "session_track_transaction_info": (str, "OFF", True),
    "query_timeout": (int, 900, True),
    "exec_mem_limit": (int, 2147483648, True),
    "enable_profile": (bool, False, True),
    "parallel_fragment_exec_instance_num": (int, 8, True),
    "lower_case_table_names": (int, 0, False),
    "license": (str, "Apache License, Version 2.0", False),
    "system_time_zone": (str, "UTC", False),
    "time_zone": (str, "UTC", True),
    "sql_select_limit": (int, _NO_LIMIT, True),
    "insert_timeout": (int, 14400, True),
    "enable_insert_strict": (bool, True, True),
    "default_storage_engine": (str, "olap", True),
    "language": (str, "/palo/share/english/", False),
    "performance_schema": (bool, False, False),
    "query_cache_size": (int, 1048576, False),
    "query_cache_type": (int, 0, True),
    "sql_mode": (str, "ONLY_FULL_GROUP_BY", True),
    # read by SQLAlchemy, DBeaver, Metabase, Connector/J and ODBC on connect
    "tx_isolation": (str, "READ-COMMITTED", True),
    "tx_read_only": (bool, False, True),
    "transaction_read_only": (bool, False, True),
    "storage_engine": (str, "olap", True),
    "character_set_system": (str, "utf8mb3", False),
    "character_set_filesystem": (str, "binary", True),
    "net_read_timeout": (int, 60, True),
    "net_write_timeout": (int, 600, True),  # Doris's: a client that takes no bytes for this long is gone
    "connect_timeout": (int, 10, True),  # MySQL's: seconds a client has to log in (SET GLOBAL changes it)
    "have_ssl": (str, "DISABLED", False),
    "hostname": (str, "localhost", False),
    "port": (int, 9030, False),
    "max_connections": (int, 4096, True),
    "div_precision_increment": (int, 4, True),
    "group_concat_max_len": (int, 1024, True),
    "default_week_format": (int, 0, True),
    "version_compile_os": (str, "Linux", False),
    "version_compile_machine": (str, "x86_64", False),
    "protocol_version": (int, 10, False),  # mycli's status command
    # Doris session variables that scripts and Doris's own regression suites set; accepted and kept per
    # session (DuckDB plans every query, so the planner switches change nothing here)
    "enable_nereids_planner": (bool, True, True),
    "enable_fold_constant_by_be": (bool, False, True),
    "debug_skip_fold_constant": (bool, False, True),
    "enable_decimal256": (bool, False, True),
    "enable_fallback_to_original_planner": (bool, False, True),
    "experimental_enable_nereids_planner": (bool, True, True),
    "enable_pipeline_engine": (bool, True, True),
    "enable_pipeline_x_engine": (bool, True, True),
    "parallel_pipeline_task_num": (int, 0, True),
    "enable_vectorized_engine": (bool, True, True),
    "batch_size": (int, 4064, True),
    "disable_join_reorder": (bool, False, True),
    "enable_sql_cache": (bool, False, True),
    "enable_query_cache": (bool, False, True),
    "enable_unique_key_partial_update": (bool, False, True),
    "enable_local_exchange": (bool, True, True),
    "runtime_filter_type": (str, "IN_OR_BLOOM_FILTER,MIN_MAX", True),
    "enable_spill": (bool, False, True),
    "show_hidden_columns": (bool, False, True),
    "skip_delete_predicate": (bool, False, True),
    "skip_storage_engine_merge": (bool, False, True),
    "enable_memtable_on_sink_node": (bool, True, True),
    "default_order_by_limit": (int, -1, True),
    "max_execution_time": (int, 0, True),
    "workload_group": (str, "", True),
    "enable_match_without_inverted_index": (bool, True, True),
    "inverted_index_skip_threshold": (int, 50, True),
    "enable_common_expr_pushdown": (bool, True, True),
    # set by mysqldump and by the files it writes (Doris keeps them too; nothing here depends on them)
    "sql_quote_show_create": (bool, True, True),
    "unique_checks": (bool, True, True),
    "foreign_key_checks": (bool, True, True),
    "sql_notes": (bool, True, True),
    "sql_log_bin": (bool, True, True),
}


class ServerVariables(GlobalVariables):
    """The server's global values: SET GLOBAL writes here, and every session reads what it has not set itself.
    Values are kept in the metadata store, so they survive restarts."""

    def __init__(self, env: Env) -> None:
        super().__init__({**SYSTEM_VARIABLES, **_EXTRA_VARIABLES})
        self.env = env
        self.applied(env.global_variables)
        env.global_variables_applied = self.applied

    def applied(self, values: dict[str, Any]) -> None:
        """Values from the store: at start, and in shared mode as another node SETs GLOBAL."""
        for name, value in values.items():
            if name in self.schema:
                super().set(name, value)

    def set(self, name: str, value: Any, force: bool = False) -> None:
        super().set(name, value, force)
        self.env.save_global_variable(name.lower(), self.get_variable(name))


class DorisSessionVariables(SessionVariables):
    def get_variable(self, name: str) -> Any | None:
        name = name.lower()
        if name in self._values:
            return self._values[name]
        return self.global_variables.get_variable(name)


def _wire_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (list, dict)):
        return nested_text(value)
    return value


def nested_text(value: Any, datatype: exp.DataType | None = None) -> str:
    """An ARRAY, MAP or STRUCT value as Doris prints it: ``[1, 2]``, ``["a", null]``, ``{"k":1}``.
    ``datatype`` is the value's DuckDB type when known: a FLOAT element is printed at float precision
    (``0.1``, not the double ``0.10000000149011612``) and a DATETIME(3) element with its 3 digits."""
    if value is None:
        return "null"
    inner = datatype.expressions if datatype is not None else []
    if isinstance(value, list):
        element = inner[0] if inner and isinstance(inner[0], exp.DataType) else None
        return "[" + ", ".join(nested_text(v, element) for v in value) + "]"
    if isinstance(value, dict):
        if datatype is not None and datatype.is_type(exp.DataType.Type.MAP) and len(inner) == 2:
            key_type, value_type = inner
            pairs = [(nested_text(k, key_type), nested_text(v, value_type)) for k, v in value.items()]
        else:
            fields = {f.name: f.args.get("kind") for f in inner if isinstance(f, exp.ColumnDef)}
            pairs = [(nested_text(k), nested_text(v, fields.get(k))) for k, v in value.items()]
        return "{" + ", ".join(f"{k}:{v}" for k, v in pairs) + "}"
    if isinstance(value, str):
        return '"' + value + '"'  # as Doris prints it: ["{"a":1}"], quotes inside left as they are
    if isinstance(value, dt.datetime) and datatype is not None and datatype.is_type(exp.DataType.Type.TIMESTAMP_MS):
        return f'"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"'
    if isinstance(value, (dt.date, dt.datetime)):
        return f'"{value}"'
    if isinstance(value, float) and datatype is not None and datatype.is_type(exp.DataType.Type.FLOAT):
        value = _float32(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # Doris prints a whole DOUBLE without ".0"
    return str(_wire_value(value))


def _float32(value: float) -> float:
    """The shortest double that reads back as the same FLOAT (single precision) as ``value``."""
    if not math.isfinite(value):
        return value
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        shortest = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", shortest))[0] == single:
            return shortest
    return value


@functools.cache
def _nested_type(duck_type: str) -> exp.DataType | None:
    """A result column's DuckDB type (``FLOAT[]``, ``MAP(VARCHAR, INTEGER)``) as a tree, None if unreadable."""
    try:
        return exp.DataType.build(duck_type, dialect="duckdb")
    except (sqlglot.errors.SqlglotError, ValueError):
        return None


class ColumnName(str):
    """A result column's name that carries the rest of its column definition (schema, table and
    original names, length, flags, decimals) to the packet writer, which reads ``definition``."""

    definition: dict[str, Any]


def to_wire(result: Result) -> tuple[list[tuple], list[ResultColumn]]:
    types = getattr(result, "types", None) or [None] * len(result.columns)
    origins = getattr(result, "origins", None) or [None] * len(result.columns)
    columns = [
        wire_column(name, kind, duck_type, origin)
        for (name, kind), duck_type, origin in zip(result.columns, types, origins, strict=True)
    ]
    return wire_rows(result.columns, result.rows, types), columns


def wire_column(name: str, kind: str, duck_type: str | None = None, origin: Origin | None = None) -> ResultColumn:
    """A result column as MySQL and Doris define it: type, character set (utf8 for text, binary for
    numbers and dates), display length, decimals, flags, and for a column of a table or view the
    database, table and original names. ``duck_type`` is the column's DuckDB type (a DECIMAL's
    precision and scale); ``origin`` the table column it reads as it is, if any."""
    wire_type = _WIRE_TYPES.get(kind, ColumnType.VAR_STRING)
    text = kind in _TEXT_KINDS
    length = _LENGTHS.get(kind, 65533)
    decimals = 0
    flags = 0 if text else ColumnDefinition.BINARY_FLAG
    fraction: int | None = None  # a DATETIME's digits after the second, when known
    declared = origin.type if origin is not None else None
    if kind == "DECIMAL":
        precision, scale = 38, 9
        if declared is not None and declared.precision is not None:
            precision, scale = declared.precision, declared.scale or 0
        elif duck_type and (match := _DECIMAL_TYPE.search(duck_type)):
            precision, scale = int(match.group(1)), int(match.group(2))
        length, decimals = precision + (2 if scale else 1), scale  # digits, sign and point
    elif kind in ("FLOAT", "DOUBLE"):
        decimals = _NOT_FIXED_DEC
    elif kind == "DATETIME":
        if declared is not None and declared.name.startswith("DATETIME"):
            fraction = declared.scale or 0
        elif duck_type in _FRACTION:
            fraction = _FRACTION[duck_type]
        if fraction:
            length, decimals = 20 + fraction, fraction
    elif kind == "VARCHAR" and declared is not None and declared.name in ("CHAR", "VARCHAR") and declared.length:
        length = declared.length * 3  # characters of utf8, at most 3 bytes each
    elif kind == "BLOB":
        flags |= ColumnDefinition.BLOB_FLAG
    definition: dict[str, Any] = {"column_length": length, "decimals": decimals}
    if origin is not None:
        if not origin.nullable:
            flags |= ColumnDefinition.NOT_NULL_FLAG
        if origin.key == "PRI":
            flags |= ColumnDefinition.PRI_KEY_FLAG
        elif origin.key == "MUL":
            flags |= ColumnDefinition.MULTIPLE_KEY_FLAG
        if origin.auto_increment:
            flags |= ColumnDefinition.AUTO_INCREMENT_FLAG
        definition.update(schema=origin.db, table=origin.table, org_table=origin.org_table, org_name=origin.name)
    definition["flags"] = ColumnDefinition(flags)
    # the character set the definition names; values are written as utf8 text either way (no codec is
    # called "binary", and numbers and dates are ASCII)
    definition["character_set"] = CharacterSet.utf8 if text else CharacterSet.binary
    column_name = ColumnName(name)
    column_name.definition = definition
    if fraction is not None:
        encoder = _datetime_text(fraction)
        return ResultColumn(column_name, wire_type, character_set=CharacterSet.utf8, text_encoder=encoder)
    if kind in ("DATE", "DATETIME"):
        return ResultColumn(column_name, wire_type, character_set=CharacterSet.utf8, text_encoder=_year_zero_text)
    return ResultColumn(column_name, wire_type, character_set=CharacterSet.utf8)


def _year_zero(text: str) -> str:
    """Doris's year 0 is DuckDB's 1 BC, which DuckDB hands over as text: '0001-08-01 (BC) 13:21:03' is
    Doris's '0000-08-01 13:21:03'."""
    if text.startswith("0001-") and text[10:15] == " (BC)":
        return "0000" + text[4:10] + text[15:]
    return text


def _year_zero_text(_column: ResultColumn, value: Any) -> bytes:
    return _year_zero(str(value)).encode()


def _datetime_text(fraction: int) -> Callable[[ResultColumn, Any], bytes]:
    """The text of a DATETIME(p) value as Doris prints it: exactly ``p`` digits after the second."""

    def encode(_column: ResultColumn, value: Any) -> bytes:
        if not isinstance(value, dt.datetime):
            return _year_zero(str(value)).encode()
        day = f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        text = f"{day} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        if fraction:
            text += "." + f"{value.microsecond:06d}"[:fraction]
        return text.encode()

    return encode


def wire_rows(
    kinds: list[tuple[str, str]], rows: Sequence[Sequence[Any]], types: Sequence[str | None] | None = None
) -> list[tuple]:
    """Rows of a result with ``kinds`` columns as the wire library writes them (BOOLEAN and DECIMAL
    converted, ARRAY / MAP / STRUCT values as text, printed by their DuckDB ``types`` when known)."""
    if not any(kind in ("BOOLEAN", "DECIMAL", "ARRAY") for _n, kind in kinds):
        return list(rows)  # type: ignore[arg-type]
    nested = [
        _nested_type(duck_type) if kind == "ARRAY" and duck_type else None
        for (_n, kind), duck_type in zip(kinds, types or [None] * len(kinds), strict=True)
    ]
    return [
        tuple(
            nested_text(v, datatype) if datatype is not None and v is not None else _wire_value(v)
            for v, datatype in zip(row, nested, strict=True)
        )
        for row in rows
    ]


def to_mysql_error(exc: DorisError) -> MysqlError:
    """Doris's message shape: ``errCode = 2, detailMessage = ...`` (access errors keep MySQL's own words)."""
    message = exc.message if exc.code in (1045,) else f"errCode = 2, detailMessage = {exc.message}"
    return MysqlError(message, code=exc.code)  # type: ignore[arg-type]


class DorisSession(Session):
    """One client connection."""

    dialect = DorisBK

    def __init__(self, env: Env, router: Router, global_variables: ServerVariables, audit: AuditLog) -> None:
        super().__init__(variables=DorisSessionVariables(global_variables))
        self.audit = audit
        self.variables.set("port", env.config.port, force=True)
        self.variables.set("have_ssl", "YES" if env.config.tls_cert else "DISABLED", force=True)
        self.env = env
        self.router = router
        self.affected_rows = 0
        self.ok_info: str | None = None  # the next OK packet's info (an INSERT's label and txn)
        # SHOW PROCESSLIST: what this connection does and since when
        self.login_time = time.time()
        self.command = "Sleep"
        self.command_start = time.time()
        self.info = ""
        self.query_id = ""
        self.statement = interrupt.Statement()  # the one running (KILL and query_timeout cancel it), or the last
        self._streams: set[RowStream] = set()  # results being sent a batch at a time
        self.user_variables = UserVariables()
        self._in_executable_comment = False  # the last statement ended inside /*! ... (see executable_comments)

    def timezone(self) -> dt.tzinfo:  # type: ignore[override]
        """The session's ``time_zone`` (NOW(), CURDATE() and friends are read in it): any name Doris takes."""
        return session_zone(str(self.variables.get("time_zone")))

    def user_name(self) -> str:
        """The logged-in user. A connection whose login failed is closed before it runs anything (compat), so
        a session without one is refused rather than ever taken for someone."""
        if not self.username:
            raise MysqlError("Access denied: not logged in", code=ErrorCode.ACCESS_DENIED_ERROR)
        return self.username

    def context(self) -> SessionContext:
        return SessionContext(
            user=self.user_name(),
            db=self.database or None,
            connection_id=self.connection_id,
            time_zone=str(self.variables.get("time_zone")),
            user_variables=self.user_variables.values,
            insert_strict=bool(self.variables.get("enable_insert_strict")),
        )

    async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        """Run one statement and write its audit line when it ends: with the error it failed with, or once
        its rows are sent (a streamed result's, when the last is taken)."""
        started = time.monotonic()
        try:
            result = await self._run_statement(sql, attrs)
        except MysqlError as exc:
            self._audit(sql, started, AuditState.ERR, code=int(exc.code), message=exc.msg)
            raise
        except asyncio.CancelledError:  # KILL: the client reads compat's "Query was killed"
            killed = int(ErrorCode.SESSION_WAS_KILLED)
            self._audit(sql, started, AuditState.ERR, code=killed, message="Query was killed")
            raise
        if isinstance(result, ResultSet):
            result = result.rows, result.columns
        rows, columns = result if isinstance(result, tuple) else ([], [])
        if not columns:
            self._audit(sql, started, AuditState.OK)
            return result
        if isinstance(rows, Sequence):
            self._audit(sql, started, AuditState.EOF, rows=len(rows))
            return result
        return self._audited_rows(rows, sql, started), columns

    async def _audited_rows(self, rows: Any, sql: str, started: float) -> AsyncIterator[tuple]:
        """A streamed result's rows, counted; the audit line is written when they end (or stop)."""
        sent = 0
        try:
            async for row in aiterate(rows):
                sent += 1
                yield row
        finally:
            self._audit(sql, started, AuditState.EOF, rows=sent)

    def _audit(
        self, sql: str, started: float, state: AuditState, *, code: int = 0, message: str = "", rows: int = 0
    ) -> None:
        connection = self._connection
        peer = connection.stream.writer.get_extra_info("peername") if connection is not None else None
        client = f"{peer[0]}:{peer[1]}" if peer else ""
        elapsed = int((time.monotonic() - started) * 1000)
        event = AuditEvent(client, self.username or "", self.database or "", state, code, message, elapsed, rows,
                           self.audit.next_stmt_id(), self.query_id, sql)  # fmt: skip
        self.audit.write(event)

    async def _run_statement(self, sql: str, attrs: dict[str, str]) -> Any:
        self.command, self.command_start, self.info = "Query", time.time(), sql
        self.query_id = uuid.uuid4().hex
        self.statement = statement = interrupt.Statement()
        failed = True
        try:
            async with asyncio.timeout(self._timeout_s(sql)):
                answer = await self._handle_query(sql, attrs)
            failed = False
            return answer
        except TimeoutError:  # the client hears of it now; the worker stops at its next step
            statement.cancel(interrupt.Cancel.TIMEOUT)
            raise to_mysql_error(statement.error()) from None
        except asyncio.CancelledError:  # KILL [QUERY | CONNECTION] of this connection
            statement.cancel(interrupt.Cancel.KILLED)
            raise
        finally:
            self.command, self.command_start = "Sleep", time.time()
            self.env.metrics.statement_done(failed)  # /metrics' doris_fe_query_total and doris_fe_query_err

    def _timeout_s(self, sql: str) -> int:
        """The statement's time limit as Doris sets it: ``query_timeout`` seconds, for a load at least
        ``insert_timeout``. A value that is not positive does not lift the limit: the default applies."""
        seconds = int(self.variables.get("query_timeout"))
        if leading_words(sql, 1) in (["INSERT"], ["UPDATE"], ["DELETE"]):
            seconds = max(seconds, int(self.variables.get("insert_timeout")))
        return seconds if seconds > 0 else int(_EXTRA_VARIABLES["query_timeout"][1])

    async def _in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread, as work of the running statement, within this user's share."""
        user = self.user_name()
        account = self.env.users.get(user)
        admin = account is not None and account.has("ADMIN_PRIV")
        return await STATEMENT_WORKERS.run(user, admin, self.statement.run, fn, *args)

    @property
    def connection_id(self) -> int:
        """0 before the handshake gave this session its connection."""
        return self._connection.connection_id if self._connection is not None else 0

    def process_row(self, full: bool) -> tuple[Any, ...] | None:
        """This connection as SHOW [FULL] PROCESSLIST lists it (Doris cuts Info at 100 characters)."""
        connection = self._connection
        if connection is None or not connection.connection_id:
            return None
        peer = connection.stream.writer.get_extra_info("peername") or ("", 0)
        login = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.login_time))
        # no secret of another session's CREATE REPOSITORY, CREATE USER, ...; Doris cuts Info at 100 characters
        info = redacted(self.info, None if full else 100)
        return (connection.connection_id, self.username or "", f"{peer[0]}:{peer[1]}", login, "internal",
                self.database or "", self.command, int(time.time() - self.command_start),
                "OK" if self.command == "Sleep" else "RUNNING", self.query_id, info)  # fmt: skip

    async def _kill_middleware(self, q: Any) -> Any:
        """KILL [CONNECTION | QUERY] id as Doris checks it: a known connection, one's own unless ADMIN."""
        if isinstance(q.expression, exp.Kill) and self._connection is not None:
            this = q.expression.this.name
            control = self._connection.control
            target = control.connection(int(this)) if this.isdigit() and isinstance(control, SessionControl) else None
            if target is None:
                raise to_mysql_error(DorisError(f"Unknown thread id: {this}", code=1094))
            if target.session.username != self.username:
                user = self.env.users.require(self.user_name())
                if not user.has("ADMIN_PRIV"):
                    raise to_mysql_error(DorisError(f"You are not owner of thread or query: {this}", code=1095))
        return await super()._kill_middleware(q)

    async def _handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        # /*!40101 SET NAMES utf8mb4 */ and the rest of a mysqldump file
        sql, self._in_executable_comment = executable_comments(sql, self._in_executable_comment)
        sql = odbc_escapes(sql)  # {d '2024-01-01'}, {fn ...}, {oj ...}
        try:
            if _only_comments(sql):  # /*!80016 ... */ of a newer server, the end of a split comment: OK
                return None
            if compat.is_mariadb_connect_set(sql):
                return None
            if self.router.handles(sql):
                result = await self._in_worker(self.router.route, self.context(), sql)
                return to_wire(result) if isinstance(result, Result) else result
            return await super().handle_query(sql, attrs)
        except DorisError as exc:
            raise to_mysql_error(exc) from None
        except sqlglot.errors.ParseError as exc:
            raise to_mysql_error(clean_parse_error(exc)) from None
        except sqlglot.errors.TokenError as exc:
            raise to_mysql_error(DorisError(f"Syntax error: {exc}", code=1064)) from None
        except MysqlError:
            raise
        except RecursionError:
            raise to_mysql_error(ParseError("Syntax error: the statement is nested too deeply")) from None
        except Exception:  # a bug of ours: the client gets a plain error, the log the traceback
            log.exception("statement %s failed: %s", self.query_id, log_text(sql))
            message = f"Unexpected exception: internal error of query {self.query_id}, see the server log"
            raise to_mysql_error(DorisError(message)) from None

    async def query(self, expression: exp.Expression, sql: str, attrs: dict[str, str]) -> Any:
        """SELECT / INSERT and the rest that the library's middlewares did not answer."""
        ctx = self.context()
        try:
            expression, assigned = self.user_variables.substitute(expression)
        except ValueError as exc:
            raise to_mysql_error(DorisError(str(exc), code=1064)) from None
        limit = int(self.variables.get("sql_select_limit"))
        if isinstance(expression, exp.Query) and expression.args.get("limit") is None and 0 <= limit < _NO_LIMIT:
            expression = expression.limit(limit)  # sql_select_limit: the top-level SELECT only, as in MySQL
        result = await self._in_worker(self.router.execute_expression, ctx, expression)
        if assigned and isinstance(result, Result) and not isinstance(result.rows, RowStream) and result.rows:
            for position, name in assigned:  # SELECT @v := expr: v holds the value of the last row
                self.user_variables.values[name] = result.rows[-1][position]
        # an INSERT's OK packet carries the loaded row count and its label (compat's OK reads them)
        self.affected_rows = int(ctx.variables.get("affected_rows", 0))
        self.ok_info = ctx.variables.get("ok_info")
        if isinstance(result, Result) and isinstance(result.rows, RowStream):
            rows, columns = to_wire(dataclasses.replace(result, rows=result.rows.pending))
            types = getattr(result, "types", None)
            return self._streamed(result.rows, result.columns, types, rows), columns
        return to_wire(result) if isinstance(result, Result) else result

    async def _streamed(
        self, stream: RowStream, kinds: list[tuple[str, str]], types: Sequence[str | None] | None, first: list[tuple]
    ) -> AsyncIterator[tuple]:
        """A large result's rows as the wire takes them (compat writes them a batch at a time): each next
        batch is fetched in a worker, as work of this statement so that KILL stops it, once the one before
        was taken."""
        self._streams.add(stream)
        try:
            rows = first
            while rows:
                for row in rows:
                    yield row
                rows = wire_rows(kinds, await self._in_worker(stream.fetch), types)
        finally:
            self._streams.discard(stream)
            stream.close()

    async def close(self) -> None:
        """The connection ended: results it did not read to the end give back their cursors and files."""
        for stream in list(self._streams):
            stream.close()
        self._streams.clear()
        await super().close()

    # ---- the library's middlewares, adjusted
    def _parse(self, sql: str) -> list[exp.Expression]:
        """One statement per query (the server does not offer CLIENT_MULTI_STATEMENTS), and a
        statement, not a bare expression such as ``foo`` or ``1``. A comment after the last ``;`` is
        no statement (Doris's own suites write ``...; -- why``)."""
        expressions = [e for e in super()._parse(sql) if not isinstance(e, exp.Semicolon)]
        if len(expressions) > 1 and not all(isinstance(e, (exp.Set, exp.Use)) for e in expressions):
            raise ParseError("Syntax error: only one statement per query is allowed (multi-statements are off)")
        for expression in expressions:
            if isinstance(expression, (exp.Condition, exp.Alias, exp.Identifier)) and not isinstance(
                expression, exp.Query
            ):
                raise ParseError(f"Syntax error at line 1, column 1 near '{_near(sql)}': not a statement")
            if isinstance(expression, exp.Select) and not expression.expressions:
                raise ParseError("Syntax error: SELECT without a select list")
            for union in expression.find_all(exp.SetOperation):
                if not all(isinstance(side, exp.Query) for side in (union.this, union.expression)):
                    raise ParseError(f"Syntax error at line 1, column 1 near '{_near(sql)}': {union.key.upper()} "
                                     "joins two queries")  # fmt: skip
        return expressions

    async def _set_var_middleware(self, q: Any) -> Any:
        """Name function columns by their text, as MySQL and Doris do (``DATABASE()``, ``count(*)``),
        before the library replaces ``DATABASE()`` and friends by literals named after sqlglot's spelling."""
        if isinstance(q.expression, exp.Select):
            name_projections(q.expression, q.sql)
        if isinstance(q.expression, (exp.Query, exp.Insert, exp.Update, exp.Delete)):
            # NOW(p), CURDATE() and friends: typed literals of this statement's start, before the library
            # would put untyped, second-rounded text in their place
            q.expression = clock.fix(q.expression, self.timestamp)
        return await super()._set_var_middleware(q)

    async def _query_info_schema(self, expression: exp.Expression) -> Any:
        """information_schema / mysql tables, answered from the catalog (``sql.info_schema``)."""
        if "ONLY_FULL_GROUP_BY" not in str(self.variables.get("sql_mode")).upper():
            expression = _loose_group_by(expression)
        try:
            result = await self._in_worker(info_schema.query, self.env, self.context(), expression)
        except DorisError as exc:
            raise to_mysql_error(exc) from None
        return to_wire(result)

    async def _show(self, expression: exp.Show) -> Any:
        """SHOW statements the router leaves to the library: VARIABLES and STATUS with text columns,
        CHARACTER SET and COLLATION from information_schema (DBeaver, Connector/J)."""
        kind = expression.name.upper()
        like = expression.text("like")
        if kind == "VARIABLES":
            rows = [(k, None if v is None else str(v)) for k, v in self.variables.list()]
            return _text_rows(["Variable_name", "Value"], rows, like)
        if kind == "STATUS":
            return _text_rows(["Variable_name", "Value"], self._status(), like)
        if kind in _NO_ROWS:  # Doris has no triggers or events: MySQL's columns, no rows (mysqldump asks)
            return _text_rows(_NO_ROWS[kind], [], None)
        if kind in ("CHARACTER SET", "CHARSET", "COLLATION"):
            if kind == "COLLATION":
                names = ["COLLATION_NAME AS `Collation`", "CHARACTER_SET_NAME AS `Charset`", "ID AS `Id`",
                         "IS_DEFAULT AS `Default`", "IS_COMPILED AS `Compiled`", "SORTLEN AS `Sortlen`"]  # fmt: skip
                table, key = "collations", "COLLATION_NAME"
            else:
                names = ["CHARACTER_SET_NAME AS `Charset`", "DESCRIPTION AS `Description`",
                         "DEFAULT_COLLATE_NAME AS `Default collation`", "MAXLEN AS `Maxlen`"]  # fmt: skip
                table, key = "character_sets", "CHARACTER_SET_NAME"
            select = exp.select(*names, dialect="mysql").from_(f"information_schema.{table}", dialect="mysql")
            if like:
                select = select.where(exp.Like(this=exp.column(key), expression=exp.Literal.string(like)))
            return await self._query_info_schema(select)
        return await super()._show(expression)

    def _status(self) -> list[tuple[str, str]]:
        """SHOW STATUS: the few counters clients and people look at, and this connection's TLS."""
        connection = self._connection
        cipher, version = "", ""
        if connection is not None:
            ssl_object = connection.stream.writer.get_extra_info("ssl_object")
            if ssl_object is not None:
                cipher, version = ssl_object.cipher()[0], ssl_object.version() or ""
        uptime = int((time.time() * 1000 - self.env.started_ms) / 1000)
        threads = (
            connection.control.count()
            if connection is not None and isinstance(connection.control, SessionControl)
            else 0
        )
        return [
            ("Open_tables", "0"),  # mycli's status command reads these three
            ("Opened_tables", "0"),
            ("Slow_queries", "0"),
            ("Ssl_cipher", cipher),
            ("Ssl_version", version),
            ("Threads_connected", str(threads)),
            ("Uptime", str(max(uptime, 0))),
        ]

    def _set_names(self, item: Any) -> None:
        """``SET NAMES x``: an unknown character set is MySQL's 1115, not a Python KeyError."""
        name = item.name
        if name.upper() == "DEFAULT":
            super()._set_names(item)
            return
        charset = CharacterSet.__members__.get("utf8" if name.lower() == "utf8mb3" else name.lower())
        if charset is None or not _has_codec(charset):  # macce, binary, ...: nothing could decode its bytes
            raise MysqlError(f"Unknown character set: '{name}'", code=1115)  # type: ignore[arg-type]
        collation = item.text("collate") or charset.default_collation.name
        for variable in ("character_set_client", "character_set_connection", "character_set_results"):
            self.variables.set(variable, charset.name)
        self.variables.set("collation_connection", collation)

    async def _static_query_middleware(self, q: Any) -> Any:
        """``SELECT <expressions>`` without FROM runs on DuckDB like every other query (the library's
        sqlglot executor knows few functions); ``@@variables`` were already replaced by their values."""
        return await q.next()

    async def _info_schema_middleware(self, q: Any) -> Any:
        """information_schema / mysql answer queries whose every table is in them (or a metadata table
        function, ``jobs("type" = "backup")``); a query naming Doris tables goes to the engine even while
        ``USE information_schema`` is in effect."""
        tables = find_tables(q.expression)
        dbs = [(t.text("db") or self.database or "").lower() for t in tables if not info_schema.metadata_function(t)]
        if tables and all(db in INFO_SCHEMA for db in dbs):
            return await self._query_info_schema(q.expression)
        return await q.next()

    async def _set_middleware(self, q: Any) -> Any:
        """SET @v = expr evaluates ``expr`` (in a worker: it may read tables) and keeps the value for this
        connection; the statement's other items go on to the library's SET."""
        if isinstance(q.expression, exp.Set):
            rest = []
            for item in q.expression.expressions:
                assignment = item.this
                if isinstance(assignment, exp.EQ) and isinstance(assignment.left, exp.Parameter):
                    self.user_variables.assign(assignment.left, await self._user_value(assignment.right))
                else:
                    rest.append(item)
            if not rest:
                return [], []
            q.expression.set("expressions", rest)
        return await super()._set_middleware(q)

    async def _user_value(self, value: exp.Expression) -> Any:
        """What ``SET @v = value`` stores: a literal as it is, anything else as the engine answers it."""
        if isinstance(value, exp.Literal | exp.Null | exp.Boolean):
            return expression_to_value(value)
        query, _ = self.user_variables.substitute(exp.select(value.copy()))
        result = await self._in_worker(self.router.execute_expression, self.context(), query)
        rows = list(result.rows) if isinstance(result, Result) else []
        return rows[0][0] if rows else None

    def _set_variable(self, setitem: exp.SetItem) -> None:
        """SET GLOBAL (ADMIN only, as in Doris) changes the value new and unset sessions see; SET [SESSION]
        stays with the library. A value of the wrong type is MySQL's 1232, not a Python message."""
        assignment = setitem.this
        left = assignment.left
        scope = left.text("kind") if isinstance(left, exp.SessionParameter) else setitem.text("kind")
        self._value_of(left.name.lower(), assignment)
        if left.name.lower() == "time_zone":  # refused when set, not at every later statement
            value = expression_to_value(assignment.right)
            try:
                session_zone(str(value))
            except ValueError:
                raise to_mysql_error(DorisError(f"Unknown or incorrect time zone: '{value}'", code=1298)) from None
        try:
            if (scope or "").upper() != "GLOBAL":
                super()._set_variable(setitem)
                return
            require_admin(self.env.users.require(self.user_name()))
            self.variables.global_variables.set(left.name, expression_to_value(assignment.right))
        except (ValueError, TypeError):
            raise to_mysql_error(DorisError(f"Incorrect argument type to variable '{left.name}'", code=1232)) from None

    def _value_of(self, name: str, assignment: exp.Expression) -> None:
        """The value a SET assigns, as MySQL reads it (mysqldump's files rely on each): a user variable
        holds it (``SET character_set_client = @saved_cs_client``), a bare word is its text
        (``SET character_set_client = utf8``); ``utf8mb3`` is ``utf8``, and results in ``binary``
        (unconverted) are the stored UTF-8."""
        right = assignment.args.get("expression")
        word = isinstance(right, (exp.Column, exp.Var)) and not right.text("table")
        if word and right.name.upper() not in ("ON", "OFF", "DEFAULT"):
            right = exp.Literal.string(right.name)
        elif right is not None and right.find(exp.Parameter) is not None:
            tree, _assigned = self.user_variables.substitute(exp.select(right.copy()))
            right = tree.expressions[0]
        if name in _CHARSET_VARIABLES and isinstance(right, exp.Literal) and right.is_string:
            charset = right.name.lower()
            if charset == "binary" and name == "character_set_results":
                right = exp.null()  # the default: what is stored, utf8mb4
            elif charset == "utf8mb3":
                right = exp.Literal.string("utf8")
        if right is not None:
            assignment.set("expression", right)

    @property
    def database(self) -> str | None:  # type: ignore[override]
        """The current database; ``internal.db`` (a login's database, COM_INIT_DB) is ``db``."""
        return self._database

    @database.setter
    def database(self, name: str | None) -> None:
        catalog, dot, db = (name or "").partition(".")
        self._database = db if dot and catalog.lower() == "internal" else name

    async def _use_middleware(self, q: Any) -> Any:
        """``USE db`` and ``USE catalog.db`` (Doris; only the internal catalog is here)."""
        if isinstance(q.expression, exp.Use):
            target = q.expression.this
            parts = [target.catalog, target.db, target.name] if isinstance(target, exp.Table) else [target.name]
            await self.use(".".join(p for p in parts if p))
            return [], []
        return await q.next()

    async def use(self, database: str) -> None:
        failure = self.database_error(database)
        if failure is not None:
            code, message = failure
            raise MysqlError(message, code=code)  # type: ignore[arg-type]
        self.database = database

    def database_error(self, database: str) -> tuple[int, str] | None:
        """Why this user may not make ``database`` (``db`` or ``internal.db``) current (code, message), or None."""
        catalog, dot, name = database.partition(".")
        if dot:  # Doris's ``catalog.db``: the internal catalog is the only one
            if catalog.lower() != "internal":
                return 1105, to_mysql_error(DorisError(f"Unknown catalog '{catalog}'")).msg
            database = name
        if database.lower() in VIRTUAL_DBS:
            return None
        failure: DorisError | None = None
        user = self.env.users.get(self.user_name())
        if self.env.catalog.find_db(database) is None:
            failure = UnknownDatabase(f"Unknown database '{database}'")
        elif user is None or not user.has_any_in_db(database):
            identity = user.identity if user else f"'{self.username}'@'%'"
            failure = DorisError(f"Access denied for user {identity} to database '{database}'", code=1044)
        if failure is None:
            return None
        error = to_mysql_error(failure)
        return failure.code, error.msg


_CHARSET_VARIABLES = ("character_set_client", "character_set_connection", "character_set_results")

# SHOW statements of what Doris does not have, answered with MySQL's columns and no rows
_NO_ROWS = {
    "TRIGGERS": ["Trigger", "Event", "Table", "Statement", "Timing", "Created", "sql_mode", "Definer",
                 "character_set_client", "collation_connection", "Database Collation"],
    "EVENTS": ["Db", "Name", "Definer", "Time zone", "Type", "Execute at", "Interval value", "Interval field",
               "Starts", "Ends", "Status", "Originator", "character_set_client", "collation_connection",
               "Database Collation"],
}  # fmt: skip


def _text_rows(names: list[str], rows: list[tuple[str, Any]], like: str | None) -> Any:
    """Rows of text columns (VAR_STRING, as MySQL sends them), filtered by a LIKE pattern."""
    if like:
        pattern = re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in like), re.I)
        rows = [r for r in rows if pattern.fullmatch(r[0])]
    return rows, [ResultColumn(n, ColumnType.VAR_STRING, character_set=CharacterSet.utf8) for n in names]


def _loose_group_by(expression: exp.Expression) -> exp.Expression:
    """A query as MySQL runs it without ONLY_FULL_GROUP_BY (mysqldump clears sql_mode, then groups
    information_schema.FILES by all but one of the columns it selects): a selected column that is
    neither grouped nor aggregated takes any value of its group."""
    if expression.find(exp.Group) is None:
        return expression
    expression = expression.copy()
    for select in expression.find_all(exp.Select):
        group = select.args.get("group")
        if group is None:
            continue
        grouped = {g.name.lower() for g in group.expressions if isinstance(g, exp.Column)}
        for projection in select.expressions:
            if isinstance(projection, exp.Column) and projection.name.lower() not in grouped:
                any_value = exp.Anonymous(this="ANY_VALUE", expressions=[projection.copy()])
                projection.replace(exp.alias_(any_value, projection.name))
    return expression


def _only_comments(sql: str) -> bool:
    """Whether a statement holds nothing but whitespace and comments."""
    text = sql.lstrip()
    if not text:
        return True
    if not text.startswith(("/*", "--", "#")):
        return False
    lexed = lex(text)
    return lexed.complete and not lexed.tokens


def _near(sql: str) -> str:
    text = sql.strip()[:40]
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _has_codec(charset: CharacterSet) -> bool:
    try:
        codecs.lookup(charset.codec)
    except LookupError:
        return False
    return True
