"""Doris suites ``test_backup_restore_job_lifecycle``, ``test_backup_restore_job_persistence`` and
``test_backup_restore_advanced_scenarios``, replayed on a LOCAL repository.

They back up one table at a time and restore it with the newest restore properties
(``storage_medium`` = hdd / ssd / same_with_upstream, ``medium_allocation_mode`` = strict /
adaptive, ``atomic_restore``), into a dropped table, over an existing one, and partition by
partition. Their RESTOREs name no replica count: like Doris's regression clusters, the module
sets ``force_olap_table_replication_allocation`` so a single backend holds every replica.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import ONE_REPLICA, open_conn
from tests.doris_suites.suite_support import backup as suite_backup
from tests.doris_suites.syncer import sql
from tests.dorisbk_server import DorisbkServer


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    # Doris's regression clusters run with one backend holding every replica
    yield from open_conn(server, **ONE_REPLICA)


@pytest.fixture
def repo(conn: pymysql.connections.Connection, tmp_path: Path) -> Iterator[str]:
    name = syncer.unique("repo")
    syncer.create_local_repository(conn, name, tmp_path / "repo")
    yield name
    sql(conn, f"DROP REPOSITORY `{name}`")


def backup(conn: pymysql.connections.Connection, db: str, repo: str, label: str, table: str) -> str:
    """BACKUP ... ON (table), wait for it, and the snapshot's timestamp."""
    return suite_backup(conn, db, label, repo, f"ON ({table})")


def restore(conn: pymysql.connections.Connection, db: str, repo: str, label: str, on: str, **props: str) -> None:
    pairs = ",\n".join(f'"{k}" = "{v}"' for k, v in props.items())
    sql(conn, f"RESTORE SNAPSHOT {db}.{label} FROM `{repo}`\nON ({on})\nPROPERTIES (\n{pairs}\n)")
    syncer.wait_all_restore_finish(conn, db)


