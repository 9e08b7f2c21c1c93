"""Doris's S3 suites of group B on a real S3 server (SeaweedFS on loopback):
``test_create_and_drop_repository``, ``test_backup_restore_full_lifecycle_s3`` and
``test_backup_restore_error_recovery_s3``.

The two lifecycle suites send RESTORE without ``backup_timestamp`` (and one a 300 s timeout):
Doris refuses those statements at analysis, so they are replayed for exactly that answer, and
then their scenarios are replayed once more with the timestamp a Doris user would add.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pymysql
import pytest

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import ONE_REPLICA, open_conn
from tests.doris_suites.syncer import sql, sql_dicts, sql_error
from tests.dorisbk_server import DorisbkServer
from tests.s3server import S3Server, s3_server


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    # Doris's regression clusters run with one backend holding every replica
    yield from open_conn(server, **ONE_REPLICA)


def repo_row(conn: pymysql.connections.Connection, name: str) -> tuple | None:
    return next((r for r in sql(conn, " SHOW REPOSITORIES ") if r[1] == name), None)


def test_create_and_drop_repository(conn: pymysql.connections.Connection, s3: S3Server) -> None:
    repo = "test_create_and_drop_repository"
    with contextlib.suppress(pymysql.MySQLError):  # the suite's try_sql
        sql(conn, f"DROP REPOSITORY `{repo}`")
    endpoint = s3.endpoint.removeprefix("http://")
    for read_only in ("", "READ ONLY "):
        sql(
            conn,
            f"""
    CREATE {read_only}REPOSITORY `{repo}`
    WITH S3
    ON LOCATION "s3://{s3.bucket}/{repo}"
    PROPERTIES
    (
        "s3.endpoint" = "http://{endpoint}",
        "s3.region" = "us-east-1",
        "s3.access_key" = "{s3.access_key}",
        "s3.secret_key" = "{s3.secret_key}"
    )
        """,
        )
        row = repo_row(conn, repo)
        assert row is not None
        assert row[3] == ("true" if read_only else "false") and row[6] == "S3"
        sql(conn, f"DROP REPOSITORY `{repo}`")
        assert repo_row(conn, repo) is None


def make(conn: pymysql.connections.Connection, table: str, body: str) -> None:
    sql(conn, f"CREATE TABLE {table} {body}")


def backup(conn: pymysql.connections.Connection, db: str, repo: str, label: str, on: str) -> str:
    sql(conn, f"BACKUP SNAPSHOT {db}.{label}\nTO {repo}\nON ({on})")
    return syncer.wait_snapshot_timestamp(conn, db, repo, label)


def restore(conn: pymysql.connections.Connection, db: str, repo: str, label: str, on: str, props: str) -> None:
    sql(conn, f"RESTORE SNAPSHOT {db}.{label}\nFROM {repo}\nON ({on})\nPROPERTIES ({props})")
    syncer.wait_all_restore_finish(conn, db)


def test_full_lifecycle_s3(conn: pymysql.connections.Connection, s3: S3Server) -> None:
    db, repo = "db_full_lifecycle_s3", syncer.unique("repo_full_lifecycle_s3")
    syncer.create_s3_repository(conn, repo, s3)
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    sql(conn, f"USE {db}")

    # 1: as the suite sends it, the RESTORE has no backup_timestamp and Doris refuses it
    make(
        conn,
        "tbl_single_hdd",
        """(id INT, name VARCHAR(100), value DECIMAL(10,2)) DISTRIBUTED BY HASH(id) BUCKETS 3
        PROPERTIES ("replication_num" = "1", "storage_medium" = "hdd")""",
    )
    sql(conn, "INSERT INTO tbl_single_hdd VALUES (1, 'row1', 10.5), (2, 'row2', 20.3), (3, 'row3', 30.8)")
    ts = backup(conn, db, repo, "snapshot_tbl_single_hdd", "tbl_single_hdd")
    sql(conn, "DROP TABLE tbl_single_hdd FORCE")
    _, message = sql_error(
        conn,
        f"""RESTORE SNAPSHOT {db}.snapshot_tbl_single_hdd FROM {repo} ON (tbl_single_hdd)
        PROPERTIES ("storage_medium" = "hdd", "medium_allocation_mode" = "strict")""",
    )
    assert message.endswith("Missing backup_timestamp property")
    restore(
        conn,
        db,
        repo,
        "snapshot_tbl_single_hdd",
        "tbl_single_hdd",
        f'"backup_timestamp" = "{ts}", "storage_medium" = "hdd", "medium_allocation_mode" = "strict"',
    )
    rows = sql(conn, "SELECT * FROM tbl_single_hdd ORDER BY id")
    assert len(rows) == 3 and rows[0][:2] == (1, "row1") and abs(float(rows[0][2]) - 10.5) < 0.01
    sql(conn, "DROP TABLE tbl_single_hdd FORCE")

    # 2: two tables in one snapshot
    for t in ("tbl_multi_a", "tbl_multi_b"):
        make(
            conn,
            t,
            """(id INT, data VARCHAR(50)) DISTRIBUTED BY HASH(id) BUCKETS 2
            PROPERTIES ("replication_num" = "1", "storage_medium" = "ssd")""",
        )
    sql(conn, "INSERT INTO tbl_multi_a VALUES (1, 'data_a1'), (2, 'data_a2')")
    sql(conn, "INSERT INTO tbl_multi_b VALUES (10, 'data_b1'), (20, 'data_b2')")
    ts = backup(conn, db, repo, "snapshot_multi", "tbl_multi_a, tbl_multi_b")
    sql(conn, "DROP TABLE tbl_multi_a FORCE")
    sql(conn, "DROP TABLE tbl_multi_b FORCE")
    restore(
        conn,
        db,
        repo,
        "snapshot_multi",
        "tbl_multi_a, tbl_multi_b",
        f'"backup_timestamp" = "{ts}", "storage_medium" = "ssd", "medium_allocation_mode" = "adaptive"',
    )
    assert sql(conn, "SELECT COUNT(*) FROM tbl_multi_a") == [(2,)]
    assert sql(conn, "SELECT COUNT(*) FROM tbl_multi_b") == [(2,)]
    sql(conn, "DROP TABLE tbl_multi_a FORCE")
    sql(conn, "DROP TABLE tbl_multi_b FORCE")

    # 3: a range-partitioned table comes back with its three partitions
    make(
        conn,
        "tbl_partitioned",
        """(dt DATE, id INT, value VARCHAR(100)) PARTITION BY RANGE(dt) (
            PARTITION p20240101 VALUES LESS THAN ("2024-01-02"),
            PARTITION p20240102 VALUES LESS THAN ("2024-01-03"),
            PARTITION p20240103 VALUES LESS THAN ("2024-01-04"))
        DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES ("replication_num" = "1", "storage_medium" = "hdd")""",
    )
    sql(
        conn,
        "INSERT INTO tbl_partitioned VALUES ('2024-01-01', 1, 'value1'), ('2024-01-02', 2, 'value2'), "
        "('2024-01-03', 3, 'value3')",
    )
    ts = backup(conn, db, repo, "snapshot_tbl_partitioned", "tbl_partitioned")
    sql(conn, "DROP TABLE tbl_partitioned FORCE")
    restore(
        conn,
        db,
        repo,
        "snapshot_tbl_partitioned",
        "tbl_partitioned",
        f'"backup_timestamp" = "{ts}", "storage_medium" = "same_with_upstream", "medium_allocation_mode" = "adaptive"',
    )
    assert sql(conn, "SELECT COUNT(*) FROM tbl_partitioned") == [(3,)]
    assert len(sql(conn, "SHOW PARTITIONS FROM tbl_partitioned")) == 3
    sql(conn, "DROP TABLE tbl_partitioned FORCE")

    # 4: atomic restore drops the row added after the backup
    make(
        conn,
        "tbl_atomic",
        '(id INT, data VARCHAR(100)) DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES ("replication_num" = "1")',
    )
    sql(conn, "INSERT INTO tbl_atomic VALUES (1, 'original_data')")
    ts = backup(conn, db, repo, "snapshot_tbl_atomic", "tbl_atomic")
    sql(conn, "INSERT INTO tbl_atomic VALUES (2, 'new_data')")
    assert sql(conn, "SELECT COUNT(*) FROM tbl_atomic") == [(2,)]
    restore(
        conn, db, repo, "snapshot_tbl_atomic", "tbl_atomic", f'"backup_timestamp" = "{ts}", "atomic_restore" = "true"'
    )
    assert sql(conn, "SELECT * FROM tbl_atomic") == [(1, "original_data")]
    sql(conn, "DROP TABLE tbl_atomic FORCE")

    # 5: two partitions backed up, one restored
    make(
        conn,
        "tbl_partial_partition",
        """(dt DATE, id INT, value INT) PARTITION BY RANGE(dt) (
            PARTITION p1 VALUES LESS THAN ("2024-01-02"),
            PARTITION p2 VALUES LESS THAN ("2024-01-03"),
            PARTITION p3 VALUES LESS THAN ("2024-01-04"))
        DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES ("replication_num" = "1")""",
    )
    for day, i in (("2024-01-01", 1), ("2024-01-02", 2), ("2024-01-03", 3)):
        sql(conn, f"INSERT INTO tbl_partial_partition VALUES ('{day}', {i}, {i * 100})")
    ts = backup(conn, db, repo, "snapshot_tbl_partial_partition", "tbl_partial_partition PARTITION (p1, p2)")
    sql(conn, "DROP TABLE tbl_partial_partition FORCE")
    restore(
        conn,
        db,
        repo,
        "snapshot_tbl_partial_partition",
        "tbl_partial_partition PARTITION (p1)",
        f'"backup_timestamp" = "{ts}"',
    )
    rows = sql(conn, "SELECT * FROM tbl_partial_partition")
    assert len(rows) == 1 and rows[0][1] == 1
    sql(conn, "DROP TABLE tbl_partial_partition FORCE")

    # 6: dynamic partition properties survive with reserve_dynamic_partition_enable
    make(
        conn,
        "tbl_dynamic",
        """(dt DATE, id INT, value VARCHAR(50)) PARTITION BY RANGE(dt) (
            PARTITION p20240101 VALUES LESS THAN ("2024-01-02"))
        DISTRIBUTED BY HASH(id) BUCKETS 2
        PROPERTIES ("replication_num" = "1", "dynamic_partition.enable" = "true",
            "dynamic_partition.time_unit" = "DAY", "dynamic_partition.start" = "-3",
            "dynamic_partition.end" = "3", "dynamic_partition.prefix" = "p", "dynamic_partition.buckets" = "2")""",
    )
    sql(conn, "INSERT INTO tbl_dynamic VALUES ('2024-01-01', 1, 'data1')")
    ts = backup(conn, db, repo, "snapshot_tbl_dynamic", "tbl_dynamic")
    sql(conn, "DROP TABLE tbl_dynamic FORCE")
    restore(
        conn,
        db,
        repo,
        "snapshot_tbl_dynamic",
        "tbl_dynamic",
        f'"backup_timestamp" = "{ts}", "reserve_dynamic_partition_enable" = "true"',
    )
    text = sql(conn, "SHOW CREATE TABLE tbl_dynamic")[0][1]
    assert '"dynamic_partition.enable" = "true"' in text
    sql(conn, "DROP TABLE tbl_dynamic FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_error_recovery_s3(conn: pymysql.connections.Connection, s3: S3Server) -> None:
    db, repo = "db_error_recovery_s3", syncer.unique("repo_error_recovery_s3")
    syncer.create_s3_repository(conn, repo, s3)
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    sql(conn, f"USE {db}")

    def table(name: str, rows: str) -> str:
        make(
            conn,
            name,
            '(id INT, data VARCHAR(100)) DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES ("replication_num" = "1")',
        )
        sql(conn, f"INSERT INTO {name} VALUES {rows}")
        return backup(conn, db, repo, f"snapshot_{name}", name)

    # 1: a RESTORE without timestamp never starts; cancelling a restore finds none running
    ts = table("tbl_cancel_test", "(1, 'data1'), (2, 'data2')")
    sql(conn, "DROP TABLE tbl_cancel_test FORCE")
    _, message = sql_error(conn, f"RESTORE SNAPSHOT {db}.snapshot_tbl_cancel_test FROM {repo} ON (tbl_cancel_test)")
    assert message.endswith("Missing backup_timestamp property")
    assert sql(conn, f"SHOW RESTORE FROM {db}") == []
    assert "No restore" in sql_error(conn, f"CANCEL RESTORE FROM {db}")[1]
    # with the timestamp, held in DOWNLOAD, the cancel lands
    sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "RESTORE:DOWNLOADING")')
    try:
        sql(
            conn,
            f"""RESTORE SNAPSHOT {db}.snapshot_tbl_cancel_test FROM {repo} ON (tbl_cancel_test)
            PROPERTIES ("backup_timestamp" = "{ts}")""",
        )
        sql(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
    job = syncer.wait_restore_end(conn, db)
    assert job["State"] == "CANCELLED" and "user cancelled" in job["Status"]
    assert "tbl_cancel_test" not in [r[0] for r in sql(conn, "SHOW TABLES")]

    # 2: a 300 s timeout is below Doris's 10 minute floor
    ts = table("tbl_timeout_test", "(1, 'data1')")
    sql(conn, "DROP TABLE tbl_timeout_test FORCE")
    _, message = sql_error(
        conn,
        f"""RESTORE SNAPSHOT {db}.snapshot_tbl_timeout_test FROM {repo} ON (tbl_timeout_test)
        PROPERTIES ("timeout" = "300")""",
    )
    assert message.endswith("timeout must be at least 10 min")
    restore(
        conn,
        db,
        repo,
        "snapshot_tbl_timeout_test",
        "tbl_timeout_test",
        f'"backup_timestamp" = "{ts}", "timeout" = "600"',
    )
    assert sql(conn, "SELECT COUNT(*) FROM tbl_timeout_test") == [(1,)]
    sql(conn, "DROP TABLE tbl_timeout_test FORCE")

    # 3-5: allow_load, reserve_replica, medium downgrade
    for name, props in (
        ("tbl_allow_load", '"allow_load" = "false"'),
        ("tbl_reserve_replica", '"reserve_replica" = "true"'),
        ("tbl_adaptive_downgrade", '"storage_medium" = "ssd", "medium_allocation_mode" = "adaptive"'),
    ):
        ts = table(name, "(1, 'data1')")
        sql(conn, f"DROP TABLE {name} FORCE")
        restore(conn, db, repo, f"snapshot_{name}", name, f'"backup_timestamp" = "{ts}", {props}')
        assert sql(conn, f"SELECT COUNT(*) FROM {name}") == [(1,)]
        assert sql(conn, f"SHOW CREATE TABLE {name}")
        sql(conn, f"DROP TABLE {name} FORCE")

    # 6: a snapshot that does not exist
    _, message = sql_error(
        conn,
        f"""RESTORE SNAPSHOT {db}.non_existent_snapshot FROM {repo} ON (fake_table)
        PROPERTIES ("backup_timestamp" = "2024-01-01-00-00-00")""",
    )
    assert "Failed to get info of snapshot 'non_existent_snapshot'" in message

    # 7: a second job on the same database is refused while the first runs
    for name in ("tbl_multi_restore_a", "tbl_multi_restore_b"):
        make(
            conn,
            name,
            '(id INT, data VARCHAR(50)) DISTRIBUTED BY HASH(id) BUCKETS 2 PROPERTIES ("replication_num" = "1")',
        )
    sql(conn, "INSERT INTO tbl_multi_restore_a VALUES (1, 'data_a')")
    sql(conn, "INSERT INTO tbl_multi_restore_b VALUES (2, 'data_b')")
    sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "BACKUP:UPLOADING")')
    try:
        sql(conn, f"BACKUP SNAPSHOT {db}.snapshot_tbl_multi_restore_a TO {repo} ON (tbl_multi_restore_a)")
        _, message = sql_error(
            conn, f"BACKUP SNAPSHOT {db}.snapshot_tbl_multi_restore_b TO {repo} ON (tbl_multi_restore_b)"
        )
        assert "Can only run one backup or restore job of a database at same time" in message
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
    syncer.wait_snapshot_finish(conn, db)
    ts_b = backup(conn, db, repo, "snapshot_tbl_multi_restore_b", "tbl_multi_restore_b")
    ts_a = syncer.get_snapshot_timestamp(conn, repo, "snapshot_tbl_multi_restore_a")
    sql(conn, "DROP TABLE tbl_multi_restore_a FORCE")
    sql(conn, "DROP TABLE tbl_multi_restore_b FORCE")
    restore(conn, db, repo, "snapshot_tbl_multi_restore_a", "tbl_multi_restore_a", f'"backup_timestamp" = "{ts_a}"')
    restore(conn, db, repo, "snapshot_tbl_multi_restore_b", "tbl_multi_restore_b", f'"backup_timestamp" = "{ts_b}"')
    assert sql(conn, "SELECT COUNT(*) FROM tbl_multi_restore_a") == [(1,)]
    assert sql(conn, "SELECT COUNT(*) FROM tbl_multi_restore_b") == [(1,)]

    # 8: restore under another name next to the original
    ts = table("tbl_original", "(1, 'original_data')")
    restore(conn, db, repo, "snapshot_tbl_original", "tbl_original AS tbl_renamed", f'"backup_timestamp" = "{ts}"')
    assert sql(conn, "SELECT COUNT(*) FROM tbl_original") == [(1,)]
    assert sql(conn, "SELECT COUNT(*) FROM tbl_renamed") == [(1,)]
    assert [j["State"] for j in sql_dicts(conn, f"SHOW RESTORE FROM {db}")][-1] == "FINISHED"
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")
