"""RESTORE ... PROPERTIES ("dry_run" = "true") against a real server with two backends: the rows say what the
restore would create, replace, drop or keep and what it would download; a failed check is a row with the
message the real restore is cancelled with; and nothing changes (catalog, SHOW RESTORE, repository)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import doris_err, insert, q, snapshot_dir
from tests.sqlhelp import dicts, error, snapshot
from tests.test_restore_support import (
    backup,
    cancelled,
    content_files,
    create_local_repo,
    fast,
    flip_bytes,
    info_of,
    make_range_table,
    make_unique_table,
    restore_rows,
    restore_sql,
)

COLUMNS = ["TableName", "PartitionName", "Action", "Files", "Bytes", "Conflict"]
REPO = "dry"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    srv = DorisbkServer(tmp_path_factory.mktemp("dry") / "data", backends=2).start()
    conn = srv.connect()
    fast(conn)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", range(30))
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01')")
    q(conn, "CREATE VIEW src.v AS SELECT k FROM src.t WHERE k > 5")
    location = tmp_path_factory.mktemp("repo")
    create_local_repo(conn, REPO, location)
    ts = backup(conn, "src", "snap", REPO)
    yield {"srv": srv, "conn": conn, "location": location, "ts": ts}
    conn.close()
    srv.stop()


_dbs = itertools.count()


def new_db(conn: pymysql.connections.Connection) -> str:
    db = f"d{next(_dbs)}"
    q(conn, f"CREATE DATABASE {db}")
    return db


def dry_run(env: dict, db: str, on: str = "", props: str = '"replication_num" = "1"') -> list[dict[str, Any]]:
    extra = f"{props}, " if props else ""
    found = dicts(env["conn"], restore_sql(db, "snap", REPO, env["ts"], on, f'{extra}"dry_run" = "true"'))
    assert found and list(found[0]) == COLUMNS
    return found


def actions(found: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [(r["TableName"], r["PartitionName"], r["Action"]) for r in found]


def repository_state(location: Path) -> dict[str, str]:
    return {str(p.relative_to(location)): hashlib.md5(p.read_bytes()).hexdigest() for p in location.rglob("*")
            if p.is_file()}  # fmt: skip


def everything(env: dict) -> tuple:
    """What a dry run must leave as it was: the catalog and data, every database's restore jobs, the repository."""
    dbs = [r[0] for r in q(env["conn"], "SHOW DATABASES") if r[0] not in ("information_schema", "mysql")]
    jobs = {db: restore_rows(env["conn"], db) for db in dbs}
    return snapshot(env["srv"]), jobs, repository_state(env["location"])


def snapshot_files(env: dict) -> dict[tuple[str, str], tuple[int, int]]:
    """(files, bytes) of each (table, partition) of the snapshot, from its info file and the repository."""
    info = info_of(env["location"], REPO, "snap")
    sizes = {p.name: p.stat().st_size for p in content_files(env["location"], REPO, "snap")}
    found = {}
    for table, obj in info["backup_objects"].items():
        for name, part in obj["partitions"].items():
            files = [f for index in part["indexes"].values() for names in index["tablets"].values() for f in names]
            found[(table, name)] = (len(files), sum(sizes[f] for f in files))
    return found


