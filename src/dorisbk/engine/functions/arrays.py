"""Doris's array functions: 1-based positions, lambdas first, NULL elements kept as Doris keeps them."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from dorisbk.engine.functions.catalog import (
    Call,
    Lowered,
    Lowering,
    as_text,
    case,
    cast,
    doris,
    fn,
    interval,
    lambda_of,
    lit,
    simple,
    unit_of,
)
from dorisbk.engine.functions.dates import diff
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError


@doris("element_at")
def _element_at(call: Call) -> Lowered:
    call.arity(2)
    if call.kinds[0] == Kind.MAP:
        return fn("dbk_map_get", call.arg(0), call.arg(1)), Kind.UNKNOWN
    return fn("list_extract", call.arg(0), cast(call.integer(1), "BIGINT")), Kind.UNKNOWN


for _names, _duck_name, _kind, _counts in (
    (("array_contains",), "dbk_list_has", Kind.BOOLEAN, (2,)),
    (("array_size", "size", "cardinality"), "len", Kind.INT, (1,)),
    (("array_sum",), "list_sum", Kind.UNKNOWN, (1,)),
    (("arrays_overlap",), "list_has_any", Kind.BOOLEAN, (2,)),
    (("array_distinct",), "dbk_array_distinct", Kind.ARRAY, (1,)),
    (("array_sort",), "dbk_array_sort", Kind.ARRAY, (1,)),
    (("array_reverse_sort",), "dbk_array_reverse_sort", Kind.ARRAY, (1,)),
    (("array_compact",), "dbk_array_compact", Kind.ARRAY, (1,)),
    (("array_popback",), "dbk_array_popback", Kind.ARRAY, (1,)),
    (("array_popfront",), "dbk_array_popfront", Kind.ARRAY, (1,)),
    (("array_pushback", "array_append"), "dbk_array_pushback", Kind.ARRAY, (2,)),
    (("array_remove",), "dbk_array_remove", Kind.ARRAY, (2,)),
    (("array_except",), "dbk_array_except", Kind.ARRAY, (2,)),
    (("array_with_constant",), "dbk_array_with_constant", Kind.ARRAY, (2,)),
    (("array_cum_sum",), "dbk_array_cum_sum", Kind.ARRAY, (1,)),
    (("array_except_all",), "dbk_array_except_all", Kind.ARRAY, (2,)),
    (("array_enumerate",), "dbk_array_enumerate", Kind.ARRAY, (1,)),
    (("map_keys",), "map_keys", Kind.ARRAY, (1,)),
    (("map_values",), "map_values", Kind.ARRAY, (1,)),
    (("map_size",), "cardinality", Kind.INT, (1,)),
    (("map_contains_key",), "dbk_map_contains_key", Kind.BOOLEAN, (2,)),
):
    doris(*_names)(simple(_duck_name, _kind, *_counts))


def _decimal_scale(node: exp.Expression) -> int | None:
    """The scale of an array literal's DECIMAL elements (``[1.12, 3.45]``, ``array(CAST(x AS DECIMAL(6, 3)))``):
    Doris's element type is then DECIMAL; None when the elements are not all known numbers with a decimal."""
    if not isinstance(node, exp.Array):
        return None
    scales: list[int] = []
    for element in node.expressions:
        item = element.this if isinstance(element, exp.Neg) else element
        if isinstance(item, exp.Null):
            continue
        if isinstance(item, exp.Literal) and not item.is_string and "e" not in item.name.lower():
            scales.append(len(item.name.partition(".")[2]))
        elif isinstance(item, (exp.Cast, exp.TryCast)) and item.to.is_type(exp.DataType.Type.DECIMAL):
            params = item.to.expressions
            scales.append(int(params[1].name) if len(params) > 1 else 0)
        else:
            return None
    return max(scales) if scales and any(scales) else None


def _decimal_number(digits: int) -> exp.Expression:
    """10 to the power of -``digits`` as a DECIMAL literal (0.01 for 2)."""
    return exp.Literal.number("1" if digits == 0 else "0." + "0" * (digits - 1) + "1")


