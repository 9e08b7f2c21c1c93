"""kill -9 in each restore state, then start again: the job resumes and finishes, and no
half-restored table is ever readable. Also a job that outlives its timeout across a restart."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    edit_jobs,
    insert,
    q,
    restart,
    set_config,
)
from tests.test_restore_support import (
    STATES,
    backup,
    create_local_repo,
    fast,
    finished,
    job_snapshot_dirs,
    local_db,
    make_range_table,
    make_unique_table,
    partitions,
    pause,
    restore_row,
    restore_sql,
    rows_of,
    tables,
    versions,
    wait_state,
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    srv = DorisbkServer(tmp_path_factory.mktemp("crash") / "data").start()
    conn = srv.connect()
    fast(conn)
    location = tmp_path_factory.mktemp("repo")
    create_local_repo(conn, "r", location)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", [1, 2, 11, 21])
    insert(conn, "src.t", [3, 12])
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01'), (2, 'b', NULL, NULL)")
    q(conn, "CREATE VIEW src.v AS SELECT k FROM src.t WHERE k > 5")
    state = {
        "srv": srv,
        "ts": backup(conn, "src", "snap", "r"),
        "t": rows_of(conn, "src.t"),
        "u": rows_of(conn, "src.u"),
        "v": rows_of(conn, "src.v"),
        "versions": versions(conn, "src.t"),
    }
    conn.close()
    yield state
    srv.stop()


def watch_until_done(conn: pymysql.connections.Connection, db: str, allowed: dict[str, list[list[tuple]]]) -> dict:
    """Read the target tables until the job ends: each read is refused, finds no table, or sees one of
    the ``allowed`` whole states of the table (never a mix of old and restored partitions)."""
    deadline = time.monotonic() + 30
    reads = 0
    while True:
        row = restore_row(conn, db)
        for table, states in allowed.items():
            try:
                got = rows_of(conn, f"{db}.{table}")
            except pymysql.MySQLError as exc:
                message = str(exc.args[1])
                assert "under restore" in message or "Unknown table" in message or "does not exist" in message, exc
                continue
            reads += 1
            assert got in states, (table, row["State"], got)
        if row["State"] in ("FINISHED", "CANCELLED"):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.01)


def referenced_tablets(conn: pymysql.connections.Connection) -> set[str]:
    out = set()
    for (db,) in q(conn, "SHOW DATABASES"):
        if db in ("information_schema", "mysql", "__internal_schema"):
            continue
        for table in tables(conn, db):
            if q(conn, f"SHOW FULL TABLES FROM {db} LIKE '{table}'")[0][1] == "VIEW":
                continue
            out |= {str(r[0]) for r in q(conn, f"SHOW TABLETS FROM {db}.{table}")}
    return out


def check_restored(conn: pymysql.connections.Connection, env: dict, db: str, local_p4: list[tuple]) -> None:
    assert tables(conn, db) == ["t", "u", "v"]
    assert sorted([*env["t"], *local_p4], key=repr) == rows_of(conn, f"{db}.t")
    assert rows_of(conn, f"{db}.u") == env["u"]
    # the view reads the target database's t, local partition p4 included
    assert rows_of(conn, f"{db}.v") == sorted([*env["v"], *((r[0],) for r in local_p4)], key=repr)
    assert {k: v for k, v in versions(conn, f"{db}.t").items() if k != "p4"} == env["versions"]
    data_dir: Path = env["srv"].data_dir
    assert job_snapshot_dirs(data_dir) == []
    # no file of an unfinished attempt is left in a tablet dir nobody references
    on_disk = {p.name for p in data_dir.glob("be/be*/data/*")}
    assert on_disk <= referenced_tablets(conn)
    assert not list(data_dir.glob("be/be*/data/*/*.dorisbk-tmp"))


@pytest.mark.parametrize("state", STATES)
def test_kill9_in_each_state(env: dict, state: str) -> None:
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        fast(conn)
        db = local_db(conn, "k")
        local_t = rows_of(conn, f"{db}.t")
        local_p4 = [r for r in local_t if r[0] >= 30]
        pause(conn, state)
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        wait_state(conn, db, state)
    restart(srv, signal.SIGKILL)
    with srv.connect() as conn:
        fast(conn)
        # the pause is gone with the restart: the job resumes by itself
        restored_t = sorted([*env["t"], *local_p4], key=repr)
        row = watch_until_done(conn, db, {"t": [local_t, restored_t], "u": [env["u"]]})
        assert (row["State"], row["Status"]) == ("FINISHED", "[OK]"), row
        check_restored(conn, env, db, local_p4)
        q(conn, f"INSERT INTO {db}.u VALUES (9, 'z', 0, NULL)")
        assert len(rows_of(conn, f"{db}.u")) == len(env["u"]) + 1


def test_kill9_during_a_throttled_download(env: dict) -> None:
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        fast(conn)
        db = local_db(conn, "k")
        local_p4 = [r for r in rows_of(conn, f"{db}.t") if r[0] >= 30]
        set_config(conn, "max_download_speed_kbps", "1")
        set_config(conn, "restore_download_snapshot_batch_size", "1")
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        wait_state(conn, db, "DOWNLOADING")
        time.sleep(0.3)  # some files are in, most are not
        assert restore_row(conn, db)["State"] == "DOWNLOADING"
    restart(srv, signal.SIGKILL)
    with srv.connect() as conn:
        fast(conn)
        row = finished(conn, db)
        assert row["Status"] == "[OK]"
        check_restored(conn, env, db, local_p4)


def test_graceful_restart_mid_job(env: dict) -> None:
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        db = local_db(conn, "k")
        local_p4 = [r for r in rows_of(conn, f"{db}.t") if r[0] >= 30]
        pause(conn, "COMMIT")
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        wait_state(conn, db, "COMMIT")
    restart(srv)
    with srv.connect() as conn:
        fast(conn)
        finished(conn, db)
        check_restored(conn, env, db, local_p4)


def test_timeout_after_restart(env: dict) -> None:
    """A job older than its timeout is cancelled with Doris's TIMEOUT status, leaving nothing behind."""
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        db = local_db(conn, "k")
        before = rows_of(conn, f"{db}.t")
        parts_before = partitions(conn, f"{db}.t")
        pause(conn, "DOWNLOADING")
        q(conn, restore_sql(db, "snap", "r", env["ts"], props='"replication_num" = "1", "timeout" = "600"'))
        job_id = int(wait_state(conn, db, "DOWNLOADING")["JobId"])
    srv.stop()

    def older(job: dict) -> None:
        job["create_time"] -= 601 * 1000

    edit_jobs(srv, [job_id], older)
    restart(srv)
    with srv.connect() as conn:
        row = wait_state(conn, db, ("FINISHED", "CANCELLED"))
        assert row["State"] == "CANCELLED"
        assert row["Status"] == "[TIMEOUT, msg: restore job with label: snap  timeout.]"
        assert row["Timeout"] == "600"
        assert tables(conn, db) == ["t"]
        assert rows_of(conn, f"{db}.t") == before
        assert partitions(conn, f"{db}.t") == parts_before
        insert(conn, f"{db}.t", [5])
        assert job_snapshot_dirs(srv.data_dir) == []


