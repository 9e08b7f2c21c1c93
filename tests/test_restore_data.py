"""What a restore does to data: new, existing, aliased and partial targets, views, schema checks,
atomic_restore / force_replace / clean_tables / clean_partitions, and each state's work on disk.

Restored tables are compared row for row with the source as it was at backup time. The
module's server has two backends so that replicas and downloads spread over both.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    described,
    doris_err,
    insert,
    md5_of,
    q,
)
from tests.test_restore_support import (
    ONE,
    backup,
    cancelled,
    create_local_repo,
    fast,
    finished,
    info_of,
    job_snapshot_dirs,
    make_range_table,
    make_unique_table,
    partitions,
    pause,
    restore,
    restore_row,
    restore_sql,
    rows_of,
    tables,
    versions,
    wait_state,
)

ATOMIC_PREFIX = "__doris_atomic_restore_prefix__"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DorisbkServer]:
    server = DorisbkServer(tmp_path_factory.mktemp("srv2") / "data", backends=2).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def env(srv: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``src`` with a range table t (three loads), a unique table u (with an update) and a view v,
    backed up whole as ``snap``; what they held at backup time is kept for comparison."""
    conn = srv.connect()
    fast(conn)
    location = tmp_path_factory.mktemp("repo")
    create_local_repo(conn, "r", location)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", [1, 2, 11, 21])
    insert(conn, "src.t", [3, 22, 23])
    insert(conn, "src.t", [4])
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01'), (2, 'b', NULL, '2024-02-29'), (3, NULL, -7, NULL)")
    q(conn, "INSERT INTO src.u VALUES (2, 'b2', 9.99, '2024-03-01')")
    q(conn, "CREATE VIEW src.v AS SELECT k, v FROM src.t WHERE k > 5")
    before = {name: rows_of(conn, f"src.{name}") for name in ("t", "u", "v")}
    src_versions = {name: versions(conn, f"src.{name}") for name in ("t", "u")}
    ts = backup(conn, "src", "snap", "r")
    # loads after the backup are not part of it
    insert(conn, "src.t", [5, 15])
    yield {
        "conn": conn,
        "ts": ts,
        "location": location,
        "srv": srv,
        "rows": before,
        "versions": src_versions,
        "info": info_of(location, "r", "snap"),
    }
    pause(conn)
    conn.close()


_db_counter = iter(range(1000))


def new_db(conn: pymysql.connections.Connection) -> str:
    name = f"d{next(_db_counter)}"
    q(conn, f"CREATE DATABASE {name}")
    return name


def snapshot_rows(env: dict, table: str, keep: tuple[str, ...] = ()) -> list[tuple]:
    """The source rows at backup time, optionally only those of partitions ``keep`` of t."""
    found = env["rows"][table]
    if not keep:
        return found
    ranges = {"p1": range(-(2**31), 10), "p2": range(10, 20), "p3": range(20, 30)}
    return [r for r in found if any(r[0] in ranges[p] for p in keep)]


def dataset_like_snapshot(env: dict, db: str) -> None:
    """t in ``db`` with the snapshot's schema, other rows, and a local-only partition p4."""
    conn = env["conn"]
    make_range_table(conn, f"{db}.t")
    insert(conn, f"{db}.t", [7, 8, 17, 27])
    q(conn, f"ALTER TABLE {db}.t ADD PARTITION p4 VALUES LESS THAN (40)")
    insert(conn, f"{db}.t", [31, 32])


