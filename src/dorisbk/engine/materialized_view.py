"""Synchronous materialized views read as SQL: building a view's columns from its SELECT, and choosing
the index a query reads (Doris's materialized index selection, as EXPLAIN names it). The views themselves
are catalog metadata (``catalog.rollup``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from dorisbk.catalog.model import Table
from dorisbk.catalog.types import ColumnType
from dorisbk.engine.dialect import DorisBK
from dorisbk.errors import DorisError

DIALECT = DorisBK
# the aggregate functions a view may hold, and the aggregation type of the column each makes
_AGGREGATIONS = {"SUM": "SUM", "COUNT": "SUM", "MIN": "MIN", "MAX": "MAX", "BITMAP_UNION": "BITMAP_UNION",
                 "HLL_UNION": "HLL_UNION"}  # fmt: skip
_SHORT_KEY_COLUMNS = 3  # FeConstants.shortkey_max_column_count


def _agg_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.AggFunc):
        return node.key.upper()
    if isinstance(node, exp.Anonymous) and node.name.upper() in _AGGREGATIONS:
        return node.name.upper()
    return None


def normalized(node: exp.Expression) -> str:
    """An expression's text with column qualifiers dropped, to compare a query with a view."""
    tree = node.copy()
    for col in list(tree.find_all(exp.Column)):
        col.replace(exp.column(col.name, quoted=True))
    return tree.sql(dialect=DIALECT, identify=True).lower()


def _plain_text(node: exp.Expression) -> str:
    tree = node.copy()
    for col in list(tree.find_all(exp.Column)):
        col.replace(exp.column(col.name))
    return tree.sql(dialect=DIALECT)


def _sum_type(arg: ColumnType) -> ColumnType:
    """SUM's result type (Doris widens integers to BIGINT and decimals to 38 digits)."""
    if arg.name == "LARGEINT":
        return arg
    if arg.is_integer or arg.name == "BOOLEAN":
        return ColumnType("BIGINT")
    if arg.name.startswith("DECIMAL"):
        return ColumnType(arg.name, precision=38, scale=arg.scale)
    return ColumnType("DOUBLE")


def from_duck(type_name: str) -> ColumnType:
    """The Doris type of a computed column, from the DuckDB type of its values."""
    name = type_name.upper()
    if name.startswith("DECIMAL"):
        digits = [int(x) for x in name[name.index("(") + 1 : name.index(")")].split(",")]
        return ColumnType("DECIMAL", precision=digits[0], scale=digits[1])
    simple = {"INTEGER": "INT", "HUGEINT": "LARGEINT", "TIMESTAMP": "DATETIME", "BIGINT": "BIGINT",
              "SMALLINT": "SMALLINT", "TINYINT": "TINYINT", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT",
              "DATE": "DATE", "BOOLEAN": "BOOLEAN"}  # fmt: skip
    if name in simple:
        return ColumnType(simple[name])
    return ColumnType("VARCHAR", length=65533)


def _mv_column(table: Table, item: exp.Expression, duck_type: str, is_key: bool, dup: bool) -> dict[str, Any]:
    """One column of the view: Doris names keys ``mv_<expr>`` and aggregates ``mva_<FUNC>__<expr>``."""
    agg = _agg_name(item)
    if agg is not None:
        if agg not in _AGGREGATIONS:
            raise DorisError(f"The materialized view does not support the aggregate function {agg.lower()}")
        args = [a for a in item.args.values() if isinstance(a, exp.Expression)] or [exp.Star()]
        arg = args[0].this if isinstance(args[0], exp.Distinct) else args[0]
        base = table.column(arg.name) if isinstance(arg, exp.Column) else None
        if agg == "COUNT":
            define = f"CASE WHEN {_plain_text(arg)} IS NULL THEN 0 ELSE 1 END"
            ctype, nullable = ColumnType("BIGINT"), False
        else:
            define = _plain_text(arg)
            if base is not None:
                ctype = _sum_type(base.type) if agg == "SUM" else base.type
                nullable = base.nullable
            else:
                ctype, nullable = from_duck(duck_type), True
        backticked = arg.sql(dialect=DIALECT, identify=True) if agg != "COUNT" else define
        return {"name": f"mva_{_AGGREGATIONS[agg]}__{define}", "type": ctype.to_dict(), "nullable": nullable,
                "is_key": False, "aggregation": _AGGREGATIONS[agg], "define_expr": backticked,
                "source": normalized(item)}  # fmt: skip
    base = table.column(item.name) if isinstance(item, exp.Column) else None
    if isinstance(item, exp.Column) and base is None:
        raise DorisError(f"Unknown column '{item.name}' in 'table list'", code=1054)
    ctype = base.type if base is not None else from_duck(duck_type)
    return {"name": f"mv_{_plain_text(item)}", "type": ctype.to_dict(),
            "nullable": base.nullable if base is not None else True, "is_key": is_key,
            "aggregation": "NONE" if dup and not is_key else None,
            "define_expr": item.sql(dialect=DIALECT, identify=True), "source": normalized(item)}  # fmt: skip


