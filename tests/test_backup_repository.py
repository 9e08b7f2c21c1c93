"""Repositories on local disk, brokers and the ADMIN rule, through a real server and pymysql."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    described,
    doris_err,
    err,
    pause,
    q,
    set_config,
)
from tests.test_backup_support import (
    finished,
    make_table,
    wait_backup,
)

REPO_COLUMNS = ["RepoId", "RepoName", "CreateTime", "IsReadOnly", "Location", "Broker", "Type", "ErrMsg"]
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repos")


def repo_rows(conn: pymysql.connections.Connection) -> dict[str, tuple]:
    return {r[1]: r for r in q(conn, "SHOW REPOSITORIES")}


def test_create_local_repository_and_show(conn: pymysql.connections.Connection, base: Path) -> None:
    location = base / "plain"
    q(conn, f'CREATE REPOSITORY `r_plain` WITH LOCAL ON LOCATION "file://{location}"')
    names, rows = described(conn, "SHOW REPOSITORIES")
    assert names == REPO_COLUMNS
    row = next(r for r in rows if r[1] == "r_plain")
    assert row[0].isdigit()
    assert TIME.match(row[2])
    assert row[3:] == ("false", f"file://{location}", "-", "LOCAL", None)
    info = json.loads((location / "__palo_repository_r_plain" / "__repo_info").read_text())
    assert info == {"name": "r_plain", "create_time": row[2]}
    # The statement is case-insensitive and takes either quote.
    q(conn, f"create read only repository r_ro with local on location 'file://{base / 'ro'}'")
    assert repo_rows(conn)["r_ro"][3] == "true"

    names, rows = described(conn, "SHOW CREATE REPOSITORY FOR r_ro")
    assert names == ["RepoName", "CreateStmt"]
    assert rows[0][0] == "r_ro"
    assert rows[0][1].startswith("CREATE READ ONLY REPOSITORY `r_ro`")
    assert f'ON LOCATION "file://{base / "ro"}"' in rows[0][1]
    # The statement SHOW CREATE REPOSITORY prints creates the repository again.
    q(conn, "DROP REPOSITORY r_ro")
    q(conn, rows[0][1])
    assert repo_rows(conn)["r_ro"][3] == "true"

    names, rows = described(conn, "ADMIN SHOW FRONTEND CONFIG LIKE 'max_backup%'")
    assert names == ["Key", "Value", "Type", "IsMutable", "MasterOnly", "Comment"]
    assert [r[:2] for r in rows] == [
        ("max_backup_restore_concurrent_num_per_db", "10"),
        ("max_backup_restore_job_num_per_db", "10"),
        ("max_backup_tablets_per_job", "300000"),
    ]
    assert doris_err(conn, 'ADMIN SET FRONTEND CONFIG ("no_such_knob" = "1")') == (
        "Config 'no_such_knob' does not exist or is not mutable"
    )


def test_create_repository_errors(conn: pymysql.connections.Connection, base: Path) -> None:
    q(conn, f'CREATE REPOSITORY r_dup WITH LOCAL ON LOCATION "file://{base / "dup"}"')
    assert doris_err(conn, f'CREATE REPOSITORY r_dup WITH LOCAL ON LOCATION "file://{base / "dup2"}"') == (
        "Repository r_dup already exist"
    )
    message = doris_err(conn, 'CREATE REPOSITORY r_rel WITH LOCAL ON LOCATION "relative/path"')
    assert "file://" in message
    assert doris_err(conn, 'CREATE REPOSITORY r_b WITH BROKER nobroker ON LOCATION "file:///tmp/x"') == (
        "broker does not exist: nobroker"
    )
    # A location that cannot be written is refused, never accepted silently.
    blocker = base / "blocker"
    blocker.write_text("a file, not a directory")
    message = doris_err(conn, f'CREATE REPOSITORY r_bad WITH LOCAL ON LOCATION "file://{blocker}/sub"')
    assert message.startswith("Failed to create repository: ")
    assert "r_bad" not in repo_rows(conn)
    # Syntax errors are 1064 with a position.
    code, message = err(conn, "CREATE REPOSITORY r_x WITH LOCAL LOCATION 'file:///tmp/x'")
    assert code == 1064
    assert "line 1" in message.lower() or "column" in message.lower()


def test_hdfs_repository_unreachable_is_an_error(conn: pymysql.connections.Connection) -> None:
    message = doris_err(
        conn,
        'CREATE REPOSITORY r_hdfs WITH HDFS ON LOCATION "hdfs://127.0.0.1:1/backups" '
        'PROPERTIES ("fs.defaultFS" = "hdfs://127.0.0.1:1", "hadoop.username" = "doris")',
    )
    assert message.startswith("Failed to create repository: ")
    assert "r_hdfs" not in repo_rows(conn)


def test_create_adopts_existing_repo_info(conn: pymysql.connections.Connection, base: Path) -> None:
    location = base / "migrated"
    repo_dir = location / "__palo_repository_r_mig"
    repo_dir.mkdir(parents=True)
    (repo_dir / "__repo_info").write_text(json.dumps({"name": "r_mig", "create_time": "2020-01-02 03:04:05"}))
    q(conn, f'CREATE REPOSITORY r_mig WITH LOCAL ON LOCATION "file://{location}"')
    assert repo_rows(conn)["r_mig"][2] == "2020-01-02 03:04:05"
    # The file is adopted, not rewritten.
    assert json.loads((repo_dir / "__repo_info").read_text())["create_time"] == "2020-01-02 03:04:05"
    # Dropping keeps the files; creating it again adopts them again.
    q(conn, "DROP REPOSITORY r_mig")
    assert (repo_dir / "__repo_info").is_file()
    q(conn, f'CREATE REPOSITORY r_mig WITH LOCAL ON LOCATION "file://{location}"')
    assert repo_rows(conn)["r_mig"][2] == "2020-01-02 03:04:05"

    bad = base / "badinfo" / "__palo_repository_r_badinfo"
    bad.mkdir(parents=True)
    (bad / "__repo_info").write_text(json.dumps({"name": "r_badinfo", "create_time": "yesterday"}))
    message = doris_err(conn, f'CREATE REPOSITORY r_badinfo WITH LOCAL ON LOCATION "file://{base / "badinfo"}"')
    assert message == "Failed to create repository: failed to parse create time of repository: yesterday"


def test_alter_and_drop_repository(conn: pymysql.connections.Connection, base: Path) -> None:
    q(conn, f'CREATE REPOSITORY r_alter WITH LOCAL ON LOCATION "file://{base / "alter"}"')
    assert (
        doris_err(conn, 'ALTER REPOSITORY r_alter PROPERTIES ("s3.access_key" = "x")')
        == "Only support alter s3 or azure repository"
    )
    assert doris_err(conn, 'ALTER REPOSITORY r_none PROPERTIES ("s3.access_key" = "x")') == (
        "Repository does not exist"
    )
    assert doris_err(conn, "DROP REPOSITORY r_none") == "Repository does not exist"
    assert doris_err(conn, "SHOW CREATE REPOSITORY FOR r_none") == "repository not exist."
    q(conn, "DROP REPOSITORY r_alter")
    assert "r_alter" not in repo_rows(conn)
    assert (base / "alter" / "__palo_repository_r_alter" / "__repo_info").is_file()


def test_drop_repository_refused_while_a_job_uses_it(conn: pymysql.connections.Connection, base: Path) -> None:
    q(conn, "CREATE DATABASE rdb")
    make_table(conn, "rdb", "t", rows=3, buckets=1)
    q(conn, f'CREATE REPOSITORY r_busy WITH LOCAL ON LOCATION "file://{base / "busy"}"')
    pause(conn, "PENDING")
    try:
        q(conn, "BACKUP SNAPSHOT rdb.s1 TO r_busy")
        wait_backup(conn, "rdb", "s1", ("PENDING",))
        assert doris_err(conn, "DROP REPOSITORY r_busy") == (
            "Backup or restore job is running on this repository. Can not drop it"
        )
    finally:
        pause(conn)
    finished(conn, "rdb", "s1")
    q(conn, "DROP REPOSITORY r_busy")
    # Remote snapshot files stay.
    assert list((base / "busy" / "__palo_repository_r_busy" / "__ss_s1").glob("__info_*"))


def test_read_only_repository_refuses_backup(conn: pymysql.connections.Connection, base: Path) -> None:
    q(conn, "CREATE DATABASE IF NOT EXISTS rdb")
    q(conn, f'CREATE READ ONLY REPOSITORY r_ro2 WITH LOCAL ON LOCATION "file://{base / "ro2"}"')
    assert doris_err(conn, "BACKUP SNAPSHOT rdb.s9 TO r_ro2") == "Repository r_ro2 is read only"


def test_brokers(conn: pymysql.connections.Connection, base: Path) -> None:
    q(conn, 'ALTER SYSTEM ADD BROKER hdfs_broker "127.0.0.1:8000", "127.0.0.2:8000"')
    names, rows = described(conn, "SHOW BROKER")
    assert names == ["Name", "Host", "Port", "Alive", "LastStartTime", "LastUpdateTime", "ErrMsg"]
    assert [(r[0], r[1], str(r[2])) for r in rows] == [
        ("hdfs_broker", "127.0.0.1", "8000"),
        ("hdfs_broker", "127.0.0.2", "8000"),
    ]
    assert "has already in brokers" in doris_err(conn, 'ALTER SYSTEM ADD BROKER hdfs_broker "127.0.0.1:8000"')
    # A broker repository reaches its location through the matching file system.
    location = base / "via_broker"
    q(conn, f'CREATE REPOSITORY r_brk WITH BROKER hdfs_broker ON LOCATION "file://{location}"')
    row = repo_rows(conn)["r_brk"]
    assert (row[5], row[6]) == ("hdfs_broker", "BROKER")
    assert (location / "__palo_repository_r_brk" / "__repo_info").is_file()
    q(conn, 'ALTER SYSTEM DROP BROKER hdfs_broker "127.0.0.2:8000"')
    assert len(q(conn, "SHOW BROKER")) == 1
    q(conn, "ALTER SYSTEM DROP ALL BROKER hdfs_broker")
    assert q(conn, "SHOW BROKER") == []


def test_every_backup_statement_needs_admin(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE IF NOT EXISTS rdb")
    q(conn, "CREATE USER 'plain'@'%' IDENTIFIED BY 'pw'")
    q(conn, "GRANT SELECT_PRIV, LOAD_PRIV ON *.* TO 'plain'@'%'")
    statements = [
        'CREATE REPOSITORY r_user WITH LOCAL ON LOCATION "file:///tmp/never"',
        'ALTER REPOSITORY r_plain PROPERTIES ("s3.access_key" = "x")',
        "DROP REPOSITORY r_plain",
        "SHOW REPOSITORIES",
        "SHOW CREATE REPOSITORY FOR r_plain",
        "BACKUP SNAPSHOT rdb.s_user TO r_plain",
        "SHOW BACKUP FROM rdb",
        "SHOW SNAPSHOT ON r_plain",
        "CANCEL BACKUP FROM rdb",
        "DROP SNAPSHOT s1 FROM r_plain",
        'ALTER SYSTEM ADD BROKER b "127.0.0.1:1"',
        "SHOW BROKER",
    ]
    with server.connect(user="plain", password="pw") as user_conn:
        for sql in statements:
            code, message = err(user_conn, sql)
            assert code == 1227, (sql, code, message)
            assert "ADMIN" in message, (sql, message)
        # The connection stays usable.
        assert q(user_conn, "SELECT 1") == [(1,)]
    assert "r_plain" in repo_rows(conn)