def test_dry_run_into_a_new_database(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    before = everything(env)
    found = dry_run(env, db, props='"replication_num" = "2"')
    assert actions(found) == [
        ("t", "p1", "CREATE"),
        ("t", "p2", "CREATE"),
        ("t", "p3", "CREATE"),
        ("u", "u", "CREATE"),
        ("v", None, "CREATE"),
    ]
    expected = snapshot_files(env)
    for row in found[:4]:
        files, size = expected[(row["TableName"], row["PartitionName"])]
        # two replicas: each downloads the files
        assert (row["Files"], row["Bytes"], row["Conflict"]) == (str(2 * files), str(2 * size), None)
    assert (found[4]["Files"], found[4]["Bytes"]) == ("0", "0")
    assert everything(env) == before
    assert q(conn, f"SHOW TABLES FROM {db}") == []
    assert restore_rows(conn, db) == []


def target_db(conn: pymysql.connections.Connection) -> str:
    """t with the snapshot's schema, other rows and a local-only partition p4; a table the snapshot lacks."""
    db = new_db(conn)
    make_range_table(conn, f"{db}.t")
    insert(conn, f"{db}.t", [7, 17, 27])
    q(conn, f"ALTER TABLE {db}.t ADD PARTITION p4 VALUES LESS THAN (40)")
    insert(conn, f"{db}.t", [31])
    make_unique_table(conn, f"{db}.extra")
    return db


def test_dry_run_into_existing_tables(env: dict) -> None:
    conn = env["conn"]
    db = target_db(conn)
    before = everything(env)
    found = dry_run(env, db)
    assert actions(found) == [
        ("t", "p1", "REPLACE"),
        ("t", "p2", "REPLACE"),
        ("t", "p3", "REPLACE"),
        ("t", "p4", "KEEP"),
        ("u", "u", "CREATE"),
        ("v", None, "CREATE"),
    ]
    assert [r["Conflict"] for r in found] == [None] * 6
    expected = snapshot_files(env)
    assert (found[0]["Files"], found[0]["Bytes"]) == tuple(str(n) for n in expected[("t", "p1")])
    assert (found[3]["Files"], found[3]["Bytes"]) == ("0", "0")

    cleaning = dry_run(env, db, props='"replication_num" = "1", "clean_tables" = "true", "clean_partitions" = "true"')
    assert actions(cleaning) == [
        ("t", "p1", "REPLACE"),
        ("t", "p2", "REPLACE"),
        ("t", "p3", "REPLACE"),
        ("t", "p4", "DROP"),
        ("u", "u", "CREATE"),
        ("v", None, "CREATE"),
        ("extra", None, "DROP"),
    ]
    # only the tables ON names are restored: clean_tables drops every other one
    only_t = dry_run(env, db, on="ON (t PARTITION (p2))", props='"replication_num" = "1", "clean_tables" = "true"')
    assert actions(only_t) == [
        ("t", "p2", "REPLACE"),
        ("t", "p1", "KEEP"),
        ("t", "p3", "KEEP"),
        ("t", "p4", "KEEP"),
        ("extra", None, "DROP"),
    ]
    atomic = dry_run(env, db, on="ON (t)", props='"replication_num" = "1", "atomic_restore" = "true"')
    assert actions(atomic) == [("t", "p1", "REPLACE"), ("t", "p2", "REPLACE"), ("t", "p3", "REPLACE"),
                               ("t", "p4", "DROP")]  # fmt: skip
    aliased = dry_run(env, db, on="ON (t AS t_copy)")
    assert actions(aliased) == [("t_copy", "p1", "CREATE"), ("t_copy", "p2", "CREATE"), ("t_copy", "p3", "CREATE")]
    assert everything(env) == before
    assert restore_rows(conn, db) == []


def test_conflicts_are_rows_with_the_restores_message(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {db}.t (k INT, v VARCHAR(32), extra INT) DUPLICATE KEY(k) PARTITION BY RANGE(k) ("
        "PARTITION p1 VALUES LESS THAN (10)) DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    q(conn, f"CREATE VIEW {db}.v AS SELECT 1 AS k")
    before = everything(env)
    found = dry_run(env, db)
    assert actions(found) == [("t", None, "REPLACE"), ("u", "u", "CREATE"), ("v", None, "REPLACE")]
    (conflict, created, view) = found
    assert conflict["Conflict"] == "Table t already exist but with different schema"
    assert (conflict["Files"], conflict["Bytes"]) == (None, None)
    assert created["Conflict"] is None and int(created["Files"]) > 0
    assert view["Conflict"] == "View v already exist but with different schema"
    assert everything(env) == before
    # the restore itself stops at the first of them, with the same message
    q(conn, restore_sql(db, "snap", REPO, env["ts"]))
    cancelled(conn, db, "[COMMON_ERROR, msg: Table t already exist but with different schema]")


def test_partition_conflict(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(
        conn,
        f"CREATE TABLE {db}.t (k INT, v VARCHAR(32)) DUPLICATE KEY(k) PARTITION BY RANGE(k) ("
        "PARTITION p1 VALUES LESS THAN (10), PARTITION p2 VALUES LESS THAN (15)) "
        "DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ('replication_num' = '1')",
    )
    message = "Partition p2 in table t has different partition item with partition in repository"
    found = dry_run(env, db, on="ON (t)")
    assert [(r["TableName"], r["PartitionName"], r["Action"], r["Conflict"]) for r in found] == [
        ("t", None, "REPLACE", message)
    ]
    q(conn, restore_sql(db, "snap", REPO, env["ts"], "ON (t)"))
    cancelled(conn, db, f"[COMMON_ERROR, msg: {message}]")


def test_statement_errors_stay_errors(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    bad = restore_sql(db, "snap", REPO, env["ts"], props='"dry_run" = "maybe"')
    assert doris_err(conn, bad) == "Invalid boolean property dry_run value: maybe"
    no_ts = restore_sql(db, "snap", REPO, env["ts"], props='"dry_run" = "true"', with_ts=False)
    assert doris_err(conn, no_ts) == "Missing backup_timestamp property"
    missing = restore_sql(db, "snap", REPO, env["ts"], on="ON (nope)", props='"dry_run" = "true"')
    assert doris_err(conn, missing) == "Table nope does not exist in snapshot snap"
    # "false" is an ordinary restore
    q(conn, restore_sql(db, "snap", REPO, env["ts"], on="ON (u)", props='"replication_num" = "1", "dry_run" = "false"'))
    assert restore_rows(conn, db)


def test_non_admin_is_refused(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(conn, "CREATE USER 'dreamer'@'%' IDENTIFIED BY 'pw'")
    q(conn, "GRANT SELECT_PRIV, LOAD_PRIV ON *.* TO 'dreamer'@'%'")
    with env["srv"].connect(user="dreamer", password="pw") as user_conn:
        code, message = error(user_conn, restore_sql(db, "snap", REPO, env["ts"], props='"dry_run" = "true"'))
        assert code == 1227 and "ADMIN" in message, (code, message)
        assert q(user_conn, "SELECT 1") == [(1,)]


def test_replication_conflict(env: dict) -> None:
    conn = env["conn"]
    db = target_db(conn)
    found = dry_run(env, db, on="ON (t)", props='"replication_num" = "2"')
    message = "Partition p1 in table t has different replication num '1' with partition in repository, which is 2"
    assert [(r["TableName"], r["PartitionName"], r["Action"], r["Conflict"]) for r in found] == [
        ("t", None, "REPLACE", message)
    ]
    q(conn, restore_sql(db, "snap", REPO, env["ts"], "ON (t)", '"replication_num" = "2"'))
    cancelled(conn, db, f"[COMMON_ERROR, msg: {message}]")


def test_unreadable_snapshot_meta_is_one_row(env: dict, tmp_path: Path) -> None:
    conn = env["conn"]
    create_local_repo(conn, "dry_bad", tmp_path)
    ts = backup(conn, "src", "snap", "dry_bad")
    (meta,) = snapshot_dir(tmp_path, "dry_bad", "snap").glob("__meta.*")
    flip_bytes(meta, offset=3)
    db = new_db(conn)
    sql = restore_sql(db, "snap", "dry_bad", ts, props='"replication_num" = "1", "dry_run" = "true"')
    (row,) = dicts(conn, sql)
    assert [row[c] for c in COLUMNS[:-1]] == [None] * 5
    assert row["Conflict"].startswith("md5sum does not equal for "), row
    assert meta.name in row["Conflict"]
    assert restore_rows(conn, db) == []


def test_tampered_file_name_is_a_conflict(env: dict, tmp_path: Path) -> None:
    conn = env["conn"]
    create_local_repo(conn, "dry_names", tmp_path)
    ts = backup(conn, "src", "snap", "dry_names")
    victim = next(
        p for p in content_files(tmp_path, "dry_names", "snap") if "__tbl_" in str(p) and ".hdr." not in p.name
    )
    table = next(t for t, obj in info_of(tmp_path, "dry_names", "snap")["backup_objects"].items()
                 if f"__tbl_{obj['id']}/" in str(victim))  # fmt: skip
    planted = f"../../../../etc/passwd.{'0' * 32}"
    (info_file,) = snapshot_dir(tmp_path, "dry_names", "snap").glob("__info_*")
    text = info_file.read_text().replace(victim.name, planted)
    info_file.unlink()
    info_file.with_name(f"{info_file.name.rpartition('.')[0]}.{hashlib.md5(text.encode()).hexdigest()}").write_text(
        text
    )
    db = new_db(conn)
    sql = restore_sql(db, "snap", "dry_names", ts, props='"replication_num" = "1", "dry_run" = "true"')
    (conflict,) = [r for r in dicts(conn, sql) if r["Conflict"] is not None]
    assert (conflict["TableName"], conflict["PartitionName"], conflict["Action"]) == (table, None, "CREATE")
    assert conflict["Conflict"] == f"invalid file name in repository: {planted!r}"
    q(conn, restore_sql(db, "snap", "dry_names", ts))
    cancelled(conn, db, f"[BAD_FILE, msg: {conflict['Conflict']}]")
