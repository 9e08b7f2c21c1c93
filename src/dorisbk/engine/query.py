"""SELECT, INSERT and EXPLAIN: Doris SQL rewritten by sqlglot into DuckDB SQL over rowset files.

Each table reference becomes a subquery over the files of its visible versions (merged by
key model), with partitions pruned by the WHERE conjuncts on the partition column; views
are expanded from their stored SQL; ``numbers("number" = "N")`` becomes DuckDB's ``range``;
``snapshot("repository" = ..., "label" = ..., "table" = ...)`` is a scan of a backed-up table, read
in place (``SnapshotSource``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from dorisbk import interrupt
from dorisbk.auth.users import UserManager, require, require_admin
from dorisbk.backend import duck
from dorisbk.backend.delete import Deleter
from dorisbk.backend.load import Loader
from dorisbk.backend.scan import ScanPlan, create_views, plan_scan, scan_sql
from dorisbk.backend.tablet_store import TabletStore
from dorisbk.backend.transactions import LoadTransactionMgr
from dorisbk.catalog import partitions as bounds
from dorisbk.catalog.catalog import Catalog
from dorisbk.catalog.model import Column, Partition, Table
from dorisbk.catalog.types import ColumnType
from dorisbk.engine import allowlist, fulltext, lowering, materialized_view
from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.result import Result, SessionContext
from dorisbk.engine.types import Kind, Typer, named
from dorisbk.errors import DorisError, ParseError, UnknownTable
from dorisbk.timeutil import zone_name

log = logging.getLogger(__name__)

READ = DorisBK
WRITE = "duckdb"
MAX_VIEW_DEPTH = 16
QUERY_TYPES = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)


@dataclass
class Planned:
    """DuckDB SQL plus the scans it reads (for leases and EXPLAIN). The SQL names each scan; the scans'
    own SQL becomes temporary views of the cursor that runs it (``prepare``), never text spliced into it."""

    sql: str
    scans: list[ScanPlan] = field(default_factory=list)
    views: tuple[tuple[str, str], ...] = ()

    def prepare(self, cur: duckdb.DuckDBPyConnection) -> None:
        create_views(cur, self.views)

    def release(self, store: TabletStore) -> None:
        """Let go of the files the scans hold (``QueryEngine.held``)."""
        for scan in self.scans:
            scan.release(store)


@dataclass
class _Planning:
    """What planning one query gathers: the index each table reference reads, the scans of its
    ``snapshot(...)`` references (planned before lowering, which types their columns), and the scans
    its SQL reads, in the order their views are named."""

    plan_id: str
    check_priv: bool
    indexes: dict[int, str] = field(default_factory=dict)
    snapshots: dict[int, ScanPlan] = field(default_factory=dict)
    scans: list[ScanPlan] = field(default_factory=list)


@dataclass(frozen=True)
class Origin:
    """The table or view column a result column reads as it is, for its MySQL column definition."""

    db: str
    table: str  # the name the query reads it by (its alias)
    org_table: str  # the table's or view's own name
    name: str  # the column's own name
    type: ColumnType
    nullable: bool = True
    key: str = ""  # PRI: a key column of a UNIQUE / AGGREGATE table; MUL: of a DUPLICATE table
    auto_increment: bool = False


@dataclass(frozen=True)
class OutputColumn:
    """A query's output column as the catalog tells it (``QueryEngine.output_columns``)."""

    name: str
    origin: Origin | None  # the table or view column it reads as it is
    kind: Kind  # its Doris kind (DuckDB cannot tell a LARGEINT from a sum of BIGINTs)


@dataclass
class QueryResult(Result):
    """A query's result, with what its column definitions say beyond names and kinds."""

    types: list[str] = field(default_factory=list)  # each column's DuckDB type, e.g. DECIMAL(18,4)
    origins: list[Origin | None] = field(default_factory=list)  # the table column it reads, if any


def _duck_kind(type_name: str) -> str:
    name = type_name.upper()
    if name.endswith("]") or name.startswith(("MAP(", "STRUCT(", "UNION(")):
        return "ARRAY"
    for prefix, kind in (
        ("TINYINT", "TINYINT"),
        ("SMALLINT", "SMALLINT"),
        ("INTEGER", "INT"),
        ("BIGINT", "BIGINT"),
        ("HUGEINT", "LARGEINT"),
        ("UTINYINT", "SMALLINT"),
        ("USMALLINT", "INT"),
        ("UINTEGER", "BIGINT"),
        ("UBIGINT", "LARGEINT"),
        ("FLOAT", "FLOAT"),
        ("DOUBLE", "DOUBLE"),
        ("DECIMAL", "DECIMAL"),
        ("DATE", "DATE"),
        ("TIMESTAMP", "DATETIME"),
        ("BOOLEAN", "BOOLEAN"),
        ("BLOB", "BLOB"),
        ("NULL", "NULL"),
    ):
        if name.startswith(prefix):
            return kind
    return "VARCHAR"


MAX_SLEEP_S = 3600


def _take_sleeps(expression: exp.Expression) -> exp.Expression:
    """Doris's ``sleep(n)``: wait here (scripts use it to wait for jobs), and read it as TRUE in the query."""
    calls = [f for f in expression.find_all(exp.Anonymous) if f.name.lower() == "sleep"]
    if not calls:
        return expression
    tree = expression.copy()
    for call in [f for f in tree.find_all(exp.Anonymous) if f.name.lower() == "sleep"]:
        arg = call.expressions[0] if len(call.expressions) == 1 else None
        if not isinstance(arg, exp.Literal) or arg.is_string:
            raise DorisError("sleep() takes one integer literal: sleep(seconds)")
        interrupt.sleep(max(0.0, min(float(arg.this), MAX_SLEEP_S)))  # KILL and query_timeout end it
        call.replace(exp.true())
    return tree


def _names_cte_in_scope(table: exp.Table) -> bool:
    """Whether an unqualified table reference names a CTE of a WITH that encloses it. Any other name
    must be a catalog table: DuckDB would read an unknown name as a file path."""
    name = table.name.lower()
    node = table.parent
    while node is not None:
        if isinstance(node, exp.Query) and any(cte.alias_or_name.lower() == name for cte in node.ctes):
            return True
        node = node.parent
    return False


