"""MariaDB ODBC 3.1 (Debian's odbc-mariadb, driver "MariaDB Unicode") through pyodbc: connect,
BIGINT and string columns side by side, parameters (the driver prepares every statement with
COM_STMT_PREPARE and binds with COM_STMT_EXECUTE), errors with their SQLSTATE."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import Any

import pytest

from tests.clientkit import ERR_PREFIX, odbc_connection, require_module
from tests.dorisbk_server import DorisbkServer

DB = "odbc_db"


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[Any]:
    with server.connect() as c, c.cursor() as cur:
        cur.execute(f"CREATE DATABASE {DB}")
        cur.execute(
            f"CREATE TABLE {DB}.events (id BIGINT, kind VARCHAR(16), note STRING, amount DECIMAL(10, 2), "
            "day DATE, at DATETIME) DISTRIBUTED BY HASH(id) BUCKETS 1"
        )
        cur.execute(
            f"INSERT INTO {DB}.events VALUES (9007199254740993, 'click', 'it''s', 1.25, '2024-01-02', "
            "'2024-01-02 03:04:05'), (2, 'view', NULL, NULL, NULL, NULL)"
        )
    with odbc_connection(server.port, DB) as connection:
        yield connection


def test_connect_and_server_info(conn: Any) -> None:
    pyodbc = require_module("pyodbc")
    assert conn.getinfo(pyodbc.SQL_DBMS_VER).startswith("05.07.0000")
    cur = conn.cursor()
    cur.execute("SELECT DATABASE(), @@version_comment")
    db, comment = cur.fetchone()
    assert db == DB and "dorisbk" in comment


def test_bigint_and_string_columns(conn: Any) -> None:
    cur = conn.cursor()
    cur.execute("SELECT id, kind, note, amount, day, at, id * 2 AS twice FROM events ORDER BY id DESC")
    rows = [tuple(r) for r in cur.fetchall()]
    assert rows == [
        (9007199254740993, "click", "it's", decimal.Decimal("1.25"), dt.date(2024, 1, 2),
         dt.datetime(2024, 1, 2, 3, 4, 5), 18014398509481986),
        (2, "view", None, None, None, None, 4),
    ]  # fmt: skip
    assert [d[1] for d in cur.description] == [int, str, str, decimal.Decimal, dt.date, dt.datetime, int]
    cur.execute("SELECT 1, 2, 'three', 4")  # values after a BIGINT are not read as NULL
    assert tuple(cur.fetchone()) == (1, 2, "three", 4)


def test_parameters(conn: Any) -> None:
    cur = conn.cursor()
    cur.execute("SELECT id, kind FROM events WHERE kind = ? AND id > ?", "click", 0)
    assert [tuple(r) for r in cur.fetchall()] == [(9007199254740993, "click")]
    for value in ("it's", "back\\slash", "x' OR '1'='1", "'; DROP TABLE events; -- ", "ünï ✓"):
        cur.execute("SELECT ? AS v, (SELECT count(*) FROM events WHERE kind = ?) AS n", value, value)
        assert tuple(cur.fetchone()) == (value, 0), value
    cur.execute("SELECT ? + 1 AS n", 12345678901234)
    assert cur.fetchone()[0] == 12345678901235
    cur.execute("SELECT count(*) FROM events")
    assert cur.fetchone()[0] == 2


def test_errors_carry_sqlstate(conn: Any) -> None:
    pyodbc = require_module("pyodbc")
    cur = conn.cursor()
    with pytest.raises(pyodbc.Error) as info:
        cur.execute("SELECT * FROM no_such_table")
    state, message = info.value.args
    assert state == "42S02"
    assert ERR_PREFIX in message and "(1146)" in message
    cur.execute("SELECT 42")  # the connection stays usable
    assert cur.fetchone()[0] == 42
