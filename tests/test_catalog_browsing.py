"""Catalog browsing as DBeaver, generic JDBC drivers, MariaDB ODBC and mycli do it (issue 12, items 3 and
8), replayed through pymysql with the statements those clients send: information_schema and mysql as
databases (SHOW [FULL] TABLES / TABLE STATUS / COLUMNS FROM them), SHOW FULL TABLES and SHOW COLUMNS
with WHERE, SHOW FUNCTION | PROCEDURE STATUS, SHOW PLUGINS, SHOW GRANTS FOR CURRENT_USER(),
mysql.tables_priv / columns_priv, information_schema GLOBAL_VARIABLES / SESSION_VARIABLES /
CHECK_CONSTRAINTS, the variables and counters mycli's status reads, and MariaDB ODBC's SQLColumns /
SQLSpecialColumns statements, which assign user variables inside CASE over information_schema.

Where each statement comes from is noted beside it: DBeaver's MySQL plugin
(plugins/org.jkiss.dbeaver.ext.mysql/.../model/MySQLCatalog.java, MySQLDataSource.java), MySQL
Connector/J 8.0.33 and MariaDB ODBC 3.1.15 as captured on the wire here (tests/java/Probe.java and
pyodbc drive the real drivers in test_clients_jdbc.py and test_clients_views.py), mycli's
packages/special/dbcommands.py ``status``."""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, expect_error, rows

DB = "browse_db"
USER = "browse_user"

