"""kill -9 of the server with a backup job held in each state, then a restart.

The job resumes from its last persisted state and finishes; the repository never lists
the snapshot as OK before it is complete, and an upload that is redone skips the files
the repository already has.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from dorisbk.checksum import md5_file
from dorisbk.storage.layout import split_checksum
from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    edit_jobs,
    md5_of,
    pause,
    q,
    restart,
    snapshot_dir,
)
from tests.test_backup_support import (
    COL,
    STATES,
    backup_row,
    be_snapshot_dirs,
    info_file,
    local_job_dirs,
    make_table,
    upload_totals,
    wait_backup,
)

REPO = "kr"
TMP = ".dorisbk-tmp"


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repo")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory, location: Path) -> Iterator[DorisbkServer]:
    server = DorisbkServer(tmp_path_factory.mktemp("kill") / "data", backends=2).start()
    with server.connect() as conn:
        q(conn, f'CREATE REPOSITORY {REPO} WITH LOCAL ON LOCATION "file://{location}"')
    yield server
    server.stop()


def content(location: Path, label: str) -> dict[str, Path]:
    root = snapshot_dir(location, REPO, label) / "__ss_content"
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def sent_whole(rel: str, path: Path) -> bool:
    """Whether a file in the snapshot's content is whole: not a temporary file, and its bytes match the md5 in
    its checksummed name."""
    parsed = None if rel.endswith(TMP) else split_checksum(path.name)
    return parsed is not None and parsed[1] == md5_file(path)


def snapshot_status(conn: pymysql.connections.Connection, label: str) -> str | None:
    rows = q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = '{label}'")
    return rows[0][2] if rows else None


def backup_new_db(conn: pymysql.connections.Connection, db: str, label: str, rows: int, held: str = "") -> None:
    """A new database with a table ``t`` of ``rows`` rows, and its BACKUP started (held in state ``held``)."""
    q(conn, f"CREATE DATABASE {db}")
    make_table(conn, db, "t", rows=rows, buckets=2)
    if held:
        pause(conn, held)
    q(conn, f"BACKUP SNAPSHOT {db}.{label} TO {REPO}")


def uploads_landed(conn: pymysql.connections.Connection, db: str, label: str) -> None:
    """Wait until a backup held in UPLOADING has no upload task left: its files are all in the repository."""
    wait_backup(conn, db, label, ("UPLOADING",))
    deadline = time.monotonic() + 10
    while backup_row(conn, db, label)[COL["UnfinishedTasks"]] != "":  # type: ignore[index]
        assert time.monotonic() < deadline
        time.sleep(0.05)


def assert_complete(location: Path, label: str, rows: int) -> None:
    """The info file lists exactly the content files, each with a matching checksum, holding ``rows`` rows."""
    _, info = info_file(location, REPO, label)
    files = content(location, label)
    listed = set()
    for table in info["backup_objects"].values():
        for part in table["partitions"].values():
            for index in part["indexes"].values():
                for tablet_id, names in index["tablets"].items():
                    rel = f"__db_{info['id']}/__tbl_{table['id']}/__part_{part['id']}/__idx_{index['id']}/__{tablet_id}"
                    listed.update(f"{rel}/{n}" for n in names)
    assert set(files) == listed
    for path in files.values():
        assert path.name.rpartition(".")[2] == md5_of(path)
    hdr_rows = sum(
        r["rows"] for p in files.values() if ".hdr." in p.name for r in json.loads(p.read_bytes())["rowsets"]
    )
    assert hdr_rows == rows


@pytest.mark.parametrize("state", STATES)
def test_kill9_in_each_state_then_restart(srv: DorisbkServer, location: Path, state: str) -> None:
    db, label = f"k_{state.lower()}", f"kill_{state.lower()}"
    with srv.connect() as conn:
        backup_new_db(conn, db, label, rows=5, held=state)
        row = wait_backup(conn, db, label, (state,))
        job_id = row[COL["JobId"]]
        if state == "UPLOADING":
            uploads_landed(conn, db, label)  # so that the redone upload has files to skip
        before = {rel: os.stat(p).st_ino for rel, p in content(location, label).items()}
        assert snapshot_status(conn, label) in (None, "ERROR: No info file found")

    def while_down() -> None:
        assert not list(snapshot_dir(location, REPO, label).glob("__info_*"))

    log_start = len(srv.log())
    restart(srv, signal.SIGKILL, while_down)

    with srv.connect() as conn:
        deadline = time.monotonic() + 20
        while True:
            row = backup_row(conn, db, label)
            status = snapshot_status(conn, label)
            if status == "OK":  # listed as OK only once everything is there
                assert_complete(location, label, rows=5)
            if row is not None and row[COL["State"]] in ("FINISHED", "CANCELLED"):
                break
            assert time.monotonic() < deadline, row
            time.sleep(0.05)
        assert (row[COL["JobId"]], row[COL["State"]], row[COL["Status"]]) == (job_id, "FINISHED", "[OK]")
        assert snapshot_status(conn, label) == "OK"
        assert q(conn, f"SELECT count(*) FROM {db}.t") == [(5,)]
    assert_complete(location, label, rows=5)
    assert be_snapshot_dirs(srv.data_dir) == []
    assert local_job_dirs(srv.data_dir) == []
    if state == "UPLOADING":
        # The job went back to UPLOAD_SNAPSHOT; every file was already in the repository.
        after = {rel: os.stat(p).st_ino for rel, p in content(location, label).items()}
        assert after == before
        totals = upload_totals(srv.log()[log_start:], label)
        assert (totals["tablets"], totals["uploaded"], totals["copied"]) == (2, 0, 0)
        assert totals["present"] == len(before)


def test_resumed_upload_sends_again_a_file_whose_content_is_not_its_name(srv: DorisbkServer, location: Path) -> None:
    """LOCAL uploads are made durable once, when all have landed, not by an fsync each: a machine that
    crashed before that may keep a file under its checksummed name with other content. A resumed upload
    reads what it finds in a local repository, keeps what matches and sends the rest again."""
    db, label = "k_torn", "kill_torn"
    with srv.connect() as conn:
        backup_new_db(conn, db, label, rows=40, held="UPLOADING")
        uploads_landed(conn, db, label)
    sent = content(location, label)
    rowset = next(rel for rel in sorted(sent) if ".hdr." not in rel)
    log_start = len(srv.log())

    def while_down() -> None:
        # what a lost page cache leaves: the name in place, other bytes (here, as long as the real ones)
        torn = sent[rowset]
        torn.write_bytes(b"\0" * torn.stat().st_size)

    restart(srv, signal.SIGKILL, while_down)
    with srv.connect() as conn:
        row = wait_backup(conn, db, label, ("FINISHED", "CANCELLED"))
        assert row[COL["Status"]] == "[OK]"
    assert_complete(location, label, rows=40)  # every file's content matches its name again
    totals = upload_totals(srv.log()[log_start:], label)
    assert (totals["uploaded"], totals["present"]) == (1, len(sent) - 1)


def test_kill9_mid_upload_resumes_and_skips_what_was_sent(srv: DorisbkServer, location: Path) -> None:
    """A throttled upload killed after its first file: the restart sends only the rest."""
    db, label = "k_mid", "kill_mid"
    with srv.connect() as conn:
        q(conn, 'ADMIN SET FRONTEND CONFIG ("max_upload_speed_kbps" = "1")')
        backup_new_db(conn, db, label, rows=300)
        wait_backup(conn, db, label, ("UPLOADING",))
        deadline = time.monotonic() + 10
        while not [rel for rel in content(location, label) if not rel.endswith(TMP)]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    sent_before: dict[str, Path] = {}
    resent: list[str] = []
    log_start = len(srv.log())

    def while_down() -> None:
        # (the kill may also have cut a write short: its temporary file, or in a dir the upload made the file
        # under its own name with less than its checksum says, is not a sent file)
        sent_before.update({rel: p for rel, p in content(location, label).items() if sent_whole(rel, p)})
        # One sent file becomes a write the killed server left half done: the restart sends it
        # again and removes the leftover.
        rel, path = sorted(sent_before.items())[0]
        path.rename(path.with_name(f"{path.name}.{socket.gethostname()}-999999999-0abc{TMP}"))
        resent.append(rel)

    restart(srv, signal.SIGKILL, while_down)
    assert sent_before
    inodes = {rel: os.stat(p).st_ino for rel, p in sent_before.items() if rel not in resent}
    with srv.connect() as conn:
        row = wait_backup(conn, db, label, ("FINISHED", "CANCELLED"))
        assert row[COL["Status"]] == "[OK]"
    assert_complete(location, label, rows=300)  # no temporary file left either
    assert len(content(location, label)) > len(sent_before)
    for rel, ino in inodes.items():
        assert os.stat(content(location, label)[rel]).st_ino == ino
    log_after = srv.log()[log_start:]
    assert upload_totals(log_after, label)["present"] == len(sent_before) - 1


def test_job_redone_after_restart_skips_a_table_dropped_meanwhile(srv: DorisbkServer, location: Path) -> None:
    """A PENDING job is redone after a restart; a table dropped by then is skipped, as in Doris."""
    db, label = "k_drop", "kill_drop"
    with srv.connect() as conn:
        q(conn, f"CREATE DATABASE {db}")
        make_table(conn, db, "t", rows=3, buckets=1)
        make_table(conn, db, "u", rows=3, buckets=1)
        pause(conn, "PENDING")
        q(conn, f"BACKUP SNAPSHOT {db}.{label} TO {REPO} ON (t, u)")
        wait_backup(conn, db, label, ("PENDING",))
        q(conn, f"DROP TABLE {db}.u")
    restart(srv, signal.SIGKILL)
    with srv.connect() as conn:
        row = wait_backup(conn, db, label, ("FINISHED", "CANCELLED"))
        assert (row[COL["State"]], row[COL["Status"]]) == ("FINISHED", "[OK]")
        assert row[COL["BackupObjs"]] == f"[`{db}`.`t`], [`{db}`.`u`]"
    _, info = info_file(location, REPO, label)
    assert list(info["backup_objects"]) == ["t"]
    assert_complete(location, label, rows=3)
    assert be_snapshot_dirs(srv.data_dir) == []


def test_job_whose_snapshot_was_lost_while_down_is_cancelled(srv: DorisbkServer, location: Path) -> None:
    """Resuming an upload needs the backends' snapshot files; without them the job ends with a clear Status."""
    db, label = "k_lost", "kill_lost"
    with srv.connect() as conn:
        q(conn, f"CREATE DATABASE {db}")
        make_table(conn, db, "t", rows=3, buckets=1)
        pause(conn, "UPLOAD_SNAPSHOT")
        q(conn, f"BACKUP SNAPSHOT {db}.{label} TO {REPO}")
        job_id = wait_backup(conn, db, label, ("UPLOAD_SNAPSHOT",))[COL["JobId"]]

    def lose_snapshots() -> None:
        dirs = list(srv.data_dir.glob(f"be/be*/snapshot/{job_id}"))
        assert dirs
        for path in dirs:
            shutil.rmtree(path)

    restart(srv, signal.SIGKILL, lose_snapshots)
    with srv.connect() as conn:
        row = wait_backup(conn, db, label, ("FINISHED", "CANCELLED"))
        assert row[COL["State"]] == "CANCELLED"
        assert row[COL["Status"]].startswith("[COMMON_ERROR, msg: ")
        assert "No such file or directory" in row[COL["Status"]], row
        assert q(conn, f"SHOW SNAPSHOT ON {REPO} WHERE SNAPSHOT = '{label}'") in (
            [],
            [(label, None, "ERROR: No info file found")],
        )
    assert be_snapshot_dirs(srv.data_dir) == []


