"""information_schema: the tables BI tools and JDBC / ODBC drivers read when they browse.

Each query runs on a private in-memory DuckDB database holding only the information_schema
tables it names, filled from the catalog with what the user may see. Column names are
upper-case as in MySQL 8 and Doris; values follow MySQL (``DATA_TYPE`` ``varchar``,
``COLUMN_TYPE`` ``varchar(20)``, 1-based ``ORDINAL_POSITION``) so drivers that map types
from them (MariaDB Connector/J ``getColumns``, DBeaver, Metabase) read Doris tables right.
A view's columns are its query's (``handlers.show.view_columns``), described only for the views
a query's WHERE can keep. User variables a query assigns and reads in one row (MariaDB ODBC's
``CASE DATA_TYPE WHEN 'bit' THEN @dt := ...``) become plain expressions first (``sql.assignments``).
Doris's metadata table functions ``jobs("type" = "backup")`` and ``tasks("type" = "backup")`` (CREATE
JOB's scheduled backups and their runs) are answered the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
from sqlglot import exp

from dorisbk.auth.users import require_admin
from dorisbk.backend import duck
from dorisbk.catalog.model import Table
from dorisbk.catalog.types import ColumnType
from dorisbk.engine import allowlist, lowering, macros
from dorisbk.engine.result import Result, SessionContext
from dorisbk.engine.types import Kind, named
from dorisbk.env import Env, LiveSession
from dorisbk.errors import DorisError, UnknownTable
from dorisbk.jobs.abstract_job import now_ms
from dorisbk.jobs.job_info import expire_time
from dorisbk.jobs.job_scheduler import JOBS_COLUMNS, TASKS_COLUMNS
from dorisbk.sql import assignments
from dorisbk.sql.result import like
from dorisbk.sql.user_variables import literal
from dorisbk.timeutil import zone_name

INFO_DBS = ("information_schema", "mysql")
CATALOG = "def"
CHARSET = "utf8mb4"
COLLATION = "utf8mb4_0900_bin"

V, N, T = "VARCHAR", "BIGINT", "DATETIME"

# table -> [(column, kind)], kind one of V (text), N (integer), T (datetime)
TABLES: dict[str, list[tuple[str, str]]] = {
    "schemata": [
        ("CATALOG_NAME", V), ("SCHEMA_NAME", V), ("DEFAULT_CHARACTER_SET_NAME", V),
        ("DEFAULT_COLLATION_NAME", V), ("SQL_PATH", V), ("DEFAULT_ENCRYPTION", V),
    ],
    "tables": [
        ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("TABLE_TYPE", V), ("ENGINE", V),
        ("VERSION", N), ("ROW_FORMAT", V), ("TABLE_ROWS", N), ("AVG_ROW_LENGTH", N), ("DATA_LENGTH", N),
        ("MAX_DATA_LENGTH", N), ("INDEX_LENGTH", N), ("DATA_FREE", N), ("AUTO_INCREMENT", N),
        ("CREATE_TIME", T), ("UPDATE_TIME", T), ("CHECK_TIME", T), ("TABLE_COLLATION", V), ("CHECKSUM", N),
        ("CREATE_OPTIONS", V), ("TABLE_COMMENT", V),
    ],
    "columns": [
        ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("COLUMN_NAME", V),
        ("ORDINAL_POSITION", N), ("COLUMN_DEFAULT", V), ("IS_NULLABLE", V), ("DATA_TYPE", V),
        ("CHARACTER_MAXIMUM_LENGTH", N), ("CHARACTER_OCTET_LENGTH", N), ("NUMERIC_PRECISION", N),
        ("NUMERIC_SCALE", N), ("DATETIME_PRECISION", N), ("CHARACTER_SET_NAME", V), ("COLLATION_NAME", V),
        ("COLUMN_TYPE", V), ("COLUMN_KEY", V), ("EXTRA", V), ("PRIVILEGES", V), ("COLUMN_COMMENT", V),
        ("COLUMN_SIZE", N), ("DECIMAL_DIGITS", N), ("GENERATION_EXPRESSION", V), ("SRS_ID", N),
    ],
    "views": [
        ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("VIEW_DEFINITION", V),
        ("CHECK_OPTION", V), ("IS_UPDATABLE", V), ("DEFINER", V), ("SECURITY_TYPE", V),
        ("CHARACTER_SET_CLIENT", V), ("COLLATION_CONNECTION", V),
    ],
    "partitions": [
        ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("PARTITION_NAME", V),
        ("SUBPARTITION_NAME", V), ("PARTITION_ORDINAL_POSITION", N), ("SUBPARTITION_ORDINAL_POSITION", N),
        ("PARTITION_METHOD", V), ("SUBPARTITION_METHOD", V), ("PARTITION_EXPRESSION", V),
        ("SUBPARTITION_EXPRESSION", V), ("PARTITION_DESCRIPTION", V), ("TABLE_ROWS", N), ("AVG_ROW_LENGTH", N),
        ("DATA_LENGTH", N), ("MAX_DATA_LENGTH", N), ("INDEX_LENGTH", N), ("DATA_FREE", N), ("CREATE_TIME", T),
        ("UPDATE_TIME", T), ("CHECK_TIME", T), ("CHECKSUM", N), ("PARTITION_COMMENT", V), ("NODEGROUP", V),
        ("TABLESPACE_NAME", V),
    ],
    "statistics": [
        ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("NON_UNIQUE", N), ("INDEX_SCHEMA", V),
        ("INDEX_NAME", V), ("SEQ_IN_INDEX", N), ("COLUMN_NAME", V), ("COLLATION", V), ("CARDINALITY", N),
        ("SUB_PART", N), ("PACKED", V), ("NULLABLE", V), ("INDEX_TYPE", V), ("COMMENT", V),
        ("INDEX_COMMENT", V), ("IS_VISIBLE", V), ("EXPRESSION", V),
    ],
    "engines": [("ENGINE", V), ("SUPPORT", V), ("COMMENT", V), ("TRANSACTIONS", V), ("XA", V), ("SAVEPOINTS", V)],
    "files": [
        ("FILE_ID", N), ("FILE_NAME", V), ("FILE_TYPE", V), ("TABLESPACE_NAME", V), ("TABLE_CATALOG", V),
        ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("LOGFILE_GROUP_NAME", V), ("LOGFILE_GROUP_NUMBER", N),
        ("ENGINE", V), ("FULLTEXT_KEYS", V), ("DELETED_ROWS", N), ("UPDATE_COUNT", N), ("FREE_EXTENTS", N),
        ("TOTAL_EXTENTS", N), ("EXTENT_SIZE", N), ("INITIAL_SIZE", N), ("MAXIMUM_SIZE", N), ("AUTOEXTEND_SIZE", N),
        ("CREATION_TIME", T), ("LAST_UPDATE_TIME", T), ("LAST_ACCESS_TIME", T), ("RECOVER_TIME", N),
        ("TRANSACTION_COUNTER", N), ("VERSION", N), ("ROW_FORMAT", V), ("TABLE_ROWS", N), ("AVG_ROW_LENGTH", N),
        ("DATA_LENGTH", N), ("MAX_DATA_LENGTH", N), ("INDEX_LENGTH", N), ("DATA_FREE", N), ("CREATE_TIME", T),
        ("UPDATE_TIME", T), ("CHECK_TIME", T), ("CHECKSUM", N), ("STATUS", V), ("EXTRA", V),
    ],
    "character_sets": [
        ("CHARACTER_SET_NAME", V), ("DEFAULT_COLLATE_NAME", V), ("DESCRIPTION", V), ("MAXLEN", N),
    ],
    "collations": [
        ("COLLATION_NAME", V), ("CHARACTER_SET_NAME", V), ("ID", N), ("IS_DEFAULT", V), ("IS_COMPILED", V),
        ("SORTLEN", N), ("PAD_ATTRIBUTE", V),
    ],
    "key_column_usage": [
        ("CONSTRAINT_CATALOG", V), ("CONSTRAINT_SCHEMA", V), ("CONSTRAINT_NAME", V), ("TABLE_CATALOG", V),
        ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("COLUMN_NAME", V), ("ORDINAL_POSITION", N),
        ("POSITION_IN_UNIQUE_CONSTRAINT", N), ("REFERENCED_TABLE_SCHEMA", V), ("REFERENCED_TABLE_NAME", V),
        ("REFERENCED_COLUMN_NAME", V),
    ],
    "table_constraints": [
        ("CONSTRAINT_CATALOG", V), ("CONSTRAINT_SCHEMA", V), ("CONSTRAINT_NAME", V), ("TABLE_SCHEMA", V),
        ("TABLE_NAME", V), ("CONSTRAINT_TYPE", V), ("ENFORCED", V),
    ],
    "referential_constraints": [
        ("CONSTRAINT_CATALOG", V), ("CONSTRAINT_SCHEMA", V), ("CONSTRAINT_NAME", V),
        ("UNIQUE_CONSTRAINT_CATALOG", V), ("UNIQUE_CONSTRAINT_SCHEMA", V), ("UNIQUE_CONSTRAINT_NAME", V),
        ("MATCH_OPTION", V), ("UPDATE_RULE", V), ("DELETE_RULE", V), ("TABLE_NAME", V),
        ("REFERENCED_TABLE_NAME", V),
    ],
    "routines": [
        ("SPECIFIC_NAME", V), ("ROUTINE_CATALOG", V), ("ROUTINE_SCHEMA", V), ("ROUTINE_NAME", V),
        ("ROUTINE_TYPE", V), ("DATA_TYPE", V), ("CHARACTER_MAXIMUM_LENGTH", N), ("CHARACTER_OCTET_LENGTH", N),
        ("NUMERIC_PRECISION", N), ("NUMERIC_SCALE", N), ("DATETIME_PRECISION", N), ("CHARACTER_SET_NAME", V),
        ("COLLATION_NAME", V), ("DTD_IDENTIFIER", V), ("ROUTINE_BODY", V), ("ROUTINE_DEFINITION", V),
        ("EXTERNAL_NAME", V), ("EXTERNAL_LANGUAGE", V), ("PARAMETER_STYLE", V), ("IS_DETERMINISTIC", V),
        ("SQL_DATA_ACCESS", V), ("SQL_PATH", V), ("SECURITY_TYPE", V), ("CREATED", T), ("LAST_ALTERED", T),
        ("SQL_MODE", V), ("ROUTINE_COMMENT", V), ("DEFINER", V), ("CHARACTER_SET_CLIENT", V),
        ("COLLATION_CONNECTION", V), ("DATABASE_COLLATION", V),
    ],
    "parameters": [
        ("SPECIFIC_CATALOG", V), ("SPECIFIC_SCHEMA", V), ("SPECIFIC_NAME", V), ("ORDINAL_POSITION", N),
        ("PARAMETER_MODE", V), ("PARAMETER_NAME", V), ("DATA_TYPE", V), ("CHARACTER_MAXIMUM_LENGTH", N),
        ("CHARACTER_OCTET_LENGTH", N), ("NUMERIC_PRECISION", N), ("NUMERIC_SCALE", N),
        ("DATETIME_PRECISION", N), ("CHARACTER_SET_NAME", V), ("COLLATION_NAME", V), ("DTD_IDENTIFIER", V),
        ("ROUTINE_TYPE", V),
    ],
    "triggers": [
        ("TRIGGER_CATALOG", V), ("TRIGGER_SCHEMA", V), ("TRIGGER_NAME", V), ("EVENT_MANIPULATION", V),
        ("EVENT_OBJECT_CATALOG", V), ("EVENT_OBJECT_SCHEMA", V), ("EVENT_OBJECT_TABLE", V),
        ("ACTION_ORDER", N), ("ACTION_CONDITION", V), ("ACTION_STATEMENT", V), ("ACTION_ORIENTATION", V),
        ("ACTION_TIMING", V), ("CREATED", T), ("SQL_MODE", V), ("DEFINER", V),
    ],
    "events": [
        ("EVENT_CATALOG", V), ("EVENT_SCHEMA", V), ("EVENT_NAME", V), ("DEFINER", V), ("EVENT_BODY", V),
        ("EVENT_DEFINITION", V), ("EVENT_TYPE", V), ("STATUS", V), ("CREATED", T), ("LAST_ALTERED", T),
    ],
    "user_privileges": [("GRANTEE", V), ("TABLE_CATALOG", V), ("PRIVILEGE_TYPE", V), ("IS_GRANTABLE", V)],
    "schema_privileges": [
        ("GRANTEE", V), ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("PRIVILEGE_TYPE", V), ("IS_GRANTABLE", V),
    ],
    "table_privileges": [
        ("GRANTEE", V), ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("PRIVILEGE_TYPE", V),
        ("IS_GRANTABLE", V),
    ],
    "column_privileges": [
        ("GRANTEE", V), ("TABLE_CATALOG", V), ("TABLE_SCHEMA", V), ("TABLE_NAME", V), ("COLUMN_NAME", V),
        ("PRIVILEGE_TYPE", V), ("IS_GRANTABLE", V),
    ],
    "processlist": [
        ("ID", N), ("USER", V), ("HOST", V), ("DB", V), ("COMMAND", V), ("TIME", N), ("STATE", V), ("INFO", V),
    ],
    # Doris's: the connection's (session) or the server's (global) values, their defaults, whether changed
    "global_variables": [("VARIABLE_NAME", V), ("VARIABLE_VALUE", V), ("DEFAULT_VALUE", V), ("CHANGED", V)],
    "session_variables": [("VARIABLE_NAME", V), ("VARIABLE_VALUE", V), ("DEFAULT_VALUE", V), ("CHANGED", V)],
    # dorisbk's: every backup in every repository, with the expiry a BACKUP's ttl gave it (NULL: never);
    # rows for ADMIN users only, as SHOW SNAPSHOT
    "repository_snapshots": [
        ("REPOSITORY", V), ("SNAPSHOT", V), ("TIMESTAMP", V), ("DB_NAME", V), ("EXPIRE_TIME", T),
    ],
    # dorisbk's: every BACKUP / RESTORE job remembered, with how far its file transfer is (running) or what it
    # moved (ended); rows for ADMIN users only, as SHOW BACKUP / RESTORE
    "backup_restore_jobs": [
        ("JOB_ID", N), ("DB_NAME", V), ("LABEL", V), ("TYPE", V), ("STATE", V), ("REPOSITORY", V),
        ("FILES_DONE", N), ("FILES_TOTAL", N), ("BYTES_DONE", N), ("BYTES_TOTAL", N), ("RATE_BYTES_PER_SEC", N),
        ("ETA_SECONDS", N), ("ELAPSED_SECONDS", N), ("CREATE_TIME", T), ("FINISH_TIME", T),
    ],
    # MySQL 8's (DBeaver reads it): Doris has no CHECK constraints, so it is empty
    "check_constraints": [
        ("CONSTRAINT_CATALOG", V), ("CONSTRAINT_SCHEMA", V), ("CONSTRAINT_NAME", V), ("CHECK_CLAUSE", V),
    ],
}  # fmt: skip

# The mysql schema: only what clients probe, with MySQL's columns. Accounts live in SHOW GRANTS;
# tables_priv lists the table-level grants (GRANT ... ON db.tbl), the rest are empty.
MYSQL_TABLES: dict[str, list[tuple[str, str]]] = {
    "user": [("Host", V), ("User", V)],
    "db": [("Host", V), ("Db", V), ("User", V)],
    "proc": [("db", V), ("name", V), ("type", V), ("comment", V)],
    "tables_priv": [
        ("Host", V), ("Db", V), ("User", V), ("Table_name", V), ("Grantor", V), ("Timestamp", T),
        ("Table_priv", V), ("Column_priv", V),
    ],
    "columns_priv": [
        ("Host", V), ("Db", V), ("User", V), ("Table_name", V), ("Column_name", V), ("Timestamp", T),
        ("Column_priv", V),
    ],
}  # fmt: skip

ENGINES = [("Doris", "DEFAULT", "Doris OLAP engine (dorisbk)", "YES", "NO", "NO")]
CHARACTER_SETS = [
    ("utf8mb4", "utf8mb4_0900_bin", "UTF-8 Unicode", 4),
    ("utf8mb3", "utf8mb3_general_ci", "UTF-8 Unicode", 3),
    ("binary", "binary", "Binary pseudo charset", 1),
]
COLLATIONS = [
    ("utf8mb4_0900_bin", "utf8mb4", 309, "Yes", "Yes", 1, "NO PAD"),
    ("utf8mb4_general_ci", "utf8mb4", 45, "", "Yes", 1, "PAD SPACE"),
    ("utf8mb4_bin", "utf8mb4", 46, "", "Yes", 1, "PAD SPACE"),
    ("utf8mb3_general_ci", "utf8mb3", 33, "Yes", "Yes", 1, "PAD SPACE"),
    ("binary", "binary", 63, "Yes", "Yes", 1, "NO PAD"),
]

# Doris type -> (DATA_TYPE, display width for COLUMN_TYPE, NUMERIC_PRECISION)
_NUMERIC = {
    "BOOLEAN": ("tinyint", 1, 3),
    "TINYINT": ("tinyint", 4, 3),
    "SMALLINT": ("smallint", 6, 5),
    "INT": ("int", 11, 10),
    "BIGINT": ("bigint", 20, 19),
    "LARGEINT": ("largeint", 40, 39),
    "FLOAT": ("float", None, 12),
    "DOUBLE": ("double", None, 22),
}
_KEY_MARK = {"DUP_KEYS": "DUP", "UNIQUE_KEYS": "UNI", "AGG_KEYS": "AGG"}
_STRING_MAX = 2147483643


def column_shape(ctype: ColumnType) -> dict[str, Any]:
    """MySQL's description of a Doris column type (DATA_TYPE, COLUMN_TYPE, lengths, precision)."""
    name = ctype.name
    shape: dict[str, Any] = {"char_len": None, "octet_len": None, "precision": None, "scale": None, "dt": None}
    if name in _NUMERIC:
        data_type, width, precision = _NUMERIC[name]
        shape.update(data_type=data_type, column_type=f"{data_type}({width})" if width else data_type)
        shape.update(precision=precision, scale=0 if name not in ("FLOAT", "DOUBLE") else None)
    elif name in ("DECIMAL", "DECIMALV3"):
        shape.update(data_type="decimal", column_type=f"decimal({ctype.precision},{ctype.scale})")
        shape.update(precision=ctype.precision, scale=ctype.scale)
    elif name in ("DATE", "DATEV2"):
        shape.update(data_type="date", column_type="date")
    elif name in ("DATETIME", "DATETIMEV2"):
        scale = ctype.scale or 0
        shape.update(data_type="datetime", column_type=f"datetime({scale})" if scale else "datetime", dt=scale)
    elif name in ("CHAR", "VARCHAR"):
        length = ctype.length or 1
        shape.update(data_type=name.lower(), column_type=f"{name.lower()}({length})")
        shape.update(char_len=length, octet_len=4 * length)
    elif name == "JSON":
        shape.update(data_type="json", column_type="json")
    else:  # STRING, TEXT
        shape.update(data_type="text", column_type="text", char_len=_STRING_MAX, octet_len=_STRING_MAX)
    return shape


