"""Doris's synchronous materialized view suites replayed: ``test_backup_restore_mv``,
``test_backup_restore_mv_write`` and ``test_backup_restore_table_mv_inert``.

A synchronous view is an index of its base table: CREATE MATERIALIZED VIEW runs an alter job
(SHOW ALTER TABLE MATERIALIZED VIEW), DESC t ALL lists the view's columns, EXPLAIN names the
view when it answers a query, loads keep it current, and a snapshot carries it to the restored
table. The suites' S3 repositories are local ones here: the views travel in the snapshot's meta.
"""

from __future__ import annotations

import pymysql

from tests.doris_suites.suite_support import agg_table, backup, conn, count, new_db, repo, restore, rows
from tests.doris_suites.syncer import (
    sql,
    sql_dicts,
    sql_error,
    wait_snapshot_timestamp,
)

__all__ = ["conn", "repo"]

BASE_TABLE = """
    CREATE TABLE {name} (
        `id` LARGEINT NOT NULL,
        `{value}` LARGEINT NOT NULL)
    DUPLICATE KEY(`id`)
    DISTRIBUTED BY HASH(`id`) BUCKETS 2
    PROPERTIES ("replication_num" = "1")
"""
VALUES = ",".join(f"({i}, {i})" for i in range(1, 11))
WRITE_TABLE = """
    CREATE TABLE `{name}` (
    `k` int NOT NULL,
    `k1` datetime NOT NULL,
    `k2` datetime NOT NULL,
    `vin` varchar(128) NULL
    ) ENGINE=OLAP
    DUPLICATE KEY(`k`, `k1`, `k2`, `vin`)
    DISTRIBUTED BY HASH(`k`) BUCKETS 5
    PROPERTIES ("replication_allocation" = "tag.location.default: 1");
"""
WRITE_VIEW = """
    CREATE materialized VIEW {name} AS SELECT
    DATE_FORMAT( date_add( k2, INTERVAL 1 HOUR ), '%Y-%m-%d %H:00:00' ) AS k2,
    vin,
    count( 1 ) AS val
    FROM
    {table}
    WHERE
    k1 > '2025-06-12 00:00:00'
    GROUP BY
    DATE_FORMAT( date_add( k2, INTERVAL 1 HOUR ), '%Y-%m-%d %H:00:00' ),
    vin
"""


def alter_finished(conn: pymysql.connections.Connection, db: str, table: str, mv: str) -> bool:
    jobs = sql_dicts(conn, f"SHOW ALTER TABLE MATERIALIZED VIEW FROM {db}")
    return any(j["TableName"] == table and j["RollupIndexName"] == mv and j["State"] == "FINISHED" for j in jobs)


def index_names(conn: pymysql.connections.Connection, table: str) -> list[str]:
    return [r["IndexName"] for r in sql_dicts(conn, f"DESC {table} ALL") if r["IndexName"]]


def explain(conn: pymysql.connections.Connection, query: str) -> str:
    return "\n".join(r[0] for r in sql(conn, f"EXPLAIN {query}"))


def sum_view(conn: pymysql.connections.Connection, repo: str, value: str) -> tuple[str, str, str]:
    """The setup both plain suites share: ten rows, a SUM view on them, a snapshot; returns
    (source db, restored db, view name) once the restore FINISHED."""
    db, db1 = new_db(conn, "mv_src"), new_db(conn, "mv_dst")
    table, mv = "mv_table", "mv_sum"
    sql(conn, BASE_TABLE.format(name=f"{db}.{table}", value=value))
    sql(conn, f"INSERT INTO {db}.{table} VALUES {VALUES}")
    assert count(conn, f"{db}.{table}") == 10
    sql(conn, f"DROP MATERIALIZED VIEW IF EXISTS {db}.{mv};")
    sql(conn, f"CREATE MATERIALIZED VIEW {mv}\nAS\nSELECT id, sum({value}) FROM {db}.{table} GROUP BY id;")
    assert alter_finished(conn, db, table, mv)
    ts = backup(conn, db, "snap", repo)
    restore(conn, db1, "snap", repo, ts, reserve_replica="true")
    assert count(conn, f"{db1}.{table}") == 10
    return db, db1, mv


