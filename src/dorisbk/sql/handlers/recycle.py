"""RECOVER, SHOW CATALOG RECYCLE BIN and DROP CATALOG RECYCLE BIN (catalog/recycle_bin.py)."""

from __future__ import annotations

import fnmatch

from dorisbk.auth.users import require, require_admin
from dorisbk.catalog import recycle_bin
from dorisbk.engine.result import Result, SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.handlers.catalog_ddl import check_db_name, check_partition_name, check_table_name
from dorisbk.sql.result import text_result
from dorisbk.timeutil import long_to_time_string

COLUMNS = ("Type", "Name", "DbId", "TableId", "PartitionId", "DropTime", "DataSize", "RemoteDataSize")


def execute(env: Env, ctx: SessionContext, stmt: s.RecoverStmt | s.RecycleBinStmt) -> Result | None:
    user = env.users.require(ctx.user)
    if isinstance(stmt, s.RecycleBinStmt):
        require_admin(user)
        if stmt.key is None:
            return _show(env, stmt.where)
        env.trash(recycle_bin.erase_by_id(env.catalog, stmt.key, stmt.value))
        return None
    if stmt.what == "DATABASE":
        require_admin(user)
        if stmt.new_name:
            check_db_name(stmt.new_name)
        recycle_bin.recover_database(env.catalog, stmt.name, stmt.object_id, stmt.new_name)
        return None
    assert stmt.table is not None
    db = ctx.current_db(stmt.table.db)
    require(user, "ALTER_PRIV", db, stmt.table.name)
    require(user, "CREATE_PRIV", db, stmt.table.name)
    if stmt.what == "TABLE":
        if stmt.new_name:
            check_table_name(stmt.new_name)
        recycle_bin.recover_table(env.catalog, db, stmt.name, stmt.object_id, stmt.new_name)
    else:
        if stmt.new_name:
            check_partition_name(stmt.new_name)
        recycle_bin.recover_partition(env.catalog, db, stmt.table.name, stmt.name, stmt.object_id, stmt.new_name)
    return None


def _show(env: Env, where: tuple[tuple[str, str, str], ...]) -> Result:
    """One row per recycled object, oldest drop first; WHERE NAME = 'x' | NAME LIKE 'x%'."""
    rows = []
    bodies = sorted(env.catalog.recycled.values(), key=lambda b: (b["drop_time"], recycle_bin.entry_id(b)))
    for body in bodies:
        if not all(_matches(body["name"], cond) for cond in where):
            continue
        ids = [str(body[k]) if body[k] >= 0 else "" for k in ("db_id", "table_id", "partition_id")]
        size = str(recycle_bin.data_size(body))
        rows.append((body["type"], body["name"], *ids, long_to_time_string(body["drop_time"]), size, "0"))
    return text_result(COLUMNS, rows)


def _matches(name: str, cond: tuple[str, str, str]) -> bool:
    column, op, value = cond
    if column.lower() != "name":
        raise DorisError('Where clause should looks like: NAME = "name", or NAME LIKE "matcher"')
    if op == "=":
        return name == value
    if op == "LIKE":
        return fnmatch.fnmatchcase(name, value.replace("%", "*").replace("_", "?"))
    return name != value
