"""Loads and queries on real tablets: rows routed to partitions and buckets, versions moving,
numbers(), the usual SELECT shapes over DuckDB, partition pruning seen in EXPLAIN, failed loads that
leave nothing behind, and TRUNCATE / DROP taking data (and files) away."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import time
from pathlib import Path

import duckdb
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, expect_error, one, partitions, rows, tablets

N = 200_000
DAYS = 121  # 2024-01-01 .. 2024-04-30
START = dt.date(2024, 1, 1)
MONTHS = {"p202401": (1, 31), "p202402": (32, 60), "p202403": (61, 91), "p202404": (92, 121)}  # day numbers, 1-based

SALES = """
CREATE TABLE sales (
  d DATE NOT NULL,
  id BIGINT NOT NULL,
  shop INT NOT NULL,
  amount DECIMAL(10, 2),
  note VARCHAR(20)
) DUPLICATE KEY(d, id)
PARTITION BY RANGE(d) (
  PARTITION p202401 VALUES LESS THAN ("2024-02-01"),
  PARTITION p202402 VALUES LESS THAN ("2024-03-01"),
  PARTITION p202403 VALUES LESS THAN ("2024-04-01"),
  PARTITION p202404 VALUES LESS THAN ("2024-05-01")
)
DISTRIBUTED BY HASH(id) BUCKETS 4
"""
LOAD_SALES = (
    "INSERT INTO sales SELECT date_add('2024-01-01', INTERVAL number % 121 DAY), number, number % 10, "
    '(number % 1000) / 10, concat(\'n\', number % 7) FROM numbers("number" = "200000")'
)


def day_of(n: int) -> dt.date:
    return START + dt.timedelta(days=n % DAYS)


def expected_month_counts() -> dict[str, int]:
    out = dict.fromkeys(MONTHS, 0)
    for n in range(N):
        day = n % DAYS + 1
        for name, (lo, hi) in MONTHS.items():
            if lo <= day <= hi:
                out[name] += 1
    return out


@pytest.fixture(scope="module")
def conn(server: DorisbkServer):
    with server.connect() as c:
        rows(c, "CREATE DATABASE lq")
        rows(c, "USE lq")
        rows(c, SALES)
        rows(c, LOAD_SALES)
        rows(c, "CREATE DATABASE lq_dim")
        rows(
            c,
            "CREATE TABLE lq_dim.shops (shop INT, name VARCHAR(20), region VARCHAR(10)) "
            "DISTRIBUTED BY HASH(shop) BUCKETS 1",
        )
        rows(c, "INSERT INTO lq_dim.shops SELECT number, concat('shop', number), if(number < 5, 'north', 'south') "
                "FROM numbers('number' = '10')")  # fmt: skip
        yield c


def parquet_files(root: Path) -> set[str]:
    return {str(p) for p in root.glob("be/*/data/*/*.parquet")}


def test_rows_are_routed_to_partitions_and_buckets(server: DorisbkServer, conn) -> None:
    expected = expected_month_counts()
    parts = partitions(conn, "sales")
    assert {name: int(p["RowCount"]) for name, p in parts.items()} == expected
    assert sum(expected.values()) == N
    all_tablets = tablets(conn, "sales")
    assert len(all_tablets) == 16
    per_partition: dict[str, int] = {}
    lookup = duckdb.connect()
    for name, p in parts.items():
        mine = dicts(conn, f"SHOW TABLETS FROM sales PARTITION ({name})")
        assert len(mine) == 4
        assert sum(int(t["RowCount"]) for t in mine) == int(p["RowCount"])  # per-tablet counts add up
        per_partition[name] = sum(int(t["RowCount"]) for t in mine)
        lo, hi = MONTHS[name]
        seen_ids: set[int] = set()
        for t in mine:
            assert int(t["RowCount"]) > N // 40  # the hash spreads rows over every bucket
            files = sorted(Path(t["Path"]).glob("*.parquet"))
            assert len(files) == int(t["VersionCount"]) == 1
            got = lookup.execute(
                f"SELECT min(d), max(d), count(*), list(id) FROM read_parquet({[str(f) for f in files]})"
            ).fetchone()
            assert START + dt.timedelta(days=lo - 1) <= got[0] <= got[1] <= START + dt.timedelta(days=hi - 1)
            assert got[2] == int(t["RowCount"])
            ids = set(got[3])
            assert not ids & seen_ids  # one id lives in exactly one bucket
            seen_ids |= ids
        assert len(seen_ids) == expected[name]
    assert one(conn, "SELECT count(*) FROM sales") == N
    sales_files = {f for t in all_tablets for f in map(str, Path(t["Path"]).glob("*.parquet"))}
    assert len(sales_files) == 16 and sales_files <= parquet_files(server.data_dir)


def test_same_keys_go_to_the_same_buckets(conn) -> None:
    rows(conn, "CREATE TABLE rehash (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 5")
    rows(conn, "INSERT INTO rehash SELECT number, 1 FROM numbers('number' = '5000')")
    first = {t["TabletId"]: int(t["RowCount"]) for t in tablets(conn, "rehash")}
    rows(conn, "INSERT INTO rehash SELECT number, 2 FROM numbers('number' = '5000')")
    second = {t["TabletId"]: int(t["RowCount"]) for t in tablets(conn, "rehash")}
    assert second == {k: 2 * v for k, v in first.items()}
    rows(conn, "CREATE TABLE scatter (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY RANDOM BUCKETS 3")
    rows(conn, "INSERT INTO scatter SELECT number, number FROM numbers('number' = '3000')")
    counts = [int(t["RowCount"]) for t in tablets(conn, "scatter")]
    assert sum(counts) == 3000 and all(c > 0 for c in counts)


def test_versions_move_per_touched_partition(conn) -> None:
    rows(
        conn,
        "CREATE TABLE ver (d DATE, v INT) PARTITION BY RANGE(d) (PARTITION a VALUES LESS THAN ('2024-02-01'), "
        "PARTITION b VALUES LESS THAN ('2024-03-01'), PARTITION c VALUES LESS THAN ('2024-04-01')) "
        "DISTRIBUTED BY HASH(v) BUCKETS 2",
    )
    versions = lambda: {n: int(p["VisibleVersion"]) for n, p in partitions(conn, "ver").items()}  # noqa: E731
    assert versions() == {"a": 1, "b": 1, "c": 1}
    before = partitions(conn, "ver")
    time.sleep(1.1)  # VisibleVersionTime has one-second resolution
    rows(conn, "INSERT INTO ver VALUES ('2024-01-05', 1)")
    assert versions() == {"a": 2, "b": 1, "c": 1}
    after = partitions(conn, "ver")
    assert after["a"]["VisibleVersionTime"] > before["a"]["VisibleVersionTime"]
    assert after["b"]["VisibleVersionTime"] == before["b"]["VisibleVersionTime"]
    assert after["a"]["CommittedVersion"] == "2"
    rows(conn, "INSERT INTO ver VALUES ('2024-01-06', 2), ('2024-03-07', 3), ('2024-03-08', 4)")
    assert versions() == {"a": 3, "b": 1, "c": 2}
    rows(conn, "INSERT INTO ver SELECT d, v FROM ver WHERE v > 100")  # an empty load publishes nothing
    assert versions() == {"a": 3, "b": 1, "c": 2}
    for t in dicts(conn, "SHOW TABLETS FROM ver PARTITION (a)"):
        assert t["Version"] == "3" and t["LstSuccessVersion"] == "3"
        assert int(t["VersionCount"]) == len(list(Path(t["Path"]).glob("*.parquet")))
    a = partitions(conn, "ver")["a"]
    assert a["RowCount"] == "2"
    assert a["DataSize"].endswith(("KB", "MB")) or float(a["DataSize"]) > 0


def test_numbers_in_both_quote_styles(conn) -> None:
    assert one(conn, 'SELECT count(*) FROM numbers("number" = "12345")') == 12345
    assert one(conn, "SELECT count(*) FROM numbers('number' = '12345')") == 12345
    assert one(conn, "SELECT count(*) FROM numbers('number'='0')") == 0
    assert rows(conn, 'SELECT number FROM numbers("number" = "3") ORDER BY number') == [(0,), (1,), (2,)]
    assert columns(conn, "SELECT * FROM numbers('number' = '1')") == ["number"]
    assert one(conn, "SELECT sum(n.number) FROM numbers('number' = '100') AS n") == 4950
    rows(conn, "CREATE TABLE nums (k BIGINT) DISTRIBUTED BY HASH(k) BUCKETS 2")
    rows(conn, 'INSERT INTO nums SELECT number FROM numbers("number" = "1000")')
    with conn.cursor() as cur:
        assert cur.execute("INSERT INTO nums SELECT number FROM numbers('number' = '1000')") == 1000
        assert cur.execute("INSERT INTO nums SELECT k FROM nums WHERE k < 0") == 0
        assert cur.execute("SELECT 1") == 1
    assert rows(conn, "SELECT count(*), count(DISTINCT k) FROM nums") == [(2000, 1000)]
    expect_error(conn, "SELECT * FROM numbers('number' = 'many')", 1105, "number")


def test_insert_forms(conn) -> None:
    rows(
        conn,
        'CREATE TABLE forms (d DATE NOT NULL, k INT NOT NULL, v INT DEFAULT "7", s VARCHAR(5)) '
        "DUPLICATE KEY(d, k) PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(k) BUCKETS 2",
    )
    with conn.cursor() as cur:  # the OK packet of an INSERT carries its row count
        assert cur.execute("INSERT INTO forms (k, d) VALUES (1, '2024-01-01')") == 1
        assert cur.rowcount == 1
    rows(conn, "INSERT INTO forms PARTITION (p2) (d, k, s) VALUES ('2024-02-02', 2, 'x')")
    rows(conn, "INSERT INTO forms PARTITION (p1, p2) SELECT '2024-01-03', 3, 3, 'y'")
    assert rows(conn, "SELECT * FROM forms ORDER BY k") == [
        (dt.date(2024, 1, 1), 1, 7, None),
        (dt.date(2024, 2, 2), 2, 7, "x"),
        (dt.date(2024, 1, 3), 3, 3, "y"),
    ]
    expect_error(
        conn,
        "INSERT INTO forms PARTITION (p2) VALUES ('2024-01-09', 9, 9, 'z')",
        1105,
        "no partition for this tuple",
    )
    expect_error(conn, "INSERT INTO forms (k) VALUES (5)", 1105, "no default value")
    expect_error(conn, "INSERT INTO forms VALUES ('2024-01-01', NULL, 1, 'n')", 1105, "null value for not null")
    expect_error(conn, "INSERT INTO forms VALUES ('2024-01-01', 5, 1, 'toolong')", 1105, "too long")
    expect_error(conn, "INSERT INTO forms VALUES ('2024-01-01', 5)", 1136)
    expect_error(conn, "INSERT INTO forms (nope) VALUES (1)", 1054)
    # INSERT ... SELECT across databases, columns mapped by position whatever their names
    rows(conn, "CREATE DATABASE lq_copy")
    rows(conn, "CREATE TABLE lq_copy.forms2 LIKE lq.forms")
    rows(conn, "INSERT INTO lq_copy.forms2 SELECT d, k, k, s FROM lq.forms WHERE k < 3")
    assert rows(conn, "SELECT k, v FROM lq_copy.forms2 ORDER BY k") == [(1, 1), (2, 2)]
    assert one(conn, "SELECT count(*) FROM forms") == 3


def test_where_group_order_limit(conn) -> None:
    expected = expected_month_counts()
    got = rows(conn, "SELECT date_format(d, '%Y-%m') AS m, count(*) FROM sales GROUP BY m ORDER BY m")
    assert got == [
        ("2024-01", expected["p202401"]),
        ("2024-02", expected["p202402"]),
        ("2024-03", expected["p202403"]),
        ("2024-04", expected["p202404"]),
    ]
    by_shop = rows(conn, "SELECT shop, count(*) AS c, sum(amount) FROM sales GROUP BY shop ORDER BY shop DESC LIMIT 3")
    exp = []
    for shop in (9, 8, 7):
        nums = range(shop, N, 10)
        exp.append((shop, len(nums), sum(decimal.Decimal(n % 1000) / 10 for n in nums)))
    assert by_shop == exp
    assert rows(conn, "SELECT id, d FROM sales WHERE id BETWEEN 10 AND 12 ORDER BY id") == [
        (i, day_of(i)) for i in (10, 11, 12)
    ]
    assert rows(conn, "SELECT id FROM sales WHERE note = 'n3' AND shop = 3 ORDER BY id LIMIT 2 OFFSET 1") == [
        (73,),
        (143,),
    ]
    assert one(conn, "SELECT count(*) FROM sales WHERE d = '2024-02-29'") == len(
        [n for n in range(N) if n % DAYS == 59]
    )
    assert rows(conn, "SELECT note, count(*) FROM sales GROUP BY note HAVING count(*) > 28571 ORDER BY note") == [
        (f"n{i}", len(range(i, N, 7))) for i in range(7) if len(range(i, N, 7)) > 28571
    ]
    top = dicts(conn, "SELECT id, amount FROM sales ORDER BY amount DESC, id ASC LIMIT 2")
    assert top == [{"id": 999, "amount": decimal.Decimal("99.90")}, {"id": 1999, "amount": decimal.Decimal("99.90")}]
    assert one(conn, "SELECT max(d) FROM sales") == dt.date(2024, 4, 30)
    assert rows(conn, "SELECT DISTINCT shop FROM sales WHERE shop < 3 ORDER BY shop") == [(0,), (1,), (2,)]
    assert (
        one(conn, "SELECT count(*) FROM (SELECT id FROM sales WHERE shop = 1 UNION ALL SELECT 1) AS x") == N // 10 + 1
    )
    assert one(conn, "WITH s AS (SELECT shop, count(*) AS c FROM sales GROUP BY shop) SELECT sum(c) FROM s") == N


def test_joins_across_databases_and_views(conn) -> None:
    got = rows(
        conn,
        "SELECT s.region, count(*) FROM lq.sales AS x JOIN lq_dim.shops AS s ON x.shop = s.shop "
        "WHERE x.d < '2024-01-02' GROUP BY s.region ORDER BY s.region",
    )
    jan1 = [n for n in range(N) if n % DAYS == 0]
    assert got == [
        ("north", len([n for n in jan1 if n % 10 < 5])),
        ("south", len([n for n in jan1 if n % 10 >= 5])),
    ]
    left = rows(
        conn,
        "SELECT s.shop, count(x.id) FROM lq_dim.shops s LEFT JOIN lq.sales x ON x.shop = s.shop AND x.id < 20 "
        "GROUP BY s.shop ORDER BY s.shop",
    )
    assert left == [(i, 2) for i in range(10)]
    rows(conn, "CREATE VIEW lq_dim.north_sales AS SELECT x.id, x.amount, s.name FROM lq.sales x "
               "JOIN lq_dim.shops s ON x.shop = s.shop WHERE s.region = 'north'")  # fmt: skip
    rows(conn, "CREATE VIEW lq.north_big AS SELECT * FROM lq_dim.north_sales WHERE amount >= 99")
    assert one(conn, "SELECT count(*) FROM lq_dim.north_sales") == N // 2
    expected = len([n for n in range(N) if n % 10 < 5 and n % 1000 >= 990])
    assert one(conn, "SELECT count(*) FROM north_big") == expected
    assert columns(conn, "SELECT * FROM north_big LIMIT 1") == ["id", "amount", "name"]
    assert rows(conn, "SELECT name, count(*) FROM north_big GROUP BY name ORDER BY name LIMIT 1") == [
        ("shop0", len([n for n in range(N) if n % 10 == 0 and n % 1000 >= 990]))
    ]


def explain(conn, sql: str) -> str:
    return "\n".join(r[0] for r in rows(conn, "EXPLAIN " + sql))


def scan_of(text: str) -> tuple[int, int, int]:
    m = re.search(r"partitions=(\d+)/(\d+).*files=(\d+)", text)
    assert m, text
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_partition_pruning_is_visible_in_explain(conn) -> None:
    files_in = {
        name: sum(int(t["VersionCount"]) for t in dicts(conn, f"SHOW TABLETS FROM sales PARTITION ({name})"))
        for name in MONTHS
    }
    total = sum(files_in.values())
    plan = explain(conn, "SELECT count(*) FROM sales WHERE d = '2024-02-10'")
    assert "VOlapScanNode" in plan and "(p202402)" in plan
    assert scan_of(plan) == (1, 4, files_in["p202402"])
    assert scan_of(explain(conn, "SELECT * FROM sales WHERE d >= '2024-03-01'")) == (
        2,
        4,
        files_in["p202403"] + files_in["p202404"],
    )
    assert scan_of(explain(conn, "SELECT * FROM sales WHERE d BETWEEN '2024-01-31' AND '2024-02-01'"))[:2] == (2, 4)
    assert scan_of(explain(conn, "SELECT * FROM sales WHERE d IN ('2024-01-05', '2024-04-05')"))[:2] == (2, 4)
    assert scan_of(explain(conn, "SELECT * FROM sales WHERE d < '2024-01-01'"))[:2] == (
        1,
        4,
    )  # the first partition starts at MIN_VALUE
    assert scan_of(explain(conn, "SELECT * FROM sales WHERE id = 5")) == (4, 4, total)
    assert scan_of(explain(conn, "SELECT * FROM sales")) == (4, 4, total)
    # pruned or not, the answers are right
    assert one(conn, "SELECT count(*) FROM sales WHERE d = '2024-02-10'") == len(
        [n for n in range(N) if n % DAYS == 40]
    )
    assert one(conn, "SELECT count(*) FROM sales WHERE d < '2024-01-01'") == 0
    # a LIST partition prunes too
    rows(conn, "CREATE TABLE by_city (city VARCHAR(10) NOT NULL, v INT) PARTITION BY LIST(city) "
               "(PARTITION pn VALUES IN ('oslo', 'bergen'), PARTITION ps VALUES IN ('rome')) "
               "DISTRIBUTED BY HASH(v) BUCKETS 1")  # fmt: skip
    rows(conn, "INSERT INTO by_city VALUES ('oslo', 1), ('rome', 2), ('bergen', 3)")
    assert scan_of(explain(conn, "SELECT * FROM by_city WHERE city = 'rome'")) == (1, 2, 1)
    assert rows(conn, "SELECT v FROM by_city WHERE city = 'rome'") == [(2,)]


def test_select_from_named_partitions(conn) -> None:
    """``FROM t PARTITION ...`` in Doris's three spellings reads only those partitions."""
    counts = expected_month_counts()
    assert one(conn, "SELECT count(*) FROM sales PARTITION (p202402)") == counts["p202402"]
    assert one(conn, "SELECT count(*) FROM lq.sales PARTITION p202403") == counts["p202403"]
    both = counts["p202401"] + counts["p202404"]
    assert one(conn, "SELECT count(*) FROM sales PARTITIONS (p202401, p202404)") == both
    assert scan_of(explain(conn, "SELECT * FROM sales PARTITION (p202401, p202404)"))[:2] == (2, 4)
    # within the named partitions WHERE still prunes and filters
    assert one(conn, "SELECT count(*) FROM sales PARTITION (p202401) WHERE d >= '2024-03-01'") == 0
    joined = "SELECT count(*) FROM sales PARTITION (p202402) s JOIN lq_dim.shops h ON s.shop = h.shop"
    assert one(conn, joined) == counts["p202402"]
    expect_error(
        conn, "SELECT * FROM lq.sales PARTITION (p209901)", 1105, "Partition: p209901 is not exists on table lq.sales"
    )


