"""Hostile and malformed statements: each one works or gets a MySQL error with a proper code, the
connection stays usable, the server stays up, and nothing in the catalog, the data or the accounts
changes."""

from __future__ import annotations

import random
import re

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import expect_error, one, rows, snapshot

SETUP = [
    "CREATE DATABASE victim",
    "USE victim",
    "CREATE TABLE orders (d DATE NOT NULL, id INT NOT NULL, note VARCHAR(10)) DUPLICATE KEY(d, id) "
    "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN "
    "('2024-03-01')) DISTRIBUTED BY HASH(id) BUCKETS 2",
    "CREATE TABLE agg_stats (k INT, n BIGINT SUM) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
    "INSERT INTO orders VALUES ('2024-01-01', 1, 'one'), ('2024-02-02', 2, 'two')",
    "INSERT INTO agg_stats VALUES (1, 5), (1, 6)",
    "CREATE VIEW recent AS SELECT id FROM orders WHERE d > '2024-01-15'",
    "CREATE USER 'plain'@'%' IDENTIFIED BY 'pw'",
    "GRANT SELECT_PRIV ON internal.victim.orders TO plain",
]

# Statements whose every prefix (cut between tokens) must fail or change nothing: targets that do not
# exist (zz_*), objects that exist (so CREATE fails), and loads with one value too many.
TRUNCATED_BASES = [
    "CREATE TABLE victim.orders (k INT NOT NULL COMMENT 'c', v VARCHAR(10) DEFAULT \"x\") DUPLICATE KEY(k) "
    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES [('10'), ('20'))) "
    "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    "CREATE DATABASE victim",
    "DROP TABLE IF EXISTS victim.zz_missing FORCE",
    "DROP DATABASE zz_missing_db",
    "TRUNCATE TABLE victim.zz_missing PARTITION (p1)",
    "INSERT INTO victim.orders (d, id, note) VALUES ('2024-01-03', 3, 'x', 'extra')",
    "INSERT INTO victim.orders SELECT d, id, note, id FROM victim.orders WHERE id > 0 ORDER BY id LIMIT 5",
    "ALTER TABLE victim.orders ADD PARTITION p1 VALUES [('2024-05-01'), ('2024-06-01'))",
    "ALTER TABLE victim.zz_missing DROP PARTITION p1",
    "GRANT SELECT_PRIV, LOAD_PRIV ON internal.victim.orders TO 'zz_nobody'@'%'",
    "REVOKE SELECT_PRIV ON internal.victim.zz_missing FROM plain",
    "SHOW PARTITIONS FROM victim.orders",
    "SHOW TABLETS FROM victim.orders PARTITION (p1, p2)",
    "SELECT o.id, count(*) AS n, sum(a.n) FROM victim.orders o JOIN victim.agg_stats a ON o.id = a.k "
    "WHERE o.d BETWEEN '2024-01-01' AND '2024-12-31' GROUP BY o.id HAVING n > 0 ORDER BY o.id DESC LIMIT 3",
    "CREATE VIEW victim.recent AS SELECT * FROM victim.orders",
    "SET PASSWORD FOR 'zz_nobody' = PASSWORD('x')",
]

