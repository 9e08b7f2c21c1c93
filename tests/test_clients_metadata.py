"""What clients learn about a result's columns, and the names BI tools write, against a real server:

* column definitions as MySQL and Doris send them, in the text and the binary (prepared) protocol:
  DECIMAL(18,4) with its precision and scale, LARGEINT as text (all 39 digits, beyond 2^63 too),
  DATETIME(3) printed with 3 digits, NOT NULL and key flags, and the database, table and original
  names of a table's or view's columns; read through the mysql CLI, PyMySQL, MySQL Connector/J 8.0
  and MariaDB Connector/J 2.7 (tests/java/MetaProbe.java, plain, client- and server-prepared) and
  MariaDB ODBC 3.1 through pyodbc (which prepares every statement), with ODBC escapes;
* Metabase's three-part column names (`db`.`table`.`column`) and Superset's catalog-qualified
  databases (`internal.db`, `internal.information_schema`) through PyMySQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from pymysql.constants import FIELD_TYPE

from tests.clientkit import (
    CONNECTOR_J_JAR,
    ERR_PREFIX,
    MARIADB_JAVA_JAR,
    ROOT,
    odbc_connection,
    require_binary,
    require_file,
    run_mysql,
)
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import expect_error, rows

DB = "meta_db"
BIG = 2**127 - 1  # LARGEINT's largest
JUST_ABOVE_BIGINT = 2**63
LOW = -(2**127)


@pytest.fixture(scope="module")
def srv(server: DorisbkServer) -> DorisbkServer:
    with server.connect() as c:
        rows(c, f"CREATE DATABASE {DB}")
        rows(c, f"CREATE TABLE {DB}.m (id BIGINT NOT NULL, amount DECIMAL(18, 4), big LARGEINT, at DATETIME(3), "
                "city VARCHAR(32), day DATE) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")  # fmt: skip
        rows(c, f"INSERT INTO {DB}.m VALUES (1, 12.3456, {BIG}, '2024-01-01 12:34:56.345', 'Beijing', '2024-01-01'), "
                f"(2, -0.5, {JUST_ABOVE_BIGINT}, '2024-02-02 01:02:03.100', 'Paris', '2024-02-02'), "
                f"(3, NULL, {LOW}, NULL, NULL, NULL)")  # fmt: skip
        rows(c, f"CREATE TABLE {DB}.city (name VARCHAR(32) NOT NULL, country VARCHAR(32)) "
                "DUPLICATE KEY(name) DISTRIBUTED BY HASH(name) BUCKETS 1")  # fmt: skip
        rows(c, f"INSERT INTO {DB}.city VALUES ('Beijing', 'China'), ('Paris', 'France')")
        rows(c, f"CREATE VIEW {DB}.mv AS SELECT id, amount, big FROM {DB}.m WHERE id < 3")
    return server


# ---------------------------------------------------------------- column definitions


def _description(conn: pymysql.connections.Connection, sql: str) -> dict[str, tuple]:
    with conn.cursor() as cur:
        cur.execute(sql)
        cur.fetchall()
        return {d[0]: d for d in cur.description}


def test_pymysql_sees_types_precision_and_nullability(srv: DorisbkServer) -> None:
    with srv.connect(database=DB) as c:
        got = _description(c, "SELECT id, amount, big, at, city, day, amount * 2 AS twice FROM m")
        # (name, type_code, display_size, internal_size, precision, scale, null_ok)
        assert got["id"][1] == FIELD_TYPE.LONGLONG and got["id"][6] is False  # NOT NULL
        assert got["amount"][1] == FIELD_TYPE.NEWDECIMAL
        assert (got["amount"][3], got["amount"][5], got["amount"][6]) == (20, 4, True)  # 18 digits, point, sign
        assert got["big"][1] == FIELD_TYPE.STRING  # LARGEINT is text, as Doris sends it
        assert got["at"][1] == FIELD_TYPE.DATETIME and got["at"][5] == 3
        assert got["city"][3] == 32  # VARCHAR(32)
        assert got["twice"][1] == FIELD_TYPE.NEWDECIMAL and got["twice"][5] == 4
        assert rows(c, "SELECT big, at FROM m ORDER BY id") == [
            (str(BIG), dt.datetime(2024, 1, 1, 12, 34, 56, 345000)),
            (str(JUST_ABOVE_BIGINT), dt.datetime(2024, 2, 2, 1, 2, 3, 100000)),
            (str(LOW), None),
        ]


def _fields(out: str) -> dict[str, dict[str, str]]:
    """``mysql --column-type-info`` output: each field's lines (Database, Table, Type, Flags...)."""
    fields: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("Field "):
            current = {}
            fields[line.split("`")[1]] = current
        elif ":" in line and current is not None and not line.startswith(("+", "|")):
            key, value = line.split(":", 1)
            current[key.strip()] = value.strip()
    return fields


