"""A bounded, seeded fuzzer of Doris statements against a real server.

Statements of every kind the server answers (queries, loads, DDL, SHOW, backup statements, session
statements) are mutated token by token: tokens dropped, repeated, swapped, replaced by hostile ones
(DuckDB's file and logging functions, quotes, comments, NULs, huge numbers), statements cut short and
spliced together. Each runs as a user with grants on one database only, and the read-only ones run as
root too. Every answer must be a result or a MySQL error with a proper code and no Python text; the
server must never drop the connection, hang or die, and root's data must be intact at the end.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import one, rows

SEED = 20261202
STATEMENTS_PER_USER = 1500
ANSWER_TIMEOUT_S = 60  # no answer within this is a hang (query_timeout below is far shorter)

SETUP = [
    "CREATE DATABASE fz",
    "CREATE TABLE fz.t1 (k INT, d DATE, v VARCHAR(20), n BIGINT) DUPLICATE KEY(k) PARTITION BY RANGE(d) "
    "(PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS THAN ('2024-03-01')) "
    "DISTRIBUTED BY HASH(k) BUCKETS 2",
    "CREATE TABLE fz.u1 (k INT, v VARCHAR(20)) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
    "INSERT INTO fz.t1 VALUES (1, '2024-01-02', 'a', 10), (2, '2024-02-03', 'b', 20), (3, '2024-01-05', NULL, 30)",
    "INSERT INTO fz.u1 VALUES (1, 'one'), (2, 'two')",
    "CREATE VIEW fz.v1 AS SELECT k, v FROM fz.t1 WHERE k > 1",
    "CREATE DATABASE safe",
    "CREATE TABLE safe.keep (k INT, v VARCHAR(20)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
    "INSERT INTO safe.keep VALUES (1, 'kept'), (2, 'also kept')",
    "CREATE USER 'fuzzer'@'%' IDENTIFIED BY 'pw'",
    "GRANT SELECT_PRIV, LOAD_PRIV, ALTER_PRIV, CREATE_PRIV, DROP_PRIV ON internal.fz.* TO fuzzer",
]

READS = [
    "SELECT k, v FROM t1 WHERE k > 1 ORDER BY k LIMIT 10",
    "SELECT d, count(*), sum(n) FROM t1 GROUP BY d HAVING count(*) > 0 ORDER BY d",
    "SELECT a.k, b.v FROM t1 a JOIN u1 b ON a.k = b.k WHERE a.d BETWEEN '2024-01-01' AND '2024-12-31'",
    "WITH c AS (SELECT k FROM t1) SELECT * FROM c WHERE k IN (SELECT k FROM u1)",
    "SELECT upper(v), substr(v, 1, 2), date_format(d, '%Y-%m'), ifnull(n, 0), cast(k AS VARCHAR(10)) FROM t1",
    "SELECT k, row_number() OVER (PARTITION BY d ORDER BY k) AS rn FROM t1",
    "SELECT * FROM t1 PARTITION (p1) WHERE v LIKE 'a%' OR v IS NULL",
    "SELECT * FROM v1 UNION ALL SELECT k, v FROM u1",
    "SELECT CASE WHEN k > 1 THEN 'big' ELSE 'small' END, if(n > 15, 1, 0), coalesce(v, 'none') FROM t1",
    "SELECT count(DISTINCT v), max(d), min(n), avg(n), group_concat(v) FROM t1",
    "SELECT 1 + 2 * 3, concat('a', 'b'), length('xyz'), now() IS NOT NULL",
    "EXPLAIN SELECT * FROM t1 WHERE k = 1",
    "SHOW TABLES",
    "SHOW DATABASES",
    "SHOW PARTITIONS FROM t1",
    "SHOW CREATE TABLE t1",
    "DESC t1",
    "SHOW FULL COLUMNS FROM t1",
    "SHOW PROCESSLIST",
    "SHOW VARIABLES LIKE 'query%'",
    "SHOW TABLETS FROM t1",
    "SHOW DATA",
    "SHOW PROC '/dbs'",
    "SHOW BACKUP FROM fz",
    "SHOW RESTORE FROM fz",
    "SHOW REPOSITORIES",
    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'fz'",
    "SELECT @@version_comment, DATABASE(), CURRENT_USER()",
    "HELP BACKUP",
]

WRITES = [
    "INSERT INTO t1 VALUES (4, '2024-01-02', 'c', 40)",
    "INSERT INTO u1 SELECT k, v FROM t1 WHERE v IS NOT NULL",
    "INSERT INTO t1 (k, d, v, n) SELECT k + 10, d, v, n FROM t1 WHERE k < 3",
    "DELETE FROM t1 WHERE k = 4",
    "UPDATE u1 SET v = 'x' WHERE k = 2",
    "CREATE TABLE t9 (k INT, v VARCHAR(10)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
    "ALTER TABLE t1 ADD COLUMN c2 INT DEFAULT '0'",
    "CREATE VIEW v2 AS SELECT k FROM t1",
    "DROP TABLE IF EXISTS t9",
    "TRUNCATE TABLE t1 PARTITION (p2)",
    "ALTER TABLE t1 ADD PARTITION p3 VALUES LESS THAN ('2024-04-01')",
    "CREATE REPOSITORY r1 WITH LOCAL ON LOCATION 'file:///tmp/fz_repo' PROPERTIES ()",
    "BACKUP SNAPSHOT fz.s1 TO r1 ON (t1) PROPERTIES ('type' = 'full')",
    "RESTORE SNAPSHOT fz.s1 FROM r1 ON (t1) PROPERTIES ('backup_timestamp' = '2024-01-01-00-00-00')",
    "CANCEL BACKUP FROM fz",
    "DROP REPOSITORY r1",
    "SET query_timeout = 10",
    "SET NAMES utf8mb4",
    "USE fz",
    "GRANT SELECT_PRIV ON internal.safe.* TO fuzzer",
    "CREATE USER 'other'@'%' IDENTIFIED BY 'x'",
    "SET PASSWORD FOR 'root' = PASSWORD('owned')",
    "DROP DATABASE safe",
]

HOSTILE_TOKENS = [
    "read_text('/etc/passwd')", "query('SELECT 1')", "glob('/*')", "read_parquet('/tmp/*.parquet')",
    "enable_logging(storage='file', storage_path='/tmp')", "write_log('x')", "current_setting('threads')",
    "LATERAL", "UNION", "SELECT", "FROM", "WHERE", "JOIN", "ON", "AS", "PARTITION", "NULL", "(", ")", ",", ";",
    "*", ".", "=", "'", '"', "`", "\\", "\x00", "/*", "*/", "--", "#", "?", "@a", "@@version", "$$", "{", "}",
    "[", "]", "->", "::", "0", "-1", "2147483648", "9223372036854775808", "1e309", "'é😀'", "''", "'x'",
    "INTERVAL 1 DAY", "numbers('number' = '3')", "`t1`", "fz.t1", "information_schema.tables", "ALL", "ANY",
]  # fmt: skip

# answers that show Python or DuckDB internals instead of a MySQL error
PYTHON_TEXT = re.compile(
    r"Traceback|NoneType|object has no attribute|KeyError|IndexError|TypeError|ValueError|AttributeError|"
    r"RecursionError|AssertionError|UnboundLocalError|sqlglot|lark\.|duckdb\.|<class |internal error|"
    r"\b(?:Binder|Catalog|Parser|Conversion|Permission|Invalid Input) Error: "
)
TOKEN = re.compile(r"'(?:[^'\\]|\\.|'')*'|`[^`]*`|\"[^\"]*\"|\w+|\S")


@dataclass
class Tally:
    """What the fuzzer saw."""

    sent: int = 0
    results: int = 0
    errors: int = 0
    crashes: int = 0
    hangs: int = 0
    dropped: list[str] = field(default_factory=list)
    python_text: list[tuple[str, str]] = field(default_factory=list)
    bad_codes: list[tuple[str, int]] = field(default_factory=list)


def mutate(rng: random.Random, statement: str, corpus: list[str]) -> str:
    """Up to three token-level mutations of a statement (none in one case of six)."""
    tokens = TOKEN.findall(statement)
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        op = rng.randrange(7)
        i = rng.randrange(len(tokens)) if tokens else 0
        if op == 0 and tokens:
            del tokens[i]
        elif op == 1 and tokens:
            tokens.insert(i, tokens[i])
        elif op == 2 and len(tokens) > 1:
            j = rng.randrange(len(tokens))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == 3:
            tokens.insert(i, rng.choice(HOSTILE_TOKENS))
        elif op == 4 and tokens:
            tokens[i] = rng.choice(HOSTILE_TOKENS)
        elif op == 5 and tokens:
            tokens = tokens[: max(1, i)]
        else:
            other = TOKEN.findall(rng.choice(corpus))
            tokens = tokens[:i] + other[rng.randrange(len(other)) :]
    if rng.random() < 0.02:  # very deep nesting
        depth = rng.choice([200, 2000])
        return "SELECT " + "(" * depth + "1" + ")" * depth
    return " ".join(tokens)


def run(server: DorisbkServer, user: str, password: str, corpus: list[str], count: int, tally: Tally) -> None:
    rng = random.Random(f"{SEED}-{user}")
    conn = None
    for _ in range(count):
        if conn is None:
            conn = server.connect(user, password, database="fz", read_timeout=ANSWER_TIMEOUT_S)
            rows(conn, "SET query_timeout = 10")
        sql = mutate(rng, rng.choice(corpus), corpus)
        if not sql.strip():
            continue  # pymysql sends no empty query
        tally.sent += 1
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
            tally.results += 1
        except pymysql.err.OperationalError as exc:
            code = exc.args[0]
            if code in (2006, 2013, 2014):
                if server.proc is not None and server.proc.poll() is not None:
                    tally.crashes += 1
                    return
                if "timed out" in str(exc):
                    tally.hangs += 1
                else:
                    tally.dropped.append(sql)
                conn.close()
                conn = None
                continue
            _error(tally, sql, code, str(exc.args[1]) if len(exc.args) > 1 else "")
        except pymysql.err.MySQLError as exc:
            _error(tally, sql, exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else "")
    if conn is not None:
        conn.close()


def _error(tally: Tally, sql: str, code: int, message: str) -> None:
    tally.errors += 1
    if not 1000 <= code < 4000:
        tally.bad_codes.append((sql, code))
    if PYTHON_TEXT.search(message):
        tally.python_text.append((sql, message))


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> DorisbkServer:
    srv = DorisbkServer(tmp_path_factory.mktemp("fuzz") / "data").start()
    with srv.connect() as conn:
        for sql in SETUP:
            rows(conn, sql)
    yield srv
    srv.stop()


def test_fuzzed_statements_get_results_or_mysql_errors(fuzz_server: DorisbkServer) -> None:
    tally = Tally()
    run(fuzz_server, "fuzzer", "pw", READS + WRITES, STATEMENTS_PER_USER, tally)
    run(fuzz_server, "root", "", READS, STATEMENTS_PER_USER // 2, tally)
    print(
        f"fuzzed {tally.sent} statements: {tally.results} results, {tally.errors} MySQL errors, "
        f"{tally.crashes} crashes, {tally.hangs} hangs, {len(tally.dropped)} dropped connections, "
        f"{len(tally.python_text)} errors with Python text, {len(tally.bad_codes)} bad codes"
    )
    assert tally.crashes == 0
    assert tally.hangs == 0
    assert tally.dropped == []
    assert tally.python_text == []
    assert tally.bad_codes == []
    with fuzz_server.connect() as conn:
        assert one(conn, "SELECT 1") == 1
        assert rows(conn, "SELECT k, v FROM safe.keep ORDER BY k") == [(1, "kept"), (2, "also kept")]
