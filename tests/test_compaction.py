"""Cumulative compaction: a table fed by many single-row INSERTs ends with one rowset per tablet,
and reads the same before and after for every key model, across schema changes and through a
backup and restore of the compacted table; ``enable_compaction`` = false stops it.

The module's server has two backends so that a table with two replicas gets one compacted file
in each replica's tablet dir.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.doris_suites import syncer
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import rows, tablets

LOADS = 30
WAIT_S = 30.0


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymysql.connections.Connection]:
    srv = DorisbkServer(tmp_path_factory.mktemp("compaction") / "data", backends=2).start()
    try:
        with srv.connect() as c:
            rows(c, 'ADMIN SET FRONTEND CONFIG ("backup_handler_update_interval_millis" = "50")')
            rows(c, 'ADMIN SET FRONTEND CONFIG ("compaction_interval_ms" = "50")')
            rows(c, 'ADMIN SET FRONTEND CONFIG ("enable_compaction" = "false")')
            yield c
    finally:
        srv.stop()


def _compaction(conn: pymysql.connections.Connection, enabled: bool) -> None:
    rows(conn, f'ADMIN SET FRONTEND CONFIG ("enable_compaction" = "{str(enabled).lower()}")')


def _version_counts(conn: pymysql.connections.Connection, table: str) -> list[int]:
    return [int(t["VersionCount"]) for t in tablets(conn, table)]


def _files(conn: pymysql.connections.Connection, table: str) -> list[int]:
    """Rowset files in each replica's tablet dir."""
    return [len(list(Path(t["Path"]).glob("*.parquet"))) for t in tablets(conn, table)]