def test_mysql_cli_column_type_info(srv: DorisbkServer) -> None:
    out = run_mysql(srv.port, "SELECT id, amount, big, at, city, id + 1 AS next FROM m WHERE id = 1;\n"
                              "SELECT * FROM mv WHERE id = 1;\n", "-t", "--column-type-info", DB)  # fmt: skip
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.split("Field   1:")[1:]
    fields = _fields("Field   1:" + first)
    assert fields["id"]["Database"] == f"`{DB}`" and fields["id"]["Table"] == "`m`"
    assert fields["id"]["Org_table"] == "`m`" and fields["id"]["Org_field"] == "`id`"
    assert fields["id"]["Flags"].split() == ["NOT_NULL", "PRI_KEY", "BINARY", "NUM"]
    assert (fields["amount"]["Type"], fields["amount"]["Length"], fields["amount"]["Decimals"]) == (
        "NEWDECIMAL", "20", "4"
    )  # fmt: skip
    assert fields["big"]["Type"] == "STRING" and fields["big"]["Collation"].endswith("(33)")
    assert (fields["at"]["Type"], fields["at"]["Decimals"]) == ("DATETIME", "3")
    assert fields["city"]["Length"] == "96"  # 32 characters of up to 3 bytes
    assert fields["next"]["Table"] == "``"  # an expression belongs to no table
    assert "| 2024-01-01 12:34:56.345 |" in first  # DATETIME(3): three digits
    assert f"| {BIG} |" in first
    view = _fields("Field   1:" + second)  # a view's columns are the view's
    assert view["amount"]["Table"] == "`mv`" and view["amount"]["Org_table"] == "`mv`"
    assert view["amount"]["Decimals"] == "4"


# ---------------------------------------------------------------- JDBC

