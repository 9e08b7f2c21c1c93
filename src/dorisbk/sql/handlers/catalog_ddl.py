"""Catalog DDL: databases, tables, partitions and views, checked the way Doris checks them."""

from __future__ import annotations

import dataclasses
import re

from dorisbk.auth.users import User, require, require_admin
from dorisbk.catalog import auto_partition, dynamic_partition, schema_change
from dorisbk.catalog.catalog import AUTO_BUCKETS, check_index, default_keys, replication_from_properties
from dorisbk.catalog.model import AGG_FUNCS, Column, PartitionDef, Table
from dorisbk.catalog.types import ColumnType
from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s

# Doris's name rules (FeNameFormat): letters first, then letters, digits, '-' and '_'.
_DB_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,63}")
_TABLE_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,63}")
_PARTITION_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,63}")
MAX_BUCKETS = 1024


def check_db_name(name: str) -> None:
    if not _DB_NAME.fullmatch(name):
        raise DorisError(f"Incorrect database name '{name}'", code=1102)


def check_table_name(name: str) -> None:
    if not _TABLE_NAME.fullmatch(name):
        raise DorisError(f"Incorrect table name '{name}'. Table name regex is '{_TABLE_NAME.pattern}'", code=1103)


def check_partition_name(name: str) -> None:
    if not _PARTITION_NAME.fullmatch(name):
        raise DorisError(f"Incorrect partition name '{name}'. Partition name regex is '{_PARTITION_NAME.pattern}'")


def check_buckets(buckets: int | None) -> int:
    """``BUCKETS n`` (None for AUTO) as Doris checks it."""
    if buckets is None:
        return AUTO_BUCKETS
    if buckets < 1:
        raise DorisError("Number of hash distribution should be greater than zero.")
    if buckets > MAX_BUCKETS:
        raise DorisError(f"Number of hash distribution should be less than or equal to {MAX_BUCKETS}: {buckets}")
    return buckets


