"""SHOW DATA, SHOW CATALOGS, SWITCH, SHOW DATABASE|TABLE|PARTITION <id>, ADMIN SHOW REPLICA STATUS /
DISTRIBUTION, SHOW ROLES, SHOW PROPERTY, SHOW TRANSACTION and SHOW [STREAM] LOAD: Doris 2.1's columns
and values from the catalog, and the errors Doris gives."""

from __future__ import annotations

import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import columns, dicts, expect_error, rows

DB = "show_more_db"


@pytest.fixture(scope="module")
def root(server: DorisbkServer):
    with server.connect() as c:
        rows(c, f"CREATE DATABASE {DB}")
        rows(c, f"USE {DB}")
        rows(
            c,
            "CREATE TABLE sales (d DATE, k INT, v INT) DUPLICATE KEY(d, k) "
            "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-01-01'), "
            "PARTITION p2 VALUES LESS THAN ('2025-01-01')) DISTRIBUTED BY HASH(k) BUCKETS 2",
        )
        rows(c, "INSERT INTO sales VALUES ('2023-05-01', 1, 10), ('2023-06-01', 2, 20), ('2024-02-01', 3, 30)")
        rows(c, "CREATE TABLE empty_t (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")
        rows(c, "CREATE VIEW sales_v AS SELECT k FROM sales")
        rows(c, "CREATE USER 'show_more_u'@'%' IDENTIFIED BY 'pw'")
        rows(c, f"GRANT SELECT_PRIV ON {DB}.empty_t TO 'show_more_u'@'%'")
        yield c


def _by(result: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in result}


def _tablet_rows(conn, table: str) -> list[dict]:
    return dicts(conn, f"SHOW TABLETS FROM {table}")


def test_show_data_of_database(root) -> None:
    got = dicts(root, "SHOW DATA")
    assert list(got[0]) == ["TableName", "Size", "ReplicaCount", "RemoteSize"]
    assert [r["TableName"] for r in got] == ["empty_t", "sales", "Total", "Quota", "Left"]  # views are not listed
    sales_bytes = sum(int(t["LocalDataSize"]) for t in _tablet_rows(root, "sales"))
    assert sales_bytes > 0
    named = _by(got, "TableName")
    assert named["sales"]["ReplicaCount"] == "4" and named["empty_t"]["ReplicaCount"] == "1"
    assert named["empty_t"]["Size"] == "0.000 " and named["empty_t"]["RemoteSize"] == "0.000 "
    expected = f"{sales_bytes / 1024:.3f} KB" if sales_bytes > 1024 else f"{sales_bytes:.3f} B"
    assert named["sales"]["Size"] == named["Total"]["Size"] == expected
    assert named["Total"]["ReplicaCount"] == "5"
    assert (named["Quota"]["Size"], named["Quota"]["ReplicaCount"], named["Quota"]["RemoteSize"]) == (
        "1024.000 TB", "1073741824", "")  # fmt: skip
    assert named["Left"]["ReplicaCount"] == str(1073741824 - 5)
    # ORDER BY sorts the table rows on their raw values; the summary rows stay last
    ordered = rows(root, "SHOW DATA ORDER BY ReplicaCount DESC")
    assert [r[0] for r in ordered] == ["sales", "empty_t", "Total", "Quota", "Left"]
    expect_error(root, "SHOW DATA ORDER BY nope", 1105, "Title name[nope] does not exist")


def test_show_data_of_table_and_all_databases(server: DorisbkServer, root) -> None:
    got = dicts(root, f"SHOW DATA FROM {DB}.sales")
    assert list(got[0]) == ["TableName", "IndexName", "Size", "ReplicaCount", "RowCount", "RemoteSize"]
    assert [(r["TableName"], r["IndexName"]) for r in got] == [("sales", "sales"), ("", "Total")]
    assert got[0]["RowCount"] == "3" and got[0]["ReplicaCount"] == "4" and got[1]["RowCount"] == ""
    assert got[0]["Size"] == got[1]["Size"]
    expect_error(root, "SHOW DATA FROM sales_v", 1105, "not a OLAP table")
    # without a current database Doris answers with every database's byte totals (an ADMIN statement)
    with server.connect() as c:
        every = dicts(c, "SHOW DATA")
    assert list(every[0]) == ["DbId", "DbName", "Size", "RemoteSize", "RecycleSize", "RecycleRemoteSize"]
    mine = _by(every, "DbName")[DB]
    sales_bytes = sum(int(t["LocalDataSize"]) for t in _tablet_rows(root, "sales"))
    assert mine["Size"] == str(sales_bytes) and mine["RemoteSize"] == "0"
    assert every[-1]["DbId"] == "Total" and every[-1]["DbName"] == "NULL"
    assert every[-1]["Size"] == str(sum(int(r["Size"]) for r in every[:-1]))
    # a user only sees the tables it holds a privilege on, and no other's sizes
    with server.connect(user="show_more_u", password="pw", database=DB) as c:
        assert [r[0] for r in rows(c, "SHOW DATA")] == ["empty_t", "Total", "Quota", "Left"]
        expect_error(c, "SHOW DATA FROM sales", 1142, "SHOW DATA command denied")
    with server.connect(user="show_more_u", password="pw") as c:
        expect_error(c, "SHOW DATA", 1227, "(ADMIN)")


