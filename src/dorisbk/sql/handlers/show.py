"""SHOW and DESC statements with Doris's column names, order and value formats."""

from __future__ import annotations

import itertools
import logging
import re
import shutil

import sqlglot
from sqlglot import exp

from dorisbk.auth.users import SHOW_GRANTS_COLUMNS, User, grants_row, require, require_admin
from dorisbk.catalog import partitions as bounds
from dorisbk.catalog import rollup, schema_change
from dorisbk.catalog.model import KEYS_SQL, Column, Partition, Table
from dorisbk.catalog.types import ColumnType
from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql import info_schema
from dorisbk.sql.result import like, text_result
from dorisbk.sql.show_where import keep
from dorisbk.timeutil import long_to_time_string

log = logging.getLogger(__name__)

VIRTUAL_DBS = ("information_schema", "mysql")

PARTITION_COLUMNS = (
    "PartitionId",
    "PartitionName",
    "VisibleVersion",
    "VisibleVersionTime",
    "State",
    "PartitionKey",
    "Range",
    "DistributionKey",
    "Buckets",
    "ReplicationNum",
    "StorageMedium",
    "CooldownTime",
    "RemoteStoragePolicy",
    "LastConsistencyCheckTime",
    "DataSize",
    "IsInMemory",
    "ReplicaAllocation",
    "IsMutable",
    "SyncWithBaseTables",
    "UnsyncTables",
    "CommittedVersion",
    "RowCount",
)
TABLET_COLUMNS = (
    "TabletId",
    "ReplicaId",
    "BackendId",
    "SchemaHash",
    "Version",
    "LstSuccessVersion",
    "LstFailedVersion",
    "LstFailedTime",
    "LocalDataSize",
    "RemoteDataSize",
    "RowCount",
    "State",
    "LstConsistencyCheckTime",
    "CheckVersion",
    "VisibleVersionCount",
    "VersionCount",
    "QueryHits",
    "PathHash",
    "Path",
    "MetaUrl",
    "CompactionStatus",
    "CooldownReplicaId",
    "CooldownMetaId",
)
BACKEND_COLUMNS = (
    "BackendId",
    "Host",
    "HeartbeatPort",
    "BePort",
    "HttpPort",
    "BrpcPort",
    "ArrowFlightSqlPort",
    "LastStartTime",
    "LastHeartbeat",
    "Alive",
    "SystemDecommissioned",
    "TabletNum",
    "DataUsedCapacity",
    "TrashUsedCapacity",
    "AvailCapacity",
    "TotalCapacity",
    "UsedPct",
    "MaxDiskUsedPct",
    "RemoteUsedCapacity",
    "Tag",
    "ErrMsg",
    "Version",
    "Status",
    "HeartbeatFailureCounter",
    "NodeRole",
)
DESC_ALL_COLUMNS = (
    "IndexName",
    "IndexKeysType",
    "Field",
    "Type",
    "InternalType",
    "Null",
    "Key",
    "Default",
    "Extra",
    "Visible",
    "DefineExpr",
    "WhereClause",
)
VERSION = "doris-2.1.8-dorisbk-0.1.0"
# SHOW {PROCEDURE | FUNCTION} STATUS (Doris 3's ShowProcedureStatusCommand)
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


def fmt_size(size: int) -> str:
    """Doris's human byte count: ``0.000``, ``1.250 KB``, ``3.000 GB``."""
    value = float(size)
    for unit in ("", " KB", " MB", " GB", " TB"):
        if value < 1024 or unit == " TB":
            return f"{value:.3f}{unit}"
        value /= 1024
    return f"{value:.3f} TB"


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
            "DEFAULT CURRENT_TIMESTAMP" if col.default == "CURRENT_TIMESTAMP" else f'DEFAULT "{_esc(col.default)}"'
        )
    if col.comment:
        parts.append(f"COMMENT '{_esc(col.comment)}'")
    return " ".join(parts)


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def _literals(values: list[str | None] | None) -> str:
    return ", ".join("MAXVALUE" if v is None else f'"{_esc(v)}"' for v in values or [])


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


def index_properties(index: dict) -> str:
    """An index's properties as Doris prints them: ``("parser" = "english")``, empty when there are none."""
    if not index["properties"]:
        return ""
    return "(" + ", ".join(f'"{k}" = "{_esc(v)}"' for k, v in index["properties"].items()) + ")"


