"""The mysql command-line client (MariaDB's, as Debian ships it) against a real server:
batch mode, an interactive session under tmux (login, `use db` with auto-rehash, `\\s`), and
errors as Doris prints them; and mycli, interactive under tmux."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clientkit import ERR_PREFIX, Tmux, after, mysql_cmd, run_mysql, tool_binary
from tests.dorisbk_server import DorisbkServer

DB = "cli_db"


@pytest.fixture(scope="module")
def srv(server: DorisbkServer) -> DorisbkServer:
    out = run_mysql(
        server.port,
        f"CREATE DATABASE {DB};\n"
        f"CREATE TABLE {DB}.sales (id BIGINT, city VARCHAR(32), amount DECIMAL(10, 2)) "
        "DISTRIBUTED BY HASH(id) BUCKETS 1;\n"
        f"CREATE TABLE {DB}.visits (day DATE, pv INT) DISTRIBUTED BY HASH(day) BUCKETS 1;\n"
        f"INSERT INTO {DB}.sales VALUES (1, 'Beijing', 12.5), (2, 'O''Hare', 3.25);\n",
    )
    assert out.returncode == 0, out.stderr
    return server


def test_batch_output(srv: DorisbkServer) -> None:
    out = run_mysql(srv.port, f"SELECT id, city, amount FROM {DB}.sales ORDER BY id;\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "id\tcity\tamount\n1\tBeijing\t12.50\n2\tO'Hare\t3.25\n"
    out = run_mysql(srv.port, "", "-e", "SELECT @@version_comment, VERSION()", "--skip-column-names")
    comment, version = out.stdout.rstrip("\n").split("\t")
    assert comment.startswith("Doris version") and "dorisbk" in comment
    assert version.startswith("5.7.99")


def test_table_output_and_column_types(srv: DorisbkServer) -> None:
    out = run_mysql(srv.port, f"SELECT id, city FROM {DB}.sales ORDER BY id LIMIT 1;\n", "-t", "--column-type-info")
    assert out.returncode == 0, out.stderr
    # numbers are binary (63) and text utf8 (33), as Doris and MySQL send them; the table is named
    assert "Type:       LONGLONG\nCollation:  binary (63)\nLength:     20\n" in out.stdout
    assert f"Database:   `{DB}`\nTable:      `sales`\nOrg_table:  `sales`\n" in out.stdout
    assert "Type:       VAR_STRING\n" in out.stdout
    assert "?-unknown-?" not in out.stdout
    assert "| Beijing |" in out.stdout


def test_errors_look_like_doris(srv: DorisbkServer) -> None:
    cases = [
        (f"BACKUP SNAPSHOT {DB}.s1 TO no_such_repo;", "ERROR 1105 (HY000) at line 1: " + ERR_PREFIX),
        ("SELECT nosuchfunc(1);", "ERROR 1105 (HY000) at line 1: " + ERR_PREFIX),
        (f"SELECT * FROM {DB}.nope;", "ERROR 1146 (42S02) at line 1: " + ERR_PREFIX),
        ("SELECT * FROM no_such_db.t;", "ERROR 1049 (42000) at line 1: " + ERR_PREFIX),
        (f"SELECT * FROM {DB}.sales WHERE;", "ERROR 1064 (42000) at line 1: " + ERR_PREFIX),
        ("SELECT 'a' + );", "ERROR 1064 (42000) at line 1: " + ERR_PREFIX),
        ("SELEC 1;", "ERROR 1064 (42000) at line 1: " + ERR_PREFIX),
    ]
    for sql, prefix in cases:
        out = run_mysql(srv.port, sql + "\n")
        assert out.returncode == 1, (sql, out)
        errors = [line for line in out.stderr.splitlines() if line.startswith("ERROR")]
        assert len(errors) == 1 and errors[0].startswith(prefix), (sql, out.stderr)
        for leak in ("\x1b[", "Traceback", "<class", "<Token", "sqlglot", 'File "'):
            assert leak not in out.stderr, (sql, out.stderr)


def test_wrong_password_is_access_denied(srv: DorisbkServer) -> None:
    out = run_mysql(srv.port, "SELECT 1;\n", "-pwrong")
    assert out.returncode == 1
    assert "ERROR 1045 (28000): Access denied for user 'root'@'127.0.0.1' (using password: YES)" in out.stderr


@pytest.fixture
def session(srv: DorisbkServer) -> Iterator[Tmux]:
    tmux = Tmux(f"dorisbk-cli-{srv.port}", mysql_cmd(srv.port, "--pager=cat"))
    try:
        tmux.wait_for("]>")
        yield tmux
    finally:
        tmux.close()


def test_interactive_session(srv: DorisbkServer, session: Tmux) -> None:
    screen = session.screen()
    assert "Server version: 5.7.99-dorisbk Doris version" in screen
    assert "MySQL [(none)]>" in screen

    # use db: SELECT DATABASE(), COM_INIT_DB, then auto-rehash (SHOW DATABASES, SHOW TABLES,
    # COM_FIELD_LIST for every table)
    session.send(f"use {DB}")
    screen = session.wait_for(f"MySQL [{DB}]>")
    shown = after(screen, f"use {DB}\n")
    assert shown.startswith(
        "Reading table information for completion of table and column names\n"
        "You can turn off this feature to get a quicker startup with -A\n\n"
        "Database changed\n"
    ), shown

    session.send("SELECT city FROM sales WHERE id = 2;")
    screen = session.wait_for("1 row in set")
    assert "| O'Hare |" in screen

    # \s: SELECT DATABASE(), USER(); the character set variables; COM_STATISTICS for Uptime
    session.send("\\s")
    screen = session.wait_for("--------------", count=2)
    status = after(screen, "\\s\n")
    fields = dict(re.findall(r"^([A-Za-z. ]+):\s+(.*)$", status, re.M))
    assert fields["Current database"] == DB
    assert fields["Current user"].startswith("root")
    assert fields["Server version"].startswith("5.7.99-dorisbk Doris version")
    assert "Uptime:" in status
    assert "Threads: " in status and "Questions: " in status and "Queries per second avg:" in status
    assert "ERROR" not in status

    session.send("help backup")
    screen = session.wait_for("Name: 'BACKUP'")
    session.send("select 1 +;")
    screen = session.wait_for("ERROR 1064 (42000): " + ERR_PREFIX)
    session.send("select 41 + 1 AS answer;")
    screen = session.wait_for("| answer |")
    assert "|     42 |" in screen
    # no command the CLI sent was refused as unknown (ERROR 1047 on its screen)
    assert "ERROR 1047" not in session.screen() and "Unsupported command" not in srv.log()


def test_show_where_filters_as_dbeaver_sends_them(srv: DorisbkServer) -> None:
    """The navigator filters of DBeaver (and the like) are WHEREs on SHOW TABLES / COLUMNS / DATABASES:
    AND / OR / NOT, [NOT] LIKE, =, !=, <>, [NOT] IN, IS [NOT] NULL and parentheses over the shown columns."""
    db = "cli_filter_db"
    out = run_mysql(
        srv.port,
        f"CREATE DATABASE {db};\n"
        f"CREATE TABLE {db}.x_orders (id BIGINT, city VARCHAR(32), note STRING) DISTRIBUTED BY HASH(id) BUCKETS 1;\n"
        f"CREATE TABLE {db}.a_log (at DATETIME, line STRING) DISTRIBUTED BY HASH(at) BUCKETS 1;\n"
        f"CREATE VIEW {db}.v_cities AS SELECT DISTINCT city FROM {db}.x_orders;\n",
    )
    assert out.returncode == 0, out.stderr
    cases = {
        f"SHOW FULL TABLES FROM {db} WHERE Table_type = 'VIEW' OR Tables_in_{db} LIKE 'x%'":
            f"Tables_in_{db}\tTable_type\nv_cities\tVIEW\nx_orders\tBASE TABLE\n",
        f"SHOW FULL TABLES FROM {db} WHERE NOT (Tables_in_{db} LIKE 'x%')":
            f"Tables_in_{db}\tTable_type\na_log\tBASE TABLE\nv_cities\tVIEW\n",
        f"SHOW FULL TABLES FROM {db} WHERE Table_type <> 'VIEW' AND (Tables_in_{db} NOT LIKE 'a\\_%')":
            f"Tables_in_{db}\tTable_type\nx_orders\tBASE TABLE\n",
        f"SHOW TABLES FROM {db} WHERE Tables_in_{db} IN ('a_log', 'nope') OR Tables_in_{db} != Tables_in_{db}":
            f"Tables_in_{db}\na_log\n",
        f"SHOW COLUMNS FROM {db}.x_orders WHERE Field NOT LIKE 'i%' AND (`Key` = 'NO' OR `Null` <> 'YES')":
            "Field\tType\tNull\tKey\tDefault\tExtra\nnote\tstring\tYES\tNO\tNULL\t\n",
        f"SHOW FULL COLUMNS FROM {db}.x_orders WHERE Field NOT IN ('id', 'note') AND `Default` IS NULL":
            "Field\tType\tCollation\tNull\tKey\tDefault\tExtra\tPrivileges\tComment\n"
            "city\tvarchar(32)\tNULL\tYES\tYES\tNULL\t\tselect,insert,update,references\t\n",
        f"SHOW DATABASES WHERE `Database` = '{db}' OR `Database` LIKE 'no%'": f"Database\n{db}\n",
    }  # fmt: skip
    for sql, shown in cases.items():
        out = run_mysql(srv.port, sql + ";\n")
        assert (out.returncode, out.stderr, out.stdout) == (0, "", shown), sql
    out = run_mysql(srv.port, f"SHOW TABLES FROM {db} WHERE nope = 1;\n")
    assert "ERROR 1054 (42S22) at line 1: " + ERR_PREFIX + "Unknown column 'nope' in 'where clause'" in out.stderr
    out = run_mysql(srv.port, f"SHOW TABLES FROM {db} WHERE (Tables_in_{db} = 'a';\n")
    assert "ERROR 1064 (42000) at line 1: " + ERR_PREFIX in out.stderr


def test_mycli_session(srv: DorisbkServer, tmp_path: Path) -> None:
    """mycli as people use it: it connects (and reads the catalog for completion in the background),
    completes a column name, runs a query, switches database and shows its status page."""
    view = f"CREATE VIEW {DB}.big_sales AS SELECT id, amount AS big_amount FROM {DB}.sales WHERE amount > 10;\n"
    run_mysql(srv.port, view)
    command = [tool_binary("mycli", "mycli"), "-h", "127.0.0.1", "-P", str(srv.port), "-u", "root",
               "--myclirc", str(tmp_path / "myclirc"), DB]  # fmt: skip
    tmux = Tmux(f"dorisbk-mycli-{srv.port}", command)
    try:
        tmux.wait_for(f"root@127.0.0.1:{DB}>")
        tmux.send("SELECT id, big_amount FROM big_sales ORDER BY id")
        screen = tmux.wait_for("1 row in set")
        assert re.search(r"\│\s+1\s+\│\s+12\.50\s+\│", screen), screen
        # completion knows a view's columns too, once mycli's background refresh has read the catalog
        completed = False
        for _ in range(40):
            subprocess_keys(tmux, "SELECT big_am", "Tab")
            try:
                # offered (in the completion menu) or already inserted: a third big_amount on the screen,
                # after the query's text and its result's header
                tmux.wait_for("big_amount", count=3, timeout=2)
                completed = True
                break
            except AssertionError:
                pass
            finally:
                subprocess_keys(tmux, "", "C-u")
        assert completed, tmux.screen()
        tmux.send("USE information_schema")
        tmux.wait_for("root@127.0.0.1:information_schema>")
        tmux.send(f"SELECT table_name FROM tables WHERE table_schema = '{DB}' ORDER BY 1")
        screen = tmux.wait_for("3 rows in set")
        assert all(name in screen for name in ("big_sales", "sales", "visits")), screen
        tmux.send("\\s")
        screen = tmux.wait_for("Uptime:")
        assert "Doris version doris-" in screen and "Current database:    │ information_schema" in screen
        assert "Traceback" not in screen
    finally:
        tmux.close()


def subprocess_keys(tmux: Tmux, text: str, key: str) -> None:
    """Type ``text`` without Enter, then press ``key`` (tmux's key name)."""
    if text:
        subprocess.run([tmux.tmux, "send-keys", "-t", tmux.name, "-l", text], check=True)
    subprocess.run([tmux.tmux, "send-keys", "-t", tmux.name, key], check=True)
