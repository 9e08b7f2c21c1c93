"""More Doris catalog statements: the recycle bin (DROP without FORCE, RECOVER, SHOW / DROP CATALOG
RECYCLE BIN), RENAME / MODIFY PARTITION, several ALTER clauses at once, SHOW PROCESSLIST and KILL."""

from __future__ import annotations

import time
from pathlib import Path

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, error, expect_error, partitions, rows

RANGE_TABLE = """CREATE TABLE {name} (k INT, v VARCHAR(10)) DUPLICATE KEY(k)
PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ("10"), PARTITION p2 VALUES LESS THAN ("20"))
DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ("replication_num" = "1")"""


def _setup(conn, db: str) -> None:
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {db}")
        cur.execute(f"USE {db}")


def _exec(conn, *sqls: str) -> None:
    with conn.cursor() as cur:
        for sql in sqls:
            cur.execute(sql)


def _bin(conn, name: str) -> list[dict]:
    return dicts(conn, f"SHOW CATALOG RECYCLE BIN WHERE NAME = '{name}'")


def test_recover_table_and_partition(server: DorisbkServer) -> None:
    with server.connect() as conn:
        _setup(conn, "rb_t")
        _exec(conn, RANGE_TABLE.format(name="t"), "INSERT INTO t VALUES (1, 'a'), (15, 'b')")
        _exec(conn, "DROP TABLE t")
        expect_error(conn, "SELECT * FROM t", 1146)
        entry = _bin(conn, "t")
        assert [e["Type"] for e in entry] == ["Table"]
        assert list(entry[0]) == ["Type", "Name", "DbId", "TableId", "PartitionId", "DropTime", "DataSize",
                                  "RemoteDataSize"]  # fmt: skip
        _exec(conn, "RECOVER TABLE t")
        assert sorted(rows(conn, "SELECT k, v FROM t")) == [(1, "a"), (15, "b")]
        assert _bin(conn, "t") == []
        expect_error(conn, "RECOVER TABLE t", 1050, "Table 't' already exists")
        expect_error(conn, "RECOVER TABLE nothing", 1109, "Unknown table 'nothing'")

        _exec(conn, "ALTER TABLE t DROP PARTITION p2")
        assert rows(conn, "SELECT k FROM t") == [(1,)]
        _exec(conn, "RECOVER PARTITION p2 FROM t AS p2b")
        assert sorted(rows(conn, "SELECT k FROM t")) == [(1,), (15,)]
        assert set(partitions(conn, "t")) == {"p1", "p2b"}
        expect_error(conn, "RECOVER PARTITION p9 FROM t", 1105, "No partition named 'p9' in recycle bin")

        _exec(conn, "DROP TABLE t", "RECOVER TABLE t AS t2")
        assert len(rows(conn, "SELECT * FROM t2")) == 2
        _exec(conn, "DROP TABLE t2 FORCE")
        assert _bin(conn, "t2") == []


def test_recover_database_and_erase(server: DorisbkServer) -> None:
    with server.connect() as conn:
        _setup(conn, "rb_db")
        # an earlier table of the same name sits in the bin too: only the database's own comes back
        _exec(conn, RANGE_TABLE.format(name="t"), "INSERT INTO t VALUES (1, 'old')", "DROP TABLE t")
        _exec(conn, RANGE_TABLE.format(name="t"), "INSERT INTO t VALUES (3, 'x')", "DROP DATABASE rb_db")
        assert [e["Type"] for e in _bin(conn, "rb_db")] == ["Database"]
        _exec(conn, "RECOVER DATABASE rb_db AS rb_db2")
        assert rows(conn, "SELECT k FROM rb_db2.t") == [(3,)]
        assert rows(conn, "SHOW TABLES FROM rb_db2") == [("t",)]
        expect_error(conn, "RECOVER DATABASE rb_db_none", 1049, "Unknown database")

        _exec(conn, "USE rb_db2", "ALTER TABLE t DROP PARTITION p1")
        part_id = _bin(conn, "p1")[-1]["PartitionId"]
        _exec(conn, f"DROP CATALOG RECYCLE BIN WHERE 'PartitionId' = {part_id}")
        expect_error(conn, "RECOVER PARTITION p1 FROM t", 1105, "No partition named 'p1'")


def test_recycle_bin_survives_restart_and_expires(fresh_server: DorisbkServer) -> None:
    fresh_server.start()
    with fresh_server.connect() as conn:
        _setup(conn, "rb_r")
        _exec(conn, RANGE_TABLE.format(name="t"), "INSERT INTO t VALUES (5, 'r')", "DROP TABLE t")
    fresh_server.restart()
    with fresh_server.connect(database="rb_r") as conn:
        _exec(conn, "RECOVER TABLE t")
        assert rows(conn, "SELECT v FROM t") == [("r",)]
        files = list(Path(fresh_server.data_dir).rglob("*.parquet"))
        assert files
        _exec(conn, "DROP TABLE t", 'ADMIN SET FRONTEND CONFIG ("catalog_trash_expire_second" = "0")')
        deadline = time.monotonic() + 10
        while _bin(conn, "t") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _bin(conn, "t") == []
        assert not any(f.exists() for f in files)


