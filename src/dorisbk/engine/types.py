"""Doris's types as the engine reasons about them: one kind per family of Doris types, read off the
tree bottom-up so that a function call can coerce its arguments and choose its result as Doris does
(``days_add`` on a DATE is a DATE, on a string a DATETIME; ``md5(1)`` hashes the text ``'1'``)."""

from __future__ import annotations

import enum
from collections.abc import Callable

from sqlglot import exp


class Kind(enum.Enum):
    """A family of Doris types; UNKNOWN where the tree does not say (a subquery's column)."""

    NULL = "NULL"
    BOOLEAN = "BOOLEAN"
    INT = "INT"
    LARGEINT = "LARGEINT"
    DECIMAL = "DECIMAL"
    DOUBLE = "DOUBLE"
    STRING = "STRING"
    DATE = "DATE"
    DATETIME = "DATETIME"
    TIME = "TIME"
    ARRAY = "ARRAY"
    MAP = "MAP"
    STRUCT = "STRUCT"
    JSON = "JSON"
    BITMAP = "BITMAP"
    HLL = "HLL"
    UNKNOWN = "UNKNOWN"

    @property
    def numeric(self) -> bool:
        return self in (Kind.INT, Kind.LARGEINT, Kind.DECIMAL, Kind.DOUBLE, Kind.BOOLEAN)

    @property
    def temporal(self) -> bool:
        return self in (Kind.DATE, Kind.DATETIME)


_NAMED: dict[str, Kind] = {
    "BOOLEAN": Kind.BOOLEAN, "BOOL": Kind.BOOLEAN,
    "TINYINT": Kind.INT, "SMALLINT": Kind.INT, "INT": Kind.INT, "INTEGER": Kind.INT, "BIGINT": Kind.INT,
    "LARGEINT": Kind.LARGEINT, "HUGEINT": Kind.LARGEINT, "INT128": Kind.LARGEINT,
    "FLOAT": Kind.DOUBLE, "DOUBLE": Kind.DOUBLE, "REAL": Kind.DOUBLE,
    "DECIMAL": Kind.DECIMAL, "DECIMALV2": Kind.DECIMAL, "DECIMALV3": Kind.DECIMAL, "NUMERIC": Kind.DECIMAL,
    "CHAR": Kind.STRING, "VARCHAR": Kind.STRING, "STRING": Kind.STRING, "TEXT": Kind.STRING,
    "NCHAR": Kind.STRING, "NVARCHAR": Kind.STRING,
    "DATE": Kind.DATE, "DATEV2": Kind.DATE,
    "DATETIME": Kind.DATETIME, "DATETIMEV2": Kind.DATETIME, "TIMESTAMP": Kind.DATETIME,
    "TIME": Kind.TIME, "JSON": Kind.JSON, "JSONB": Kind.JSON,
    "ARRAY": Kind.ARRAY, "MAP": Kind.MAP, "STRUCT": Kind.STRUCT, "BITMAP": Kind.BITMAP, "HLL": Kind.HLL,
}  # fmt: skip


def named(type_name: str) -> Kind:
    """The kind of a Doris (or DuckDB) type name: ``VARCHAR(10)`` -> STRING."""
    return _NAMED.get(type_name.split("(", 1)[0].strip().upper(), Kind.UNKNOWN)


def of_datatype(datatype: exp.DataType) -> Kind:
    if datatype.is_type(*exp.DataType.TEXT_TYPES):
        return Kind.STRING
    if datatype.is_type(exp.DataType.Type.INT128):
        return Kind.LARGEINT
    if datatype.is_type(*exp.DataType.INTEGER_TYPES):
        return Kind.INT
    if datatype.is_type(exp.DataType.Type.DECIMAL):
        return Kind.DECIMAL
    if datatype.is_type(*exp.DataType.REAL_TYPES):
        return Kind.DOUBLE
    if datatype.is_type(exp.DataType.Type.DATE, exp.DataType.Type.DATE32):
        return Kind.DATE
    if datatype.is_type(*exp.DataType.TEMPORAL_TYPES):
        return Kind.DATETIME
    if datatype.is_type(exp.DataType.Type.BOOLEAN):
        return Kind.BOOLEAN
    if datatype.is_type(exp.DataType.Type.ARRAY):
        return Kind.ARRAY
    if datatype.is_type(exp.DataType.Type.JSON, exp.DataType.Type.JSONB):
        return Kind.JSON
    return Kind.UNKNOWN


def of_literal(node: exp.Literal) -> Kind:
    if node.is_string:
        return Kind.STRING
    text = node.this.lower()
    if "e" in text:
        return Kind.DOUBLE
    return Kind.DECIMAL if "." in text else Kind.INT


_BOOLEAN_NODES = (
    exp.EQ, exp.NEQ, exp.NullSafeEQ, exp.NullSafeNEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Xor,
    exp.Not, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike, exp.RegexpLike, exp.Exists, exp.Boolean,
)  # fmt: skip
_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Mod)


def numeric_result(left: Kind, right: Kind) -> Kind:
    """The kind of ``left <op> right`` for + - * %: strings count as DOUBLE, as Doris casts them."""
    kinds = {left, right}
    if Kind.DOUBLE in kinds or Kind.STRING in kinds:
        return Kind.DOUBLE
    if Kind.DECIMAL in kinds:
        return Kind.DECIMAL
    if Kind.LARGEINT in kinds:
        return Kind.LARGEINT
    if kinds <= {Kind.INT, Kind.BOOLEAN, Kind.NULL}:
        return Kind.INT
    return Kind.UNKNOWN


