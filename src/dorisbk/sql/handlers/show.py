"""SHOW and DESC statements with Doris's column names, order and value formats."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from dorisbk.auth.users import SHOW_GRANTS_COLUMNS, User, grants_row, require, require_admin
from dorisbk.catalog import rollup, schema_change
from dorisbk.catalog.model import KEYS_SQL, Column, Partition, Table
from dorisbk.catalog.types import ColumnType
from dorisbk.config import VERSION
from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql import info_schema
from dorisbk.sql.handlers import catalog_rows, proc
from dorisbk.sql.result import like, text_result
from dorisbk.sql.show_where import keep
from dorisbk.timeutil import long_to_time_string

log = logging.getLogger(__name__)

VIRTUAL_DBS = ("information_schema", "mysql")

ROUTINE_STATUS_COLUMNS = ("ProcedureName", "CatalogId", "DbId", "DbName", "PackageName", "OwnerName", "CreateTime",
                          "ModifyTime")  # fmt: skip
PLUGIN_COLUMNS = ("Name", "Type", "Description", "Version", "JavaVersion", "ClassName", "SoName", "Sources", "Status",
                  "Properties")  # fmt: skip
# the plugins every Doris 2.1 frontend has built in
PLUGINS = [
    ("__builtin_AuditLoader", "AUDIT", "builtin audit loader, to load audit log to internal table", "2.1.0", "1.8.31",
     "org.apache.doris.plugin.audit.AuditLoader", None, "Builtin", "INSTALLED", "{}"),
    ("__builtin_AuditLogBuilder", "AUDIT", "builtin audit logger", "0.12.0", "1.8.31",
     "org.apache.doris.plugin.audit.AuditLogBuilder", None, "Builtin", "INSTALLED", "{}"),
    ("__builtin_SqlDialectConverter", "DIALECT", "builtin sql dialect converter", "2.1.0", "1.8.31",
     "org.apache.doris.plugin.dialect.HttpDialectConverterPlugin", None, "Builtin", "INSTALLED", "{}"),
]  # fmt: skip


def column_sql(col: Column, show_agg: bool) -> str:
    """A column as SHOW CREATE TABLE prints it (and our grammar reads back)."""
    parts = [f"`{col.name}`", col.type.sql().lower().replace(", ", ",")]
    if show_agg and col.aggregation:
        parts.append(col.aggregation)
    parts.append("NULL" if col.nullable else "NOT NULL")
    if col.auto_increment is not None:
        parts.append(f"AUTO_INCREMENT({col.auto_increment})")
    if col.default is not None:
        parts.append(
            "DEFAULT CURRENT_TIMESTAMP"
            if col.default == "CURRENT_TIMESTAMP"
            else f'DEFAULT "{catalog_rows.escape(col.default)}"'
        )
    if col.comment:
        parts.append(f"COMMENT '{catalog_rows.escape(col.comment)}'")
    return " ".join(parts)


def _literals(values: list[str | None] | None) -> str:
    return ", ".join("MAXVALUE" if v is None else f'"{catalog_rows.escape(v)}"' for v in values or [])


def partition_sql(table: Table, parts: list[Partition]) -> str:
    lines = []
    previous_upper: list[str] | None = None
    for i, part in enumerate(parts):
        if table.partition_type == "RANGE":
            contiguous = part.lower is None if i == 0 else part.lower == previous_upper
            if contiguous:
                bound = "MAXVALUE" if part.upper is None else f"({_literals(part.upper)})"
                lines.append(f"PARTITION {part.name} VALUES LESS THAN {bound}")
            else:
                upper = "(MAXVALUE)" if part.upper is None else f"({_literals(part.upper)})"
                lines.append(f"PARTITION {part.name} VALUES [({_literals(part.lower)}), {upper})")
            previous_upper = part.upper
        else:  # one column: VALUES IN ("a", "b"); several: VALUES IN (("a", "1"), ("b", "2"))
            if len(table.partition_columns) == 1:
                values = ", ".join(_literals(v) for v in part.values or [])
            else:
                values = ", ".join(f"({_literals(v)})" for v in part.values or [])
            lines.append(f"PARTITION {part.name} VALUES IN ({values})")
    cols = ", ".join(f"`{c}`" for c in table.partition_columns)
    kind = "LIST " if table.partition_type == "LIST" else "RANGE"  # Doris prints a space after LIST only
    if table.auto_partition is not None:
        if table.auto_partition:  # AUTO RANGE: the partition function, e.g. date_trunc(`k0`, 'day')
            cols = f"date_trunc({cols}, '{table.auto_partition}')"
        return f"AUTO PARTITION BY {kind.strip()} ({cols})\n(" + ",\n".join(lines) + ")"
    return f"PARTITION BY {kind}({cols})\n(" + ",\n".join(lines) + ")"


def index_sql(index: dict) -> str:
    """``INDEX idx (`col`) USING INVERTED PROPERTIES("parser" = "english") COMMENT '...'``."""
    cols = ", ".join(f"`{c}`" for c in index["columns"])
    text = f"INDEX {index['name']} ({cols}) USING {index['type']}"
    if index["properties"]:
        text += f" PROPERTIES{catalog_rows.index_properties(index)}"
    return text + f" COMMENT '{catalog_rows.escape(index['comment'])}'"


def create_table_sql(env: Env, table: Table) -> str:
    cols = ",\n".join(
        ["  " + column_sql(c, table.keys_type == "AGG_KEYS") for c in table.columns]
        + ["  " + index_sql(i) for i in table.indexes]
    )
    out = [f"CREATE TABLE `{table.name}` (\n{cols}\n) ENGINE=OLAP"]
    if table.key_columns:  # a DUPLICATE table without keys (enable_duplicate_without_keys_by_default) shows none
        out.append(f"{KEYS_SQL[table.keys_type]}({', '.join(f'`{k}`' for k in table.key_columns)})")
    if table.comment:
        out.append(f"COMMENT '{catalog_rows.escape(table.comment)}'")
    if table.partition_type != "UNPARTITIONED":
        out.append(partition_sql(table, env.catalog.table_partitions(table)))
    if table.distribution == "HASH":
        dist = f"DISTRIBUTED BY HASH({', '.join(f'`{c}`' for c in table.distribution_columns)})"
    else:
        dist = "DISTRIBUTED BY RANDOM"
    out.append(f"{dist} BUCKETS {'AUTO' if table.auto_bucket else table.buckets}")
    props = {"replication_allocation": f"tag.location.default: {table.replication_num}"}
    props.update({k: v for k, v in table.properties.items() if k != "replication_num"})
    if table.state == "ATOMIC_RESTORE":
        props["in_atomic_restore"] = "true"
    body = ",\n".join(f'"{k}" = "{catalog_rows.escape(v)}"' for k, v in props.items())
    out.append(f"PROPERTIES (\n{body}\n);")
    return "\n".join(out)


def execute(env: Env, ctx: SessionContext, stmt: s.ShowStmt) -> Result:
    user = env.users.require(ctx.user)
    handler = _SERVER_WIDE.get(stmt.what)
    if handler is not None:
        return handler(env, ctx, user, stmt)
    # the rest are about one table
    assert stmt.table is not None
    db_name = ctx.current_db(stmt.table.db or stmt.db)
    if db_name.lower() in VIRTUAL_DBS and stmt.what in (s.ShowKind.DESC, s.ShowKind.COLUMNS):
        return _virtual_columns(db_name.lower(), stmt)
    db = env.catalog.db(db_name)
    table = env.catalog.table(db, stmt.table.name)
    if stmt.what in (s.ShowKind.PARTITIONS, s.ShowKind.TEMP_PARTITIONS, s.ShowKind.TABLETS):
        require_admin(user)
    else:
        require(user, "SELECT_PRIV", db_name, table.name)
    return _OF_TABLE[stmt.what](env, ctx, stmt, _Target(db.id, db_name, table))


@dataclass(frozen=True)
class _Target:
    """The table a SHOW is about, once its database is known and the user may see it."""

    db_id: int
    db_name: str
    table: Table


def _databases(env: Env, _ctx: SessionContext, user: User, stmt: s.ShowStmt) -> Result:
    names = [d.name for d in env.catalog.dbs.values() if user.has_any_in_db(d.name)]
    names = sorted({*names, *VIRTUAL_DBS})
    return text_result(["Database"], keep(["Database"], [(n,) for n in names if like(stmt.like, n)], stmt.condition))


def _tables(env: Env, ctx: SessionContext, user: User, stmt: s.ShowStmt) -> Result:
    catalog = env.catalog
    db_name = ctx.current_db(stmt.db)
    if db_name.lower() in VIRTUAL_DBS:  # information_schema / mysql: every user may list them
        db_name = db_name.lower()
        listed = [(name, "SYSTEM VIEW") for name in info_schema.virtual_tables(db_name)]
    else:
        db = catalog.db(db_name)
        listed = [(t.name, "VIEW" if t.kind == "VIEW" else "BASE TABLE") for t in catalog.db_tables(db.id)]
        if not user.has_any_in_db(db_name):
            listed = []
    rows = [(name, kind) if stmt.full else (name,) for name, kind in listed if like(stmt.like, name)]
    names = [f"Tables_in_{db_name}"] + (["Table_type"] if stmt.full else [])
    return text_result(names, keep(names, rows, stmt.condition))


def _create_database(env: Env, _ctx: SessionContext, _user: User, stmt: s.ShowStmt) -> Result:
    db = env.catalog.db(stmt.db or "")
    text = f"CREATE DATABASE `{db.name}`"
    if db.properties:
        props = ",\n".join(f'"{k}" = "{v}"' for k, v in db.properties.items())
        text += f"\nPROPERTIES (\n{props}\n)"
    return text_result(["Database", "Create Database"], [(db.name, text)])


def _grants(env: Env, _ctx: SessionContext, user: User, stmt: s.ShowStmt) -> Result:
    target = user
    if stmt.user is not None and stmt.user.name != user.name:
        require_admin(user)
        target = env.users.require(stmt.user.name)
    return text_result(SHOW_GRANTS_COLUMNS, [grants_row(target)])


def _all_grants(env: Env, _ctx: SessionContext, user: User, _stmt: s.ShowStmt) -> Result:
    require_admin(user)
    rows = [grants_row(u) for u in sorted(env.users.users.values(), key=lambda u: u.name)]
    return text_result(SHOW_GRANTS_COLUMNS, rows)


def _backends_of(env: Env, _ctx: SessionContext, user: User, _stmt: s.ShowStmt) -> Result:
    require_admin(user)
    return catalog_rows.backends(env)


def _proc(env: Env, _ctx: SessionContext, user: User, stmt: s.ShowStmt) -> Result:
    require_admin(user)
    return proc.show_proc(env, stmt.path) if stmt.what == s.ShowKind.PROC else proc.show_tablet(env, stmt.tablet_id)


def _dynamic_partition_tables(env: Env, ctx: SessionContext, user: User, stmt: s.ShowStmt) -> Result:
    from dorisbk.sql.handlers import dynamic_show

    return dynamic_show.show_tables(env, user, ctx.current_db(stmt.db))


FRONTEND_COLUMNS = ("Name", "Host", "EditLogPort", "HttpPort", "QueryPort", "RpcPort", "ArrowFlightSqlPort", "Role",
                    "IsMaster", "ClusterId", "Join", "Alive", "ReplayedJournalId", "LastStartTime", "LastHeartbeat",
                    "IsHelper", "ErrMsg", "Version", "CurrentConnected")  # fmt: skip


def _frontends(env: Env, _ctx: SessionContext, user: User, _stmt: s.ShowStmt) -> Result:
    require_admin(user)
    started = long_to_time_string(env.started_ms)
    row = ("dorisbk", env.config.host, "9010", "8030", str(env.config.port), "9020", "-1", "FOLLOWER", "true", "1",
           "1", "1", "true", "true", started, started, "true", "", VERSION, "true")  # fmt: skip
    return text_result(FRONTEND_COLUMNS, [row[: len(FRONTEND_COLUMNS)]])


def _engines(_env: Env, _ctx: SessionContext, _user: User, _stmt: s.ShowStmt) -> Result:
    return text_result(
        ["Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"],
        [("Olap engine", "DEFAULT", "Default storage engine of palo", "NO", "NO", "NO")],
    )


PROCESSLIST_COLUMNS = ("CurrentConnected", "Id", "User", "Host", "LoginTime", "Catalog", "Db", "Command", "Time",
                       "State", "QueryId", "Info")  # fmt: skip


def _routine_status(_env: Env, _ctx: SessionContext, _user: User, _stmt: s.ShowStmt) -> Result:
    """Doris's SHOW {PROCEDURE | FUNCTION} STATUS lists its stored (PL/SQL) procedures: none here."""
    return text_result(ROUTINE_STATUS_COLUMNS, [])


