"""Snapshot TTL on LOCAL repositories, through a real server and pymysql: BACKUP's ``ttl`` property and
its errors, the expiry in SHOW SNAPSHOT's Details, in information_schema.repository_snapshots and in the
repository's info file, expired snapshots dropped in the background (also after a restart), and info
files written by someone else (a valid expiry is honoured, garbage ignored)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import described, doris_err, pause, q, restart, set_config, snapshot_dir
from tests.test_backup_support import finished, info_file, make_table, run_script, sql_statements, tree
from tests.test_restore_support import restore_sql, wait_done, wait_state

SLOW = "3600000"  # no pass of the TTL daemon while a test looks at a snapshot that has expired
FAST = "100"
DORIS_DETAILS = ["name", "database", "backup_time", "content", "olap_table_list", "view_list", "odbc_table_list",
                 "odbc_resource_list"]  # fmt: skip
BAD_TTL = (
    "Invalid backup job ttl: {}. It should be a positive integer and a unit (SECOND, MINUTE, HOUR, DAY or WEEK), "
    'e.g. "7 DAY"'
)


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    with server.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        set_config(c, "snapshot_ttl_check_interval_ms", SLOW)
        q(c, "CREATE DATABASE ttl")
        make_table(c, "ttl", "t", rows=6, buckets=2)
        yield c


def backup(conn: pymysql.connections.Connection, repo: str, label: str, ttl: str | None = None) -> None:
    props = f' PROPERTIES ("ttl" = "{ttl}")' if ttl is not None else ""
    q(conn, f"BACKUP SNAPSHOT ttl.{label} TO {repo}{props}")
    finished(conn, "ttl", label)


def labels(conn: pymysql.connections.Connection, repo: str) -> list[str]:
    return [r[0] for r in q(conn, f"SHOW SNAPSHOT ON {repo}")]


def details(conn: pymysql.connections.Connection, repo: str, label: str) -> tuple[str, dict]:
    """The snapshot's one timestamp and its SHOW SNAPSHOT Details."""
    ((_, stamp, status),) = q(conn, f"SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = '{label}'")
    assert status == "OK"
    names, rows = described(conn, f"SHOW SNAPSHOT ON {repo} WHERE SNAPSHOT = '{label}' AND TIMESTAMP = '{stamp}'")
    assert names == ["Snapshot", "Timestamp", "Database", "Details", "Status"]
    ((_, _, database, text, status),) = rows
    assert (database, status) == ("ttl", "OK")
    return stamp, json.loads(text)