def test_backup_restore_mv(conn: pymysql.connections.Connection, repo: str) -> None:
    db, db1, mv = sum_view(conn, repo, "item_id")
    assert index_names(conn, f"{db1}.mv_table") == ["mv_table", mv]
    sql(conn, f"ANALYZE TABLE {db1}.mv_table WITH SYNC")
    # the planner reads the view, named after the restored database
    plan = explain(conn, f"SELECT id, sum(item_id) FROM {db1}.mv_table GROUP BY id")
    assert f"{db1}.mv_table({mv})" in plan
    assert f"{db1}.mv_table(mv_table)" in explain(conn, f"SELECT * FROM {db1}.mv_table")
    # the view's answer is the base rows' answer, before and after more loads
    sql(conn, f"INSERT INTO {db1}.mv_table VALUES (1, 100), (11, 11)")
    got = rows(conn, f"SELECT id, sum(item_id) FROM {db1}.mv_table GROUP BY id ORDER BY id")
    assert got[0] == ("1", "101") and got[-1] == ("11", "11") and len(got) == 11  # LARGEINT: text, as from Doris
    # the restored view is not an alter job of the restored database
    assert sql_dicts(conn, f"SHOW ALTER TABLE MATERIALIZED VIEW FROM {db1}") == []
    for name in (db, db1):
        sql(conn, f"DROP TABLE {name}.mv_table FORCE")
        sql(conn, f"DROP DATABASE {name} FORCE")


def test_backup_restore_table_mv_inert(conn: pymysql.connections.Connection, repo: str) -> None:
    db, db1, _mv = sum_view(conn, repo, "item")
    for name in (db, db1):
        sql(conn, f"DROP TABLE {name}.mv_table FORCE")
        sql(conn, f"DROP DATABASE {name} FORCE")