def _ms(value: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value / 1000).replace(microsecond=0) if value else None


def virtual_tables(db: str) -> list[str]:
    """The tables of information_schema or mysql, as SHOW TABLES lists them."""
    return sorted(TABLES if db.lower() == "information_schema" else MYSQL_TABLES)


# text columns of the virtual tables, as DESC / SHOW COLUMNS print them
_VIRTUAL_TYPES = {V: ColumnType("VARCHAR", length=512), N: ColumnType("BIGINT"), T: ColumnType("DATETIME")}


def column_type(kind: str) -> ColumnType:
    """The Doris type of a virtual table's column of ``kind`` (V, N or T)."""
    return _VIRTUAL_TYPES[kind]


def _session(env: Env, ctx: SessionContext) -> LiveSession | None:
    """The connection a statement runs for, None when it has gone."""
    return next((s for s in env.live_sessions() if s.connection_id == ctx.connection_id), None)


def _variable_text(value: Any) -> str | None:
    """A variable's value as Doris shows it (booleans as true / false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


# Doris's table privileges as mysql.tables_priv's Table_priv names them
_TABLE_PRIVS = {"SELECT_PRIV": "Select", "LOAD_PRIV": "Insert", "ALTER_PRIV": "Alter", "CREATE_PRIV": "Create",
                "DROP_PRIV": "Drop", "GRANT_PRIV": "Grant", "SHOW_VIEW_PRIV": "Show view"}  # fmt: skip


class _Source:
    """Rows of the information_schema tables for one user, computed on demand. ``wanted(db, table)``
    tells whether a table's rows can pass the query's filter: a view's columns are described (planned
    by the engine) only then."""

    def __init__(self, env: Env, ctx: SessionContext, wanted: Callable[[str, str], bool] | None = None) -> None:
        self.env = env
        self.ctx = ctx
        self.wanted = wanted or (lambda _db, _table: True)
        self.user = user = env.users.require(ctx.user)
        catalog = env.catalog
        self.dbs = [d for d in list(catalog.dbs.values()) if user.has_any_in_db(d.name)]
        self.builders: dict[str, Callable[[], Iterator[tuple]]] = {
            "schemata": self.schemata,
            "tables": self.tables,
            "columns": self.columns,
            "views": self.views,
            "partitions": self.partitions,
            "engines": lambda: iter(ENGINES),
            "character_sets": lambda: iter(CHARACTER_SETS),
            "collations": lambda: iter(COLLATIONS),
            "global_variables": lambda: self.variables(session=False),
            "session_variables": lambda: self.variables(session=True),
            "mysql.tables_priv": self.tables_priv,
            "repository_snapshots": self.repository_snapshots,
            "backup_restore_jobs": self.backup_restore_jobs,
            f"{FUNCTIONS_DB}.jobs": self.jobs,
            f"{FUNCTIONS_DB}.tasks": self.tasks,
        }

    def rows(self, db: str, name: str) -> list[tuple]:
        builder = self.builders.get(name if db == "information_schema" else f"{db}.{name}")
        return list(builder()) if builder else []

    def _tables(self) -> Iterator[tuple[str, Table]]:
        for db in self.dbs:
            for table in self.env.catalog.db_tables(db.id):
                yield db.name, table

    def _stats(self, table: Table) -> tuple[int, int]:
        rows = size = 0
        if table.kind != "OLAP":
            return rows, size
        catalog = self.env.catalog
        for part in catalog.table_partitions(table):
            for tablet in catalog.partition_tablets(part):
                if tablet.replicas:
                    rows += tablet.replicas[0].row_count
                    size += tablet.replicas[0].data_size
        return rows, size

    def schemata(self) -> Iterator[tuple]:
        names = sorted({*(d.name for d in self.dbs), *INFO_DBS})
        for name in names:
            yield (CATALOG, name, CHARSET, COLLATION, None, "NO")

    def tables(self) -> Iterator[tuple]:
        for db_name, table in self._tables():
            created, updated = _ms(table.create_time), _ms(table.update_time)
            if table.kind == "VIEW":
                yield (CATALOG, db_name, table.name, "VIEW", None, None, None, None, None, None, None, None,
                       None, None, created, None, None, None, None, None, "VIEW")  # fmt: skip
                continue
            rows, size = self._stats(table)
            avg = size // rows if rows else 0
            yield (CATALOG, db_name, table.name, "BASE TABLE", "Doris", 10, "Dynamic", rows, avg, size, 0, 0, 0,
                   None, created, updated, None, COLLATION, None, "", table.comment)  # fmt: skip
        for schema, tables in (("information_schema", TABLES), ("mysql", MYSQL_TABLES)):
            for name in tables:
                yield (CATALOG, schema, name, "SYSTEM VIEW", "MEMORY", 10, "Fixed", 0, 0, 0, 0, 0, 0, None, None,
                       None, None, COLLATION, None, "", "")  # fmt: skip

    def columns(self) -> Iterator[tuple]:
        from dorisbk.sql.handlers.show import view_columns  # show lists these tables too

        for db_name, table in self._tables():
            key_mark = _KEY_MARK.get(table.keys_type, "")
            if table.kind == "VIEW":
                if not self.wanted(db_name, table.name):
                    continue
                columns = view_columns(self.env, self.ctx, db_name, table)
            else:
                columns = table.columns
            for position, col in enumerate(columns, start=1):
                shape = column_shape(col.type)
                is_text = shape["char_len"] is not None
                extra = (col.aggregation or "") if table.keys_type == "AGG_KEYS" and not col.is_key else ""
                size = shape["char_len"] if is_text else shape["precision"]
                yield (
                    CATALOG, db_name, table.name, col.name, position, col.default,
                    "YES" if col.nullable else "NO", shape["data_type"], shape["char_len"], shape["octet_len"],
                    shape["precision"], shape["scale"], shape["dt"], CHARSET if is_text else None,
                    COLLATION if is_text else None, shape["column_type"], key_mark if col.is_key else "", extra,
                    "SELECT", col.comment or "", size, shape["scale"], "", None,
                )  # fmt: skip

        for schema, tables in (("information_schema", TABLES), ("mysql", MYSQL_TABLES)):
            for name, kinds in tables.items():
                for position, (column, kind) in enumerate(kinds, start=1):
                    shape = column_shape(column_type(kind))
                    is_text = shape["char_len"] is not None
                    yield (
                        CATALOG, schema, name, column, position, None, "YES", shape["data_type"], shape["char_len"],
                        shape["octet_len"], shape["precision"], shape["scale"], shape["dt"],
                        CHARSET if is_text else None, COLLATION if is_text else None, shape["column_type"], "", "",
                        "SELECT", "", shape["char_len"] if is_text else shape["precision"], shape["scale"], "", None,
                    )  # fmt: skip

    def variables(self, session: bool) -> Iterator[tuple]:
        """GLOBAL_VARIABLES / SESSION_VARIABLES: every variable of this connection or of the server."""
        connection = _session(self.env, self.ctx)
        if connection is None:
            return
        variables = connection.variables if session else connection.variables.global_variables
        schema = variables.schema
        for name in sorted(schema):
            value, default = variables.get_variable(name), schema[name][1]
            yield (name, _variable_text(value), _variable_text(default), "0" if value == default else "1")

    def tables_priv(self) -> Iterator[tuple]:
        """mysql.tables_priv: the table-level grants this user may see (its own; an admin's: everyone's)."""
        admin = self.user.has("ADMIN_PRIV")
        users = self.env.users.users.values() if admin else [self.user]
        for user in sorted(users, key=lambda u: u.name):
            for grant in user.grants:
                if grant.level != "TABLE":
                    continue
                privs = ",".join(_TABLE_PRIVS[p] for p in grant.privs if p in _TABLE_PRIVS)
                yield (user.host, grant.db, user.name, grant.tbl, "", None, privs, "")

    def repository_snapshots(self) -> Iterator[tuple]:
        """One row per backup of every repository: what SHOW SNAPSHOT tells of each, with its expiry."""
        if not self.user.has("ADMIN_PRIV"):
            return
        with self.env.repos.lock:
            names = sorted(self.env.repos.records)
        for name in names:
            for backup in self.env.jobs.snapshot_backups(name):
                info = backup.info or {}
                yield (name, backup.label, backup.timestamp, info.get("database"), _ms(expire_time(info)))

    def backup_restore_jobs(self) -> Iterator[tuple]:
        """One row per BACKUP / RESTORE job the server remembers: its transfer's files and bytes, the rate and
        the time left while it runs."""
        if not self.user.has("ADMIN_PRIV"):
            return
        now = now_ms()
        for job in self.env.jobs.listed():
            progress = job.progress()
            counts = progress.counts
            end = job.finished_time if job.finished_time > 0 else now
            yield (job.job_id, job.db_name, job.label, job.type, str(job.state), job.repo_name,
                   counts.files_done, counts.files_total, counts.bytes_done, counts.bytes_total, progress.rate,
                   progress.eta_s, max(0, end - job.create_time) // 1000, _ms(job.create_time),
                   _ms(job.finished_time if job.finished_time > 0 else None))  # fmt: skip

    def jobs(self) -> Iterator[tuple]:
        """jobs("type" = "backup"): one row per scheduled backup (ADMIN only, as the statements)."""
        require_admin(self.user)
        return iter([job.jobs_row() for job in self.env.job_manager.listed()])

    def tasks(self) -> Iterator[tuple]:
        """tasks("type" = "backup"): one row per remembered run of every scheduled backup."""
        require_admin(self.user)
        return iter([row for job in self.env.job_manager.listed() for row in job.task_rows()])

    def views(self) -> Iterator[tuple]:
        for db_name, table in self._tables():
            if table.kind == "VIEW":
                yield (CATALOG, db_name, table.name, table.view_sql, "NONE", "NO", "root@%", "DEFINER",
                       CHARSET, COLLATION)  # fmt: skip

    def partitions(self) -> Iterator[tuple]:
        catalog = self.env.catalog
        for db_name, table in self._tables():
            if table.kind != "OLAP":
                continue
            method = None if table.partition_type == "UNPARTITIONED" else table.partition_type
            expression = ", ".join(table.partition_columns) or None
            for position, part in enumerate(catalog.table_partitions(table), start=1):
                rows = size = 0
                for tablet in catalog.partition_tablets(part):
                    if tablet.replicas:
                        rows += tablet.replicas[0].row_count
                        size += tablet.replicas[0].data_size
                yield (CATALOG, db_name, table.name, part.name, None, position, None, method, None, expression,
                       None, None, rows, size // rows if rows else 0, size, 0, 0, 0, None,
                       _ms(part.visible_version_time), None, None, "", "default", None)  # fmt: skip


_DUCK_TYPES = {V: "VARCHAR", N: "BIGINT", T: "TIMESTAMP"}
# DuckDB's result types as the wire sends them. Unsigned and 128-bit integers (CAST(... AS UNSIGNED) of
# MariaDB ODBC's SQLColumns, SUM of a BIGINT) stay numbers: BIGINT, and DECIMAL as MySQL sums integers.
_RESULT_KINDS = (
    ("TINYINT", "TINYINT"), ("SMALLINT", "SMALLINT"), ("INTEGER", "INT"), ("BIGINT", "BIGINT"),
    ("HUGEINT", "DECIMAL"), ("UTINYINT", "SMALLINT"), ("USMALLINT", "INT"), ("UINTEGER", "BIGINT"),
    ("UBIGINT", "BIGINT"), ("FLOAT", "FLOAT"), ("DOUBLE", "DOUBLE"), ("DECIMAL", "DECIMAL"),
    ("DATE", "DATE"), ("TIMESTAMP", "DATETIME"), ("BOOLEAN", "BOOLEAN"),
)  # fmt: skip


def _result_kind(duck_type: str) -> str:
    name = duck_type.upper()
    for prefix, kind in _RESULT_KINDS:
        if name.startswith(prefix):
            return kind
    return "VARCHAR"  # text, and NULL literals (MySQL clients read those as strings)


# the metadata table functions, as if they were tables of this pseudo database (all columns text, as in Doris)
FUNCTIONS_DB = "__table_functions"
FUNCTIONS: dict[str, list[tuple[str, str]]] = {
    "jobs": [(c, V) for c in JOBS_COLUMNS],
    "tasks": [(c, V) for c in TASKS_COLUMNS],
}
JOB_TYPES = ("backup",)  # the job types dorisbk has: Doris's insert and mv jobs are not here


def metadata_function(table: exp.Table) -> str | None:
    """The name of the metadata table function (jobs, tasks) a FROM item calls, else None."""
    call = table.this
    return call.name.lower() if isinstance(call, exp.Anonymous) and call.name.lower() in FUNCTIONS else None


def _check_function(call: exp.Anonymous) -> None:
    """``jobs("type" = "backup")``: one parameter, the job type."""
    params = {arg.this.name.lower(): arg.expression.name for arg in call.expressions if isinstance(arg, exp.EQ)}
    if len(params) != len(call.expressions) or set(params) != {"type"}:
        raise DorisError(f'{call.name}() takes one parameter: "type" = "backup"')
    if params["type"].lower() not in JOB_TYPES:
        raise DorisError(f"Invalid job type: {params['type']}")


def table_columns(db: str, name: str) -> list[tuple[str, str]] | None:
    """The columns of ``db.name`` (case-insensitive), or None if there is no such table."""
    if db == FUNCTIONS_DB:
        return FUNCTIONS.get(name)
    tables = TABLES if db.lower() == "information_schema" else MYSQL_TABLES
    return tables.get(name.lower())


def _column_kind(tables: dict[str, tuple[str, str]], column: exp.Column) -> Kind:
    """The kind of an information_schema column, by its name in the tables a query reads."""
    kinds = {
        named(_DUCK_TYPES[kind])
        for db, name in tables.values()
        for col, kind in table_columns(db, name) or []
        if col.lower() == column.name.lower()
    }
    return kinds.pop() if len(kinds) == 1 else Kind.UNKNOWN


def _names_filter(tree: exp.Expression) -> Callable[[str, str], bool] | None:
    """What a query over information_schema.COLUMNS alone asks of TABLE_SCHEMA and TABLE_NAME in the
    AND-ed conditions of its WHERE (``= 'x'``, ``= BINARY 'x'``, ``LIKE 'p'``, ``IN ('x', ...)``), as
    a test that lets through every table whose rows the WHERE could keep (without case, so never
    fewer); None when there is nothing to go by."""
    tables = list(tree.find_all(exp.Table))
    where = tree.args.get("where") if isinstance(tree, exp.Select) else None
    if len(tables) != 1 or tables[0].name.lower() != "columns" or where is None:
        return None
    tests: dict[str, list[Callable[[str], bool]]] = {"table_schema": [], "table_name": []}

    def text(node: exp.Expression) -> str | None:
        while isinstance(node, exp.Cast):
            node = node.this
        return node.name if isinstance(node, exp.Literal) and node.is_string else None

    conditions = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    for condition in conditions:
        column = condition.this if isinstance(condition, (exp.EQ, exp.Like, exp.In)) else None
        if not isinstance(column, exp.Column) or column.name.lower() not in tests:
            continue
        if isinstance(condition, exp.In):
            values = [text(v) for v in condition.expressions]
            if values and all(v is not None for v in values):
                wanted = {v.lower() for v in values if v is not None}
                tests[column.name.lower()].append(lambda name, wanted=wanted: name.lower() in wanted)
            continue
        value = text(condition.expression)
        if value is None:
            continue
        if isinstance(condition, exp.Like):
            tests[column.name.lower()].append(lambda name, pattern=value: like(pattern, name))
        else:
            tests[column.name.lower()].append(lambda name, value=value: name.lower() == value.lower())
    if not tests["table_schema"] and not tests["table_name"]:
        return None
    return lambda db, table: all(t(db) for t in tests["table_schema"]) and all(t(table) for t in tests["table_name"])


def query(env: Env, ctx: SessionContext, expression: exp.Expression) -> Result:
    """Run a query that reads only information_schema / mysql tables and metadata table functions. User
    variables it reads and
    assigns (``@dt := ...``, MariaDB ODBC's SQLColumns) become the expressions they stand for
    (``sql.assignments``)."""
    tree, _ = assignments.inline(expression, lambda name: literal(ctx.user_variables.get(name)))
    allowlist.check(tree)
    wanted = _names_filter(tree)
    tree = tree.copy()
    needed: dict[str, tuple[str, str]] = {}
    for table in list(tree.find_all(exp.Table)):
        function = metadata_function(table)
        if function is not None:
            _check_function(table.this)
            local = f"{FUNCTIONS_DB}__{function}"
            needed[local] = (FUNCTIONS_DB, function)
            alias = exp.TableAlias(this=exp.to_identifier(table.alias or function))
            table.replace(exp.Table(this=exp.to_identifier(local), alias=alias))
            continue
        db = (table.db or ctx.db or "").lower()
        if db not in INFO_DBS:
            raise DorisError("information_schema can not be joined with Doris tables in dorisbk")
        if table_columns(db, table.name) is None:
            raise UnknownTable(f"Unknown table '{table.name}' in {db}")
        local = f"{db}__{table.name.lower()}"
        needed[local] = (db, table.name.lower())
        alias = table.alias or table.name
        table.replace(exp.Table(this=exp.to_identifier(local), alias=exp.TableAlias(this=exp.to_identifier(alias))))
    # MySQL's LIKE escapes with a backslash by default; DuckDB's has no default escape
    for like_node in list(tree.find_all(exp.Like)):
        if not isinstance(like_node.parent, exp.Escape):
            like_node.replace(exp.Escape(this=like_node.copy(), expression=exp.Literal.string("\\")))
    tree = lowering.lower(tree, lambda column: _column_kind(needed, column), zone_name(ctx.time_zone))
    calls = {call.name.lower() for call in tree.find_all(exp.Anonymous)}
    sql = allowlist.duckdb_sql(tree)
    source = _Source(env, ctx, wanted)
    conn = duck.scratch()
    try:
        macros.install(conn, macros.needed(calls))
        for local, (db, name) in needed.items():
            columns = table_columns(db, name) or []
            rows = source.rows(db, name)
            selects = ", ".join(
                f"UNNEST(${i + 1}::{_DUCK_TYPES[kind]}[]) AS {col}" for i, (col, kind) in enumerate(columns)
            )
            data = [[row[i] for row in rows] for i in range(len(columns))]
            conn.execute(f'CREATE TABLE "{local}" AS SELECT {selects}', data)
        try:
            cursor = conn.execute(sql)
        except duckdb.Error as exc:
            raise DorisError(f"Unsupported query on information_schema: {duck.error_message(exc)}") from None
        description = cursor.description or []
        result_rows = cursor.fetchall()
    finally:
        conn.close()
    return Result([(d[0], _result_kind(str(d[1]))) for d in description], result_rows)