# MariaDB ODBC 3.1.15's SQLColumns and SQLSpecialColumns (ma_catalog.c), captured on the wire from
# pyodbc's cursor.columns(table=...) and cursor.rowIdColumns(...); {table} is the table asked for.
ODBC_SQLCOLUMNS = (
    "SELECT TABLE_SCHEMA AS TABLE_CAT, NULL AS TABLE_SCHEM, TABLE_NAME, COLUMN_NAME, CASE DATA_TYPE  WHEN"
    " 'bit' THEN @dt:= IF(NUMERIC_PRECISION=1,(-7), (-2))  WHEN 'tinyint' THEN @dt:=(-6)  WHEN 'smallint'"
    " THEN @dt:=5  WHEN 'year' THEN @dt:= 5  WHEN 'mediumint' THEN @dt:=4  WHEN 'int' THEN @dt:=4  WHEN '"
    "bigint' THEN @dt:=(-5)  WHEN 'blob' THEN @dt:=(-4)  WHEN 'tinyblob' THEN @dt:=(-4)  WHEN 'mediumblob"
    "' THEN @dt:=(-4)  WHEN 'longblob' THEN @dt:=(-4)  WHEN 'decimal' THEN @dt:=3  WHEN 'float' THEN @dt:"
    "=IF(NUMERIC_SCALE IS NULL,7, 3)  WHEN 'double' THEN @dt:=IF(NUMERIC_SCALE IS NULL,8, 3)  WHEN 'binar"
    "y' THEN @dt:=(-2)  WHEN 'varbinary' THEN @dt:=(-3)  WHEN 'text' THEN @dt:=(-10)  WHEN 'tinytext' THE"
    "N @dt:=(-10)  WHEN 'mediumtext' THEN @dt:=(-10)  WHEN 'longtext' THEN @dt:=(-10)  WHEN 'char' THEN @"
    "dt:=(-8)  WHEN 'enum' THEN @dt:=(-8)  WHEN 'set' THEN @dt:=(-8)  WHEN 'varchar' THEN @dt:=(-9)  WHEN"
    " 'date' THEN @dt:=91  WHEN 'time' THEN @dt:=92  WHEN 'datetime' THEN @dt:=93  WHEN 'timestamp' THEN "
    "@dt:=93  ELSE @dt:=(-4)END AS DATA_TYPE, UCASE(IF(COLUMN_TYPE LIKE '%(%)%',  CONCAT(SUBSTRING(COLUMN"
    "_TYPE,1, LOCATE('(',COLUMN_TYPE) - 1 ), SUBSTRING(COLUMN_TYPE,1+locate(')',COLUMN_TYPE))), COLUMN_TY"
    "PE )) AS TYPE_NAME, CAST(CASE  WHEN DATA_TYPE = 'bit' THEN @ColSize:=((NUMERIC_PRECISION + 7) / 8)  "
    " WHEN DATA_TYPE in ('tinyint', 'smallint', 'mediumint', 'int','bigint', 'decimal') THEN @ColSize:=NU"
    "MERIC_PRECISION   WHEN DATA_TYPE = 'float' THEN if(NUMERIC_SCALE IS NULL, @ColSize:=7, @ColSize:=NUM"
    "ERIC_PRECISION)  WHEN DATA_TYPE = 'double' THEN if(NUMERIC_SCALE IS NULL, @ColSize:=15, @ColSize:=NU"
    "MERIC_PRECISION)  WHEN DATA_TYPE = 'date' THEN @ColSize:=10  WHEN DATA_TYPE = 'time' THEN @ColSize:="
    "8  WHEN DATA_TYPE = 'year' THEN @ColSize:=4  WHEN DATA_TYPE in ('timestamp', 'datetime') THEN @ColSi"
    "ze:=19   ELSE @ColSize:=CHARACTER_MAXIMUM_LENGTH END AS UNSIGNED) AS COLUMN_SIZE,@tol:=CAST(CASE @dt"
    "  WHEN (-7) THEN 1   WHEN (-6) THEN 1   WHEN 5 THEN 2   WHEN 4 THEN IF(DATA_TYPE='mediumint',3,4)   "
    "WHEN (-5) THEN 20   WHEN 7 THEN 4   WHEN 6 THEN 8   WHEN 8 THEN 8   WHEN 9 THEN 6   WHEN 91 THEN 6  "
    " WHEN 10 THEN 6   WHEN 92 THEN 6   WHEN 11 THEN 16   WHEN 93 THEN 16   WHEN (-11) THEN 16   WHEN 3 T"
    "HEN @ColSize + IF(COLUMN_TYPE LIKE '%unsigned',1,2)   WHEN (-2) THEN IF(DATA_TYPE='bit', CAST(((NUME"
    "RIC_PRECISION + 7) / 8) AS SIGNED), CHARACTER_OCTET_LENGTH)   WHEN (-3) THEN CHARACTER_OCTET_LENGTH "
    "  WHEN (-4) THEN CHARACTER_OCTET_LENGTH   ELSE CHARACTER_MAXIMUM_LENGTH*4 END AS SIGNED) AS BUFFER_L"
    "ENGTH, NUMERIC_SCALE DECIMAL_DIGITS, IF(CHARACTER_OCTET_LENGTH IS NOT NULL, NULL, 10) AS NUM_PREC_RA"
    "DIX,IF(DATA_TYPE='timestamp', 1, IF(IS_NULLABLE='YES',1,IF(EXTRA='auto_increment', 1, 0))) AS NULLAB"
    "LE, COLUMN_COMMENT AS REMARKS,IF(COLLATION_NAME IS NOT NULL AND COLUMN_DEFAULT IS NOT NULL, CONCAT(C"
    "HAR(39), COLUMN_DEFAULT, CHAR(39)), COLUMN_DEFAULT) AS COLUMN_DEF,CAST(CASE  WHEN DATA_TYPE = 'date'"
    " THEN 9  WHEN DATA_TYPE = 'time' THEN 9  WHEN DATA_TYPE = 'datetime' THEN 9  WHEN DATA_TYPE = 'times"
    "tamp' THEN 9 ELSE @dt END AS SIGNED) SQL_DATA_TYPE,CAST(CASE  WHEN DATA_TYPE = 'date' THEN 1  WHEN D"
    "ATA_TYPE = 'time' THEN 2  WHEN DATA_TYPE = 'datetime' THEN 3  WHEN DATA_TYPE = 'timestamp' THEN 3 EL"
    "SE NULL END AS SIGNED) SQL_DATETIME_SUB,IF(CHARACTER_OCTET_LENGTH IS NOT NULL, @tol, IF(DATA_TYPE='b"
    "it' AND NUMERIC_PRECISION =1, NULL, CAST((NUMERIC_PRECISION + 7)/8 AS SIGNED))) AS CHAR_OCTET_LENGTH"
    ", ORDINAL_POSITION,IF(DATA_TYPE='timestamp', 'YES', IF(IS_NULLABLE='YES','YES',IF(EXTRA='auto_increm"
    "ent', 'YES', 'NO'))) AS IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA=DATABASE()AND"
    " TABLE_NAME LIKE '{table}'  ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
)
ODBC_SQLSPECIALCOLUMNS = (
    "SELECT NULL AS SCOPE, COLUMN_NAME, CASE DATA_TYPE  WHEN 'bit' THEN @dt:= IF(NUMERIC_PRECISION=1,(-7)"
    ", (-2))  WHEN 'tinyint' THEN @dt:=(-6)  WHEN 'smallint' THEN @dt:=5  WHEN 'year' THEN @dt:= 5  WHEN "
    "'mediumint' THEN @dt:=4  WHEN 'int' THEN @dt:=4  WHEN 'bigint' THEN @dt:=(-5)  WHEN 'blob' THEN @dt:"
    "=(-4)  WHEN 'tinyblob' THEN @dt:=(-4)  WHEN 'mediumblob' THEN @dt:=(-4)  WHEN 'longblob' THEN @dt:=("
    "-4)  WHEN 'decimal' THEN @dt:=3  WHEN 'float' THEN @dt:=IF(NUMERIC_SCALE IS NULL,7, 3)  WHEN 'double"
    "' THEN @dt:=IF(NUMERIC_SCALE IS NULL,8, 3)  WHEN 'binary' THEN @dt:=(-2)  WHEN 'varbinary' THEN @dt:"
    "=(-3)  WHEN 'text' THEN @dt:=(-10)  WHEN 'tinytext' THEN @dt:=(-10)  WHEN 'mediumtext' THEN @dt:=(-1"
    "0)  WHEN 'longtext' THEN @dt:=(-10)  WHEN 'char' THEN @dt:=(-8)  WHEN 'enum' THEN @dt:=(-8)  WHEN 's"
    "et' THEN @dt:=(-8)  WHEN 'varchar' THEN @dt:=(-9)  WHEN 'date' THEN @dt:=91  WHEN 'time' THEN @dt:=9"
    "2  WHEN 'datetime' THEN @dt:=93  WHEN 'timestamp' THEN @dt:=93  ELSE @dt:=(-4)END AS DATA_TYPE,DATA_"
    "TYPE TYPE_NAME,CASE  WHEN DATA_TYPE in ('bit', 'tinyint', 'smallint', 'year', 'mediumint', 'int','bi"
    "gint', 'decimal', 'float', 'double') THEN NUMERIC_PRECISION   WHEN DATA_TYPE='date' THEN 10  WHEN DA"
    "TA_TYPE='time' THEN 8  WHEN DATA_TYPE in ('timestamp', 'datetime') THEN 19 END AS COLUMN_SIZE,CHARAC"
    "TER_OCTET_LENGTH AS BUFFER_LENGTH,NUMERIC_SCALE DECIMAL_DIGITS, 0 PSEUDO_COLUMN FROM INFORMATION_SCH"
    "EMA.COLUMNS WHERE 1 AND TABLE_SCHEMA=DATABASE() AND TABLE_NAME = BINARY '{table}' AND COLUMN_KEY IN "
    "('PRI', 'UNI') ORDER BY TABLE_SCHEMA, TABLE_NAME, COLUMN_KEY"
)


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        rows(c, f"CREATE DATABASE {DB}")
        rows(c, f"USE {DB}")
        rows(
            c,
            "CREATE TABLE orders (order_id BIGINT NOT NULL, city VARCHAR(32), amount DECIMAL(10, 2)) "
            "UNIQUE KEY(order_id) DISTRIBUTED BY HASH(order_id) BUCKETS 1",
        )
        rows(c, "INSERT INTO orders VALUES (1, 'Paris', 9.50), (2, 'Lyon', 1.25)")
        rows(c, "CREATE VIEW paris AS SELECT order_id, amount FROM orders WHERE city = 'Paris'")
        rows(c, f"CREATE USER '{USER}'@'%' IDENTIFIED BY 'pw'")
        rows(c, f"GRANT SELECT_PRIV ON {DB}.orders TO '{USER}'@'%'")
        yield c


