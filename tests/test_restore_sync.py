"""RESTORE's synchronous checks, its properties, SHOW RESTORE / CANCEL RESTORE and the job rules.

Everything here is refused (or accepted) when the statement runs, before the job does any
work; jobs that are accepted are held or cancelled so the module's server stays quick.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.jobkit import (
    described,
    doris_err,
    err,
    insert,
    q,
)
from tests.test_restore_support import (
    BRIEF_COLUMNS,
    FULL_COLUMNS,
    ONE,
    backup,
    cancelled,
    create_local_repo,
    fast,
    finished,
    make_range_table,
    make_unique_table,
    pause,
    restore_row,
    restore_rows,
    restore_sql,
    tables,
    wait_state,
)

BOOLEANS = (
    "reserve_replica",
    "reserve_dynamic_partition_enable",
    "allow_load",
    "clean_tables",
    "clean_partitions",
    "atomic_restore",
    "force_replace",
)


@pytest.fixture(scope="module")
def env(server: DorisbkServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    conn = server.connect()
    fast(conn)
    location = tmp_path_factory.mktemp("repo")
    create_local_repo(conn, "r", location)
    q(conn, "CREATE DATABASE src")
    make_range_table(conn, "src.t")
    insert(conn, "src.t", [1, 2, 11, 21])
    make_unique_table(conn, "src.u")
    q(conn, "INSERT INTO src.u VALUES (1, 'a', 1.50, '2024-01-01')")
    q(conn, "CREATE VIEW src.v AS SELECT k FROM src.t WHERE k > 5")
    ts = backup(conn, "src", "snap", "r")
    yield {"conn": conn, "ts": ts, "location": location, "server": server}
    pause(conn)
    conn.close()


_db_counter = iter(range(1000))


def new_db(conn: pymysql.connections.Connection) -> str:
    name = f"tgt{next(_db_counter)}"
    q(conn, f"CREATE DATABASE {name}")
    return name


def refused(env: dict, sql: str, code: int = 1105) -> str:
    return doris_err(env["conn"], sql, code)


# ---- properties
def test_unknown_property_is_refused(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], props=f'{ONE}, "foo" = "1", "bar" = "x"')
    assert refused(env, sql) == "Unknown restore job properties: [foo, bar]"


@pytest.mark.parametrize("name", BOOLEANS)
def test_invalid_boolean_is_refused(env: dict, name: str) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], props=f'{ONE}, "{name}" = "yes"')
    assert refused(env, sql) == f"Invalid boolean property {name} value: yes"


def test_missing_backup_timestamp(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], with_ts=False)
    assert refused(env, sql) == "Missing backup_timestamp property"
    assert refused(env, "RESTORE SNAPSHOT src.snap FROM r") == "Missing backup_timestamp property"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("599", "timeout must be at least 10 min"),
        ("0", "timeout must be at least 10 min"),
        ("ten", "Invalid timeout format: ten"),
    ],
)
def test_bad_timeout(env: dict, value: str, message: str) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], props=f'{ONE}, "timeout" = "{value}"')
    assert refused(env, sql) == message


def test_bad_replication_values(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], props='"replication_num" = "two"')
    assert "replication_num" in refused(env, sql)
    sql = restore_sql("src", "snap", "r", env["ts"], props='"replication_allocation" = "rack: 1"')
    assert "replication allocation" in refused(env, sql)


def test_valid_properties_are_shown(env: dict) -> None:
    """Timeout 600, allocation, booleans in any case: accepted, shown by SHOW RESTORE, and the job finishes."""
    conn = env["conn"]
    db = new_db(conn)
    props = (
        '"replication_allocation" = "tag.location.default: 1", "timeout" = "600", "allow_load" = "TRUE", '
        '"reserve_dynamic_partition_enable" = "True", "meta_version" = "1", "clean_tables" = "FALSE"'
    )
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props))
    row = finished(conn, db)
    assert row["Timeout"] == "600"
    assert row["ReplicationNum"] == "1"
    assert row["ReplicaAllocation"] == "tag.location.default: 1"
    assert row["AllowLoad"] == "true"
    assert row["ReserveDynamicPartitionEnable"] == "true"
    assert row["ReserveReplica"] == "false"
    assert row["Timestamp"] == env["ts"]
    assert row["DbName"] == db


def test_default_replication_fits_the_backends(env: dict) -> None:
    """Without replication_num the restore asks for Doris's 3 replicas, or one per backend where there are fewer."""
    conn = env["conn"]
    db = new_db(conn)
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props=""))
    row = finished(conn, db)
    assert row["ReplicationNum"] == "1"
    assert row["ReplicaAllocation"] == "tag.location.default: 1"
    assert q(conn, f"SELECT count(*) FROM {db}.t") == [(4,)]


