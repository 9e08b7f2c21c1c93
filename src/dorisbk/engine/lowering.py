"""Doris's semantics written onto a checked query tree, before DuckDB SQL is generated from it.

Children before parents: each function call is replaced by its catalog entry's DuckDB form
(``functions/``) once its arguments are, so every entry sees its arguments' kinds. Operators get
Doris's implicit casts: a string in arithmetic is a number, a string or an integer compared with
a DATE is a date (``d >= 20240301``), a string plus an INTERVAL is a DATETIME, and a CAST that
cannot convert its value gives NULL instead of failing the query.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable

import duckdb
from sqlglot import exp

from dorisbk.engine import functions, macros
from dorisbk.engine.functions import strings
from dorisbk.engine.functions.catalog import as_date, as_datetime, try_cast
from dorisbk.engine.functions.dates import scaled_text
from dorisbk.engine.functions.jsonb import as_json
from dorisbk.engine.types import Kind, Typer, of_datatype

_COMPARISONS = (exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.IntDiv)


def lower(tree: exp.Expression, column_kind: Callable[[exp.Column], Kind], zone: str) -> exp.Expression:
    """``tree`` with Doris's functions and casts in DuckDB's terms (nodes replaced in place; the new root)."""
    typer = Typer(column_kind)
    for node in reversed(list(tree.walk(bfs=False, prune=lambda n: isinstance(n, exp.Hint)))):
        new = _lower_node(node, typer, zone)
        if new is None or new is node:
            continue
        if node is tree:
            tree = new
        else:
            node.replace(new)
    return tree


def _lower_node(node: exp.Expression, typer: Typer, zone: str) -> exp.Expression | None:
    if isinstance(node, exp.Anonymous) and not isinstance(node.parent, exp.Table):
        return _call(node.name.lower(), list(node.expressions), typer, zone)
    if isinstance(node, exp.Window):
        return _spread_window(node, typer)
    if isinstance(node, (exp.Max, exp.Min)) and typer.kind(node.this) is Kind.ARRAY:
        # Doris orders arrays its own way: MAX(a) is MAX_BY(a, a), whose entry orders them so
        return _call("max_by" if isinstance(node, exp.Max) else "min_by", [node.this, node.this.copy()], typer, zone)
    if isinstance(node, exp.Substring):
        args = [a for a in (node.this, node.args.get("start"), node.args.get("length")) if a is not None]
        return _call("substring", args, typer, zone)
    if isinstance(node, exp.Like) and not isinstance(node.parent, exp.Escape):
        return typer.note(strings.like(node, None), Kind.BOOLEAN)
    if isinstance(node, exp.Escape) and isinstance(node.this, exp.Like):
        return typer.note(strings.like(node.this, node.expression), Kind.BOOLEAN)
    if isinstance(node, exp.Trim):
        name = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(node.text("position").upper(), "trim")
        return _call(name, [a for a in (node.this, node.args.get("expression")) if a is not None], typer, zone)
    if isinstance(node, exp.Chr):  # CHAR(n, ... [USING charset]): the charset's name comes last
        charset = node.args.get("charset")
        return _call("char", [*node.expressions, exp.Literal.string(charset.name if charset else "utf8")], typer, zone)
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Slice):
        part = node.expressions[0]  # arr[offset:length] is array_slice, the length (not an end) after the colon
        args = [a for a in (node.this, part.this, part.expression) if a is not None]
        return _call("array_slice", args, typer, zone)
    if isinstance(node, exp.Struct) and all(isinstance(e, exp.PropertyEQ) for e in node.expressions):
        return _map_literal(node, typer)
    if isinstance(node, (exp.Cast, exp.TryCast)) and not isinstance(node.parent, exp.Table):
        return _cast(node, typer)
    if isinstance(node, (exp.Add, exp.Sub)) and (
        isinstance(node.right, exp.Interval) or isinstance(node.left, exp.Interval)
    ):
        return _interval_arithmetic(node, typer, zone)
    if isinstance(node, _ARITHMETIC):
        return _arithmetic(node, typer)
    if isinstance(node, _COMPARISONS):
        _compare(node, node.left, node.right, typer)
    elif isinstance(node, exp.Between):
        for bound in ("low", "high"):
            _compare(node, node.this, node.args[bound], typer)
    elif isinstance(node, exp.In):
        for item in node.expressions:
            _compare(node, node.this, item, typer)
    return None


def _call(name: str, args: list[exp.Expression], typer: Typer, zone: str) -> exp.Expression | None:
    lowering = functions.FUNCTIONS.get(name)
    if lowering is None:
        return None
    args = [_typed_literal(a, typer) for a in args]
    kinds = [typer.kind(a) for a in args]
    new, kind = lowering(functions.Call(name, args, kinds, zone))
    grouped = [i for i, a in enumerate(args) if any(_aggregate(n) or isinstance(n, exp.Window) for n in a.walk())]
    if grouped and any(isinstance(n, exp.Anonymous) and n.name.lower() in _macros_with_try() for n in new.walk()):
        new = _aggregates_outside_try(lowering, name, args, kinds, zone, grouped)
    return typer.note(new, kind)


@functools.cache
def _macros_with_try() -> frozenset[str]:
    """The macros whose body, or that of a macro they call, has a TRY."""
    bodies = {signature.split("(", 1)[0]: body for signature, body in macros.MACROS}
    return frozenset(
        name for name in bodies if any("TRY(" in bodies[m].upper() for m in macros.needed([name]) if m in bodies)
    )


def _aggregates_outside_try(
    lowering: functions.Lowering,
    name: str,
    args: list[exp.Expression],
    kinds: list[Kind],
    zone: str,
    grouped: list[int],
) -> exp.Expression:
    """DuckDB allows no aggregate inside TRY, which some macros use: a call such as
    get_json_string(count_by_enum(x), p) takes each aggregate argument through a lambda instead
    (``list_extract(list_transform([agg], lambda a: f(a)), 1)``), so the aggregate stands outside."""
    names = {i: f"__agg{i}" for i in grouped}
    inner_args = [exp.column(names[i]) if i in names else a for i, a in enumerate(args)]
    new, _kind = lowering(functions.Call(name, inner_args, kinds, zone))
    for i in reversed(grouped):
        applied = exp.Lambda(this=new, expressions=[exp.to_identifier(names[i])])
        listed = exp.Anonymous(this="list_transform", expressions=[exp.Array(expressions=[args[i].copy()]), applied])
        new = exp.Anonymous(this="list_extract", expressions=[listed, exp.Literal.number(1)])
    return new


@functools.cache
def _duckdb_aggregates() -> frozenset[str]:
    """The names of DuckDB's aggregate functions (list, var_samp, count_if...)."""
    with duckdb.connect() as conn:
        rows = conn.execute("SELECT function_name FROM duckdb_functions() WHERE function_type = 'aggregate'")
        return frozenset(name.lower() for (name,) in rows.fetchall())


