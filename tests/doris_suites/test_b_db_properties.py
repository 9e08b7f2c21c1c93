"""Doris suites ``test_backup_store_with_db_properties`` and ``..._kv``: a database created with
PROPERTIES keeps them in SHOW CREATE DATABASE through a whole-database backup and restore.

The suites read ``force_olap_table_replication_num`` with ADMIN SHOW FRONTEND CONFIG to pick
their replica count; it is 0 here (not forced), so they ask for one replica.
"""

from __future__ import annotations

from pathlib import Path

import pymysql

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import conn
from tests.doris_suites.syncer import sql

__all__ = ["conn"]


def replay(conn: pymysql.connections.Connection, tmp_path: Path, suite: str, db_props: str) -> str:
    """Create the database with ``db_props``, ten tables, back it all up, truncate, restore.
    Returns SHOW CREATE DATABASE's text from before the backup (checked equal after the restore)."""
    db, repo, label = f"{suite}_db", syncer.unique(f"{suite}_repo"), f"{suite}_snapshot"
    row = sql(conn, "ADMIN SHOW FRONTEND CONFIG LIKE 'force_olap_table_replication_num'")
    forced = int(row[0][1])
    replica_num = forced if forced > 0 else 1
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    sql(conn, f"DROP DATABASE IF EXISTS {db} FORCE")
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}\nPROPERTIES ({db_props.format(n=replica_num)})")
    origin = sql(conn, f"SHOW CREATE DATABASE {db}")
    assert f"tag.location.default:{replica_num}" in str(origin)

    tables = [f"{suite}_t{i}" for i in range(10)]
    for table in tables:
        sql(conn, f"DROP TABLE IF EXISTS {db}.{table} FORCE")
        sql(
            conn,
            f"""CREATE TABLE {db}.{table} (`id` LARGEINT NOT NULL)
            AGGREGATE KEY(`id`) DISTRIBUTED BY HASH(`id`) BUCKETS 2
            PROPERTIES ("replication_allocation" = "tag.location.default:{replica_num}")""",
        )
        sql(conn, f"INSERT INTO {db}.{table} VALUES {','.join(f'({j})' for j in range(1, 11))}")
        assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == 10

    sql(conn, f"BACKUP SNAPSHOT {db}.{label}\nTO `{repo}`")
    snapshot = syncer.wait_snapshot_timestamp(conn, db, repo, label)
    for table in tables:
        sql(conn, f"TRUNCATE TABLE {db}.{table}")
    sql(
        conn,
        f"""RESTORE SNAPSHOT {db}.{label} FROM `{repo}`
        PROPERTIES ("backup_timestamp" = "{snapshot}", "reserve_replica" = "true")""",
    )
    syncer.wait_all_restore_finish(conn, db)
    assert sql(conn, f"SHOW CREATE DATABASE {db}") == origin
    for table in tables:
        assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == 10
        sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")
    return origin[0][1]


def test_store_with_db_properties(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    text = replay(
        conn, tmp_path, "test_backup_store_with_db_properties", '"replication_allocation" = "tag.location.default:{n}"'
    )
    assert text == (
        "CREATE DATABASE `test_backup_store_with_db_properties_db`\n"
        'PROPERTIES (\n"replication_allocation" = "tag.location.default:1"\n)'
    )


def test_store_with_db_properties_kv(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    text = replay(
        conn,
        tmp_path,
        "test_backup_store_with_db_properties_kv",
        '\n"replication_allocation" = "tag.location.default:{n}",\n"test_key" = "test_value"\n',
    )
    assert '"test_key" = "test_value"' in text.lower()
