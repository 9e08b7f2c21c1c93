"""Doris's suites that restore one table at several of its versions, and a snapshot kept on the
frontend: ``test_MoW_backup_restore``, ``test_seq_map_backup_restore``,
``test_backup_restore_get_snapshot`` and ``test_backup_restore_reset_index_id``.

The first two take their snapshots to ``__keep_on_local__`` and restore them through the CCR
syncer's thrift calls; here the same table versions are backed up to a LOCAL repository and
restored with RESTORE SNAPSHOT, and the rows after each restore are what the suites expect.
The multi-frontend part of ``get_snapshot`` and the BE meta URLs of ``reset_index_id`` have no
counterpart on one machine; their SQL is replayed.
"""

from __future__ import annotations

import pymysql

from tests.doris_suites.suite_support import conn, ints, new_db, repo
from tests.doris_suites.suite_support import restore as suite_restore
from tests.doris_suites.syncer import (
    get_snapshot_timestamp,
    sql,
    sql_dicts,
    wait_snapshot_finish,
    wait_snapshot_timestamp,
)

__all__ = ["conn", "repo"]


def backup(conn: pymysql.connections.Connection, db: str, label: str, repo: str, table: str) -> str:
    sql(conn, f'backup snapshot {db}.{label} to {repo} on ({table}) properties("type"="full")')
    return wait_snapshot_timestamp(conn, db, repo, label)


def restore(conn: pymysql.connections.Connection, db: str, label: str, repo: str, ts: str, table: str) -> None:
    suite_restore(conn, db, label, repo, ts, f"ON (`{table}`)", reserve_replica="true")


MOW_TABLE = """CREATE TABLE IF NOT EXISTS {name}
    ( `user_id` INT NOT NULL, `value` INT NOT NULL)
    UNIQUE KEY(`user_id`)
    DISTRIBUTED BY HASH(`user_id`)
    BUCKETS 1
    PROPERTIES ("replication_allocation" = "tag.location.default: 1",
    "disable_auto_compaction" = "true",
    "enable_unique_key_merge_on_write" = "true");"""


def test_mow_backup_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "mow")
    tbl = f"{db}.demo_MoW"
    sql(conn, f"drop table if exists {tbl}")
    sql(conn, MOW_TABLE.format(name=tbl))
    expected = {}

    def snapshot(label: str) -> None:
        expected[label] = (
            backup(conn, db, label, repo, "demo_MoW"),
            ints(sql(conn, f"select * from {tbl} order by 1")),
        )

    sql(conn, f"insert into {tbl} values(1,1),(2,2)")
    snapshot("snapshot1")
    sql(conn, f"insert into {tbl} values(1,10)")
    snapshot("snapshot2")
    sql(conn, f"update {tbl} set value = 100 where user_id = 1")
    snapshot("snapshot3")
    sql(conn, f"delete from {tbl} where user_id = 1")
    snapshot("snapshot4")
    assert [rows for _ts, rows in expected.values()] == [
        [(1, 1), (2, 2)],
        [(1, 10), (2, 2)],
        [(1, 100), (2, 2)],
        [(2, 2)],
    ]
    # each version restored over the table as it is, then into a table created anew
    for fresh in (False, True):
        if fresh:
            sql(conn, f"drop table if exists {tbl}")
            sql(conn, MOW_TABLE.format(name=tbl))
        for label, (ts, rows) in expected.items():
            restore(conn, db, label, repo, ts, "demo_MoW")
            assert ints(sql(conn, f"select * from {tbl} order by 1")) == rows, label
    # a load after the restores merges with the restored rows by key
    sql(conn, f"insert into {tbl} values(2,20),(3,3)")
    assert ints(sql(conn, f"select * from {tbl} order by 1")) == [(2, 20), (3, 3)]