def _wait_compacted(conn: pymysql.connections.Connection, table: str) -> None:
    """Poll until every replica lists at most one rowset and its dir holds at most one file."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if max(_version_counts(conn, table)) <= 1 and max(_files(conn, table)) <= 1:
            return
        time.sleep(0.1)
    raise AssertionError(f"{table} not compacted: {_version_counts(conn, table)} rowsets, {_files(conn, table)} files")


def _new_db(conn: pymysql.connections.Connection, prefix: str) -> str:
    db = syncer.unique(prefix)
    rows(conn, f"CREATE DATABASE {db}")
    return db


def test_key_models_read_the_same_after_compaction(conn: pymysql.connections.Connection) -> None:
    db = _new_db(conn, "cmp_models")
    props = 'PROPERTIES ("replication_num" = "2")'
    rows(conn, f"CREATE TABLE {db}.d (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 {props}")
    rows(conn, f"CREATE TABLE {db}.u (k INT, v INT, s VARCHAR(8)) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    agg = "k INT, v BIGINT SUM, m INT MAX"
    rows(conn, f"CREATE TABLE {db}.a ({agg}) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    for i in range(LOADS):
        rows(conn, f"INSERT INTO {db}.d VALUES ({i % 4}, {i})")
        rows(conn, f"INSERT INTO {db}.u VALUES ({i % 3}, {i}, 'v{i}')")
        rows(conn, f"INSERT INTO {db}.a VALUES ({i % 3}, {i}, {i})")
    queries = {
        "d": f"SELECT k, v FROM {db}.d ORDER BY k, v",
        "u": f"SELECT * FROM {db}.u ORDER BY k",
        "a": f"SELECT * FROM {db}.a ORDER BY k",
    }
    before = {t: rows(conn, q) for t, q in queries.items()}
    assert before["u"] == [(0, 27, "v27"), (1, 28, "v28"), (2, 29, "v29")]
    assert before["a"] == [(k, sum(range(k, LOADS, 3)), max(range(k, LOADS, 3))) for k in range(3)]
    assert len(before["d"]) == LOADS
    # disabled: nothing is merged however long the pass period has gone by
    time.sleep(0.3)
    assert _version_counts(conn, f"{db}.d") == [LOADS, LOADS] and _files(conn, f"{db}.d") == [LOADS, LOADS]
    _compaction(conn, True)
    try:
        for t in queries:
            _wait_compacted(conn, f"{db}.{t}")
    finally:
        _compaction(conn, False)
    assert {t: rows(conn, q) for t, q in queries.items()} == before
    # the rows stay on disk unmerged: merge-on-read still decides
    assert sum(int(t["RowCount"]) for t in tablets(conn, f"{db}.u")) == LOADS
    # later loads still win over compacted rows
    rows(conn, f"INSERT INTO {db}.u VALUES (1, -1, 'late')")
    rows(conn, f"INSERT INTO {db}.a VALUES (1, 1000, 0)")
    assert rows(conn, f"SELECT v, s FROM {db}.u WHERE k = 1") == [(-1, "late")]
    assert rows(conn, f"SELECT v, m FROM {db}.a WHERE k = 1") == [(before["a"][1][1] + 1000, before["a"][1][2])]


def test_backup_after_compaction_restores_the_same_rows(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    db = _new_db(conn, "cmp_backup")
    rows(conn, f"CREATE TABLE {db}.u (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    for i in range(8):
        rows(conn, f"INSERT INTO {db}.u VALUES ({i % 3}, {i})")
    expected = rows(conn, f"SELECT * FROM {db}.u ORDER BY k")
    _compaction(conn, True)
    try:
        _wait_compacted(conn, f"{db}.u")
    finally:
        _compaction(conn, False)
    repo = syncer.unique("cmp_repo")
    syncer.create_local_repository(conn, repo, tmp_path / "repo")
    rows(conn, f"BACKUP SNAPSHOT {db}.snap TO {repo} ON (u)")
    assert syncer.wait_backup_end(conn, db)["State"] == "FINISHED"
    stamp = syncer.wait_snapshot_timestamp(conn, db, repo, "snap")
    rows(
        conn,
        f'RESTORE SNAPSHOT {db}.snap FROM {repo} ON (u AS u2) PROPERTIES ("backup_timestamp" = "{stamp}", '
        '"replication_num" = "1")',
    )
    assert syncer.wait_restore_end(conn, db)["State"] == "FINISHED"
    assert rows(conn, f"SELECT * FROM {db}.u2 ORDER BY k") == expected == [(0, 6), (1, 7), (2, 5)]


def test_schema_changes_between_loads_compact(conn: pymysql.connections.Connection) -> None:
    db = _new_db(conn, "cmp_schema")
    dup = "id INT, name VARCHAR(8), v INT"
    rows(conn, f"CREATE TABLE {db}.d ({dup}) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
    rows(conn, f"CREATE TABLE {db}.u (id INT, v INT) UNIQUE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1")
    for i in range(3):
        rows(conn, f"INSERT INTO {db}.d VALUES ({i}, 'n{i}', {i * 10})")
        rows(conn, f"INSERT INTO {db}.u VALUES ({i % 2}, {i})")
    rows(conn, f'ALTER TABLE {db}.d ADD COLUMN extra INT DEFAULT "7" AFTER id')
    rows(conn, f'ALTER TABLE {db}.u ADD COLUMN extra INT DEFAULT "5"')
    rows(conn, f"ALTER TABLE {db}.d DROP COLUMN name")
    rows(conn, f"ALTER TABLE {db}.d MODIFY COLUMN v BIGINT")
    for i in range(3, 6):
        rows(conn, f"INSERT INTO {db}.d (id, extra, v) VALUES ({i}, {i}, {i * 10})")
        rows(conn, f"INSERT INTO {db}.u VALUES ({i % 2}, {i}, {i * 100})")
    before_d = rows(conn, f"SELECT * FROM {db}.d ORDER BY id")
    before_u = rows(conn, f"SELECT * FROM {db}.u ORDER BY id")
    assert before_d == [(0, 7, 0), (1, 7, 10), (2, 7, 20), (3, 3, 30), (4, 4, 40), (5, 5, 50)]
    assert before_u == [(0, 4, 400), (1, 5, 500)]
    _compaction(conn, True)
    try:
        _wait_compacted(conn, f"{db}.d")
        _wait_compacted(conn, f"{db}.u")
    finally:
        _compaction(conn, False)
    assert rows(conn, f"SELECT * FROM {db}.d ORDER BY id") == before_d
    assert rows(conn, f"SELECT * FROM {db}.u ORDER BY id") == before_u
    # a column added after compaction reads its default from the compacted file
    rows(conn, f'ALTER TABLE {db}.d ADD COLUMN name VARCHAR(8) DEFAULT "x"')
    assert rows(conn, f"SELECT id, name FROM {db}.d WHERE id IN (0, 5) ORDER BY id") == [(0, "x"), (5, "x")]


def test_kill9_after_compaction_collects_the_replaced_files(fresh_server: DorisbkServer) -> None:
    srv = fresh_server.start()
    with srv.connect() as c:
        rows(c, "CREATE DATABASE k9")
        rows(c, "CREATE TABLE k9.u (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        for i in range(6):
            rows(c, f"INSERT INTO k9.u VALUES ({i % 2}, {i})")
        deadline = time.monotonic() + WAIT_S
        while max(_version_counts(c, "k9.u")) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _version_counts(c, "k9.u") == [1]
    # killed while the replaced files wait out their stale time: the restart collects them
    srv.kill9()
    srv.start()
    with srv.connect() as c:
        assert _files(c, "k9.u") == [1]
        assert rows(c, "SELECT * FROM k9.u ORDER BY k") == [(0, 4), (1, 5)]


def test_tablets_loaded_before_a_restart_are_compacted_after_it(fresh_server: DorisbkServer) -> None:
    """The tablets of several rowsets are found again from the replayed catalog, not only from commits."""
    srv = fresh_server.start()
    with srv.connect() as c:
        rows(c, 'ADMIN SET FRONTEND CONFIG ("enable_compaction" = "false")')
        rows(c, "CREATE DATABASE rs")
        rows(c, "CREATE TABLE rs.d (k INT, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        for i in range(6):  # more than cumulative_compaction_min_deltas (5)
            rows(c, f"INSERT INTO rs.d VALUES ({i}, {i}), ({i + 10}, {i})")
        assert _version_counts(c, "rs.d") == [6]
    srv.stop()
    srv.start()
    with srv.connect() as c:
        rows(c, 'ADMIN SET FRONTEND CONFIG ("compaction_interval_ms" = "50")')
        rows(c, 'ADMIN SET FRONTEND CONFIG ("enable_compaction" = "true")')
        _wait_compacted(c, "rs.d")
        assert rows(c, "SELECT count(*), sum(v) FROM rs.d") == [(12, 30)]