@pytest.fixture
def user_conn(server: DorisbkServer, conn: pymysql.connections.Connection) -> Iterator[pymysql.connections.Connection]:
    with server.connect(user=USER, password="pw") as c:
        yield c


# ---------------------------------------------------------------------- information_schema and mysql as databases


def test_show_tables_of_information_schema_and_mysql(conn: pymysql.connections.Connection) -> None:
    assert columns(conn, "SHOW FULL TABLES FROM information_schema") == ["Tables_in_information_schema", "Table_type"]
    listed = dict(rows(conn, "SHOW FULL TABLES FROM information_schema"))
    for name in ("tables", "columns", "views", "schemata", "global_variables", "session_variables",
                 "check_constraints"):  # fmt: skip
        assert listed[name] == "SYSTEM VIEW", name
    assert rows(conn, "SHOW TABLES FROM information_schema LIKE 'col%'") == [("collations",), ("column_privileges",),
                                                                           ("columns",)]  # fmt: skip
    mysql_tables = dict(rows(conn, "SHOW FULL TABLES FROM mysql"))
    assert {"tables_priv", "columns_priv", "user", "db", "proc"} <= set(mysql_tables)
    assert set(mysql_tables.values()) == {"SYSTEM VIEW"}
    # with information_schema current, as after USE information_schema (DBeaver, the mysql CLI)
    with conn.cursor() as cur:
        cur.execute("USE information_schema")
        cur.execute("SHOW TABLES LIKE 'views'")
        assert cur.fetchall() == (("views",),)
        cur.execute(f"USE {DB}")
    # DBeaver reads a catalog's tables' details with SHOW TABLE STATUS FROM it (MySQLCatalog)
    status = dicts(conn, "SHOW TABLE STATUS FROM `information_schema` LIKE 'tables'")
    assert [(s["Name"], s["Comment"]) for s in status] == [("tables", "SYSTEM VIEW")]


