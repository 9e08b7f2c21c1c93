"""Doris's ``test_backup_restore_colocate`` replayed (and ``..._colocate_with``'s statements).

A restored table leaves its colocate group behind unless ``reserve_colocate``; a restore into an
existing table of a colocate group is refused, as is joining a group whose bucket count differs.
"""

from __future__ import annotations

import pymysql

from tests.doris_suites.suite_support import backup, conn, count, new_db, repo, restore, restore_ends, restore_sql
from tests.doris_suites.syncer import sql, sql_dicts, sql_error

__all__ = ["conn", "repo"]

UNIQUE_TABLE = """
    CREATE TABLE if NOT EXISTS {name}
    (
        `test` INT,
        `id` INT
    )
    ENGINE=OLAP
    UNIQUE KEY(`test`, `id`)
    DISTRIBUTED BY HASH(id) BUCKETS {buckets}
    PROPERTIES (
        "replication_allocation" = "tag.location.default: 1"{extra}
    )
"""


def explain(conn: pymysql.connections.Connection, query: str) -> str:
    return "\n".join(r[0] for r in sql(conn, f"EXPLAIN {query}"))


def test_colocate_group_and_restore(conn: pymysql.connections.Connection, repo: str) -> None:
    db, new = new_db(conn, "colocate"), new_db(conn, "colocate_new")
    group = ',\n"colocate_with" = "test_group"'
    for name in ("t1", "t2"):
        sql(conn, UNIQUE_TABLE.format(name=f"{db}.{name}", buckets=2, extra=group))
    for i in range(5):
        for name in ("t1", "t2"):
            sql(conn, f"INSERT INTO {db}.{name} VALUES ({i}, {i})")
    query = f"select * from {db}.t1 as t1, {db}.t2 as t2 where t1.id=t2.id"
    assert count(conn, f"{db}.t1") == 5 and count(conn, f"{db}.t2") == 5
    assert "COLOCATE" in explain(conn, query)
    assert len(sql(conn, query)) == 5
    ts = backup(conn, db, "snap", repo, 'ON (t1, t2) PROPERTIES ("type" = "full")')

    for reserve, colocated in ((None, False), ("false", False), ("true", True)):
        sql(conn, f"DROP TABLE IF EXISTS {db}.t1")
        sql(conn, f"DROP TABLE IF EXISTS {db}.t2")
        props = {"reserve_replica": "true"} | ({"reserve_colocate": reserve} if reserve else {})
        restore(conn, db, "snap", repo, ts, **props)
        assert count(conn, f"{db}.t1") == 5 and count(conn, f"{db}.t2") == 5
        assert ("COLOCATE" in explain(conn, query)) == colocated
        assert len(sql(conn, query)) == 5

    for reserve in ("true", "false"):
        job = restore_ends(conn, db, "snap", repo, ts, reserve_replica="true", reserve_colocate=reserve)
        assert job["State"] == "CANCELLED"
        assert "with colocate group" in sql_dicts(conn, f"SHOW restore FROM {db}")[-1]["Status"]
        assert count(conn, f"{db}.t1") == 5

    for name in ("t1", "t2"):
        sql(conn, f"DROP TABLE IF EXISTS {db}.{name}")
        sql(conn, UNIQUE_TABLE.format(name=f"{db}.{name}", buckets=2, extra=""))
    job = restore_ends(conn, db, "snap", repo, ts, reserve_replica="true", reserve_colocate="false")
    assert "OK" in sql_dicts(conn, f"SHOW restore FROM {db}")[-1]["Status"], job

    sql(conn, UNIQUE_TABLE.format(name=f"{new}.t3", buckets=3, extra=group))
    job = restore_ends(conn, new, "snap", repo, ts, reserve_replica="true", reserve_colocate="true")
    assert "Colocate tables must have same bucket num" in sql_dicts(conn, f"SHOW restore FROM {new}")[-1]["Status"]
    assert [r[0] for r in sql(conn, f"SHOW TABLES FROM {new}")] == ["t3"]


def test_colocate_with_property(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "colocate_with")
    sql(
        conn,
        f"""
        CREATE TABLE {db}.t (
            `saler_id` int NOT NULL,
            `category_id` int NOT NULL,
            `sale_date` date NOT NULL
        )
        DUPLICATE KEY(`saler_id`)
        DISTRIBUTED BY HASH(`saler_id`) BUCKETS 10
        PROPERTIES ("replication_num" = "1", "colocate_with" = "group1")
        """,
    )
    sql(conn, f"INSERT INTO {db}.t VALUES (1, 1, '2023-11-01'),(2, 2, '2023-11-02')")
    ts = backup(conn, db, "snap", repo, 'ON (t) PROPERTIES ("type" = "full")')
    sql(conn, f"TRUNCATE TABLE {db}.t")
    # "colocate_with" is no RESTORE property: Doris refuses the statement
    stmt = restore_sql(db, "snap", repo, ts, "ON ( `t`)", reserve_replica="true", colocate_with="group1")
    assert "Unknown restore job properties: [colocate_with]" in sql_error(conn, stmt)[1]
    assert '"colocate_with" = "group1"' in sql(conn, f"SHOW CREATE TABLE {db}.t")[0][1]
    assert count(conn, f"{db}.t") == 0
