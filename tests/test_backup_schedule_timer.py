"""When a scheduled backup runs (jobs.timer): the run times of EVERY / STARTS / ENDS, missed runs read as one,
Doris's checks; and the ExecuteSql text of a job, which parses back to its BACKUP."""

from __future__ import annotations

import datetime as dt

import pytest

from dorisbk.config import FrontendConfig
from dorisbk.errors import DorisError
from dorisbk.jobs.timer import IntervalUnit, TimerDefinition, parse_time
from dorisbk.sql.backup_parser import parse_backup
from dorisbk.sql.backup_stmts import CreateJobStmt, backup_sql

MINUTE = 60_000
START = parse_time("2030-01-01 02:00:00")


def every_minute(end: int | None = None) -> TimerDefinition:
    return TimerDefinition(1, IntervalUnit.MINUTE, START, end)


def test_run_times_are_starts_plus_whole_intervals() -> None:
    timer = every_minute()
    assert timer.next_after(START - 1) == START
    assert timer.next_after(START) == START + MINUTE
    assert timer.next_after(START + 90_000) == START + 2 * MINUTE
    assert timer.latest_due(START - 1) is None
    assert timer.latest_due(START) == START
    # ten missed runs are one, at the latest of their times
    assert timer.latest_due(START + 10 * MINUTE + 30_000) == START + 10 * MINUTE


def test_ends_is_exclusive() -> None:
    timer = every_minute(end=START + 2 * MINUTE)
    assert timer.latest_due(START + MINUTE + 1) == START + MINUTE
    assert timer.latest_due(START + 2 * MINUTE) is None
    assert not timer.ended(START + MINUTE)
    assert timer.ended(START + 2 * MINUTE)


def test_strategy_as_doris_shows_it() -> None:
    assert every_minute().strategy() == "EVERY 1 MINUTE STARTS 2030-01-01 02:00:00"
    timer = TimerDefinition(2, IntervalUnit.WEEK, START, START + 14 * 86_400_000)
    assert timer.strategy() == "EVERY 2 WEEK STARTS 2030-01-01 02:00:00 ENDS 2030-01-15 02:00:00"
    assert TimerDefinition.from_dict(timer.to_dict()) == timer


def test_without_starts_the_first_run_is_one_interval_after_creation() -> None:
    now = parse_time("2030-01-01 00:00:00") + 123
    timer = TimerDefinition.build(3, IntervalUnit.HOUR, None, None, now)
    assert timer.start_ms == parse_time("2030-01-01 03:00:00")


@pytest.mark.parametrize(
    ("interval", "starts", "ends", "message"),
    [
        (0, None, None, "interval must be greater than 0"),
        (1, "tomorrow", None, "Invalid datetime value: tomorrow, expected yyyy-MM-dd HH:mm:ss"),
        (1, "2030-01-02 00:00:00", "2030-01-01 00:00:00", "endTimeMs must be greater than the start time"),
        (1, "2000-01-01 00:00:00", "2000-01-02 00:00:00", "endTimeMs must be greater than current time"),
    ],
)
def test_doris_checks(interval: int, starts: str | None, ends: str | None, message: str) -> None:
    now = int(dt.datetime(2025, 1, 1).timestamp() * 1000)
    with pytest.raises(DorisError) as raised:
        TimerDefinition.build(interval, IntervalUnit.DAY, starts, ends, now)
    assert raised.value.message == message


def test_units() -> None:
    config = FrontendConfig()
    assert IntervalUnit.parse("week", config) is IntervalUnit.WEEK
    with pytest.raises(DorisError, match="Invalid interval time unit: YEAR"):
        IntervalUnit.parse("YEAR", config)
    with pytest.raises(DorisError, match="Interval time unit can not be second in production mode"):
        IntervalUnit.parse("SECOND", config)
    config.set("enable_job_schedule_second_for_test", "true")
    assert IntervalUnit.parse("second", config) is IntervalUnit.SECOND


@pytest.mark.parametrize(
    "body",
    [
        "BACKUP SNAPSHOT db.l TO r",
        "BACKUP SNAPSHOT `my db`.l TO r ON (t PARTITION (p1, p2), u)",
        "BACKUP SNAPSHOT db.l TO r EXCLUDE (t TEMPORARY PARTITION (tp))",
        'BACKUP SNAPSHOT db.l TO r PROPERTIES ("timeout" = "3600", "ttl" = "7 DAY", "x" = "a\\"b")',
    ],
)
def test_execute_sql_parses_back_to_the_backup(body: str) -> None:
    stmt = parse_backup(f"CREATE JOB j ON SCHEDULE EVERY 1 DAY DO {body}")
    assert isinstance(stmt, CreateJobStmt)
    assert parse_backup(backup_sql(stmt.backup)) == stmt.backup
