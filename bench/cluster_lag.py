"""Shared mode's journal lag: how long after a commit through node 1 returns node 2 shows it.

Two ``dorisbk serve`` nodes over a fresh database of the machine's PostgreSQL (trust auth) and a storage vault
in a SeaweedFS started for the run (``tests/pgdb.py``, ``tests/s3server.py``).
Each round commits one change through node 1 (an INSERT of one row: a new partition version; or a CREATE
TABLE) and then polls node 2 over one pymysql connection, as fast as it answers, until the change shows.
The lag printed is from the commit's return on node 1 to the first answer of node 2 that has it, so it
includes one query round trip on node 2 (printed beside it as "poll", on files it has) and, for an INSERT,
node 2 fetching the new rowset file from the vault. Figures only: nothing is asserted.

    .venv/bin/python -m bench.cluster_lag [--rounds 200]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pymysql

from bench.common import ensure_importable, machine_line, median, say, table

ensure_importable()

from tests.dorisbk_server import DorisbkServer  # noqa: E402 - after ensure_importable
from tests.pgdb import fresh_database  # noqa: E402
from tests.s3server import s3_server  # noqa: E402


def _wait_seen(conn: pymysql.connections.Connection, sql: str, want: object, timeout: float = 30.0) -> int:
    """Poll until ``sql`` answers ``want``; the number of polls it took."""
    deadline = time.monotonic() + timeout
    polls = 0
    with conn.cursor() as cur:
        while True:
            polls += 1
            try:
                cur.execute(sql)
                if cur.fetchall() == want:
                    return polls
            except pymysql.err.MySQLError:  # a table node 2 does not know yet
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{sql} never answered {want!r}")


def _measure(
    rounds: int, commit: Callable[[int], None], check: Callable[[int], tuple[str, object]], node2: pymysql.Connection
) -> tuple[list[float], list[float]]:
    lags, polls = [], []
    for i in range(rounds):
        commit(i)
        done = time.perf_counter()
        sql, want = check(i)
        n = _wait_seen(node2, sql, want)
        lag = time.perf_counter() - done
        lags.append(lag * 1000)
        polls.append(n)
    return lags, polls


def _poll_ms(node2: pymysql.Connection, sql: str) -> float:
    """One query round trip on node 2 (median of 20)."""
    times = []
    with node2.cursor() as cur:
        for _ in range(20):
            start = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            times.append((time.perf_counter() - start) * 1000)
    return median(times)


def _row(name: str, lags: list[float], polls: list[float], poll_ms: float) -> list[str]:
    ordered = sorted(lags)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return [
        name,
        str(len(lags)),
        f"{median(lags):.1f}",
        f"{p95:.1f}",
        f"{ordered[-1]:.1f}",
        f"{poll_ms:.1f}",
        f"{median(polls):.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()
    say(machine_line())
    work = Path(tempfile.mkdtemp(prefix="cluster-lag-", dir=args.work_dir))
    with s3_server() as s3, fresh_database() as url:
        nodes = [
            DorisbkServer(
                work / f"node{i}",
                meta_url=url,
                storage=f"s3://{s3.bucket}/lag",
                storage_properties=s3.repository_properties(),
                node_name=f"node{i}",
            )
            for i in (1, 2)
        ]
        try:
            _run(nodes, args.rounds)
        finally:
            for node in nodes:
                node.stop()
            shutil.rmtree(work, ignore_errors=True)


def _run(nodes: list[DorisbkServer], rounds: int) -> None:
    for node in nodes:
        node.start()
    with nodes[0].connect() as one, nodes[1].connect() as two, one.cursor() as cur:
        cur.execute("CREATE DATABASE lag")
        cur.execute("CREATE TABLE lag.t (k INT) DUPLICATE KEY(k) DISTRIBUTED BY HASH(k) BUCKETS 1")
        _wait_seen(two, "SHOW TABLES FROM lag", (("t",),))

        def insert(i: int) -> None:
            cur.execute(f"INSERT INTO lag.t VALUES ({i})")

        count_sql = "SELECT count(*) FROM lag.t"
        load_lags, load_polls = _measure(rounds, insert, lambda i: (count_sql, ((i + 1,),)), two)
        load_poll = _poll_ms(two, count_sql)

        def create(i: int) -> None:
            cur.execute(f"CREATE TABLE lag.c{i} (k INT) DISTRIBUTED BY HASH(k) BUCKETS 1")

        ddl_rounds = max(1, rounds // 4)
        ddl_lags, ddl_polls = _measure(
            ddl_rounds, create, lambda i: (f"SHOW TABLES FROM lag LIKE 'c{i}'", ((f"c{i}",),)), two
        )
        ddl_poll = _poll_ms(two, "SHOW TABLES FROM lag LIKE 'c0'")
    say(
        table(
            ["change through node 1", "rounds", "lag median ms", "p95 ms", "max ms", "poll ms", "polls"],
            [
                _row("INSERT (a new version)", load_lags, load_polls, load_poll),
                _row("CREATE TABLE", ddl_lags, ddl_polls, ddl_poll),
            ],
            title="Journal lag: commit returned on node 1 -> node 2 answers with it",
        )
    )
    say(machine_line())


if __name__ == "__main__":
    main()