def test_job_lifecycle(conn: pymysql.connections.Connection, repo: str) -> None:
    db, t = "test_br_lifecycle_db", "test_br_lifecycle_table"
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")

    # 1: restore a dropped table onto another medium, strictly
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_lifecycle (`id` INT, `name` STRING, `value` DOUBLE)
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1", "storage_medium" = "HDD")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_lifecycle VALUES (1, 'test1', 100.0), (2, 'test2', 200.0)")
    ts = backup(conn, db, repo, "snap_lifecycle", f"{t}_lifecycle")
    sql(conn, f"DROP TABLE {db}.{t}_lifecycle FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_lifecycle",
        f"`{t}_lifecycle`",
        backup_timestamp=ts,
        storage_medium="ssd",
        medium_allocation_mode="strict",
    )
    rows = sql(conn, f"SELECT * FROM {db}.{t}_lifecycle ORDER BY id")
    assert len(rows) == 2 and rows[0][0] == 1 and rows[0][1] == "test1"
    sql(conn, f"DROP TABLE {db}.{t}_lifecycle FORCE")

    # 2: restore over an existing table that got a row after the backup
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_existing (`id` INT, `data` STRING)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_existing VALUES (1, 'original')")
    ts = backup(conn, db, repo, "snap_existing", f"{t}_existing")
    sql(conn, f"INSERT INTO {db}.{t}_existing VALUES (2, 'new_data')")
    restore(
        conn,
        db,
        repo,
        "snap_existing",
        f"`{t}_existing`",
        backup_timestamp=ts,
        storage_medium="same_with_upstream",
        medium_allocation_mode="adaptive",
    )
    # the whole partition comes back as it was backed up
    assert sql(conn, f"SELECT * FROM {db}.{t}_existing ORDER BY id") == [(1, "original")]
    sql(conn, f"DROP TABLE {db}.{t}_existing FORCE")

    # 3: atomic restore replaces the table as a whole
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_atomic (`id` INT, `value` INT)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_atomic VALUES (1, 100), (2, 200)")
    ts = backup(conn, db, repo, "snap_atomic", f"{t}_atomic")
    sql(conn, f"INSERT INTO {db}.{t}_atomic VALUES (1, 999), (3, 300)")
    restore(
        conn,
        db,
        repo,
        "snap_atomic",
        f"`{t}_atomic`",
        backup_timestamp=ts,
        atomic_restore="true",
        storage_medium="hdd",
        medium_allocation_mode="adaptive",
    )
    assert sql(conn, f"SELECT * FROM {db}.{t}_atomic ORDER BY id, value") == [(1, 100), (2, 200)]
    sql(conn, f"DROP TABLE {db}.{t}_atomic FORCE")

    # 4: a dropped partition comes back, the other is overwritten
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_part (`date` DATE, `id` INT, `value` STRING)
        PARTITION BY RANGE(`date`) (
            PARTITION p1 VALUES LESS THAN ("2024-01-01"),
            PARTITION p2 VALUES LESS THAN ("2024-02-01"))
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_part VALUES ('2023-12-15', 1, 'p1_data')")
    sql(conn, f"INSERT INTO {db}.{t}_part VALUES ('2024-01-15', 2, 'p2_data')")
    ts = backup(conn, db, repo, "snap_part", f"{t}_part")
    sql(conn, f"ALTER TABLE {db}.{t}_part DROP PARTITION p1")
    restore(
        conn,
        db,
        repo,
        "snap_part",
        f"`{t}_part` PARTITION (p1, p2)",
        backup_timestamp=ts,
        storage_medium="ssd",
        medium_allocation_mode="strict",
    )
    assert len(sql(conn, f"SELECT * FROM {db}.{t}_part ORDER BY date")) == 2
    sql(conn, f"DROP TABLE {db}.{t}_part FORCE")

    # 5: the plain round trip
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_repo (`id` INT, `data` STRING)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_repo VALUES (1, 'repo_test')")
    ts = backup(conn, db, repo, "snap_repo", f"{t}_repo")
    sql(conn, f"DROP TABLE {db}.{t}_repo FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_repo",
        f"`{t}_repo`",
        backup_timestamp=ts,
        storage_medium="same_with_upstream",
        medium_allocation_mode="adaptive",
    )
    rows = sql(conn, f"SELECT * FROM {db}.{t}_repo")
    assert len(rows) == 1 and rows[0][1] == "repo_test"
    sql(conn, f"DROP TABLE {db}.{t}_repo FORCE")

    # 6: an aggregate table keeps its merged sums
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_complex (`k1` INT, `k2` VARCHAR(50), `v1` INT SUM)
        AGGREGATE KEY(`k1`, `k2`) DISTRIBUTED BY HASH(`k1`) BUCKETS 2
        PROPERTIES ("replication_num" = "1", "storage_medium" = "HDD")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_complex VALUES (1, 'a', 10), (1, 'a', 20)")
    ts = backup(conn, db, repo, "snap_complex", f"{t}_complex")
    sql(conn, f"DROP TABLE {db}.{t}_complex FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_complex",
        f"`{t}_complex`",
        backup_timestamp=ts,
        storage_medium="ssd",
        medium_allocation_mode="adaptive",
    )
    rows = sql(conn, f"SELECT k1, k2, v1 FROM {db}.{t}_complex")
    assert len(rows) == 1 and rows[0][2] == 30
    sql(conn, f"DROP TABLE {db}.{t}_complex FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_job_persistence(conn: pymysql.connections.Connection, repo: str) -> None:
    db, t = "test_br_persist_db", "test_br_persist_table"
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    sql(
        conn,
        f"""CREATE TABLE {db}.{t} (`id` INT, `value` STRING)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t} VALUES (1, 'test')")
    ts = backup(conn, db, repo, "snap", t)
    sql(conn, f"DROP TABLE {db}.{t} FORCE")
    restore(
        conn,
        db,
        repo,
        "snap",
        f"`{t}`",
        backup_timestamp=ts,
        reserve_replica="true",
        storage_medium="ssd",
        medium_allocation_mode="adaptive",
    )
    assert len(sql(conn, f"SELECT * FROM {db}.{t}")) == 1
    job = syncer.sql_dicts(conn, f"SHOW RESTORE FROM {db}")[-1]
    # the forced allocation turns reserve_replica off, as in Doris
    assert job["ReserveReplica"] == "false" and job["ReplicaAllocation"] == "tag.location.default: 1"
    sql(conn, f"DROP TABLE {db}.{t} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_advanced_scenarios(conn: pymysql.connections.Connection, repo: str) -> None:
    db, t = "test_br_advanced_db", "test_br_advanced_table"
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")

    # 1: five buckets filled by many small loads
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_multi (`id` INT, `name` STRING, `value` INT)
        DISTRIBUTED BY HASH(`id`) BUCKETS 5 PROPERTIES ("replication_num" = "1")""",
    )
    for i in range(50):
        sql(conn, f"INSERT INTO {db}.{t}_multi VALUES ({i}, 'name_{i}', {i * 100})")
    ts = backup(conn, db, repo, "snap_multi", f"{t}_multi")
    sql(conn, f"DROP TABLE {db}.{t}_multi FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_multi",
        f"`{t}_multi`",
        backup_timestamp=ts,
        storage_medium="hdd",
        medium_allocation_mode="adaptive",
    )
    assert sql(conn, f"SELECT COUNT(*) FROM {db}.{t}_multi") == [(50,)]
    sql(conn, f"DROP TABLE {db}.{t}_multi FORCE")

    # 2: atomic restore undoes an UPDATE of a unique-key table
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_atomic_exist (`id` INT, `value` STRING)
        UNIQUE KEY(`id`) DISTRIBUTED BY HASH(`id`) BUCKETS 2 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_atomic_exist VALUES (1, 'before_backup')")
    ts = backup(conn, db, repo, "snap_atomic", f"{t}_atomic_exist")
    sql(conn, f"UPDATE {db}.{t}_atomic_exist SET value = 'after_backup' WHERE id = 1")
    assert sql(conn, f"SELECT value FROM {db}.{t}_atomic_exist WHERE id = 1") == [("after_backup",)]
    restore(
        conn,
        db,
        repo,
        "snap_atomic",
        f"`{t}_atomic_exist`",
        backup_timestamp=ts,
        atomic_restore="true",
        storage_medium="ssd",
        medium_allocation_mode="strict",
    )
    assert sql(conn, f"SELECT value FROM {db}.{t}_atomic_exist WHERE id = 1") == [("before_backup",)]
    sql(conn, f"DROP TABLE {db}.{t}_atomic_exist FORCE")

    # 3: another medium, adaptively
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_medium (`id` INT, `data` STRING) DISTRIBUTED BY HASH(`id`) BUCKETS 1
        PROPERTIES ("replication_num" = "1", "storage_medium" = "HDD")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_medium VALUES (1, 'test_data')")
    ts = backup(conn, db, repo, "snap_medium", f"{t}_medium")
    sql(conn, f"DROP TABLE {db}.{t}_medium FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_medium",
        f"`{t}_medium`",
        backup_timestamp=ts,
        storage_medium="ssd",
        medium_allocation_mode="adaptive",
    )
    assert len(sql(conn, f"SELECT * FROM {db}.{t}_medium")) == 1
    sql(conn, f"DROP TABLE {db}.{t}_medium FORCE")

    # 4: two of three partitions of a dropped table
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_selective (`date` DATE, `id` INT, `value` INT)
        PARTITION BY RANGE(`date`) (
            PARTITION p1 VALUES LESS THAN ("2024-01-01"),
            PARTITION p2 VALUES LESS THAN ("2024-02-01"),
            PARTITION p3 VALUES LESS THAN ("2024-03-01"))
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    for day, i in (("2023-12-15", 1), ("2024-01-15", 2), ("2024-02-15", 3)):
        sql(conn, f"INSERT INTO {db}.{t}_selective VALUES ('{day}', {i}, {i * 100})")
    ts = backup(conn, db, repo, "snap_selective", f"{t}_selective")
    sql(conn, f"DROP TABLE {db}.{t}_selective FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_selective",
        f"`{t}_selective` PARTITION (p1, p2)",
        backup_timestamp=ts,
        storage_medium="same_with_upstream",
        medium_allocation_mode="adaptive",
    )
    assert sql(conn, f"SELECT COUNT(*) FROM {db}.{t}_selective") == [(2,)]
    assert [r[1] for r in sql(conn, f"SHOW PARTITIONS FROM {db}.{t}_selective")] == ["p1", "p2"]
    sql(conn, f"DROP TABLE {db}.{t}_selective FORCE")

    # 5: replicas created on the one backend
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_replica (`id` INT, `name` STRING)
        DISTRIBUTED BY HASH(`id`) BUCKETS 2 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_replica VALUES (1, 'replica_test'), (2, 'replica_test2')")
    ts = backup(conn, db, repo, "snap_replica", f"{t}_replica")
    sql(conn, f"DROP TABLE {db}.{t}_replica FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_replica",
        f"`{t}_replica`",
        backup_timestamp=ts,
        storage_medium="hdd",
        medium_allocation_mode="strict",
    )
    assert len(sql(conn, f"SELECT * FROM {db}.{t}_replica ORDER BY id")) == 2
    sql(conn, f"DROP TABLE {db}.{t}_replica FORCE")

    # 6: two snapshots of one table; the newer one comes back after TRUNCATE
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_multi_restore (`id` INT, `version` INT, `data` STRING)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_multi_restore VALUES (1, 1, 'v1')")
    backup(conn, db, repo, "snap_v1", f"{t}_multi_restore")
    sql(conn, f"INSERT INTO {db}.{t}_multi_restore VALUES (2, 2, 'v2')")
    ts = backup(conn, db, repo, "snap_v2", f"{t}_multi_restore")
    sql(conn, f"TRUNCATE TABLE {db}.{t}_multi_restore")
    restore(
        conn,
        db,
        repo,
        "snap_v2",
        f"`{t}_multi_restore`",
        backup_timestamp=ts,
        storage_medium="ssd",
        medium_allocation_mode="adaptive",
    )
    assert sql(conn, f"SELECT COUNT(*) FROM {db}.{t}_multi_restore") == [(2,)]
    sql(conn, f"DROP TABLE {db}.{t}_multi_restore FORCE")

    # 7: aggregate key table
    sql(
        conn,
        f"""CREATE TABLE {db}.{t}_agg (`user_id` INT, `date` DATE, `cost` INT SUM)
        AGGREGATE KEY(`user_id`, `date`) DISTRIBUTED BY HASH(`user_id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{t}_agg VALUES (1, '2024-01-01', 100), (1, '2024-01-01', 200)")
    ts = backup(conn, db, repo, "snap_agg", f"{t}_agg")
    sql(conn, f"DROP TABLE {db}.{t}_agg FORCE")
    restore(
        conn,
        db,
        repo,
        "snap_agg",
        f"`{t}_agg`",
        backup_timestamp=ts,
        storage_medium="same_with_upstream",
        medium_allocation_mode="strict",
    )
    rows = sql(conn, f"SELECT user_id, cost FROM {db}.{t}_agg")
    assert len(rows) == 1 and rows[0][1] == 300
    sql(conn, f"DROP TABLE {db}.{t}_agg FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
