"""Doris's index suites replayed: ``test_backup_restore_bloom_filter``, ``..._ngram_bloom_filter``,
``..._inverted_index``, ``..._inverted_idx`` and ``..._overwrite_indexes``.

Secondary indexes (INVERTED, NGRAM_BF) and ``bloom_filter_columns`` are part of a table's schema:
they are shown by SHOW INDEX / SHOW CREATE TABLE, travel with a snapshot, and a restore into an
existing table whose indexes differ is refused as a different schema.
"""

from __future__ import annotations

import pymysql

from tests.doris_suites.suite_support import backup, conn, count, create_sql, new_db, repo, restore, restore_ends
from tests.doris_suites.syncer import sql, sql_dicts

__all__ = ["conn", "repo"]

NGRAM_TABLE = """
    CREATE TABLE if NOT EXISTS {name}
    (
        `test` INT,
        `id` INT,
        `username` varchar(32) NULL DEFAULT "",
        `only4test` varchar(32) NULL DEFAULT "",
        INDEX idx_ngrambf (`username`) USING NGRAM_BF PROPERTIES("gram_size"="3", "bf_size"="256")
    )
    ENGINE=OLAP
    DUPLICATE KEY(`test`, `id`)
    DISTRIBUTED BY HASH(id) BUCKETS 1
    PROPERTIES (
        "replication_allocation" = "tag.location.default: 1",
        "bloom_filter_columns" = "id"
    )
"""
ADD_NGRAM = (
    "ALTER TABLE {name} ADD INDEX idx_only4test(`only4test`) USING NGRAM_BF "
    'PROPERTIES("gram_size"="3", "bf_size"="256")'
)


def has_ngram(conn: pymysql.connections.Connection, table: str, index: str) -> bool:
    return any(r[2] == index and r[10] == "NGRAM_BF" for r in sql(conn, f"SHOW INDEXES FROM {table}"))