def _plugins(_env: Env, _ctx: SessionContext, _user: User, _stmt: s.ShowStmt) -> Result:
    return text_result(PLUGIN_COLUMNS, PLUGINS)


def _create_table(env: Env, _ctx: SessionContext, _stmt: s.ShowStmt, on: _Target) -> Result:
    table = on.table
    if table.kind == "VIEW":
        return text_result(
            ["View", "Create View", "character_set_client", "collation_connection"],
            [(table.name, f"CREATE VIEW `{table.name}` AS {table.view_sql};", "utf8mb4", "utf8mb4_0900_bin")],
        )
    return text_result(["Table", "Create Table"], [(table.name, create_table_sql(env, table))])


def _desc(env: Env, ctx: SessionContext, stmt: s.ShowStmt, on: _Target) -> Result:
    return catalog_rows.describe(on.table, stmt.full, view_columns(env, ctx, on.db_name, on.table))


def _columns_of(env: Env, ctx: SessionContext, stmt: s.ShowStmt, on: _Target) -> Result:
    result = _columns(on.table, stmt.full, stmt.like, view_columns(env, ctx, on.db_name, on.table))
    return Result(result.columns, keep([c[0] for c in result.columns], result.rows, stmt.condition))


INDEX_COLUMNS = ("Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name", "Collation", "Cardinality",
                 "Sub_part", "Packed", "Null", "Index_type", "Comment", "Properties")  # fmt: skip