def test_insert_overwrite(server: DorisbkServer, conn) -> None:
    """INSERT OVERWRITE replaces what the table, or the named partitions, held: one new version each."""
    rows(conn, "CREATE TABLE ow (k INT, v INT) UNIQUE KEY(k) PARTITION BY RANGE(k) "
               "(PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN ('100')) "
               "DISTRIBUTED BY HASH(k) BUCKETS 2")  # fmt: skip
    others = parquet_files(server.data_dir)
    rows(conn, "INSERT INTO ow VALUES (1, 1), (2, 2), (30, 3), (40, 4)")
    before = parquet_files(server.data_dir) - others
    assert before
    rows(conn, "INSERT OVERWRITE TABLE ow SELECT k, v * 10 FROM ow WHERE k < 10")  # reads what it replaces
    assert rows(conn, "SELECT k, v FROM ow ORDER BY k") == [(1, 10), (2, 20)]
    assert {n: p["VisibleVersion"] for n, p in partitions(conn, "ow").items()} == {"p1": "3", "p2": "3"}
    assert not before & parquet_files(server.data_dir)  # the replaced rowsets' files are gone
    rows(conn, "INSERT INTO ow VALUES (31, 5), (41, 6)")
    rows(conn, "INSERT OVERWRITE TABLE ow PARTITION (p2) VALUES (50, 7)")
    assert rows(conn, "SELECT k, v FROM ow ORDER BY k") == [(1, 10), (2, 20), (50, 7)]
    rows(conn, "INSERT OVERWRITE TABLE ow PARTITION (p1) SELECT 1, 1 WHERE false")  # no rows: p1 emptied
    assert rows(conn, "SELECT k, v FROM ow ORDER BY k") == [(50, 7)]
    expect_error(conn, "INSERT OVERWRITE TABLE ow PARTITION (p2) VALUES (5, 1)", 1105, "no partition for this tuple")
    assert rows(conn, "SELECT k, v FROM ow ORDER BY k") == [(50, 7)]


