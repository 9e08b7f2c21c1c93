"""The MySQL session: translates between mysql-mimic and the statement router, nothing more.

Statements run in worker threads so the event loop keeps serving other connections.
Every error leaves as a MySQL error packet with its code and a Doris-style message; the
connection stays usable.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import logging
from typing import Any

import sqlglot
from mysql_mimic import ColumnType, ResultColumn, Session
from mysql_mimic.charset import CharacterSet
from mysql_mimic.constants import INFO_SCHEMA
from mysql_mimic.errors import MysqlError
from mysql_mimic.utils import find_dbs
from mysql_mimic.variables import SYSTEM_VARIABLES, GlobalVariables, SessionVariables
from sqlglot import exp

from dorisbk.env import Env
from dorisbk.errors import DorisError, ParseError, UnknownDatabase, UnknownTable
from dorisbk.sql.handlers.query import name_projections
from dorisbk.sql.handlers.show import VERSION, VIRTUAL_DBS
from dorisbk.sql.result import Result, SessionContext
from dorisbk.sql.router import DEFER, Router, clean_parse_error

log = logging.getLogger(__name__)

INFO_SCHEMA_NAME = "information_schema"

_WIRE_TYPES = {
    "TINYINT": ColumnType.TINY,
    "BOOLEAN": ColumnType.TINY,
    "SMALLINT": ColumnType.SHORT,
    "INT": ColumnType.LONG,
    "BIGINT": ColumnType.LONGLONG,
    "LARGEINT": ColumnType.LONGLONG,
    "FLOAT": ColumnType.FLOAT,
    "DOUBLE": ColumnType.DOUBLE,
    "DECIMAL": ColumnType.NEWDECIMAL,
    "DATE": ColumnType.DATE,
    "DATETIME": ColumnType.DATETIME,
    "VARCHAR": ColumnType.VAR_STRING,
    "BLOB": ColumnType.BLOB,
    "NULL": ColumnType.NULL,
}

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
    "sql_select_limit": (int, 9223372036854775807, True),
    "insert_timeout": (int, 14400, True),
    "enable_insert_strict": (bool, True, True),
    "default_storage_engine": (str, "olap", True),
    "language": (str, "/palo/share/english/", False),
    "performance_schema": (bool, False, False),
    "query_cache_size": (int, 1048576, False),
    "query_cache_type": (int, 0, True),
}


def _variables() -> SessionVariables:
    return SessionVariables(GlobalVariables({**SYSTEM_VARIABLES, **_EXTRA_VARIABLES}))


def _wire_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime) and value.microsecond == 0:
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def to_wire(result: Result) -> tuple[list[tuple], list[ResultColumn]]:
    columns = [
        ResultColumn(name, _WIRE_TYPES.get(kind, ColumnType.VAR_STRING), character_set=CharacterSet.utf8)
        for name, kind in result.columns
    ]
    needs_conversion = any(kind in ("BOOLEAN", "DECIMAL", "DATETIME") for _n, kind in result.columns)
    rows = [tuple(_wire_value(v) for v in row) for row in result.rows] if needs_conversion else list(result.rows)
    return rows, columns


def to_mysql_error(exc: DorisError) -> MysqlError:
    """Doris's message shape: ``errCode = 2, detailMessage = ...`` (access errors keep MySQL's own words)."""
    message = exc.message if exc.code in (1045,) else f"errCode = 2, detailMessage = {exc.message}"
    return MysqlError(message, code=exc.code)  # type: ignore[arg-type]


class DorisSession(Session):
    """One client connection."""

    dialect = "doris"

    def __init__(self, env: Env, router: Router) -> None:
        super().__init__(variables=_variables())
        self.env = env
        self.router = router
        self.affected_rows = 0

    def context(self) -> SessionContext:
        return SessionContext(
            user=self.username or "root",
            db=self.database or None,
            connection_id=self._connection.connection_id if self._connection else 0,
        )

    async def handle_query(self, sql: str, attrs: dict[str, str]) -> Any:
        try:
            if _is_mariadb_connect_set(sql):
                return None
            result = await asyncio.to_thread(self.router.route, self.context(), sql)
            if result is DEFER:
                return await super().handle_query(sql, attrs)
            return to_wire(result) if isinstance(result, Result) else result
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
        except Exception as exc:  # a bug of ours: the client gets a clean error, the log the traceback
            log.exception("statement failed: %.200s", sql)
            raise MysqlError(f"errCode = 2, detailMessage = internal error: {type(exc).__name__}: {exc}") from None

    async def query(self, expression: exp.Expression, sql: str, attrs: dict[str, str]) -> Any:
        """SELECT / INSERT and the rest that the library's middlewares did not answer."""
        ctx = self.context()
        result = await asyncio.to_thread(self.router.execute_expression, ctx, expression)
        # an INSERT's OK packet carries the loaded row count (compat's OK reads it)
        self.affected_rows = int(ctx.variables.get("affected_rows", 0))
        return to_wire(result) if isinstance(result, Result) else result

    # ---- the library's middlewares, adjusted
    def _parse(self, sql: str) -> list[exp.Expression]:
        """One statement per query (the server does not offer CLIENT_MULTI_STATEMENTS), and a
        statement, not a bare expression such as ``foo`` or ``1``."""
        expressions = super()._parse(sql)
        if len(expressions) > 1 and not all(isinstance(e, (exp.Set, exp.Use)) for e in expressions):
            raise ParseError("Syntax error: only one statement per query is allowed (multi-statements are off)")
        for expression in expressions:
            if isinstance(expression, (exp.Condition, exp.Alias, exp.Identifier)) and not isinstance(
                expression, exp.Query
            ):
                raise ParseError(f"Syntax error in line 1, column 1 near '{_near(sql)}': not a statement")
            if isinstance(expression, exp.Select) and not expression.expressions:
                raise ParseError("Syntax error: SELECT without a select list")
        return expressions

    async def _set_var_middleware(self, q: Any) -> Any:
        """Name function columns by their text, as MySQL and Doris do (``DATABASE()``, ``count(*)``),
        before the library replaces ``DATABASE()`` and friends by literals named after sqlglot's spelling."""
        if isinstance(q.expression, exp.Select):
            name_projections(q.expression, q.sql)
        return await super()._set_var_middleware(q)

    async def _query_info_schema(self, expression: exp.Expression) -> Any:
        """information_schema / mysql tables: an unknown one is 1146, a query the in-memory executor
        cannot run is a clean 1105."""
        for table in expression.find_all(exp.Table):
            db = (table.db or self.database or "").lower()
            if db in INFO_SCHEMA and table.name.lower() not in INFO_SCHEMA[db]:
                raise to_mysql_error(UnknownTable(f"Unknown table '{table.name}' in {db}"))
        try:
            return await super()._query_info_schema(expression)
        except sqlglot.errors.SqlglotError as exc:
            message = str(exc).split("\n", 1)[0]
            raise to_mysql_error(DorisError(f"Unsupported query on {INFO_SCHEMA_NAME}: {message}")) from None

    def _set_names(self, item: Any) -> None:
        """``SET NAMES x``: an unknown character set is MySQL's 1115, not a Python KeyError."""
        name = item.name
        if name.upper() == "DEFAULT":
            super()._set_names(item)
            return
        charset = CharacterSet.__members__.get(name.lower())
        if charset is None:
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
        """information_schema / mysql answer queries whose every table is in them; a query naming
        Doris tables goes to the engine even while ``USE information_schema`` is in effect."""
        dbs = [(db or self.database or "").lower() for db in find_dbs(q.expression)]
        if dbs and all(db in INFO_SCHEMA for db in dbs):
            return await self._query_info_schema(q.expression)
        return await q.next()

    async def use(self, database: str) -> None:
        failure = self.database_error(database)
        if failure is not None:
            code, message = failure
            raise MysqlError(message, code=code)  # type: ignore[arg-type]
        self.database = database

    def database_error(self, database: str) -> tuple[int, str] | None:
        """Why this user may not make ``database`` current (code, message), or None."""
        if database.lower() in VIRTUAL_DBS:
            return None
        failure: DorisError | None = None
        user = self.env.users.get(self.username or "root")
        if self.env.catalog.find_db(database) is None:
            failure = UnknownDatabase(f"Unknown database '{database}'")
        elif user is None or not user.has_any_in_db(database):
            identity = user.identity if user else f"'{self.username}'@'%'"
            failure = DorisError(f"Access denied for user {identity} to database '{database}'", code=1044)
        if failure is None:
            return None
        error = to_mysql_error(failure)
        return failure.code, error.msg

    async def schema(self) -> dict:
        """What information_schema shows: the databases and tables this user may see."""
        user = self.env.users.require(self.username or "root")
        out: dict[str, dict[str, dict[str, str]]] = {}
        catalog = self.env.catalog
        for db in list(catalog.dbs.values()):
            if not user.has_any_in_db(db.name):
                continue
            tables = out.setdefault(db.name, {})
            for table in catalog.db_tables(db.id):
                tables[table.name] = {c.name: c.type.sql() for c in table.columns} or {"__view__": "VARCHAR"}
        return out


def _near(sql: str) -> str:
    text = sql.strip()[:40]
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _is_mariadb_connect_set(sql: str) -> bool:
    """MariaDB Connector/J 2.x and MariaDB ODBC send ``set autocommit=1, sql_mode = concat(@@sql_mode, ...)``
    on connect, which the library refuses (complex expression in SET); accept it as a no-op."""
    text = " ".join(sql.lower().split())
    return text.startswith("set autocommit=1, sql_mode = concat(@@sql_mode,")