def test_bloom_filter_columns(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "bloom")
    table = f"{db}.t"
    sql(
        conn,
        f"""
        CREATE TABLE {table} (
            `saler_id` int NOT NULL,
            `category_id` int NOT NULL,
            `sale_date` date NOT NULL
        )
        DUPLICATE KEY(`saler_id`)
        DISTRIBUTED BY HASH(`saler_id`) BUCKETS 10
        PROPERTIES
        (
            "replication_num" = "1",
            "bloom_filter_columns"="saler_id,category_id"
        )
        """,
    )
    sql(conn, f"INSERT INTO {table} VALUES (1, 1, '2023-11-01'),(2, 2, '2023-11-02')")
    assert count(conn, table) == 2
    ts = backup(conn, db, "snap", repo, 'ON (t) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {table}")
    restore(conn, db, "snap", repo, ts, "ON ( `t`)", reserve_replica="true")
    assert '"bloom_filter_columns" = "category_id, saler_id"' in create_sql(conn, table)
    assert count(conn, table) == 2


def test_ngram_bloom_filter(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "ngram")
    table = f"{db}.t"
    sql(conn, NGRAM_TABLE.format(name=table))
    for i in range(10):
        sql(conn, f'INSERT INTO {table} VALUES ({i}, {i}, "test_{i}", "{i}_test")')
    assert has_ngram(conn, table, "idx_ngrambf")
    assert '"bloom_filter_columns" = "id"' in create_sql(conn, table)
    ts = backup(conn, db, "snap", repo, 'ON (t) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {table}")
    restore(conn, db, "snap", repo, ts, "ON ( `t`)", reserve_replica="true")
    assert has_ngram(conn, table, "idx_ngrambf")
    assert '"bloom_filter_columns" = "id"' in create_sql(conn, table)
    assert count(conn, table) == 10

    sql(conn, ADD_NGRAM.format(name=table))
    assert has_ngram(conn, table, "idx_only4test")
    ts = backup(conn, db, "snap_1", repo, 'ON (t) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {table}")
    restore(conn, db, "snap_1", repo, ts, "ON ( `t`)", reserve_replica="true")
    assert has_ngram(conn, table, "idx_only4test")
    assert count(conn, table) == 10


def test_overwrite_table_with_other_indexes(conn: pymysql.connections.Connection, repo: str) -> None:
    db, new = new_db(conn, "overwrite_idx"), new_db(conn, "overwrite_idx_new")
    sql(conn, NGRAM_TABLE.format(name=f"{db}.t"))
    for i in range(10):
        sql(conn, f'INSERT INTO {db}.t VALUES ({i}, {i}, "test_{i}", "{i}_test")')
    ts = backup(conn, db, "snap", repo, 'ON (t) PROPERTIES ("type" = "full")')
    restore(conn, new, "snap", repo, ts, "ON ( `t`)", reserve_replica="true")
    assert has_ngram(conn, f"{new}.t", "idx_ngrambf")
    assert '"bloom_filter_columns" = "id"' in create_sql(conn, f"{new}.t")

    sql(conn, ADD_NGRAM.format(name=f"{db}.t"))
    assert has_ngram(conn, f"{db}.t", "idx_only4test")
    ts = backup(conn, db, "snap_1", repo, 'ON (t) PROPERTIES ("type" = "full")')
    job = restore_ends(conn, new, "snap_1", repo, ts, "ON ( `t`)", reserve_replica="true")
    assert job["State"] == "CANCELLED"
    res = sql_dicts(conn, f"SHOW RESTORE FROM {new} WHERE LABEL = 'snap_1'")
    assert "already exist but with different schema" in res[0]["Status"]
    assert count(conn, f"{new}.t") == 10


def test_inverted_index(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "inverted")
    table = f"{db}.t"
    sql(
        conn,
        f"""
        CREATE TABLE {table} (
            `id` LARGEINT NOT NULL,
            `comment` String,
            INDEX idx_comment (`comment`) USING INVERTED PROPERTIES("parser" = "english")
                COMMENT 'inverted index for comment')
        DUPLICATE KEY(`id`)
        DISTRIBUTED BY HASH(`id`) BUCKETS 10
        PROPERTIES
        (
            "replication_num" = "1"
        );
        """,
    )
    sql(
        conn, f'INSERT INTO {table} VALUES (1,"doris is the best distributed database"),(2,"This is a regression test")'
    )
    assert len(sql(conn, f"SELECT * FROM {table} ORDER BY id")) == 2
    ts = backup(conn, db, "snap", repo, 'ON (t) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {table}")
    restore(conn, db, "snap", repo, ts, "ON ( `t`)", replication_num="1")
    shown = create_sql(conn, table)
    assert 'USING INVERTED PROPERTIES("parser" = "english")' in shown
    assert "COMMENT 'inverted index for comment'" in shown
    tokens = sql(conn, f'SELECT id, TOKENIZE(comment,\'"parser"="english"\') as token FROM {table}')
    assert len(tokens) == 2


def test_inverted_idx_after_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "inverted_idx")
    table = f"{db}.t"
    parts = ",\n".join(f'PARTITION p{i} VALUES LESS THAN ("{i}0")' for i in range(1, 8))
    sql(
        conn,
        f"""
        CREATE TABLE {table} (
            `id` LARGEINT NOT NULL,
            `value` STRING DEFAULT "",
            `value1` STRING DEFAULT "",
            INDEX `idx_value` (`value`) USING INVERTED PROPERTIES ("parser" = "english")
        )
        UNIQUE KEY(`id`)
        PARTITION BY RANGE(`id`) ({parts})
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1")
        """,
    )
    values = ",".join(f'({j}1, "{j} {j * 10} {j * 100}", "{j * 11} {j * 12}")' for j in range(7))
    sql(conn, f"INSERT INTO {table} VALUES {values}")
    indexes = sql_dicts(conn, f"SHOW INDEX FROM {table}")
    assert any(i["Key_name"] == "idx_value" and i["Index_type"] == "INVERTED" for i in indexes)
    sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "false")')
    try:
        ts = backup(conn, db, "snap", repo, "ON (`t`)")
        sql(conn, f"DROP TABLE {table}")
        restore(conn, db, "snap", repo, ts, "ON (`t`)", reserve_replica="true")
        indexes = sql_dicts(conn, f"SHOW INDEX FROM {table}")
        assert any(i["Key_name"] == "idx_value" and i["Index_type"] == "INVERTED" for i in indexes)
        sql(conn, "set enable_match_without_inverted_index = false")
        hint = "/*+ SET_VAR(inverted_index_skip_threshold = 0, enable_common_expr_pushdown = true) */"
        assert sql(conn, f'SELECT {hint} * FROM {table} WHERE value MATCH_ANY "10"')
        sql(conn, f'ALTER TABLE {table} ADD PARTITION p8 VALUES LESS THAN ("80")')
        sql(conn, f'INSERT INTO {table} VALUES (75, "75 750", "76 77")')
        assert sql(conn, f'SELECT {hint} * FROM {table} WHERE value MATCH_ANY "75"')
        sql(conn, f'ALTER TABLE {table} ADD INDEX idx_value1(value1) USING INVERTED PROPERTIES("parser" = "english")')
        indexes = sql_dicts(conn, f"SHOW INDEX FROM {table}")
        assert any(i["Key_name"] == "idx_value1" and i["Index_type"] == "INVERTED" for i in indexes)
        sql(conn, f"ALTER TABLE {table} DROP INDEX idx_value")
        assert not any(i["Key_name"] == "idx_value" for i in sql_dicts(conn, f"SHOW INDEX FROM {table}"))
        sql(conn, f'INSERT INTO {table} VALUES(76, "76 760", "12321 121")')
        sql(conn, f"BUILD INDEX idx_value1 ON {table}")
        status = sql_dicts(conn, f'SHOW BUILD INDEX FROM {db} WHERE TableName = "t"')
        assert status and all(s["State"] == "FINISHED" for s in status)
        assert sql(conn, f'SELECT {hint} * FROM {table} WHERE value1 MATCH_ANY "12321"')
        assert count(conn, table) == 9
    finally:
        sql(conn, "set enable_match_without_inverted_index = true")
        sql(conn, 'ADMIN SET FRONTEND CONFIG ("restore_reset_index_id" = "true")')
