"""Parses catalog, account and SHOW statements (grammar/ddl.lark) into statement objects.

The free text after ``AS`` in CREATE VIEW, CREATE MATERIALIZED VIEW and CREATE TABLE ... AS SELECT
is cut by its tokens (``dorisbk.engine.dialect.lex``): trailing ``;`` and comments, and a materialized
view's trailing ``PROPERTIES (...)``, never a match on the text.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lark import Token, Transformer, Tree
from lark.exceptions import VisitError
from sqlglot.tokens import TokenType

from dorisbk.catalog.column_def import TypeSpec
from dorisbk.catalog.types import is_type_name
from dorisbk.engine.dialect import Lexed, is_word, lex, statement_span
from dorisbk.errors import DorisError, ParseError
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.lark_support import load, unquote_name, unquote_string
from dorisbk.sql.show_where import parse_condition

GRAMMAR = "ddl.lark"


def _name(tok: Any) -> str:
    return unquote_name(tok)


def _lit(tok: Any) -> str | None:
    if isinstance(tok, Token) and tok.type == "MAXVALUE":
        return None
    if isinstance(tok, Token) and tok.type == "STRING":
        return unquote_string(str(tok))
    return str(tok)


def _has(children: list[Any], kind: str) -> bool:
    return any((isinstance(c, Token) and c.type == kind) or (isinstance(c, Tree) and c.data == kind) for c in children)


def _name_after(children: list[Any], kind: str) -> str | None:
    """The name following the keyword ``kind`` (``TO rollup``, ``FROM rollup``), None without it."""
    for i, child in enumerate(children[:-1]):
        if isinstance(child, Token) and child.type == kind:
            return _name(children[i + 1])
    return None


def _internal_catalog(name: str) -> None:
    """A catalog named before a database (``internal.db``, as Superset's Doris engine names them): the
    internal catalog is the only one here."""
    if name.lower() != "internal":
        raise DorisError(f"Unknown catalog '{name}'")


def _role_name(tok: Token) -> str:
    """A role name, written bare, back-quoted or as a string."""
    return (_lit(tok) or "") if tok.type == "STRING" else _name(tok)


def _find(children: list[Any], cls: type) -> Any:
    return next((c for c in children if isinstance(c, cls)), None)


class _Marker:
    """A small tagged value passed up the tree (a clause that is not a statement)."""

    def __init__(self, kind: str, value: Any = None) -> None:
        self.kind, self.value = kind, value


def _marker(children: list[Any], kind: str) -> Any:
    found = next((c for c in children if isinstance(c, _Marker) and c.kind == kind), None)
    return found.value if found else None


def _named_partition(c: list[Any], skip: int) -> s.PartitionDef:
    """``PARTITION [IF NOT EXISTS] name VALUES ... [(props)]``: the name is the first token after ``skip``
    keywords; the bounds come from the already built PartitionDef child."""
    name = next(_name(t) for t in c[skip:] if isinstance(t, Token))
    bounds = _find(c, s.PartitionDef)
    return dataclasses.replace(
        bounds,
        name=name,
        properties=_marker(c, "properties") or (),
        if_not_exists=bool(_marker(c, "if_not_exists")),
    )


def _index(c: list[Any], skip: int) -> s.IndexDef:
    """``INDEX [IF NOT EXISTS] name (cols) [USING kind] [PROPERTIES (...)] [COMMENT '...']``."""
    tokens = [t for t in c[skip:] if isinstance(t, Token)]
    name = next(_name(t) for t in tokens if t.type in ("NAME", "QUOTED_NAME"))
    using = next((i for i, t in enumerate(tokens) if t.type == "USING"), None)
    kind = _name(tokens[using + 1]).upper() if using is not None else "INVERTED"
    return s.IndexDef(
        name=name,
        columns=next(x for x in c if isinstance(x, tuple) and all(isinstance(v, str) for v in x)),
        using=kind,
        properties=_marker(c, "properties") or (),
        comment=_marker(c, "comment") or "",
        if_not_exists=bool(_marker(c, "if_not_exists")),
    )


def _trailing_properties(lexed: Lexed) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """A ``PROPERTIES ("k" = "v", ...)`` that ends a materialized view's text: where the query before
    it ends, and its pairs (commas between them optional, as Doris's old grammar took them); None
    without one."""
    if not lexed.complete:
        return None
    tokens = lexed.tokens
    last = len(tokens)
    while last and tokens[last - 1].token_type == TokenType.SEMICOLON:
        last -= 1
    for at in range(last - 2, 0, -1):  # the last PROPERTIES ( that is not inside the query
        if is_word(tokens[at], "PROPERTIES") and tokens[at + 1].token_type == TokenType.L_PAREN:
            break
    else:
        return None
    pairs: list[tuple[str, str]] = []
    i = at + 2
    while i + 2 < last and [t.token_type for t in tokens[i : i + 3]] == [
        TokenType.STRING,
        TokenType.EQ,
        TokenType.STRING,
    ]:
        key, value = (lexed.text[t.start : t.end + 1] for t in (tokens[i], tokens[i + 2]))
        pairs.append((unquote_string(key), unquote_string(value)))
        i += 4 if i + 3 < last and tokens[i + 3].token_type == TokenType.COMMA else 3
    if i != last - 1 or tokens[i].token_type != TokenType.R_PAREN:
        return None
    return tokens[at - 1].end + 1, tuple(pairs)


class _ToStmt(Transformer):
    # ---- shared pieces
    def start(self, c: list[Any]) -> Any:
        return c[0]

    def name_list(self, c: list[Any]) -> tuple[str, ...]:
        return tuple(_name(t) for t in c)

    def literal_list(self, c: list[Any]) -> tuple[str, ...]:
        return tuple(_lit(t) or "" for t in c)

    def table_name(self, c: list[Any]) -> s.TableName:
        if len(c) == 3:  # catalog.db.table: Doris's internal catalog is the only one
            _internal_catalog(_name(c[0]))
            c = c[1:]
        if len(c) == 2:
            return s.TableName(_name(c[1]), _name(c[0]))
        return s.TableName(_name(c[0]))

    def user_identity(self, c: list[Any]) -> s.UserIdentity:
        name = _lit(c[0]) if c[0].type == "STRING" else _name(c[0])
        host = "%"
        if len(c) > 1:
            host = _lit(c[1]) if c[1].type == "STRING" else _name(c[1])
        return s.UserIdentity(name or "", host or "%")

    def if_not_exists(self, _c: list[Any]) -> _Marker:
        return _Marker("if_not_exists", True)

    def if_exists(self, _c: list[Any]) -> _Marker:
        return _Marker("if_exists", True)

    def force(self, _c: list[Any]) -> _Marker:
        return _Marker("force", True)

    def comment(self, c: list[Any]) -> _Marker:
        return _Marker("comment", _lit(c[1]))

    def like(self, c: list[Any]) -> _Marker:
        return _Marker("like", _lit(c[1]))

    def from_db(self, c: list[Any]) -> _Marker:
        if len(c) == 3:  # FROM catalog.db
            _internal_catalog(_name(c[1]))
        return _Marker("db", _name(c[-1]))

    def property(self, c: list[Any]) -> tuple[str, str]:
        return (_lit(c[0]) or "", _lit(c[1]) or "")

    def properties(self, c: list[Any]) -> _Marker:
        return _Marker("properties", tuple(p for p in c if isinstance(p, tuple)))

    def bare_properties(self, c: list[Any]) -> _Marker:
        return _Marker("properties", tuple(p for p in c if isinstance(p, tuple)))

    # ---- databases
    def create_database(self, c: list[Any]) -> s.CreateDatabaseStmt:
        name = next(_name(t) for t in c if isinstance(t, Token) and t.type in ("NAME", "QUOTED_NAME"))
        return s.CreateDatabaseStmt(name, bool(_marker(c, "if_not_exists")), _marker(c, "properties") or ())

    def drop_database(self, c: list[Any]) -> s.DropDatabaseStmt:
        name = next(_name(t) for t in c if isinstance(t, Token) and t.type in ("NAME", "QUOTED_NAME"))
        return s.DropDatabaseStmt(name, bool(_marker(c, "if_exists")), bool(_marker(c, "force")))

    # ---- columns and table clauses
    def col_type(self, c: list[Any]) -> TypeSpec:
        name = _name(c[0])
        if not is_type_name(name):
            where = f" at line {c[0].line}, column {c[0].column}" if getattr(c[0], "line", None) else ""
            raise ParseError(f"Syntax error{where} near '{name}': Unknown type: {name.upper()}")
        args = tuple(int(t) for t in c[1:] if isinstance(t, Token) and t.type == "INT")
        items = tuple(t for t in c[1:] if isinstance(t, tuple))
        return (name, args, items)

    def struct_field(self, c: list[Any]) -> TypeSpec:
        type_name, args, items = c[1][:3]
        return (type_name, args, items, _name(c[0]))

    def agg_type(self, c: list[Any]) -> _Marker:
        return _Marker("agg", str(c[0]).upper())

    def nullability(self, c: list[Any]) -> _Marker:
        return _Marker("nullable", not _has(c, "NOT"))

    def auto_increment(self, c: list[Any]) -> _Marker:
        return _Marker("auto_increment", int(c[1]) if len(c) > 1 else 1)

    def default_value(self, c: list[Any]) -> _Marker:
        tok = c[1]
        if tok.type == "NULL":
            return _Marker("default", (True, None))
        if tok.type == "CURRENT_TIMESTAMP":
            return _Marker("default", (True, "CURRENT_TIMESTAMP"))
        return _Marker("default", (True, _lit(tok)))

    def on_update(self, _c: list[Any]) -> _Marker:
        return _Marker("on_update", True)

    def column_def(self, c: list[Any]) -> s.ColumnDef:
        type_name, args, items = c[1][:3]
        has_default, default = _marker(c, "default") or (False, None)
        return s.ColumnDef(
            name=_name(c[0]),
            type_name=type_name,
            type_args=args,
            type_items=items,
            is_key=_has(c, "KEY"),
            aggregation=_marker(c, "agg"),
            nullable=_marker(c, "nullable"),
            auto_increment=_marker(c, "auto_increment"),
            default=default,
            has_default=has_default,
            comment=_marker(c, "comment") or "",
        )

    def index_def(self, c: list[Any]) -> s.IndexDef:
        return _index(c, skip=1)

    def create_index(self, c: list[Any]) -> s.AddIndexStmt:
        return s.AddIndexStmt(_find(c, s.TableName), _index(c, skip=2))

    def add_index(self, c: list[Any]) -> _Marker:
        return _Marker("add_index", _find(c, s.IndexDef))

    def drop_index(self, c: list[Any]) -> _Marker:
        name = next(_name(t) for t in c[2:] if isinstance(t, Token))
        return _Marker("drop_index", (name, bool(_marker(c, "if_exists"))))

    def build_index(self, c: list[Any]) -> s.BuildIndexStmt:
        parts = next((x for x in c if isinstance(x, tuple)), ())
        return s.BuildIndexStmt(_find(c, s.TableName), _name(c[2]), parts)

    def column_position(self, c: list[Any]) -> _Marker:
        return _Marker("position", (_name(c[1]), False) if len(c) > 1 else (None, True))

    def add_column(self, c: list[Any]) -> _Marker:
        after, first = _marker(c, "position") or (None, False)
        rollup = _name_after(c, "TO")
        defs = [x for x in c if isinstance(x, s.ColumnDef)]
        changes = tuple(s.ColumnChange("ADD", d, d.name, after=after, first=first, rollup=rollup) for d in defs)
        return _Marker("columns", changes)

    def drop_column(self, c: list[Any]) -> _Marker:
        rollup = _name_after(c, "FROM")
        return _Marker("columns", (s.ColumnChange("DROP", name=_name(c[2]), rollup=rollup),))

    def modify_column(self, c: list[Any]) -> _Marker:
        cdef = _find(c, s.ColumnDef)
        rollup = _name_after(c, "FROM")
        if cdef is None:  # MODIFY COLUMN c COMMENT '...'
            change = s.ColumnChange("COMMENT", name=_name(c[2]), comment=_lit(c[4]) or "", rollup=rollup)
        else:
            after, first = _marker(c, "position") or (None, False)
            change = s.ColumnChange("MODIFY", cdef, cdef.name, after=after, first=first, rollup=rollup)
        return _Marker("columns", (change,))

    def rename_column(self, c: list[Any]) -> _Marker:
        return _Marker("columns", (s.ColumnChange("RENAME", name=_name(c[2]), new_name=_name(c[3])),))

    def modify_partition(self, c: list[Any]) -> _Marker:
        names = next((x for x in c if isinstance(x, tuple)), None)
        if names is None:
            star = any(isinstance(t, Token) and t.type == "STAR" for t in c)
            names = () if star else (_name(c[2]),)
        return _Marker("modify_partition", (names, _marker(c, "properties")))

    def rename_partition(self, c: list[Any]) -> _Marker:
        return _Marker("rename_partition", (_name(c[2]), _name(c[3])))

    def table_elements(self, c: list[Any]) -> _Marker:
        return _Marker("elements", c)

    def engine(self, c: list[Any]) -> _Marker:
        engine = _name(c[1]).upper()
        if engine != "OLAP":
            raise DorisError(f"Unsupported engine: {engine}; only OLAP tables are supported")
        return _Marker("engine", engine)

    def keys_desc(self, c: list[Any]) -> _Marker:
        kind = {"DUPLICATE": "DUP_KEYS", "UNIQUE": "UNIQUE_KEYS", "AGGREGATE": "AGG_KEYS"}[str(c[0]).upper()]
        return _Marker("keys", (kind, c[2]))

    def less_than(self, c: list[Any]) -> s.PartitionDef:
        bounds = tuple(_lit(t) for t in c[3:])
        return s.PartitionDef("", less_than=bounds or (None,))

    def fixed_range(self, c: list[Any]) -> s.PartitionDef:
        upper = tuple(_lit(t) for t in c[2:])
        return s.PartitionDef("", lower=c[1], upper=upper)

    def in_tuple(self, c: list[Any]) -> _Marker:
        return _Marker("tuple", c[0])

    def in_values(self, c: list[Any]) -> s.PartitionDef:
        rest = c[2:]
        tuples = [x.value for x in rest if isinstance(x, _Marker) and x.kind == "tuple"]
        if tuples:  # VALUES IN ((1, "a"), (2, "b")): one tuple per multi-column value
            return s.PartitionDef("", values=tuple(tuples))
        # VALUES IN ("a", "b"): one single-column value each
        return s.PartitionDef("", values=tuple((v,) for v in rest[0]))

    def partition_def(self, c: list[Any]) -> s.PartitionDef:
        return _named_partition(c, skip=1)

    def partition_desc(self, c: list[Any]) -> _Marker:
        auto = isinstance(c[0], Token) and c[0].type == "AUTO"
        c = c[1:] if auto else c
        kind = str(c[2]).upper()
        parts = tuple(x for x in c[4:] if isinstance(x, (s.PartitionDef, s.StepPartitionDef)))
        if isinstance(c[3], _Marker):  # a partition function: (name, column, unit)
            func, column, unit = c[3].value
            return _Marker("partition", (kind, (column,), parts, s.AutoPartition(func.lower(), unit.lower())))
        return _Marker("partition", (kind, c[3], parts, s.AutoPartition() if auto else None))

    def partition_func(self, c: list[Any]) -> _Marker:
        return _Marker("partition_func", (_name(c[0]), _name(c[1]), _lit(c[2]) or ""))

    def step_partition(self, c: list[Any]) -> s.StepPartitionDef:
        lower, upper = _lit(c[1]) or "", _lit(c[3]) or ""
        unit = _name(c[6]) if len(c) > 6 and c[6] is not None else None
        return s.StepPartitionDef(lower, upper, int(c[5]), unit)

    def hash_dist(self, c: list[Any]) -> s.DistributionDef:
        return s.DistributionDef("HASH", c[1])

    def random_dist(self, _c: list[Any]) -> s.DistributionDef:
        return s.DistributionDef("RANDOM")

    def buckets(self, c: list[Any]) -> _Marker:
        return _Marker("buckets", None if c[1].type == "AUTO" else int(c[1]))

    def distribution_desc(self, c: list[Any]) -> s.DistributionDef:
        dist = _find(c, s.DistributionDef)
        return s.DistributionDef(dist.kind, dist.columns, _marker(c, "buckets"))

    def rollup(self, _c: list[Any]) -> _Marker:
        raise DorisError("ROLLUP is not supported by dorisbk")

    def create_table(self, c: list[Any]) -> s.CreateTableStmt:
        keys_type, key_cols = _marker(c, "keys") or (None, ())
        part_type, part_cols, parts, auto_partition = _marker(c, "partition") or (None, (), (), None)
        elements = _marker(c, "elements") or ()
        return s.CreateTableStmt(
            table=_find(c, s.TableName),
            columns=tuple(x for x in elements if isinstance(x, s.ColumnDef)),
            indexes=tuple(x for x in elements if isinstance(x, s.IndexDef)),
            keys_type=keys_type,
            key_columns=key_cols,
            comment=_marker(c, "comment") or "",
            partition_type=part_type,
            partition_columns=part_cols,
            partitions=parts,
            auto_partition=auto_partition,
            distribution=_find(c, s.DistributionDef),
            properties=_marker(c, "properties") or (),
            if_not_exists=bool(_marker(c, "if_not_exists")),
        )

    def ctas_columns(self, c: list[Any]) -> _Marker:
        return _Marker("ctas_columns", c[0])

    def create_table_as(self, c: list[Any]) -> s.CreateTableAsStmt:
        lexed = lex(str(c[-1]))
        start, end = statement_span(lexed)
        return s.CreateTableAsStmt(self.create_table(c), _marker(c, "ctas_columns") or (), lexed.text[start:end])

    def create_table_like(self, c: list[Any]) -> s.CreateTableLikeStmt:
        names = [x for x in c if isinstance(x, s.TableName)]
        return s.CreateTableLikeStmt(names[0], names[1], bool(_marker(c, "if_not_exists")))

    def drop_table(self, c: list[Any]) -> s.DropTableStmt:
        return s.DropTableStmt(_find(c, s.TableName), bool(_marker(c, "if_exists")), bool(_marker(c, "force")))

    def drop_view(self, c: list[Any]) -> s.DropTableStmt:
        return s.DropTableStmt(_find(c, s.TableName), bool(_marker(c, "if_exists")), is_view=True)

    def truncate_table(self, c: list[Any]) -> s.TruncateTableStmt:
        parts = next((x for x in c if isinstance(x, tuple)), ())
        return s.TruncateTableStmt(_find(c, s.TableName), parts)

    def add_partition(self, c: list[Any]) -> _Marker:
        temporary = _has(c, "TEMPORARY")
        part = _named_partition(c, skip=3 if temporary else 2)
        return _Marker("add_partition", (part, _find(c, s.DistributionDef), temporary))

    def drop_partition(self, c: list[Any]) -> _Marker:
        name = next(_name(t) for t in c[2:] if isinstance(t, Token))
        return _Marker("drop_partition", (name, bool(_marker(c, "if_exists")), bool(_marker(c, "force"))))

    def rename_table(self, c: list[Any]) -> _Marker:
        return _Marker("rename", _name(c[1]))

    def replace_table(self, c: list[Any]) -> _Marker:
        return _Marker("replace", (_name(c[3]), _marker(c, "properties") or ()))

    def modify_properties(self, c: list[Any]) -> _Marker:
        return _Marker("set_properties", _marker(c, "properties"))

    def alter_table(self, c: list[Any]) -> Any:
        clauses = [x for x in c[3:] if isinstance(x, _Marker)]
        if len(clauses) == 1:
            return self._alter_one(c[2], clauses[0])
        columns = [x for x in clauses if x.kind == "columns"]
        if columns and len(columns) != len(clauses):
            raise DorisError("Can not alter schema and other things (partition, rename, properties) in one statement")
        if columns:  # one schema change of several column clauses, as Doris runs it
            return s.SchemaChangeStmt(c[2], tuple(ch for x in columns for ch in x.value))
        return s.MultiAlterStmt(tuple(self._alter_one(c[2], x) for x in clauses))

    def _alter_one(self, table: s.TableName, clause: _Marker) -> Any:
        if clause.kind == "modify_partition":
            return s.ModifyPartitionStmt(table, *clause.value)
        if clause.kind == "rename_partition":
            return s.RenamePartitionStmt(table, *clause.value)
        if clause.kind == "add_partition":
            return s.AddPartitionStmt(table, *clause.value)
        if clause.kind == "drop_partition":
            return s.DropPartitionStmt(table, *clause.value)
        if clause.kind == "rename":
            return s.RenameTableStmt(table, clause.value)
        if clause.kind == "replace":
            return s.ReplaceTableStmt(table, *clause.value)
        if clause.kind == "add_index":
            return s.AddIndexStmt(table, clause.value)
        if clause.kind == "drop_index":
            return s.DropIndexStmt(table, *clause.value)
        if clause.kind == "columns":
            return s.SchemaChangeStmt(table, clause.value)
        if clause.kind == "unsupported":
            return s.UnsupportedAlterStmt(table, clause.value)
        if clause.kind == "toggle_keys":
            return s.ToggleKeysStmt(table)
        return s.SetTablePropertiesStmt(table, clause.value)

    def view_column(self, c: list[Any]) -> str:
        return _name(c[0])

    def view_option(self, _c: list[Any]) -> _Marker:
        return _Marker("view_option")

    def toggle_keys(self, _c: list[Any]) -> _Marker:
        return _Marker("toggle_keys")

    def lock_item(self, c: list[Any]) -> s.TableName:
        return _find(c, s.TableName)

    def lock_tables(self, c: list[Any]) -> s.LockTablesStmt:
        return s.LockTablesStmt(tuple(x for x in c if isinstance(x, s.TableName)))

    def unlock_tables(self, _c: list[Any]) -> s.LockTablesStmt:
        return s.LockTablesStmt(unlock=True)

    def start_transaction(self, _c: list[Any]) -> s.NoOpStmt:
        return s.NoOpStmt("START TRANSACTION")

    def savepoint(self, c: list[Any]) -> s.NoOpStmt:
        return s.NoOpStmt(str(c[0]).upper())

    def flush_tables(self, _c: list[Any]) -> s.NoOpStmt:
        return s.NoOpStmt("FLUSH TABLES")

    def create_view(self, c: list[Any]) -> s.CreateViewStmt:
        lexed = lex(str(c[-1]))
        start, end = statement_span(lexed)
        return s.CreateViewStmt(
            table=_find(c, s.TableName),
            query=lexed.text[start:end],
            columns=tuple(x for x in c if isinstance(x, str) and not isinstance(x, Token)),
            comment=_marker(c, "comment") or "",
            if_not_exists=bool(_marker(c, "if_not_exists")),
        )

    def alter_view(self, c: list[Any]) -> s.CreateViewStmt:
        return dataclasses.replace(self.create_view(c), alter=True)

    # ---- materialized views, statistics
    def create_mv(self, c: list[Any]) -> s.CreateMaterializedViewStmt:
        lexed = lex(str(c[-1]))
        start, end = statement_span(lexed)
        props: tuple[tuple[str, str], ...] = ()
        trailing = _trailing_properties(lexed)
        if trailing is not None:  # AS SELECT ... PROPERTIES ("k" = "v"): the statement's, not the query's
            end, props = trailing
        return s.CreateMaterializedViewStmt(
            _find(c, s.TableName), lexed.text[start:end], props, if_not_exists=bool(_marker(c, "if_not_exists"))
        )

    def create_mtmv(self, _c: list[Any]) -> Any:
        raise DorisError(
            "Asynchronous materialized views (BUILD / REFRESH ...) are not supported by dorisbk; "
            "CREATE MATERIALIZED VIEW mv AS SELECT ... FROM t makes a synchronous one",
            code=1235,
        )

    def drop_mv(self, c: list[Any]) -> s.DropMaterializedViewStmt:
        names = [x for x in c if isinstance(x, s.TableName)]
        return s.DropMaterializedViewStmt(
            names[0], names[1] if len(names) > 1 else None, if_exists=bool(_marker(c, "if_exists"))
        )

    def alter_limit(self, c: list[Any]) -> _Marker:
        return _Marker("alter_limit", int(c[1]))

    def show_alter(self, c: list[Any]) -> s.ShowStmt:
        what = s.ShowKind.ALTER_COLUMN if _has(c, "COLUMN") else s.ShowKind.ALTER_ROLLUP
        return s.ShowStmt(
            what,
            db=_marker(c, "db"),
            where=_marker(c, "where") or (),
            order_by=_marker(c, "order_by") or (),
            limit=_marker(c, "alter_limit"),
        )

    def analyze(self, c: list[Any]) -> s.AnalyzeStmt:
        table = _find(c, s.TableName)
        if table is not None:
            return s.AnalyzeStmt(table=table)
        return s.AnalyzeStmt(db=_name(c[2]))

    # ---- SHOW
    def show_databases(self, c: list[Any]) -> s.ShowStmt:
        catalog = next((t for t in c if isinstance(t, Token) and t.type in ("NAME", "QUOTED_NAME")), None)
        if catalog is not None:  # SHOW DATABASES FROM catalog
            _internal_catalog(_name(catalog))
        return s.ShowStmt(s.ShowKind.DATABASES, like=_marker(c, "like"), condition=_marker(c, "filter"))

    def show_tables(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.TABLES, db=_marker(c, "db"), like=_marker(c, "like"), full=_has(c, "FULL"),
                          condition=_marker(c, "filter"))  # fmt: skip

    def show_routine_status(self, c: list[Any]) -> s.ShowStmt:
        what = s.ShowKind.FUNCTION_STATUS if _has(c, "FUNCTION") else s.ShowKind.PROCEDURE_STATUS
        return s.ShowStmt(what, like=_marker(c, "like"), where=_marker(c, "where") or ())

    def show_plugins(self, _c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.PLUGINS)

    def show_create_table(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.CREATE_TABLE, table=_find(c, s.TableName))

    def show_create_database(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.CREATE_DATABASE, db=_name(c[-1]))

    def show_partitions(self, c: list[Any]) -> s.ShowStmt:
        what = s.ShowKind.TEMP_PARTITIONS if _has(c, "TEMPORARY") else s.ShowKind.PARTITIONS
        return s.ShowStmt(what, table=_find(c, s.TableName), where=_marker(c, "where") or ())

    def show_where(self, c: list[Any]) -> _Marker:
        return _Marker("where", tuple(x for x in c if isinstance(x, tuple)))

    def show_filter(self, c: list[Any]) -> _Marker:
        return _Marker("filter", parse_condition(str(c[-1])))

    def show_eq(self, c: list[Any]) -> tuple[str, str, str]:
        return (_name(c[0]), "=", _lit(c[-1]) or "")

    def show_ne(self, c: list[Any]) -> tuple[str, str, str]:
        return (_name(c[0]), "!=", _lit(c[-1]) or "")

    def show_like(self, c: list[Any]) -> tuple[str, str, str]:
        return (_name(c[0]), "LIKE", _lit(c[-1]) or "")

    def show_tablets(self, c: list[Any]) -> s.ShowStmt:
        parts = next((x for x in c if isinstance(x, tuple)), ())
        return s.ShowStmt(s.ShowKind.TABLETS, table=_find(c, s.TableName), partitions=parts)

    def show_proc(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.PROC, path=_lit(c[-1]) or "")

    def show_tablet_id(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.TABLET_ID, tablet_id=int(c[-1]))

    def show_dynamic_partitions(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.DYNAMIC_PARTITION_TABLES, db=_marker(c, "db"))

    def show_backends(self, _c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.BACKENDS)

    def show_frontends(self, _c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.FRONTENDS)

    def show_all_grants(self, _c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.ALL_GRANTS)

    def show_grants(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.GRANTS, user=_find(c, s.UserIdentity))

    def show_table_status(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.TABLE_STATUS, db=_marker(c, "db"), like=_marker(c, "like"))

    def show_columns(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(
            s.ShowKind.COLUMNS, table=_find(c, s.TableName), db=_marker(c, "db"), like=_marker(c, "like"),
            full=_has(c, "FULL"), condition=_marker(c, "filter"),
        )  # fmt: skip

    def show_index(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.INDEX, table=_find(c, s.TableName), db=_marker(c, "db"))

    def show_build_index(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.BUILD_INDEX, db=_marker(c, "db"), where=_marker(c, "where") or ())

    def show_view(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.VIEWS_OF, table=_find(c, s.TableName), db=_marker(c, "db"))

    def show_engines(self, _c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.ENGINES)

    def show_processlist(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.PROCESSLIST, full=_has(c, "FULL"))

    def describe(self, c: list[Any]) -> s.ShowStmt:
        return s.ShowStmt(s.ShowKind.DESC, table=_find(c, s.TableName), full=_has(c, "ALL"))

    # ---- the recycle bin
    def recover(self, c: list[Any]) -> s.RecoverStmt:
        what = str(c[1]).upper()
        toks = [t for t in c[2:] if isinstance(t, Token)]
        object_id = next((int(t) for t in toks if t.type == "INT"), None)
        new_name = _name(c[-1]) if _has(c, "AS") else None
        table = _find(c, s.TableName)
        if what == "TABLE":
            return s.RecoverStmt("TABLE", table.name, table, object_id, new_name)
        return s.RecoverStmt(what, _name(c[2]), table, object_id, new_name)

    def show_recycle_bin(self, c: list[Any]) -> s.RecycleBinStmt:
        return s.RecycleBinStmt(where=_marker(c, "where") or ())

    def drop_recycle_bin(self, c: list[Any]) -> s.RecycleBinStmt:
        key = next(_lit(t) for t in c if isinstance(t, Token) and t.type == "STRING")
        return s.RecycleBinStmt(key=key or "", value=int(c[-1]))

    def sync(self, _c: list[Any]) -> s.SyncStmt:
        return s.SyncStmt()

    # ---- more SHOW / ADMIN SHOW (handlers/show_admin.py)
    def order_item(self, c: list[Any]) -> tuple[str, bool]:
        return (_name(c[0]), _has(c, "DESC"))

    def order_by(self, c: list[Any]) -> _Marker:
        return _Marker("order_by", tuple(x for x in c if isinstance(x, tuple)))

    def show_limit(self, c: list[Any]) -> _Marker:
        """``LIMIT n`` / ``LIMIT offset, n`` / ``LIMIT n OFFSET offset``: (offset, count)."""
        nums = [int(t) for t in c if isinstance(t, Token) and t.type == "INT"]
        if len(nums) == 1:
            return _Marker("limit", (0, nums[0]))
        if _has(c, "OFFSET"):
            return _Marker("limit", (nums[1], nums[0]))
        return _Marker("limit", (nums[0], nums[1]))

    def show_data(self, c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt("DATA", table=_find(c, s.TableName), order_by=_marker(c, "order_by") or ())

    def show_catalogs(self, c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt("CATALOGS", like=_marker(c, "like"))

    def show_catalog(self, c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt("CATALOG", name=_name(c[-1]))

    def switch_catalog(self, c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt("SWITCH", name=_name(c[-1]))

    def show_object_id(self, c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt(f"{str(c[1]).upper()}_ID", object_id=int(c[2]))

    def admin_show_replica(self, c: list[Any]) -> s.ShowMoreStmt:
        what = "REPLICA_STATUS" if _has(c, "STATUS") else "REPLICA_DISTRIBUTION"
        parts = next((x for x in c if isinstance(x, tuple)), ())
        return s.ShowMoreStmt(what, table=_find(c, s.TableName), partitions=parts, temporary=_has(c, "TEMPORARY"),
                              where=_marker(c, "where") or ())  # fmt: skip

    def show_roles(self, _c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt("ROLES")

    def show_property(self, c: list[Any]) -> s.ShowMoreStmt:
        user = None
        if _has(c, "FOR"):
            tok = c[c.index(next(t for t in c if isinstance(t, Token) and t.type == "FOR")) + 1]
            user = _lit(tok) if tok.type == "STRING" else _name(tok)
        return s.ShowMoreStmt("PROPERTY", name=user, like=_marker(c, "like"), all=_has(c, "ALL"))

    def show_transaction(self, c: list[Any]) -> s.ShowMoreStmt:
        return s.ShowMoreStmt("TRANSACTION", db=_marker(c, "db"), where=_marker(c, "where") or ())

    def show_load(self, c: list[Any]) -> s.ShowMoreStmt:
        what = "STREAM_LOAD" if _has(c, "STREAM") else "LOAD"
        return s.ShowMoreStmt(what, db=_marker(c, "db"), where=_marker(c, "where") or (),
                              order_by=_marker(c, "order_by") or (), limit=_marker(c, "limit"))  # fmt: skip

    # ---- accounts
    def create_user(self, c: list[Any]) -> s.CreateUserStmt:
        strings = [t for t in c if isinstance(t, Token) and t.type == "STRING"]
        password = None
        if _has(c, "IDENTIFIED"):
            password = _lit(strings[0])
        role = _lit(strings[-1]) if _has(c, "DEFAULT") else None
        return s.CreateUserStmt(
            _find(c, s.UserIdentity), password, _has(c, "PASSWORD"), bool(_marker(c, "if_not_exists")), role
        )

    def drop_user(self, c: list[Any]) -> s.DropUserStmt:
        return s.DropUserStmt(_find(c, s.UserIdentity), bool(_marker(c, "if_exists")))

    def password_func(self, c: list[Any]) -> _Marker:
        return _Marker("plain", _lit(c[1]))

    def set_password(self, c: list[Any]) -> s.SetPasswordStmt:
        plain = _marker(c, "plain")
        if plain is not None:
            return s.SetPasswordStmt(_find(c, s.UserIdentity), plain)
        return s.SetPasswordStmt(_find(c, s.UserIdentity), _lit(c[-1]) or "", password_is_hash=True)

    def priv(self, c: list[Any]) -> str:
        return _name(c[0]).upper()

    def priv_list(self, c: list[Any]) -> tuple[str, ...]:
        return tuple(c)

    def priv_target(self, c: list[Any]) -> _Marker:
        return _Marker("target", tuple(str(t) if t.type == "STAR" else _name(t) for t in c))

    def grant(self, c: list[Any]) -> s.GrantStmt:
        return s.GrantStmt(c[1], _marker(c, "target"), _find(c, s.UserIdentity), role=_marker(c, "role"))

    def revoke(self, c: list[Any]) -> s.GrantStmt:
        return s.GrantStmt(c[1], _marker(c, "target"), _find(c, s.UserIdentity), True, _marker(c, "role"))

    def to_role(self, c: list[Any]) -> _Marker:
        return _Marker("role", _role_name(c[1]))

    def create_role(self, c: list[Any]) -> s.CreateRoleStmt:
        name = next(t for t in c[2:] if isinstance(t, Token) and t.type in ("NAME", "QUOTED_NAME", "STRING"))
        return s.CreateRoleStmt(_role_name(name), bool(_marker(c, "if_not_exists")))

    def drop_role(self, c: list[Any]) -> s.DropRoleStmt:
        return s.DropRoleStmt(_role_name(c[-1]), bool(_marker(c, "if_exists")))

    def role_list(self, c: list[Any]) -> tuple[str, ...]:
        return tuple(_role_name(t) for t in c)

    def grant_role(self, c: list[Any]) -> s.GrantRoleStmt:
        return s.GrantRoleStmt(c[1], _find(c, s.UserIdentity))

    def revoke_role(self, c: list[Any]) -> s.GrantRoleStmt:
        return s.GrantRoleStmt(c[1], _find(c, s.UserIdentity), revoke=True)


_TRANSFORMER = _ToStmt()


def parse_ddl(sql: str) -> Any:
    """Parse one catalog/account/SHOW statement; raises ParseError (1064) or DorisError."""
    tree = load(GRAMMAR).parse(sql)
    try:
        return _TRANSFORMER.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, DorisError):
            raise exc.orig_exc from None
        raise
