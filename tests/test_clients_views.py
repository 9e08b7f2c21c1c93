"""Views through the clients that showed them broken (issue 12, items 1-3): the mysql CLI interactive in a
database holding views (``use db`` sends COM_FIELD_LIST for every table and view; column completion;
a query; ``\\s``), MariaDB ODBC's SQLColumns / SQLSpecialColumns (pyodbc ``cursor.columns()`` /
``rowIdColumns()``, statements with ``@dt := ...`` inside CASE over information_schema), SQLAlchemy's
``get_columns`` of a view, and a view's columns in SHOW [FULL] COLUMNS, DESC and information_schema.COLUMNS.
JDBC ``getColumns`` of a view is in test_clients_jdbc.py (tests/java/Probe.java)."""

from __future__ import annotations

import decimal
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from tests.clientkit import Tmux, after, mysql_cmd, odbc_connection, require_module
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, rows

DB = "views_db"
SETUP = (
    f"CREATE DATABASE {DB}",
    f"CREATE TABLE {DB}.sales (sale_id BIGINT NOT NULL, sale_city VARCHAR(32), sale_amount DECIMAL(10, 2), "
    "sale_day DATE) UNIQUE KEY(sale_id) DISTRIBUTED BY HASH(sale_id) BUCKETS 1",
    f"INSERT INTO {DB}.sales VALUES (1, 'Beijing', 12.50, '2024-01-01'), (2, 'Paris', 3.25, '2024-01-02'), "
    "(3, 'Paris', 4.00, '2024-01-03')",
    # a view that takes columns as they are, and computes one
    f"CREATE VIEW {DB}.paris_sales AS SELECT sale_id, sale_city, sale_amount * 2 AS doubled_amount "
    f"FROM {DB}.sales WHERE sale_city = 'Paris'",
    # an aggregate, with its own column names
    f"CREATE VIEW {DB}.city_totals (city, orders, revenue) AS SELECT sale_city, count(*), sum(sale_amount) "
    f"FROM {DB}.sales GROUP BY sale_city",
)


@pytest.fixture(scope="module")
def srv(server: DorisbkServer) -> DorisbkServer:
    with server.connect() as c:
        for sql in SETUP:
            rows(c, sql)
    return server


