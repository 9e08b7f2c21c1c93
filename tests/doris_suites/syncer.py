"""What Doris's regression suites do through their ``Syncer``: repositories, waits, timestamps.

The scenarios under ``tests/doris_suites`` replay, as SQL through pymysql against a real
``dorisbk serve``, what Doris's own backup and restore suites do. Their helper object
creates a repository, waits for the database's backup or restore jobs to end and reads
a snapshot's timestamp from ``SHOW SNAPSHOT``; this module does the same with the same
statements a Doris user would send, so a suite's steps read one-to-one.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pymysql

from tests.s3server import S3Server
from tests.sqlhelp import dicts, error, rows

WAIT_S = 60.0
POLL_S = 0.1
ENDED = ("FINISHED", "CANCELLED")


def unique(prefix: str) -> str:
    """A name no other test uses (Doris's suites add a UUID to repository names the same way)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def sql(conn: pymysql.connections.Connection, statement: str) -> list[tuple]:
    """Run one statement and return its rows, as a suite's ``sql "..."`` does."""
    return rows(conn, statement)


def sql_dicts(conn: pymysql.connections.Connection, statement: str) -> list[dict[str, Any]]:
    """Rows keyed by column name (SHOW BACKUP / SHOW RESTORE / SHOW SNAPSHOT are read by name)."""
    return dicts(conn, statement)


def sql_error(conn: pymysql.connections.Connection, statement: str) -> tuple[int, str]:
    """The (code, message) a statement fails with; fails the test if it succeeds."""
    return error(conn, statement)


def create_local_repository(conn: pymysql.connections.Connection, name: str, location: Path) -> None:
    # no PROPERTIES clause: Doris's grammar refuses an empty "PROPERTIES ()", and so does dorisbk
    sql(conn, f'CREATE REPOSITORY `{name}` WITH LOCAL ON LOCATION "file://{location}"')


def create_s3_repository(conn: pymysql.connections.Connection, name: str, s3: S3Server, prefix: str = "") -> None:
    """``CREATE REPOSITORY ... WITH S3`` on the test S3 server, a fresh prefix per repository."""
    props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
    where = f"s3://{s3.bucket}/{prefix or name}"
    sql(conn, f'CREATE REPOSITORY `{name}` WITH S3 ON LOCATION "{where}" PROPERTIES ({props})')


def _wait_last(conn: pymysql.connections.Connection, show: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        jobs = sql_dicts(conn, show)
        if jobs and all(j["State"] in ENDED for j in jobs):
            return jobs[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs did not end in {timeout}s: {jobs}")
        time.sleep(POLL_S)


def wait_snapshot_finish(conn: pymysql.connections.Connection, db: str, timeout: float = WAIT_S) -> dict[str, Any]:
    """Wait until every backup job of ``db`` ended; the newest must be FINISHED."""
    job = _wait_last(conn, f"SHOW BACKUP FROM `{db}`", timeout)
    assert job["State"] == "FINISHED", job
    return job


def wait_all_restore_finish(conn: pymysql.connections.Connection, db: str, timeout: float = WAIT_S) -> dict[str, Any]:
    """Wait until every restore job of ``db`` ended; the newest must be FINISHED."""
    job = _wait_last(conn, f"SHOW RESTORE FROM `{db}`", timeout)
    assert job["State"] == "FINISHED", job
    return job


def wait_restore_end(conn: pymysql.connections.Connection, db: str, timeout: float = WAIT_S) -> dict[str, Any]:
    """The newest restore job of ``db`` once every job ended, FINISHED or CANCELLED."""
    return _wait_last(conn, f"SHOW RESTORE FROM `{db}`", timeout)


def wait_backup_end(conn: pymysql.connections.Connection, db: str, timeout: float = WAIT_S) -> dict[str, Any]:
    """The newest backup job of ``db`` once every job ended, FINISHED or CANCELLED."""
    return _wait_last(conn, f"SHOW BACKUP FROM `{db}`", timeout)


def get_snapshot_timestamp(conn: pymysql.connections.Connection, repo: str, label: str) -> str | None:
    """The newest Timestamp of ``label`` in ``repo``, from ``SHOW SNAPSHOT ON repo WHERE SNAPSHOT = label``."""
    found = sql_dicts(conn, f'SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = "{label}"')
    ok = [r["Timestamp"] for r in found if r["Status"] == "OK"]
    return ok[-1] if ok else None


def wait_snapshot_timestamp(conn: pymysql.connections.Connection, db: str, repo: str, label: str) -> str:
    """Wait for ``db``'s backups to finish; ``label``'s timestamp in ``repo``, which must list it."""
    wait_snapshot_finish(conn, db)
    ts = get_snapshot_timestamp(conn, repo, label)
    assert ts is not None, f"{label} is not listed in {repo}"
    return ts
