"""S3 faults seen by a user of BACKUP and RESTORE, against a real SeaweedFS behind HAProxy.

503 SlowDown on a share of requests is retried and the jobs finish with identical data;
500 InternalError on every PUT of a snapshot, or a server that stops answering, ends the
backup CANCELLED with the S3 error in Status within bounded time, never lists the snapshot
as OK, keeps the server answering meanwhile and leaves the repository usable; a kill -9 of
the S3 server during a restore's download ends the restore cleanly, and it works again once
the server is back.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites.syncer import sql, sql_dicts, unique, wait_backup_end, wait_restore_end
from tests.dorisbk_server import DorisbkServer
from tests.faultkit import FaultProxy, haproxy
from tests.jobkit import pause, set_config
from tests.s3server import ACCESS_KEY, SECRET_KEY, RestartableS3, restartable_s3_server

# a bound on waiting for a job, not a speed: retries back off up to seconds each (1 s base when throttled), and
# on a loaded machine (CI runs 4 test servers on 2 cores) one upload of 15% refused requests took over 30 s
JOB_WAIT_S = 120.0
HANG_GUARD_S = 60  # a statement of another session that waits on the job's S3 retries fails the test


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableS3]:
    with restartable_s3_server() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(s3: RestartableS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultProxy]:
    with haproxy(s3.info.endpoint, tmp_path_factory.mktemp("haproxy"), slow_percent=15) as p:
        yield p


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c


def create_repo(conn: pymysql.connections.Connection, name: str, endpoint: str, bucket: str, **extra: str) -> None:
    props = {
        "s3.endpoint": endpoint,
        "s3.region": "us-east-1",
        "s3.access_key": ACCESS_KEY,
        "s3.secret_key": SECRET_KEY,
        "use_path_style": "true",
        **extra,
    }
    text = ", ".join(f'"{k}" = "{v}"' for k, v in props.items())
    sql(conn, f'CREATE REPOSITORY `{name}` WITH S3 ON LOCATION "s3://{bucket}/{name}" PROPERTIES ({text})')


def make_db(conn: pymysql.connections.Connection, rows: int = 300) -> str:
    """A database with a partitioned, bucketed table ``t`` (several tablets, several files each)."""
    db = unique("faults")
    sql(conn, f"CREATE DATABASE {db}")
    sql(
        conn,
        f"CREATE TABLE {db}.t (k INT, v VARCHAR(64)) DUPLICATE KEY(k) "
        "PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN (100), PARTITION p2 VALUES LESS THAN (200), "
        "PARTITION p3 VALUES LESS THAN (MAXVALUE)) DISTRIBUTED BY HASH(k) BUCKETS 2 "
        'PROPERTIES ("replication_num" = "1")',
    )
    for start in range(0, rows, 100):
        values = ", ".join(f"({k}, 'value-{k}')" for k in range(start, start + 100))
        sql(conn, f"INSERT INTO {db}.t VALUES {values}")
    return db


def content(conn: pymysql.connections.Connection, table: str) -> list[tuple]:
    return sql(conn, f"SELECT k, v FROM {table} ORDER BY k, v")


def snapshot_status(conn: pymysql.connections.Connection, repo: str, label: str) -> list[str]:
    return [r["Status"] for r in sql_dicts(conn, f'SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = "{label}"')]


def assert_responsive(server: DorisbkServer, db: str) -> None:
    """Another session gets its answers while a job struggles with S3: its statements run on their own
    workers, never behind the job's retries (a statement stuck behind them fails on the read timeout)."""
    with server.connect(read_timeout=HANG_GUARD_S) as other:
        assert sql(other, f"SELECT count(*) FROM {db}.t")[0][0] > 0
        assert sql_dicts(other, f"SHOW BACKUP FROM {db}")
        assert sql(other, "SHOW DATABASES")


