"""The storage vault's garbage collection over real SeaweedFS, PostgreSQL and ``dorisbk serve`` nodes: objects
of an erased table and of compacted rowsets go once older than the grace, never one a table, the recycle bin
or a running BACKUP references, and not while another node holds the pass's advisory lock."""

# ruff: noqa: F811 - the fixtures s3, client and prefix come from test_shared_storage, and tests take them by name

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
import requests
from sqlalchemy import create_engine, text

from dorisbk.jobs.vault_gc import LOCK_KEY
from tests.dorisbk_server import DorisbkServer
from tests.jobkit import pause, q, set_config, wait_ended
from tests.s3server import S3Server
from tests.sqlhelp import wait_until
from tests.test_backup_support import wait_backup
from tests.test_shared_storage import QUERY, client, load, node, objects, prefix, s3  # noqa: F401 - fixtures

PASS_LINE = re.compile(r"vault gc: (\d+) rowset objects listed, (\d+) deleted \((\d+) bytes\)")
KEPT = re.compile(r"vault gc: .* (\d+) unreferenced kept for the grace")
SKIPPED = "vault gc: another node is collecting, pass skipped"


def referenced(postgres_url: str) -> set[str]:
    """The rowset paths (vault keys) the tablet rows and the recycle bin's entries of PostgreSQL list."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, body FROM dorisbk_objects WHERE kind IN ('tablet', 'recycle')"))
            tablets = []
            for kind, body in rows:
                value = json.loads(body)
                tablets += [value] if kind == "tablet" else [o for k, o in value["objects"] if k == "tablet"]
    finally:
        engine.dispose()
    return {rowset["path"] for t in tablets for replica in t["replicas"] for rowset in replica["rowsets"]}


def stored(client: Any, s3: S3Server, prefix: str) -> set[str]:
    """The vault's rowset objects, as keys below its prefix (``data/<tablet>/<file>``)."""
    return {f"data/{key}" for key in objects(client, s3.bucket, f"{prefix}/data/")}


def passes(srv: DorisbkServer) -> int:
    """Passes of the collection the node has logged, run or skipped."""
    log = srv.log()
    return len(PASS_LINE.findall(log)) + log.count(SKIPPED)


def wait_deletes_logged(srv: DorisbkServer, count: int) -> None:
    """Until the passes' log lines count ``count`` objects deleted: a pass logs once its deletes are done, so
    the objects can be gone before its line is in the log (a full run beside a benchmark read it in between)."""
    wait_until(
        lambda: sum(int(m[1]) for m in PASS_LINE.findall(srv.log())) >= count, "the deleting pass logged", timeout=30
    )


def wait_passes(srv: DorisbkServer, count: int = 2) -> None:
    """Until ``count`` more passes ran: the last of them started after this call."""
    start = passes(srv)
    wait_until(lambda: passes(srv) >= start + count, f"{count} vault gc passes", timeout=60)


def test_objects_nothing_references_go_once_older_than_the_grace(
    tmp_path: Path,
    postgres_url: str,
    s3: S3Server,
    client: Any,
    prefix: str,
) -> None:
    srv = node(tmp_path, "n1", postgres_url, s3, prefix, http=True).start()
    try:
        with srv.connect() as conn:
            set_config(conn, "vault_gc_interval_second", "1")  # the grace stays its default, an hour
            expected = load(conn)
            q(conn, "CREATE TABLE sdb.gone (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2 "
                    "PROPERTIES ('replication_num' = '1')")  # fmt: skip
            q(conn, "INSERT INTO sdb.gone SELECT number, number FROM numbers('number' = '100')")
            set_config(conn, "cumulative_compaction_min_deltas", "2")
            # each of sdb.t's 6 tablets holds 3 rowsets, compacted into 1 (sdb.gone's 2 hold 1 each): once all 6 are,
            # no compaction stores or commits a file during the passes
            wait_until(
                lambda: sum(k.endswith("_compaction.parquet") for k in referenced(postgres_url)) == 6,
                "every tablet of sdb.t compacted",
                timeout=60,
            )
            set_config(conn, "enable_compaction", "false")
            before = referenced(postgres_url)
            q(conn, "DROP TABLE sdb.gone")
            assert referenced(postgres_url) == before  # the recycle bin's entry lists the table's rowsets
            set_config(conn, "catalog_trash_expire_second", "0")
            wait_until(lambda: q(conn, "SHOW CATALOG RECYCLE BIN") == [], "the recycle bin erased", timeout=30)

            live = referenced(postgres_url)
            garbage = stored(client, s3, prefix) - live
            # the compacted rowsets of sdb.t and the two files of the erased table
            assert len(garbage) >= 2 and live <= stored(client, s3, prefix)
            wait_passes(srv)
            assert garbage <= stored(client, s3, prefix)  # younger than the grace: kept

            # another node's pass in progress: this node skips its own
            with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as pg:
                assert pg.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone() == (True,)
                set_config(conn, "vault_gc_grace_second", "0")
                before = srv.log().count(SKIPPED)
                wait_until(lambda: srv.log().count(SKIPPED) >= before + 2, "passes skipped", timeout=60)
                assert garbage <= stored(client, s3, prefix)
            wait_until(lambda: stored(client, s3, prefix) == live, "the garbage deleted", timeout=60)
            wait_deletes_logged(srv, len(garbage))
            deleted = sum(int(m[1]) for m in PASS_LINE.findall(srv.log()))
            freed = sum(int(m[2]) for m in PASS_LINE.findall(srv.log()))
            assert deleted == len(garbage) and freed > 0
            metrics = dict(
                re.findall(
                    r"^(dorisbk_vault_gc_\w+) (\d+)$",
                    requests.get(srv.http_url("/metrics"), timeout=30).text,
                    re.MULTILINE,
                )
            )
            assert int(metrics["dorisbk_vault_gc_deleted_objects_total"]) == deleted
            assert int(metrics["dorisbk_vault_gc_deleted_bytes_total"]) == freed
            assert int(metrics["dorisbk_vault_gc_passes_total"]) >= 2  # the one that found them, the one that deleted
            assert q(conn, QUERY) == expected

            # a table in the recycle bin keeps its objects, with no grace: RECOVER brings it back whole
            set_config(conn, "catalog_trash_expire_second", "86400")
            q(conn, "DROP TABLE sdb.t")
            wait_passes(srv)
            assert stored(client, s3, prefix) == live
            q(conn, "RECOVER TABLE sdb.t")
            assert q(conn, QUERY) == expected
        assert "s3.secret_key" not in srv.log() and s3.secret_key not in srv.log()

        srv.restart_wiped()  # every file comes from the vault again
        with srv.connect() as conn:
            assert q(conn, QUERY) == expected
            assert q(conn, "SELECT count(*) FROM sdb.t PARTITION (p1)") == [(150,)]
            with pytest.raises(pymysql.err.MySQLError):
                q(conn, "SELECT * FROM sdb.gone")
    finally:
        srv.stop()