class Typer:
    """Kinds of the nodes of one tree, each worked out once (the lowering asks for a node's kind after its
    children's, so a long chain of operators costs one step per node); a node the lowering writes
    records its kind with ``note``."""

    def __init__(self, column_kind: Callable[[exp.Column], Kind]) -> None:
        self._column_kind = column_kind
        # by id(node), holding the node too: a node that stays referenced keeps its id unique
        self._known: dict[int, tuple[exp.Expression, Kind]] = {}

    def note(self, node: exp.Expression, kind: Kind) -> exp.Expression:
        self._known[id(node)] = (node, kind)
        return node

    def kind(self, node: exp.Expression | None) -> Kind:
        if node is None:
            return Kind.UNKNOWN
        known = self._known.get(id(node))
        if known is not None and known[0] is node:
            return known[1]
        kind = self._work_out(node)
        self._known[id(node)] = (node, kind)
        return kind

    def _work_out(self, node: exp.Expression) -> Kind:
        if isinstance(node, exp.Literal):
            return of_literal(node)
        if isinstance(node, exp.Null):
            return Kind.NULL
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return of_datatype(node.to)
        if isinstance(node, exp.Column):
            kind = self._column_kind(node)
            return kind if kind != Kind.UNKNOWN else self._derived(node)
        if isinstance(node, (exp.Paren, exp.Alias)):
            return self.kind(node.this)
        if isinstance(node, exp.Neg):
            return self.kind(node.this)
        if isinstance(node, _BOOLEAN_NODES):
            return Kind.BOOLEAN
        if isinstance(node, _ARITHMETIC):
            return numeric_result(self.kind(node.left), self.kind(node.right))
        if isinstance(node, exp.Div):
            return Kind.DOUBLE
        if isinstance(node, (exp.Case, exp.If, exp.Coalesce)):
            return self._first_known(node)
        if isinstance(node, (exp.Array,)):
            return Kind.ARRAY
        if isinstance(node, (exp.Count,)):
            return Kind.INT
        if isinstance(node, (exp.Max, exp.Min)):
            return self.kind(node.this)
        if isinstance(node, (exp.Sum,)):
            inner = self.kind(node.this)
            return inner if inner in (Kind.DOUBLE, Kind.DECIMAL, Kind.LARGEINT) else Kind.INT
        if isinstance(node, (exp.Avg,)):
            return Kind.DOUBLE
        if isinstance(node, (exp.Concat, exp.DPipe, exp.GroupConcat, exp.Upper, exp.Lower, exp.Substring, exp.Trim)):
            return Kind.STRING
        if isinstance(node, (exp.CurrentDate,)):
            return Kind.DATE
        if isinstance(node, (exp.CurrentTimestamp,)):
            return Kind.DATETIME
        if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Select) and len(node.this.expressions) == 1:
            return self.kind(node.this.expressions[0])
        return Kind.UNKNOWN

    def _derived(self, column: exp.Column) -> Kind:
        """The kind of a column of a subquery or CTE in the FROM: that of the item of its select list."""
        select = column.find_ancestor(exp.Select)
        if select is None:
            return Kind.UNKNOWN
        kinds = set()
        for alias, query in _sources(select):
            if column.table and column.table.lower() != alias:
                continue
            while isinstance(query, exp.SetOperation):
                query = query.this
            if not isinstance(query, exp.Select):
                continue
            for item in query.expressions:
                if item.alias_or_name.lower() == column.name.lower():
                    kinds.add(self.kind(item))
        return kinds.pop() if len(kinds) == 1 else Kind.UNKNOWN

    def _first_known(self, node: exp.Expression) -> Kind:
        branches: list[exp.Expression] = []
        if isinstance(node, exp.Case):
            branches = [i.args["true"] for i in node.args.get("ifs") or []]
            branches.append(node.args.get("default"))
        elif isinstance(node, exp.If):
            branches = [node.args.get("true"), node.args.get("false")]
        else:
            branches = [node.this, *node.expressions]
        for branch in branches:
            kind = self.kind(branch)
            if kind not in (Kind.NULL, Kind.UNKNOWN):
                return kind
        return Kind.UNKNOWN


def _sources(select: exp.Select) -> list[tuple[str, exp.Expression]]:
    """The subqueries and CTEs a SELECT reads from, by the (lower-case) name its columns use for them."""
    refs = []
    if select.args.get("from_") is not None:
        refs.append(select.args["from_"].this)
    refs += [join.this for join in select.args.get("joins") or []]
    found = []
    for ref in refs:
        if isinstance(ref, exp.Subquery):
            found.append((ref.alias.lower(), ref.this))
        elif isinstance(ref, exp.Table) and not ref.db:
            cte = _cte(select, ref.name.lower())
            if cte is not None:
                found.append(((ref.alias or ref.name).lower(), cte.this))
    return found


def _cte(node: exp.Expression, name: str) -> exp.CTE | None:
    """The CTE ``name`` in scope at ``node``: the nearest WITH above it that defines it."""
    scope: exp.Expression | None = node
    while scope is not None:
        with_ = scope.args.get("with_") if isinstance(scope, exp.Query) else None
        for cte in with_.expressions if with_ else []:
            if cte.alias.lower() == name:
                return cte
        scope = scope.parent
    return None