def index_row(table: Table, index: dict) -> tuple[str, ...]:
    """One SHOW INDEX row: Key_name is the index, Index_type INVERTED / NGRAM_BF / BITMAP."""
    cols = ",".join(index["columns"])
    return (table.name, "", index["name"], "", cols, "", "", "", "", "", index["type"], index["comment"],
            index_properties(index))  # fmt: skip


def index_sql(index: dict) -> str:
    """``INDEX idx (`col`) USING INVERTED PROPERTIES("parser" = "english") COMMENT '...'``."""
    cols = ", ".join(f"`{c}`" for c in index["columns"])
    text = f"INDEX {index['name']} ({cols}) USING {index['type']}"
    if index["properties"]:
        text += f" PROPERTIES{index_properties(index)}"
    return text + f" COMMENT '{_esc(index['comment'])}'"


def create_table_sql(env: Env, table: Table) -> str:
    cols = ",\n".join(
        ["  " + column_sql(c, table.keys_type == "AGG_KEYS") for c in table.columns]
        + ["  " + index_sql(i) for i in table.indexes]
    )
    out = [f"CREATE TABLE `{table.name}` (\n{cols}\n) ENGINE=OLAP"]
    if table.key_columns:  # a DUPLICATE table without keys (enable_duplicate_without_keys_by_default) shows none
        out.append(f"{KEYS_SQL[table.keys_type]}({', '.join(f'`{k}`' for k in table.key_columns)})")
    if table.comment:
        out.append(f"COMMENT '{_esc(table.comment)}'")
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
    body = ",\n".join(f'"{k}" = "{_esc(v)}"' for k, v in props.items())
    out.append(f"PROPERTIES (\n{body}\n);")
    return "\n".join(out)