def test_failed_load_changes_nothing(server: DorisbkServer, conn) -> None:
    rows(conn, "CREATE TABLE strict_t (d DATE NOT NULL, v INT NOT NULL) PARTITION BY RANGE(d) "
               "(PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
               "DISTRIBUTED BY HASH(v) BUCKETS 3")  # fmt: skip
    rows(conn, "INSERT INTO strict_t SELECT date_add('2024-01-01', INTERVAL number % 59 DAY), number "
               "FROM numbers('number' = '10000')")  # fmt: skip
    before_parts = rows(conn, "SHOW PARTITIONS FROM strict_t")
    before_tablets = rows(conn, "SHOW TABLETS FROM strict_t")
    before_files = parquet_files(server.data_dir)
    # 50 000 good rows and one that no partition takes: the whole load fails
    message = expect_error(
        conn,
        "INSERT INTO strict_t SELECT if(number = 43210, '2031-01-01', date_add('2024-01-01', INTERVAL number % 59 "
        "DAY)), number FROM numbers('number' = '50000')",
        1105,
        "Insert has filtered data in strict mode",
        "no partition for this tuple",
    )
    assert "2031-01-01" in message
    expect_error(
        conn,
        "INSERT INTO strict_t SELECT '2024-01-01', if(number = 777, NULL, number) FROM numbers('number' = '50000')",
        1105,
        "null value for not null column",
    )
    expect_error(conn, "INSERT INTO strict_t VALUES ('2024-01-01', 1), ('2024-03-05', 2)", 1105, "no partition")
    assert rows(conn, "SHOW PARTITIONS FROM strict_t") == before_parts
    assert rows(conn, "SHOW TABLETS FROM strict_t") == before_tablets
    assert one(conn, "SELECT count(*) FROM strict_t") == 10000
    assert parquet_files(server.data_dir) == before_files
    assert not list((server.data_dir / "be" / "be1" / "tmp").glob("load_*"))