def _index(_env: Env, _ctx: SessionContext, _stmt: s.ShowStmt, on: _Target) -> Result:
    return text_result(INDEX_COLUMNS, [catalog_rows.index_row(on.table, i) for i in on.table.indexes])


def _temp_partitions(env: Env, _ctx: SessionContext, _stmt: s.ShowStmt, on: _Target) -> Result:
    return catalog_rows.partitions(env, on.table, temporary=True)


def _olap(table: Table) -> Table:
    if table.kind != "OLAP":
        raise DorisError(f"Table[{table.name}] is not a OLAP table")
    return table


def _partitions_of(env: Env, _ctx: SessionContext, stmt: s.ShowStmt, on: _Target) -> Result:
    return _filter_partitions(catalog_rows.partitions(env, _olap(on.table)), stmt.where)


def _tablets_of(env: Env, _ctx: SessionContext, stmt: s.ShowStmt, on: _Target) -> Result:
    table, catalog = _olap(on.table), env.catalog
    parts = (
        [catalog.partition(table, n) for n in stmt.partitions] if stmt.partitions else catalog.table_partitions(table)
    )
    return catalog_rows.tablet_rows(env, parts)


BUILD_INDEX_COLUMNS = ("JobId", "TableName", "PartitionName", "AlterInvertedIndexes", "CreateTime", "FinishTime",
                       "TransactionId", "State", "Msg", "Progress")  # fmt: skip