def _aggregate(node: exp.Expression) -> bool:
    if isinstance(node, exp.Filter):
        return _aggregate(node.this)
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in _duckdb_aggregates()
    return isinstance(node, exp.AggFunc)


def _spread_window(window: exp.Window, typer: Typer) -> exp.Expression | None:
    """``f(x) OVER (...)`` where a Doris aggregate was lowered to an expression over DuckDB aggregates
    (sem is sqrt(var_samp / count)): the window goes on each of those aggregates instead."""
    body = window.this
    if _aggregate(body):
        return None
    units = [n for n in body.find_all(exp.Filter, exp.AggFunc, exp.Anonymous) if _aggregate(n)]
    units = [n for n in units if not (isinstance(n.parent, exp.Filter) and n.parent.this is n)]
    if not units:
        return None
    kind = typer.kind(body)
    for unit in units:
        spread = window.copy()
        spread.set("this", unit.copy())
        unit.replace(spread)
    return typer.note(body.copy(), kind)


def _map_literal(node: exp.Struct, typer: Typer) -> exp.Expression:
    """Doris's ``{'k': v, ...}`` is a MAP (DuckDB would read a STRUCT): keys and values as two lists."""
    keys = [e.this if isinstance(e.this, exp.Literal) else exp.Literal.string(e.this.name) for e in node.expressions]
    values = [e.expression for e in node.expressions]
    new = exp.Anonymous(this="MAP", expressions=[exp.Array(expressions=keys), exp.Array(expressions=values)])
    return typer.note(new, Kind.MAP)


def _typed_literal(node: exp.Expression, typer: Typer) -> exp.Expression:
    """A string literal that spells a date (``'2024-03-01'``) or a datetime, as the typed literal Doris's
    planner folds it to: ``date_add('2020-12-12', INTERVAL 1 QUARTER)`` is a DATE, as in Doris."""
    if not (isinstance(node, exp.Literal) and node.is_string) or len(node.name) not in (10, 19):
        return node
    text = node.name
    try:
        if len(text) == 10:
            dt.datetime.strptime(text, "%Y-%m-%d")  # not fromisoformat, which reads '2009-W53-7' too
            return typer.note(exp.cast(node.copy(), "DATE"), Kind.DATE)
        dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return node
    return typer.note(exp.cast(node.copy(), "TIMESTAMP"), Kind.DATETIME)


