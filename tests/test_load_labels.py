"""Load labels and transactions: ``INSERT ... WITH LABEL l`` and generated labels, a label refused while a
finished load of the database holds it, failed loads leaving theirs free, the OK packet's
``{'label':..., 'status':'VISIBLE', 'txnId':...}``, SHOW LOAD / SHOW TRANSACTION rows, expiry and the
per-database cap, and labels surviving a kill -9 together with their data."""

from __future__ import annotations

import re
import time

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, expect_error, one, rows

TABLE = (
    "CREATE TABLE t (d DATE NOT NULL, k INT NOT NULL, v VARCHAR(20)) DUPLICATE KEY(d, k) "
    "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
    "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(k) BUCKETS 2"
)
INFO = re.compile(r"\{'label':'(?P<label>[^']+)', 'status':'VISIBLE', 'txnId':'(?P<txn>\d+)'\}")


def make_db(conn: pymysql.connections.Connection, name: str) -> None:
    rows(conn, f"CREATE DATABASE {name}")
    rows(conn, f"USE {name}")
    rows(conn, TABLE)


def insert(conn: pymysql.connections.Connection, sql: str) -> tuple[str, int]:
    """Run an INSERT; the label and txn id its OK packet carries."""
    with conn.cursor() as cur:
        cur.execute(sql)
    message = conn._result.message  # the info's length prefix, then its text (as from Doris and MySQL)
    assert message[0] == len(message) - 1, message
    match = INFO.fullmatch(message[1:].decode())
    assert match, conn._result.message
    return match["label"], int(match["txn"])


def test_with_label_and_reuse(server: DorisbkServer) -> None:
    with server.connect() as c:
        make_db(c, "lbl_reuse")
        label, txn = insert(
            c, "INSERT INTO t WITH LABEL first_load VALUES ('2024-01-05', 1, 'a'), ('2024-02-05', 2, 'b')"
        )
        assert label == "first_load"
        expect_error(c, "INSERT INTO t WITH LABEL first_load VALUES ('2024-01-06', 3, 'c')", 1105,
                     f"Label [first_load] has already been used, relate to txn [{txn}]")  # fmt: skip
        assert one(c, "SELECT count(*) FROM t") == 2  # the refused load wrote nothing
        # with partitions and a column list, and INSERT OVERWRITE
        insert(c, "INSERT INTO lbl_reuse.t PARTITION (p2) WITH LABEL `second-load:1` (d, k) VALUES ('2024-02-07', 4)")
        assert one(c, "SELECT count(*) FROM t WHERE v IS NULL") == 1
        label, _ = insert(c, "INSERT OVERWRITE TABLE t PARTITION (p1) WITH LABEL over_1 SELECT '2024-01-09', 9, 'o'")
        assert label == "over_1" and one(c, "SELECT group_concat(CAST(k AS VARCHAR)) FROM t PARTITION (p1)") == "9"
        # a generated label, as Doris's Nereids makes them
        label, other = insert(c, "INSERT INTO t SELECT '2024-02-09', 5, 'g'")
        assert re.fullmatch(r"label_[0-9a-f]+_[0-9a-f]+", label) and other > txn
        # labels are per database
        make_db(c, "lbl_reuse2")
        assert insert(c, "INSERT INTO t WITH LABEL first_load VALUES ('2024-01-05', 1, 'a')")[0] == "first_load"
        expect_error(c, "INSERT INTO t WITH LABEL `bad label` VALUES ('2024-01-05', 1, 'a')", 1105,
                     "Label format error. regex: ^[-_A-Za-z0-9:]{1,128}$, label: bad label")  # fmt: skip


def test_failed_load_leaves_label_free(server: DorisbkServer) -> None:
    with server.connect() as c:
        make_db(c, "lbl_fail")
        expect_error(c, "INSERT INTO t WITH LABEL retry_me VALUES ('2030-01-01', 1, 'x')", 1105, "no partition")
        aborted = dicts(c, "SHOW TRANSACTION WHERE LABEL = 'retry_me'")
        assert [r["TransactionStatus"] for r in aborted] == ["ABORTED"]
        assert "no partition for this tuple" in aborted[0]["Reason"]
        assert rows(c, "SHOW LOAD WHERE LABEL = 'retry_me'") == []  # only successful INSERTs are load jobs
        _, txn = insert(c, "INSERT INTO t WITH LABEL retry_me VALUES ('2024-01-01', 1, 'x')")
        states = {
            r["TransactionId"]: r["TransactionStatus"] for r in dicts(c, "SHOW TRANSACTION WHERE LABEL = 'retry_me'")
        }
        assert states == {aborted[0]["TransactionId"]: "ABORTED", str(txn): "VISIBLE"}
        expect_error(c, "INSERT INTO t WITH LABEL retry_me VALUES ('2024-01-01', 1, 'x')", 1105,
                     f"relate to txn [{txn}]")  # fmt: skip