def execute(env: Env, ctx: SessionContext, stmt: s.ShowStmt) -> Result:
    user = env.users.require(ctx.user)
    catalog = env.catalog
    what = stmt.what
    if what == "DATABASES":
        names = [d.name for d in catalog.dbs.values() if user.has_any_in_db(d.name)]
        names = sorted({*names, *VIRTUAL_DBS})
        return text_result(
            ["Database"], keep(["Database"], [(n,) for n in names if like(stmt.like, n)], stmt.condition)
        )
    if what == "TABLES":
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
    if what == "CREATE_DATABASE":
        db = catalog.db(stmt.db or "")
        text = f"CREATE DATABASE `{db.name}`"
        if db.properties:
            props = ",\n".join(f'"{k}" = "{v}"' for k, v in db.properties.items())
            text += f"\nPROPERTIES (\n{props}\n)"
        return text_result(["Database", "Create Database"], [(db.name, text)])
    if what == "GRANTS":
        target = user
        if stmt.user is not None and stmt.user.name != user.name:
            require_admin(user)
            target = env.users.require(stmt.user.name)
        return text_result(SHOW_GRANTS_COLUMNS, [grants_row(target)])
    if what == "ALL_GRANTS":
        require_admin(user)
        rows = [grants_row(u) for u in sorted(env.users.users.values(), key=lambda u: u.name)]
        return text_result(SHOW_GRANTS_COLUMNS, rows)
    if what == "BACKENDS":
        require_admin(user)
        return _backends(env)
    if what in ("PROC", "TABLET_ID"):
        from dorisbk.sql.handlers import proc  # proc builds on this module's rows

        require_admin(user)
        return proc.show_proc(env, stmt.path) if what == "PROC" else proc.show_tablet(env, stmt.tablet_id)
    if what == "DYNAMIC_PARTITION_TABLES":
        from dorisbk.sql.handlers import dynamic_show

        return dynamic_show.show_tables(env, user, ctx.current_db(stmt.db))
    if what == "FRONTENDS":
        require_admin(user)
        row = (
            "dorisbk",
            env.config.host,
            "9010",
            "8030",
            str(env.config.port),
            "9020",
            "-1",
            "FOLLOWER",
            "true",
            "1",
            "1",
            "1",
            "true",
            "true",
            long_to_time_string(env.started_ms),
            long_to_time_string(env.started_ms),
            "true",
            "",
            VERSION,
            "true",
        )
        names = (
            "Name",
            "Host",
            "EditLogPort",
            "HttpPort",
            "QueryPort",
            "RpcPort",
            "ArrowFlightSqlPort",
            "Role",
            "IsMaster",
            "ClusterId",
            "Join",
            "Alive",
            "ReplayedJournalId",
            "LastStartTime",
            "LastHeartbeat",
            "IsHelper",
            "ErrMsg",
            "Version",
            "CurrentConnected",
        )
        return text_result(names, [row[: len(names)]])
    if what == "ENGINES":
        return text_result(
            ["Engine", "Support", "Comment", "Transactions", "XA", "Savepoints"],
            [("Olap engine", "DEFAULT", "Default storage engine of palo", "NO", "NO", "NO")],
        )
    if what == "PROCESSLIST":
        return text_result(
            [
                "CurrentConnected",
                "Id",
                "User",
                "Host",
                "LoginTime",
                "Catalog",
                "Db",
                "Command",
                "Time",
                "State",
                "QueryId",
                "Info",
            ],
            _processes(env, ctx, user, stmt.full),
        )
    if what == "TABLE_STATUS":
        return _table_status(env, ctx, stmt)
    if what in ("FUNCTION_STATUS", "PROCEDURE_STATUS"):
        # Doris's SHOW {PROCEDURE | FUNCTION} STATUS lists its stored (PL/SQL) procedures: none here
        return text_result(ROUTINE_STATUS_COLUMNS, [])
    if what == "PLUGINS":
        return text_result(PLUGIN_COLUMNS, PLUGINS)
    if what == "BUILD_INDEX":
        return _build_index(env, ctx, stmt)
    if what == "ALTER_ROLLUP":
        return _alter_rollup(env, ctx, stmt)
    if what == "ALTER_COLUMN":
        return _alter_column(env, ctx, stmt)
    # the rest are about one table
    assert stmt.table is not None
    db_name = ctx.current_db(stmt.table.db or stmt.db)
    if db_name.lower() in VIRTUAL_DBS and what in ("DESC", "COLUMNS"):
        return _virtual_columns(db_name.lower(), stmt)
    db = catalog.db(db_name)
    table = catalog.table(db, stmt.table.name)
    if what in ("PARTITIONS", "TEMP_PARTITIONS", "TABLETS"):
        require_admin(user)
    else:
        require(user, "SELECT_PRIV", db_name, table.name)
    if what == "VIEWS_OF":
        return _views_of(env, db.id, db_name, table)
    if what == "CREATE_TABLE":
        if table.kind == "VIEW":
            return text_result(
                ["View", "Create View", "character_set_client", "collation_connection"],
                [(table.name, f"CREATE VIEW `{table.name}` AS {table.view_sql};", "utf8mb4", "utf8mb4_0900_bin")],
            )
        return text_result(["Table", "Create Table"], [(table.name, create_table_sql(env, table))])
    if what == "DESC":
        return _describe(table, stmt.full, view_columns(env, ctx, db_name, table))
    if what == "COLUMNS":
        result = _columns(table, stmt.full, stmt.like, view_columns(env, ctx, db_name, table))
        return Result(result.columns, keep([c[0] for c in result.columns], result.rows, stmt.condition))
    if what == "INDEX":
        return text_result(
            [
                "Table",
                "Non_unique",
                "Key_name",
                "Seq_in_index",
                "Column_name",
                "Collation",
                "Cardinality",
                "Sub_part",
                "Packed",
                "Null",
                "Index_type",
                "Comment",
                "Properties",
            ],
            [index_row(table, i) for i in table.indexes],
        )
    if what == "TEMP_PARTITIONS":
        return _partitions(env, table, temporary=True)
    if table.kind != "OLAP":
        raise DorisError(f"Table[{table.name}] is not a OLAP table")
    if what == "PARTITIONS":
        return _filter_partitions(_partitions(env, table), stmt.where)
    if what == "TABLETS":
        return _tablets(env, table, stmt.partitions)
    raise DorisError(f"Unsupported SHOW statement: {what}")


BUILD_INDEX_COLUMNS = ("JobId", "TableName", "PartitionName", "AlterInvertedIndexes", "CreateTime", "FinishTime",
                       "TransactionId", "State", "Msg", "Progress")  # fmt: skip


