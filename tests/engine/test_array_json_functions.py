"""Doris's array and JSON functions as the engine lowers them (values from Doris's suites' .out files and
its documentation), and the storage detail they lean on: nested columns that survive compaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dorisbk.backend.scan import _top_level
from dorisbk.catalog.types import ColumnType
from dorisbk.errors import DorisError
from dorisbk.server.session import nested_text
from dorisbk.sql.ddl_parser import parse_ddl
from tests.engine.test_functions import answer, db  # noqa: F401  (db is a fixture)

pytestmark = pytest.mark.fast


def test_nested_columns_are_found_in_rowset_files(tmp_path: Path) -> None:
    """A file's ARRAY / MAP / STRUCT columns are top-level columns of its schema (compaction reads them by
    name; a column it did not find would be rewritten as NULL)."""
    path = str(tmp_path / "rowset.parquet")
    conn = duckdb.connect()
    conn.execute(
        f"COPY (SELECT 1 AS a, [1, 2] AS b, {{'x': 1, 'y': [2]}} AS s, MAP([1], ['a']) AS m, 'z' AS c) TO '{path}'"
    )
    rows = conn.execute(
        f"SELECT file_name, name, num_children, type, converted_type, logical_type FROM parquet_schema('{path}')"
    ).fetchall()
    assert [name for name, _kind in _top_level(rows)[path]] == ["a", "b", "s", "m", "c"]


# (Doris statement, the value Doris answers: test_array_functions_by_literal, test_array_split, test_array_first,
# test_array_count_function, test_array_first_index_function, test_array_map_function, test_array_exists_function)
ARRAY_CASES = [
    ("SELECT array_count((x, y) -> x > y, [1, 2, 3, 4, 5], [10, 20, -40, 80, -100])", 2),
    ("SELECT array_count(x -> x > 3, CAST(NULL AS ARRAY<INT>))", 0),
    ("SELECT array_first_index((x, y) -> x > y, [1, NULL, 2], [NULL, 3, 1])", 3),
    ("SELECT array_last_index((x, y) -> x * abs(y) > 10, [1, NULL, 2], [NULL, 3, 1])", 0),
    ("SELECT array_map((x, y) -> x + y, [1, 2, 3, 4, 5], [10, 20, -40, 80, -100])", [11, 22, -37, 84, -95]),
    ("SELECT array_map((x, y) -> x, [], [])", []),
    ("SELECT array_first(x -> x > 'abc', ['a', 'b', 'c'])", "b"),
    ("SELECT array_last(x -> x > 3, [1, 2, 3, 4, 5])", 5),
    ("SELECT array_first(x -> x < 1, [1, 2, 3, 4, 5])", None),
    ("SELECT array_exists([NULL, 1, 2])", [None, 1, 1]),
    ("SELECT array_apply([1000000, 1000001, 1000002], '=', 1000002)", [1000002]),
    ("SELECT array_apply([1, 2], '>', NULL)", None),
    (
        "SELECT array_apply(array(CAST(24.99 AS DECIMAL(10, 3)), CAST(25.99 AS DECIMAL(10, 3))), '>', '25')",
        [Decimal("25.990000000")],
    ),
    ("SELECT array_intersect([1, 2, NULL], [1, 3, NULL], [1, 2, 3, NULL])", [None, 1]),
    ("SELECT array_intersect([1, 2, 3], [1, 2, 3], [NULL], [])", []),
    ("SELECT array_union([1], [100000000])", [1, 100000000]),
    ("SELECT array_concat(NULL, [1, 2, 3], NULL)", None),
    ("SELECT array_pushfront(NULL, 6)", None),
    ("SELECT array_pushback(NULL, 6)", None),
    ("SELECT array_repeat('_', 3)", ["_", "_", "_"]),
    ("SELECT array_with_constant(NULL, 'abc')", []),
    ("SELECT array('a', 1, 2)", ["a", "1", "2"]),
    ("SELECT [1, 2, 3][2:-1]", []),
    ("SELECT [1, 2, 3][-5:]", []),
    ("SELECT [1, 2, 3][-2:]", [2, 3]),
    (
        "SELECT array_zip([1, NULL, 3], [NULL, 'b', NULL])",
        [
            {"col1": 1, "col2": None},
            {"col1": None, "col2": "b"},
            {"col1": 3, "col2": None},
        ],
    ),  # fmt: skip
    ("SELECT array_zip([1, 2, 3], NULL, ['foo', 'bar', 'test'])", None),
    ("SELECT array_range(-1, 3)", None),
    ("SELECT sequence(1, 10, 0)", None),
    ("SELECT array_split([1, 2, 3, 4, 5], [NULL, NULL, 1, 0, 0])", [[1, 2], [3, 4, 5]]),
    ("SELECT array_reverse_split([1, NULL, NULL, 4, 5], [NULL, NULL, 1, 0, 0])", [[1, None, None], [4, 5]]),
    ("SELECT array_reverse_split(x -> (x > 'a'), ['a', 'b', 'c', 'd'])", [["a", "b"], ["c"], ["d"]]),
    ("SELECT array_split((x, y) -> y, [1, 2, 3, 4, 5], [1, 0, 0, 0, 0])", [[1, 2, 3, 4, 5]]),
    # datetime sequences: as many steps as whole units fit (test_array_functions.out)
    (
        "SELECT sequence(CAST('2022-05-01 12:00:00' AS DATETIMEV2(0)), CAST('2022-05-17 12:00:00' AS DATETIMEV2(0)), "
        "INTERVAL 2 WEEK)",
        [dt.datetime(2022, 5, 1, 12)],
    ),
    (
        "SELECT sequence(CAST('2022-01-15 12:00:00' AS DATETIMEV2(0)), CAST('2022-05-17 12:00:00' AS DATETIMEV2(0)), "
        "INTERVAL 3 MONTH)",
        [dt.datetime(2022, 1, 15, 12), dt.datetime(2022, 4, 15, 12)],
    ),
    ("SELECT sequence(CAST('2022-05-15' AS DATETIME), CAST('2022-05-17' AS DATETIME), INTERVAL 0 DAY)", None),
    ("SELECT sequence(1, 10, INTERVAL 10 DAY)", None),
    ("SELECT l1_distance([0, 0, 0], [1, 2, 3])", 6.0),
    # DECIMAL elements keep a DECIMAL: a product cut to their scale at each step, a mean to max(scale, 4)
    ("SELECT array_product([1.12, 3.45, -4.23])", Decimal("-16.32")),
    ("SELECT array_avg(array(1.0, 2.0, NULL, NULL, 2.0))", Decimal("1.6666")),
    (
        "SELECT array_avg(array(CAST(111.111 AS DECIMALV3(6, 3)), CAST(222.222 AS DECIMALV3(6, 3))))",
        Decimal("166.6665"),
    ),
    ("SELECT array_product([1, 2, 3])", 6.0),
    # a lambda's parameter beside a string in arithmetic is read as a number, as Doris casts both
    ("SELECT array_map(x -> x + '1', ['1', 'a', NULL])", [2.0, None, None]),
    ("SELECT array_sortby((x, y) -> (x + y), [1, 2, 3, 4, 5], [10, 20, -40, 80, -100])", [5, 3, 1, 2, 4]),
]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT l2_distance([1, 2, 3], NULL)", "function l2_distance cannot be null"),
        (
            "SELECT l2_distance([0, 0], [1])",
            "function l2_distance have different input element sizes of array: 2 and 1",
        ),
        ("SELECT cosine_distance([NULL], [NULL, NULL])", "function cosine_distance cannot have null"),
        ("SELECT array_map((x, y) -> x, [1], [])", "in array map function, the input column size are not equal"),
        ("SELECT array_min(array(split_by_string('a,b,c', ',')))", "array_min does not support type"),
        ("SELECT array_apply(split_by_string('a,b', ','), '!=', '')", "array_apply does not support type"),
        ("SELECT array_intersect([1, 2, 3], '1[3, 2, 5]')", "array_intersect does not support complex types"),
    ],
)
def test_array_function_refuses(db: duckdb.DuckDBPyConnection, sql: str, message: str) -> None:  # noqa: F811
    with pytest.raises((DorisError, duckdb.Error), match=message):
        answer(db, sql)


@pytest.mark.parametrize(("sql", "expected"), ARRAY_CASES)
def test_array_function(db: duckdb.DuckDBPyConnection, sql: str, expected: object) -> None:  # noqa: F811
    assert answer(db, sql) == expected


# (Doris statement, Doris's answer: test_json_extract.out, test_json_function.out)
JSON_CASES = [
    ("""SELECT json_extract('{"id": 123, "name": "doris"}', '$.name', '$.id', '$.not_exists')""", '["doris",123]'),
    ("""SELECT json_extract('{"id": 123, "name": "doris"}', '$.k1', '$.k2', '$.not_exists')""", None),
    (
        """SELECT json_extract('{"k": [1,2,3,4,5], "k2": "abc", "k3": {"k4": "v4"}}', '$.*', '$.k3.k4')""",
        '[[1,2,3,4,5],"abc",{"k4":"v4"},"v4"]',
    ),
    (
        """SELECT json_extract_no_quotes('{"k1": "v1", "k2": {"k21": 6.6, "k22": [1, 2, 3]}}', '$.k1', '$.k2')""",
        '["v1",{"k21":6.6,"k22":[1,2,3]}]',
    ),
    ("""SELECT json_extract_no_quotes('{"id": 123, "name": "doris"}', '$.id', NULL)""", None),
    # $** reads every level below the root
    (
        """SELECT json_extract('{"key1": "v1", "key2": {"key3": "v3"}, "key3": {"key4": "v4", "key5": 5}}', '$**.*')""",
        '["v1",{"key3":"v3"},"v3",{"key4":"v4","key5":5},"v4",5]',
    ),
    (
        """SELECT json_extract('[[1,2,3], {"k": [4,5], "b": "123"}]', ' $**.k    ', '$**[1] ')""",
        '[[4,5],2,{"k":[4,5],"b":"123"},5]',
    ),
    ("""SELECT json_exists_path('[[1,2,3], {"k": [4,5], "b": "123"}]', ' $**.k ')""", True),
    ("""SELECT json_array_ignore_null(1, NULL, 'a', json_parse('{"a":1}'))""", '[1,"a",{"a":1}]'),
    # a path the query computes (json_search.out: "fool")
    (
        """SELECT json_extract('{"one potato": "food", "two": "fool"}', json_unquote(json_search('{"two": "fool"}',"""
        """ 'one', 'fool')))""",
        '"fool"',
    ),
    # a backslash in a path escapes the character after it (test_json_function.out: 123)
    ("""SELECT get_json_string('{"namek" : 123}', '$.name\\\\k')""", "123"),
]


@pytest.mark.parametrize(("sql", "expected"), JSON_CASES)
def test_json_function(db: duckdb.DuckDBPyConnection, sql: str, expected: object) -> None:  # noqa: F811
    assert answer(db, sql) == expected


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT jsonb_extract('[1, 2, 3, 4, 5]', '$[last abc-1]')", r"Invalid Json Path for value: \$\[last abc-1\]"),
        ("""SELECT json_extract('{"a": 1}', p) FROM (SELECT '$.' AS p) AS t""", r"Invalid Json Path for value: \$\."),
        ("SELECT json_object(NULL, 123)", "json_object key can't be NULL"),
        (
            "SELECT json_search(j, o, NULL) FROM (SELECT '[1]' AS j, 'some' AS o) AS t",
            "the one_or_all argument some is not 'one' not 'all'",
        ),
    ],
)
def test_json_function_refuses(db: duckdb.DuckDBPyConnection, sql: str, message: str) -> None:  # noqa: F811
    with pytest.raises((DorisError, duckdb.Error), match=message):
        answer(db, sql)


def test_a_decimal_without_precision_is_decimal_38_9(db: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    """cast(1 as decimal) is DECIMAL(38, 9) (test_query_json_array.out: [[1.000000000,1.200000000]])."""
    assert (
        answer(db, "SELECT json_array(array(CAST(1 AS DECIMAL), CAST(1.2 AS DECIMAL)))")
        == "[[1.000000000,1.200000000]]"
    )


def test_datetime_3_elements_are_kept_as_milliseconds() -> None:
    """An ARRAY<DATETIMEV2(3)>'s elements are DuckDB TIMESTAMP_MS (printed with their 3 digits, as Doris prints
    ["2022-10-15 10:30:00.999"]), and are cast back to it when read from Parquet, which reads them as TIMESTAMP."""
    column = ColumnType.of("ARRAY", items=(("DATETIMEV2", (3,), ()),))
    assert column.duck() == "TIMESTAMP_MS[]"
    assert column.read_expr('"k10"') == 'CAST("k10" AS TIMESTAMP_MS[])'
    assert ColumnType.of("ARRAY", items=(("DATETIMEV2", (6,), ()),)).duck() == "TIMESTAMP[]"


def test_struct_column_types() -> None:
    """STRUCT<name:STRING, age:INT> columns (test_query_json_array and its kin create them): DuckDB STRUCTs of
    the fields' types, spelled back as Doris spells them, kept through the catalog's dictionaries."""
    column = ColumnType.of("STRUCT", items=(("STRING", (), (), "name"), ("INT", (), (), "age")))
    assert column.duck() == 'STRUCT("name" VARCHAR, "age" INTEGER)'
    assert column.sql() == "STRUCT<name:STRING, age:INT>"
    assert ColumnType.from_dict(column.to_dict()) == column
    with pytest.raises(DorisError, match="takes named fields"):
        ColumnType.of("STRUCT", items=(("INT", (), ()),))


def test_struct_columns_parse() -> None:
    stmt = parse_ddl(
        "CREATE TABLE t (k0 INT NOT NULL, k3 STRUCT<name:STRING, age:INT> NULL) DUPLICATE KEY(k0) "
        "DISTRIBUTED BY HASH(k0) BUCKETS 1"
    )
    struct = stmt.columns[1]
    assert ColumnType.of(struct.type_name, struct.type_args, struct.type_items).sql() == "STRUCT<name:STRING, age:INT>"


def test_strings_inside_arrays_print_as_doris_prints_them() -> None:
    """Quotes inside an element are left as they are (test_query_json_insert.out: [""a"", ""b""])."""
    assert nested_text(['"a"', '"b"', None]) == '[""a"", ""b"", null]'
    assert nested_text({"name": '"a"', "age": 1}) == '{"name":""a"", "age":1}'