def test_load_into_more_tablets_than_one_copy_writes(server: DorisbkServer, conn) -> None:
    """1,200 tablets: beyond backend/load.py's COPY_TABLETS, the rows are written a group of partitions at a
    time; later rows still win on equal keys, and a row no partition takes still fails the whole load."""
    parts = ", ".join(f'PARTITION p{i} VALUES LESS THAN ("{(i + 1) * 10}")' for i in range(12))
    rows(conn, f"CREATE TABLE wide (p INT NOT NULL, k BIGINT NOT NULL, v BIGINT) UNIQUE KEY(p, k) "
               f"PARTITION BY RANGE(p) ({parts}) DISTRIBUTED BY HASH(k) BUCKETS 100")  # fmt: skip
    # 24,000 rows over 12,000 keys: each key twice, its second row (v = 1) later in the load
    rows(conn, "INSERT INTO wide SELECT (number % 12000) DIV 100, number % 12000, number DIV 12000 "
               "FROM numbers('number' = '24000')")  # fmt: skip
    assert rows(conn, "SELECT count(*), sum(v) FROM wide") == [(12000, 12000)]
    assert len({t["TabletId"] for t in tablets(conn, "wide") if int(t["RowCount"]) > 0}) == 1200
    before_files = parquet_files(server.data_dir)
    expect_error(conn, "INSERT INTO wide SELECT if(number = 5000, 500, number % 120), number, 7 "
                       "FROM numbers('number' = '12000')", 1105, "no partition for this tuple")  # fmt: skip
    assert parquet_files(server.data_dir) == before_files
    assert one(conn, "SELECT count(*) FROM wide WHERE v = 7") == 0