HOSTILE = [
    " ",
    ";",
    ";;",
    "--",
    "#",
    "/*",
    "/* unterminated",
    "*/",
    "'",
    '"',
    "`",
    "'unterminated string",
    '"unterminated',
    "`unterminated",
    "SELEC 1",
    "SELECT",
    "SELECT * FROM",
    "SELECT * FROM orders WHERE",
    "SELECT (((((",
    "SELECT )))",
    "SELECT 1 +",
    "SELECT nosuchcol FROM orders",
    "SELECT * FROM nosuch",
    "SELECT * FROM nosuchdb.nosuch",
    "SELECT * FROM orders UNION SELECT",
    "SELECT 1; DROP DATABASE victim",
    "SELECT 1; SELECT 2",
    "DROP DATABASE victim; SELECT 1",
    "foo",
    "FOO BAR BAZ",
    "1",
    "x = 1",
    "\x00",
    "\x00\x01\x02\x03",
    "SELECT '\x00'",
    "\ufeffSELECT 1",
    "SELECT '日本語', 'émoji 🎉'",
    "SELECT * FROM `日本`",
    "CREATE TABLE `日本` (k INT)",
    "CREATE DATABASE `a b`",
    "CREATE DATABASE `" + "x" * 100 + "`",
    "CREATE TABLE victim.`" + "t" * 10_000 + "` (k INT)",
    "CREATE TABLE victim.`x``y` (k INT)",
    "CREATE TABLE victim.zz (k INT) DISTRIBUTED BY HASH(k) BUCKETS 99999999999999999999",
    "CREATE TABLE victim.zz (k INT) DISTRIBUTED BY HASH(k) BUCKETS -1",
    "CREATE TABLE victim.zz (k INT) DISTRIBUTED BY HASH(k) BUCKETS 0",
    "CREATE TABLE victim.zz (k INT) DISTRIBUTED BY HASH(k) BUCKETS 5000",
    "CREATE TABLE victim.zz (k INT) PROPERTIES ('replication_num' = '99')",
    "CREATE TABLE victim.zz (k INT) PROPERTIES ('replication_num' = '-1')",
    "CREATE TABLE victim.zz (k INT) PROPERTIES ('replication_allocation' = 'garbage')",
    "CREATE TABLE victim.zz (k INT, k INT)",
    "CREATE TABLE victim.zz (k DECIMAL(99, 2))",
    "CREATE TABLE victim.zz (k VARCHAR(99999999))",
    "CREATE TABLE victim.zz (k CHAR(0))",
    "CREATE TABLE victim.zz (k NOSUCHTYPE)",
    "CREATE TABLE victim.zz (k INT DEFAULT 'not a number')",
    "CREATE TABLE victim.zz (k DATE) PARTITION BY RANGE(k) (PARTITION p VALUES LESS THAN ('2024-13-45'))",
    "CREATE TABLE victim.zz (k INT) PARTITION BY RANGE(k) (PARTITION p VALUES LESS THAN ('99999999999999'))",
    "CREATE TABLE victim.zz (k INT) PARTITION BY RANGE(k) (PARTITION p VALUES IN (1))",
    "CREATE TABLE victim.zz (k INT) PARTITION BY LIST(k) (PARTITION p VALUES LESS THAN ('1'))",
    "CREATE TABLE victim.zz (k INT) PARTITION BY RANGE(k) (PARTITION `bad name` VALUES LESS THAN ('1'))",
    "CREATE TABLE victim.zz (k DOUBLE) PARTITION BY RANGE(k) (PARTITION p VALUES LESS THAN ('1'))",
    "CREATE TABLE victim.zz (k INT) ENGINE=hive",
    "CREATE TABLE victim.zz (k INT) ROLLUP (r1 (k))",
    "CREATE TABLE victim.zz (k INT, v INT REPLACE) AGGREGATE KEY(k) DISTRIBUTED BY RANDOM BUCKETS 1",
    "CREATE TABLE victim.zz (k FLOAT)",
    "CREATE TABLE victim.zz (s STRING, k INT)",
    "CREATE TABLE victim.zz LIKE victim.nosuch",
    "CREATE TABLE victim.zz LIKE victim.recent",
    "CREATE VIEW victim.zz AS",
    "CREATE VIEW victim.zz AS SELECT nosuch FROM victim.orders",
    "CREATE VIEW victim.zz AS DROP TABLE victim.orders",
    "CREATE VIEW victim.zz (a, b) AS SELECT 1",
    "DROP VIEW victim.orders",
    "DROP TABLE victim.recent",
    "DROP TABLE victim.nosuch",
    "DROP DATABASE nosuch",
    "DROP DATABASE information_schema",
    "DROP USER root",
    "DROP USER admin",
    "DROP USER nosuch",
    "CREATE USER root",
    "CREATE USER plain",
    "GRANT",
    "GRANT ALL",
    "GRANT SELECT_PRIV ON TO plain",
    "GRANT NOSUCH_PRIV ON victim.orders TO plain",
    "GRANT NODE_PRIV ON internal.victim.* TO plain",
    "GRANT SELECT_PRIV ON victim.* .* TO plain",
    "GRANT SELECT_PRIV ON a.b.c.d TO plain",
    "GRANT SELECT_PRIV ON *.victim.orders TO plain",
    "REVOKE SELECT_PRIV ON internal.victim.agg_stats FROM plain",
    "REVOKE SELECT_PRIV ON internal.victim.orders FROM nosuch",
    "SET PASSWORD FOR plain = 'short'",
    "SET PASSWORD FOR nosuch = PASSWORD('x')",
    "SET @a = 1",
    "SET GLOBAL x = 1",
    "SET nosuch_variable = 1",
    "SET NAMES nosuch_charset",
    "SET autocommit = concat(1)",
    "USE",
    "USE ``",
    "USE nosuch",
    "USE `victim; DROP DATABASE victim`",
    "SHOW",
    "SHOW NOSUCH",
    "SHOW TABLES FROM nosuch",
    "SHOW PARTITIONS",
    "SHOW PARTITIONS FROM",
    "SHOW PARTITIONS FROM nosuch",
    "SHOW TABLETS FROM victim.orders PARTITION (nosuch)",
    "SHOW CREATE TABLE nosuch",
    "SHOW CREATE DATABASE nosuch",
    "SHOW GRANTS FOR nosuch",
    "SHOW CREATE TABLE victim.orders; DROP TABLE victim.orders",
    "DESC",
    "DESC nosuch",
    "DESCRIBE victim.nosuch",
    "EXPLAIN",
    "EXPLAIN FOO",
    "EXPLAIN DROP TABLE victim.orders",
    "EXPLAIN SELECT * FROM nosuch",
    "INSERT",
    "INSERT INTO",
    "INSERT INTO nosuch VALUES (1)",
    "INSERT INTO victim.orders VALUES",
    "INSERT INTO victim.orders VALUES ()",
    "INSERT INTO victim.orders VALUES (1)",
    "INSERT INTO victim.orders VALUES ('2024-01-01', 1, 'x', 4)",
    "INSERT INTO victim.orders (nosuch) VALUES (1)",
    "INSERT INTO victim.orders (d, d, id) VALUES ('2024-01-01', '2024-01-01', 1)",
    "INSERT INTO victim.orders VALUES ('2030-01-01', 9, 'no partition')",
    "INSERT INTO victim.orders VALUES ('2024-01-01', 9, 'a'), ('2031-01-01', 10, 'no partition')",
    "INSERT INTO victim.orders VALUES ('not a date', 9, 'x')",
    "INSERT INTO victim.orders VALUES (NULL, 9, 'null key')",
    "INSERT INTO victim.orders VALUES ('2024-01-01', NULL, 'null id')",
    "INSERT INTO victim.orders VALUES ('2024-01-01', 9, 'much too long for ten')",
    "INSERT INTO victim.orders VALUES ('2024-01-01', 99999999999, 'overflow')",
    "INSERT INTO victim.orders PARTITION (nosuch) VALUES ('2024-01-01', 9, 'x')",
    "INSERT INTO victim.orders PARTITION (p2) VALUES ('2024-01-01', 9, 'wrong partition')",
    "INSERT INTO victim.recent VALUES (1)",
    "INSERT INTO victim.orders SELECT * FROM numbers('number' = '3')",
    "INSERT INTO victim.orders SELECT * FROM victim.nosuch",
    "INSERT INTO victim.orders SELECT 1/0, 1, 'x'",
    "UPDATE victim.orders SET note = 'x'",
    "DELETE FROM victim.orders",
    "REPLACE INTO victim.orders VALUES ('2024-01-01', 1, 'x')",
    "ALTER TABLE victim.orders ADD COLUMN id INT",
    "ALTER TABLE victim.orders DROP COLUMN nosuch",
    "ALTER TABLE victim.orders DROP PARTITION nosuch",
    "ALTER TABLE victim.orders ADD PARTITION p_overlap VALUES [('2024-01-15'), ('2024-02-15'))",
    "ALTER TABLE victim.orders ADD PARTITION p_empty VALUES [('2024-09-01'), ('2024-08-01'))",
    "ALTER TABLE victim.orders ADD PARTITION p_bad VALUES IN ('2024-09-01')",
    "ALTER TABLE victim.orders ADD PARTITION p3 VALUES LESS THAN ('2025-01-01') DISTRIBUTED BY HASH(id) BUCKETS 0",
    "ALTER TABLE victim.agg_stats ADD PARTITION p1 VALUES LESS THAN ('1')",
    "ALTER TABLE victim.orders RENAME agg_stats",
    "ALTER TABLE victim.orders RENAME `bad name`",
    "ALTER TABLE victim.recent RENAME orders",
    "TRUNCATE TABLE victim.orders PARTITION (nosuch)",
    "TRUNCATE TABLE victim.recent",
    "TRUNCATE TABLE victim.nosuch",
    "KILL abc",
    "KILL QUERY",
    "LOAD DATA INFILE '/etc/passwd' INTO TABLE victim.orders",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('/etc/passwd')",
    "SELECT * FROM 'file.parquet'",
    "SELECT * FROM glob('/*')",
    "SELECT read_text('/etc/passwd')",
    "SELECT * FROM numbers()",
    "SELECT * FROM numbers('number' = '-1')",
    "SELECT * FROM numbers('number' = 'abc')",
    "SELECT * FROM numbers('nonsense' = '1')",
    "SELECT * FROM nosuch_tvf('a' = '1')",
    "SELECT * FROM information_schema.nosuch",
    "SELECT * FROM victim.orders, information_schema.tables",
    "SELECT * FROM hive.db.tbl",
    "SELECT CAST('x' AS INT)",
    "SELECT 1/0",
    "SELECT 9223372036854775807 + 1",
    "SELECT repeat('x', 100000000000)",
    "SELECT * FROM victim.orders WHERE d = 'not a date'",
    "SELECT * FROM victim.orders WHERE d > 5",
    "SELECT sleep(0)",
    "COPY victim.orders TO '/tmp/zz_copy.parquet'",
    "ATTACH '/tmp/zz.db'",
    "INSTALL httpfs",
    "PRAGMA version",
    "CALL pragma_version()",
    "BACKUP",
    "RESTORE",
    "help",
    "help 'nonsense topic'",
    "\\G",
    "SELECT 1 \\G",
    "SELECT " + "(" * 3000 + "1" + ")" * 3000,
    "SELECT " + "NOT " * 3000 + "1",
    "SELECT " + "1+" * 3000 + "1",
    "SELECT '" + "a" * 1_000_000 + "'",
    "SELECT * FROM victim.orders WHERE id IN (" + ",".join(str(i) for i in range(5000)) + ")",
    "CREATE TABLE victim.zz (" + ", ".join(f"c{i} INT" for i in range(2000)) + ", c0 INT)",
    "/*!40101 SET NAMES utf8 */",
    "SELECT /*+ SET_VAR(query_timeout = 1) */ 1",
    "select 1 from dual where 1 = 0",
    "SeLeCt * FrOm victim.ORDERS",
]


