"""Doris's string functions as the engine lowers them (in process, on DuckDB): the values Doris answers,
taken from its string_functions regression suites' .out files and its documentation."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from tests.engine.test_functions import answer, db  # noqa: F401 - db is a fixture

pytestmark = pytest.mark.fast

CASES: list[tuple[str, Any]] = [
    # str_to_map: the last value of a repeated key, NULL for a pair without its delimiter
    ("SELECT str_to_map('a:1,b:2,b:3', ',', ':')", {"a": "1", "b": "3"}),
    ("SELECT str_to_map('')", {"": None}),
    ("SELECT str_to_map(',,,')", {"": None}),
    ("SELECT str_to_map('a=1;b=2', ';', '=')", {"a": "1", "b": "2"}),
    ("SELECT str_to_map(repeat('a:1,', 3))", {"a": "1"}),
    ("SELECT str_to_map(NULL, ',', ':')", None),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_string_function(db: duckdb.DuckDBPyConnection, sql: str, expected: Any) -> None:  # noqa: F811
    assert answer(db, sql) == expected
