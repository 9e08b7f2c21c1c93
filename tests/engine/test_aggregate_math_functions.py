"""Doris's math, aggregate and sketch functions as the engine lowers them (in process, no server): each case
is a statement from Doris's function suites with the value its .out file records."""

from __future__ import annotations

import re
from typing import Any

import duckdb
import pytest
import sqlglot

from dorisbk.engine import allowlist, lowering
from dorisbk.engine.dialect import DorisBK
from dorisbk.engine.types import Kind
from dorisbk.errors import DorisError
from tests.engine.test_functions import answer, db

pytestmark = pytest.mark.fast

__all__ = ["db"]

CASES: list[tuple[str, Any]] = [
    # math_functions/test_normal_cdf
    ("SELECT normal_cdf(0, 1, 1.96)", 0.9750021048517796),
    ("SELECT normal_cdf(-1.5, 2.1, -7.8)", 0.0013498980316301035),
    ("SELECT normal_cdf(0, -1, 1)", None),
    ("SELECT normal_cdf(0, 1, NULL)", None),
    # math_functions/test_math_unary_always_nullable
    ("SELECT acosh(1.1)", 0.4435682543851154),
    ("SELECT acosh(0.0)", None),
    ("SELECT atanh(1.0)", None),
    ("SELECT atanh(0.0)", 0.0),
    ("SELECT factorial(20)", 2432902008176640000),
    ("SELECT factorial(21)", None),
    ("SELECT factorial(-1)", None),
    ("SELECT factorial(CAST(5 AS BIGINT))", 120),
    # math_functions/test_round: a DECIMAL keeps its scale unless the places are a constant integer
    ("SELECT CAST(round(123.123, 1.123) AS VARCHAR)", "123.100"),
    ("SELECT CAST(round(123.123, -1.123) AS VARCHAR)", "120.000"),
    ("SELECT CAST(round_bankers(123.123, 1.123) AS VARCHAR)", "123.100"),
    ("SELECT CAST(truncate(123.123, -1.123) AS VARCHAR)", "120.000"),
    ("SELECT CAST(round(10.12345, 2) AS VARCHAR)", "10.12"),
    ("SELECT CAST(round(CAST(0.123456789 AS DECIMAL(9, 9)), n) AS VARCHAR) FROM (SELECT 1 AS n) t", "0.100000000"),
    ("SELECT CAST(round(x * 2.5, x - 1) AS VARCHAR) FROM (SELECT 1 AS x) t", "3.0"),
    ("SELECT CAST(round_bankers(x * 2.5, x - 1) AS VARCHAR) FROM (SELECT 1 AS x) t", "2.0"),
    (
        "SELECT CAST(truncate(CAST(1.123456789 AS DECIMAL(10, 9)), x + 4) AS VARCHAR) FROM (SELECT 1 AS x) t",
        "1.123450000",
    ),
    ("SELECT truncate(10.12345)", 10.0),
    ("SELECT floor(CAST(16.025 AS DECIMAL(6, 3)), 6.234)", 16.025),
    ("SELECT dfloor(CAST(15.75 AS DOUBLE), CAST(25.5 AS DOUBLE))", 15.75),
    ("SELECT dfloor(CAST(1.5 AS DOUBLE), CAST(-1.7976931348623157E308 AS DOUBLE))", None),
    ("SELECT floor(CAST(-16.025 AS DECIMAL(6, 3)), 2)", -16.03),
    ("SELECT ceil(CAST(16.021 AS DECIMAL(6, 3)), 2)", 16.03),
    ("SELECT ceil(CAST(16.025 AS DECIMAL(6, 3)), -1)", 20.0),
    ("SELECT floor(CAST(1.123456789 AS DECIMAL(10, 9)), x + 4) FROM (SELECT 1 x) t", 1.12345),
    ("SELECT conv(10, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT))", None),
    # math_functions/test_format_round
    ("SELECT format_round(1234567.8910, 5)", "1,234,567.89100"),
    ("SELECT format_round(-1111.235, 2)", "-1,111.24"),
    ("SELECT format_round(9876.54321, 0)", "9,876"),
    ("SELECT format_round(CAST(1.44999 AS DECIMAL(20, 2)), 5)", "1.45000"),
    ("SELECT format_round(123456, 3)", "123,456.000"),
    ("SELECT format_round(CAST(123456.1234567 AS DOUBLE), 6)", "123,456.123457"),
    ("SELECT format_round(2.2250738585072014E-308, 0)", "0"),
    (
        "SELECT format_round(1.7976931348623157E+308, 0)",
        "179,769,313,486,231,570,814,527,423,731,704,356,798,070,567,525,844,996,598,917,476,803,157,260,"
        "780,028,538,760,589,558,632,766,878,171,540,458,953,514,382,464,234,321,326,889,464,182,768,467,"
        "546,703,537,516,986,049,910,576,551,282,076,245,490,090,389,328,944,075,868,508,455,133,942,304,"
        "583,236,903,222,948,165,808,559,332,123,348,274,797,826,204,144,723,168,738,177,180,919,299,881,"
        "250,404,026,184,124,858,368",
    ),
    # string_functions/test_format_functions
    ("SELECT format_number(12345)", "12.3K"),
    ("SELECT format_number(1239999999.9)", "1.24B"),
    ("SELECT format_number(-1000)", "-1K"),
    ("SELECT format_number(999999)", "1000K"),
    ("SELECT format_number(-9223372036854775808)", "-9223Q"),
    ("SELECT format_number(0)", "0.00"),
    ("SELECT format('{0}{1}', pi(), 123)", "3.141592653589793123"),
    ("SELECT format('{:05}', 8)", "00008"),
    ("SELECT format('{:e}', e())", "2.718282e+00"),
    ("SELECT format('', NULL)", None),
    # aggregate_functions/test_aggregate_collect and test_aggregate_all_functions
    ("SELECT topn_array(x, 2) FROM (VALUES (10), (8), (10), (10), (29), (8)) t(x)", [10, 8]),
    ("SELECT topn_array(x, 2, 100) FROM (VALUES ('b'), ('a'), ('c')) t(x)", ["c", "b"]),
    ("SELECT topn_weighted(x, w, 2) FROM (VALUES (1, 5), (2, 1), (2, 1), (3, 3)) t(x, w)", [1, 3]),
    ("SELECT percentile(x + 0.1, 0.5) FROM (VALUES (8), (441)) t(x)", 224.6),
    ("SELECT percentile(x + 0.1, 0.55) FROM (VALUES (8), (441)) t(x)", 246.25),
    ("SELECT percentile(x, NULL) FROM (VALUES (1), (2)) t(x)", None),
    ("SELECT percentile_array(x + 0.1, [0.5, 0.55]) FROM (VALUES (8), (441)) t(x)", [224.6, 246.25]),
    ("SELECT percentile_array(x, [0.5]) FROM (VALUES (1)) t(x) WHERE x > 1", []),
    ("SELECT median(x + 0.1) FROM (VALUES (8), (441)) t(x)", 224.6),
    ("SELECT percentile_reservoir(x, 0.5) FROM (VALUES (1), (2)) t(x)", 1.5),
    ("SELECT percentile_approx(x, 0.55) FROM (VALUES (8), (441)) t(x)", 267.8000183105469),
    ("SELECT percentile_approx(x, 0.805, 2048) FROM (VALUES (8), (441)) t(x)", 441.0),
    ("SELECT percentile_approx(x, 0.5) FROM (VALUES (10)) t(x)", 10.0),
    (
        "SELECT sem(CAST(x AS DOUBLE)) FROM (SELECT 1.0 AS x UNION ALL SELECT 2.0 UNION ALL SELECT 3.0) t",
        0.5773502691896257,
    ),
    # aggregate_functions/test_aggregate_count_by_enum: an aggregate under a function whose macro uses TRY
    ("SELECT get_json_string(count_by_enum(x), '$.[0].cbe.F') FROM (VALUES ('F'), ('M'), ('F')) t(x)", "2"),
    ("SELECT get_json_string(count_by_enum(x), '$.[0].null') FROM (VALUES ('F'), (NULL)) t(x)", "1"),
    ("SELECT sem(CAST(1.0 AS DOUBLE))", 0.0),
    ("SELECT sem(x) FROM (VALUES (1.0)) t(x) WHERE x > 1", None),
    ("SELECT sem(DISTINCT x) FROM (VALUES (1.0), (2.0), (2.0), (3.0)) t(x)", 0.5773502691896257),
    ("SELECT bool_and(x) FROM (VALUES (1), (2), (0)) t(x)", False),
    ("SELECT bool_or(x) FROM (VALUES (0.0), (2.5)) t(x)", True),
    ("SELECT bool_xor(x) FROM (VALUES (0), (3), (NULL)) t(x)", True),
    ("SELECT bool_xor(x) FROM (VALUES (1), (3)) t(x)", False),
    # aggregate_functions/test_aggregate_histogram
    (
        "SELECT histogram(x, 2) FROM (VALUES (10), (11), (11), (21), (31), (10), (NULL)) t(x)",
        '{"num_buckets":2,"buckets":[{"lower":"10","upper":"11","ndv":2,"count":4,"pre_sum":0},'
        '{"lower":"21","upper":"31","ndv":2,"count":2,"pre_sum":4}]}',
    ),
    (
        "SELECT hist(x, 2) FROM (VALUES (10), (11), (11)) t(x)",
        '{"num_buckets":2,"buckets":[{"lower":"10","upper":"10","ndv":1,"count":1,"pre_sum":0},'
        '{"lower":"11","upper":"11","ndv":1,"count":2,"pre_sum":1}]}',
    ),
    (
        "SELECT hist(x, 2) FROM (VALUES (21), (31), (10)) t(x)",
        '{"num_buckets":2,"buckets":[{"lower":"10","upper":"21","ndv":2,"count":2,"pre_sum":0},'
        '{"lower":"31","upper":"31","ndv":1,"count":1,"pre_sum":2}]}',
    ),
    (  # the first buckets take more than total / buckets values: the least capacity that fits four buckets
        "SELECT histogram(x, 4) FROM (VALUES (1), (1), (2), (3), (4), (5), (6), (6), (6), (7), (8), (9), (9),"
        " (10), (10)) t(x)",
        '{"num_buckets":4,"buckets":[{"lower":"1","upper":"4","ndv":4,"count":5,"pre_sum":0},'
        '{"lower":"5","upper":"7","ndv":3,"count":5,"pre_sum":5},'
        '{"lower":"8","upper":"9","ndv":2,"count":3,"pre_sum":10},'
        '{"lower":"10","upper":"10","ndv":1,"count":2,"pre_sum":13}]}',
    ),
    (  # as many buckets as values: one value each
        "SELECT histogram(x, 3) FROM (VALUES ('a'), ('b'), ('b'), ('b'), ('c')) t(x)",
        '{"num_buckets":3,"buckets":[{"lower":"a","upper":"a","ndv":1,"count":1,"pre_sum":0},'
        '{"lower":"b","upper":"b","ndv":1,"count":3,"pre_sum":1},'
        '{"lower":"c","upper":"c","ndv":1,"count":1,"pre_sum":4}]}',
    ),
    # hll_functions/test_hll_functions: Doris's explicit layout and its hash
    ("SELECT hll_to_base64(hll_empty())", "AA=="),
    ("SELECT hll_to_base64(hll_hash('abc'))", "AQEC5XSzrpDsdw=="),
    ("SELECT hll_to_base64(hll_hash(''))", "AQEyl7yFZerf2A=="),
    ("SELECT hll_to_base64(NULL)", None),
    ("SELECT hll_cardinality(hll_from_base64(hll_to_base64(hll_hash(NULL))))", 0),
    ("SELECT hll_cardinality(hll_from_base64('AQEC5XSzrpDsdw=='))", 1),
    # bitmap_functions/test_bitmap_function
    ("SELECT bitmap_to_string(bitmap_or(to_bitmap(1), to_bitmap(2), to_bitmap(10), to_bitmap(0), NULL))", "0,1,2,10"),
    ("SELECT bitmap_count(bitmap_or(to_bitmap(1), NULL))", 1),
    ("SELECT bitmap_or(NULL, NULL) IS NULL", True),
    ("SELECT bitmap_or(bitmap_from_string('a'), bitmap_from_string('b')) IS NULL", True),
    ("SELECT bitmap_or_count(bitmap_from_string('1,2,3'), bitmap_from_string('3,4,5'), to_bitmap(100), NULL)", 6),
    ("SELECT bitmap_to_string(bitmap_and(bitmap_from_string('1,2,3'), bitmap_from_string('1,2'), NULL))", None),
    ("SELECT bitmap_to_string(bitmap_subset_in_range(to_bitmap(1), CAST(NULL AS BIGINT), 3))", None),
    ("SELECT bitmap_to_string(bitmap_from_base64(bitmap_to_base64(bitmap_from_string(''))))", ""),
    ("SELECT bitmap_to_string(bitmap_from_base64(bitmap_to_base64(bitmap_from_string(' '))))", None),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_answer(db: duckdb.DuckDBPyConnection, sql: str, expected: Any) -> None:
    assert answer(db, sql) == expected


@pytest.mark.parametrize("sql", ["SELECT mod(-9223372036854775808, -1)", "SELECT pmod(-9223372036854775808, -1)"])
def test_smallest_bigint_modulo_minus_one(db: duckdb.DuckDBPyConnection, sql: str) -> None:
    with pytest.raises((DorisError, duckdb.Error), match="Division of minimal signed number by minus one"):
        answer(db, sql)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT format_round(1234567.8910, -1)", "it should be in range [0, 1024]"),
        ("SELECT format_round(1234567.8910, 1025)", "it should be in range [0, 1024]"),
        ("SELECT parse_data_size('10KB')", "Invalid Input argument"),
        ("SELECT percentile_approx(x, 10001) FROM (VALUES (1)) t(x)", "INVALID_ARGUMENT"),
        ("SELECT percentile(x, -1) FROM (VALUES (1)) t(x)", "-1"),
        ("SELECT percentile_reservoir(x, 2) FROM (VALUES (1)) t(x)", "percentile_reservoir level must be in [0, 1]"),
        ("SELECT percentile_reservoir(x, x) FROM (VALUES (1)) t(x)", "requires second parameter must be a constant"),
        ("SELECT booland_agg(CAST(x AS VARCHAR)) FROM (VALUES ('a')) t(x)", "requires a boolean or numeric argument"),
        ("SELECT format('{asdasdsa}', 'asd')", "Invalid Input argument"),
        ("SELECT format('{0.__class__}', 'asd')", "Invalid Input argument"),
        ("SELECT format('{0[0]}', 'asd')", "Invalid Input argument"),
        ("SELECT format('{:>999999999}', 'asd')", "Invalid Input argument"),
        ("SELECT bitmap_from_base64('CQoL')", "bitmap_from_base64 decode failed"),
        ("SELECT hll_from_base64('AgAAAAAAAABwAAAAAAAAAA==')", "[RUNTIME_ERROR]hll_from_base64 decode failed"),
    ],
)
def test_errors(db: duckdb.DuckDBPyConnection, sql: str, message: str) -> None:
    with pytest.raises((DorisError, duckdb.Error), match=re.escape(message)):
        answer(db, sql)