def truncations(sql: str) -> list[str]:
    """Every prefix of ``sql`` that ends between two tokens (never inside a name)."""
    cuts = [m.end() for m in re.finditer(r"\w+|'[^']*'|\"[^\"]*\"|`[^`]*`|\S", sql)]
    return [sql[:cut] for cut in cuts[:-1]]


def mutations(sql: str, rng: random.Random) -> list[str]:
    """``sql`` with a hostile fragment put between two tokens."""
    junk = ["'", '"', "`", "(", ")", ",", ";", "/*", "*/", "--", "\\", "\x00", "é", "🎉", "NULL", "SELECT", "DROP",
            "%", "?", "@@", "$", "\n", "\t", "\u202e", "0x", "1e999", "''''", "MAXVALUE"]  # fmt: skip
    cuts = [m.end() for m in re.finditer(r"\w+|'[^']*'|\"[^\"]*\"|`[^`]*`|\S", sql)]
    out = []
    for _ in range(6):
        cut = rng.choice(cuts[:-1])
        out.append(sql[:cut] + " " + rng.choice(junk) + " " + sql[cut:])
    return out


@pytest.fixture(scope="module")
def victim(server: DorisbkServer):
    with server.connect() as c:
        for stmt in SETUP:
            rows(c, stmt)
    return server


