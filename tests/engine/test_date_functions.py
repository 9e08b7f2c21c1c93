"""Doris's date and time functions as the engine lowers them, run on DuckDB without a server: each case
is a Doris statement and the value Doris answers (from Doris's function suites' .out files)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from tests.engine.test_functions import answer, db  # noqa: F401  (db is a fixture)

pytestmark = pytest.mark.fast

D = dt.date
T = dt.datetime

CASES = [
    # from_iso8601_date: years, months, days, ISO weeks and days of the year
    ("SELECT from_iso8601_date('1970')", D(1970, 1, 1)),
    ("SELECT from_iso8601_date('1900-03')", D(1900, 3, 1)),
    ("SELECT from_iso8601_date('19000228')", D(1900, 2, 28)),
    ("SELECT from_iso8601_date('1970-W01')", D(1969, 12, 29)),
    ("SELECT from_iso8601_date('2009-W53-7')", D(2010, 1, 3)),
    ("SELECT from_iso8601_date('1900-W08-7')", D(1900, 2, 25)),
    ("SELECT from_iso8601_date('5555001')", D(5555, 1, 1)),
    ("SELECT from_iso8601_date('9999-365')", D(9999, 12, 31)),
    ("SELECT from_iso8601_date('1900-02-29')", None),
    ("SELECT from_iso8601_date('7855462')", None),
    ("SELECT from_iso8601_date('202334')", None),
    ("SELECT from_iso8601_date('2121W00')", None),
    ("SELECT from_iso8601_date('5555-W001')", None),
    ("SELECT from_iso8601_date('2023-01-01T12:00:00')", None),
    ("SELECT from_iso8601_date('')", None),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_date_function(db: duckdb.DuckDBPyConnection, sql: str, expected: Any) -> None:  # noqa: F811
    assert answer(db, sql) == expected
