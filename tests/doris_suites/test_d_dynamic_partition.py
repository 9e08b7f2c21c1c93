"""Doris's dynamic partition scheduler as the backup suites rely on it: a dynamic-partition table keeps
its window of partitions (future ones added, those before ``start`` dropped) at every
``dynamic_partition_check_interval_seconds`` and right after ALTER TABLE enables it; SHOW DYNAMIC
PARTITION TABLES reports it. A table being restored is left alone, and nothing is dropped while a
backup of its database runs. Also DELETE with one unparenthesized partition and DROP TABLE FORCE on
a table a restore holds.
"""

from __future__ import annotations

import datetime as dt
import time

import pymysql

from tests.doris_suites.suite_support import backup, conn, new_db, repo, restore_sql
from tests.doris_suites.syncer import sql, sql_dicts, sql_error, wait_backup_end, wait_restore_end
from tests.sqlhelp import wait_until

__all__ = ["conn", "repo"]

DAY = dt.timedelta(days=1)


def day(offset: int) -> dt.date:
    return dt.date.today() + offset * DAY


def create_dynamic(conn: pymysql.connections.Connection, table: str, enable: str) -> None:
    """A DAY table keeping 2 days of history and 2 ahead, with one partition 10 days old."""
    old, nxt = day(-10), day(-9)
    sql(conn, f"""CREATE TABLE {table} (k DATE, v INT) DUPLICATE KEY(k)
        PARTITION BY RANGE(k) (PARTITION p_old VALUES [("{old}"), ("{nxt}")))
        DISTRIBUTED BY HASH(k) BUCKETS 1
        PROPERTIES ("replication_num" = "1", "dynamic_partition.enable" = "{enable}",
            "dynamic_partition.time_unit" = "DAY", "dynamic_partition.start" = "-2",
            "dynamic_partition.end" = "2", "dynamic_partition.prefix" = "p",
            "dynamic_partition.buckets" = "2")""")  # fmt: skip


def names(conn: pymysql.connections.Connection, table: str) -> list[str]:
    return [r["PartitionName"] for r in sql_dicts(conn, f"SHOW PARTITIONS FROM {table}")]


def window() -> list[str]:
    return [f"p{day(i):%Y%m%d}" for i in range(0, 3)]


