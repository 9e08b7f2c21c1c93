"""A full disk (a real ENOSPC from a tiny tmpfs) under BACKUP, RESTORE and INSERT.

A LOCAL repository that fills up ends the backup CANCELLED with "No space left on device"
in Status and no snapshot listed OK, and takes a new backup once there is room again. A
data dir that fills up during a restore cancels it with no new table left behind and the
existing ones untouched; an INSERT then fails with a MySQL error, publishes nothing, leaves
no staging files, and the server keeps serving.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites.syncer import (
    create_local_repository,
    sql,
    sql_dicts,
    sql_error,
    unique,
    wait_backup_end,
    wait_restore_end,
)
from tests.dorisbk_server import DorisbkServer
from tests.faultkit import fill, need_root, tmpfs
from tests.jobkit import pause, set_config

JOB_WAIT_S = 30.0
ROWS = 30_000  # about 1.7 MB of Parquet: random hex does not compress
ENOSPC = "No space left on device"


def create_table(conn: pymysql.connections.Connection, table: str, rows: int = ROWS) -> None:
    sql(
        conn,
        f"CREATE TABLE {table} (k INT, v VARCHAR(80)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2 "
        'PROPERTIES ("replication_num" = "1")',
    )
    if rows:
        sql(conn, f"INSERT INTO {table} {random_rows(rows)}")


def random_rows(rows: int, offset: int = 0) -> str:
    return (
        f"SELECT number + {offset}, concat(md5(cast(number + {offset} as varchar)), "
        f'md5(cast(number + {offset} + 1 as varchar))) FROM numbers("number" = "{rows}")'
    )


def snapshot_status(conn: pymysql.connections.Connection, repo: str, label: str) -> list[str]:
    return [r["Status"] for r in sql_dicts(conn, f'SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = "{label}"')]


def partial_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "tmp" in p.name]


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    need_root()
    with server.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c


def test_full_local_repository(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    db = unique("enospc_repo")
    sql(conn, f"CREATE DATABASE {db}")
    create_table(conn, f"{db}.t")
    with tmpfs(tmp_path / "mnt", "4m") as mnt:
        repo = unique("full_repo")
        create_local_repository(conn, repo, mnt / "repo")
        filler = fill(mnt, leave=512 * 1024)
        sql(conn, f"BACKUP SNAPSHOT {db}.snap_full TO `{repo}` ON (t)")
        job = wait_backup_end(conn, db, JOB_WAIT_S)
        assert job["State"] == "CANCELLED", job["Status"]
        assert ENOSPC in job["Status"], job["Status"]
        assert "OK" not in snapshot_status(conn, repo, "snap_full")
        assert partial_files(mnt) == []
        # room again: the same repository takes a new backup
        filler.unlink()
        sql(conn, f"BACKUP SNAPSHOT {db}.snap_room TO `{repo}` ON (t)")
        job = wait_backup_end(conn, db, JOB_WAIT_S)
        assert job["State"] == "FINISHED", job["Status"]
        assert snapshot_status(conn, repo, "snap_room") == ["OK"]


def test_full_data_dir_restore_and_insert(tmp_path: Path) -> None:
    need_root()
    with tmpfs(tmp_path / "mnt", "48m") as mnt:
        srv = DorisbkServer(mnt / "data").start()
        try:
            with srv.connect() as c:
                set_config(c, "backup_handler_update_interval_millis", "50")
                sql(c, "CREATE DATABASE d")
                create_table(c, "d.big")
                create_table(c, "d.keep", rows=100)
                repo_dir = tmp_path / "repo"  # on the real disk
                create_local_repository(c, "r", repo_dir)
                sql(c, "BACKUP SNAPSHOT d.s1 TO r ON (big)")
                assert wait_backup_end(c, "d", JOB_WAIT_S)["State"] == "FINISHED"
                timestamp = sql_dicts(c, 'SHOW SNAPSHOT ON r WHERE SNAPSHOT = "s1"')[0]["Timestamp"]
                keep_before = sql(c, "SELECT k, v FROM d.keep ORDER BY k")
                filler = fill(mnt, leave=600 * 1024)

                sql(
                    c,
                    f'RESTORE SNAPSHOT d.s1 FROM r ON (big AS big2) PROPERTIES ("backup_timestamp" = "{timestamp}", '
                    '"replication_num" = "1")',
                )
                job = wait_restore_end(c, "d", JOB_WAIT_S)
                assert job["State"] == "CANCELLED", job["Status"]
                assert ENOSPC in job["Status"], job["Status"]
                assert sorted(r[0] for r in sql(c, "SHOW TABLES FROM d")) == ["big", "keep"]
                assert sql(c, "SELECT k, v FROM d.keep ORDER BY k") == keep_before
                assert sql(c, "SELECT count(*) FROM d.big") == [(ROWS,)]

                code, message = sql_error(c, f"INSERT INTO d.keep {random_rows(ROWS, offset=1000)}")
                assert ENOSPC in message, (code, message)
                assert sql(c, "SELECT k, v FROM d.keep ORDER BY k") == keep_before
                assert partial_files(mnt / "data") == []
                assert [p for p in (mnt / "data").rglob("snapshot/*/*") if p.is_file()] == []
                assert [p for p in (mnt / "data").rglob("*") if "load_" in p.name] == []

                os.unlink(filler)
                sql(c, f"INSERT INTO d.keep {random_rows(10, offset=1000)}")
                assert sql(c, "SELECT count(*) FROM d.keep") == [(110,)]
        finally:
            srv.stop()


def test_restore_cancel_waits_for_room_in_the_metadata_store(tmp_path: Path) -> None:
    """A disk so full that even the cancel can not be recorded: the job says why, the scheduler keeps
    going, and once there is room the restore ends CANCELLED and a new one finishes."""
    need_root()
    with tmpfs(tmp_path / "mnt", "48m") as mnt:
        srv = DorisbkServer(mnt / "data").start()
        try:
            with srv.connect() as c:
                set_config(c, "backup_handler_update_interval_millis", "50")
                sql(c, "CREATE DATABASE d")
                create_table(c, "d.big")
                create_local_repository(c, "r", tmp_path / "repo")
                sql(c, "BACKUP SNAPSHOT d.s1 TO r ON (big)")
                assert wait_backup_end(c, "d", JOB_WAIT_S)["State"] == "FINISHED"
                timestamp = sql_dicts(c, 'SHOW SNAPSHOT ON r WHERE SNAPSHOT = "s1"')[0]["Timestamp"]
                restore = (
                    f'RESTORE SNAPSHOT d.s1 FROM r ON (big AS {{}}) PROPERTIES ("backup_timestamp" = "{timestamp}", '
                    '"replication_num" = "1")'
                )
                pause(c, "DOWNLOAD", kind="RESTORE")
                sql(c, restore.format("big2"))
                deadline = time.monotonic() + JOB_WAIT_S
                while sql_dicts(c, "SHOW RESTORE FROM d")[-1]["State"] != "DOWNLOAD":
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                filler = fill(mnt, leave=0)
                pause(c, kind="RESTORE")
                while ENOSPC not in (job := sql_dicts(c, "SHOW RESTORE FROM d")[-1])["Status"]:
                    assert time.monotonic() < deadline, job
                    time.sleep(0.05)
                assert sql(c, "SELECT count(*) FROM d.big") == [(ROWS,)]
                os.unlink(filler)
                job = wait_restore_end(c, "d", JOB_WAIT_S)
                assert job["State"] == "CANCELLED" and ENOSPC in job["Status"], job["Status"]
                assert sorted(r[0] for r in sql(c, "SHOW TABLES FROM d")) == ["big"]
                sql(c, restore.format("big3"))
                assert wait_restore_end(c, "d", JOB_WAIT_S)["State"] == "FINISHED"
                assert sql(c, "SELECT count(*) FROM d.big3") == [(ROWS,)]
        finally:
            srv.stop()