def _present(items: exp.Expression) -> exp.Expression:
    return fn("list_filter", items, lambda_of(lambda x: exp.Not(this=_is_null(x))))


@doris("array_product")
def _array_product(call: Call) -> Lowered:
    """The product of the elements that are not NULL (NULL for none): a DOUBLE, or for DECIMAL elements a
    DECIMAL of their scale, cut to that scale after each multiplication as Doris does ([1.12, 3.45, 4.23] is
    16.32)."""
    call.arity(1)
    scale = _decimal_scale(call.args[0])
    if scale is None:
        return fn("list_product", call.arg(0)), Kind.DOUBLE
    items = _present(call.arg(0))
    product = exp.Mul(this=exp.column("__a"), expression=exp.column("__b"))
    cut = exp.Sub(this=product, expression=exp.Mod(this=product.copy(), expression=_decimal_number(scale)))
    step = exp.Lambda(
        this=cast(cut, f"DECIMAL(38, {scale})"), expressions=[exp.to_identifier("__a"), exp.to_identifier("__b")]
    )
    reduced = fn("list_reduce", items, step, cast(lit(1), f"DECIMAL(38, {scale})"))
    return case((exp.EQ(this=fn("len", items.copy()), expression=lit(0)), exp.null()), default=reduced), Kind.DECIMAL


@doris("array_avg")
def _array_avg(call: Call) -> Lowered:
    """The mean of the elements that are not NULL: a DOUBLE, or for DECIMAL elements a DECIMAL of scale
    max(scale, 4), cut (not rounded) to it as Doris does ([1.0, 2.0, 2.0] is 1.6666)."""
    call.arity(1)
    scale = _decimal_scale(call.args[0])
    if scale is None:
        return fn("list_avg", call.arg(0)), Kind.DOUBLE
    digits = max(scale, 4)
    items = _present(call.arg(0))
    shifted = cast(
        exp.Mul(this=cast(fn("list_sum", items), f"DECIMAL(38, {digits})"), expression=lit(10**digits)), "HUGEINT"
    )
    whole = exp.IntDiv(this=shifted, expression=fn("len", items.copy()))
    mean = cast(
        exp.Mul(this=cast(whole, "DECIMAL(38, 0)"), expression=_decimal_number(digits)), f"DECIMAL(38, {digits})"
    )
    return case((exp.EQ(this=fn("len", items.copy()), expression=lit(0)), exp.null()), default=mean), Kind.DECIMAL


@doris("array_enumerate_uniq")
def _array_enumerate_uniq(call: Call) -> Lowered:
    """With several arrays, the numbering is of the tuples of their elements at each position."""
    if not call.args:
        raise DorisError("Can not found function 'array_enumerate_uniq' which has 0 arity.")
    if len(call.args) == 1:
        return fn("dbk_array_enumerate_uniq", call.arg(0)), Kind.ARRAY
    arrays = [call.arg(i) for i in range(len(call.args))]
    numbered = fn("dbk_array_enumerate_uniq", fn("list_zip", *[a.copy() for a in arrays]))
    refusal = "lengths of all arrays of function array_enumerate_uniq must be equal."
    return _same_lengths(arrays, refusal, numbered), Kind.ARRAY


def _unless_null(arrays: list[exp.Expression], node: exp.Expression) -> exp.Expression:
    """``node``, or NULL when any of ``arrays`` is NULL (DuckDB's list functions read NULL as [])."""
    return case((exp.or_(*[_is_null(a.copy()) for a in arrays]), exp.null()), default=node)


def _arrays(call: Call, least: int) -> list[exp.Expression]:
    """The arguments of a function of ``least`` or more arrays; a string, number or date among them is refused
    in Doris's words."""
    if len(call.args) < least:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    if any(k.numeric or k.temporal or k == Kind.STRING for k in call.kinds):
        raise DorisError(f"{call.name} does not support complex types")
    return [call.arg(i) for i in range(len(call.args))]


