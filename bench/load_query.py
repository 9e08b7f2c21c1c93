"""Load and query benchmark: dorisbk against plain DuckDB on one Parquet file, in one run.

    python -m bench.load_query [--rows 10000000] [--repeat 3] [--query-runs 3] [--work-dir DIR] [--keep]

dorisbk: a real ``dorisbk serve`` process (own temp data dir) gets a DUPLICATE KEY table
with 8 RANGE partitions and 16 HASH buckets (1 replica), loaded with one
``INSERT INTO t SELECT ... FROM numbers("number" = "N")``, then a count/sum/group-by
query is run over it through pymysql.

Baseline: a fresh Python process running plain DuckDB (default settings) writes the same
derived columns, with the same types, from ``range(N)`` into one Parquet file with COPY,
and runs the same aggregate over that file. For reference only, the same process also
times DuckDB doing dorisbk's 128-way (partition, bucket) split with ``PARTITION_BY``.

Loads run ``--repeat`` times per side, interleaved (dorisbk, DuckDB, dorisbk, ...) so that
other work on the machine hits both alike; medians are reported. The query runs once cold
and ``--query-runs`` times warm on each side.

The page cache is dropped (``echo 3 > /proc/sys/vm/drop_caches``, root only) before each
load and before the cold query of both sides. Peak RSS is the kernel's VmHWM of the
process (reset per phase) or the sampled VmRSS of its tree, whichever is larger.

Targets (issue 3): load >= 0.5x DuckDB's Parquet write rate, query >= 0.8x DuckDB's
speed, dorisbk server peak RSS < 1 GiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    Check,
    GiB,
    PeakRss,
    checks_table,
    drop_caches,
    ensure_importable,
    fmt_bytes,
    fmt_rate,
    hwm_bytes,
    leave_work_dir,
    machine_line,
    median,
    reset_hwm,
    rss_bytes,
    say,
    table,
    timed,
    tree_bytes,
)

PARTITIONS = 8
BUCKETS = 16
DAYS = 240  # 30 days per partition
START = dt.date(2024, 1, 1)

LOAD_TARGET = 0.5
QUERY_TARGET = 0.8
RSS_TARGET = 1 * GiB

# The derived columns, as Doris SQL (what a user sends) ...
DORIS_SELECT = (
    "SELECT date_add('2024-01-01', INTERVAL number % 240 DAY), number % 100, number, "
    "(number * 7919) % 1000003, (number % 9973) / 7.0, cast(number % 50000 as varchar) "
    'FROM numbers("number" = "{rows}")'
)
# ... and as the DuckDB SQL dorisbk's planner makes of it, cast to the table's column types.
DUCK_SELECT = (
    "SELECT CAST(CAST('2024-01-01' AS DATE) + INTERVAL (range % 240) DAY AS DATE) AS d, "
    "CAST(range % 100 AS INTEGER) AS c, CAST(range AS BIGINT) AS k, "
    "CAST((range * 7919) % 1000003 AS BIGINT) AS v1, CAST((range % 9973) / NULLIF(7.0, 0) AS DOUBLE) AS v2, "
    "CAST(CAST(range % 50000 AS VARCHAR) AS VARCHAR) AS s FROM range({rows})"
)
# The same rows routed as dorisbk routes them: 30 days per partition, hash of k modulo 16 buckets.
SPLIT_SELECT = (
    f"SELECT *, CAST(((d - DATE '2024-01-01') // {DAYS // PARTITIONS}) AS INTEGER) AS p, hash(k) % {BUCKETS} AS b "
    "FROM (" + DUCK_SELECT + ") AS x"
)
QUERY = (
    "SELECT c, count(*) AS n, sum(v1) AS s1, sum(v2) AS s2, min(d) AS d0, max(d) AS d1 FROM {src} GROUP BY c ORDER BY c"
)


def create_table_sql() -> str:
    parts = []
    for i in range(PARTITIONS):
        upper = START + dt.timedelta(days=(i + 1) * DAYS // PARTITIONS)
        parts.append(f"PARTITION p{i} VALUES LESS THAN ('{upper.isoformat()}')")
    return (
        "CREATE TABLE bench.t (d DATE NOT NULL, c INT NOT NULL, k BIGINT NOT NULL, v1 BIGINT, v2 DOUBLE, "
        "s VARCHAR(16)) DUPLICATE KEY(d, c, k) "
        f"PARTITION BY RANGE(d) ({', '.join(parts)}) "
        f'DISTRIBUTED BY HASH(k) BUCKETS {BUCKETS} PROPERTIES ("replication_num" = "1")'
    )


def _normalise(rows: list) -> list[tuple]:
    """Query results of both sides in one shape (dorisbk returns DECIMAL/str for some sums)."""
    out = []
    for row in rows:
        c, n, s1, s2, d0, d1 = row
        out.append((int(c), int(n), int(s1), round(float(s2), 1), str(d0), str(d1)))
    return out


# ---- baseline (runs in its own process so its memory is its own)
def baseline_worker(op: str, target: Path, rows: int, runs: int) -> None:
    """``load``: COPY the derived rows into ``target``; ``query``: run the aggregate over it."""
    import duckdb

    pid = os.getpid()
    out: dict[str, object] = {}
    con = duckdb.connect()
    out["threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
    out["memory_limit"] = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    out["dropped"] = drop_caches()
    reset_hwm(pid)
    if op == "load":
        with timed() as t:
            con.execute(f"COPY ({DUCK_SELECT.format(rows=rows)}) TO '{target}' (FORMAT parquet)")
        out["load_s"] = t.seconds
        with timed() as t:
            os.sync()
        out["sync_s"] = t.seconds
        out["bytes"] = target.stat().st_size
        out["peak"] = hwm_bytes(pid)
        # For reference only: plain DuckDB doing the same 128-way (partition, bucket) split that dorisbk does.
        split_dir = target.with_suffix(".split")
        shutil.rmtree(split_dir, ignore_errors=True)
        drop_caches()
        with timed() as t:
            con.execute(
                f"COPY ({SPLIT_SELECT.format(rows=rows)}) TO '{split_dir}' (FORMAT parquet, PARTITION_BY (p, b))"
            )
        out["split_s"] = t.seconds
        out["split_peak"] = hwm_bytes(pid)
        shutil.rmtree(split_dir, ignore_errors=True)
    else:
        query = QUERY.format(src=f"read_parquet('{target}')")
        with timed() as t:
            result = con.execute(query).fetchall()
        out["cold_s"] = t.seconds
        warm = []
        for _ in range(runs):
            with timed() as t:
                result = con.execute(query).fetchall()
            warm.append(t.seconds)
        out["warm_s"] = warm
        out["result"] = _normalise(result)
        out["peak"] = hwm_bytes(pid)
    print(json.dumps(out))


def run_baseline(op: str, target: Path, rows: int, runs: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "bench.load_query",
        "--baseline-worker",
        op,
        str(target),
        "--rows",
        str(rows),
        "--query-runs",
        str(runs),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parent.parent)
    with PeakRss(proc.pid) as peak:
        stdout, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"baseline worker failed with {proc.returncode}")
    out = json.loads(stdout.decode().strip().splitlines()[-1])
    if op == "query":  # a load run also splits (reported apart), so only its own VmHWM counts
        out["peak"] = max(out["peak"], peak.sampled)
    return out


# ---- the run: loads interleaved (dorisbk, DuckDB, dorisbk, ...) so background noise hits both alike
def run_all(work: Path, rows: int, runs: int, repeat: int) -> tuple[dict, dict]:
    ensure_importable()
    from tests.dorisbk_server import DorisbkServer

    server = DorisbkServer(work / "data").start()
    d: dict = {"load_s": [], "load_peak": 0}
    b: dict = {"load_s": [], "sync_s": [], "split_s": [], "load_peak": 0, "split_peak": 0}
    target = work / "baseline.parquet"
    try:
        pid = server.proc.pid  # type: ignore[union-attr]
        d["idle_rss"] = rss_bytes(pid)
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE DATABASE bench")
            for i in range(repeat):
                if i:
                    cur.execute("DROP TABLE bench.t FORCE")
                cur.execute(create_table_sql())
                say(f"  load {i + 1}/{repeat}: dorisbk ...")
                d["dropped"] = drop_caches()
                with PeakRss(pid) as peak, timed() as t:
                    cur.execute("INSERT INTO bench.t " + DORIS_SELECT.format(rows=rows))
                d["load_s"].append(t.seconds)
                d["load_peak"] = max(d["load_peak"], peak.bytes)
                d["after_load_rss"] = rss_bytes(pid)
                say(f"  load {i + 1}/{repeat}: DuckDB ...")
                target.unlink(missing_ok=True)
                one = run_baseline("load", target, rows, runs)
                b["load_s"].append(one["load_s"])
                b["sync_s"].append(one["sync_s"])
                b["split_s"].append(one["split_s"])
                b["split_peak"] = max(b["split_peak"], one["split_peak"])
                b["load_peak"] = max(b["load_peak"], one["peak"])
                b.update(
                    threads=one["threads"], memory_limit=one["memory_limit"], bytes=one["bytes"], dropped=one["dropped"]
                )
            d["bytes"], d["files"] = tree_bytes(work / "data" / "be")
            d["spill"] = tree_bytes(work / "data" / "duckdb_tmp")[0]
            say("  queries: dorisbk ...")
            query = QUERY.format(src="bench.t")
            drop_caches()
            with PeakRss(pid) as peak:
                with timed() as t:
                    cur.execute(query)
                    result = cur.fetchall()
                d["cold_s"] = t.seconds
                warm = []
                for _ in range(runs):
                    with timed() as t:
                        cur.execute(query)
                        result = cur.fetchall()
                    warm.append(t.seconds)
            d["warm_s"] = warm
            d["query_peak"] = peak.bytes
            d["result"] = _normalise(list(result))
            cur.execute("SELECT count(*) FROM bench.t")
            d["count"] = cur.fetchone()[0]
        d["end_rss"] = rss_bytes(pid)
    finally:
        server.stop()
    say("  queries: DuckDB ...")
    q = run_baseline("query", target, rows, runs)
    b.update(cold_s=q["cold_s"], warm_s=q["warm_s"], query_peak=q["peak"], result=q["result"])
    return d, b


def report(rows: int, runs: int, d: dict, b: dict) -> bool:
    d_load, b_load = median(d["load_s"]), median(b["load_s"])
    b_durable = median([x + y for x, y in zip(b["load_s"], b["sync_s"], strict=True)])
    d_warm, b_warm = median(d["warm_s"]), median(b["warm_s"])
    b_split = median(b["split_s"])
    d_peak = max(d["load_peak"], d["query_peak"], d["idle_rss"])
    b_peak = max(b["load_peak"], b["query_peak"])
    say()
    say(
        f"rows: {rows:,}; loads: median of {len(d['load_s'])} (interleaved dorisbk/DuckDB); queries: 1 cold "
        f"(after drop_caches) + median of {runs} warm"
    )
    say(
        f"page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches) before each load and each cold query: "
        f"{'yes' if d['dropped'] and b['dropped'] else 'NO (not root)'}"
    )
    say(
        f"baseline DuckDB {duckdb_version()}: threads={b['threads']}, memory_limit={b['memory_limit']} (defaults); "
        f"dorisbk: {d['files']} rowset files, {fmt_bytes(d['spill'])} left in duckdb_tmp"
    )
    say(
        f"load seconds, dorisbk: {', '.join(f'{x:.2f}' for x in d['load_s'])}; "
        f"DuckDB: {', '.join(f'{x:.2f}' for x in b['load_s'])}; "
        f"DuckDB split into 128 files: {', '.join(f'{x:.2f}' for x in b['split_s'])}"
    )
    say(
        table(
            ["phase", "dorisbk s", "dorisbk rate", "DuckDB s", "DuckDB rate", "ratio (DuckDB time / dorisbk time)"],
            [
                [
                    "load (INSERT..SELECT / COPY TO parquet)",
                    f"{d_load:.2f}",
                    fmt_rate(rows / d_load, "rows/s"),
                    f"{b_load:.2f}",
                    fmt_rate(rows / b_load, "rows/s"),
                    f"{b_load / d_load:.2f}x",
                ],
                [
                    "load, DuckDB + os.sync() after COPY",
                    "",
                    "",
                    f"{b_durable:.2f}",
                    fmt_rate(rows / b_durable, "rows/s"),
                    f"{b_durable / d_load:.2f}x",
                ],
                [
                    "(info) DuckDB COPY, same 128-way PARTITION_BY split",
                    "",
                    "",
                    f"{b_split:.2f}",
                    fmt_rate(rows / b_split, "rows/s"),
                    f"{b_split / d_load:.2f}x",
                ],
                [
                    "query, cold",
                    f"{d['cold_s']:.3f}",
                    fmt_rate(rows / d["cold_s"], "rows/s"),
                    f"{b['cold_s']:.3f}",
                    fmt_rate(rows / b["cold_s"], "rows/s"),
                    f"{b['cold_s'] / d['cold_s']:.2f}x",
                ],
                [
                    "query, warm (median)",
                    f"{d_warm:.3f}",
                    fmt_rate(rows / d_warm, "rows/s"),
                    f"{b_warm:.3f}",
                    fmt_rate(rows / b_warm, "rows/s"),
                    f"{b_warm / d_warm:.2f}x",
                ],
            ],
            "Time and throughput",
        )
    )
    say(
        table(
            ["memory / size", "dorisbk server", "DuckDB process"],
            [
                ["RSS idle (server just started)", fmt_bytes(d["idle_rss"]), ""],
                ["peak RSS during loads", fmt_bytes(d["load_peak"]), fmt_bytes(b["load_peak"])],
                ["RSS after last load", fmt_bytes(d["after_load_rss"]), ""],
                ["peak RSS during queries", fmt_bytes(d["query_peak"]), fmt_bytes(b["query_peak"])],
                ["(info) peak RSS of the 128-way split COPY", "", fmt_bytes(b["split_peak"])],
                ["peak RSS overall", fmt_bytes(d_peak), fmt_bytes(b_peak)],
                ["bytes on disk", fmt_bytes(d["bytes"]), fmt_bytes(b["bytes"])],
            ],
            "Memory and size",
        )
    )
    same = d["result"] == [tuple(r) for r in b["result"]] and d["count"] == rows
    say(f"results identical on both sides: {same}; dorisbk count(*) = {d['count']:,}")
    checks = [
        Check("load rate vs DuckDB Parquet write", b_load / d_load, LOAD_TARGET, True),
        Check("query speed vs DuckDB (warm median)", b_warm / d_warm, QUERY_TARGET, True),
        Check("query speed vs DuckDB (cold)", b["cold_s"] / d["cold_s"], QUERY_TARGET, True),
        Check("dorisbk server peak RSS", d_peak, RSS_TARGET, False, fmt_bytes),
    ]
    say(checks_table(checks))
    return all(c.ok for c in checks) and same


def duckdb_version() -> str:
    import duckdb

    return duckdb.__version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_query", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--query-runs", type=int, default=3, help="warm query runs (median reported)")
    parser.add_argument("--repeat", type=int, default=3, help="loads per side, interleaved (median reported)")
    parser.add_argument("--work-dir", type=Path, default=None, help="parent of the temp dir (default: $TMPDIR)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--baseline-worker", nargs=2, metavar=("OP", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_worker is not None:
        baseline_worker(args.baseline_worker[0], Path(args.baseline_worker[1]), args.rows, args.query_runs)
        return 0
    work = Path(tempfile.mkdtemp(prefix="dorisbk-bench-lq-", dir=args.work_dir))
    say(f"work dir: {work}; {machine_line()}")
    try:
        started = time.monotonic()
        say(f"loading {args.rows:,} rows, {args.repeat}x per side ...")
        d, b = run_all(work, args.rows, args.query_runs, max(1, args.repeat))
        ok = report(args.rows, args.query_runs, d, b)
        say(f"total bench time {time.monotonic() - started:.0f} s; at the end: {machine_line()}")
    finally:
        leave_work_dir(work, args.keep)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
