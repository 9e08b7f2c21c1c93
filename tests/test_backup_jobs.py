"""BACKUP SNAPSHOT to a LOCAL repository: statements, jobs, the files they leave, SHOW output, cancel.

One server for the module; every test uses its own database (one job per database) and
releases the debug knobs it sets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    described,
    doris_err,
    err,
    insert,
    md5_of,
    pause,
    q,
    set_config,
    snapshot_dir,
)
from tests.test_backup_support import (
    COL,
    STATES,
    be_snapshot_dirs,
    finished,
    info_file,
    local_job_dirs,
    make_table,
    run_script,
    sql_statements,
    tree,
    upload_totals,
    wait_backup,
)

REPO = "r"
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$")
MD5_NAME = re.compile(r"^(.+)\.([0-9a-f]{32})$")
INFO_KEYS = {
    "name",
    "database",
    "id",
    "backup_time",
    "content",
    "backup_objects",
    "backup_tables_error_ignore",
    "new_backup_objects",
    "backup_result",
    "meta_version",
    "major_version",
    "minor_version",
    "patch_version",
    "tablet_be_map",
    "tablet_snapshot_path_map",
    "table_commit_seq_map",
}
SHOW_BACKUP_COLUMNS = list(COL)


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repo")


@pytest.fixture(scope="module")
def conn(server: DorisbkServer, location: Path) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        q(c, f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{location}"')
        set_config(c, "backup_handler_update_interval_millis", "50")
        yield c


@pytest.fixture(autouse=True)
def release_knobs(conn: pymysql.connections.Connection) -> Iterator[None]:
    yield
    pause(conn)
    set_config(conn, "max_upload_speed_kbps", "0")


def content_files(location: Path, label: str) -> list[Path]:
    root = snapshot_dir(location, REPO, label) / "__ss_content"
    return sorted(p for p in root.rglob("*") if p.is_file())


def hdr_rows(location: Path, label: str) -> int:
    return sum(
        sum(r["rows"] for r in json.loads(p.read_bytes())["rowsets"])
        for p in content_files(location, label)
        if ".hdr." in p.name
    )


def parquet_rows(location: Path, label: str) -> int:
    files = [str(p) for p in content_files(location, label) if ".hdr." not in p.name]
    if not files:
        return 0
    return duckdb.sql(f"SELECT count(*) FROM read_parquet({files!r})").fetchall()[0][0]


# ---------------------------------------------------------------------------------------------
# statements and their synchronous checks


def test_backup_statement_errors(server: DorisbkServer, conn: pymysql.connections.Connection, location: Path) -> None:
    q(conn, "CREATE DATABASE errdb")
    make_table(conn, "errdb", "t", rows=2, buckets=1)
    q(
        conn,
        "CREATE TABLE errdb.tp (k INT, v VARCHAR(8)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
        '(PARTITION p1 VALUES LESS THAN ("10"), PARTITION p2 VALUES LESS THAN ("100")) '
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    cases = {
        "BACKUP SNAPSHOT errdb.s TO nosuch": "Repository nosuch does not exist",
        "BACKUP SNAPSHOT errdb.s TO r ON (otherdb.t)": (
            "Cannot specify database name on backup objects: t. Specify database name before label"
        ),
        "BACKUP SNAPSHOT errdb.s TO r ON (t AS x)": "Can not set alias for table in Backup Command: t AS x",
        "BACKUP SNAPSHOT errdb.s TO r ON (t, tp, t)": "Duplicated table: t",
        "BACKUP SNAPSHOT errdb.s TO r ON (tp TEMPORARY PARTITION (p1))": "Do not support backup temp partitions",
        "BACKUP SNAPSHOT errdb.s TO r ON (tp PARTITION (p9))": "Unknown partition p9 in tabletp",
        'BACKUP SNAPSHOT errdb.s TO r PROPERTIES ("foo" = "1", "bar" = "2")': (
            "Unknown backup job properties: [foo, bar]"
        ),
        'BACKUP SNAPSHOT errdb.s TO r PROPERTIES ("type" = "diff")': "Invalid backup job type: diff",
        'BACKUP SNAPSHOT errdb.s TO r PROPERTIES ("timeout" = "ten")': "Invalid timeout format: ten",
        'BACKUP SNAPSHOT errdb.s TO r PROPERTIES ("timeout" = "599")': "timeout must be at least 10 min",
        'BACKUP SNAPSHOT errdb.s TO r PROPERTIES ("content" = "data")': "Invalid backup job content:data",
    }
    for sql, message in cases.items():
        assert doris_err(conn, sql) == message, sql
    assert doris_err(conn, "BACKUP SNAPSHOT errdb.s TO r ON (nosuch)", code=1051) == "Unknown table 'nosuch'"
    assert doris_err(conn, "BACKUP SNAPSHOT nodb.s TO r", code=1049) == "Unknown database 'nodb'"
    assert "Label format error" in doris_err(conn, f"BACKUP SNAPSHOT errdb.{'x' * 129} TO r")
    assert err(conn, "BACKUP SNAPSHOT errdb.s TO")[0] == 1064
    assert err(conn, "BACKUP SNAPSHOT s TO r")[0] == 1046  # no database selected
    assert q(conn, "SHOW BACKUP FROM errdb") == []

    # Label already in the repository; asking for an incremental backup of it says so.
    q(conn, 'BACKUP SNAPSHOT errdb.taken TO r ON (t) PROPERTIES ("timeout" = "600", "type" = "FULL")')
    row = finished(conn, "errdb", "taken")
    assert row[COL["Timeout"]] == "600"
    assert doris_err(conn, "BACKUP SNAPSHOT errdb.taken TO r") == (
        "Snapshot with name 'taken' already exist in repository"
    )
    assert doris_err(conn, 'BACKUP SNAPSHOT errdb.taken TO r PROPERTIES ("type" = "incremental")') == (
        "Currently does not support incremental backup"
    )
    # The database may come from the session instead of the label.
    with server.connect(database="errdb") as in_db:
        q(in_db, "BACKUP SNAPSHOT s_current TO r ON (tp PARTITION (p1))")
        row = finished(in_db, "errdb", "s_current")
        assert row[COL["BackupObjs"]] == "[`errdb`.`tp` PARTITIONS (p1)]"
        assert [r[1] for r in q(in_db, "SHOW BACKUP")] == ["taken", "s_current"]
    _, info = info_file(location, REPO, "s_current")
    assert list(info["backup_objects"]) == ["tp"]
    assert list(info["backup_objects"]["tp"]["partitions"]) == ["p1"]


# ---------------------------------------------------------------------------------------------
# the repository tree after a backup


def test_full_backup_tree_checksums_info_and_meta(conn: pymysql.connections.Connection, location: Path) -> None:
    q(conn, "CREATE DATABASE lay")
    make_table(conn, "lay", "t1", rows=6, buckets=2)
    q(
        conn,
        "CREATE TABLE lay.tp (k INT, v VARCHAR(8)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
        '(PARTITION p1 VALUES LESS THAN ("10"), PARTITION p2 VALUES LESS THAN ("100")) '
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    insert(conn, "lay.tp", [1, 2, 50])
    q(conn, "CREATE VIEW lay.v1 AS SELECT k FROM lay.t1")
    q(conn, "BACKUP SNAPSHOT lay.full TO r")
    row = finished(conn, "lay", "full")

    ss = snapshot_dir(location, REPO, "full")
    top = sorted(p.name for p in ss.iterdir())
    assert len(top) == 3 and top[2] == "__ss_content"
    assert re.fullmatch(r"__info_\d{4}(-\d\d){5}\.[0-9a-f]{32}", top[0]), top
    assert re.fullmatch(r"__meta\.[0-9a-f]{32}", top[1]), top
    for name in top[:2]:
        assert name.rpartition(".")[2] == md5_of(ss / name)
    assert (location / "__palo_repository_r" / "__repo_info").is_file()

    ts, info = info_file(location, REPO, "full")
    assert TIMESTAMP.match(ts)
    created = datetime.strptime(row[COL["CreateTime"]], "%Y-%m-%d %H:%M:%S")
    assert ts == created.strftime("%Y-%m-%d-%H-%M-%S")
    assert set(info) == INFO_KEYS
    assert (info["name"], info["database"], info["content"], info["backup_result"]) == (
        "full",
        "lay",
        "ALL",
        "succeed",
    )
    assert datetime.fromtimestamp(info["backup_time"] / 1000).strftime("%Y-%m-%d-%H-%M-%S") == ts
    assert info["new_backup_objects"]["views"][0]["name"] == "v1"
    assert set(info["backup_objects"]) == {"t1", "tp"}
    assert set(info["backup_objects"]["tp"]["partitions"]) == {"p1", "p2"}

    # Every tablet directory is named from the info's ids and holds exactly the listed files.
    listed: set[str] = set()
    for table_name, table in info["backup_objects"].items():
        for part in table["partitions"].values():
            index = part["indexes"][table_name]
            assert sorted(index["tablets_order"]) == sorted(int(t) for t in index["tablets"])
            assert isinstance(index["schema_hash"], int)
            for tablet_id, names in index["tablets"].items():
                rel = (
                    f"__ss_content/__db_{info['id']}/__tbl_{table['id']}/__part_{part['id']}"
                    f"/__idx_{index['id']}/__{tablet_id}"
                )
                assert sorted(p.name for p in (ss / rel).iterdir()) == sorted(names)
                assert f"{tablet_id}.hdr" in {MD5_NAME.match(n).group(1) for n in names}  # type: ignore[union-attr]
                assert info["tablet_be_map"][tablet_id] > 0
                listed.update(f"{rel}/{n}" for n in names)
    assert len(info["tablet_be_map"]) == 4  # 2 buckets of t1 + 1 per partition of tp
    files = content_files(location, "full")
    assert {str(p.relative_to(ss)) for p in files} == listed
    for path in files:
        match = MD5_NAME.match(path.name)
        assert match, path
        assert match.group(2) == md5_of(path), path
    assert hdr_rows(location, "full") == 9
    assert parquet_rows(location, "full") == 9

    meta = json.loads(next(ss.glob("__meta.*")).read_bytes())
    assert [t["name"] for t in meta["olap_tables"]] == ["t1", "tp"]
    assert [v["name"] for v in meta["views"]] == ["v1"]

    # SHOW SNAPSHOT: the short form and the one with TIMESTAMP, whose Details is the brief info.
    names, rows = described(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'full'")
    assert names == ["Snapshot", "Timestamp", "Status"]
    assert rows == [("full", ts, "OK")]
    names, rows = described(conn, f"SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'full' AND TIMESTAMP = '{ts}'")
    assert names == ["Snapshot", "Timestamp", "Database", "Details", "Status"]
    assert rows[0][:3] == ("full", ts, "lay") and rows[0][4] == "OK"
    details = json.loads(rows[0][3])
    assert list(details) == [
        "name",
        "database",
        "backup_time",
        "content",
        "olap_table_list",
        "view_list",
        "odbc_table_list",
        "odbc_resource_list",
    ]
    assert details["name"] == "full" and details["database"] == "lay" and details["content"] == "ALL"
    assert {t["name"]: sorted(t["partition_names"]) for t in details["olap_table_list"]} == {
        "t1": ["t1"],
        "tp": ["p1", "p2"],
    }
    assert [v["name"] for v in details["view_list"]] == ["v1"]
    assert "\n" in rows[0][3]  # pretty-printed

    # A timestamp that does not exist is reported in Status, not as an error.
    rows = q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'full' AND TIMESTAMP = '2000-01-01-00-00-00'")
    assert rows[0][:4] == ("full", "2000-01-01-00-00-00", None, None)
    assert rows[0][4].startswith("Failed to get info: ")


def test_show_backup_columns_formats_and_where(conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE shw")
    make_table(conn, "shw", "t", rows=4, buckets=2)
    for label in ("alpha_1", "alpha_2", "beta_1"):
        q(conn, f"BACKUP SNAPSHOT shw.{label} TO r ON (t)")
        finished(conn, "shw", label)
    names, rows = described(conn, "SHOW BACKUP FROM shw")
    assert names == SHOW_BACKUP_COLUMNS
    assert [r[1] for r in rows] == ["alpha_1", "alpha_2", "beta_1"]
    row = rows[0]
    assert row[COL["JobId"]].isdigit()
    assert (row[COL["DbName"]], row[COL["State"]], row[COL["BackupObjs"]]) == ("shw", "FINISHED", "[`shw`.`t`]")
    times = [row[COL[c]] for c in ("CreateTime", "SnapshotFinishedTime", "UploadFinishedTime", "FinishedTime")]
    assert all(TIME.match(t) for t in times), times
    assert times == sorted(times)
    assert (row[COL["UnfinishedTasks"]], row[COL["TaskErrMsg"]]) == ("", "")
    assert (row[COL["Status"]], row[COL["Timeout"]]) == ("[OK]", "86400")

    assert [r[1] for r in q(conn, 'SHOW BACKUP FROM shw WHERE SnapshotName = "alpha_2"')] == ["alpha_2"]
    assert [r[1] for r in q(conn, "SHOW BACKUP FROM shw WHERE snapshotname LIKE 'alpha%'")] == ["alpha_1", "alpha_2"]
    assert [r[1] for r in q(conn, "SHOW BACKUP FROM shw WHERE SnapshotName LIKE '_eta_1'")] == ["beta_1"]
    assert q(conn, "SHOW BACKUP FROM shw WHERE SnapshotName = 'ALPHA_1'") == []  # labels are case-sensitive
    assert doris_err(conn, "SHOW BACKUP FROM shw WHERE Label = 'x'") == (
        'Where clause should like: SnapshotName = "your_snapshot_name",  or SnapshotName LIKE "matcher"'
    )
    assert doris_err(conn, "SHOW BACKUP FROM nodb", code=1049) == "Unknown database 'nodb'"
    assert err(conn, "SHOW BACKUP")[0] == 1046

    # Only the last max_backup_restore_job_num_per_db jobs of a database are kept.
    set_config(conn, "max_backup_restore_job_num_per_db", "2")
    try:
        q(conn, "BACKUP SNAPSHOT shw.gamma TO r ON (t)")
        finished(conn, "shw", "gamma")
        assert [r[1] for r in q(conn, "SHOW BACKUP FROM shw")] == ["beta_1", "gamma"]
    finally:
        set_config(conn, "max_backup_restore_job_num_per_db", "10")


def test_show_snapshot_errors_and_no_info_file(conn: pymysql.connections.Connection, location: Path) -> None:
    where = (
        "Where clause should looks like: SNAPSHOT = 'your_snapshot_name' [AND TIMESTAMP = "
        "'2018-04-18-19-19-10'] [AND SNAPSHOTTYPE = 'remote' | 'local']"
    )
    assert doris_err(conn, "SHOW SNAPSHOT ON r WHERE TIMESTAMP = '2018-04-18-19-19-10'") == where
    assert doris_err(conn, "SHOW SNAPSHOT ON r WHERE NAME = 'x'") == where
    assert doris_err(conn, "SHOW SNAPSHOT ON nosuch") == "Repository nosuch does not exist"

    half = snapshot_dir(location, REPO, "half") / "__ss_content" / "__db_1" / "__tbl_2"
    half.mkdir(parents=True)
    (half / "0_0.dat.0123456789abcdef0123456789abcdef").write_bytes(b"x")
    assert q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'half'") == [("half", None, "ERROR: No info file found")]
    assert ("half", None, "ERROR: No info file found") in q(conn, "SHOW SNAPSHOT ON r")
    q(conn, "CREATE DATABASE IF NOT EXISTS nif")
    assert doris_err(conn, "BACKUP SNAPSHOT nif.half TO r") == "Snapshot with name 'half' already exist in repository"
    assert q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'never'") == []
    # An info file without a checksum in its name is listed as invalid.
    odd = snapshot_dir(location, REPO, "odd")
    odd.mkdir(parents=True)
    (odd / "__info_2020-01-02-03-04-05").write_text("{}")
    assert q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'odd'") == [
        ("odd", "Invalid: __info_2020-01-02-03-04-05", "OK")
    ]
    (odd / "__info_2020-01-02-03-04-05").unlink()


def test_drop_snapshot(conn: pymysql.connections.Connection, location: Path) -> None:
    q(conn, "CREATE DATABASE drp")
    make_table(conn, "drp", "t", rows=2, buckets=1)
    q(conn, "BACKUP SNAPSHOT drp.gone TO r")
    finished(conn, "drp", "gone")
    assert q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'gone'")[0][2] == "OK"
    # Not while a job writes that label, and not in a read-only repository.
    q(conn, f'CREATE READ ONLY REPOSITORY r_ro WITH LOCAL ON LOCATION "file://{location}"')
    assert doris_err(conn, "DROP SNAPSHOT gone FROM r_ro") == "Repository r_ro is read only"
    q(conn, "DROP REPOSITORY r_ro")
    shutil.rmtree(location / "__palo_repository_r_ro")
    pause(conn, "UPLOADING")
    q(conn, "BACKUP SNAPSHOT drp.busy TO r")
    wait_backup(conn, "drp", "busy", ("UPLOADING",))
    assert doris_err(conn, "DROP SNAPSHOT busy FROM r") == "Snapshot busy is used by a running job"
    pause(conn)
    finished(conn, "drp", "busy")

    # A write that a killed server left half done does not keep the snapshot alive.
    tablet_dir = content_files(location, "gone")[0].parent
    (tablet_dir / "0_0.parquet.0123456789abcdef0123456789abcdef.elsewhere-1-abc.dorisbk-tmp").write_bytes(b"x")
    q(conn, "DROP SNAPSHOT gone FROM r")
    assert q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'gone'") == []
    assert not snapshot_dir(location, REPO, "gone").exists()
    assert "gone" in doris_err(conn, "DROP SNAPSHOT gone FROM r")
    assert doris_err(conn, "DROP SNAPSHOT gone FROM nosuch") == "Repository nosuch does not exist"
    # The label can be used again.
    q(conn, "BACKUP SNAPSHOT drp.gone TO r")
    finished(conn, "drp", "gone")


# ---------------------------------------------------------------------------------------------
# skip and copy


def test_second_backup_links_unchanged_files(
    server: DorisbkServer, conn: pymysql.connections.Connection, location: Path
) -> None:
    q(conn, "CREATE DATABASE lnk")
    make_table(conn, "lnk", "t", rows=8, buckets=2)
    q(conn, "BACKUP SNAPSHOT lnk.first TO r")
    finished(conn, "lnk", "first")
    q(conn, "BACKUP SNAPSHOT lnk.second TO r")
    finished(conn, "lnk", "second")
    first, second = snapshot_dir(location, REPO, "first"), snapshot_dir(location, REPO, "second")
    a, b = content_files(location, "first"), content_files(location, "second")
    assert [p.relative_to(first) for p in a] == [p.relative_to(second) for p in b]
    for old, new in zip(a, b, strict=True):
        assert os.stat(old).st_ino == os.stat(new).st_ino, new
        assert os.stat(new).st_nlink >= 2
    totals = upload_totals(server.log(), "second")
    assert (totals["tablets"], totals["uploaded"], totals["bytes"], totals["copied"]) == (2, 0, 0, 4)

    # After a load only the new rowset and the changed headers are sent; old rowsets are linked.
    insert(conn, "lnk.t", range(100, 104))
    q(conn, "BACKUP SNAPSHOT lnk.third TO r")
    finished(conn, "lnk", "third")
    third = snapshot_dir(location, REPO, "third")
    inodes_first = {str(p.relative_to(first)): os.stat(p).st_ino for p in a}
    linked = sent = 0
    for path in content_files(location, "third"):
        rel = str(path.relative_to(third))
        if inodes_first.get(rel) == os.stat(path).st_ino:
            linked += 1
        else:
            sent += 1
    assert linked == 2  # the two original rowsets
    assert sent >= 3  # new rowset(s) and both headers
    assert hdr_rows(location, "third") == parquet_rows(location, "third") == 12


# ---------------------------------------------------------------------------------------------
# jobs: one per database, partitions, metadata only, limits, timeout, loads, cancel


def test_one_job_per_database(conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE one")
    make_table(conn, "one", "t", rows=2, buckets=1)
    q(conn, "CREATE DATABASE two")
    make_table(conn, "two", "t", rows=2, buckets=1)
    q(conn, "BACKUP SNAPSHOT one.one_base TO r")
    finished(conn, "one", "one_base")
    pause(conn, "PENDING")
    q(conn, "BACKUP SNAPSHOT one.a TO r")
    row = wait_backup(conn, "one", "a", ("PENDING",))
    assert row[COL["Progress"]] == "" and row[COL["FinishedTime"]] == "NULL"
    assert doris_err(conn, "BACKUP SNAPSHOT one.b TO r") == (
        "Can only run one backup or restore job of a database at same time"
    )
    # A running backup also blocks a restore into the same database.
    ts = q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'one_base'")[0][1]
    message = doris_err(conn, f'RESTORE SNAPSHOT one.one_base FROM r PROPERTIES ("backup_timestamp" = "{ts}")')
    assert message == "Can only run one backup or restore job of a database at same time"
    q(conn, "BACKUP SNAPSHOT two.c TO r")  # another database is free
    pause(conn)
    finished(conn, "one", "a")
    finished(conn, "two", "c")
    q(conn, "BACKUP SNAPSHOT one.b TO r")
    finished(conn, "one", "b")


def test_exclude_and_metadata_only(conn: pymysql.connections.Connection, location: Path) -> None:
    q(conn, "CREATE DATABASE mo")
    make_table(conn, "mo", "t1", rows=3, buckets=2)
    make_table(conn, "mo", "t2", rows=3, buckets=1)
    q(conn, "BACKUP SNAPSHOT mo.ex TO r EXCLUDE (t2, nosuch)")
    finished(conn, "mo", "ex")
    _, info = info_file(location, REPO, "ex")
    assert list(info["backup_objects"]) == ["t1"]

    q(conn, 'BACKUP SNAPSHOT mo.meta TO r PROPERTIES ("content" = "metadata_only")')
    finished(conn, "mo", "meta")
    ss = snapshot_dir(location, REPO, "meta")
    assert content_files(location, "meta") == []
    assert len(list(ss.glob("__meta.*"))) == 1
    _, info = info_file(location, REPO, "meta")
    assert info["content"] == "METADATA_ONLY"
    assert set(info["backup_objects"]) == {"t1", "t2"}
    for table in info["backup_objects"].values():
        for part in table["partitions"].values():
            for index in part["indexes"].values():
                assert index["tablets"] and all(files == [] for files in index["tablets"].values())
    ts = q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'meta'")[0][1]
    details = json.loads(q(conn, f"SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'meta' AND TIMESTAMP = '{ts}'")[0][3])
    assert details["content"] == "METADATA_ONLY"


def test_max_backup_tablets_per_job(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE lim")
    make_table(conn, "lim", "t", rows=4, buckets=3)
    set_config(conn, "max_backup_tablets_per_job", "2")
    try:
        q(conn, "BACKUP SNAPSHOT lim.big TO r")
        row = wait_backup(conn, "lim", "big", ("FINISHED", "CANCELLED"))
    finally:
        set_config(conn, "max_backup_tablets_per_job", "300000")
    assert row[COL["State"]] == "CANCELLED"
    assert row[COL["Status"]] == (
        "[COMMON_ERROR, msg: the num involved tablets 3 exceeds the limit 2, which might cause the FE OOM, "
        "change config `max_backup_tablets_per_job` to change this limitation]"
    )
    assert be_snapshot_dirs(server.data_dir) == []
    # A metadata-only backup makes no snapshot tasks, so the limit does not apply to it.
    set_config(conn, "max_backup_tablets_per_job", "2")
    try:
        q(conn, 'BACKUP SNAPSHOT lim.meta_only TO r PROPERTIES ("content" = "metadata_only")')
        finished(conn, "lim", "meta_only")
    finally:
        set_config(conn, "max_backup_tablets_per_job", "300000")


def test_objects_dropped_before_the_job_starts(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE drq")
    make_table(conn, "drq", "t", rows=2, buckets=1)
    q(
        conn,
        "CREATE TABLE drq.tp (k INT, v VARCHAR(8)) DUPLICATE KEY(k) PARTITION BY RANGE(k) "
        '(PARTITION p1 VALUES LESS THAN ("10"), PARTITION p2 VALUES LESS THAN ("100")) '
        "DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '1')",
    )
    pause(conn, "PENDING")
    q(conn, "BACKUP SNAPSHOT drq.no_table TO r ON (t)")
    wait_backup(conn, "drq", "no_table", ("PENDING",))
    q(conn, "DROP TABLE drq.t")
    pause(conn)
    row = wait_backup(conn, "drq", "no_table", ("FINISHED", "CANCELLED"))
    assert (row[COL["State"]], row[COL["Status"]]) == (
        "CANCELLED",
        "[NOT_FOUND, msg: no valid tables found for backup]",
    )

    pause(conn, "PENDING")
    q(conn, "BACKUP SNAPSHOT drq.no_part TO r ON (tp PARTITION (p1, p2))")
    wait_backup(conn, "drq", "no_part", ("PENDING",))
    q(conn, "ALTER TABLE drq.tp DROP PARTITION p2")
    pause(conn)
    row = wait_backup(conn, "drq", "no_part", ("FINISHED", "CANCELLED"))
    assert row[COL["Status"]] == "[NOT_FOUND, msg: partition p2 does not exist  in tabletp]"
    assert be_snapshot_dirs(server.data_dir) == []


def test_timeout(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    """``timeout`` has a 600 s floor; the default (backup_job_default_timeout_ms) has none, which
    makes a TIMEOUT reachable in a test: hold the job and let the clock run out."""
    q(conn, "CREATE DATABASE tmo")
    make_table(conn, "tmo", "t", rows=2, buckets=1)
    set_config(conn, "backup_job_default_timeout_ms", "1500")
    pause(conn, "UPLOADING")
    try:
        q(conn, "BACKUP SNAPSHOT tmo.timed TO r")
        row = wait_backup(conn, "tmo", "timed", ("CANCELLED", "FINISHED"), timeout=15)
    finally:
        set_config(conn, "backup_job_default_timeout_ms", "86400000")
    assert row[COL["State"]] == "CANCELLED"
    assert row[COL["Status"]] == "[TIMEOUT, msg: ]"
    assert row[COL["Timeout"]] == "1"
    assert be_snapshot_dirs(server.data_dir) == []
    assert local_job_dirs(server.data_dir) == []


def test_loads_during_uploading_do_not_change_the_backup(conn: pymysql.connections.Connection, location: Path) -> None:
    q(conn, "CREATE DATABASE ld")
    make_table(conn, "ld", "t", rows=10, buckets=2)
    pause(conn, "UPLOADING")
    q(conn, "BACKUP SNAPSHOT ld.during TO r")
    wait_backup(conn, "ld", "during", ("UPLOADING",))
    insert(conn, "ld.t", range(1000, 1005))
    pause(conn)
    finished(conn, "ld", "during")
    assert q(conn, "SELECT count(*) FROM ld.t") == [(15,)]
    assert hdr_rows(location, "during") == 10
    assert parquet_rows(location, "during") == 10
    _, info = info_file(location, REPO, "during")
    versions = {p["version"] for p in info["backup_objects"]["t"]["partitions"].values()}
    assert versions == {2}  # create (1) + the first load (2); the load during UPLOADING made 3


@pytest.mark.parametrize("state", STATES)
def test_cancel_in_each_state(
    server: DorisbkServer, conn: pymysql.connections.Connection, location: Path, state: str
) -> None:
    db = f"cx_{state.lower()}"
    q(conn, f"CREATE DATABASE {db}")
    make_table(conn, db, "t", rows=4, buckets=2)
    pause(conn, state)
    label = f"c_{state.lower()}"
    q(conn, f"BACKUP SNAPSHOT {db}.{label} TO r")
    row = wait_backup(conn, db, label, (state,))
    if state == "UPLOAD_INFO":
        assert local_job_dirs(server.data_dir) != []
    if state in ("SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META"):
        # (held in SNAPSHOTING, the snapshot tasks may still be on their way)
        deadline = time.monotonic() + 10
        while not any(p.endswith(f"/snapshot/{row[0]}") for p in be_snapshot_dirs(server.data_dir)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    q(conn, f"CANCEL BACKUP FROM {db}")
    row = backup_row_of(conn, db, label)
    assert row[COL["State"]] == "CANCELLED"
    assert row[COL["Status"]] == "[COMMON_ERROR, msg: user cancelled]"
    assert TIME.match(row[COL["FinishedTime"]])
    assert be_snapshot_dirs(server.data_dir) == []
    assert local_job_dirs(server.data_dir) == []
    pause(conn)
    # Nothing moves after a cancel, and no info file was written.
    assert backup_row_of(conn, db, label)[COL["State"]] == "CANCELLED"
    assert not list(snapshot_dir(location, REPO, label).glob("__info_*"))
    assert doris_err(conn, f"CANCEL BACKUP FROM {db}") == (
        f"Failed to cancel job: Job with label {label} can not be cancelled. state: CANCELLED"
    )


def backup_row_of(conn: pymysql.connections.Connection, db: str, label: str) -> tuple:
    rows = q(conn, f"SHOW BACKUP FROM {db} WHERE SnapshotName = '{label}'")
    assert len(rows) == 1
    return rows[0]


def test_cancel_while_uploads_run(server: DorisbkServer, conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE cup")
    make_table(conn, "cup", "t", rows=300, buckets=2)
    set_config(conn, "max_upload_speed_kbps", "1")
    set_config(conn, "backup_upload_snapshot_batch_size", "1")  # one upload task per tablet
    try:
        q(conn, "BACKUP SNAPSHOT cup.slow TO r")
        row = wait_backup(conn, "cup", "slow", ("UPLOADING",))
    finally:
        set_config(conn, "backup_upload_snapshot_batch_size", "10")
    assert re.fullmatch(r"\[\d+=\d+\], \[\d+=\d+\]", row[COL["UnfinishedTasks"]]), row
    # each task's files (a tablet's rowset and its header), as a Doris BE reports an upload task's progress
    assert re.fullmatch(r"\[\d+: [01]/2\], \[\d+: [01]/2\]", row[COL["Progress"]]), row
    q(conn, "CANCEL BACKUP FROM cup")
    row = backup_row_of(conn, "cup", "slow")
    assert (row[COL["State"]], row[COL["Status"]]) == ("CANCELLED", "[COMMON_ERROR, msg: user cancelled]")
    assert be_snapshot_dirs(server.data_dir) == []
    # A partial upload (if a file got through before the cancel) lists without info file, never as OK.
    assert q(conn, "SHOW SNAPSHOT ON r WHERE SNAPSHOT = 'slow'") in ([], [("slow", None, "ERROR: No info file found")])


def test_cancel_errors(conn: pymysql.connections.Connection) -> None:
    q(conn, "CREATE DATABASE cerr")
    make_table(conn, "cerr", "t", rows=2, buckets=1)
    assert doris_err(conn, "CANCEL BACKUP FROM cerr") == "No backup job is currently running"
    assert doris_err(conn, "CANCEL BACKUP FROM nodb", code=1049) == "Unknown database 'nodb'"
    assert err(conn, "CANCEL BACKUP")[0] == 1046
    q(conn, "BACKUP SNAPSHOT cerr.done TO r")
    finished(conn, "cerr", "done")
    assert doris_err(conn, "CANCEL BACKUP FROM cerr") == (
        "Failed to cancel job: Job with label done can not be cancelled. state: FINISHED"
    )


def test_tree_has_only_expected_names(location: Path) -> None:
    """Runs last: every file in the repository follows the layout."""
    pattern = re.compile(
        r"^__palo_repository_r/(__repo_info|__ss_[-\w:]+/(__meta\.[0-9a-f]{32}|__info_\d{4}(-\d\d){5}\.[0-9a-f]{32}"
        r"|__ss_content/__db_\d+/__tbl_\d+(/__part_\d+/__idx_\d+/__\d+)?/[^/]+\.[0-9a-f]{32}))$"
    )
    for rel in tree(location):
        assert pattern.match(rel), rel


def test_backup_local_example(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    """examples/backup_local.sql runs as its comments say, against a repository in a temp dir."""
    text = (Path(__file__).resolve().parents[1] / "examples" / "backup_local.sql").read_text()
    assert "file:///tmp/dorisbk-example-repo" in text
    text = text.replace("file:///tmp/dorisbk-example-repo", f"file://{tmp_path}")
    run_script(conn, sql_statements(text), no_wait=("shop_cancelled",))
    labels = {r[1]: r for r in q(conn, "SHOW BACKUP FROM example_shop")}
    assert [labels[x][COL["State"]] for x in ("shop_full", "orders_january", "shop_schema")] == ["FINISHED"] * 3
    assert labels["shop_cancelled"][COL["Status"]] == "[COMMON_ERROR, msg: user cancelled]"
    assert "ADMIN CHECK SNAPSHOT shop_full FROM example_repo" in text
    left = {p.name for p in (tmp_path / "__palo_repository_example_repo").iterdir()}
    assert left - {"__ss_shop_cancelled"} == {"__repo_info", "__ss_orders_january", "__ss_shop_full"}