# ---- new tables
def test_restore_whole_snapshot_into_new_database(env: dict) -> None:
    conn, data_dir = env["conn"], env["srv"].data_dir
    db = new_db(conn)
    row = restore(conn, db, "snap", "r", env["ts"])
    assert tables(conn, db) == ["t", "u", "v"]
    for name in ("t", "u", "v"):
        assert rows_of(conn, f"{db}.{name}") == env["rows"][name], name
    # partition versions are the snapshot's
    for name in ("t", "u"):
        assert versions(conn, f"{db}.{name}") == env["versions"][name]
    snap_parts = env["info"]["backup_objects"]["t"]["partitions"]
    assert versions(conn, f"{db}.t") == {p: str(info["version"]) for p, info in snap_parts.items()}
    # the view now reads the target database
    definition = q(conn, f"SHOW CREATE VIEW {db}.v")[0][1]
    assert f"{db}.t" in definition.replace("`", "") and "src" not in definition
    # new ids, nothing shared with the source
    src_ids = {p["PartitionId"] for p in partitions(conn, "src.t").values()}
    assert not src_ids & {p["PartitionId"] for p in partitions(conn, f"{db}.t").values()}
    assert partitions(conn, f"{db}.t")["p1"]["ReplicationNum"] == "1"
    # the per-job snapshot dirs are released
    assert not [p for p in job_snapshot_dirs(data_dir) if p.name == row["JobId"]]
    # the restored tables take new loads on top of the snapshot's versions
    insert(conn, f"{db}.t", [9])
    assert int(versions(conn, f"{db}.t")["p1"]) == snap_parts["p1"]["version"] + 1
    assert (9, "v9") in rows_of(conn, f"{db}.t")


def test_tablet_files_come_from_the_snapshot(env: dict) -> None:
    """After commit every restored replica holds exactly its snapshot tablet's rowset files."""
    conn, data_dir = env["conn"], env["srv"].data_dir
    db = new_db(conn)
    restore(conn, db, "snap", "r", env["ts"], "ON (t PARTITION (p1))")
    names, found = described(conn, f"SHOW TABLETS FROM {db}.t")
    tablets = [dict(zip(names, r, strict=True)) for r in found]
    index = next(iter(env["info"]["backup_objects"]["t"]["partitions"]["p1"]["indexes"].values()))
    expected = sorted(
        sorted(n.rpartition(".")[0] for n in index["tablets"][str(tid)] if not n.startswith(f"{tid}.hdr"))
        for tid in index["tablets_order"]
    )
    held = []
    for tablet in tablets:
        directory = Path(tablet["Path"])
        assert directory.is_relative_to(data_dir) and directory.name == tablet["TabletId"]
        assert tablet["Version"] == str(env["versions"]["t"]["p1"])
        stored = [f"{p.name}.{md5_of(p)}" for p in directory.iterdir()]
        assert all(any(n in names_ for names_ in index["tablets"].values()) for n in stored), stored
        held.append(sorted(p.name for p in directory.iterdir()))
    assert sorted(held) == expected