def test_columns_of_information_schema_tables(conn: pymysql.connections.Connection) -> None:
    assert [r[0] for r in rows(conn, "SHOW COLUMNS FROM information_schema.views LIKE 'TABLE_%'")] == [
        "TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME",
    ]  # fmt: skip
    assert columns(conn, "SHOW FULL COLUMNS FROM tables FROM information_schema")[:2] == ["Field", "Type"]
    assert rows(conn, "DESC information_schema.global_variables") == [
        ("VARIABLE_NAME", "varchar(512)", "Yes", "false", None, ""),
        ("VARIABLE_VALUE", "varchar(512)", "Yes", "false", None, ""),
        ("DEFAULT_VALUE", "varchar(512)", "Yes", "false", None, ""),
        ("CHANGED", "varchar(512)", "Yes", "false", None, ""),
    ]
    # and information_schema.COLUMNS describes them as it describes every table
    got = rows(conn, "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                     "'information_schema' AND TABLE_NAME = 'check_constraints' ORDER BY ORDINAL_POSITION")  # fmt: skip
    assert got == [("CONSTRAINT_CATALOG", "varchar"), ("CONSTRAINT_SCHEMA", "varchar"), ("CONSTRAINT_NAME", "varchar"),
                   ("CHECK_CLAUSE", "varchar")]  # fmt: skip
    expect_error(conn, "SHOW COLUMNS FROM information_schema.no_such_table", 1109)


# ---------------------------------------------------------------------- SHOW ... WHERE


def test_show_full_tables_where(conn: pymysql.connections.Connection) -> None:
    # DBeaver looks a table up by name (MySQLCatalog.TableCache, server-side filters)
    assert rows(conn, f"SHOW FULL TABLES FROM `{DB}` WHERE `Tables_in_{DB}` = 'orders'") == [("orders", "BASE TABLE")]
    assert rows(conn, f"SHOW FULL TABLES FROM `{DB}` WHERE `Tables_in_{DB}` LIKE 'par%'") == [("paris", "VIEW")]
    # phpMyAdmin and friends list tables and views apart
    assert rows(conn, f"SHOW FULL TABLES FROM `{DB}` WHERE `Table_type`='BASE TABLE'") == [("orders", "BASE TABLE")]
    assert rows(conn, f"SHOW FULL TABLES FROM `{DB}` WHERE `Table_type`!='BASE TABLE'") == [("paris", "VIEW")]
    assert rows(conn, "SHOW FULL TABLES WHERE Table_type = 'VIEW' AND Tables_in_browse_db <> 'x'") == [
        ("paris", "VIEW")
    ]
    assert rows(conn, "SHOW FULL TABLES FROM information_schema WHERE Table_type = 'BASE TABLE'") == []
    assert columns(conn, "SHOW TABLES WHERE Tables_in_browse_db = 'orders'") == [f"Tables_in_{DB}"]
    expect_error(conn, "SHOW FULL TABLES WHERE no_such_column = 'x'", 1054, "no_such_column")


def test_show_columns_where(conn: pymysql.connections.Connection) -> None:
    # Connector/J's DatabaseMetaData.getVersionColumns (captured on the wire)
    sql = f"SHOW COLUMNS FROM `orders` FROM `{DB}` WHERE Extra LIKE '%on update CURRENT_TIMESTAMP%'"
    assert rows(conn, sql) == []
    assert columns(conn, sql) == ["Field", "Type", "Null", "Key", "Default", "Extra"]
    assert rows(conn, "SHOW FULL COLUMNS FROM orders WHERE Field = 'city'")[0][:2] == ("city", "varchar(32)")
    assert [r[0] for r in rows(conn, "SHOW COLUMNS FROM paris WHERE `Type` LIKE 'decimal%'")] == ["amount"]
    assert [r[0] for r in rows(conn, "SHOW COLUMNS FROM orders WHERE `Null` = 'NO'")] == ["order_id"]


# ---------------------------------------------------------------------- routines, plugins, grants


ROUTINE_STATUS_COLUMNS = ["ProcedureName", "CatalogId", "DbId", "DbName", "PackageName", "OwnerName", "CreateTime",
                          "ModifyTime"]  # fmt: skip


def test_show_function_and_procedure_status(conn: pymysql.connections.Connection) -> None:
    # Connector/J's getFunctions / getProcedures (captured on the wire); Doris has no stored routines
    for sql in (
        f"SHOW FUNCTION STATUS WHERE Db = '{DB}' AND Name LIKE '%'",
        f"SHOW PROCEDURE STATUS WHERE Db = '{DB}' AND Name LIKE '%'",
        "SHOW FUNCTION STATUS",
        "SHOW PROCEDURE STATUS LIKE 'p%'",
    ):
        assert rows(conn, sql) == [], sql
        assert columns(conn, sql) == ROUTINE_STATUS_COLUMNS, sql


def test_show_plugins(conn: pymysql.connections.Connection) -> None:
    # DBeaver reads them on connect (MySQLDataSource)
    plugins = dicts(conn, "SHOW PLUGINS")
    assert list(plugins[0]) == ["Name", "Type", "Description", "Version", "JavaVersion", "ClassName", "SoName",
                                "Sources", "Status", "Properties"]  # fmt: skip
    assert {(p["Name"], p["Type"], p["Status"]) for p in plugins} >= {
        ("__builtin_AuditLogBuilder", "AUDIT", "INSTALLED")
    }


def test_show_grants_for_current_user(
    conn: pymysql.connections.Connection, user_conn: pymysql.connections.Connection
) -> None:
    own = rows(conn, "SHOW GRANTS")
    assert rows(conn, "SHOW GRANTS FOR CURRENT_USER()") == own
    assert rows(conn, "SHOW GRANTS FOR CURRENT_USER") == own
    assert own[0][0] == "'root'@'%'"
    mine = dicts(user_conn, "SHOW GRANTS FOR CURRENT_USER()")
    assert [g["UserIdentity"] for g in mine] == [f"'{USER}'@'%'"]
    assert f"{DB}.orders: Select_priv" in mine[0]["TablePrivs"]


def test_mysql_tables_priv_and_columns_priv(
    conn: pymysql.connections.Connection, user_conn: pymysql.connections.Connection
) -> None:
    # Connector/J's getTablePrivileges (captured on the wire): the table-level grants
    tables_priv = f"SELECT host,db,table_name,grantor,user,table_priv FROM mysql.tables_priv WHERE db = '{DB}' " \
                  "AND table_name LIKE 'orders'"  # fmt: skip
    assert rows(conn, tables_priv) == [("%", DB, "orders", "", USER, "Select")]
    assert rows(user_conn, tables_priv) == [("%", DB, "orders", "", USER, "Select")]
    assert columns(conn, "SELECT * FROM mysql.tables_priv") == ["Host", "Db", "User", "Table_name", "Grantor",
                                                               "Timestamp", "Table_priv", "Column_priv"]  # fmt: skip
    # Connector/J's getColumnPrivileges: Doris grants no column privileges
    columns_priv = (
        "SELECT c.host, c.db, t.grantor, c.user, c.table_name, c.column_name, c.column_priv FROM mysql.columns_priv c, "
        "mysql.tables_priv t WHERE c.host = t.host AND c.db = t.db AND c.table_name = t.table_name AND "
        f"c.db = '{DB}' AND c.table_name = 'orders' AND c.column_name LIKE '%'"
    )
    assert rows(conn, columns_priv) == []


# ---------------------------------------------------------------------- variables, constraints, mycli


def test_global_and_session_variables(conn: pymysql.connections.Connection, server: DorisbkServer) -> None:
    assert columns(conn, "SELECT * FROM information_schema.GLOBAL_VARIABLES") == [
        "VARIABLE_NAME", "VARIABLE_VALUE", "DEFAULT_VALUE", "CHANGED"
    ]  # fmt: skip
    version = rows(
        conn, "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'version'"
    )
    assert version[0][0].startswith("5.7.99")
    with server.connect() as other:
        rows(other, "SET time_zone = 'Asia/Shanghai'")
        session = "SELECT VARIABLE_VALUE, DEFAULT_VALUE, CHANGED FROM information_schema.SESSION_VARIABLES " \
                  "WHERE VARIABLE_NAME = 'time_zone'"  # fmt: skip
        assert rows(other, session) == [("Asia/Shanghai", "UTC", "1")]
        assert rows(conn, session) == [("UTC", "UTC", "0")]  # another connection's setting is its own
        glob = "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'time_zone'"
        assert rows(other, glob) == [("UTC",)]
    names = {r[0] for r in rows(conn, "SELECT VARIABLE_NAME FROM information_schema.SESSION_VARIABLES")}
    assert {"autocommit", "sql_mode", "version_comment", "max_allowed_packet"} <= names


def test_check_constraints(conn: pymysql.connections.Connection) -> None:
    assert rows(conn, "SELECT * FROM information_schema.CHECK_CONSTRAINTS") == []
    # DBeaver's CheckConstraintCache (MySQLCatalog)
    sql = (
        "SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, tc.TABLE_NAME\n"
        "FROM (SELECT CONSTRAINT_NAME, CHECK_CLAUSE\nFROM INFORMATION_SCHEMA.CHECK_CONSTRAINTS\n"
        f"WHERE CONSTRAINT_SCHEMA = '{DB}'\nORDER BY CONSTRAINT_NAME) cc,\n"
        "(SELECT TABLE_NAME, CONSTRAINT_NAME\nFROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS\n"
        f"WHERE TABLE_SCHEMA = '{DB}' AND TABLE_NAME='orders') tc\n"
        "WHERE cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME\nORDER BY cc.CONSTRAINT_NAME"
    )
    assert rows(conn, sql) == []


def test_what_mycli_status_reads(conn: pymysql.connections.Connection) -> None:
    # mycli's \s: SHOW GLOBAL STATUS, then SHOW GLOBAL VARIABLES, and it reads these keys of them
    status = dict(rows(conn, "SHOW GLOBAL STATUS;"))
    for key in ("Uptime", "Threads_connected", "Slow_queries", "Opened_tables", "Open_tables"):
        assert status[key].isdigit(), key
    variables = dict(rows(conn, "SHOW GLOBAL VARIABLES;"))
    assert variables["protocol_version"] == "10"
    assert variables["version"].startswith("5.7.99") and "Doris" in variables["version_comment"]
    assert rows(conn, "SELECT @@character_set_server, @@character_set_database, @@character_set_client, "
                      "@@character_set_connection LIMIT 1;")[0][0] == "utf8mb4"  # fmt: skip


# ---------------------------------------------------------------------- user variables assigned inside expressions


def test_mariadb_odbc_sqlcolumns_statement(conn: pymysql.connections.Connection) -> None:
    got = dicts(conn, ODBC_SQLCOLUMNS.replace("{table}", "orders"))
    assert [(r["COLUMN_NAME"], r["DATA_TYPE"], r["TYPE_NAME"], r["COLUMN_SIZE"], r["BUFFER_LENGTH"],
             r["DECIMAL_DIGITS"], r["NULLABLE"], r["SQL_DATA_TYPE"], r["CHAR_OCTET_LENGTH"]) for r in got] == [
        ("order_id", -5, "BIGINT", 19, 20, 0, 0, -5, 3),
        ("city", -9, "VARCHAR", 32, 128, None, 1, -9, 128),
        ("amount", 3, "DECIMAL", 10, 12, 2, 1, 3, 2),
    ]  # fmt: skip
    # a view's columns come the same way
    got = rows(conn, ODBC_SQLCOLUMNS.replace("{table}", "paris"))
    assert [(r[3], r[4]) for r in got] == [("order_id", -5), ("amount", 3)]


def test_mariadb_odbc_sqlspecialcolumns_statement(conn: pymysql.connections.Connection) -> None:
    got = dicts(conn, ODBC_SQLSPECIALCOLUMNS.replace("{table}", "orders"))
    assert [(r["COLUMN_NAME"], r["DATA_TYPE"], r["TYPE_NAME"], r["COLUMN_SIZE"]) for r in got] == [
        ("order_id", -5, "bigint", 19)
    ]
    assert rows(conn, ODBC_SQLSPECIALCOLUMNS.replace("{table}", "paris")) == []


def test_assignments_over_information_schema(conn: pymysql.connections.Connection) -> None:
    """A later item of the row reads what an earlier one assigned, whichever branch assigned it."""
    sql = (
        "SELECT COLUMN_NAME, CASE DATA_TYPE WHEN 'bigint' THEN @w := 8 WHEN 'decimal' THEN @w := IF(NUMERIC_SCALE > 0, "
        "16, 8) ELSE @w := NULL END AS width, @w * 2 AS twice, @other AS unset FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = '{DB}' AND TABLE_NAME = 'orders' ORDER BY ORDINAL_POSITION"
    )
    assert rows(conn, sql) == [("order_id", 8, 16, None), ("city", None, None, None), ("amount", 16, 32, None)]
    rows(conn, "SET @other = 'kept'")
    assert {r[3] for r in rows(conn, sql)} == {"kept"}  # a variable the row does not assign: the connection's


def test_assignments_inside_expressions_of_a_query(conn: pymysql.connections.Connection) -> None:
    assert rows(conn, "SELECT @y := 3 AS a, @y + 1 AS b") == [(3, 4)]
    assert rows(conn, "SELECT @y") == [(3,)]
    got = rows(conn, "SELECT order_id, IF(amount > 5, @big := 'yes', @big := 'no') AS big, @big AS again FROM orders "
                     "ORDER BY order_id")  # fmt: skip
    assert got == [(1, "yes", "yes"), (2, "no", "no")]
