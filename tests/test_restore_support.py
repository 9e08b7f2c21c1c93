"""Helpers shared by the restore test modules (no tests here).

Everything goes through real servers and pymysql: statements, SHOW RESTORE polling, the
frontend config knobs, and looks at the files a restore leaves on disk.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pymysql

from tests.jobkit import described, insert, q, set_config, snapshot_dir
from tests.jobkit import pause as pause_jobs

# The states a running restore job passes through, in order.
STATES = ("PENDING", "CREATING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
FULL_COLUMNS = (
    "JobId",
    "Label",
    "Timestamp",
    "DbName",
    "State",
    "AllowLoad",
    "ReplicationNum",
    "ReplicaAllocation",
    "ReserveReplica",
    "ReserveDynamicPartitionEnable",
    "RestoreObjs",
    "CreateTime",
    "MetaPreparedTime",
    "SnapshotFinishedTime",
    "DownloadFinishedTime",
    "FinishedTime",
    "UnfinishedTasks",
    "Progress",
    "TaskErrMsg",
    "Status",
    "Timeout",
)
BRIEF_COLUMNS = tuple(c for c in FULL_COLUMNS if c not in ("RestoreObjs", "Progress", "TaskErrMsg"))
ONE = '"replication_num" = "1"'


# ---- statements
def pause(conn: pymysql.connections.Connection, *states: str) -> None:
    """Hold restore jobs in ``states`` (none: release them)."""
    pause_jobs(conn, *states, kind="RESTORE")


def fast(conn: pymysql.connections.Connection) -> None:
    """Poll jobs every 20 ms so that a restore takes a fraction of a second."""
    set_config(conn, "backup_handler_update_interval_millis", "20")


# ---- data
def rows_of(conn: pymysql.connections.Connection, table: str) -> list[tuple]:
    """Every row of a table (or view), sorted: what restored tables are compared by."""
    return sorted(q(conn, f"SELECT * FROM {table}"), key=repr)


def make_range_table(conn: pymysql.connections.Connection, table: str, buckets: int = 2) -> None:
    """``k INT, v VARCHAR`` with partitions p1 [.., 10), p2 [10, 20), p3 [20, 30)."""
    q(
        conn,
        f"CREATE TABLE {table} (k INT, v VARCHAR(32)) DUPLICATE KEY(k) PARTITION BY RANGE(k) ("
        "PARTITION p1 VALUES LESS THAN (10), PARTITION p2 VALUES LESS THAN (20), "
        "PARTITION p3 VALUES LESS THAN (30)) "
        f"DISTRIBUTED BY HASH(k) BUCKETS {buckets} PROPERTIES ('replication_num' = '1')",
    )


def make_unique_table(conn: pymysql.connections.Connection, table: str) -> None:
    q(
        conn,
        f"CREATE TABLE {table} (id BIGINT, name VARCHAR(20), score DECIMAL(10, 2), d DATE) UNIQUE KEY(id) "
        "DISTRIBUTED BY HASH(id) BUCKETS 3 PROPERTIES ('replication_num' = '1')",
    )


def partitions(conn: pymysql.connections.Connection, table: str) -> dict[str, dict[str, str]]:
    """SHOW PARTITIONS as {PartitionName: {column: value}}."""
    names, found = described(conn, f"SHOW PARTITIONS FROM {table}")
    return {r[1]: dict(zip(names, r, strict=True)) for r in found}


def versions(conn: pymysql.connections.Connection, table: str) -> dict[str, str]:
    return {name: p["VisibleVersion"] for name, p in partitions(conn, table).items()}


def tables(conn: pymysql.connections.Connection, db: str) -> list[str]:
    return sorted(r[0] for r in q(conn, f"SHOW TABLES FROM {db}"))


# ---- backup side
def create_local_repo(conn: pymysql.connections.Connection, name: str, location: Path) -> None:
    q(conn, f'CREATE REPOSITORY {name} WITH LOCAL ON LOCATION "file://{location}"')


def backup(
    conn: pymysql.connections.Connection, db: str, label: str, repo: str, on: str = "", timeout: float = 30.0
) -> str:
    """Back ``db`` up as ``label``, wait for it, and return the snapshot's timestamp."""
    q(conn, f"BACKUP SNAPSHOT {db}.{label} TO {repo} {on}")
    deadline = time.monotonic() + timeout
    while True:
        found = q(conn, f'SHOW BACKUP FROM {db} WHERE SnapshotName = "{label}"')
        if found and found[-1][3] in ("FINISHED", "CANCELLED"):
            assert found[-1][3] == "FINISHED", found[-1]
            break
        assert time.monotonic() < deadline, found
        time.sleep(0.02)
    return snapshot_timestamp(conn, repo, label)