def test_catalogs_and_switch(root) -> None:
    got = dicts(root, "SHOW CATALOGS")
    assert list(got[0]) == ["CatalogId", "CatalogName", "Type", "IsCurrent", "CreateTime", "LastUpdateTime", "Comment"]
    assert [(r["CatalogId"], r["CatalogName"], r["Type"], r["IsCurrent"]) for r in got] == [
        ("0", "internal", "internal", "Yes")
    ]
    assert rows(root, "SHOW CATALOGS LIKE 'hive%'") == []
    assert columns(root, "SHOW CATALOG internal") == ["Key", "Value"]
    rows(root, "SWITCH internal")
    assert rows(root, "SELECT COUNT(*) FROM sales") == [(3,)]
    expect_error(root, "SWITCH hive", 1105, "Unknown catalog 'hive'")
    expect_error(root, "SHOW CATALOG hive", 1105, "No catalog found with name: hive")


def test_objects_by_id(server: DorisbkServer, root) -> None:
    p1 = _by(dicts(root, "SHOW PARTITIONS FROM sales"), "PartitionName")["p1"]["PartitionId"]
    db_id = next(r["DbId"] for r in dicts(root, "SHOW PROC '/dbs'") if r["DbName"] == DB)
    table_id = next(r["TableId"] for r in dicts(root, f"SHOW PROC '/dbs/{db_id}'") if r["TableName"] == "sales")
    got = dicts(root, f"SHOW PARTITION {p1}")
    assert got == [{"DbName": DB, "TableName": "sales", "PartitionName": "p1", "DbId": db_id, "TableId": table_id}]
    assert dicts(root, f"SHOW TABLE {table_id}") == [{"DbName": DB, "TableName": "sales", "DbId": db_id}]
    assert dicts(root, f"SHOW DATABASE {db_id}") == [{"DbName": DB}]
    assert rows(root, "SHOW PARTITION 987654321") == []
    assert columns(root, "SHOW TABLE 987654321") == ["DbName", "TableName", "DbId"]
    assert rows(root, "SHOW DATABASE 987654321") == []
    with server.connect(user="show_more_u", password="pw") as c:
        expect_error(c, f"SHOW PARTITION {p1}", 1227, "(SHOW PARTITION)")
        expect_error(c, f"SHOW TABLE {table_id}", 1227, "(SHOW TABLE)")


def test_admin_show_replica_status(server: DorisbkServer, root) -> None:
    got = dicts(root, "ADMIN SHOW REPLICA STATUS FROM sales")
    assert list(got[0]) == ["TabletId", "ReplicaId", "BackendId", "Version", "LastFailedVersion",
                            "LastSuccessVersion", "CommittedVersion", "SchemaHash", "VersionNum", "IsBad",
                            "IsUserDrop", "State", "Status"]  # fmt: skip
    tablets = _tablet_rows(root, "sales")
    assert sorted(r["TabletId"] for r in got) == sorted(t["TabletId"] for t in tablets)
    assert {r["Status"] for r in got} == {"OK"} and {r["State"] for r in got} == {"NORMAL"}
    versions = {t["TabletId"]: t["Version"] for t in tablets}
    assert all(r["Version"] == r["CommittedVersion"] == versions[r["TabletId"]] for r in got)
    p2 = dicts(root, f"ADMIN SHOW REPLICA STATUS FROM {DB}.sales PARTITION (p2) WHERE status = 'OK'")
    assert len(p2) == 2
    assert rows(root, "ADMIN SHOW REPLICA STATUS FROM sales WHERE STATUS != 'OK'") == []
    assert rows(root, "ADMIN SHOW REPLICA STATUS FROM sales WHERE STATUS = 'MISSING'") == []
    expect_error(root, "ADMIN SHOW REPLICA STATUS FROM sales WHERE status = 'GOOD'", 1105, "Where clause should")
    expect_error(root, "ADMIN SHOW REPLICA STATUS FROM sales PARTITION (p9)", 1105, "Partition does not exist: p9")
    expect_error(root, "ADMIN SHOW REPLICA STATUS FROM sales TEMPORARY PARTITION (p1)", 1105, "temporary partitions")
    with server.connect(user="show_more_u", password="pw", database=DB) as c:
        expect_error(c, "ADMIN SHOW REPLICA STATUS FROM empty_t", 1227, "(ADMIN)")