def test_more_replicas_than_backends(env: dict) -> None:
    """Three replicas asked for, one backend: the job is cancelled with Doris's message, nothing created."""
    conn = env["conn"]
    db = new_db(conn)
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props='"replication_num" = "3"'))
    status = cancelled(conn, db, "Failed to find enough backend", "replication num: 3")
    assert status.startswith("[COMMON_ERROR, msg: ")
    row = restore_row(conn, db)
    assert row["ReplicationNum"] == "3"
    assert row["ReplicaAllocation"] == "tag.location.default: 3"
    assert tables(conn, db) == []


def test_reserve_replica_keeps_the_snapshot_allocation(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)", props='"reserve_replica" = "true"'))
    row = finished(conn, db)
    assert row["ReserveReplica"] == "true"
    assert q(conn, f"SELECT count(*) FROM {db}.t") == [(4,)]


# ---- what the statement names
def test_wrong_timestamp(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", "2001-01-01-00-00-00")
    message = refused(env, sql)
    assert message.startswith("Failed to get info of snapshot 'snap' because: ")
    assert message.endswith(". Maybe specified wrong backup timestamp")


def test_unknown_snapshot(env: dict) -> None:
    message = refused(env, restore_sql("src", "nosuch", "r", env["ts"]))
    assert message.startswith("Failed to get info of snapshot 'nosuch' because: ")


def test_unknown_repository_and_database(env: dict) -> None:
    assert refused(env, restore_sql("src", "snap", "nosuch", env["ts"])) == "Repository nosuch does not exist"
    refused(env, restore_sql("nodb", "snap", "r", env["ts"]), 1049)


def test_statement_checks_come_before_lookups(env: dict) -> None:
    """What the statement alone gets wrong is reported before the repository, database or snapshot."""
    bad_prop = 'PROPERTIES ("backup_timestamp" = "x", "foo" = "1")'
    assert (
        refused(env, f"RESTORE SNAPSHOT nodb.nosuch FROM norepo {bad_prop}") == "Unknown restore job properties: [foo]"
    )
    assert refused(env, "RESTORE SNAPSHOT nodb.nosuch FROM norepo") == "Missing backup_timestamp property"
    sql = restore_sql("nodb", "nosuch", "norepo", "x", "ON (t AS a, u AS a)")
    assert refused(env, sql) == "Duplicated alias name: a"


def test_table_not_in_snapshot(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], "ON (t, zz)")
    assert refused(env, sql) == "Table zz does not exist in snapshot snap"


def test_partition_not_in_snapshot(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], "ON (t PARTITION (p1, p9))")
    assert refused(env, sql) == "Partition p9 of table t does not exist in snapshot"


def test_duplicated_alias(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], "ON (t AS x, u AS x)")
    assert refused(env, sql) == "Duplicated alias name: x"
    sql = restore_sql("src", "snap", "r", env["ts"], "ON (t AS u, u)")
    assert refused(env, sql) == "Duplicated alias name: u"


def test_duplicated_table(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], "ON (t, t)")
    assert refused(env, sql) == "Duplicated table: t"


def test_alias_in_exclude(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], "EXCLUDE (t AS x)")
    assert refused(env, sql) == "The table alias in exclude clause does not make sense"


def test_temporary_partition(env: dict) -> None:
    sql = restore_sql("src", "snap", "r", env["ts"], "ON (t TEMPORARY PARTITION (p1))")
    assert refused(env, sql) == "Do not support restoring temporary partitions"


