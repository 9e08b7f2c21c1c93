"""SQL never reaches the host: no user (not even root) reads or writes a file of the host, another
database's rowsets, the metadata store or DuckDB's settings through a query, wherever the call stands
(FROM, LATERAL, CTE, subquery, view, INSERT ... SELECT, DELETE's WHERE, information_schema).

Each layer is also checked alone: the allowlist on the parsed tree (``dorisbk.engine.allowlist``) and the
locked DuckDB (``dorisbk.backend.duck``), so that either one stops every attack.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import sqlglot

from dorisbk.engine import allowlist
from dorisbk.engine.dialect import DorisBK
from dorisbk.errors import DorisError
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import error, one, rows

ROOT = Path(__file__).resolve().parents[2]


def _attacks(secret: Path, data_dir: Path, out_dir: Path) -> list[str]:
    """Queries that read or write the host through DuckDB's own functions."""
    rowsets = f"{data_dir}/be/*/data/*/*.parquet"
    wal = f"{data_dir}/meta.db-wal"
    return [
        f"SELECT content FROM (SELECT 1) x, LATERAL read_text('{secret}')",
        f"SELECT * FROM read_text('{secret}')",
        f"WITH h AS (SELECT content FROM read_text('{secret}')) SELECT * FROM h",
        f"SELECT (SELECT content FROM read_text('{secret}')) AS c",
        f"SELECT * FROM (SELECT 1 AS a) x WHERE EXISTS (SELECT * FROM read_text('{secret}'))",
        f"SELECT * FROM query('SELECT content FROM read_text(''{secret}'')')",
        f"SELECT * FROM (SELECT 1) x, LATERAL query('SELECT * FROM read_text(''{secret}'')')",
        f"SELECT * FROM read_parquet('{rowsets}')",
        f"SELECT * FROM (SELECT 1) x, LATERAL read_parquet('{rowsets}')",
        f"SELECT * FROM (SELECT 1) x, LATERAL read_blob('{wal}')",
        f"SELECT * FROM (SELECT 1) x, LATERAL read_csv('{secret}')",
        f"SELECT * FROM (SELECT 1) x, LATERAL glob('{data_dir}/*')",
        f"SELECT * FROM `{secret}`",
        f'SELECT * FROM (WITH "{secret}" AS (SELECT 1 AS a) SELECT a FROM "{secret}") x, `{secret}` y',
        f"SELECT $$, 'x' FROM (SELECT 1) t, LATERAL read_text('{secret}') AS $$",
        f"SELECT * FROM (SELECT 1) x, LATERAL enable_logging(level='trace', storage='file', storage_path='{out_dir}')",
        "SELECT write_log('planted by an attacker', level := 'error')",
        "SELECT * FROM (SELECT 1) x, LATERAL duckdb_logs()",
        "SELECT * FROM (SELECT 1) x, LATERAL truncate_duckdb_logs()",
        "SELECT * FROM (SELECT 1) x, LATERAL disable_logging()",
        "SELECT current_setting('temp_directory')",
        "SELECT * FROM (SELECT 1) x, LATERAL duckdb_settings()",
        "SELECT getvariable('x')",
        "SELECT 'x'.read_text()",
    ]