def build_table(stmt: s.CreateTableStmt) -> Table:
    """A Table (no ids yet) from CREATE TABLE, refusing what Doris refuses."""
    columns: list[Column] = []
    seen: set[str] = set()
    check_table_name(stmt.table.name)
    for part in stmt.partitions:
        check_partition_name(part.name)
    for cdef in stmt.columns:
        schema_change.check_column_name(cdef.name)
        if cdef.name.lower() in seen:
            raise DorisError(f"Duplicate column name '{cdef.name}'", code=1060)
        seen.add(cdef.name.lower())
        ctype = ColumnType.of(cdef.type_name, cdef.type_args, cdef.type_items)
        if cdef.has_default and cdef.default not in (None, "CURRENT_TIMESTAMP"):
            ctype.coerce(cdef.default)
        if cdef.aggregation is not None and cdef.aggregation not in AGG_FUNCS:
            raise DorisError(f"Aggregate type {cdef.aggregation} is not supported by dorisbk")
        columns.append(
            Column(
                name=cdef.name,
                type=ctype,
                nullable=cdef.nullable if cdef.nullable is not None else cdef.auto_increment is None,
                aggregation=cdef.aggregation,
                default=cdef.default,
                comment=cdef.comment,
                auto_increment=_checked_auto_increment(cdef, ctype),
            )
        )
    if not columns:
        raise DorisError("Table should contain at least one column")
    auto = [c for c in columns if c.auto_increment is not None]
    if len(auto) > 1:
        raise DorisError("there can be at most one auto increment column in OlapTable.")
    keys_type = stmt.keys_type or ("AGG_KEYS" if any(c.aggregation for c in columns) else "DUP_KEYS")
    key_names = list(stmt.key_columns) or _implicit_keys(stmt, keys_type, columns)
    _check_keys(keys_type, key_names, columns)
    key_set = {k.lower() for k in key_names}
    for col in columns:
        col.is_key = col.name.lower() in key_set
        if keys_type == "UNIQUE_KEYS" and not col.is_key and col.aggregation is None:
            col.aggregation = "REPLACE"
    props = dict(stmt.properties)
    if "storage_medium" in props:
        if props["storage_medium"].upper() not in ("HDD", "SSD"):
            raise DorisError(f"Invalid storage medium: {props['storage_medium']}")
        props["storage_medium"] = props["storage_medium"].lower()
    if "bloom_filter_columns" in props:
        props["bloom_filter_columns"] = bloom_filter_columns(props["bloom_filter_columns"], columns)
    indexes: list[dict] = []
    for idef in stmt.indexes:
        index = index_dict(idef)
        index.pop("if_not_exists")
        check_index(columns, indexes, index)
        indexes.append(index)
    num = replication_from_properties(props)
    if num is not None:
        props["replication_num"] = str(num)
        props.pop("replication_allocation", None)
    dist = stmt.distribution or s.DistributionDef("RANDOM")
    buckets = check_buckets(dist.buckets)
    for name in dist.columns:
        col = next((c for c in columns if c.name.lower() == name.lower()), None)
        if col is None:
            raise DorisError(f"Distribution column[{name}] is not found in table columns")
        if keys_type != "DUP_KEYS" and not col.is_key:
            raise DorisError(f"Distribution column[{name}] is not key column")
    if dist.kind == "RANDOM" and keys_type == "UNIQUE_KEYS":
        raise DorisError("Random distribution for unique key table is unsupported")
    if dist.kind == "RANDOM" and keys_type == "AGG_KEYS" and any(c.aggregation == "REPLACE" for c in columns):
        raise DorisError("Cannot use REPLACE aggregation with random distribution")
    part_type = stmt.partition_type or "UNPARTITIONED"
    for name in stmt.partition_columns:
        col = next((c for c in columns if c.name.lower() == name.lower()), None)
        if col is None:
            raise DorisError(f"Partition column[{name}] does not exist in column list.")
        if keys_type != "DUP_KEYS" and not col.is_key:
            raise DorisError(f"The partition column could not be aggregated column: {name}")
        if col.type.is_float:
            raise DorisError(f"Floating point type column can not be partition column: {name}")
    if part_type == "RANGE" and any(p.values is not None for p in stmt.partitions):
        raise DorisError("List partition values can not be used in a RANGE partitioned table")
    auto_unit = auto_partition.check(stmt.auto_partition, part_type, stmt.partition_columns, columns)
    return Table(
        id=0,
        db_id=0,
        name=stmt.table.name,
        columns=columns,
        keys_type=keys_type,
        key_columns=[c.name for c in columns if c.is_key],
        partition_type=part_type,
        partition_columns=[_canonical(columns, n) for n in stmt.partition_columns],
        distribution=dist.kind,
        distribution_columns=[_canonical(columns, n) for n in dist.columns],
        buckets=buckets,
        auto_bucket=dist.buckets is None,
        auto_increment_next=auto[0].auto_increment if auto else 1,
        auto_partition=auto_unit,
        properties={"replication_num": "1", **props},
        comment=stmt.comment,
        indexes=indexes,
    )


def index_dict(index: s.IndexDef) -> dict:
    """An index as the catalog keeps it (``id`` is given when it is added)."""
    return {
        "name": index.name,
        "columns": list(index.columns),
        "type": index.using.upper(),
        "properties": dict(index.properties),
        "comment": index.comment,
        "if_not_exists": index.if_not_exists,
    }


def bloom_filter_columns(value: str, columns: list[Column]) -> str:
    """``bloom_filter_columns`` as Doris keeps it: known columns, each once, sorted, joined by ``, ``."""
    names: dict[str, str] = {}
    for raw in value.split(","):
        name = raw.strip()
        if not name:
            continue
        col = next((c for c in columns if c.name.lower() == name.lower()), None)
        if col is None:
            raise DorisError(f"Bloom filter column does not exist in table. invalid column: {name}")
        if col.type.is_float or col.type.name in ("BOOLEAN", "TINYINT"):
            raise DorisError(f"{col.type.name} is not supported in bloom filter index. invalid column: {name}")
        if col.name.lower() in names:
            raise DorisError(f"Reduplicated bloom filter column: {name}")
        names[col.name.lower()] = col.name
    return ", ".join(sorted(names.values(), key=str.lower))


