"""Scheduled backups (CREATE JOB ... ON SCHEDULE EVERY ... DO BACKUP ...) on LOCAL repositories, through a real
server and pymysql: runs fire and leave snapshots labelled with their run time, PAUSE / RESUME / DROP JOB, a run
that finds its database busy is SKIPPED, schedules survive a restart and runs missed meanwhile become one run,
the jobs() / tasks() table functions, ADMIN only, and Doris's errors."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import described, doris_err, pause, q, restart, set_config
from tests.sqlhelp import error as err
from tests.test_backup_support import finished, make_table, run_script, sql_statements, wait_backup

JOBS = ["Id", "Name", "Definer", "ExecuteType", "RecurringStrategy", "Status", "ExecuteSql", "CreateTime",
        "SucceedTaskCount", "FailedTaskCount", "CanceledTaskCount", "Comment"]  # fmt: skip
TASKS = ["TaskId", "JobId", "JobName", "Label", "Status", "ErrorMsg", "CreateTime", "StartTime", "FinishTime", "User"]
TIME = "%Y-%m-%d %H:%M:%S"


def fast(conn: pymysql.connections.Connection) -> None:
    """Second intervals (Doris's test switch) and a scheduler that looks every 100 ms."""
    set_config(conn, "enable_job_schedule_second_for_test", "true")
    set_config(conn, "job_scheduler_check_interval_ms", "100")
    set_config(conn, "backup_handler_update_interval_millis", "50")


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schedule_repo")


@pytest.fixture(scope="module")
def conn(server: DorisbkServer, location: Path) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        fast(c)
        q(c, f"CREATE REPOSITORY sched WITH LOCAL ON LOCATION 'file://{location}'")
        yield c


def database(conn: pymysql.connections.Connection, name: str) -> None:
    q(conn, f"CREATE DATABASE {name}")
    make_table(conn, name, "t", rows=4, buckets=2)


def job_row(conn: pymysql.connections.Connection, name: str) -> dict[str, str] | None:
    names, rows = described(conn, f'SELECT * FROM jobs("type" = "backup") WHERE Name = \'{name}\'')
    assert names == JOBS
    return dict(zip(JOBS, rows[0], strict=True)) if rows else None


def tasks(conn: pymysql.connections.Connection, name: str) -> list[dict[str, str]]:
    names, rows = described(conn, f'SELECT * FROM tasks("type" = "backup") WHERE JobName = \'{name}\' ORDER BY TaskId')
    assert names == TASKS
    return [dict(zip(TASKS, r, strict=True)) for r in rows]


def wait_tasks(
    conn: pymysql.connections.Connection,
    name: str,
    done: Callable[[list[dict[str, str]]], bool],
    timeout: float = 30.0,
) -> list[dict[str, str]]:
    """Poll tasks() until ``done`` holds of the job's runs."""
    deadline = time.monotonic() + timeout
    while True:
        found = tasks(conn, name)
        if done(found):
            return found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def ended(found: list[dict[str, str]]) -> list[dict[str, str]]:
    return [t for t in found if t["Status"] != "RUNNING"]


def snapshots(conn: pymysql.connections.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in q(conn, "SHOW SNAPSHOT ON sched")}


def label_time(label: str, prefix: str) -> dt.datetime:
    assert label.startswith(prefix + "_"), label
    return dt.datetime.strptime(label[len(prefix) + 1 :], "%Y%m%d_%H%M%S")


def test_runs_fire_and_leave_labelled_snapshots(conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_fire")
    q(
        conn,
        "CREATE JOB fire ON SCHEDULE EVERY 1 SECOND COMMENT 'each second' DO BACKUP SNAPSHOT sch_fire.nightly TO sched",
    )
    row = job_row(conn, "fire")
    assert row is not None
    assert (row["Name"], row["Definer"], row["ExecuteType"], row["Status"]) == ("fire", "root", "RECURRING", "RUNNING")
    assert row["ExecuteSql"] == "BACKUP SNAPSHOT sch_fire.nightly TO sched"
    assert row["Comment"] == "each second"
    created = dt.datetime.strptime(row["CreateTime"], TIME)
    # without STARTS the first run is one interval after the job was made, as in Doris
    assert row["RecurringStrategy"] == f"EVERY 1 SECOND STARTS {(created + dt.timedelta(seconds=1)).strftime(TIME)}"

    runs = wait_tasks(conn, "fire", lambda found: len([t for t in ended(found) if t["Status"] == "SUCCESS"]) >= 2)
    q(conn, "PAUSE JOB WHERE jobName = 'fire'")
    listed = snapshots(conn)
    start = created + dt.timedelta(seconds=1)
    for run in ended(runs):
        assert (run["JobName"], run["JobId"], run["User"]) == ("fire", row["Id"], "root")
        # the label is the job's plus the run time, which is the task's CreateTime: a time of the schedule
        run_time = label_time(run["Label"], "nightly")
        assert run_time == dt.datetime.strptime(run["CreateTime"], TIME)
        assert run_time >= start
        if run["Status"] == "SKIPPED":  # a loaded machine: the run before was still uploading
            continue
        assert (run["Status"], run["ErrorMsg"]) == ("SUCCESS", None), run
        assert run["Label"] in listed, (run, listed)
        finished(conn, "sch_fire", run["Label"])
    run_times = [label_time(t["Label"], "nightly") for t in runs]
    assert run_times == sorted(set(run_times))
    counts = job_row(conn, "fire")
    assert counts is not None and int(counts["SucceedTaskCount"]) >= 2 and counts["FailedTaskCount"] == "0"
    q(conn, "DROP JOB WHERE jobName = 'fire'")


def test_pause_stops_runs_and_resume_starts_them_again(conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_pause")
    q(conn, "CREATE JOB pausing ON SCHEDULE EVERY 1 SECOND DO BACKUP SNAPSHOT sch_pause.p TO sched")
    wait_tasks(conn, "pausing", lambda found: len(ended(found)) >= 1)
    q(conn, "PAUSE JOB WHERE jobName = 'pausing'")
    row = job_row(conn, "pausing")
    assert row is not None and row["Status"] == "PAUSED"
    assert doris_err(conn, "PAUSE JOB WHERE jobName = 'pausing'") == (
        "Alter job status error, jobName is pausing, errorMsg is Can't change job status to the same status"
    )
    before = wait_tasks(conn, "pausing", lambda found: len(ended(found)) == len(found))
    # three intervals pass without a run
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        assert len(tasks(conn, "pausing")) == len(before)
        time.sleep(0.2)
    q(conn, "RESUME JOB WHERE jobName = 'pausing'")
    row = job_row(conn, "pausing")
    assert row is not None and row["Status"] == "RUNNING"
    after = wait_tasks(conn, "pausing", lambda found: len(ended(found)) > len(before))
    resumed = label_time(after[len(before)]["Label"], "p")
    # what the pause skipped is not caught up: the next run is after the resume
    assert resumed - label_time(before[-1]["Label"], "p") >= dt.timedelta(seconds=3)
    q(conn, "DROP JOB WHERE jobName = 'pausing'")


def test_drop_removes_the_schedule(conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_drop")
    q(conn, "CREATE JOB dropping ON SCHEDULE EVERY 1 DAY DO BACKUP SNAPSHOT sch_drop.d TO sched")
    assert job_row(conn, "dropping") is not None
    q(conn, "DROP JOB WHERE jobName = 'dropping'")
    assert job_row(conn, "dropping") is None
    assert doris_err(conn, "DROP JOB WHERE jobName = 'dropping'") == "unregister job error, jobName:dropping"
    q(conn, "DROP JOB IF EXISTS WHERE jobName = 'dropping'")
    # the name is free again
    q(conn, "CREATE JOB dropping ON SCHEDULE EVERY 1 DAY DO BACKUP SNAPSHOT sch_drop.d TO sched")
    q(conn, "DROP JOB WHERE jobName = 'dropping'")


def test_a_run_while_the_database_is_busy_is_skipped(conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_busy")
    pause(conn, "UPLOADING")
    try:
        q(conn, "BACKUP SNAPSHOT sch_busy.manual TO sched")
        wait_backup(conn, "sch_busy", "manual", ("UPLOADING",))
        q(conn, "CREATE JOB busy ON SCHEDULE EVERY 1 SECOND DO BACKUP SNAPSHOT sch_busy.b TO sched")
        found = wait_tasks(conn, "busy", lambda found: len(found) >= 2)
        q(conn, "PAUSE JOB WHERE jobName = 'busy'")
    finally:
        pause(conn)
    for run in found:
        assert run["Status"] == "SKIPPED", run
        assert run["ErrorMsg"] == "database sch_busy has a backup or restore job running"
        assert run["FinishTime"] != "NULL"
    assert not any(label.startswith("b_") for label in snapshots(conn))
    row = job_row(conn, "busy")
    assert row is not None and int(row["CanceledTaskCount"]) >= 2 and row["SucceedTaskCount"] == "0"
    finished(conn, "sch_busy", "manual")
    q(conn, "DROP JOB WHERE jobName = 'busy'")


def test_missed_runs_become_one_run(conn: pymysql.connections.Connection) -> None:
    """STARTS ten minutes ago: ten runs are due at once, and one runs, at the latest of their times."""
    database(conn, "sch_missed")
    start = (dt.datetime.now() - dt.timedelta(minutes=10, seconds=30)).replace(microsecond=0)
    q(
        conn,
        f"CREATE JOB missed ON SCHEDULE EVERY 1 MINUTE STARTS '{start.strftime(TIME)}' "
        "DO BACKUP SNAPSHOT sch_missed.m TO sched",
    )
    found = wait_tasks(conn, "missed", lambda found: len(ended(found)) == 1)
    assert found[0]["Status"] == "SUCCESS", found
    assert label_time(found[0]["Label"], "m") == start + dt.timedelta(minutes=10)
    time.sleep(1.0)  # ten scheduler passes
    assert len(tasks(conn, "missed")) == 1
    q(conn, "DROP JOB WHERE jobName = 'missed'")


def test_ends_finishes_the_job(conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_ends")
    ends = (dt.datetime.now() + dt.timedelta(seconds=3)).replace(microsecond=0)
    q(
        conn,
        f"CREATE JOB ending ON SCHEDULE EVERY 1 SECOND ENDS '{ends.strftime(TIME)}' "
        "DO BACKUP SNAPSHOT sch_ends.e TO sched",
    )
    deadline = time.monotonic() + 30
    while (row := job_row(conn, "ending")) is not None and row["Status"] != "FINISHED":
        assert time.monotonic() < deadline, row
        time.sleep(0.1)
    assert row is not None and row["RecurringStrategy"].endswith(f" ENDS {ends.strftime(TIME)}")
    for run in tasks(conn, "ending"):
        assert label_time(run["Label"], "e") < ends
    q(conn, "DROP JOB WHERE jobName = 'ending'")


def test_schedule_survives_a_restart_and_catches_up_once(fresh_server: DorisbkServer, tmp_path: Path) -> None:
    fresh_server.start()
    first = (dt.datetime.now() + dt.timedelta(seconds=3)).replace(microsecond=0)
    with fresh_server.connect() as c:
        fast(c)
        q(c, f"CREATE REPOSITORY sched WITH LOCAL ON LOCATION 'file://{tmp_path / 'repo'}'")
        database(c, "sch_restart")
        q(
            c,
            f"CREATE JOB hourly ON SCHEDULE EVERY 1 HOUR STARTS '{first.strftime(TIME)}' "
            "DO BACKUP SNAPSHOT sch_restart.h TO sched",
        )
        before = job_row(c, "hourly")

    def down_past_the_first_run() -> None:
        while dt.datetime.now() < first + dt.timedelta(seconds=1):
            time.sleep(0.1)

    restart(fresh_server, between=down_past_the_first_run)
    with fresh_server.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        after = job_row(c, "hourly")
        assert before is not None and after is not None
        for column in ("Id", "Name", "RecurringStrategy", "ExecuteSql", "CreateTime", "Status"):
            assert after[column] == before[column], column
        found = wait_tasks(c, "hourly", lambda found: len(ended(found)) == 1)
        assert found[0]["Status"] == "SUCCESS", found
        assert label_time(found[0]["Label"], "h") == first
        assert found[0]["Label"] in {r[0] for r in q(c, "SHOW SNAPSHOT ON sched")}
        time.sleep(1.0)  # more passes of the scheduler: no second run
        assert len(tasks(c, "hourly")) == 1
        q(c, "PAUSE JOB WHERE jobName = 'hourly'")
    restart(fresh_server)
    with fresh_server.connect() as c:
        row = job_row(c, "hourly")
        assert row is not None and (row["Status"], row["SucceedTaskCount"]) == ("PAUSED", "1")
        assert len(tasks(c, "hourly")) == 1


def test_runs_missed_while_down_are_one_run(fresh_server: DorisbkServer, tmp_path: Path) -> None:
    """A job every second, the server down for four: of the runs missed, one is made, at start."""
    fresh_server.start()
    with fresh_server.connect() as c:
        fast(c)
        q(c, f"CREATE REPOSITORY sched WITH LOCAL ON LOCATION 'file://{tmp_path / 'repo'}'")
        database(c, "sch_down")
        q(c, "CREATE JOB often ON SCHEDULE EVERY 1 SECOND DO BACKUP SNAPSHOT sch_down.o TO sched")
        wait_tasks(c, "often", lambda found: len(ended(found)) >= 1)
    restart(fresh_server, between=lambda: time.sleep(4.0))
    up = dt.datetime.now()
    with fresh_server.connect() as c:
        fast(c)
        found = wait_tasks(
            c, "often", lambda found: len(ended(found)) >= 1 and label_time(found[-1]["Label"], "o") > up
        )
        q(c, "PAUSE JOB WHERE jobName = 'often'")
    times = [label_time(t["Label"], "o") for t in found]
    gaps = [(a, b) for a, b in zip(times, times[1:], strict=False) if b - a > dt.timedelta(seconds=2)]
    # a second apart, but for one gap of the downtime: the run after it was due before the server was up
    assert len(gaps) == 1, times
    before_stop, catch_up = gaps[0]
    assert catch_up - before_stop >= dt.timedelta(seconds=4), times
    # labelled with the latest due time at the start's first check, which can come just after the ready line
    # the test took ``up`` at: within the second after it
    assert catch_up <= up + dt.timedelta(seconds=1), (times, up)


def test_backup_jobs_need_admin(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_admin")
    q(conn, "CREATE JOB guarded ON SCHEDULE EVERY 1 DAY DO BACKUP SNAPSHOT sch_admin.g TO sched")
    q(conn, "CREATE USER 'scheduler'@'%' IDENTIFIED BY 'pw'")
    q(conn, "GRANT SELECT_PRIV, LOAD_PRIV ON *.* TO 'scheduler'@'%'")
    statements = [
        "CREATE JOB mine ON SCHEDULE EVERY 1 DAY DO BACKUP SNAPSHOT sch_admin.x TO sched",
        "PAUSE JOB WHERE jobName = 'guarded'",
        "RESUME JOB WHERE jobName = 'guarded'",
        "DROP JOB WHERE jobName = 'guarded'",
        'SELECT * FROM jobs("type" = "backup")',
        'SELECT * FROM tasks("type" = "backup")',
    ]
    backup_denied = None
    with server.connect(user="scheduler", password="pw") as user_conn:
        backup_denied = err(user_conn, "BACKUP SNAPSHOT sch_admin.y TO sched")
        for sql in statements:
            assert err(user_conn, sql) == backup_denied, sql
        assert q(user_conn, "SELECT 1") == [(1,)]
    assert backup_denied[0] == 1227
    row = job_row(conn, "guarded")
    assert row is not None and row["Status"] == "RUNNING"
    q(conn, "DROP JOB WHERE jobName = 'guarded'")


def test_doris_errors(conn: pymysql.connections.Connection) -> None:
    database(conn, "sch_err")
    body = "DO BACKUP SNAPSHOT sch_err.l TO sched"
    q(conn, f"CREATE JOB taken ON SCHEDULE EVERY 1 DAY {body}")
    assert doris_err(conn, f"CREATE JOB taken ON SCHEDULE EVERY 2 DAY {body}") == "job name exist, jobName:taken"
    assert doris_err(conn, f"CREATE JOB j ON SCHEDULE EVERY 1 MONTH {body}") == "Invalid interval time unit: MONTH"
    assert doris_err(conn, f"CREATE JOB j ON SCHEDULE EVERY 0 DAY {body}") == "interval must be greater than 0"
    assert doris_err(conn, f"CREATE JOB inner_j ON SCHEDULE EVERY 1 DAY {body}") == "job name can not start with inner_"
    assert doris_err(conn, f"CREATE JOB j ON SCHEDULE EVERY 1 DAY STARTS 'soon' {body}") == (
        "Invalid datetime value: soon, expected yyyy-MM-dd HH:mm:ss"
    )
    assert doris_err(
        conn, f"CREATE JOB j ON SCHEDULE EVERY 1 DAY STARTS '2099-01-02 00:00:00' ENDS '2099-01-01 00:00:00' {body}"
    ) == ("endTimeMs must be greater than the start time")
    assert doris_err(conn, "CREATE JOB j ON SCHEDULE EVERY 1 DAY DO BACKUP SNAPSHOT sch_err.l TO nowhere") == (
        "Repository nowhere does not exist"
    )
    assert doris_err(conn, "CREATE JOB j ON SCHEDULE EVERY 1 DAY DO BACKUP SNAPSHOT no_db.l TO sched", 1049) == (
        "Unknown database 'no_db'"
    )
    assert doris_err(conn, "PAUSE JOB WHERE jobName = 'nobody'") == "job not exist, jobName:nobody"
    assert doris_err(conn, "RESUME JOB WHERE jobName = 'nobody'") == "job not exist, jobName:nobody"
    assert doris_err(conn, "RESUME JOB WHERE jobName = 'taken'") == (
        "Alter job status error, jobName is taken, errorMsg is Can't change job status to the same status"
    )
    assert doris_err(conn, "DROP JOB WHERE jobName = 'nobody'") == "unregister job error, jobName:nobody"
    assert doris_err(conn, "PAUSE JOB WHERE name = 'taken'") == "Current not support left child of where: 'name"
    assert doris_err(conn, 'SELECT * FROM jobs("type" = "insert")') == "Invalid job type: insert"
    set_config(conn, "enable_job_schedule_second_for_test", "false")
    try:
        assert doris_err(conn, f"CREATE JOB j ON SCHEDULE EVERY 5 SECOND {body}") == (
            "Interval time unit can not be second in production mode"
        )
    finally:
        set_config(conn, "enable_job_schedule_second_for_test", "true")
    for sql in (
        f"CREATE JOB j ON SCHEDULE AT '2099-01-01 00:00:00' {body}",  # one-time jobs: not for backups
        f"CREATE JOB j ON SCHEDULE EVERY DAY {body}",
        "CREATE JOB j ON SCHEDULE EVERY 1 DAY DO RESTORE SNAPSHOT sch_err.l FROM sched",
        "PAUSE JOB WHERE jobName LIKE 'taken'",
        "PAUSE JOB",
    ):
        code, message = err(conn, sql)
        assert code == 1064, (sql, code, message)
    assert q(conn, "SELECT 1") == [(1,)]  # the connection stays usable
    q(conn, "DROP JOB WHERE jobName = 'taken'")


def test_backup_schedule_example(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    """examples/backup_schedule.sql runs as its comments say, against a repository in a temp dir."""
    text = (Path(__file__).resolve().parents[1] / "examples" / "backup_schedule.sql").read_text()
    assert "file:///tmp/dorisbk-schedule-example-repo" in text
    statements = sql_statements(text.replace("file:///tmp/dorisbk-schedule-example-repo", f"file://{tmp_path}"))
    waiting = next(i for i, s in enumerate(statements) if s.startswith("SELECT Label"))
    cleaning = next(i for i, s in enumerate(statements) if s.startswith("SHOW BACKUP"))
    try:
        run_script(conn, statements[:waiting])
        # "wait: a run of example_demo with Status SUCCESS"
        wait_tasks(conn, "example_demo", lambda found: any(t["Status"] == "SUCCESS" for t in found), timeout=60)
        run_script(conn, statements[waiting:cleaning])
        # "wait: the last backup's State is FINISHED"
        last = q(conn, "SHOW BACKUP FROM example_sched")[-1]
        finished(conn, "example_sched", last[1])
        run_script(conn, statements[cleaning:])
    finally:
        set_config(conn, "enable_job_schedule_second_for_test", "true")
    assert "example_sched" not in [r[0] for r in q(conn, "SHOW DATABASES")]
    assert job_row(conn, "example_demo") is None and job_row(conn, "example_nightly") is None
    assert any(p.name.startswith("__ss_demo_") for p in (tmp_path / "__palo_repository_example_sched_repo").iterdir())
