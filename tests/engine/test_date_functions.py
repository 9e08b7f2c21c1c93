"""Doris's date and time functions as the engine lowers them, run on DuckDB without a server: each case
is a Doris statement and the value Doris answers (from Doris's function suites' .out files)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import duckdb
import pytest
import sqlglot

from dorisbk.engine.dialect import DorisBK
from dorisbk.errors import DorisError
from dorisbk.server import session
from dorisbk.sql import clock
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
    # compound interval units: the first field's sign is the whole value's
    ("SELECT date_add('2025-10-29 10:10:10', INTERVAL '1 -10' DAY_HOUR)", T(2025, 10, 30, 20, 10, 10)),
    ("SELECT date_add('2025-10-29', INTERVAL '-1 1' DAY_HOUR)", T(2025, 10, 27, 23)),
    ("SELECT date_add('2025-10-29 10:10:10', INTERVAL '-1:10' MINUTE_SECOND)", T(2025, 10, 29, 10, 9)),
    (
        "SELECT date_add('2025-10-29 10:10:10', INTERVAL '1.13231' SECOND_MICROSECOND)",
        T(2025, 10, 29, 10, 10, 11, 132310),
    ),
    ("SELECT date_add('2025-10-29', INTERVAL '-1.1234567' SECOND_MICROSECOND)", T(2025, 10, 28, 23, 59, 57, 765433)),
    ("SELECT date_add('2025-10-29', INTERVAL ' 1  1 : 1 : 1 ' DAY_SECOND)", T(2025, 10, 30, 1, 1, 1)),
    # date_floor / date_ceil: periods of an INTERVAL counted from 0001-01-01
    ("SELECT date_floor('2023-07-14 10:51:00', INTERVAL 5 hour)", T(2023, 7, 14, 9)),
    ("SELECT date_ceil('2023-07-14 15:30:45', INTERVAL 2 quarter)", T(2024, 1, 1)),
    ("SELECT date_floor('2023-07-14 10:51:00', INTERVAL 5 year)", T(2021, 1, 1)),
    ("SELECT date_floor('9999-12-31 23:59:59.999999', INTERVAL 33333 year)", T(1, 1, 1)),
    ("SELECT date_ceil('9999-12-31 23:54:59.999999', INTERVAL 5 minute)", T(9999, 12, 31, 23, 55)),
    ("SELECT date_floor(NULL, INTERVAL 5 day)", None),
    ("SELECT century('1900-12-31')", 19),
    ("SELECT century('2101-01-01')", 22),
    ("SELECT century('9999-12-31')", 100),
    ("SELECT century('2023-13-45')", None),
    # time(): the argument's digits after the second
    ("SELECT time(cast('2025-1-1 12:12:12.12' as datetime(2)))", "12:12:12.12"),
    ("SELECT time(cast('2025-1-1 12:12:12.121212' as datetime(6)))", "12:12:12.121212"),
    ("SELECT time('2025-1-1 12:12:12')", "12:12:12"),
    ("SELECT time('-2025-1-1 12:12:12')", None),
    # months_between: whole months for the same day or two month ends, else days over 31
    ("SELECT months_between('2020-01-31', '2020-02-29 23:59:59', false)", -1.0),
    ("SELECT months_between('2020-06-30 23:59:59', '2020-07-01 00:00:00')", -0.06451613),
    ("SELECT months_between('1900-01-01', '2100-12-31')", -2411.96774194),
    ("SELECT months_between('2020-01-01', '2021-01-31', false)", -12.967741935483872),
    ("SELECT months_between('2020-01-01', '2020-02-01', NULL)", None),
    # convert_tz: an unknown zone is refused only for a row whose time and zones are all given
    ("SELECT convert_tz('2022-02-29 13:21:03', '+08:00', 'America/London')", None),
    ("SELECT convert_tz('2024-01-01 00:00:00', 'a', NULL)", None),
    # unix_timestamp of a DATETIME(p): p digits after the second
    ("SELECT unix_timestamp(cast('2007-11-30 10:30:19.123456' as datetimev2(4)))", Decimal("1196418619.1235")),
    # a string column read as a DATETIME: a time of day alone is none
    ("SELECT second(s) FROM (SELECT '12:00:01.12' AS s) t", None),
    ("SELECT second('12:34:56')", 56),
    # to_monday: the days before 1970's first Monday are 1970-01-01
    ("SELECT to_monday('1970-01-03')", D(1970, 1, 1)),
    ("SELECT to_monday('2022-03-02')", D(2022, 2, 28)),
    # Doris's year 0 has no February 29
    ("SELECT to_iso8601(CAST('0000-02-29' AS DATE))", None),
    # str_to_date / unix_timestamp read the start of a value their format reads
    ("SELECT str_to_date('2022-08-01 00:00:00', '%Y-%m-%d')", D(2022, 8, 1)),
    ("SELECT datediff('2019-08-01', str_to_date('2022-08-01 00:00:00', '%Y-%m-%d'))", -1096),
    # a DATETIME(p) as text: p digits after the second
    ("SELECT cast(cast('2024-01-01 10:00:00.12' as datetime(3)) as string)", "2024-01-01 10:00:00.120"),
    ("SELECT length(cast(cast('2024-01-01 10:00:00' as datetime(6)) as string))", 26),
    # the relaxed bounds of unix_timestamp / from_unixtime: up to 9999-12-31 23:59:59 at UTC+8
    ("SELECT from_unixtime(253402271999)", "9999-12-31 15:59:59"),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_date_function(db: duckdb.DuckDBPyConnection, sql: str, expected: Any) -> None:  # noqa: F811
    assert answer(db, sql) == expected


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        # a constant call is folded by Doris's planner, a column's by its backend, which names the field
        ("SELECT date_add('2025-10-29', INTERVAL '1 xx' DAY_HOUR)", "Invalid time format"),
        ("SELECT date_add(t, INTERVAL '1 xx' DAY_HOUR) FROM (SELECT now() AS t) s", "Invalid hours format"),
        ("SELECT date_add(t, INTERVAL '1:xx' MINUTE_SECOND) FROM (SELECT now() AS t) s", "Invalid seconds format"),
        ("SELECT date_add(t, INTERVAL '1.xx' SECOND_MICROSECOND) FROM (SELECT now() AS t) s", "Invalid microseconds"),
        ("SELECT date_add(t, INTERVAL '1 2:3' DAY_SECOND) FROM (SELECT now() AS t) s", "Invalid time format"),
        ("SELECT date_ceil('9999-12-31 23:59:59.999999', INTERVAL 1 second)", "out of range"),
        ("SELECT date_floor('1923-12-31 23:59:59.999999', INTERVAL -10 year)", "out of range"),
        ("SELECT convert_tz('2022-02-28 13:21:03', '+08:00', 'America/London')", "invalid timezone"),
        ("SELECT convert_tz('0000-01-01 00:00:00', '+08:00', '-02:00')", "Cannot convert"),
        ("SELECT from_unixtime(253402272000, '%Y-%m-%d %H:%i:%s')", "is invalid"),
    ],
)
def test_date_function_error(db: duckdb.DuckDBPyConnection, sql: str, message: str) -> None:  # noqa: F811
    with pytest.raises((DorisError, duckdb.Error), match=message):  # raised while lowering or while running
        answer(db, sql)


def _clocked(sql: str, started: dt.datetime) -> str:
    return clock.fix(sqlglot.parse_one(sql, read=DorisBK), started).sql("doris")


def test_utc_clocks() -> None:
    """UTC_TIMESTAMP(p), UTC_TIME(p) and UTC_DATE() read the statement's start in UTC, not the session's zone."""
    started = dt.datetime(2024, 3, 1, 7, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert "'2024-02-29 23:30:15.123'" in _clocked("SELECT utc_timestamp(3)", started)
    assert "'23:30:15'" in _clocked("SELECT utc_time()", started)
    assert "'2024-02-29'" in _clocked("SELECT utc_date()", started)
    assert "'2024-03-01'" in _clocked("SELECT curdate()", started)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT utc_timestamp(7)", "scale must be between 0 and 6"),
        ("SELECT UTC_TIMESTAMP(NULL)", "UTC_TIMESTAMP argument cannot be NULL."),
        ("SELECT utc_time(7)", "scale must be between 0 and 6"),
        ("SELECT UTC_TIME(NULL)", "UTC_TIME argument cannot be NULL."),
        ("SELECT CURTIME(7)", "The precision must be between 0 and 6"),
        ("SELECT CURTIME(114514)", r"Can not find the compatibility function signature: current_time\(INT\)"),
    ],
)
def test_clock_errors(sql: str, message: str) -> None:
    with pytest.raises(DorisError, match=message):
        _clocked(sql, dt.datetime.now(dt.UTC))


def test_year_zero_is_printed_as_doris_prints_it() -> None:
    """DuckDB hands its 1 BC (Doris's year 0) over as text; a client sees Doris's 0000."""
    assert session._year_zero("0001-08-01 (BC) 13:21:03") == "0000-08-01 13:21:03"
    assert session._year_zero("0001-01-01 (BC)") == "0000-01-01"
    assert session._year_zero("2019-08-01 13:21:03") == "2019-08-01 13:21:03"


def test_unix_timestamp_takes_any_datetime_after_1970(db: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    assert answer(db, "SELECT unix_timestamp('9999-12-31 23:59:59')", "+08:00") == 253402271999
    assert answer(db, "SELECT unix_timestamp('2020-12-12', '%Y-%m-%d')", "+08:00") == Decimal("1607702400.000000")