def _build_index(env: Env, ctx: SessionContext, stmt: s.ShowStmt) -> Result:
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


def _alter_rollup(env: Env, ctx: SessionContext, stmt: s.ShowStmt) -> Result:
    """SHOW ALTER TABLE MATERIALIZED VIEW / ROLLUP [FROM db] [WHERE ...]: the jobs that built the views."""
    db = env.catalog.db(ctx.current_db(stmt.db))
    rows = rollup.alter_job_rows(env.catalog.db_tables(db.id))
    names = list(rollup.ALTER_JOB_COLUMNS)
    rows = _job_filter(names, rows, stmt.where, "TableName/IndexName/CreateTime/FinishTime/State")
    return text_result(names, rows)


def _alter_column(env: Env, ctx: SessionContext, stmt: s.ShowStmt) -> Result:
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


def _views_of(env: Env, db_id: int, db_name: str, table: Table) -> Result:
    """SHOW VIEW FROM tbl: the views of the database whose query reads ``table``."""
    rows = []
    for view in env.catalog.db_tables(db_id):
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


def _table_status(env: Env, ctx: SessionContext, stmt: s.ShowStmt) -> Result:
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


def type_text(ctype: ColumnType) -> str:
    """A type as Doris 2.x's DESC prints it (``hideVersionForVersionColumn``): lower case, ``decimal(18,2)``,
    ``varchar(32)``, ``datetime(3)``, ``text``, ``array<int>``."""
    if ctype.items:
        return f"{ctype.name.lower()}<{','.join(type_text(item) for item in ctype.items)}>"
    name = {"STRING": "TEXT", "DATEV2": "DATE", "DATETIMEV2": "DATETIME", "DECIMALV3": "DECIMAL"}.get(ctype.name)
    return ColumnType(name or ctype.name, ctype.length, ctype.precision, ctype.scale).sql().lower().replace(", ", ",")


def _describe(table: Table, full: bool, columns: list[Column]) -> Result:
    """DESC [ALL]. A view's columns are its query's (``view_columns``), typed as Doris 2.x prints them
    (lower case: the MySQL spelling SQLAlchemy's MySQL dialect reads a view's columns from), with no
    index rows."""
    if table.kind in ("VIEW", "SCHEMA"):
        rows = [(c.name, type_text(c.type), "Yes" if c.nullable else "No", "false", c.default, "") for c in columns]
        return text_result(["Field", "Type", "Null", "Key", "Default", "Extra"], rows)
    rows = []
    for col in columns:
        extra = "" if table.keys_type != "AGG_KEYS" or col.is_key else (col.aggregation or "")
        base = (
            col.name,
            col.type.sql(),
            "Yes" if col.nullable else "No",
            "true" if col.is_key else "false",
            col.default,
            extra,
        )
        if full:
            first = not rows  # the index's name and keys type head its first row only
            rows.append(
                (
                    table.name if first else "",
                    table.keys_type if first else "",
                    col.name,
                    col.type.sql(),
                    col.type.sql(),
                    base[2],
                    base[3],
                    col.default,
                    extra,
                    "true",
                    "",
                    "",
                )
            )
        else:
            rows.append(base)
    if full:
        return text_result(DESC_ALL_COLUMNS, rollup.describe_rows(table, rows))
    return text_result(["Field", "Type", "Null", "Key", "Default", "Extra"], rows)


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


def _partitions(env: Env, table: Table, temporary: bool = False) -> Result:
    catalog = env.catalog
    rows = []
    types = bounds.column_types(table) if table.partition_type != "UNPARTITIONED" else []
    for part in catalog.temp_partitions(table) if temporary else catalog.table_partitions(table):
        tablets = catalog.partition_tablets(part)
        size = sum(t.replicas[0].data_size for t in tablets if t.replicas)
        row_count = sum(t.replicas[0].row_count for t in tablets if t.replicas)
        if table.partition_type == "RANGE":
            rng = bounds.format_range(types, part)
        elif table.partition_type == "LIST":
            rng = bounds.format_list(types, part)
        else:
            rng = ""
        dist = ", ".join(table.distribution_columns) if table.distribution == "HASH" else "RANDOM"
        rows.append(
            (
                part.id,
                part.name,
                part.visible_version,
                long_to_time_string(part.visible_version_time),
                "NORMAL",
                ", ".join(table.partition_columns),
                rng,
                dist,
                part.buckets,
                part.replication_num,
                part.storage_medium,
                "9999-12-31 23:59:59",
                "",
                "NULL",
                fmt_size(size),
                "false",
                f"tag.location.default: {part.replication_num}",
                "true",
                "true",
                "\\N",
                part.visible_version,
                row_count,
            )
        )
    return text_result(PARTITION_COLUMNS, rows)


