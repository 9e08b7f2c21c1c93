"""Doris's partition-property suites replayed: ``test_backup_restore_reserve_dynamic_partition_true``,
``..._false``, ``..._with_two_phase_fetch_opt`` (dynamic partitions, ``FROM .. TO .. INTERVAL``) and
``..._backup_temp_partition``.

A dynamic-partition table is created with its partitions around today; a restore keeps
``dynamic_partition.enable`` only with ``reserve_dynamic_partition_enable``; a table with temporary
partitions cannot be backed up.
"""

from __future__ import annotations

import datetime as dt

import pymysql
import pytest

from tests.doris_suites.suite_support import backup, conn, count, create_sql, new_db, repo, restore
from tests.doris_suites.syncer import sql, sql_error

__all__ = ["conn", "repo"]

DYNAMIC_TABLE = """
    CREATE TABLE {name}  (
        `id` LARGEINT NOT NULL,
        `sdate` DATE
    )
    PARTITION BY RANGE(sdate)()
    DISTRIBUTED BY HASH(`id`) BUCKETS 2
    PROPERTIES
    (
        "dynamic_partition.enable" = "true",
        "dynamic_partition.time_unit" = "YEAR",
        "dynamic_partition.start" = "-50",
        "dynamic_partition.end" = "5",
        "dynamic_partition.prefix" = "p",
        "dynamic_partition.create_history_partition" = "true",
        "replication_num" = "1"
    )
"""
ROWS = ",".join(f'({i},"{d}")' for d in ("2023-11-01", "2023-11-02", "2024-11-01", "2024-11-02") for i in range(1, 6))


@pytest.mark.parametrize("reserve", ["true", "false"])
def test_reserve_dynamic_partition(conn: pymysql.connections.Connection, repo: str, reserve: str) -> None:
    db = new_db(conn, "dynamic")
    table = f"{db}.dynamic_partition_table"
    sql(conn, DYNAMIC_TABLE.format(name=table))
    year = dt.date.today().year
    names = [r[1] for r in sql(conn, f"SHOW PARTITIONS FROM {table}")]
    assert names == [f"p{y}" for y in range(year - 50, year + 6)]
    sql(conn, f"INSERT INTO {table} VALUES {ROWS}")
    assert count(conn, table) == 20
    ts = backup(conn, db, "snap", repo, "ON (dynamic_partition_table)")
    sql(conn, f"DROP TABLE {table} FORCE")
    restore(
        conn,
        db,
        "snap",
        repo,
        ts,
        "ON (`dynamic_partition_table`)",
        reserve_dynamic_partition_enable=reserve,
        reserve_replica="true",
    )
    assert count(conn, table) == 20
    shown = create_sql(conn, table)
    assert f'"dynamic_partition.enable" = "{reserve}"' in shown
    for prop in (
        '"dynamic_partition.time_unit" = "YEAR"',
        '"dynamic_partition.start" = "-50"',
        '"dynamic_partition.end" = "5"',
        '"dynamic_partition.prefix" = "p"',
        '"dynamic_partition.create_history_partition" = "true"',
    ):
        assert prop in shown
    sql(conn, f"DROP TABLE {table} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_two_phase_fetch_table(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "two_phase")
    table = f"{db}.tbl"
    sql(
        conn,
        f"""
        CREATE TABLE {table} (
            `distinct_id` varchar(255) NULL,
            `dt` date NULL,
            `device_id` text NULL,
            `ep_user_id` bigint(20) NULL,
            `ts` text NULL
        ) ENGINE=OLAP
        DUPLICATE KEY(`distinct_id`, `dt`)
        COMMENT 'OLAP'
        PARTITION BY RANGE (dt)(
         FROM ("2023-12-01") TO ("2023-12-25") INTERVAL 1 DAY
        )
        DISTRIBUTED BY HASH(`distinct_id`) BUCKETS AUTO
        PROPERTIES (
            "replication_allocation" = "tag.location.default: 1",
            "dynamic_partition.enable" = "true",
            "dynamic_partition.time_unit" = "DAY",
            "dynamic_partition.end" = "3",
            "dynamic_partition.prefix" = "p"
        );
        """,
    )
    names = [r[1] for r in sql(conn, f"SHOW PARTITIONS FROM {table}")]
    today = dt.date.today()
    assert names[:24] == [f"p_202312{d:02d}" for d in range(1, 25)]
    assert names[24:] == [f"p{(today + dt.timedelta(days=i)).strftime('%Y%m%d')}" for i in range(4)]
    days = ["2023-12-01", "2023-12-01", "2023-12-02", "2023-12-03", "2023-12-04", "2023-12-04"]
    values = ",".join(f'("{1231 + i}", "{d}", "device_id", 123123, "ts")' for i, d in enumerate(days))
    sql(conn, f"INSERT INTO {table} VALUES {values}")
    assert len(sql(conn, f"SELECT * FROM {table} ORDER BY dt DESC LIMIT 5")) == 5
    ts = backup(conn, db, "snap", repo, "ON (tbl)")
    sql(conn, f"DROP TABLE {table} FORCE")
    restore(conn, db, "snap", repo, ts, "ON ( `tbl`)", reserve_dynamic_partition_enable="true", reserve_replica="true")
    assert len(sql(conn, f"SELECT * FROM {table} ORDER BY dt DESC LIMIT 5")) == 5


def test_backup_refuses_temp_partitions(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "temp_part")
    sql(
        conn,
        f"""
        CREATE TABLE {db}.t (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT SUM DEFAULT "0")
        AGGREGATE KEY(`id`)
        PARTITION BY RANGE(`id`)
        (
            PARTITION p1 VALUES LESS THAN ("10"),
            PARTITION p6 VALUES LESS THAN ("60"),
            PARTITION p7 VALUES LESS THAN MAXVALUE
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    sql(conn, f"INSERT INTO {db}.t VALUES " + ",".join(f"({i}, {i})" for i in range(1, 11)))
    assert count(conn, f"{db}.t") == 10
    sql(conn, f'ALTER TABLE {db}.t ADD TEMPORARY PARTITION tp1 VALUES LESS THAN ("70")')
    assert [r[1] for r in sql(conn, f"SHOW TEMPORARY PARTITIONS FROM {db}.t")] == ["tp1"]
    assert [r[1] for r in sql(conn, f"SHOW PARTITIONS FROM {db}.t")] == ["p1", "p6", "p7"]
    err = sql_error(conn, f"BACKUP SNAPSHOT {db}.snap TO `{repo}` ON (t)")[1]
    assert "Do not support backup table with temp partitions" in err
    assert count(conn, f"{db}.t") == 10
    sql(conn, f"DROP TABLE {db}.t FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
