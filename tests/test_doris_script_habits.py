"""What Doris users' scripts (and Doris's regression suites) send around their backups: planner
session variables, SYNC after loads, and sleep() while waiting for a job."""

from __future__ import annotations

import time
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer


def test_script_habits(server: DorisbkServer, tmp_path: Path) -> None:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SET enable_nereids_planner = true")
        cur.execute("SET enable_fallback_to_original_planner = false")
        cur.execute("SET parallel_pipeline_task_num = 1")
        cur.execute("SELECT @@enable_nereids_planner, @@parallel_pipeline_task_num")
        assert cur.fetchone() == (1, 1)
        cur.execute("CREATE DATABASE habits")
        cur.execute("USE habits")
        cur.execute(
            "CREATE TABLE t (id INT, v VARCHAR(10)) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 2 "
            'PROPERTIES ("replication_allocation" = "tag.location.default: 1")'
        )
        cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        cur.execute("sync")
        cur.execute("SELECT count(*) FROM t")
        assert cur.fetchone() == (2,)
        started = time.monotonic()
        cur.execute("SELECT sleep(1), id FROM t ORDER BY id")
        assert cur.fetchall() == ((1, 1), (1, 2))
        assert time.monotonic() - started >= 0.9
        cur.execute(f'CREATE REPOSITORY habits_repo WITH LOCAL ON LOCATION "file://{tmp_path}"')
        cur.execute("BACKUP SNAPSHOT habits.snap TO habits_repo")
        state = None
        for _ in range(60):  # the loop scripts write: poll, then sleep(1)
            cur.execute("SHOW BACKUP WHERE SnapshotName = 'snap'")
            state = cur.fetchall()[-1][3]
            if state in ("FINISHED", "CANCELLED"):
                break
            started = time.monotonic()
            cur.execute("SELECT sleep(1)")
            assert cur.fetchone() == (1,)
            assert time.monotonic() - started >= 0.9
        assert state == "FINISHED"


def test_a_comment_after_the_last_semicolon_is_no_second_statement(server: DorisbkServer) -> None:
    """Doris's suites (and people's scripts) end a statement with ``; -- why``: that is one statement,
    its rows loaded once; two statements in one query are still refused."""
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE trailing")
        cur.execute(
            "CREATE TABLE trailing.t (k INT, v VARCHAR(10)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
            "PROPERTIES ('replication_num' = '1')"
        )
        cur.execute("INSERT INTO trailing.t VALUES\n(1, 'a'),  -- the first\n(2, 'b');  -- the last one")
        cur.execute("SELECT k, v FROM trailing.t ORDER BY k; /* done */")
        assert cur.fetchall() == ((1, "a"), (2, "b"))
        with pytest.raises(pymysql.err.ProgrammingError) as refused:
            cur.execute("SELECT 1; SELECT 2")
        assert refused.value.args[0] == 1064
        assert "only one statement per query" in refused.value.args[1]
