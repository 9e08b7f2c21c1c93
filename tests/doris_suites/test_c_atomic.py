"""Doris's atomic-restore suites replayed: ``test_backup_restore_atomic``, ``..._atomic_cancel``,
``..._atomic_with_view``, ``..._atomic_with_alter`` and ``..._atomic_reserve_replica``.

``atomic_restore`` builds the snapshot's tables aside and swaps them in whole at commit: partitions
missing from the snapshot go, a cancelled job leaves everything as it was, and while the job runs the
original refuses DDL. The debug point that holds the job in the with-alter suite is our
``debug_pause_job_states`` config.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites.suite_support import (
    ONES,
    RANGE_PARTITIONS,
    TENS,
    agg_table,
    backup,
    conn,
    count,
    create_sql,
    new_db,
    open_conn,
    repo,
    restore,
    restore_ends,
    restore_sql,
    rows,
)
from tests.doris_suites.syncer import create_local_repository, sql, sql_dicts, sql_error, unique, wait_restore_end
from tests.dorisbk_server import DorisbkServer

__all__ = ["conn", "repo"]
PAIRS = [(str(j * 10), str(j * 10)) for j in range(1, 11)]  # LARGEINT comes as text, as from Doris


def test_atomic_restore_replaces_whole_tables(conn: pymysql.connections.Connection, repo: str) -> None:
    db, db1 = new_db(conn, "atomic"), new_db(conn, "atomic_new")
    tables = [f"tbl_{i}" for i in range(4)]
    limit = int(sql_dicts(conn, "ADMIN SHOW FRONTEND CONFIG LIKE 'table_name_length_limit'")[0]["Value"])
    tables.append("x" * limit)
    for name in tables:
        sql(conn, agg_table(f"{db}.{name}", partitions=RANGE_PARTITIONS))
        sql(conn, f"INSERT INTO {db}.{name} VALUES {TENS}")
    on = f"ON (tbl_0, tbl_1 PARTITION (p1, p2, p3), tbl_2, tbl_3, {tables[4]})"
    ts = backup(conn, db, "snap", repo, on)
    sql(conn, f"DROP TABLE {db}.tbl_0 FORCE")
    sql(conn, f"INSERT INTO {db}.tbl_2 VALUES {TENS}")
    sql(conn, f"TRUNCATE TABLE {db}.tbl_3")
    restore(conn, db, "snap", repo, ts, reserve_replica="true", atomic_restore="true")
    expected = {"tbl_1": PAIRS[:2]}
    for name in tables:
        assert rows(conn, f"SELECT * FROM {db}.{name} ORDER BY id") == expected.get(name, PAIRS), name
    assert [r[1] for r in sql(conn, f"SHOW PARTITIONS FROM {db}.tbl_1")] == ["p1", "p2", "p3"]
    assert not [r for r in sql(conn, f"SHOW TABLES FROM {db}") if r[0].startswith("__doris_atomic")]

    restore(conn, db1, "snap", repo, ts, "ON (tbl_3)", reserve_replica="true", atomic_restore="true")
    assert rows(conn, f"SELECT * FROM {db1}.tbl_3 ORDER BY id") == PAIRS

    sql(conn, f"ALTER TABLE {db}.tbl_3 ADD PARTITION p8 VALUES LESS THAN MAXVALUE")
    sql(conn, f"INSERT INTO {db}.tbl_3 VALUES {TENS}")
    sql(conn, f"INSERT INTO {db}.tbl_3 VALUES (200, 200)")
    ts = backup(conn, db, "snap_1", repo, "ON (tbl_3)")
    restore(conn, db1, "snap_1", repo, ts, "ON (tbl_3)", reserve_replica="true", atomic_restore="true")
    doubled = [(a, str(2 * int(b))) for a, b in PAIRS] + [("200", "200")]
    assert rows(conn, f"SELECT * FROM {db1}.tbl_3 ORDER BY id") == doubled


def test_atomic_restore_cancelled_by_changed_view(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "atomic_cancel")
    for name in ("t", "t1"):
        sql(conn, agg_table(f"{db}.{name}"))
    sql(conn, f"CREATE VIEW {db}.v AS SELECT id, count FROM {db}.t WHERE id > 5")
    for name in ("t", "t1"):
        sql(conn, f"INSERT INTO {db}.{name} VALUES {ONES}")
        assert count(conn, f"{db}.{name}") == 10
    ts = backup(conn, db, "snap", repo)
    sql(conn, f"ALTER VIEW {db}.v AS SELECT id,count FROM {db}.t WHERE id < 100")
    sql(conn, f"INSERT INTO {db}.t VALUES (11, 11)")
    job = restore_ends(conn, db, "snap", repo, ts, reserve_replica="true", atomic_restore="true")
    assert job["State"] == "CANCELLED"
    last = sql_dicts(conn, f'SHOW RESTORE FROM {db} WHERE Label ="snap"')[-1]
    assert last["State"] == "CANCELLED"
    assert "already exist but with different schema" in last["Status"]
    assert count(conn, f"{db}.t") == 11
    assert count(conn, f"{db}.t1") == 10
    assert not [r for r in sql(conn, f"SHOW TABLES FROM {db}") if r[0].startswith("__doris_atomic")]


def test_atomic_restore_with_view(conn: pymysql.connections.Connection, repo: str) -> None:
    db, db1 = new_db(conn, "atomic_view"), new_db(conn, "atomic_view_new")
    sql(conn, agg_table(f"{db}.t"))
    sql(conn, f"INSERT INTO {db}.t VALUES {ONES}")
    sql(conn, f"CREATE VIEW {db}.v (id, count) AS SELECT * FROM {db}.t WHERE count > 5")
    sql(conn, "sync")
    assert rows(conn, f"SELECT * FROM {db}.v ORDER BY id ASC") == [(str(i), str(i)) for i in range(6, 11)]
    ts = backup(conn, db, "snap", repo)

    restore(conn, db1, "snap", repo, ts, atomic_restore="true", reserve_replica="true")
    assert rows(conn, f"SELECT * FROM {db1}.t ORDER BY id ASC") == [(str(i), str(i)) for i in range(1, 11)]
    assert rows(conn, f"SELECT * FROM {db1}.v ORDER BY id ASC") == [(str(i), str(i)) for i in range(6, 11)]
    shown = sql_dicts(conn, f"SHOW VIEW FROM t FROM {db1}")
    assert len(shown) == 1
    assert db1 in shown[0]["Create View"] and "t" in shown[0]["Create View"]

    restore(conn, db, "snap", repo, ts, atomic_restore="true", reserve_replica="true")
    assert sql_dicts(conn, f'SHOW RESTORE FROM {db} WHERE Label ="snap"')[-1]["State"] == "FINISHED"
    sql(conn, f"INSERT INTO {db}.t VALUES (11, 11)")
    assert rows(conn, f"SELECT * FROM {db}.v ORDER BY id ASC") == [(str(i), str(i)) for i in range(6, 12)]


def test_atomic_restore_refuses_ddl_while_running(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "atomic_alter")
    for i in range(3):
        sql(conn, agg_table(f"{db}.tbl_{i}", partitions=RANGE_PARTITIONS))
        sql(conn, f"INSERT INTO {db}.tbl_{i} VALUES {TENS}")
    label = unique("snapshot")
    ts = backup(conn, db, label, repo, "ON (tbl_0, tbl_1)")
    sql(conn, f"DROP TABLE {db}.tbl_0 FORCE")
    sql(conn, "ADMIN SET FRONTEND CONFIG ('debug_pause_job_states' = 'RESTORE:SNAPSHOTING')")
    try:
        sql(conn, restore_sql(db, label, repo, ts, reserve_replica="true", atomic_restore="true"))
        sql(conn, "SYNC")
        for _ in range(600):
            records = sql_dicts(conn, f'SHOW RESTORE FROM {db} WHERE Label = "{label}"')
            if len(records) == 1 and records[0]["State"] not in ("PENDING", "CREATING"):
                break
        else:
            raise AssertionError("restore did not get past CREATING")
        assert "in_atomic_restore" in create_sql(conn, f"{db}.tbl_1")
        create = agg_table(f"{db}.tbl_0", partitions=RANGE_PARTITIONS)
        assert "is in atomic restore, please cancel the restore operation firstly" in sql_error(conn, create)[1]
        for clause in (
            'ADD PARTITION p8 VALUES LESS THAN("200")',
            "DROP PARTITION p1",
            'MODIFY PARTITION p1 SET ("key"="value")',
            'ADD COLUMN new_col INT DEFAULT "0" AFTER id',
            "DROP COLUMN count",
            'SET ("is_being_synced"="false")',
            "RENAME newTableName",
        ):
            assert "Do not allow doing ALTER ops" in sql_error(conn, f"ALTER TABLE {db}.tbl_1 {clause}")[1], clause
        staged = f"{db}.__doris_atomic_restore_prefix__tbl_1"
        assert "Do not allow doing ALTER ops" in sql_error(conn, f"ALTER TABLE {staged} RENAME newTableName")[1]
        assert "state is in atomic restore" in sql_error(conn, f"DROP TABLE {db}.tbl_1")[1]
        assert "state is RESTORE" in sql_error(conn, f"DROP TABLE {staged}")[1]
        assert "is already used (in restoring)" in sql_error(conn, f"ALTER TABLE {db}.tbl_2 RENAME tbl_0")[1]
        sql(conn, f"CANCEL RESTORE FROM {db}")
    finally:
        sql(conn, "ADMIN SET FRONTEND CONFIG ('debug_pause_job_states' = '')")
    sql(conn, "SYNC")
    assert wait_restore_end(conn, db)["State"] == "CANCELLED"
    assert "in_atomic_restore" not in create_sql(conn, f"{db}.tbl_1")
    for i in range(3):
        sql(conn, f"DROP TABLE IF EXISTS {db}.tbl_{i} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


@pytest.fixture(scope="module")
def three_backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymysql.connections.Connection]:
    """A server with three backends, as Doris's regression cluster has, for three-replica restores."""
    srv = DorisbkServer(tmp_path_factory.mktemp("srv3") / "data", backends=3).start()
    try:
        yield from open_conn(srv)
    finally:
        srv.stop()