def test_seq_map_backup_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    """The table versions of the suite (sequence_mapping properties kept), restored in turn."""
    sql(conn, "admin set frontend config('max_backup_restore_job_num_per_db'=50);")
    db = new_db(conn, "seq_map")
    tbl = f"{db}.demo_seq_map"
    create = f"""
        CREATE TABLE {tbl} (
            `a` bigint(20) NULL COMMENT "",
            `c` int(11) NULL COMMENT "",
            `d` int(11) NULL COMMENT "",
            `e` int(11) NULL COMMENT "",
            `s1` int(11) NULL COMMENT "",
            `s2` int(11) NULL COMMENT ""
            ) ENGINE=OLAP
            UNIQUE KEY(`a`)
            COMMENT "OLAP"
            DISTRIBUTED BY HASH(`a`) BUCKETS 1
            PROPERTIES (
            "enable_unique_key_merge_on_write" = "false",
            "light_schema_change"="true",
            "replication_num" = "1",
            "sequence_mapping.s1" = "c,d",
            "sequence_mapping.s2" = "e"
            );
    """
    sql(conn, f"drop table if exists {tbl}")
    sql(conn, create)
    assert '"sequence_mapping.s1" = "c,d"' in sql(conn, f"SHOW CREATE TABLE {tbl}")[0][1]
    expected = {}

    def snapshot(label: str) -> None:
        ts = backup(conn, db, label, repo, "demo_seq_map")
        expected[label] = (ts, ints(sql(conn, f"select * from {tbl} order by a")))

    # rows with smaller sequence values do not replace the columns they map to
    sql(conn, f"insert into {tbl} values(1,2,2,2,2,2),(2,3,3,3,3,3)")
    sql(conn, f"insert into {tbl} values(1,1,1,1,1,1),(2,2,2,2,2,2)")
    snapshot("seq_map_snapshot1")
    sql(conn, f"insert into {tbl} values(1,10,10,10,10,10)")
    snapshot("seq_map_snapshot2")
    sql(conn, f"update {tbl} set d = 100 where a = 1")
    snapshot("seq_map_snapshot3")
    sql(conn, f"delete from {tbl} where a = 1")
    snapshot("seq_map_snapshot4")
    assert [rows for _ts, rows in expected.values()] == [
        [(1, 2, 2, 2, 2, 2), (2, 3, 3, 3, 3, 3)],
        [(1, 10, 10, 10, 10, 10), (2, 3, 3, 3, 3, 3)],
        [(1, 10, 100, 10, 10, 10), (2, 3, 3, 3, 3, 3)],
        [(2, 3, 3, 3, 3, 3)],
    ]
    for fresh in (False, True):
        if fresh:
            sql(conn, f"drop table if exists {tbl}")
            sql(conn, create)
        for label, (ts, rows) in expected.items():
            restore(conn, db, label, repo, ts, "demo_seq_map")
            assert ints(sql(conn, f"select * from {tbl} order by a")) == rows, label
    # the restored table keeps its sequence mapping
    assert '"sequence_mapping.s2" = "e"' in sql(conn, f"SHOW CREATE TABLE {tbl}")[0][1]

    # a sequence column that maps no column keeps its largest value
    tbl = f"{db}.test_seq_map_seq_without_value"
    sql(
        conn,
        f"""
        CREATE TABLE {tbl} (
            `a` bigint(20) NULL COMMENT "",
            `s1` int(11) NULL COMMENT ""
            ) ENGINE=OLAP
            UNIQUE KEY(`a`)
            COMMENT "OLAP"
            DISTRIBUTED BY HASH(`a`) BUCKETS 1
            PROPERTIES (
            "enable_unique_key_merge_on_write" = "false",
            "light_schema_change"="true",
            "replication_num" = "1",
            "sequence_mapping.s1" = ""
            );
        """,
    )
    sql(conn, f"insert into {tbl}(a, s1) values (1,10);")
    sql(conn, f"insert into {tbl}(a, s1) values (1,5);")
    assert ints(sql(conn, f"select a, s1 from {tbl} order by a;")) == [(1, 10)]
    ts = backup(conn, db, "seq_map_seq_without_value_snapshot", repo, "test_seq_map_seq_without_value")
    restore(conn, db, "seq_map_seq_without_value_snapshot", repo, ts, "test_seq_map_seq_without_value")
    assert ints(sql(conn, f"select * from {tbl} order by a")) == [(1, 10)]


def test_backup_restore_get_snapshot(conn: pymysql.connections.Connection) -> None:
    """A snapshot kept on the frontend (``__keep_on_local__``): the backup finishes and is listed."""
    db = new_db(conn, "get_snapshot")
    sql(conn, f"use {db}")
    sql(
        conn,
        """
        CREATE TABLE backup_table (
            `id` LARGEINT NOT NULL,
            `count` LARGEINT SUM DEFAULT "0")
        AGGREGATE KEY(`id`)
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    sql(conn, f"INSERT INTO backup_table VALUES {','.join(f'({i}, {i})' for i in range(1, 11))}")
    assert len(sql(conn, "SELECT * FROM backup_table")) == 10
    sql(conn, "BACKUP SNAPSHOT snapshot_name TO `__keep_on_local__` ON (backup_table)")
    job = wait_snapshot_finish(conn, db)
    assert job["SnapshotName"] == "snapshot_name"


def test_backup_restore_reset_index_id(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "reset_index_id")
    name = "test_backup_restore_reset_index_id_table"
    tbl = f"{db}.{name}"
    sql(
        conn,
        f"""
        CREATE TABLE if NOT EXISTS {tbl}
        (
            `test` INT,
            `id` INT,
            `username` varchar(32) NULL DEFAULT "",
            `extra` varchar(32) NULL DEFAULT "",
            INDEX idx_ngrambf (`username`) USING NGRAM_BF PROPERTIES("bf_size" = "256", "gram_size" = "3"),
            INDEX idx_extra_ngram (`extra`) USING NGRAM_BF PROPERTIES("bf_size" = "256", "gram_size" = "3"),
            INDEX idx_extra_inverted (`extra`) USING INVERTED
        )
        ENGINE=OLAP
        DUPLICATE KEY(`test`, `id`)
        DISTRIBUTED BY HASH(id) BUCKETS 1
        PROPERTIES ("replication_allocation" = "tag.location.default: 1")
        """,
    )
    values = ",".join(f'({j}, {j}1, "{j} {j * 10}", "index_test")' for j in range(11))
    sql(conn, f"INSERT INTO {tbl} VALUES {values}")
    before = sql_dicts(conn, f"SHOW INDEX FROM {tbl}")
    assert {i["Key_name"] for i in before} == {"idx_ngrambf", "idx_extra_ngram", "idx_extra_inverted"}
    try:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "true")')
        label = "test_backup_restore_reset_index_id_snapshot"
        sql(conn, f"BACKUP SNAPSHOT {db}.{label} TO `{repo}` ON (`{name}`)")
        wait_snapshot_finish(conn, db)
        ts = get_snapshot_timestamp(conn, repo, label)
        assert ts is not None
        sql(conn, f"DROP TABLE {tbl}")
        restore(conn, db, label, repo, ts, name)
        after = sql_dicts(conn, f"SHOW INDEX FROM {tbl}")
        assert {i["Key_name"] for i in after} == {i["Key_name"] for i in before}
        assert len(sql(conn, f"SELECT * FROM {tbl}")) == 11
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "false")')
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")