@doris("array_concat")
def _array_concat(call: Call) -> Lowered:
    arrays = _arrays(call, 1)
    return _unless_null(arrays, fn("list_concat", *[a.copy() for a in arrays])), Kind.ARRAY


@doris("array_union")
def _array_union(call: Call) -> Lowered:
    """The distinct elements of all the arrays (a NULL first, then as they first come)."""
    arrays = _arrays(call, 2)
    return _unless_null(arrays, fn("dbk_set_order", fn("list_concat", *[a.copy() for a in arrays]))), Kind.ARRAY


@doris("array_intersect")
def _array_intersect(call: Call) -> Lowered:
    """The distinct elements of the first array every other array holds (a NULL first, then in order)."""
    arrays = _arrays(call, 2)
    held = lambda_of(lambda x: exp.and_(*[fn("dbk_list_has", a.copy(), x.copy()) for a in arrays[1:]]))
    return _unless_null(arrays, fn("dbk_set_order", fn("list_filter", arrays[0].copy(), held))), Kind.ARRAY


@doris("array_zip")
def _array_zip(call: Call) -> Lowered:
    """The arrays' elements at each position as a STRUCT of fields col1, col2..."""
    arrays = _arrays(call, 1)
    index = exp.column("__i")
    fields = [
        exp.PropertyEQ(this=exp.to_identifier(f"col{i + 1}", quoted=True), expression=fn("list_extract", a, index))
        for i, a in enumerate(a.copy() for a in arrays)
    ]
    positions = fn("range", lit(1), exp.Add(this=fn("len", arrays[0].copy()), expression=lit(1)))
    row = exp.Lambda(this=exp.Struct(expressions=fields), expressions=[exp.to_identifier("__i")])
    zipped = _same_lengths(
        arrays, "function array_zip's arrays must have the same length", fn("list_transform", positions, row)
    )
    return _unless_null(arrays, zipped), Kind.ARRAY


def _same_lengths(arrays: list[exp.Expression], refusal: str, node: exp.Expression) -> exp.Expression:
    """``node``, or Doris's ``refusal`` when the arrays differ in length."""
    if len(arrays) < 2:
        return node
    lengths = [fn("len", a.copy()) for a in arrays]
    unequal = exp.or_(*[exp.NEQ(this=lengths[0].copy(), expression=n) for n in lengths[1:]])
    return case((unequal, fn("error", lit(refusal))), default=node)


@doris("array_pushfront")
def _array_pushfront(call: Call) -> Lowered:
    call.arity(2)
    return _unless_null([call.arg(0)], fn("list_prepend", call.arg(1), call.arg(0))), Kind.ARRAY


@doris("array_repeat")
def _array_repeat(call: Call) -> Lowered:
    """array_repeat(element, n) is array_with_constant(n, element)."""
    call.arity(2)
    return fn("dbk_array_with_constant", call.arg(1), call.arg(0)), Kind.ARRAY


@doris("array_position")
def _array_position(call: Call) -> Lowered:
    call.arity(2)
    found = fn("coalesce", fn("list_position", call.arg(0), call.arg(1)), lit(0))
    return case((exp.Is(this=call.arg(0), expression=exp.null()), exp.null()), default=found), Kind.INT


@doris("array_join")
def _array_join(call: Call) -> Lowered:
    call.arity(2, 3)
    items = call.arg(0)
    if len(call.args) == 3:
        items = fn("list_transform", items, lambda_of(lambda x: fn("coalesce", cast(x, "VARCHAR"), call.text(2))))
    return fn("array_to_string", items, call.text(1)), Kind.STRING


@doris("array_slice")
def _array_slice(call: Call) -> Lowered:
    call.arity(2, 3)
    length = call.integer(2) if len(call.args) == 3 else exp.null()
    return fn("dbk_array_slice", call.arg(0), call.integer(1), length), Kind.ARRAY