def test_resume_over_damaged_downloads(env: dict) -> None:
    """Files a killed download left behind are checked again: a torn file is fetched anew and
    stray files are never linked, so the tablets get exactly the snapshot's files."""
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        fast(conn)
        db = local_db(conn, "k")
        local_p4 = [r for r in rows_of(conn, f"{db}.t") if r[0] >= 30]
        pause(conn, "DOWNLOADING")
        q(conn, restore_sql(db, "snap", "r", env["ts"]))
        job_id = wait_state(conn, db, "DOWNLOADING")["JobId"]
        time.sleep(0.5)  # the downloads run to their end while the job is held
    srv.kill9()
    (job_dir,) = [p for p in job_snapshot_dirs(srv.data_dir) if p.name == job_id]
    files = sorted(p for p in job_dir.rglob("*.parquet"))
    assert files
    files[0].write_bytes(files[0].read_bytes()[:10])
    for tablet in {p.name.split("_", 1)[0] for p in files}:  # the dir is flat: <tablet id>_<name>
        (job_dir / f"{tablet}_junk.parquet.0123.dorisbk-tmp").write_bytes(b"partial")
    restart(srv)
    with srv.connect() as conn:
        fast(conn)
        finished(conn, db)
        check_restored(conn, env, db, local_p4)
        for tablet_id, *_rest in q(conn, f"SHOW TABLETS FROM {db}.t"):
            names = [p.name for p in srv.data_dir.glob(f"be/be*/data/{tablet_id}/*")]
            assert not [n for n in names if "junk" in n], names