def stamp_time(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y-%m-%d-%H-%M-%S")


def listed(conn: pymysql.connections.Connection, repo: str) -> dict[str, tuple]:
    """information_schema.repository_snapshots of one repository: label -> (TIMESTAMP, DB_NAME, EXPIRE_TIME)."""
    rows = q(
        conn,
        "SELECT SNAPSHOT, TIMESTAMP, DB_NAME, EXPIRE_TIME FROM information_schema.repository_snapshots "
        f"WHERE REPOSITORY = '{repo}' ORDER BY SNAPSHOT",
    )
    return {r[0]: r[1:] for r in rows}


def wait_dropped(conn: pymysql.connections.Connection, repo: str, label: str, timeout: float = 30.0) -> None:
    """Poll SHOW SNAPSHOT until ``label`` is no longer listed."""
    deadline = time.monotonic() + timeout
    while label in labels(conn, repo):
        assert time.monotonic() < deadline, f"{label} was not dropped: {labels(conn, repo)}"
        time.sleep(0.05)


def test_ttl_spellings_and_where_the_expiry_shows(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    q(conn, f'CREATE REPOSITORY r_show WITH LOCAL ON LOCATION "file://{tmp_path}"')
    spans = {
        "weeks": ("2 WEEKS", dt.timedelta(weeks=2)),
        "hours": ("36 hours", dt.timedelta(hours=36)),
        "minute": ("90 Minute", dt.timedelta(minutes=90)),
        "days": (" 7  day ", dt.timedelta(days=7)),
        "seconds": ("3600 SECONDS", dt.timedelta(hours=1)),
    }
    for label, (ttl, _) in spans.items():
        backup(conn, "r_show", label, ttl)
    backup(conn, "r_show", "forever")

    table = listed(conn, "r_show")
    assert sorted(table) == sorted([*spans, "forever"])
    for label, (_, span) in spans.items():
        stamp, info = details(conn, "r_show", label)
        assert list(info) == [*DORIS_DETAILS, "expire_time"]
        expires = stamp_time(stamp) + span
        assert info["expire_time"] == expires.strftime("%Y-%m-%d %H:%M:%S")
        assert table[label] == (stamp, "ttl", expires)
        # in the repository, for any server reading it: the timestamp (create time) plus the ttl, in ms
        file_stamp, body = info_file(tmp_path, "r_show", label)
        assert file_stamp == stamp
        assert body["expire_time"] == body["backup_time"] + span // dt.timedelta(milliseconds=1)
    stamp, info = details(conn, "r_show", "forever")
    assert list(info) == DORIS_DETAILS  # exactly Doris's Details without a ttl
    assert table["forever"] == (stamp, "ttl", None)
    assert "expire_time" not in info_file(tmp_path, "r_show", "forever")[1]
    names, _ = described(conn, "SHOW SNAPSHOT ON r_show")
    assert names == ["Snapshot", "Timestamp", "Status"]


def test_bad_ttl_is_refused(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    q(conn, f'CREATE REPOSITORY r_bad WITH LOCAL ON LOCATION "file://{tmp_path}"')
    for value in ("", "0 DAY", "-1 DAY", "7", "DAY", "1.5 HOUR", "7 DAYZ", "1 MONTH", "seven days", "1 DAY 2 HOURS",
                  "7DAY;", "１ DAY", "9" * 30 + " SECOND"):  # fmt: skip
        message = doris_err(conn, f'BACKUP SNAPSHOT ttl.bad TO r_bad PROPERTIES ("ttl" = "{value}")')
        assert message == BAD_TTL.format(value), value
    for value in ("36501 DAY", "5215 WEEKS"):
        message = doris_err(conn, f'BACKUP SNAPSHOT ttl.bad TO r_bad PROPERTIES ("ttl" = "{value}")')
        assert message == f"Invalid backup job ttl: {value}. It should be at most 36500 DAY"
    # checked with the other properties, before anything else
    message = doris_err(conn, 'BACKUP SNAPSHOT ttl.bad TO r_bad PROPERTIES ("ttl" = "1 DAY", "colour" = "red")')
    assert message == "Unknown backup job properties: [colour]"
    message = doris_err(conn, 'BACKUP SNAPSHOT ttl.bad TO `__keep_on_local__` PROPERTIES ("ttl" = "1 DAY")')
    assert message == "Property ttl needs a repository: a __keep_on_local__ snapshot lives as long as its job"
    # no job was created, and the connection goes on
    assert q(conn, "SHOW BACKUP FROM ttl WHERE SnapshotName = 'bad'") == []
    assert q(conn, "SELECT 1") == [(1,)]
    assert labels(conn, "r_bad") == []


def test_expired_snapshot_is_dropped_others_stay(
    server: DorisbkServer, conn: pymysql.connections.Connection, tmp_path: Path
) -> None:
    q(conn, f'CREATE REPOSITORY r_exp WITH LOCAL ON LOCATION "file://{tmp_path}"')
    backup(conn, "r_exp", "kept")
    backup(conn, "r_exp", "week", "1 WEEK")
    backup(conn, "r_exp", "short", "1 SECOND")
    assert labels(conn, "r_exp") == ["kept", "short", "week"]
    assert snapshot_dir(tmp_path, "r_exp", "short").is_dir()
    # the later snapshots link the unchanged files of the first: dropping one leaves the others whole
    files = {label: tree(snapshot_dir(tmp_path, "r_exp", label)) for label in ("kept", "week")}
    set_config(conn, "snapshot_ttl_check_interval_ms", FAST)
    try:
        wait_dropped(conn, "r_exp", "short")
    finally:
        set_config(conn, "snapshot_ttl_check_interval_ms", SLOW)
    assert labels(conn, "r_exp") == ["kept", "week"]
    assert not snapshot_dir(tmp_path, "r_exp", "short").exists()
    for label in ("kept", "week"):
        assert tree(snapshot_dir(tmp_path, "r_exp", label)) == files[label], label
        assert any(name.endswith(".parquet", 0, -33) for name in files[label]), files[label]
    assert sorted(listed(conn, "r_exp")) == ["kept", "week"]
    assert "snapshot short of repository r_exp expired at" in server.log()
    # the label is free again, as after DROP SNAPSHOT
    backup(conn, "r_exp", "short")
    assert labels(conn, "r_exp") == ["kept", "short", "week"]


def test_snapshot_a_restore_reads_is_kept_until_it_ends(
    server: DorisbkServer, conn: pymysql.connections.Connection, tmp_path: Path
) -> None:
    """DROP SNAPSHOT's rule holds for expiry: not while a job uses the snapshot."""
    q(conn, f'CREATE REPOSITORY r_busy WITH LOCAL ON LOCATION "file://{tmp_path}"')
    backup(conn, "r_busy", "busy", "1 SECOND")
    stamp, _ = details(conn, "r_busy", "busy")
    q(conn, "CREATE DATABASE ttl_target")
    pause(conn, "DOWNLOADING", kind="RESTORE")
    try:
        q(conn, restore_sql("ttl_target", "busy", "r_busy", stamp))
        wait_state(conn, "ttl_target", "DOWNLOADING")
        set_config(conn, "snapshot_ttl_check_interval_ms", FAST)
        deadline = time.monotonic() + 30
        while "expired but is kept: Snapshot busy is used by a running job" not in server.log():
            assert time.monotonic() < deadline, server.log()[-3000:]
            time.sleep(0.05)
        assert labels(conn, "r_busy") == ["busy"]
        pause(conn, kind="RESTORE")
        restored = wait_done(conn, "ttl_target")
        assert (restored["State"], restored["Status"]) == ("FINISHED", "[OK]"), restored
        wait_dropped(conn, "r_busy", "busy")
    finally:
        pause(conn, kind="RESTORE")
        set_config(conn, "snapshot_ttl_check_interval_ms", SLOW)
    assert q(conn, "SELECT count(*) FROM ttl_target.t") == [(6,)]


def rewrite_info(location: Path, repo: str, label: str, expire: object) -> None:
    """Give the snapshot's info file another ``expire_time`` under its new checksum, as another server (or a
    hand) would write it."""
    old = next(snapshot_dir(location, repo, label).glob("__info_*"))
    body = json.loads(old.read_bytes())
    body["expire_time"] = expire(body["backup_time"]) if callable(expire) else expire
    data = json.dumps(body).encode()
    stem = old.name.rpartition(".")[0]
    old.unlink()
    (old.parent / f"{stem}.{hashlib.md5(data).hexdigest()}").write_bytes(data)


def test_expiry_written_elsewhere_is_honoured_and_garbage_ignored(
    server: DorisbkServer, conn: pymysql.connections.Connection, tmp_path: Path
) -> None:
    q(conn, f'CREATE REPOSITORY r_odd WITH LOCAL ON LOCATION "file://{tmp_path}"')
    garbage: dict[str, object] = {"a_text": "next tuesday", "b_negative": -5, "c_huge": 10**30, "d_bool": True,
                                  "e_list": [1], "f_float": 1.5e12}  # fmt: skip
    for label in [*garbage, "z_past"]:
        backup(conn, "r_odd", label)
    for label, value in garbage.items():
        rewrite_info(tmp_path, "r_odd", label, value)
    rewrite_info(tmp_path, "r_odd", "z_past", lambda backup_time: backup_time + 1)

    set_config(conn, "snapshot_ttl_check_interval_ms", FAST)
    try:
        # the labels are looked at in order in one pass: once z_past is gone the others were judged
        wait_dropped(conn, "r_odd", "z_past")
    finally:
        set_config(conn, "snapshot_ttl_check_interval_ms", SLOW)
    assert labels(conn, "r_odd") == list(garbage)
    table = listed(conn, "r_odd")
    for label in garbage:
        _, info = details(conn, "r_odd", label)
        assert list(info) == DORIS_DETAILS, label
        assert table[label][2] is None
    assert "a_text: expire_time 'next tuesday' in its info file is not a time, ignored" in server.log()
    assert "snapshot z_past of repository r_odd expired at" in server.log()


def test_snapshot_that_expired_while_the_server_was_down_is_dropped_at_start(
    fresh_server: DorisbkServer, tmp_path: Path
) -> None:
    srv = fresh_server.start()
    location = tmp_path / "repo"
    with srv.connect() as c:
        set_config(c, "backup_handler_update_interval_millis", "50")
        set_config(c, "snapshot_ttl_check_interval_ms", SLOW)
        q(c, f'CREATE REPOSITORY r_down WITH LOCAL ON LOCATION "file://{location}"')
        q(c, "CREATE DATABASE ttl")
        make_table(c, "ttl", "t", rows=4, buckets=1)
        backup(c, "r_down", "kept")
        backup(c, "r_down", "gone", "2 SECOND")
        _, info = details(c, "r_down", "gone")
        assert labels(c, "r_down") == ["gone", "kept"]
    expires = dt.datetime.strptime(info["expire_time"], "%Y-%m-%d %H:%M:%S") + dt.timedelta(seconds=1)

    def until_expired() -> None:
        while dt.datetime.now() < expires:
            time.sleep(0.05)

    # after the restart the check interval is its default (a minute): the pass at start drops it
    restart(srv, between=until_expired)
    with srv.connect() as c:
        wait_dropped(c, "r_down", "gone", timeout=20.0)
        assert labels(c, "r_down") == ["kept"]
    assert not snapshot_dir(location, "r_down", "gone").exists()
    assert snapshot_dir(location, "r_down", "kept").is_dir()


def test_backup_ttl_example(conn: pymysql.connections.Connection, tmp_path: Path) -> None:
    """examples/backup_ttl.sql runs as its comments say, against a repository in a temp dir."""
    text = (Path(__file__).resolve().parents[1] / "examples" / "backup_ttl.sql").read_text()
    assert "file:///tmp/dorisbk-ttl-example-repo" in text
    statements = sql_statements(text.replace("file:///tmp/dorisbk-ttl-example-repo", f"file://{tmp_path}"))
    scratch = next(i for i, s in enumerate(statements) if "events_scratch" in s)
    run_script(conn, statements[: scratch + 1])
    before = listed(conn, "example_ttl_repo")
    assert before["events_baseline"][2] is None
    assert before["events_20240521"][2] == stamp_time(before["events_20240521"][0]) + dt.timedelta(days=14)
    # "wait: events_scratch is no longer listed"
    wait_dropped(conn, "example_ttl_repo", "events_scratch")
    assert labels(conn, "example_ttl_repo") == ["events_20240521", "events_baseline"]
    run_script(conn, statements[scratch + 1 :])
    assert "example_ttl" not in [r[0] for r in q(conn, "SHOW DATABASES")]
    assert [p.name for p in (tmp_path / "__palo_repository_example_ttl_repo").iterdir()] == ["__repo_info"]
    set_config(conn, "snapshot_ttl_check_interval_ms", SLOW)