def test_backup_jobs_of_an_older_format_are_kept_in_history(srv: DorisbkServer, location: Path) -> None:
    """A backup job recorded before its per-tablet state was compact (a dict of named fields per tablet): after
    an upgrade a finished job stays listed as it was, and an unfinished one ends CANCELLED with a reason and
    the database takes new jobs."""
    done_db, held_db = "old_done", "old_held"
    with srv.connect() as conn:
        for db in (done_db, held_db):
            q(conn, f"CREATE DATABASE {db}")
            make_table(conn, db, "t", rows=5, buckets=2)
        q(conn, f"BACKUP SNAPSHOT {done_db}.old_done TO {REPO}")
        done = wait_backup(conn, done_db, "old_done", ("FINISHED",))
        pause(conn, "UPLOADING")
        q(conn, f"BACKUP SNAPSHOT {held_db}.old_held TO {REPO}")
        held = wait_backup(conn, held_db, "old_held", ("UPLOADING",))
    srv.stop()

    def older(job: dict) -> None:
        rows = job["targets"]["rows"]
        job["targets"] = {str(r[0]): dict(zip(job["targets"]["fields"], r, strict=True)) for r in rows}
        job["snapshots"] = {
            key: {"tablet_id": int(key), "files": [{"name": f[0], "md5": f[1], "size": f[2]} for f in files]}
            for key, files in job["snapshots"].items()
        }

    edit_jobs(srv, [int(done[COL["JobId"]]), int(held[COL["JobId"]])], older)
    restart(srv)
    with srv.connect() as conn:
        pause(conn)
        kept = backup_row(conn, done_db, "old_done")
        assert kept is not None
        assert (kept[COL["JobId"]], kept[COL["State"]], kept[COL["Status"]]) == (done[COL["JobId"]], "FINISHED", "[OK]")
        row = wait_backup(conn, held_db, "old_held", ("FINISHED", "CANCELLED"))
        assert row[COL["State"]] == "CANCELLED"
        assert "older dorisbk can not resume" in row[COL["Status"]]
        q(conn, f"BACKUP SNAPSHOT {held_db}.old_again TO {REPO}")
        assert wait_backup(conn, held_db, "old_again", ("FINISHED", "CANCELLED"))[COL["Status"]] == "[OK]"
