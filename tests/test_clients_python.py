"""Python drivers against a real server: PyMySQL, mysqlclient, mysql-connector-python (text and
server-side prepared statements) and SQLAlchemy reflection; prepared-statement parameters are
bound as literals that no string can escape from."""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dorisbk.server.compat import quote_string, split_placeholders, sql_literal
from tests.clientkit import ERR_PREFIX, ROOT, require_module
from tests.dorisbk_server import DorisbkServer

DB = "py_db"
NASTY = [
    "it's",
    "O''Brien",
    'say "hi"',
    "back\\slash",
    "trailing backslash \\",
    "\\'",
    "\\\\'; DROP TABLE py_db.people; -- ",
    "x' OR '1'='1",
    "x' OR 1=1 -- ",
    "'; DROP DATABASE py_db; #",
    "a?b",
    "/* ? */ ?",
    "new\nline\ttab",
    "nul\0byte",
    "ünïcødé ✓ 😀",
    "",
]


@pytest.fixture(scope="module")
def srv(server: DorisbkServer) -> DorisbkServer:
    with server.connect() as c, c.cursor() as cur:
        cur.execute(f"CREATE DATABASE {DB}")
        cur.execute(
            f"CREATE TABLE {DB}.people (id BIGINT, name VARCHAR(64), score DOUBLE, born DATE, seen DATETIME, "
            "balance DECIMAL(12, 2)) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2"
        )
        cur.execute(
            f"INSERT INTO {DB}.people VALUES (1, 'alice', 1.5, '1990-01-02', '2024-05-06 07:08:09', 10.25), "
            "(2, 'bob', 2.5, '1985-03-04', '2024-05-06 10:11:12', -3.50)"
        )
    return server


def people_count(srv: DorisbkServer) -> int:
    return srv.query(f"SELECT count(*) FROM {DB}.people")[0][0]


# ---------------------------------------------------------------- binding, as a unit


def test_placeholders_outside_strings_and_comments_only() -> None:
    assert split_placeholders("SELECT ?, '?', \"?\", `?`, ? -- ?\n, ? /* ? */ # ?") == [
        "SELECT ",
        ", '?', \"?\", `?`, ",
        " -- ?\n, ",
        " /* ? */ # ?",
    ]
    assert split_placeholders("SELECT 'it\\'s ?', ?") == ["SELECT 'it\\'s ?', ", ""]
    assert split_placeholders("SELECT 'a''?', ?") == ["SELECT 'a''?', ", ""]


def test_literals() -> None:
    assert sql_literal(None) == "NULL"
    assert sql_literal(True) == "TRUE"
    assert sql_literal(-12) == "-12"
    assert sql_literal(1.5) == "1.5"
    assert sql_literal(float("nan")) == "'nan'"
    assert sql_literal(dt.datetime(2024, 1, 2, 3, 4, 5)) == "'2024-01-02 03:04:05'"
    assert sql_literal(dt.date(2024, 1, 2)) == "'2024-01-02'"
    assert sql_literal(b"\x00\xff") == "X'00FF'"
    assert quote_string("it's \\ ok") == "'it\\'s \\\\ ok'"


# ---------------------------------------------------------------- PyMySQL


def test_pymysql(srv: DorisbkServer) -> None:
    pymysql = require_module("pymysql")
    with srv.connect(database=DB) as c, c.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute("SELECT id, name, score, born, seen, balance FROM people ORDER BY id")
        rows = cur.fetchall()
        assert rows[0] == {
            "id": 1,
            "name": "alice",
            "score": 1.5,
            "born": dt.date(1990, 1, 2),
            "seen": dt.datetime(2024, 5, 6, 7, 8, 9),
            "balance": decimal.Decimal("10.25"),
        }
        for value in NASTY:  # client-side interpolation, escaped by PyMySQL
            cur.execute("SELECT %s AS v, count(*) AS n FROM people WHERE name = %s", (value, value))
            assert cur.fetchone() == {"v": value, "n": 0}, value
        with pytest.raises(pymysql.err.ProgrammingError) as info:
            cur.execute("SELECT * FROM people_nope")
        assert info.value.args[0] == 1146
        assert info.value.args[1].startswith(ERR_PREFIX)
    assert people_count(srv) == 2


