"""The DuckDB macros Doris's functions are lowered to (``functions/``), created once at start.

Each is an SQL expression of DuckDB's own functions, so it runs vectorised inside DuckDB; all are
named ``dbk_*``, which the query allowlist never lets a client call directly.
"""

from __future__ import annotations

import base64
import json
import math
import re
import string
from collections.abc import Callable, Iterable
from typing import Any

import duckdb

from dorisbk.engine.xpath import xpath_string


def _keeping_scale(op: str) -> str:
    """``op(x, d)`` (round, round_even, trunc) over a DECIMAL x for a ``d`` that is not a constant, as Doris
    answers it: the value at d places in x's own scale (round(dec(9,9), 1) is 0.100000000). DuckDB takes only
    a constant d for a DECIMAL, so one branch per d that can matter; ``x - x +`` gives each branch x's scale."""
    branches = " ".join(f"WHEN d = {k} THEN x - x + {op}(x, {k})" for k in range(-38, 39))
    return f"CASE WHEN d > 38 THEN x WHEN d < -38 THEN x - x {branches} END"


def _decimal_step(op: str) -> str:
    """floor / ceil of a DECIMAL x to d places, exactly, as a DOUBLE: DuckDB's exact round to d places, then
    one unit of the d-th place down (floor) or up (ceil) when the rounding went past x."""
    past, step = (">", "-") if op == "floor" else ("<", "+")

    def unit(k: int) -> str:
        return "1" + "0" * -k if k <= 0 else "0." + "0" * (k - 1) + "1"

    branches = " ".join(
        f"WHEN d = {k} THEN CAST(CASE WHEN round(x, {k}) {past} x THEN round(x, {k}) {step} {unit(k)}"
        f" ELSE round(x, {k}) END AS DOUBLE)"
        for k in range(-38, 39)
    )
    return f"CASE WHEN d > 38 THEN CAST(x AS DOUBLE) WHEN d < -38 THEN CAST(0 AS DOUBLE) {branches} END"