@doris("trim_array")
def _trim_array(call: Call) -> Lowered:
    call.arity(2)
    items, size = call.arg(0), call.integer(1)
    too_many = exp.GT(this=size.copy(), expression=fn("len", items.copy()))
    negative = exp.LT(this=size.copy(), expression=lit(0))
    trimmed = fn("list_slice", items, lit(1), exp.Sub(this=fn("len", items.copy()), expression=size))
    refusals = (
        (negative, fn("error", lit("size must not be negative"))),
        (too_many, fn("error", lit("size must not exceed array cardinality"))),
    )
    return case(*refusals, default=trimmed), Kind.ARRAY


@doris("array_range", "sequence")
def _array_range(call: Call) -> Lowered:
    """Integers from start (0) up to end, by step (1); NULL for a negative bound or a step under 1. Dates
    and datetimes step by an INTERVAL (a day by default)."""
    call.arity(1, 2, 3)
    if any(k.temporal for k in call.kinds[:2]) or (len(call.args) == 3 and isinstance(call.args[2], exp.Interval)):
        return _datetime_range(call)
    if len(call.args) == 1:
        bounds = [lit(0), cast(call.integer(0), "BIGINT")]
    else:
        bounds = [cast(call.integer(i), "BIGINT") for i in range(2)]
    step = cast(call.integer(2), "BIGINT") if len(call.args) == 3 else lit(1)
    refused = exp.or_(
        *[exp.LT(this=b.copy(), expression=lit(0)) for b in bounds], exp.LT(this=step.copy(), expression=lit(1))
    )
    return case((refused, exp.null()), default=fn("range", *bounds, step)), Kind.ARRAY


def _datetime_range(call: Call) -> Lowered:
    """start, start + step, ... for as many steps as fit in the whole units from start to end (Doris counts
    the units as its *_diff functions do: 12:00 to 12:16 is 3 steps of 5 minutes, whatever the seconds)."""
    if len(call.args) < 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    start, end = call.datetime(0), call.datetime(1)
    if len(call.args) == 3:
        span = call.args[2]
        if not isinstance(span, exp.Interval):
            raise DorisError(f"{call.name}'s step between datetimes must be an INTERVAL")
        unit, amount = unit_of(span.args["unit"]), cast(span.this.copy(), "BIGINT")
    else:
        unit, amount = "DAY", lit(1)
    steps = fn("ceil", exp.Div(this=diff(unit, start.copy(), end), expression=amount.copy()))
    each = exp.Lambda(
        this=exp.Add(this=start, expression=interval(exp.Mul(this=exp.column("__k"), expression=amount.copy()), unit)),
        expressions=[exp.to_identifier("__k")],
    )
    stepped = fn("list_transform", fn("range", cast(fn("greatest", steps, lit(0)), "BIGINT")), each)
    refused = exp.LT(this=amount, expression=lit(1))
    return _unless_null([start.copy(), end.copy()], case((refused, exp.null()), default=stepped)), Kind.ARRAY


@doris("map")
def _map(call: Call) -> Lowered:
    if len(call.args) % 2:
        raise DorisError("map takes key / value pairs")
    keys = exp.Array(expressions=[call.arg(i) for i in range(0, len(call.args), 2)])
    values = exp.Array(expressions=[call.arg(i) for i in range(1, len(call.args), 2)])
    return fn("MAP", keys, values), Kind.MAP


@doris("array")
def _array(call: Call) -> Lowered:
    """A string among numbers makes every element a string, as Doris's common type of them is."""
    items = [call.arg(i) for i in range(len(call.args))]
    if Kind.STRING in call.kinds and any(k.numeric for k in call.kinds):
        items = [
            as_text(item, kind) if kind != Kind.NULL else item for item, kind in zip(items, call.kinds, strict=True)
        ]
    return exp.Array(expressions=items), Kind.ARRAY


def _lambda_args(call: Call) -> tuple[exp.Lambda, list[exp.Expression]]:
    """Doris's lambda (first, or last as some callers write it) and the arrays it reads, one per parameter."""
    lambdas = [i for i, a in enumerate(call.args) if isinstance(a, exp.Lambda)]
    if len(lambdas) != 1 or len(call.args) < 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    where = lambdas[0]
    lam = call.arg(where)
    arrays = [call.arg(i) for i in range(len(call.args)) if i != where]
    if len(lam.expressions) != len(arrays):
        raise DorisError(
            f"lambda argument size {len(lam.expressions)} does not match {call.name}'s {len(arrays)} arrays"
        )
    return lam, arrays


