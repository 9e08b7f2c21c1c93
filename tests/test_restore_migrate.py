"""Migration between two servers: the second one creates a repository on the same location, sees the
first one's snapshots, and restores them with identical query results (LOCAL and S3 repositories)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    described,
    doris_err,
    q,
)
from tests.s3server import S3Server, s3_server
from tests.test_restore_support import (
    backup,
    fast,
    finished,
    restore_sql,
    rows_of,
    tables,
    versions,
)

QUERIES = (
    "SELECT * FROM {db}.orders ORDER BY id",
    "SELECT * FROM {db}.customers ORDER BY cid",
    "SELECT * FROM {db}.big_orders ORDER BY id",
    "SELECT cid, count(*), sum(amount), min(day), max(day) FROM {db}.orders GROUP BY cid ORDER BY cid",
    "SELECT c.name, sum(o.amount) FROM {db}.orders o JOIN {db}.customers c ON o.cid = c.cid "
    "GROUP BY c.name ORDER BY c.name",
    "SELECT count(*) FROM {db}.orders WHERE day >= '2024-02-01'",
)


def results(conn: pymysql.connections.Connection, db: str) -> list[list[tuple]]:
    return [q(conn, sql.format(db=db)) for sql in QUERIES]


def load_shop(conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE shop")
    q(
        conn,
        "CREATE TABLE shop.orders (id BIGINT, day DATE, cid INT, amount DECIMAL(12, 2), note VARCHAR(40)) "
        "DUPLICATE KEY(id) PARTITION BY RANGE(day) ("
        "PARTITION p202401 VALUES [('2024-01-01'), ('2024-02-01')), "
        "PARTITION p202402 VALUES [('2024-02-01'), ('2024-03-01'))) "
        "DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ('replication_num' = '1')",
    )
    q(
        conn,
        "CREATE TABLE shop.customers (cid INT, name VARCHAR(20), vip BOOLEAN, since DATETIME) UNIQUE KEY(cid) "
        "DISTRIBUTED BY HASH(cid) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )

    def note(i: int) -> str:
        return "NULL" if i % 5 == 0 else f"'n{i}'"

    orders = ", ".join(
        f"({i}, '2024-0{1 + i % 2}-{1 + i % 28:02d}', {i % 4}, {i * 3.25:.2f}, {note(i)})" for i in range(40)
    )
    q(conn, f"INSERT INTO shop.orders VALUES {orders}")
    q(conn, "INSERT INTO shop.orders VALUES (100, '2024-01-15', 1, 1000.50, 'big')")
    q(
        conn,
        "INSERT INTO shop.customers VALUES (0, 'ann', true, '2020-01-01 10:00:00'), (1, 'bob', false, NULL), "
        "(2, 'cyd', NULL, '2021-06-30 23:59:59'), (3, 'dee', true, '2022-02-02 02:02:02')",
    )
    q(conn, "INSERT INTO shop.customers VALUES (1, 'bob', true, '2023-03-03 03:03:03')")  # an update
    q(conn, "CREATE VIEW shop.big_orders AS SELECT id, cid, amount FROM shop.orders WHERE amount > 100")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two servers with their own data dirs; ``a`` holds the shop database and backs it up."""
    a = DorisbkServer(tmp_path_factory.mktemp("a") / "data").start()
    b = DorisbkServer(tmp_path_factory.mktemp("b") / "data").start()
    location: Path = tmp_path_factory.mktemp("shared") / "backups"
    ca, cb = a.connect(), b.connect()
    fast(ca)
    fast(cb)
    q(ca, f'CREATE REPOSITORY shared WITH LOCAL ON LOCATION "file://{location}"')
    load_shop(ca)
    ts = backup(ca, "shop", "shop_day1", "shared")
    yield {"a": a, "b": b, "ca": ca, "cb": cb, "location": location, "ts": ts}
    ca.close()
    cb.close()
    a.stop()
    b.stop()


def test_second_server_sees_the_snapshots(pair: dict) -> None:
    ca, cb = pair["ca"], pair["cb"]
    q(cb, f'CREATE REPOSITORY shared WITH LOCAL ON LOCATION "file://{pair["location"]}"')
    assert q(cb, "SHOW SNAPSHOT ON shared") == q(ca, "SHOW SNAPSHOT ON shared")
    assert q(cb, 'SHOW SNAPSHOT ON shared WHERE SNAPSHOT = "shop_day1"') == [("shop_day1", pair["ts"], "OK")]
    detail_sql = f'SHOW SNAPSHOT ON shared WHERE SNAPSHOT = "shop_day1" AND TIMESTAMP = "{pair["ts"]}"'
    names, found = described(cb, detail_sql)
    assert names == ["Snapshot", "Timestamp", "Database", "Details", "Status"]
    assert found == q(ca, detail_sql)
    details = json.loads(found[0][3])
    assert details["database"] == "shop"
    assert sorted(t["name"] for t in details["olap_table_list"]) == ["customers", "orders"]
    assert [v["name"] for v in details["view_list"]] == ["big_orders"]
    # the repository's name is part of its path: another name on the same location is another repository
    q(cb, f'CREATE REPOSITORY elsewhere WITH LOCAL ON LOCATION "file://{pair["location"]}"')
    assert q(cb, "SHOW SNAPSHOT ON elsewhere") == []