def _build_index(env: Env, ctx: SessionContext, _user: User, stmt: s.ShowStmt) -> Result:
    """SHOW BUILD INDEX [FROM db] [WHERE TableName = ..]: one finished job per BUILD INDEX run."""
    db = env.catalog.db(ctx.current_db(stmt.db))
    rows = []
    for table in env.catalog.db_tables(db.id):
        for index in table.indexes:
            build = index.get("build")
            if build is None:
                continue
            when = long_to_time_string(build["time"])
            desc = f"[ADD INDEX {index_sql(index)}], "
            rows.append((str(build["job_id"]), table.name, ", ".join(build["partitions"]), desc, when, when,
                         "0", "FINISHED", "", "100%"))  # fmt: skip
    names = list(BUILD_INDEX_COLUMNS)
    rows = _job_filter(names, rows, stmt.where, "TableName/PartitionName/CreateTime/FinishTime/State")
    return text_result(names, rows)


def _job_column(names: list[str], column: str, supported: str) -> int:
    """The position of a column a SHOW ... job statement's WHERE or ORDER BY names (any case)."""
    canonical = next((n for n in names if n.lower() == column.lower()), None)
    if canonical is None:
        raise DorisError(f"The columns of {supported} are supported: {column}")
    return names.index(canonical)


