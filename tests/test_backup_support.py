"""Helpers shared by the backup test modules (no tests here).

They talk to real servers through pymysql only: statements, SHOW BACKUP polling, the
frontend config knobs, and a look at the files a backup leaves on disk.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pymysql

from tests.jobkit import insert, md5_of, q, snapshot_dir

STATES = ("PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO")
# SHOW BACKUP columns by name.
COL = {
    name: i
    for i, name in enumerate(
        (
            "JobId",
            "SnapshotName",
            "DbName",
            "State",
            "BackupObjs",
            "CreateTime",
            "SnapshotFinishedTime",
            "UploadFinishedTime",
            "FinishedTime",
            "UnfinishedTasks",
            "Progress",
            "TaskErrMsg",
            "Status",
            "Timeout",
        )
    )
}


def backup_row(conn: pymysql.connections.Connection, db: str, label: str) -> tuple | None:
    rows = q(conn, f'SHOW BACKUP FROM {db} WHERE SnapshotName = "{label}"')
    return rows[-1] if rows else None


def wait_backup(
    conn: pymysql.connections.Connection, db: str, label: str, states: tuple[str, ...], timeout: float = 20.0
) -> tuple:
    """Poll SHOW BACKUP until the job's state is one of ``states``."""
    deadline = time.monotonic() + timeout
    row = None
    while time.monotonic() < deadline:
        row = backup_row(conn, db, label)
        if row is not None and row[COL["State"]] in states:
            return row
        time.sleep(0.05)
    raise AssertionError(f"backup {db}.{label} did not reach {states}: {row}")


def finished(conn: pymysql.connections.Connection, db: str, label: str, timeout: float = 20.0) -> tuple:
    row = wait_backup(conn, db, label, ("FINISHED", "CANCELLED"), timeout)
    assert row[COL["State"]] == "FINISHED", row
    assert row[COL["Status"]] == "[OK]", row
    return row


def make_table(
    conn: pymysql.connections.Connection, db: str, table: str, rows: int = 6, buckets: int = 2, start: int = 0
) -> None:
    q(
        conn,
        f"CREATE TABLE {db}.{table} (k INT, v VARCHAR(32)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) "
        f"BUCKETS {buckets} PROPERTIES ('replication_num' = '1')",
    )
    insert(conn, f"{db}.{table}", range(start, start + rows))


def tree(root: Path) -> list[str]:
    """Every file below ``root`` as a relative path, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def info_file(location: Path, repo: str, label: str) -> tuple[str, dict]:
    """The snapshot's only ``__info_<ts>.<md5>`` file: (timestamp, parsed JSON)."""
    found = sorted(snapshot_dir(location, repo, label).glob("__info_*"))
    assert len(found) == 1, found
    name = found[0].name
    stem, _, checksum = name.rpartition(".")
    assert checksum == md5_of(found[0])
    return stem[len("__info_") :], json.loads(found[0].read_bytes())


def be_snapshot_dirs(data_dir: Path) -> list[str]:
    """Job snapshot dirs left on the backends (``<data>/be/be<n>/snapshot/<job id>``)."""
    return sorted(str(p) for p in data_dir.glob("be/be*/snapshot/*"))


def local_job_dirs(data_dir: Path) -> list[str]:
    root = data_dir / "fe_tmp" / "backup"
    return sorted(str(p) for p in root.glob("*/*")) if root.is_dir() else []


def all_nlinks(paths: list[Path]) -> list[int]:
    return [os.stat(p).st_nlink for p in paths]


def sql_statements(text: str) -> list[str]:
    """Split a script the way the mysql client does: ``--`` comment lines dropped, ``;`` outside quotes ends one."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    statements, current, quote = [], [], ""
    for ch in "\n".join(lines):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == ";":
            statements.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if "".join(current).strip():
        statements.append("".join(current).strip())
    return [s for s in statements if s]


def run_script(conn: pymysql.connections.Connection, statements: list[str], no_wait: tuple[str, ...] = ()) -> None:
    """Run statements one by one; after each BACKUP, wait for it to finish as a user would
    (except for labels in ``no_wait``)."""
    for sql in statements:
        q(conn, sql)
        words = sql.split()
        if words[0].upper() == "BACKUP":
            db, _, label = words[2].rpartition(".")
            if label not in no_wait:
                finished(conn, db, label)


UPLOAD_LINE = (
    r"upload of snapshot {label}: (\d+) tasks, (\d+) tablets, (\d+) files uploaded \((\d+) bytes\), (\d+) copied "
    r"in the repository, (\d+) already present"
)


def upload_totals(log: str, label: str) -> dict[str, int]:
    """What the upload tasks of a snapshot did, summed over each time the job uploaded (its server log lines)."""
    keys = ("tasks", "tablets", "uploaded", "bytes", "copied", "present")
    totals = dict.fromkeys(keys, 0)
    for match in re.finditer(UPLOAD_LINE.format(label=re.escape(label)), log):
        for key, value in zip(keys, match.groups(), strict=True):
            totals[key] += int(value)
    return totals
