"""CREATE / DROP MATERIALIZED VIEW (synchronous views: rollup indexes of one table) and ANALYZE.

The view's query is checked by planning it over the base table, which also gives the types of
its computed columns; the view itself is built by engine/materialized_view.py.
"""

from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from dorisbk.auth.users import require
from dorisbk.backend import duck
from dorisbk.catalog import rollup
from dorisbk.engine import materialized_view
from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.result import SessionContext
from dorisbk.env import Env
from dorisbk.errors import DorisError, ParseError
from dorisbk.sql import ddl_stmts as s

STATEMENTS = (s.CreateMaterializedViewStmt, s.DropMaterializedViewStmt, s.AnalyzeStmt)


def execute(env: Env, ctx: SessionContext, stmt: object) -> None:
    match stmt:
        case s.CreateMaterializedViewStmt():
            _create(env, ctx, stmt)
        case s.DropMaterializedViewStmt():
            _drop(env, ctx, stmt)
        case s.AnalyzeStmt():
            _analyze(env, ctx, stmt)
        case _:
            raise DorisError("This statement is not supported by dorisbk", code=1235)


def _parse_select(query: str) -> exp.Select:
    try:
        select = sqlglot.parse_one(query, read=DorisBK)
    except sqlglot.errors.ParseError as exc:
        raise ParseError(f"Syntax error in the materialized view's query: {str(exc).splitlines()[0]}") from None
    if not isinstance(select, exp.Select):
        raise DorisError("The materialized view only supports a SELECT statement")
    source = select.args.get("from_") or select.args.get("from")  # sqlglot renamed the key to from_
    if source is None or select.args.get("joins") or not isinstance(source.this, exp.Table):
        raise DorisError("The materialized view only support one table in from clause.")
    if select.args.get("having") or select.args.get("order") or select.args.get("limit"):
        raise DorisError("The materialized view does not support HAVING, ORDER BY or LIMIT")
    return select


def _create(env: Env, ctx: SessionContext, stmt: s.CreateMaterializedViewStmt) -> None:
    select = _parse_select(stmt.query)
    base = (select.args.get("from_") or select.args["from"]).this
    db_name = ctx.current_db(base.db or stmt.name.db)
    user = env.users.require(ctx.user)
    require(user, "ALTER_PRIV", db_name, base.name)
    table = env.catalog.olap_table(env.catalog.db(db_name), base.name)
    if stmt.if_not_exists and rollup.find(table, stmt.name.name) is not None:
        return
    types = _output_types(env, SessionContext(ctx.user, db_name, ctx.connection_id), select)
    env.catalog.add_rollup(
        db_name, table.name, lambda t: materialized_view.build(t, stmt.name.name, select, types, stmt.query)
    )


def _output_types(env: Env, ctx: SessionContext, select: exp.Select) -> list[str]:
    """The DuckDB types of the query's columns; planning it checks its columns and functions."""
    with env.engine.held(env.engine.plan(ctx, select)) as planned, duck.cursor() as cur:
        try:
            planned.prepare(cur)
            return [str(row[1]) for row in cur.execute(f"DESCRIBE {planned.sql}").fetchall()]
        except duckdb.Error as exc:
            raise DorisError(duck.error_message(exc)) from None


def _drop(env: Env, ctx: SessionContext, stmt: s.DropMaterializedViewStmt) -> None:
    user = env.users.require(ctx.user)
    if stmt.table is not None:
        db_name = ctx.current_db(stmt.table.db or stmt.name.db)
        require(user, "ALTER_PRIV", db_name, stmt.table.name)
        env.catalog.drop_rollup(db_name, stmt.table.name, stmt.name.name, stmt.if_exists)
        return
    # without ON: the database's one table holding a view of that name
    db_name = ctx.current_db(stmt.name.db)
    db = env.catalog.db(db_name)
    owner = next((t for t in env.catalog.db_tables(db.id) if rollup.find(t, stmt.name.name)), None)
    if owner is None:
        if stmt.if_exists:
            return
        raise DorisError(f"Unknown table '{stmt.name.name}' in {db_name}", code=1109)
    require(user, "ALTER_PRIV", db_name, owner.name)
    env.catalog.drop_rollup(db_name, owner.name, rollup.find(owner, stmt.name.name)["name"], stmt.if_exists)  # type: ignore[index]


def _analyze(env: Env, ctx: SessionContext, stmt: s.AnalyzeStmt) -> None:
    """Statistics feed Doris's cost model; the plans here do not use them, so only the target is checked."""
    user = env.users.require(ctx.user)
    if stmt.table is None:
        env.catalog.db(stmt.db or "")
        return
    db_name = ctx.current_db(stmt.table.db)
    require(user, "SELECT_PRIV", db_name, stmt.table.name)
    env.catalog.table(env.catalog.db(db_name), stmt.table.name)
