"""The front door reads SQL text by its tokens (``dorisbk.engine.dialect.lex``) or by a grammar, never by a
regular expression: where a CREATE TABLE ... AS SELECT query starts, which strings are secrets to mask
in logs and PROCESSLIST, where the ``?`` placeholders of a prepared statement are, and a materialized
view's trailing PROPERTIES. String literals and quoted names holding the words they look for (AS
SELECT, PARTITION, ?, PASSWORD, PROPERTIES) reach the data byte for byte. Also two backup statements
as Doris answers them: SHOW SNAPSHOT's WHERE takes any comparison, and SHOW CREATE REPOSITORY of an
unknown repository says ``repository not exist.``."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from dorisbk.engine.dialect import lex
from dorisbk.server.compat import is_mariadb_connect_set, split_placeholders
from dorisbk.sql import ddl_stmts as s
from dorisbk.sql.ddl_parser import parse_ddl
from dorisbk.sql.router import log_text, redacted
from tests.clientkit import require_module
from tests.dorisbk_server import DorisbkServer
from tests.jobkit import described, doris_err, q, set_config, snapshot_dir
from tests.sqlhelp import dicts, expect_error
from tests.test_backup_support import finished, info_file, make_table

DB = "front_db"
REPO = "front_repo"
# strings a rewrite of the text would have touched
WORDS = ("x AS SELECT y", "PARTITION (p1) PARTITIONS p2", "what? ??", "PASSWORD('pw') IDENTIFIED BY 'pw'")


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("front_repo")


@pytest.fixture(scope="module")
def conn(server: DorisbkServer, location: Path) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        q(c, f"CREATE DATABASE {DB}")
        q(c, f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{location}"')
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c


# ---------------------------------------------------------------------------------------------
# tokens, as a unit


def test_lex_knows_where_each_token_is_and_where_an_unterminated_quote_begins() -> None:
    lexed = lex("SELECT 'a?b', `c d` -- e\n, ?")
    assert [(t.text, t.start, t.end) for t in lexed.tokens] == [
        ("SELECT", 0, 5),
        ("a?b", 7, 11),
        (",", 12, 12),
        ("c d", 14, 18),
        (",", 25, 25),
        ("?", 27, 27),
    ]
    assert lexed.complete
    for text, end in [("SELECT 'abc", 7), ("SELECT `abc", 7), ('SELECT 1, "a\\', 10), ("SELECT 1 /* c", 9)]:
        lexed = lex(text)
        assert (lexed.complete, lexed.end) == (False, end), text


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE USER u IDENTIFIED BY 'pw'", "CREATE USER u IDENTIFIED BY '*XXX'"),
        ("CREATE USER 'u'@'%' IDENTIFIED BY PASSWORD '*AB12'", "CREATE USER 'u'@'%' IDENTIFIED BY PASSWORD '*XXX'"),
        ('SET PASSWORD FOR u = PASSWORD ( "pw" )', 'SET PASSWORD FOR u = PASSWORD ( "*XXX" )'),
        (
            'ALTER REPOSITORY r PROPERTIES ("s3.secret_key"="sk", "s3.access_key" = "ak", '
            "'s3.session_token' = 't')",
            'ALTER REPOSITORY r PROPERTIES ("s3.secret_key"="*XXX", "s3.access_key" = "ak", '
            "'s3.session_token' = '*XXX')",
        ),
        ("CREATE USER u IDENTIFIED BY 'never closed", "CREATE USER u IDENTIFIED BY '*XXX'"),
        ("SELECT 'pass\\word' = 'x'", "SELECT 'pass\\word' = '*XXX'"),  # the key as Doris reads it: password
        # only look like them: strings, quoted names and comments stay as they are
        ("SELECT 'IDENTIFIED BY ''x''', \"'password' = 'y'\"", None),
        ("SELECT `PASSWORD`('z'), my_password('z'), `password` = 'z'", None),
        ("SELECT 1 /* IDENTIFIED BY 'x' */ -- 'password' = 'x'\n# PASSWORD('x')", None),
        ("SELECT 'it''s', 'a\\'b' = 'c', 'token_count' > 0", None),
    ],
)
def test_secrets_are_masked_by_their_tokens(sql: str, expected: str | None) -> None:
    assert redacted(sql) == (sql if expected is None else expected)


def test_a_long_statement_is_masked_as_far_as_it_is_shown() -> None:
    sql = "CREATE USER u IDENTIFIED BY '" + "s" * 5000 + "' COMMENT '" + "c" * 5000 + "'"
    assert log_text(sql) == redacted(sql)[:200]
    assert log_text(sql).startswith("CREATE USER u IDENTIFIED BY '*XXX' COMMENT 'ccc")
    for limit in (1, 29, 30, 40, 100, 10_000, 20_000):
        assert redacted(sql, limit) == redacted(sql)[:limit]


def test_placeholders_are_the_question_mark_tokens() -> None:
    assert split_placeholders("SELECT ??, ?::INT, a?b") == ["SELECT ", "", ", ", "::INT, a", "b"]
    assert split_placeholders("REPLACE INTO t VALUES (?, 'PASSWORD(?)')") == [
        "REPLACE INTO t VALUES (",
        ", 'PASSWORD(?)')",
    ]
    assert split_placeholders('SELECT `a?`, "?" -- ?\n, ? # ?') == ['SELECT `a?`, "?" -- ?\n, ', " # ?"]
    assert split_placeholders("SELECT ?, 'never closed ?") == ["SELECT ", ", 'never closed ?"]
    assert split_placeholders("SELECT 1 /* never closed ?") == ["SELECT 1 /* never closed ?"]
    assert split_placeholders("SELECT 1") == ["SELECT 1"]


def test_mariadb_connect_set_is_told_by_its_tokens() -> None:
    assert is_mariadb_connect_set("set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')")
    assert is_mariadb_connect_set("/* c */ SET autocommit = 1 ,sql_mode=CONCAT( @@sql_mode , 'x')")
    assert not is_mariadb_connect_set("SELECT 'set autocommit=1, sql_mode = concat(@@sql_mode,'")
    assert not is_mariadb_connect_set("set autocommit=10, sql_mode = concat(@@sql_mode,'')")


def test_ctas_and_materialized_view_texts_are_split_by_the_grammar_and_tokens() -> None:
    stmt = parse_ddl(
        "CREATE TABLE IF NOT EXISTS d.t (a, `b c`) PROPERTIES ('comment' = 'AS SELECT 1') "
        "AS /* AS SELECT */ SELECT 1, 'AS SELECT ;' ;  -- trailing"
    )
    assert isinstance(stmt, s.CreateTableAsStmt)
    assert (stmt.create.table, stmt.column_names) == (s.TableName("t", "d"), ("a", "b c"))
    assert stmt.create.properties == (("comment", "AS SELECT 1"),)
    assert stmt.query == "SELECT 1, 'AS SELECT ;'"
    mv = parse_ddl(
        'CREATE MATERIALIZED VIEW mv AS SELECT k, sum(v) FROM t WHERE s != \'PROPERTIES ("a" = "b")\' '
        "GROUP BY k PROPERTIES ('replication_num' = '1', \"x\" = 'it''s');"
    )
    assert isinstance(mv, s.CreateMaterializedViewStmt)
    assert mv.query == 'SELECT k, sum(v) FROM t WHERE s != \'PROPERTIES ("a" = "b")\' GROUP BY k'
    assert mv.properties == (("replication_num", "1"), ("x", "it's"))
    mv = parse_ddl('CREATE MATERIALIZED VIEW mv AS SELECT k FROM t WHERE s = \'PROPERTIES ("a" = "b")\'')
    assert mv.query == 'SELECT k FROM t WHERE s = \'PROPERTIES ("a" = "b")\'' and mv.properties == ()


# ---------------------------------------------------------------------------------------------
# through a server


def test_ctas_keeps_string_literals_byte_for_byte(conn: pymysql.connections.Connection) -> None:
    literals = ", ".join("'" + w.replace("'", "''") + "'" for w in WORDS)
    q(
        conn,
        f"CREATE TABLE {DB}.c1 (a, b, c, d) PROPERTIES ('replication_num' = '1') "
        f"AS /* AS SELECT */ SELECT {literals} ; -- a trailing comment",
    )
    assert q(conn, f"SELECT * FROM {DB}.c1") == [WORDS]
    assert [r["Field"] for r in dicts(conn, f"DESC {DB}.c1")] == ["a", "b", "c", "d"]
    q(conn, f"CREATE TABLE {DB}.c2 AS WITH w AS (SELECT 'AS (SELECT ?)' AS k) SELECT k FROM w -- done")
    assert q(conn, f"SELECT k FROM {DB}.c2") == [("AS (SELECT ?)",)]
    expect_error(
        conn,
        f"CREATE TABLE {DB}.c3 (a) AS SELECT 1, 2",
        1105,
        "Number of columns don't equal number of SELECT statement's select list",
    )
    expect_error(conn, f"CREATE TABLE {DB}.c4 (a INT) AS SELECT 1", 1064)
    assert (("c3",) not in q(conn, f"SHOW TABLES FROM {DB}")) and (("c4",) not in q(conn, f"SHOW TABLES FROM {DB}"))


def test_view_text_ends_at_its_last_token(conn: pymysql.connections.Connection) -> None:
    q(conn, f"CREATE VIEW {DB}.v1 AS SELECT 'a -- b; AS SELECT' AS s, '?' AS t ; -- a trailing comment")
    assert q(conn, f"SELECT s, t FROM {DB}.v1") == [("a -- b; AS SELECT", "?")]
    q(conn, f"ALTER VIEW {DB}.v1 AS SELECT 'PARTITION p1' AS s /* c */ # another\n;")
    assert q(conn, f"SELECT * FROM {DB}.v1") == [("PARTITION p1",)]


def test_prepared_statements_bind_only_the_question_mark_tokens(server: DorisbkServer) -> None:
    connector = require_module("mysql.connector")
    client = connector.connect(host="127.0.0.1", port=server.port, user="root", password="", use_pure=True)
    try:
        cur = client.cursor(prepared=True)
        cur.execute(
            "SELECT ? AS p, '?' AS s, \"AS SELECT ?\" AS d, 'PASSWORD(?)' AS w /* ? */, ? AS `?` -- ?\n",
            (WORDS[3], WORDS[2]),
        )
        assert cur.fetchall() == [(WORDS[3], "?", "AS SELECT ?", "PASSWORD(?)", WORDS[2])]
        assert [d[0] for d in cur.description] == ["p", "s", "d", "w", "?"]
        q_insert = f"INSERT INTO {DB}.c1 VALUES (?, 'PARTITION (?)', ?, ?)"
        cur.execute(q_insert, (WORDS[0], "it's ?", "\\'; --"))
        cur.execute(f"SELECT a, b, c, d FROM {DB}.c1 WHERE c = ?", ("it's ?",))
        assert cur.fetchall() == [(WORDS[0], "PARTITION (?)", "it's ?", "\\'; --")]
        long = "? AS SELECT ? " * 6000  # a long statement is read off the event loop, the same way
        cur.execute(f"SELECT ? AS a, '{long}' AS b, ? AS c", ("x", "y"))
        assert cur.fetchall() == [("x", long, "y")]
        cur.close()
    finally:
        client.close()


def test_processlist_masks_the_secrets_of_a_running_statement(server: DorisbkServer) -> None:
    secret = f"TOPSECRET{uuid.uuid4().hex}"
    sql = (
        f"SELECT sleep(3) AS z, \"s3.secret_key\" = \"{secret}\" AS x, 'IDENTIFIED BY ''{secret}''' AS y, "
        f'\'"password" = "{secret}"\' AS w'
    )
    masked = (
        'SELECT sleep(3) AS z, "s3.secret_key" = "*XXX" AS x, '
        f"'IDENTIFIED BY ''{secret}''' AS y, '\"password\" = \"{secret}\"' AS w"
    )
    got: dict[str, Any] = {}

    def run() -> None:
        with server.connect() as other:
            got["rows"] = q(other, sql)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        with server.connect() as watcher:
            deadline = time.monotonic() + 20
            info = None
            while info is None and time.monotonic() < deadline:
                found = [r["Info"] for r in dicts(watcher, "SHOW FULL PROCESSLIST") if "sleep(3)" in r["Info"]]
                info = found[0] if found else None
                time.sleep(0.05)
            assert info == masked
    finally:
        thread.join(30)
    assert got["rows"] == [(1, 0, f"IDENTIFIED BY '{secret}'", f'"password" = "{secret}"')]


def test_materialized_view_trailing_properties(conn: pymysql.connections.Connection) -> None:
    q(
        conn,
        f"CREATE TABLE {DB}.base (k INT, s VARCHAR(64), v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) "
        "BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    q(conn, f"INSERT INTO {DB}.base VALUES (1, 'PROPERTIES (\"a\" = \"b\")', 10), (1, 'x', 5), (2, 'y', 7)")
    q(conn, f"CREATE MATERIALIZED VIEW mv_sum AS SELECT k, sum(v) FROM {DB}.base GROUP BY k PROPERTIES ('a' = 'b');")
    q(
        conn,
        f"CREATE MATERIALIZED VIEW mv_where AS SELECT k, s FROM {DB}.base "
        'WHERE s != \'PROPERTIES ("a" = "b")\' PROPERTIES ("replication_num" = "1")',
    )
    indexes = {r["IndexName"]: r for r in dicts(conn, f"DESC {DB}.base ALL") if r["IndexName"]}
    assert list(indexes) == ["base", "mv_sum", "mv_where"]
    assert indexes["mv_where"]["WhereClause"] == '(`s` <> \'PROPERTIES ("a" = "b")\')'
    assert q(conn, f"SELECT k, sum(v) FROM {DB}.base GROUP BY k ORDER BY k") == [(1, 15), (2, 7)]


def test_show_snapshot_takes_any_comparison(conn: pymysql.connections.Connection, location: Path) -> None:
    make_table(conn, DB, "snapped", rows=3, buckets=1)
    for label in ("snap_a", "snap_b"):
        q(conn, f"BACKUP SNAPSHOT {DB}.{label} TO {REPO} ON (snapped)")
        finished(conn, DB, label)
    stamp, _info = info_file(location, REPO, "snap_a")
    # two more backups of snap_a, one older and one newer (the same info under other timestamps)
    directory = snapshot_dir(location, REPO, "snap_a")
    original = next(directory.glob(f"__info_{stamp}.*"))
    early, late = "2000-01-01-00-00-00", "2999-12-31-23-59-59"
    for other in (early, late):
        shutil.copy(original, directory / original.name.replace(stamp, other))
    where = f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = 'snap_a'"
    assert q(conn, where) == [("snap_a", f"{early}\n{stamp}\n{late}", "OK")]

    def backups(condition: str) -> list[str]:
        names, rows = described(conn, f"{where} AND {condition}")
        assert names == ["Snapshot", "Timestamp", "Database", "Details", "Status"]
        assert all(r[0] == "snap_a" and r[2] == DB and r[4] == "OK" for r in rows), rows
        return [r[1] for r in rows]

    assert backups(f"TIMESTAMP > '{early}'") == [stamp, late]
    assert backups(f"TIMESTAMP >= '{early}'") == [early, stamp, late]
    assert backups(f"TIMESTAMP < '{stamp}'") == [early]
    assert backups(f"TIMESTAMP <= '{stamp}'") == [early, stamp]
    assert backups(f"TIMESTAMP != '{stamp}'") == [early, late]
    assert backups(f"timestamp<>'{stamp}'") == [early, late]
    assert backups(f"TIMESTAMP <=> '{stamp}'") == [stamp]
    assert backups("TIMESTAMP > '2999-12-31-23-59-59'") == []
    assert backups("TIMESTAMP >= '2999'") == [late]  # a shorter prefix sorts before the times it starts
    listed = q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT > 'snap_a'")
    assert [r[0] for r in listed] == ["snap_b"]
    assert [r[0] for r in q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT != 'snap_b'")] == ["snap_a"]
    names, rows = described(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT <= 'snap_b' AND TIMESTAMP > '{late}'")
    assert (names[2], rows) == ("Database", [])
    message = (
        "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
        "'2018-04-18-19-19-10'] [AND SNAPSHOTTYPE = 'remote' | 'local']"
    )
    assert doris_err(conn, f"SHOW SNAPSHOT ON {REPO} WHERE TIMESTAMP > '{early}'") == message  # needs SNAPSHOT
    assert doris_err(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT LIKE 'snap%'") == message
    expect_error(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT 'snap_a'", 1064, "LIKE, '!=', '<', '<=', '<=>', '<>'")


def test_show_create_repository_of_an_unknown_repository(conn: pymysql.connections.Connection) -> None:
    assert doris_err(conn, "SHOW CREATE REPOSITORY FOR nosuch") == "repository not exist."
    assert doris_err(conn, "SHOW SNAPSHOT ON nosuch") == "Repository nosuch does not exist"  # unchanged
    names, rows = described(conn, f"SHOW CREATE REPOSITORY FOR {REPO}")
    assert names == ["RepoName", "CreateStmt"] and rows[0][0] == REPO