def _checked_auto_increment(cdef: s.ColumnDef, ctype: ColumnType) -> int | None:
    """An AUTO_INCREMENT column as Doris allows it: BIGINT, NOT NULL, no default."""
    if cdef.auto_increment is None:
        return None
    if ctype.name != "BIGINT":
        raise DorisError("the auto increment must be BIGINT type.")
    if cdef.nullable:
        raise DorisError("the auto increment column can't be NULLABLE.")
    if cdef.has_default:
        raise DorisError("the auto increment column can't have default value.")
    if cdef.auto_increment < 0:
        raise DorisError("AUTO_INCREMENT start value can not be negative.")
    return cdef.auto_increment


def _implicit_keys(stmt: s.CreateTableStmt, keys_type: str, columns: list[Column]) -> list[str]:
    """Key columns of a CREATE TABLE without a KEY clause, as Doris infers them: with aggregated
    columns every column without an aggregate type; with ``enable_duplicate_without_keys_by_default``
    none; else the leading short-key columns."""
    if stmt.keys_type is None and keys_type == "AGG_KEYS":
        return [c.name for c in columns if c.aggregation is None]
    if dict(stmt.properties).get("enable_duplicate_without_keys_by_default", "").lower() == "true":
        return []
    return default_keys(columns)


def _partition_column_type(stmt: s.CreateTableStmt) -> str:
    first = stmt.partition_columns[0].lower() if stmt.partition_columns else ""
    cdef = next((c for c in stmt.columns if c.name.lower() == first), None)
    return cdef.type_name.upper() if cdef is not None else ""


def expand_step_partitions(stmt: s.CreateTableStmt, limit: int) -> s.CreateTableStmt:
    """``FROM .. TO .. INTERVAL`` items replaced by the partitions they stand for, at most ``limit``
    (``max_multi_partition_num``) of them."""
    if not any(isinstance(p, s.StepPartitionDef) for p in stmt.partitions):
        return stmt
    if len(stmt.partition_columns) != 1:
        raise DorisError("Multi build partition only supports one partition column")
    ctype = _partition_column_type(stmt)
    parts: list[PartitionDef] = []
    for item in stmt.partitions:
        if isinstance(item, s.StepPartitionDef):
            parts.extend(dynamic_partition.expand_step(item.lower, item.upper, item.interval, item.unit, ctype, limit))
        else:
            parts.append(item)
    return dataclasses.replace(stmt, partitions=tuple(parts))


def dynamic_partitions(table: Table) -> list[PartitionDef]:
    """Check and complete a table's ``dynamic_partition.*`` properties (in place); returns the partitions
    it starts with (those clashing with the statement's own are skipped when created)."""
    if not dynamic_partition.is_dynamic(table.properties):
        return []
    col = table.column(table.partition_columns[0]) if table.partition_columns else None
    ctype = col.type.name if col is not None else ""
    props = dynamic_partition.normalize(
        table.properties, table.partition_type, table.partition_columns, ctype, table.buckets, table.replication_num
    )
    table.properties.clear()
    table.properties.update(props)
    return dynamic_partition.initial_partitions(props, ctype)


def _canonical(columns: list[Column], name: str) -> str:
    return next(c.name for c in columns if c.name.lower() == name.lower())


def _check_keys(keys_type: str, key_names: list[str], columns: list[Column]) -> None:
    names = [c.name.lower() for c in columns]
    for i, key in enumerate(key_names):
        if key.lower() not in names:
            raise DorisError(f"Key column[{key}] doesn't exist.")
        if i >= len(names) or names[i] != key.lower():
            raise DorisError(
                "Key columns should be a ordered prefix of the schema. "
                f"KeyColumns[{i}] (starts from zero) is {key}, but corresponding column is "
                f"{columns[i].name if i < len(columns) else '?'} in the previous columns declaration."
            )
    for col in columns[: len(key_names)]:
        if col.aggregation:
            raise DorisError(f"Key column {col.name} should not specify aggregate type.")
        if col.type.is_float:
            raise DorisError(f"Float or double can not used as a key, use decimal instead: {col.name}")
    for col in columns[len(key_names) :]:
        if keys_type == "AGG_KEYS" and not col.aggregation:
            raise DorisError(f"The column[{col.name}] is not key column, must specify aggregate type.")
        if keys_type != "AGG_KEYS" and col.aggregation:
            raise DorisError(f"The column[{col.name}] should not specify aggregate type in {keys_type} table.")