def test_truncate_drop_partition_drop_table_take_data_and_files(server: DorisbkServer, conn) -> None:
    rows(conn, "CREATE TABLE doomed (d DATE, v INT) PARTITION BY RANGE(d) (PARTITION a VALUES LESS THAN "
               "('2024-02-01'), PARTITION b VALUES LESS THAN ('2024-03-01'), PARTITION c VALUES LESS THAN "
               "('2024-04-01')) DISTRIBUTED BY HASH(v) BUCKETS 2")  # fmt: skip
    rows(conn, "INSERT INTO doomed SELECT date_add('2024-01-01', INTERVAL number % 90 DAY), number "
               "FROM numbers('number' = '900')")  # fmt: skip

    def files_of(part: str) -> set[str]:
        out = set()
        for t in dicts(conn, f"SHOW TABLETS FROM doomed PARTITION ({part})"):
            out |= {str(p) for p in Path(t["Path"]).glob("*.parquet")}
        return out

    a_files, b_files, c_files = files_of("a"), files_of("b"), files_of("c")
    assert a_files and b_files and c_files
    rows(conn, "TRUNCATE TABLE doomed PARTITION (a)")
    assert one(conn, "SELECT count(*) FROM doomed WHERE d < '2024-02-01'") == 0
    assert partitions(conn, "doomed")["a"]["VisibleVersion"] == "1"
    assert not any(Path(f).exists() for f in a_files)
    rows(conn, "ALTER TABLE doomed DROP PARTITION b FORCE")  # FORCE: not kept in the recycle bin
    assert one(conn, "SELECT count(*) FROM doomed") == 300
    assert not any(Path(f).exists() for f in b_files)
    tablet_dirs = {t["Path"] for t in tablets(conn, "doomed")}
    rows(conn, "DROP TABLE doomed FORCE")
    expect_error(conn, "SELECT count(*) FROM doomed", 1146)
    assert not any(Path(f).exists() for f in c_files)
    assert not any(Path(d).exists() for d in tablet_dirs)
    # TRUNCATE of a whole table
    rows(conn, "CREATE TABLE wipe (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2")
    rows(conn, "INSERT INTO wipe SELECT number FROM numbers('number' = '100')")
    rows(conn, "TRUNCATE TABLE wipe")
    assert one(conn, "SELECT count(*) FROM wipe") == 0
    assert all(t["RowCount"] == "0" and t["Version"] == "1" for t in tablets(conn, "wipe"))
    rows(conn, "INSERT INTO wipe VALUES (1)")
    assert one(conn, "SELECT count(*) FROM wipe") == 1


