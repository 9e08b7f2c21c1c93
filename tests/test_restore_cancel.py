"""CANCEL RESTORE in every state: no new table or partition stays behind, existing tables return
to NORMAL with their data, the backends' job dirs and the new tablets' files are gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    doris_err,
    insert,
    q,
    set_config,
)
from tests.test_restore_support import (
    ONE,
    STATES,
    backup,
    create_local_repo,
    fast,
    finished,
    job_snapshot_dirs,
    local_db,
    make_range_table,
    make_unique_table,
    partitions,
    pause,
    restore_row,
    restore_rows,
    restore_sql,
    rows_of,
    tables,
    versions,
    wait_state,
)


@pytest.fixture(scope="module")
def env(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    conn = server.connect()
    fast(conn)
    location = tmp_path_factory.mktemp("repo")
    create_local_repo(conn, "r", location)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", [1, 2, 11, 21])
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01'), (2, 'b', NULL, NULL)")
    q(conn, "CREATE VIEW src.v AS SELECT k FROM src.t WHERE k > 5")
    ts = backup(conn, "src", "snap", "r")
    yield {"conn": conn, "ts": ts, "srv": server, "src_rows": rows_of(conn, "src.t")}
    pause(conn)
    conn.close()


def tablet_dirs(data_dir: Path) -> set[str]:
    return {p.name for p in data_dir.glob("be/be*/data/*")}


def snapshot_of(conn: pymysql.connections.Connection, db: str) -> dict:
    """What must be exactly as it was after a cancel."""
    return {
        "tables": tables(conn, db),
        "rows": rows_of(conn, f"{db}.t"),
        "partitions": {n: (p["PartitionId"], p["VisibleVersion"]) for n, p in partitions(conn, f"{db}.t").items()},
    }


def check_untouched(env: dict, db: str, before: dict, dirs_before: set[str], job_id: str) -> None:
    conn, data_dir = env["conn"], env["srv"].data_dir
    assert snapshot_of(conn, db) == before
    # the job's snapshot dirs and every file of the tablets it made are gone
    assert not [p for p in job_snapshot_dirs(data_dir) if p.name == job_id]
    assert tablet_dirs(data_dir) == dirs_before
    # NORMAL again: loads and DDL go through
    insert(conn, f"{db}.t", [8])
    q(conn, f"ALTER TABLE {db}.t ADD PARTITION p5 VALUES LESS THAN (50)")
    assert (8, "v8") in rows_of(conn, f"{db}.t")


@pytest.mark.parametrize("state", STATES)
def test_cancel_in_each_state(env: dict, state: str) -> None:
    conn, data_dir = env["conn"], env["srv"].data_dir
    db = local_db(conn, "c")
    before = snapshot_of(conn, db)
    dirs_before = tablet_dirs(data_dir)
    pause(conn, state)
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        row = wait_state(conn, db, state)
        if state in ("DOWNLOADING", "COMMIT", "COMMITTING"):
            assert [p for p in job_snapshot_dirs(data_dir) if p.name == row["JobId"]]
        q(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        pause(conn)
    row = restore_row(conn, db)
    assert row["State"] == "CANCELLED"
    assert row["Status"] == f"[COMMON_ERROR, msg: user cancelled, current state: {state}]"
    assert row["FinishedTime"] != "NULL"
    check_untouched(env, db, before, dirs_before, row["JobId"])
    # a cancelled job is done: the next restore in the database runs and finishes, and the
    # scheduler rounds that ran it left the cancelled one as it was
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (u)"))
    finished(conn, db)
    cancelled = next(r for r in restore_rows(conn, db) if r["JobId"] == row["JobId"])
    assert (cancelled["State"], cancelled["FinishedTime"]) == ("CANCELLED", row["FinishedTime"])
    assert "u" in tables(conn, db)
    assert doris_err(conn, f"CANCEL RESTORE FROM {db}") == "No restore is currently running"


@pytest.mark.parametrize("state", ["DOWNLOADING", "COMMITTING"])
def test_cancel_atomic_restore(env: dict, state: str) -> None:
    conn, data_dir = env["conn"], env["srv"].data_dir
    db = local_db(conn, "c")
    before = snapshot_of(conn, db)
    dirs_before = tablet_dirs(data_dir)
    pause(conn, state)
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props=f'{ONE}, "atomic_restore" = "true"'))
        row = wait_state(conn, db, state)
        assert rows_of(conn, f"{db}.t") == before["rows"]  # the original is readable throughout
        q(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        pause(conn)
    assert restore_row(conn, db)["Status"] == f"[COMMON_ERROR, msg: user cancelled, current state: {state}]"
    check_untouched(env, db, before, dirs_before, row["JobId"])


def test_cancel_while_files_are_downloading(env: dict) -> None:
    """A throttled download in flight stops at the cancel; SHOW RESTORE lists its tasks meanwhile."""
    conn = env["conn"]
    db = local_db(conn, "c")
    before = snapshot_of(conn, db)
    dirs_before = tablet_dirs(env["srv"].data_dir)
    set_config(conn, "max_download_speed_kbps", "1")
    set_config(conn, "restore_download_snapshot_batch_size", "1")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        row = wait_state(conn, db, "DOWNLOADING")
        assert row["UnfinishedTasks"].startswith("[") and "=" in row["UnfinishedTasks"]
        assert row["Progress"].startswith("[")
        q(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        set_config(conn, "max_download_speed_kbps", "0")
        set_config(conn, "restore_download_snapshot_batch_size", "10")
    row = restore_row(conn, db)
    assert row["Status"] == "[COMMON_ERROR, msg: user cancelled, current state: DOWNLOADING]"
    assert row["UnfinishedTasks"] == ""
    check_untouched(env, db, before, dirs_before, row["JobId"])


def test_cancel_then_restore_again_gives_the_snapshot(env: dict) -> None:
    conn = env["conn"]
    db = local_db(conn, "c")
    pause(conn, "COMMITTING")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)"))
        wait_state(conn, db, "COMMITTING")
        q(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        pause(conn)
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)"))
    finished(conn, db)
    assert [r for r in rows_of(conn, f"{db}.t") if r[0] < 30] == env["src_rows"]
    assert versions(conn, f"{db}.t")["p1"] == versions(conn, "src.t")["p1"]


def test_database_dropped_under_the_job(env: dict) -> None:
    """DROP DATABASE refuses the tables a restore is writing, as Doris does; DROP DATABASE FORCE does not
    wait for the restore: the job notices and cancels itself, leaving no files."""
    conn, data_dir = env["conn"], env["srv"].data_dir
    db = local_db(conn, "c")
    pause(conn, "DOWNLOADING")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        job_id = wait_state(conn, db, "DOWNLOADING")["JobId"]
        assert "state is RESTORE (not NORMAL), cannot be dropped" in doris_err(conn, f"DROP DATABASE {db}")
        q(conn, f"DROP DATABASE {db} FORCE")
    finally:
        pause(conn)
    deadline = time.monotonic() + 10
    while [p for p in job_snapshot_dirs(data_dir) if p.name == job_id]:
        assert time.monotonic() < deadline, "the job's snapshot dirs stayed"
        time.sleep(0.02)
    # the same name again is a new database, free for a restore of its own
    q(conn, f"CREATE DATABASE {db}")
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)"))
    finished(conn, db)
    assert rows_of(conn, f"{db}.t") == env["src_rows"]
    assert len(restore_rows(conn, db)) == 1