def test_admin_show_replica_distribution(root) -> None:
    got = dicts(root, "ADMIN SHOW REPLICA DISTRIBUTION FROM sales")
    assert list(got[0]) == ["BackendId", "ReplicaNum", "ReplicaSize", "NumGraph", "NumPercent", "SizeGraph",
                            "SizePercent"]  # fmt: skip
    backends = [r["BackendId"] for r in dicts(root, "SHOW BACKENDS")]
    assert [r["BackendId"] for r in got] == sorted(backends, key=int)
    sales_bytes = sum(int(t["LocalDataSize"]) for t in _tablet_rows(root, "sales"))
    assert (got[0]["ReplicaNum"], got[0]["ReplicaSize"]) == ("4", str(sales_bytes))
    assert got[0]["NumGraph"] == ">" * 100 and got[0]["NumPercent"] == "100.00%"
    one = dicts(root, "ADMIN SHOW REPLICA DISTRIBUTION FROM sales PARTITION (p2)")
    assert one[0]["ReplicaNum"] == "2"
    empty = dicts(root, "ADMIN SHOW REPLICA DISTRIBUTION FROM empty_t")
    assert (empty[0]["ReplicaSize"], empty[0]["SizeGraph"], empty[0]["SizePercent"]) == ("0", "", "0.00%")


def test_roles_and_properties(server: DorisbkServer, root) -> None:
    got = dicts(root, "SHOW ROLES")
    assert list(got[0]) == ["Name", "Comment", "Users", "GlobalPrivs", "CatalogPrivs", "DatabasePrivs",
                            "TablePrivs", "ResourcePrivs", "WorkloadGroupPrivs"]  # fmt: skip
    roles = _by(got, "Name")
    assert set(roles) == {"admin", "operator"}
    assert roles["operator"]["Users"] == "'root'@'%'" and "Node_priv" in roles["operator"]["GlobalPrivs"]
    assert roles["admin"]["GlobalPrivs"] == "Admin_priv"
    props = dict(rows(root, "SHOW PROPERTY"))
    assert columns(root, "SHOW PROPERTY") == ["Key", "Value"]
    assert props["max_user_connections"] == "100" and props["default_workload_group"] == "normal"
    assert list(props) == sorted(props)
    assert rows(root, "SHOW PROPERTY FOR 'show_more_u' LIKE 'max_user%'") == [("max_user_connections", "100")]
    every = dicts(root, "SHOW ALL PROPERTY LIKE 'query_timeout'")
    assert list(every[0]) == ["User", "Properties"]
    assert _by(every, "User")["show_more_u"]["Properties"] == '{"query_timeout":"-1"}'
    expect_error(root, "SHOW PROPERTY FOR 'nobody'", 1105, "Unknown user: nobody")
    with server.connect(user="show_more_u", password="pw") as c:
        assert dict(rows(c, "SHOW PROPERTY"))["max_user_connections"] == "100"  # one's own: no privilege needed
        expect_error(c, "SHOW PROPERTY FOR 'root'", 1227, "(GRANT)")
        expect_error(c, "SHOW ROLES", 1227, "(GRANT)")


def test_transactions_and_loads(server: DorisbkServer, root) -> None:
    expect_error(root, "SHOW TRANSACTION WHERE ID = 42", 1105, "transaction with id 42 does not exist")
    expect_error(root, f"SHOW TRANSACTION FROM {DB} WHERE label = 'l1'", 1105, "transaction with label l1")
    assert columns(root, "SHOW TRANSACTION WHERE status = 'visible'")[:4] == [
        "TransactionId", "Label", "Coordinator", "TransactionStatus"]  # fmt: skip
    expect_error(root, "SHOW TRANSACTION", 1105, "Missing transaction id")
    expect_error(root, "SHOW TRANSACTION WHERE k = 1", 1105, "Where clause should looks like one of them")
    expect_error(root, "SHOW TRANSACTION WHERE status = 'done'", 1105, "status should be prepare")
    expect_error(root, "SHOW TRANSACTION FROM nodb WHERE ID = 1", 1049, "Unknown database 'nodb'")
    load_cols = columns(root, "SHOW LOAD")
    assert load_cols[:5] == ["JobId", "Label", "State", "Progress", "Type"] and load_cols[-2:] == ["User", "Comment"]
    assert rows(root, f"SHOW LOAD FROM {DB} WHERE LABEL = 'x' AND STATE = 'FINISHED' ORDER BY CreateTime DESC") == []
    expect_error(root, "SHOW LOAD WHERE STATE = 'DONE'", 1105, "Where clause should looks like")
    stream = columns(root, f"SHOW STREAM LOAD FROM {DB}")
    assert stream[:3] == ["Label", "Db", "Table"] and stream[-1] == "FinishTime"
    with server.connect() as c:
        expect_error(c, "SHOW LOAD", 1046, "No database selected")
