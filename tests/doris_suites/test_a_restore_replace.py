"""Doris's suites about restoring over what exists: views, atomic_restore with force_replace over a
table of another schema / partition type / partition range or a changed view, clean_tables /
clean_partitions, a schema that does not match (and aliases to get around it), and
auto-increment columns.

Each test follows one suite of ``regression-test/suites/backup_restore`` statement by statement
(with a LOCAL repository instead of S3) and checks what the suite checks.
"""

from __future__ import annotations

import pymysql
import pytest

from tests.doris_suites.suite_support import agg_table, backup, conn, ints, new_db, repo, restore, restore_sql
from tests.doris_suites.syncer import (
    sql,
    sql_dicts,
    unique,
    wait_all_restore_finish,
    wait_restore_end,
)

__all__ = ["conn", "repo"]


def test_backup_restore_with_view(conn: pymysql.connections.Connection, repo: str) -> None:
    db, db1 = new_db(conn, "backup_restore_with_view_db"), new_db(conn, "backup_restore_with_view_db_1")
    tbl, view = "backup_restore_with_view_table", "backup_restore_with_view_view"
    sql(conn, f"DROP TABLE IF EXISTS {db}.{tbl} FORCE")
    sql(conn, f"DROP VIEW IF EXISTS {db}.{view}")
    sql(conn, agg_table(f"{db}.{tbl}"))
    sql(conn, f"INSERT INTO {db}.{tbl} VALUES {','.join(f'({j}, {j})' for j in range(1, 11))}")
    sql(conn, f"CREATE VIEW {db}.{view} (id, count) AS SELECT * FROM {db}.{tbl} WHERE count > 5")
    assert ints(sql(conn, f"SELECT * FROM {db}.{tbl} ORDER BY id ASC")) == [(j, j) for j in range(1, 11)]
    assert ints(sql(conn, f"SELECT * FROM {db}.{view} ORDER BY id ASC")) == [(j, j) for j in range(6, 11)]
    label = "backup_restore_with_view_snapshot"
    ts = backup(conn, db, label, repo)

    sql(conn, f"DROP TABLE IF EXISTS {db1}.{tbl} FORCE")
    sql(conn, f"DROP VIEW IF EXISTS {db1}.{view}")
    restore(conn, db1, label, repo, ts, reserve_replica="true")
    assert ints(sql(conn, f"SELECT * FROM {db1}.{tbl} ORDER BY id ASC")) == [(j, j) for j in range(1, 11)]
    assert ints(sql(conn, f"SELECT * FROM {db1}.{view} ORDER BY id ASC")) == [(j, j) for j in range(6, 11)]
    shown = sql_dicts(conn, f"SHOW VIEW FROM {tbl} FROM {db1}")
    assert len(shown) == 1
    # the restored view reads the table of the database it was restored into
    assert db1 in shown[0]["Create View"] and tbl in shown[0]["Create View"]

    # the same snapshot again over the restored view: same signature, so it is kept
    restore(conn, db1, label, repo, ts, reserve_replica="true")
    last = sql_dicts(conn, f'SHOW RESTORE FROM {db1} WHERE Label ="{label}"')
    assert last[-1]["State"] == "FINISHED"
    assert len(sql(conn, f"SHOW VIEW FROM {db1}.{tbl}")) > 0
    for d in (db, db1):
        sql(conn, f"DROP TABLE {d}.{tbl} FORCE")
        sql(conn, f"DROP VIEW {d}.{view}")
        sql(conn, f"DROP DATABASE {d} FORCE")