def qualify_db_columns(tree: exp.Expression, default_db: str | None) -> None:
    """``db.table.column`` (and ``internal.db.table.column``), as Metabase writes every column: the column
    of the table reference in scope that reads ``db.table``, qualified by that reference's alias or name
    alone, as the query reads it once the reference is a scan (Doris resolves these; DuckDB would look
    for a catalog ``db``)."""
    for column in list(tree.find_all(exp.Column)):
        if not column.args.get("db"):
            continue
        catalog = column.text("catalog")
        if catalog and catalog.lower() != "internal":
            continue
        ref = _reference_of(column, default_db)
        if ref is None:
            continue
        alias = ref.args.get("alias")
        column.set("table", (alias.this if alias is not None and alias.this else ref.this).copy())
        column.set("db", None)
        column.set("catalog", None)


# MySQL's SELECT modifiers that change how a query runs, not what it returns (mysqldump sends
# SQL_NO_CACHE): read and left out
_SELECT_MODIFIERS = {
    "SQL_NO_CACHE", "SQL_CACHE", "SQL_BUFFER_RESULT", "SQL_SMALL_RESULT", "SQL_BIG_RESULT", "HIGH_PRIORITY",
    "STRAIGHT_JOIN", "SQL_CALC_FOUND_ROWS",
}  # fmt: skip


def _drop_select_modifiers(tree: exp.Expression) -> None:
    for select in tree.find_all(exp.Select):
        modifiers = select.args.get("operation_modifiers")
        if modifiers:
            kept = [m for m in modifiers if m.name.upper() not in _SELECT_MODIFIERS]
            select.set("operation_modifiers", kept or None)


def _reference_of(column: exp.Column, default_db: str | None) -> exp.Table | None:
    """The table reference of the innermost enclosing SELECT (then the next one out) that reads the
    column's ``db.table``."""
    db, name = column.text("db").lower(), column.text("table").lower()
    select = column.find_ancestor(exp.Select)
    while select is not None:
        for table in select.find_all(exp.Table):
            if (
                table.name.lower() == name
                and (table.db or default_db or "").lower() == db
                and table.find_ancestor(exp.Select) is select
            ):
                return table
        select = select.find_ancestor(exp.Select)
    return None


def _named_table(target: exp.Table, verb: str) -> None:
    """A statement that writes names a table, not a table function (``snapshot(...)`` is read-only)."""
    if isinstance(target.this, exp.Anonymous):
        raise ParseError(f"Syntax error: {verb} takes a table, not the table function {target.this.name}()")


def _function_params(func: exp.Anonymous, usage: str) -> dict[str, str]:
    """A table function's ``"key" = "value"`` parameters, keys lower-cased (Doris's TVF properties)."""
    params: dict[str, str] = {}
    for arg in func.expressions:
        if not isinstance(arg, exp.EQ) or not isinstance(arg.expression, exp.Literal):
            raise DorisError(usage)
        params[arg.this.name.lower()] = arg.expression.name
    return params


def _reading_select(table: exp.Table) -> exp.Select | None:
    """The SELECT whose FROM is this table reference (what a materialized view may answer)."""
    select = table.parent.parent if isinstance(table.parent, exp.From) else None
    return select if isinstance(select, exp.Select) else None


def _scan_name(plan_id: str, index: int) -> str:
    """The view a plan's scan is read through (unique per plan: one cursor may hold several plans' views)."""
    return f"__dorisbk_scan_{plan_id}_{index}"


class SnapshotSource(Protocol):
    """What answers ``FROM snapshot(...)`` (``jobs/snapshot_scan.py``, given by the Env): the scan of a
    backed-up table, its files held until the scan's ``release``."""

    def scan(self, params: Mapping[str, str]) -> ScanPlan: ...


