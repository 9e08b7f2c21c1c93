"""Doris suites ``test_backup_restore_keep_on_local``, ``test_backup_restore_with`` (a view),
``test_backup_with_ddl`` and ``test_backup_restore_diff_repo_same_snapshot``.

``__keep_on_local__`` is Doris's reserved name for a snapshot kept on the backends for CCR: a
BACKUP to it runs without any repository, and a RESTORE from it by SQL is refused. Doris's
``test_backup_with_ddl`` holds its backup in SNAPSHOTING with a backend debug point; dorisbk's
own debug knob (``debug_pause_job_states``) does the same here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import ONE_REPLICA, fill_agg_table, open_conn
from tests.doris_suites.syncer import sql, sql_dicts, sql_error
from tests.dorisbk_server import DorisbkServer


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    # Doris's regression clusters run with one backend holding every replica
    yield from open_conn(server, **ONE_REPLICA)


def wait_state(conn: pymysql.connections.Connection, db: str, state: str) -> None:
    """Poll SHOW BACKUP until a job of ``db`` is in ``state`` (the suite polls every 100 ms)."""
    deadline = time.monotonic() + syncer.WAIT_S
    while not any(r["State"] == state for r in sql_dicts(conn, f"SHOW BACKUP FROM {db}")):
        assert time.monotonic() < deadline, f"no backup of {db} reached {state}"
        time.sleep(syncer.POLL_S)


def test_keep_on_local_files_go_with_the_job(conn: pymysql.connections.Connection, server: DorisbkServer) -> None:
    """A ``__keep_on_local__`` snapshot's meta stays on the server until its job leaves the history."""
    db, table = "kol_evict_db", "t"
    sql(conn, f"CREATE DATABASE {db}")
    fill_agg_table(conn, f"{db}.{table}")
    sql(conn, 'ADMIN SET FRONTEND CONFIG ("max_backup_restore_job_num_per_db" = "1")')
    try:
        kept = server.data_dir / "fe_tmp" / "backup" / "repo__-1"
        sql(conn, f"BACKUP SNAPSHOT {db}.first TO `__keep_on_local__` ON ({table})")
        syncer.wait_snapshot_finish(conn, db)
        assert [p.name.split("__")[0] for p in kept.iterdir()] == ["first"]
        sql(conn, f"BACKUP SNAPSHOT {db}.second TO `__keep_on_local__` ON ({table})")
        syncer.wait_snapshot_finish(conn, db)
        assert [p.name.split("__")[0] for p in kept.iterdir()] == ["second"]
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("max_backup_restore_job_num_per_db" = "10")')
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_keep_on_local(conn: pymysql.connections.Connection) -> None:
    repo, db, table, label = "__keep_on_local__", "backup_restore_db", "test_backup_restore_table", "kol_snapshot"
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    fill_agg_table(conn, f"{db}.{table}")
    assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == 10

    sql(conn, f"BACKUP SNAPSHOT {db}.{label} TO `{repo}` ON ({table})")
    job = syncer.wait_snapshot_finish(conn, db)
    # nothing is uploaded: the job goes from its snapshots straight to its meta
    assert job["UploadFinishedTime"] == "NULL" and job["Status"] == "[OK]"

    # the name is no repository: SHOW SNAPSHOT and DROP REPOSITORY do not know it (as in Doris)
    code, message = sql_error(conn, f"SHOW SNAPSHOT ON {repo}")
    assert "Repository __keep_on_local__ does not exist" in message
    sql(conn, f"TRUNCATE TABLE {db}.{table}")
    code, message = sql_error(
        conn,
        f"""RESTORE SNAPSHOT {db}.{label} FROM `{repo}` ON ( `{table}`)
        PROPERTIES ("backup_timestamp" = "2024-01-01-00-00-00", "replication_num" = "1")""",
    )
    assert "not supported" in message
    assert "restore from the local repo via SQL call is not supported" in message
    assert "Repository does not exist" in sql_error(conn, f"DROP REPOSITORY `{repo}`")[1]
    sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_with_view(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    db, repo = "backup_restore_with_view_db", syncer.unique("backup_restore_with_view_repo")
    table, view, label = "backup_restore_with_view_table", "backup_restore_with_view_view", "with_view_snapshot"
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    sql(conn, f"DROP TABLE IF EXISTS {db}.{table} FORCE")
    sql(conn, f"DROP VIEW IF EXISTS {db}.{view}")
    fill_agg_table(conn, f"{db}.{table}")
    sql(conn, f"CREATE VIEW {db}.{view} (id, count)\n AS\n SELECT * FROM {db}.{table} WHERE count > 5")
    table_rows = [(str(i), str(i)) for i in range(1, 11)]  # LARGEINT comes as text, as from Doris
    view_rows = [(str(i), str(i)) for i in range(6, 11)]
    assert sql(conn, f"SELECT * FROM {db}.{table} ORDER BY id ASC") == table_rows
    assert sql(conn, f"SELECT * FROM {db}.{view} ORDER BY id ASC") == view_rows

    sql(conn, f"BACKUP SNAPSHOT {db}.{label} TO `{repo}`")
    syncer.wait_snapshot_finish(conn, db)
    snapshot = syncer.get_snapshot_timestamp(conn, repo, label)
    assert snapshot is not None
    sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP VIEW {db}.{view}")

    sql(
        conn,
        f"""RESTORE SNAPSHOT {db}.{label} FROM `{repo}`
        PROPERTIES ("backup_timestamp" = "{snapshot}", "reserve_replica" = "true")""",
    )
    syncer.wait_all_restore_finish(conn, db)
    assert sql(conn, f"SELECT * FROM {db}.{table} ORDER BY id ASC") == table_rows
    assert sql(conn, f"SELECT * FROM {db}.{view} ORDER BY id ASC") == view_rows

    sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP VIEW {db}.{view}")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_backup_with_ddl(conn: pymysql.connections.Connection) -> None:
    db, table, insert_num = "test_backup_with_ddl_db", "test_backup_with_ddl", 5
    sql(conn, 'ADMIN SET FRONTEND CONFIG ("catalog_trash_expire_second" = "10")')
    sql(conn, f"DROP DATABASE IF EXISTS {db}")
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    sql(
        conn,
        f"""CREATE TABLE if NOT EXISTS {db}.{table} (`test` INT, `id` INT)
        ENGINE=OLAP UNIQUE KEY(`test`, `id`) DISTRIBUTED BY HASH(id) BUCKETS 1
        PROPERTIES ("replication_allocation" = "tag.location.default: 1")""",
    )
    for i in range(insert_num):
        sql(conn, f"INSERT INTO {db}.{table} VALUES ({i}, {i})")
    sql(conn, " sync ")
    assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == insert_num
    assert sql_dicts(conn, f"show tablets from {db}.{table}")[0]["TabletId"] is not None

    sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "BACKUP:SNAPSHOTING")')
    try:
        sql(
            conn,
            f"""BACKUP SNAPSHOT {db}.snapshot_test_2 TO `__keep_on_local__` ON ({table})
            PROPERTIES ("type" = "full")""",
        )
        wait_state(conn, db, "SNAPSHOTING")
        _, message = sql_error(conn, f"truncate table {db}.{table};")
        assert message.endswith(f"Backup is running on this db: {db}")
        assert "Backup is running on this db" in sql_error(conn, f"DROP TABLE {db}.{table}")[1]
        assert "Backup is running on this db" in sql_error(conn, f"DROP DATABASE {db}")[1]
        assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == insert_num
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
    syncer.wait_snapshot_finish(conn, db)
    # once the snapshots are taken the table is free again
    sql(conn, f"truncate table {db}.{table}")
    assert sql(conn, f"SELECT * FROM {db}.{table}") == []
    sql(conn, f"DROP TABLE IF EXISTS {db}.{table}")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_diff_repo_same_snapshot(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    base = "test_backup_restore_diff_repo_same_snapshot"
    repo, db, table, label = syncer.unique(f"{base}_repo"), f"{base}_db", f"{base}_table", f"{base}_snapshot"
    syncer.create_local_repository(conn, f"{repo}_1", tmp_path / "repo1")
    syncer.create_local_repository(conn, f"{repo}_2", tmp_path / "repo2")
    for n in (1, 2):
        sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}_{n}")
        fill_agg_table(conn, f"{db}_{n}.{table}_{n}")
        assert len(sql(conn, f"SELECT * FROM {db}_{n}.{table}_{n}")) == 10

    # the same label into two repositories, from two databases at once
    sql(conn, f"BACKUP SNAPSHOT {db}_1.{label} TO `{repo}_1` ON ({table}_1)")
    sql(conn, f"BACKUP SNAPSHOT {db}_2.{label} TO `{repo}_2` ON ({table}_2)")
    syncer.wait_snapshot_finish(conn, f"{db}_1")
    syncer.wait_snapshot_finish(conn, f"{db}_2")

    for n in (1, 2):
        snapshot = syncer.get_snapshot_timestamp(conn, f"{repo}_{n}", label)
        assert snapshot is not None
        sql(conn, f"TRUNCATE TABLE {db}_{n}.{table}_{n}")
        sql(
            conn,
            f"""RESTORE SNAPSHOT {db}_{n}.{label} FROM `{repo}_{n}` ON ( `{table}_{n}`)
            PROPERTIES ("backup_timestamp" = "{snapshot}", "reserve_replica" = "true")""",
        )
        syncer.wait_all_restore_finish(conn, f"{db}_{n}")
        assert len(sql(conn, f"SELECT * FROM {db}_{n}.{table}_{n}")) == 10

    for n in (1, 2):
        sql(conn, f"DROP TABLE {db}_{n}.{table}_{n} FORCE")
        sql(conn, f"DROP DATABASE {db}_{n} FORCE")
        sql(conn, f"DROP REPOSITORY `{repo}_{n}`")
