"""Doris's array functions: 1-based positions, lambdas first, NULL elements kept as Doris keeps them."""

from __future__ import annotations

from sqlglot import exp

from dorisbk.engine.functions.catalog import Call, Lowered, Lowering, case, cast, doris, fn, lambda_of, lit, simple
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
    (("array_min",), "list_min", Kind.UNKNOWN, (1,)),
    (("array_max",), "list_max", Kind.UNKNOWN, (1,)),
    (("array_sum",), "list_sum", Kind.UNKNOWN, (1,)),
    (("array_avg",), "list_avg", Kind.DOUBLE, (1,)),
    (("array_product",), "list_product", Kind.DOUBLE, (1,)),
    (("arrays_overlap",), "list_has_any", Kind.BOOLEAN, (2,)),
    (("array_distinct",), "dbk_array_distinct", Kind.ARRAY, (1,)),
    (("array_sort",), "dbk_array_sort", Kind.ARRAY, (1,)),
    (("array_reverse_sort",), "dbk_array_reverse_sort", Kind.ARRAY, (1,)),
    (("array_compact",), "dbk_array_compact", Kind.ARRAY, (1,)),
    (("array_popback",), "dbk_array_popback", Kind.ARRAY, (1,)),
    (("array_popfront",), "dbk_array_popfront", Kind.ARRAY, (1,)),
    (("array_pushback",), "list_append", Kind.ARRAY, (2,)),
    (("array_remove",), "dbk_array_remove", Kind.ARRAY, (2,)),
    (("array_union",), "dbk_array_union", Kind.ARRAY, (2,)),
    (("array_intersect",), "dbk_array_intersect", Kind.ARRAY, (2,)),
    (("array_except",), "dbk_array_except", Kind.ARRAY, (2,)),
    (("array_with_constant", "array_repeat"), "dbk_array_with_constant", Kind.ARRAY, (2,)),
    (("array_cum_sum",), "dbk_array_cum_sum", Kind.ARRAY, (1,)),
    (("array_except_all",), "dbk_array_except_all", Kind.ARRAY, (2,)),
    (("array_enumerate",), "dbk_array_enumerate", Kind.ARRAY, (1,)),
    (("map_keys",), "map_keys", Kind.ARRAY, (1,)),
    (("map_values",), "map_values", Kind.ARRAY, (1,)),
    (("map_size",), "cardinality", Kind.INT, (1,)),
    (("map_contains_key",), "dbk_map_contains_key", Kind.BOOLEAN, (2,)),
):
    doris(*_names)(simple(_duck_name, _kind, *_counts))


@doris("array_enumerate_uniq")
def _array_enumerate_uniq(call: Call) -> Lowered:
    """With several arrays, the numbering is of the tuples of their elements at each position."""
    if not call.args:
        raise DorisError("Can not found function 'array_enumerate_uniq' which has 0 arity.")
    if len(call.args) == 1:
        return fn("dbk_array_enumerate_uniq", call.arg(0)), Kind.ARRAY
    arrays = [call.arg(i) for i in range(len(call.args))]
    lengths = [fn("len", a.copy()) for a in arrays]
    unequal = exp.or_(*[exp.NEQ(this=lengths[0].copy(), expression=n) for n in lengths[1:]])
    refused = fn("error", lit("lengths of all arrays of function array_enumerate_uniq must be equal."))
    return case((unequal, refused), default=fn("dbk_array_enumerate_uniq", fn("list_zip", *arrays))), Kind.ARRAY


@doris("array_concat")
def _array_concat(call: Call) -> Lowered:
    if not call.args:
        raise DorisError("array_concat needs at least one array")
    node = call.arg(0)
    for i in range(1, len(call.args)):
        node = fn("list_concat", node, call.arg(i))
    return node, Kind.ARRAY


@doris("array_pushfront")
def _array_pushfront(call: Call) -> Lowered:
    call.arity(2)
    return fn("list_prepend", call.arg(1), call.arg(0)), Kind.ARRAY


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
    call.arity(1, 2, 3)
    if len(call.args) == 1:
        return fn("range", cast(call.integer(0), "BIGINT")), Kind.ARRAY
    args = [cast(call.integer(i), "BIGINT") for i in range(len(call.args))]
    return fn("range", *args), Kind.ARRAY