# ---------------------------------------------------------------- mysqlclient (libmariadb)


def test_mysqlclient(srv: DorisbkServer) -> None:
    mysqldb = require_module("MySQLdb")
    conn = mysqldb.connect(host="127.0.0.1", port=srv.port, user="root", database=DB, charset="utf8mb4")
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, name, balance FROM people WHERE name = %s", ("bob",))
        assert cur.fetchall() == ((2, "bob", decimal.Decimal("-3.50")),)
        assert [d[1] for d in cur.description] == [8, 253, 246]  # LONGLONG, VAR_STRING, NEWDECIMAL
        for value in NASTY[:12]:
            cur.execute("SELECT %s AS v", (value,))
            assert cur.fetchone() == (value,), value
        with pytest.raises(mysqldb.ProgrammingError) as info:
            cur.execute("SELECT * FROM people_nope")
        assert info.value.args[0] == 1146
        conn.ping()
        assert "Uptime:" in conn.stat()  # COM_STATISTICS
    finally:
        conn.close()


# ---------------------------------------------------------------- mysql-connector-python


@pytest.fixture
def connector(srv: DorisbkServer) -> Iterator[Any]:
    mysql_connector = require_module("mysql.connector")
    conn = mysql_connector.connect(
        host="127.0.0.1", port=srv.port, user="root", password="", database=DB, use_pure=True, autocommit=True
    )
    try:
        yield conn
    finally:
        conn.close()


def test_mysql_connector_text_protocol(connector: Any) -> None:
    errors = require_module("mysql.connector.errors")
    cur = connector.cursor()
    cur.execute("SELECT name FROM people WHERE id = %s", (1,))
    assert cur.fetchall() == [("alice",)]
    with pytest.raises(errors.ProgrammingError) as info:
        cur.execute("SELECT * FROM people_nope")
    assert info.value.errno == 1146 and info.value.sqlstate == "42S02"
    assert info.value.msg.startswith(ERR_PREFIX)


def test_mysql_connector_prepared(srv: DorisbkServer, connector: Any) -> None:
    cur = connector.cursor(prepared=True)
    cur.execute("SELECT id, name FROM people WHERE name = ?", ("alice",))
    assert cur.fetchall() == [(1, "alice")]
    cur.execute(
        "SELECT ? AS s, ? AS i, ? AS f, ? AS d, ? AS n, ? AS b, ? AS dt, '?' AS q",
        ("it's", 2**62, 0.25, decimal.Decimal("-12.50"), None, True, dt.datetime(2024, 1, 2, 3, 4, 5)),
    )
    assert cur.fetchall() == [
        ("it's", 2**62, decimal.Decimal("0.25"), decimal.Decimal("-12.50"), None, 1, "2024-01-02 03:04:05", "?")
    ]
    for value in NASTY:
        cur.execute("SELECT ? AS v", (value,))
        assert cur.fetchall() == [(value,)], value
        cur.execute("SELECT count(*) FROM people WHERE name = ?", (value,))
        assert cur.fetchall() == [(0,)], value
    cur.execute("SELECT count(*) FROM people WHERE name = ? OR id = ?", ("x' OR '1'='1", 2))
    assert cur.fetchall() == [(1,)]
    assert people_count(srv) == 2
    assert [r[0] for r in srv.query("SHOW DATABASES")].count(DB) == 1


# ---------------------------------------------------------------- SQLAlchemy


