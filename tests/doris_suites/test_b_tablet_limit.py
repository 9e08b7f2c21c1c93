"""Doris suite ``test_backup_restore_tablet_limit``: ``max_backup_tablets_per_job`` cancels a backup
and a restore that involve more tablets; ``max_concurrent_snapshot_tasks_total`` applies only with
``enable_table_level_backup_concurrency``. The suite reads each knob's value first and puts it
back at the end, which the knobs must therefore exist for.
"""

from __future__ import annotations

from pathlib import Path

import pymysql

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import conn
from tests.doris_suites.syncer import sql
from tests.jobkit import set_config

__all__ = ["conn"]

SUITE = "test_backup_restore_tablet_limit"


def last_backup(conn: pymysql.connections.Connection, db: str) -> tuple:
    rows = sql(conn, f"SHOW BACKUP FROM {db}")
    assert rows
    return rows[-1]


def test_tablet_limit(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    db, table, label = f"{SUITE}_db", f"{SUITE}_table", f"{SUITE}_snapshot"
    originals = {
        key: sql(conn, f" ADMIN SHOW FRONTEND CONFIG LIKE '{key}' ")[0][1]
        for key in (
            "max_backup_tablets_per_job",
            "enable_table_level_backup_concurrency",
            "max_concurrent_snapshot_tasks_total",
        )
    }
    assert originals == {
        "max_backup_tablets_per_job": "300000",
        "enable_table_level_backup_concurrency": "false",
        "max_concurrent_snapshot_tasks_total": "100000",
    }
    repo = syncer.unique(f"{SUITE}_repo")
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    sql(conn, f"DROP TABLE IF EXISTS {db}.{table}")
    sql(
        conn,
        f"""CREATE TABLE {db}.{table} (`id` LARGEINT NOT NULL, `count` LARGEINT SUM DEFAULT "0")
        AGGREGATE KEY(`id`) DISTRIBUTED BY HASH(`id`) BUCKETS 2 PROPERTIES ("replication_num" = "1")""",
    )
    sql(conn, f"INSERT INTO {db}.{table} VALUES {','.join(f'({i}, {i})' for i in range(1, 11))}")
    assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == 10

    # 1: the per-job cap cancels the backup
    try:
        set_config(conn, "max_backup_tablets_per_job", "0")
        sql(conn, f"BACKUP SNAPSHOT {db}.{label}_limit TO `{repo}` ON ({table})")
        syncer.wait_backup_end(conn, db)
        row = last_backup(conn, db)
        assert row[3] == "CANCELLED" and "exceeds the limit" in row[12]
    finally:
        set_config(conn, "max_backup_tablets_per_job", originals["max_backup_tablets_per_job"])

    # 2: in concurrent mode the global cap (1 task) is below the table's 2 tablets
    try:
        set_config(conn, "enable_table_level_backup_concurrency", "true")
        set_config(conn, "max_concurrent_snapshot_tasks_total", "1")
        sql(conn, f"BACKUP SNAPSHOT {db}.{label}_global TO `{repo}` ON ({table})")
        syncer.wait_backup_end(conn, db)
        row = last_backup(conn, db)
        assert row[3] == "CANCELLED" and "would exceed the limit" in row[12]
    finally:
        set_config(conn, "max_concurrent_snapshot_tasks_total", originals["max_concurrent_snapshot_tasks_total"])
        set_config(conn, "enable_table_level_backup_concurrency", originals["enable_table_level_backup_concurrency"])

    # 3: without concurrency the global cap is ignored
    try:
        set_config(conn, "enable_table_level_backup_concurrency", "false")
        set_config(conn, "max_concurrent_snapshot_tasks_total", "1")
        sql(conn, f"BACKUP SNAPSHOT {db}.{label}_bypass TO `{repo}` ON ({table})")
        syncer.wait_backup_end(conn, db)
        assert last_backup(conn, db)[3] == "FINISHED"
    finally:
        set_config(conn, "max_concurrent_snapshot_tasks_total", originals["max_concurrent_snapshot_tasks_total"])
        set_config(conn, "enable_table_level_backup_concurrency", originals["enable_table_level_backup_concurrency"])

    # 4: default limits, a normal round trip
    normal = f"{label}_normal"
    sql(conn, f"BACKUP SNAPSHOT {db}.{normal} TO `{repo}` ON ({table})")
    syncer.wait_snapshot_finish(conn, db)
    snapshot = syncer.get_snapshot_timestamp(conn, repo, normal)
    assert snapshot is not None
    sql(conn, f"TRUNCATE TABLE {db}.{table}")
    restore = f"""RESTORE SNAPSHOT {db}.{normal} FROM `{repo}` ON ( `{table}`)
        PROPERTIES ("backup_timestamp" = "{snapshot}", "reserve_replica" = "true")"""
    sql(conn, restore)
    syncer.wait_all_restore_finish(conn, db)
    assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == 10

    # 5: the per-job cap cancels a restore too, before it touches the table
    try:
        set_config(conn, "max_backup_tablets_per_job", "0")
        sql(conn, f"TRUNCATE TABLE {db}.{table}")
        sql(conn, restore)
        syncer.wait_restore_end(conn, db)
        last = sql(conn, f"SHOW RESTORE FROM {db}")[-1]
        assert last[4] == "CANCELLED" and "exceeds the limit" in last[19]
        assert sql(conn, f"SHOW CREATE TABLE {db}.{table}")
    finally:
        set_config(conn, "max_backup_tablets_per_job", originals["max_backup_tablets_per_job"])

    sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")