def execute(env: Env, ctx: SessionContext, stmt: object) -> None:
    """Run one catalog DDL statement; data files of dropped tablets go to the backend's trash."""
    user = env.users.require(ctx.user)
    match stmt:
        case s.CreateDatabaseStmt():
            require_admin_or(user, "CREATE_PRIV", stmt.name)
            check_db_name(stmt.name)
            env.catalog.create_database(stmt.name, stmt.if_not_exists, dict(stmt.properties))
        case s.DropDatabaseStmt():
            require_admin_or(user, "DROP_PRIV", stmt.name)
            check_backup_running(env, stmt.name, None)
            env.trash(env.catalog.drop_database(stmt.name, stmt.if_exists, recycle=not stmt.force))
        case s.CreateTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "CREATE_PRIV", db, stmt.table.name)
            stmt = expand_step_partitions(stmt, env.frontend_config.int("max_multi_partition_num"))
            table = build_table(stmt)
            forced = env.frontend_config.forced_replication()
            if forced:  # Doris's test clusters force one replica whatever the statement says
                table.properties["replication_num"] = str(forced)
            optional = dynamic_partitions(table)
            env.catalog.create_table(db, table, stmt.partitions, stmt.if_not_exists, optional)
        case s.CreateTableLikeStmt():
            db = ctx.current_db(stmt.table.db)
            src_db = ctx.current_db(stmt.source.db)
            require(user, "CREATE_PRIV", db, stmt.table.name)
            require(user, "SELECT_PRIV", src_db, stmt.source.name)
            check_table_name(stmt.table.name)
            env.catalog.create_table_like(db, stmt.table.name, src_db, stmt.source.name, stmt.if_not_exists)
        case s.DropTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "DROP_PRIV", db, stmt.table.name)
            check_backup_running(env, db, stmt.table.name)
            name, force = stmt.table.name, stmt.force
            dropped = env.catalog.drop_table(db, name, stmt.if_exists, stmt.is_view, force, recycle=not force)
            env.trash(dropped)
        case s.TruncateTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "LOAD_PRIV", db, stmt.table.name)
            check_backup_running(env, db, stmt.table.name)
            env.trash(env.catalog.truncate(db, stmt.table.name, stmt.partitions))
        case s.AddPartitionStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            check_partition_name(stmt.partition.name)
            if stmt.distribution is not None and stmt.distribution.buckets is not None:
                check_buckets(stmt.distribution.buckets)
            if not stmt.temporary:
                check_not_dynamic(env, db, stmt.table.name)
            env.catalog.add_partition(db, stmt.table.name, stmt.partition, stmt.distribution, stmt.temporary)
        case s.AddIndexStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.catalog.add_index(db, stmt.table.name, index_dict(stmt.index))
        case s.DropIndexStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.catalog.drop_index(db, stmt.table.name, stmt.name, stmt.if_exists)
        case s.BuildIndexStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.catalog.build_index(db, stmt.table.name, stmt.name, stmt.partitions)
        case s.SchemaChangeStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            schema_change.alter(env.catalog, db, stmt.table.name, stmt.changes)
        case s.UnsupportedAlterStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.catalog.check_alterable(env.catalog.table(env.catalog.db(db), stmt.table.name))
            raise DorisError(f"{stmt.what} is not supported by dorisbk")
        case s.DropPartitionStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            check_not_dynamic(env, db, stmt.table.name)
            check_backup_running(env, db, stmt.table.name)
            env.trash(env.catalog.drop_partition(db, stmt.table.name, stmt.name, stmt.if_exists, not stmt.force))
        case s.MultiAlterStmt():
            for one in stmt.stmts:
                execute(env, ctx, one)
        case s.ToggleKeysStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.catalog.table(env.catalog.db(db), stmt.table.name)
        case s.LockTablesStmt():
            for table in stmt.tables:  # as Doris: each table exists and may be read; nothing is locked
                db = ctx.current_db(table.db)
                env.catalog.table(env.catalog.db(db), table.name)
                require(user, "SELECT_PRIV", db, table.name)
        case s.RenamePartitionStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            check_partition_name(stmt.new_name)
            env.catalog.rename_partition(db, stmt.table.name, stmt.name, stmt.new_name)
        case s.ModifyPartitionStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            props = dict(stmt.properties)
            forced = env.frontend_config.forced_replication()
            if forced and ("replication_num" in props or "replication_allocation" in props):
                props = {k: v for k, v in props.items() if k != "replication_allocation"}
                props["replication_num"] = str(forced)
            env.catalog.modify_partitions(db, stmt.table.name, stmt.names, props)
        case s.RenameTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            check_table_name(stmt.new_name)
            env.catalog.rename_table(db, stmt.table.name, stmt.new_name)
        case s.ReplaceTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            require(user, "ALTER_PRIV", db, stmt.other)
            swap = dict(stmt.properties).get("swap", "true").lower()
            if swap not in ("true", "false"):
                raise DorisError(f"Invalid boolean property swap value: {swap}")
            env.trash(env.catalog.replace_table(db, stmt.table.name, stmt.other, swap == "true"))
        case s.SetTablePropertiesStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            props = dict(stmt.properties)
            if not dynamic_partition.is_dynamic(props):
                env.catalog.set_table_properties(db, stmt.table.name, props)
                return
            table = env.catalog.olap_table(env.catalog.db(db), stmt.table.name)
            merged = dataclasses.replace(table, properties={**table.properties, **props})
            dynamic_partitions(merged)  # checked and completed as at CREATE TABLE
            changed = {k: v for k, v in merged.properties.items() if table.properties.get(k) != v}
            env.catalog.set_table_properties(db, stmt.table.name, changed)
            env.dynamic_partitions.run_table(table.id)  # Doris schedules the table at once
        case s.CreateViewStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV" if stmt.alter else "CREATE_PRIV", db, stmt.table.name)
            check_table_name(stmt.table.name)
            names = env.engine.columns_of(SessionContext(ctx.user, db, ctx.connection_id), stmt.query)
            query = stmt.query
            if stmt.columns:
                if len(stmt.columns) != len(names):
                    raise DorisError("The number of columns of the view does not match the number of its query")
                # renamed by position: the query's own names may be expressions or repeat
                renamed = ", ".join("`" + n.replace("`", "``") + "`" for n in stmt.columns)
                query = f"SELECT * FROM ({stmt.query}) AS `{stmt.table.name}`({renamed})"
            if stmt.alter:
                env.catalog.alter_view(db, stmt.table.name, query)
            else:
                env.catalog.create_view(db, stmt.table.name, query, stmt.comment, stmt.if_not_exists)
        case _:
            raise DorisError("This statement is not supported by dorisbk", code=1235)


