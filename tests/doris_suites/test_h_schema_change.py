"""Light schema change (ADD / DROP / MODIFY / RENAME COLUMN) and what backup and restore make of it.

Covers the schema-change steps of Doris's backup suites: ``test_backup_restore_state_and_error_docker``
adds a column between a backup and a plain restore into the same table (Doris refuses it as a
different schema; the suite only checks the rows are still there), and
``test_backup_restore_atomic_with_alter`` sends ADD / DROP COLUMN to a table an atomic restore holds
(``test_c_atomic`` replays that). Around them: old rowset files read under the new schema (defaults,
dropped and renamed columns, a widened type), loads, DELETE and UPDATE on tablets of mixed schemas,
Doris's refusals, SHOW ALTER TABLE COLUMN, and snapshots taken before and after a change.
"""

from __future__ import annotations

import pymysql

from tests.doris_suites.suite_support import backup, conn, new_db, repo, restore, restore_ends, restore_sql, rows
from tests.doris_suites.syncer import sql, sql_dicts, sql_error, wait_all_restore_finish

__all__ = ["conn", "repo"]


def dup_table(conn: pymysql.connections.Connection, table: str) -> None:
    sql(
        conn,
        f"CREATE TABLE {table} (`id` INT, `name` VARCHAR(8), `v` INT) DUPLICATE KEY(`id`) "
        'DISTRIBUTED BY HASH(`id`) BUCKETS 2 PROPERTIES ("replication_num" = "1")',
    )


def test_add_drop_rename_modify_read_old_files(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "sc_dup")
    t = f"{db}.t"
    dup_table(conn, t)
    sql(conn, f"INSERT INTO {t} VALUES (1, 'a', 10), (2, 'b', 20)")
    sql(conn, f"ALTER TABLE {t} ADD COLUMN d INT DEFAULT \"7\" COMMENT 'added' AFTER id")
    sql(conn, f"ALTER TABLE {t} ADD COLUMN (n1 BIGINT, n2 VARCHAR(4) NULL)")
    assert rows(conn, f"SELECT id, d, name, v, n1, n2 FROM {t} ORDER BY id") == [
        (1, 7, "a", 10, None, None),
        (2, 7, "b", 20, None, None),
    ]
    assert [r[0] for r in sql(conn, f"DESC {t}")] == ["id", "d", "name", "v", "n1", "n2"]
    sql(conn, f"INSERT INTO {t} (id, name, v, n1) VALUES (3, 'c', 30, 300)")
    sql(conn, f"ALTER TABLE {t} RENAME COLUMN v value")
    sql(conn, f"ALTER TABLE {t} DROP COLUMN name")
    # a new column under a dropped column's name reads nothing of the old data
    sql(conn, f"ALTER TABLE {t} ADD COLUMN name VARCHAR(8) DEFAULT 'new'")
    sql(conn, f"ALTER TABLE {t} MODIFY COLUMN n2 VARCHAR(32)")
    sql(conn, f"ALTER TABLE {t} MODIFY COLUMN value BIGINT")
    sql(conn, f"ALTER TABLE {t} MODIFY COLUMN d COMMENT 'the d'")
    sql(conn, f"INSERT INTO {t} VALUES (4, 8, 40, 400, 'long value here', 'x')")
    assert rows(conn, f"SELECT * FROM {t} ORDER BY id") == [
        (1, 7, 10, None, None, "new"),
        (2, 7, 20, None, None, "new"),
        (3, 7, 30, 300, None, "new"),
        (4, 8, 40, 400, "long value here", "x"),
    ]
    create = str(sql(conn, f"SHOW CREATE TABLE {t}")[0][1])
    assert "`value` bigint" in create.lower() and "COMMENT 'the d'" in create and "varchar(32)" in create.lower()
    # DELETE rewrites tablets of mixed schemas; what stays reads the same
    sql(conn, f"DELETE FROM {t} WHERE value = 20")
    assert rows(conn, f"SELECT id, d, value, name FROM {t} ORDER BY id") == [
        (1, 7, 10, "new"),
        (3, 7, 30, "new"),
        (4, 8, 40, "x"),
    ]
    jobs = sql_dicts(conn, f"SHOW ALTER TABLE COLUMN FROM {db} WHERE TableName = 't'")
    assert len(jobs) == 8 and {j["State"] for j in jobs} == {"FINISHED"}
    assert list(jobs[0]) == [
        "JobId", "TableName", "CreateTime", "FinishTime", "IndexName", "IndexId", "OriginIndexId",
        "SchemaVersion", "TransactionId", "State", "Msg", "Progress", "Timeout",
    ]  # fmt: skip
    latest = sql_dicts(conn, f"SHOW ALTER TABLE COLUMN FROM {db} ORDER BY CreateTime DESC LIMIT 1")
    assert latest[0]["JobId"] == jobs[-1]["JobId"]


