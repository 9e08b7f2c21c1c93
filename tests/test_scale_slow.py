"""Doris's sizes, end to end: kill -9, cancel and resume of BACKUP and RESTORE at 100,000 tablets.

Slow (a quarter of an hour on two cores), so it runs only with ``--run-slow`` (``make test-slow``);
``DORISBK_SCALE_TABLETS`` sets another size. Nothing may be lost at this size either: the snapshot a
killed backup finishes after its restart restores exactly the rows of the source table, a cancelled
restore leaves nothing behind, and a restore killed while it downloads finishes after the restart.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import pause, q, restart, snapshot_dir
from tests.test_backup_support import COL, backup_row, be_snapshot_dirs, wait_backup
from tests.test_restore_support import restore_row, wait_state

pytestmark = pytest.mark.slow

TABLETS = int(os.environ.get("DORISBK_SCALE_TABLETS", "100000"))
BUCKETS = 100
JOB_S = 3600.0  # the bound of every wait for a job at this size


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    server = DorisbkServer(tmp_path_factory.mktemp("scale") / "data").start()
    yield server
    server.stop()


def connect(srv: DorisbkServer) -> pymysql.connections.Connection:
    return srv.connect(read_timeout=JOB_S)


def totals(conn: pymysql.connections.Connection, table: str) -> tuple:
    """What a user would compare: rows, a checksum of the values, and the partitions holding rows."""
    return q(conn, f"SELECT count(*), sum(v), count(DISTINCT p) FROM {table}")[0]


def content_files(location: Path, label: str) -> int:
    root = snapshot_dir(location, "r", label) / "__ss_content"
    return sum(len(files) for _, _, files in os.walk(root))


def test_backup_and_restore_of_100k_tablets_survive_kill_and_cancel(srv: DorisbkServer, tmp_path: Path) -> None:
    partitions = max(1, TABLETS // BUCKETS)
    location = tmp_path / "repo"
    with connect(srv) as conn:
        q(conn, "CREATE DATABASE sc")
        parts = ", ".join(f'PARTITION p{i} VALUES LESS THAN ("{i + 1}")' for i in range(partitions))
        q(
            conn,
            "CREATE TABLE sc.t (p INT NOT NULL, k BIGINT NOT NULL, v BIGINT) DUPLICATE KEY(p, k) "
            f"PARTITION BY RANGE(p) ({parts}) DISTRIBUTED BY HASH(k) BUCKETS {BUCKETS} "
            'PROPERTIES ("replication_num" = "1")',
        )
        q(
            conn,
            f"INSERT INTO sc.t SELECT number % {partitions}, number, number * 7 "
            f'FROM numbers("number" = "{2 * TABLETS}")',
        )
        source = totals(conn, "sc.t")
        assert source[0] == 2 * TABLETS and source[2] == partitions
        q(conn, f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{location}"')

        # BACKUP, killed while it uploads
        q(conn, "BACKUP SNAPSHOT sc.snap TO r ON (t)")
        wait_backup(conn, "sc", "snap", ("UPLOADING",), timeout=JOB_S)
        deadline = time.monotonic() + JOB_S
        while content_files(location, "snap") < 1000:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    restart(srv, signal.SIGKILL)
    with connect(srv) as conn:
        row = wait_backup(conn, "sc", "snap", ("FINISHED", "CANCELLED"), timeout=JOB_S)
        assert (row[COL["State"]], row[COL["Status"]]) == ("FINISHED", "[OK]"), row
        snapshot = q(conn, 'SHOW SNAPSHOT ON r WHERE SNAPSHOT = "snap"')
        assert [r[2] for r in snapshot] == ["OK"]
        timestamp = str(snapshot[0][1])
        assert be_snapshot_dirs(srv.data_dir) == []

        # a second BACKUP, cancelled: the source stays as it was and nothing is left on the backend
        q(conn, "BACKUP SNAPSHOT sc.snap2 TO r ON (t)")
        wait_backup(conn, "sc", "snap2", ("SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING"), timeout=JOB_S)
        q(conn, "CANCEL BACKUP FROM sc")
        assert wait_backup(conn, "sc", "snap2", ("CANCELLED",), timeout=JOB_S)[COL["State"]] == "CANCELLED"
        assert be_snapshot_dirs(srv.data_dir) == []
        assert totals(conn, "sc.t") == source

        # RESTORE, cancelled while it downloads: no table appears
        restore = (
            f'RESTORE SNAPSHOT sc_r.snap FROM r ON (t) PROPERTIES ("backup_timestamp" = "{timestamp}", '
            '"replication_num" = "1")'
        )
        q(conn, "CREATE DATABASE sc_r")
        pause(conn, "DOWNLOADING", kind="RESTORE")
        q(conn, restore)
        wait_state(conn, "sc_r", "DOWNLOADING", timeout=JOB_S)
        q(conn, "CANCEL RESTORE FROM sc_r")
        assert wait_state(conn, "sc_r", ("CANCELLED",), timeout=JOB_S)["State"] == "CANCELLED"
        pause(conn, kind="RESTORE")
        assert q(conn, "SHOW TABLES FROM sc_r") == []

        # RESTORE again, killed while it downloads
        q(conn, restore)
        wait_state(conn, "sc_r", "DOWNLOADING", timeout=JOB_S)
    restart(srv, signal.SIGKILL)
    with connect(srv) as conn:
        row = wait_state(conn, "sc_r", ("FINISHED", "CANCELLED"), timeout=JOB_S)
        assert (row["State"], row["Status"]) == ("FINISHED", "[OK]"), row
        assert totals(conn, "sc_r.t") == source
        assert q(conn, "SELECT k, v FROM sc_r.t WHERE p = 0 ORDER BY k LIMIT 3") == q(
            conn, "SELECT k, v FROM sc.t WHERE p = 0 ORDER BY k LIMIT 3"
        )
        assert restore_row(conn, "sc_r") is not None
        assert backup_row(conn, "sc", "snap") is not None
