"""Doris's ``test_backup_restore_retention_count`` replayed, with AUTO PARTITION tables around it.

An ``AUTO PARTITION BY RANGE (date_trunc(k0, 'day'))`` table gets one partition per day its rows
fall in (``p20200101000000`` ...), ``AUTO PARTITION BY LIST`` one per value (``pBeijing7``);
``partition.retention_count`` is kept through ALTER TABLE, SHOW CREATE TABLE, backup and restore,
and the partition scheduler drops the history partitions past it.
"""

from __future__ import annotations

import time

import pymysql

from tests.doris_suites.suite_support import backup, conn, count, create_sql, new_db, repo, restore, rows
from tests.doris_suites.syncer import sql, sql_error

__all__ = ["conn", "repo"]

AUTO_RANGE = """
    CREATE TABLE {name} (
        k0 DATETIME NOT NULL
    )
    AUTO PARTITION BY RANGE (date_trunc(k0, 'day')) ()
    DISTRIBUTED BY HASH(`k0`) BUCKETS 1
    PROPERTIES (
        "replication_num" = "1",
        "partition.retention_count" = "5"
    )
"""
AUTO_LIST = """
    CREATE TABLE {name} (
        city VARCHAR(20) NOT NULL,
        id INT NOT NULL
    )
    DUPLICATE KEY(city)
    AUTO PARTITION BY LIST (city) ()
    DISTRIBUTED BY HASH(id) BUCKETS 2
    PROPERTIES ("replication_num" = "1")
"""


def partition_names(conn: pymysql.connections.Connection, table: str) -> list[str]:
    return [r[1] for r in sql(conn, f"SHOW PARTITIONS FROM {table}")]


def test_retention_count_survives_backup_and_recycles(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "retention")
    table = f"{db}.retention_table"
    sql(conn, AUTO_RANGE.format(name=table))
    assert partition_names(conn, table) == []
    sql(
        conn,
        f"INSERT INTO {table} SELECT date_add('2020-01-01 00:00:00', interval number day) "
        'FROM numbers("number" = "10")',
    )
    assert partition_names(conn, table) == [f"p202001{d:02d}000000" for d in range(1, 11)]
    sql(conn, f"alter table {table}  set ('partition.retention_count' = '4')")
    shown = create_sql(conn, table)
    assert '"partition.retention_count" = "4"' in shown
    assert "AUTO PARTITION BY RANGE (date_trunc(`k0`, 'day'))" in shown
    assert 'PARTITION p20200101000000 VALUES [("2020-01-01 00:00:00"), ("2020-01-02 00:00:00"))' in shown

    ts = backup(conn, db, "snap", repo, "ON (retention_table)")
    sql(conn, f"DROP TABLE {table} FORCE")
    restore(conn, db, "snap", repo, ts, reserve_replica="true")
    assert '"partition.retention_count" = "4"' in create_sql(conn, table)
    assert len(partition_names(conn, table)) == 10

    sql(conn, "admin set frontend config ('dynamic_partition_check_interval_seconds' = '1')")
    try:
        deadline = time.monotonic() + 10
        while len(partition_names(conn, table)) != 4 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        sql(conn, "admin set frontend config ('dynamic_partition_check_interval_seconds' = '600')")
    assert partition_names(conn, table) == [f"p202001{d:02d}000000" for d in range(7, 11)]
    got = [str(r[0]) for r in rows(conn, f"SELECT * FROM {table} ORDER BY k0")]
    assert got == [f"2020-01-{d:02d} 00:00:00" for d in range(7, 11)]
    # a load into the table after restore still creates what it needs
    sql(conn, f"INSERT INTO {table} VALUES ('2020-01-10 12:00:00'), ('2021-03-05 08:30:00')")
    assert partition_names(conn, table)[-1] == "p20210305000000"
    assert count(conn, table) == 6


def test_auto_list_partitions_named_as_doris_names_them(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "autolist")
    table = f"{db}.cities"
    sql(conn, AUTO_LIST.format(name=table))
    sql(conn, f"INSERT INTO {table} VALUES ('Beijing', 1), ('Beijing', 2), ('a b', 3), ('-x', 4)")
    assert sorted(partition_names(conn, table)) == sorted(["pBeijing7", "pa20b3", "p_2dx2"])
    sql(conn, f"INSERT INTO {table} VALUES ('Beijing', 5), ('Shanghai', 6)")
    assert sorted(partition_names(conn, table)) == sorted(["pBeijing7", "pa20b3", "p_2dx2", "pShanghai8"])
    assert rows(conn, f"SELECT id FROM {table} WHERE city = 'Beijing' ORDER BY id") == [(1,), (2,), (5,)]
    shown = create_sql(conn, table)
    assert "AUTO PARTITION BY LIST (`city`)" in shown
    assert 'PARTITION pBeijing7 VALUES IN ("Beijing")' in shown

    # the table SHOW CREATE TABLE describes can be created again, and a restore keeps it automatic
    copy = shown.replace("CREATE TABLE `cities`", f"CREATE TABLE {db}.cities_copy")
    sql(conn, copy)
    assert len(partition_names(conn, f"{db}.cities_copy")) == 4
    ts = backup(conn, db, "lists", repo, "ON (cities)")
    restore(conn, db, "lists", repo, ts, "ON (cities AS cities_back)", reserve_replica="true")
    sql(conn, f"INSERT INTO {db}.cities_back VALUES ('Xian', 7)")
    assert "pXian4" in partition_names(conn, f"{db}.cities_back")
    assert count(conn, f"{db}.cities_back") == 7


def test_auto_partition_checks_and_failed_loads(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "autochecks")
    _, message = sql_error(
        conn,
        f"CREATE TABLE {db}.bad (k DATE NOT NULL) AUTO PARTITION BY RANGE (k) () "
        'DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "1")',
    )
    assert "only support FunctionCallExpr" in message
    _, message = sql_error(
        conn,
        f"CREATE TABLE {db}.bad (k DATE NOT NULL) AUTO PARTITION BY RANGE (date_trunc(k, 'fortnight')) () "
        'DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "1")',
    )
    assert "time unit" in message
    table = f"{db}.months"
    sql(
        conn,
        f"CREATE TABLE {table} (k DATE NOT NULL, v INT) AUTO PARTITION BY RANGE (date_trunc(k, 'month')) "
        "(PARTITION p_old VALUES [('2000-01-01'), ('2024-01-01'))) "
        'DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "1")',
    )
    sql(conn, f"INSERT INTO {table} VALUES ('2023-05-05', 1), ('2024-02-29', 2), ('2024-12-31', 3)")
    assert partition_names(conn, table) == ["p_old", "p20240201000000", "p20241201000000"]
    parts = {r[1]: r[6] for r in sql(conn, f"SHOW PARTITIONS FROM {table}")}
    assert "keys: [2024-12-01]; ..types:" in parts["p20241201000000"]
    assert parts["p20241201000000"].endswith("keys: [2025-01-01]; )")
    # a row the load refuses creates no partition
    sql_error(conn, f"INSERT INTO {table} VALUES ('2030-01-01', 1), (NULL, 2)")
    assert partition_names(conn, table) == ["p_old", "p20240201000000", "p20241201000000"]
    assert count(conn, table) == 3
