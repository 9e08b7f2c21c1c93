"""Doris's aggregate functions: collect_*, group_concat, percentiles, regressions, retention."""

from __future__ import annotations

from sqlglot import exp

from dorisbk.engine.functions.catalog import (
    GROUP_CONCAT_SEPARATOR,
    Call,
    Lowered,
    as_text,
    case,
    cast,
    doris,
    fn,
    lit,
    simple,
)
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError


@doris("ndv", "approx_count_distinct", "multi_distinct_count")
def _ndv(call: Call) -> Lowered:
    call.arity(1)
    return exp.Count(this=exp.Distinct(expressions=[call.arg(0)])), Kind.INT


@doris("multi_distinct_sum")
def _multi_distinct_sum(call: Call) -> Lowered:
    call.arity(1)
    return exp.Sum(this=exp.Distinct(expressions=[call.arg(0)])), call.kinds[0]


def _level(call: Call) -> exp.Expression:
    """The percentile's level as a DOUBLE; Doris's error for a constant outside [0, 1]."""
    node = call.args[1]
    literal = node.this if isinstance(node, exp.Neg) else node
    if isinstance(literal, exp.Literal) and not literal.is_string:
        value = -float(literal.name) if isinstance(node, exp.Neg) else float(literal.name)
        if not 0 <= value <= 1:
            raise DorisError(f"[INVALID_ARGUMENT]{call.name} level must be in [0, 1], but it is {node.sql()}")
    return cast(call.number(1), "DOUBLE")


def _sorted_doubles(call: Call) -> exp.Expression:
    value = cast(call.number(0), "DOUBLE")
    kept = exp.Filter(
        this=fn("list", value),
        expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null()))),
    )
    return fn("list_sort", kept)


@doris("percentile", "percentile_cont")
def _percentile(call: Call) -> Lowered:
    """Interpolated over the values as DOUBLEs as Doris interpolates (a DECIMAL's answer keeps its
    fraction, 224.6 is not 224.60000000000002); NULL for a NULL level."""
    call.arity(2, 3)
    if isinstance(call.args[1], exp.Null):
        return cast(exp.null(), "DOUBLE"), Kind.DOUBLE
    return fn("dbk_percentile", _sorted_doubles(call), _level(call)), Kind.DOUBLE


@doris("percentile_reservoir")
def _percentile_reservoir(call: Call) -> Lowered:
    """percentile over Doris's reservoir sample, which holds every value at the sizes answered here; the
    level must be a constant."""
    call.arity(2)
    level = call.args[1]
    if not isinstance(level.this if isinstance(level, exp.Neg) else level, exp.Literal):
        raise DorisError(f"{call.name} requires second parameter must be a constant")
    return _percentile(call)


@doris("percentile_approx")
def _percentile_approx(call: Call) -> Lowered:
    """Doris's t-digest answer, each value its own centroid (exact for the values a digest keeps apart;
    the compression, a third argument, changes nothing here); NULL for a NULL level."""
    call.arity(2, 3)
    if isinstance(call.args[1], exp.Null):
        return cast(exp.null(), "DOUBLE"), Kind.DOUBLE
    return fn("dbk_digest_quantile", _sorted_doubles(call), _level(call)), Kind.DOUBLE


@doris("percentile_array", "percentile_approx_array")
def _percentile_array(call: Call) -> Lowered:
    """percentile at each level of an array, interpolated as percentile is; [] over no values (the
    compression of percentile_approx_array changes nothing here)."""
    call.arity(2, 3)
    level = exp.Lambda(
        this=fn("dbk_percentile", _sorted_doubles(call), cast(exp.column("__p"), "DOUBLE")),
        expressions=[exp.to_identifier("__p")],
    )
    empty = exp.EQ(this=exp.Count(this=call.arg(0)), expression=lit(0))
    return case((empty, exp.Array(expressions=[])), default=fn("list_transform", call.arg(1), level)), Kind.ARRAY


@doris("median")
def _median(call: Call) -> Lowered:
    """percentile(x, 0.5)."""
    call.arity(1)
    return fn("dbk_percentile", _sorted_doubles(call), lit(0.5)), Kind.DOUBLE


def _filtered_list(call: Call, distinct: bool) -> exp.Expression:
    """The group's values that are not NULL (``[]`` when there are none, never NULL); a second argument is
    the most to keep (Doris's max_size)."""
    value = call.arg(0)
    inner: exp.Expression = exp.Distinct(expressions=[value]) if distinct else value
    listed = fn("list", inner)
    kept = exp.Filter(
        this=listed, expression=exp.Where(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())))
    )
    kept = fn("coalesce", kept, exp.Array(expressions=[]))
    return fn("list_slice", kept, lit(1), call.integer(1)) if len(call.args) == 2 else kept