# SQLAlchemy's MySQL dialect warns about the Doris clauses of SHOW CREATE TABLE (as with real Doris)
@pytest.mark.filterwarnings("ignore:Unknown schema content")
def test_sqlalchemy_reflection(srv: DorisbkServer) -> None:
    sqlalchemy = require_module("sqlalchemy")
    engine = sqlalchemy.create_engine(f"mysql+pymysql://root@127.0.0.1:{srv.port}/{DB}")
    try:
        inspector = sqlalchemy.inspect(engine)
        assert DB in inspector.get_schema_names()
        assert inspector.get_table_names() == ["people"]
        columns = {c["name"]: c for c in inspector.get_columns("people")}
        assert list(columns) == ["id", "name", "score", "born", "seen", "balance"]
        assert isinstance(columns["id"]["type"], sqlalchemy.BIGINT)
        assert isinstance(columns["name"]["type"], sqlalchemy.VARCHAR) and columns["name"]["type"].length == 64
        assert isinstance(columns["balance"]["type"], sqlalchemy.DECIMAL)
        assert isinstance(columns["born"]["type"], sqlalchemy.DATE)
        table = sqlalchemy.Table("people", sqlalchemy.MetaData(), autoload_with=engine)
        with engine.connect() as c:
            got = c.execute(sqlalchemy.select(table.c.id, table.c.name).where(table.c.score > 2)).all()
            assert [tuple(r) for r in got] == [(2, "bob")]
            got = c.execute(sqlalchemy.select(table.c.name).where(table.c.name == "x' OR '1'='1")).all()
            assert got == []
    finally:
        engine.dispose()


def test_pydoris_dialect_and_pandas(srv: DorisbkServer) -> None:
    """pydoris's SQLAlchemy ``doris://`` dialect: schemas, tables and views, columns with their types,
    a reflected table queried, and the same through pandas.read_sql."""
    sqlalchemy = require_module("sqlalchemy")
    require_module("pydoris")
    pandas = require_module("pandas")
    with srv.connect() as c, c.cursor() as cur:
        cur.execute(f"CREATE VIEW {DB}.rich AS SELECT id, name, balance FROM {DB}.people WHERE balance > 0")
    engine = sqlalchemy.create_engine(f"doris://root:@127.0.0.1:{srv.port}/{DB}")
    try:
        inspector = sqlalchemy.inspect(engine)
        assert {DB, "information_schema", "mysql"} <= set(inspector.get_schema_names())
        assert "people" in inspector.get_table_names() and "rich" not in inspector.get_table_names()
        assert inspector.get_view_names() == ["rich"]
        columns = [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns("people")]
        assert columns == [
            ("id", "BIGINT", True),  # a key declared without NOT NULL
            ("name", "VARCHAR(64)", True),
            ("score", "DOUBLE", True),
            ("born", "DATE", True),
            ("seen", "DATETIME", True),
            ("balance", "DECIMAL(12, 2)", True),
        ]
        assert [(c["name"], str(c["type"])) for c in inspector.get_columns("rich")] == [
            ("id", "BIGINT"), ("name", "VARCHAR(64)"), ("balance", "DECIMAL(12, 2)")
        ]  # fmt: skip
        table = sqlalchemy.Table("people", sqlalchemy.MetaData(), autoload_with=engine)
        with engine.connect() as c:
            got = c.execute(sqlalchemy.select(table.c.name, table.c.balance).order_by(table.c.id)).all()
            assert [tuple(r) for r in got] == [("alice", decimal.Decimal("10.25")), ("bob", decimal.Decimal("-3.50"))]
            frame = pandas.read_sql(sqlalchemy.text("SELECT id, name, balance FROM rich ORDER BY id"), c)
        assert list(frame.columns) == ["id", "name", "balance"]
        assert frame.to_dict("records") == [{"id": 1, "name": "alice", "balance": decimal.Decimal("10.25")}]
    finally:
        engine.dispose()


def test_python_example_runs(srv: DorisbkServer, tmp_path: Path) -> None:
    """examples/python_client.py, as its docstring says to run it."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "python_client.py"), "--port", str(srv.port),
         "--repo-dir", str(tmp_path / "repo")],
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "backup orders_" in out.stdout and "FINISHED [OK]" in out.stdout
    assert "restored table matches: True" in out.stdout
