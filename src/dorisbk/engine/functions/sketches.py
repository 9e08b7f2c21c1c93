"""Doris's bitmap and HLL functions, answered exactly over sorted lists of distinct values."""

from __future__ import annotations

from sqlglot import exp

from dorisbk.engine.functions.catalog import (
    Call,
    Lowered,
    Lowering,
    case,
    cast,
    doris,
    fn,
    lambda_of,
    lit,
    simple,
    try_cast,
)
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError


@doris("to_bitmap", "to_bitmap_with_check")
def _to_bitmap(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_of", try_cast(call.arg(0), "UBIGINT")), Kind.BITMAP


@doris("hll_hash")
def _hll_hash(call: Call) -> Lowered:
    """A sketch of the text's hash: Doris's hash, so that hll_to_base64 writes what Doris writes."""
    call.arity(1)
    return fn("dbk_bitmap_of", fn("dbk_murmur64a", call.text(0))), Kind.HLL


# Doris's MurmurHash3 seeds: murmur_hash3_32 and bitmap_hash hash with 104729, the 64-bit ones with 0
_MURMUR3_32_SEED = 104729


@doris("bitmap_hash")
def _bitmap_hash(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_of", fn("dbk_murmur3_32", call.text(0), lit(_MURMUR3_32_SEED))), Kind.BITMAP


@doris("bitmap_hash64")
def _bitmap_hash64(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_of", fn("dbk_murmur3_64", call.text(0), lit(0))), Kind.BITMAP


def _murmur(macro: str, seed: int, bits: int) -> Lowering:
    """murmur_hash3_32 / _64: each further argument hashed with the previous hash as its seed, NULL when any
    argument is NULL; the hash as a signed number (INT / BIGINT), as Doris answers."""

    def lower(call: Call) -> Lowered:
        if not call.args:
            raise DorisError(f"Can not found function '{call.name}' which has 0 arity.")
        node: exp.Expression = lit(seed)
        for i in range(len(call.args)):
            node = fn(macro, call.text(i), node)
        signed = exp.Sub(this=cast(node, "HUGEINT"), expression=lit(2**bits))
        wide = exp.GTE(this=node.copy(), expression=lit(2 ** (bits - 1)))
        return cast(case((wide, signed), default=node.copy()), "BIGINT"), Kind.INT

    return lower


doris("murmur_hash3_32")(_murmur("dbk_murmur3_32", _MURMUR3_32_SEED, 32))
doris("murmur_hash3_64")(_murmur("dbk_murmur3_64", 0, 64))


@doris("crc32")
def _crc32(call: Call) -> Lowered:
    call.arity(1)
    return cast(fn("dbk_crc32", call.text(0)), "BIGINT"), Kind.INT


@doris("bitmap_empty", "hll_empty")
def _bitmap_empty(call: Call) -> Lowered:
    call.arity(0)
    return cast(exp.Array(expressions=[]), "UBIGINT[]"), Kind.BITMAP


@doris("bitmap_from_string")
def _bitmap_from_string(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_string", call.text(0)), Kind.BITMAP


@doris("hll_from_base64")
def _hll_from_base64(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_hll_from_base64", call.text(0)), Kind.HLL


@doris("hll_to_base64")
def _hll_to_base64(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_hll_to_base64", call.arg(0)), Kind.STRING


@doris("bitmap_from_base64")
def _sketch_from_base64(call: Call) -> Lowered:
    """The bitmap a base64 text holds (as bitmap_to_base64 writes it); Doris's error when it holds none."""
    call.arity(1)
    text = call.text(0)
    sketch = fn("dbk_bitmap_from_string", fn("dbk_from_base64", text))
    failed = fn(
        "error",
        exp.DPipe(this=lit(f"[RUNTIME_ERROR]{call.name} decode failed: base64: "), expression=text.copy(), safe=False),
    )
    valid = exp.or_(
        exp.Is(this=text.copy(), expression=exp.null()), exp.Not(this=exp.Is(this=sketch, expression=exp.null()))
    )
    return case((valid, sketch.copy()), default=failed), Kind.BITMAP


@doris("bitmap_from_array")
def _bitmap_from_array(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_array", call.arg(0)), Kind.BITMAP


for _names, _duck_name, _kind, _counts in (
    (("bitmap_count", "hll_cardinality"), "dbk_bitmap_count", Kind.INT, (1,)),
    (("bitmap_to_string",), "dbk_bitmap_to_string", Kind.STRING, (1,)),
    (("bitmap_to_array",), "dbk_bitmap_sorted", Kind.ARRAY, (1,)),
    (("bitmap_contains",), "dbk_bitmap_contains", Kind.BOOLEAN, (2,)),
    (("bitmap_has_any",), "list_has_any", Kind.BOOLEAN, (2,)),
    (("bitmap_has_all",), "list_has_all", Kind.BOOLEAN, (2,)),
    (("bitmap_min",), "list_min", Kind.INT, (1,)),
    (("bitmap_max",), "list_max", Kind.INT, (1,)),
    (("bitmap_not", "bitmap_andnot", "bitmap_and_not"), "dbk_bitmap_andnot", Kind.BITMAP, (2,)),
    (("bitmap_and_not_count", "bitmap_andnot_count"), "dbk_bitmap_andnot_count", Kind.INT, (2,)),
    (("bitmap_subset_in_range",), "dbk_bitmap_subset_in_range", Kind.BITMAP, (3,)),
    (("bitmap_subset_limit",), "dbk_bitmap_subset_limit", Kind.BITMAP, (3,)),
    (("sub_bitmap",), "dbk_sub_bitmap", Kind.BITMAP, (3,)),
    (("bitmap_to_base64",), "dbk_sketch_to_base64", Kind.STRING, (1,)),
):
    doris(*_names)(simple(_duck_name, _kind, *_counts))


def _bitmap_fold(duck_name: str, count: bool, skips_nulls: bool) -> Lowering:
    """and / or / xor over two or more bitmaps. bitmap_or passes over NULL bitmaps (NULL only when all are);
    for the others a NULL bitmap makes the result NULL."""

    def lower(call: Call) -> Lowered:
        if len(call.args) < 2:
            raise DorisError(f"{call.name} needs at least two bitmaps")
        args = [call.arg(i) for i in range(len(call.args))]
        if skips_nulls:
            args = [fn("coalesce", a, cast(exp.Array(expressions=[]), "UBIGINT[]")) for a in args]
        node = args[0]
        for arg in args[1:]:
            node = fn(duck_name, node, arg)
        if skips_nulls:
            all_null = exp.and_(*[exp.Is(this=call.arg(i), expression=exp.null()) for i in range(len(call.args))])
            node = case((all_null, exp.null()), default=node)
        return (fn("dbk_bitmap_count", node), Kind.INT) if count else (node, Kind.BITMAP)

    return lower


for _op in ("and", "or", "xor"):
    doris(f"bitmap_{_op}")(_bitmap_fold(f"dbk_bitmap_{_op}", count=False, skips_nulls=_op == "or"))
    doris(f"bitmap_{_op}_count")(_bitmap_fold(f"dbk_bitmap_{_op}", count=True, skips_nulls=_op == "or"))


@doris("bitmap_union", "hll_union", "hll_raw_agg", "group_bitmap_or")
def _bitmap_union(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_array", fn("flatten", fn("list", call.arg(0)))), Kind.BITMAP


@doris("bitmap_union_count", "hll_union_agg", "orthogonal_bitmap_union_count")
def _bitmap_union_count(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_count", _bitmap_union(call)[0]), Kind.INT


@doris("bitmap_union_int")
def _bitmap_union_int(call: Call) -> Lowered:
    call.arity(1)
    return exp.Count(this=exp.Distinct(expressions=[call.arg(0)])), Kind.INT


@doris("group_bitmap_xor")
def _group_bitmap_xor(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_odd_values", fn("flatten", fn("list", call.arg(0)))), Kind.BITMAP


def _intersection(call: Call) -> exp.Expression:
    """intersect_count and orthogonal_bitmap_intersect: the union of the bitmaps of the rows whose filter column
    holds each value, intersected over the values."""
    if len(call.args) < 3:
        raise DorisError(f"{call.name} needs a bitmap, a filter column and at least one filter value")
    node: exp.Expression | None = None
    for i in range(2, len(call.args)):
        rows = exp.Filter(
            this=fn("list", call.arg(0)), expression=exp.Where(this=exp.EQ(this=call.arg(1), expression=call.arg(i)))
        )
        union = fn(
            "dbk_bitmap_from_array", fn("flatten", fn("coalesce", rows, cast(exp.Array(expressions=[]), "UBIGINT[][]")))
        )
        node = union if node is None else fn("dbk_bitmap_and", node, union)
    assert node is not None
    return node


@doris("intersect_count", "orthogonal_bitmap_intersect_count")
def _intersect_count(call: Call) -> Lowered:
    return fn("dbk_bitmap_count", _intersection(call)), Kind.INT


@doris("orthogonal_bitmap_intersect")
def _orthogonal_bitmap_intersect(call: Call) -> Lowered:
    return _intersection(call), Kind.BITMAP


@doris("topn")
def _topn(call: Call) -> Lowered:
    call.arity(2, 3)  # the third argument (space) sizes Doris's sketch; the counts here are exact
    return fn("dbk_topn", fn("histogram", call.arg(0)), cast(call.integer(1), "BIGINT")), Kind.JSON


@doris("bitmap_intersect")
def _bitmap_intersect(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_bitmap_from_array", fn("list_reduce", fn("list", call.arg(0)), _intersect_lambda())), Kind.BITMAP


@doris("bitmap_agg")
def _bitmap_agg(call: Call) -> Lowered:
    """The bitmap of the group's values (NULLs left out)."""
    call.arity(1)
    return fn(
        "dbk_bitmap_from_array",
        fn("coalesce", fn("list", try_cast(call.arg(0), "UBIGINT")), cast(exp.Array(expressions=[]), "UBIGINT[]")),
    ), Kind.BITMAP


@doris("bitmap_remove")
def _bitmap_remove(call: Call) -> Lowered:
    call.arity(2)
    value = try_cast(call.arg(1), "UBIGINT")
    kept = fn("list_filter", call.arg(0), lambda_of(lambda x: exp.NEQ(this=x, expression=value)))
    return case((exp.Is(this=value.copy(), expression=exp.null()), exp.null()), default=kept), Kind.BITMAP


def _intersect_lambda() -> exp.Expression:
    a, b = exp.to_identifier("__a"), exp.to_identifier("__b")
    return exp.Lambda(this=fn("list_intersect", exp.column("__a"), exp.column("__b")), expressions=[a, b])
