"""JDBC: MariaDB Connector/J 2.7 (Debian's libmariadb-java) and MySQL Connector/J 8.0.33 (taken
from the wbjdbc wheel by scripts/test-deps.sh) run tests/java/Probe.java, one JVM per driver:
connect, BACKUP's update count, SHOW BACKUP metadata and rows, error codes and SQLSTATEs,
client- and server-side prepared statements with hostile strings, DatabaseMetaData browsing,
and TLS (sslMode=REQUIRED / useSsl=true)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.clientkit import (
    CONNECTOR_J_JAR,
    ERR_PREFIX,
    MARIADB_JAVA_JAR,
    ROOT,
    require_binary,
    require_file,
    start_tls_server,
)
from tests.dorisbk_server import DorisbkServer

DB = "jdbc_db"
REPO = "jdbc_repo"
SHOW_BACKUP_COLUMNS = [
    "JobId", "SnapshotName", "DbName", "State", "BackupObjs", "CreateTime", "SnapshotFinishedTime",
    "UploadFinishedTime", "FinishedTime", "UnfinishedTasks", "Progress", "TaskErrMsg", "Status", "Timeout",
]  # fmt: skip


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    base = tmp_path_factory.mktemp("jdbc")
    server = start_tls_server(base)
    with server.connect() as c, c.cursor() as cur:
        cur.execute(f"CREATE DATABASE {DB}")
        cur.execute(f"CREATE TABLE {DB}.t (id BIGINT, name VARCHAR(20)) DISTRIBUTED BY HASH(id) BUCKETS 1")
        cur.execute(f"INSERT INTO {DB}.t VALUES (1, 'a'), (2, 'b')")
        cur.execute(f"CREATE VIEW {DB}.tv AS SELECT id, name, id * 2 AS twice FROM {DB}.t")
        cur.execute(f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{base / "repo"}"')
    yield server
    server.stop()


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Probe.java compiled into a temporary directory (no class file or jar is ever committed)."""
    javac = require_binary("javac")
    out = tmp_path_factory.mktemp("probe")
    subprocess.run([javac, "-d", str(out), str(ROOT / "tests" / "java" / "Probe.java")], check=True, timeout=120)
    return out


DRIVERS = {
    "mariadb": (
        MARIADB_JAVA_JAR,
        "jdbc:mariadb://127.0.0.1:{port}/",
        "jdbc:mariadb://127.0.0.1:{port}/?useSsl=true&trustServerCertificate=true",
        "MariaDB Connector/J 2.",
    ),
    "mysql": (
        CONNECTOR_J_JAR,
        "jdbc:mysql://127.0.0.1:{port}/?sslMode=DISABLED",
        "jdbc:mysql://127.0.0.1:{port}/?sslMode=REQUIRED",
        "MySQL Connector/J mysql-connector-j-8.0.33",
    ),
}


