"""Stop the server (SIGTERM or kill -9) and start it again: every database, table, partition, tablet,
version, row, user and grant is back. The metadata store works on SQLite (default), PostgreSQL and
MariaDB/MySQL URLs."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, one, rows, snapshot

SETUP = [
    "CREATE DATABASE shop",
    "CREATE DATABASE empty_db",
    "USE shop",
    'CREATE TABLE orders (d DATE NOT NULL, id BIGINT NOT NULL, amount DECIMAL(10, 2) DEFAULT "0", '
    "note VARCHAR(20) COMMENT 'free text') DUPLICATE KEY(d, id) "
    "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
    "PARTITION p2 VALUES LESS THAN ('2024-03-01'), PARTITION p3 VALUES [('2024-04-01'), ('2024-05-01'))) "
    "DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ('replication_num' = '2')",
    "CREATE TABLE totals (city VARCHAR(10) NOT NULL, n BIGINT SUM, last_seen DATE REPLACE) AGGREGATE KEY(city) "
    "PARTITION BY LIST(city) (PARTITION p_a VALUES IN ('oslo', 'rome'), PARTITION p_b VALUES IN ('lima')) "
    "DISTRIBUTED BY HASH(city) BUCKETS 2",
    "CREATE TABLE people (id INT, name VARCHAR(20)) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2",
    "INSERT INTO orders VALUES ('2024-01-05', 1, 10.50, 'a'), ('2024-02-07', 2, 20.25, NULL), "
    "('2024-04-09', 3, 1.00, 'c')",
    "INSERT INTO orders SELECT '2024-01-10', number + 100, number, 'gen' FROM numbers('number' = '500')",
    "INSERT INTO totals VALUES ('oslo', 1, '2024-01-01'), ('rome', 2, '2024-01-02'), ('oslo', 5, '2024-02-01')",
    "INSERT INTO totals VALUES ('lima', 7, '2024-03-01')",
    "INSERT INTO people VALUES (1, 'ann'), (2, 'bo')",
    "INSERT INTO people VALUES (1, 'anna')",
    "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100",
    "CREATE TABLE orders_like LIKE orders",
    "ALTER TABLE orders ADD PARTITION p4 VALUES LESS THAN ('2024-06-01')",
    "TRUNCATE TABLE people PARTITION (people)",
    "INSERT INTO people VALUES (3, 'cy')",
    "CREATE TABLE gone (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1",
    "DROP TABLE gone",
    "CREATE USER 'reader'@'%' IDENTIFIED BY 'r-pass'",
    "GRANT SELECT_PRIV ON internal.shop.* TO reader",
    "GRANT LOAD_PRIV ON shop.orders TO reader",
    "CREATE USER loader IDENTIFIED BY 'l-pass'",
    "GRANT ADMIN_PRIV ON *.*.* TO loader",
    "DROP USER loader",
]


def populate(srv: DorisbkServer) -> None:
    with srv.connect() as c:
        for stmt in SETUP:
            rows(c, stmt)


def check_state(srv: DorisbkServer) -> None:
    """The things the SETUP statements promise, checked by value (not only by comparison)."""
    with srv.connect(user="reader", password="r-pass", database="shop") as c:
        assert one(c, "SELECT count(*) FROM orders") == 503
        assert rows(c, "SELECT * FROM totals ORDER BY city") == [
            ("lima", 7, __import__("datetime").date(2024, 3, 1)),
            ("oslo", 6, __import__("datetime").date(2024, 2, 1)),
            ("rome", 2, __import__("datetime").date(2024, 1, 2)),
        ]
        assert rows(c, "SELECT * FROM people ORDER BY id") == [(3, "cy")]
        assert one(c, "SELECT count(*) FROM big_orders") == 399
    with pytest.raises(pymysql.err.OperationalError) as info:
        srv.connect(user="loader", password="l-pass")
    assert info.value.args[0] == 1045
    with srv.connect() as c:
        parts = {p["PartitionName"]: p for p in dicts(c, "SHOW PARTITIONS FROM shop.orders")}
        assert list(parts) == ["p1", "p2", "p3", "p4"]
        assert [parts[n]["VisibleVersion"] for n in parts] == ["3", "2", "2", "1"]
        assert [parts[n]["RowCount"] for n in parts] == ["501", "1", "1", "0"]
        assert "gone" not in [r[0] for r in rows(c, "SHOW TABLES FROM shop")]


def restart_keeps_everything(srv: DorisbkServer, sig: int) -> None:
    before = snapshot(srv)
    srv.restart(sig)
    after = snapshot(srv)
    assert after == before
    check_state(srv)


@pytest.fixture
def two_backends(tmp_path: Path) -> Iterator[DorisbkServer]:
    srv = DorisbkServer(tmp_path / "data", backends=2).start()
    yield srv
    srv.stop()


def test_sigterm_and_kill9_keep_everything(two_backends: DorisbkServer) -> None:
    populate(two_backends)
    check_state(two_backends)
    assert two_backends.stop(signal.SIGTERM) == 0  # clean shutdown on SIGTERM
    two_backends.start()
    check_state(two_backends)
    restart_keeps_everything(two_backends, signal.SIGTERM)
    restart_keeps_everything(two_backends, signal.SIGKILL)
    # and the restarted server keeps working: new ids do not collide with old ones
    with two_backends.connect(database="shop") as c:
        before_ids = {r["TabletId"] for r in dicts(c, "SHOW TABLETS FROM orders")}
        rows(c, "CREATE TABLE after_restart (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2")
        rows(c, "INSERT INTO orders VALUES ('2024-05-05', 9, 9, 'new')")
        new_ids = {r["TabletId"] for r in dicts(c, "SHOW TABLETS FROM after_restart")}
        assert not before_ids & new_ids
        assert one(c, "SELECT count(*) FROM orders") == 504


def test_more_backends_on_restart_keeps_old_ones(tmp_path: Path) -> None:
    srv = DorisbkServer(tmp_path / "data", backends=1).start()
    try:
        with srv.connect() as c:
            rows(c, "CREATE DATABASE grow")
            rows(c, "CREATE TABLE grow.t (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2")
            rows(c, "INSERT INTO grow.t VALUES (1), (2), (3)")
            first = dicts(c, "SHOW BACKENDS")[0]["BackendId"]
        srv.stop()
        srv.backends = 3
        srv.start()
        with srv.connect() as c:
            backends = dicts(c, "SHOW BACKENDS")
            assert len(backends) == 3 and backends[0]["BackendId"] == first
            assert one(c, "SELECT count(*) FROM grow.t") == 3
            rows(c, "CREATE TABLE grow.t3 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num'='3')")
    finally:
        srv.stop()


# ---- other metadata stores


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    name = f"dorisbk_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    except pymysql.err.MySQLError as exc:
        pytest.skip(f"MariaDB at 127.0.0.1:3306 not usable: {exc}")
    with admin:
        rows(admin, f"CREATE DATABASE {name}")
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
        rows(admin, f"DROP DATABASE IF EXISTS {name}")


@pytest.mark.parametrize("store", ["postgres_url", "mariadb_url"])
def test_meta_url_stores(store: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = request.getfixturevalue(store)
    srv = DorisbkServer(tmp_path / "data", backends=2, meta_url=url).start()
    try:
        populate(srv)
        check_state(srv)
        assert not (srv.data_dir / "meta.db").exists()  # the catalog lives in the URL's database
        restart_keeps_everything(srv, signal.SIGKILL)
    finally:
        srv.stop()