def test_alter_enable_schedules_at_once(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "dyn_alter")
    table = f"{db}.t"
    create_dynamic(conn, table, "false")
    assert names(conn, table) == ["p_old"]
    sql(conn, f'ALTER TABLE {table} SET ("dynamic_partition.enable" = "true")')
    assert names(conn, table) == window()  # p_old is before start (-2 days): dropped
    buckets = {r["PartitionName"]: r["Buckets"] for r in sql_dicts(conn, f"SHOW PARTITIONS FROM {table}")}
    assert set(buckets.values()) == {"2"}
    (row,) = sql_dicts(conn, f"SHOW DYNAMIC PARTITION TABLES FROM {db}")
    assert list(row) == ["TableName", "Enable", "TimeUnit", "Start", "End", "Prefix", "Buckets", "ReplicationNum",
                         "ReplicaAllocation", "StartOf", "LastUpdateTime", "LastSchedulerTime", "State",
                         "LastCreatePartitionMsg", "LastDropPartitionMsg", "ReservedHistoryPeriods"]  # fmt: skip
    assert (row["TableName"], row["Enable"], row["TimeUnit"], row["Start"], row["End"], row["Prefix"]) == (
        "t", "true", "DAY", "-2", "2", "p"
    )  # fmt: skip
    assert (row["Buckets"], row["ReplicationNum"], row["State"], row["StartOf"]) == ("2", "1", "NORMAL", "\\N")
    assert row["LastSchedulerTime"] != "\\N"
    sql(conn, f"USE {db}")
    assert len(sql(conn, "SHOW DYNAMIC PARTITION TABLES")) == 1
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_periodic_pass_respects_restore_and_backup(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "dyn_period")
    table = f"{db}.t"
    create_dynamic(conn, table, "true")
    assert names(conn, table) == ["p_old", *window()]
    sql(conn, f'INSERT INTO {table} VALUES ("{day(-10)}", 1), ("{day(0)}", 2)')
    ts = backup(conn, db, "snap", repo, "ON (t)")
    try:
        # a restore holds the table (RESTORE state): the scheduler leaves it alone
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "RESTORE:DOWNLOADING")')
        sql(conn, restore_sql(db, "snap", repo, ts, "ON (t)"))
        wait_until(lambda: sql_dicts(conn, f"SHOW RESTORE FROM {db}")[-1]["State"] == "DOWNLOADING")
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("dynamic_partition_check_interval_seconds" = "1")')
        time.sleep(1.5)  # more than one period
        assert "p_old" in names(conn, table)
        # DROP TABLE FORCE takes a table a restore holds, as in Doris; the restore then cancels itself
        sql(conn, f"DROP TABLE {table} FORCE")
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
        job = wait_restore_end(conn, db)
        assert job["State"] == "CANCELLED" and "has been dropped" in job["Status"]
        # a backup that has not ended keeps every partition of the database
        create_dynamic(conn, table, "false")
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "BACKUP:SNAPSHOTING")')
        sql(conn, f"BACKUP SNAPSHOT {db}.snap2 TO `{repo}` ON (t)")
        sql(conn, f'ALTER TABLE {table} SET ("dynamic_partition.enable" = "true")')
        assert names(conn, table) == ["p_old", *window()]  # added, but nothing dropped
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
        assert wait_backup_end(conn, db)["State"] == "FINISHED"
        wait_until(lambda: names(conn, table) == window())  # the next pass drops the history
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("dynamic_partition_check_interval_seconds" = "600")')
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_delete_from_one_partition_without_parentheses(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "del_part")
    table = f"{db}.t"
    sql(conn, f"""CREATE TABLE {table} (k INT, v INT) DUPLICATE KEY(k)
        PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ("10"), PARTITION p2 VALUES LESS THAN ("20"))
        DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "1")""")  # fmt: skip
    sql(conn, f"INSERT INTO {table} VALUES (1, 1), (2, 2), (11, 1), (12, 2)")
    sql(conn, f"DELETE FROM {table} PARTITION p1 WHERE v = 1")
    assert sorted(sql(conn, f"SELECT k FROM {table}")) == [(2,), (11,), (12,)]
    sql(conn, f"DELETE FROM {table} PARTITION (p2) WHERE v = 2")
    assert sorted(sql(conn, f"SELECT k FROM {table}")) == [(2,), (11,)]
    assert sql_error(conn, f"DELETE FROM {table} PARTITION p9 WHERE v = 1")[0] != 1064
    sql(conn, f"INSERT INTO {table} VALUES (3, 3), (13, 3), (14, 4)")
    sql(conn, f"DELETE FROM {table} PARTITIONS (p1, p2) WHERE v = 3")
    assert sorted(sql(conn, f"SELECT k FROM {table}")) == [(2,), (11,), (14,)]
    sql(conn, f"DELETE FROM {table} PARTITIONS (p2) WHERE k > 0")  # only p2's rows go
    assert sorted(sql(conn, f"SELECT k FROM {table}")) == [(2,)]
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_user_partition_ddl_refused_while_dynamic(conn: pymysql.connections.Connection) -> None:
    """The scheduler owns a dynamic table's partitions: ADD/DROP PARTITION wait until it is disabled."""
    db = new_db(conn, "dyn_ddl")
    table = f"{db}.t"
    create_dynamic(conn, table, "true")
    refusal = "Cannot add/drop partition on a Dynamic Partition Table, set `dynamic_partition.enable` to false firstly."
    far, after = day(30), day(31)
    add = f'ALTER TABLE {table} ADD PARTITION p_far VALUES [("{far}"), ("{after}"))'
    assert sql_error(conn, add) == (1105, "errCode = 2, detailMessage = " + refusal)
    assert sql_error(conn, f"ALTER TABLE {table} DROP PARTITION {window()[0]}")[1].endswith(refusal)
    sql(conn, f'ALTER TABLE {table} SET ("dynamic_partition.enable" = "false")')
    sql(conn, add)
    sql(conn, f"ALTER TABLE {table} DROP PARTITION p_far")
    sql(conn, f"DROP DATABASE {db} FORCE")
