"""Shared steps of the group-C suite replays (atomic restore, replicas, partitions, media, indexes, MVs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites.syncer import (
    create_local_repository,
    get_snapshot_timestamp,
    sql,
    unique,
    wait_all_restore_finish,
    wait_restore_end,
    wait_snapshot_finish,
)
from tests.dorisbk_server import DorisbkServer

AGG_TABLE = """
    CREATE TABLE {name} (
        `id` LARGEINT NOT NULL,
        `count` LARGEINT SUM DEFAULT "0")
    AGGREGATE KEY(`id`)
    DISTRIBUTED BY HASH(`id`) BUCKETS 2
    PROPERTIES ("replication_num" = "1")
"""
RANGE_AGG_TABLE = """
    CREATE TABLE {name} (
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
        PARTITION p7 VALUES LESS THAN ("120")
    )
    DISTRIBUTED BY HASH(`id`) BUCKETS 2
    PROPERTIES ("replication_num" = "1")
"""
TENS = ",".join(f"({j}0, {j}0)" for j in range(1, 11))
ONES = ",".join(f"({i}, {i})" for i in range(1, 11))


def open_conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    """A connection with jobs polled every 50 ms."""
    c = server.connect()
    sql(c, 'ADMIN SET FRONTEND CONFIG ("backup_handler_update_interval_millis" = "50")')
    yield c
    c.close()


@pytest.fixture
def repo(conn: pymysql.connections.Connection, tmp_path: Path) -> str:
    name = unique("repo")
    create_local_repository(conn, name, tmp_path)
    return name


def new_db(conn: pymysql.connections.Connection, prefix: str) -> str:
    db = unique(prefix)
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    return db


def backup(conn: pymysql.connections.Connection, db: str, label: str, repo: str, clause: str = "") -> str:
    """BACKUP, wait for it, and return the snapshot's timestamp as the suites' syncer does."""
    sql(conn, f"BACKUP SNAPSHOT {db}.{label} TO `{repo}` {clause}")
    wait_snapshot_finish(conn, db)
    ts = get_snapshot_timestamp(conn, repo, label)
    assert ts is not None
    return ts


def restore_sql(db: str, label: str, repo: str, ts: str, clause: str = "", **props: str) -> str:
    text = ", ".join(f'"{k}" = "{v}"' for k, v in {"backup_timestamp": ts, **props}.items())
    return f"RESTORE SNAPSHOT {db}.{label} FROM `{repo}` {clause} PROPERTIES ({text})"


def restore(
    conn: pymysql.connections.Connection, db: str, label: str, repo: str, ts: str, clause: str = "", **props: str
) -> None:
    """RESTORE and wait until it FINISHED."""
    sql(conn, restore_sql(db, label, repo, ts, clause, **props))
    wait_all_restore_finish(conn, db)


def restore_ends(
    conn: pymysql.connections.Connection, db: str, label: str, repo: str, ts: str, clause: str = "", **props: str
) -> dict:
    """RESTORE and return its SHOW RESTORE row once it ended (FINISHED or CANCELLED)."""
    sql(conn, restore_sql(db, label, repo, ts, clause, **props))
    return wait_restore_end(conn, db)


def rows(conn: pymysql.connections.Connection, query: str) -> list[tuple]:
    return [tuple(r) for r in sql(conn, query)]


def count(conn: pymysql.connections.Connection, table: str) -> int:
    return int(sql(conn, f"SELECT COUNT(*) FROM {table}")[0][0])


def create_sql(conn: pymysql.connections.Connection, table: str) -> str:
    return str(sql(conn, f"SHOW CREATE TABLE {table}")[0][1])