def test_hll_of_more_than_160_hashes_round_trips(db: duckdb.DuckDBPyConnection) -> None:
    """Past Doris's explicit form the sketch is written in a form only dorisbk reads, and reads back whole."""
    values = ", ".join(f"('{i}')" for i in range(500))
    sql = f"SELECT hll_cardinality(hll_from_base64(hll_to_base64(hll_union(hll_hash(x))))) FROM (VALUES {values}) t(x)"
    assert answer(db, sql) == 500


def _rows(db: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    tree = sqlglot.parse_one(sql, read=DorisBK)
    allowlist.check(tree)
    return db.execute(allowlist.duckdb_sql(lowering.lower(tree, lambda _column: Kind.UNKNOWN, "UTC"))).fetchall()


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT g, sem(CAST(x AS DOUBLE)) OVER (PARTITION BY g) FROM (VALUES (1, 1.0), (1, 2.0), (1, 3.0)) t(g, x)",
            [(1, 0.5773502691896257)] * 3,
        ),
        (
            "SELECT x, bool_xor(x) OVER (ORDER BY x) FROM (VALUES (0), (1), (2)) t(x) ORDER BY x",
            [(0, False), (1, True), (2, False)],
        ),
        (
            "SELECT x, percentile(x, 0.5) OVER (PARTITION BY x > 1) FROM (VALUES (1), (2), (3)) t(x) ORDER BY x",
            [(1, 1.0), (2, 2.5), (3, 2.5)],
        ),
        ("SELECT x, row_number() OVER (ORDER BY x) FROM (VALUES (5), (6)) t(x) ORDER BY x", [(5, 1), (6, 2)]),
    ],
)
def test_aggregate_over_a_window(db: duckdb.DuckDBPyConnection, sql: str, expected: list[tuple[Any, ...]]) -> None:
    """An aggregate lowered to an expression over DuckDB's aggregates takes its window on each of them."""
    assert _rows(db, sql) == expected
