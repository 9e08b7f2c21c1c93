"""The plain-SQL parts of Doris's ``test_backup_restore_state_and_error_docker``.

The suite runs on a docker cluster of three backends with HDD and SSD disks; here the server has
three backends too. Left out: the FE debug point that makes an atomic restore's commit throw
(there is no debug point HTTP API) and the ``ADD COLUMN`` between a backup and its restore (no
schema change in dorisbk). What remains: restore states seen while polling, a restore timeout
below the minimum, cancelling a restore, restoring into an existing table (the default three
replicas against the table's one), ``reserve_replica``, re-adding a dropped partition, atomic
restores one after the other, and ``storage_medium`` / ``medium_allocation_mode``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pymysql
import pytest

from tests.doris_suites.suite_support import backup, conn, count, create_sql, new_db, repo, restore_sql, rows
from tests.doris_suites.syncer import sql, sql_error, wait_all_restore_finish, wait_restore_end
from tests.dorisbk_server import DorisbkServer

__all__ = ["conn", "repo"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    """Three backends, as the suite's docker cluster has."""
    srv = DorisbkServer(tmp_path_factory.mktemp("srv") / "data", backends=3).start()
    yield srv
    srv.stop()


def simple(conn: pymysql.connections.Connection, table: str, replicas: int = 1, buckets: int = 1) -> None:
    sql(
        conn,
        f"CREATE TABLE {table} (`id` INT, `value` STRING) DISTRIBUTED BY HASH(`id`) BUCKETS {buckets} "
        f'PROPERTIES ("replication_num" = "{replicas}")',
    )


def medium(mode: str, kind: str = "hdd") -> dict[str, str]:
    return {"storage_medium": kind, "medium_allocation_mode": mode}