def _dup_keys(columns: list[dict[str, Any]]) -> None:
    """Keys of a view without aggregation: its leading columns, as Doris picks a short key (at most
    three, none after a VARCHAR, none from a floating point column on)."""
    for i, col in enumerate(columns):
        ctype = ColumnType.from_dict(col["type"])
        if i >= _SHORT_KEY_COLUMNS or ctype.is_float:
            break
        col["is_key"], col["aggregation"] = True, None
        if ctype.name in ("VARCHAR", "STRING"):
            break
    if not columns[0]["is_key"]:
        raise DorisError("The first column could not be float or double")


def build(table: Table, name: str, select: exp.Select, duck_types: Sequence[str], query: str) -> dict[str, Any]:
    """A new view of ``table`` from its SELECT (already checked to run); ``duck_types`` are the
    DuckDB types of its output columns. The caller gives it an id and a job."""
    if table.kind != "OLAP":
        raise DorisError(f"Table[{table.name}] is not a OLAP table")
    if name.lower() == table.name.lower() or any(r["name"].lower() == name.lower() for r in table.rollups):
        raise DorisError(f"Materialized view[{name}] already exists")
    grouped = select.args.get("group") is not None or any(_agg_name(p.unalias()) for p in select.expressions)
    if table.keys_type != "DUP_KEYS" and not grouped:
        raise DorisError("The materialized view of aggregation or unique table must has grouping columns")
    if any(isinstance(p, exp.Star) for p in select.expressions):
        raise DorisError("The materialized view does not support * in the select list")
    columns = [
        _mv_column(table, p.unalias(), t, is_key=grouped, dup=not grouped)
        for p, t in zip(select.expressions, duck_types, strict=True)
    ]
    seen: set[str] = set()
    for col in columns:
        if col["name"].lower() in seen:
            raise DorisError(f"Duplicate column name '{col['name']}'", code=1060)
        seen.add(col["name"].lower())
    if grouped:
        if not any(c["is_key"] for c in columns):
            raise DorisError("The materialized view must contain at least one key column")
    else:
        _dup_keys(columns)
    where = select.args.get("where")
    return {
        "name": name,
        "keys_type": "AGG_KEYS" if grouped else "DUP_KEYS",
        "columns": columns,
        "where": f"({where.this.sql(dialect=DIALECT, identify=True)})" if where is not None else "",
        "where_source": normalized(where.this) if where is not None else "",
        "query": query,
    }


# ---- which index answers a query


def _outside_aggregates(node: exp.Expression) -> list[exp.Column]:
    return [c for c in node.find_all(exp.Column) if c.find_ancestor(exp.AggFunc) is None]


def _covered(node: exp.Expression, keys: set[str], plain: set[str]) -> bool:
    """Whether every column of ``node`` outside aggregates is a view key, alone or inside an
    expression the view keys by."""
    for col in _outside_aggregates(node):
        if col.name.lower() in plain:
            continue
        parent: exp.Expression | None = col
        while parent is not None and normalized(parent) not in keys:
            parent = parent.parent if parent is not node else None
        if parent is None:
            return False
    return True


def _answers(r: dict[str, Any], select: exp.Select) -> bool:
    cols = r["columns"]
    keys = {c["source"] for c in cols if c["is_key"] or r["keys_type"] == "DUP_KEYS"}
    plain = {c["define_expr"].strip("`").lower() for c in cols if c["define_expr"].startswith("`")}
    plain = {p for p in plain if "`" not in p}
    where = select.args.get("where")
    conjuncts: list[exp.Expression] = []
    if where is not None:
        conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    if r["where"]:
        # the view holds only the rows its WHERE keeps: the query must filter the same way
        kept = [c for c in conjuncts if normalized(c) != r["where_source"]]
        if len(kept) == len(conjuncts):
            return False
        conjuncts = kept
    aggregates = [a for p in select.expressions for a in p.find_all(exp.AggFunc)]
    if r["keys_type"] == "AGG_KEYS":
        if not aggregates and select.args.get("group") is None:
            return False
        sources = {c["source"] for c in cols if not c["is_key"]}
        if any(normalized(a) not in sources for a in aggregates):
            return False
    else:
        for a in aggregates:
            if any(c.name.lower() not in plain for c in a.find_all(exp.Column)):
                return False
    parts: list[exp.Expression] = [*select.expressions, *conjuncts]
    for clause in ("group", "having", "order"):
        if select.args.get(clause) is not None:
            parts.append(select.args[clause])
    return all(_covered(p, keys, plain) for p in parts)


def choose_index(table: Table, select: exp.Select | None) -> str:
    """The index a query of ``table`` reads, as Doris's planner names it in EXPLAIN: the first view
    (fewest columns first) that can answer it, else the base index (named as the table)."""
    if select is None or not table.rollups or select.args.get("joins"):
        return table.name
    if any(isinstance(p, exp.Star) for p in select.expressions):
        return table.name
    for r in sorted(table.rollups, key=lambda r: len(r["columns"])):
        if _answers(r, select):
            return str(r["name"])
    return table.name