class QueryEngine:
    """Plans and runs queries and loads for one Env."""

    def __init__(self, catalog: Catalog, store: TabletStore, users: UserManager, txns: LoadTransactionMgr) -> None:
        self.catalog = catalog
        self.store = store
        self.users = users
        self.loader = Loader(catalog, store, txns)
        self.deleter = Deleter(catalog, store)
        self.snapshots: SnapshotSource | None = None

    # ---- planning
    def plan(self, ctx: SessionContext, expression: exp.Expression, check_priv: bool = True) -> Planned:
        """The DuckDB SQL of a query, its scans' files leased: the caller reads them inside ``held``."""
        allowlist.check(expression)
        tree = fulltext.rewrite(expression.copy())
        qualify_db_columns(tree, ctx.db)
        _drop_select_modifiers(tree)
        planning = _Planning(uuid.uuid4().hex[:12], check_priv)
        try:
            tree = self._lower(ctx, tree, planning)
            self._rewrite(ctx, tree, planning, depth=0)
            sql = allowlist.duckdb_sql(tree)
            views = tuple((_scan_name(planning.plan_id, i), scan_sql(scan)) for i, scan in enumerate(planning.scans))
        except BaseException:
            for scan in planning.scans:
                scan.release(self.store)
            raise
        finally:
            for scan in planning.snapshots.values():  # planned, and not read after all
                scan.release(self.store)
        return Planned(sql, planning.scans, views)

    @contextlib.contextmanager
    def held(self, planned: Planned) -> Iterator[Planned]:
        """Use a plan, then give back the leases its planning took."""
        try:
            yield planned
        finally:
            planned.release(self.store)

    def _rewrite(self, ctx: SessionContext, tree: exp.Expression, planning: _Planning, depth: int) -> None:
        if depth > MAX_VIEW_DEPTH:
            raise DorisError("View nesting is too deep")
        scans, check_priv, plan_id = planning.scans, planning.check_priv, planning.plan_id
        for table in list(tree.find_all(exp.Table)):
            if isinstance(table.this, exp.Anonymous):
                if table.this.name.lower() == "snapshot":  # planned by _lower, unless lowering copied the node
                    scans.append(planning.snapshots.pop(id(table), None) or self._snapshot(ctx, table, check_priv))
                    sub = exp.Table(
                        this=exp.to_identifier(_scan_name(plan_id, len(scans) - 1), quoted=True),
                        alias=exp.TableAlias(this=exp.to_identifier(table.alias or "snapshot")),
                    )
                    table.replace(sub)
                else:
                    table.replace(self._table_function(table))
                continue
            if not table.db and _names_cte_in_scope(table):
                continue
            if not table.db and table.name.lower() == "dual":
                dual = sqlglot.parse_one("SELECT 1 AS dummy", read=WRITE)
                table.replace(exp.Subquery(this=dual, alias=exp.TableAlias(this=exp.to_identifier("dual"))))
                continue
            if table.catalog and table.catalog.lower() not in ("internal",):
                raise DorisError(f"Unknown catalog '{table.catalog}'")
            db_name = table.db or ctx.current_db()
            if db_name.lower() == "information_schema":
                raise DorisError("information_schema can not be joined with Doris tables in dorisbk")
            db = self.catalog.db(db_name)
            target = self.catalog.find_table(db, table.name)
            if target is None:
                raise UnknownTable(f"Table [{table.name}] does not exist in database [{db_name}].")
            if check_priv:
                require(self.users.require(ctx.user), "SELECT_PRIV", db_name, target.name)
            alias = table.alias or target.name
            if target.kind == "VIEW":
                inner = sqlglot.parse_one(target.view_sql, read=READ)
                allowlist.check(inner)  # a view's text is a user's SQL too
                inner = fulltext.rewrite(inner)
                if isinstance(inner, exp.Select):
                    name_projections(inner, target.view_sql)
                qualify_db_columns(inner, db_name)
                view_ctx = SessionContext(ctx.user, db_name, ctx.connection_id, time_zone=ctx.time_zone)
                inner = self._lower(view_ctx, inner, planning)
                self._rewrite(view_ctx, inner, planning, depth + 1)
                sub = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))
            else:
                keep = self._pruner(target, table, alias)
                if table.args.get("partition") is not None:
                    with self.catalog.lock:
                        known = [p.name for p in self.catalog.table_partitions(target)]
                    keep = _named_partitions(table, known, keep)
                scan = plan_scan(self.catalog, self.store, target, keep)
                scan.db_name = db.name
                scan.index_name = planning.indexes.get(id(table), scan.table.name)
                scans.append(scan)
                # the scan is read through a view of its own (``Planned.prepare``): no long file lists in the tree
                sub = exp.Table(
                    this=exp.to_identifier(_scan_name(plan_id, len(scans) - 1), quoted=True),
                    alias=exp.TableAlias(this=exp.to_identifier(alias)),
                )
            table.replace(sub)

    def _lower(self, ctx: SessionContext, tree: exp.Expression, planning: _Planning) -> exp.Expression:
        """Doris's functions and casts on ``tree``, typed by the columns of the tables it reads. The index
        each table reference reads (a materialized view that answers its SELECT) is chosen first, into
        ``planning.indexes``: views are matched against the query as the user wrote it; the scan of each
        ``snapshot(...)`` too, into ``planning.snapshots``: its columns are the backed-up table's."""
        tables: dict[str, Table] = {}
        for ref in tree.find_all(exp.Table):
            if isinstance(ref.this, exp.Anonymous) and ref.this.name.lower() == "snapshot":
                scan = planning.snapshots[id(ref)] = self._snapshot(ctx, ref, planning.check_priv)
                tables[(ref.alias or "snapshot").lower()] = scan.table
                continue
            db_name = ref.db or ctx.db
            if isinstance(ref.this, exp.Anonymous) or not db_name:
                continue
            db = self.catalog.find_db(db_name)
            target = self.catalog.find_table(db, ref.name) if db is not None else None
            if target is not None and target.kind != "VIEW":
                tables[(ref.alias or ref.name).lower()] = target
                planning.indexes[id(ref)] = materialized_view.choose_index(target, _reading_select(ref))

        def column_kind(column: exp.Column) -> Kind:
            candidates = [tables.get(column.table.lower())] if column.table else list(tables.values())
            kinds = {named(c.type.name) for t in candidates if t is not None and (c := t.column(column.name))}
            return kinds.pop() if len(kinds) == 1 else Kind.UNKNOWN

        return lowering.lower(tree, column_kind, zone_name(ctx.time_zone))

    def _table_function(self, table: exp.Table) -> exp.Expression:
        func = table.this
        name = func.name.lower()
        if name != "numbers":
            raise DorisError(f"Unknown table function: {func.name}")
        count = _function_params(func, 'numbers() takes "number" = "N"').get("number")
        if count is None or not count.strip().isdigit():
            raise DorisError('numbers() needs a non-negative "number" parameter')
        alias = table.alias or "numbers"
        inner = sqlglot.parse_one(f"SELECT range AS number FROM range({int(count)})", read=WRITE)
        return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))

    def _snapshot(self, ctx: SessionContext, table: exp.Table, check_priv: bool) -> ScanPlan:
        """The scan of ``snapshot("repository" = "r", "label" = "l", "table" = "t", ...)``: a backed-up table
        read in place, as a live table is; ADMIN only, as every backup statement."""
        if check_priv:
            require_admin(self.users.require(ctx.user))
        if self.snapshots is None:
            raise DorisError(f"Unknown table function: {table.this.name}")
        return self.snapshots.scan(_function_params(table.this, 'snapshot() takes "key" = "value" parameters'))

    def _pruner(self, target: Table, ref: exp.Table, alias: str):  # type: ignore[no-untyped-def]
        """A partition filter from WHERE conjuncts comparing the partition column with literals."""
        if target.partition_type == "UNPARTITIONED" or len(target.partition_columns) != 1:
            return None
        select = ref.find_ancestor(exp.Select)
        where = select.args.get("where") if select is not None else None
        if where is None:
            return None
        column = target.partition_columns[0].lower()
        ctype = target.column(column).type  # type: ignore[union-attr]
        tests = []
        for cond in where.this.flatten() if isinstance(where.this, exp.And) else [where.this]:
            test = _partition_test(cond, column, alias, ctype)
            if test is not None:
                tests.append(test)
        if not tests:
            return None
        types = [ctype]

        def keep(part: Partition) -> bool:
            if target.partition_type == "RANGE":
                low = bounds.range_key(types, part.lower, False)
                high = bounds.range_key(types, part.upper, True)
                return all(t.overlaps_range(low, high) for t in tests)
            values = [ctype.coerce(v[0]) for v in part.values or []]
            return all(any(t.accepts(v) for v in values) for t in tests)

        return keep

    # ---- execution
    def select(self, ctx: SessionContext, expression: exp.Expression) -> Result:
        """A query's result: its rows, or a :class:`RowStream` of them when there are more than one batch."""
        expression = _take_sleeps(expression)
        planned = self.plan(ctx, expression)
        stream = RowStream(self.store, planned)
        try:
            outputs = self.output_columns(ctx, expression)
            columns, first = stream.start()
        except BaseException:
            stream.close()
            raise
        if outputs is None or len(outputs) != len(columns):
            outputs = [OutputColumn(name, None, Kind.UNKNOWN) for name, _kind in columns]
        origins = [c.origin for c in outputs]
        # DuckDB sums integers into HUGEINT: a LARGEINT only where Doris's types say so (Doris sums BIGINTs
        # into a BIGINT); one that cannot be told stays LARGEINT, sent as text, which holds any value
        columns = [
            (name, "BIGINT" if kind == "LARGEINT" and out.kind not in (Kind.LARGEINT, Kind.UNKNOWN) else kind)
            for (name, kind), out in zip(columns, outputs, strict=True)
        ]
        if len(first) < FETCH_ROWS:
            stream.close()
            return QueryResult(columns, first, types=stream.types, origins=origins)
        stream.pending = first
        return QueryResult(columns, stream, types=stream.types, origins=origins)

    # ---- where result columns come from
    def output_columns(self, ctx: SessionContext, expression: exp.Expression) -> list[OutputColumn] | None:
        """A query's output columns as the catalog tells them: each one's name, the table or view column it
        reads as it is (for its column definition), and its Doris kind; None when they cannot be told."""
        tree = expression.copy()
        qualify_db_columns(tree, ctx.db)
        try:
            return self._columns(ctx.db, tree, {}, 0)
        except (DorisError, sqlglot.errors.SqlglotError, RecursionError):
            return None
        except Exception:  # a bug of ours must not fail the query: its columns go out as expressions
            log.exception("result columns of a query could not be told")
            return None

    def _columns(
        self, db_name: str | None, query: exp.Expression, ctes: dict[str, exp.Expression], depth: int
    ) -> list[OutputColumn] | None:
        while isinstance(query, exp.Subquery):
            query = query.this
        if depth > MAX_VIEW_DEPTH:
            return None
        if isinstance(query, exp.SetOperation):  # the first query's columns; a UNION names no table, as in MySQL
            first = self._columns(db_name, query.this, ctes, depth + 1)
            return [dataclasses.replace(c, origin=None) for c in first] if first is not None else None
        if not isinstance(query, exp.Select):
            return None
        ctes = {**ctes, **{cte.alias_or_name.lower(): cte.this for cte in query.ctes}}
        sources: list[tuple[str, list[OutputColumn] | None]] = []  # None: columns not known (numbers())
        joins = query.args.get("joins") or []
        from_ = query.args.get("from_")
        for node in ([from_.this] if from_ is not None else []) + [j.this for j in joins]:
            sources.append(self._source_columns(db_name, node, ctes, depth))

        def matching(column: exp.Column) -> list[OutputColumn]:
            name = column.name.lower()
            return [
                c
                for alias, columns in sources
                if columns is not None and (not column.table or alias == column.table.lower())
                for c in columns
                if c.name.lower() == name
            ]

        def column_kind(column: exp.Column) -> Kind:
            kinds = {c.kind for c in matching(column)}
            return kinds.pop() if len(kinds) == 1 else Kind.UNKNOWN

        typer = Typer(column_kind)
        coalesced = any(j.args.get("using") or j.args.get("method") for j in joins)
        out: list[OutputColumn] = []
        for projection in query.expressions:
            node = projection.this if isinstance(projection, exp.Alias) else projection
            star = node if isinstance(node, exp.Star) else node.this if isinstance(node, exp.Column) else None
            if isinstance(star, exp.Star):
                if coalesced or any(star.args.get(k) for k in ("except", "replace", "rename")):
                    return None
                qualifier = node.table.lower() if isinstance(node, exp.Column) else ""
                for alias, columns in sources:
                    if not qualifier or alias == qualifier:
                        if columns is None:
                            return None
                        out.extend(columns)
                continue
            found = matching(node) if isinstance(node, exp.Column) else []
            origin = found[0].origin if len(found) == 1 else None
            out.append(OutputColumn(projection.alias_or_name, origin, typer.kind(node)))
        return out

    def _source_columns(
        self, db_name: str | None, node: exp.Expression, ctes: dict[str, exp.Expression], depth: int
    ) -> tuple[str, list[OutputColumn] | None]:
        """A FROM / JOIN item: the name the query reads it by, and its columns in order (None if unknown)."""
        alias = node.alias_or_name
        cte = isinstance(node, exp.Table) and not node.db and node.name.lower() in ctes
        if isinstance(node, exp.Subquery) or cte:
            query = node.this if isinstance(node, exp.Subquery) else ctes[node.name.lower()]
            inner = self._columns(db_name, query, ctes, depth + 1)
            renamed = [c.name for c in node.args["alias"].columns] if node.args.get("alias") else []
            if inner is None or (renamed and len(renamed) != len(inner)):
                return alias.lower(), None
            names = renamed or [c.name for c in inner]  # ``(query) AS t(a, b)``: the columns go by the new names
            # a derived table's column is still its table's, read by the derived table's name
            return alias.lower(), [
                OutputColumn(n, dataclasses.replace(c.origin, table=alias) if c.origin else None, c.kind)
                for n, c in zip(names, inner, strict=True)
            ]
        if not isinstance(node, exp.Table) or isinstance(node.this, exp.Anonymous):
            return alias.lower(), None
        alias = node.alias or node.name
        db = self.catalog.find_db(node.db or db_name or "")
        target = self.catalog.find_table(db, node.name) if db is not None else None
        if db is None or target is None:
            return alias.lower(), None
        if target.kind == "VIEW":
            inner_tree = sqlglot.parse_one(target.view_sql, read=READ)
            if isinstance(inner_tree, exp.Select):
                name_projections(inner_tree, target.view_sql)
            qualify_db_columns(inner_tree, db.name)
            inner = self._columns(db.name, inner_tree, {}, depth + 1)
            if inner is None:
                return alias.lower(), None
            # a view's columns are the view's (its name, and theirs), with the type of what they read
            viewed: list[OutputColumn] = []
            for c in inner:
                o = c.origin
                origin = Origin(db.name, alias, target.name, c.name, o.type, o.nullable) if o is not None else None
                viewed.append(OutputColumn(c.name, origin, c.kind))
            return alias.lower(), viewed
        key = {"UNIQUE_KEYS": "PRI", "AGG_KEYS": "PRI", "DUP_KEYS": "MUL"}.get(target.keys_type, "")
        columns: list[OutputColumn] = []
        for c in target.columns:
            origin = Origin(db.name, alias, target.name, c.name, c.type, c.nullable, key if c.is_key else "")
            origin = dataclasses.replace(origin, auto_increment=c.auto_increment is not None)
            columns.append(OutputColumn(c.name, origin, named(c.type.name)))
        return alias.lower(), columns

    def explain(self, ctx: SessionContext, expression: exp.Expression) -> Result:
        if not isinstance(expression, QUERY_TYPES):
            raise ParseError(f"Syntax error: EXPLAIN takes a query, not '{expression.sql(dialect=READ)[:40]}'")
        planned = self.plan(ctx, expression)
        planned.release(self.store)  # EXPLAIN reads no file
        lines = ["PLAN FRAGMENT 0", f"  DUCKDB SQL: {planned.sql[:2000]}"]
        # a scan's view reads rowset files: where they live on this machine is not the client's to see
        lines += [f"  VIEW {name}: scan {i}" for i, (name, _sql) in enumerate(planned.views)]
        groups = [(s.table.db_id, s.table.properties.get("colocate_with")) for s in planned.scans]
        if len(groups) > 1 and groups[0][1] and len(set(groups)) == 1:
            # every table read is in one colocate group: Doris joins their buckets locally
            lines.append("  HASH JOIN")
            lines.append("     join op: INNER JOIN(COLOCATE[])[]")
        for i, scan in enumerate(planned.scans):
            lines.append(f"  {i}:VOlapScanNode")
            lines.append(f"     {scan.description}")
        return Result([("Explain String(Nereids Planner)", "VARCHAR")], [(line,) for line in lines])

    def columns_of(self, ctx: SessionContext, query: str) -> list[str]:
        """Output column names of a query (used to check a view's definition)."""
        return [name for name, _ in self.describe(ctx, query)]

    def describe(self, ctx: SessionContext, query: str) -> list[tuple[str, str]]:
        """A query's output columns as (name, DuckDB type), named as a SELECT names them."""
        expression = sqlglot.parse_one(query, read=READ)  # a ParseError reaches the session, which words it
        if isinstance(expression, exp.Select):
            name_projections(expression, query)
        with self.held(self.plan(ctx, expression)) as planned, self._cursor() as cur:
            try:
                planned.prepare(cur)
                cur.execute(f"DESCRIBE {planned.sql}")
                return [(str(row[0]), str(row[1])) for row in cur.fetchall()]
            except duckdb.Error as exc:
                raise DorisError(duck.error_message(exc)) from None

    def insert(self, ctx: SessionContext, expression: exp.Insert) -> int:
        target = expression.this
        columns: list[str] = []
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        if not isinstance(target, exp.Table):
            raise DorisError("INSERT target must be a table")
        partitions = []
        part_node = target.args.get("partition")
        if part_node is not None:
            partitions = [e.name for e in part_node.expressions]
        db_name = target.db or ctx.current_db()
        db = self.catalog.db(db_name)
        table = self.catalog.find_table(db, target.name)
        if table is None:
            raise UnknownTable(f"Table [{target.name}] does not exist in database [{db_name}].")
        if table.kind != "OLAP":
            raise DorisError(f"Table[{table.name}] is not a OLAP table, can not insert into it")
        require(self.users.require(ctx.user), "LOAD_PRIV", db_name, table.name)
        source = expression.expression
        if source is None:
            raise DorisError("INSERT needs VALUES or a SELECT")
        names = columns or [c.name for c in table.columns]
        if isinstance(source, exp.Values):
            for row in source.expressions:
                if len(row.expressions) != len(names):
                    raise DorisError("Column count doesn't match value count", code=1136)
            _type_values(source, [table.column(n) for n in names])
            alias = exp.TableAlias(this=exp.to_identifier("__v"), columns=[exp.to_identifier(n) for n in names])
            source = exp.select("*").from_(exp.Subquery(this=source, alias=alias))
        with self.held(self.plan(ctx, source)) as planned:
            if not isinstance(expression.expression, exp.Values):
                out = self._output_names(planned)
                if len(out) != len(names):
                    raise DorisError("Column count doesn't match value count", code=1136)
                # by position, as Doris maps a SELECT onto the target columns (output names may repeat)
                aliases = ", ".join(duck.quote_ident(n) for n in names)
                planned = dataclasses.replace(planned, sql=f"SELECT * FROM ({planned.sql}) AS __q({aliases})")
            planned = self._json_values(ctx, table, planned, names)
            with self._auto_increment(table, planned, names) as (planned, names):
                overwrite = bool(expression.args.get("overwrite"))
                label = expression.text("label") or None
                result = self.loader.load(
                    table,
                    planned.sql,
                    names,
                    partitions,
                    overwrite,
                    label=label,
                    user=ctx.user,
                    views=planned.views,
                    strict=ctx.insert_strict,
                )
        ctx.variables["affected_rows"] = result.rows
        ctx.variables["ok_info"] = result.info
        return result.rows

    def delete(self, ctx: SessionContext, expression: exp.Delete) -> int:
        """``DELETE FROM t [PARTITION (p, ...)] WHERE cond``: the condition is on the table's own columns."""
        target = expression.this
        if not isinstance(target, exp.Table) or expression.args.get("using"):
            raise DorisError("DELETE ... USING is not supported by dorisbk", code=1235)
        _named_table(target, "DELETE")
        db_name = target.db or ctx.current_db()
        table = self.catalog.find_table(self.catalog.db(db_name), target.name)
        if table is None:
            raise UnknownTable(f"Table [{target.name}] does not exist in database [{db_name}].")
        if table.kind != "OLAP":
            raise DorisError(f"Table[{table.name}] is not a OLAP table, can not delete from it")
        require(self.users.require(ctx.user), "LOAD_PRIV", db_name, table.name)
        part_node = target.args.get("partition")
        partitions = [e.name for e in part_node.expressions] if part_node is not None else []
        where = expression.args.get("where")
        if where is None:  # Doris refuses a DELETE without WHERE (TRUNCATE empties a table)
            raise DorisError("delete all rows is forbidden temporary.")
        cond = where.this.copy()
        allowlist.check(cond)
        if cond.find(exp.Select, exp.Table) is not None:
            raise DorisError("DELETE with a subquery in WHERE is not supported by dorisbk", code=1235)
        for col in list(cond.find_all(exp.Column)):
            known = table.column(col.name)
            if known is None:
                raise DorisError(f"Unknown column '{col.name}' in 'table list'", code=1054)
            col.replace(exp.column(known.name, quoted=True))
        condition = allowlist.duckdb_sql(cond)
        deleted = self.deleter.delete(table, condition, partitions)
        ctx.variables["affected_rows"] = deleted
        return deleted

    @staticmethod
    def _json_values(ctx: SessionContext, table: Table, planned: Planned, names: list[str]) -> Planned:
        """Values loaded into a JSON column as Doris stores them: parsed, and kept as its canonical text (no blanks
        between tokens). A text that is not JSON fails the load under enable_insert_strict; without it, its row is
        filtered out, as Doris filters a row it cannot load."""
        replaced: list[str] = []
        keep: list[str] = []
        for name in names:
            column = table.column(name)
            if column is None or column.type.name != "JSON":
                continue
            ident = duck.quote_ident(name)
            text = f"CAST({ident} AS VARCHAR)"
            invalid = f"({ident} IS NOT NULL AND dbk_json({text}) IS NULL)"
            value = f"dbk_json({text})"
            if ctx.insert_strict:
                refused = duck.quote_str(
                    f"Insert has filtered data in strict mode. [DATA_QUALITY_ERROR]Parse json document failed, "
                    f"column={column.name}, value="
                )
                value = f"CASE WHEN {invalid} THEN error({refused} || {text}) ELSE {value} END"
            else:
                keep.append(f"NOT {invalid}")
            replaced.append(f"{value} AS {ident}")
        if not replaced:
            return planned
        where = f" WHERE {' AND '.join(keep)}" if keep else ""
        sql = f"SELECT * REPLACE ({', '.join(replaced)}) FROM ({planned.sql}) AS __json{where}"
        return dataclasses.replace(planned, sql=sql)

    @contextlib.contextmanager
    def _auto_increment(self, table: Table, planned: Planned, names: list[str]) -> Iterator[tuple[Planned, list[str]]]:
        """Values for the AUTO_INCREMENT column where the load omits it or gives NULL, reserved from the
        table's counter before the load writes them. The source rows are staged once, so that the rows
        counted are the rows numbered even when the source is not deterministic (random(), LIMIT)."""
        col = table.auto_increment_column
        if col is None:
            yield planned, names
            return
        ident = duck.quote_ident(col.name)
        given = next((n for n in names if n.lower() == col.name.lower()), None)
        staged = duck.quote_ident(f"__auto_increment_{uuid.uuid4().hex}")
        with self._cursor() as cur:
            try:
                planned.prepare(cur)
                cur.execute(f"CREATE TABLE {staged} AS {planned.sql}")
                where = f" WHERE {duck.quote_ident(given)} IS NULL" if given else ""
                row = cur.execute(f"SELECT count(*) FROM {staged}{where}").fetchone()
            except duckdb.Error as exc:
                cur.execute(f"DROP TABLE IF EXISTS {staged}")
                raise DorisError(duck.error_message(exc)) from None
            try:
                missing = int(row[0]) if row else 0
                first = self.catalog.allocate_auto_increment(table.id, missing) if missing else 0
                value = f"CAST({first - 1} + row_number() OVER () AS BIGINT)"
                if given is None:
                    yield (
                        dataclasses.replace(planned, sql=f"SELECT __a.*, {value} AS {ident} FROM {staged} AS __a"),
                        [
                            *names,
                            col.name,
                        ],
                    )
                else:  # NULL rows numbered among themselves, so the reserved range covers them
                    numbered = (
                        f"SELECT * REPLACE (CASE WHEN {duck.quote_ident(given)} IS NULL THEN CAST({first - 1} + "
                        f"row_number() OVER (PARTITION BY {duck.quote_ident(given)} IS NULL) AS BIGINT) "
                        f"ELSE {duck.quote_ident(given)} END AS {duck.quote_ident(given)}) FROM {staged} AS __a"
                    )
                    yield dataclasses.replace(planned, sql=numbered), names
            finally:
                cur.execute(f"DROP TABLE IF EXISTS {staged}")

    def update(self, ctx: SessionContext, expression: exp.Update) -> int:
        """``UPDATE t SET v = e WHERE c`` on a UNIQUE KEY table: the matching rows written again
        with their new values, which replace the old ones by key (Doris's partial rewrite)."""
        target = expression.this
        if not isinstance(target, exp.Table) or expression.args.get("from") or expression.args.get("joins"):
            raise DorisError("UPDATE ... FROM is not supported by dorisbk", code=1235)
        if target.args.get("partition") is not None:  # Doris's UPDATE names no partitions
            raise ParseError("Syntax error: UPDATE does not take PARTITION")
        _named_table(target, "UPDATE")
        db_name = target.db or ctx.current_db()
        table = self.catalog.find_table(self.catalog.db(db_name), target.name)
        if table is None:
            raise UnknownTable(f"Table [{target.name}] does not exist in database [{db_name}].")
        if table.kind != "OLAP" or table.keys_type != "UNIQUE_KEYS":
            raise DorisError("Only unique table could be updated.")
        by_name = {c.name.lower(): c for c in table.columns}
        values: dict[str, exp.Expression] = {}
        for assignment in expression.expressions:
            if not isinstance(assignment, exp.EQ) or not isinstance(assignment.this, exp.Column):
                raise ParseError(f"Syntax error: UPDATE ... SET takes column = value, not '{assignment.sql()[:40]}'")
            name = assignment.this.name.lower()
            if name not in by_name:
                raise DorisError(f"Unknown column '{assignment.this.name}' in 'table list'", code=1054)
            if by_name[name].is_key:
                raise DorisError("Only value columns of unique table could be updated")
            values[name] = assignment.expression
        source = exp.Table(this=exp.to_identifier(table.name), db=exp.to_identifier(db_name))
        projections = [
            exp.alias_(values.get(c.name.lower(), exp.column(c.name, quoted=True)), c.name, quoted=True)
            for c in table.columns
        ]
        select = exp.select(*projections).from_(source)
        where = expression.args.get("where")
        if where is not None:
            select = select.where(where.this)
        return self.insert(ctx, exp.Insert(this=source.copy(), expression=select))

    def _output_names(self, planned: Planned) -> list[str]:
        with self._cursor() as cur:
            try:
                planned.prepare(cur)
                cur.execute(f"DESCRIBE {planned.sql}")
            except duckdb.Error as exc:
                raise DorisError(duck.error_message(exc)) from None
            return [row[0] for row in cur.fetchall()]

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one step of a statement; whatever fails in a statement stopped by KILL or its
        query_timeout (DuckDB's "Interrupted!" above all) reports the stop instead."""
        cur = duck.cursor()
        try:
            yield cur
        except Exception:
            interrupt.check()
            raise
        finally:
            cur.close()


FETCH_ROWS = 10_000  # rows fetched from DuckDB at a time, and the most a result holds before it streams


class RowStream:
    """The rows of a query, fetched from DuckDB a batch at a time as the client takes them, so that a
    large result never sits whole in the server's memory. It holds its cursor and its files' leases
    until :meth:`close` (at the last row, on an error, or when the connection moves on or ends)."""

    def __init__(self, store: TabletStore, planned: Planned) -> None:
        self.store = store
        self.planned = planned
        self.pending: list[tuple] = []  # rows fetched and not yet taken
        self.types: list[str] = []  # the DuckDB type of each column, once started
        self._cur: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()  # one fetch at a time; close waits for none
        self._closed = False
        self._released = False

    def start(self) -> tuple[list[tuple[str, str]], list[tuple]]:
        """Run the query (in a worker): its columns and first batch of rows."""
        self._cur = duck.cursor()
        with self._errors():
            self.planned.prepare(self._cur)
            self._cur.execute(self.planned.sql)
            description = self._cur.description or []
            first = self._cur.fetchmany(FETCH_ROWS)
        self.types = [str(d[1]) for d in description]
        return [(d[0], _duck_kind(str(d[1]))) for d in description], first

    def fetch(self) -> list[tuple]:
        """The next rows (in a worker); none once the result is read, and then the stream is closed."""
        with self._lock:
            if self._closed or self._cur is None:
                self._close_locked()
                return []
            try:
                with self._errors():
                    rows = self._cur.fetchmany(FETCH_ROWS)
            except BaseException:
                self._close_locked()
                raise
            if not rows or self._closed:  # the end, or closed while this fetch ran
                self._close_locked()
                return []
            return rows

    def close(self) -> None:
        """Give back the cursor and the leases; a fetch running meanwhile closes them when it ends."""
        self._closed = True
        if self._lock.acquire(blocking=False):
            try:
                self._close_locked()
            finally:
                self._lock.release()

    def _close_locked(self) -> None:
        self._closed = True
        if self._cur is not None:
            self._cur.close()
            self._cur = None
        if not self._released:
            self._released = True
            self.planned.release(self.store)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """DuckDB's failures in Doris's words; a statement stopped by KILL or query_timeout says so."""
        try:
            yield
        except duckdb.ParserException as exc:  # sqlglot read it, DuckDB cannot: the client's syntax still
            interrupt.check()
            message = duck.error_message(exc)
            syntax = message.startswith("syntax error")
            raise ParseError("S" + message[1:] if syntax else f"Syntax error: {message}") from None
        except duckdb.Error as exc:
            interrupt.check()
            raise DorisError(duck.error_message(exc)) from None


@dataclass
class _Test:
    """One predicate on the partition column: ``op`` against typed ``values``."""

    op: str
    values: list

    def accepts(self, v: object) -> bool:
        match self.op:
            case "=" | "in":
                return v in self.values
            case "<":
                return v < self.values[0]  # type: ignore[operator]
            case "<=":
                return v <= self.values[0]  # type: ignore[operator]
            case ">":
                return v > self.values[0]  # type: ignore[operator]
            case ">=":
                return v >= self.values[0]  # type: ignore[operator]
            case "between":
                return self.values[0] <= v <= self.values[1]  # type: ignore[operator]
        return True

    def overlaps_range(self, low: tuple, high: tuple) -> bool:
        """Whether some value in [low, high) can satisfy the predicate."""
        lo_kind, lo = low[0]
        hi_kind, hi = high[0]

        def above_low(v: object) -> bool:
            return lo_kind == 0 or v >= lo  # type: ignore[operator]

        def below_high(v: object) -> bool:
            return hi_kind == 2 or v < hi  # type: ignore[operator]

        match self.op:
            case "=" | "in":
                return any(above_low(v) and below_high(v) for v in self.values)
            case "<" | "<=":
                return lo_kind == 0 or (lo < self.values[0] if self.op == "<" else lo <= self.values[0])
            case ">" | ">=":
                return hi_kind == 2 or self.values[0] < hi
            case "between":
                return (lo_kind == 0 or lo <= self.values[1]) and (hi_kind == 2 or self.values[0] < hi)
        return True


_OPS = {exp.EQ: "=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


def _is_col(node: exp.Expression, column: str, alias: str) -> bool:
    return (
        isinstance(node, exp.Column)
        and node.name.lower() == column
        and (not node.table or node.table.lower() == alias.lower())
    )


def _literal(node: exp.Expression, ctype) -> object:  # type: ignore[no-untyped-def]
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return ctype.coerce("-" + node.this.name)
    if not isinstance(node, exp.Literal):
        raise ValueError("not a literal")
    value = ctype.coerce(node.name)
    if isinstance(value, dt.datetime) and ctype.name.startswith("DATE") and not ctype.name.startswith("DATETIME"):
        return value.date()
    return value


def _named_partitions(
    ref: exp.Table, known: list[str], keep: Callable[[Partition], bool] | None
) -> Callable[[Partition], bool]:
    """``FROM t PARTITION (p1, p2)`` reads only those partitions (and, within them, what WHERE keeps)."""
    node = ref.args["partition"]
    names = {e.name.lower() for e in node.expressions}
    lowered = {name.lower() for name in known}
    for name in (e.name for e in node.expressions):
        if name.lower() not in lowered:
            qualified = ".".join(filter(None, [ref.db, ref.name]))
            raise DorisError(f"Partition: {name} is not exists on table {qualified}")
    ref.set("partition", None)
    return lambda part: part.name.lower() in names and (keep is None or keep(part))


def _partition_test(cond: exp.Expression, column: str, alias: str, ctype) -> _Test | None:  # type: ignore[no-untyped-def]
    try:
        for klass, op in _OPS.items():
            if isinstance(cond, klass):
                if _is_col(cond.this, column, alias):
                    return _Test(op, [_literal(cond.expression, ctype)])
                if _is_col(cond.expression, column, alias):
                    return _Test(_FLIP[op], [_literal(cond.this, ctype)])
                return None
        if isinstance(cond, exp.In) and _is_col(cond.this, column, alias) and not cond.args.get("query"):
            return _Test("in", [_literal(e, ctype) for e in cond.expressions])
        if isinstance(cond, exp.Between) and _is_col(cond.this, column, alias):
            return _Test("between", [_literal(cond.args["low"], ctype), _literal(cond.args["high"], ctype)])
    except (ValueError, DorisError, TypeError):
        return None
    return None


# ---- column names of computed select items, as MySQL and Doris give them

_SELECT_LIST_END = {
    TokenType.FROM,
    TokenType.WHERE,
    TokenType.GROUP_BY,
    TokenType.HAVING,
    TokenType.ORDER_BY,
    TokenType.LIMIT,
    TokenType.UNION,
    TokenType.INTERSECT,
    TokenType.EXCEPT,
    TokenType.INTO,
    TokenType.WINDOW,
    TokenType.QUALIFY,
    TokenType.SEMICOLON,
}


def _select_list_texts(sql: str) -> list[str] | None:
    """The source text of each item of a statement's top-level select list (``SELECT a, f(x) FROM``)."""
    try:
        tokens = Dialect.get_or_raise(READ).tokenize(sql)
    except sqlglot.errors.SqlglotError:
        return None
    if not tokens or tokens[0].token_type != TokenType.SELECT:
        return None
    items: list[tuple[int, int]] = []
    depth, first, last = 0, None, None
    for tok in tokens[1:]:
        kind = tok.token_type
        if depth == 0 and (kind in _SELECT_LIST_END or kind == TokenType.COMMA):
            if first is not None:
                items.append((first, last))  # type: ignore[arg-type]
            first = last = None
            if kind != TokenType.COMMA:
                break
            continue
        if depth == 0 and first is None and kind in (TokenType.HINT, TokenType.DISTINCT, TokenType.ALL):
            continue
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        if first is None:
            first = tok.start
        last = tok.end
    else:
        if first is not None:
            items.append((first, last))  # type: ignore[arg-type]
    return [sql[a : b + 1] for a, b in items]


def name_projections(select: exp.Select, sql: str) -> None:
    """Name unaliased computed columns by their text, as MySQL does (``count(*)``, ``DATABASE()``,
    ``if(a>0,'y','n')``); a string literal is named by its value. Plain columns keep their names."""
    texts = _select_list_texts(sql)
    if texts is None or len(texts) != len(select.expressions):
        return
    named = []
    for projection, text in zip(select.expressions, texts, strict=True):
        if isinstance(projection, (exp.Alias, exp.Column, exp.Star)) or len(text) > 256:
            named.append(projection)
            continue
        if isinstance(projection, exp.Literal) and projection.is_string:
            if not projection.name:  # SELECT '': no name can be empty in DuckDB; it names the column ''
                named.append(projection)
                continue
            text = projection.name
        named.append(exp.alias_(projection, exp.to_identifier(text, quoted=True), copy=False))
    select.set("expressions", named)  # once: replacing items one by one is quadratic


def _type_values(values: exp.Values, columns: list[Column | None]) -> None:
    """Rows of different types in one column make one VALUES list, as Doris casts each value to its column:
    an ARRAY / MAP / STRUCT value is cast to the column's type (``array('a')``, ``array(1, 2)`` for an
    ARRAY<STRING>); where strings and other values meet in a scalar column (``'7'`` and ``8``), each is
    given as its text, which the load converts under enable_insert_strict as any string."""
    for i, column in enumerate(columns):
        if column is None:
            continue
        cells = [row.expressions[i] for row in values.expressions if not isinstance(row.expressions[i], exp.Null)]
        if column.type.items:
            target = exp.DataType.build(column.type.duck(), dialect="duckdb")
        elif any(_is_string(c) for c in cells) and not all(_is_string(c) for c in cells):
            target = exp.DataType.build("VARCHAR")
        else:
            continue
        for value in cells:
            value.replace(exp.Cast(this=value.copy(), to=target.copy()))


def _is_string(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string