def _job_filter(
    names: list[str], rows: list[tuple], where: tuple[tuple[str, str, str], ...], supported: str
) -> list[tuple]:
    """The rows a job statement's ``WHERE col = | != | LIKE value [AND ...]`` keeps."""
    for column, op, value in where:
        i = _job_column(names, column, supported)
        if op == "LIKE":
            rows = [r for r in rows if like(value, str(r[i]))]
        else:
            rows = [r for r in rows if (str(r[i]) == value) == (op == "=")]
    return rows


def _alter_rollup(env: Env, ctx: SessionContext, _user: User, stmt: s.ShowStmt) -> Result:
    """SHOW ALTER TABLE MATERIALIZED VIEW / ROLLUP [FROM db] [WHERE ...]: the jobs that built the views."""
    db = env.catalog.db(ctx.current_db(stmt.db))
    rows = rollup.alter_job_rows(env.catalog.db_tables(db.id))
    names = list(rollup.ALTER_JOB_COLUMNS)
    rows = _job_filter(names, rows, stmt.where, "TableName/IndexName/CreateTime/FinishTime/State")
    return text_result(names, rows)


def _alter_column(env: Env, ctx: SessionContext, _user: User, stmt: s.ShowStmt) -> Result:
    """SHOW ALTER TABLE COLUMN [FROM db] [WHERE ...] [ORDER BY ...] [LIMIT n]: the schema change jobs."""
    db = env.catalog.db(ctx.current_db(stmt.db))
    rows = schema_change.job_rows(env.catalog.db_tables(db.id))
    names = list(schema_change.JOB_COLUMNS)
    supported = "TableName/CreateTime/FinishTime/State"
    rows = _job_filter(names, rows, stmt.where, supported)
    for column, descending in reversed(stmt.order_by):
        i = _job_column(names, column, supported)
        numeric = names[i] in ("JobId", "TransactionId")
        # ties (jobs of one second) in job order, so ORDER BY CreateTime DESC puts the newest first
        rows.sort(key=lambda r: (int(r[i]) if numeric else str(r[i]), int(r[0])), reverse=descending)
    if stmt.limit is not None:
        rows = rows[: stmt.limit]
    return text_result(names, rows)