@doris("count_by_enum")
def _count_by_enum(call: Call) -> Lowered:
    """A JSON array with one object per argument: its values' counts (``cbe``), and how many rows were not
    NULL, NULL and in all; ``[]`` over no rows."""
    if not call.args:
        raise DorisError("Can not found function 'count_by_enum' which has 0 arity.")
    objects = [fn("dbk_enum_counts", fn("list", call.text(i))) for i in range(len(call.args))]
    listed = objects[0]
    for node in objects[1:]:
        listed = exp.DPipe(this=exp.DPipe(this=listed, expression=lit(","), safe=False), expression=node, safe=False)
    array = exp.DPipe(this=exp.DPipe(this=lit("["), expression=listed, safe=False), expression=lit("]"), safe=False)
    empty = exp.EQ(this=exp.Count(this=exp.Star()), expression=lit(0))
    return case((empty, lit("[]")), default=array), Kind.STRING


@doris("collect_list", "group_array", "array_agg")
def _collect_list(call: Call) -> Lowered:
    call.arity(1, 2)
    return _filtered_list(call, distinct=False), Kind.ARRAY


@doris("collect_set", "group_uniq_array")
def _collect_set(call: Call) -> Lowered:
    call.arity(1, 2)
    return _filtered_list(call, distinct=True), Kind.ARRAY


@doris("retention")
def _retention(call: Call) -> Lowered:
    """One flag per condition: the first is whether any row of the group met it, each later one whether
    some row met it and some row met the first."""
    if not 1 <= len(call.args) <= 32:
        raise DorisError(f"Can not found function 'retention' which has {len(call.args)} arity.")
    met = [fn("coalesce", fn("bool_or", cast(call.arg(i), "BOOLEAN")), exp.false()) for i in range(len(call.args))]
    flags = [met[0]] + [exp.and_(met[0].copy(), later) for later in met[1:]]
    return exp.Array(expressions=flags), Kind.ARRAY


def _order_key(value: exp.Expression, kind: Kind) -> exp.Expression:
    """What ``value`` is ordered by in MAX, MIN, MAX_BY and MIN_BY: an array as Doris orders arrays, element
    by element with a NULL element before any value (DuckDB puts it after); anything else itself."""
    if kind is not Kind.ARRAY:
        return value
    element = exp.column("__e")
    pair = fn(
        "struct_pack",
        exp.PropertyEQ(
            this=exp.to_identifier("present"), expression=exp.Not(this=exp.Is(this=element, expression=exp.null()))
        ),
        exp.PropertyEQ(this=exp.to_identifier("element"), expression=element.copy()),
    )
    return fn("list_transform", value, exp.Lambda(this=pair, expressions=[exp.to_identifier("__e")]))


@doris("max_by")
def _max_by(call: Call) -> Lowered:
    call.arity(2)
    return fn("arg_max", call.arg(0), _order_key(call.arg(1), call.kinds[1])), call.kinds[0]


@doris("min_by")
def _min_by(call: Call) -> Lowered:
    call.arity(2)
    return fn("arg_min", call.arg(0), _order_key(call.arg(1), call.kinds[1])), call.kinds[0]


@doris("any", "any_value")
def _any(call: Call) -> Lowered:
    call.arity(1)
    return fn("any_value", call.arg(0)), call.kinds[0]


for _names, _duck_name in (
    (("stddev", "std", "stddev_pop"), "stddev_pop"),
    (("stddev_samp",), "stddev_samp"),
    (("variance", "var_pop", "variance_pop"), "var_pop"),
    (("var_samp", "variance_samp"), "var_samp"),
    (("covar", "covar_pop"), "covar_pop"),
    (("covar_samp",), "covar_samp"),
    (("group_bit_and",), "bit_and"),
    (("group_bit_or",), "bit_or"),
    (("group_bit_xor",), "bit_xor"),
    (("skew", "skewness", "skew_pop"), "skewness"),
    (("kurt", "kurtosis", "kurt_pop"), "kurtosis_pop"),
):
    doris(*_names)(simple(_duck_name, Kind.DOUBLE if "bit" not in _duck_name else Kind.INT))


def _flags(call: Call) -> exp.Expression:
    """bool_and / bool_or / bool_xor's argument as a BOOLEAN: a number is true when not 0."""
    call.arity(1)
    if call.kinds[0] in (Kind.STRING, Kind.DATE, Kind.DATETIME, Kind.TIME, Kind.JSON):
        raise DorisError(f"{call.name} requires a boolean or numeric argument")
    return cast(call.arg(0), "BOOLEAN")


@doris("bool_and", "booland_agg")
def _bool_and(call: Call) -> Lowered:
    return fn("bool_and", _flags(call)), Kind.BOOLEAN


@doris("bool_or", "boolor_agg")
def _bool_or(call: Call) -> Lowered:
    return fn("bool_or", _flags(call)), Kind.BOOLEAN


@doris("bool_xor", "boolxor_agg")
def _bool_xor(call: Call) -> Lowered:
    """True when exactly one of the group's values is true; NULL over no values."""
    flag = _flags(call)
    seen = exp.GT(this=exp.Count(this=flag), expression=lit(0))
    return case((seen, exp.EQ(this=fn("count_if", flag.copy()), expression=lit(1)))), Kind.BOOLEAN