def test_atomic_restore_replica_counts(three_backends: pymysql.connections.Connection, tmp_path: Path) -> None:
    conn = three_backends
    repo_name = unique("repo")
    create_local_repository(conn, repo_name, tmp_path)
    db = new_db(conn, "atomic_replica")
    tables = [f"tbl_{i}" for i in range(4)]
    for name in tables:
        sql(conn, agg_table(f"{db}.{name}", partitions=RANGE_PARTITIONS))
        sql(conn, f"INSERT INTO {db}.{name} VALUES {TENS}")
    ts = backup(conn, db, "snap", repo_name)
    for name in tables:
        sql(conn, f"TRUNCATE TABLE {db}.{name}")
    restore(conn, db, "snap", repo_name, ts, replication_num="3", atomic_restore="true")
    sql(conn, "sync")
    for name in tables:
        assert rows(conn, f"SELECT * FROM {db}.{name} ORDER BY id") == PAIRS
        assert {r[9] for r in sql(conn, f"SHOW PARTITIONS FROM {db}.{name}")} == {"3"}
    for name in tables:
        sql(conn, f"TRUNCATE TABLE {db}.{name}")
    restore(conn, db, "snap", repo_name, ts, reserve_replica="true", atomic_restore="true")
    sql(conn, "sync")
    for name in tables:
        assert rows(conn, f"SELECT * FROM {db}.{name} ORDER BY id") == PAIRS
        assert {r[9] for r in sql(conn, f"SHOW PARTITIONS FROM {db}.{name}")} == {"1"}


def test_default_replica_count_on_three_backends(
    three_backends: pymysql.connections.Connection, tmp_path: Path
) -> None:
    """A RESTORE that names no replica count gets Doris's three replicas where three backends exist."""
    conn = three_backends
    repo_name = unique("repo")
    create_local_repository(conn, repo_name, tmp_path)
    db = new_db(conn, "default_replicas")
    sql(conn, agg_table(f"{db}.t", partitions=RANGE_PARTITIONS))
    sql(conn, f"INSERT INTO {db}.t VALUES {TENS}")
    ts = backup(conn, db, "snap", repo_name)
    sql(conn, f"DROP TABLE {db}.t FORCE")
    restore(conn, db, "snap", repo_name, ts)
    assert rows(conn, f"SELECT * FROM {db}.t ORDER BY id") == PAIRS
    assert {r[9] for r in sql(conn, f"SHOW PARTITIONS FROM {db}.t")} == {"3"}
