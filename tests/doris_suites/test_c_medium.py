"""Doris's storage-medium suites replayed: ``test_backup_restore_medium_allocation``, ``..._medium_add_partitions``,
``..._medium_atomic_restore``, ``..._medium_edge_cases``, ``..._medium_multiple_restore``,
``..._medium_table_partition_level``, ``..._medium_with_partitions`` and ``..._storage_medium_combinations``.

RESTORE's ``storage_medium`` (hdd / ssd / same_with_upstream) chooses the medium of restored partitions
and ``medium_allocation_mode`` (strict / adaptive) is kept on the restored table. The suites restore
without ``reserve_replica`` as Doris's test cluster does: one replica forced by
``force_olap_table_replication_allocation``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest

from tests.doris_suites.suite_support import (
    backup,
    count,
    create_sql,
    new_db,
    open_conn,
    repo,
    restore,
    restore_sql,
    rows,
)
from tests.doris_suites.syncer import sql, sql_error
from tests.dorisbk_server import DorisbkServer

__all__ = ["repo"]

AGG = """
    CREATE TABLE {name} (
        `id` LARGEINT NOT NULL,
        `count` LARGEINT SUM DEFAULT "0")
    AGGREGATE KEY(`id`)
    DISTRIBUTED BY HASH(`id`) BUCKETS 2
    PROPERTIES ("replication_num" = "1"{extra})
"""
SIMPLE = """
    CREATE TABLE {name} (`id` INT, `value` STRING)
    DISTRIBUTED BY HASH(`id`) BUCKETS 1
    PROPERTIES ("replication_num" = "1"{extra})
"""
BY_DATE = """
    CREATE TABLE {name} (`date` DATE, `id` INT, `value` INT)
    DUPLICATE KEY(`date`, `id`)
    PARTITION BY RANGE(`date`) (
        PARTITION p1 VALUES LESS THAN ('2024-01-01'),
        PARTITION p2 VALUES LESS THAN ('2024-02-01'),
        PARTITION p3 VALUES LESS THAN ('2024-03-01')
    )
    DISTRIBUTED BY HASH(`id`) BUCKETS 1
    PROPERTIES ("replication_num" = "1"{extra})