def test_replicas_on_two_backends(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    restore(conn, db, "snap", "r", env["ts"], "ON (u)", props='"replication_num" = "2"')
    names, found = described(conn, f"SHOW TABLETS FROM {db}.u")
    by_tablet: dict[str, set[str]] = {}
    for r in found:
        tablet = dict(zip(names, r, strict=True))
        by_tablet.setdefault(tablet["TabletId"], set()).add(tablet["BackendId"])
    assert len(by_tablet) == 3 and all(len(b) == 2 for b in by_tablet.values())
    assert rows_of(conn, f"{db}.u") == env["rows"]["u"]
    assert partitions(conn, f"{db}.u")["u"]["ReplicationNum"] == "2"


def test_partial_partitions_into_new_table(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    row = restore(conn, db, "snap", "r", env["ts"], "ON (t PARTITION (p1, p3))")
    assert tables(conn, db) == ["t"]
    assert sorted(partitions(conn, f"{db}.t")) == ["p1", "p3"]
    assert rows_of(conn, f"{db}.t") == snapshot_rows(env, "t", ("p1", "p3"))
    assert json.loads(row["RestoreObjs"])["olap_table_list"] == [{"name": "t", "partition_names": ["p1", "p3"]}]


def test_alias_to_new_table(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    make_range_table(conn, f"{db}.t")
    insert(conn, f"{db}.t", [6])
    restore(conn, db, "snap", "r", env["ts"], "ON (t AS t2, u AS u2)")
    assert tables(conn, db) == ["t", "t2", "u2"]
    assert rows_of(conn, f"{db}.t2") == env["rows"]["t"]
    assert rows_of(conn, f"{db}.u2") == env["rows"]["u"]
    assert rows_of(conn, f"{db}.t") == [(6, "v6")]
    # a single-partition table's partition carries the table's (new) name
    assert list(partitions(conn, f"{db}.u2")) == ["u2"]


def test_alias_over_existing_unpartitioned_table(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    make_unique_table(conn, f"{db}.w")
    q(conn, f"INSERT INTO {db}.w VALUES (100, 'local', 0, NULL)")
    restore(conn, db, "snap", "r", env["ts"], "ON (u AS w)")
    assert rows_of(conn, f"{db}.w") == env["rows"]["u"]
    assert list(partitions(conn, f"{db}.w")) == ["w"]


# ---- existing tables
def test_existing_table_partitions_replaced_whole(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    pid_before = {n: p["PartitionId"] for n, p in partitions(conn, f"{db}.t").items()}
    # before: the local rows, none of the snapshot's
    before = sorted(r for r in rows_of(conn, f"{db}.t") if r[0] < 30)
    assert before == [(7, "v7"), (8, "v8"), (17, "v17"), (27, "v27")] != env["rows"]["t"]
    restore(conn, db, "snap", "r", env["ts"], "ON (t)")
    # snapshot partitions hold exactly the snapshot's rows; local rows loaded there are gone
    got = rows_of(conn, f"{db}.t")
    assert [r for r in got if r[0] < 30] == env["rows"]["t"]
    # the local-only partition is kept
    assert [r for r in got if r[0] >= 30] == [(31, "v31"), (32, "v32")]
    parts = partitions(conn, f"{db}.t")
    assert sorted(parts) == ["p1", "p2", "p3", "p4"]
    for name in ("p1", "p2", "p3"):
        assert parts[name]["VisibleVersion"] == env["versions"]["t"][name]
        assert parts[name]["PartitionId"] == pid_before[name]
        assert parts[name]["State"] == "NORMAL"
    insert(conn, f"{db}.t", [33, 9])
    assert (9, "v9") in rows_of(conn, f"{db}.t")


def test_existing_table_partial_partition(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    local = rows_of(conn, f"{db}.t")
    local_versions = versions(conn, f"{db}.t")
    restore(conn, db, "snap", "r", env["ts"], "ON (t PARTITION (p2))")
    expected = sorted([r for r in local if not 10 <= r[0] < 20] + snapshot_rows(env, "t", ("p2",)), key=repr)
    assert rows_of(conn, f"{db}.t") == expected
    now = versions(conn, f"{db}.t")
    assert now["p2"] == env["versions"]["t"]["p2"]
    assert {k: v for k, v in now.items() if k != "p2"} == {k: v for k, v in local_versions.items() if k != "p2"}


def test_existing_table_gets_missing_partition(env: dict) -> None:
    """A snapshot partition the local table lacks is added (its range must not overlap)."""
    conn = env["conn"]
    db = new_db(conn)
    make_range_table(conn, f"{db}.t")
    q(conn, f"ALTER TABLE {db}.t DROP PARTITION p3")
    insert(conn, f"{db}.t", [1])
    restore(conn, db, "snap", "r", env["ts"], "ON (t PARTITION (p3))")
    assert sorted(partitions(conn, f"{db}.t")) == ["p1", "p2", "p3"]
    assert rows_of(conn, f"{db}.t") == sorted([(1, "v1"), *snapshot_rows(env, "t", ("p3",))], key=repr)


def test_restore_dropped_table_back_into_its_database(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    restore(conn, db, "snap", "r", env["ts"], "ON (u)")
    ts = backup(conn, db, "own", "r")
    q(conn, f"INSERT INTO {db}.u VALUES (50, 'later', 1, NULL)")
    q(conn, f"DROP TABLE {db}.u")
    restore(conn, db, "own", "r", ts)
    assert rows_of(conn, f"{db}.u") == env["rows"]["u"]


def test_clean_partitions(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    restore(conn, db, "snap", "r", env["ts"], "ON (t)", props=f'{ONE}, "clean_partitions" = "true"')
    assert sorted(partitions(conn, f"{db}.t")) == ["p1", "p2", "p3"]
    assert rows_of(conn, f"{db}.t") == env["rows"]["t"]


def test_clean_tables(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    q(conn, f"CREATE TABLE {db}.x (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')")
    q(conn, f"CREATE VIEW {db}.xv AS SELECT 1")
    restore(conn, db, "snap", "r", env["ts"], "ON (t)", props=f'{ONE}, "clean_tables" = "true"')
    # tables outside the ON list go too; local partitions of restored tables stay
    assert tables(conn, db) == ["t"]
    assert sorted(partitions(conn, f"{db}.t")) == ["p1", "p2", "p3", "p4"]
    # the whole snapshot with clean_tables: exactly the snapshot's objects remain
    q(conn, f"CREATE TABLE {db}.y (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')")
    restore(conn, db, "snap", "r", env["ts"], props=f'{ONE}, "clean_tables" = "true", "clean_partitions" = "true"')
    assert tables(conn, db) == ["t", "u", "v"]
    for name in ("t", "u", "v"):
        assert rows_of(conn, f"{db}.{name}") == env["rows"][name]


# ---- schema checks
def test_schema_mismatch_cancels_and_leaves_local_table(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {db}.t (k INT, v VARCHAR(32), extra INT) DUPLICATE KEY(k) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    q(conn, f"INSERT INTO {db}.t VALUES (1, 'local', 5)")
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t, u)"))
    status = cancelled(conn, db)
    assert status == "[COMMON_ERROR, msg: Table t already exist but with different schema]"
    assert tables(conn, db) == ["t"]
    assert rows_of(conn, f"{db}.t") == [(1, "local", 5)]
    q(conn, f"INSERT INTO {db}.t VALUES (2, 'more', 6)")
    assert len(rows_of(conn, f"{db}.t")) == 2


def test_different_buckets_is_a_different_schema(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    make_range_table(conn, f"{db}.t", buckets=3)
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)"))
    cancelled(conn, db, "Table t already exist but with different schema")


def test_different_partition_range(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {db}.t (k INT, v VARCHAR(32)) DUPLICATE KEY(k) PARTITION BY RANGE(k) ("
        "PARTITION p1 VALUES LESS THAN (5), PARTITION p2 VALUES LESS THAN (20)) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    insert(conn, f"{db}.t", [1, 12])
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)"))
    cancelled(conn, db, "Partition p1 in table t has different partition item with partition in repository")
    assert rows_of(conn, f"{db}.t") == [(1, "v1"), (12, "v12")]


def test_conflicting_new_partition(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {db}.t (k INT, v VARCHAR(32)) DUPLICATE KEY(k) PARTITION BY RANGE(k) ("
        "PARTITION p1 VALUES LESS THAN (10), PARTITION px VALUES LESS THAN (25)) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t PARTITION (p2))"))
    cancelled(conn, db, "Partition p2 in table t has conflict partition item with existing items")
    assert sorted(partitions(conn, f"{db}.t")) == ["p1", "px"]


def test_different_replication_num(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    make_range_table(conn, f"{db}.t")
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props='"replication_num" = "2"'))
    cancelled(
        conn, db, "Partition p1 in table t has different replication num '1' with partition in repository, which is 2"
    )


def test_view_checks(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    restore(conn, db, "snap", "r", env["ts"], "ON (t, v)")
    # restoring the same view again is fine: its definition, retargeted, is the same
    restore(conn, db, "snap", "r", env["ts"], "ON (v)")
    assert rows_of(conn, f"{db}.v") == env["rows"]["v"]
    q(conn, f"DROP VIEW {db}.v")
    q(conn, f"CREATE VIEW {db}.v AS SELECT 1 AS one")
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (v)"))
    cancelled(conn, db, "View v already exist but with different schema")
    assert q(conn, f"SELECT * FROM {db}.v") == [(1,)]
    restore(conn, db, "snap", "r", env["ts"], "ON (v)", props=f'{ONE}, "force_replace" = "true"')
    assert rows_of(conn, f"{db}.v") == env["rows"]["v"]
    # a view under an alias
    restore(conn, db, "snap", "r", env["ts"], "ON (v AS v2)")
    assert rows_of(conn, f"{db}.v2") == env["rows"]["v"]
    # a table where the snapshot has a view
    q(conn, f"CREATE TABLE {db}.v3 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')")
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (v AS v3)"))
    cancelled(conn, db, "The local table v3 with the same name but a different type of backup meta.")
    # a view where the snapshot has a table
    q(conn, f"CREATE VIEW {db}.u AS SELECT 1 AS one")
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (u)"))
    cancelled(conn, db, "The local table u with the same name but a different type of backup meta.")
    assert q(conn, f"SELECT * FROM {db}.u") == [(1,)]


# ---- atomic_restore / force_replace
def test_atomic_restore(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    local = rows_of(conn, f"{db}.t")
    pause(conn, "DOWNLOADING")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props=f'{ONE}, "atomic_restore" = "true"'))
        wait_state(conn, db, "DOWNLOADING")
        # the original stays queryable while the copy is built aside
        assert rows_of(conn, f"{db}.t") == local
        assert "t" in tables(conn, db)
    finally:
        pause(conn)
    finished(conn, db)
    assert tables(conn, db) == ["t"]
    # the whole table is the snapshot's: the local-only partition went with it
    assert sorted(partitions(conn, f"{db}.t")) == ["p1", "p2", "p3"]
    assert rows_of(conn, f"{db}.t") == env["rows"]["t"]
    assert versions(conn, f"{db}.t") == env["versions"]["t"]


def test_atomic_restore_schema_mismatch_and_force_replace(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {db}.t (k INT, extra INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 "
        "PROPERTIES ('replication_num' = '1')",
    )
    q(conn, f"INSERT INTO {db}.t VALUES (1, 2)")
    atomic = f'{ONE}, "atomic_restore" = "true"'
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props=atomic))
    cancelled(conn, db, "Table t already exist but with different schema")
    assert tables(conn, db) == ["t"]
    assert rows_of(conn, f"{db}.t") == [(1, 2)]
    # force_replace without atomic_restore changes nothing
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props=f'{ONE}, "force_replace" = "true"'))
    cancelled(conn, db, "Table t already exist but with different schema")
    restore(conn, db, "snap", "r", env["ts"], "ON (t)", props=f'{atomic}, "force_replace" = "true"')
    assert tables(conn, db) == ["t"]
    assert [c[0] for c in q(conn, f"DESC {db}.t")] == ["k", "v"]
    assert rows_of(conn, f"{db}.t") == env["rows"]["t"]


def test_atomic_restore_of_a_new_table(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    restore(conn, db, "snap", "r", env["ts"], "ON (u)", props=f'{ONE}, "atomic_restore" = "true"')
    assert tables(conn, db) == ["u"]
    assert rows_of(conn, f"{db}.u") == env["rows"]["u"]


# ---- RESTORE state and each state's work
def test_restore_state_refuses_queries_and_loads(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    local = rows_of(conn, f"{db}.t")
    pause(conn, "DOWNLOADING")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t, u)"))
        wait_state(conn, db, "DOWNLOADING")
        # the new table is listed but neither it nor the locked existing one may be read or loaded
        assert tables(conn, db) == ["t", "u"]
        for table in ("t", "u"):
            assert "restore" in doris_err(conn, f"SELECT * FROM {db}.{table}").lower()
            assert "RESTORE" in doris_err(
                conn,
                f"INSERT INTO {db}.{table} (id) VALUES (99)"
                if table == "u"
                else f"INSERT INTO {db}.t VALUES (99, 'x')",
            )
        assert "NOT NORMAL" in doris_err(conn, f"ALTER TABLE {db}.t ADD PARTITION p9 VALUES LESS THAN (90)").upper()
        assert "NOT NORMAL" in doris_err(conn, f"DROP TABLE {db}.t").upper()
        assert "NOT NORMAL" in doris_err(conn, f"TRUNCATE TABLE {db}.t").upper()
    finally:
        pause(conn)
    finished(conn, db)
    assert [r for r in rows_of(conn, f"{db}.t") if r[0] < 30] == env["rows"]["t"]
    assert [r for r in local if r[0] >= 30] == [r for r in rows_of(conn, f"{db}.t") if r[0] >= 30]
    insert(conn, f"{db}.t", [99 - 60])


def test_each_state_does_its_work(env: dict) -> None:
    """Hold the job in every state in turn and look at the catalog and the backends' dirs."""
    conn, data_dir = env["conn"], env["srv"].data_dir
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    # (name, md5) of every file of the snapshot: a name is unique within its tablet only
    snap_files = sorted(
        tuple(n.rsplit(".", 1))
        for tbl in ("t", "u")
        for part in env["info"]["backup_objects"][tbl]["partitions"].values()
        for index in part["indexes"].values()
        for names in index["tablets"].values()
        for n in names
    )

    def job_dirs() -> list[Path]:
        row = restore_row(conn, db)
        return [d for d in job_snapshot_dirs(data_dir) if d.name == row["JobId"]]

    def job_dir_files() -> dict[str, list[tuple[str, Path]]]:
        """Files in this job's snapshot dirs (``<tablet id>_<name>``): (name, path) by tablet id."""
        out: dict[str, list[tuple[str, Path]]] = {}
        for d in job_dirs():
            for path in sorted(d.iterdir()):
                tablet, name = path.name.split("_", 1)
                out.setdefault(tablet, []).append((name, path))
        return out

    pause(conn, *["PENDING", "CREATING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING"])
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t, u)"))
        row = wait_state(conn, db, "PENDING")
        assert row["MetaPreparedTime"] == "NULL"
        assert tables(conn, db) == ["t"] and rows_of(conn, f"{db}.t")

        pause(conn, "CREATING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
        row = wait_state(conn, db, "CREATING")
        assert row["MetaPreparedTime"] != "NULL"
        assert "restore" in doris_err(conn, f"SELECT * FROM {db}.t").lower()  # locked
        assert job_dir_files() == {}

        pause(conn, "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
        wait_state(conn, db, "SNAPSHOTING")
        assert tables(conn, db) == ["t", "u"]  # registered, in RESTORE state

        pause(conn, "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
        row = wait_state(conn, db, "DOWNLOAD")
        assert row["SnapshotFinishedTime"] != "NULL"
        assert len(job_dirs()) == 2 and job_dir_files() == {}  # the job's dir on each backend, still empty

        pause(conn, "DOWNLOADING", "COMMIT", "COMMITTING")
        wait_state(conn, db, "DOWNLOADING")
        deadline = time.monotonic() + 20

        def downloaded() -> list[tuple[str, str]]:
            return sorted((name, md5_of(p)) for files in job_dir_files().values() for name, p in files)

        # every file of the snapshot arrives whole (a file is written in place: its last bytes come last)
        while downloaded() != snap_files:
            assert time.monotonic() < deadline, downloaded()
            time.sleep(0.02)

        pause(conn, "COMMIT", "COMMITTING")
        row = wait_state(conn, db, "COMMIT")
        assert row["DownloadFinishedTime"] != "NULL"
        assert "restore" in doris_err(conn, f"SELECT * FROM {db}.u").lower()

        pause(conn, "COMMITTING")
        wait_state(conn, db, "COMMITTING")
        # the downloaded files are now linked into the tablets, but nothing is visible yet
        linked = [p for files in job_dir_files().values() for name, p in files if not name.endswith(".hdr")]
        assert linked and all(p.stat().st_nlink == 2 for p in linked)
        assert "restore" in doris_err(conn, f"SELECT * FROM {db}.u").lower()
        assert "restore" in doris_err(conn, f"SELECT * FROM {db}.t").lower()
    finally:
        pause(conn)
    row = finished(conn, db)
    assert row["FinishedTime"] != "NULL"
    assert job_dir_files() == {}
    assert rows_of(conn, f"{db}.u") == env["rows"]["u"]
    assert versions(conn, f"{db}.u") == env["versions"]["u"]
    assert {k: v for k, v in versions(conn, f"{db}.t").items() if k != "p4"} == env["versions"]["t"]


# ---- other shapes of snapshot
def test_list_partitions_empty_table_and_unqualified_view(env: dict) -> None:
    conn = env["conn"]
    src = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {src}.lt (city VARCHAR(10), n INT) DUPLICATE KEY(city) PARTITION BY LIST(city) ("
        "PARTITION pab VALUES IN ('a', 'b'), PARTITION pc VALUES IN ('c')) "
        "DISTRIBUTED BY HASH(n) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    q(conn, f"INSERT INTO {src}.lt VALUES ('a', 1), ('b', 2), ('c', 3)")
    q(conn, f"CREATE TABLE {src}.empty (k INT) DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')")
    with env["srv"].connect(database=src) as in_src:
        q(in_src, "CREATE VIEW vu AS SELECT n FROM lt WHERE n > 1")
    ts = backup(conn, src, "shapes", "r")
    db = new_db(conn)
    restore(conn, db, "shapes", "r", ts)
    assert rows_of(conn, f"{db}.lt") == rows_of(conn, f"{src}.lt")
    assert rows_of(conn, f"{db}.empty") == []
    assert rows_of(conn, f"{db}.vu") == [(2,), (3,)]
    q(conn, f"INSERT INTO {db}.empty VALUES (1)")
    assert rows_of(conn, f"{db}.empty") == [(1,)]
    # over an existing list-partitioned table: only the named partition is replaced
    q(conn, f"INSERT INTO {db}.lt VALUES ('a', 10), ('c', 30)")
    restore(conn, db, "shapes", "r", ts, "ON (lt PARTITION (pab))")
    assert rows_of(conn, f"{db}.lt") == [("a", 1), ("b", 2), ("c", 3), ("c", 30)]
    # a local list partition with other values is a different partition item
    other = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {other}.lt (city VARCHAR(10), n INT) DUPLICATE KEY(city) PARTITION BY LIST(city) ("
        "PARTITION pab VALUES IN ('a'), PARTITION pc VALUES IN ('c')) "
        "DISTRIBUTED BY HASH(n) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    q(conn, restore_sql(other, "shapes", "r", ts, "ON (lt)"))
    cancelled(conn, other, "Partition pab in table lt has different partition item with partition in repository")


def test_metadata_only_snapshot(env: dict) -> None:
    """A METADATA_ONLY snapshot restores the tables, empty."""
    conn = env["conn"]
    q(conn, 'BACKUP SNAPSHOT src.meta_only TO r ON (t, u) PROPERTIES ("content" = "METADATA_ONLY")')
    wait_backup = time.monotonic() + 20
    while q(conn, 'SHOW BACKUP FROM src WHERE SnapshotName = "meta_only"')[-1][3] != "FINISHED":
        assert time.monotonic() < wait_backup
        time.sleep(0.02)
    ts = q(conn, 'SHOW SNAPSHOT ON r WHERE SNAPSHOT = "meta_only"')[0][1]
    db = new_db(conn)
    row = restore(conn, db, "meta_only", "r", ts)
    assert json.loads(row["RestoreObjs"])["content"] == "METADATA_ONLY"
    assert tables(conn, db) == ["t", "u"]
    assert rows_of(conn, f"{db}.t") == rows_of(conn, f"{db}.u") == []
    assert [r[:2] for r in q(conn, f"DESC {db}.u")] == [r[:2] for r in q(conn, "DESC src.u")]
    insert(conn, f"{db}.t", [1])
    assert rows_of(conn, f"{db}.t") == [(1, "v1")]


def test_reserve_replica_and_dynamic_partition(env: dict) -> None:
    conn = env["conn"]
    src = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {src}.dyn (day DATE, n INT) DUPLICATE KEY(day) PARTITION BY RANGE(day) ("
        "PARTITION p1 VALUES LESS THAN ('2024-01-01')) DISTRIBUTED BY HASH(n) BUCKETS 2 PROPERTIES ("
        "'replication_num' = '2', 'dynamic_partition.enable' = 'true', 'dynamic_partition.time_unit' = 'DAY', "
        "'dynamic_partition.end' = '3', 'dynamic_partition.prefix' = 'p')",
    )
    q(conn, f"INSERT INTO {src}.dyn VALUES ('2023-05-05', 1), ('2023-06-06', 2)")
    ts = backup(conn, src, "dyn", "r")

    def shape(db: str) -> tuple[str, bool]:
        create = q(conn, f"SHOW CREATE TABLE {db}.dyn")[0][1]
        return partitions(conn, f"{db}.dyn")["p1"]["ReplicationNum"], '"dynamic_partition.enable" = "true"' in create

    plain = new_db(conn)
    restore(conn, plain, "dyn", "r", ts)
    assert shape(plain) == ("1", False)
    kept = new_db(conn)
    props = f'{ONE}, "reserve_replica" = "true", "reserve_dynamic_partition_enable" = "true"'
    restore(conn, kept, "dyn", "r", ts, props=props)
    assert shape(kept) == ("2", True)
    # (the dynamic partitions made around today at CREATE TABLE come along too: count p1's replicas)
    assert len(q(conn, f"SHOW TABLETS FROM {kept}.dyn PARTITION (p1)")) == 2 * 2
    for db in (plain, kept):
        assert rows_of(conn, f"{db}.dyn") == rows_of(conn, f"{src}.dyn")


@pytest.mark.parametrize("atomic", [True, False])
def test_readers_never_see_a_half_restored_table(env: dict, atomic: bool) -> None:
    """SELECTs running all through restores see the old table, the restored one, or an error."""
    conn = env["conn"]
    db = new_db(conn)
    dataset_like_snapshot(env, db)
    local = rows_of(conn, f"{db}.t")
    # atomic: the whole table becomes the snapshot's; otherwise its local-only partition stays
    after = env["rows"]["t"] if atomic else sorted([*env["rows"]["t"], *(r for r in local if r[0] >= 30)], key=repr)
    seen: list[str] = []
    wrong: list[object] = []
    stop = threading.Event()

    def reader() -> None:
        with env["srv"].connect() as own:
            while not stop.is_set():
                try:
                    got = rows_of(own, f"{db}.t")
                except pymysql.MySQLError as exc:
                    seen.append("refused")
                    if "under restore" not in str(exc.args[1]):
                        wrong.append(exc)
                    continue
                seen.append("old" if got == local else "new" if got == after else "wrong")
                if got not in (local, after):
                    wrong.append(got)

    worker = threading.Thread(target=reader)
    worker.start()
    try:
        props = f'{ONE}, "atomic_restore" = "true"' if atomic else ONE
        for _ in range(3):
            q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props))
            finished(conn, db)
    finally:
        stop.set()
        worker.join()
    assert wrong == []
    assert "new" in seen
    assert rows_of(conn, f"{db}.t") == after
