"""Shared mode's data side against the single-node mode, on the same data, in one run.

    python -m bench.shared_storage [--rows 2000000] [--repeat 3] [--work-dir DIR] [--keep]

Two real ``dorisbk serve`` processes: one in the single-node mode (SQLite, files on its disk), one in shared
mode (a fresh database on the machine's PostgreSQL, rowsets in a SeaweedFS bucket started here). Each loads
``bench.load_query``'s table (8 RANGE partitions x 16 HASH buckets) with one ``INSERT ... SELECT FROM
numbers(N)``, ``--repeat`` times, interleaved; medians are reported. Then the same aggregate runs warm on
both, and on the shared node cold: its data dir wiped and the node restarted, so every file is fetched from
the bucket and verified. The figures are printed, not judged: SeaweedFS runs on the same two cores.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import ensure_importable, leave_work_dir, say, timed
from bench.load_query import DORIS_SELECT, QUERY, _normalise, create_table_sql

if TYPE_CHECKING:
    from tests.dorisbk_server import DorisbkServer


def _load_once(server: DorisbkServer, rows: int, first: bool) -> float:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE bench" if first else "DROP TABLE bench.t FORCE")
        cur.execute(create_table_sql())
        with timed() as t:
            cur.execute("INSERT INTO bench.t " + DORIS_SELECT.format(rows=rows))
    return t.seconds


def _query(server: DorisbkServer) -> tuple[float, list[tuple]]:
    with server.connect() as conn, conn.cursor() as cur, timed() as t:
        cur.execute(QUERY.format(src="bench.t"))
        result = list(cur.fetchall())
    return t.seconds, _normalise(result)  # a double's sum may differ in its last bits with the read order


def run(work: Path, rows: int, repeat: int) -> None:
    ensure_importable()
    from tests.dorisbk_server import DorisbkServer
    from tests.pgdb import fresh_database
    from tests.s3server import s3_server

    with s3_server() as s3, fresh_database() as url:
        single = DorisbkServer(work / "single").start()
        shared = DorisbkServer(
            work / "shared",
            meta_url=url,
            storage=f"s3://{s3.bucket}/bench",
            storage_properties=s3.repository_properties(),
        ).start()
        loads: dict[str, list[float]] = {"single": [], "shared": []}
        try:
            for i in range(repeat):
                for name, server in (("single", single), ("shared", shared)):
                    say(f"  load {i + 1}/{repeat}: {name} ...")
                    loads[name].append(_load_once(server, rows, i == 0))
            warm_single, expected = _query(single)
            warm_single = min(warm_single, _query(single)[0])
            _query(shared)
            warm_shared, answer = _query(shared)
            assert answer == expected, "the shared node answers differently"
            shared.stop()
            shutil.rmtree(shared.data_dir)
            shared.start()
            cold_shared, answer = _query(shared)
            assert answer == expected, "the wiped shared node answers differently"
        finally:
            shared.stop()
            single.stop()
    print(f"\nrows loaded per run: {rows:,}, {repeat} runs each, medians")
    print(f"{'':28}{'single-node':>14}{'shared':>14}{'ratio':>8}")
    single_load, shared_load = statistics.median(loads["single"]), statistics.median(loads["shared"])
    print(f"{'load (s)':28}{single_load:>14.2f}{shared_load:>14.2f}{shared_load / single_load:>8.2f}")
    print(f"{'query, warm (s)':28}{warm_single:>14.3f}{warm_shared:>14.3f}{warm_shared / warm_single:>8.2f}")
    print(f"{'query, cold after wipe (s)':28}{'':>14}{cold_shared:>14.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-shared-", dir=args.work_dir))
    try:
        run(work, args.rows, args.repeat)
    finally:
        leave_work_dir(work, args.keep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