def _per_element(call: Call, body: Callable[[exp.Expression], exp.Expression] | None = None) -> exp.Lambda:
    """The lambda as a DuckDB lambda over the first array's element and index: a parameter of a further
    array reads that array at the same index (DuckDB's lambdas take one list). ``body`` wraps the answer."""
    lam, arrays = _lambda_args(call)
    names = [p.name for p in lam.expressions]
    element, index = exp.column("__x"), exp.column("__i")
    values = {names[0]: element}
    values.update({n: fn("list_extract", a, index) for n, a in zip(names[1:], arrays[1:], strict=True)})

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return values[node.name].copy()
        if isinstance(node, exp.Identifier) and not isinstance(node.parent, exp.Column) and node.name in values:
            return values[node.name].copy()
        return node

    answer = lam.this.transform(substitute)
    if body is not None:
        answer = body(answer)
    return exp.Lambda(this=answer, expressions=[exp.to_identifier("__x"), exp.to_identifier("__i")])


def _first_array(call: Call) -> exp.Expression:
    return _lambda_args(call)[1][0]


def _equal_lengths(call: Call, node: exp.Expression) -> exp.Expression:
    """``node``, or Doris's refusal when the arrays a lambda reads differ in length."""
    refusal = "in array map function, the input column size are not equal completely"  # Doris maps every lambda
    return _same_lengths(_lambda_args(call)[1], refusal, node)


def _flags(call: Call) -> exp.Expression:
    """The lambda's answer for each element as booleans (NULL for a NULL array)."""
    return _equal_lengths(call, fn("list_transform", _first_array(call), _per_element(call, _truth)))


def _truth(node: exp.Expression) -> exp.Expression:
    return cast(node, "BOOLEAN")


@doris("array_map", "array_apply")
def _array_map(call: Call) -> Lowered:
    """array_map(lambda, arr...); array_apply(arr, op, value) keeps the elements ``op value`` holds for."""
    if call.name == "array_apply" and not any(isinstance(a, exp.Lambda) for a in call.args):
        return _array_apply(call)
    return _equal_lengths(call, fn("list_transform", _first_array(call), _per_element(call))), Kind.ARRAY


_COMPARISONS: dict[str, type[exp.Expression]] = {
    "=": exp.EQ, "!=": exp.NEQ, "<>": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE,
}  # fmt: skip


def _array_apply(call: Call) -> Lowered:
    """The elements for which ``element op value`` holds; the value is read as the elements' type (DuckDB
    casts a text literal to the element's type in the comparison)."""
    call.arity(3)
    op = call.constant(1)
    if op is None or op not in _COMPARISONS:
        raise DorisError(f"array_apply only accepts binary operators =, >=, <=, >, <, !=, but got {op}")
    if call.kinds[2] == Kind.NULL:
        return exp.null(), Kind.ARRAY
    value = call.arg(2)
    keep = lambda_of(lambda x: _COMPARISONS[op](this=x, expression=value.copy()))
    kept = fn("list_filter", call.arg(0), keep)
    scale = _decimal_scale(call.args[0])
    if scale is not None and call.kinds[2] == Kind.STRING:  # the common type of DECIMALs and a string's DECIMAL
        kept = cast(kept, f"DECIMAL(38, {max(scale, 9)})[]")
    return _refuse_elements(call.arg(0), "VARCHAR[]", "array_apply", kept), Kind.ARRAY


def _refuse_elements(items: exp.Expression, duck_type: str, name: str, node: exp.Expression) -> exp.Expression:
    """``node``, or Doris's refusal when the array's DuckDB type is like ``duck_type`` (its elements are of a
    type the function does not take; known only once DuckDB has typed the array)."""
    kind = fn("typeof", items)
    refused = fn("error", fn("concat", lit(f"{name} does not support type "), kind.copy()))
    return case((exp.Like(this=kind, expression=lit(duck_type)), refused), default=node)