def _cast(node: exp.Cast, typer: Typer) -> exp.Expression:
    """Doris's non-strict CAST: NULL for what does not convert; strings and integers read as dates."""
    target = of_datatype(node.to)
    source = typer.kind(node.this)
    value = node.this.copy()
    if target.temporal and isinstance(value, exp.Literal) and value.is_string and _is_date_text(value.name):
        return typer.note(node, target)  # DATE '2024-03-01' stays a literal the partition pruner reads
    if target == Kind.DATE and source not in (Kind.DATE, Kind.DATETIME):
        new = as_date(value, source)
    elif target == Kind.DATETIME and source not in (Kind.DATE, Kind.DATETIME):
        new = exp.Cast(this=as_datetime(value, source), to=node.to.copy())
    elif target == Kind.JSON:
        new = as_json(value)
    elif target == Kind.STRING and isinstance(value, exp.Cast) and of_datatype(value.to) == Kind.DATETIME:
        # a DATETIME(p) as text has p digits after the second, zeros too
        scale = int(value.to.expressions[0].name) if value.to.expressions else 0
        new = scaled_text(value, "%Y-%m-%d %H:%M:%S", scale)
    else:
        new = exp.TryCast(this=value, to=_doris_type(node.to.copy()))
    return typer.note(new, target)


def _doris_type(datatype: exp.DataType) -> exp.DataType:
    """A CAST's type as Doris reads it: a DECIMAL without precision is DECIMAL(38, 9), inside an ARRAY too."""
    for node in datatype.find_all(exp.DataType):
        if node.is_type(exp.DataType.Type.DECIMAL) and not node.expressions:
            node.set("expressions", [exp.DataTypeParam(this=exp.Literal.number(n)) for n in (38, 9)])
    return datatype


def _interval_arithmetic(node: exp.Add | exp.Sub, typer: Typer, zone: str) -> exp.Expression:
    """``d + INTERVAL n unit`` as DATE_ADD reads it (``INTERVAL n unit + d`` too)."""
    base, span = (node.left, node.right) if isinstance(node.right, exp.Interval) else (node.right, node.left)
    name = "date_sub" if isinstance(node, exp.Sub) else "date_add"
    return _call(name, [base, span], typer, zone) or node


def _arithmetic(node: exp.Expression, typer: Typer) -> exp.Expression | None:
    """A string in arithmetic counts as the number it spells (NULL when it spells none), as Doris casts it; so
    does a lambda's parameter beside one (``x -> x + '1'`` over an array of strings)."""
    changed = False
    for side in ("this", "expression"):
        operand = node.args.get(side)
        if operand is not None and typer.kind(operand) == Kind.STRING:
            node.set(side, try_cast(operand.copy(), "DOUBLE"))
            changed = True
    for side in ("this", "expression") if changed else ():
        operand = node.args.get(side)
        if isinstance(operand, exp.Identifier) and isinstance(operand.find_ancestor(exp.Lambda), exp.Lambda):
            node.set(side, try_cast(operand.copy(), "DOUBLE"))
    return typer.note(node, Kind.DOUBLE) if changed else None


def _date_literal(node: exp.Literal, kind: Kind) -> exp.Expression | None:
    """An integer literal compared with a DATE or DATETIME, as the date its digits spell (20240301)."""
    digits = node.this
    if not digits.isdigit() or len(digits) not in (8, 14):
        return None
    text = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    if len(digits) == 14:
        text += f" {digits[8:10]}:{digits[10:12]}:{digits[12:14]}"
    return exp.Literal.string(text)


def _compare(parent: exp.Expression, left: exp.Expression, right: exp.Expression, typer: Typer) -> None:
    """Coerce one side of a comparison to the other's family, as Doris's planner does."""
    for this, other in ((left, right), (right, left)):
        mine, theirs = typer.kind(this), typer.kind(other)
        if theirs.temporal and mine == Kind.INT and isinstance(this, exp.Literal):
            literal = _date_literal(this, theirs)
            if literal is not None:
                this.replace(literal)
        elif theirs.temporal and mine == Kind.STRING and not isinstance(this, exp.Literal):
            this.replace(as_datetime(this.copy(), mine))
        elif theirs.numeric and theirs != Kind.BOOLEAN and mine == Kind.STRING:
            if isinstance(this, exp.Literal) and _is_number(this.this):
                continue  # DuckDB casts a numeric literal to the column's type; partition pruning reads it
            this.replace(try_cast(this.copy(), "DOUBLE"))
            return


def _is_date_text(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
