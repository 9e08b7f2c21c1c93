"""Doris's JSON functions over its JSONB text: paths ($.a[last]), extraction, edits, validity."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from dorisbk.engine.functions.catalog import Call, Lowered, Lowering, case, cast, doris, fn, lambda_of, lit, try_cast
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError

_LAST = re.compile(r"\[\s*last\s*(?:-\s*(\d+)\s*)?\]")
_NEGATIVE = re.compile(r"\[\s*-(\d+)\s*\]")
# a backslash outside a quoted member name escapes the character after it (``$.name\k`` names ``namek``)
_UNQUOTED_ESCAPE = re.compile(r'("(?:[^"\\]|\\.)*")|\\(.)')


# what Doris takes between brackets: an index, ``*``, a count from the end (``-1``, ``last``, ``last-1``)
_INDEX = re.compile(r"\[\s*(?:\*|-?\d+|last(?:\s*-\s*\d+)?)\s*\]")


def check_path(path: str) -> None:
    """Doris refuses ``**``, a path that ends in a dot and an index it cannot read, in its own words."""
    brackets = re.sub(r'"[^"]*"', "", path)  # quoted member names may hold brackets
    if "**" in path or path.strip().endswith(".") or "[" in _INDEX.sub("", brackets):
        raise DorisError(f"Json path error: Invalid Json Path for value: {path}")


def json_path(path: str) -> str:
    """A Doris JSON path in DuckDB's spelling: ``$.[1]`` is ``$[1]``; ``[last]``, ``[last-1]`` and ``[-1]``
    count from the end (DuckDB's ``[#-1]``). A path is a value, never SQL: this rewrites data."""
    check_path(path)
    path = _UNQUOTED_ESCAPE.sub(lambda m: m.group(1) or m.group(2), path.strip()).replace("$.[", "$[")
    path = _LAST.sub(lambda m: f"[#-{int(m.group(1) or 0) + 1}]", path)
    return _NEGATIVE.sub(lambda m: f"[#-{m.group(1)}]", path)


def _json_path(call: Call, i: int) -> exp.Expression:
    constant = call.constant(i)
    return lit(json_path(constant)) if constant is not None else call.text(i)


def _paths_checked(first: int) -> Callable[[Lowering], Lowering]:
    """A lowering whose answer is refused, as Doris refuses it, when a path read from the data (arguments
    ``first`` on) is one Doris does not take; constant paths are checked when the query is planned."""

    def wrap(lower: Lowering) -> Lowering:
        def checked(call: Call) -> Lowered:
            node, kind = lower(call)
            for i in range(first, len(call.args)):
                if call.constant(i) is None and call.kinds[i] != Kind.NULL:
                    path = call.text(i)
                    message = fn("concat", lit("Json path error: Invalid Json Path for value: "), path.copy())
                    node = case((fn("dbk_json_bad_path", path), fn("error", message)), default=node)
            return node, kind

        return checked

    return wrap


# ``$**`` then one leg: every value below the root that is a member (``.name``, ``.*``) or an element
# (``[n]``, ``[*]``) of what holds it
_DESCENT = re.compile(r'\s*\$\*\*(?:\.(\*|\w+|"[^"]*")|\[\s*(\*|\d+)\s*\])\s*')


def _matches(call: Call, i: int) -> exp.Expression | None:
    """The list of values a wildcard path (``*``, ``**``) finds, document order; None for a path of one value."""
    if not _is_wildcard(call, i):
        return None
    constant = call.constant(i) or ""
    descent = _DESCENT.fullmatch(constant)
    if descent is None:
        return fn("json_extract", call.text(0), _json_path(call, i))
    member, index = descent.groups()
    name = (member or index).strip('"')
    return fn(
        "dbk_json_descend", call.text(0), exp.Boolean(this=member is not None), lit(name) if name != "*" else exp.null()
    )


def _is_wildcard(call: Call, i: int) -> bool:
    constant = call.constant(i)
    return constant is not None and "*" in constant


@doris("get_json_string", "json_extract_string", "jsonb_extract_string")
@_paths_checked(1)
def _get_json_string(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_json_string", call.text(0), _json_path(call, 1)), Kind.STRING


def _json_number(target: str, kind: Kind) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(2)
        return try_cast(fn("dbk_json_scalar", call.text(0), _json_path(call, 1), lit(target)), target), kind

    return lower


for _names, _target, _kind in (
    (("get_json_int", "json_extract_int", "jsonb_extract_int"), "INTEGER", Kind.INT),
    (("get_json_bigint", "json_extract_bigint", "jsonb_extract_bigint"), "BIGINT", Kind.INT),
    (("json_extract_largeint", "jsonb_extract_largeint"), "HUGEINT", Kind.LARGEINT),
    (("get_json_double", "json_extract_double", "jsonb_extract_double"), "DOUBLE", Kind.DOUBLE),
    (("json_extract_bool", "jsonb_extract_bool"), "BOOLEAN", Kind.BOOLEAN),
):
    doris(*_names)(_paths_checked(1)(_json_number(_target, _kind)))


@doris("json_extract", "jsonb_extract")
@_paths_checked(1)
def _json_extract(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("json_extract needs a document and a path")
    matches = _matches(call, 1)
    if len(call.args) == 2 and matches is not None:  # the values a wildcard matches, NULL for none
        empty = exp.EQ(this=fn("len", matches), expression=lit(0))
        return case((empty, exp.null()), default=cast(fn("to_json", matches.copy()), "VARCHAR")), Kind.JSON
    if len(call.args) == 2:
        extract = "dbk_json_extract" if call.constant(1) is not None else "dbk_json_extract_at"
        return fn(extract, call.text(0), _json_path(call, 1)), Kind.JSON
    return _extract_all(call), Kind.JSON


def _extract_all(call: Call) -> exp.Expression:
    """Several paths: one JSON array of what they find, a wildcard's values one by one, a path that finds
    nothing left out; NULL when none finds anything or a path is NULL."""
    found: list[exp.Expression] = []
    for i in range(1, len(call.args)):
        value = _matches(call, i)
        if value is None:
            value = fn("json_extract", call.text(0), _json_path(call, i))
            value = case((exp.Is(this=value, expression=exp.null()), cast(exp.Array(expressions=[]), "JSON[]")),
                         default=exp.Array(expressions=[value.copy()]))  # fmt: skip
        found.append(value)
    listed = fn("list_concat", *found) if len(found) > 1 else found[0]
    any_null_path = exp.or_(*[exp.Is(this=call.arg(i), expression=exp.null()) for i in range(1, len(call.args))])
    nothing = exp.EQ(this=fn("len", listed.copy()), expression=lit(0))
    return case((any_null_path, exp.null()), (nothing, exp.null()), default=cast(fn("to_json", listed), "VARCHAR"))


@doris("json_extract_no_quotes", "jsonb_extract_no_quotes")
@_paths_checked(1)
def _json_extract_no_quotes(call: Call) -> Lowered:
    """json_extract of one path, a string value without its quotes; of several, as json_extract lists them."""
    if len(call.args) > 2:
        return _extract_all(call), Kind.JSON
    call.arity(2)
    return fn("dbk_json_unquote", fn("dbk_json_extract", call.text(0), _json_path(call, 1))), Kind.STRING


@doris("json_keys", "jsonb_keys")
@_paths_checked(1)
def _json_keys(call: Call) -> Lowered:
    """The keys of the object at the path (``$`` by default), in document order; NULL for anything else."""
    call.arity(1, 2)
    if len(call.args) == 2 and _is_wildcard(call, 1):
        raise DorisError("In this situation, path expressions may not contain the * and ** tokens or an array range.")
    path = _json_path(call, 1) if len(call.args) == 2 else lit("$")
    is_object = exp.EQ(this=fn("dbk_json_type_raw", call.text(0), path), expression=lit("OBJECT"))
    return case((is_object, fn("json_keys", call.text(0), path.copy()))), Kind.ARRAY


@doris("json_valid", "jsonb_valid")
def _json_valid(call: Call) -> Lowered:
    call.arity(1)
    text = call.text(0)
    return case(
        (exp.Is(this=text, expression=exp.null()), exp.null()), default=cast(fn("json_valid", text.copy()), "INTEGER")
    ), Kind.INT


@doris("json_exists_path", "jsonb_exists_path")
@_paths_checked(1)
def _json_exists_path(call: Call) -> Lowered:
    call.arity(2)
    matches = _matches(call, 1)
    if matches is not None:  # a wildcard path matches a list of values: it exists if any does
        return exp.GT(this=fn("len", matches), expression=lit(0)), Kind.BOOLEAN
    return fn("dbk_json_exists", call.text(0), _json_path(call, 1)), Kind.BOOLEAN


@doris("json_extract_isnull", "jsonb_extract_isnull")
@_paths_checked(1)
def _json_extract_isnull(call: Call) -> Lowered:
    call.arity(2)
    kind = fn("dbk_json_type", call.text(0), _json_path(call, 1))
    return case(
        (exp.Is(this=kind, expression=exp.null()), exp.null()), default=exp.EQ(this=kind.copy(), expression=lit("null"))
    ), Kind.BOOLEAN


@doris("json_type", "jsonb_type")
@_paths_checked(1)
def _json_type(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_json_type", call.text(0), _json_path(call, 1)), Kind.STRING


@doris("json_length")
@_paths_checked(1)
def _json_length(call: Call) -> Lowered:
    call.arity(1, 2)
    path = _json_path(call, 1) if len(call.args) == 2 else lit("$")
    return cast(fn("dbk_json_length", call.text(0), path), "INTEGER"), Kind.INT


@doris("json_quote")
def _json_quote(call: Call) -> Lowered:
    call.arity(1)
    return cast(fn("to_json", call.text(0)), "VARCHAR"), Kind.STRING


@doris("json_search")
def _json_search(call: Call) -> Lowered:
    """Doris's three-argument form (it refuses an escape or paths); a one_or_all that is neither fails the
    query, when planned if it is a constant."""
    call.arity(3)
    mode = call.constant(1)
    if mode is not None and mode.lower() not in ("one", "all"):
        raise DorisError(f"[INVALID_ARGUMENT]the one_or_all argument {mode} is not 'one' not 'all'")
    one_or_all = fn("lower", call.text(1))
    message = fn(
        "concat", lit("[INVALID_ARGUMENT]the one_or_all argument "), call.text(1), lit(" is not 'one' not 'all'")
    )
    refused = fn("error", message)
    every = exp.EQ(this=one_or_all.copy(), expression=lit("all"))
    found = fn("dbk_json_search", call.text(0), every, call.text(2))
    unknown = exp.or_(
        exp.Is(this=one_or_all.copy(), expression=exp.null()), exp.Is(this=call.text(2), expression=exp.null())
    )
    invalid = exp.Not(this=exp.In(this=one_or_all, expressions=[lit("one"), lit("all")]))
    return case((invalid, refused), (unknown, exp.null()), default=found), Kind.JSON


@doris("json_unquote")
def _json_unquote(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_json_unquote", call.text(0)), Kind.STRING


@doris("json_contains", "jsonb_contains")
@_paths_checked(2)
def _json_contains(call: Call) -> Lowered:
    """NULL when the document or the candidate is not JSON, as Doris answers."""
    call.arity(2, 3)
    doc = call.text(0) if len(call.args) == 2 else fn("dbk_json_extract", call.text(0), _json_path(call, 2))
    return fn("json_contains", as_json(doc), as_json(call.text(1))), Kind.BOOLEAN


@doris("json_array")
def _json_array(call: Call) -> Lowered:
    values = [_json_value(call, i) for i in range(len(call.args))]
    return cast(fn("json_array", *values), "VARCHAR"), Kind.JSON


@doris("json_array_ignore_null")
def _json_array_ignore_null(call: Call) -> Lowered:
    """json_array of the arguments that are not NULL."""
    values = exp.Array(expressions=[fn("to_json", _json_value(call, i)) for i in range(len(call.args))])
    kept = fn("list_filter", values, lambda_of(lambda x: exp.Not(this=exp.Is(this=x, expression=exp.null()))))
    return cast(fn("to_json", kept), "VARCHAR"), Kind.JSON


@doris("json_object")
def _json_object(call: Call) -> Lowered:
    if len(call.args) % 2:
        raise DorisError("json_object takes key / value pairs")
    pairs: list[exp.Expression] = []
    for i in range(0, len(call.args), 2):
        if call.kinds[i] == Kind.NULL:
            raise DorisError("json_object key can't be NULL")
        pairs += [call.text(i), _json_value(call, i + 1)]
    return cast(fn("json_object", *pairs), "VARCHAR"), Kind.JSON


def _json_value(call: Call, i: int) -> exp.Expression:
    if call.kinds[i] == Kind.JSON:
        return cast(call.arg(i), "JSON")
    return call.arg(i)


def as_json(node: exp.Expression) -> exp.Expression:
    """Text read as a JSON value, printed as Doris prints one: no blanks between tokens
    (``{"a":1,"b":[1,2]}``); NULL when the text is not JSON as Doris reads it."""
    return fn("dbk_json", node)


@doris(
    "json_parse", "jsonb_parse", "json_parse_error_to_null", "jsonb_parse_error_to_null", "json_parse_nullable",
    "jsonb_parse_nullable", "json_parse_error_to_invalid", "jsonb_parse_error_to_invalid", "json_parse_notnull",
    "jsonb_parse_notnull",
)  # fmt: skip
def _json_parse(call: Call) -> Lowered:
    call.arity(1)
    return as_json(call.text(0)), Kind.JSON


@doris("json_parse_error_to_value", "jsonb_parse_error_to_value")
def _json_parse_error_to_value(call: Call) -> Lowered:
    """The text as JSON; the default (``{}`` when none is given) when the text is not JSON."""
    call.arity(1, 2)
    default = as_json(call.text(1)) if len(call.args) == 2 else lit("{}")
    text = call.text(0)
    return case(
        (exp.Is(this=text, expression=exp.null()), exp.null()), default=fn("coalesce", as_json(text.copy()), default)
    ), Kind.JSON


def _modify_path(call: Call, i: int) -> exp.Expression:
    """A path of json_set and its kin: a constant one is checked when the query is planned, one read from
    the data when it is run (``dbk_json_modify``)."""
    constant = call.constant(i)
    if constant is not None:
        check_path(constant)
        if "*" in constant:
            raise DorisError(
                "In this situation, path expressions may not contain the * and ** tokens or an array range."
            )
    return call.text(i)


def _as_json_value(call: Call, i: int) -> exp.Expression:
    """A value as the JSON it becomes in a document: a JSON value stays JSON, a string is a JSON string, a number
    a number, NULL is null."""
    if call.kinds[i] == Kind.JSON:
        value = as_json(call.arg(i))
    elif call.kinds[i] == Kind.DECIMAL:  # with its scale's digits, as Doris prints a decimal (to_json reads a double)
        value = cast(call.arg(i), "VARCHAR")
    else:
        value = cast(fn("to_json", call.arg(i)), "VARCHAR")
    return fn("coalesce", value, lit("null"))


def _json_modify(mode: str) -> Lowering:
    """json_set, json_insert or json_replace: path / value pairs, each applied to the document the pairs before
    it left."""

    def lower(call: Call) -> Lowered:
        if len(call.args) < 3 or len(call.args) % 2 == 0:
            raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
        doc = as_json(call.text(0))
        for i in range(1, len(call.args), 2):
            doc = fn("dbk_json_modify", doc, _modify_path(call, i), _as_json_value(call, i + 1), lit(mode))
        return doc, Kind.JSON

    return lower


for _mode in ("set", "insert", "replace"):
    doris(f"json_{_mode}", f"jsonb_{_mode}")(_json_modify(_mode))


@doris("json_remove")
def _json_remove(call: Call) -> Lowered:
    """The document without what each path finds, path after path."""
    if len(call.args) < 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    doc = as_json(call.text(0))
    for i in range(1, len(call.args)):
        doc = fn("dbk_json_modify", doc, _modify_path(call, i), exp.null(), lit("remove"))
    return doc, Kind.JSON