def _views_of(env: Env, _ctx: SessionContext, _stmt: s.ShowStmt, on: _Target) -> Result:
    """SHOW VIEW FROM tbl: the views of the database whose query reads the table."""
    table, db_name = on.table, on.db_name
    rows = []
    for view in env.catalog.db_tables(on.db_id):
        if view.kind != "VIEW":
            continue
        try:
            tree = sqlglot.parse_one(view.view_sql, read=DorisBK)
        except sqlglot.errors.ParseError:
            continue
        if any(t.name == table.name and t.db in ("", db_name) for t in tree.find_all(exp.Table)):
            rows.append((view.name, f"CREATE VIEW `{view.name}` AS {view.view_sql}", "utf8mb4", "utf8mb4_0900_bin"))
    return text_result(["View", "Create View", "character_set_client", "collation_connection"], rows)


TABLE_STATUS_COLUMNS = ("Name", "Engine", "Version", "Row_format", "Rows", "Avg_row_length", "Data_length",
                        "Max_data_length", "Index_length", "Data_free", "Auto_increment", "Create_time",
                        "Update_time", "Check_time", "Collation", "Checksum", "Create_options", "Comment")  # fmt: skip


def _table_status(env: Env, ctx: SessionContext, _user: User, stmt: s.ShowStmt) -> Result:
    """SHOW TABLE STATUS [FROM db] [LIKE 'pattern'] (what BI tools list tables with)."""
    db_name = ctx.current_db(stmt.db)
    if db_name.lower() in VIRTUAL_DBS:  # information_schema / mysql: system views, as MySQL lists them
        rows = [(name, *(None,) * 16, "SYSTEM VIEW") for name in info_schema.virtual_tables(db_name)]
        return text_result(TABLE_STATUS_COLUMNS, [r for r in rows if like(stmt.like, r[0])])
    db = env.catalog.db(db_name)
    user = env.users.require(ctx.user)
    if not user.has_any_in_db(db_name):
        require(user, "SELECT_PRIV", db_name)
    rows = []
    for table in env.catalog.db_tables(db.id):
        if not like(stmt.like, table.name):
            continue
        created = long_to_time_string(table.create_time)
        if table.kind == "VIEW":
            rows.append((table.name, None, None, None, None, None, None, None, None, None, None, created, None,
                         None, None, None, None, "VIEW"))  # fmt: skip
            continue
        count = size = 0
        for part in env.catalog.table_partitions(table):
            for tablet in env.catalog.partition_tablets(part):
                if tablet.replicas:
                    count += tablet.replicas[0].row_count
                    size += tablet.replicas[0].data_size
        rows.append((table.name, "Doris", 10, "Dynamic", count, size // count if count else 0, size, 0, 0, 0, None,
                     created, long_to_time_string(table.update_time), None, "utf8mb4_0900_bin", None, "",
                     table.comment))  # fmt: skip
    return text_result(TABLE_STATUS_COLUMNS, rows)


def _columns(table: Table, full: bool, pattern: str | None, columns: list[Column]) -> Result:
    names = ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
    if not full:
        names = ["Field", "Type", "Null", "Key", "Default", "Extra"]
    rows = []
    for col in columns:
        if not like(pattern, col.name):
            continue
        ctype = col.type.sql().lower().replace(", ", ",")
        key = "YES" if col.is_key else "NO"
        null = "YES" if col.nullable else "NO"
        if full:
            rows.append(
                (col.name, ctype, None, null, key, col.default, "", "select,insert,update,references", col.comment)
            )
        else:
            rows.append((col.name, ctype, null, key, col.default, ""))
    return text_result(names, rows)


PARTITION_FILTER_COLUMNS = (
    "PartitionId",
    "PartitionName",
    "State",
    "Buckets",
    "ReplicationNum",
    "LastConsistencyCheckTime",
)