def test_backup_restore_mv_write(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "mv_write")
    sql(conn, f"USE {db}")
    table, view = "tbl_mv_write", "mv_tbl_mv_write"
    sql(conn, f"DROP TABLE IF EXISTS {table}")
    sql(conn, f"DROP materialized VIEW IF EXISTS {view}")
    sql(conn, WRITE_TABLE.format(name=table))
    sql(conn, WRITE_VIEW.format(name=view, table=table))
    sql(conn, f'BACKUP SNAPSHOT snap TO `{repo}` ON (`{table}`) PROPERTIES ("type" = "full")')
    ts = wait_snapshot_timestamp(conn, db, repo, "snap")
    before = sql(conn, f"desc {table} all")
    sql(conn, f"DROP TABLE IF EXISTS {table}")
    restore(conn, db, "snap", repo, ts, f"ON ( `{table}` )", replication_num="1")
    after = sql(conn, f"desc {table} all")
    assert str(before) == str(after)
    described = sql_dicts(conn, f"desc {table} all")
    head = next(r for r in described if r["IndexName"] == view)
    assert head["IndexKeysType"] == "AGG_KEYS"
    assert head["WhereClause"] == "(`k1` > '2025-06-12 00:00:00')"
    assert "`k2`" in head["DefineExpr"]
    for i, when in enumerate(("2025-06-12 01:00:00", "2025-06-13 02:00:00", "2025-06-14 03:00:00")):
        later = when.replace(f"0{i + 1}:00:00", f"0{i + 2}:00:00")
        sql(conn, f"insert into {table} values ({i + 1}, '{when}', '{later}', 'test_vin_{i}')")
    assert len(sql(conn, f"select * from {table}")) == 3
    # the view's query over the loaded rows, as the planner answers it from the view
    query = (
        f"SELECT DATE_FORMAT(date_add(k2, INTERVAL 1 HOUR), '%Y-%m-%d %H:00:00') AS h, vin, count(1) FROM {table} "
        "WHERE k1 > '2025-06-12 00:00:00' GROUP BY DATE_FORMAT(date_add(k2, INTERVAL 1 HOUR), '%Y-%m-%d %H:00:00'), vin"
    )
    assert f"{db}.{table}({view})" in explain(conn, query)
    assert sorted(rows(conn, query)) == [
        ("2025-06-12 03:00:00", "test_vin_0", 1),
        ("2025-06-13 04:00:00", "test_vin_1", 1),
        ("2025-06-14 05:00:00", "test_vin_2", 1),
    ]
    sql(conn, "USE information_schema")
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_view_ddl_errors(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "mv_ddl")
    sql(conn, BASE_TABLE.format(name=f"{db}.t", value="v"))
    sql(conn, f"CREATE MATERIALIZED VIEW mv1 AS SELECT id, max(v) FROM {db}.t GROUP BY id")
    _code, msg = sql_error(conn, f"CREATE MATERIALIZED VIEW mv1 AS SELECT id, min(v) FROM {db}.t GROUP BY id")
    assert "Materialized view[mv1] already exists" in msg
    sql(conn, f"CREATE MATERIALIZED VIEW IF NOT EXISTS mv1 AS SELECT id, min(v) FROM {db}.t GROUP BY id")
    _code, msg = sql_error(conn, f"CREATE MATERIALIZED VIEW mv2 AS SELECT id, nope FROM {db}.t")
    assert "nope" in msg
    # a view without aggregation keys by its leading columns
    sql(conn, f"CREATE MATERIALIZED VIEW mv_dup AS SELECT v, id FROM {db}.t")
    described = sql_dicts(conn, f"DESC {db}.t ALL")
    dup = next(r for r in described if r["IndexName"] == "mv_dup")
    assert dup["IndexKeysType"] == "DUP_KEYS" and dup["Field"] == "mv_v" and dup["Key"] == "true"
    _code, msg = sql_error(conn, f"DROP MATERIALIZED VIEW nope ON {db}.t")
    assert "Materialized view [nope] does not exist in table [t]" in msg
    sql(conn, f"DROP MATERIALIZED VIEW IF EXISTS nope ON {db}.t")
    sql(conn, f"DROP MATERIALIZED VIEW mv1 ON {db}.t")
    sql(conn, f"DROP MATERIALIZED VIEW {db}.mv_dup")
    assert index_names(conn, f"{db}.t") == ["t"]
    agg = f"{db}.agg"
    sql(conn, f"CREATE TABLE {agg} (k INT, v BIGINT SUM) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
    _code, msg = sql_error(conn, f"CREATE MATERIALIZED VIEW mv3 AS SELECT k, v FROM {agg}")
    assert "must has grouping columns" in msg
    sql(conn, f"DROP DATABASE {db} FORCE")


def test_backup_restore_mtmv(conn: pymysql.connections.Connection, repo: str) -> None:
    """``test_backup_restore_mtmv``: asynchronous views are refused with a clear error here; the rest of
    the suite (a backup skipping views, a restore over a truncated table) runs as in Doris."""
    db = new_db(conn, "mtmv")
    table, mv = f"{db}.mtmv_table", f"{db}.mtmv_mv"
    sql(conn, agg_table(table))
    sql(conn, f"INSERT INTO {table} VALUES {VALUES}")
    sql(conn, f"drop materialized view if exists {mv};")
    code, msg = sql_error(
        conn,
        f"""CREATE MATERIALIZED VIEW {mv}
        BUILD DEFERRED REFRESH COMPLETE ON MANUAL
        DISTRIBUTED BY RANDOM BUCKETS 2
        PROPERTIES ('replication_num' = '1')
        AS
        SELECT * FROM {table};""",
    )
    assert code == 1235 and "Asynchronous materialized views" in msg
    ts = backup(conn, db, "snap", repo)
    sql(conn, f"TRUNCATE TABLE {table}")
    sql(conn, f"drop materialized view if exists {mv};")
    restore(conn, db, "snap", repo, ts, reserve_replica="true")
    assert count(conn, table) == 10
    assert "mtmv_mv" not in str(sql(conn, f"show tables FROM {db}"))
    sql(conn, f"DROP DATABASE {db} FORCE")