def test_kill9_before_the_atomic_swap(env: dict) -> None:
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        fast(conn)
        db = local_db(conn, "k")
        local_t = rows_of(conn, f"{db}.t")
        pause(conn, "COMMITTING")
        props = '"replication_num" = "1", "atomic_restore" = "true"'
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props=props))
        wait_state(conn, db, "COMMITTING")
        assert rows_of(conn, f"{db}.t") == local_t
    restart(srv, signal.SIGKILL)
    with srv.connect() as conn:
        fast(conn)
        row = watch_until_done(conn, db, {"t": [local_t, env["t"]]})
        assert (row["State"], row["Status"]) == ("FINISHED", "[OK]"), row
        assert tables(conn, db) == ["t"]
        assert rows_of(conn, f"{db}.t") == env["t"]
        assert versions(conn, f"{db}.t") == env["versions"]
        assert job_snapshot_dirs(srv.data_dir) == []


def test_jobs_of_an_older_format_are_kept_in_history(env: dict) -> None:
    """A restore job written before the plan was typed (its plan a bare dict): after an upgrade the
    server starts, a finished job stays listed as it was, and an unfinished one ends CANCELLED with
    a reason instead of running without its plan."""
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        done_db = local_db(conn, "o")
        q(conn, restore_sql(done_db, "snap", "r", env["ts"], "ON (u)", props='"replication_num" = "1"'))
        done = finished(conn, done_db)
        held_db = local_db(conn, "h")
        pause(conn, "DOWNLOADING")
        q(conn, restore_sql(held_db, "snap", "r", env["ts"], "ON (u)", props='"replication_num" = "1"'))
        held = wait_state(conn, held_db, "DOWNLOADING")
    srv.stop()

    def older_plan(job: dict) -> None:
        for entry in job["plan"]["tables"]:  # an older plan: a new table's id only in its "table"
            if entry["mode"] != "existing":
                del entry["table_id"]

    edit_jobs(srv, [int(done["JobId"]), int(held["JobId"])], older_plan)
    restart(srv)
    with srv.connect() as conn:
        pause(conn)
        kept = restore_row(conn, done_db)
        assert (kept["JobId"], kept["State"], kept["Status"]) == (done["JobId"], "FINISHED", "[OK]")
        row = wait_state(conn, held_db, ("FINISHED", "CANCELLED"))
        assert row["State"] == "CANCELLED"
        assert "older dorisbk can not resume" in row["Status"]
        # the databases take new jobs
        q(conn, restore_sql(held_db, "snap", "r", env["ts"], "ON (u)", props='"replication_num" = "1"'))
        assert finished(conn, held_db)["State"] == "FINISHED"


