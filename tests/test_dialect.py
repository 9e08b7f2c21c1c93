"""Doris's own syntax through the server's sqlglot dialect (``dorisbk.sql.dialect``): ``PARTITION p`` /
``PARTITION (p, ...)`` / ``PARTITIONS (p, ...)`` in SELECT, DELETE and INSERT, ``INSERT ... WITH LABEL l``,
``--comment`` without a space, ``GROUP_CONCAT(... SEPARATOR s)``, ``CAST(x AS LARGEINT)`` and EXPLAIN's
levels; string literals and quoted names that hold those words reach the data byte for byte; malformed
forms fail with 1064 and a Doris-style syntax error."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, expect_error, mysql_cli, one, rows

DB = "dialect_db"
TABLE = (
    "CREATE TABLE t (k INT NOT NULL, v STRING) DUPLICATE KEY(k) "
    "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10'), PARTITION p2 VALUES LESS THAN ('20'), "
    "PARTITION `p-3` VALUES LESS THAN ('30')) DISTRIBUTED BY HASH(k) BUCKETS 2"
)
# Texts that a rewrite of the SQL text would have touched, and quoting a tokenizer must get right.
TRICKY = [
    "moved FROM x PARTITION p1 today",
    "copied from t PARTITIONS (p1, p2) and back",
    "FROM a JOIN b PARTITION `p2` ON x",
    "INSERT INTO t WITH LABEL l1 VALUES (1)",
    "with label `x` partition (p1)",
    "--<uuid>\nSELECT 1",
    "-- comment\n# hash\n/* block */",
    'it\'s a "quote" and a `tick`',
    "back\\slash \\\\ \\n \\' \\%",
    "tab\tnew\nline\r\x00nul",
    "unicode: ü 中文 🙂",
    ";SELECT 1; --",
    "",
]


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        rows(c, f"CREATE DATABASE {DB}")
        rows(c, f"USE {DB}")
        rows(c, TABLE)
        rows(c, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (11, 'c'), (12, 'd'), (21, 'e')")
        yield c


def _literal(text: str) -> str:
    """``text`` as a Doris string literal, written by hand: backslash escapes, as the MySQL protocol has them."""
    return pymysql.converters.escape_string(text)


def _keys(conn: pymysql.connections.Connection, sql: str) -> list[int]:
    return sorted(r[0] for r in rows(conn, sql))


def test_select_names_partitions_each_way(conn: pymysql.connections.Connection) -> None:
    assert _keys(conn, "SELECT k FROM t PARTITION p1") == [1, 2]
    assert _keys(conn, "SELECT k FROM t PARTITION `p-3`") == [21]
    assert _keys(conn, "SELECT k FROM t PARTITION (p1, `p-3`)") == [1, 2, 21]
    assert _keys(conn, f"SELECT k FROM {DB}.t PARTITIONS (p2) WHERE k > 11") == [12]
    assert _keys(conn, "SELECT a.k FROM t PARTITION p2 AS a WHERE a.k < 12") == [11]
    assert _keys(conn, "select k from t partition p1 where k = 2") == [2]
    joined = "SELECT x.k FROM t PARTITION p1 AS x JOIN t PARTITIONS (p1, p2) AS y ON x.k = y.k"
    assert _keys(conn, joined) == [1, 2]
    assert _keys(conn, "SELECT partitions.k FROM t partitions WHERE partitions.k > 20") == [21]  # an alias
    expect_error(conn, "SELECT k FROM t PARTITION nosuch", 1105, "Partition: nosuch is not exists")


def test_delete_names_partitions(conn: pymysql.connections.Connection) -> None:
    rows(conn, "CREATE TABLE del LIKE t")
    rows(conn, "INSERT INTO del SELECT * FROM t")
    rows(conn, "DELETE FROM del PARTITION p1 WHERE k > 0")
    assert _keys(conn, "SELECT k FROM del") == [11, 12, 21]
    rows(conn, "DELETE FROM del PARTITIONS (p2, `p-3`) WHERE k IN (12, 21)")
    assert _keys(conn, "SELECT k FROM del") == [11]


def test_insert_partitions_and_label(conn: pymysql.connections.Connection) -> None:
    rows(conn, "CREATE TABLE ins LIKE t")
    rows(conn, "INSERT INTO ins PARTITION (p1) WITH LABEL dialect_l1 (k, v) VALUES (3, 'x')")
    rows(conn, "INSERT INTO ins PARTITION p2 VALUES (13, 'y')")
    rows(conn, f"INSERT INTO {DB}.ins WITH LABEL `dialect-l2:x` SELECT k, v FROM t PARTITIONS (`p-3`)")
    assert rows(conn, "SELECT k, v FROM ins ORDER BY k") == [(3, "x"), (13, "y"), (21, "e")]
    labels = {r["Label"] for r in dicts(conn, f"SHOW LOAD FROM {DB}")}
    assert {"dialect_l1", "dialect-l2:x"} <= labels
    expect_error(conn, "INSERT INTO ins WITH LABEL dialect_l1 VALUES (4, 'z')", 1105, "Label [dialect_l1] has already")
    expect_error(conn, "INSERT INTO ins PARTITION (p1) VALUES (14, 'z')", 1105)  # 14 is in p2
    rows(conn, "INSERT OVERWRITE TABLE ins PARTITION (p1) WITH LABEL dialect_l3 SELECT 5, 'o'")
    assert rows(conn, "SELECT k, v FROM ins ORDER BY k") == [(5, "o"), (13, "y"), (21, "e")]
    assert "dialect_l3" in {r["Label"] for r in dicts(conn, f"SHOW LOAD FROM {DB}")}


def test_views_and_ctas_read_the_forms(conn: pymysql.connections.Connection) -> None:
    rows(conn, "CREATE TABLE ct AS SELECT k, v FROM t PARTITION p1")
    assert _keys(conn, "SELECT k FROM ct") == [1, 2]
    rows(conn, "CREATE VIEW pv AS SELECT k, GROUP_CONCAT(v SEPARATOR '|') AS vs FROM t PARTITIONS (p2) GROUP BY k")
    assert rows(conn, "SELECT k, vs FROM pv ORDER BY k") == [(11, "c"), (12, "d")]
    assert "pv" in [r[0] for r in rows(conn, "SHOW VIEW FROM t")]


@pytest.mark.parametrize("text", TRICKY)
def test_string_literals_reach_the_data_byte_for_byte(conn: pymysql.connections.Connection, text: str) -> None:
    table = f"s_{uuid.uuid4().hex[:8]}"
    rows(conn, f"CREATE TABLE {table} LIKE t")
    lit = _literal(text)
    rows(conn, f"INSERT INTO {table} VALUES (1, '{lit}')")
    rows(conn, f"INSERT INTO {table} PARTITION (p2) WITH LABEL {table}_l (k, v) VALUES (11, '{lit}')")
    rows(conn, f"INSERT INTO {table} SELECT 21, '{lit}' FROM t PARTITION p1 LIMIT 1")
    with conn.cursor() as cur:  # the client's own escaping
        cur.execute(f"INSERT INTO {table} PARTITION p1 VALUES (2, %s)", (text,))
    assert rows(conn, f"SELECT k, v FROM {table} ORDER BY k") == [(k, text) for k in (1, 2, 11, 21)]
    assert one(conn, f"SELECT count(*) FROM {table} PARTITION p1 WHERE v = '{lit}'") == 2
    assert one(conn, f"SELECT '{lit}' AS s") == text
    rows(conn, f"DELETE FROM {table} PARTITION p2 WHERE v = '{lit}'")
    assert _keys(conn, f"SELECT k FROM {table}") == [1, 2, 21]


def test_quoted_names_holding_the_words(conn: pymysql.connections.Connection) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT k AS `FROM t PARTITION p1`, v AS `WITH LABEL x` FROM t PARTITION p1 ORDER BY k")
        assert [d[0] for d in cur.description] == ["FROM t PARTITION p1", "WITH LABEL x"]
        assert list(cur.fetchall()) == [(1, "a"), (2, "b")]
    rows(conn, "CREATE TABLE `partitions` LIKE t")
    rows(conn, "INSERT INTO `partitions` PARTITION p1 WITH LABEL `--x` VALUES (7, '--x')")
    assert rows(conn, "SELECT k, v FROM `partitions` PARTITIONS (p1)") == [(7, "--x")]
    assert rows(conn, "SELECT `label`.k FROM `partitions` PARTITION p1 `label`") == [(7,)]


def test_dash_comment_without_a_space(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    mark = f"--{uuid.uuid4()}\n"
    assert _keys(conn, f"{mark}SELECT k FROM t PARTITION p2") == [11, 12]
    rows(conn, f"{mark}CREATE TABLE cm LIKE t")
    rows(conn, f"{mark}INSERT INTO cm WITH LABEL cm_1 VALUES (1, '--kept')--trailing")
    assert rows(conn, f"{mark}SELECT v FROM cm--trailing") == [("--kept",)]
    assert rows(conn, f"{mark}EXPLAIN SELECT k FROM cm")[0] == ("PLAN FRAGMENT 0",)
    # the mysql CLI drops whole comment lines itself; the statements after them must still work
    script = f"{mark}SELECT v FROM cm PARTITION p1 WHERE v = '--kept';\n--x\nSELECT count(*) FROM t PARTITIONS (p1);\n"
    out = mysql_cli(server.port, script, database=DB)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n") == ["v", "--kept", "count(*)", "2", ""]
    # backup statements and HELP, which have their own grammars, read the same comments
    assert rows(conn, f"{mark}SHOW BACKUP FROM {DB}--trailing") == []
    assert rows(conn, f"{mark}HELP backup")[0][0] == "BACKUP"


def test_group_concat_and_largeint(conn: pymysql.connections.Connection) -> None:
    assert one(conn, "SELECT GROUP_CONCAT(v) FROM t PARTITION p1") in ("a,b", "b,a")
    assert one(conn, "SELECT GROUP_CONCAT(v SEPARATOR '|') FROM t WHERE k < 3") in ("a|b", "b|a")
    assert one(conn, "SELECT GROUP_CONCAT(v ORDER BY k DESC SEPARATOR '') FROM t") == "edcba"
    assert one(conn, "SELECT GROUP_CONCAT(v, '-' ORDER BY k) FROM t") == "a-b-c-d-e"
    assert one(conn, "SELECT GROUP_CONCAT(DISTINCT v ORDER BY v SEPARATOR ', ') FROM t") == "a, b, c, d, e"
    big = 2**127 - 1  # LARGEINT comes as text, as Doris sends it
    assert one(conn, f"SELECT CAST('{big}' AS LARGEINT)") == str(big)
    assert one(conn, "SELECT CAST(k AS LARGEINT) * 10 FROM t WHERE k = 21") == "210"


def test_explain_levels(conn: pymysql.connections.Connection) -> None:
    for level in ("", "VERBOSE ", "SHAPE PLAN ", "OPTIMIZED PLAN ", "GRAPH "):
        lines = [r[0] for r in rows(conn, f"EXPLAIN {level}SELECT k FROM t PARTITION p1")]
        assert lines[0] == "PLAN FRAGMENT 0", (level, lines)


@pytest.mark.parametrize(
    ("sql", "near"),
    [
        ("SELECT k FROM t PARTITION", "Expected a partition name"),
        ("SELECT k FROM t PARTITION ()", "Expected a partition name"),
        ("SELECT k FROM t PARTITIONS (p1,)", "Expected a partition name"),
        ("SELECT k FROM t PARTITION (p1 p2)", "Syntax error"),
        ("SELECT k FROM t PARTITION (p1 + 1)", "Syntax error"),
        ("SELECT k FROM t PARTITIONS p1", "Syntax error"),
        ("SELECT k FROM t AS a PARTITION (p1)", "Syntax error"),
        ("DELETE FROM t PARTITION WHERE k = 1", "Syntax error"),
        ("INSERT INTO t WITH LABEL VALUES (1, 'x')", "Expected a label name"),
        ("INSERT INTO t WITH LABEL 'quoted' VALUES (1, 'x')", "Expected a label name"),
        ("INSERT INTO t PARTITION WITH LABEL l VALUES (1, 'x')", "Syntax error"),
        ("SELECT GROUP_CONCAT(v, ',' SEPARATOR ';') FROM t", "one separator"),
        ("SELECT GROUP_CONCAT() FROM t", "Expected an expression"),
        ("SELECT GROUP_CONCAT(v SEPARATOR) FROM t", "Expected a separator"),
        ("SELECT CAST(1 AS LARGEINTEGER)", "Syntax error"),
        ("UPDATE t PARTITION p1 SET v = 'x' WHERE k = 1", "UPDATE does not take PARTITION"),
        ("EXPLAIN", "Expected a query after EXPLAIN"),
        ("EXPLAIN VERBOSE", "Expected a query after EXPLAIN"),
    ],
)
def test_malformed_forms_are_syntax_errors(conn: pymysql.connections.Connection, sql: str, near: str) -> None:
    message = expect_error(conn, sql, 1064, "errCode = 2, detailMessage = Syntax error")
    assert near in message
    assert one(conn, "SELECT count(*) FROM t") == 5  # the connection stays usable, nothing was written