def _extreme(duck_name: str) -> Lowering:
    """array_min / array_max: the least / greatest element; an array of arrays is refused."""

    def lower(call: Call) -> Lowered:
        call.arity(1)
        return _refuse_elements(call.arg(0), "%[][]", call.name, fn(duck_name, call.arg(0))), Kind.UNKNOWN

    return lower


doris("array_min")(_extreme("list_min"))
doris("array_max")(_extreme("list_max"))


def _kept(call: Call) -> exp.Expression:
    """The elements of the lambda's first array it holds for."""
    return _equal_lengths(call, fn("list_filter", _first_array(call), _per_element(call, _truth)))


doris("array_filter")(lambda call: (_kept(call), Kind.ARRAY))


@doris("array_count")
def _array_count(call: Call) -> Lowered:
    """How many elements the lambda holds for (without one, the non-zero elements); 0 for a NULL array."""
    if len(call.args) == 1:
        node = fn("list_filter", call.arg(0), lambda_of(lambda x: exp.NEQ(this=x, expression=lit(0))))
    else:
        node = fn("list_filter", _flags(call), lambda_of(lambda x: x))
    return fn("coalesce", fn("len", node), lit(0)), Kind.INT


@doris("array_exists")
def _array_exists(call: Call) -> Lowered:
    """1 / 0 for each element: the lambda's answer, or without one whether the element is non-zero."""
    flags = fn("list_transform", call.arg(0), lambda_of(_truth)) if len(call.args) == 1 else _flags(call)
    return fn("list_transform", flags, lambda_of(lambda x: cast(x, "INTEGER"))), Kind.ARRAY


@doris("array_first_index")
def _array_first_index(call: Call) -> Lowered:
    return fn("coalesce", fn("dbk_first_true", _flags(call)), lit(0)), Kind.INT


@doris("array_last_index")
def _array_last_index(call: Call) -> Lowered:
    return fn("coalesce", fn("dbk_last_true", _flags(call)), lit(0)), Kind.INT


@doris("array_first")
def _array_first(call: Call) -> Lowered:
    """The first element the lambda holds for (NULL for none)."""
    return fn("list_extract", _kept(call), lit(1)), Kind.UNKNOWN


@doris("array_last")
def _array_last(call: Call) -> Lowered:
    return fn("list_extract", _kept(call), lit(-1)), Kind.UNKNOWN


@doris("array_match_any")
def _array_match_any(call: Call) -> Lowered:
    return fn("dbk_any_true", _flags(call)), Kind.BOOLEAN


@doris("array_match_all")
def _array_match_all(call: Call) -> Lowered:
    return fn("dbk_all_true", _flags(call)), Kind.BOOLEAN


def _split(reverse: bool) -> Lowering:
    """array_split(arr, flags) / array_split(lambda, arr...): cut before (reverse: after) each true flag."""

    def lower(call: Call) -> Lowered:
        if any(isinstance(a, exp.Lambda) for a in call.args):
            items, flags = _first_array(call), _flags(call)
        else:
            call.arity(2)
            items, flags = call.arg(0), call.arg(1)
        return fn("dbk_array_split", items, flags, exp.Boolean(this=reverse)), Kind.ARRAY

    return lower


doris("array_split")(_split(reverse=False))
doris("array_reverse_split")(_split(reverse=True))


@doris("array_sortby")
def _array_sortby(call: Call) -> Lowered:
    """The array in the order of the keys (a second array, or a lambda's answer for each element)."""
    if any(isinstance(a, exp.Lambda) for a in call.args):
        items = _first_array(call)
        keys = _equal_lengths(call, fn("list_transform", items.copy(), _per_element(call)))
    else:
        call.arity(2)
        items, keys = call.arg(0), call.arg(1)
    return fn("dbk_array_sortby", items, keys), Kind.ARRAY


@doris("countequal")
def _countequal(call: Call) -> Lowered:
    """How many elements equal the value (NULL counts the NULLs)."""
    call.arity(2)
    return fn("dbk_countequal", call.arg(0), call.arg(1)), Kind.INT


