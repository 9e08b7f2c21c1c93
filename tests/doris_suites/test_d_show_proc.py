"""``SHOW PROC`` and ``SHOW TABLET <id>`` as Doris's suites and the CCR syncer use them, and the
index-id steps of ``test_backup_restore_reset_index_id`` and ``test_backup_restore_inverted_idx``
that need them (a tablet id → its db and table ids → ``/dbs/<db>/<table>/indexes``).

The rest of those two suites is replayed in test_a_restore_versions.py and test_c_indexes.py; the
BE meta-header URLs that ``reset_index_id`` also reads (tablet schema index ids over HTTP) have no
counterpart here.
"""

from __future__ import annotations

import pymysql

from tests.doris_suites.suite_support import backup, conn, new_db, repo, restore
from tests.doris_suites.syncer import sql, sql_dicts, sql_error
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns

__all__ = ["conn", "repo"]


def index_id(conn: pymysql.connections.Connection, table: str, name: str) -> str:
    """The suites' ``query_index_id``: SHOW TABLETS → SHOW TABLET <id> → SHOW PROC '.../indexes'."""
    tablet = sql_dicts(conn, f"SHOW TABLETS FROM {table}")[0]["TabletId"]
    where = sql_dicts(conn, f"SHOW TABLET {tablet}")[0]
    for record in sql_dicts(conn, f""" SHOW PROC "/dbs/{where["DbId"]}/{where["TableId"]}/indexes" """):
        if record["KeyName"] == name:
            return str(record["IndexId"])
    raise AssertionError(f"index {name} is not exists")


