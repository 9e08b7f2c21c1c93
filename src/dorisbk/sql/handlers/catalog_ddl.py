"""Catalog DDL: databases, tables, partitions and views, checked the way Doris checks them."""

from __future__ import annotations

import re

from dorisbk.auth.users import User, require, require_admin
from dorisbk.catalog.catalog import AUTO_BUCKETS, default_keys, replication_from_properties
from dorisbk.catalog.model import AGG_FUNCS, Column, Table
from dorisbk.catalog.types import ColumnType
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.result import SessionContext

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
        if not cdef.name or len(cdef.name) > 256:
            raise DorisError(f"Incorrect column name '{cdef.name}'", code=1166)
        if cdef.name.lower() in seen:
            raise DorisError(f"Duplicate column name '{cdef.name}'", code=1060)
        seen.add(cdef.name.lower())
        ctype = ColumnType.of(cdef.type_name, cdef.type_args)
        if cdef.has_default and cdef.default not in (None, "CURRENT_TIMESTAMP"):
            ctype.coerce(cdef.default)
        if cdef.aggregation is not None and cdef.aggregation not in AGG_FUNCS:
            raise DorisError(f"Aggregate type {cdef.aggregation} is not supported by dorisbk")
        columns.append(
            Column(
                name=cdef.name,
                type=ctype,
                nullable=cdef.nullable if cdef.nullable is not None else True,
                aggregation=cdef.aggregation,
                default=cdef.default,
                comment=cdef.comment,
            )
        )
    if not columns:
        raise DorisError("Table should contain at least one column")
    keys_type = stmt.keys_type or ("AGG_KEYS" if any(c.aggregation for c in columns) else "DUP_KEYS")
    key_names = list(stmt.key_columns) or default_keys(columns)
    _check_keys(keys_type, key_names, columns)
    key_set = {k.lower() for k in key_names}
    for col in columns:
        col.is_key = col.name.lower() in key_set
        if keys_type == "UNIQUE_KEYS" and not col.is_key and col.aggregation is None:
            col.aggregation = "REPLACE"
    props = dict(stmt.properties)
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
        properties={"replication_num": "1", **props},
        comment=stmt.comment,
    )


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
            env.catalog.create_database(stmt.name, stmt.if_not_exists)
        case s.DropDatabaseStmt():
            require_admin_or(user, "DROP_PRIV", stmt.name)
            env.trash(env.catalog.drop_database(stmt.name, stmt.if_exists))
        case s.CreateTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "CREATE_PRIV", db, stmt.table.name)
            env.catalog.create_table(db, build_table(stmt), stmt.partitions, stmt.if_not_exists)
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
            env.trash(env.catalog.drop_table(db, stmt.table.name, stmt.if_exists, stmt.is_view))
        case s.TruncateTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "LOAD_PRIV", db, stmt.table.name)
            env.trash(env.catalog.truncate(db, stmt.table.name, stmt.partitions))
        case s.AddPartitionStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            check_partition_name(stmt.partition.name)
            if stmt.distribution is not None and stmt.distribution.buckets is not None:
                check_buckets(stmt.distribution.buckets)
            env.catalog.add_partition(db, stmt.table.name, stmt.partition, stmt.distribution)
        case s.DropPartitionStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.trash(env.catalog.drop_partition(db, stmt.table.name, stmt.name, stmt.if_exists))
        case s.RenameTableStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            check_table_name(stmt.new_name)
            env.catalog.rename_table(db, stmt.table.name, stmt.new_name)
        case s.SetTablePropertiesStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "ALTER_PRIV", db, stmt.table.name)
            env.catalog.set_table_properties(db, stmt.table.name, dict(stmt.properties))
        case s.CreateViewStmt():
            db = ctx.current_db(stmt.table.db)
            require(user, "CREATE_PRIV", db, stmt.table.name)
            check_table_name(stmt.table.name)
            names = env.engine.columns_of(SessionContext(ctx.user, db, ctx.connection_id), stmt.query)
            query = stmt.query
            if stmt.columns:
                if len(stmt.columns) != len(names):
                    raise DorisError("The number of columns of the view does not match the number of its query")
                # renamed by position: the query's own names may be expressions or repeat
                renamed = ", ".join("`" + n.replace("`", "``") + "`" for n in stmt.columns)
                query = f"SELECT * FROM ({stmt.query}) AS `{stmt.table.name}`({renamed})"
            env.catalog.create_view(db, stmt.table.name, query, stmt.comment, stmt.if_not_exists)
        case _:
            raise DorisError(f"Unsupported statement: {type(stmt).__name__}")


def require_admin_or(user: User, priv: str, db: str) -> None:
    """Database DDL needs ``priv`` on the database, which ADMIN implies."""
    if not user.has(priv, db):
        require_admin(user)