def test_states_timeout_and_cancel(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "br_state")
    table = f"{db}.t_states"
    simple(conn, table)
    sql(conn, f"INSERT INTO {table} VALUES (1, 'state_test')")
    ts = backup(conn, db, "snap_states", repo, "ON (t_states)")
    sql(conn, f"DROP TABLE {table} FORCE")
    sql(conn, restore_sql(db, "snap_states", repo, ts, "ON (`t_states`)", **medium("adaptive")))
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        state = sql(conn, f"SHOW RESTORE FROM {db}")[0][4]
        seen.add(state)
        if state in ("FINISHED", "CANCELLED"):
            break
        time.sleep(0.01)
    assert "FINISHED" in seen
    assert len(rows(conn, f"SELECT * FROM {table}")) == 1
    # three replicas, the default of a restore, on the three backends
    assert '"replication_allocation" = "tag.location.default: 3"' in create_sql(conn, table)

    _, message = sql_error(
        conn, restore_sql(db, "snap_states", repo, ts, "ON (`t_states`)", timeout="1", **medium("strict"))
    )
    assert "timeout must be at least 10 min" in message

    cancel = f"{db}.t_cancel"
    simple(conn, cancel, buckets=5)
    for i in range(10):
        sql(conn, f"INSERT INTO {cancel} VALUES ({i}, 'cancel_test_{i}')")
    ts = backup(conn, db, "snap_cancel", repo, "ON (t_cancel)")
    sql(conn, f"DROP TABLE {cancel} FORCE")
    sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "RESTORE:DOWNLOADING")')
    try:
        sql(conn, restore_sql(db, "snap_cancel", repo, ts, "ON (`t_cancel`)", **medium("adaptive")))
        sql(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
    job = wait_restore_end(conn, db)
    assert job["State"] == "CANCELLED"
    assert job["Status"].startswith("[COMMON_ERROR, msg: user cancelled, current state:")
    assert sql(conn, f"SHOW TABLES FROM {db} LIKE 't_cancel'") == []


def test_existing_tables_replicas_and_schema(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "br_state")
    table = f"{db}.t_conflict"
    simple(conn, table)
    sql(conn, f"INSERT INTO {table} VALUES (3, 'state_test')")
    ts = backup(conn, db, "snap_state", repo, "ON (t_conflict)")
    # the table has one replica, the restore asks for three
    job = wait_restore_end_after(conn, db, restore_sql(db, "snap_state", repo, ts, "ON (`t_conflict`)"))
    assert job["State"] == "CANCELLED"
    assert "has different replication num '1' with partition in repository, which is 3" in job["Status"]
    assert len(rows(conn, f"SELECT * FROM {table}")) == 1

    preserve = f"{db}.t_preserve"
    simple(conn, preserve, replicas=2)
    sql(conn, f"INSERT INTO {preserve} VALUES (5, 'preserve_test')")
    ts = backup(conn, db, "snap_preserve", repo, "ON (t_preserve)")
    sql(conn, f"DROP TABLE {preserve} FORCE")
    props = {"replication_num": "1", "reserve_replica": "true", **medium("adaptive")}
    sql(conn, restore_sql(db, "snap_preserve", repo, ts, "ON (`t_preserve`)", **props))
    wait_all_restore_finish(conn, db)
    assert count(conn, preserve) == 1
    assert '"replication_allocation" = "tag.location.default: 2"' in create_sql(conn, preserve)
    # the suite's schema-change step (ALTER TABLE ... ADD COLUMN before the restore) is left out:
    # dorisbk has no schema change


def wait_restore_end_after(conn: pymysql.connections.Connection, db: str, statement: str) -> dict:
    sql(conn, statement)
    return wait_restore_end(conn, db)


def test_partitions_atomic_and_media(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "br_state")
    part_add = f"{db}.t_part_add"
    sql(
        conn,
        f"CREATE TABLE {part_add} (`date` DATE, `id` INT, `value` INT) PARTITION BY RANGE(`date`) ("
        "PARTITION p1 VALUES LESS THAN ('2024-01-01'), PARTITION p2 VALUES LESS THAN ('2024-02-01')) "
        'DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")',
    )
    sql(conn, f"INSERT INTO {part_add} VALUES ('2023-12-15', 1, 100)")
    sql(conn, f"INSERT INTO {part_add} VALUES ('2024-01-15', 2, 200)")
    ts = backup(conn, db, "snap_part_add", repo, "ON (t_part_add)")
    sql(conn, f"ALTER TABLE {part_add} DROP PARTITION p2")
    props = {"replication_num": "1", **medium("adaptive", "ssd")}
    sql(conn, restore_sql(db, "snap_part_add", repo, ts, "ON (`t_part_add`)", **props))
    wait_all_restore_finish(conn, db)
    assert len(sql(conn, f"SHOW PARTITIONS FROM {part_add}")) == 2
    assert count(conn, part_add) == 2

    multi = f"{db}.t_multi_op"
    simple(conn, multi)
    sql(conn, f"INSERT INTO {multi} VALUES (7, 'version1')")
    ts1 = backup(conn, db, "snap_multi_v1", repo, "ON (t_multi_op)")
    sql(conn, f"INSERT INTO {multi} VALUES (8, 'version2')")
    ts2 = backup(conn, db, "snap_multi_v2", repo, "ON (t_multi_op)")
    sql(conn, f"INSERT INTO {multi} VALUES (9, 'version3')")
    for label, ts, props, expected in (
        ("snap_multi_v1", ts1, medium("strict"), 1),
        ("snap_multi_v2", ts2, medium("adaptive", "ssd"), 2),
    ):
        sql(conn, restore_sql(db, label, repo, ts, "ON (`t_multi_op`)", atomic_restore="true", **props))
        wait_all_restore_finish(conn, db)
        assert count(conn, multi) == expected

    complex_table = f"{db}.t_complex"
    sql(
        conn,
        f"CREATE TABLE {complex_table} (`date` DATE, `id` INT, `value` INT) PARTITION BY RANGE(`date`) ("
        "PARTITION p1 VALUES LESS THAN ('2024-01-01'), PARTITION p2 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p3 VALUES LESS THAN ('2024-03-01'), PARTITION p4 VALUES LESS THAN ('2024-04-01')) "
        'DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1", "storage_medium" = "SSD")',
    )
    for i, day in enumerate(("2023-12-15", "2024-01-15", "2024-02-15", "2024-03-15"), start=1):
        sql(conn, f"INSERT INTO {complex_table} VALUES ('{day}', {i}, {i * 100})")
    ts = backup(conn, db, "snap_complex", repo, "ON (t_complex)")
    sql(conn, f"DROP TABLE {complex_table} FORCE")
    props = {"replication_num": "1", **medium("strict", "same_with_upstream")}
    job = wait_restore_end_after(conn, db, restore_sql(db, "snap_complex", repo, ts, "ON (`t_complex`)", **props))
    assert job["State"] == "FINISHED", job
    assert count(conn, complex_table) == 4
    assert len(sql(conn, f"SHOW PARTITIONS FROM {complex_table}")) == 4
