"""SIGTERM during an upload: the server stops without waiting for the upload to end, and the job
resumes after the restart and finishes with a complete snapshot."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.dorisbk_server import DorisbkServer


def _state(server: DorisbkServer) -> tuple[str, str]:
    row = server.query("SHOW BACKUP FROM sd")[-1]
    return row[3], row[12]


def test_sigterm_mid_upload_then_resume(fresh_server: DorisbkServer, tmp_path: Path) -> None:
    server = fresh_server.start()
    repo = tmp_path / "repo"
    repo.mkdir()
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE sd")
        cur.execute(
            "CREATE TABLE sd.t (a INT, s VARCHAR(64)) DUPLICATE KEY(a) DISTRIBUTED BY HASH(a) BUCKETS 4 "
            "PROPERTIES ('replication_num' = '1')"
        )
        cur.execute("INSERT INTO sd.t SELECT number, concat('row-', number) FROM numbers('number' = '1000000')")
        cur.execute(f'CREATE REPOSITORY r WITH LOCAL ON LOCATION "file://{repo}"')
        # 100 KiB/s: the upload would take minutes
        cur.execute("ADMIN SET FRONTEND CONFIG ('max_upload_speed_kbps' = '100')")
        cur.execute("BACKUP SNAPSHOT sd.snap TO r")
    deadline = time.monotonic() + 30
    while _state(server)[0] != "UPLOADING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # the upload is under way: its first file is being written into the repository
    while not any(path.is_file() for path in repo.rglob("*")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # the throttled upload would take minutes: a shutdown that waited for it would not end cleanly in 60 s
    assert server.stop(signal.SIGTERM, timeout=60) == 0
    server.start()
    deadline = time.monotonic() + 60
    while _state(server)[0] not in ("FINISHED", "CANCELLED"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert _state(server) == ("FINISHED", "[OK]")
    snapshot = server.query("SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'snap'")
    assert snapshot[0][0] == "snap" and snapshot[0][2] == "OK"
    assert server.query("SELECT count(*) FROM sd.t") == [(1000000,)]