def test_a_plan_recorded_with_a_dict_per_tablet_resumes(env: dict) -> None:
    """A restore held in DOWNLOADING whose record has the earlier form of the plan (a dict of named
    fields per tablet, before the rows): after an upgrade it resumes from that plan and finishes with
    the snapshot's rows, in the tablets it had planned. Its row holds the plan and the info's outline."""
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        db = local_db(conn, "dict_plan")
        pause(conn, "DOWNLOADING")
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (u)", props='"replication_num" = "1"'))
        held = wait_state(conn, db, "DOWNLOADING")
    srv.stop()
    planned: set[int] = set()

    def rows_to_dicts(job: dict) -> None:
        # past planning the row keeps the snapshot's outline, not every tablet's files (the plan has them)
        for outlined in job["info"]["backup_objects"].values():
            assert all(part == {} for part in outlined["partitions"].values())
        for table in job["plan"]["tables"]:
            for part in table["partitions"]:
                dicts = []
                for tablet_id, bucket, replicas, remote, files in part["tablets"]:
                    planned.add(tablet_id)
                    tablet = {"id": tablet_id, "table_id": part["partition"]["table_id"],
                              "partition_id": part["partition"]["id"], "index_id": part["partition"]["index_id"],
                              "bucket": bucket, "replicas": [{"id": r[0], "backend_id": r[1], "version": r[2],
                                                              "rowsets": []} for r in replicas]}  # fmt: skip
                    names = ("db_id", "table_id", "partition_id", "index_id", "tablet_id")
                    dicts.append({"tablet": tablet, "remote": dict(zip(names, remote, strict=True)), "files": files})
                part["tablets"] = dicts

    edit_jobs(srv, [int(held["JobId"])], rows_to_dicts)
    restart(srv)
    with srv.connect() as conn:
        pause(conn)
        row = wait_state(conn, db, ("FINISHED", "CANCELLED"))
        assert (row["JobId"], row["State"], row["Status"]) == (held["JobId"], "FINISHED", "[OK]")
        assert rows_of(conn, f"{db}.u") == env["u"]
        assert {int(r[0]) for r in q(conn, f"SHOW TABLETS FROM {db}.u")} == planned


def test_an_ended_restore_keeps_only_the_snapshots_outline(env: dict) -> None:
    """A finished and a cancelled restore keep in their rows what SHOW RESTORE shows (RestoreObjs: the
    tables and partition names), not the snapshot's tablet files nor the plan of every tablet; both are
    listed the same after a restart."""
    srv: DorisbkServer = env["srv"]
    with srv.connect() as conn:
        done_db = local_db(conn, "outline_done")
        q(conn, restore_sql(done_db, "snap", "r", env["ts"], props='"replication_num" = "1"'))
        done = finished(conn, done_db)
        cancelled_db = local_db(conn, "outline_cancelled")
        pause(conn, "DOWNLOADING")
        q(conn, restore_sql(cancelled_db, "snap", "r", env["ts"], props='"replication_num" = "1"'))
        wait_state(conn, cancelled_db, "DOWNLOADING")
        q(conn, f"CANCEL RESTORE FROM {cancelled_db}")
        pause(conn)
        cancelled = wait_state(conn, cancelled_db, "CANCELLED")
        assert tables(conn, cancelled_db) == ["t"]  # the cancel undid what the plan had registered
    srv.stop()
    records: dict[int, dict] = {}
    edit_jobs(srv, [int(done["JobId"]), int(cancelled["JobId"])], lambda job: records.update({job["job_id"]: job}))
    for job in records.values():
        assert job["plan"]["tables"] == []
        for table in job["info"]["backup_objects"].values():
            assert sorted(table) == ["partitions"] and all(p == {} for p in table["partitions"].values())
    restart(srv)
    with srv.connect() as conn:
        for db, before in ((done_db, done), (cancelled_db, cancelled)):
            after = restore_row(conn, db)
            assert json.loads(after["RestoreObjs"])["olap_table_list"] == [
                {"name": "t", "partition_names": ["p1", "p2", "p3"]},
                {"name": "u", "partition_names": ["u"]},
            ]
            assert {k: after[k] for k in ("JobId", "State", "Status", "RestoreObjs")} == {
                k: before[k] for k in ("JobId", "State", "Status", "RestoreObjs")
            }
