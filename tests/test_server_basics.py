"""Connecting as MySQL clients do: pymysql, the mysql CLI, SQLAlchemy, mysql-connector-python,
and the statements clients send on connect."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pymysql
import pytest
from pymysql.constants import FIELD_TYPE

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, expect_error, mysql_cli, one, rows

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def conn(server: DorisbkServer):
    with server.connect() as c:
        yield c


def test_version_and_version_comment_say_dorisbk(conn) -> None:
    assert "dorisbk" in one(conn, "SELECT VERSION()")
    assert columns(conn, "SELECT VERSION()") == ["VERSION()"]
    comment = one(conn, "SELECT @@version_comment LIMIT 1")
    assert comment.startswith("Doris version") and "dorisbk" in comment
    assert columns(conn, "SELECT @@version_comment LIMIT 1") == ["@@version_comment"]
    assert conn.get_server_info().startswith("5.7.99")


def test_connect_time_statements(conn) -> None:
    # what pymysql, JDBC, SQLAlchemy and the mysql CLI send before any user statement
    for stmt in (
        "SET NAMES utf8mb4",
        "SET NAMES utf8mb4 COLLATE utf8mb4_general_ci",
        "SET autocommit=1",
        "SET SESSION sql_mode='STRICT_TRANS_TABLES'",
        "SET character_set_results = NULL",
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET query_timeout = 600",
    ):
        assert rows(conn, stmt) == []
    assert one(conn, "SELECT @@session.sql_mode") == "STRICT_TRANS_TABLES"
    assert one(conn, "SELECT @@query_timeout") == 600
    assert one(conn, "SELECT DATABASE()") is None
    assert columns(conn, "SELECT DATABASE()") == ["DATABASE()"]
    assert one(conn, "SELECT CONNECTION_ID()") > 0
    assert one(conn, "SELECT CURRENT_USER()").startswith("root")
    assert one(conn, "SELECT 1") == 1
    assert one(conn, "SELECT 1 FROM dual") == 1
    got = dict(rows(conn, "SHOW VARIABLES LIKE 'lower_case_table_names'"))
    assert got == {"lower_case_table_names": "0"}
    names = dict(rows(conn, "SHOW VARIABLES"))
    for name in ("version", "version_comment", "sql_mode", "time_zone", "max_allowed_packet", "autocommit"):
        assert name in names
    many = dicts(
        conn,
        "SELECT @@session.auto_increment_increment AS auto_increment_increment, "
        "@@character_set_client AS character_set_client, @@max_allowed_packet AS max_allowed_packet, "
        "@@net_write_timeout AS net_write_timeout, @@transaction_isolation AS transaction_isolation, "
        "@@license AS license, @@wait_timeout AS wait_timeout",
    )[0]
    assert many["auto_increment_increment"] == 1
    assert many["max_allowed_packet"] > 0
    assert many["license"].startswith("Apache")
    for stmt in ("BEGIN", "COMMIT", "ROLLBACK", "SHOW WARNINGS", "SHOW STATUS"):
        rows(conn, stmt)


def test_use_and_unknown_database(server: DorisbkServer, conn) -> None:
    rows(conn, "CREATE DATABASE IF NOT EXISTS basics_db")
    rows(conn, "USE basics_db")
    assert one(conn, "SELECT DATABASE()") == "basics_db"
    expect_error(conn, "USE no_such_db", 1049, "Unknown database 'no_such_db'")
    assert one(conn, "SELECT DATABASE()") == "basics_db"  # a failed USE changes nothing
    with server.connect(database="basics_db") as c2:
        assert one(c2, "SELECT DATABASE()") == "basics_db"
    with pytest.raises(pymysql.err.OperationalError) as info:
        server.connect(database="no_such_db")
    assert info.value.args[0] == 1049
    conn.select_db("basics_db")  # COM_INIT_DB
    assert one(conn, "SELECT DATABASE()") == "basics_db"


def test_values_come_back_typed(conn) -> None:
    rows(conn, "CREATE DATABASE IF NOT EXISTS basics_types")
    rows(
        conn,
        "CREATE TABLE IF NOT EXISTS basics_types.t (k1 TINYINT, k2 SMALLINT, k3 INT, k4 BIGINT, k5 LARGEINT, "
        "f FLOAT, d DOUBLE, dc DECIMAL(10, 2), dt DATE, dtt DATETIME, c CHAR(5), vc VARCHAR(20), s STRING, b BOOLEAN) "
        "DUPLICATE KEY(k1, k2, k3) DISTRIBUTED BY HASH(k1) BUCKETS 2",
    )
    rows(
        conn,
        "INSERT INTO basics_types.t VALUES (1, 2, 3, 4, 170141183460469231731687303715884105727, 1.5, 2.25, "
        "12.34, '2024-01-01', '2024-01-01 12:34:56', 'abc', 'hello', 'world', true), "
        "(-1, NULL, NULL, NULL, -170141183460469231731687303715884105728, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
        "NULL, NULL)",
    )
    got = rows(conn, "SELECT * FROM basics_types.t ORDER BY k1 DESC")
    assert got[0] == (
        1,
        2,
        3,
        4,
        str(2**127 - 1),  # LARGEINT keeps all 39 digits, as text (Doris sends it as a string)
        1.5,
        2.25,
        decimal.Decimal("12.34"),
        dt.date(2024, 1, 1),
        dt.datetime(2024, 1, 1, 12, 34, 56),
        "abc",
        "hello",
        "world",
        1,
    )
    assert got[1] == (-1, None, None, None, str(-(2**127)), *([None] * 9))
    with conn.cursor() as cur:  # MySQL wire types a client maps to its own types
        cur.execute("SELECT k1, k2, k3, k4, f, d, dc, dt, dtt, vc FROM basics_types.t LIMIT 1")
        cur.fetchall()
        wire = [d[1] for d in cur.description]
    assert wire == [
        FIELD_TYPE.TINY,
        FIELD_TYPE.SHORT,
        FIELD_TYPE.LONG,
        FIELD_TYPE.LONGLONG,
        FIELD_TYPE.FLOAT,
        FIELD_TYPE.DOUBLE,
        FIELD_TYPE.NEWDECIMAL,
        FIELD_TYPE.DATE,
        FIELD_TYPE.DATETIME,
        FIELD_TYPE.VAR_STRING,
    ]
    assert one(conn, "SELECT sum(k5) FROM basics_types.t") == "-1"  # a LARGEINT sum: text, as in Doris


def test_function_columns_are_named_by_their_text(conn) -> None:
    got = dicts(conn, "SELECT count(*), concat('a', 'b'), if(1 > 0, 'y', 'n'), 'lit', 2 + 3")[0]
    assert got == {"count(*)": 1, "concat('a', 'b')": "ab", "if(1 > 0, 'y', 'n')": "y", "lit": "lit", "2 + 3": 5}


def test_usual_functions_without_a_table(conn) -> None:
    got = dicts(
        conn,
        "SELECT date_format('2024-03-05', '%Y-%m') AS ym, datediff('2024-01-03', '2024-01-01') AS dd, "
        "substr('hello', 2, 3) AS sub, ifnull(NULL, 7) AS nn, upper('abc') AS up, year('2024-03-01') AS y, "
        "round(2.567, 2) AS r, now() IS NOT NULL AS has_now, curdate() = current_date() AS today",
    )[0]
    assert got == {
        "ym": "2024-03",
        "dd": 2,
        "sub": "ell",
        "nn": 7,
        "up": "ABC",
        "y": 2024,
        "r": decimal.Decimal("2.57"),
        "has_now": 1,
        "today": 1,
    }


def test_mysql_cli_batch(server: DorisbkServer) -> None:
    out = mysql_cli(server.port, "SHOW DATABASES;\nSELECT VERSION();\n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Database"
    assert "information_schema" in lines
    assert "dorisbk" in lines[-1]
    # -e, a database argument, and an error with its code and SQLSTATE
    out = mysql_cli(server.port, "CREATE DATABASE IF NOT EXISTS cli_db;\nUSE cli_db;\nSELECT DATABASE();\n")
    assert out.returncode == 0 and out.stdout.splitlines()[-1] == "cli_db", out
    out = mysql_cli(server.port, "SELECT 1;\n", database="no_such_db")
    assert out.returncode != 0 and "ERROR 1049 (42000)" in out.stderr, out
    out = mysql_cli(server.port, "SELECT * FROM cli_db.nope;\n")
    assert "ERROR 1146 (42S02)" in out.stderr, out
    out = mysql_cli(server.port, "SELEC 1;\n")
    assert "ERROR 1064 (42000)" in out.stderr, out


def test_mysql_cli_interactive_style_and_vertical(server: DorisbkServer) -> None:
    out = mysql_cli(server.port, "SELECT 1 AS one\\G\n", batch=False)
    assert out.returncode == 0, out.stderr
    assert "one: 1" in out.stdout


def test_quickstart_example_pipes_into_the_cli(server: DorisbkServer) -> None:
    script = (ROOT / "examples" / "quickstart.sql").read_text()
    out = mysql_cli(server.port, script)
    assert out.returncode == 0, out.stderr
    assert "ERROR" not in out.stderr
    with server.connect() as c:
        assert one(c, "SELECT count(*) FROM quickstart.sales") > 0
        assert rows(c, "SHOW PARTITIONS FROM quickstart.sales")


def test_sqlalchemy_engine(server: DorisbkServer) -> None:
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(f"mysql+pymysql://root@127.0.0.1:{server.port}/")
    try:
        with engine.connect() as c:
            c.execute(sqlalchemy.text("CREATE DATABASE IF NOT EXISTS sa_db"))
            c.execute(
                sqlalchemy.text(
                    "CREATE TABLE IF NOT EXISTS sa_db.t (id INT, name VARCHAR(20)) DISTRIBUTED BY HASH(id) BUCKETS 1"
                )
            )
            c.execute(sqlalchemy.text("INSERT INTO sa_db.t VALUES (1, 'one'), (2, 'two')"))
            result = c.execute(sqlalchemy.text("SELECT id, name FROM sa_db.t ORDER BY id"))
            assert [tuple(r) for r in result] == [(1, "one"), (2, "two")]
            assert list(result.keys()) == ["id", "name"]
        inspector = sqlalchemy.inspect(engine)
        assert "sa_db" in inspector.get_schema_names()
    finally:
        engine.dispose()


def test_mysql_connector_python(server: DorisbkServer) -> None:
    connector = pytest.importorskip("mysql.connector")
    c = connector.connect(host="127.0.0.1", port=server.port, user="root", password="", use_pure=True)
    try:
        cur = c.cursor()
        cur.execute("SELECT VERSION()")
        assert "dorisbk" in cur.fetchone()[0]
        cur.execute("SHOW DATABASES")
        assert ("information_schema",) in cur.fetchall()
        with pytest.raises(connector.Error) as info:
            cur.execute("SELECT * FROM no_such_db.t")
        assert info.value.errno == 1049
    finally:
        c.close()


def test_one_connection_survives_errors(conn) -> None:
    for bad in ("SELEC 1", "SELECT * FROM nowhere.t", "DROP TABLE nowhere.t", "USE nowhere"):
        with pytest.raises(pymysql.err.MySQLError):
            rows(conn, bad)
        assert one(conn, "SELECT 41 + 1") == 42


def test_multi_statements_are_refused_whole(conn) -> None:
    rows(conn, "CREATE DATABASE IF NOT EXISTS basics_multi")
    expect_error(conn, "SELECT 1; DROP DATABASE basics_multi", 1064)
    assert ("basics_multi",) in rows(conn, "SHOW DATABASES")
