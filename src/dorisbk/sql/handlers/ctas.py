"""CREATE TABLE ... AS SELECT: a table shaped by a query's output, then loaded with its rows.

The statement is split at its top-level ``AS``; the head is an ordinary CREATE TABLE without
column definitions (or with column names only), which gets them from the query's output
types the way Doris maps them, and ``DISTRIBUTED BY HASH(first column) BUCKETS 10`` when it
names no distribution. The rows then go in as one load; if the load fails, the new table is
dropped again, so a failed CTAS leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import re

import sqlglot

from dorisbk.dialect import DorisBK
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.ddl_parser import parse_ddl
from dorisbk.sql.handlers import catalog_ddl
from dorisbk.sql.result import SessionContext

CTAS_BUCKETS = 10  # Doris's fixed bucket count when CTAS names no distribution
_QUERY_START = re.compile(r"\s*(SELECT\b|WITH\b|\()", re.IGNORECASE)
_NAMES_ONLY = re.compile(r"\A\s*\(\s*(`[^`]+`|\w+)(\s*,\s*(`[^`]+`|\w+))*\s*\)", re.IGNORECASE)
_TABLE_NAME = re.compile(
    r"\A\s*CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?((?:`[^`]+`|\w+)(?:\s*\.\s*(?:`[^`]+`|\w+))?)", re.IGNORECASE
)
# DuckDB's result types as Doris column types (strings as Doris's CTAS makes them: VARCHAR(65533))
_TYPES = {
    "BOOLEAN": "BOOLEAN",
    "TINYINT": "TINYINT",
    "SMALLINT": "SMALLINT",
    "INTEGER": "INT",
    "BIGINT": "BIGINT",
    "HUGEINT": "LARGEINT",
    "UTINYINT": "SMALLINT",
    "USMALLINT": "INT",
    "UINTEGER": "BIGINT",
    "UBIGINT": "LARGEINT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "DATE": "DATE",
    "TIMESTAMP": "DATETIME",
    "TIMESTAMP WITH TIME ZONE": "DATETIME",
    "VARCHAR": "VARCHAR(65533)",
}


def split(sql: str) -> tuple[str, str] | None:
    """(head, query) of a CREATE TABLE ... AS SELECT, or None for any other statement."""
    depth = 0
    i = 0
    while i < len(sql):
        ch = sql[i]
        if ch in "'\"`":
            end = sql.find(ch, i + 1)
            while end != -1 and ch != "`" and sql[end - 1] == "\\":
                end = sql.find(ch, end + 1)
            if end == -1:
                return None
            i = end + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and sql[i : i + 2].upper() == "AS" and _word_edge(sql, i, 2) and _QUERY_START.match(sql, i + 2):
            return sql[:i], sql[i + 2 :].strip().rstrip(";")
        i += 1
    return None


def _word_edge(sql: str, at: int, length: int) -> bool:
    before = sql[at - 1] if at > 0 else " "
    after = sql[at + length] if at + length < len(sql) else " "
    return not (before.isalnum() or before in "_`") and not (after.isalnum() or after == "_")


def execute(env: Env, ctx: SessionContext, head: str, query: str) -> None:
    named = _TABLE_NAME.match(head)
    if named is None:
        raise DorisError("CREATE TABLE ... AS SELECT needs a table name", code=1064)
    rest = head[named.end() :]
    names: list[str] = []
    listed = _NAMES_ONLY.match(rest)
    if listed is not None:
        names = [n.strip().strip("`") for n in listed.group(0).strip()[1:-1].split(",")]
        rest = rest[listed.end() :]
    output = _output_types(env, ctx, query)
    if names and len(names) != len(output):
        raise DorisError("Number of columns don't equal number of SELECT statement's select list", code=1105)
    columns = [(names[i] if names else name, ctype) for i, (name, ctype) in enumerate(output)]
    defs = ", ".join(f"`{name}` {ctype} NULL" for name, ctype in columns)
    stmt = parse_ddl(f"{head[: named.end()]} ({defs}) {rest}")
    if not isinstance(stmt, s.CreateTableStmt):
        raise DorisError("CREATE TABLE ... AS SELECT needs a plain table definition", code=1064)
    if stmt.distribution is None:
        stmt = dataclasses.replace(stmt, distribution=s.DistributionDef("HASH", (columns[0][0],), CTAS_BUCKETS))
    db_name = ctx.current_db(stmt.table.db)
    if stmt.if_not_exists and env.catalog.find_table(env.catalog.db(db_name), stmt.table.name) is not None:
        return
    catalog_ddl.execute(env, ctx, stmt)
    target = f"`{db_name}`.`{stmt.table.name}`"
    try:
        insert = sqlglot.parse_one(f"INSERT INTO {target} SELECT * FROM ({query}) AS __ctas", read=DorisBK)
        env.engine.insert(ctx, insert)  # type: ignore[arg-type]
    except BaseException:
        catalog_ddl.execute(env, ctx, s.DropTableStmt(s.TableName(stmt.table.name, db_name), force=True))
        raise


def _output_types(env: Env, ctx: SessionContext, query: str) -> list[tuple[str, str]]:
    """The query's output columns as (name, Doris type)."""
    out = []
    for name, duck_type in env.engine.describe(ctx, query):
        upper = duck_type.upper()
        doris = _TYPES.get(upper) or (upper if upper.startswith("DECIMAL") else None)
        if doris is None:
            raise DorisError(f"CREATE TABLE ... AS SELECT does not support the type {duck_type} of column {name}")
        out.append((name, doris))
    return out