def test_proc_tree_walk(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "proc")
    sql(conn, f"""CREATE TABLE {db}.t (k INT, v VARCHAR(10), INDEX iv (v) USING INVERTED)
        DUPLICATE KEY(k) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ("10"),
        PARTITION p2 VALUES LESS THAN ("20")) DISTRIBUTED BY HASH(k) BUCKETS 2
        PROPERTIES ("replication_num" = "1")""")  # fmt: skip
    sql(conn, f"INSERT INTO {db}.t VALUES (1, 'a'), (15, 'b')")
    dbs = sql_dicts(conn, "SHOW PROC '/dbs'")
    assert list(dbs[0])[:3] == ["DbId", "DbName", "TableNum"]
    db_id = next(r["DbId"] for r in dbs if r["DbName"] == db)
    tables = sql_dicts(conn, f"SHOW PROC '/dbs/{db_id}'")
    assert columns(conn, f"SHOW PROC '/dbs/{db_id}'") == [
        "TableId", "TableName", "IndexNum", "PartitionColumnName", "PartitionNum", "State", "Type",
        "LastConsistencyCheckTime", "ReplicaCount",
    ]  # fmt: skip
    (t,) = tables
    assert (t["TableName"], t["PartitionColumnName"], t["PartitionNum"], t["State"], t["Type"]) == (
        "t", "k", "2", "NORMAL", "OLAP"
    )  # fmt: skip
    assert [r[0] for r in sql(conn, f"SHOW PROC '/dbs/{db_id}/{t['TableId']}'")] == [
        "partitions", "temp_partitions", "index_schema", "indexes"
    ]  # fmt: skip
    schema = sql_dicts(conn, f"SHOW PROC '/dbs/{db_id}/{t['TableId']}/index_schema'")
    assert [(r["IndexName"], r["Field"], r["Key"]) for r in schema] == [("t", "k", "true"), ("", "v", "false")]
    parts = sql_dicts(conn, f"SHOW PROC '/dbs/{db_id}/{t['TableId']}/partitions'")
    assert [p["PartitionName"] for p in parts] == ["p1", "p2"]
    assert [p["VisibleVersion"] for p in parts] == ["2", "2"]
    assert columns(conn, f"SHOW PROC '/dbs/{db_id}/{t['TableId']}/partitions'") == columns(
        conn, f"SHOW PARTITIONS FROM {db}.t"
    )
    p1 = parts[0]["PartitionId"]
    indices = sql_dicts(conn, f"SHOW PROC '/dbs/{db_id}/{t['TableId']}/partitions/{p1}'")
    assert [(i["IndexName"], i["State"]) for i in indices] == [("t", "NORMAL")]
    assert list(indices[0]) == ["IndexId", "IndexName", "State", "LastConsistencyCheckTime"]
    path = f"/dbs/{db_id}/{t['TableId']}/partitions/{p1}/{indices[0]['IndexId']}"
    tablets = sql_dicts(conn, f"SHOW PROC '{path}'")
    assert len(tablets) == 2 and list(tablets[0])[:3] == ["TabletId", "ReplicaId", "BackendId"]
    shown = {r["TabletId"] for r in sql_dicts(conn, f"SHOW TABLETS FROM {db}.t PARTITION (p1)")}
    assert {r["TabletId"] for r in tablets} == shown
    replicas = sql_dicts(conn, f"SHOW PROC '{path}/{tablets[0]['TabletId']}'")
    assert list(replicas[0])[:2] == ["ReplicaId", "BackendId"] and len(replicas) == 1
    # SHOW TABLET <id> says where a tablet lives and how to look at it
    one = sql_dicts(conn, f"SHOW TABLET {tablets[0]['TabletId']}")[0]
    assert list(one) == ["DbName", "TableName", "PartitionName", "IndexName", "DbId", "TableId", "PartitionId",
                         "IndexId", "IsSync", "Order", "QueryHits", "DetailCmd"]  # fmt: skip
    assert (one["DbName"], one["TableName"], one["PartitionName"], one["IndexName"]) == (db, "t", "p1", "t")
    assert (one["DbId"], one["TableId"], one["PartitionId"], one["IsSync"]) == (db_id, t["TableId"], p1, "true")
    assert one["DetailCmd"] == f"SHOW PROC '{path}/{tablets[0]['TabletId']}';"
    missing = sql_dicts(conn, "SHOW TABLET 99999999")[0]
    assert (missing["DbId"], missing["DbName"], missing["IsSync"]) == ("-1", "\\N", "false")
    indexes = sql_dicts(conn, f"SHOW PROC '/dbs/{db_id}/{t['TableId']}/indexes'")
    assert [(i["KeyName"], i["IndexType"], i["ColumnName"]) for i in indexes] == [("iv", "INVERTED", "v")]
    backends = sql_dicts(conn, "SHOW PROC '/backends'")
    assert backends and list(backends[0])[:2] == ["BackendId", "Host"]
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_proc_bad_paths(conn: pymysql.connections.Connection, server: DorisbkServer) -> None:
    db = new_db(conn, "proc_bad")
    sql(conn, f'CREATE TABLE {db}.t (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ("replication_num" = "1")')
    db_id = next(r["DbId"] for r in sql_dicts(conn, "SHOW PROC '/dbs'") if r["DbName"] == db)
    assert "Invalid db id format: x" in sql_error(conn, "SHOW PROC '/dbs/x'")[1]
    assert "Database 1 does not exist" in sql_error(conn, "SHOW PROC '/dbs/1'")[1]
    assert "Unknown table '1'" in sql_error(conn, f"SHOW PROC '/dbs/{db_id}/1'")[1]
    table_id = sql_dicts(conn, f"SHOW PROC '/dbs/{db_id}'")[0]["TableId"]
    assert "Not implemented yet: nope" in sql_error(conn, f"SHOW PROC '/dbs/{db_id}/{table_id}/nope'")[1]
    assert "Partition[7] does not exist" in sql_error(conn, f"SHOW PROC '/dbs/{db_id}/{table_id}/partitions/7'")[1]
    assert "Proc path '/nope' doesn't exist" in sql_error(conn, "SHOW PROC '/nope'")[1]
    assert "does not start with '/'" in sql_error(conn, "SHOW PROC 'dbs'")[1]
    sql(conn, "CREATE USER IF NOT EXISTS 'proc_reader' IDENTIFIED BY 'pw'")
    with server.connect(user="proc_reader", password="pw") as other:
        assert sql_error(other, "SHOW PROC '/dbs'")[0] == 1227
        assert sql_error(other, "SHOW TABLET 1")[0] == 1227
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_reset_index_id_changes_ids(conn: pymysql.connections.Connection, repo: str) -> None:
    """test_backup_restore_reset_index_id: with ``restore_reset_index_id`` the restored indexes get new ids."""
    db = new_db(conn, "d_reset_index_id")
    name = "test_backup_restore_reset_index_id_table"
    tbl = f"{db}.{name}"
    sql(conn, f"""CREATE TABLE if NOT EXISTS {tbl} (`test` INT, `id` INT,
            `username` varchar(32) NULL DEFAULT "", `extra` varchar(32) NULL DEFAULT "",
            INDEX idx_ngrambf (`username`) USING NGRAM_BF PROPERTIES("bf_size" = "256", "gram_size" = "3"),
            INDEX idx_extra_ngram (`extra`) USING NGRAM_BF PROPERTIES("bf_size" = "256", "gram_size" = "3"),
            INDEX idx_extra_inverted (`extra`) USING INVERTED)
        ENGINE=OLAP DUPLICATE KEY(`test`, `id`) DISTRIBUTED BY HASH(id) BUCKETS 1
        PROPERTIES ("replication_allocation" = "tag.location.default: 1")""")  # fmt: skip
    sql(conn, f"INSERT INTO {tbl} VALUES " + ",".join(f'({j}, {j}1, "{j} {j * 10}", "index_test")' for j in range(11)))
    try:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "true")')
        ts = backup(conn, db, "snap", repo, f"ON (`{name}`)")
        old = [index_id(conn, tbl, n) for n in ("idx_ngrambf", "idx_extra_ngram")]
        sql(conn, f"DROP TABLE {tbl}")
        restore(conn, db, "snap", repo, ts, f"ON (`{name}`)", reserve_replica="true")
        new = [index_id(conn, tbl, n) for n in ("idx_ngrambf", "idx_extra_ngram")]
        assert old[0] != new[0] and old[1] != new[1]
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "false")')
    sql(conn, f"DROP TABLE {tbl} FORCE")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_inverted_idx_keeps_index_id(conn: pymysql.connections.Connection, repo: str) -> None:
    """test_backup_restore_inverted_idx: without ``restore_reset_index_id`` a restored index keeps its id."""
    db = new_db(conn, "d_inverted_idx")
    tbl = f"{db}.t"
    parts = ",".join(f'PARTITION p{i} VALUES LESS THAN ("{i}0")' for i in range(1, 8))
    sql(conn, f"""CREATE TABLE {tbl} (`id` LARGEINT NOT NULL, `value` STRING DEFAULT "", `value1` STRING DEFAULT "",
            INDEX `idx_value` (`value`) USING INVERTED PROPERTIES ("parser" = "english"))
        UNIQUE KEY(`id`) PARTITION BY RANGE(`id`) ({parts}) DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")""")  # fmt: skip
    sql(conn, f"INSERT INTO {tbl} VALUES " + ",".join(f'({j}1, "{j} {j * 10}", "{j * 11}")' for j in range(7)))
    try:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "false")')
        ts = backup(conn, db, "snap", repo, "ON (`t`)")
        before = index_id(conn, tbl, "idx_value")
        sql(conn, f"DROP TABLE {tbl}")
        restore(conn, db, "snap", repo, ts, "ON (`t`)", reserve_replica="true")
        assert index_id(conn, tbl, "idx_value") == before
    finally:
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "true")')
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "false")')
    sql(conn, f"DROP DATABASE {db} FORCE")