def check_not_dynamic(env: Env, db_name: str, table_name: str) -> None:
    """A table whose partitions the dynamic partition scheduler manages refuses a user's ADD/DROP PARTITION."""
    table = env.catalog.find_table(env.catalog.db(db_name), table_name)
    if table is not None and table.properties.get("dynamic_partition.enable", "").lower() == "true":
        raise DorisError(
            "Cannot add/drop partition on a Dynamic Partition Table, set `dynamic_partition.enable` to false firstly."
        )


def check_backup_running(env: Env, db_name: str, table: str | None) -> None:
    """While a backup of the database takes its tablet snapshots, dropping or truncating what it
    snapshots (a table of it, or the whole database) is refused, as Doris does."""
    db = env.catalog.find_db(db_name)
    for job in env.jobs.unfinished_jobs(db.id) if db is not None else []:
        if job.type != "BACKUP" or job.state != "SNAPSHOTING":
            continue
        names = {ref["name"].lower() for ref in getattr(job, "table_refs", [])}
        if table is None or table.lower() in names:
            raise DorisError(f"Backup is running on this db: {db_name}")


def require_admin_or(user: User, priv: str, db: str) -> None:
    """Database DDL needs ``priv`` on the database, which ADMIN implies."""
    if not user.has(priv, db):
        require_admin(user)