def test_unique_and_aggregate_models(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "sc_keys")
    u = f"{db}.u"
    sql(
        conn,
        f"CREATE TABLE {u} (`k` INT, `v` VARCHAR(8)) UNIQUE KEY(`k`) DISTRIBUTED BY HASH(`k`) BUCKETS 1 "
        'PROPERTIES ("replication_num" = "1")',
    )
    sql(conn, f"INSERT INTO {u} VALUES (1, 'a'), (2, 'b')")
    sql(conn, f'ALTER TABLE {u} ADD COLUMN w INT DEFAULT "5"')
    sql(conn, f"INSERT INTO {u} VALUES (2, 'B', 9)")
    sql(conn, f"UPDATE {u} SET w = 6 WHERE k = 1")
    assert rows(conn, f"SELECT * FROM {u} ORDER BY k") == [(1, "a", 6), (2, "B", 9)]
    assert "Can not drop key column in Unique data model table" in sql_error(conn, f"ALTER TABLE {u} DROP COLUMN k")[1]
    assert (
        "Can not assign aggregation method on column in Unique data model table: x"
        in sql_error(conn, f"ALTER TABLE {u} ADD COLUMN x INT SUM")[1]
    )

    a = f"{db}.a"
    sql(
        conn,
        f'CREATE TABLE {a} (`id` LARGEINT NOT NULL, `count` LARGEINT SUM DEFAULT "0") AGGREGATE KEY(`id`) '
        'DISTRIBUTED BY HASH(`id`) BUCKETS 2 PROPERTIES ("replication_num" = "1")',
    )
    sql(conn, f"INSERT INTO {a} VALUES (1, 10), (1, 5), (2, 1)")
    # without an aggregate type the column is a key (the suites' ADD COLUMN new_col ... AFTER id)
    sql(conn, f'ALTER TABLE {a} ADD COLUMN new_col INT DEFAULT "0" AFTER id')
    sql(conn, f'ALTER TABLE {a} ADD COLUMN total BIGINT SUM DEFAULT "0"')
    sql(conn, f"INSERT INTO {a} VALUES (1, 0, 1, 3), (1, 4, 2, 2)")
    assert [tuple(int(x) for x in r) for r in rows(conn, f"SELECT * FROM {a} ORDER BY id, new_col")] == [
        (1, 0, 16, 3),
        (1, 4, 2, 2),
        (2, 0, 1, 0),
    ]
    desc = {r[0]: r for r in sql(conn, f"DESC {a}")}
    assert desc["new_col"][3] == "true"
    assert "must be zero" in sql_error(conn, f'ALTER TABLE {a} ADD COLUMN s INT SUM DEFAULT "1"')[1]
    assert (
        "Can not add column which already exists in base table: count"
        in sql_error(conn, f"ALTER TABLE {a} ADD COLUMN count INT SUM")[1]
    )
    assert (
        "Can not assign aggregation method on key column: z"
        in sql_error(conn, f"ALTER TABLE {a} ADD COLUMN z INT KEY SUM")[1]
    )
    assert "Column does not exists: nope" in sql_error(conn, f"ALTER TABLE {a} DROP COLUMN nope")[1]
    assert "Can not drop partition or distribution column : id" in sql_error(conn, f"ALTER TABLE {a} DROP COLUMN id")[1]


