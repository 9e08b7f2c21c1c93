"""Each key model reads as in Doris: DUPLICATE KEY keeps every row, UNIQUE KEY keeps the latest
version of each key, AGGREGATE KEY merges rows with SUM / MIN / MAX / REPLACE / REPLACE_IF_NOT_NULL,
across loads (versions) and within one load."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, one, partitions, rows


@pytest.fixture(scope="module")
def conn(server: DorisbkServer):
    with server.connect() as c:
        rows(c, "CREATE DATABASE km")
        rows(c, "USE km")
        yield c


def test_duplicate_key_keeps_every_row(conn) -> None:
    rows(conn, "CREATE TABLE dup (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    rows(conn, "INSERT INTO dup VALUES (1, 10), (1, 10), (2, 20)")
    rows(conn, "INSERT INTO dup VALUES (1, 11)")
    assert rows(conn, "SELECT k, v FROM dup ORDER BY k, v") == [(1, 10), (1, 10), (1, 11), (2, 20)]
    assert one(conn, "SELECT count(*) FROM dup") == 4
    assert rows(conn, "SELECT k, count(*), sum(v) FROM dup GROUP BY k ORDER BY k") == [(1, 3, 31), (2, 1, 20)]


def test_unique_key_keeps_the_latest_version(conn) -> None:
    rows(
        conn,
        "CREATE TABLE users (id INT NOT NULL, city VARCHAR(10), score DECIMAL(6, 2), seen DATETIME) UNIQUE KEY(id) "
        "DISTRIBUTED BY HASH(id) BUCKETS 3",
    )
    rows(conn, "INSERT INTO users VALUES (1, 'oslo', 1.5, '2024-01-01 00:00:00'), (2, 'rome', 2.5, NULL)")
    rows(conn, "INSERT INTO users VALUES (1, 'lima', NULL, '2024-02-01 10:00:00'), (3, 'kyiv', 3.0, NULL)")
    rows(conn, "INSERT INTO users (id, city) VALUES (2, 'nice')")  # the whole row is replaced
    assert rows(conn, "SELECT * FROM users ORDER BY id") == [
        (1, "lima", None, dt.datetime(2024, 2, 1, 10, 0)),
        (2, "nice", None, None),
        (3, "kyiv", decimal.Decimal("3.00"), None),
    ]
    assert one(conn, "SELECT count(*) FROM users") == 3
    # a filter on a value column sees only the latest value of each key
    assert rows(conn, "SELECT id FROM users WHERE city = 'oslo'") == []
    assert rows(conn, "SELECT id FROM users WHERE city IN ('lima', 'rome') ORDER BY id") == [(1,)]
    # within one load the later row of a key wins
    rows(conn, "INSERT INTO users (id, city) VALUES (5, 'first'), (5, 'second'), (5, 'third')")
    assert rows(conn, "SELECT city FROM users WHERE id = 5") == [("third",)]
    # on disk every version is kept; only the read merges them
    assert int(partitions(conn, "users")["users"]["RowCount"]) == 2 + 2 + 1 + 3


def test_unique_key_at_scale(conn) -> None:
    rows(conn, "CREATE TABLE uniq_big (k BIGINT, v BIGINT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
    rows(conn, "INSERT INTO uniq_big SELECT number % 50000, number FROM numbers('number' = '200000')")
    rows(conn, "INSERT INTO uniq_big SELECT number, -1 FROM numbers('number' = '1000')")
    assert one(conn, "SELECT count(*) FROM uniq_big") == 50000
    assert one(conn, "SELECT count(*) FROM uniq_big WHERE v = -1") == 1000
    # the last row of each key in the first load is number = 150000 + k
    assert one(conn, "SELECT min(v) FROM uniq_big WHERE k >= 1000") == 151000
    assert one(conn, "SELECT max(v) FROM uniq_big") == 199999


def test_aggregate_key_merges_with_its_functions(conn) -> None:
    rows(
        conn,
        'CREATE TABLE stats (d DATE NOT NULL, site VARCHAR(10) NOT NULL, hits BIGINT SUM DEFAULT "0", '
        "lo INT MIN, hi INT MAX, last_ua VARCHAR(10) REPLACE, keep VARCHAR(10) REPLACE_IF_NOT_NULL, "
        "spend DECIMAL(10, 2) SUM) AGGREGATE KEY(d, site) "
        "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(site) BUCKETS 2",
    )
    rows(
        conn,
        "INSERT INTO stats VALUES ('2024-01-01', 'a', 1, 5, 5, 'ua1', 'k1', 1.10), "
        "('2024-01-01', 'a', 2, 3, 9, 'ua2', NULL, 2.20), ('2024-01-01', 'b', 10, 1, 1, 'x', 'kb', 0.01)",
    )
    rows(conn, "INSERT INTO stats VALUES ('2024-01-01', 'a', 4, 4, 7, NULL, NULL, 3.30)")
    rows(conn, "INSERT INTO stats VALUES ('2024-02-02', 'a', 100, 0, 0, 'feb', 'kf', 0.00)")
    got = dicts(conn, "SELECT * FROM stats ORDER BY d, site")
    assert got == [
        {"d": dt.date(2024, 1, 1), "site": "a", "hits": 7, "lo": 3, "hi": 9, "last_ua": None, "keep": "k1",
         "spend": decimal.Decimal("6.60")},
        {"d": dt.date(2024, 1, 1), "site": "b", "hits": 10, "lo": 1, "hi": 1, "last_ua": "x", "keep": "kb",
         "spend": decimal.Decimal("0.01")},
        {"d": dt.date(2024, 2, 2), "site": "a", "hits": 100, "lo": 0, "hi": 0, "last_ua": "feb", "keep": "kf",
         "spend": decimal.Decimal("0.00")},
    ]  # fmt: skip
    assert one(conn, "SELECT count(*) FROM stats") == 3
    # predicates on value columns apply to merged rows, as in Doris
    assert rows(conn, "SELECT site FROM stats WHERE hits > 5 AND d < '2024-02-01' ORDER BY site") == [("a",), ("b",)]
    assert rows(conn, "SELECT site, sum(hits) FROM stats GROUP BY site ORDER BY site") == [("a", 107), ("b", 10)]
    # a default fills a SUM column that a load leaves out
    rows(conn, "INSERT INTO stats (d, site, lo) VALUES ('2024-01-01', 'b', -5)")
    assert rows(conn, "SELECT hits, lo, last_ua FROM stats WHERE site = 'b'") == [(10, -5, None)]


def test_aggregate_key_without_explicit_keys_clause(conn) -> None:
    # columns with an aggregate make it an AGGREGATE KEY table; the other columns are its keys
    rows(conn, "CREATE TABLE implicit_agg (k1 INT, k2 VARCHAR(5), v BIGINT SUM) DISTRIBUTED BY HASH(k1) BUCKETS 1")
    create = rows(conn, "SHOW CREATE TABLE implicit_agg")[0][1]
    assert "AGGREGATE KEY(`k1`, `k2`)" in create
    rows(conn, "INSERT INTO implicit_agg VALUES (1, 'a', 1), (1, 'a', 2), (1, 'b', 3)")
    assert rows(conn, "SELECT * FROM implicit_agg ORDER BY k2") == [(1, "a", 3), (1, "b", 3)]


def test_aggregate_key_at_scale_across_loads(conn) -> None:
    rows(conn, "CREATE TABLE agg_big (k INT, total BIGINT SUM, smallest BIGINT MIN, largest BIGINT MAX) "
               "AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")  # fmt: skip
    for _ in range(3):
        rows(conn, "INSERT INTO agg_big SELECT number % 1000, number, number, number FROM numbers('number' = '100000')")
    assert one(conn, "SELECT count(*) FROM agg_big") == 1000
    k = 7
    nums = range(k, 100000, 1000)
    assert rows(conn, f"SELECT total, smallest, largest FROM agg_big WHERE k = {k}") == [
        (3 * sum(nums), min(nums), max(nums))
    ]
    assert one(conn, "SELECT sum(total) FROM agg_big") == 3 * sum(range(100000))
    assert {p["VisibleVersion"] for p in partitions(conn, "agg_big").values()} == {"4"}