"""
HDD = ',\n"storage_medium" = "HDD"'


@pytest.fixture(scope="module")
def conn(server: DorisbkServer) -> Iterator[pymysql.connections.Connection]:
    for c in open_conn(server):
        sql(c, "ADMIN SET FRONTEND CONFIG ('force_olap_table_replication_allocation' = 'tag.location.default:1')")
        try:
            yield c
        finally:
            sql(c, "ADMIN SET FRONTEND CONFIG ('force_olap_table_replication_allocation' = '')")


def mediums(conn: pymysql.connections.Connection, table: str) -> dict[str, str]:
    return {r[1]: r[10] for r in sql(conn, f"SHOW PARTITIONS FROM {table}")}


def test_medium_allocation_modes(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "medium_alloc")
    ones = ",".join(f"({i}, {i})" for i in range(1, 11))
    for mode, extra in (("strict", ',\n"storage_medium" = "SSD"'), ("adaptive", ""), (None, "")):
        table = f"t_{mode or 'default'}"
        sql(conn, AGG.format(name=f"{db}.{table}", extra=extra))
        sql(conn, f"INSERT INTO {db}.{table} VALUES {ones}")
        ts = backup(conn, db, f"snap_{table}", repo, f"ON ({table})")
        sql(conn, f"DROP TABLE {db}.{table} FORCE")
        props = {"reserve_replica": "true"} | ({"medium_allocation_mode": mode} if mode else {})
        restore(conn, db, f"snap_{table}", repo, ts, f"ON ( `{table}`)", **props)
        assert count(conn, f"{db}.{table}") == 10
        assert create_sql(conn, f"{db}.{table}")
        sql(conn, f"DROP TABLE {db}.{table} FORCE")
    sql(conn, AGG.format(name=f"{db}.t_invalid", extra=""))
    sql(conn, f"INSERT INTO {db}.t_invalid VALUES (1, 1)")
    ts = backup(conn, db, "snap_invalid", repo, "ON (t_invalid)")
    sql(conn, f"DROP TABLE {db}.t_invalid FORCE")
    stmt = restore_sql(
        db, "snap_invalid", repo, ts, "ON ( `t_invalid`)", reserve_replica="true", medium_allocation_mode="invalid_mode"
    )
    assert "Invalid medium_allocation_mode value" in sql_error(conn, stmt)[1]


def test_medium_combinations(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "medium_combo")
    for medium in ("hdd", "ssd", "same_with_upstream"):
        for mode in ("strict", "adaptive"):
            table = f"t_{medium}_{mode}"
            sql(conn, AGG.format(name=f"{db}.{table}", extra=""))
            sql(conn, f"INSERT INTO {db}.{table} VALUES " + ",".join(f"({i}, {i})" for i in range(1, 6)))
            ts = backup(conn, db, f"snapshot_{table}", repo, f"ON ({table})")
            sql(conn, f"DROP TABLE {db}.{table} FORCE")
            props = {"reserve_replica": "true", "storage_medium": medium, "medium_allocation_mode": mode}
            restore(conn, db, f"snapshot_{table}", repo, ts, f"ON (`{table}`)", **props)
            assert count(conn, f"{db}.{table}") == 5
            shown = create_sql(conn, f"{db}.{table}")
            assert "medium_allocation_mode" in shown and f'"{mode}"' in shown
            if medium != "same_with_upstream":
                assert "storage_medium" in shown
                assert set(mediums(conn, f"{db}.{table}").values()) == {medium.upper()}
            sql(conn, f"DROP TABLE {db}.{table} FORCE")

    # atomic restore over a changed table, same_with_upstream + adaptive
    sql(
        conn,
        f"""
        CREATE TABLE {db}.atomic (`date` DATE NOT NULL, `id` LARGEINT NOT NULL, `count` LARGEINT SUM DEFAULT "0")
        AGGREGATE KEY(`date`, `id`)
        PARTITION BY RANGE(`date`) (
            PARTITION p1 VALUES LESS THAN ("2024-01-01"),
            PARTITION p2 VALUES LESS THAN ("2024-02-01")
        )
        DISTRIBUTED BY HASH(`id`) BUCKETS 2
        PROPERTIES ("replication_num" = "1", "storage_medium" = "HDD")
        """,
    )
    sql(conn, f"INSERT INTO {db}.atomic VALUES ('2023-12-25', 1, 100), ('2023-12-26', 2, 200), ('2024-01-15', 3, 300)")
    ts = backup(conn, db, "snapshot_atomic", repo, "ON (atomic)")
    sql(conn, f"INSERT INTO {db}.atomic VALUES ('2023-12-28', 4, 400), ('2024-01-22', 5, 500), ('2024-01-28', 6, 600)")
    assert count(conn, f"{db}.atomic") == 6
    props = {"reserve_replica": "true", "atomic_restore": "true"}
    props |= {"storage_medium": "same_with_upstream", "medium_allocation_mode": "adaptive"}
    restore(conn, db, "snapshot_atomic", repo, ts, "ON (`atomic`)", **props)
    assert count(conn, f"{db}.atomic") == 3
    assert "medium_allocation_mode" in create_sql(conn, f"{db}.atomic")

    # a partition added back to an existing table takes the statement's medium
    sql(conn, BY_DATE.format(name=f"{db}.part", extra=HDD))
    sql(conn, f"INSERT INTO {db}.part VALUES ('2023-12-25', 1, 100), ('2024-01-10', 4, 400), ('2024-01-20', 5, 500)")
    ts = backup(conn, db, "snapshot_part", repo, "ON (part)")
    sql(conn, f"ALTER TABLE {db}.part DROP PARTITION p2")
    assert count(conn, f"{db}.part") == 1
    props = {"reserve_replica": "true", "storage_medium": "ssd", "medium_allocation_mode": "adaptive"}
    restore(conn, db, "snapshot_part", repo, ts, "ON (`part` PARTITION (p2))", **props)
    assert count(conn, f"{db}.part") == 3
    assert len(sql(conn, f"SELECT * FROM {db}.part WHERE date >= '2024-01-01' ORDER BY id")) == 2
    assert mediums(conn, f"{db}.part") == {"p1": "HDD", "p2": "SSD", "p3": "HDD"}
    assert "medium_allocation_mode" in create_sql(conn, f"{db}.part")


def test_medium_partitions_and_aliases(conn: pymysql.connections.Connection, repo: str) -> None:
    db = new_db(conn, "medium_parts")
    # restore partitions into an existing table without reserve_replica (the forced single replica)
    sql(conn, BY_DATE.format(name=f"{db}.t_add", extra=HDD))
    for row in ("('2023-12-15', 1, 100)", "('2024-01-15', 2, 200)", "('2024-02-15', 3, 300)"):
        sql(conn, f"INSERT INTO {db}.t_add VALUES {row}")
    ts = backup(conn, db, "snap_add", repo, "ON (t_add)")
    sql(conn, f"ALTER TABLE {db}.t_add DROP PARTITION p2")
    sql(conn, f"ALTER TABLE {db}.t_add DROP PARTITION p3")
    assert len(sql(conn, f"SHOW PARTITIONS FROM {db}.t_add")) == 1
    props = {"storage_medium": "ssd", "medium_allocation_mode": "strict"}
    restore(conn, db, "snap_add", repo, ts, "ON (`t_add` PARTITION (p2, p3))", **props)
    assert len(sql(conn, f"SHOW PARTITIONS FROM {db}.t_add")) == 3
    assert count(conn, f"{db}.t_add") == 3
    assert "medium_allocation_mode" in create_sql(conn, f"{db}.t_add")

    # whole-table restore with a medium, then a partial one into a dropped table
    sql(conn, BY_DATE.format(name=f"{db}.t_lvl", extra=HDD))
    for row in ("('2023-12-15', 1, 100)", "('2024-01-15', 2, 200)", "('2024-02-15', 3, 300)"):
        sql(conn, f"INSERT INTO {db}.t_lvl VALUES {row}")
    ts = backup(conn, db, "snap_tbl", repo, "ON (t_lvl)")
    sql(conn, f"DROP TABLE {db}.t_lvl FORCE")
    restore(conn, db, "snap_tbl", repo, ts, "ON (`t_lvl`)", storage_medium="ssd", medium_allocation_mode="strict")
    assert rows(conn, f"SELECT id, value FROM {db}.t_lvl ORDER BY id") == [(1, 100), (2, 200), (3, 300)]
    assert set(mediums(conn, f"{db}.t_lvl").values()) == {"SSD"}
    sql(conn, f"DROP TABLE {db}.t_lvl FORCE")
    restore(conn, db, "snap_tbl", repo, ts, "ON (`t_lvl` PARTITION (p1, p2))", storage_medium="hdd",
            medium_allocation_mode="adaptive")  # fmt: skip
    assert len(sql(conn, f"SHOW PARTITIONS FROM {db}.t_lvl")) == 2
    assert rows(conn, f"SELECT id FROM {db}.t_lvl ORDER BY id") == [(1,), (2,)]

    # aliases: a renamed copy next to the modified original
    sql(conn, SIMPLE.format(name=f"{db}.t_v1", extra=HDD))
    sql(conn, f"INSERT INTO {db}.t_v1 VALUES (1, 'v1_data')")
    ts = backup(conn, db, "snap_v1", repo, "ON (t_v1)")
    sql(conn, f"INSERT INTO {db}.t_v1 VALUES (2, 'modified')")
    restore(conn, db, "snap_v1", repo, ts, "ON (`t_v1` AS `t_v2`)", storage_medium="ssd",
            medium_allocation_mode="strict")  # fmt: skip
    assert len(sql(conn, f"SHOW TABLES FROM {db} LIKE 't_v2'")) == 1
    assert count(conn, f"{db}.t_v1") == 2 and count(conn, f"{db}.t_v2") == 1
    assert "medium_allocation_mode" in create_sql(conn, f"{db}.t_v2")

    # repeated restores of one snapshot with other media and modes
    sql(conn, SIMPLE.format(name=f"{db}.multi", extra=HDD))
    sql(conn, f"INSERT INTO {db}.multi VALUES (1, 'test')")
    ts = backup(conn, db, "snap1", repo, "ON (multi)")
    for medium, mode in (("ssd", "strict"), ("hdd", "adaptive"), ("same_with_upstream", "adaptive"),
                         ("hdd", "strict"), ("hdd", "adaptive")):  # fmt: skip
        sql(conn, f"DROP TABLE {db}.multi FORCE")
        restore(conn, db, "snap1", repo, ts, "ON (`multi`)", storage_medium=medium, medium_allocation_mode=mode)
        shown = create_sql(conn, f"{db}.multi")
        assert f'"{mode}"' in shown
        if medium != "ssd":
            assert '"ssd"' not in shown.lower()
        assert count(conn, f"{db}.multi") == 1

    # atomic rollbacks between two snapshots
    sql(conn, SIMPLE.format(name=f"{db}.atom", extra=HDD))
    sql(conn, f"INSERT INTO {db}.atom VALUES (1, 'v1')")
    ts1 = backup(conn, db, "snap_av1", repo, "ON (atom)")
    sql(conn, f"INSERT INTO {db}.atom VALUES (2, 'v2')")
    ts2 = backup(conn, db, "snap_av2", repo, "ON (atom)")
    sql(conn, f"INSERT INTO {db}.atom VALUES (3, 'v3')")
    for label, ts, expected in (("snap_av1", ts1, 1), ("snap_av2", ts2, 2)):
        restore(conn, db, label, repo, ts, "ON (`atom`)", atomic_restore="true", storage_medium="same_with_upstream")
        assert count(conn, f"{db}.atom") == expected