def test_refused_type_changes(conn: pymysql.connections.Connection) -> None:
    db = new_db(conn, "sc_types")
    t = f"{db}.t"
    dup_table(conn, t)
    assert "Cannot shorten string length" in sql_error(conn, f"ALTER TABLE {t} MODIFY COLUMN name VARCHAR(4)")[1]
    assert "Can not change INT to DATE" in sql_error(conn, f"ALTER TABLE {t} MODIFY COLUMN v DATE")[1]
    assert (
        "Can not change from nullable to non-nullable"
        in sql_error(conn, f"ALTER TABLE {t} MODIFY COLUMN v BIGINT NOT NULL")[1]
    )
    assert "Can not modify distribution column[id]" in sql_error(conn, f"ALTER TABLE {t} MODIFY COLUMN id BIGINT")[1]
    assert "Column[zz] does not exists" in sql_error(conn, f"ALTER TABLE {t} RENAME COLUMN zz yy")[1]
    assert "Column name[v] is already used" in sql_error(conn, f"ALTER TABLE {t} RENAME COLUMN name v")[1]
    assert "Can not drop partition or distribution column : id" in sql_error(conn, f"ALTER TABLE {t} DROP COLUMN id")[1]
    assert sql_dicts(conn, f"SHOW ALTER TABLE COLUMN FROM {db}") == []


def test_backup_after_change_and_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "sc_br")
    t = f"{db}.t"
    dup_table(conn, t)
    sql(conn, f"INSERT INTO {t} VALUES (1, 'a', 10)")
    ts_old = backup(conn, db, "snap_old", repo, "ON (t)")
    sql(conn, f'ALTER TABLE {t} ADD COLUMN extra INT DEFAULT "3"')
    sql(conn, f"ALTER TABLE {t} RENAME COLUMN name label")
    sql(conn, f"INSERT INTO {t} VALUES (2, 'b', 20, 4)")
    ts_new = backup(conn, db, "snap_new", repo, "ON (t)")
    expected = [(1, "a", 10, 3), (2, "b", 20, 4)]

    # a snapshot after the change restores into a new table: old and new files, the new schema
    restore(conn, db, "snap_new", repo, ts_new, "ON (t AS t_copy)", replication_num="1")
    assert rows(conn, f"SELECT id, label, v, extra FROM {db}.t_copy ORDER BY id") == expected
    # and over the table itself (same schema)
    restore(conn, db, "snap_new", repo, ts_new, "ON (t)", replication_num="1")
    assert rows(conn, f"SELECT * FROM {t} ORDER BY id") == expected

    # the snapshot from before the change: the table's schema differs now (the state_and_error suite's step)
    job = restore_ends(conn, db, "snap_old", repo, ts_old, "ON (`t`)", replication_num="1")
    assert job["State"] == "CANCELLED"
    assert "already exist but with different schema" in job["Status"]
    assert len(rows(conn, f"SELECT * FROM {t}")) >= 1

    # atomic_restore alone checks the schema too; with force_replace it replaces the table
    job = restore_ends(conn, db, "snap_old", repo, ts_old, "ON (`t`)", replication_num="1", atomic_restore="true")
    assert job["State"] == "CANCELLED" and "already exist but with different schema" in job["Status"]
    sql(
        conn,
        restore_sql(
            db, "snap_old", repo, ts_old, "ON (`t`)", replication_num="1", atomic_restore="true", force_replace="true"
        ),
    )
    wait_all_restore_finish(conn, db)
    assert rows(conn, f"SELECT * FROM {t}") == [(1, "a", 10)]
    assert [r[0] for r in sql(conn, f"DESC {t}")] == ["id", "name", "v"]
    # the replaced table changes again from the snapshot's schema
    sql(conn, f'ALTER TABLE {t} ADD COLUMN extra2 INT DEFAULT "1"')
    assert rows(conn, f"SELECT * FROM {t}") == [(1, "a", 10, 1)]


def test_added_current_timestamp_column_is_stable_on_old_rows(conn: pymysql.connections.Connection) -> None:
    """Rows loaded before ADD COLUMN ... DEFAULT CURRENT_TIMESTAMP hold the time of the ALTER, read after read."""
    db = new_db(conn, "sc_ts")
    t = f"{db}.t"
    dup_table(conn, t)
    sql(conn, f"INSERT INTO {t} VALUES (1, 'a', 10)")
    sql(conn, f"ALTER TABLE {t} ADD COLUMN at DATETIME DEFAULT CURRENT_TIMESTAMP")
    first = rows(conn, f"SELECT at FROM {t}")
    assert first[0][0] is not None
    sql(conn, "SELECT sleep(1)")
    assert rows(conn, f"SELECT at FROM {t}") == first