def test_running_backup_and_restore_keep_their_objects(
    tmp_path: Path,
    postgres_url: str,
    s3: S3Server,
    client: Any,
    prefix: str,
) -> None:
    """A table dropped while a BACKUP to a repository on the vault's endpoint uploads: its objects stay until the
    job ends (the upload copies them on the server), then go. The RESTORE of the snapshot keeps what its download
    stored until its commit lists them, and restores the table exactly."""
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            expected = load(conn)
            set_config(conn, "enable_compaction", "false")
            set_config(conn, "backup_handler_update_interval_millis", "50")
            props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
            q(conn, f'CREATE REPOSITORY r WITH S3 ON LOCATION "s3://{s3.bucket}/repo-{prefix}" PROPERTIES ({props})')
            pause(conn, "UPLOADING")
            q(conn, "BACKUP SNAPSHOT sdb.snap TO r ON (t)")
            wait_backup(conn, "sdb", "snap", ("UPLOADING",))
            snapshot = stored(client, s3, prefix)
            q(conn, "DROP TABLE sdb.t FORCE")
            assert not referenced(postgres_url)
            set_config(conn, "vault_gc_grace_second", "0")
            set_config(conn, "vault_gc_interval_second", "1")
            wait_passes(srv)
            assert stored(client, s3, prefix) == snapshot  # the running job's snapshot stays whole

            pause(conn)
            assert wait_ended(conn, "BACKUP", "sdb")[3] == "FINISHED"
            wait_until(lambda: not stored(client, s3, prefix), "the dropped table's objects deleted", timeout=60)

            # the restore's download copies the objects into the vault under the new tablets' keys, which no tablet
            # row lists before its commit: the running job holds them
            pause(conn, "COMMIT", kind="RESTORE")
            timestamp = q(conn, "SHOW SNAPSHOT ON r")[0][1]
            q(conn, f'RESTORE SNAPSHOT sdb.snap FROM r ON (t) PROPERTIES ("backup_timestamp" = "{timestamp}")')
            wait_until(lambda: q(conn, "SHOW RESTORE FROM sdb")[-1][4] == "COMMIT", "the restore downloaded", 60)
            downloaded = stored(client, s3, prefix)
            assert len(downloaded) == len(snapshot) and not referenced(postgres_url)
            wait_passes(srv)
            assert stored(client, s3, prefix) == downloaded
            pause(conn, kind="RESTORE")
            assert wait_ended(conn, "RESTORE", "sdb")[4] == "FINISHED"
            assert q(conn, QUERY) == expected
            wait_passes(srv)
            assert stored(client, s3, prefix) == downloaded == referenced(postgres_url)
    finally:
        srv.stop()


def test_an_object_found_unreferenced_stays_for_the_grace(
    tmp_path: Path, postgres_url: str, s3: S3Server, client: Any, prefix: str
) -> None:
    """Objects older than the grace when their table is dropped are not deleted by the first pass that finds them
    unreferenced, only by one at least the grace later: a query another node planned before the drop may still
    fetch them meanwhile."""
    grace = 3
    srv = node(tmp_path, "n1", postgres_url, s3, prefix).start()
    try:
        with srv.connect() as conn:
            set_config(conn, "enable_compaction", "false")
            load(conn)
            keys = stored(client, s3, prefix)
            newest = max(
                obj["LastModified"].timestamp() for obj in objects(client, s3.bucket, f"{prefix}/data/").values()
            )
            wait_until(lambda: time.time() - newest > grace + 1, "the objects older than the grace", timeout=30)
            set_config(conn, "vault_gc_grace_second", str(grace))
            set_config(conn, "vault_gc_interval_second", "1")
            wait_passes(srv, 1)
            assert stored(client, s3, prefix) == keys  # referenced: kept, however old
            q(conn, "DROP TABLE sdb.t FORCE")
            wait_until(lambda: not stored(client, s3, prefix), "the dropped table's objects deleted", timeout=60)
            wait_deletes_logged(srv, len(keys))
        lines = [tuple(map(int, m)) for m in PASS_LINE.findall(srv.log())]
        deleting = next(n for n, line in enumerate(lines) if line[1])
        assert lines[deleting][1] == len(keys)
        # the pass before found them all unreferenced and kept them: the grace counts from then
        assert lines[deleting - 1][1] == 0 and KEPT.findall(srv.log())[deleting - 1] == str(len(keys))
    finally:
        srv.stop()