def test_rename_and_modify_partition(server: DorisbkServer) -> None:
    with server.connect() as conn:
        _setup(conn, "rb_part")
        _exec(conn, RANGE_TABLE.format(name="t"), "INSERT INTO t VALUES (1, 'a')")
        _exec(conn, "ALTER TABLE t RENAME PARTITION p1 p10")
        assert set(partitions(conn, "t")) == {"p10", "p2"}
        expect_error(conn, "ALTER TABLE t RENAME PARTITION p2 p10", 1105, "Partition name[p10] is already used")
        expect_error(conn, "ALTER TABLE t RENAME PARTITION nope p3", 1105, "Partition[nope] does not exists")
        assert rows(conn, "SELECT k FROM t PARTITION (p10)") == [(1,)]
        _exec(conn, 'ALTER TABLE t MODIFY PARTITION p2 SET ("storage_medium" = "SSD")')
        assert partitions(conn, "t")["p2"]["StorageMedium"] == "SSD"
        _exec(conn, 'ALTER TABLE t MODIFY PARTITION (*) SET ("replication_num" = "1", "storage_medium" = "HDD")')
        assert {p["StorageMedium"] for p in partitions(conn, "t").values()} == {"HDD"}
        code, _msg = error(conn, 'ALTER TABLE t MODIFY PARTITION (p2) SET ("replication_num" = "7")')
        assert code == 1105


def test_several_alter_clauses(server: DorisbkServer) -> None:
    with server.connect() as conn:
        _setup(conn, "rb_multi")
        _exec(conn, RANGE_TABLE.format(name="t"))
        _exec(conn, 'ALTER TABLE t ADD PARTITION p3 VALUES LESS THAN ("30"), ADD PARTITION p4 VALUES LESS THAN ("40")')
        assert set(partitions(conn, "t")) == {"p1", "p2", "p3", "p4"}
        _exec(conn, "ALTER TABLE t ADD COLUMN a INT, DROP COLUMN v")
        assert [r[0] for r in rows(conn, "DESC t")] == ["k", "a"]


def test_processlist_and_kill(server: DorisbkServer) -> None:
    with server.connect() as conn, server.connect() as other:
        me = rows(conn, "SELECT CONNECTION_ID()")[0][0]
        theirs = rows(other, "SELECT CONNECTION_ID()")[0][0]
        listed = dicts(conn, "SHOW FULL PROCESSLIST")
        by_id = {int(r["Id"]): r for r in listed}
        assert {me, theirs} <= set(by_id)
        assert by_id[me]["CurrentConnected"] == "Yes" and by_id[theirs]["CurrentConnected"] == "No"
        assert by_id[me]["Command"] == "Query" and by_id[me]["Info"] == "SHOW FULL PROCESSLIST"
        assert by_id[theirs]["Command"] == "Sleep" and by_id[theirs]["User"] == "root"
        expect_error(conn, "KILL 987654", 1094, "Unknown thread id: 987654")
        _exec(conn, f"KILL {theirs}")
        deadline = time.monotonic() + 5
        while theirs in {int(r["Id"]) for r in dicts(conn, "SHOW PROCESSLIST")} and time.monotonic() < deadline:
            time.sleep(0.05)
        assert theirs not in {int(r["Id"]) for r in dicts(conn, "SHOW PROCESSLIST")}


def test_create_table_as_select(server: DorisbkServer) -> None:
    """CTAS: columns typed from the query as Doris types them, HASH(first column) BUCKETS 10 by
    default, the head's own clauses kept, and no table left when the load fails."""
    with server.connect() as conn:
        _setup(conn, "ctas")
        _exec(
            conn,
            "CREATE TABLE src (k INT, s VARCHAR(10), d DATE, x DECIMAL(10, 2)) DUPLICATE KEY(k) "
            'DISTRIBUTED BY HASH(k) BUCKETS 2 PROPERTIES ("replication_num" = "1")',
            "INSERT INTO src VALUES (1, 'a', '2024-01-01', 1.50), (30, 'b', '2024-02-01', 2.25)",
            "CREATE TABLE copy AS SELECT * FROM src",
        )
        assert rows(conn, "SELECT * FROM copy ORDER BY k") == rows(conn, "SELECT * FROM src ORDER BY k")
        desc = [(r["Field"], r["Type"]) for r in dicts(conn, "DESC copy")]
        assert desc == [("k", "INT"), ("s", "VARCHAR(65533)"), ("d", "DATE"), ("x", "DECIMAL(10, 2)")]
        assert "DISTRIBUTED BY HASH(`k`) BUCKETS 10" in rows(conn, "SHOW CREATE TABLE copy")[0][1]
        _exec(conn, "CREATE TABLE agg (n, total) AS SELECT k, count(*) FROM src GROUP BY k")
        assert rows(conn, "SELECT n, total FROM agg ORDER BY n") == [(1, 1), (30, 1)]
        _exec(conn, "CREATE TABLE u UNIQUE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1 AS SELECT k, k * 2 AS v FROM src")
        assert "UNIQUE KEY(`k`)" in rows(conn, "SHOW CREATE TABLE u")[0][1]
        _exec(conn, "CREATE TABLE IF NOT EXISTS u AS SELECT 7 AS k, 7 AS v")  # exists: nothing loaded
        assert rows(conn, "SELECT count(*) FROM u") == [(2,)]
        failing = "CREATE TABLE p PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10')) AS SELECT * FROM src"
        expect_error(conn, failing, 1105, "no partition for this tuple")
        assert ("p",) not in rows(conn, "SHOW TABLES")
        expect_error(conn, "CREATE TABLE q AS SELECT * FROM nosuch", 1146)
        assert ("q",) not in rows(conn, "SHOW TABLES")
