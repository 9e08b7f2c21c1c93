"""While an atomic restore builds its replacement, the original table stays queryable but refuses
loads and DDL (which the swap would silently throw away), and is NORMAL again after a cancel."""

from __future__ import annotations

from pathlib import Path

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    doris_err,
    insert,
    q,
)
from tests.test_restore_support import (
    backup,
    cancelled,
    create_local_repo,
    fast,
    finished,
    make_range_table,
    pause,
    restore_sql,
    rows_of,
    wait_state,
)


def test_original_is_read_only_during_atomic_restore(fresh_server: DorisbkServer, tmp_path: Path) -> None:
    server = fresh_server.start()
    location = tmp_path / "repo"
    location.mkdir()
    with server.connect() as conn:
        fast(conn)
        q(conn, "CREATE DATABASE adb")
        q(conn, "USE adb")
        make_range_table(conn, "t")
        insert(conn, "t", range(25))
        create_local_repo(conn, "r", location)
        ts = backup(conn, "adb", "snap", "r")
        insert(conn, "t", [1, 2])
        before = rows_of(conn, "t")
        pause(conn, "DOWNLOAD")
        q(conn, restore_sql("adb", "snap", "r", ts, props='"replication_num" = "1", "atomic_restore" = "true"'))
        wait_state(conn, "adb", "DOWNLOAD")
        assert rows_of(conn, "t") == before
        assert "ATOMIC_RESTORE" in doris_err(conn, "INSERT INTO t VALUES (3, 'x')")
        assert "not NORMAL" in doris_err(conn, "ALTER TABLE t DROP PARTITION p1")
        assert "not NORMAL" in doris_err(conn, "TRUNCATE TABLE t")
        # nor may the database go to the recycle bin with the table the restore is writing
        assert "(not NORMAL), cannot be dropped" in doris_err(conn, "DROP DATABASE adb")
        assert rows_of(conn, "t") == before
        q(conn, "CANCEL RESTORE FROM adb")
        cancelled(conn, "adb", "user cancelled")
        insert(conn, "t", [3])
        assert len(rows_of(conn, "t")) == len(before) + 1
        pause(conn)
        q(conn, restore_sql("adb", "snap", "r", ts, props='"replication_num" = "1", "atomic_restore" = "true"'))
        finished(conn, "adb")
        assert len(rows_of(conn, "t")) == 25
        insert(conn, "t", [4])