def _filter_partitions(result: Result, where: tuple[tuple[str, str, str], ...]) -> Result:
    """SHOW PARTITIONS ... WHERE: ``=`` / ``!=`` / LIKE on the columns Doris lets a filter name."""
    names = [c[0] for c in result.columns]
    rows = result.rows
    for column, op, value in where:
        canonical = next((n for n in PARTITION_FILTER_COLUMNS if n.lower() == column.lower()), None)
        if canonical is None:
            raise DorisError(
                "Only the columns of PartitionId/PartitionName/State/Buckets/ReplicationNum/"
                "LastConsistencyCheckTime are supported."
            )
        i = names.index(canonical)
        if op == "LIKE":
            rows = [r for r in rows if like(value, str(r[i]))]
        elif op == "=":
            rows = [r for r in rows if str(r[i]).lower() == value.lower()]
        else:
            rows = [r for r in rows if str(r[i]).lower() != value.lower()]
    return Result(result.columns, rows)


def _processlist(env: Env, ctx: SessionContext, user: User, stmt: s.ShowStmt) -> Result:
    """The live connections; without ADMIN a user sees only its own, as in Doris."""
    admin = user.has("ADMIN_PRIV")
    rows = []
    for session in env.live_sessions():
        row = session.process_row(stmt.full)
        if row is None or not (admin or row[1] == ctx.user):
            continue
        rows.append(("Yes" if row[0] == ctx.connection_id else "No", *row))
    return text_result(PROCESSLIST_COLUMNS, sorted(rows, key=lambda r: r[1]))


def _virtual_columns(db_name: str, stmt: s.ShowStmt) -> Result:
    """DESC / SHOW [FULL] COLUMNS of an information_schema or mysql table."""
    assert stmt.table is not None
    kinds = info_schema.table_columns(db_name, stmt.table.name)
    if kinds is None:
        raise DorisError(f"Unknown table '{stmt.table.name}' in {db_name}", code=1109)
    columns = [Column(name, info_schema.column_type(kind)) for name, kind in kinds]
    if stmt.what == "DESC":
        return catalog_rows.describe(Table(0, 0, stmt.table.name.lower(), kind="SCHEMA"), False, columns)
    result = _columns(Table(0, 0, stmt.table.name.lower(), kind="SCHEMA"), stmt.full, stmt.like, columns)
    return Result(result.columns, keep([c[0] for c in result.columns], result.rows, stmt.condition))


# ---------------------------------------------------------------------- a view's columns

# DuckDB's type of a query column -> the Doris type a view column of it has
_FROM_DUCK = {
    "BOOLEAN": "BOOLEAN", "TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INTEGER": "INT", "BIGINT": "BIGINT",
    "HUGEINT": "LARGEINT", "UTINYINT": "SMALLINT", "USMALLINT": "INT", "UINTEGER": "BIGINT", "UBIGINT": "LARGEINT",
    "UHUGEINT": "LARGEINT", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "DATE": "DATE", "TIMESTAMP": "DATETIME",
    "TIMESTAMP_S": "DATETIME", "TIMESTAMP_MS": "DATETIME", "TIMESTAMP_NS": "DATETIME",
    "TIMESTAMP WITH TIME ZONE": "DATETIME", "JSON": "JSON",
}  # fmt: skip
_DUCK_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def doris_type(duck_type: str) -> ColumnType:
    """The Doris type of a query column DuckDB describes as ``duck_type`` (``INTEGER`` -> INT, ``DECIMAL(18,2)``,
    ``VARCHAR`` -> VARCHAR(65533), ``INTEGER[]`` -> ARRAY<INT>); text for what Doris has no name for."""
    name = duck_type.strip().upper()
    if name.endswith("[]"):
        return ColumnType("ARRAY", items=(doris_type(name[:-2]),))
    decimal = _DUCK_DECIMAL.fullmatch(name)
    if decimal:
        return ColumnType("DECIMAL", precision=int(decimal.group(1)), scale=int(decimal.group(2)))
    if name in _FROM_DUCK:
        return ColumnType(_FROM_DUCK[name])
    if name == "VARCHAR":
        return ColumnType("VARCHAR", length=65533)
    return ColumnType("STRING")