def snapshot_timestamp(conn: pymysql.connections.Connection, repo: str, label: str) -> str:
    found = q(conn, f'SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = "{label}"')
    assert len(found) == 1 and found[0][2] == "OK", found
    return found[0][1].split("\n")[-1]


def info_of(location: Path, repo: str, label: str) -> dict[str, Any]:
    """The snapshot's (only) job info file, parsed."""
    found = sorted(snapshot_dir(location, repo, label).glob("__info_*"))
    assert len(found) == 1, found
    return json.loads(found[0].read_bytes())


def content_files(location: Path, repo: str, label: str) -> list[Path]:
    return sorted(p for p in (snapshot_dir(location, repo, label) / "__ss_content").rglob("*") if p.is_file())


# ---- restore side
def restore_sql(
    db: str, label: str, repo: str, timestamp: str, on: str = "", props: str = ONE, with_ts: bool = True
) -> str:
    parts = [f'"backup_timestamp" = "{timestamp}"'] if with_ts else []
    if props:
        parts.append(props)
    return f"RESTORE SNAPSHOT {db}.{label} FROM {repo} {on} PROPERTIES ({', '.join(parts)})"


def restore_rows(conn: pymysql.connections.Connection, db: str, label: str | None = None) -> list[dict[str, str]]:
    where = f' WHERE Label = "{label}"' if label else ""
    names, found = described(conn, f"SHOW RESTORE FROM {db}{where}")
    return [dict(zip(names, r, strict=True)) for r in found]


def restore_row(conn: pymysql.connections.Connection, db: str, label: str | None = None) -> dict[str, str] | None:
    found = restore_rows(conn, db, label)
    return found[-1] if found else None


def wait_state(
    conn: pymysql.connections.Connection, db: str, states: tuple[str, ...] | str, timeout: float = 30.0
) -> dict[str, str]:
    """Poll SHOW RESTORE until the db's last restore job is in one of ``states``."""
    wanted = (states,) if isinstance(states, str) else states
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = restore_row(conn, db)
        if row is not None and row["State"] in wanted:
            return row
        time.sleep(0.02)
    raise AssertionError(f"restore in {db} did not reach {wanted}: {row}")


def wait_done(conn: pymysql.connections.Connection, db: str, timeout: float = 30.0) -> dict[str, str]:
    return wait_state(conn, db, ("FINISHED", "CANCELLED"), timeout)


def finished(conn: pymysql.connections.Connection, db: str, timeout: float = 30.0) -> dict[str, str]:
    row = wait_done(conn, db, timeout)
    assert (row["State"], row["Status"]) == ("FINISHED", "[OK]"), row
    return row


def cancelled(conn: pymysql.connections.Connection, db: str, *fragments: str, timeout: float = 30.0) -> str:
    """Wait for the job to end CANCELLED; returns its Status after checking ``fragments`` are in it."""
    row = wait_done(conn, db, timeout)
    assert row["State"] == "CANCELLED", row
    for fragment in fragments:
        assert fragment in row["Status"], row["Status"]
    return row["Status"]


def restore(
    conn: pymysql.connections.Connection, db: str, label: str, repo: str, ts: str, on: str = "", props: str = ONE
) -> dict[str, str]:
    """Run a restore to the end and require it to finish."""
    q(conn, restore_sql(db, label, repo, ts, on, props))
    return finished(conn, db)


# ---- files
def job_snapshot_dirs(data_dir: Path) -> list[Path]:
    """Per-job snapshot dirs on the backends: ``<data>/be/be<n>/snapshot/<job id>``."""
    return sorted(data_dir.glob("be/be*/snapshot/*"))


def tablet_dir(data_dir: Path, tablet_id: int | str) -> Path:
    found = list(data_dir.glob(f"be/be*/data/{tablet_id}"))
    assert len(found) == 1, found
    return found[0]


def flip_bytes(path: Path, offset: int = 8) -> None:
    """Corrupt a file without changing its size or name.

    The damaged copy replaces the file by rename: a LOCAL repository hard-links files that
    several snapshots share, and only this snapshot's file is to be damaged.
    """
    data = bytearray(path.read_bytes())
    for i in range(offset, min(offset + 4, len(data))):
        data[i] ^= 0xFF
    tmp = path.with_name(path.name + ".damaged")
    tmp.write_bytes(bytes(data))
    tmp.replace(path)


_local_dbs = itertools.count()


def local_db(conn: pymysql.connections.Connection, prefix: str) -> str:
    """A new database whose t has the snapshot's schema, other rows and a local-only partition p4."""
    db = f"{prefix}{next(_local_dbs)}"
    q(conn, f"CREATE DATABASE {db}")
    make_range_table(conn, f"{db}.t")
    insert(conn, f"{db}.t", [7, 17, 27])
    q(conn, f"ALTER TABLE {db}.t ADD PARTITION p4 VALUES LESS THAN (40)")
    insert(conn, f"{db}.t", [31])
    return db