@doris("map")
def _map(call: Call) -> Lowered:
    if len(call.args) % 2:
        raise DorisError("map takes key / value pairs")
    keys = exp.Array(expressions=[call.arg(i) for i in range(0, len(call.args), 2)])
    values = exp.Array(expressions=[call.arg(i) for i in range(1, len(call.args), 2)])
    return fn("MAP", keys, values), Kind.MAP


@doris("array")
def _array(call: Call) -> Lowered:
    return exp.Array(expressions=[call.arg(i) for i in range(len(call.args))]), Kind.ARRAY


def _higher_order(duck_name: str, kind: Kind) -> Lowering:
    """array_map(lambda, arr) style: Doris puts the lambda first, DuckDB the list."""

    def lower(call: Call) -> Lowered:
        call.arity(2)
        if isinstance(call.args[0], exp.Lambda):
            return fn(duck_name, call.arg(1), call.arg(0)), kind
        if isinstance(call.args[1], exp.Lambda):
            return fn(duck_name, call.arg(0), call.arg(1)), kind
        raise DorisError(f"{call.name} takes a lambda and an array")

    return lower


doris("array_map", "array_apply")(_higher_order("list_transform", Kind.ARRAY))
doris("array_filter")(_higher_order("list_filter", Kind.ARRAY))


@doris("array_count")
def _array_count(call: Call) -> Lowered:
    node, _ = _higher_order("list_filter", Kind.ARRAY)(call) if len(call.args) == 2 else (call.arg(0), Kind.ARRAY)
    if len(call.args) == 1:
        node = fn("list_filter", node, lambda_of(lambda x: exp.NEQ(this=x, expression=lit(0))))
    return fn("len", node), Kind.INT


@doris("array_exists")
def _array_exists(call: Call) -> Lowered:
    node, _ = _higher_order("list_transform", Kind.ARRAY)(call)
    return fn("list_transform", node, lambda_of(lambda x: cast(cast(x, "BOOLEAN"), "INTEGER"))), Kind.ARRAY


def _flags(call: Call) -> exp.Expression:
    """The lambda's answer for each element, as booleans (Doris's lambda comes first, its array after)."""
    node, _ = _higher_order("list_transform", Kind.ARRAY)(call)
    return fn("list_transform", node, lambda_of(lambda x: cast(x, "BOOLEAN")))


@doris("array_first_index")
def _array_first_index(call: Call) -> Lowered:
    return fn("dbk_first_true", _flags(call)), Kind.INT


@doris("array_last_index")
def _array_last_index(call: Call) -> Lowered:
    return fn("dbk_last_true", _flags(call)), Kind.INT


@doris("array_match_any")
def _array_match_any(call: Call) -> Lowered:
    return fn("dbk_any_true", _flags(call)), Kind.BOOLEAN


@doris("array_match_all")
def _array_match_all(call: Call) -> Lowered:
    return fn("dbk_all_true", _flags(call)), Kind.BOOLEAN


@doris("array_sortby")
def _array_sortby(call: Call) -> Lowered:
    """The array in the order of the keys (a second array, or a lambda's answer for each element)."""
    call.arity(2)
    if isinstance(call.args[0], exp.Lambda):
        items = call.arg(1)
        keys = fn("list_transform", call.arg(1), call.arg(0))
    else:
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


def _vectors(call: Call) -> tuple[exp.Expression, exp.Expression]:
    call.arity(2)
    return cast(call.arg(0), "DOUBLE[]"), cast(call.arg(1), "DOUBLE[]")


@doris("l1_distance")
def _l1_distance(call: Call) -> Lowered:
    return fn("dbk_l1_distance", *_vectors(call)), Kind.DOUBLE


@doris("l2_distance")
def _l2_distance(call: Call) -> Lowered:
    return fn("list_distance", *_vectors(call)), Kind.DOUBLE


@doris("inner_product")
def _inner_product(call: Call) -> Lowered:
    return fn("list_inner_product", *_vectors(call)), Kind.DOUBLE


@doris("cosine_distance")
def _cosine_distance(call: Call) -> Lowered:
    return fn("list_cosine_distance", *_vectors(call)), Kind.DOUBLE


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