def wait_state(conn: pymysql.connections.Connection, show: str, states: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + JOB_WAIT_S
    while time.monotonic() < deadline:
        jobs = sql_dicts(conn, show)
        if jobs and jobs[-1]["State"] in states:
            return jobs[-1]
        time.sleep(0.05)
    raise AssertionError(f"no job reached {states}: {sql_dicts(conn, show)}")


def test_proxy_injects_slowdown(proxy: FaultProxy) -> None:
    """The fault front-end really answers 503 SlowDown to a share of requests."""
    codes = []
    for _ in range(60):
        try:
            with urllib.request.urlopen(f"{proxy.slow}/", timeout=5) as resp:
                codes.append(resp.status)
        except urllib.error.HTTPError as e:
            codes.append(e.code)
            if e.code == 503:
                assert b"SlowDown" in e.read()
    assert 503 in codes and any(c != 503 for c in codes), codes


def test_slowdown_backup_and_restore_finish(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: RestartableS3, proxy: FaultProxy
) -> None:
    db = make_db(conn)
    repo = unique("slow_repo")
    create_repo(conn, repo, proxy.slow, s3.bucket)
    sql(conn, f"BACKUP SNAPSHOT {db}.snap1 TO `{repo}` ON (t)")
    job = wait_backup_end(conn, db, JOB_WAIT_S)
    assert job["State"] == "FINISHED", (job["Status"], job.get("TaskErrMsg", ""))
    assert snapshot_status(conn, repo, "snap1") == ["OK"]
    timestamp = sql_dicts(conn, f'SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = "snap1"')[0]["Timestamp"]
    sql(
        conn,
        f'RESTORE SNAPSHOT {db}.snap1 FROM `{repo}` ON (t AS t_back) PROPERTIES ("backup_timestamp" = "{timestamp}", '
        '"replication_num" = "1")',
    )
    job = wait_restore_end(conn, db, JOB_WAIT_S)
    assert job["State"] == "FINISHED", (job["Status"], job.get("TaskErrMsg", ""))
    assert content(conn, f"{db}.t_back") == content(conn, f"{db}.t")


def test_internal_error_on_every_put_cancels_backup(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: RestartableS3, proxy: FaultProxy
) -> None:
    db = make_db(conn)
    repo = unique("err_repo")
    create_repo(conn, repo, proxy.faulty, s3.bucket)
    sql(conn, f"BACKUP SNAPSHOT {db}.snap_fail TO `{repo}` ON (t)")  # every PUT under __ss_snap_fail gets 500
    wait_state(conn, f"SHOW BACKUP FROM {db}", ("UPLOADING", "CANCELLED"))
    assert_responsive(server, db)
    job = wait_backup_end(conn, db, JOB_WAIT_S)
    assert job["State"] == "CANCELLED", job["Status"]
    assert "InternalError" in job["Status"], job
    assert "OK" not in snapshot_status(conn, repo, "snap_fail")
    # the fault is gone for another label: the same repository takes a backup, and it restores
    sql(conn, f"BACKUP SNAPSHOT {db}.snap_good TO `{repo}` ON (t)")
    job = wait_backup_end(conn, db, JOB_WAIT_S)
    assert job["State"] == "FINISHED", (job["Status"], job.get("TaskErrMsg", ""))
    assert snapshot_status(conn, repo, "snap_good") == ["OK"]
    timestamp = sql_dicts(conn, f'SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = "snap_good"')[0]["Timestamp"]
    sql(
        conn,
        f'RESTORE SNAPSHOT {db}.snap_good FROM `{repo}` ON (t AS t_good) PROPERTIES ("backup_timestamp" = '
        f'"{timestamp}", "replication_num" = "1")',
    )
    assert wait_restore_end(conn, db, JOB_WAIT_S)["State"] == "FINISHED"
    assert content(conn, f"{db}.t_good") == content(conn, f"{db}.t")


def test_unanswered_puts_time_out(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: RestartableS3, proxy: FaultProxy
) -> None:
    """A server that takes requests and never answers: the request timeout bounds every attempt."""
    db = make_db(conn, rows=100)
    repo = unique("stall_repo")
    create_repo(conn, repo, proxy.faulty, s3.bucket, **{"s3.connection.request.timeout": "500"})
    sql(conn, f"BACKUP SNAPSHOT {db}.snap_hang TO `{repo}` ON (t)")  # PUTs under __ss_snap_hang never answered
    wait_state(conn, f"SHOW BACKUP FROM {db}", ("UPLOADING", "CANCELLED"))
    assert_responsive(server, db)
    job = wait_backup_end(conn, db, JOB_WAIT_S)
    assert job["State"] == "CANCELLED", job["Status"]
    assert "timeout" in job["Status"].lower() or "timed out" in job["Status"].lower(), job
    assert "OK" not in snapshot_status(conn, repo, "snap_hang")


def test_s3_killed_during_restore_download(
    server: DorisbkServer, conn: pymysql.connections.Connection, s3: RestartableS3, tmp_path: Path
) -> None:
    db = make_db(conn)
    repo = unique("kill_repo")
    create_repo(conn, repo, s3.info.endpoint, s3.bucket, **{"s3.connection.timeout": "500"})
    sql(conn, f"BACKUP SNAPSHOT {db}.snap1 TO `{repo}` ON (t)")
    assert wait_backup_end(conn, db, JOB_WAIT_S)["State"] == "FINISHED"
    timestamp = sql_dicts(conn, f'SHOW SNAPSHOT ON `{repo}` WHERE SNAPSHOT = "snap1"')[0]["Timestamp"]
    restore = (
        f'RESTORE SNAPSHOT {db}.snap1 FROM `{repo}` ON (t AS t_back) PROPERTIES ("backup_timestamp" = "{timestamp}", '
        '"replication_num" = "1")'
    )
    pause(conn, "DOWNLOAD", kind="RESTORE")
    try:
        sql(conn, restore)
        wait_state(conn, f"SHOW RESTORE FROM {db}", ("DOWNLOAD", "CANCELLED"))
        s3.kill9()
    finally:
        pause(conn, kind="RESTORE")
    try:
        job = wait_restore_end(conn, db, JOB_WAIT_S)
    finally:
        s3.start()
    assert job["State"] == "CANCELLED", job["Status"]
    assert "connect" in job["Status"].lower(), job
    tables = [r[0] for r in sql(conn, f"SHOW TABLES FROM {db}")]
    assert tables == ["t"], tables
    assert sql(conn, f"SELECT count(*) FROM {db}.t")[0][0] == 300
    # the server is back: the same restore finishes with the same data
    sql(conn, restore)
    job = wait_restore_end(conn, db, JOB_WAIT_S)
    assert job["State"] == "FINISHED", (job["Status"], job.get("TaskErrMsg", ""))
    assert content(conn, f"{db}.t_back") == content(conn, f"{db}.t")