@pytest.fixture
def conn(srv: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with srv.connect(database=DB) as c:
        yield c


# ---------------------------------------------------------------------- SHOW / DESC / information_schema


def test_show_columns_of_a_view(conn: pymysql.connections.Connection) -> None:
    assert rows(conn, "SHOW COLUMNS FROM paris_sales") == [
        ("sale_id", "bigint", "NO", "NO", None, ""),
        ("sale_city", "varchar(32)", "YES", "NO", None, ""),
        ("doubled_amount", "decimal(18,2)", "YES", "NO", None, ""),
    ]
    full = dicts(conn, f"SHOW FULL COLUMNS FROM city_totals FROM {DB}")
    assert [(c["Field"], c["Type"]) for c in full] == [
        ("city", "varchar(32)"),
        ("orders", "bigint"),
        ("revenue", "decimal(38,2)"),
    ]
    assert list(full[0]) == ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
    assert [r[0] for r in rows(conn, "SHOW COLUMNS FROM paris_sales LIKE '%amount'")] == ["doubled_amount"]


def test_desc_of_a_view(conn: pymysql.connections.Connection) -> None:
    assert columns(conn, "DESC paris_sales") == ["Field", "Type", "Null", "Key", "Default", "Extra"]
    assert rows(conn, f"DESCRIBE {DB}.paris_sales") == [
        ("sale_id", "bigint", "No", "false", None, ""),
        ("sale_city", "varchar(32)", "Yes", "false", None, ""),
        ("doubled_amount", "decimal(18,2)", "Yes", "false", None, ""),
    ]


def test_information_schema_columns_of_views(conn: pymysql.connections.Connection) -> None:
    got = rows(
        conn,
        "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, "
        "CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = '{DB}' AND TABLE_NAME IN ('paris_sales', 'city_totals') "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
    )
    assert got == [
        ("city_totals", "city", 1, "varchar", "varchar(32)", "YES", 32, None, None),
        ("city_totals", "orders", 2, "bigint", "bigint(20)", "YES", None, 19, 0),
        ("city_totals", "revenue", 3, "decimal", "decimal(38,2)", "YES", None, 38, 2),
        ("paris_sales", "sale_id", 1, "bigint", "bigint(20)", "NO", None, 19, 0),
        ("paris_sales", "sale_city", 2, "varchar", "varchar(32)", "YES", 32, None, None),
        ("paris_sales", "doubled_amount", 3, "decimal", "decimal(18,2)", "YES", None, 18, 2),
    ]
    # every column of the database, tables and views, in one query (what DBeaver reads)
    names = rows(conn, f"SELECT TABLE_NAME, count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{DB}' "
                       "GROUP BY TABLE_NAME ORDER BY TABLE_NAME")  # fmt: skip
    assert names == [("city_totals", 3), ("paris_sales", 3), ("sales", 4)]


def test_a_view_whose_table_is_gone_has_no_columns(srv: DorisbkServer) -> None:
    with srv.connect() as c:
        rows(c, "CREATE DATABASE views_broken_db")
        rows(c, "CREATE TABLE views_broken_db.t (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
        rows(c, "CREATE VIEW views_broken_db.v AS SELECT k, v FROM views_broken_db.t")
        assert [r[0] for r in rows(c, "SHOW COLUMNS FROM views_broken_db.v")] == ["k", "v"]
        rows(c, "DROP TABLE views_broken_db.t FORCE")
        assert rows(c, "SHOW COLUMNS FROM views_broken_db.v") == []
        listed = "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'views_broken_db'"
        assert rows(c, listed) == []
        assert rows(c, "SHOW FULL TABLES FROM views_broken_db") == [("v", "VIEW")]


# ---------------------------------------------------------------------- the mysql CLI


def _type(tmux: Tmux, text: str, *keys: str) -> None:
    """Type ``text`` literally, then press ``keys`` (``Tab``, ``Enter``), as a user at the terminal."""
    if text.endswith(";"):  # tmux reads a final ';' as its own command separator
        text = text[:-1] + "\\;"
    if text:
        subprocess.run([tmux.tmux, "send-keys", "-t", tmux.name, "-l", text], check=True)
    for key in keys:
        subprocess.run([tmux.tmux, "send-keys", "-t", tmux.name, key], check=True)


@pytest.fixture
def cli(srv: DorisbkServer) -> Iterator[Tmux]:
    tmux = Tmux(f"dorisbk-views-{srv.port}", mysql_cmd(srv.port, "--pager=cat"))
    try:
        tmux.wait_for("]>")
        yield tmux
    finally:
        tmux.close()


def test_mysql_cli_in_a_database_with_views(srv: DorisbkServer, cli: Tmux) -> None:
    # use db: COM_INIT_DB, then auto-rehash: SHOW DATABASES, SHOW TABLES and COM_FIELD_LIST for every
    # table and view; each must be answered, or every later statement is "Server has gone away"
    cli.send(f"use {DB}")
    screen = cli.wait_for(f"MySQL [{DB}]>")
    assert after(screen, f"use {DB}\n").startswith(
        "Reading table information for completion of table and column names\n"
        "You can turn off this feature to get a quicker startup with -A\n\n"
        "Database changed\n"
    ), screen

    # completion knows every column of a view, not only its first (a view's third, a view's second
    # qualified by the view, a table's fourth qualified by the table); each completion adds a space
    _type(cli, "SELECT doubled_am", "Tab")
    cli.wait_for("SELECT doubled_amount")  # (the screen shows no trailing blank)
    _type(cli, ", paris_sales.sale_ci", "Tab")
    cli.wait_for("SELECT doubled_amount , paris_sales.sale_city")
    _type(cli, ", sales.sale_da", "Tab")
    cli.wait_for(", paris_sales.sale_city , sales.sale_day")
    _type(cli, "FROM paris_sales JOIN sales ON paris_sales.sale_id = sales.sale_id ORDER BY sales.sale_id;", "Enter")
    screen = cli.wait_for("2 rows in set")
    table = after(screen, "ORDER BY sales.sale_id;\n")
    lines = [line for line in table.splitlines() if line.startswith("|")]
    assert [[cell.strip() for cell in line.strip("|").split("|")] for line in lines] == [
        ["doubled_amount", "sale_city", "sale_day"],
        ["6.50", "Paris", "2024-01-02"],
        ["8.00", "Paris", "2024-01-03"],
    ], table

    cli.send("SELECT city, orders FROM city_totals ORDER BY city;")
    screen = cli.wait_for("2 rows in set", count=2)
    assert re.search(r"^\| Paris +\| +2 \|$", after(screen, "FROM city_totals"), re.M), screen

    # \s: the status of this connection, with the database holding views current
    cli.send("\\s")
    screen = cli.wait_for("Queries per second avg:")  # the last line but one of the status
    status = after(screen, "\\s\n")
    fields = dict(re.findall(r"^([A-Za-z. ]+):\s+(.*)$", status, re.M))
    assert fields["Current database"] == DB
    assert fields["Server version"].startswith("5.7.99-dorisbk Doris version")
    assert "Uptime:" in status
    for bad in ("ERROR", "gone away", "Lost connection"):
        assert bad not in screen, screen
    assert "Traceback" not in srv.log()


def test_com_field_list_answers_for_tables_and_views(srv: DorisbkServer) -> None:
    """COM_FIELD_LIST (``mysql_list_fields``) as the CLI's completion reads it: one column definition per
    column with its schema, table, name and type, the default as a length-encoded string, then EOF."""
    from pymysql.constants import COMMAND, FIELD_TYPE

    with srv.connect(database=DB) as c:
        got: dict[str, list[tuple[str, str, str, int]]] = {}
        for table in ("sales", "paris_sales", "city_totals"):
            c._execute_command(COMMAND.COM_FIELD_LIST, table.encode() + b"\0")  # noqa: SLF001 - no public API
            fields = []
            while True:
                packet = c._read_packet()  # noqa: SLF001
                if packet.is_eof_packet():
                    break
                field = pymysql.protocol.FieldDescriptorPacket(packet.get_all_data(), "utf8")
                fields.append((field.db.decode(), field.table_name, field.name, field.type_code))
            got[table] = fields
        assert got["sales"] == [
            (DB, "sales", "sale_id", FIELD_TYPE.LONGLONG),
            (DB, "sales", "sale_city", FIELD_TYPE.VAR_STRING),
            (DB, "sales", "sale_amount", FIELD_TYPE.NEWDECIMAL),
            (DB, "sales", "sale_day", FIELD_TYPE.DATE),
        ]
        assert got["paris_sales"] == [
            (DB, "paris_sales", "sale_id", FIELD_TYPE.LONGLONG),
            (DB, "paris_sales", "sale_city", FIELD_TYPE.VAR_STRING),
            (DB, "paris_sales", "doubled_amount", FIELD_TYPE.NEWDECIMAL),
        ]
        assert [f[2] for f in got["city_totals"]] == ["city", "orders", "revenue"]
        assert rows(c, "SELECT 1") == [(1,)]  # the connection is still in step


# ---------------------------------------------------------------------- MariaDB ODBC


@pytest.fixture(scope="module")
def odbc(srv: DorisbkServer) -> Iterator[Any]:
    with odbc_connection(srv.port, DB) as connection:
        yield connection


def _columns(cursor: Any) -> list[tuple]:
    """SQLColumns rows as a BI tool reads them: name, SQL type, type name, size, digits, nullable, position."""
    return [
        (r.column_name, r.data_type, r.type_name, r.column_size, r.decimal_digits, r.nullable, r.ordinal_position)
        for r in cursor
    ]


def test_odbc_sqlcolumns_of_a_table_and_a_view(odbc: Any) -> None:
    pyodbc = require_module("pyodbc")
    cur = odbc.cursor()
    assert _columns(cur.columns(table="sales")) == [
        ("sale_id", pyodbc.SQL_BIGINT, "BIGINT", 19, 0, 0, 1),
        ("sale_city", pyodbc.SQL_WVARCHAR, "VARCHAR", 32, None, 1, 2),
        ("sale_amount", pyodbc.SQL_DECIMAL, "DECIMAL", 10, 2, 1, 3),
        ("sale_day", pyodbc.SQL_TYPE_DATE, "DATE", 10, None, 1, 4),
    ]
    assert _columns(cur.columns(table="paris_sales")) == [
        ("sale_id", pyodbc.SQL_BIGINT, "BIGINT", 19, 0, 0, 1),
        ("sale_city", pyodbc.SQL_WVARCHAR, "VARCHAR", 32, None, 1, 2),
        ("doubled_amount", pyodbc.SQL_DECIMAL, "DECIMAL", 18, 2, 1, 3),
    ]
    assert [r.column_name for r in cur.columns(table="city_totals")] == ["city", "orders", "revenue"]
    # every table of the catalog, with a pattern
    assert {r.table_name for r in cur.columns(table="%", column="sale_city")} == {"sales", "paris_sales"}


def test_odbc_sqlspecialcolumns(odbc: Any) -> None:
    cur = odbc.cursor()
    # the UNIQUE KEY column identifies a row of the table; a view has no such column
    assert [r.column_name for r in cur.rowIdColumns("sales")] == ["sale_id"]
    assert list(cur.rowIdColumns("paris_sales")) == []
    # and the driver's statements leave the connection usable
    cur.execute("SELECT sum(doubled_amount) FROM paris_sales")
    assert cur.fetchone()[0] == decimal.Decimal("14.50")


# ---------------------------------------------------------------------- SQLAlchemy


def test_sqlalchemy_reflects_a_view(srv: DorisbkServer) -> None:
    sqlalchemy = require_module("sqlalchemy")
    engine = sqlalchemy.create_engine(f"mysql+pymysql://root@127.0.0.1:{srv.port}/{DB}")
    try:
        inspector = sqlalchemy.inspect(engine)
        assert sorted(inspector.get_view_names()) == ["city_totals", "paris_sales"]
        got = {c["name"]: c for c in inspector.get_columns("paris_sales")}
        assert list(got) == ["sale_id", "sale_city", "doubled_amount"]
        assert isinstance(got["sale_id"]["type"], sqlalchemy.BIGINT)
        assert isinstance(got["sale_city"]["type"], sqlalchemy.VARCHAR) and got["sale_city"]["type"].length == 32
        assert isinstance(got["doubled_amount"]["type"], sqlalchemy.DECIMAL)
        assert got["doubled_amount"]["type"].scale == 2
        # pandas-style: a table object reflected from the view, then queried
        view = sqlalchemy.Table("city_totals", sqlalchemy.MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            result = connection.execute(sqlalchemy.select(view.c.city, view.c.orders).order_by(view.c.city))
            assert [tuple(r) for r in result] == [("Beijing", 1), ("Paris", 2)]
    finally:
        engine.dispose()
