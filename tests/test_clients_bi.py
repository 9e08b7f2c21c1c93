"""What BI tools and drivers ask on connect and while browsing (DBeaver, Metabase, Tableau,
Superset, Connector/J, MariaDB J, ODBC): the SET statements they send, SELECT @@variables,
information_schema SCHEMATA / TABLES / COLUMNS for the real databases, SHOW FULL COLUMNS, SHOW
TABLE STATUS, SHOW INDEX, SHOW CHARSET / COLLATION, and realistic column types on the wire."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pymysql
import pytest
from pymysql.constants import FIELD_TYPE

from tests.clientkit import tool_binary
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, one, rows

DB = "bi_db"


@pytest.fixture(scope="module")
def conn(server: DorisbkServer):
    with server.connect() as c:
        rows(c, f"CREATE DATABASE {DB}")
        rows(
            c,
            f"CREATE TABLE {DB}.orders (order_id BIGINT NOT NULL COMMENT 'the id', city VARCHAR(32), "
            "note STRING, amount DECIMAL(10, 2), qty INT, day DATE, at DATETIME, ok BOOLEAN) "
            "UNIQUE KEY(order_id) DISTRIBUTED BY HASH(order_id) BUCKETS 2",
        )
        rows(c, f"INSERT INTO {DB}.orders VALUES (1, 'Beijing', 'n', 9.99, 3, '2024-01-01', '2024-01-01 10:00:00', "
                "true), (2, 'Paris', NULL, 1.00, 1, '2024-01-02', '2024-01-02 11:00:00', false)")  # fmt: skip
        rows(c, f"CREATE VIEW {DB}.paris AS SELECT order_id, amount FROM {DB}.orders WHERE city = 'Paris'")
        yield c


def test_connect_time_set_statements(conn: pymysql.connections.Connection) -> None:
    for stmt in (
        "SET NAMES utf8mb4",  # PyMySQL, mysqlclient
        "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'",  # mysql-connector-python
        "SET @@session.autocommit = OFF",
        "SET autocommit=1",
        "SET character_set_results = NULL",  # Connector/J
        "SET sql_mode='ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES'",
        "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')",  # MariaDB J, MariaDB ODBC
        "SET SESSION SQL_AUTO_IS_NULL=0",  # MariaDB ODBC
        "SET session_track_schema= ON",
        "SET session_track_system_variables='autocommit,transaction_isolation'",
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET net_write_timeout = 600",
        "SET sql_select_limit = DEFAULT",
    ):
        assert rows(conn, stmt) == [], stmt


def test_usual_variables(conn: pymysql.connections.Connection) -> None:
    names = (
        "version", "version_comment", "auto_increment_increment", "character_set_client",
        "character_set_connection", "character_set_results", "character_set_server", "collation_server",
        "collation_connection", "init_connect", "interactive_timeout", "license", "lower_case_table_names",
        "max_allowed_packet", "net_write_timeout", "performance_schema", "query_cache_size", "query_cache_type",
        "sql_mode", "system_time_zone", "time_zone", "transaction_isolation", "tx_isolation", "wait_timeout",
        "tx_read_only", "transaction_read_only", "autocommit", "storage_engine", "default_storage_engine",
        "sql_select_limit", "port", "have_ssl", "language",
    )  # fmt: skip
    got = dicts(conn, "SELECT " + ", ".join(f"@@{n} AS {n}" for n in names))[0]
    for name in names:
        assert got[name] is not None, name
    assert got["version"].startswith("5.7.99")
    assert got["version_comment"].startswith("Doris version") and "dorisbk" in got["version_comment"]
    assert got["lower_case_table_names"] == 0
    assert got["tx_read_only"] == 0
    assert one(conn, "SELECT @@session.transaction_read_only") == 0
    assert one(conn, "SELECT @@global.max_allowed_packet") > 0
    assert dict(rows(conn, "SHOW VARIABLES LIKE 'version_comment'"))["version_comment"] == got["version_comment"]
    assert columns(conn, "SHOW VARIABLES LIKE 'version'") == ["Variable_name", "Value"]


def test_information_schema_lists_real_databases_and_tables(conn: pymysql.connections.Connection) -> None:
    schemata = rows(conn, "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA")
    assert (DB, "utf8mb4") in schemata and ("information_schema", "utf8mb4") in schemata
    tables = dicts(
        conn,
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, TABLE_COMMENT FROM information_schema.TABLES "
        f"WHERE TABLE_SCHEMA = '{DB}' ORDER BY TABLE_NAME",
    )
    assert tables == [
        {"TABLE_NAME": "orders", "TABLE_TYPE": "BASE TABLE", "ENGINE": "Doris", "TABLE_ROWS": 2, "TABLE_COMMENT": ""},
        {"TABLE_NAME": "paris", "TABLE_TYPE": "VIEW", "ENGINE": None, "TABLE_ROWS": None, "TABLE_COMMENT": "VIEW"},
    ]
    # lower-case names work too, and columns keep the case they were asked with
    assert rows(conn, f"select table_name from information_schema.tables where table_schema = '{DB}' "
                      "and table_type = 'VIEW'") == [("paris",)]  # fmt: skip
    assert columns(conn, "SELECT table_name AS t, TABLE_SCHEMA FROM information_schema.TABLES LIMIT 1") == [
        "t",
        "TABLE_SCHEMA",
    ]
    # USE information_schema, then unqualified names
    with conn.cursor() as cur:
        cur.execute("USE information_schema")
        cur.execute(f"SELECT count(*) FROM TABLES WHERE TABLE_SCHEMA = '{DB}'")
        assert cur.fetchone() == (2,)
        cur.execute("USE " + DB)


def test_information_schema_columns(conn: pymysql.connections.Connection) -> None:
    got = dicts(
        conn,
        "SELECT COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, "
        "NUMERIC_PRECISION, NUMERIC_SCALE, COLUMN_KEY, COLUMN_COMMENT FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = '{DB}' AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION",
    )
    assert [(r["COLUMN_NAME"], r["ORDINAL_POSITION"], r["DATA_TYPE"], r["COLUMN_TYPE"]) for r in got] == [
        ("order_id", 1, "bigint", "bigint(20)"),
        ("city", 2, "varchar", "varchar(32)"),
        ("note", 3, "text", "text"),
        ("amount", 4, "decimal", "decimal(10,2)"),
        ("qty", 5, "int", "int(11)"),
        ("day", 6, "date", "date"),
        ("at", 7, "datetime", "datetime"),
        ("ok", 8, "tinyint", "tinyint(1)"),
    ]
    first, city, _note, amount = got[:4]
    assert first["IS_NULLABLE"] == "NO" and first["COLUMN_KEY"] == "UNI" and first["COLUMN_COMMENT"] == "the id"
    assert city["CHARACTER_MAXIMUM_LENGTH"] == 32 and city["COLUMN_KEY"] == ""
    assert (amount["NUMERIC_PRECISION"], amount["NUMERIC_SCALE"]) == (10, 2)
    # what MariaDB Connector/J's getColumns asks (functions the in-memory executor did not know)
    got = rows(
        conn,
        "SELECT COLUMN_NAME, IF(NUMERIC_PRECISION IS NULL, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION), "
        "LEAST(COALESCE(CHARACTER_OCTET_LENGTH, 0), 100), UCASE(DATA_TYPE) FROM INFORMATION_SCHEMA.COLUMNS "
        "WHERE TABLE_SCHEMA LIKE 'bi\\_db' AND TABLE_NAME LIKE 'ord%' ORDER BY ORDINAL_POSITION LIMIT 2",
    )
    assert got == [("order_id", 19, 0, "BIGINT"), ("city", 32, 100, "VARCHAR")]


def test_show_statements_bi_tools_use(conn: pymysql.connections.Connection) -> None:
    full = dicts(conn, f"SHOW FULL COLUMNS FROM orders FROM {DB}")
    assert [c["Field"] for c in full] == ["order_id", "city", "note", "amount", "qty", "day", "at", "ok"]
    assert list(full[0]) == ["Field", "Type", "Collation", "Null", "Key", "Default", "Extra", "Privileges", "Comment"]
    assert full[0]["Comment"] == "the id"
    status = dicts(conn, f"SHOW TABLE STATUS FROM {DB}")
    assert [s["Name"] for s in status] == ["orders", "paris"]
    assert status[0]["Engine"] == "Doris" and status[0]["Rows"] == "2" and status[1]["Comment"] == "VIEW"
    assert [s["Name"] for s in dicts(conn, f"SHOW TABLE STATUS FROM {DB} LIKE 'ord%'")] == ["orders"]
    assert columns(conn, f"SHOW INDEX FROM {DB}.orders")[:5] == [
        "Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name"
    ]  # fmt: skip
    assert ("utf8mb4", "UTF-8 Unicode", "utf8mb4_0900_bin", 4) in rows(conn, "SHOW CHARACTER SET")
    assert [r[0] for r in rows(conn, "SHOW COLLATION LIKE 'utf8mb4_0900%'")] == ["utf8mb4_0900_bin"]
    assert rows(conn, "SHOW ENGINES")
    assert dict(rows(conn, "SHOW STATUS LIKE 'Uptime'"))["Uptime"].isdigit()


def test_wire_types_and_lengths(conn: pymysql.connections.Connection) -> None:
    with conn.cursor() as cur:
        cur.execute(f"SELECT order_id, city, note, amount, qty, day, at, ok FROM {DB}.orders LIMIT 1")
        cur.fetchall()
        got = [(d[0], d[1], d[3]) for d in cur.description]
    assert got == [
        ("order_id", FIELD_TYPE.LONGLONG, 20),
        ("city", FIELD_TYPE.VAR_STRING, 32),  # VARCHAR(32): 96 bytes; PyMySQL divides by utf8's 3 bytes a character
        ("note", FIELD_TYPE.VAR_STRING, 21844),  # STRING: 65533 bytes
        ("amount", FIELD_TYPE.NEWDECIMAL, 12),  # DECIMAL(10, 2): digits, point and sign
        ("qty", FIELD_TYPE.LONG, 11),
        ("day", FIELD_TYPE.DATE, 10),
        ("at", FIELD_TYPE.DATETIME, 19),
        ("ok", FIELD_TYPE.TINY, 1),  # BOOLEAN, as MySQL's TINYINT(1)
    ]
    texts = ("SHOW DATABASES", "SHOW VARIABLES LIKE 'version'", "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA",
             f"SHOW BACKUP FROM {DB}", "SELECT @@version_comment")  # fmt: skip
    for sql in texts:
        with conn.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()
            assert {d[1] for d in cur.description} == {FIELD_TYPE.VAR_STRING}, sql


def test_unknown_information_schema_table(conn: pymysql.connections.Connection) -> None:
    with pytest.raises(pymysql.err.ProgrammingError) as info:
        rows(conn, "SELECT * FROM information_schema.no_such_table")
    assert info.value.args[0] == 1146
    with pytest.raises(pymysql.err.MySQLError) as info:
        rows(conn, f"SELECT * FROM information_schema.TABLES t JOIN {DB}.orders o ON 1 = 1")
    assert "\x1b[" not in str(info.value)


def test_superset_doris_engine_spec(conn: pymysql.connections.Connection, server: DorisbkServer) -> None:
    """Superset itself (its Doris engine spec through pydoris's doris:// URI, in Superset's own venv): the
    catalogs, schemas, tables and columns it browses, and a chart's aggregate query."""
    chart = f"SELECT city, SUM(amount) AS total FROM {DB}.orders GROUP BY city ORDER BY total DESC LIMIT 100"
    out = subprocess.run(
        [tool_binary("superset", "python"), str(Path(__file__).with_name("superset_probe.py")), str(server.port),
         DB, "orders", chart],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["engine"] == "pydoris"  # Superset names its Doris engine spec after the driver
    assert found["catalogs"] == ["internal"]
    assert DB in found["schemas"] and "information_schema" in found["schemas"]
    assert found["tables"] == ["orders"]  # views are listed apart by Superset
    assert found["columns"][:4] == [["order_id", "BIGINT"], ["city", "VARCHAR(32)"], ["note", "VARCHAR"],
                                    ["amount", "DECIMAL(10, 2)"]]  # fmt: skip
    assert found["rows"] == [["Beijing", "9.99"], ["Paris", "1.00"]]
