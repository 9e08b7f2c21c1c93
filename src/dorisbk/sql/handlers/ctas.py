"""CREATE TABLE ... AS SELECT: a table shaped by a query's output, then loaded with its rows.

The statement is read by ddl.lark (``create_table_as``): a CREATE TABLE head without column
definitions (or with column names only) and the query after its ``AS``. The columns get the
query's output types the way Doris maps them, and ``DISTRIBUTED BY HASH(first column) BUCKETS 10``
when the head names no distribution. The rows then go in as one load; if the load fails, the new
table is dropped again, so a failed CTAS leaves nothing behind.
"""

from __future__ import annotations

import dataclasses

import sqlglot
from sqlglot import exp

from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.handlers import catalog_ddl

CTAS_BUCKETS = 10  # Doris's fixed bucket count when CTAS names no distribution
# DuckDB's result types as Doris column types (strings as Doris's CTAS makes them: VARCHAR(65533))
_TYPES: dict[str, tuple[str, tuple[int, ...]]] = {
    "BOOLEAN": ("BOOLEAN", ()),
    "TINYINT": ("TINYINT", ()),
    "SMALLINT": ("SMALLINT", ()),
    "INTEGER": ("INT", ()),
    "BIGINT": ("BIGINT", ()),
    "HUGEINT": ("LARGEINT", ()),
    "UTINYINT": ("SMALLINT", ()),
    "USMALLINT": ("INT", ()),
    "UINTEGER": ("BIGINT", ()),
    "UBIGINT": ("LARGEINT", ()),
    "FLOAT": ("FLOAT", ()),
    "DOUBLE": ("DOUBLE", ()),
    "DATE": ("DATE", ()),
    "TIMESTAMP": ("DATETIME", ()),
    "TIMESTAMP WITH TIME ZONE": ("DATETIME", ()),
    "VARCHAR": ("VARCHAR", (65533,)),
}


def execute(env: Env, ctx: SessionContext, stmt: s.CreateTableAsStmt) -> None:
    output = _output_types(env, ctx, stmt.query)
    names = stmt.column_names
    if names and len(names) != len(output):
        raise DorisError("Number of columns don't equal number of SELECT statement's select list", code=1105)
    columns = tuple(
        s.ColumnDef(names[i] if names else name, type_name, type_args, nullable=True)
        for i, (name, (type_name, type_args)) in enumerate(output)
    )
    create = dataclasses.replace(stmt.create, columns=columns)
    if create.distribution is None:
        create = dataclasses.replace(create, distribution=s.DistributionDef("HASH", (columns[0].name,), CTAS_BUCKETS))
    db_name = ctx.current_db(create.table.db)
    if create.if_not_exists and env.catalog.find_table(env.catalog.db(db_name), create.table.name) is not None:
        return
    catalog_ddl.execute(env, ctx, create)
    try:
        query = sqlglot.parse_one(stmt.query, read=DorisBK)
        target = exp.Table(
            this=exp.to_identifier(create.table.name, quoted=True), db=exp.to_identifier(db_name, quoted=True)
        )
        # INSERT INTO `db`.`t` SELECT * FROM (query) AS __ctas
        insert = exp.insert(exp.select("*").from_(query.subquery("__ctas")), target)
        env.engine.insert(ctx, insert)
    except BaseException:
        catalog_ddl.execute(env, ctx, s.DropTableStmt(s.TableName(create.table.name, db_name), force=True))
        raise


def _output_types(env: Env, ctx: SessionContext, query: str) -> list[tuple[str, tuple[str, tuple[int, ...]]]]:
    """The query's output columns as (name, (Doris type, type arguments))."""
    out = []
    for name, duck_type in env.engine.describe(ctx, query):
        doris = _TYPES.get(duck_type.upper())
        if doris is not None:
            out.append((name, doris))
            continue
        try:
            parsed = exp.DataType.build(duck_type, dialect="duckdb", udt=True)
        except (sqlglot.errors.ParseError, ValueError):
            parsed = None
        if parsed is None or not parsed.is_type(exp.DataType.Type.DECIMAL):
            raise DorisError(f"CREATE TABLE ... AS SELECT does not support the type {duck_type} of column {name}")
        args = tuple(int(param.name) for param in parsed.expressions)
        out.append((name, ("DECIMAL", args)))
    return out
