"""Shared mode with 1, 2 and 3 nodes against the single-node mode, on the same data, in one run.

    python -m bench.cluster [--rows 1000000] [--loads 8] [--queries 48] [--nodes 1,2,3] [--work-dir DIR] [--keep]

For each layout, fresh state: the single-node mode (SQLite, files on its disk) and shared clusters of N real
``dorisbk serve`` nodes over a new database of the machine's PostgreSQL and a prefix of a SeaweedFS bucket
started here. On each:

* **load**: ``--loads`` ``INSERT ... SELECT FROM numbers(...)`` of ``--rows / --loads`` rows each into
  ``bench.load_query``'s table, all at once from as many clients, statement i sent to node i mod N;
  rows per second. Then every node must count every row (a bounded wait for the journal);
* **query**: ``--queries`` runs of ``bench.load_query``'s aggregate from 2 x N clients spread over the
  nodes; queries per second, every answer checked against the single node's;
* **backup / restore**: BACKUP of the table to an S3 repository on the same endpoint through node 1 (in
  shared mode a server-side copy), then RESTORE of it into a new database through the last node; MB/s of
  the table's rowset bytes.

All nodes share this machine's cores with PostgreSQL and SeaweedFS, so more nodes cannot mean more CPU here:
the figures show what the cluster's coordination costs, not how it scales across machines. Printed, not
judged.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import ensure_importable, leave_work_dir, say, timed
from bench.load_query import DORIS_SELECT, QUERY, _normalise, create_table_sql

if TYPE_CHECKING:
    from tests.dorisbk_server import DorisbkServer
    from tests.s3server import S3Server

WAIT_S = 120.0  # bound on every wait for a job or for the nodes to agree
POLL_S = 0.05


@dataclass
class LayoutResult:
    name: str
    nodes: int
    seconds: dict[str, float] = field(default_factory=dict)
    catch_up: float = 0.0  # after the loads: until every node counts every row
    table_bytes: int = 0  # the rowsets of the loaded table, on the single node's disk


def _rows(server: DorisbkServer, sql: str) -> list[tuple[Any, ...]]:
    with server.connect(read_timeout=WAIT_S) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def _wait(what: str, test: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(POLL_S)
    raise RuntimeError(f"{what}: not within {WAIT_S:.0f} s")


def _count(server: DorisbkServer) -> int:
    try:
        return int(_rows(server, "SELECT count(*) FROM bench.t")[0][0])
    except Exception:  # noqa: BLE001 - the table may not have reached this node yet
        return -1


def _job_done(server: DorisbkServer, show: str) -> bool:
    rows = _rows(server, show)
    if rows and rows[-1][3 if show.startswith("SHOW BACKUP") else 4] == "CANCELLED":
        raise RuntimeError(f"{show}: CANCELLED {rows[-1]}")
    return bool(rows) and rows[-1][3 if show.startswith("SHOW BACKUP") else 4] == "FINISHED"


def run_layout(
    result: LayoutResult, nodes: list[DorisbkServer], s3: S3Server, rows: int, loads: int, queries: int
) -> list[tuple[Any, ...]]:
    """Load, query, back up and restore through ``nodes``; returns the query answer to compare."""
    first, last = nodes[0], nodes[-1]
    _rows(first, "CREATE DATABASE bench")
    _rows(first, create_table_sql())
    _wait("the table on every node", lambda: all(_count(n) == 0 for n in nodes))
    per_load = rows // loads

    def load(i: int) -> None:
        _rows(nodes[i % len(nodes)], "INSERT INTO bench.t " + DORIS_SELECT.format(rows=per_load))

    with timed() as t, ThreadPoolExecutor(loads) as pool:
        list(pool.map(load, range(loads)))
    result.seconds["load"] = t.seconds
    with timed() as t:
        _wait("every row on every node", lambda: all(_count(n) == per_load * loads for n in nodes))
    result.catch_up = t.seconds
    result.table_bytes = sum(f.stat().st_size for f in (first.data_dir / "be").rglob("*.parquet") if f.is_file())
    answers: list[list[tuple[Any, ...]]] = []

    def query(i: int) -> None:
        answers.append(_normalise(_rows(nodes[i % len(nodes)], QUERY.format(src="bench.t"))))

    query(0)  # warm
    with timed() as t, ThreadPoolExecutor(2 * len(nodes)) as pool:
        list(pool.map(query, range(queries)))
    result.seconds["query"] = t.seconds
    if any(a != answers[0] for a in answers):
        raise RuntimeError(f"{result.name}: the nodes answer differently")
    props = ", ".join(f'"{k}" = "{v}"' for k, v in s3.repository_properties().items())
    _rows(first, f'CREATE REPOSITORY r WITH S3 ON LOCATION "s3://{s3.bucket}/repo-{result.name}" PROPERTIES ({props})')
    with timed() as t:
        _rows(first, "BACKUP SNAPSHOT bench.snap TO r ON (t)")
        _wait("BACKUP", lambda: _job_done(first, "SHOW BACKUP FROM bench"))
    result.seconds["backup"] = t.seconds
    _wait("the repository on the last node", lambda: bool(_rows(last, 'SHOW SNAPSHOT ON r WHERE SNAPSHOT = "snap"')))
    stamp = str(_rows(last, 'SHOW SNAPSHOT ON r WHERE SNAPSHOT = "snap"')[0][1]).split("\n")[-1]
    _rows(last, "CREATE DATABASE bench_r")
    with timed() as t:
        _rows(
            last,
            f'RESTORE SNAPSHOT bench_r.snap FROM r ON (t) PROPERTIES ("backup_timestamp" = "{stamp}", '
            '"replication_num" = "1")',
        )
        _wait("RESTORE", lambda: _job_done(last, "SHOW RESTORE FROM bench_r"))
    result.seconds["restore"] = t.seconds
    return answers[0]


@contextmanager
def cluster(work: Path, s3: S3Server, count: int, name: str) -> Iterator[list[DorisbkServer]]:
    """``count`` shared nodes on a new PostgreSQL database and bucket prefix (0: one single-node server)."""
    from tests.dorisbk_server import DorisbkServer
    from tests.pgdb import fresh_database

    with ExitStack() as stack:
        if count == 0:
            nodes = [DorisbkServer(work / name / "single")]
        else:
            url = stack.enter_context(fresh_database())
            nodes = [
                DorisbkServer(
                    work / name / f"node{i + 1}",
                    meta_url=url,
                    storage=f"s3://{s3.bucket}/{name}",
                    storage_properties=s3.repository_properties(),
                )
                for i in range(count)
            ]
        for node in nodes:
            stack.callback(node.stop)
            node.start()
        yield nodes


def report(results: list[LayoutResult], rows: int, queries: int, table_bytes: int) -> None:
    base = results[0]
    say(f"\nrows loaded: {rows:,}; queries: {queries}; table: {table_bytes / 2**20:.1f} MiB of rowsets; one run each")
    header = (
        f"{'layout':<18}{'load rows/s':>14}{'catch-up s':>12}{'queries/s':>12}{'backup MB/s':>13}{'restore MB/s':>14}"
    )
    say(header)
    for r in results:
        load = rows / r.seconds["load"]
        qps = queries / r.seconds["query"]
        bk = table_bytes / 1e6 / r.seconds["backup"]
        rs = table_bytes / 1e6 / r.seconds["restore"]
        say(f"{r.name:<18}{load:>14,.0f}{r.catch_up:>12.2f}{qps:>12.1f}{bk:>13.1f}{rs:>14.1f}")
    say("\nagainst the single-node mode (higher is better)")
    for r in results[1:]:
        ratios = [base.seconds[k] / r.seconds[k] for k in ("load", "query", "backup", "restore")]
        say(f"{r.name:<18}" + "".join(f"{x:>12.2f}x" for x in ratios) + "   (load, query, backup, restore)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--loads", type=int, default=8)
    parser.add_argument("--queries", type=int, default=48)
    parser.add_argument("--nodes", default="1,2,3", help="shared cluster sizes, comma separated")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    ensure_importable()
    from tests.s3server import s3_server

    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-cluster-", dir=args.work_dir))
    results: list[LayoutResult] = []
    answers = []
    try:
        with s3_server() as s3:
            layouts = [("single-node", 0)] + [(f"shared x{n}", int(n)) for n in args.nodes.split(",") if n.strip()]
            for name, count in layouts:
                say(f"{name} ...")
                result = LayoutResult(name, max(count, 1))
                with cluster(work, s3, count, name.replace(" ", "_")) as nodes:
                    answers.append(run_layout(result, nodes, s3, args.rows, args.loads, args.queries))
                results.append(result)
                say(f"  {', '.join(f'{k} {v:.2f} s' for k, v in result.seconds.items())}")
        if any(a != answers[0] for a in answers):
            raise RuntimeError("the layouts answer differently")
        report(results, args.rows // args.loads * args.loads, args.queries, results[0].table_bytes)
    finally:
        leave_work_dir(work, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