def run_probe(java: str, probe_dir: Path, jar: Path, url: str, tls_url: str, label: str) -> dict[str, str]:
    out = subprocess.run(
        [java, "-cp", f"{probe_dir}:{jar}", "Probe", url, "root", "", DB, REPO, label, tls_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    facts = dict(line.split("\t", 1) for line in out.stdout.splitlines())
    return {k: v.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\") for k, v in facts.items()}


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_jdbc_driver(srv: DorisbkServer, probe_dir: Path, driver: str) -> None:
    java = require_binary("java")
    jar_path, url, tls_url, name = DRIVERS[driver]
    jar = require_file(jar_path)
    facts = run_probe(java, probe_dir, jar, url.format(port=srv.port), tls_url.format(port=srv.port), f"snap_{driver}")
    assert facts["done"] == "true"
    assert facts["driver"].startswith(name)
    assert facts["product"] == "MySQL 5.7.99-dorisbk"
    assert facts["autocommit"] == "true"

    # BACKUP is an update (no result set) with count 0; SHOW BACKUP lists the job
    assert facts["backup.isResultSet"] == "false"
    assert facts["backup.updateCount"] == "0"
    assert facts["show.columns"] == str(len(SHOW_BACKUP_COLUMNS))
    for i, column in enumerate(SHOW_BACKUP_COLUMNS, start=1):
        label, type_name, class_name = facts[f"show.col{i}"].split(" ")
        assert (label, type_name, class_name) == (column, "VARCHAR", "java.lang.String")
    assert int(facts["show.JobId"]) > 0
    assert facts["show.SnapshotName"] == f"snap_{driver}"
    assert facts["show.DbName"] == DB
    assert facts["show.State"] in ("PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META",
                                   "UPLOAD_INFO", "FINISHED")  # fmt: skip

    # errors: MySQL code and SQLSTATE, Doris's message
    expected_errors = {"unknownTable": ("1146", "42S02"), "syntax": ("1064", "42000"), "doris": ("1049", "42000")}
    for key, (code, state) in expected_errors.items():
        assert facts[f"error.{key}.code"] == code, facts
        assert facts[f"error.{key}.state"] == state, facts
        assert ERR_PREFIX in facts[f"error.{key}.message"]
        assert "<class" not in facts[f"error.{key}.message"]

    assert facts["select.row0"] == "Long:1|String:a"
    assert facts["select.row1"] == "Long:2|String:b"
    assert facts["meta.tables"] == "t:TABLE,tv:VIEW"
    assert facts["meta.columns"] == "id:BIGINT:-5,name:VARCHAR:12"
    # a view's columns (issue 12): names, types and positions from its query
    assert facts["meta.viewColumns"] == "id:BIGINT:-5:1,name:VARCHAR:12:2,twice:BIGINT:-5:3"
    # what a catalog browser asks next answers without an error, empty where Doris has nothing to show
    # (mysql.tables_priv / columns_priv, SHOW FUNCTION | PROCEDURE STATUS WHERE ..., SHOW COLUMNS ... WHERE
    # Extra LIKE ... with Connector/J; information_schema's privileges and routines with MariaDB J)
    for key in ("tablePrivileges", "columnPrivileges", "functions", "procedures", "versionColumns",
                "bestRowIdentifier"):  # fmt: skip
        assert facts[f"meta.{key}"] == "", (key, facts[f"meta.{key}"])
    assert facts["meta.schemas"].split(",")[:1] == ["information_schema"] and DB in facts["meta.schemas"]

    # client-side (prep) and server-side (sprep, useServerPrepStmts=true) prepared statements
    for mode in ("prep", "sprep"):
        assert facts[f"{mode}.literals.row0"] == (
            "Long:9007199254740993|String:it's a \"quote\" and a \\ backslash|NULL|String:x' OR '1'='1"
        )
        assert facts[f"{mode}.match.row0"] == "Long:2|String:b"
        assert facts[f"{mode}.injection.rows"] == "0"
        assert facts[f"{mode}.injection2.rows"] == "0"
        assert facts[f"{mode}.count.row0"] == "Long:2"

    # TLS: three connections with sslMode=REQUIRED / useSsl=true
    for i in range(3):
        assert facts[f"tls{i}.row0"] == "Long:2"
    assert srv.query(f"SELECT count(*) FROM {DB}.t") == [(2,)]


def test_jdbc_example_runs(srv: DorisbkServer, tmp_path: Path) -> None:
    """examples/jdbc/BackupExample.java, as its README says to run it."""
    javac, java = require_binary("javac"), require_binary("java")
    jar = require_file(CONNECTOR_J_JAR)
    source = ROOT / "examples" / "jdbc" / "BackupExample.java"
    subprocess.run([javac, "-d", str(tmp_path), str(source)], check=True, timeout=120)
    out = subprocess.run(
        [java, "-cp", f"{tmp_path}:{jar}", "BackupExample", f"jdbc:mysql://127.0.0.1:{srv.port}/", "root", "",
         str(tmp_path / "repo")],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "backup finished" in out.stdout
    assert "expected error 1105 (HY000): " + ERR_PREFIX + "Repository no_such_repo does not exist" in out.stdout
