"""information_schema.backup_restore_jobs: how far each BACKUP / RESTORE has moved its files, live
while the transfer runs (throttled here so that it is seen midway), kept once the job ends and
after a restart; SHOW BACKUP's Progress counts each task's files."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import described, q, restart, set_config, snapshot_dir
from tests.test_backup_support import COL, backup_row, finished, make_table
from tests.test_restore_support import restore_row, restore_sql, wait_state

REPO = "r"
COLUMNS = [
    "JOB_ID", "DB_NAME", "LABEL", "TYPE", "STATE", "REPOSITORY", "FILES_DONE", "FILES_TOTAL", "BYTES_DONE",
    "BYTES_TOTAL", "RATE_BYTES_PER_SEC", "ETA_SECONDS", "ELAPSED_SECONDS", "CREATE_TIME", "FINISH_TIME",
]  # fmt: skip


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    """A server of this module's own: the last test restarts it."""
    server = DorisbkServer(tmp_path_factory.mktemp("progress") / "data").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repo")


@pytest.fixture(scope="module")
def conn(srv: DorisbkServer, location: Path) -> Iterator[pymysql.connections.Connection]:
    c = srv.connect()
    q(c, f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{location}"')
    set_config(c, "backup_handler_update_interval_millis", "50")
    yield c
    c.close()


def job_rows(conn: pymysql.connections.Connection, where: str = "") -> list[dict]:
    names, rows = described(conn, f"SELECT * FROM information_schema.backup_restore_jobs {where} ORDER BY JOB_ID")
    return [dict(zip(names, row, strict=True)) for row in rows]


def job_row(conn: pymysql.connections.Connection, label: str, kind: str) -> dict:
    rows = job_rows(conn, f"WHERE LABEL = '{label}' AND TYPE = '{kind}'")
    assert len(rows) == 1, rows
    return rows[0]


def midway(conn: pymysql.connections.Connection, label: str, kind: str, state: str, timeout: float = 30.0) -> dict:
    """The job's row once its transfer has placed some of its bytes, not all."""
    deadline = time.monotonic() + timeout
    row: dict = {}
    while time.monotonic() < deadline:
        row = job_row(conn, label, kind)
        if row["STATE"] == state and 0 < row["BYTES_DONE"] < row["BYTES_TOTAL"]:
            return row
        time.sleep(0.05)
    raise AssertionError(f"{kind} {label} was never seen midway through {state}: {row}")


def content_files(location: Path, label: str) -> list[Path]:
    root = snapshot_dir(location, REPO, label) / "__ss_content"
    return [p for p in root.rglob("*") if p.is_file()]


def test_columns(conn: pymysql.connections.Connection) -> None:
    names, _ = described(conn, "SELECT * FROM information_schema.backup_restore_jobs")
    assert names == COLUMNS
    listed = q(conn, "SHOW TABLES FROM information_schema LIKE 'backup_restore_jobs'")
    assert listed == [("backup_restore_jobs",)]


def test_backup_progress_live_and_at_the_end(conn: pymysql.connections.Connection, location: Path) -> None:
    q(conn, "CREATE DATABASE pb")
    make_table(conn, "pb", "t", rows=200, buckets=4)
    set_config(conn, "max_upload_speed_kbps", "1")
    set_config(conn, "backup_upload_snapshot_batch_size", "1")
    try:
        q(conn, f"BACKUP SNAPSHOT pb.slow TO {REPO}")
        row = midway(conn, "slow", "BACKUP", "UPLOADING")
        assert (row["DB_NAME"], row["REPOSITORY"], row["FINISH_TIME"]) == ("pb", REPO, None)
        assert row["FILES_TOTAL"] > 0 and row["FILES_DONE"] <= row["FILES_TOTAL"]
        assert row["RATE_BYTES_PER_SEC"] > 0 and row["ETA_SECONDS"] is not None and row["ETA_SECONDS"] >= 0
        # SHOW BACKUP's Progress: each running task's files done / its files
        progress = backup_row(conn, "pb", "slow")[COL["Progress"]]
        assert re.fullmatch(r"\[\d+: \d+/\d+\](, \[\d+: \d+/\d+\])*", progress), progress
    finally:
        set_config(conn, "max_upload_speed_kbps", "0")
        set_config(conn, "backup_upload_snapshot_batch_size", "10")
    finished(conn, "pb", "slow", timeout=60)
    row = job_row(conn, "slow", "BACKUP")
    files = content_files(location, "slow")
    assert (row["STATE"], row["FILES_DONE"], row["FILES_TOTAL"]) == ("FINISHED", len(files), len(files))
    assert row["BYTES_DONE"] == row["BYTES_TOTAL"] == sum(p.stat().st_size for p in files)
    assert row["ETA_SECONDS"] == 0 and row["RATE_BYTES_PER_SEC"] > 0
    assert row["FINISH_TIME"] is not None and row["FINISH_TIME"] >= row["CREATE_TIME"]


def test_restore_progress(conn: pymysql.connections.Connection, location: Path) -> None:
    (ts,) = [r[1] for r in q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'slow'")]
    q(conn, "CREATE DATABASE pr")
    set_config(conn, "max_download_speed_kbps", "1")
    set_config(conn, "restore_download_snapshot_batch_size", "1")
    try:
        q(conn, restore_sql("pr", "slow", REPO, ts))
        row = midway(conn, "slow", "RESTORE", "DOWNLOADING")
        assert row["DB_NAME"] == "pr" and row["RATE_BYTES_PER_SEC"] > 0
        assert restore_row(conn, "pr")["Progress"].startswith("[")
    finally:
        set_config(conn, "max_download_speed_kbps", "0")
        set_config(conn, "restore_download_snapshot_batch_size", "10")
    assert wait_state(conn, "pr", ("FINISHED", "CANCELLED"), timeout=60)["State"] == "FINISHED"
    backup, restore = job_row(conn, "slow", "BACKUP"), job_row(conn, "slow", "RESTORE")
    # one replica: the restore fetched every file the backup uploaded
    for key in ("FILES_DONE", "FILES_TOTAL", "BYTES_DONE", "BYTES_TOTAL"):
        assert restore[key] == backup[key], key
    assert restore["ETA_SECONDS"] == 0


def test_only_admins_see_jobs(srv: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE USER IF NOT EXISTS viewer IDENTIFIED BY 'pw'")
    q(conn, "GRANT SELECT_PRIV ON pb.* TO viewer")
    with srv.connect(user="viewer", password="pw") as other:
        assert job_rows(other) == []


def test_ended_jobs_keep_totals_across_a_restart(srv: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    kept = ["JOB_ID", "LABEL", "TYPE", "STATE", "FILES_DONE", "FILES_TOTAL", "BYTES_DONE", "BYTES_TOTAL"]
    before = [{k: r[k] for k in kept} for r in job_rows(conn)]
    assert [r["TYPE"] for r in before] == ["BACKUP", "RESTORE"]
    restart(srv)
    with srv.connect() as again:
        after = [{k: r[k] for k in kept} for r in job_rows(again)]
    assert after == before