@pytest.fixture(scope="module")
def host(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A secret file outside the data dir, a directory an attacker wants to write to, a table of
    root's in a database the attacker has no grant on, and a user with no grants."""
    outside = tmp_path_factory.mktemp("host")
    secret = outside / "secret.txt"
    secret.write_text("TOP-SECRET-LINE\n")
    out_dir = outside / "written"
    out_dir.mkdir()
    with server.connect() as conn:
        for sql in [
            "CREATE DATABASE vault",
            "CREATE TABLE vault.gold (k INT, secret VARCHAR(32)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2",
            "INSERT INTO vault.gold VALUES (1, 'GOLD-ROW-ONE'), (2, 'GOLD-ROW-TWO')",
            "CREATE DATABASE playground",
            "CREATE TABLE playground.t (k INT, v VARCHAR(200)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1",
            "CREATE USER 'mallory'@'%' IDENTIFIED BY 'pw'",
            "GRANT SELECT_PRIV, LOAD_PRIV ON internal.playground.* TO mallory",
            # S3 keys land in the metadata store (and its WAL)
            "CREATE REPOSITORY keys_repo WITH S3 ON LOCATION 's3://bucket/prefix' PROPERTIES "
            "('s3.endpoint' = 'http://127.0.0.1:1', 's3.access_key' = 'AKIAEXAMPLE', "
            "'s3.secret_key' = 'SECRET-KEY-VALUE', 's3.region' = 'us-east-1')",
        ]:
            try:
                rows(conn, sql)
            except pymysql.err.MySQLError:
                if not sql.startswith("CREATE REPOSITORY"):  # an unreachable endpoint may be refused
                    raise
    yield {"secret": secret, "out_dir": out_dir, "data_dir": server.data_dir.resolve()}


LEAKS = ("TOP-SECRET-LINE", "GOLD-ROW", "SECRET-KEY-VALUE", "root:")


def _assert_refused(conn: pymysql.connections.Connection, sql: str) -> None:
    code, message = error(conn, sql)
    assert code in (1064, 1105, 1146, 1235), (sql, code, message)
    for leak in LEAKS:
        assert leak not in message, (sql, message)
    # refused by dorisbk's checks, not by a DuckDB error (those start with their kind: "Permission Error: ")
    assert "Error: " not in message, (sql, message)


@pytest.mark.parametrize("user", ["mallory", "root"])
def test_queries_never_read_or_write_the_host(server: DorisbkServer, host: dict[str, Path], user: str) -> None:
    password = "pw" if user == "mallory" else ""
    with server.connect(user, password, database="playground") as conn:
        for sql in _attacks(host["secret"], host["data_dir"], host["out_dir"]):
            _assert_refused(conn, sql)
            assert one(conn, "SELECT 1") == 1  # the connection stays usable
    assert list(host["out_dir"].iterdir()) == []
    with server.connect() as root:
        assert rows(root, "SELECT k, secret FROM vault.gold ORDER BY k") == [(1, "GOLD-ROW-ONE"), (2, "GOLD-ROW-TWO")]


def test_attacks_inside_views_inserts_and_deletes(server: DorisbkServer, host: dict[str, Path]) -> None:
    secret = host["secret"]
    with server.connect("mallory", "pw", database="playground") as conn:
        for sql in [
            f"INSERT INTO t SELECT 1, content FROM (SELECT 1) x, LATERAL read_text('{secret}')",
            f"INSERT INTO t WITH h AS (SELECT * FROM read_text('{secret}')) SELECT 1, content FROM h",
            f"DELETE FROM t WHERE v = (SELECT content FROM read_text('{secret}'))",
            "DELETE FROM t WHERE v = write_log('x')",
        ]:
            _assert_refused(conn, sql)
        assert rows(conn, "SELECT * FROM t") == []
    with server.connect(database="playground") as root:
        # a view's stored text is checked when it is read, whoever created it
        code, _ = error(root, f"CREATE VIEW peek AS SELECT content FROM (SELECT 1) x, LATERAL read_text('{secret}')")
        assert code in (1064, 1105, 1235)
        assert "peek" not in [r[0] for r in rows(root, "SHOW TABLES")]


def test_information_schema_queries_are_locked_too(server: DorisbkServer, host: dict[str, Path]) -> None:
    with server.connect("mallory", "pw") as conn:
        _assert_refused(
            conn,
            f"SELECT * FROM information_schema.tables, LATERAL read_text('{host['secret']}')",
        )
        _assert_refused(conn, "SELECT write_log('x') FROM information_schema.tables")
        assert one(conn, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'playground'") == 1


def test_everyday_queries_still_answer(server: DorisbkServer, host: dict[str, Path]) -> None:
    """The allowlist lets Doris's own functions and syntax through."""
    with server.connect(database="playground") as conn:
        rows(conn, "INSERT INTO t VALUES (1, 'a'), (2, 'bb'), (3, NULL)")
        assert rows(
            conn,
            "WITH w AS (SELECT k, v FROM t) SELECT k, upper(ifnull(v, 'none')), length(coalesce(v, '')), "
            "count(*) OVER () FROM w WHERE k IN (SELECT k FROM t) ORDER BY k",
        ) == [(1, "A", 1, 3), (2, "BB", 2, 3), (3, "NONE", 0, 3)]
        assert one(conn, "SELECT /*+ SET_VAR(query_timeout = 10) */ count(*) FROM t PARTITION (t)") == 3
        assert one(conn, "SELECT sum(number) FROM numbers('number' = '5')") == 10
        assert one(conn, "SELECT date_format('2024-05-06', '%Y/%m')") == "2024/05"
        rows(conn, "DELETE FROM t WHERE k = 3")
        assert one(conn, "SELECT count(*) FROM t") == 2


def test_explain_names_no_file_of_the_host(server: DorisbkServer, host: dict[str, Path]) -> None:
    """EXPLAIN shows the plan (tables, partitions, tablets, rowset counts), never where the rowsets live."""
    with server.connect("mallory", "pw", database="playground") as conn:
        rows(conn, "INSERT INTO t VALUES (7, 'seen')")
        plan = [line for (line,) in rows(conn, "EXPLAIN SELECT v FROM t WHERE k = 7")]
    assert any("TABLE: playground.t(t)" in line for line in plan), plan
    assert any("VIEW " in line for line in plan), plan
    for line in plan:
        assert str(host["data_dir"]) not in line and ".parquet" not in line, line


# ---- each layer alone


# a back-quoted name is a table name: the catalog lookup refuses those, not the allowlist
FUNCTION_ATTACKS = [a for a in _attacks(Path("/etc/passwd"), Path("/data"), Path("/tmp/out")) if "`" not in a]


@pytest.mark.parametrize("sql", FUNCTION_ATTACKS)
def test_allowlist_alone_refuses_every_attack(sql: str) -> None:
    with pytest.raises((DorisError, sqlglot.errors.ParseError)):  # refused by the parser or by the allowlist
        allowlist.check(sqlglot.parse_one(sql, read=DorisBK))


_LOCKED_DUCKDB = """
import json, sys
from pathlib import Path
from dorisbk.backend import duck
root, attacks = Path(sys.argv[1]), json.loads(sys.argv[2])
(root / "be" / "be1").mkdir(parents=True)
duck.configure(root / "duckdb_tmp", [root / "be" / "be1"])
cur = duck.cursor()
cur.execute(f"COPY (SELECT 1 AS a) TO '{root}/be/be1/ok.parquet'")
assert cur.execute(f"SELECT a FROM read_parquet('{root}/be/be1/ok.parquet')").fetchall() == [(1,)]
results = {}
for sql in attacks:
    try:
        results[sql] = repr(cur.execute(sql).fetchall())
    except Exception as exc:
        results[sql] = "refused: " + str(exc).splitlines()[0]
print(json.dumps(results))
"""


def test_locked_duckdb_alone_keeps_to_the_data_dir(tmp_path: Path) -> None:
    """The generated SQL is run as DuckDB SQL on the server's locked database, with no allowlist."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE\n")
    (tmp_path / "meta.db-wal").write_text("SECRET-KEY-VALUE")
    data = tmp_path / "data"
    out_dir = tmp_path / "written"
    out_dir.mkdir()
    attacks = [
        f"SELECT content FROM read_text('{secret}')",
        f"SELECT * FROM read_blob('{tmp_path}/meta.db-wal')",
        f"SELECT * FROM read_text('{data}/be/be1/../../../secret.txt')",
        f"SELECT * FROM query('SELECT * FROM read_text(''{secret}'')')",
        f"SELECT * FROM glob('{tmp_path}/*')",
        f"COPY (SELECT 'x') TO '{out_dir}/planted.csv'",
        f"CALL enable_logging(level='trace', storage='file', storage_path='{out_dir}')",
        "SET lock_configuration = false",
        "SET enable_external_access = true",
        f"SET allowed_directories = ['{tmp_path}']",
        f"ATTACH '{out_dir}/x.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
    ]
    env = {"PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _LOCKED_DUCKDB, str(data), json.dumps(attacks)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for sql, outcome in results.items():
        assert outcome.startswith("refused: "), (sql, outcome)
        assert "TOP-SECRET" not in outcome and "SECRET-KEY" not in outcome
    assert list(out_dir.iterdir()) == []


def test_column_names_are_checked_as_doris_checks_them(server: DorisbkServer, host: dict[str, Path]) -> None:
    """A column name is spliced into generated SQL (load checks, file schemas): quotes never get in."""
    with server.connect(database="playground") as conn:
        for name in ["a'b", "x') || read_text('/etc/passwd') || ('", "semi;colon", "back\\slash"]:
            quoted = name.replace("`", "``")
            for sql in [
                f"CREATE TABLE bad (k INT, `{quoted}` VARCHAR(10) NOT NULL) DUPLICATE KEY(k) "
                "DISTRIBUTED BY HASH(k) BUCKETS 1",
                f"ALTER TABLE t ADD COLUMN `{quoted}` INT DEFAULT '0'",
                f"ALTER TABLE t RENAME COLUMN v `{quoted}`",
            ]:
                code, message = error(conn, sql)
                assert code == 1166, (sql, code, message)
        assert [r[0] for r in rows(conn, "DESC t")] == ["k", "v"]
        rows(
            conn,
            'CREATE TABLE odd (k INT, `a "quoted" name` VARCHAR(3) NOT NULL) DUPLICATE KEY(k) '
            "DISTRIBUTED BY HASH(k) BUCKETS 1",
        )
        code, message = error(conn, "INSERT INTO odd VALUES (1, NULL)")
        assert code == 1105 and 'column=a "quoted" name' in message, message
        code, message = error(conn, "INSERT INTO odd VALUES (1, 'toolong')")
        assert code == 1105 and "too long" in message, message