@doris("array_difference")
def _array_difference(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_array_difference", call.arg(0)), Kind.ARRAY


@doris("array_shuffle", "shuffle")
def _array_shuffle(call: Call) -> Lowered:
    """The elements in a random order; with a seed, the same order for the same seed (not the order Doris's
    generator gives)."""
    call.arity(1, 2)
    items = call.arg(0)
    if len(call.args) == 2:
        seed = cast(call.integer(1), "BIGINT")
        key = exp.Lambda(
            this=fn("hash", seed, exp.column("__i")), expressions=[exp.to_identifier("__x"), exp.to_identifier("__i")]
        )
    else:
        key = exp.Lambda(this=fn("random"), expressions=[exp.to_identifier("__x")])
    return fn("dbk_array_sortby", items, fn("list_transform", items.copy(), key)), Kind.ARRAY


def _distance(duck_name: str) -> Lowering:
    """A distance of two vectors, computed in FLOAT as Doris does; vectors of different sizes, with a NULL
    element, or NULL themselves are refused in Doris's words."""

    def lower(call: Call) -> Lowered:
        call.arity(2)
        if Kind.NULL in call.kinds:
            raise DorisError(f"function {call.name} cannot be null")
        a, b = cast(call.arg(0), "FLOAT[]"), cast(call.arg(1), "FLOAT[]")
        sizes = fn("concat", lit(f"function {call.name} have different input element sizes of array: "),
                   fn("len", a.copy()), lit(" and "), fn("len", b.copy()))  # fmt: skip
        has_null = exp.or_(*[fn("list_bool_or", fn("list_transform", v.copy(), lambda_of(_is_null))) for v in (a, b)])
        refusals = (
            (has_null, fn("error", lit(f"function {call.name} cannot have null"))),
            (exp.NEQ(this=fn("len", a.copy()), expression=fn("len", b.copy())), fn("error", sizes)),
        )
        return case(*refusals, default=cast(fn(duck_name, a, b), "FLOAT")), Kind.DOUBLE

    return lower


def _is_null(node: exp.Expression) -> exp.Expression:
    return exp.Is(this=node, expression=exp.null())


doris("l1_distance")(_distance("dbk_l1_distance"))
doris("l2_distance")(_distance("list_distance"))
doris("inner_product")(_distance("list_inner_product"))
doris("cosine_distance")(_distance("list_cosine_distance"))


@doris("named_struct")
def _named_struct(call: Call) -> Lowered:
    """A STRUCT of name / value pairs; the names must be constant strings."""
    if not call.args or len(call.args) % 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    fields: list[exp.Expression] = []
    for i in range(0, len(call.args), 2):
        name = call.constant(i)
        if name is None:
            raise DorisError("named_struct's field names must be constant strings")
        fields.append(exp.PropertyEQ(this=exp.to_identifier(name, quoted=True), expression=call.arg(i + 1)))
    return exp.Struct(expressions=fields), Kind.STRUCT


@doris("struct")
def _struct(call: Call) -> Lowered:
    """A STRUCT whose fields Doris names col1, col2, ..."""
    if not call.args:
        raise DorisError("Can not found function 'struct' which has 0 arity.")
    fields = [
        exp.PropertyEQ(this=exp.to_identifier(f"col{i + 1}", quoted=True), expression=call.arg(i))
        for i in range(len(call.args))
    ]
    return exp.Struct(expressions=fields), Kind.STRUCT


@doris("struct_element")
def _struct_element(call: Call) -> Lowered:
    """A field by its name or by its position (from 1); either must be a constant."""
    call.arity(2)
    field = call.constant(1)
    if field is None:
        raise DorisError("struct_element's field must be a constant name or position")
    if call.kinds[1] == Kind.INT:
        return fn("struct_extract_at", call.arg(0), lit(int(field))), Kind.UNKNOWN
    return fn("struct_extract", call.arg(0), lit(field)), Kind.UNKNOWN
