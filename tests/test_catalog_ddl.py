"""Catalog DDL in Doris syntax: databases, tables (types, key models, partitions, distribution,
properties), LIKE, TRUNCATE, ALTER, views, and the SHOW / DESC statements with Doris's columns."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, expect_error, one, partitions, rows, tablets

PARTITION_COLUMNS = [
    "PartitionId",
    "PartitionName",
    "VisibleVersion",
    "VisibleVersionTime",
    "State",
    "PartitionKey",
    "Range",
    "DistributionKey",
    "Buckets",
    "ReplicationNum",
    "StorageMedium",
    "CooldownTime",
    "RemoteStoragePolicy",
    "LastConsistencyCheckTime",
    "DataSize",
    "IsInMemory",
    "ReplicaAllocation",
    "IsMutable",
    "SyncWithBaseTables",
    "UnsyncTables",
    "CommittedVersion",
    "RowCount",
]
TABLET_COLUMNS = [
    "TabletId",
    "ReplicaId",
    "BackendId",
    "SchemaHash",
    "Version",
    "LstSuccessVersion",
    "LstFailedVersion",
    "LstFailedTime",
    "LocalDataSize",
    "RemoteDataSize",
    "RowCount",
    "State",
    "LstConsistencyCheckTime",
    "CheckVersion",
    "VisibleVersionCount",
    "VersionCount",
    "QueryHits",
    "PathHash",
    "Path",
    "MetaUrl",
    "CompactionStatus",
    "CooldownReplicaId",
    "CooldownMetaId",
]
BACKEND_COLUMNS = [
    "BackendId",
    "Host",
    "HeartbeatPort",
    "BePort",
    "HttpPort",
    "BrpcPort",
    "ArrowFlightSqlPort",
    "LastStartTime",
    "LastHeartbeat",
    "Alive",
    "SystemDecommissioned",
    "TabletNum",
    "DataUsedCapacity",
    "TrashUsedCapacity",
    "AvailCapacity",
    "TotalCapacity",
    "UsedPct",
    "MaxDiskUsedPct",
    "RemoteUsedCapacity",
    "Tag",
    "ErrMsg",
    "Version",
    "Status",
    "HeartbeatFailureCounter",
    "NodeRole",
]

ALL_TYPES_TABLE = """
CREATE TABLE {name} (
  k1 TINYINT NOT NULL COMMENT 'tiny key',
  k2 SMALLINT NOT NULL DEFAULT "7",
  k3 INT NOT NULL,
  c_big BIGINT NULL,
  c_large LARGEINT,
  c_float FLOAT,
  c_double DOUBLE,
  c_dec DECIMAL(12, 3) DEFAULT "1.5",
  c_date DATE,
  c_dt DATETIME DEFAULT CURRENT_TIMESTAMP,
  c_char CHAR(8),
  c_vc VARCHAR(100) COMMENT "it's a \\"quoted\\" comment",
  c_str STRING,
  c_bool BOOLEAN
) ENGINE=OLAP
DUPLICATE KEY(k1, k2, k3)
COMMENT 'all the types'
PARTITION BY RANGE(k3) (
  PARTITION p_neg VALUES LESS THAN ("0"),
  PARTITION p_small VALUES LESS THAN ("100"),
  PARTITION p_gap VALUES [("200"), ("300")),
  PARTITION p_max VALUES LESS THAN MAXVALUE
)
DISTRIBUTED BY HASH(k1, k2) BUCKETS 3
PROPERTIES ("replication_num" = "1")
"""


@pytest.fixture(scope="module")
def conn(server: DorisbkServer):
    with server.connect() as c:
        rows(c, "CREATE DATABASE ddl")
        rows(c, "USE ddl")
        yield c


def show_create(conn, table: str) -> str:
    return rows(conn, f"SHOW CREATE TABLE {table}")[0][1]


# ---- databases


def test_databases(conn) -> None:
    rows(conn, "CREATE DATABASE ddl_a")
    expect_error(conn, "CREATE DATABASE ddl_a", 1007, "Can't create database 'ddl_a'; database exists")
    rows(conn, "CREATE DATABASE IF NOT EXISTS ddl_a")
    rows(conn, "CREATE SCHEMA ddl_b")
    names = [r[0] for r in rows(conn, "SHOW DATABASES")]
    assert {"ddl", "ddl_a", "ddl_b", "information_schema"} <= set(names)
    assert names == sorted(names)
    assert rows(conn, "SHOW DATABASES LIKE 'ddl_%'") == [("ddl_a",), ("ddl_b",)]
    assert columns(conn, "SHOW DATABASES") == ["Database"]
    assert rows(conn, "SHOW CREATE DATABASE ddl_a") == [("ddl_a", "CREATE DATABASE `ddl_a`")]
    rows(conn, "CREATE TABLE ddl_a.t (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    rows(conn, "DROP DATABASE ddl_a FORCE")
    expect_error(conn, "DROP DATABASE ddl_a", 1049, "Can't drop database 'ddl_a'; database doesn't exist")
    rows(conn, "DROP DATABASE IF EXISTS ddl_a")
    rows(conn, "DROP SCHEMA IF EXISTS ddl_b")
    expect_error(conn, "SHOW TABLES FROM ddl_a", 1049)
    expect_error(conn, "CREATE TABLE ddl_a.t (k INT)", 1049)
    expect_error(conn, "CREATE DATABASE `bad name`", 1102, "Incorrect database name")
    rows(conn, "CREATE DATABASE `quoted_ok`")
    rows(conn, "DROP DATABASE `quoted_ok`")


# ---- tables


def test_create_table_with_every_type_and_clause(conn) -> None:
    rows(conn, ALL_TYPES_TABLE.format(name="all_types"))
    desc = rows(conn, "DESC all_types")
    assert columns(conn, "DESC all_types") == ["Field", "Type", "Null", "Key", "Default", "Extra"]
    assert [r[0] for r in desc] == [
        "k1", "k2", "k3", "c_big", "c_large", "c_float", "c_double", "c_dec",
        "c_date", "c_dt", "c_char", "c_vc", "c_str", "c_bool",
    ]  # fmt: skip
    by_name = {r[0]: r for r in desc}
    assert by_name["k1"][1:4] == ("TINYINT", "No", "true")
    assert by_name["k2"][4] == "7"
    assert by_name["c_big"][1:4] == ("BIGINT", "Yes", "false")
    assert by_name["c_large"][1] == "LARGEINT"
    assert by_name["c_dec"][1] == "DECIMAL(12, 3)" and by_name["c_dec"][4] == "1.5"
    assert by_name["c_char"][1] == "CHAR(8)" and by_name["c_vc"][1] == "VARCHAR(100)"
    assert by_name["c_dt"][4] == "CURRENT_TIMESTAMP"
    assert rows(conn, "DESCRIBE all_types") == desc
    full = dicts(conn, "SHOW FULL COLUMNS FROM all_types")
    assert full[0]["Comment"] == "tiny key"
    assert full[11]["Comment"] == 'it\'s a "quoted" comment'
    parts = partitions(conn, "all_types")
    assert list(parts) == ["p_neg", "p_small", "p_gap", "p_max"]
    assert parts["p_small"]["Range"] == "[types: [INT]; keys: [0]; ..types: [INT]; keys: [100]; )"
    assert parts["p_gap"]["Range"] == "[types: [INT]; keys: [200]; ..types: [INT]; keys: [300]; )"
    assert parts["p_neg"]["Range"].startswith("[types: [INT]; keys: [-2147483648]; ")
    assert parts["p_max"]["Range"].endswith("keys: [2147483647]; )")
    for p in parts.values():
        assert p["PartitionKey"] == "k3"
        assert p["DistributionKey"] == "k1, k2"
        assert p["Buckets"] == "3" and p["ReplicationNum"] == "1"
        assert p["VisibleVersion"] == "1" and p["State"] == "NORMAL"
    assert len(tablets(conn, "all_types")) == 12  # 4 partitions x 3 buckets x 1 replica


def test_show_create_table_round_trip(conn) -> None:
    rows(conn, ALL_TYPES_TABLE.format(name="rt_src"))
    rows(
        conn,
        'CREATE TABLE rt_agg (d DATE NOT NULL, city VARCHAR(20) NOT NULL, hits BIGINT SUM DEFAULT "0", '
        "lo INT MIN, hi INT MAX, last VARCHAR(10) REPLACE, keep VARCHAR(10) REPLACE_IF_NOT_NULL) "
        "AGGREGATE KEY(d, city) PARTITION BY LIST(city) (PARTITION p_north VALUES IN ('oslo', 'bergen'), "
        'PARTITION p_south VALUES IN ("rome")) DISTRIBUTED BY HASH(city) BUCKETS 2',
    )
    rows(
        conn,
        "CREATE TABLE rt_uniq (id BIGINT, name VARCHAR(32), score DECIMAL(5, 2)) UNIQUE KEY(id) "
        'DISTRIBUTED BY HASH(id) BUCKETS 4 PROPERTIES ("replication_allocation" = "tag.location.default: 1")',
    )
    rows(conn, "CREATE TABLE rt_plain (a INT, b STRING) DISTRIBUTED BY RANDOM BUCKETS 2")
    rows(
        conn,
        "CREATE TABLE rt_multi (d DATE, h INT, v INT) PARTITION BY RANGE(d, h) ("
        "PARTITION p1 VALUES LESS THAN ('2024-01-01', '12'), PARTITION p2 VALUES LESS THAN ('2024-01-02')) "
        "DISTRIBUTED BY HASH(v) BUCKETS 1",
    )
    rows(
        conn,
        "CREATE TABLE rt_list2 (a INT NOT NULL, b VARCHAR(5) NOT NULL, v INT) PARTITION BY LIST(a, b) "
        "(PARTITION p1 VALUES IN ((1, 'x'), (2, 'y')), PARTITION p2 VALUES IN ((3, 'z'))) "
        "DISTRIBUTED BY HASH(v) BUCKETS 1",
    )
    # Doris names DATE partition keys by their storage type, DATEV2
    assert partitions(conn, "rt_multi")["p1"]["Range"] == (
        "[types: [DATEV2, INT]; keys: [0000-01-01, -2147483648]; ..types: [DATEV2, INT]; keys: [2024-01-01, 12]; )"
    )
    for name in ("rt_src", "rt_agg", "rt_uniq", "rt_plain", "rt_multi", "rt_list2"):
        text = show_create(conn, name)
        assert text.startswith(f"CREATE TABLE `{name}` (")
        copy = name + "_copy"
        rows(conn, text.replace(f"CREATE TABLE `{name}`", f"CREATE TABLE `{copy}`", 1))
        assert show_create(conn, copy) == text.replace(f"`{name}`", f"`{copy}`", 1)
        assert rows(conn, f"DESC {copy}") == rows(conn, f"DESC {name}")
        src_parts = [(p["PartitionName"], p["Range"], p["Buckets"]) for p in partitions(conn, name).values()]
        copy_parts = [(p["PartitionName"], p["Range"], p["Buckets"]) for p in partitions(conn, copy).values()]
        if name in ("rt_plain", "rt_uniq"):  # an unpartitioned table's one partition is named after the table
            assert [p[0] for p in src_parts] == [name] and [p[0] for p in copy_parts] == [copy]
            assert [p[1:] for p in copy_parts] == [p[1:] for p in src_parts]
        else:
            assert copy_parts == src_parts
    text = show_create(conn, "rt_agg")
    assert "AGGREGATE KEY(`d`, `city`)" in text
    assert '`hits` bigint SUM NULL DEFAULT "0"' in text
    assert "PARTITION BY LIST (`city`)" in text
    assert 'PARTITION p_north VALUES IN ("oslo", "bergen")' in text
    assert partitions(conn, "rt_agg")["p_north"]["Range"] == (
        "[types: [VARCHAR]; keys: [oslo]; , types: [VARCHAR]; keys: [bergen]; ]"
    )
    assert 'PARTITION p1 VALUES IN (("1", "x"), ("2", "y"))' in show_create(conn, "rt_list2")
    assert '"replication_allocation" = "tag.location.default: 1"' in text
    assert "UNIQUE KEY(`id`)" in show_create(conn, "rt_uniq")
    assert "DISTRIBUTED BY RANDOM BUCKETS 2" in show_create(conn, "rt_plain")
    assert "DUPLICATE KEY(`a`)" in show_create(conn, "rt_plain")  # Doris's implicit keys
    assert "COMMENT 'all the types'" in show_create(conn, "rt_src")


def test_create_table_errors(conn) -> None:
    rows(conn, "CREATE TABLE dup_name (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    expect_error(conn, "CREATE TABLE dup_name (k INT)", 1050, "Table 'dup_name' already exists")
    rows(conn, "CREATE TABLE IF NOT EXISTS dup_name (other INT)")
    assert [r[0] for r in rows(conn, "DESC dup_name")] == ["k"]
    bad = {
        "CREATE TABLE e1 (k INT, k INT)": (1060, "Duplicate column name"),
        "CREATE TABLE e2 (k FOO)": (1064, "line 1, column 20 near 'FOO': Unknown type"),
        "CREATE TABLE e3 (k INT) DISTRIBUTED BY HASH(nope) BUCKETS 1": (1105, "Distribution column[nope]"),
        "CREATE TABLE e4 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 0": (1105, "greater than zero"),
        "CREATE TABLE e5 (k INT, v INT) AGGREGATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1": (
            1105,
            "must specify aggregate type",
        ),
        "CREATE TABLE e6 (k INT, v INT) UNIQUE KEY(v) DISTRIBUTED BY HASH(k) BUCKETS 1": (1105, "ordered prefix"),
        "CREATE TABLE e7 (k INT, v INT) UNIQUE KEY(k) DISTRIBUTED BY RANDOM BUCKETS 1": (1105, "unique key"),
        "CREATE TABLE e8 (k DOUBLE, v INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(v) BUCKETS 1": (1105, "Float"),
        "CREATE TABLE e9 (k DECIMAL(40, 2))": (1105, "DECIMAL"),
        "CREATE TABLE e10 (k VARCHAR(0))": (1105, "VARCHAR length"),
        "CREATE TABLE e11 (k INT) PARTITION BY RANGE(zz) (PARTITION p VALUES LESS THAN ('1'))": (
            1105,
            "Partition column[zz]",
        ),
        "CREATE TABLE e12 (k INT) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('10'), "
        "PARTITION p1 VALUES LESS THAN ('20'))": (1105, "Duplicated partition name"),
        "CREATE TABLE e13 (k INT) PARTITION BY RANGE(k) (PARTITION p1 VALUES [('0'), ('10')), "
        "PARTITION p2 VALUES [('5'), ('20')))": (1105, "is intersected with range"),
        "CREATE TABLE e14 (k DATE) PARTITION BY RANGE(k) (PARTITION p1 VALUES LESS THAN ('not-a-date'))": (
            1105,
            "Invalid value",
        ),
        "CREATE TABLE e15 (k INT) PARTITION BY LIST(k) (PARTITION p1 VALUES IN (1, 2), PARTITION p2 VALUES IN (2))": (
            1105,
            "conflict",
        ),
        "CREATE TABLE e16 (k INT) ENGINE=mysql": (1105, "Unsupported engine"),
        "CREATE TABLE e17 (k INT) PROPERTIES ('replication_num' = 'abc')": (1105, "replication_num"),
        "CREATE TABLE e18 (k INT) PROPERTIES ('replication_num' = '0')": (1105, "replication num"),
        "CREATE TABLE `bad name` (k INT)": (1103, "Incorrect table name"),
        "CREATE TABLE e19 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 100000": (1105, "hash distribution"),
        "CREATE TABLE e20 (k INT": (1064, "line 1, column 24 near end of input"),
    }
    for sql, (code, fragment) in bad.items():
        expect_error(conn, sql, code, fragment)
    tables = {r[0] for r in rows(conn, "SHOW TABLES")}
    assert not any(re.fullmatch(r"e\d+", t) for t in tables)


def test_replication_num_above_backends_fails(conn) -> None:
    message = expect_error(
        conn,
        "CREATE TABLE rep3 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '3')",
        1105,
        "Failed to find enough backend",
    )
    assert "replication num: 3" in message
    expect_error(
        conn,
        "CREATE TABLE rep3 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 "
        "PROPERTIES ('replication_allocation' = 'tag.location.default: 2')",
        1105,
        "Failed to find enough backend",
    )
    assert "rep3" not in {r[0] for r in rows(conn, "SHOW TABLES")}


def test_create_table_like(conn) -> None:
    rows(
        conn,
        "CREATE TABLE like_src (d DATE, v INT) PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-01-01'), "
        "PARTITION p2 VALUES [('2024-02-01'), ('2024-03-01'))) DISTRIBUTED BY HASH(v) BUCKETS 2",
    )
    rows(conn, "INSERT INTO like_src VALUES ('2023-05-05', 1)")
    rows(conn, "CREATE TABLE like_copy LIKE like_src")
    assert show_create(conn, "like_copy") == show_create(conn, "like_src").replace("`like_src`", "`like_copy`")
    assert one(conn, "SELECT count(*) FROM like_copy") == 0  # schema only
    rows(conn, "CREATE DATABASE ddl_other")
    rows(conn, "CREATE TABLE ddl_other.like_far LIKE ddl.like_src")
    assert list(partitions(conn, "ddl_other.like_far")) == ["p1", "p2"]
    expect_error(conn, "CREATE TABLE like_copy LIKE like_src", 1050)
    expect_error(conn, "CREATE TABLE like_x LIKE no_such", 1146)


def test_drop_table(conn) -> None:
    rows(conn, "CREATE TABLE to_drop (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    rows(conn, "DROP TABLE to_drop")
    expect_error(conn, "DROP TABLE to_drop", 1051, "Unknown table 'to_drop'")
    rows(conn, "DROP TABLE IF EXISTS to_drop")
    rows(conn, "CREATE TABLE to_drop (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    rows(conn, "DROP TABLE ddl.to_drop FORCE")
    expect_error(conn, "SELECT * FROM to_drop", 1146)
    expect_error(conn, "DESC to_drop", 1146)


def test_truncate_add_drop_partition_rename(conn) -> None:
    rows(
        conn,
        "CREATE TABLE alt (d DATE, v INT) PARTITION BY RANGE(d) (PARTITION p202401 VALUES LESS THAN ('2024-02-01'), "
        "PARTITION p202402 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(v) BUCKETS 2",
    )
    rows(conn, "INSERT INTO alt VALUES ('2024-01-10', 1), ('2024-02-10', 2), ('2024-02-11', 3)")
    rows(conn, "ALTER TABLE alt ADD PARTITION p202403 VALUES LESS THAN ('2024-04-01')")
    rows(
        conn,
        "ALTER TABLE alt ADD PARTITION p202406 VALUES [('2024-06-01'), ('2024-07-01')) "
        "DISTRIBUTED BY HASH(v) BUCKETS 5",
    )
    expect_error(conn, "ALTER TABLE alt ADD PARTITION p202403 VALUES LESS THAN ('2024-05-01')", 1517, "Duplicate")
    rows(conn, "ALTER TABLE alt ADD PARTITION IF NOT EXISTS p202403 VALUES LESS THAN ('2024-05-01')")
    expect_error(
        conn, "ALTER TABLE alt ADD PARTITION p_overlap VALUES [('2024-01-15'), ('2024-01-20'))", 1105, "intersected"
    )
    parts = partitions(conn, "alt")
    assert list(parts) == ["p202401", "p202402", "p202403", "p202406"]
    assert parts["p202406"]["Buckets"] == "5"
    assert len(tablets(conn, "alt")) == 2 + 2 + 2 + 5
    rows(conn, "TRUNCATE TABLE alt PARTITION (p202402)")
    assert rows(conn, "SELECT * FROM alt ORDER BY v") == [(__import__("datetime").date(2024, 1, 10), 1)]
    rows(conn, "ALTER TABLE alt DROP PARTITION p202401")
    expect_error(conn, "ALTER TABLE alt DROP PARTITION p202401", 1507)
    rows(conn, "ALTER TABLE alt DROP PARTITION IF EXISTS p202401")
    assert one(conn, "SELECT count(*) FROM alt") == 0
    rows(conn, "ALTER TABLE alt RENAME alt_renamed")
    tables = {r[0] for r in rows(conn, "SHOW TABLES")}
    assert "alt_renamed" in tables and "alt" not in tables
    assert list(partitions(conn, "alt_renamed")) == ["p202402", "p202403", "p202406"]
    expect_error(conn, "ALTER TABLE alt_renamed RENAME dup_name", 1050)
    rows(conn, "TRUNCATE TABLE alt_renamed")
    rows(conn, "CREATE TABLE unpart (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    expect_error(conn, "ALTER TABLE unpart ADD PARTITION p1 VALUES LESS THAN ('1')", 1105, "UNPARTITIONED")
    rows(conn, "ALTER TABLE unpart RENAME unpart2")
    assert list(partitions(conn, "unpart2")) == ["unpart2"]


def test_views(conn) -> None:
    rows(conn, "CREATE TABLE vbase (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    rows(conn, "INSERT INTO vbase VALUES (1, 10), (2, 20), (3, 30)")
    rows(conn, "CREATE VIEW v_big AS SELECT k, v FROM vbase WHERE v >= 20")
    rows(conn, "CREATE VIEW v_renamed (kk, vv COMMENT 'value') AS SELECT k, v * 2 FROM vbase")
    assert rows(conn, "SELECT * FROM v_big ORDER BY k") == [(2, 20), (3, 30)]
    assert columns(conn, "SELECT * FROM v_renamed") == ["kk", "vv"]
    rows(conn, "CREATE VIEW v_counts AS SELECT k, count(*), max(v) AS top FROM vbase GROUP BY k")
    assert columns(conn, "SELECT * FROM v_counts") == ["k", "count(*)", "top"]
    assert rows(conn, "SELECT * FROM v_counts WHERE k = 2") == [(2, 1, 20)]
    assert rows(conn, "SELECT vv FROM v_renamed WHERE kk = 1") == [(20,)]
    full = dict(rows(conn, "SHOW FULL TABLES"))
    assert full["v_big"] == "VIEW" and full["vbase"] == "BASE TABLE"
    got = dicts(conn, "SHOW CREATE VIEW v_big")[0]
    assert list(got) == ["View", "Create View", "character_set_client", "collation_connection"]
    assert got["Create View"].startswith("CREATE VIEW `v_big` AS SELECT k, v FROM vbase")
    expect_error(conn, "CREATE VIEW v_big AS SELECT 1", 1050)
    rows(conn, "CREATE VIEW IF NOT EXISTS v_big AS SELECT 1")
    expect_error(conn, "CREATE VIEW v_bad AS SELECT k FROM no_such_table", 1146)
    expect_error(conn, "DROP VIEW vbase", 1105, "is not VIEW")
    expect_error(conn, "DROP TABLE v_big", 1105, "DROP VIEW")
    rows(conn, "DROP VIEW v_big")
    rows(conn, "DROP VIEW IF EXISTS v_big")
    expect_error(conn, "SELECT * FROM v_big", 1146)


def test_show_tables_and_columns(conn) -> None:
    rows(conn, "CREATE DATABASE show_db")
    rows(conn, "CREATE TABLE show_db.alpha (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    rows(conn, "CREATE TABLE show_db.beta (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
    assert columns(conn, "SHOW TABLES FROM show_db") == ["Tables_in_show_db"]
    assert rows(conn, "SHOW TABLES FROM show_db") == [("alpha",), ("beta",)]
    assert rows(conn, "SHOW TABLES IN show_db LIKE 'al%'") == [("alpha",)]
    assert columns(conn, "SHOW FULL TABLES FROM show_db") == ["Tables_in_show_db", "Table_type"]
    assert columns(conn, "SHOW COLUMNS FROM show_db.alpha") == ["Field", "Type", "Null", "Key", "Default", "Extra"]
    assert rows(conn, "SHOW COLUMNS FROM alpha FROM show_db") == [("k", "int", "YES", "YES", None, "")]
    all_cols = columns(conn, "DESC show_db.alpha ALL")
    assert all_cols[:4] == ["IndexName", "IndexKeysType", "Field", "Type"]
    expect_error(conn, "SHOW CREATE TABLE show_db.gamma", 1146, "show_db.gamma")


def test_show_partitions_tablets_backends_columns(server: DorisbkServer, conn) -> None:
    rows(conn, "CREATE TABLE cols_t (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 2")
    assert columns(conn, "SHOW PARTITIONS FROM cols_t") == PARTITION_COLUMNS
    assert columns(conn, "SHOW TABLETS FROM cols_t") == TABLET_COLUMNS
    assert columns(conn, "SHOW TABLET FROM cols_t") == TABLET_COLUMNS
    assert columns(conn, "SHOW BACKENDS") == BACKEND_COLUMNS
    backends = dicts(conn, "SHOW BACKENDS")
    assert len(backends) == 1
    be = backends[0]
    assert be["Alive"] == "true" and be["Host"] == "127.0.0.1"
    assert int(be["TabletNum"]) >= 2
    for t in tablets(conn, "cols_t"):
        assert t["BackendId"] == be["BackendId"]
        assert t["Version"] == "1" and t["RowCount"] == "0"
        assert Path(t["Path"]).parent.parent == server.data_dir.resolve() / "be" / "be1"
    assert rows(conn, "SHOW TEMPORARY PARTITIONS FROM cols_t") == []
    expect_error(conn, "SHOW PARTITIONS FROM no_such", 1146)
    expect_error(conn, "SHOW TABLETS FROM cols_t PARTITION (nope)", 1105, "nope")


# ---- three backends


@pytest.fixture(scope="module")
def server3(tmp_path_factory: pytest.TempPathFactory):
    srv = DorisbkServer(tmp_path_factory.mktemp("be3") / "data", backends=3).start()
    yield srv
    srv.stop()


def test_three_backends_spread_replicas(server3: DorisbkServer) -> None:
    with server3.connect() as c:
        backends = dicts(c, "SHOW BACKENDS")
        assert len(backends) == 3
        ids = {b["BackendId"] for b in backends}
        for i in (1, 2, 3):
            assert (server3.data_dir / "be" / f"be{i}").is_dir()
        rows(c, "CREATE DATABASE spread")
        rows(
            c,
            "CREATE TABLE spread.r3 (k INT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 4 "
            "PROPERTIES ('replication_num' = '3')",
        )
        rows(
            c,
            "CREATE TABLE spread.r2 (d DATE, k INT) PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN "
            "('2024-01-01'), PARTITION p2 VALUES LESS THAN ('2025-01-01')) DISTRIBUTED BY HASH(k) BUCKETS 3 "
            "PROPERTIES ('replication_allocation' = 'tag.location.default: 2')",
        )
        r3 = tablets(c, "spread.r3")
        assert len(r3) == 12
        by_tablet: dict[str, list[str]] = {}
        for t in r3:
            by_tablet.setdefault(t["TabletId"], []).append(t["BackendId"])
        assert all(sorted(bes) == sorted(ids) for bes in by_tablet.values())
        r2 = tablets(c, "spread.r2")
        assert len(r2) == 2 * 3 * 2
        pairs: dict[str, list[str]] = {}
        for t in r2:
            pairs.setdefault(t["TabletId"], []).append(t["BackendId"])
        assert all(len(set(bes)) == 2 for bes in pairs.values())  # distinct backends per tablet
        load = Counter(t["BackendId"] for t in r2)
        assert sorted(load.values()) == [4, 4, 4]  # spread evenly
        assert {p["ReplicationNum"] for p in partitions(c, "spread.r2").values()} == {"2"}
        # a load writes every replica on its own backend
        rows(c, "INSERT INTO spread.r3 SELECT number, number FROM numbers('number' = '1000')")
        r3 = tablets(c, "spread.r3")
        for tablet_id, replicas in by_tablet.items():
            counts = {t["RowCount"] for t in r3 if t["TabletId"] == tablet_id}
            assert len(counts) == 1  # every replica has the same rows
            assert len(replicas) == 3
        assert sum(int(t["RowCount"]) for t in r3) == 3 * 1000
        for t in r3:
            files = list(Path(t["Path"]).glob("*.parquet"))
            assert len(files) == (1 if t["RowCount"] != "0" else 0)
            assert str(Path(t["Path"])).startswith(str(server3.data_dir.resolve() / "be"))
        assert one(c, "SELECT count(*) FROM spread.r3") == 1000
        assert sum(int(b["TabletNum"]) for b in dicts(c, "SHOW BACKENDS")) == 12 + 12
        message = expect_error(
            c,
            "CREATE TABLE spread.r4 (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1 PROPERTIES ('replication_num' = '4')",
            1105,
            "Failed to find enough backend",
        )
        assert "replication num: 4" in message
        expect_error(
            c,
            "ALTER TABLE spread.r2 ADD PARTITION p3 VALUES LESS THAN ('2026-01-01') ('replication_num' = '5')",
            1105,
            "replication num: 5",
        )
        rows(c, "ALTER TABLE spread.r2 ADD PARTITION p3 VALUES LESS THAN ('2026-01-01') ('replication_num' = '3')")
        assert partitions(c, "spread.r2")["p3"]["ReplicationNum"] == "3"
        assert {len(v) for v in _replicas_by_tablet(tablets(c, "spread.r2 PARTITION (p3)")).values()} == {3}


def _replicas_by_tablet(tablet_rows: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for t in tablet_rows:
        out.setdefault(t["TabletId"], []).append(t["BackendId"])
    return out
