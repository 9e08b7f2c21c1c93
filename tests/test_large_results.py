"""Results larger than one fetch batch are sent as DuckDB produces them (the server holds one batch,
not the whole result): they arrive whole and in order through the text and binary protocols, their
files stay on disk while they are read even if the table is dropped meanwhile, and a client that
walks away in the middle leaves the server serving everyone."""

from __future__ import annotations

import subprocess
import sys

import pymysql
import pymysql.cursors
import pytest

from dorisbk.engine.query import FETCH_ROWS
from tests.clientkit import require_module
from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import one, rows

ROWS = FETCH_ROWS * 3 + 17  # more than three batches and a part of one


@pytest.fixture(scope="module")
def big(server: DorisbkServer) -> DorisbkServer:
    with server.connect() as conn:
        rows(conn, "CREATE DATABASE big")
        rows(conn, "CREATE TABLE big.t (k BIGINT, v VARCHAR(32)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 4")
        rows(conn, f"INSERT INTO big.t SELECT number, concat('row-', number) FROM numbers('number' = '{ROWS}')")
    return server


def test_a_large_result_arrives_whole_and_in_order(big: DorisbkServer) -> None:
    with big.connect(database="big") as conn:
        got = rows(conn, "SELECT k, v FROM t ORDER BY k")
        assert len(got) == ROWS
        assert got[0] == (0, "row-0") and got[-1] == (ROWS - 1, f"row-{ROWS - 1}")
        assert [r[0] for r in got] == list(range(ROWS))
        assert one(conn, "SELECT count(*) FROM t") == ROWS  # the connection goes on


def test_a_large_result_through_the_binary_protocol(big: DorisbkServer) -> None:
    connector = require_module("mysql.connector")
    conn = connector.connect(host="127.0.0.1", port=big.port, user="root", password="", database="big")
    try:
        cur = conn.cursor(prepared=True)
        cur.execute("SELECT k, v FROM t WHERE k >= ? ORDER BY k", (10,))
        got = cur.fetchall()
        assert len(got) == ROWS - 10
        assert (got[0][0], got[-1][0]) == (10, ROWS - 1)
        cur.close()
    finally:
        conn.close()


def test_files_stay_while_a_result_is_read_even_if_the_table_goes(big: DorisbkServer) -> None:
    with big.connect() as root:
        rows(root, "CREATE TABLE big.doomed (k BIGINT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 2")
        rows(root, f"INSERT INTO big.doomed SELECT number FROM numbers('number' = '{ROWS}')")
    reader = pymysql.connect(
        host="127.0.0.1", port=big.port, user="root", password="", cursorclass=pymysql.cursors.SSCursor
    )
    try:
        with reader.cursor() as cur:
            cur.execute("SELECT k FROM big.doomed ORDER BY k")
            head = [cur.fetchone() for _ in range(5)]
            with big.connect() as root:
                rows(root, "DROP TABLE big.doomed FORCE")
            rest = cur.fetchall()
        assert [r[0] for r in head + list(rest)] == list(range(ROWS))
    finally:
        reader.close()


LEAVER = """
import os, sys
import pymysql, pymysql.cursors
conn = pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user="root", cursorclass=pymysql.cursors.SSCursor)
cur = conn.cursor()
cur.execute("SELECT k, v FROM big.t")
print(cur.fetchone(), flush=True)
os._exit(0)  # gone, with most of the result unsent
"""


def test_a_client_that_leaves_mid_result_harms_nobody(big: DorisbkServer) -> None:
    for _ in range(3):
        left = subprocess.run([sys.executable, "-c", LEAVER, str(big.port)], capture_output=True, text=True, timeout=60)
        assert left.returncode == 0 and left.stdout.startswith("("), left.stderr
    with big.connect(database="big") as conn:
        assert one(conn, "SELECT count(*) FROM t") == ROWS
        assert len(rows(conn, "SELECT k FROM t")) == ROWS