def test_migrate_database(pair: dict) -> None:
    ca, cb = pair["ca"], pair["cb"]
    q(cb, "CREATE DATABASE shop")
    q(cb, restore_sql("shop", "shop_day1", "shared", pair["ts"]))
    finished(cb, "shop")
    assert tables(cb, "shop") == tables(ca, "shop") == ["big_orders", "customers", "orders"]
    assert results(cb, "shop") == results(ca, "shop")
    for table in ("orders", "customers"):
        assert versions(cb, f"shop.{table}") == versions(ca, f"shop.{table}")
        assert [r[:6] for r in q(cb, f"DESC shop.{table}")] == [r[:6] for r in q(ca, f"DESC shop.{table}")]
        create_a = q(ca, f"SHOW CREATE TABLE shop.{table}")[0][1]
        create_b = q(cb, f"SHOW CREATE TABLE shop.{table}")[0][1]
        assert create_b == create_a
    assert q(cb, "SHOW CREATE VIEW shop.big_orders")[0][1] == q(ca, "SHOW CREATE VIEW shop.big_orders")[0][1]


def test_migrate_the_next_day(pair: dict) -> None:
    """New loads and a new partition on the first server reach the second with a later snapshot,
    restored over the tables the first migration made."""
    ca, cb = pair["ca"], pair["cb"]
    if "orders" not in tables(cb, "shop"):
        pytest.skip("needs test_migrate_database")
    q(ca, "ALTER TABLE shop.orders ADD PARTITION p202403 VALUES [('2024-03-01'), ('2024-04-01'))")
    q(ca, "INSERT INTO shop.orders VALUES (200, '2024-03-05', 2, 12.00, 'march'), (201, '2024-02-27', 3, 1.00, NULL)")
    q(ca, "INSERT INTO shop.customers VALUES (4, 'eve', false, NULL)")
    ts = backup(ca, "shop", "shop_day2", "shared")
    assert sorted(r[0] for r in q(cb, "SHOW SNAPSHOT ON shared")) == ["shop_day1", "shop_day2"]
    q(cb, restore_sql("shop", "shop_day2", "shared", ts))
    finished(cb, "shop")
    assert results(cb, "shop") == results(ca, "shop")
    assert sorted(versions(cb, "shop.orders")) == ["p202401", "p202402", "p202403"]
    assert versions(cb, "shop.orders") == versions(ca, "shop.orders")


def test_migrate_under_another_database_name(pair: dict) -> None:
    ca, cb = pair["ca"], pair["cb"]
    q(cb, "CREATE DATABASE shop_copy")
    q(cb, restore_sql("shop_copy", "shop_day1", "shared", pair["ts"], "ON (orders, customers, big_orders AS big)"))
    finished(cb, "shop_copy")
    assert tables(cb, "shop_copy") == ["big", "customers", "orders"]
    view = q(cb, "SHOW CREATE VIEW shop_copy.big")[0][1]
    assert "shop_copy" in view and "shop." not in view.replace("`", "")
    # the first server's state at day 1 is what its day-1 snapshot holds
    day1 = [r for r in rows_of(ca, "shop.orders") if r[0] < 200]
    assert rows_of(cb, "shop_copy.orders") == day1
    assert rows_of(cb, "shop_copy.big") == sorted(((r[0], r[2], r[3]) for r in day1 if r[3] > 100), key=repr)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


def test_migrate_through_s3(pair: dict, s3: S3Server) -> None:
    ca, cb = pair["ca"], pair["cb"]
    location = f"s3://{s3.bucket}/migrate-{uuid.uuid4().hex[:8]}"
    props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
    create = f'CREATE REPOSITORY s3repo WITH S3 ON LOCATION "{location}" PROPERTIES ({props})'
    q(ca, create)
    ts = backup(ca, "shop", "via_s3", "s3repo")
    # the second server only reads the repository
    q(cb, create.replace("CREATE REPOSITORY", "CREATE READ ONLY REPOSITORY"))
    assert q(cb, 'SHOW SNAPSHOT ON s3repo WHERE SNAPSHOT = "via_s3"') == [("via_s3", ts, "OK")]
    q(cb, "CREATE DATABASE shop_s3")
    q(cb, restore_sql("shop_s3", "via_s3", "s3repo", ts))
    finished(cb, "shop_s3", timeout=60)
    assert results(cb, "shop_s3") == results(ca, "shop")
    assert doris_err(cb, "BACKUP SNAPSHOT shop_s3.nope TO s3repo") == "Repository s3repo is read only"
