"""A large result through the wire: server memory and time for ``SELECT`` of N rows, against DuckDB alone.

    python -m bench.large_result [--rows 5000000]

dorisbk: a real ``dorisbk serve`` process loads N rows ``(k BIGINT, b BIGINT, s VARCHAR)`` and a
pymysql client reads ``SELECT k, b, s FROM t`` with an unbuffered cursor (it holds one row at a
time), so what grows is the server's memory only. The server sends the result as DuckDB produces
it, a batch at a time; its peak RSS while the result is sent is reported beside its RSS before.

Baseline: a fresh Python process runs the same SELECT with plain DuckDB over the same rows
(written once to one Parquet file) and fetches them in batches of the same size. Both are timed
in the same run; the ratio dorisbk / DuckDB is the cost of the wire and the Python rows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ensure_importable, fmt_bytes, hwm_bytes, machine_line, reset_hwm, rss_bytes, say, table

BASELINE = """
import sys, time, duckdb
path, batch = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute(f"COPY (SELECT range AS k, range * 2 AS b, 'row-' || range AS s FROM range({sys.argv[3]})) TO '{path}'")
start = time.perf_counter()
cur = con.execute(f"SELECT k, b, s FROM read_parquet('{path}')")
n = 0
while rows := cur.fetchmany(batch):
    n += len(rows)
print(n, time.perf_counter() - start)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    ensure_importable()
    import pymysql
    import pymysql.cursors

    from dorisbk.engine.query import FETCH_ROWS
    from tests.dorisbk_server import DorisbkServer

    say(machine_line())
    with tempfile.TemporaryDirectory() as work:
        server = DorisbkServer(Path(work) / "data").start()
        try:
            assert server.proc is not None
            with server.connect() as conn, conn.cursor() as cur:
                cur.execute("CREATE DATABASE lr")
                cur.execute(
                    "CREATE TABLE lr.t (k BIGINT, b BIGINT, s VARCHAR(32)) DUPLICATE KEY(k) "
                    "DISTRIBUTED BY HASH(k) BUCKETS 8"
                )
                cur.execute(
                    "INSERT INTO lr.t SELECT number, number * 2, concat('row-', number) "
                    f"FROM numbers('number' = '{args.rows}')"
                )
            before = rss_bytes(server.proc.pid)
            reset_hwm(server.proc.pid)
            reader = pymysql.connect(
                host="127.0.0.1", port=server.port, user="root", cursorclass=pymysql.cursors.SSCursor
            )
            start = time.perf_counter()
            with reader.cursor() as cur:
                cur.execute("SELECT k, b, s FROM lr.t")
                count = sum(1 for _ in cur)
            ours = time.perf_counter() - start
            reader.close()
            peak = hwm_bytes(server.proc.pid)
        finally:
            server.stop()
        done = subprocess.run(
            [sys.executable, "-c", BASELINE, str(Path(work) / "one.parquet"), str(FETCH_ROWS), str(args.rows)],
            capture_output=True,
            text=True,
            check=True,
        )
        base_count, base_s = done.stdout.split()
    rows = [
        ["rows read", f"{count:,}", f"{int(base_count):,}"],
        ["seconds", f"{ours:.2f}", f"{float(base_s):.2f}"],
        ["dorisbk / DuckDB time", f"{ours / float(base_s):.2f}x", ""],
        ["server RSS before the SELECT", fmt_bytes(before), ""],
        ["server peak RSS while sending", fmt_bytes(peak), ""],
    ]
    say(table(["", "dorisbk (pymysql, unbuffered)", "DuckDB alone"], rows, f"SELECT of {args.rows:,} rows"))
    say(machine_line())
    return 0 if count == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())