def _tablets(env: Env, table: Table, names: tuple[str, ...]) -> Result:
    catalog = env.catalog
    parts = [catalog.partition(table, n) for n in names] if names else catalog.table_partitions(table)
    return tablet_rows(env, parts)


def tablet_rows(env: Env, parts: list[Partition]) -> Result:
    """SHOW TABLETS rows of the given partitions, one per replica."""
    catalog = env.catalog
    rows = []
    for part in parts:
        for tablet in catalog.partition_tablets(part):
            for replica in tablet.replicas:
                path = str(env.tablets.tablet_dir(replica.backend_id, tablet.id))
                rows.append(
                    (
                        tablet.id,
                        replica.id,
                        replica.backend_id,
                        0,
                        replica.version,
                        replica.version,
                        -1,
                        "NULL",
                        replica.data_size,
                        0,
                        replica.row_count,
                        "NORMAL",
                        "NULL",
                        -1,
                        len(replica.visible_rowsets(part.visible_version)),
                        len(replica.rowsets),
                        0,
                        0,
                        path,
                        f"http://127.0.0.1:8040/api/meta/header/{tablet.id}",
                        f"http://127.0.0.1:8040/api/compaction/show?tablet_id={tablet.id}",
                        -1,
                        -1,
                    )
                )
    return text_result(TABLET_COLUMNS, rows)


def _backends(env: Env) -> Result:
    rows = []
    for be in env.catalog.backend_list():
        usage = shutil.disk_usage(be.root)
        tablets = sum(1 for t in env.catalog.tablets.values() for r in t.replicas if r.backend_id == be.id)
        used = sum(r.data_size for t in env.catalog.tablets.values() for r in t.replicas if r.backend_id == be.id)
        rows.append(
            (
                be.id,
                be.host,
                be.heartbeat_port,
                be.be_port,
                be.http_port,
                be.brpc_port,
                -1,
                long_to_time_string(env.started_ms),
                long_to_time_string(env.started_ms),
                "true",
                "false",
                tablets,
                fmt_size(used),
                "0.000",
                fmt_size(usage.free),
                fmt_size(usage.total),
                f"{100.0 * (usage.total - usage.free) / usage.total:.2f} %",
                f"{100.0 * (usage.total - usage.free) / usage.total:.2f} %",
                "0.000",
                '{"location" : "default"}',
                "",
                VERSION,
                '{"lastSuccessReportTabletsTime":"' + long_to_time_string(env.started_ms) + '","isQueryDisabled":false,'
                '"isLoadDisabled":false}',
                0,
                "mix",
            )
        )
    return text_result(BACKEND_COLUMNS, rows)


def _processes(env: Env, ctx: SessionContext, user: User, full: bool) -> list[tuple]:
    """The live connections; without ADMIN a user sees only its own, as in Doris."""
    admin = user.has("ADMIN_PRIV")
    rows = []
    for session in env.live_sessions():
        row = session.process_row(full)
        if row is None or not (admin or row[1] == ctx.user):
            continue
        rows.append(("Yes" if row[0] == ctx.connection_id else "No", *row))
    return sorted(rows, key=lambda r: r[1])


def _virtual_columns(db_name: str, stmt: s.ShowStmt) -> Result:
    """DESC / SHOW [FULL] COLUMNS of an information_schema or mysql table."""
    assert stmt.table is not None
    kinds = info_schema.table_columns(db_name, stmt.table.name)
    if kinds is None:
        raise DorisError(f"Unknown table '{stmt.table.name}' in {db_name}", code=1109)
    columns = [Column(name, info_schema.column_type(kind)) for name, kind in kinds]
    if stmt.what == "DESC":
        return _describe(Table(0, 0, stmt.table.name.lower(), kind="SCHEMA"), False, columns)
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
