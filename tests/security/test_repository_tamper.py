"""A tampered repository never reaches outside its root or the data dir (issue 10).

Names read from a repository (tablet headers, info files, listings) are data: a name that is
a path ends the RESTORE CANCELLED with a clear Status and the file it names survives.
Repository code follows no symbolic link, and a LOCAL repository may not sit on ``/``, on
the server's data dir or on another repository. After every attack the server answers and
the existing tables hold their rows.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import doris_err, insert, q, snapshot_dir
from tests.test_backup_support import COL, wait_backup
from tests.test_restore_support import (
    backup,
    cancelled,
    content_files,
    create_local_repo,
    fast,
    finished,
    make_range_table,
    restore_sql,
    rows_of,
    tables,
)

_counter = itertools.count()


@pytest.fixture(scope="module")
def env(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    conn = server.connect()
    fast(conn)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", [1, 2, 11, 21])
    yield {
        "conn": conn,
        "srv": server,
        "location": tmp_path_factory.mktemp("repos"),
        "victims": tmp_path_factory.mktemp("victims"),
        "rows": rows_of(conn, "src.t"),
    }
    conn.close()


@pytest.fixture(autouse=True)
def server_intact(env: dict) -> Iterator[None]:
    """After each attack the server still answers and the existing table still has its rows."""
    yield
    conn = env["conn"]
    assert q(conn, "SELECT 1") == [(1,)]
    assert rows_of(conn, "src.t") == env["rows"]
    insert(conn, "src.t", [3])  # still writable: no job left it locked
    q(conn, "DELETE FROM src.t WHERE k = 3")
    assert rows_of(conn, "src.t") == env["rows"]


# ---- helpers
def victim_file(env: dict) -> Path:
    """A file outside the data dir and the repositories that no statement may touch."""
    path = env["victims"] / f"victim{next(_counter)}.txt"
    path.write_text("precious")
    return path


def fresh_snapshot(env: dict) -> tuple[str, str]:
    """A snapshot of src.t in a repository of its own; returns (repository, timestamp)."""
    repo = f"r{next(_counter)}"
    create_local_repo(env["conn"], repo, env["location"] / repo)
    return repo, backup(env["conn"], "src", "snap", repo, "ON (t)")


def new_db(conn: pymysql.connections.Connection) -> str:
    db = f"x{next(_counter)}"
    q(conn, f"CREATE DATABASE {db}")
    return db


def restore_cancelled(env: dict, repo: str, ts: str, *fragments: str) -> str:
    """Restore the snapshot into a new database; it must end CANCELLED with nothing restored."""
    conn = env["conn"]
    db = new_db(conn)
    q(conn, restore_sql(db, "snap", repo, ts))
    status = cancelled(conn, db, *fragments)
    assert tables(conn, db) == []
    return status


def rewrite_checksummed(path: Path, data: bytes) -> Path:
    """Replace a ``<name>.<md5>`` file by ``data`` under the name its new checksum gives."""
    base = path.name.rpartition(".")[0]
    new = path.with_name(f"{base}.{hashlib.md5(data).hexdigest()}")
    path.unlink()
    new.write_bytes(data)
    return new


def info_file(location: Path, repo: str) -> Path:
    (found,) = snapshot_dir(location, repo, "snap").glob("__info_*")
    return found


def edit_info(location: Path, repo: str, edit: dict) -> None:
    """Apply ``edit`` (old name -> new name) to every tablet file list of the info file."""
    path = info_file(location, repo)
    info = json.loads(path.read_bytes())
    for table in info["backup_objects"].values():
        for part in table["partitions"].values():
            for index in part["indexes"].values():
                for tablet, names in index["tablets"].items():
                    index["tablets"][tablet] = [edit.get(n, n) for n in names]
    rewrite_checksummed(path, json.dumps(info).encode())


def tamper_header(env: dict, repo: str, rowset_file: str) -> None:
    """Make the first tablet header with rowsets name ``rowset_file`` as its first rowset."""
    location = env["location"] / repo
    header = next(
        p for p in content_files(location, repo, "snap") if ".hdr." in p.name and json.loads(p.read_bytes())["rowsets"]
    )
    body = json.loads(header.read_bytes())
    body["rowsets"][0]["file"] = rowset_file
    new = rewrite_checksummed(header, json.dumps(body).encode())
    edit_info(location, repo, {header.name: new.name})


def tablet_depth_path(env: dict, target: Path) -> str:
    """``target`` relative to a tablet dir of the server (``<data>/be/be1/data/<tablet>``)."""
    return os.path.relpath(target, env["srv"].data_dir / "be" / "be1" / "data" / "0")


# ---- names read from the repository
@pytest.mark.parametrize("form", ["absolute", "relative"])
def test_header_rowset_name_outside_the_tablet_dir(env: dict, form: str) -> None:
    victim = victim_file(env)
    name = str(victim) if form == "absolute" else tablet_depth_path(env, victim)
    repo, ts = fresh_snapshot(env)
    tamper_header(env, repo, name)
    status = restore_cancelled(env, repo, ts, "[BAD_FILE, msg: ", "invalid file name")
    assert name in status
    assert victim.read_text() == "precious"


def test_info_file_name_outside_the_tablet_dir(env: dict) -> None:
    victim = victim_file(env)
    repo, ts = fresh_snapshot(env)
    header = next(p for p in content_files(env["location"] / repo, repo, "snap") if ".hdr." in p.name)
    evil = f"{tablet_depth_path(env, victim)}.{hashlib.md5(victim.read_bytes()).hexdigest()}"
    edit_info(env["location"] / repo, repo, {header.name: evil})
    status = restore_cancelled(env, repo, ts, "[BAD_FILE, msg: ", "invalid file name")
    assert evil in status
    assert victim.read_text() == "precious"


def test_info_ids_must_be_integers(env: dict) -> None:
    repo, ts = fresh_snapshot(env)
    path = info_file(env["location"] / repo, repo)
    info = json.loads(path.read_bytes())
    info["id"] = "../../../.."
    rewrite_checksummed(path, json.dumps(info).encode())
    restore_cancelled(env, repo, ts, "[BAD_FILE, msg: ", "invalid id", "../../../..")


@pytest.mark.parametrize(
    "edit",
    [
        {"backup_objects": []},
        {"backup_objects": {"t": 5}},
        {"new_backup_objects": "views"},
        {"backup_time": "yesterday"},
        {"backup_objects": {"t": {"partitions": {"p1": {"indexes": {"i": {"tablets": {"1": "x"}}}}}}}},
    ],
)
def test_info_of_the_wrong_shape_is_refused_cleanly(env: dict, edit: dict) -> None:
    """An info file whose values are of the wrong types: RESTORE and SHOW SNAPSHOT say so, nothing crashes and
    nothing is restored."""
    repo, ts = fresh_snapshot(env)
    path = info_file(env["location"] / repo, repo)
    rewrite_checksummed(path, json.dumps({**json.loads(path.read_bytes()), **edit}).encode())
    conn = env["conn"]
    db = new_db(conn)
    with pytest.raises(pymysql.err.MySQLError) as refused:
        q(conn, restore_sql(db, "snap", repo, ts))
    assert refused.value.args[0] == 1105
    assert "the info file is malformed" in refused.value.args[1], refused.value.args
    assert tables(conn, db) == []
    shown = q(conn, f"SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = 'snap' AND TIMESTAMP = '{ts}'")
    assert shown[0][-1].startswith("Failed to get info: the info file is malformed"), shown


# ---- symbolic links in a LOCAL repository
def test_drop_snapshot_of_a_symlinked_label_dir(env: dict) -> None:
    conn = env["conn"]
    repo, _ts = fresh_snapshot(env)
    target = env["victims"] / f"dir{next(_counter)}"
    target.mkdir()
    (target / "__meta.0123456789abcdef0123456789abcdef").write_text("precious")
    (target / "other").write_text("precious")
    (snapshot_dir(env["location"] / repo, repo, "evil")).symlink_to(target, target_is_directory=True)
    message = doris_err(conn, f"DROP SNAPSHOT evil FROM {repo}")
    assert message.startswith("Failed to drop snapshot evil: ") and "symbolic link" in message, message
    assert sorted(p.name for p in target.iterdir()) == ["__meta.0123456789abcdef0123456789abcdef", "other"]
    # the real snapshot next to it is unaffected and can still be dropped
    q(conn, f"DROP SNAPSHOT snap FROM {repo}")
    assert not snapshot_dir(env["location"] / repo, repo, "snap").exists()


def test_backup_into_a_symlinked_label_dir(env: dict) -> None:
    conn = env["conn"]
    repo = f"r{next(_counter)}"
    create_local_repo(conn, repo, env["location"] / repo)
    target = env["victims"] / f"dir{next(_counter)}"
    target.mkdir()
    snapshot_dir(env["location"] / repo, repo, "evil").symlink_to(target, target_is_directory=True)
    q(conn, f"BACKUP SNAPSHOT src.evil TO {repo} ON (t)")
    row = wait_backup(conn, "src", "evil", ("FINISHED", "CANCELLED"))
    assert row[COL["State"]] == "CANCELLED", row
    assert "symbolic link" in row[COL["Status"]], row
    assert list(target.iterdir()) == []


def test_restore_through_a_symlinked_tablet_dir(env: dict) -> None:
    """A tablet dir replaced by a link to a copy elsewhere: the restore does not read through it."""
    repo, ts = fresh_snapshot(env)
    tablet = next(p for p in content_files(env["location"] / repo, repo, "snap") if ".hdr." in p.name).parent
    copy = env["victims"] / f"tablet{next(_counter)}"
    tablet.rename(copy)
    tablet.symlink_to(copy, target_is_directory=True)
    restore_cancelled(env, repo, ts, "symbolic link")
    assert copy.is_dir() and any(copy.iterdir())


def test_restore_through_a_symlinked_meta_file(env: dict) -> None:
    """A snapshot file replaced by a link to a copy elsewhere (as if to a file of the host): not read."""
    repo, ts = fresh_snapshot(env)
    (meta,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__meta.*")
    copy = env["victims"] / f"meta{next(_counter)}"
    meta.rename(copy)
    meta.symlink_to(copy)
    restore_cancelled(env, repo, ts, "symbolic link", meta.name)
    assert copy.is_file()


def test_create_repository_on_a_symlinked_repository_dir(env: dict) -> None:
    conn = env["conn"]
    target = env["victims"] / f"dir{next(_counter)}"
    target.mkdir()
    location = env["location"] / f"l{next(_counter)}"
    location.mkdir()
    (location / "__palo_repository_rlink").symlink_to(target, target_is_directory=True)
    message = doris_err(conn, f'CREATE REPOSITORY rlink WITH LOCAL ON LOCATION "file://{location}"')
    assert message.startswith("Failed to create repository: ") and "symbolic link" in message, message
    assert list(target.iterdir()) == []
    assert "rlink" not in {r[1] for r in q(conn, "SHOW REPOSITORIES")}


# ---- where a LOCAL repository may live
def refused_location(conn: pymysql.connections.Connection, location: str, *fragments: str) -> None:
    name = f"bad{next(_counter)}"
    message = doris_err(conn, f'CREATE REPOSITORY {name} WITH LOCAL ON LOCATION "{location}"')
    assert message.startswith(f"Invalid location '{location}' for LOCAL repository: "), message
    for fragment in fragments:
        assert fragment in message, message
    assert name not in {r[1] for r in q(conn, "SHOW REPOSITORIES")}


@pytest.mark.parametrize("location", ["file:///", "file://localhost/", "file:///tmp/../"])
def test_location_at_the_root_is_refused(env: dict, location: str) -> None:
    refused_location(env["conn"], location, "root directory")


@pytest.mark.parametrize("where", ["data dir", "tablet dir", "below the data dir", "above the data dir"])
def test_location_overlapping_the_data_dir_is_refused(env: dict, where: str) -> None:
    data = env["srv"].data_dir
    tablet = next(data.glob("be/be*/data/*"))
    path = {
        "data dir": data,
        "tablet dir": tablet,
        "below the data dir": data / "be" / "new",
        "above the data dir": data.parent,
    }[where]
    refused_location(env["conn"], f"file://{path}", "data dir")
    assert not list(data.rglob("__palo_repository_*"))
    assert not list(data.parent.glob("__palo_repository_*"))


def test_location_reaching_the_data_dir_through_a_link_is_refused(env: dict) -> None:
    link = env["victims"] / f"link{next(_counter)}"
    link.symlink_to(env["srv"].data_dir, target_is_directory=True)
    refused_location(env["conn"], f"file://{link}/be", "data dir")


def test_location_overlapping_another_repository_is_refused(env: dict) -> None:
    conn = env["conn"]
    base = env["location"] / f"nest{next(_counter)}"
    outer = f"o{next(_counter)}"
    create_local_repo(conn, outer, base)
    # inside the other repository's directory, or at it
    refused_location(conn, f"file://{base}/__palo_repository_{outer}/__ss_x", f"repository {outer}")
    refused_location(conn, f"file://{base}/__palo_repository_{outer}", f"repository {outer}")
    # a repository whose directory would hold the other one's location
    inner = f"i{next(_counter)}"
    create_local_repo(conn, inner, base / "__palo_repository_later" / "sub")
    message = doris_err(conn, f'CREATE REPOSITORY later WITH LOCAL ON LOCATION "file://{base}"')
    assert f"repository {inner}" in message, message
    # another name on the same location is another repository, as in Doris
    create_local_repo(conn, f"s{next(_counter)}", base)


def test_refusals_leave_working_repositories(env: dict) -> None:
    """A repository at a proper place still backs up and restores after all of the above."""
    conn = env["conn"]
    repo, ts = fresh_snapshot(env)
    db = new_db(conn)
    q(conn, restore_sql(db, "snap", repo, ts))
    finished(conn, db)
    assert rows_of(conn, f"{db}.t") == env["rows"]


@pytest.mark.parametrize(
    ("column", "edit", "said"),
    [
        (1, {"name": "v'); SELECT read_text('/etc/passwd') --"}, "Incorrect column name"),
        (1, {"type": {"name": "DECIMAL", "precision": "10, 2) , x VARCHAR(1", "scale": 2}}, "invalid column type"),
        (0, {"type": {"name": "INT); DROP TABLE t; --"}}, "invalid column type"),
    ],
)
def test_meta_columns_are_checked_before_they_become_a_table(env: dict, column: int, edit: dict, said: str) -> None:
    """A column of the snapshot's ``__meta`` is data: a name or a type that no CREATE TABLE could have made ends
    the restore as a tampered file (BAD_FILE) before any table is created."""
    repo, ts = fresh_snapshot(env)
    (meta,) = snapshot_dir(env["location"] / repo, repo, "snap").glob("__meta.*")
    body = json.loads(meta.read_bytes())
    (table,) = [t for t in body["olap_tables"] if t["name"] == "t"]
    target = table["columns"][column]
    target.update({k: ({**target[k], **v} if isinstance(v, dict) else v) for k, v in edit.items()})
    rewrite_checksummed(meta, json.dumps(body).encode())
    restore_cancelled(env, repo, ts, "[BAD_FILE, msg: ", "snapshot's meta", said)