@doris("sem")
def _sem(call: Call) -> Lowered:
    """The standard error of the mean: sqrt(var_samp / n) (DuckDB's own sem divides by n, not n - 1), 0 for
    one value, NULL for none; over the distinct values for sem(DISTINCT x)."""
    call.arity(1)
    node = call.arg(0)
    distinct = isinstance(node, exp.Distinct)
    value = cast(node.expressions[0] if distinct else node, "DOUBLE")

    def over(v: exp.Expression) -> exp.Expression:
        return exp.Distinct(expressions=[v]) if distinct else v

    spread = fn("coalesce", fn("var_samp", over(value)), lit(0.0))
    n = exp.Count(this=over(value.copy()))
    return case((exp.GT(this=n, expression=lit(0)), fn("sqrt", exp.Div(this=spread, expression=n.copy())))), Kind.DOUBLE


@doris("sum0")
def _sum0(call: Call) -> Lowered:
    call.arity(1)
    return fn("coalesce", exp.Sum(this=call.arg(0)), lit(0)), call.kinds[0]


@doris("avg_weighted")
def _avg_weighted(call: Call) -> Lowered:
    call.arity(2)
    value, weight = cast(call.number(0), "DOUBLE"), cast(call.number(1), "DOUBLE")
    return exp.Div(
        this=exp.Sum(this=exp.Mul(this=value, expression=weight)), expression=exp.Sum(this=weight.copy())
    ), Kind.DOUBLE


@doris("map_agg")
def _map_agg(call: Call) -> Lowered:
    """A MAP of the group's keys (NULL keys left out) to their values; a key's first value counts."""
    call.arity(2)
    key = call.arg(0)
    entry = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("k"), expression=key),
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=call.arg(1)),
        ]
    )
    kept = exp.Filter(
        this=fn("list", entry), expression=exp.Where(this=exp.Not(this=exp.Is(this=key.copy(), expression=exp.null())))
    )
    return fn("dbk_map_agg", kept), Kind.MAP


@doris("group_array_union")
def _group_array_union(call: Call) -> Lowered:
    """The distinct elements of the group's arrays (NULL arrays left out)."""
    call.arity(1)
    return fn("dbk_array_distinct", fn("flatten", _filtered_list(call, distinct=False))), Kind.ARRAY


@doris("group_array_intersect")
def _group_array_intersect(call: Call) -> Lowered:
    """The elements every one of the group's arrays holds (NULL arrays left out)."""
    call.arity(1)
    return fn("dbk_intersect_all", _filtered_list(call, distinct=False)), Kind.ARRAY


@doris("multi_distinct_group_concat")
def _multi_distinct_group_concat(call: Call) -> Lowered:
    """group_concat(DISTINCT x[, separator])."""
    call.arity(1, 2)
    separator = call.text(1) if len(call.args) == 2 else lit(GROUP_CONCAT_SEPARATOR)
    return fn("string_agg", exp.Distinct(expressions=[call.text(0)]), separator), Kind.STRING


def _weighted_entries(value: exp.Expression, weight: exp.Expression) -> exp.Expression:
    entry = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier("v"), expression=value),
            exp.PropertyEQ(this=exp.to_identifier("w"), expression=weight),
        ]
    )
    return fn("list", entry)


@doris("topn_array")
def _topn_array(call: Call) -> Lowered:
    """The n most frequent values, the most frequent first (the capacity of Doris's sketch, a third
    argument, does not change an exact answer)."""
    call.arity(2, 3)
    return fn("dbk_top_weighted", _weighted_entries(call.arg(0), lit(1)), call.integer(1)), Kind.ARRAY


@doris("topn_weighted")
def _topn_weighted(call: Call) -> Lowered:
    """The n values of the greatest summed weight, the heaviest first."""
    call.arity(3, 4)
    return fn("dbk_top_weighted", _weighted_entries(call.arg(0), call.arg(1)), call.integer(2)), Kind.ARRAY


@doris("histogram", "hist")
def _histogram(call: Call) -> Lowered:
    """Doris's equi-height histogram as JSON: the group's distinct values in order with their counts,
    bucketed by dbk_histogram (128 buckets by default)."""
    call.arity(1, 2)
    value = call.arg(0)
    distinct = fn("list_sort", fn("list_distinct", fn("list", value)))
    y = exp.column("__h")
    matching = exp.Lambda(this=exp.EQ(this=y, expression=exp.column("__x")), expressions=[exp.to_identifier("__h")])
    counts = fn(
        "list_transform",
        distinct.copy(),
        exp.Lambda(
            this=fn("len", fn("list_filter", fn("list", value.copy()), matching)),
            expressions=[exp.to_identifier("__x")],
        ),
    )
    texts = fn(
        "list_transform",
        distinct,
        exp.Lambda(this=as_text(exp.column("__x"), call.kinds[0]), expressions=[exp.to_identifier("__x")]),
    )
    buckets = cast(call.integer(1), "INTEGER") if len(call.args) == 2 else lit(128)
    return fn("dbk_histogram", texts, cast(counts, "BIGINT[]"), buckets), Kind.STRING
