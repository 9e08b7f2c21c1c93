"""Doris's string functions: 1-based positions, 0 on a miss, NULL handling as Doris's."""

from __future__ import annotations

import re

from sqlglot import exp

from dorisbk.engine.functions.catalog import Call, Lowered, Lowering, case, cast, doris, fn, lambda_of, lit, try_cast
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError


@doris("md5sum")
def _md5sum(call: Call) -> Lowered:
    return fn("md5", _concat_all(call)), Kind.STRING


@doris("sha2")
def _sha2(call: Call) -> Lowered:
    call.arity(2)
    bits = call.constant(1)
    if bits != "256":
        raise DorisError("sha2 supports 256 bits here")
    return fn("sha256", call.text(0)), Kind.STRING


@doris("substr", "substring", "mid")
def _substring(call: Call) -> Lowered:
    call.arity(2, 3)
    length = call.integer(2) if len(call.args) == 3 else lit(2**31 - 1)
    return fn("dbk_substr", call.text(0), call.integer(1), length), Kind.STRING


@doris("left", "strleft")
def _left(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_left", call.text(0), call.integer(1)), Kind.STRING


@doris("right", "strright")
def _right(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_right", call.text(0), call.integer(1)), Kind.STRING


@doris("substring_index")
def _substring_index(call: Call) -> Lowered:
    call.arity(3)
    return fn("dbk_substring_index", call.text(0), call.text(1), call.integer(2)), Kind.STRING


@doris("locate")
def _locate(call: Call) -> Lowered:
    call.arity(2, 3)
    if len(call.args) == 2:
        return fn("instr", call.text(1), call.text(0)), Kind.INT
    return fn("dbk_locate", call.text(0), call.text(1), call.integer(2)), Kind.INT


def _pad(duck_name: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(3)
        text, size, filler = call.text(0), call.integer(1), call.text(2)
        padded = fn(duck_name, text, cast(size, "INTEGER"), filler)
        empty_filler = exp.And(
            this=exp.EQ(this=filler.copy(), expression=lit("")),
            expression=exp.GT(this=size.copy(), expression=fn("length", text.copy())),
        )
        return case(
            (exp.LT(this=size.copy(), expression=lit(0)), exp.null()), (empty_filler, lit("")), default=padded
        ), Kind.STRING

    return lower


doris("lpad")(_pad("lpad"))
doris("rpad")(_pad("rpad"))


def _concat_all(call: Call) -> exp.Expression:
    """The arguments' texts joined, NULL when any is NULL (Doris's CONCAT)."""
    if not call.args:
        return lit("")
    joined = call.text(0)
    for i in range(1, len(call.args)):
        joined = exp.DPipe(this=joined, expression=call.text(i), safe=False)
    return joined


@doris("concat")
def _concat(call: Call) -> Lowered:
    return _concat_all(call), Kind.STRING


@doris("concat_ws")
def _concat_ws(call: Call) -> Lowered:
    """With arrays after the separator: all their non-NULL elements joined ('' when an array is NULL)."""
    if len(call.args) < 2:
        raise DorisError("concat_ws needs a separator and at least one value")
    if all(kind in (Kind.ARRAY, Kind.NULL) for kind in call.kinds[1:]) and Kind.ARRAY in call.kinds[1:]:
        separator = call.text(0)
        lists = [call.arg(i) for i in range(1, len(call.args))]
        items = fn(
            "list_filter", fn("flatten", exp.Array(expressions=lists)), lambda_of(lambda x: x.is_(exp.null()).not_())
        )
        any_null = exp.or_(*[exp.Is(this=a.copy(), expression=exp.null()) for a in lists])
        return case(
            (exp.Is(this=separator.copy(), expression=exp.null()), exp.null()),
            (any_null, lit("")),
            default=fn("dbk_join", cast(items, "VARCHAR[]"), separator),
        ), Kind.STRING
    return fn("concat_ws", *[call.text(i) for i in range(len(call.args))]), Kind.STRING


@doris("repeat")
def _repeat(call: Call) -> Lowered:
    call.arity(2)
    count = cast(call.integer(1), "BIGINT")
    positive = case((exp.LT(this=count, expression=lit(0)), lit(0)), default=count.copy())
    return fn("repeat", call.text(0), positive), Kind.STRING


@doris("reverse")
def _reverse(call: Call) -> Lowered:
    call.arity(1)
    if call.kinds[0] == Kind.ARRAY:
        return fn("list_reverse", call.arg(0)), Kind.ARRAY
    return fn("reverse", call.text(0)), Kind.STRING


@doris("space")
def _space(call: Call) -> Lowered:
    call.arity(1)
    count = cast(call.integer(0), "BIGINT")
    positive = case((exp.LT(this=count, expression=lit(0)), lit(0)), default=count.copy())
    return fn("repeat", lit(" "), positive), Kind.STRING


@doris("ascii")
def _ascii(call: Call) -> Lowered:
    """The first byte's value (of a multi-byte character too), 0 for ''."""
    call.arity(1)
    text = call.text(0)
    first = cast(
        exp.DPipe(this=lit("0x"), expression=fn("left", fn("hex", text.copy()), lit(2)), safe=False), "INTEGER"
    )
    return case((exp.EQ(this=text, expression=lit("")), lit(0)), default=first), Kind.INT


@doris("split_part")
def _split_part(call: Call) -> Lowered:
    call.arity(3)
    return fn("dbk_split_part", call.text(0), call.text(1), call.integer(2)), Kind.STRING


@doris("money_format")
def _money_format(call: Call) -> Lowered:
    call.arity(1)
    if call.kinds[0] in (Kind.INT, Kind.LARGEINT):  # whole: its digits grouped, LARGEINT's least value too
        grouped = fn("format", lit("{:,}"), cast(call.arg(0), "HUGEINT"))
        return exp.DPipe(this=grouped, expression=lit(".00"), safe=False), Kind.STRING
    value = call.arg(0) if call.kinds[0] == Kind.DECIMAL else try_cast(cast(call.number(0), "DOUBLE"), "DECIMAL(38, 4)")
    return fn("dbk_money", fn("round", value, lit(2))), Kind.STRING


def _text_call(duck_name: str, kind: Kind, *counts: int) -> Lowering:
    """A DuckDB function with Doris's meaning, its arguments as text."""

    def lower(call: Call) -> Lowered:
        call.arity(*counts)
        return fn(duck_name, *[call.text(i) for i in range(len(call.args))]), kind

    return lower


# Doris's string functions that are DuckDB's (or one macro of ours) once their arguments are text
for _names, _duck_name, _kind, _counts in (
    (("md5",), "md5", Kind.STRING, (1,)),
    (("sha1", "sha"), "sha1", Kind.STRING, (1,)),
    (("length",), "strlen", Kind.INT, (1,)),  # bytes, as Doris counts them
    (("char_length", "character_length"), "length", Kind.INT, (1,)),
    (("instr",), "instr", Kind.INT, (2,)),
    (("upper", "ucase"), "upper", Kind.STRING, (1,)),
    (("lower", "lcase"), "lower", Kind.STRING, (1,)),
    (("initcap",), "dbk_initcap", Kind.STRING, (1,)),
    (("replace",), "replace", Kind.STRING, (3,)),
    (("split_by_string", "split_by_char"), "dbk_split_by_string", Kind.ARRAY, (2,)),
    (("starts_with",), "starts_with", Kind.BOOLEAN, (2,)),
    (("ends_with",), "ends_with", Kind.BOOLEAN, (2,)),
    (("unhex",), "dbk_unhex", Kind.STRING, (1,)),
    (("from_base64",), "dbk_from_base64", Kind.STRING, (1,)),
    (("regexp_replace_one",), "regexp_replace", Kind.STRING, (3,)),
    (("regexp", "rlike"), "regexp_matches", Kind.BOOLEAN, (2,)),
    (("trim_in",), "trim", Kind.STRING, (1, 2)),
    (("ltrim_in",), "ltrim", Kind.STRING, (1, 2)),
    (("rtrim_in",), "rtrim", Kind.STRING, (1, 2)),
    (("url_encode",), "dbk_url_encode", Kind.STRING, (1,)),
    (("url_decode",), "url_decode", Kind.STRING, (1,)),
    (("parse_data_size",), "dbk_parse_data_size", Kind.LARGEINT, (1,)),
    (("unhex_null",), "dbk_unhex_null", Kind.STRING, (1,)),
    (("soundex",), "dbk_soundex", Kind.STRING, (1,)),
    (("replace_empty",), "dbk_replace_empty", Kind.STRING, (3,)),
):
    doris(*_names)(_text_call(_duck_name, _kind, *_counts))


@doris("translate")
def _translate(call: Call) -> Lowered:
    call.arity(3)
    texts = [call.text(i) for i in range(3)]
    any_null = exp.or_(*[exp.Is(this=t.copy(), expression=exp.null()) for t in texts])
    return case((any_null, exp.null()), default=fn("translate", *texts)), Kind.STRING


@doris("sub_replace")
def _sub_replace(call: Call) -> Lowered:
    call.arity(3, 4)
    new = call.text(1)
    size = call.integer(3) if len(call.args) == 4 else fn("length", new.copy())
    return fn("dbk_sub_replace", call.text(0), new, call.integer(2), size), Kind.STRING


@doris("to_iso8601")
def _to_iso8601(call: Call) -> Lowered:
    call.arity(1)
    if call.kinds[0] == Kind.DATE:
        return fn("strftime", call.arg(0), lit("%Y-%m-%d")), Kind.STRING
    return fn("strftime", call.datetime(0), lit("%Y-%m-%dT%H:%M:%S.%f")), Kind.STRING


@doris("previous_day")
def _previous_day(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_previous_day", call.date(0), fn("dbk_weekday_name", call.text(1), lit("previous_day"))), Kind.DATE


@doris("next_day")
def _next_day(call: Call) -> Lowered:
    call.arity(2)
    return fn("dbk_next_day", call.date(0), fn("dbk_weekday_name", call.text(1), lit("next_day"))), Kind.DATE


@doris("null_or_empty")
def _null_or_empty(call: Call) -> Lowered:
    call.arity(1)
    text = call.text(0)
    return exp.Or(
        this=exp.Is(this=text, expression=exp.null()), expression=exp.EQ(this=text.copy(), expression=lit(""))
    ), Kind.BOOLEAN


@doris("not_null_or_empty")
def _not_null_or_empty(call: Call) -> Lowered:
    node, kind = _null_or_empty(call)
    return exp.Not(this=exp.Paren(this=node)), kind


@doris("append_trailing_char_if_absent")
def _append_trailing(call: Call) -> Lowered:
    call.arity(2)
    text, tail = call.text(0), call.text(1)
    appended = case(
        (exp.NEQ(this=fn("length", tail), expression=lit(1)), exp.null()),
        (fn("ends_with", text, tail.copy()), text.copy()),
        default=exp.DPipe(this=text.copy(), expression=tail.copy(), safe=False),
    )
    return appended, Kind.STRING


@doris("strcmp")
def _strcmp(call: Call) -> Lowered:
    call.arity(2)
    a, b = call.text(0), call.text(1)
    return case(
        (exp.LT(this=a, expression=b), lit(-1)), (exp.GT(this=a.copy(), expression=b.copy()), lit(1)), default=lit(0)
    ), Kind.INT


@doris("find_in_set")
def _find_in_set(call: Call) -> Lowered:
    call.arity(2)
    needle, haystack = call.text(0), call.text(1)
    found = fn("coalesce", fn("list_position", fn("string_split", haystack, lit(",")), needle), lit(0))
    unknown = exp.or_(
        exp.Is(this=needle.copy(), expression=exp.null()), exp.Is(this=haystack.copy(), expression=exp.null())
    )
    return case((unknown, exp.null()), default=found), Kind.INT


@doris("elt")
def _elt(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("elt needs an index and at least one string")
    items = exp.Array(expressions=[call.text(i) for i in range(1, len(call.args))])
    index = cast(call.integer(0), "BIGINT")
    return case(
        (exp.LT(this=index, expression=lit(1)), exp.null()), default=fn("list_extract", items, index.copy())
    ), Kind.STRING


@doris("field")
def _field(call: Call) -> Lowered:
    if len(call.args) < 2:
        raise DorisError("field needs a value and at least one candidate")
    items = exp.Array(expressions=[call.arg(i) for i in range(1, len(call.args))])
    return fn("coalesce", fn("list_position", items, call.arg(0)), lit(0)), Kind.INT


@doris("hex")
def _hex(call: Call) -> Lowered:
    call.arity(1)
    value = call.arg(0) if call.kinds[0] in (Kind.INT, Kind.LARGEINT) else call.text(0)
    return fn("upper", fn("hex", value)), Kind.STRING


@doris("to_base64")
def _to_base64(call: Call) -> Lowered:
    call.arity(1)
    return fn("to_base64", fn("encode", call.text(0))), Kind.STRING


@doris("regexp_replace")
def _regexp_replace(call: Call) -> Lowered:
    call.arity(3)
    return fn("regexp_replace", call.text(0), call.text(1), call.text(2), lit("g")), Kind.STRING


def _group_count(pattern: str) -> int:
    """The capturing groups of a regular expression: each '(' neither escaped nor opening '(?...'."""
    plain = re.sub(r"\\.", "", pattern)
    return plain.count("(") - plain.count("(?")


def _groups(call: Call) -> tuple[int, exp.Expression | None]:
    """The pattern's group count: known now for a literal (no expression), else at most 9, with an expression
    that counts them per row."""
    pattern = call.constant(1)
    if pattern is not None and call.kinds[1] == Kind.STRING:
        return _group_count(pattern), None
    return 9, fn("dbk_regex_groups", call.text(1))


def _regexp_group(or_null: bool) -> Lowering:
    """regexp_extract / regexp_extract_or_null(s, pattern, group): the group of the first match; '' (NULL for
    _or_null) when nothing matches or the pattern has no such group. The group may be a column."""

    def lower(call: Call) -> Lowered:
        call.arity(3)
        text, pattern = call.text(0), call.text(1)
        most, counted = _groups(call)
        group = call.constant(2)
        index = cast(call.integer(2), "BIGINT")
        numbers = [int(group)] if group is not None and group.isdigit() else range(most + 1)
        whens = []
        for number in numbers:
            if number > most:
                continue
            condition: exp.Expression = exp.EQ(this=index.copy(), expression=lit(number))
            if counted is not None and number > 0:
                condition = exp.and_(condition, exp.GTE(this=counted.copy(), expression=lit(number)))
            whens.append((condition, fn("regexp_extract", text.copy(), pattern.copy(), lit(number))))
        missing = exp.null() if or_null else lit("")
        unknown = exp.or_(*[exp.Is(this=a.copy(), expression=exp.null()) for a in (text, pattern, index)])
        found = case((unknown, exp.null()), *whens, default=missing)
        if or_null:
            found = case((fn("regexp_matches", text.copy(), pattern.copy()), found))
        return found, Kind.STRING

    return lower


doris("regexp_extract")(_regexp_group(or_null=False))
doris("regexp_extract_or_null")(_regexp_group(or_null=True))


@doris("regexp_extract_all")
def _regexp_extract_all(call: Call) -> Lowered:
    """The first group of every non-empty match as ['a','b'] text; '' for none (or a pattern without groups)."""
    call.arity(2, 3)
    group = call.constant(2) if len(call.args) == 3 else "1"
    if group is None or not group.isdigit():
        raise DorisError("regexp_extract_all's group must be a constant")
    text, pattern = call.text(0), call.text(1)
    unknown = exp.or_(exp.Is(this=text, expression=exp.null()), exp.Is(this=pattern, expression=exp.null()))
    most, counted = _groups(call)
    if int(group) > most:
        return case((unknown, exp.null()), default=lit("")), Kind.STRING
    matches = fn("regexp_extract_all", text.copy(), pattern.copy(), lit(int(group)))
    found = fn("list_filter", matches, lambda_of(lambda x: exp.NEQ(this=x, expression=lit(""))))
    whens = [(unknown.copy(), exp.null())]
    if counted is not None:
        whens.append((exp.LT(this=counted, expression=lit(int(group))), lit("")))
    whens.append((exp.EQ(this=fn("len", found), expression=lit(0)), lit("")))
    return case(*whens, default=fn("dbk_string_list", found.copy())), Kind.STRING


@doris("quote")
def _quote(call: Call) -> Lowered:
    """The text between single quotes, as Doris writes it (nothing inside is escaped; the suites' .out files
    show a backslash doubled because their writer escapes it)."""
    call.arity(1)
    return exp.DPipe(
        this=exp.DPipe(this=lit("'"), expression=call.text(0), safe=False), expression=lit("'"), safe=False
    ), Kind.STRING


@doris("mask")
def _mask(call: Call) -> Lowered:
    """Upper-case letters as X, lower-case as x, digits as n, or as the first characters of the arguments."""
    call.arity(1, 2, 3, 4)
    chars = [call.text(i) if i < len(call.args) else lit(default) for i, default in ((1, "X"), (2, "x"), (3, "n"))]
    return fn("dbk_mask", call.text(0), *chars), Kind.STRING


def _mask_n(first: bool) -> Lowering:
    """mask_first_n / mask_last_n: the characters within the first (last) n bytes masked as ``mask`` does, all
    of them without n."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2)
        text = call.text(0)
        if len(call.args) == 1:
            return fn("dbk_mask", text, lit("X"), lit("x"), lit("n")), Kind.STRING
        n = fn("dbk_chars_in_bytes", text.copy(), cast(call.integer(1), "BIGINT"), exp.false() if first else exp.true())
        size = fn("length", text.copy())
        if first:
            head, tail = (
                fn("left", text.copy(), n),
                fn("substr", text.copy(), exp.Add(this=n.copy(), expression=lit(1))),
            )
            masked = exp.DPipe(this=fn("dbk_mask", head, lit("X"), lit("x"), lit("n")), expression=tail, safe=False)
        else:
            cut = fn("greatest", exp.Sub(this=size, expression=n), lit(0))
            head, tail = (
                fn("left", text.copy(), cut),
                fn("substr", text.copy(), exp.Add(this=cut.copy(), expression=lit(1))),
            )
            masked = exp.DPipe(this=head, expression=fn("dbk_mask", tail, lit("X"), lit("x"), lit("n")), safe=False)
        return masked, Kind.STRING

    return lower


doris("mask_first_n")(_mask_n(first=True))
doris("mask_last_n")(_mask_n(first=False))


@doris("digital_masking")
def _digital_masking(call: Call) -> Lowered:
    """Doris's alias function: the first three and last four digits around ``****``."""
    call.arity(1)
    text = call.text(0)
    masked = exp.DPipe(this=fn("left", text, lit(3)), expression=lit("****"), safe=False)
    return exp.DPipe(this=masked, expression=fn("right", text.copy(), lit(4)), safe=False), Kind.STRING


for _names, _duck_name in (
    (("protocol",), "dbk_url_protocol"),
    (("domain",), "dbk_url_host"),
):
    doris(*_names)(_text_call(_duck_name, Kind.STRING, 1))


@doris("domain_without_www")
def _domain_without_www(call: Call) -> Lowered:
    call.arity(1)
    return fn("regexp_replace", fn("dbk_url_host", call.text(0)), lit("^www\\."), lit("")), Kind.STRING


@doris("extract_url_parameter")
def _extract_url_parameter(call: Call) -> Lowered:
    """The first value of the named parameter of the URL's query string, undecoded; '' when there is none."""
    call.arity(2)
    return fn("dbk_url_parameter", call.text(0), call.text(1)), Kind.STRING


@doris("multi_search_all_positions")
def _multi_search_all_positions(call: Call) -> Lowered:
    """The byte position (from 1) of each needle's first occurrence in the text, 0 where it is absent."""
    call.arity(2)
    text = call.text(0)
    found = exp.Lambda(
        this=case(
            (exp.EQ(this=fn("instr", text, exp.column("__n")), expression=lit(0)), lit(0)),
            default=exp.Add(
                this=fn(
                    "strlen",
                    fn(
                        "left",
                        text.copy(),
                        exp.Sub(this=fn("instr", text.copy(), exp.column("__n")), expression=lit(1)),
                    ),
                ),
                expression=lit(1),
            ),
        ),
        expressions=[exp.to_identifier("__n")],
    )
    return fn("list_transform", call.arg(1), found), Kind.ARRAY


@doris("multi_match_any")
def _multi_match_any(call: Call) -> Lowered:
    """1 when any of the regular expressions matches somewhere in the text, else 0."""
    call.arity(2)
    text = call.text(0)
    matches = fn("list_transform", call.arg(1), lambda_of(lambda p: fn("regexp_matches", text, p)))
    return cast(fn("coalesce", fn("list_bool_or", matches), exp.false()), "TINYINT"), Kind.INT


@doris("str_to_map")
def _str_to_map(call: Call) -> Lowered:
    """A MAP<STRING, STRING> from 'k:v,k:v' text; the delimiters default to ',' and ':'."""
    call.arity(1, 2, 3)
    texts = [call.text(i) for i in range(len(call.args))] + [lit(","), lit(":")][len(call.args) - 1 :]
    return fn("dbk_str_to_map", *texts), Kind.MAP


def _bits(call: Call, wide: bool) -> exp.Expression:
    """The first argument as a 128-bit whole number. MAKE_SET's signature takes a BIGINT only (a LARGEINT does
    not narrow to it); EXPORT_SET's takes wider numbers too."""
    value = call.constant(0)
    narrow = call.kinds[0] in (Kind.INT, Kind.BOOLEAN, Kind.STRING, Kind.NULL, Kind.UNKNOWN) and not (
        value is not None and value.lstrip("-").isdigit() and not -(2**63) <= int(value) < 2**63
    )
    if not (wide or narrow):
        raise DorisError(f"Can not find the compatibility function signature: {call.name}")
    return try_cast(call.arg(0), "HUGEINT")


@doris("export_set")
def _export_set(call: Call) -> Lowered:
    """EXPORT_SET(bits, on, off[, separator[, count]]): `on` or `off` for each of the lowest `count` bits (64
    when it is out of 0..64), lowest first."""
    call.arity(3, 4, 5)
    sep = call.text(3) if len(call.args) > 3 else lit(",")
    count = call.integer(4) if len(call.args) > 4 else lit(64)
    bits = _bits(call, wide=True)
    return fn("dbk_export_set", bits, call.text(1), call.text(2), sep, count), Kind.STRING


@doris("make_set")
def _make_set(call: Call) -> Lowered:
    """MAKE_SET(bits, s1, s2...): the non-NULL strings whose bit (s1 the lowest) is set, comma-separated."""
    if len(call.args) < 2:
        raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
    items = exp.Array(expressions=[call.text(i) for i in range(1, len(call.args))])
    return fn("dbk_make_set", _bits(call, wide=False), items), Kind.STRING


@doris("count_substrings")
def _count_substrings(call: Call) -> Lowered:
    """The non-overlapping occurrences of the pattern, from the 1-based start position when one is given
    (0 for a start outside the text)."""
    call.arity(2, 3)
    text, pattern = call.text(0), call.text(1)
    if len(call.args) == 2:
        return fn("dbk_count_substrings", text, pattern), Kind.INT
    start = cast(call.integer(2), "BIGINT")
    before = exp.LT(this=start, expression=lit(1))
    rest = case((before, fn("left", text, lit(0))), default=fn("substr", text.copy(), start.copy()))
    return fn("dbk_count_substrings", rest, pattern), Kind.INT


@doris("split_by_regexp", "regexp_split_to_array")
def _split_by_regexp(call: Call) -> Lowered:
    """The text split on a regular expression, into at most `limit` pieces when a limit is given: a positive
    literal, NULL for one beyond INT."""
    call.arity(2, 3)
    text, pattern = call.text(0), call.text(1)
    if len(call.args) == 2:
        return fn("dbk_split_regexp", text, pattern, lit(2**31 - 1)), Kind.ARRAY
    limit = call.constant(2)
    if limit is None or not limit.isdigit() or int(limit) == 0:
        raise DorisError(f"the third parameter of {call.name} function must be a positive constant")
    if int(limit) > 2**31 - 1:
        return cast(exp.null(), "VARCHAR[]"), Kind.ARRAY
    return fn("dbk_split_regexp", text, pattern, lit(int(limit))), Kind.ARRAY


@doris("top_level_domain")
def _top_level_domain(call: Call) -> Lowered:
    """The URL host's last label ('' when the host is no dotted domain)."""
    call.arity(1)
    text = call.text(0)
    found = fn("coalesce", fn("list_extract", fn("dbk_url_labels", text), lit(-1)), lit(""))
    return case((exp.Is(this=text.copy(), expression=exp.null()), exp.null()), default=found), Kind.STRING


@doris("first_significant_subdomain")
def _first_significant_subdomain(call: Call) -> Lowered:
    call.arity(1)
    return fn("dbk_url_domain_part", call.text(0), exp.false()), Kind.STRING


@doris("cut_to_first_significant_subdomain")
def _cut_to_first_significant_subdomain(call: Call) -> Lowered:
    """The host from its first significant subdomain on ('www.google.com.cn' -> 'google.com.cn')."""
    call.arity(1)
    return fn("dbk_url_domain_part", call.text(0), exp.true()), Kind.STRING


# encode_as_<suffix>: the integer's width in bytes and its DuckDB type
_CODE_WIDTHS = {
    "smallint": (2, "SMALLINT"), "int": (4, "INTEGER"), "bigint": (8, "BIGINT"), "largeint": (16, "HUGEINT"),
}  # fmt: skip


def _encode_as(width: int, duck_type: str) -> Lowering:
    def lower(call: Call) -> Lowered:
        call.arity(1)
        return cast(fn("dbk_encode_varchar", call.text(0), lit(width)), duck_type), Kind.INT

    return lower


for _suffix, (_width, _duck_type) in _CODE_WIDTHS.items():
    doris(f"encode_as_{_suffix}")(_encode_as(_width, _duck_type))


@doris("decode_as_varchar")
def _decode_as_varchar(call: Call) -> Lowered:
    """The text an encode_as_<int> call packed, read at the width of the integer's type (a literal's type is
    the smallest that holds it, as Doris types literals; a TINYINT is no encoding)."""
    call.arity(1)
    value = call.constant(0)
    if value is not None and value.lstrip("-").isdigit():
        width = next((w for w, _ in _CODE_WIDTHS.values() if -(2 ** (8 * w - 1)) <= int(value) < 2 ** (8 * w - 1)), 16)
        if -128 <= int(value) < 128:
            raise DorisError("Invalid input of function decode_as_varchar")
        return fn("dbk_decode_varchar", cast(call.arg(0), "HUGEINT"), lit(width)), Kind.STRING
    arg = call.arg(0)
    width_of = case(
        *[(exp.EQ(this=fn("typeof", arg.copy()), expression=lit(t)), lit(w)) for w, t in _CODE_WIDTHS.values()],
        default=lit(16),
    )
    return fn("dbk_decode_varchar", cast(arg, "HUGEINT"), width_of), Kind.STRING


@doris("char")
def _char(call: Call) -> Lowered:
    """CHAR(n, ... USING utf8): the bytes of each non-NULL integer, read as UTF-8 (NULL when they are not).
    Lowering hands the charset's name over as the last argument."""
    charset = (call.constant(len(call.args) - 1) or "").lower()
    if charset not in ("utf8", "utf-8", "utf8mb4"):
        raise DorisError(f"only support charset name 'utf8', but got '{charset}'")
    hexes = [fn("dbk_char_hex", cast(call.integer(i), "BIGINT")) for i in range(len(call.args) - 1)]
    return fn("TRY", fn("decode", fn("unhex", fn("concat", *hexes)))), Kind.STRING


def _trim(duck_name: str, *strips: str) -> Lowering:
    """TRIM / LTRIM / RTRIM: blanks off, or with a second argument every repetition of that string (not a set of
    characters: ``trim_in`` is that)."""

    def lower(call: Call) -> Lowered:
        call.arity(1, 2)
        text = call.text(0)
        if len(call.args) == 1:
            return fn(duck_name, text), Kind.STRING
        for strip in strips:
            text = fn(strip, text, call.text(1))
        return text, Kind.STRING

    return lower


doris("trim")(_trim("trim", "dbk_strip_lead", "dbk_strip_trail"))
doris("ltrim")(_trim("ltrim", "dbk_strip_lead"))
doris("rtrim")(_trim("rtrim", "dbk_strip_trail"))


@doris("ngram_search")
def _ngram_search(call: Call) -> Lowered:
    """The n-gram similarity of the text to the pattern, n a constant."""
    call.arity(3)
    n = call.constant(2)
    if n is None or not n.isdigit() or int(n) == 0:
        raise DorisError("ngram_search's gram number must be a positive constant")
    return fn("dbk_ngram_search", call.text(0), call.text(1), lit(int(n))), Kind.DOUBLE


@doris("insert", "stuff", "overlay")
def _overlay(call: Call) -> Lowered:
    call.arity(4)
    return fn("dbk_overlay", call.text(0), call.integer(1), call.integer(2), call.text(3)), Kind.STRING


@doris("random_bytes")
def _random_bytes(call: Call) -> Lowered:
    """'0x' and the hex digits of n random bytes; an error for a negative n."""
    call.arity(1)
    n = cast(call.integer(0), "BIGINT")
    value = cast(fn("floor", exp.Mul(this=fn("random"), expression=lit(256))), "INTEGER")
    byte = fn("lpad", fn("lower", fn("hex", value)), lit(2), lit("0"))
    digits = fn("array_to_string", fn("list_transform", fn("range", n), lambda_of(lambda _: byte)), lit(""))
    invalid = exp.DPipe(
        this=exp.DPipe(this=lit("argument "), expression=cast(n.copy(), "VARCHAR"), safe=False),
        expression=lit(" of function random_bytes at row 0 was invalid"),
        safe=False,
    )
    return case(
        (exp.LT(this=n.copy(), expression=lit(0)), fn("error", invalid)),
        default=exp.DPipe(this=lit("0x"), expression=digits, safe=False),
    ), Kind.STRING


_PARTITION_UNITS = {"year", "month", "day", "hour", "minute", "second"}


@doris("auto_partition_name")
def _auto_partition_name(call: Call) -> Lowered:
    """The name Doris gives an automatic partition: for 'range', 'p' and the value truncated to the unit as
    yyyyMMddHHmmss; for 'list', 'p' and each value's readable characters followed by its length."""
    kind = (call.constant(0) or "").lower()
    if kind == "range":
        call.arity(3)
        unit = (call.constant(1) or "").lower()
        if unit not in _PARTITION_UNITS:
            raise DorisError("auto_partition_name must accept year|month|day|hour|minute|second for 2nd argument")
        start = fn("date_trunc", lit(unit), call.datetime(2))
        return exp.DPipe(this=lit("p"), expression=fn("strftime", start, lit("%Y%m%d%H%M%S")), safe=False), Kind.STRING
    if kind == "list":
        if len(call.args) < 2:
            raise DorisError(f"Can not found function '{call.name}' which has {len(call.args)} arity.")
        parts = [fn("dbk_list_partition_part", call.text(i)) for i in range(1, len(call.args))]
        return fn("concat", lit("p"), *parts), Kind.STRING
    raise DorisError("function auto_partition_name must accept range|list for 1st argument")


def like(node: exp.Like, escape: exp.Expression | None) -> exp.Expression:
    """``text LIKE pattern [ESCAPE c]`` as Doris matches it: the escape character is a backslash unless named,
    and one before anything but %, _ or itself stands for itself. A literal pattern is rewritten for DuckDB's
    LIKE with a backslash escape; any other pattern takes DuckDB's reading of the escape. NOT LIKE stays
    negated."""
    text, pattern, negate = node.this.copy(), node.expression.copy(), node.args.get("negate")
    char = "\\"
    if escape is not None:
        if not (isinstance(escape, exp.Literal) and escape.is_string):
            raise DorisError("like escape character must be a string literal")
        char = escape.name
        if len(char) != 1 or not char.isascii():
            raise DorisError("like escape character must be a single ascii character")
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return exp.Escape(this=exp.Like(this=text, expression=pattern, negate=negate), expression=lit(char))
    source, out, i = pattern.name, [], 0
    while i < len(source):
        if source[i] == char and i + 1 < len(source) and source[i + 1] in ("%", "_", char):
            out.append("\\" + source[i + 1])
            i += 2
            continue
        out.append("\\" + source[i] if source[i] in (char, "\\") else source[i])
        i += 1
    rewritten = exp.Like(this=text, expression=lit("".join(out)), negate=negate)
    return exp.Escape(this=rewritten, expression=lit("\\"))


@doris("xpath_string")
def _xpath_string(call: Call) -> Lowered:
    """The string value of an XPath 1.0 expression over an XML text (engine/xpath.py)."""
    call.arity(2)
    return fn("dbk_xpath_string", call.text(0), call.text(1)), Kind.STRING
