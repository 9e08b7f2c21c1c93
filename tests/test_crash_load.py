"""Crash safety and concurrency of loads: kill -9 in the middle of a large INSERT leaves the last
committed version and exactly its rows, the dead load's files are collected at start (its staging) and
by the orphan sweep once the server is up (a file in a tablet dir); loads and
queries from many connections run together, each query seeing whole loads only."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pymysql
import pytest

from tests.dorisbk_server import DorisbkServer
from tests.sqlhelp import dicts, one, rows, wait_until

# a cross join of 10^16 rows: no machine answers it before KILL does
HEAVY = 'SELECT sum(a.number + b.number) FROM numbers("number" = "100000000") a, numbers("number" = "100000000") b'

CRASH_TABLE = (
    "CREATE TABLE c (d DATE NOT NULL, id BIGINT NOT NULL, s VARCHAR(40)) DUPLICATE KEY(d, id) "
    "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), "
    "PARTITION p2 VALUES LESS THAN ('2024-03-01')) DISTRIBUTED BY HASH(id) BUCKETS 8"
)
BIG_LOAD = (
    "INSERT INTO c SELECT date_add('2024-01-01', INTERVAL number % 59 DAY), number + 1000000000, "
    "concat('payload-', number) FROM numbers('number' = '40000000')"
)


def disk_files(data_dir: Path) -> set[str]:
    return {str(p) for p in data_dir.glob("be/*/data/*/*.parquet")}


def referenced_files(conn) -> set[str]:
    out = set()
    for t in dicts(conn, "SHOW TABLETS FROM crash.c"):
        out |= {str(p) for p in Path(t["Path"]).glob("*.parquet")}
    return out


def test_kill9_during_a_large_insert(fresh_server: DorisbkServer) -> None:
    srv = fresh_server.start()
    with srv.connect() as c:
        rows(c, "CREATE DATABASE crash")
        rows(c, "USE crash")
        rows(c, CRASH_TABLE)
        rows(c, "INSERT INTO c SELECT date_add('2024-01-01', INTERVAL number % 59 DAY), number, 'committed' "
                "FROM numbers('number' = '10000')")  # fmt: skip
        rows(c, "INSERT INTO c VALUES ('2024-02-10', -1, 'second load')")
        committed_parts = rows(c, "SHOW PARTITIONS FROM c")
        committed_tablets = rows(c, "SHOW TABLETS FROM c")
        committed_sum = rows(c, "SELECT count(*), sum(id), count(DISTINCT s) FROM c")
        committed_files = disk_files(srv.data_dir)
    assert [r[2] for r in committed_parts] == ["2", "3"]

    failure: list[BaseException] = []
    finished = threading.Event()

    def big_load() -> None:
        try:
            with srv.connect(database="crash") as c:
                rows(c, BIG_LOAD)
            finished.set()
        except BaseException as exc:  # the server dies under it
            failure.append(exc)

    loader = threading.Thread(target=big_load)
    loader.start()
    staging_root = srv.data_dir / "be" / "be1" / "tmp"
    deadline = time.monotonic() + 30
    appeared = None
    while time.monotonic() < deadline and not finished.is_set():
        staged = list(staging_root.glob("load_*"))
        if staged and appeared is None:
            appeared = time.monotonic()
        if staged and (list(staging_root.glob("load_*/**/*.parquet")) or time.monotonic() - appeared > 1.5):
            break
        time.sleep(0.01)
    assert appeared is not None, "the load never started staging"
    assert not finished.is_set(), "the load finished before it could be killed; make BIG_LOAD bigger"
    srv.kill9()
    loader.join(30)
    assert failure and isinstance(failure[0], pymysql.err.MySQLError)
    assert list(staging_root.glob("load_*"))  # the dead load left its staging behind...

    # ...and a file placed in a tablet dir by a load that died before its commit
    some_tablet = Path(committed_tablets[0][18])
    orphan = some_tablet / "99999999_99999999.parquet"
    orphan.write_bytes(b"PAR1 not committed")

    srv.start()
    with srv.connect(database="crash") as c:
        assert rows(c, "SHOW PARTITIONS FROM c") == committed_parts
        assert rows(c, "SHOW TABLETS FROM c") == committed_tablets
        assert rows(c, "SELECT count(*), sum(id), count(DISTINCT s) FROM c") == committed_sum
        assert one(c, "SELECT count(*) FROM c WHERE id >= 1000000000") == 0
        assert not list(staging_root.glob("load_*"))  # collected at start
        wait_until(lambda: not orphan.exists(), "the orphan sweep deleted the dead load's file")
        assert disk_files(srv.data_dir) == committed_files == referenced_files(c)
        # the table takes loads again, with the next version
        rows(c, "INSERT INTO c VALUES ('2024-01-02', -2, 'after restart')")
        assert [p["VisibleVersion"] for p in dicts(c, "SHOW PARTITIONS FROM c")] == ["3", "3"]
        assert one(c, "SELECT count(*) FROM c") == 10002


@pytest.fixture(scope="module")
def busy(server: DorisbkServer) -> DorisbkServer:
    with server.connect() as c:
        rows(c, "CREATE DATABASE busy")
        rows(c, "CREATE TABLE busy.ledger (d DATE NOT NULL, k BIGINT NOT NULL, v INT) DUPLICATE KEY(d, k) "
                "PARTITION BY RANGE(d) (PARTITION p1 VALUES LESS THAN ('2024-02-01'), PARTITION p2 VALUES LESS "
                "THAN ('2024-03-01')) DISTRIBUTED BY HASH(k) BUCKETS 4")  # fmt: skip
        rows(c, "CREATE TABLE busy.other (k BIGINT, v INT) DISTRIBUTED BY HASH(k) BUCKETS 2")
    return server


def test_concurrent_loads_and_queries(busy: DorisbkServer) -> None:
    batch, loads_per_thread, loaders = 1000, 8, 3
    errors: list[BaseException] = []
    stop = threading.Event()
    observed: list[list[tuple[int, int]]] = []

    def loader(n: int) -> None:
        try:
            with busy.connect(database="busy") as c:
                for i in range(loads_per_thread):
                    base = (n * loads_per_thread + i) * batch
                    # every load puts `batch` rows into p1 and `batch` rows into p2
                    rows(c, f"INSERT INTO ledger SELECT if(number % 2 = 0, '2024-01-15', '2024-02-15'), "
                            f"number + {base * 2}, 1 FROM numbers('number' = '{2 * batch}')")  # fmt: skip
                    rows(c, f"INSERT INTO other SELECT number + {base}, 1 FROM numbers('number' = '{batch}')")
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        seen: list[tuple[int, int]] = []
        try:
            with busy.connect(database="busy") as c:
                while not stop.is_set():
                    got = rows(c, "SELECT d, count(*) FROM ledger GROUP BY d ORDER BY d")
                    counts = dict(got)
                    seen.append((int(counts.get(__import__("datetime").date(2024, 1, 15), 0)),
                                 int(counts.get(__import__("datetime").date(2024, 2, 15), 0))))  # fmt: skip
                    assert one(c, "SELECT count(*) FROM other") % batch == 0
        except BaseException as exc:
            errors.append(exc)
        observed.append(seen)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    writers = [threading.Thread(target=loader, args=(n,)) for n in range(loaders)]
    for t in readers + writers:
        t.start()
    # the server keeps answering other clients meanwhile
    with busy.connect() as c:
        for _ in range(20):
            assert one(c, "SELECT 1") == 1
    for t in writers:
        t.join(120)
    stop.set()
    for t in readers:
        t.join(60)
    assert not errors, errors
    total = loaders * loads_per_thread
    with busy.connect(database="busy") as c:
        assert one(c, "SELECT count(*) FROM ledger") == total * 2 * batch
        assert one(c, "SELECT count(DISTINCT k) FROM ledger") == total * 2 * batch
        assert one(c, "SELECT count(*) FROM other") == total * batch
        versions = {p["PartitionName"]: p["VisibleVersion"] for p in dicts(c, "SHOW PARTITIONS FROM ledger")}
        assert versions == {"p1": str(1 + total), "p2": str(1 + total)}
        per_tablet = sum(int(t["RowCount"]) for t in dicts(c, "SHOW TABLETS FROM ledger"))
        assert per_tablet == total * 2 * batch
    assert sum(len(s) for s in observed) > 3
    for seen in observed:
        for p1, p2 in seen:
            # a load is visible whole or not at all, in both partitions together
            assert p1 % batch == 0 and p1 == p2
        assert [p for p, _ in seen] == sorted(p for p, _ in seen)  # versions only move forward


def test_a_long_query_does_not_block_others(busy: DorisbkServer) -> None:
    """A query that would run for hours holds one worker: other clients' queries are answered while
    it still runs (no clock involved), and KILL QUERY ends it."""
    heavy_conn = busy.connect()
    outcome: list[object] = []

    def heavy() -> None:
        try:
            outcome.append(one(heavy_conn, HEAVY))
        except pymysql.err.OperationalError as exc:
            outcome.append(exc)

    t = threading.Thread(target=heavy)
    t.start()
    try:
        with busy.connect() as c:
            wait_until(
                lambda: any(int(r["Id"]) == heavy_conn.thread_id() and r["Command"] == "Query"
                            for r in dicts(c, "SHOW PROCESSLIST")),
                "the heavy query started", 30,
            )  # fmt: skip
            for _ in range(5):
                assert one(c, "SELECT count(*) FROM busy.other") >= 0
            assert t.is_alive() and outcome == []  # answered while the heavy query still ran
            rows(c, f"KILL QUERY {heavy_conn.thread_id()}")
        t.join(60)
        assert len(outcome) == 1 and isinstance(outcome[0], pymysql.err.OperationalError)
    finally:
        heavy_conn.close()