def test_backup_restore_force_replace_diff_column(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "force_replace_diff_column")
    tbl = "test_backup_restore_force_replace_diff_column_tables_0"
    sql(
        conn,
        f"""
        CREATE TABLE {db}.{tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT SUM DEFAULT "0"
        )
        PARTITION BY RANGE(`id`)
        (
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    label = unique("test_backup_restore_force_replace_diff_column_snapshot")
    ts = backup(conn, db, label, repo, f"ON ( {tbl} )")
    sql(conn, f"DROP TABLE {db}.{tbl}")
    sql(
        conn,
        f"""
        CREATE TABLE {db}.{tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT DEFAULT "0",
            `desc` VARCHAR(20) DEFAULT ""
        )
        PARTITION BY RANGE(`id`)
        (
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    restore(conn, db, label, repo, ts, reserve_replica="true", atomic_restore="true", force_replace="true")
    sql(conn, "sync")
    assert len(sql(conn, f"desc {db}.{tbl}")) == 2


def test_backup_restore_force_replace_diff_part_type(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "force_replace_diff_part_type")
    tbl = "test_backup_restore_force_replace_diff_part_type_tables_0"
    sql(conn, agg_table(f"{db}.{tbl}", partitions="PARTITION BY LIST(`id`)\n(\n)"))
    label = unique("test_backup_restore_force_replace_diff_part_type_snapshot")
    ts = backup(conn, db, label, repo, f"ON ( {tbl} )")
    sql(conn, f"DROP TABLE {db}.{tbl}")
    sql(
        conn,
        f"""
        CREATE TABLE {db}.{tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT DEFAULT "0"
        )
        AGGREGATE KEY(`id`, `count`)
        PARTITION BY RANGE(`id`)
        (
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    restore(conn, db, label, repo, ts, reserve_replica="true", atomic_restore="true", force_replace="true")
    sql(conn, "sync")
    assert "PARTITION BY LIST (`id`)" in sql(conn, f"show create table {db}.{tbl}")[0][1]


def test_backup_restore_force_replace_diff_part_val(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "force_replace_diff_part_val")
    tbl = "test_backup_restore_force_replace_diff_part_val_tables_0"
    part = 'PARTITION BY RANGE(`id`)\n(\nPARTITION p0 VALUES LESS THAN ("10")\n)'
    sql(conn, agg_table(f"{db}.{tbl}", partitions=part))
    label = unique("test_backup_restore_force_replace_diff_part_val_snapshot")
    ts = backup(conn, db, label, repo, f"ON ( {tbl} )")
    sql(conn, f"DROP TABLE {db}.{tbl}")
    sql(
        conn,
        f"""
        CREATE TABLE {db}.{tbl} (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT DEFAULT "0"
        )
        AGGREGATE KEY(`id`, `count`)
        PARTITION BY RANGE(`id`, `count`)
        (
            PARTITION p0 VALUES LESS THAN ("100")
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    restore(conn, db, label, repo, ts, reserve_replica="true", atomic_restore="true", force_replace="true")
    sql(conn, "sync")
    shown = sql_dicts(conn, f"SHOW PARTITIONS FROM {db}.{tbl} where PartitionName = 'p0'")
    assert [p["Range"] for p in shown] == [
        "[types: [LARGEINT]; keys: [-170141183460469231731687303715884105728]; ..types: [LARGEINT]; keys: [10]; )"
    ]


def test_backup_restore_force_replace_diff_view(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "force_replace_diff_view")
    tbl = "test_backup_restore_force_replace_diff_view_tables_0"
    sql(
        conn,
        f"""
        CREATE TABLE {db}.{tbl} (
            `id` LARGEINT NOT NULL,
            `k1` INT,
            `k2` INT
        )
        DUPLICATE KEY(`id`)
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    sql(conn, f"CREATE VIEW {db}.{tbl}_view AS SELECT k1 FROM {db}.{tbl}")
    label = unique("test_backup_restore_force_replace_diff_view_snapshot")
    ts = backup(conn, db, label, repo, f"ON ( {tbl}_view )")
    sql(conn, f"ALTER VIEW {db}.{tbl}_view AS SELECT k2 FROM {db}.{tbl}")
    assert "k2" in sql(conn, f"SHOW CREATE VIEW {db}.{tbl}_view")[0][1]
    restore(conn, db, label, repo, ts, reserve_replica="true", atomic_restore="true", force_replace="true")
    assert "k1" in sql(conn, f"SHOW CREATE VIEW {db}.{tbl}_view")[0][1]


def test_backup_restore_clean_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "test_backup_restore_clean_restore_db")
    prefix = "test_backup_restore_clean_restore_tables"
    parts = """PARTITION BY RANGE(`id`)
        (
            PARTITION `p1` VALUES LESS THAN ("0"),
            PARTITION `p2` VALUES LESS THAN ("10"),
            PARTITION `p3` VALUES LESS THAN ("20")
        )"""
    values = ",".join(f"({j}, {j})" for j in range(20))
    for i in (1, 2, 3):
        sql(conn, f"DROP TABLE IF EXISTS {db}.{prefix}_{i}")
        sql(conn, agg_table(f"{db}.{prefix}_{i}", partitions=parts))
        sql(conn, f"INSERT INTO {db}.{prefix}_{i} VALUES {values}")
        assert len(sql(conn, f"SELECT * FROM {db}.{prefix}_{i}")) == 20
    view1, view2 = f"{prefix}_4", f"{prefix}_5"
    for view, source in ((view1, 1), (view2, 3)):
        sql(conn, f"DROP VIEW IF EXISTS {db}.{view}")
        sql(
            conn,
            f"CREATE VIEW {db}.{view} (k1, k2) AS SELECT id as k1, count as k2 FROM {db}.{prefix}_{source} "
            "WHERE id in (1,3,5,7,9)",
        )
    label = "test_backup_restore_clean_restore_snapshot"
    ts = backup(conn, db, label, repo)
    clause = f"ON ( `{prefix}_1`, `{prefix}_2` PARTITION (`p3`), `{view1}` )"
    restore(conn, db, label, repo, ts, clause, reserve_replica="true", clean_tables="true", clean_partitions="true")
    assert len(sql(conn, f"SELECT * FROM {db}.{prefix}_1")) == 20
    # only p3 of table 2 was restored, and its other partitions were cleaned
    assert len(sql(conn, f"SELECT * FROM {db}.{prefix}_2")) == 10
    assert len(sql(conn, f"SHOW VIEW FROM {prefix}_1 FROM {db}")) == 1
    assert sql(conn, f'SHOW TABLE STATUS FROM {db} LIKE "{view2}"') == []
    assert sql(conn, f'SHOW TABLE STATUS FROM {db} LIKE "{prefix}_3"') == []
    sql(conn, f"DROP VIEW {db}.{view1}")
    sql(conn, f"DROP TABLE {db}.{prefix}_1 FORCE")
    sql(conn, f"DROP TABLE {db}.{prefix}_2 FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def wait_restore_error(conn: pymysql.connections.Connection, db: str, text: str) -> None:
    """The newest restore of ``db`` was cancelled with ``text`` in its Status."""
    job = wait_restore_end(conn, db)
    assert job["State"] == "CANCELLED" and text in job["Status"], job


def test_backup_restore_schema_not_consist(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "test_backup_restore_schema_not_consist_db")
    table = """
        CREATE TABLE IF NOT EXISTS {db}.{name}(
          `{k}` int NULL,
          `{v}` int NULL
        ) ENGINE = OLAP
        DISTRIBUTED BY HASH({k}) BUCKETS 4
        PROPERTIES ("replication_num" = "1");
    """
    for name in ("t1", "t2"):
        sql(conn, table.format(db=db, name=name, k="k", v="v"))
    sql(conn, f"insert into {db}.t1 values (1, 1), (2, 2), (3, 3);")
    sql(conn, f"insert into {db}.t2 values (4, 4), (5, 5), (6, 6);")
    label = unique("test_backup_restore_schema_not_consist_snapshot")
    ts = backup(conn, db, label, repo, "ON (t1, t2)")
    for name in ("t1", "t2"):
        sql(conn, f"drop table {db}.{name}")
        sql(conn, table.format(db=db, name=name, k="k1", v="v1"))

    def schema(name: str) -> str:
        create = sql(conn, f"show create table {db}.{name}")[0][1]
        return "new" if "`k1` int NULL" in create else "old" if "`k` int NULL" in create else create

    assert (schema("t1"), schema("t2")) == ("new", "new")
    mismatch = "already exist but with different schema"
    sql(conn, restore_sql(db, label, repo, ts, "ON ( `t1`, `t2`)", reserve_replica="true"))
    wait_restore_error(conn, db, mismatch)
    assert (schema("t1"), schema("t2")) == ("new", "new")
    # the job already ended: there is nothing left to cancel
    with pytest.raises(pymysql.err.MySQLError):
        sql(conn, f" CANCEL RESTORE FROM {db} ")

    sql(conn, restore_sql(db, label, repo, ts, "ON ( `t1` as `alias_t1`, `t2`)", reserve_replica="true"))
    wait_restore_error(conn, db, mismatch)
    assert (schema("t1"), schema("t2")) == ("new", "new")
    # a failed restore leaves no table behind, not even the one it was to create under an alias
    assert sql(conn, f"SHOW TABLES FROM {db} LIKE 'alias_t1'") == []

    sql(conn, restore_sql(db, label, repo, ts, "ON ( `t1` as `alias_t1`, `t2` as `alias_t2`)", reserve_replica="true"))
    wait_all_restore_finish(conn, db)
    sql(conn, f" alter table {db}.t1 replace with table alias_t1 PROPERTIES('swap' = 'false'); ")
    sql(conn, f" alter table {db}.t2 replace with table alias_t2 PROPERTIES('swap' = 'false'); ")
    assert (schema("t1"), schema("t2")) == ("old", "old")
    assert ints(sql(conn, f"SELECT * FROM {db}.t1 ORDER BY k")) == [(1, 1), (2, 2), (3, 3)]
    assert sql(conn, f"SHOW TABLES FROM {db} LIKE 'alias_t%'") == []
    sql(conn, f"DROP TABLE {db}.t1 FORCE")
    sql(conn, f"DROP TABLE {db}.t2 FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_auto_inc(conn: pymysql.connections.Connection, repo: str) -> None:
    db, db2, db3 = (new_db(conn, f"test_backup_restore_auto_inc_db{n}") for n in ("", "2", "3"))
    tbl = "test_backup_restore_auto_inc_tbl1"
    auto_table = """
        CREATE TABLE {name} (
            `id` BIGINT NOT NULL{auto},
            `val` int)
        UNIQUE KEY(`id`)
        DISTRIBUTED BY HASH(`id`) BUCKETS 1
        PROPERTIES("replication_num" = "1")
    """
    five = 'INSERT INTO {name}(val) select number from numbers("number"="5"); '

    def distinct(name: str) -> int:
        return int(sql(conn, f"select count(distinct id) from {name};")[0][0])

    sql(conn, f"DROP TABLE IF EXISTS {db}.{tbl} force")
    sql(conn, auto_table.format(name=f"{db}.{tbl}", auto=" AUTO_INCREMENT"))
    sql(conn, five.format(name=f"{db}.{tbl}"))
    assert distinct(f"{db}.{tbl}") == 5
    label = "test_backup_restore_auto_inc_snapshot"
    ts = backup(conn, db, label, repo)

    # 1. into a new table: the ids restored stay unique after later loads
    sql(conn, f"DROP TABLE IF EXISTS {db2}.{tbl} FORCE;")
    restore(conn, db2, label, repo, ts, f"ON (`{tbl}`)", reserve_replica="true")
    assert distinct(f"{db2}.{tbl}") == 5
    sql(conn, five.format(name=f"{db2}.{tbl}"))
    assert distinct(f"{db2}.{tbl}") == 10

    # 2.1 into the existing table whose next id is higher
    sql(conn, five.format(name=f"{db}.{tbl}"))
    assert distinct(f"{db}.{tbl}") == 10
    restore(conn, db, label, repo, ts, f"ON ( `{tbl}`)", reserve_replica="true")
    assert distinct(f"{db}.{tbl}") == 5
    sql(conn, five.format(name=f"{db}.{tbl}"))
    assert distinct(f"{db}.{tbl}") == 10

    # 2.2 into an existing table whose next id is lower
    sql(conn, f"DROP TABLE IF EXISTS {db}.{tbl} force")
    sql(conn, auto_table.format(name=f"{db}.{tbl}", auto=" AUTO_INCREMENT"))
    restore(conn, db, label, repo, ts, f"ON ( `{tbl}`)", reserve_replica="true")
    assert distinct(f"{db}.{tbl}") == 5
    sql(conn, five.format(name=f"{db}.{tbl}"))
    assert distinct(f"{db}.{tbl}") == 10

    # 3. a local table without the auto-increment column refuses the snapshot's
    sql(conn, f"DROP TABLE IF EXISTS {db3}.{tbl} force")
    sql(conn, auto_table.format(name=f"{db3}.{tbl}", auto=""))
    sql(conn, restore_sql(db3, label, repo, ts, f"ON ( `{tbl}`)", reserve_replica="true"))
    wait_restore_end(conn, db3)
    res = sql_dicts(conn, f"show restore from {db3}")
    assert len(res) == 1
    assert res[0]["State"] == "CANCELLED"
    assert (
        f"Table {tbl} already exists but with different schema, local table doesn't have auto-increment "
        "column but remote table has" in res[0]["Status"]
    )
    for d in (db, db2, db3):
        sql(conn, f"DROP TABLE IF EXISTS {d}.{tbl} FORCE")
        sql(conn, f"DROP DATABASE IF EXISTS {d} FORCE")
