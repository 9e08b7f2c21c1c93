"""mysqldump (MariaDB's, as Debian ships it) of a database with tables and views, and its dump loaded
by the mysql CLI into a new server: the same tables, views and rows. mysqldump sends LOCK TABLES,
SET SQL_QUOTE_SHOW_CREATE and friends, SHOW TRIGGERS, SELECT /*!40001 SQL_NO_CACHE */; its file
holds executable comments (/*!40101 SET NAMES utf8mb4 */, views as /*!50001 CREATE VIEW ... */),
user variables saved and restored (SET @OLD_SQL_MODE=@@SQL_MODE ... SET SQL_MODE=@OLD_SQL_MODE),
LOCK TABLES ... WRITE and ALTER TABLE ... DISABLE KEYS."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clientkit import mysql_cmd, require_binary
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import rows

DB = "dump_db"
NASTY = ["it's", 'say "hi"', "back\\slash", "new\nline\ttab", "ünïcødé ✓ 😀", "/* not a comment */", "a;b", ""]

SCHEMA = [
    f"CREATE DATABASE {DB}",
    f"CREATE TABLE {DB}.orders (id BIGINT NOT NULL, city VARCHAR(32), note STRING, amount DECIMAL(18, 4), "
    "big LARGEINT, ratio DOUBLE, at DATETIME(3), day DATE, ok BOOLEAN, code CHAR(3)) "
    "UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2",
    f"CREATE TABLE {DB}.visits (day DATE NOT NULL, city VARCHAR(32) NOT NULL, pv BIGINT SUM DEFAULT '0') "
    "AGGREGATE KEY(day, city) PARTITION BY RANGE(day) (PARTITION p2023 VALUES LESS THAN ('2024-01-01'), "
    "PARTITION p2024 VALUES LESS THAN ('2025-01-01')) DISTRIBUTED BY HASH(city) BUCKETS 1",
    f"CREATE TABLE {DB}.log_lines (ts DATETIME, line STRING) DUPLICATE KEY(ts) DISTRIBUTED BY RANDOM BUCKETS 1",
    f"CREATE TABLE {DB}.empty_one (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1",
    f"CREATE VIEW {DB}.big_orders AS SELECT id, city, amount FROM {DB}.orders WHERE amount > 10",
    f"CREATE VIEW {DB}.city_pv (city, total) AS SELECT o.city, sum(v.pv) FROM {DB}.orders o "
    f"JOIN {DB}.visits v ON o.city = v.city GROUP BY o.city",
    f"CREATE VIEW {DB}.top_city AS SELECT city FROM {DB}.city_pv ORDER BY total DESC LIMIT 1",
]


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t") + "'"


def _fill(server: DorisbkServer) -> None:
    with server.connect() as c:
        for sql in SCHEMA:
            rows(c, sql)
        orders = [
            f"({i}, {_literal(text)}, {_literal(text)}, {i}.{i:04d}, {2**127 - i if i % 2 else -(2**127) + i}, "
            f"{i / 3}, '2024-01-{i + 1:02d} 12:34:56.{i:03d}', '2024-02-{i + 1:02d}', {'true' if i % 2 else 'false'}, "
            f"'c{i}')"
            for i, text in enumerate(NASTY)
        ]
        orders.append(f"({len(NASTY)}, NULL, NULL, NULL, 9223372036854775808, NULL, NULL, NULL, NULL, NULL)")
        rows(c, f"INSERT INTO {DB}.orders VALUES {', '.join(orders)}")
        rows(c, f"INSERT INTO {DB}.visits VALUES ('2023-05-01', 'it''s', 3), ('2024-05-01', 'it''s', 4), "
                "('2024-05-01', 'a;b', 10), ('2024-05-02', '', 1)")  # fmt: skip
        rows(c, f"INSERT INTO {DB}.log_lines VALUES ('2024-01-01 00:00:00', 'x'), ('2024-01-01 00:00:00', 'x'), "
                "(NULL, NULL)")  # fmt: skip


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    server = DorisbkServer(tmp_path_factory.mktemp("dump_source") / "data").start()
    _fill(server)
    yield server
    server.stop()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[DorisbkServer]:
    """A new, empty server to load a dump into."""
    server = DorisbkServer(tmp_path / "data").start()
    yield server
    server.stop()


def mysqldump(server: DorisbkServer, *args: str) -> str:
    out = subprocess.run(
        [require_binary("mysqldump"), "-h127.0.0.1", f"-P{server.port}", "-uroot", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "rror" not in out.stderr, out.stderr  # no "Error: ..." or "Got error" line either
    return out.stdout


def load(server: DorisbkServer, dump: str, *args: str) -> None:
    """The dump loaded as a user loads it: ``mysql [db] < dump.sql``."""
    out = subprocess.run(mysql_cmd(server.port, *args), input=dump, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


def contents(server: DorisbkServer, db: str) -> dict[str, object]:
    """What a user compares after a restore: the tables and views, their definitions and their rows."""
    with server.connect() as c:
        tables = rows(c, f"SHOW FULL TABLES FROM {db}")
        out: dict[str, object] = {"tables": sorted(tables)}
        for name, kind in tables:
            if kind == "BASE TABLE":
                out[f"{name}.create"] = rows(c, f"SHOW CREATE TABLE {db}.{name}")
            out[f"{name}.rows"] = sorted(rows(c, f"SELECT * FROM {db}.{name}"), key=repr)
        return out


def test_dump_loads_into_a_new_server(source: DorisbkServer, target: DorisbkServer) -> None:
    dump = mysqldump(source, DB)
    # what mysqldump wrote: the tables, their rows, the views (as executable comments)
    assert "LOCK TABLES `orders` WRITE;" in dump
    assert "/*!40000 ALTER TABLE `orders` DISABLE KEYS */;" in dump
    assert "/*!50001 CREATE VIEW `big_orders`" in dump
    assert "170141183460469231731687303715884105727" in dump  # LARGEINT: all 39 digits
    assert "'2024-01-02 12:34:56.001'" in dump  # DATETIME(3): three digits
    load(target, "", "-e", f"CREATE DATABASE {DB}")
    load(target, dump, DB)
    got, expected = contents(target, DB), contents(source, DB)
    assert got == expected
    assert [name for name, _ in got["tables"]] == [  # type: ignore[union-attr]
        "big_orders", "city_pv", "empty_one", "log_lines", "orders", "top_city", "visits"
    ]  # fmt: skip
    assert got["top_city.rows"] == [("a;b",)]
    assert len(got["orders.rows"]) == len(NASTY) + 1  # type: ignore[arg-type]
    # the dump left the session as it found it: a new connection of the loading server is untouched
    with target.connect(database=DB) as c:
        assert rows(c, "SELECT @@sql_mode, @@time_zone, @@unique_checks") == [("ONLY_FULL_GROUP_BY", "UTC", 1)]


@pytest.mark.parametrize(
    "options",
    [
        ["--databases"],  # CREATE DATABASE and USE in the file
        ["--single-transaction", "--databases"],  # START TRANSACTION WITH CONSISTENT SNAPSHOT, SAVEPOINTs
        ["--lock-all-tables", "--databases"],  # FLUSH TABLES WITH READ LOCK
        ["--skip-lock-tables", "--skip-extended-insert", "--complete-insert", "--databases"],
        # COM_REFRESH; SHOW EVENTS, SHOW FUNCTION | PROCEDURE STATUS WHERE Db = ..., information_schema.TRIGGERS
        ["--flush-logs", "--routines", "--events", "--triggers", "--databases"],
    ],
    ids=["databases", "single-transaction", "lock-all-tables", "skip-lock-tables", "flush-logs-routines"],
)
def test_dump_options(source: DorisbkServer, target: DorisbkServer, options: list[str]) -> None:
    dump = mysqldump(source, *options, DB)
    load(target, dump)
    assert contents(target, DB) == contents(source, DB)


def test_lock_tables_as_doris_takes_them(source: DorisbkServer) -> None:
    """LOCK TABLES checks each table (and the right to read it) and locks nothing; UNLOCK TABLES is OK."""
    with source.connect(database=DB) as c:
        assert rows(c, "LOCK TABLES orders READ LOCAL, visits AS v WRITE, big_orders READ") == []
        assert rows(c, "SELECT count(*) FROM orders") == [(len(NASTY) + 1,)]
        assert rows(c, "UNLOCK TABLES") == []
    out = subprocess.run(mysql_cmd(source.port, DB), input="LOCK TABLES no_such_table WRITE;\n", capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert "ERROR 1146" in out.stderr and "no_such_table" in out.stderr