def _same_storage(column: ColumnType, duck_type: str) -> bool:
    return column.duck().replace(" ", "").upper() == duck_type.replace(" ", "").upper()


def view_columns(env: Env, ctx: SessionContext, db_name: str, table: Table) -> list[Column]:
    """A table's columns; a view's are its query's, named and typed as a SELECT of the view returns
    them (a column the query takes as it is from a table keeps that column's Doris type, say
    VARCHAR(32); the rest are typed from the engine's description). A view the engine cannot read
    now (a table it reads was dropped) has none, as MySQL shows it."""
    if table.kind != "VIEW":
        return table.columns
    view_ctx = SessionContext(ctx.user, db_name, ctx.connection_id, time_zone=ctx.time_zone)
    query = f"SELECT * FROM `{db_name.replace('`', '``')}`.`{table.name.replace('`', '``')}`"
    try:
        described = env.engine.describe(view_ctx, query)
    except (DorisError, sqlglot.errors.SqlglotError) as exc:  # a dropped table, a privilege, a bad stored text
        log.info("view %s.%s has no columns now: %s", db_name, table.name, exc)
        return []
    try:  # the table column each output column reads as it is, traced by the engine
        traced = env.engine.output_columns(view_ctx, sqlglot.parse_one(table.view_sql, read=DorisBK))
    except sqlglot.errors.ParseError:
        traced = None
    origins = [c.origin for c in traced] if traced is not None and len(traced) == len(described) else []
    columns = []
    for (name, duck_type), origin in itertools.zip_longest(described, origins):
        if origin is not None and _same_storage(origin.type, duck_type):
            columns.append(Column(name, origin.type, nullable=origin.nullable))
        else:
            columns.append(Column(name, doris_type(duck_type)))
    return columns


_SERVER_WIDE: dict[s.ShowKind, Callable[[Env, SessionContext, User, s.ShowStmt], Result]] = {
    s.ShowKind.DATABASES: _databases,
    s.ShowKind.TABLES: _tables,
    s.ShowKind.CREATE_DATABASE: _create_database,
    s.ShowKind.GRANTS: _grants,
    s.ShowKind.ALL_GRANTS: _all_grants,
    s.ShowKind.BACKENDS: _backends_of,
    s.ShowKind.PROC: _proc,
    s.ShowKind.TABLET_ID: _proc,
    s.ShowKind.DYNAMIC_PARTITION_TABLES: _dynamic_partition_tables,
    s.ShowKind.FRONTENDS: _frontends,
    s.ShowKind.ENGINES: _engines,
    s.ShowKind.PROCESSLIST: _processlist,
    s.ShowKind.TABLE_STATUS: _table_status,
    s.ShowKind.FUNCTION_STATUS: _routine_status,
    s.ShowKind.PROCEDURE_STATUS: _routine_status,
    s.ShowKind.PLUGINS: _plugins,
    s.ShowKind.BUILD_INDEX: _build_index,
    s.ShowKind.ALTER_ROLLUP: _alter_rollup,
    s.ShowKind.ALTER_COLUMN: _alter_column,
}
_OF_TABLE: dict[s.ShowKind, Callable[[Env, SessionContext, s.ShowStmt, _Target], Result]] = {
    s.ShowKind.VIEWS_OF: _views_of,
    s.ShowKind.CREATE_TABLE: _create_table,
    s.ShowKind.DESC: _desc,
    s.ShowKind.COLUMNS: _columns_of,
    s.ShowKind.INDEX: _index,
    s.ShowKind.TEMP_PARTITIONS: _temp_partitions,
    s.ShowKind.PARTITIONS: _partitions_of,
    s.ShowKind.TABLETS: _tablets_of,
}
