"""Doris suites ``test_backup_cancelled`` and ``test_drop_snapshot``, replayed on a LOCAL repository.

``test_backup_cancelled`` injects snapshot failures on the backends through HTTP debug points;
those cannot exist here, so what is replayed is the SQL around them: two backups of an
aggregate table, SHOW TABLETS, TRUNCATE and a restore that brings the rows back.
Its second suite (``test_backup_cooldown_cancelled``) needs a storage policy on remote
storage and is not replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites import syncer
from tests.doris_suites.suite_support import ONE_REPLICA, fill_agg_table, open_conn
from tests.doris_suites.syncer import sql, sql_dicts
from tests.dorisbk_server import DorisbkServer


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    # Doris's regression clusters run with one backend holding every replica
    yield from open_conn(server, **ONE_REPLICA)


def agg_table(conn: pymysql.connections.Connection, db: str, table: str) -> list[str]:
    sql(conn, f"CREATE DATABASE IF NOT EXISTS {db}")
    values = fill_agg_table(conn, f"{db}.{table}")
    assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == len(values)
    return values


def test_backup_cancelled(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    repo = syncer.unique("repo")
    db, table = "test_backup_cancelled_db", "test_backup_cancelled_table"
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    values = agg_table(conn, db, table)

    tablets = sql_dicts(conn, f"show tablets from {db}.{table}")
    assert len(tablets) == 2 and all(str(t["TabletId"]).isdigit() for t in tablets)

    sql(conn, f"BACKUP SNAPSHOT {db}.test_backup_cancelled_snapshot TO `{repo}` ON ({table})")
    assert syncer.wait_backup_end(conn, db)["State"] in syncer.ENDED
    sql(conn, f"BACKUP SNAPSHOT {db}.test_backup_cancelled_snapshot1 TO `{repo}` ON ({table})")
    assert syncer.wait_backup_end(conn, db)["State"] in syncer.ENDED

    snapshot = syncer.get_snapshot_timestamp(conn, repo, "test_backup_cancelled_snapshot")
    assert snapshot is not None

    sql(conn, f"TRUNCATE TABLE {db}.{table}")
    assert sql(conn, f"SELECT * FROM {db}.{table}") == []
    sql(
        conn,
        f"""
        RESTORE SNAPSHOT {db}.test_backup_cancelled_snapshot
        FROM `{repo}`
        ON ( `{table}`)
        PROPERTIES
        (
            "backup_timestamp" = "{snapshot}",
            "reserve_replica" = "true"
        )
        """,
    )
    syncer.wait_all_restore_finish(conn, db)
    assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == len(values)

    sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_drop_snapshot(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    repo = syncer.unique("repo")
    db, table, label = "test_drop_snapshot_db", "test_drop_snapshot_table", "test_drop_snapshot_snapshot"
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    agg_table(conn, db, table)

    sql(conn, f"BACKUP SNAPSHOT {db}.{label} TO `{repo}` ON ({table})")
    syncer.wait_snapshot_finish(conn, db)
    assert syncer.get_snapshot_timestamp(conn, repo, label) is not None

    sql(conn, f"DROP SNAPSHOT {label} FROM {repo}")
    assert syncer.get_snapshot_timestamp(conn, repo, label) is None
    assert not (tmp_path / "repo" / f"__palo_repository_{repo}" / f"__ss_{label}").exists()

    sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
    sql(conn, f"DROP REPOSITORY `{repo}`")


def test_hdfs_repository_without_namenode(conn: pymysql.connections.Connection) -> None:
    """``test_backup_restore_with_hdfs`` / ``test_backup_restore_hdfs`` skip themselves without HDFS;
    here there is none, and creating the repository says why at once."""
    _, message = syncer.sql_error(
        conn,
        """CREATE REPOSITORY `hdfs_repo_b` WITH HDFS ON LOCATION "hdfs://127.0.0.1:9/user/doris/backup"
        PROPERTIES ("fs.defaultFS" = "hdfs://127.0.0.1:9", "hadoop.username" = "root")""",
    )
    assert message.startswith("errCode = 2, detailMessage = Failed to create repository: ")
    assert "hdfs_repo_b" not in [r[1] for r in sql(conn, "SHOW REPOSITORIES")]
