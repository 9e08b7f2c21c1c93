"""Steps the doris_suites replays share: a connection, a repository, databases, BACKUP/RESTORE, tables.

Doris's backup and restore suites repeat the same moves (a fresh database, the aggregate
``id``/``count`` table with ten rows, a backup awaited until its snapshot is listed, a restore
awaited until it ends); the replays use these so each test reads as its suite's own steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites.syncer import (
    create_local_repository,
    sql,
    unique,
    wait_all_restore_finish,
    wait_restore_end,
    wait_snapshot_timestamp,
)
from tests.dorisbk_server import DorisbkServer

RANGE_PARTITIONS = """PARTITION BY RANGE(`id`)
    (
        PARTITION p1 VALUES LESS THAN ("10"),
        PARTITION p2 VALUES LESS THAN ("20"),
        PARTITION p3 VALUES LESS THAN ("30"),
        PARTITION p4 VALUES LESS THAN ("40"),
        PARTITION p5 VALUES LESS THAN ("50"),
        PARTITION p6 VALUES LESS THAN ("60"),
        PARTITION p7 VALUES LESS THAN ("120")
    )"""
TENS = ",".join(f"({j}0, {j}0)" for j in range(1, 11))
ONES = ",".join(f"({i}, {i})" for i in range(1, 11))
ONE_REPLICA = {"force_olap_table_replication_allocation": "tag.location.default:1"}


def agg_table(name: str, buckets: int = 2, partitions: str = "") -> str:
    """The suites' usual table: ``id`` LARGEINT key, ``count`` LARGEINT SUM, one replica."""
    return f"""
    CREATE TABLE {name} (
        `id` LARGEINT NOT NULL,
        `count` LARGEINT SUM DEFAULT "0"
    )
    AGGREGATE KEY(`id`)
    {partitions}
    DISTRIBUTED BY HASH(`id`) BUCKETS {buckets}
    PROPERTIES ("replication_num" = "1")
"""


def fill_agg_table(conn: pymysql.connections.Connection, table: str, rows: int = 10) -> list[str]:
    """DROP TABLE IF EXISTS, create :func:`agg_table` and insert ``(i, i)`` for i in 1..rows; the VALUES tuples."""
    values = [f"({i}, {i})" for i in range(1, rows + 1)]
    sql(conn, f"DROP TABLE IF EXISTS {table}")
    sql(conn, agg_table(table))
    sql(conn, f"INSERT INTO {table} VALUES {','.join(values)}")
    return values


def open_conn(server: DorisbkServer, **config: str) -> Iterator[pymysql.connections.Connection]:
    """A connection with jobs polled every 50 ms and the frontend ``config`` given."""
    c = server.connect()
    for key, value in {"backup_handler_update_interval_millis": "50", **config}.items():
        sql(c, f'ADMIN SET FRONTEND CONFIG ("{key}" = "{value}")')
    yield c
    c.close()


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    """One connection per module (a module may override ``server``; this uses its own)."""
    yield from open_conn(server)


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
    return wait_snapshot_timestamp(conn, db, repo, label)


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


def ints(found: list[tuple]) -> list[tuple]:
    """Rows with every value as an int (LARGEINT comes back as text), NULL kept as None."""
    return [tuple(None if v is None else int(v) for v in r) for r in found]


def count(conn: pymysql.connections.Connection, table: str, by_rows: bool = False) -> int:
    """COUNT(*) of ``table``, or (``by_rows``) how many rows ``SELECT *`` returns, as most suites check."""
    if by_rows:
        return len(sql(conn, f"SELECT * FROM {table}"))
    return int(sql(conn, f"SELECT COUNT(*) FROM {table}")[0][0])


def create_sql(conn: pymysql.connections.Connection, table: str) -> str:
    return str(sql(conn, f"SHOW CREATE TABLE {table}")[0][1])