def test_hostile_statements_change_nothing(victim: DorisbkServer) -> None:
    rng = random.Random(20240601)
    statements = list(HOSTILE)
    for base in TRUNCATED_BASES:
        statements.append(base)
        statements.extend(truncations(base))
        statements.extend(mutations(base, rng))
    for _ in range(40):
        statements.append(bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 60))).decode("latin-1"))
    assert len(statements) > 500

    before = snapshot(victim)
    codes: dict[int, int] = {}
    with victim.connect(database="victim") as conn:
        for sql in statements:
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    cur.fetchall()
            except pymysql.err.MySQLError as exc:
                code, message = exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else ""
                codes[code] = codes.get(code, 0) + 1
                assert 1000 <= code < 4000, (sql[:200], code, message)  # a server error, not a lost connection
                assert "internal error" not in message, (sql[:200], message)
                assert "Traceback" not in message and "\x1b[" not in message, (sql[:200], message)
                if code in (1064, 1049, 1146, 1050, 1007):
                    assert message.startswith("errCode = 2, detailMessage = "), (sql[:200], message)
            # the same connection keeps answering after every statement
            assert one(conn, "SELECT 7") == 7, sql[:200]
            if one(conn, "SELECT DATABASE()") != "victim":
                rows(conn, "USE victim")
    assert codes.get(1064, 0) > 100
    assert {1049, 1146, 1050, 1007, 1105} <= set(codes)
    after = snapshot(victim)
    assert after == before
    assert "Traceback" not in victim.log()
    # and a well-behaved client still gets its answers
    with victim.connect(user="plain", password="pw") as c:
        assert one(c, "SELECT count(*) FROM victim.orders") == 2


