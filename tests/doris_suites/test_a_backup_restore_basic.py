"""Doris's basic backup/restore suites replayed: whole tables, aliases, whole databases, EXCLUDE,
several tables, partitions, new and mixed targets, key models and tablet versions.

Each test follows one suite of ``regression-test/suites/backup_restore`` statement by statement
(with a LOCAL repository instead of S3) and checks what the suite checks.
"""

from __future__ import annotations

from pathlib import Path

import pymysql

from tests.doris_suites.suite_support import ONES, agg_table, backup, conn, count, new_db, repo, restore
from tests.doris_suites.syncer import (
    create_local_repository,
    get_snapshot_timestamp,
    sql,
    sql_dicts,
    unique,
    wait_snapshot_finish,
)

__all__ = ["conn", "repo"]


def test_backup_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "test_backup_restore_db")
    tbl = f"{db}.test_backup_restore_table"
    sql(conn, f"DROP TABLE IF EXISTS {tbl}")
    sql(conn, agg_table(tbl))
    sql(conn, f"INSERT INTO {tbl} VALUES {ONES}")
    assert count(conn, tbl, by_rows=True) == 10
    ts = backup(conn, db, "test_backup_restore_snapshot", repo, "ON (test_backup_restore_table)")
    # older syncers read the timestamp from SHOW SNAPSHOT without WHERE: the label's row, last line
    listed = [r for r in sql(conn, f"SHOW SNAPSHOT ON {repo}") if r[0] == "test_backup_restore_snapshot"]
    assert [r[1].split("\n")[-1] for r in listed] == [ts]
    sql(conn, f"TRUNCATE TABLE {tbl}")
    assert count(conn, tbl, by_rows=True) == 0
    restore(
        conn,
        db,
        "test_backup_restore_snapshot",
        repo,
        ts,
        "ON ( `test_backup_restore_table`)",
        replication_num="1",
    )
    assert count(conn, tbl, by_rows=True) == 10
    assert sql_dicts(conn, f"SHOW RESTORE FROM {db}")[-1]["Status"] == "[OK]"
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_backup_restore_alias(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_alias_db")
    tbl, alias = "test_backup_restore_alias_table", "test_backup_restore_alias_table_alias"
    sql(conn, agg_table(f"{db}.{tbl}"))
    sql(conn, f"INSERT INTO {db}.{tbl} VALUES {ONES}")
    ts = backup(conn, db, "test_backup_restore_snapshot", repo, f"ON ({tbl})")
    sql(conn, f"INSERT INTO {db}.{tbl} VALUES (20, 21), (123, 341)")
    after = sql(conn, f"SELECT * FROM {db}.{tbl} ORDER BY id")
    assert [tuple(map(int, r)) for r in after] == [(i, i) for i in range(1, 11)] + [(20, 21), (123, 341)]
    restore(conn, db, "test_backup_restore_snapshot", repo, ts, f"ON ( `{tbl}` AS `{alias}` )", replication_num="1")
    # the original keeps its later rows; the alias holds what the snapshot held
    assert sql(conn, f"SELECT * FROM {db}.{tbl} ORDER BY id") == after
    restored = sql(conn, f"SELECT * FROM {db}.{alias} ORDER BY id")
    assert [tuple(map(int, r)) for r in restored] == [(i, i) for i in range(1, 11)]
    sql(conn, f"DROP TABLE {db}.{tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def _ten_tables(conn: pymysql.connections.Connection, db: str, prefix: str) -> list[str]:
    tables = []
    for i in range(10):
        name = f"{prefix}_{i}"
        tables.append(name)
        sql(conn, f"DROP TABLE IF EXISTS {db}.{name}")
        sql(conn, agg_table(f"{db}.{name}"))
        sql(conn, f"INSERT INTO {db}.{name} VALUES {ONES}")
        assert count(conn, f"{db}.{name}", by_rows=True) == 10
    return tables


def test_backup_restore_db(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_db_1")
    tables = _ten_tables(conn, db, "test_backup_restore_db_tables")
    ts = backup(conn, db, "test_backup_restore_db_snapshot", repo)
    for name in tables:
        sql(conn, f"TRUNCATE TABLE {db}.{name}")
    restore(conn, db, "test_backup_restore_db_snapshot", repo, ts, reserve_replica="true")
    for name in tables:
        assert count(conn, f"{db}.{name}", by_rows=True) == 10
        sql(conn, f"DROP TABLE {db}.{name} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_exclude(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_exclude")
    tables = _ten_tables(conn, db, "test_backup_restore_exclude_tables")
    backup_excluded = tables.pop()
    ts = backup(conn, db, "test_backup_restore_exclude_snapshot", repo, f"EXCLUDE ({backup_excluded})")
    info = sql_dicts(conn, f"SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = 'test_backup_restore_exclude_snapshot'")
    assert info and info[-1]["Status"] == "OK"
    sql(conn, f"INSERT INTO {db}.{backup_excluded} VALUES (20, 20), (21, 21)")
    excluded_rows = sql(conn, f"SELECT * FROM {db}.{backup_excluded} ORDER BY id")
    assert len(excluded_rows) == 12
    restore_excluded = tables.pop()
    sql(conn, f"DROP TABLE {db}.{restore_excluded} FORCE")
    restore(
        conn,
        db,
        "test_backup_restore_exclude_snapshot",
        repo,
        ts,
        f"EXCLUDE ({restore_excluded})",
        replication_num="1",
    )
    # not in the snapshot: untouched; excluded from the restore: not recreated
    assert sql(conn, f"SELECT * FROM {db}.{backup_excluded} ORDER BY id") == excluded_rows
    assert sql(conn, f"SHOW TABLES FROM {db} LIKE '{restore_excluded}'") == []
    for name in tables:
        assert count(conn, f"{db}.{name}", by_rows=True) == 10
        sql(conn, f"DROP TABLE {db}.{name} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_multi_tables(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_multi_tables_db")
    tables = _ten_tables(conn, db, "test_backup_restore_multi_tables_tables")
    chosen = tables[0:6]
    label = "test_backup_restore_multi_tables_snapshot"
    ts = backup(conn, db, label, repo, f"ON ({','.join(chosen)})")
    for name in chosen:
        sql(conn, f"TRUNCATE TABLE {db}.{name}")
    restore(conn, db, label, repo, ts, f"ON ({','.join(chosen)})", replication_num="1")
    for name in tables:
        assert count(conn, f"{db}.{name}", by_rows=True) == 10
        sql(conn, f"DROP TABLE {db}.{name} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_multi_tables_overwrite(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_multi_tables_overwrite_db")
    tables = _ten_tables(conn, db, "test_backup_restore_multi_tables_overwrite_tables")
    chosen = tables[0:6]
    label = "test_backup_restore_multi_tables_overwrite_snapshot"
    ts = backup(conn, db, label, repo, f"ON ({','.join(chosen)})")
    first = f"{db}.{chosen[0]}"
    sql(conn, f"INSERT INTO {first} VALUES (20, 20), (21, 21)")
    assert count(conn, first, by_rows=True) == 12
    restore(conn, db, label, repo, ts, f"ON ({','.join(chosen)})", replication_num="1")
    # the restore overwrote the rows loaded after the backup
    assert [int(r[0]) for r in sql(conn, f"SELECT * FROM {first} ORDER BY id")] == list(range(1, 11))
    for name in tables:
        assert count(conn, f"{db}.{name}", by_rows=True) == 10
        sql(conn, f"DROP TABLE {db}.{name} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_partition(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "test_backup_restore_partition_db")
    tbl = f"{db}.test_backup_restore_partition_table"
    sql(
        conn,
        f"""
        CREATE TABLE {tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT SUM DEFAULT "0"
        )
        AGGREGATE KEY(`id`)
        PARTITION BY RANGE(`id`)
        (
            PARTITION p1 VALUES LESS THAN ("10"),
            PARTITION p2 VALUES LESS THAN ("20"),
            PARTITION p3 VALUES LESS THAN ("30"),
            PARTITION p4 VALUES LESS THAN ("40"),
            PARTITION p5 VALUES LESS THAN ("50"),
            PARTITION p6 VALUES LESS THAN ("60"),
            PARTITION p7 VALUES LESS THAN MAXVALUE
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    sql(conn, f"INSERT INTO {tbl} VALUES {','.join(f'({j}0, {j}1)' for j in range(1, 11))}")
    rows = [tuple(map(int, r)) for r in sql(conn, f"SELECT * FROM {tbl} ORDER BY id ASC")]
    assert rows == [(j * 10, j * 10 + 1) for j in range(1, 11)]
    label = "test_backup_restore_partition_snapshot"
    ts = backup(
        conn, db, label, repo, "ON ( `test_backup_restore_partition_table` PARTITION (p1, p2, p3, p4, p5, p6) )"
    )
    sql(conn, f"TRUNCATE TABLE {tbl}")
    clause = "ON ( `test_backup_restore_partition_table` PARTITION ({}) )"
    restore(conn, db, label, repo, ts, clause.format("p1, p2, p3"), reserve_replica="true")
    rows = [tuple(map(int, r)) for r in sql(conn, f"SELECT * FROM {tbl} ORDER BY id ASC")]
    assert rows == [(10, 11), (20, 21)]
    restore(conn, db, label, repo, ts, clause.format("p4, p5, p6"), reserve_replica="true")
    rows = [tuple(map(int, r)) for r in sql(conn, f"SELECT * FROM {tbl} ORDER BY id ASC")]
    assert rows == [(10, 11), (20, 21), (30, 31), (40, 41), (50, 51)]
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_restore_mix_exists_and_new_table(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "restore_mix_exists_and_new_table")
    tables = _ten_tables(conn, db, "test_restore_mix_exists_and_new_table_tables")
    label = "test_restore_mix_exists_and_new_table_snapshot"
    ts = backup(conn, db, label, repo, f"ON ({','.join(tables)})")
    for name in tables[0:6]:
        sql(conn, f"DROP TABLE {db}.{name} FORCE")
    restore(conn, db, label, repo, ts, f"ON ({','.join(tables)})", replication_num="1")
    for name in tables:
        assert count(conn, f"{db}.{name}", by_rows=True) == 10
        sql(conn, f"DROP TABLE {db}.{name} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_restore_to_new_table(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "restore_to_new_table_db")
    tbl = "test_restore_to_new_table_table"
    sql(conn, agg_table(f"{db}.{tbl}"))
    sql(conn, f"INSERT INTO {db}.{tbl} VALUES {ONES}")
    ts = backup(conn, db, "test_backup_restore_snapshot", repo, f"ON ({tbl})")
    sql(conn, f"DROP TABLE {db}.{tbl} FORCE")
    restore(conn, db, "test_backup_restore_snapshot", repo, ts, f"ON ( `{tbl}`)", replication_num="1")
    assert count(conn, f"{db}.{tbl}", by_rows=True) == 10
    sql(conn, f"DROP TABLE {db}.{tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_duplicate_backup_restore(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    db = new_db(conn, "duplicate_backup_restore_db")
    tbl = f"{db}.test_duplicate_backup_restore_table"
    sql(
        conn,
        f"""
        CREATE TABLE {tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT NOT NULL DEFAULT "0")
        DUPLICATE KEY(`id`)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1
        PROPERTIES ("replication_num" = "1")
        """,
    )
    sql(conn, f"INSERT INTO {tbl} VALUES {ONES}")
    sql(conn, f"INSERT INTO {tbl} VALUES (1,1),(2,2),(3,3),(1,1),(2,2)")
    assert count(conn, tbl, by_rows=True) == 15
    repo = unique("test_duplicate_backup_restore_repo")
    create_local_repository(conn, repo, tmp_path / "one")
    label = "test_duplicate_backup_restore"
    ts = backup(conn, db, label, repo, 'ON (test_duplicate_backup_restore_table) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {tbl}")
    restore(conn, db, label, repo, ts, "ON ( `test_duplicate_backup_restore_table`)", reserve_replica="true")
    assert count(conn, tbl, by_rows=True) == 15
    sql(conn, f"DROP REPOSITORY `{repo}`")

    # a delete is part of what the next backup holds
    sql(conn, f"DELETE FROM {tbl} WHERE id = 1")
    assert count(conn, tbl, by_rows=True) == 12
    repo = unique("repo")
    create_local_repository(conn, repo, tmp_path / "two")
    label = "test_duplicate_delete_backup_restore_snapshot"
    ts = backup(conn, db, label, repo, 'ON (test_duplicate_backup_restore_table) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {tbl}")
    restore(conn, db, label, repo, ts, "ON ( `test_duplicate_backup_restore_table`)", reserve_replica="true")
    assert count(conn, tbl, by_rows=True) == 12
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_unique_backup_restore(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    db = new_db(conn, "unique_backup_restore_db")
    tbl = f"{db}.test_unique_backup_restore_table"
    sql(
        conn,
        f"""
        CREATE TABLE {tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT NOT NULL DEFAULT "0")
        UNIQUE KEY(`id`)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1
        PROPERTIES (
            "replication_num" = "1",
            "enable_unique_key_merge_on_write" = "true"
        )
        """,
    )
    sql(conn, f"INSERT INTO {tbl} VALUES (1,1),(2,2)")
    assert count(conn, f"{tbl} ORDER BY id", by_rows=True) == 2
    sql(conn, f"INSERT INTO {tbl} VALUES (1,5)")
    repo = unique("repo")
    create_local_repository(conn, repo, tmp_path / "one")
    label = "test_unique_backup_restore_snapshot"
    ts = backup(conn, db, label, repo, 'ON (test_unique_backup_restore_table) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {tbl}")
    restore(conn, db, label, repo, ts, "ON ( `test_unique_backup_restore_table`)", replication_num="1")
    assert [tuple(map(int, r)) for r in sql(conn, f"SELECT * FROM {tbl} ORDER BY id")] == [(1, 5), (2, 2)]
    sql(conn, f"DROP REPOSITORY `{repo}`")

    sql(conn, f"DELETE FROM {tbl} WHERE id = 1")
    assert count(conn, tbl, by_rows=True) == 1
    repo = unique("repo")
    create_local_repository(conn, repo, tmp_path / "two")
    label = "test_unique_delete_backup_restore_snapshot"
    ts = backup(conn, db, label, repo, 'ON (test_unique_backup_restore_table) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {tbl}")
    restore(conn, db, label, repo, ts, "ON ( `test_unique_backup_restore_table`)", replication_num="1")
    assert [tuple(map(int, r)) for r in sql(conn, f"SELECT * FROM {tbl}")] == [(2, 2)]
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_backup_restore_dup_without_default_keys(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_dup_without_default_keys_db")
    tbl = f"{db}.dup_without_keys_table"
    sql(
        conn,
        f"""
        CREATE TABLE {tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT)
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES (
            "replication_num" = "1",
            "enable_duplicate_without_keys_by_default" = "true"
        )
        """,
    )
    sql(conn, f"INSERT INTO {tbl} VALUES {ONES}")
    assert count(conn, tbl, by_rows=True) == 10
    label = "test_backup_restore_dup_without_default_keys_snapshot"
    ts = backup(conn, db, label, repo, "ON (dup_without_keys_table)")
    sql(conn, f"TRUNCATE TABLE {tbl}")
    restore(conn, db, label, repo, ts, "ON (`dup_without_keys_table`)", reserve_replica="true")
    assert count(conn, tbl, by_rows=True) == 10
    create = sql(conn, f"SHOW CREATE TABLE {tbl}")[0][1]
    assert "DUPLICATE KEY" not in create
    assert '"enable_duplicate_without_keys_by_default" = "true"' in create
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_table_auto_bucket(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "backup_restore_table_with_auto_bucket_db")
    tbl = f"{db}.auto_bucket_table"
    sql(
        conn,
        f"""
        CREATE TABLE {tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT)
        DISTRIBUTED BY HASH(`id`) BUCKETS AUTO
        PROPERTIES ("replication_num" = "1")
        """,
    )
    sql(conn, f"INSERT INTO {tbl} VALUES {ONES}")
    assert count(conn, tbl, by_rows=True) == 10
    label = "test_backup_restore_table_auto_bucket_snapshot"
    ts = backup(conn, db, label, repo, "ON (auto_bucket_table)")
    sql(conn, f"DROP TABLE {tbl} FORCE")
    restore(conn, db, label, repo, ts, "ON (`auto_bucket_table`)", replication_num="1")
    create = sql(conn, f"SHOW CREATE TABLE {tbl}")[0][1]
    assert "DISTRIBUTED BY HASH(`id`) BUCKETS AUTO" in create
    assert count(conn, tbl, by_rows=True) == 10
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_version_revert(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "test_backup_restore_version_revert_db")
    name = "test_backup_restore_version_revert_table"
    tbl = f"{db}.{name}"
    sql(conn, agg_table(tbl, buckets=1))
    sql(conn, f"INSERT INTO {tbl} VALUES {ONES}")
    assert count(conn, tbl, by_rows=True) == 10
    origin = sql_dicts(conn, f"SHOW TABLETS FROM {tbl}")[0]["Version"]
    label = "test_backup_restore_version_revert_snapshot"
    sql(conn, f"BACKUP SNAPSHOT {db}.{label} TO `{repo}` ON ({name})")
    wait_snapshot_finish(conn, db)
    sql(conn, f"INSERT INTO {tbl} VALUES {ONES}")
    after = sql_dicts(conn, f"SHOW TABLETS FROM {tbl}")[0]["Version"]
    assert int(after) == int(origin) + 1
    ts = get_snapshot_timestamp(conn, repo, label)
    assert ts is not None
    restore(conn, db, label, repo, ts, f"ON ({name})", reserve_replica="true")
    # the restored partition goes back to the snapshot's version
    assert sql_dicts(conn, f"SHOW TABLETS FROM {tbl}")[0]["Version"] == origin
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