def test_exclude_ignores_unknown_tables(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    q(conn, restore_sql(db, "snap", "r", env["ts"], "EXCLUDE (t, v, nosuch)"))
    finished(conn, db)
    assert tables(conn, db) == ["u"]
    assert json.loads(restore_row(conn, db)["RestoreObjs"])["olap_table_list"] == [
        {"name": "u", "partition_names": ["u"]}
    ]


# ---- job rules
def test_one_job_per_database(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    pause(conn, "PENDING")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (t)"))
        wait_state(conn, db, "PENDING")
        message = refused(env, restore_sql(db, "snap", "r", env["ts"], "ON (u)"))
        assert message == "Can only run one backup or restore job of a database at same time"
        q(conn, f"CREATE TABLE {db}.x (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num'='1')")
        message = refused(env, f"BACKUP SNAPSHOT {db}.b1 TO r")
        assert message == "Can only run one backup or restore job of a database at same time"
        # another database is free to run its own job
        other = new_db(conn)
        q(conn, restore_sql(other, "snap", "r", env["ts"], "ON (u)"))
        wait_state(conn, other, "PENDING")
        q(conn, f"CANCEL RESTORE FROM {other}")
    finally:
        q(conn, f"CANCEL RESTORE FROM {db}")
        pause(conn)
    assert restore_row(conn, db)["State"] == "CANCELLED"


def test_admin_only(env: dict) -> None:
    conn = env["conn"]
    q(conn, "CREATE USER 'plain'@'%' IDENTIFIED BY 'pw'")
    q(conn, "GRANT ALL ON src.* TO 'plain'@'%'")
    server: DorisbkServer = env["server"]
    with server.connect(user="plain", password="pw") as other:
        for sql in (
            restore_sql("src", "snap", "r", env["ts"]),
            "SHOW RESTORE FROM src",
            "CANCEL RESTORE FROM src",
        ):
            code, message = err(other, sql)
            assert code == 1227, (sql, code, message)
            assert "ADMIN" in message, message


# ---- SHOW RESTORE / CANCEL RESTORE
def test_show_restore_columns_and_where(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    for label_db in ("a", "b"):
        q(
            conn,
            f"CREATE TABLE {db}.x{label_db} (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 "
            "PROPERTIES ('replication_num'='1')",
        )
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (u)"))
    finished(conn, db)
    names, found = described(conn, f"SHOW RESTORE FROM {db}")
    assert tuple(names) == FULL_COLUMNS and len(names) == 21
    assert len(found) == 1 and all(isinstance(v, str) for v in found[0])
    names, found = described(conn, f"SHOW BRIEF RESTORE FROM {db}")
    assert tuple(names) == BRIEF_COLUMNS and len(names) == 18
    row = restore_rows(conn, db)[0]
    assert row["Label"] == "snap" and row["State"] == "FINISHED" and row["Status"] == "[OK]"
    assert row["Timeout"] == "86400"
    for time_column in (
        "CreateTime",
        "MetaPreparedTime",
        "SnapshotFinishedTime",
        "DownloadFinishedTime",
        "FinishedTime",
    ):
        assert len(row[time_column]) == 19 and row[time_column][4] == "-", (time_column, row[time_column])
    objs = json.loads(row["RestoreObjs"])
    assert objs["name"] == "snap" and objs["database"] == "src"
    assert objs["olap_table_list"] == [{"name": "u", "partition_names": ["u"]}]
    assert objs["view_list"] == []
    assert row["RestoreObjs"].startswith("{\n  ")
    assert restore_rows(conn, db, "snap") == restore_rows(conn, db)
    assert restore_rows(conn, db, "other") == []
    assert len(q(conn, f'SHOW RESTORE FROM {db} WHERE Label LIKE "sn%"')) == 1
    assert len(q(conn, f'SHOW RESTORE FROM {db} WHERE label like "x%"')) == 0
    assert len(q(conn, f'SHOW BRIEF RESTORE FROM {db} WHERE Label = "snap"')[0]) == 18
    message = refused(env, f'SHOW RESTORE FROM {db} WHERE SnapshotName = "snap"')
    assert message == 'Where clause should like: LABEL = "your_label_name",  or LABEL LIKE "matcher"'
    # the current database is the default
    with env["server"].connect(database=db) as in_db:
        assert len(q(in_db, "SHOW RESTORE")) == 1
    code, message = err(conn, "SHOW RESTORE")
    assert "No database selected" in message
    # backups are not restore jobs
    assert q(conn, "SHOW RESTORE FROM src") == []


def test_cancel_restore_without_a_job(env: dict) -> None:
    conn = env["conn"]
    db = new_db(conn)
    assert refused(env, f"CANCEL RESTORE FROM {db}") == "No restore is currently running"
    code, message = err(conn, "CANCEL RESTORE")
    assert "No database selected" in message
    # without FROM, the current database's job is cancelled
    pause(conn, "DOWNLOAD")
    try:
        q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (u)"))
        wait_state(conn, db, "DOWNLOAD")
        with env["server"].connect(database=db) as in_db:
            q(in_db, "CANCEL RESTORE")
    finally:
        pause(conn)
    assert restore_row(conn, db)["Status"] == "[COMMON_ERROR, msg: user cancelled, current state: DOWNLOAD]"
    q(conn, restore_sql(db, "snap", "r", env["ts"], "ON (u)"))
    finished(conn, db)
    assert refused(env, f"CANCEL RESTORE FROM {db}") == "No restore is currently running"
    # a running backup is not a restore
    pause_backup = 'ADMIN SET FRONTEND CONFIG ("debug_pause_job_states" = "BACKUP:SNAPSHOTING")'
    q(conn, pause_backup)
    try:
        q(conn, f"BACKUP SNAPSHOT {db}.b2 TO r")
        assert refused(env, f"CANCEL RESTORE FROM {db}") == "No restore is currently running"
    finally:
        q(conn, f"CANCEL BACKUP FROM {db}")
        pause(conn)
