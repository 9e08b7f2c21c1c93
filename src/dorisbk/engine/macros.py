"""The DuckDB macros Doris's functions are lowered to (``functions.py``), created once at start.

Each is an SQL expression of DuckDB's own functions, so it runs vectorised inside DuckDB; all are
named ``dbk_*``, which the query allowlist never lets a client call directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb

# name(params) -> body, in an order where each body names only macros defined before it
MACROS: tuple[tuple[str, str], ...] = (
    # a string Doris reads as a DATETIME: ISO forms, then the compact and slashed ones, then a time of day
    # (hour('12:00:01') is 12); NULL when none fits
    (
        "dbk_datetime(s)",
        """COALESCE(TRY_CAST(trim(s) AS TIMESTAMP), TRY_STRPTIME(trim(s), '%Y%m%d%H%M%S'),
        TRY_STRPTIME(trim(s), '%Y%m%d'), TRY_STRPTIME(trim(s), '%Y/%m/%d %H:%M:%S'),
        TRY_STRPTIME(trim(s), '%Y/%m/%d'), CAST('1970-01-01' AS DATE) + TRY_CAST(trim(s) AS TIME))""",
    ),
    # zones: IANA names through ICU, fixed offsets (+08:00) by arithmetic
    ("dbk_is_offset(z)", "regexp_full_match(z, '[+-][0-9]{1,2}:[0-9]{2}')"),
    (
        "dbk_offset(z)",
        """(CASE WHEN z[1] = '-' THEN -1 ELSE 1 END)
        * (to_hours(CAST(split_part(substr(z, 2), ':', 1) AS INTEGER))
            + to_minutes(CAST(split_part(z, ':', 2) AS INTEGER)))""",
    ),
    (
        "dbk_to_utc(ts, z)",
        "CASE WHEN dbk_is_offset(z) THEN ts - dbk_offset(z) ELSE timezone('UTC', timezone(z, ts)) END",
    ),
    (
        "dbk_from_utc(ts, z)",
        "CASE WHEN dbk_is_offset(z) THEN ts + dbk_offset(z) ELSE timezone(z, timezone('UTC', ts)) END",
    ),
    # human_readable_seconds: '1 hour, 2 minutes, 42 seconds' (weeks down to seconds, zeros left out)
    ("dbk_unit_text(v, unit)", "v || ' ' || unit || CASE WHEN v = 1 THEN '' ELSE 's' END"),
    (
        "dbk_human_seconds(n)",
        """CASE WHEN n = 0 THEN '0 seconds' ELSE (CASE WHEN n < 0 THEN '-' ELSE '' END) || array_to_string(list_filter([
            CASE WHEN abs(n) // 604800 > 0 THEN dbk_unit_text(abs(n) // 604800, 'week') END,
            CASE WHEN abs(n) % 604800 // 86400 > 0 THEN dbk_unit_text(abs(n) % 604800 // 86400, 'day') END,
            CASE WHEN abs(n) % 86400 // 3600 > 0 THEN dbk_unit_text(abs(n) % 86400 // 3600, 'hour') END,
            CASE WHEN abs(n) % 3600 // 60 > 0 THEN dbk_unit_text(abs(n) % 3600 // 60, 'minute') END,
            CASE WHEN abs(n) % 60 > 0 THEN dbk_unit_text(abs(n) % 60, 'second') END],
            lambda x: x IS NOT NULL), ', ') END""",
    ),
    ("dbk_convert_tz(ts, src, dst)", "TRY(dbk_from_utc(dbk_to_utc(ts, src), dst))"),
    (
        "dbk_sec_to_time(n)",
        """printf('%s%02d:%02d:%02d', CASE WHEN n < 0 THEN '-' ELSE '' END, abs(n) // 3600,
        (abs(n) % 3600) // 60, abs(n) % 60)""",
    ),
    # MySQL's week numbering (week(), yearweek()): mf = weeks start on Monday, wy = weeks of the
    # previous / next year count, fw = week 1 is the first with a first day (else the first with 4 days)
    ("dbk_wd(d, mf)", "CASE WHEN mf THEN isodow(d) - 1 ELSE dayofweek(d) END"),
    ("dbk_first_week(wd, fw)", "(fw AND wd <> 0) OR (NOT fw AND wd >= 4)"),
    (
        "dbk_week_days(d, jan1, mf, fw)",
        """(d - jan1) + CASE WHEN dbk_first_week(dbk_wd(jan1, mf), fw)
        THEN dbk_wd(jan1, mf) - 7 ELSE dbk_wd(jan1, mf) END""",
    ),
    (
        "dbk_next_year_week(d, jan1, mf, fw)",
        """dbk_week_days(d, jan1, mf, fw) >= 364 AND (
        (NOT fw AND (dbk_wd(jan1, mf) + (make_date(year(jan1) + 1, 1, 1) - jan1)) % 7 < 4)
        OR (fw AND (dbk_wd(jan1, mf) + (make_date(year(jan1) + 1, 1, 1) - jan1)) % 7 = 0))""",
    ),
    (
        "dbk_week_core(d, jan1, mf, fw, wy)",
        """CASE WHEN wy AND dbk_next_year_week(d, jan1, mf, fw) THEN 1
        ELSE dbk_week_days(d, jan1, mf, fw) // 7 + 1 END""",
    ),
    ("dbk_week_early(d, mf)", "month(d) = 1 AND day(d) <= 7 - dbk_wd(make_date(year(d), 1, 1), mf)"),
    (
        "dbk_week_m(d, mf, wy, fw)",
        """CASE WHEN dbk_week_early(d, mf) THEN
        CASE WHEN NOT wy AND dbk_first_week(dbk_wd(make_date(year(d), 1, 1), mf), fw) THEN 0
        ELSE dbk_week_core(d, make_date(year(d) - 1, 1, 1), mf, fw, true) END
        ELSE dbk_week_core(d, make_date(year(d), 1, 1), mf, fw, wy) END""",
    ),
    # full months from a to b, as MySQL's TIMESTAMPDIFF counts them (Jan 31 -> Feb 29 is 0 months)
    (
        "dbk_months_between(a, b)",
        """(year(b) - year(a)) * 12 + month(b) - month(a)
        - CASE WHEN (year(b) - year(a)) * 12 + month(b) - month(a) > 0
                AND strftime(b, '%d%H%M%S%f') < strftime(a, '%d%H%M%S%f') THEN 1
            WHEN (year(b) - year(a)) * 12 + month(b) - month(a) < 0
                AND strftime(b, '%d%H%M%S%f') > strftime(a, '%d%H%M%S%f') THEN -1 ELSE 0 END""",
    ),
    ("dbk_mf(mode)", "(mode & 1) = 1"),
    ("dbk_fw(mode)", "CASE WHEN (mode & 1) = 1 THEN (mode & 4) = 4 ELSE (mode & 4) = 0 END"),
    ("dbk_week(d, mode)", "dbk_week_m(d, dbk_mf(mode), (mode & 2) = 2, dbk_fw(mode))"),
    (
        "dbk_yw_core(d, jan1, mf, fw)",
        """CASE WHEN dbk_next_year_week(d, jan1, mf, fw) THEN (year(jan1) + 1) * 100 + 1
        ELSE year(jan1) * 100 + dbk_week_days(d, jan1, mf, fw) // 7 + 1 END""",
    ),
    (
        "dbk_yearweek(d, mode)",
        """CASE WHEN dbk_week_early(d, dbk_mf(mode))
        THEN dbk_yw_core(d, make_date(year(d) - 1, 1, 1), dbk_mf(mode), dbk_fw(mode))
        ELSE dbk_yw_core(d, make_date(year(d), 1, 1), dbk_mf(mode), dbk_fw(mode)) END""",
    ),
    (
        "dbk_day_suffix(d)",
        """CASE WHEN d % 100 IN (11, 12, 13) THEN 'th' WHEN d % 10 = 1 THEN 'st'
        WHEN d % 10 = 2 THEN 'nd' WHEN d % 10 = 3 THEN 'rd' ELSE 'th' END""",
    ),
    # Doris's previous_day / next_day: a day name, full or abbreviated to two or more letters
    (
        "dbk_day_number(name)",
        """CASE upper(left(trim(name), 2)) WHEN 'MO' THEN 1 WHEN 'TU' THEN 2 WHEN 'WE' THEN 3
        WHEN 'TH' THEN 4 WHEN 'FR' THEN 5 WHEN 'SA' THEN 6 WHEN 'SU' THEN 7 END""",
    ),
    ("dbk_previous_day(d, name)", "d - CAST((isodow(d) - dbk_day_number(name) + 6) % 7 + 1 AS INTEGER)"),
    ("dbk_next_day(d, name)", "d + CAST((dbk_day_number(name) - isodow(d) + 6) % 7 + 1 AS INTEGER)"),
    # strings, with MySQL's positions: 1-based, negative from the end, 0 and out of range give ''
    (
        "dbk_substr(s, p, l)",
        """CASE WHEN p = 0 OR l <= 0 OR p > length(s) OR -p > length(s) THEN ''
        WHEN p > 0 THEN substring(s, p, l) ELSE substring(s, length(s) + p + 1, l) END""",
    ),
    ("dbk_left(s, n)", "CASE WHEN n <= 0 THEN '' ELSE left(s, n) END"),
    ("dbk_right(s, n)", "CASE WHEN n <= 0 THEN '' ELSE right(s, n) END"),
    (
        "dbk_substring_index(s, d, n)",
        """CASE WHEN n = 0 OR d = '' THEN ''
        WHEN n > 0 THEN array_to_string(list_slice(string_split(s, d), 1, n), d)
        ELSE array_to_string(list_slice(string_split(s, d), greatest(len(string_split(s, d)) + n + 1, 1),
            len(string_split(s, d))), d) END""",
    ),
    (
        "dbk_locate(sub, s, pos)",
        """CASE WHEN pos <= 0 OR pos > length(s) + 1 THEN 0
        WHEN instr(substring(s, pos), sub) = 0 THEN 0 ELSE instr(substring(s, pos), sub) + pos - 1 END""",
    ),
    (
        "dbk_initcap(s)",
        """array_to_string(list_transform(range(1, length(s) + 1), lambda i: CASE
        WHEN i = 1 OR NOT regexp_full_match(substring(s, i - 1, 1), '[A-Za-z0-9]') THEN upper(substring(s, i, 1))
        ELSE lower(substring(s, i, 1)) END), '')""",
    ),
    ("dbk_split_part(s, d, n)", "CASE WHEN n = 0 THEN NULL ELSE list_extract(string_split(s, d), n) END"),
    (
        "dbk_split_by_string(s, sep)",
        "CASE WHEN s = '' AND sep <> '' THEN CAST([] AS VARCHAR[]) ELSE string_split(s, sep) END",
    ),
    (
        "dbk_count_substrings(s, sub)",
        """CASE WHEN s IS NULL OR sub IS NULL THEN NULL WHEN length(sub) = 0 THEN 0
        ELSE (length(s) - length(replace(s, sub, ''))) // length(sub) END""",
    ),
    ("dbk_unhex(s)", "COALESCE(TRY(decode(unhex(s))), '')"),
    ("dbk_from_base64(s)", "TRY(decode(from_base64(s)))"),
    ("dbk_string_list(l)", """'[' || array_to_string(list_transform(l, lambda x: '''' || x || ''''), ',') || ']'"""),
    # Doris encodes as Java's URLEncoder: space as '+', '*' kept, '~' encoded
    # sub_replace(s, new, start[, length]): s with `length` characters from the 0-based start replaced
    (
        "dbk_sub_replace(s, new, start, n)",
        """CASE WHEN start < 0 OR start > length(s) OR n < 0 THEN NULL
        ELSE left(s, start) || new || substr(s, start + n + 1) END""",
    ),
    ("dbk_url_encode(s)", "replace(replace(replace(url_encode(s), '~', '%7E'), '%2A', '*'), '%20', '+')"),
    # money_format: thousands separators and two decimals, exact for DECIMAL and LARGEINT
    (
        "dbk_money(r)",
        """CASE WHEN r < 0 THEN '-' ELSE '' END || format('{:,}', CAST(trunc(abs(r)) AS HUGEINT)) || '.'
        || lpad(CAST(CAST(round((abs(r) - trunc(abs(r))) * 100) AS INTEGER) AS VARCHAR), 2, '0')""",
    ),
    # numbers: NULL where Doris answers NULL rather than an error
    ("dbk_ln(x)", "CASE WHEN x > 0 THEN ln(x) END"),
    ("dbk_log(b, x)", "CASE WHEN x > 0 AND b > 0 AND b <> 1 THEN ln(x) / ln(b) END"),
    ("dbk_truncate(x, d)", "trunc(x * pow(10, d)) / pow(10, d)"),
    # JSON: NULL for a document that does not parse or a path that does not resolve
    ("dbk_json_type_raw(j, p)", "CASE WHEN json_valid(j) THEN TRY(json_type(j, p)) END"),
    (
        "dbk_json_string(j, p)",
        """CASE WHEN dbk_json_type_raw(j, p) IN ('OBJECT', 'ARRAY') THEN CAST(json_extract(j, p) AS VARCHAR)
        WHEN json_valid(j) THEN TRY(json_extract_string(j, p)) END""",
    ),
    (
        "dbk_json_scalar(j, p, target)",
        """CASE WHEN dbk_json_type_raw(j, p) IN ('BIGINT', 'UBIGINT')
        OR (target = 'DOUBLE' AND dbk_json_type_raw(j, p) = 'DOUBLE')
        OR (target = 'BOOLEAN' AND dbk_json_type_raw(j, p) = 'BOOLEAN') THEN json_extract_string(j, p) END""",
    ),
    (
        "dbk_json_unquote(s)",
        "CASE WHEN json_valid(s) AND json_type(s) = 'VARCHAR' THEN json_extract_string(s, '$') ELSE s END",
    ),
    ("dbk_json_extract(j, p)", "CASE WHEN json_valid(j) THEN CAST(TRY(json_extract(j, p)) AS VARCHAR) END"),
    ("dbk_json_exists(j, p)", "CASE WHEN json_valid(j) THEN TRY(json_exists(j, p)) END"),
    (
        "dbk_json_int_kind(j, p)",
        """CASE WHEN abs(CAST(json_extract_string(j, p) AS HUGEINT)) <= 2147483647
        THEN 'int' ELSE 'bigint' END""",
    ),
    (
        "dbk_json_type(j, p)",
        """CASE dbk_json_type_raw(j, p) WHEN 'NULL' THEN 'null' WHEN 'BOOLEAN' THEN 'bool'
        WHEN 'BIGINT' THEN dbk_json_int_kind(j, p) WHEN 'UBIGINT' THEN dbk_json_int_kind(j, p)
        WHEN 'DOUBLE' THEN 'double' WHEN 'VARCHAR' THEN 'string'
        WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'object' END""",
    ),
    (
        "dbk_json_length(j, p)",
        """CASE dbk_json_type_raw(j, p) WHEN 'ARRAY' THEN json_array_length(j, p)
        WHEN 'OBJECT' THEN len(json_keys(j, p)) WHEN NULL THEN NULL ELSE 1 END""",
    ),
    # topn(x, n): the n most frequent values with their counts, as a JSON object, most frequent first
    (
        "dbk_topn(h, n)",
        """'{' || array_to_string(list_transform(
            list_slice(list_reverse_sort(list_transform(map_entries(h), lambda e: {'c': e.value, 'k': e.key})), 1, n),
            lambda e: CAST(to_json(CAST(e.k AS VARCHAR)) AS VARCHAR) || ':' || e.c), ',') || '}'""",
    ),
    # arrays and maps, Doris's way: order kept, NULLs first when sorted
    ("dbk_map_get(m, k)", "map_extract(m, k)[1]"),
    ("dbk_map_contains_key(m, k)", "len(map_extract(m, k)) > 0"),
    (
        "dbk_array_distinct(l)",
        "list_filter(l, lambda x, i: list_position(l, x) = i OR (x IS NULL AND list_position(l, NULL) = i))",
    ),
    ("dbk_array_sort(l)", "list_sort(l, 'ASC', 'NULLS FIRST')"),
    ("dbk_array_reverse_sort(l)", "list_sort(l, 'DESC', 'NULLS LAST')"),
    ("dbk_array_compact(l)", "list_filter(l, lambda x, i: i = 1 OR x IS DISTINCT FROM l[i - 1])"),
    ("dbk_array_popback(l)", "list_slice(l, 1, len(l) - 1)"),
    ("dbk_array_popfront(l)", "list_slice(l, 2, len(l))"),
    ("dbk_array_remove(l, v)", "list_filter(l, lambda x: x IS NULL OR x <> v)"),
    # whether list l holds x, NULL included (Doris's array_contains([1, NULL], NULL) is true)
    (
        "dbk_list_has(l, x)",
        """CASE WHEN l IS NULL THEN NULL
        WHEN x IS NULL THEN coalesce(list_bool_or(list_transform(l, lambda y: y IS NULL)), false)
        ELSE coalesce(list_contains(l, x), false) END""",
    ),
    ("dbk_array_union(a, b)", "CASE WHEN b IS NOT NULL THEN dbk_array_distinct(list_concat(a, b)) END"),
    (
        "dbk_array_intersect(a, b)",
        "CASE WHEN b IS NOT NULL THEN list_filter(dbk_array_distinct(a), lambda x: dbk_list_has(b, x)) END",
    ),
    (
        "dbk_array_except(a, b)",
        "CASE WHEN b IS NOT NULL THEN list_filter(dbk_array_distinct(a), lambda x: NOT dbk_list_has(b, x)) END",
    ),
    (
        "dbk_array_cum_sum(l)",
        """list_transform(l, lambda x, i: CASE WHEN x IS NULL AND list_sum(list_slice(l, 1, i)) IS NULL
        THEN NULL ELSE list_sum(list_slice(l, 1, i)) END)""",
    ),
    (
        "dbk_array_except_all(a, b)",
        """CASE WHEN b IS NOT NULL THEN list_filter(a, lambda x, i:
        len(list_filter(list_slice(a, 1, i), lambda y: y IS NOT DISTINCT FROM x))
        > len(list_filter(b, lambda y: y IS NOT DISTINCT FROM x))) END""",
    ),
    ("dbk_array_with_constant(n, v)", "list_transform(range(n), lambda x: v)"),
    ("dbk_array_enumerate(l)", "range(1, len(l) + 1)"),
    ("dbk_slice_start(l, o)", "CASE WHEN o > 0 THEN o WHEN o < 0 THEN len(l) + o + 1 ELSE len(l) + 1 END"),
    (
        "dbk_array_slice(l, o, n)",
        """list_slice(l, dbk_slice_start(l, o),
        CASE WHEN n IS NULL THEN len(l) ELSE dbk_slice_start(l, o) + n - 1 END)""",
    ),
    # bitmaps and HLL sketches as sorted lists of distinct UBIGINT values
    ("dbk_bitmap_of(v)", "CASE WHEN v IS NULL THEN CAST([] AS UBIGINT[]) ELSE [CAST(v AS UBIGINT)] END"),
    # a sketch's base64 form: its values as text (round-trips here; not Doris's binary layout)
    ("dbk_sketch_to_base64(b)", "to_base64(encode(array_to_string(list_sort(list_distinct(b)), ',')))"),
    ("dbk_bitmap_from_array(a)", "list_sort(list_distinct(CAST(a AS UBIGINT[])))"),
    (
        "dbk_bitmap_from_string(s)",
        """CASE WHEN trim(s) = '' THEN CAST([] AS UBIGINT[])
        WHEN list_bool_or(list_transform(string_split(s, ','), lambda x: TRY_CAST(trim(x) AS UBIGINT) IS NULL))
            THEN NULL
        ELSE dbk_bitmap_from_array(list_transform(string_split(s, ','), lambda x: CAST(trim(x) AS UBIGINT))) END""",
    ),
    ("dbk_bitmap_sorted(b)", "list_sort(list_distinct(b))"),
    # the values that stand in an odd number of the bitmaps a list holds (group_bitmap_xor)
    (
        "dbk_odd_values(l)",
        "list_sort(list_filter(list_distinct(l), lambda x: len(list_filter(l, lambda y: y = x)) % 2 = 1))",
    ),
    ("dbk_bitmap_count(b)", "COALESCE(len(list_distinct(b)), 0)"),
    ("dbk_bitmap_to_string(b)", "array_to_string(dbk_bitmap_sorted(b), ',')"),
    ("dbk_bitmap_contains(b, v)", "list_contains(b, TRY_CAST(v AS UBIGINT))"),
    # a NULL bitmap makes the result NULL, as in Doris
    ("dbk_bitmap_and(a, b)", "CASE WHEN a IS NOT NULL AND b IS NOT NULL THEN list_sort(list_intersect(a, b)) END"),
    (
        "dbk_bitmap_or(a, b)",
        "CASE WHEN a IS NOT NULL AND b IS NOT NULL THEN dbk_bitmap_from_array(list_concat(a, b)) END",
    ),
    ("dbk_bitmap_andnot(a, b)", "dbk_bitmap_sorted(list_filter(a, lambda x: NOT list_contains(b, x)))"),
    (
        "dbk_bitmap_xor(a, b)",
        """CASE WHEN a IS NOT NULL AND b IS NOT NULL
        THEN dbk_bitmap_from_array(list_concat(dbk_bitmap_andnot(a, b), dbk_bitmap_andnot(b, a))) END""",
    ),
    ("dbk_bitmap_andnot_count(a, b)", "len(dbk_bitmap_andnot(a, b))"),
    ("dbk_bitmap_subset_in_range(b, lo, hi)", "list_filter(dbk_bitmap_sorted(b), lambda x: x >= lo AND x < hi)"),
    ("dbk_bitmap_subset_limit(b, lo, n)", "list_slice(list_filter(dbk_bitmap_sorted(b), lambda x: x >= lo), 1, n)"),
    (
        "dbk_sub_bitmap(b, o, n)",
        """list_slice(dbk_bitmap_sorted(b),
        CASE WHEN o >= 0 THEN o + 1 ELSE len(list_distinct(b)) + o + 1 END,
        CASE WHEN o >= 0 THEN o + n ELSE len(list_distinct(b)) + o + n END)""",
    ),
)


_NAME = re.compile(r"\bdbk_\w+")


def _name(signature: str) -> str:
    return signature.split("(", 1)[0]


# each macro's name -> the macros its body calls
_CALLS = {_name(signature): set(_NAME.findall(body)) for signature, body in MACROS}


def needed(names: Iterable[str]) -> set[str]:
    """``names`` with every macro they call, directly or not."""
    found: set[str] = set()
    todo = [n for n in names if n in _CALLS]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(_CALLS[name] - found)
    return found


def install(db: duckdb.DuckDBPyConnection, only: set[str] | None = None) -> None:
    """Create the macros in ``db``: all of them (the shared database, whose cursors all see them) or
    ``only`` those (a scratch database that runs one query: see ``needed``)."""
    for signature, body in MACROS:
        if only is None or _name(signature) in only:
            db.execute(f"CREATE OR REPLACE MACRO {signature} AS {body}")
