"""A damaged repository: corrupted or missing snapshot files fail the restore with a Status naming
the file, and nothing of the restore becomes visible."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    doris_err,
    insert,
    md5_of,
    q,
    snapshot_dir,
)
from tests.test_restore_support import (
    backup,
    cancelled,
    content_files,
    create_local_repo,
    fast,
    finished,
    flip_bytes,
    job_snapshot_dirs,
    make_range_table,
    make_unique_table,
    partitions,
    restore_row,
    restore_sql,
    rows_of,
    tables,
)


@pytest.fixture(scope="module")
def env(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    conn = server.connect()
    fast(conn)
    location = tmp_path_factory.mktemp("repos")
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", [1, 2, 11, 21])
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01')")
    yield {"conn": conn, "location": location, "srv": server, "t": rows_of(conn, "src.t")}
    conn.close()


_counter = itertools.count()


def fresh_snapshot(env: dict) -> tuple[str, str]:
    """A new snapshot of src, in a repository of its own; returns (repository, timestamp).

    Each test damages its snapshot; a repository per test keeps later backups from copying
    (or hard-linking) unchanged files from a damaged earlier snapshot.
    """
    n = next(_counter)
    repo = f"r{n}"
    create_local_repo(env["conn"], repo, env["location"] / repo)
    return repo, backup(env["conn"], "src", "snap", repo)


def target_db(conn: pymysql.connections.Connection) -> str:
    """A database with t holding other rows, so a restore would overwrite its partitions."""
    db = f"x{next(_counter)}"
    q(conn, f"CREATE DATABASE {db}")
    make_range_table(conn, f"{db}.t")
    insert(conn, f"{db}.t", [5, 15, 25])
    return db


def state_of(conn: pymysql.connections.Connection, db: str) -> tuple:
    return (
        tables(conn, db),
        rows_of(conn, f"{db}.t"),
        {n: (p["PartitionId"], p["VisibleVersion"]) for n, p in partitions(conn, f"{db}.t").items()},
    )


def rowset_files(env: dict, repo: str) -> list[Path]:
    """The snapshot's data files (not the tablet headers), largest first."""
    files = [p for p in content_files(env["location"] / repo, repo, "snap") if ".hdr." not in p.name]
    return sorted(files, key=lambda p: -p.stat().st_size)


def check_nothing_visible(env: dict, db: str, before: tuple, job_id: str) -> None:
    conn = env["conn"]
    assert state_of(conn, db) == before
    assert not [p for p in job_snapshot_dirs(env["srv"].data_dir) if p.name == job_id]
    insert(conn, f"{db}.t", [6])  # NORMAL again


def test_corrupted_rowset_file(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    victim = rowset_files(env, repo)[0]
    original = victim.read_bytes()
    name_md5 = victim.name.rpartition(".")[2]
    flip_bytes(victim, offset=len(original) // 2)
    db = target_db(conn)
    before = state_of(conn, db)
    q(conn, restore_sql(db, "snap", repo, ts))  # t exists, u is new
    status = cancelled(
        conn,
        db,
        "[BAD_FILE, msg: invalid md5 of downloaded file: ",
        victim.name,
        f"expected: {name_md5}, get: {md5_of(victim)}",
    )
    assert "__ss_snap/__ss_content/" in status
    row = restore_row(conn, db)
    assert victim.name in row["TaskErrMsg"]
    check_nothing_visible(env, db, before, row["JobId"])
    # into a new database: no table appears
    other = f"y{next(_counter)}"
    q(conn, f"CREATE DATABASE {other}")
    q(conn, restore_sql(other, "snap", repo, ts))
    cancelled(conn, other, "invalid md5 of downloaded file", victim.name)
    assert tables(conn, other) == []
    # repaired, the same snapshot restores fine
    victim.unlink()
    victim.write_bytes(original)
    q(conn, restore_sql(other, "snap", repo, ts))
    finished(conn, other)
    assert rows_of(conn, f"{other}.t") == env["t"]


def test_corrupted_tablet_header(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    header = next(p for p in content_files(env["location"] / repo, repo, "snap") if ".hdr." in p.name)
    flip_bytes(header, offset=2)
    db = target_db(conn)
    before = state_of(conn, db)
    q(conn, restore_sql(db, "snap", repo, ts, "ON (t)"))
    cancelled(conn, db, "[BAD_FILE, ", "invalid md5 of downloaded file", header.name)
    check_nothing_visible(env, db, before, restore_row(conn, db)["JobId"])


def test_missing_rowset_file(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    victim = rowset_files(env, repo)[-1]
    victim.unlink()
    db = target_db(conn)
    before = state_of(conn, db)
    q(conn, restore_sql(db, "snap", repo, ts, "ON (t)"))
    status = cancelled(conn, db, "[NOT_FOUND, msg: File does not exist: ", victim.name)
    assert "__ss_snap/__ss_content/" in status
    check_nothing_visible(env, db, before, restore_row(conn, db)["JobId"])


def test_missing_tablet_dir(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    tablet = rowset_files(env, repo)[0].parent
    for p in tablet.iterdir():
        p.unlink()
    tablet.rmdir()
    db = target_db(conn)
    before = state_of(conn, db)
    q(conn, restore_sql(db, "snap", repo, ts))
    cancelled(conn, db, "[NOT_FOUND, msg: File does not exist: ", tablet.name)
    check_nothing_visible(env, db, before, restore_row(conn, db)["JobId"])


def test_corrupted_meta_file(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    (meta,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__meta.*")
    flip_bytes(meta, offset=3)
    db = target_db(conn)
    before = state_of(conn, db)
    q(conn, restore_sql(db, "snap", repo, ts))
    cancelled(conn, db, "[BAD_FILE, ", "md5sum does not equal", meta.name)
    check_nothing_visible(env, db, before, restore_row(conn, db)["JobId"])


def test_missing_meta_file(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    (meta,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__meta.*")
    meta.unlink()
    db = target_db(conn)
    before = state_of(conn, db)
    q(conn, restore_sql(db, "snap", repo, ts))
    cancelled(conn, db, "[NOT_FOUND, ", "__meta")
    check_nothing_visible(env, db, before, restore_row(conn, db)["JobId"])


def test_corrupted_info_file(env: dict) -> None:
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    (info,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__info_*")
    flip_bytes(info, offset=3)
    db = target_db(conn)
    message = doris_err(conn, restore_sql(db, "snap", repo, ts))
    assert message.startswith("Failed to get info of snapshot 'snap' because: md5sum does not equal")
    assert info.name in message
    assert restore_row(conn, db) is None