def test_show_load_and_transaction(server: DorisbkServer) -> None:
    with server.connect() as c:
        make_db(c, "lbl_show")
        txns = {}
        for name in ("daily_a", "daily_b", "weekly_c"):
            txns[name] = insert(c, f"INSERT INTO t WITH LABEL {name} VALUES ('2024-01-0{len(txns) + 1}', 1, 'x')")[1]
        loads = dicts(c, "SHOW LOAD FROM lbl_show")
        assert [r["Label"] for r in loads] == ["daily_a", "daily_b", "weekly_c"]
        first = loads[0]
        assert (first["State"], first["Type"], first["Progress"]) == ("FINISHED", "INSERT", "100.00% (0/0)")
        assert first["TransactionId"] == str(txns["daily_a"]) and first["User"] == "root"
        assert first["TaskInfo"] == "cluster:N/A; timeout(s):14400; max_filter_ratio:0.0; priority:NORMAL"
        assert first["ErrorMsg"] == first["EtlInfo"] == "\\N" and first["LoadFinishTime"] >= first["CreateTime"]
        assert '"ScannedRows":1' in first["JobDetails"]
        assert [r["Label"] for r in dicts(c, "SHOW LOAD WHERE LABEL LIKE '%daily%' ORDER BY JobId DESC")] == [
            "daily_b", "daily_a"]  # fmt: skip
        assert [r["Label"] for r in dicts(c, "SHOW LOAD WHERE STATE = 'FINISHED' LIMIT 1, 1")] == ["daily_b"]
        assert rows(c, "SHOW LOAD WHERE STATE = 'CANCELLED'") == []
        txn = dicts(c, f"SHOW TRANSACTION FROM lbl_show WHERE ID = {txns['weekly_c']}")
        assert len(txn) == 1
        row = txn[0]
        assert (row["Label"], row["TransactionStatus"], row["LoadJobSourceType"]) == (
            "weekly_c", "VISIBLE", "INSERT_STREAMING")  # fmt: skip
        assert row["Coordinator"].startswith("FE: ") and row["TimeoutMs"] == "14400000"
        assert row["FinishTime"] >= row["PrepareTime"] and row["PreCommitTime"] == "\\N"
        assert len(dicts(c, "SHOW TRANSACTION WHERE STATUS = 'visible'")) == 3
        expect_error(c, "SHOW TRANSACTION WHERE ID = 1", 1105, "transaction with id 1 does not exist")
        expect_error(c, "SHOW TRANSACTION FROM lbl_reuse WHERE LABEL = 'weekly_c'", 1105,
                     "transaction with label weekly_c does not exist")  # fmt: skip


def _config(conn: pymysql.connections.Connection, name: str, value: str) -> None:
    rows(conn, f'ADMIN SET FRONTEND CONFIG ("{name}" = "{value}")')


def _poll(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_labels_expire_and_are_capped(server: DorisbkServer) -> None:
    with server.connect() as c:
        make_db(c, "lbl_expire")
        for i in range(4):
            insert(c, f"INSERT INTO t WITH LABEL cap_{i} VALUES ('2024-01-01', {i}, 'x')")
        try:
            _config(c, "label_num_threshold", "2")
            _config(c, "label_clean_interval_second", "1")
            _poll(lambda: len(rows(c, "SHOW LOAD FROM lbl_expire")) == 2)
            assert [r["Label"] for r in dicts(c, "SHOW LOAD")] == ["cap_2", "cap_3"]
            insert(c, "INSERT INTO t WITH LABEL cap_0 VALUES ('2024-01-01', 0, 'again')")  # forgotten: free again
            _config(c, "label_num_threshold", "2000")
            _config(c, "streaming_label_keep_max_second", "1")
            _poll(lambda: rows(c, "SHOW LOAD FROM lbl_expire") == [])
            expect_error(c, "SHOW TRANSACTION WHERE LABEL = 'cap_3'", 1105, "does not exist")
            insert(c, "INSERT INTO t WITH LABEL cap_3 VALUES ('2024-01-01', 3, 'again')")
            assert one(c, "SELECT count(*) FROM t") == 6
        finally:
            _config(c, "label_num_threshold", "2000")
            _config(c, "streaming_label_keep_max_second", "43200")
            _config(c, "label_clean_interval_second", "3600")


@pytest.mark.parametrize("kill", [True, False], ids=["kill9", "restart"])
def test_label_is_durable_with_its_data(fresh_server: DorisbkServer, kill: bool) -> None:
    srv = fresh_server.start()
    with srv.connect() as c:
        make_db(c, "lbl_durable")
        _, txn = insert(c, "INSERT INTO t WITH LABEL kept VALUES ('2024-01-01', 1, 'x'), ('2024-02-01', 2, 'y')")
        expect_error(c, "INSERT INTO t WITH LABEL lost VALUES ('2030-01-01', 1, 'x')", 1105, "no partition")
    if kill:
        srv.kill9()
        srv.start()
    else:
        srv.restart()
    with srv.connect(database="lbl_durable") as c:
        assert one(c, "SELECT count(*) FROM t") == 2
        expect_error(c, "INSERT INTO t WITH LABEL kept VALUES ('2024-01-01', 3, 'z')", 1105,
                     f"Label [kept] has already been used, relate to txn [{txn}]")  # fmt: skip
        assert [r["Label"] for r in dicts(c, "SHOW LOAD")] == ["kept"]
        assert insert(c, "INSERT INTO t WITH LABEL lost VALUES ('2024-01-02', 4, 'w')")[0] == "lost"
