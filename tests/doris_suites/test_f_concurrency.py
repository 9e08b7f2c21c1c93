"""Doris's ``test_backup_restore_concurrency`` replayed: ``enable_table_level_backup_concurrency``.

With the knob on, backups and restores of different tables of one database run side by side,
SHOW BACKUP / SHOW RESTORE gain ``QueuePos`` (``Running`` for an active job) and ``BlockReason``,
and ``CANCEL BACKUP ... WHERE LABEL`` picks jobs by label. A job that shares a table with an
earlier restore waits in the queue. With the knob off nothing changes: one unfinished job per
database and the classic 14 SHOW BACKUP columns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pymysql
import pytest

from tests.doris_suites.suite_support import ONES, agg_table, conn, count, new_db, repo
from tests.doris_suites.syncer import (
    get_snapshot_timestamp,
    sql,
    sql_dicts,
    sql_error,
    wait_all_restore_finish,
    wait_backup_end,
    wait_snapshot_finish,
)
from tests.jobkit import set_config

__all__ = ["conn", "repo"]

KNOB = "enable_table_level_backup_concurrency"


@pytest.fixture
def concurrency(conn: pymysql.connections.Connection) -> Iterator[None]:
    """The knob on for one test, put back as the suite does in its ``finally`` blocks."""
    original = sql(conn, f"ADMIN SHOW FRONTEND CONFIG LIKE '{KNOB}'")[0][1]
    assert original == "false"
    set_config(conn, KNOB, "true")
    yield
    set_config(conn, KNOB, original)
    set_config(conn, "debug_pause_job_states", "")


def three_tables(conn: pymysql.connections.Connection) -> tuple[str, list[str]]:
    db = new_db(conn, "concurrency")
    names = [f"t{i}" for i in range(1, 4)]
    for name in names:
        sql(conn, agg_table(f"{db}.{name}"))
        sql(conn, f"INSERT INTO {db}.{name} VALUES {ONES}")
    return db, names


def test_backups_and_restores_of_different_tables_run_together(
    conn: pymysql.connections.Connection, repo: str, concurrency: None
) -> None:
    db, tables = three_tables(conn)
    for i, table in enumerate(tables):
        sql(conn, f"BACKUP SNAPSHOT {db}.bk_{i} TO `{repo}` ON ({table})")
    shown = sql_dicts(conn, f"SHOW BACKUP FROM {db}")
    assert len(shown) == 3
    assert list(shown[0])[-2:] == ["QueuePos", "BlockReason"]
    for row in shown:
        if row["State"] not in ("FINISHED", "CANCELLED"):
            assert row["QueuePos"] == "Running", row
    wait_snapshot_finish(conn, db)
    assert [r["State"] for r in sql_dicts(conn, f"SHOW BACKUP FROM {db}")] == ["FINISHED"] * 3

    for table in tables:
        sql(conn, f"TRUNCATE TABLE {db}.{table}")
    stamps = [get_snapshot_timestamp(conn, repo, f"bk_{i}") for i in range(3)]
    assert None not in stamps
    for i, table in enumerate(tables):
        sql(
            conn,
            f"RESTORE SNAPSHOT {db}.bk_{i} FROM `{repo}` ON ({table}) "
            f'PROPERTIES ("backup_timestamp" = "{stamps[i]}", "reserve_replica" = "true")',
        )
    restores = sql_dicts(conn, f"SHOW RESTORE FROM {db}")
    assert len(restores) == 3
    assert all(r["QueuePos"] == "Running" for r in restores if r["State"] not in ("FINISHED", "CANCELLED"))
    wait_all_restore_finish(conn, db)
    for table in tables:
        assert len(sql(conn, f"SELECT * FROM {db}.{table}")) == 10


def test_cancel_by_label(conn: pymysql.connections.Connection, repo: str, concurrency: None) -> None:
    db, tables = three_tables(conn)
    for statement in (
        f"CANCEL BACKUP FROM {db} WHERE LABEL = 'nonexistent_label_xyz'",
        f"CANCEL BACKUP FROM {db} WHERE LABEL LIKE 'zzz_no_match_%'",
    ):
        _, message = sql_error(conn, statement)
        assert "No backup job" in message
    set_config(conn, "debug_pause_job_states", "BACKUP:UPLOADING")
    sql(conn, f"BACKUP SNAPSHOT {db}.cancel_keep TO `{repo}` ON ({tables[0]})")
    sql(conn, f"BACKUP SNAPSHOT {db}.cancel_target TO `{repo}` ON ({tables[1]})")
    sql(conn, f"CANCEL BACKUP FROM {db} WHERE LABEL = 'cancel_target'")
    set_config(conn, "debug_pause_job_states", "")
    wait_backup_end(conn, db)
    states = {r["SnapshotName"]: r["State"] for r in sql_dicts(conn, f"SHOW BACKUP FROM {db}")}
    assert states == {"cancel_keep": "FINISHED", "cancel_target": "CANCELLED"}


def test_restore_waits_for_a_job_on_its_table(
    conn: pymysql.connections.Connection, repo: str, concurrency: None
) -> None:
    db, tables = three_tables(conn)
    sql(conn, f"BACKUP SNAPSHOT {db}.base TO `{repo}` ON ({tables[0]})")
    wait_snapshot_finish(conn, db)
    ts = get_snapshot_timestamp(conn, repo, "base")
    set_config(conn, "debug_pause_job_states", "BACKUP:UPLOADING")
    sql(conn, f"BACKUP SNAPSHOT {db}.held TO `{repo}` ON ({tables[0]})")
    sql(conn, f"BACKUP SNAPSHOT {db}.other TO `{repo}` ON ({tables[0]})")  # two backups of one table: no conflict
    sql(
        conn,
        f"RESTORE SNAPSHOT {db}.base FROM `{repo}` ON ({tables[0]}) "
        f'PROPERTIES ("backup_timestamp" = "{ts}", "reserve_replica" = "true")',
    )
    (queued,) = sql_dicts(conn, f"SHOW RESTORE FROM {db}")
    assert (queued["State"], queued["QueuePos"]) == ("PENDING", "1")
    assert "held" in queued["BlockReason"], queued
    backups = {r["SnapshotName"]: r["QueuePos"] for r in sql_dicts(conn, f"SHOW BACKUP FROM {db}")}
    assert backups == {"base": "", "held": "Running", "other": "Running"}
    time.sleep(0.3)  # several scheduler rounds: the restore must still wait
    assert sql_dicts(conn, f"SHOW RESTORE FROM {db}")[0]["State"] == "PENDING"
    set_config(conn, "debug_pause_job_states", "")
    wait_snapshot_finish(conn, db)
    wait_all_restore_finish(conn, db)
    assert count(conn, f"{db}.{tables[0]}") == 10


def test_knob_off_keeps_one_job_per_database(conn: pymysql.connections.Connection, repo: str) -> None:
    db, tables = three_tables(conn)
    set_config(conn, "debug_pause_job_states", "BACKUP:UPLOADING")
    try:
        sql(conn, f"BACKUP SNAPSHOT {db}.first TO `{repo}` ON ({tables[0]})")
        _, message = sql_error(conn, f"BACKUP SNAPSHOT {db}.second TO `{repo}` ON ({tables[1]})")
        assert message.endswith("Can only run one backup or restore job of a database at same time")
        shown = sql_dicts(conn, f"SHOW BACKUP FROM {db}")
        assert len(shown[0]) == 14 and "QueuePos" not in shown[0]
        _, message = sql_error(conn, f"CANCEL BACKUP FROM {db} WHERE LABEL = 'second'")
        assert "No backup job is currently running" in message
        sql(conn, f"CANCEL BACKUP FROM {db}")
    finally:
        set_config(conn, "debug_pause_job_states", "")
    assert wait_backup_end(conn, db)["State"] == "CANCELLED"