# name(params) -> body, in an order where each body names only macros defined before it
MACROS: tuple[tuple[str, str], ...] = (
    # a string Doris reads as a DATETIME: ISO forms, then the compact and slashed ones; NULL when none
    # fits, for a negative year (DuckDB reads '-2025-01-01'), or for February 29 of year 0 (which Doris's
    # calendar has not; DuckDB's 1 BC has)
    (
        "dbk_date_text(s)",
        """CASE WHEN NOT starts_with(ltrim(s), '-') AND NOT starts_with(trim(s), '0000-02-29') THEN COALESCE(
        TRY_CAST(trim(s) AS TIMESTAMP), TRY_STRPTIME(trim(s), '%Y%m%d%H%M%S'), TRY_STRPTIME(trim(s), '%Y%m%d'),
        TRY_STRPTIME(trim(s), '%Y/%m/%d %H:%M:%S'), TRY_STRPTIME(trim(s), '%Y/%m/%d')) END""",
    ),
    # ... or else a time of day (hour('12:00:01') is 12, as Doris's planner folds a literal)
    (
        "dbk_datetime(s)",
        """COALESCE(dbk_date_text(s),
        CASE WHEN NOT contains(s, '-') THEN CAST('1970-01-01' AS DATE) + TRY_CAST(trim(s) AS TIME) END)""",
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
    # from_iso8601_date: YYYY, YYYY-MM, YYYY-MM-DD / YYYYMMDD, YYYY-Www[-D] / YYYYWww[D] (ISO weeks from
    # the Monday of the week holding January 4), YYYY-DDD / YYYYDDD; NULL for anything else or a day
    # that does not exist. Doris's year 0 has no February 29 (DuckDB's 1 BC has): days counted past it
    # land one later.
    ("dbk_iso_monday(y)", "make_date(y, 1, 4) - CAST(isodow(make_date(y, 1, 4)) - 1 AS INTEGER)"),
    ("dbk_year0_day(y, d)", "CASE WHEN y = 0 AND d >= make_date(0, 2, 29) THEN d + 1 ELSE d END"),
    (
        "dbk_iso8601_days(c, y)",
        """CASE WHEN length(c) = 4 THEN make_date(y, 1, 1)
        WHEN c[5] = 'W' THEN CASE WHEN CAST(c[6:7] AS INTEGER) BETWEEN 1 AND 53
            THEN dbk_year0_day(y, dbk_iso_monday(y) + CAST((CAST(c[6:7] AS INTEGER) - 1) * 7
                + CAST(COALESCE(NULLIF(c[8:8], ''), '1') AS INTEGER) - 1 AS INTEGER)) END
        WHEN length(c) = 7 THEN CASE WHEN CAST(c[5:7] AS INTEGER)
                BETWEEN 1 AND make_date(y + 1, 1, 1) - make_date(y, 1, 1) - CASE WHEN y = 0 THEN 1 ELSE 0 END
            THEN dbk_year0_day(y, make_date(y, 1, 1) + CAST(CAST(c[5:7] AS INTEGER) - 1 AS INTEGER)) END
        WHEN y = 0 AND c[5:8] = '0229' THEN NULL
        ELSE TRY(make_date(y, CAST(c[5:6] AS INTEGER), CAST(COALESCE(NULLIF(c[7:8], ''), '01') AS INTEGER))) END""",
    ),
    (
        "dbk_from_iso8601_date(s)",
        r"""CASE WHEN regexp_full_match(s, '\d{4}(-\d{2}(-\d{2})?|\d{4}|-?W\d{2}(-?[1-7])?|-?\d{3})?')
        THEN dbk_iso8601_days(replace(s, '-', ''), CAST(s[1:4] AS INTEGER)) END""",
    ),
    # Doris's months_between(a, b[, round]): whole months when the days of the month agree or both are
    # their month's last, else a fraction of a 31-day month from the days (times of day count for nothing);
    # rounded to 8 decimals unless round is false
    (
        "dbk_months_frac(a, b)",
        """(year(a) - year(b)) * 12 + month(a) - month(b) + CASE WHEN day(a) = day(b)
            OR (a = last_day(a) AND b = last_day(b)) THEN 0 ELSE (day(a) - day(b)) / 31.0 END""",
    ),
    (
        "dbk_months_between_doris(a, b, r)",
        "CASE WHEN r THEN round(dbk_months_frac(a, b), 8) WHEN NOT r THEN dbk_months_frac(a, b) END",
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
    # a negative count keeps the text from that (1-based) position on: right('Hello doris', -7) is 'doris'
    ("dbk_right(s, n)", "CASE WHEN n = 0 THEN '' WHEN n < 0 THEN substring(s, -n) ELSE right(s, n) END"),
    (
        "dbk_substring_index(s, d, n)",
        """CASE WHEN s IS NULL OR d IS NULL OR n IS NULL THEN NULL WHEN n = 0 OR d = '' THEN ''
        WHEN n > 0 THEN array_to_string(list_slice(string_split(s, d), 1, n), d)
        ELSE array_to_string(list_slice(string_split(s, d), greatest(len(string_split(s, d)) + n + 1, 1),
            len(string_split(s, d))), d) END""",
    ),
    (
        "dbk_locate(sub, s, pos)",
        """CASE WHEN pos <= 0 OR pos > greatest(length(s), 1) THEN 0
        WHEN instr(substring(s, pos), sub) = 0 THEN 0 ELSE instr(substring(s, pos), sub) + pos - 1 END""",
    ),
    (
        "dbk_initcap(s)",
        """array_to_string(list_transform(range(1, length(s) + 1), lambda i: CASE
        WHEN i = 1 OR regexp_full_match(substring(s, i - 1, 1), '[^A-Za-z0-9\\x{80}-\\x{10FFFF}]')
            THEN upper(substring(s, i, 1))
        ELSE lower(substring(s, i, 1)) END), '')""",
    ),
    # split_part: NULL when d is not in s ('' for an empty d); a negative field counts from the right, split from
    # the right
    (
        "dbk_split_part(s, d, n)",
        """CASE WHEN d IS NULL OR n = 0 OR (d <> '' AND instr(s, d) = 0) THEN NULL WHEN d = '' THEN ''
        WHEN n > 0 THEN list_extract(string_split(s, d), n)
        ELSE reverse(list_extract(string_split(reverse(s), reverse(d)), -n)) END""",
    ),
    (
        "dbk_split_by_string(s, sep)",
        """CASE WHEN sep IS NULL THEN NULL WHEN s = '' AND sep <> '' THEN CAST([] AS VARCHAR[])
        ELSE string_split(s, sep) END""",
    ),
    (
        "dbk_count_substrings(s, sub)",
        """CASE WHEN s IS NULL OR sub IS NULL THEN NULL WHEN length(sub) = 0 THEN 0
        ELSE (length(s) - length(replace(s, sub, ''))) // length(sub) END""",
    ),
    # the strings of l joined by sep, which need not be a constant (array_to_string's must)
    (
        "dbk_join(l, sep)",
        "CASE WHEN len(l) = 0 THEN '' ELSE list_reduce(l, lambda jn_a, jn_b: jn_a || sep || jn_b) END",
    ),
    # a whole number as the 64 bits Doris's EXPORT_SET / MAKE_SET read: two's complement modulo 2^64, but
    # 2^63 - 1 for anything from 2^64 up and -2^63 below -2^63
    (
        "dbk_bits64(v)",
        """CAST(CASE WHEN v >= 18446744073709551616 THEN 9223372036854775807
        WHEN v < -9223372036854775808 THEN 9223372036854775808
        ELSE ((v % 18446744073709551616) + 18446744073709551616) % 18446744073709551616 END AS UBIGINT)""",
    ),
    (
        "dbk_export_set(b, on_, off_, sep, n)",
        """CASE WHEN b IS NOT NULL AND on_ IS NOT NULL AND off_ IS NOT NULL AND sep IS NOT NULL AND n IS NOT NULL
        THEN dbk_join(list_transform(range(CASE WHEN n < 0 OR n > 64 THEN 64 ELSE n END),
            lambda es_i: CASE WHEN (dbk_bits64(b) >> es_i) & 1 = 1 THEN on_ ELSE off_ END), sep) END""",
    ),
    (
        "dbk_make_set(b, l)",
        """CASE WHEN b IS NOT NULL THEN array_to_string(list_filter(l, lambda ms_x, ms_i:
            ms_x IS NOT NULL AND ms_i <= 64 AND (dbk_bits64(b) >> (ms_i - 1)) & 1 = 1), ',') END""",
    ),
    # s split on the regular expression p into at most n pieces, the last one holding the rest of s
    (
        "dbk_split_regexp(s, p, n)",
        """list_transform([string_split_regex(s, p)], lambda sr_l: CASE WHEN s IS NULL OR p IS NULL THEN NULL
        WHEN len(sr_l) <= n THEN sr_l
        ELSE list_append(list_slice(sr_l, 1, n - 1), substr(s, CAST(1 + coalesce(list_sum(list_transform(
            list_slice(sr_l, 1, n - 1), lambda sr_x: length(sr_x))), 0) + coalesce(list_sum(list_transform(
            list_slice(regexp_extract_all(s, p), 1, n - 1), lambda sr_x: length(sr_x))), 0) AS BIGINT))) END)[1]""",
    ),
    # encode_as_<int>(s) for an integer of w bytes: s's bytes from the top, the whole shifted right by one bit
    # (so it stays positive), its length in the lowest bits; decode_as_varchar reads it back
    (
        "dbk_encode_varchar(s, w)",
        """CASE WHEN strlen(s) > w - 1 THEN error('String is too long to encode')
        ELSE CAST(CAST('0x' || rpad(hex(s), 2 * w, '0') AS UHUGEINT) // 2 AS HUGEINT) + strlen(s) END""",
    ),
    (
        "dbk_decode_varchar(v, w)",
        """list_transform([CAST(v & 15 AS BIGINT)], lambda dv_n: decode(unhex(left(
            lpad(hex(CAST(v - dv_n AS UHUGEINT) * 2), 2 * w, '0'), 2 * dv_n))))[1]""",
    ),
    # parse_data_size('2.5kB'): the whole bytes of a size in B, kB, MB... YB (powers of 1024)
    (
        "dbk_parse_data_size(s)",
        r"""CASE WHEN NOT regexp_full_match(s, '\d+(\.\d*)?(B|kB|MB|GB|TB|PB|EB|ZB|YB)')
            THEN error('Invalid Input argument "' || s || '" of function parse_data_size')
        ELSE list_transform([CAST(pow(1024, instr('BkMGTPEZY', regexp_extract(s, '([A-Za-z])B?$', 1)) - 1) AS HUGEINT)],
            lambda pd_m: CAST(regexp_extract(s, '^\d+') AS HUGEINT) * pd_m
                + CAST(floor(coalesce(TRY_CAST('0' || regexp_extract(s, '\.\d*') AS DOUBLE), 0) * pd_m) AS HUGEINT))[1]
        END""",
    ),
    # CHAR(n): n's big-endian bytes without leading zero bytes (0 is one zero byte), as hex digits
    (
        "dbk_char_hex(n)",
        "CASE WHEN n IS NULL THEN '' ELSE lpad(hex(n), CAST(2 * ceil(length(hex(n)) / 2) AS INTEGER), '0') END",
    ),
    # s split on d, a last empty piece (after a trailing d) dropped
    (
        "dbk_split_trailing(s, d)",
        """CASE WHEN s <> '' AND d <> '' AND ends_with(s, d) THEN list_slice(string_split(s, d), 1, -2)
        ELSE string_split(s, d) END""",
    ),
    # str_to_map: pairs split on pd, each on its first kd (no kd: a NULL value); a repeated key's last value wins
    (
        "dbk_str_to_map(s, pd, kd)",
        """CASE WHEN s IS NOT NULL AND pd IS NOT NULL AND kd IS NOT NULL THEN list_transform(
            [list_transform(dbk_split_trailing(s, pd), lambda sm_p: {'k': CASE WHEN instr(sm_p, kd) > 0
                THEN left(sm_p, instr(sm_p, kd) - 1) ELSE sm_p END, 'v': CASE WHEN instr(sm_p, kd) > 0
                THEN substr(sm_p, instr(sm_p, kd) + length(kd)) END})],
            lambda sm_l: map_from_entries(list_filter(sm_l, lambda sm_e, sm_i:
                NOT list_contains(list_transform(list_slice(sm_l, sm_i + 1, len(sm_l)), lambda sm_x: sm_x.k), sm_e.k)
            )))[1] END""",
    ),
    # unhex: NULL (unhex_null) or '' (unhex) for text that is no whole hex bytes or no UTF-8
    ("dbk_unhex_null(s)", "CASE WHEN regexp_full_match(s, '([0-9A-Fa-f]{2})+') THEN TRY(decode(unhex(s))) END"),
    ("dbk_unhex(s)", "CASE WHEN s IS NOT NULL THEN COALESCE(dbk_unhex_null(s), '') END"),
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
    # round / round_bankers / truncate / floor / ceil of a DECIMAL to d places that DuckDB cannot take as such
    ("dbk_round_keeping_scale(x, d)", _keeping_scale("round")),
    ("dbk_round_even_keeping_scale(x, d)", _keeping_scale("round_even")),
    ("dbk_trunc_keeping_scale(x, d)", _keeping_scale("trunc")),
    ("dbk_floor_decimal(x, d)", _decimal_step("floor")),
    ("dbk_ceil_decimal(x, d)", _decimal_step("ceil")),
    # hashing, over a string's UTF-8 bytes (as numbers); lambda names are unique per macro, as a macro's
    # arguments may name the lambdas of the macro that calls it
    ("dbk_bytes(s)", "list_transform(regexp_extract_all(hex(s), '..'), lambda by_x: CAST('0x' || by_x AS UBIGINT))"),
    # the little-endian number of n bytes of b from offset o (0-based)
    (
        "dbk_le(b, o, n)",
        """list_reduce(list_reverse(list_slice(b, o + 1, o + n)), lambda le_w, le_x: le_w * 256 + le_x,
        CAST(0 AS UBIGINT))""",
    ),
    ("dbk_mul32(a, m)", "CAST((a * m) % 4294967296 AS UBIGINT)"),
    ("dbk_rotl32(x, r)", "CAST(((x << r) | (x >> (32 - r))) % 4294967296 AS UBIGINT)"),
    # a * m + c modulo 2^64, as C's 64-bit unsigned arithmetic wraps
    (
        "dbk_muladd64(a, m, c)",
        "CAST((CAST(a AS UHUGEINT) * m + c) % CAST('18446744073709551616' AS UHUGEINT) AS UBIGINT)",
    ),
    ("dbk_rotl64(x, r)", "((x % (CAST(1 AS UBIGINT) << (64 - r))) << r) | (x >> (64 - r))"),
    # MurmurHash3 x86_32 of bytes b (Doris's murmur_hash3_32 and bitmap_hash)
    ("dbk_mm3_k32(k)", "dbk_mul32(dbk_rotl32(dbk_mul32(k, 3432918353), 15), 461845907)"),
    (
        "dbk_mm3_32(b, seed)",
        """list_reduce(CAST([[16, 2246822507], [13, 3266489909], [16, 1]] AS UBIGINT[][]),
        lambda m32_x, m32_s: dbk_mul32(xor(m32_x, m32_x >> m32_s[1]), m32_s[2]),
        xor(list_reduce(range((len(b) + 3) // 4), lambda m32_h, m32_i: CASE WHEN 4 * m32_i + 4 <= len(b)
            THEN CAST((dbk_rotl32(xor(m32_h, dbk_mm3_k32(dbk_le(b, 4 * m32_i, 4))), 13) * 5 + 3864292196)
                % 4294967296 AS UBIGINT)
            ELSE xor(m32_h, dbk_mm3_k32(dbk_le(b, 4 * m32_i, len(b) - 4 * m32_i))) END,
            CAST(seed AS UBIGINT)), len(b)))""",
    ),
    # Doris's 64-bit MurmurHash3 (x64_128's first half, one lane) of bytes b (murmur_hash3_64, bitmap_hash64)
    (
        "dbk_mm3_k64(k)",
        "dbk_muladd64(dbk_rotl64(dbk_muladd64(k, 9782798678568883157, 0), 31), 5545529020109919103, 0)",
    ),
    (
        "dbk_mm3_64(b, seed)",
        """list_reduce(CAST([[33, 18397679294719823053], [33, 14181476777654086739], [33, 1]] AS UBIGINT[][]),
        lambda m64_x, m64_s: dbk_muladd64(xor(m64_x, m64_x >> m64_s[1]), m64_s[2], 0),
        xor(list_reduce(range((len(b) + 7) // 8), lambda m64_h, m64_i: CASE WHEN 8 * m64_i + 8 <= len(b)
            THEN dbk_muladd64(dbk_rotl64(xor(m64_h, dbk_mm3_k64(dbk_le(b, 8 * m64_i, 8))), 27), 5, 1390208809)
            ELSE xor(m64_h, dbk_mm3_k64(dbk_le(b, 8 * m64_i, len(b) - 8 * m64_i))) END,
            CAST(seed AS UBIGINT)), len(b)))""",
    ),
    ("dbk_murmur3_32(s, seed)", "list_transform([dbk_bytes(s)], lambda mm_b: dbk_mm3_32(mm_b, seed))[1]"),
    ("dbk_murmur3_64(s, seed)", "list_transform([dbk_bytes(s)], lambda mm_b: dbk_mm3_64(mm_b, seed))[1]"),
    # CRC-32 (zlib's, as MySQL's and Doris's crc32), bit by bit
    (
        "dbk_crc32(s)",
        """xor(list_reduce(dbk_bytes(s), lambda cr_c, cr_b: list_reduce(range(8), lambda cr_x, cr_i: CASE
            WHEN cr_x % 2 = 1 THEN xor(cr_x >> 1, CAST(3988292384 AS UBIGINT)) ELSE cr_x >> 1 END, xor(cr_c, cr_b)),
        CAST(4294967295 AS UBIGINT)), CAST(4294967295 AS UBIGINT))""",
    ),
    # Doris keeps some results in a C++ std::unordered_set / unordered_map of strings (json_search's paths,
    # count_by_enum's values) and prints them in its iteration order. That order is libstdc++'s: std::hash of
    # the string (_Hash_bytes, seed 0xc70f6907) ...
    (
        "dbk_std_hash(b)",
        """list_reduce(CAST([14313749767032793493, 1] AS UBIGINT[]),
        lambda sh_x, sh_m: dbk_muladd64(xor(sh_x, sh_x >> 47), sh_m, 0),
        list_reduce(range((len(b) + 7) // 8), lambda sh_h, sh_i: dbk_muladd64(xor(sh_h, CASE WHEN 8 * sh_i + 8 <= len(b)
            THEN dbk_muladd64(list_transform([dbk_muladd64(dbk_le(b, 8 * sh_i, 8), 14313749767032793493, 0)],
                lambda sh_k: xor(sh_k, sh_k >> 47))[1], 14313749767032793493, 0)
            ELSE dbk_le(b, 8 * sh_i, len(b) - 8 * sh_i) END), 14313749767032793493, 0),
            xor(CAST(3339675911 AS UBIGINT), dbk_muladd64(len(b), 14313749767032793493, 0))))""",
    ),
    ("dbk_string_hash(s)", "list_transform([dbk_bytes(s)], lambda shs_b: dbk_std_hash(shs_b))[1]"),
    # ... its bucket count for n elements (a prime that at least doubles when n outgrows it) ...
    (
        "dbk_buckets(n)",
        """CASE WHEN n <= 13 THEN 13 WHEN n <= 29 THEN 29 WHEN n <= 59 THEN 59 WHEN n <= 127 THEN 127
        WHEN n <= 257 THEN 257 WHEN n <= 541 THEN 541 WHEN n <= 1109 THEN 1109 WHEN n <= 2357 THEN 2357
        WHEN n <= 5087 THEN 5087 ELSE 10273 END""",
    ),
    # ... a new element goes first in its bucket's run of the list, or first of all in an empty bucket ...
    (
        "dbk_us_insert(l, x, nb)",
        """list_transform([list_position(list_transform(l, lambda ui_e: ui_e.h % nb), x.h % nb)],
        lambda ui_i: CASE WHEN ui_i IS NULL THEN list_prepend(x, l)
        ELSE list_concat(list_slice(l, 1, ui_i - 1), [x], list_slice(l, ui_i, len(l))) END)[1]""",
    ),
    # ... and a rehash inserts the list again, in its order: items {'p': string, 'h': hash} in insertion order,
    # in the order Doris prints them
    (
        "dbk_us_order(items)",
        """list_reduce(items, lambda uo_l, uo_x: list_transform([CASE
            WHEN dbk_buckets(len(uo_l)) = dbk_buckets(len(uo_l) + 1) THEN uo_l
            ELSE list_reduce(uo_l, lambda uo_r, uo_e: dbk_us_insert(uo_r, uo_e, dbk_buckets(len(uo_l) + 1)),
                CAST([] AS STRUCT(p VARCHAR, h UBIGINT)[])) END],
            lambda uo_k: dbk_us_insert(uo_k, uo_x, dbk_buckets(len(uo_l) + 1)))[1],
        CAST([] AS STRUCT(p VARCHAR, h UBIGINT)[]))""",
    ),
    ("dbk_us_strings(l)", "list_transform(l, lambda uss_x: {'p': uss_x, 'h': dbk_string_hash(uss_x)})"),
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
    # a JSON path read from the data that Doris refuses (jsonb.check_path checks constant ones)
    # the values below the root of j that are members (elements when not member) of what holds them, named
    # name (any when NULL), in document order: Doris's $**.name, $**.*, $**[n], $**[*]
    (
        "dbk_json_descend(j, member, name)",
        """CASE WHEN json_valid(j) THEN (SELECT coalesce(list(jd.value ORDER BY jd.id), CAST([] AS JSON[]))
            FROM json_tree(j) AS jd WHERE jd.id > 0 AND ends_with(jd.fullkey, ']') <> member
            AND (name IS NULL OR jd.key = name)) END""",
    ),
    ("dbk_json_bad_path(p)", "contains(p, '**') OR ends_with(trim(p), '.')"),
    ("dbk_json_extract(j, p)", "CASE WHEN json_valid(j) THEN CAST(TRY(json_extract(j, p)) AS VARCHAR) END"),
    # a path computed by the query (JSON_UNQUOTE(JSON_SEARCH(...))) cannot sit under TRY with a subquery: a
    # path DuckDB cannot read fails the query, as a path Doris cannot read does
    ("dbk_json_extract_at(j, p)", "CASE WHEN json_valid(j) THEN CAST(json_extract(j, p) AS VARCHAR) END"),
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
    # A text as Doris reads JSON: DuckDB's reader also takes trailing commas, NaN and Infinity, which Doris
    # refuses; outside its strings (and true / false / null) a valid strict document has no letter but an
    # exponent's e. dbk_json prints it without blanks (Doris's canonical text), NULL when it is not JSON.
    (
        "dbk_json_strict(t)",
        r"""json_valid(t) AND NOT regexp_matches(regexp_replace(regexp_replace(t, '"(\\.|[^"\\])*"', '0', 'g'),
        'true|false|null', '0', 'g'), ',\s*[\]}]|[A-DF-Za-df-z]')""",
    ),
    (
        "dbk_json(t)",
        "list_transform([t], lambda jt: CASE WHEN dbk_json_strict(jt) THEN CAST(json(jt) AS VARCHAR) END)[1]",
    ),
    # json_set / json_insert / json_replace / json_remove over a Doris path ($, .key, ."quoted key", [n],
    # [last], [last-n], [-n]) read leg by leg, MySQL's way: an index on a value that is not an array
    # reads the value as a one-element array
    (
        "dbk_jp_norm(p)",
        "replace(trim(p), '.[', '[')",
    ),
    (
        "dbk_jp_ok(p)",
        r"""regexp_full_match(dbk_jp_norm(p),
        '\$(\.("[^"]*"|[^.\["*]+)|\[\s*(\d+|last(\s*-\s*\d+)?|-\d+)\s*\])*')""",
    ),
    ("dbk_jp_legs(p)", r"""regexp_extract_all(dbk_jp_norm(p), '\.("[^"]*"|[^.\[]+)|\[[^\]]*\]')"""),
    ("dbk_jp_key(leg)", """CASE WHEN leg[2] = '"' THEN substr(leg, 3, length(leg) - 3) ELSE substr(leg, 2) END"""),
    ("dbk_jp_len(c)", "CASE WHEN json_type(c) = 'ARRAY' THEN CAST(json_array_length(c) AS BIGINT) ELSE 1 END"),
    # an index leg's position (from 0) in a container of n elements; negative when it is before the first.
    # (These macros bind values without lambdas where they can: DuckDB binds a lambda's body more than once, so
    # nested lambdas make a query slow to plan.)
    (
        "dbk_jp_index(leg, n)",
        """CASE WHEN leg LIKE '[%last%' THEN n - 1
            - coalesce(TRY_CAST(trim(replace(replace(replace(replace(leg, '[', ''), ']', ''), 'last', ''), '-', ''))
                AS BIGINT), 0)
        WHEN trim(substr(leg, 2)) LIKE '-%' THEN n + CAST(trim(substr(leg, 2, length(leg) - 2)) AS BIGINT)
        ELSE CAST(trim(substr(leg, 2, length(leg) - 2)) AS BIGINT) END""",
    ),
    # the value one leg below container c, NULL when there is none
    (
        "dbk_jp_step(c, leg)",
        """CASE WHEN c IS NULL THEN NULL
        WHEN leg[1] = '.' THEN CASE WHEN json_type(c) = 'OBJECT' THEN CAST(json_extract(c,
            '/' || replace(replace(dbk_jp_key(leg), '~', '~0'), '/', '~1')) AS VARCHAR) END
        WHEN dbk_jp_index(leg, dbk_jp_len(c)) < 0 OR dbk_jp_index(leg, dbk_jp_len(c)) >= dbk_jp_len(c) THEN NULL
        WHEN json_type(c) = 'ARRAY'
            THEN CAST(json_extract(c, '$[' || dbk_jp_index(leg, dbk_jp_len(c)) || ']') AS VARCHAR)
        ELSE c END""",
    ),
    # an object's members as their text ("key":value), in order
    (
        "dbk_jp_members(c)",
        """list_transform(list_zip(json_keys(c), CAST(json_extract(c, '$.*') AS VARCHAR[])),
            lambda jm_e: CAST(to_json(jm_e[1]) AS VARCHAR) || ':' || jm_e[2])""",
    ),
    ("dbk_jp_elements(c)", "CAST(json_extract(c, '$[*]') AS VARCHAR[])"),
    # container c with the value at one leg set to the JSON text v: a member replaced or added last, an element
    # replaced or added past the end, a value that is not an array wrapped as [c, v] for an index past 0
    (
        "dbk_jp_put(c, leg, v)",
        """CASE WHEN leg[1] = '.' THEN '{' || array_to_string(
            CASE WHEN list_position(json_keys(c), dbk_jp_key(leg)) IS NULL
            THEN list_append(dbk_jp_members(c), CAST(to_json(dbk_jp_key(leg)) AS VARCHAR) || ':' || v)
            ELSE list_transform(dbk_jp_members(c), lambda jp_m, jp_n: CASE
                WHEN jp_n = list_position(json_keys(c), dbk_jp_key(leg))
                THEN CAST(to_json(dbk_jp_key(leg)) AS VARCHAR) || ':' || v ELSE jp_m END) END, ',') || '}'
        WHEN json_type(c) <> 'ARRAY' THEN CASE WHEN dbk_jp_index(leg, 1) = 0 THEN v ELSE '[' || c || ',' || v || ']' END
        WHEN dbk_jp_index(leg, dbk_jp_len(c)) >= dbk_jp_len(c)
            THEN '[' || array_to_string(list_append(dbk_jp_elements(c), v), ',') || ']'
        ELSE '[' || array_to_string(list_transform(dbk_jp_elements(c), lambda jp_x, jp_n:
            CASE WHEN jp_n = dbk_jp_index(leg, dbk_jp_len(c)) + 1 THEN v ELSE jp_x END), ',') || ']' END""",
    ),
    # container c without the member or element at one leg
    (
        "dbk_jp_drop(c, leg)",
        """CASE WHEN leg[1] = '.' AND json_type(c) = 'OBJECT' THEN '{' || array_to_string(list_filter(
            dbk_jp_members(c), lambda jd_x, jd_n: jd_n <> list_position(json_keys(c), dbk_jp_key(leg))), ',') || '}'
        WHEN leg[1] = '[' AND json_type(c) = 'ARRAY' THEN '[' || array_to_string(list_filter(
            dbk_jp_elements(c), lambda jd_x, jd_n: jd_n <> dbk_jp_index(leg, dbk_jp_len(c)) + 1), ',') || ']'
        ELSE c END""",
    ),
    # document j (canonical text) after one change at path p: mode 'set', 'insert' (only where nothing is),
    # 'replace' (only where something is) with the JSON text v, or 'remove'. The chain holds the value at
    # each depth of the path, the document first (NULL below the first leg that finds nothing); the change
    # is made at the last leg's container, then written back up the chain.
    (
        "dbk_json_modify(j, p, v, mode)",
        """list_transform([list_reduce(dbk_jp_legs(p),
            lambda jm_c, jm_g: list_append(jm_c, dbk_jp_step(jm_c[-1], jm_g)), [j])],
            lambda jm_c: CASE WHEN jm_c[1] IS NULL OR p IS NULL THEN NULL
            WHEN p LIKE '%*%' AND p NOT LIKE '%**%' THEN
                error('In this situation, path expressions may not contain the * and ** tokens or an array range.')
            WHEN NOT dbk_jp_ok(p) THEN error('Json path error: Invalid Json Path for value: ' || p)
            WHEN mode = 'remove' AND (len(jm_c) = 1 OR jm_c[-1] IS NULL) THEN jm_c[1]
            WHEN mode = 'replace' AND jm_c[-1] IS NULL THEN jm_c[1]
            WHEN mode <> 'remove' AND jm_c[-1] IS NOT NULL AND (mode = 'insert' OR len(jm_c) = 1)
                THEN CASE WHEN mode = 'insert' THEN jm_c[1] ELSE v END
            WHEN jm_c[-1] IS NULL AND (jm_c[-2] IS NULL OR CASE WHEN dbk_jp_legs(p)[-1][1] = '.'
                THEN json_type(jm_c[-2]) <> 'OBJECT'
                ELSE dbk_jp_index(dbk_jp_legs(p)[-1], dbk_jp_len(jm_c[-2])) < dbk_jp_len(jm_c[-2]) END) THEN jm_c[1]
            ELSE list_reduce(range(len(jm_c) - 2, 0, -1),
                lambda jm_x, jm_d: dbk_jp_put(jm_c[jm_d], dbk_jp_legs(p)[jm_d], jm_x),
                CASE WHEN mode = 'remove' THEN dbk_jp_drop(jm_c[-2], dbk_jp_legs(p)[-1])
                ELSE dbk_jp_put(jm_c[-2], dbk_jp_legs(p)[-1], v) END) END)[1]""",
    ),
    # json_search: the paths of the string values (in document order) that match a LIKE pattern; the first,
    # or every one (an array when more than one, in Doris's hash-set order); NULL for none
    (
        "dbk_json_search(j, every, pattern)",
        """CASE WHEN json_valid(j) THEN list_transform([(SELECT list(fullkey ORDER BY id) FROM json_tree(j)
            WHERE type = 'VARCHAR' AND like_escape(json_extract_string(atom, '$'), pattern, '\\'))],
        lambda js_m: CASE WHEN js_m IS NULL THEN NULL
            WHEN NOT every OR len(js_m) = 1 THEN CAST(to_json(js_m[1]) AS VARCHAR)
            ELSE CAST(to_json(list_transform(dbk_us_order(dbk_us_strings(js_m)), lambda js_e: js_e.p)) AS VARCHAR)
            END)[1]
        END""",
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
    # count_by_enum's object for one column's values l (NULLs included): each value's count, in Doris's
    # hash-map order of the values as they first came
    (
        "dbk_enum_counts(l)",
        """'{"cbe":{' || array_to_string(list_transform(
            dbk_us_order(dbk_us_strings(dbk_array_distinct(list_filter(l, lambda ce_x: ce_x IS NOT NULL)))),
            lambda ce_e: CAST(to_json(ce_e.p) AS VARCHAR) || ':'
                || len(list_filter(l, lambda ce_y: ce_y = ce_e.p))), ',')
        || '},"notnull":' || len(list_filter(l, lambda ce_x: ce_x IS NOT NULL))
        || ',"null":' || len(list_filter(l, lambda ce_x: ce_x IS NULL)) || ',"all":' || len(l) || '}'""",
    ),
    # each element's number among the equal elements up to it (NULL equal to NULL)
    (
        "dbk_array_enumerate_uniq(l)",
        """list_transform(l, lambda eu_x, eu_i:
        len(list_filter(list_slice(l, 1, eu_i), lambda eu_y: eu_y IS NOT DISTINCT FROM eu_x)))""",
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
    ("dbk_array_with_constant(n, v)", "list_transform(range(coalesce(n, 0)), lambda x: v)"),
    ("dbk_array_pushback(l, v)", "CASE WHEN l IS NOT NULL THEN list_append(l, v) END"),
    # a set's elements as Doris's array_union / array_intersect give them: a NULL first, then as they come
    (
        "dbk_set_order(l)",
        """list_concat(list_filter(dbk_array_distinct(l), lambda so_x: so_x IS NULL),
        list_filter(dbk_array_distinct(l), lambda so_x: so_x IS NOT NULL))""",
    ),
    ("dbk_array_enumerate(l)", "range(1, len(l) + 1)"),
    # where a slice starts: offset o from 1, or from the end when negative; past either end, none at all
    (
        "dbk_slice_start(l, o)",
        "CASE WHEN o > 0 THEN o WHEN o < 0 AND -o <= len(l) THEN len(l) + o + 1 ELSE len(l) + 1 END",
    ),
    (
        "dbk_array_slice(l, o, n)",
        """list_slice(l, dbk_slice_start(l, o),
        CASE WHEN n IS NULL THEN len(l) WHEN n < 0 THEN 0 ELSE dbk_slice_start(l, o) + n - 1 END)""",
    ),
    # array_split: l cut before each element whose flag in f is true (after it when r, array_reverse_split);
    # element i's piece is the number of cuts before it
    (
        "dbk_split_piece(f, i, r)",
        """len(list_filter(CASE WHEN r THEN list_slice(f, 1, i - 1) ELSE list_slice(f, 2, i) END,
        lambda sp_y: coalesce(CAST(sp_y AS BOOLEAN), false)))""",
    ),
    (
        "dbk_array_split(l, f, r)",
        """CASE WHEN l IS NULL OR f IS NULL THEN NULL
        WHEN len(l) <> len(f) THEN error('function array_split has uneven arguments')
        ELSE list_filter(list_transform(range(dbk_split_piece(f, len(f), r) + 1), lambda as_p:
            list_filter(l, lambda as_x, as_i: dbk_split_piece(f, as_i, r) = as_p)), lambda as_g: len(as_g) > 0) END""",
    ),
    # bitmaps and HLL sketches as sorted lists of distinct UBIGINT values
    ("dbk_bitmap_of(v)", "CASE WHEN v IS NULL THEN CAST([] AS UBIGINT[]) ELSE [CAST(v AS UBIGINT)] END"),
    # a sketch's base64 form: its values as text (round-trips here; not Doris's binary layout)
    ("dbk_sketch_to_base64(b)", "to_base64(encode(array_to_string(list_sort(list_distinct(b)), ',')))"),
    ("dbk_bitmap_from_array(a)", "list_sort(list_distinct(CAST(a AS UBIGINT[])))"),
    (
        "dbk_bitmap_from_string(s)",
        """CASE WHEN s = '' THEN CAST([] AS UBIGINT[])
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
    (
        "dbk_bitmap_subset_in_range(b, lo, hi)",
        """CASE WHEN lo IS NOT NULL AND hi IS NOT NULL
        THEN list_filter(dbk_bitmap_sorted(b), lambda x: x >= lo AND x < hi) END""",
    ),
    ("dbk_bitmap_subset_limit(b, lo, n)", "list_slice(list_filter(dbk_bitmap_sorted(b), lambda x: x >= lo), 1, n)"),
    (
        "dbk_sub_bitmap(b, o, n)",
        """list_slice(dbk_bitmap_sorted(b),
        CASE WHEN o >= 0 THEN o + 1 ELSE len(list_distinct(b)) + o + 1 END,
        CASE WHEN o >= 0 THEN o + n ELSE len(list_distinct(b)) + o + n END)""",
    ),
    # 64-bit two's complement: a BIGINT's bits as an unsigned number and back (Doris's bit shifts)
    ("dbk_u64(a)", "CAST(CAST(a AS HUGEINT) + CASE WHEN a < 0 THEN 18446744073709551616 ELSE 0 END AS UBIGINT)"),
    (
        "dbk_s64(u)",
        "CAST(CASE WHEN u >= 9223372036854775808 THEN CAST(u AS HUGEINT) - 18446744073709551616 ELSE u END AS BIGINT)",
    ),
    # bit_shift_left / _right: a shift past 63 bits or a negative one is 0; right shifts are logical
    (
        "dbk_shift_left(a, n)",
        """CASE WHEN n < 0 OR n > 63 THEN 0
        ELSE dbk_s64(CAST((CAST(dbk_u64(a) AS UHUGEINT) << n) % 18446744073709551616 AS UBIGINT)) END""",
    ),
    ("dbk_shift_right(a, n)", "CASE WHEN n < 0 OR n > 63 THEN 0 ELSE dbk_s64(dbk_u64(a) >> n) END"),
    # conv: the longest prefix of s that is a number in base |f| (a leading '-' negates it; past 64 bits it
    # stops at the largest), written in base |t|: as unsigned 64 bits for t > 0, signed for t < 0
    ("dbk_digit(c)", "instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', upper(c)) - 1"),
    (
        "dbk_conv_digits(s, f)",
        """list_transform([list_transform(string_split(regexp_replace(trim(s), '^-', ''), ''),
            lambda cd_c: dbk_digit(cd_c))], lambda cd_d: list_slice(cd_d, 1, coalesce(list_position(
            list_transform(cd_d, lambda cd_x: cd_x < 0 OR cd_x >= abs(f)), true), len(cd_d) + 1) - 1))[1]""",
    ),
    (
        "dbk_conv_value(s, f)",
        """list_reduce(dbk_conv_digits(s, f), lambda cv_a, cv_d: least(cv_a * abs(f) + cv_d,
            CAST(18446744073709551615 AS HUGEINT)), CAST(0 AS HUGEINT))""",
    ),
    (
        "dbk_to_base(u, t)",
        """CASE WHEN u < 9223372036854775808 THEN to_base(CAST(u AS BIGINT), t)
        ELSE to_base(CAST(u // t AS BIGINT), t)
            || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', CAST(u % t AS INTEGER) + 1, 1) END""",
    ),
    (
        "dbk_conv(s, f, t)",
        """CASE WHEN abs(f) NOT BETWEEN 2 AND 36 OR abs(t) NOT BETWEEN 2 AND 36 THEN NULL
        WHEN t > 0 THEN dbk_to_base(CASE WHEN trim(s) LIKE '-%' AND dbk_conv_value(s, f) > 0
            THEN 18446744073709551616 - dbk_conv_value(s, f) ELSE dbk_conv_value(s, f) END, t)
        ELSE (CASE WHEN trim(s) LIKE '-%' AND dbk_conv_value(s, f) > 0 THEN '-' ELSE '' END)
            || dbk_to_base(least(dbk_conv_value(s, f), 9223372036854775807), -t) END""",
    ),
    # a // b rounded down (DuckDB's // truncates toward zero)
    ("dbk_floor_div(a, b)", "a // b - CASE WHEN a % b <> 0 AND (a < 0) <> (b < 0) THEN 1 ELSE 0 END"),
    # the *_floor / *_ceil family: t rounded to a multiple of `step` microseconds (or, for months, of `step`
    # months) counted from origin o; NULL for a step that is not positive or an answer past year 9999
    (
        "dbk_round_micros(t, step, o, up)",
        """CASE WHEN step > 0 THEN list_transform([dbk_floor_div(epoch_us(t) - epoch_us(o), step)], lambda ru_k:
            list_transform([o + to_microseconds((ru_k + CASE WHEN up AND (epoch_us(t) - epoch_us(o)) % step <> 0
                THEN 1 ELSE 0 END) * step)], lambda ru_r: CASE WHEN year(ru_r) <= 9999 THEN ru_r END)[1])[1] END""",
    ),
    (
        "dbk_round_months(t, step, o, up)",
        """CASE WHEN step > 0 THEN list_transform([dbk_floor_div((year(t) - year(o)) * 12 + month(t) - month(o)
            - CASE WHEN strftime(t, '%d%H%M%S%f') < strftime(o, '%d%H%M%S%f') THEN 1 ELSE 0 END, step)],
            lambda rm_k: list_transform([o + to_months(rm_k * step)], lambda rm_f:
                list_transform([CASE WHEN up AND rm_f < t THEN o + to_months((rm_k + 1) * step) ELSE rm_f END],
                    lambda rm_r: CASE WHEN year(rm_r) <= 9999 THEN rm_r END)[1])[1])[1] END""",
    ),
    # IPv4 addresses: a dotted quad of numbers up to 255 (up to three digits each), as a number
    (
        "dbk_ipv4_num(s)",
        r"""CASE WHEN regexp_full_match(s, '\d{1,3}(\.\d{1,3}){3}')
            AND list_bool_and(list_transform(string_split(s, '.'), lambda ip_p: CAST(ip_p AS INTEGER) <= 255))
        THEN list_reduce(list_transform(string_split(s, '.'), lambda ip_p: CAST(ip_p AS BIGINT)),
            lambda ip_a, ip_b: ip_a * 256 + ip_b) END""",
    ),
    (
        "dbk_ipv4_text(n)",
        """CASE WHEN n BETWEEN 0 AND 4294967295 THEN array_to_string(list_transform([24, 16, 8, 0],
            lambda it_s: CAST((CAST(n AS BIGINT) >> it_s) % 256 AS VARCHAR)), '.') END""",
    ),
    # uuid_to_int / int_to_uuid: the 16 bytes of a UUID as a little-endian signed 128-bit number
    (
        "dbk_uuid_int(s)",
        """list_transform([TRY_CAST('0x' || array_to_string(list_reverse(regexp_extract_all(
            replace(CAST(TRY_CAST(s AS UUID) AS VARCHAR), '-', ''), '..')), '') AS UHUGEINT)], lambda ui_u:
            CASE WHEN ui_u >= CAST('170141183460469231731687303715884105728' AS UHUGEINT)
            THEN CAST(ui_u - CAST('170141183460469231731687303715884105728' AS UHUGEINT) AS HUGEINT)
                - CAST('170141183460469231731687303715884105727' AS HUGEINT) - 1
            ELSE CAST(ui_u AS HUGEINT) END)[1]""",
    ),
    (
        "dbk_int_uuid(n)",
        """list_transform([array_to_string(list_reverse(regexp_extract_all(lpad(hex(CAST(n AS HUGEINT)), 32, '0'),
            '..')), '')], lambda iu_h: lower(substr(iu_h, 1, 8) || '-' || substr(iu_h, 9, 4) || '-'
            || substr(iu_h, 13, 4) || '-' || substr(iu_h, 17, 4) || '-' || substr(iu_h, 21, 12)))[1]""",
    ),
    # URLs, as Doris reads them: the scheme, and the host (without a user, a port or what follows)
    ("dbk_url_protocol(u)", "regexp_extract(u, '^([a-zA-Z][a-zA-Z0-9+.-]*):', 1)"),
    ("dbk_url_host(u)", "regexp_extract(u, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|//)?(?:[^/?#@]*@)?([^/?#:@]*)', 1)"),
    # the host's dot-separated labels, NULL when it is no domain (no dot, or blanks in it)
    (
        "dbk_url_labels(u)",
        r"""list_transform([dbk_url_host(u)], lambda ul_h: CASE
        WHEN regexp_full_match(ul_h, '[^\s.]+(\.[^\s.]+)+') THEN string_split(ul_h, '.') END)[1]""",
    ),
    # the first significant subdomain's label: the third level when the second is com, net, org or co
    (
        "dbk_url_significant(l)",
        "CASE WHEN len(l) >= 3 AND l[-2] IN ('com', 'net', 'org', 'co') THEN len(l) - 2 ELSE len(l) - 1 END",
    ),
    (
        "dbk_url_domain_part(u, whole)",
        """CASE WHEN u IS NOT NULL THEN coalesce(list_transform([dbk_url_labels(u)], lambda ud_l: CASE
            WHEN whole THEN array_to_string(list_slice(ud_l, dbk_url_significant(ud_l), len(ud_l)), '.')
            ELSE ud_l[dbk_url_significant(ud_l)] END)[1], '') END""",
    ),
    (
        "dbk_url_parameter(u, name)",
        """coalesce(list_transform(list_filter(string_split(split_part(split_part(u, '#', 1), '?', 2), '&'),
            lambda up_p: starts_with(up_p, name || '=')), lambda up_p: substr(up_p, length(name) + 2))[1],
            CASE WHEN u IS NOT NULL AND name IS NOT NULL THEN '' END)""",
    ),
    # ltrim / rtrim with a string: every repetition of t at the start (end) of s removed
    (
        "dbk_strip_lead(s, t)",
        """CASE WHEN t = '' THEN s ELSE substr(s, 1 + length(t) * list_max(list_filter(
            range(0, length(s) // length(t) + 1), lambda tl_i: starts_with(s, repeat(t, tl_i))))) END""",
    ),
    (
        "dbk_strip_trail(s, t)",
        """CASE WHEN t = '' THEN s ELSE left(s, length(s) - length(t) * list_max(list_filter(
            range(0, length(s) // length(t) + 1), lambda tt_i: ends_with(s, repeat(t, tt_i))))) END""",
    ),
    # American Soundex of s's letters (other characters skipped): the first letter and three digits; H and W
    # neither code nor separate, vowels separate, a run of one digit counts once
    ("dbk_soundex_codes(l)", "translate(l, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '01230129022455012623019202')"),
    (
        "dbk_soundex(s)",
        """list_transform([upper(regexp_replace(s, '[^A-Za-z]', '', 'g'))], lambda sx_l: CASE WHEN sx_l = '' THEN ''
        ELSE left(sx_l, 1) || rpad(list_transform([string_split(dbk_soundex_codes(left(sx_l, 1))
            || replace(dbk_soundex_codes(substr(sx_l, 2)), '9', ''), '')],
            lambda sx_d: replace(array_to_string(list_slice(list_filter(sx_d, lambda sx_c, sx_i:
                sx_i = 1 OR sx_c <> sx_d[sx_i - 1]), 2, 100), ''), '0', ''))[1], 3, '0')[1:3] END)[1]""",
    ),
    # ngram_search: 2 * the n-grams text and pattern share / (text's + pattern's), over distinct n-grams
    (
        "dbk_ngrams(s, n)",
        "list_distinct(list_transform(range(1, length(s) - n + 2), lambda ng_i: substr(s, ng_i, n)))",
    ),
    (
        "dbk_ngram_search(t, p, n)",
        """list_transform([{'a': dbk_ngrams(t, n), 'b': dbk_ngrams(p, n)}], lambda ns_g:
            CASE WHEN len(ns_g.a) + len(ns_g.b) = 0 THEN 0.0
            ELSE 2.0 * len(list_intersect(ns_g.a, ns_g.b)) / (len(ns_g.a) + len(ns_g.b)) END)[1]""",
    ),
    # insert / overlay(s, p, l, r): l characters from p replaced by r (to the end for l < 0 or past it); s
    # as it is for p outside it
    (
        "dbk_overlay(s, p, l, r)",
        """CASE WHEN s IS NULL OR p IS NULL OR l IS NULL OR r IS NULL THEN NULL
        WHEN p < 1 OR p > length(s) THEN s
        WHEN l < 0 OR p + l > length(s) THEN left(s, p - 1) || r
        ELSE left(s, p - 1) || r || substr(s, p + l) END""",
    ),
    # replace_empty: an empty `old` puts `new` before every character and at the end
    (
        "dbk_replace_empty(s, old, new)",
        """CASE WHEN old <> '' THEN replace(s, old, new) WHEN s = '' THEN new
        ELSE new || dbk_join(string_split(s, ''), new) || new END""",
    ),
    # auto_partition_name('list', ...): each value's letters and digits, other characters as their code point
    # in hex, then its length in characters
    (
        "dbk_list_partition_part(v)",
        """array_to_string(list_transform(string_split(v, ''), lambda lp_c: CASE
            WHEN regexp_full_match(lp_c, '[A-Za-z0-9]') THEN lp_c ELSE lower(hex(unicode(lp_c))) END), '')
            || length(v)""",
    ),
    # next_day / previous_day's weekday: its two- or three-letter abbreviation or its full name, else an error
    (
        "dbk_weekday_name(name, f)",
        """CASE WHEN upper(name) IN ('MO', 'MON', 'MONDAY', 'TU', 'TUE', 'TUESDAY', 'WE', 'WED', 'WEDNESDAY', 'TH',
            'THU', 'THURSDAY', 'FR', 'FRI', 'FRIDAY', 'SA', 'SAT', 'SATURDAY', 'SU', 'SUN', 'SUNDAY') THEN name
        WHEN name IS NOT NULL THEN error('Function ' || f || ' failed to parse weekday: ' || name) END""",
    ),
    # the capturing groups of the regular expression p: each '(' neither escaped nor opening '(?...'
    (
        "dbk_regex_groups(p)",
        r"""list_transform([regexp_replace(p, '\\.', '', 'g')], lambda rg_q: length(rg_q)
            - length(replace(rg_q, '(', '')) - (length(rg_q) - length(replace(rg_q, '(?', ''))) // 2)[1]""",
    ),
    # how many whole characters of s fit in its first (last) n bytes
    (
        "dbk_chars_in_bytes(s, n, from_end)",
        """len(list_filter(range(1, length(s) + 1),
            lambda cb_i: strlen(CASE WHEN from_end THEN right(s, cb_i) ELSE left(s, cb_i) END) <= n))""",
    ),
    # mask: upper-case letters, lower-case letters and digits each replaced by one character
    (
        "dbk_mask(s, u, l, d)",
        """translate(s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
        repeat(left(u, 1), 26) || repeat(left(l, 1), 26) || repeat(left(d, 1), 10))""",
    ),
    # arrays: the index (from 1) of the first / last true flag, 0 for none; NULL for a NULL array
    ("dbk_first_true(f)", "CASE WHEN f IS NOT NULL THEN coalesce(list_position(f, true), 0) END"),
    (
        "dbk_last_true(f)",
        """CASE WHEN f IS NOT NULL
        THEN coalesce(list_max(list_filter(range(1, len(f) + 1), lambda lt_i: f[lt_i])), 0) END""",
    ),
    ("dbk_any_true(f)", "CASE WHEN f IS NOT NULL THEN coalesce(list_bool_or(f), false) END"),
    ("dbk_all_true(f)", "CASE WHEN f IS NOT NULL THEN coalesce(list_bool_and(f), true) END"),
    (
        "dbk_array_difference(l)",
        """list_transform(l, lambda ad_x, ad_i: CASE WHEN ad_i = 1 THEN CASE WHEN ad_x IS NOT NULL THEN 0 END
        ELSE CAST(ad_x AS HUGEINT) - l[ad_i - 1] END)""",
    ),
    # array_sortby: l in the order of its keys k (NULL keys first, ties as they stand); k is read once, so
    # random keys (array_shuffle) stay the same keys
    (
        "dbk_array_sortby(l, k)",
        """list_transform([k], lambda sb_k: CASE WHEN sb_k IS NULL THEN l WHEN len(l) <> len(sb_k)
            THEN error('function array_sortby''s 2-th argument should have same offsets with first argument')
        ELSE list_transform(list_sort(list_transform(l, lambda sb_x, sb_i:
            {'n': sb_k[sb_i] IS NOT NULL, 'k': sb_k[sb_i], 'i': sb_i, 'v': sb_x})), lambda sb_e: sb_e.v) END)[1]""",
    ),
    # l1_distance: the sum of the elements' absolute differences (of vectors of one size)
    (
        "dbk_l1_distance(a, b)",
        "coalesce(list_sum(list_transform(a, lambda l1_x, l1_i: abs(l1_x - b[l1_i]))), 0)",
    ),
    (
        "dbk_countequal(l, v)",
        "CASE WHEN l IS NOT NULL THEN len(list_filter(l, lambda ce_x: ce_x IS NOT DISTINCT FROM v)) END",
    ),
    # the distinct elements every list of l holds ([] for no lists)
    (
        "dbk_intersect_all(l)",
        """CASE WHEN len(l) = 0 THEN flatten(l)
        ELSE dbk_array_distinct(list_reduce(l, lambda ia_a, ia_b: dbk_array_intersect(ia_a, ia_b))) END""",
    ),
    # percentile over sorted DOUBLEs l, interpolated as Doris does: low + (high - low) * fraction
    (
        "dbk_percentile(l, p)",
        """CASE WHEN len(l) > 0 THEN l[CAST(floor((len(l) - 1) * p) AS BIGINT) + 1]
            + (l[least(CAST(floor((len(l) - 1) * p) AS BIGINT) + 2, len(l))]
                - l[CAST(floor((len(l) - 1) * p) AS BIGINT) + 1])
            * ((len(l) - 1) * p - floor((len(l) - 1) * p)) END""",
    ),
    # percentile_approx over sorted DOUBLEs l as Doris's t-digest answers while each value is its own
    # centroid: the values stand at ranks 0.5, 1.5, ...; between two, the average weighted by the distances,
    # in FLOAT arithmetic as the digest computes (267.8000183105469 for 8 and 441 at 0.55)
    (
        "dbk_digest_between(lo, hi, below, above)",
        """CAST(greatest(CAST(lo AS FLOAT), least(CAST(hi AS FLOAT),
            (CAST(lo AS FLOAT) * above + CAST(hi AS FLOAT) * below) / (below + above))) AS DOUBLE)""",
    ),
    (
        "dbk_digest_at(l, r)",
        """CASE WHEN r <= CAST(0.5 AS FLOAT) THEN l[1]
            WHEN r >= CAST(len(l) - 0.5 AS FLOAT) THEN l[len(l)]
            ELSE dbk_digest_between(l[CAST(floor(r - 0.5) AS BIGINT) + 1], l[CAST(floor(r - 0.5) AS BIGINT) + 2],
                r - CAST(floor(r - 0.5) + 0.5 AS FLOAT), CAST(floor(r - 0.5) + 1.5 AS FLOAT) - r) END""",
    ),
    (
        "dbk_digest_quantile(l, q)",
        "CASE WHEN len(l) > 0 THEN dbk_digest_at(l, CAST(q AS FLOAT) * CAST(len(l) AS FLOAT)) END",
    ),
    # topn_array / topn_weighted over {v, w} entries (NULL values left out): the n values of the greatest
    # summed weight, the greater value first among equal weights
    (
        "dbk_top_weighted(l, n)",
        """list_transform(list_slice(list_sort(list_transform(
            list_distinct(list_transform(list_filter(l, lambda tw_e: tw_e.v IS NOT NULL), lambda tw_e: tw_e.v)),
            lambda tw_v: {'w': list_sum(list_transform(list_filter(l, lambda tw_e: tw_e.v = tw_v),
                lambda tw_e: tw_e.w)), 'v': tw_v}), 'DESC'), 1, n), lambda tw_s: tw_s.v)""",
    ),
    # map_agg over {k, v} entries: a key's first value counts
    (
        "dbk_map_agg(l)",
        """map_from_entries(list_filter(l, lambda ma_e, ma_i:
            list_position(list_transform(l, lambda ma_x: ma_x.k), ma_e.k) = ma_i))""",
    ),
)


_NAME = re.compile(r"\bdbk_\w+")


def _name(signature: str) -> str:
    return signature.split("(", 1)[0]


def _grouped_double(x: float, places: int) -> str:
    """A DOUBLE's exact binary value rounded to ``places`` decimals, with thousands separators
    (format_round: 1.7976931348623157E+308 has all its 309 digits, as in Doris)."""
    return f"{x:,.{places}f}"


_UNITS = ((10**15, "Q"), (10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


def _short_number(x: float) -> str:
    """format_number: three significant digits (more when a value passes 999 of the largest unit) and the
    largest unit the value reaches (12345 -> 12.3K, -1000 -> -1K, 999999 -> 1000K, 0 -> 0.00)."""

    def fixed(v: float) -> str:
        return f"{v:.{0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2}f}"

    for size, suffix in _UNITS:
        if abs(x) >= size:
            text = fixed(x / size)
            return (text.rstrip("0").rstrip(".") if "." in text else text) + suffix
    return fixed(x)


# the widest width or precision a format() field may ask for, so that no pattern makes a huge string
_FMT_MAX_WIDTH = 10_000
_FMT_NUMBER = re.compile(r"\d+")


def _fmt_fields_safe(pattern: str) -> bool:
    """Only what fmt has: a field names an argument by position or not at all (Python's attribute and index
    lookups, '{0.__class__}', are not fmt's), with no width or precision past _FMT_MAX_WIDTH."""
    for _text, field, spec, _conversion in string.Formatter().parse(pattern):
        if field is None:
            continue
        if field and not field.isdigit():
            return False
        if any(int(n) > _FMT_MAX_WIDTH for n in _FMT_NUMBER.findall(spec or "")):
            return False
    return True


def _fmt(pattern: str | None, args: list[str | None] | None) -> str | None:
    """format(pattern, args...): the fmt library's syntax, which Python's str.format shares ('{}', '{1}',
    '{:05}', '{:.3}', '{:e}'); the arguments come as JSON so that numbers stay numbers."""
    if pattern is None or args is None or None in args:
        return None
    try:
        if not _fmt_fields_safe(pattern):
            raise ValueError(f"unsupported format field in {pattern!r}")
        return pattern.format(*[json.loads(a) for a in args if a is not None])
    except (IndexError, KeyError, ValueError) as exc:
        raise ValueError(f"Invalid Input argument: {exc}") from None


def _bucket_count(counts: list[int], capacity: int) -> int:
    """How many buckets the values take when each starts a new bucket where it would overflow the last."""
    used, filled = 0, capacity
    for count in counts:
        if filled + count > capacity:
            used, filled = used + 1, 0
        filled += count
    return used


def _histogram(values: list[str], counts: list[int], buckets: int) -> str:
    """histogram's JSON over a group's distinct values (in order, as text) and their counts. The buckets'
    capacity is the least that fits the values into ``buckets`` buckets, each value starting a new bucket
    where it would overflow the current one; a value also starts one when the values left are no more than
    the buckets not yet started, so every bucket gets a value where there are enough."""
    buckets = max(buckets, 1)
    low, high = 1, max(sum(counts), 1)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if _bucket_count(counts, middle) <= buckets else (middle + 1, high)
    done: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for position, (value, count) in enumerate(zip(values, counts, strict=True)):
        if current is not None and len(done) < buckets - 1:
            unstarted = buckets - len(done) - 1
            if current["count"] + count > low or len(values) - position <= unstarted:
                done.append(current)
                current = None
        if current is None:
            pre_sum = sum(b["count"] for b in done)
            current = {"lower": value, "upper": value, "ndv": 0, "count": 0, "pre_sum": pre_sum}
        current["upper"] = value
        current["ndv"] += 1
        current["count"] += count
    if current is not None:
        done.append(current)
    return json.dumps({"num_buckets": len(done), "buckets": done}, separators=(",", ":"))


_U64 = (1 << 64) - 1
_MURMUR64A_MULTIPLIER = 0xC6A4A7935BD1E995


def _murmur64a(text: str) -> int:
    """MurmurHash64A of the text's UTF-8 bytes with Doris's seed (0xadc83b19): the hash hll_hash adds."""
    data = text.encode()
    m = _MURMUR64A_MULTIPLIER
    h = (0xADC83B19 ^ (len(data) * m)) & _U64
    whole = len(data) // 8 * 8
    for offset in range(0, whole, 8):
        k = (int.from_bytes(data[offset : offset + 8], "little") * m) & _U64
        k = ((k ^ (k >> 47)) * m) & _U64
        h = ((h ^ k) * m) & _U64
    if whole < len(data):
        h = ((h ^ int.from_bytes(data[whole:], "little")) * m) & _U64
    h = ((h ^ (h >> 47)) * m) & _U64
    return h ^ (h >> 47)


# Doris's HLL holds up to 160 hashes as they are (its explicit form) before it keeps registers
_HLL_EXPLICIT_MAX = 160


def _hll_to_base64(hashes: list[int]) -> str:
    """An HLL sketch in Doris's layout while it is small: byte 0 for an empty one; 1, the count and the
    hashes (8 bytes, little-endian) for up to 160. A larger one is written as its hashes in text after a
    byte 255, which Doris does not read (its register form would not give the hashes back here)."""
    values = sorted(set(hashes))
    if len(values) <= _HLL_EXPLICIT_MAX:
        body = bytes([1 if values else 0]) + (bytes([len(values)]) if values else b"")
        body += b"".join(v.to_bytes(8, "little") for v in values)
    else:
        body = b"\xff" + ",".join(map(str, values)).encode()
    return base64.b64encode(body).decode()


def _hll_from_base64(text: str) -> list[int]:
    """The hashes of a sketch _hll_to_base64 wrote; Doris's error for anything else."""
    try:
        data = base64.b64decode(text, validate=True)
        if data == b"\x00":
            return []
        if data[:1] == b"\x01" and len(data) == 2 + 8 * data[1]:
            return [int.from_bytes(data[i : i + 8], "little") for i in range(2, len(data), 8)]
        if data[:1] == b"\xff":
            return [int(v) for v in data[1:].decode().split(",")]
    except ValueError:
        pass
    raise ValueError(f"[RUNTIME_ERROR]hll_from_base64 decode failed: base64: {text}")


# functions DuckDB lacks, in Python: erf whose last digit must agree with Doris's (which calls the C library
# that Python's math module calls too), and exact number formatting. name -> (function, parameter types,
# result type, whether it answers NULL by itself)
UDFS: dict[str, tuple[Callable[..., Any], list[str], str, bool]] = {
    "dbk_erf": (math.erf, ["DOUBLE"], "DOUBLE", False),
    "dbk_xpath_string": (xpath_string, ["VARCHAR", "VARCHAR"], "VARCHAR", True),
    "dbk_grouped_double": (_grouped_double, ["DOUBLE", "INTEGER"], "VARCHAR", False),
    "dbk_short_number": (_short_number, ["DOUBLE"], "VARCHAR", False),
    "dbk_fmt": (_fmt, ["VARCHAR", "VARCHAR[]"], "VARCHAR", True),
    "dbk_histogram": (_histogram, ["VARCHAR[]", "BIGINT[]", "INTEGER"], "VARCHAR", False),
    "dbk_murmur64a": (_murmur64a, ["VARCHAR"], "UBIGINT", False),
    "dbk_hll_to_base64": (_hll_to_base64, ["UBIGINT[]"], "VARCHAR", False),
    "dbk_hll_from_base64": (_hll_from_base64, ["VARCHAR"], "UBIGINT[]", False),
}

# each macro's name -> the macros its body calls (a Python function calls none)
_CALLS = {_name(signature): set(_NAME.findall(body)) for signature, body in MACROS} | {name: set() for name in UDFS}


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
    for name, (function, parameters, result, own_nulls) in UDFS.items():
        wanted = only is None or name in only
        if wanted and not db.execute("SELECT 1 FROM duckdb_functions() WHERE function_name = ?", [name]).fetchall():
            nulls = "special" if own_nulls else "default"
            db.create_function(name, function, parameters, result, null_handling=nulls)  # type: ignore[arg-type]
    for signature, body in MACROS:
        if only is None or _name(signature) in only:
            db.execute(f"CREATE OR REPLACE MACRO {signature} AS {body}")
