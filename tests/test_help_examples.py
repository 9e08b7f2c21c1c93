"""Every example of every help topic runs against a real server, in EXAMPLE_ORDER, with the
repositories pointed at a scratch directory and a real S3 server (SeaweedFS on loopback), and
the example backup timestamp replaced by the real one."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from dorisbk.sql.help import (
    EXAMPLE_BACKUP_TIMESTAMP,
    EXAMPLE_DATABASE,
    EXAMPLE_ORDER,
    EXAMPLE_REPOSITORY,
    EXAMPLE_REPOSITORY_LOCATION,
    get_help_module,
)
from tests.dorisbk_server import DorisbkServer
from tests.s3server import S3Server, s3_server

DONE = ("FINISHED", "CANCELLED")
GLOBAL_JOBS = "__internal_schema"
# the label a RESTORE example restores, whose timestamp replaces EXAMPLE_BACKUP_TIMESTAMP
RESTORED_LABEL = re.compile(r"RESTORE\s+(?:GLOBAL\s+)?SNAPSHOT\s+(?:\w+\.)?(\w+)", re.IGNORECASE)
PAUSE = {"CANCEL-BACKUP": "BACKUP:PENDING", "CANCEL-RESTORE": "RESTORE:PENDING"}


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server(bucket="example-bucket") as server:
        yield server


def q(conn: pymysql.connections.Connection, sql: str) -> list[dict]:
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def jobs(conn: pymysql.connections.Connection) -> list[dict]:
    """The jobs of the example database and the global ones (BACKUP / RESTORE GLOBAL)."""
    found = []
    for db in (EXAMPLE_DATABASE, GLOBAL_JOBS):
        found += q(conn, f"SHOW BACKUP FROM {db}") + q(conn, f"SHOW RESTORE FROM {db}")
    return found


def wait_for_jobs(conn: pymysql.connections.Connection, timeout: float = 60.0) -> list[dict]:
    """Wait until every backup and restore job of the example database has ended."""
    if EXAMPLE_DATABASE not in {r["Database"] for r in q(conn, "SHOW DATABASES")}:
        return []
    deadline = time.monotonic() + timeout
    while True:
        found = jobs(conn)
        if all(j["State"] in DONE for j in found):
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"jobs did not end: {found}")
        time.sleep(0.05)


def substitutions(tmp: Path, s3: S3Server) -> dict[str, str]:
    return {
        EXAMPLE_REPOSITORY_LOCATION: f"file://{tmp / 'example_repo'}",
        "file:///tmp/dorisbk_example_ro_repo": f"file://{tmp / 'example_ro_repo'}",
        "http://127.0.0.1:8333": s3.endpoint,
        "example_ak_2": s3.access_key,
        "example_sk_2": s3.secret_key,
        '"example_ak"': f'"{s3.access_key}"',
        '"example_sk"': f'"{s3.secret_key}"',
    }


def test_every_help_example_runs(server: DorisbkServer, s3: S3Server, tmp_path: Path) -> None:
    module = get_help_module()
    replace = substitutions(tmp_path, s3)
    timestamps: dict[str, str] = {}
    ran = 0
    with server.connect() as conn:
        q(conn, 'ADMIN SET FRONTEND CONFIG ("backup_handler_update_interval_millis" = "50")')
        for name in EXAMPLE_ORDER:
            topic = module.topics[name]
            if name in PAUSE:
                q(conn, f'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "{PAUSE[name]}")')
            for statement in topic.example_statements():
                for old, new in replace.items():
                    statement = statement.replace(old, new)
                if not statement.upper().startswith("CANCEL"):
                    wait_for_jobs(conn)
                if EXAMPLE_BACKUP_TIMESTAMP in statement:
                    restored = RESTORED_LABEL.search(statement)
                    label = restored.group(1) if restored else "example_snapshot"
                    if label not in timestamps:
                        where = f'WHERE SNAPSHOT = "{label}"'
                        snapshots = q(conn, f"SHOW SNAPSHOT ON {EXAMPLE_REPOSITORY} {where}")
                        assert len(snapshots) == 1, snapshots
                        timestamps[label] = snapshots[0]["Timestamp"]
                    statement = statement.replace(EXAMPLE_BACKUP_TIMESTAMP, timestamps[label])
                try:
                    q(conn, statement)
                except pymysql.MySQLError as exc:
                    pytest.fail(f"example of {name} failed: {statement}\n{exc}")
                ran += 1
            if name in PAUSE:
                q(conn, 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "")')
            if name in ("BACKUP", "RESTORE"):
                ended = wait_for_jobs(conn)
                assert ended and all(j["State"] == "FINISHED" for j in ended), ended
        assert EXAMPLE_DATABASE not in {r["Database"] for r in q(conn, "SHOW DATABASES")}
    assert ran == sum(len(module.topics[n].example_statements()) for n in EXAMPLE_ORDER)
