"""One endpoint for a shared cluster's clients: HAProxy in TCP mode in front of two ``dorisbk serve`` nodes over
one PostgreSQL database and one SeaweedFS vault. Clients connect to HAProxy only; each connection lands on
either node and gets the same answers, writes through either are read through both, and a node that stops takes
no new connection."""

# ruff: noqa: F811 - the fixtures s3 and prefix come from test_shared_storage, and tests take them by name

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pymysql

from tests.dorisbk_server import DorisbkServer, free_port
from tests.faultkit import haproxy_binary, run_haproxy
from tests.jobkit import q
from tests.s3server import S3Server
from tests.sqlhelp import wait_until
from tests.test_shared_storage import QUERY, load, node, prefix, s3  # noqa: F401 - fixtures

READS = (
    QUERY,
    "SELECT d, count(*), sum(k) FROM sdb.t GROUP BY d ORDER BY d",
    "SELECT count(*), sum(k) FROM sdb.t PARTITION (p2)",
    "SELECT v FROM sdb.t WHERE k IN (7, 150, 299) ORDER BY k",
)
CONNECTIONS = 40  # client connections through the endpoint, 4 at a time
READ_TIMEOUT_S = 60


@contextmanager
def mysql_endpoint(nodes: list[DorisbkServer], work: Path) -> Iterator[int]:
    """HAProxy in TCP mode on a free loopback port, round robin over ``nodes``' MySQL addresses, each checked every
    200 ms by its greeting (``option mysql-check``): a node that does not greet takes no new connection, and a
    connect it refuses is sent to another node (``option redispatch``). Yields the port."""
    binary = haproxy_binary()
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"    server {srv.node_name} {srv.host}:{srv.port} check" for srv in nodes)
    config = f"""
defaults
    mode tcp
    timeout connect 5s
    timeout client {READ_TIMEOUT_S}s
    timeout server {READ_TIMEOUT_S}s
    retries 3
    option redispatch 1
    default-server inter 200ms fall 2 rise 1
frontend mysql
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
    option mysql-check
{servers}
"""
    with run_haproxy(binary, config, work, (port,)):
        yield port


def connect(port: int) -> pymysql.connections.Connection:
    return pymysql.connect(
        host="127.0.0.1",
        port=port,
        user="root",
        password="",
        autocommit=True,
        connect_timeout=10,
        read_timeout=READ_TIMEOUT_S,
        write_timeout=READ_TIMEOUT_S,
    )


def served_by(conn: pymysql.connections.Connection) -> int:
    """The MySQL port of the node this connection landed on."""
    return int(q(conn, "SELECT @@port")[0][0])


def read_through(port: int, expected: dict[str, list[tuple]]) -> Counter[int]:
    """CONNECTIONS connections through the endpoint, 4 threads at a time, each running every read and checking
    its answer; returns how many landed on each node (by its port)."""
    landed: Counter[int] = Counter()
    failures: list[BaseException] = []
    lock = threading.Lock()
    remaining = iter(range(CONNECTIONS))

    def worker() -> None:
        while True:
            with lock:
                if next(remaining, None) is None:
                    return
            try:
                with connect(port) as conn:
                    where = served_by(conn)
                    for sql, rows in expected.items():
                        assert q(conn, sql) == rows, (where, sql)
                with lock:
                    landed[where] += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the test's thread
                with lock:
                    failures.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(READ_TIMEOUT_S * 2)
    assert not any(thread.is_alive() for thread in threads), "a client thread did not end"
    assert not failures, failures
    return landed


def test_one_endpoint_in_front_of_two_nodes(tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str) -> None:
    first = node(tmp_path, "n1", postgres_url, s3, prefix)
    second = node(tmp_path, "n2", postgres_url, s3, prefix)
    try:
        first.start()
        with mysql_endpoint([first, second], tmp_path / "haproxy") as port:
            # node 2 is not up yet: DDL and loads through the endpoint all land on node 1 (a refused connect
            # is sent to it, and the check soon keeps node 2 out)
            with connect(port) as conn:
                assert served_by(conn) == first.port
                load(conn)
            with connect(port) as conn:
                assert served_by(conn) == first.port
                expected = {sql: q(conn, sql) for sql in READS}
            assert len(expected[QUERY]) == 300

            # node 2 starts over the store where the data already is (the catalog from PostgreSQL, the files
            # from the vault) and the endpoint sends it connections once it greets
            second.start()

            def both_serve() -> bool:
                with connect(port) as conn:
                    return served_by(conn) == second.port

            wait_until(both_serve, "a connection through the endpoint on node 2", timeout=30)
            landed = read_through(port, expected)
            assert set(landed) == {first.port, second.port}, landed
            assert sum(landed.values()) == CONNECTIONS

            # node 1 stops: every new connection lands on node 2, with the same answers
            first.stop()
            landed = read_through(port, expected)
            assert set(landed) == {second.port}, landed
    finally:
        second.stop()
        first.stop()


def test_writes_through_either_node_are_read_through_either(
    tmp_path: Path, postgres_url: str, s3: S3Server, prefix: str
) -> None:
    """DDL and loads through the endpoint land on both nodes, four INSERTs at a time (commits another node made
    meanwhile are caught up with and retried by the server), and every connection reads every row once the nodes
    have applied each other's commits (bounded polling: the journal's lag)."""
    nodes = [node(tmp_path, name, postgres_url, s3, prefix) for name in ("n1", "n2")]
    try:
        for srv in nodes:
            srv.start()
        with mysql_endpoint(nodes, tmp_path / "haproxy") as port:
            with connect(port) as conn:
                q(conn, "CREATE DATABASE sdb")
                q(conn, "CREATE TABLE sdb.w (k INT, v VARCHAR(16)) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) "
                        "BUCKETS 3 PROPERTIES ('replication_num' = '1')")  # fmt: skip

            def table_everywhere() -> bool:
                return all(srv.query("SHOW TABLES FROM sdb") == [("w",)] for srv in nodes)

            wait_until(table_everywhere, "the table on every node", timeout=30)
            writers: Counter[int] = Counter()
            lock = threading.Lock()

            def write(first_batch: int) -> None:
                for batch in range(first_batch, 20, 4):  # each INSERT on a connection of its own
                    with connect(port) as conn:
                        where = served_by(conn)
                        values = ", ".join(f"({k}, 'v{k}')" for k in range(batch * 10, batch * 10 + 10))
                        q(conn, f"INSERT INTO sdb.w VALUES {values}")
                    with lock:
                        writers[where] += 1

            threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]  # 4 writers at once
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(READ_TIMEOUT_S * 2)
            assert sum(writers.values()) == 20, writers  # a failed INSERT ends its thread early
            assert set(writers) == {srv.port for srv in nodes}, writers
            rows = [(k, f"v{k}") for k in range(200)]

            def all_rows_everywhere() -> bool:
                return all(srv.query("SELECT k, v FROM sdb.w ORDER BY k") == rows for srv in nodes)

            wait_until(all_rows_everywhere, "every row on every node", timeout=30)
            landed = read_through(port, {"SELECT k, v FROM sdb.w ORDER BY k": rows})
            assert set(landed) == {srv.port for srv in nodes}, landed
    finally:
        for srv in nodes:
            srv.stop()