def test_raw_bytes_that_are_not_utf8(victim: DorisbkServer) -> None:
    with victim.connect() as conn:
        for raw in (b"SELECT '\xff\xfe'", b"\xff\xff\xff", b"SELECT 1 -- \xc3", b"\xc0\x80"):
            with pytest.raises(pymysql.err.MySQLError) as info:
                conn.query(raw)
            assert info.value.args[0] == 1300, info.value.args
            assert one(conn, "SELECT 1") == 1


def test_error_positions(victim: DorisbkServer) -> None:
    with victim.connect(database="victim") as conn:
        expect_error(conn, "CREATE TABLE zz (k INT) DISTRIBUTED BY HASH(k) BUCKET 2", 1064, "line 1, column 48")
        expect_error(conn, "SHOW PARTITIONS FROM", 1064, "line 1, column 21 near end of input")
        expect_error(
            conn, "CREATE TABLE zz (\n  k INT,\n  v INTT NOT NULL\n)", 1064, "line 3, column 5", "Unknown type: INTT"
        )
        expect_error(conn, "CREATE TABLE zz (\n  k INT,\n  v INT NOT NULLL\n)", 1064, "line 3, column 17")
        expect_error(conn, "SELECT * FROM orders WHERE", 1064, "line 1, column")
        expect_error(conn, "DROP TABEL orders", 1064, "near 'TABEL'")