def test_load_and_query_example_script(server: DorisbkServer) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, str(root / "examples" / "load_and_query.py"), "--port", str(server.port), "--rows", "1000000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "loaded 1000000 rows" in out.stdout
    with server.connect() as c:
        assert one(c, "SELECT count(*) FROM example.events") == 1_000_000
        assert len(rows(c, "SHOW PARTITIONS FROM example.events")) == 8


def test_auto_increment_ids_from_a_random_source(conn) -> None:
    """The rows an INSERT numbers are the rows it counted, even from a source that differs each time it
    is read: ids never repeat across loads and the counter ends right after the last one."""
    rows(conn, "CREATE TABLE ai (id BIGINT NOT NULL AUTO_INCREMENT, v INT) DUPLICATE KEY(id) "
               "DISTRIBUTED BY HASH(id) BUCKETS 2")  # fmt: skip
    for _ in range(3):
        rows(conn, "INSERT INTO ai (v) SELECT number FROM numbers('number' = '2000') WHERE random() < 0.5")
    total, distinct, top = rows(conn, "SELECT count(*), count(DISTINCT id), max(id) FROM ai")[0]
    assert total == distinct == top > 0


def test_nulls_sort_first_ascending_and_last_descending(conn) -> None:
    """Doris's (and MySQL's) NULL order, for ORDER BY and window functions alike."""
    rows(conn, "CREATE TABLE nulls_order (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
    rows(conn, "INSERT INTO nulls_order VALUES (1, 20), (2, NULL), (3, 10)")
    assert rows(conn, "SELECT v FROM nulls_order ORDER BY v") == [(None,), (10,), (20,)]
    assert rows(conn, "SELECT v FROM nulls_order ORDER BY v DESC") == [(20,), (10,), (None,)]
    numbered = rows(conn, "SELECT k, row_number() OVER (ORDER BY v) FROM nulls_order ORDER BY k")
    assert numbered == [(1, 3), (2, 1), (3, 2)]
    assert rows(conn, "SELECT v FROM nulls_order ORDER BY v ASC NULLS LAST") == [(10,), (20,), (None,)]


def test_sql_select_limit_caps_top_level_selects(conn) -> None:
    """``SET sql_select_limit = n``: a top-level SELECT without LIMIT returns at most n rows; its own LIMIT,
    subqueries and INSERT ... SELECT are not cut; DEFAULT lifts it."""
    rows(conn, "CREATE TABLE ssl_t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    rows(conn, "SET sql_select_limit = 2")
    try:
        assert len(rows(conn, "SELECT number FROM numbers('number' = '5')")) == 2
        assert len(rows(conn, "SELECT number FROM numbers('number' = '5') LIMIT 4")) == 4
        assert one(conn, "SELECT count(*) FROM (SELECT number FROM numbers('number' = '5')) s") == 5
        rows(conn, "INSERT INTO ssl_t SELECT number FROM numbers('number' = '5')")
    finally:
        rows(conn, "SET sql_select_limit = DEFAULT")
    assert one(conn, "SELECT count(*) FROM ssl_t") == 5
    assert len(rows(conn, "SELECT k FROM ssl_t")) == 5