DRIVERS = {
    "mysql": (CONNECTOR_J_JAR, "jdbc:mysql://127.0.0.1:{port}/?sslMode=DISABLED"),
    "mariadb": (MARIADB_JAVA_JAR, "jdbc:mariadb://127.0.0.1:{port}/"),
}
QUERY = f"SELECT id, amount, big, at FROM {DB}.m WHERE city <> ? OR city IS NULL ORDER BY id"


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MetaProbe.java compiled into a temporary directory (no class file is ever committed)."""
    out = tmp_path_factory.mktemp("metaprobe")
    subprocess.run([require_binary("javac"), "-d", str(out), str(ROOT / "tests" / "java" / "MetaProbe.java")],
                   check=True, timeout=120)  # fmt: skip
    return out


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_jdbc_result_metadata(srv: DorisbkServer, probe_dir: Path, driver: str) -> None:
    jar_path, url = DRIVERS[driver]
    out = subprocess.run(
        [require_binary("java"), "-cp", f"{probe_dir}:{require_file(jar_path)}", "MetaProbe",
         url.format(port=srv.port), "root", "", QUERY, "nowhere"],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    facts = dict(line.split("\t", 1) for line in out.stdout.splitlines())
    assert facts["done"] == "true"
    assert not [k for k in facts if k.endswith(".error")], facts
    # plain statement, client-side prepared, server-side prepared (binary protocol)
    for mode in ("client.text", "client.prepared", "server.text", "server.prepared"):
        assert facts[f"{mode}.amount.type"] == "DECIMAL 3"
        assert (facts[f"{mode}.amount.precision"], facts[f"{mode}.amount.scale"]) == ("18", "4"), mode
        assert facts[f"{mode}.amount.table"] == f"{DB}.m"
        assert facts[f"{mode}.id.nullable"] == "NO_NULLS" and facts[f"{mode}.amount.nullable"] == "NULLABLE"
        assert facts[f"{mode}.big.type"] == "CHAR 1" and facts[f"{mode}.big.class"] == "java.lang.String"
        assert facts[f"{mode}.rows"] == "3"
        assert facts[f"{mode}.row0.amount"] == "12.3456"
        assert facts[f"{mode}.row0.amount.object"] == "BigDecimal:12.3456"
        assert facts[f"{mode}.row1.amount"] == "-0.5000"
        for row, value in enumerate((BIG, JUST_ABOVE_BIGINT, LOW)):  # intact beyond 2^63
            assert facts[f"{mode}.row{row}.big"] == str(value), mode
            assert facts[f"{mode}.row{row}.big.object"] == f"String:{value}"
        assert facts[f"{mode}.row0.at"].startswith("2024-01-01 12:34:56.345"), mode


# ---------------------------------------------------------------- ODBC


@pytest.fixture(scope="module")
def odbc(srv: DorisbkServer) -> Iterator[Any]:
    with odbc_connection(srv.port, DB) as connection:
        yield connection


def test_odbc_decimal_and_largeint(odbc: Any) -> None:
    cur = odbc.cursor()
    for params in ((), ("nowhere",)):  # no parameter, and one bound (both prepared by the driver)
        where = " WHERE city <> ? OR city IS NULL" if params else ""
        cur.execute(f"SELECT id, amount, big, at FROM m{where} ORDER BY id", *params)
        described = {d[0]: d for d in cur.description}
        # (name, type, display_size, internal_size, precision, scale, null_ok)
        assert described["amount"][1] is decimal.Decimal
        assert (described["amount"][4], described["amount"][5]) == (18, 4)
        assert described["id"][6] is False and described["amount"][6] is True
        assert described["big"][1] is str
        got = [tuple(r) for r in cur.fetchall()]
        assert got == [
            (1, decimal.Decimal("12.3456"), str(BIG), dt.datetime(2024, 1, 1, 12, 34, 56, 345000)),
            (2, decimal.Decimal("-0.5000"), str(JUST_ABOVE_BIGINT), dt.datetime(2024, 2, 2, 1, 2, 3, 100000)),
            (3, None, str(LOW), None),
        ]


def test_odbc_escapes(odbc: Any) -> None:
    cur = odbc.cursor()
    cur.execute("SELECT {d '2024-01-01'} AS d, {ts '2024-01-02 03:04:05'} AS ts, {fn UCASE('a')} AS u")
    assert tuple(cur.fetchone()) == (dt.date(2024, 1, 1), dt.datetime(2024, 1, 2, 3, 4, 5), "A")
    cur.execute("SELECT id FROM m WHERE day = {d '2024-02-02'}")
    assert [tuple(r) for r in cur.fetchall()] == [(2,)]
    cur.execute("SELECT m.id, c.country FROM {oj m LEFT OUTER JOIN city c ON m.city = c.name} ORDER BY m.id")
    assert [tuple(r) for r in cur.fetchall()] == [(1, "China"), (2, "France"), (3, None)]


# ---------------------------------------------------------------- names BI tools write


def test_metabase_three_part_column_names(srv: DorisbkServer) -> None:
    """Metabase qualifies every column by database and table (`db`.`table`.`column`)."""
    with srv.connect() as c:
        q = f"`{DB}`.`m`"
        assert rows(c, f"SELECT {q}.`id` AS `id`, {q}.`city` AS `city` FROM {q} "
                       f"WHERE {q}.`amount` > 0 ORDER BY {q}.`id` ASC LIMIT 2000") == [(1, "Beijing")]  # fmt: skip
        assert rows(c, f"SELECT {q}.`city` AS `city`, count(*) AS `count` FROM {q} GROUP BY {q}.`city` "
                       f"ORDER BY {q}.`city` ASC") == [(None, 1), ("Beijing", 1), ("Paris", 1)]  # fmt: skip
        # a joined table under an alias, a nested source query, a view, the internal catalog
        assert rows(c, f"SELECT {q}.`id` AS `id`, `City`.`country` AS `City__country` FROM {q} "
                       f"LEFT JOIN `{DB}`.`city` `City` ON {q}.`city` = `City`.`name` "
                       f"ORDER BY {q}.`id` ASC") == [(1, "China"), (2, "France"), (3, None)]  # fmt: skip
        assert rows(c, f"SELECT `source`.`city` AS `city` FROM (SELECT {q}.`city` AS `city` FROM {q} "
                       f"WHERE {q}.`id` = 2) `source`") == [("Paris",)]  # fmt: skip
        assert rows(c, f"SELECT `{DB}`.`mv`.`id` FROM `{DB}`.`mv` WHERE `{DB}`.`mv`.`big` = '{BIG}'") == [(1,)]
        assert rows(c, f"SELECT internal.{DB}.m.id FROM internal.{DB}.m WHERE internal.{DB}.m.id = 3") == [(3,)]
        assert rows(c, f"SELECT id FROM {q} WHERE EXISTS (SELECT 1 FROM `{DB}`.`city` "
                       f"WHERE `{DB}`.`city`.`name` = {q}.`city`) ORDER BY id") == [(1,), (2,)]  # fmt: skip
        expect_error(c, f"SELECT `{DB}`.`m`.`nope` FROM {q}", 1105, ERR_PREFIX)


def test_superset_catalog_qualified_databases(srv: DorisbkServer) -> None:
    """Superset's Apache Doris engine logs in to `internal.<db>` (or `internal.information_schema`)."""
    for database, current in ((f"internal.{DB}", DB), ("internal.information_schema", "information_schema")):
        with srv.connect(database=database) as c:
            assert rows(c, "SELECT DATABASE()") == [(current,)]
            tables = f"SELECT TABLE_NAME FROM internal.information_schema.tables WHERE TABLE_SCHEMA = '{DB}'"
            assert rows(c, tables + " ORDER BY TABLE_NAME") == [("city",), ("m",), ("mv",)]
            rows(c, f"USE internal.{DB}")
            assert rows(c, "SELECT DATABASE(), count(*) FROM m") == [(DB, 3)]
            assert rows(c, f"SHOW TABLES FROM internal.{DB}") == [("city",), ("m",), ("mv",)]
            assert [r[0] for r in rows(c, f"SHOW COLUMNS FROM m FROM internal.{DB}")][:2] == ["id", "amount"]
            assert (DB,) in rows(c, "SHOW DATABASES FROM internal")
            expect_error(c, "USE hive.default", 1105, "Unknown catalog 'hive'")
            expect_error(c, f"USE internal.{DB}_nope", 1049, f"Unknown database '{DB}_nope'")
    with pytest.raises(pymysql.err.OperationalError) as info:
        srv.connect(database="hive.default")
    assert "Unknown catalog 'hive'" in str(info.value)
    out = run_mysql(srv.port, "SELECT DATABASE();\n", f"internal.{DB}")  # the mysql CLI: COM_INIT_DB
    assert out.returncode == 0 and out.stdout.splitlines()[1] == DB, out.stderr
